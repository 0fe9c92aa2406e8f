//! The checked, typed form of a scenario file (what [`super::load`] produces
//! and [`super::engine`] plays). Strings may still hold `${spec...}`
//! placeholders: they are expanded per spec when a scenario runs.

use crate::ir::{Server, ServerKind};
use serde_json::Value;
use std::time::Duration;

/// One `generated-tests/*.yaml` file.
#[derive(Debug, Clone)]
pub struct Suite {
    /// `suite:` or the file stem.
    pub name: String,
    pub file: String,
    pub description: Option<String>,
    pub applies: Applies,
    /// `cluster: true`: every scenario runs against a cluster of server
    /// instances sharing one Redis (specs with `backplane: redis` only).
    pub cluster: bool,
    pub scenarios: Vec<Scenario>,
}

/// What a suite (or scenario) applies to. Empty lists mean "any".
#[derive(Debug, Clone, Default)]
pub struct Applies {
    /// Server types (`echo`, `chat`).
    pub types: Vec<String>,
    /// Spec names (`name:` of the spec).
    pub specs: Vec<String>,
    pub requires: Vec<Requirement>,
}

/// A spec property, optionally negated with a leading `!`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requirement {
    pub property: Property,
    pub negated: bool,
}

/// Spec properties a suite or scenario can require.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Property {
    Subprotocols,
    SeveralSubprotocols,
    RequireSubprotocol,
    Compression,
    CompressionThreshold,
    DefaultCompressionParams,
    ServerNoContextTakeover,
    ClientNoContextTakeover,
    ServerMaxWindowBits,
    ClientMaxWindowBits,
    Rooms,
    Presence,
    History,
    Auth,
    TokenAuth,
    JwtAuth,
    HmacJwt,
    AsymmetricJwt,
    JwtIssuer,
    JwtAudience,
    AllowedOrigins,
    WildcardOrigins,
    MaxConnectionsPerIp,
    RateLimit,
    Metrics,
    Echo,
    Chat,
    Mcp,
    McpCwd,
    /// `type: session` (docs/protocol/session-v1.md).
    Session,
    /// `backplane: redis` (chat clusters, docs/cluster.md).
    RedisBackplane,
}

impl Property {
    pub const ALL: &[(&str, Property)] = &[
        ("subprotocols", Property::Subprotocols),
        ("severalSubprotocols", Property::SeveralSubprotocols),
        ("requireSubprotocol", Property::RequireSubprotocol),
        ("compression", Property::Compression),
        ("compressionThreshold", Property::CompressionThreshold),
        (
            "defaultCompressionParams",
            Property::DefaultCompressionParams,
        ),
        ("serverNoContextTakeover", Property::ServerNoContextTakeover),
        ("clientNoContextTakeover", Property::ClientNoContextTakeover),
        ("serverMaxWindowBits", Property::ServerMaxWindowBits),
        ("clientMaxWindowBits", Property::ClientMaxWindowBits),
        ("rooms", Property::Rooms),
        ("presence", Property::Presence),
        ("history", Property::History),
        ("auth", Property::Auth),
        ("tokenAuth", Property::TokenAuth),
        ("jwtAuth", Property::JwtAuth),
        ("hmacJwt", Property::HmacJwt),
        ("asymmetricJwt", Property::AsymmetricJwt),
        ("jwtIssuer", Property::JwtIssuer),
        ("jwtAudience", Property::JwtAudience),
        ("allowedOrigins", Property::AllowedOrigins),
        ("wildcardOrigins", Property::WildcardOrigins),
        ("maxConnectionsPerIp", Property::MaxConnectionsPerIp),
        ("rateLimit", Property::RateLimit),
        ("metrics", Property::Metrics),
        ("echo", Property::Echo),
        ("chat", Property::Chat),
        ("mcp", Property::Mcp),
        ("mcpCwd", Property::McpCwd),
        ("session", Property::Session),
        ("redisBackplane", Property::RedisBackplane),
    ];

    pub fn holds(self, s: &Server) -> bool {
        let c = &s.compression;
        let chat = s.chat.as_ref();
        match self {
            Property::Subprotocols => !s.subprotocols.is_empty(),
            Property::SeveralSubprotocols => s.subprotocols.len() >= 2,
            Property::RequireSubprotocol => s.require_subprotocol,
            Property::Compression => c.enabled,
            Property::CompressionThreshold => c.enabled && c.threshold > 0,
            Property::DefaultCompressionParams => {
                c.enabled
                    && !c.server_no_context_takeover
                    && !c.client_no_context_takeover
                    && c.server_max_window_bits == 15
                    && c.client_max_window_bits == 15
            }
            Property::ServerNoContextTakeover => c.enabled && c.server_no_context_takeover,
            Property::ClientNoContextTakeover => c.enabled && c.client_no_context_takeover,
            Property::ServerMaxWindowBits => c.enabled && c.server_max_window_bits != 15,
            Property::ClientMaxWindowBits => c.enabled && c.client_max_window_bits != 15,
            Property::Rooms => chat.is_some_and(|c| c.rooms),
            Property::Presence => chat.is_some_and(|c| c.presence),
            Property::History => chat.is_some_and(|c| c.history),
            Property::Echo => s.kind == ServerKind::Echo,
            Property::Chat => s.kind == ServerKind::Chat,
            Property::Mcp => s.kind == ServerKind::Mcp,
            Property::McpCwd => s.mcp.as_ref().is_some_and(|m| m.cwd.is_some()),
            Property::Session => s.kind == ServerKind::Session,
            Property::RedisBackplane => {
                chat.is_some_and(|c| c.backplane == crate::ir::Backplane::Redis)
            }
            security => security_holds(security, s),
        }
    }
}

/// The security properties, from the IR's `server.security`
/// (docs/protocol/server-security.md).
fn security_holds(p: Property, s: &Server) -> bool {
    use crate::ir::AuthKind;
    let sec = &s.security;
    let kind = sec.auth.kind;
    let jwt = kind == AuthKind::Jwt;
    match p {
        Property::Auth => kind != AuthKind::None,
        Property::TokenAuth => kind == AuthKind::Token,
        Property::JwtAuth => jwt,
        Property::HmacJwt => jwt && sec.auth.hmac,
        Property::AsymmetricJwt => jwt && !sec.auth.hmac,
        Property::JwtIssuer => jwt && sec.auth.issuer.is_some(),
        Property::JwtAudience => jwt && sec.auth.audience.is_some(),
        Property::AllowedOrigins => !sec.allowed_origins.is_empty(),
        Property::WildcardOrigins => sec.allowed_origins.iter().any(|o| o.contains("*.")),
        Property::MaxConnectionsPerIp => sec.max_connections_per_ip > 0,
        Property::RateLimit => sec.rate_limit.is_some(),
        Property::Metrics => sec.metrics,
        _ => false,
    }
}

impl Requirement {
    pub fn holds(&self, s: &Server) -> bool {
        self.property.holds(s) != self.negated
    }
}

impl Applies {
    pub fn matches(&self, s: &Server) -> bool {
        let kind = s.kind.name();
        (self.types.is_empty() || self.types.iter().any(|t| t == kind))
            && (self.specs.is_empty() || self.specs.contains(&s.name))
            && self.requires.iter().all(|r| r.holds(s))
    }
}

/// One named case.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    /// `file:line` of the scenario.
    pub at: String,
    pub requires: Vec<Requirement>,
    /// Server environment (suite `env` merged with the scenario's), sorted:
    /// scenarios with the same env share one server instance.
    pub env: Vec<(String, String)>,
    /// In a cluster suite: how many instances and their own environments.
    pub cluster: Option<ClusterShape>,
    pub body: Body,
}

/// The cluster a scenario of a cluster suite runs on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ClusterShape {
    /// Number of instances (`instances:`, default 2).
    pub instances: usize,
    /// Per instance index, environment on top of the scenario's
    /// (`instanceEnv: {1: {WS_REDIS_PREFIX: ...}}`), sorted.
    pub instance_env: Vec<(usize, Vec<(String, String)>)>,
}

impl ClusterShape {
    /// Default number of instances of a cluster scenario.
    pub const DEFAULT_INSTANCES: usize = 2;
    /// Most instances a scenario may ask for.
    pub const MAX_INSTANCES: usize = 8;
}

impl Scenario {
    pub fn applies(&self, s: &Server) -> bool {
        self.requires.iter().all(|r| r.holds(s))
    }

    /// Whether it uses verify's test material: a `${tls.*}`/`${auth.*}`
    /// placeholder anywhere (env, headers, query, messages), a `token`/`jwt`
    /// client, a `tls: true` client, or a certificate step.
    pub fn needs_material(&self) -> bool {
        let in_env = self
            .env
            .iter()
            .any(|(_, v)| v.contains("${tls.") || v.contains("${auth."));
        let (clients, steps) = match &self.body {
            Body::Session { clients, steps } => (clients, steps),
            Body::Startup(st) => {
                return in_env || st.value.contains("${tls.") || st.value.contains("${auth.");
            }
        };
        // Every other string the scenario holds, through its debug form.
        let text = format!("{clients:?}{steps:?}");
        in_env
            || text.contains("${tls.")
            || text.contains("${auth.")
            || clients
                .iter()
                .any(|c| c.credential.is_some() || c.tls == Some(true))
            || steps.iter().any(|s| {
                matches!(
                    s.action,
                    Action::RotateCertificate | Action::ExpectCertificate(_)
                )
            })
    }
}

#[derive(Debug, Clone)]
pub enum Body {
    /// Clients and steps against a running server.
    Session {
        clients: Vec<Client>,
        steps: Vec<Step>,
    },
    /// Start the server with one bad variable and expect it to refuse.
    Startup(Startup),
}

/// A named client and how it connects.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub name: String,
    /// Defaults to the spec's path.
    pub path: Option<String>,
    pub protocols: Vec<String>,
    /// Raw `Sec-WebSocket-Extensions` offers, e.g. `permessage-deflate; client_max_window_bits`.
    pub extensions: Vec<String>,
    pub headers: Vec<(String, String)>,
    /// Connect when the scenario starts (else on a `connect` step).
    pub connect: bool,
    /// wss (true) or ws (false); default: whatever the server instance
    /// serves (wss when its environment sets `WS_TLS_CERT`).
    pub tls: Option<bool>,
    /// A credential sent with the handshake.
    pub credential: Option<Credential>,
    /// Send no credential even when the spec has authentication (by
    /// default such clients send alice's).
    pub anonymous: bool,
    /// Query parameters added to the path (placeholders expanded).
    pub query: Vec<(String, String)>,
    /// Pad the request head (with an `X-Pad` header) to exactly this many
    /// octets, request line to blank line included (a size expression).
    pub pad_head_to: Option<String>,
    /// A slowloris client: sends its request one octet per interval, in
    /// the background, and never finishes within any sane timeout.
    pub slowloris: Option<Duration>,
    /// In a cluster: the instance (0-based) it connects to; unset: instance
    /// 0, or spread round-robin when verify spreads ordinary suites.
    pub instance: Option<usize>,
}

/// `token: alice` / `jwt: {...}`, sent as `Authorization: Bearer` or as the
/// `access_token` query parameter (`in: query`).
#[derive(Debug, Clone)]
pub struct Credential {
    pub kind: CredentialKind,
    pub in_query: bool,
}

#[derive(Debug, Clone)]
pub enum CredentialKind {
    /// The test token of this user (`material::USERS`).
    Token(String),
    /// A JWT minted from these options (`material::Material::mint`).
    Jwt(serde_json::Map<String, Value>),
    /// This user's credential of the kind the spec takes (`user: bob`): a
    /// test token, or a JWT with `sub: bob`.
    User(String),
}

/// A start-up check: `variable=value` must stop the server before it listens.
#[derive(Debug, Clone)]
pub struct Startup {
    pub variable: String,
    pub value: String,
    /// Expected exit code (the contract says 2); `None`: any non-zero.
    pub exit_code: Option<i32>,
    /// String pattern the output must match (`${variable}`, `${value}` expanded).
    pub output: String,
}

/// One step of a session.
#[derive(Debug, Clone)]
pub struct Step {
    /// `file:line:column`.
    pub at: String,
    /// Index into the scenario's clients (unused by client-less actions).
    pub client: usize,
    pub action: Action,
    /// How long a wait may take (default [`super::DEFAULT_WINDOW`]).
    pub within: Option<Duration>,
    /// Message expectations: RSV1 set (true) or clear (false).
    pub compressed: Option<bool>,
    /// Message expectations: the frame payload on the wire is smaller (true)
    /// or not smaller (false) than the previous compressed message's.
    pub smaller_than_previous: Option<bool>,
    /// JSON patterns of messages to pass over while waiting.
    pub skip: Vec<Value>,
}

#[derive(Debug, Clone)]
pub enum Action {
    Connect,
    Send {
        binary: bool,
        pieces: Vec<Payload>,
        fragment_size: Option<String>,
    },
    Expect(MessageExpect),
    /// The last message this client sent, echoed with the same type.
    ExpectEcho,
    ExpectClose {
        code: Option<u16>,
        reason: Option<String>,
    },
    ExpectNothing(Duration),
    ExpectPing(Duration),
    ExpectDropped(Duration),
    ExpectHandshake(HandshakeExpect),
    HttpGet(HttpExpect),
    AnswerPings(bool),
    Close(Option<u16>),
    /// End the TCP connection without a closing handshake (a client that
    /// vanishes).
    DropConnection,
    Sleep(Duration),
    /// Each listed client sends `count` JSON messages at the same time;
    /// `${i}` (0-based) and `${client}` expand in the template's strings.
    /// `count` is a size expression (`"${spec.chat.history_limit} + 1"`).
    Burst {
        clients: Vec<String>,
        count: String,
        json: Value,
    },
    /// Gather `count` messages matching `pattern` into the variable `name`
    /// (a JSON array), passing over `skip` matches.
    Collect {
        /// A size expression, like a burst's.
        count: String,
        pattern: Value,
        name: String,
    },
    /// Checks on collected lists: identical order (projected on `field`
    /// when given) and strictly increasing `field` values.
    Assert {
        same_order: Vec<String>,
        increasing: Vec<String>,
        /// These lists, one after the other, are consecutive integers
        /// (each one more than the previous; the first `from` when given):
        /// a sequence without gap or duplicate.
        consecutive: Vec<String>,
        from: Option<String>,
        /// A key, or a dotted path into nested objects (`data.n`).
        field: Option<String>,
    },
    /// A line of the server's log, written since the scenario started (or
    /// since the server started, with `since: boot`), matches (waiting up
    /// to `within`).
    ExpectLog {
        pattern: LogPattern,
        since_boot: bool,
    },
    /// No line of the server's whole log matches any of these string
    /// patterns (`$credentials`: every credential and secret in play).
    LogExcludes(Vec<String>),
    /// Every line of the server's log is a JSON object with `ts`, `level`,
    /// `event` first (the JSON log format).
    LogIsJson,
    /// `GET /metrics` parsed as Prometheus text; conditions hold (retried
    /// up to `within`); saved under a name for later `increase` checks.
    Metrics(MetricsCheck),
    /// Write the second certificate pair into `${tls.reloadCert}` /
    /// `${tls.reloadKey}` and send the server SIGHUP.
    RotateCertificate,
    /// The client's TLS session shows the first (1) or second (2) server certificate.
    ExpectCertificate(u8),
    /// The server under test has exactly this many descendant processes
    /// (zombies included: a child not yet reaped counts), waiting up to `within`.
    ExpectServerChildren(usize),
    /// The process whose id this names (a number, or `$var:NAME` captured
    /// from a message) is gone or a zombie, waiting up to `within`.
    ExpectProcessGone(Value),
    /// The server process's resident set size is below this many octets.
    ExpectServerRss(u64),
    /// A file (a path with placeholders, e.g. a worker's progress file under
    /// `${target.dir}`) holds a number meeting every condition, or text
    /// matching a string pattern; retried until `within`.
    ExpectFile(FileExpect),
    /// SIGTERM the server, wait (up to `within`) for it to exit with this
    /// code, then every process that descended from it before the signal
    /// must be gone too (within the same window).
    StopServer {
        exit_code: i32,
    },
    /// Cluster: SIGKILL instance N (no shutdown: its clients see TCP end).
    KillInstance(usize),
    /// Cluster: start instance N again (same port, same environment) and
    /// wait until it answers `/healthz` 200.
    StartInstance(usize),
    /// Cluster: SIGTERM every instance, wait for the exits, start them all again.
    RestartInstances,
    /// Cluster: stop the Redis server (SIGTERM, it writes its data out).
    StopRedis,
    /// Cluster: start the Redis server again (same port, same data).
    StartRedis,
}

/// `expectFile: {path, number: {atLeast, atMost, equals}}` or `{path, text}`.
#[derive(Debug, Clone, Default)]
pub struct FileExpect {
    pub path: String,
    /// The content read as an integer is at least / at most / exactly
    /// these (size expressions: `"${spec.session.replay_limit} + 100"`).
    pub at_least: Option<String>,
    pub at_most: Option<String>,
    pub equals: Option<String>,
    /// A string pattern on the whole content (trailing whitespace removed).
    pub text: Option<String>,
}

/// What `expectLog` looks for.
#[derive(Debug, Clone)]
pub enum LogPattern {
    /// A string pattern on the whole line.
    Line(String),
    /// A JSON pattern on a line that parses as JSON.
    Json(Value),
}

/// `metrics: {as: NAME, samples: {SELECTOR: CONDITION}, types: {NAME: counter|gauge}}`.
#[derive(Debug, Clone, Default)]
pub struct MetricsCheck {
    pub save_as: Option<String>,
    /// `name` or `name{label="value",...}` (samples whose labels include
    /// these, values summed) and what the value must be.
    pub samples: Vec<(String, MetricCond)>,
    /// Metric family name -> declared type.
    pub types: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MetricCond {
    Equals(f64),
    AtLeast(f64),
    AtMost(f64),
    /// Exactly `by` more than in snapshot `since` (or at least, with `at_least`).
    Increase {
        by: f64,
        since: String,
        at_least: bool,
    },
    Present,
    Absent,
}

impl Action {
    pub fn needs_client(&self) -> bool {
        !matches!(
            self,
            Action::HttpGet(_)
                | Action::Sleep(_)
                | Action::Burst { .. }
                | Action::Assert { .. }
                | Action::ExpectLog { .. }
                | Action::LogExcludes(_)
                | Action::LogIsJson
                | Action::Metrics(_)
                | Action::RotateCertificate
                | Action::ExpectServerChildren(_)
                | Action::ExpectProcessGone(_)
                | Action::ExpectServerRss(_)
                | Action::ExpectFile(_)
                | Action::StopServer { .. }
                | Action::KillInstance(_)
                | Action::StartInstance(_)
                | Action::RestartInstances
                | Action::StopRedis
                | Action::StartRedis
        )
    }
}

/// Message content to send or expect.
#[derive(Debug, Clone)]
pub enum Payload {
    /// UTF-8 text (placeholders expanded).
    Text(String),
    Bytes(Vec<u8>),
    /// N octets of [`super::generated`]'s pattern; N may use placeholders.
    Generated(String),
    Json(Value),
}

#[derive(Debug, Clone)]
pub enum MessageExpect {
    /// A text message matching a string pattern.
    Text(String),
    /// A text message with exactly this content.
    TextPayload(Payload),
    Binary(Payload),
    Json(Value),
}

/// The opening-handshake response.
#[derive(Debug, Clone, Default)]
pub struct HandshakeExpect {
    pub status: Option<u16>,
    /// Header name -> string pattern, or `None`: the header must be absent.
    pub headers: Vec<(String, Option<String>)>,
    /// `Sec-WebSocket-Extensions` expectation.
    pub extensions: Option<ExtensionsExpect>,
    pub body: Option<String>,
}

/// What `Sec-WebSocket-Extensions` in the handshake response may be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtensionsExpect {
    /// Any one of these values, compared as extensions (parameter order
    /// ignored); `None`: the header is absent. One item: exactly that.
    OneOf(Vec<Option<String>>),
    /// Either no extension (the offer declined, which RFC 7692 allows) or
    /// permessage-deflate with `server_max_window_bits` of at most N.
    ServerMaxWindowBitsAtMost(u8),
}

/// A plain HTTP GET.
#[derive(Debug, Clone)]
pub struct HttpExpect {
    /// In a cluster: the instance asked (default 0).
    pub instance: Option<usize>,
    pub path: String,
    pub status: u16,
    pub headers: Vec<(String, Option<String>)>,
    pub json: Option<Value>,
    pub body: Option<String>,
}
