//! Every spec key, declared once. The parser (which keys exist, their value
//! types, did-you-mean lists), the JSON Schema, the range checks and defaults
//! of `ir::resolve`, and the command-line settings flags all read this table.

use crate::contract::CONTRACT;
use crate::ir::ServerKind;
use crate::ir::security::JWT_ALGORITHMS;

/// One key of the spec, by its dotted path (`compression.threshold`).
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub path: &'static str,
    /// How messages name the key (the path unless set).
    pub label: &'static str,
    pub ty: Ty,
    /// The value used when the key is not given.
    pub default: Fallback,
    /// Server types the key applies to; elsewhere it is an error.
    pub applies: &'static [ServerKind],
    /// For `wsgen schema` (editor hover text).
    pub description: &'static str,
    /// The hint shown with an out-of-range value (else "remove it to use the default").
    pub hint: Option<&'static str>,
    /// Text after the bound in a range message, e.g. ` (RFC 7692)` or ` bytes`.
    pub note: &'static str,
    pub flag: Option<Flag>,
    /// A sibling key and the value it must have for this key to apply
    /// (`auth.issuer` only with `type: jwt`).
    pub only_with: Option<(&'static str, &'static str)>,
}

/// What a key's value is.
#[derive(Debug, Clone, Copy)]
pub enum Ty {
    Bool,
    /// An integer in `min..=max` (no upper bound when `max` is `None`).
    Int {
        min: i64,
        max: Option<i64>,
    },
    /// A string; `pattern` is the schema's rendering of resolve's checks,
    /// `reserved` the values it refuses.
    Str {
        min_len: u64,
        pattern: Option<&'static str>,
        reserved: &'static [&'static str],
    },
    /// One of these strings.
    Enum(&'static [&'static str]),
    /// A list of unique strings.
    List(Items),
    /// A map of the keys below this one; `shorthand` names the boolean key a
    /// plain `true`/`false` stands for (`compression: true`); `required` the
    /// keys it must contain when given.
    Section {
        shorthand: Option<&'static str>,
        expecting: &'static str,
        required: &'static [&'static str],
    },
}

/// What a list may hold.
#[derive(Debug, Clone, Copy)]
pub enum Items {
    /// Each of these names at most once.
    OneOf(&'static [&'static str]),
    /// Unique strings matching the pattern.
    Pattern(&'static str),
    /// An argv: at least one item, any non-empty strings, repeats allowed.
    Argv,
}

/// A key's default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fallback {
    /// Computed by `resolve` (the file name, all features of the type, ...).
    Derived,
    Bool(bool),
    Int(i64),
    Str(&'static str),
}

/// The command-line flag that overrides a key (`wsgen generate --port`).
#[derive(Debug, Clone, Copy)]
pub struct Flag {
    pub long: &'static str,
    pub value_name: &'static str,
    pub help: &'static str,
}

/// An integer in `min..=max`.
const fn range(min: i64, max: i64) -> Ty {
    Ty::Int {
        min,
        max: Some(max),
    }
}

/// An integer of at least `min`.
const fn at_least(min: i64) -> Ty {
    Ty::Int { min, max: None }
}

const ALL: &[ServerKind] = &[
    ServerKind::Echo,
    ServerKind::Chat,
    ServerKind::Mcp,
    ServerKind::Session,
];
const CHAT: &[ServerKind] = &[ServerKind::Chat];
const MCP: &[ServerKind] = &[ServerKind::Mcp];
const SESSION: &[ServerKind] = &[ServerKind::Session];

/// RFC 7230 `token`, the grammar of subprotocol names.
pub const TOKEN_PATTERN: &str = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
/// An `allowedOrigins` entry: `*`, or `scheme://host[:port]` where the host
/// may start with `*.`.
pub const ORIGIN_PATTERN: &str =
    r"^(\*|[A-Za-z][A-Za-z0-9+.-]*://(\*\.)?[A-Za-z0-9.-]+(:[0-9]+)?)$";
/// A Go module path: slash-separated elements of letters, digits and `-._~`,
/// the first with a dot (a domain), so it never clashes with the standard library.
pub const GO_MODULE_PATTERN: &str = r"^[a-z0-9-]+(\.[a-z0-9-]+)+(/[A-Za-z0-9._~-]+)*$";
/// An environment variable name (POSIX portable).
pub const ENV_NAME_PATTERN: &str = "^[A-Za-z_][A-Za-z0-9_]*$";
/// A path starting with `/` made of URL path characters.
pub const PATH_PATTERN: &str = "^/[-A-Za-z0-9._~/!$&'()*+,;=:@%]*$";

pub const KEYS: &[Key] = &[
    Key::new(
        "name",
        Ty::Str {
            min_len: 1,
            pattern: Some(r"\S"),
            reserved: &[],
        },
        "Project name; also used for package names.",
    )
    .flag("name", "NAME", "Project name (overrides the spec's `name`)"),
    Key::new(
        "type",
        Ty::Enum(&["echo", "chat", "mcp", "session"]),
        "Server type.",
    )
    .default(Fallback::Str("echo"))
    .flag("type", "TYPE", "Server type: echo, chat, mcp or session"),
    Key::new(
        "port",
        range(1, 65535),
        "Default TCP port (env PORT overrides).",
    )
    .default(Fallback::Int(8080))
    .hint("pick a free TCP port such as 8080")
    .flag("port", "PORT", "Default TCP port"),
    Key::new(
        "path",
        Ty::Str {
            min_len: 1,
            pattern: Some(PATH_PATTERN),
            reserved: &["/healthz"],
        },
        "WebSocket path; `/healthz` is reserved.",
    )
    .default(Fallback::Str("/"))
    .flag("path", "PATH", "WebSocket path"),
    Key::new(
        "features",
        Ty::List(Items::OneOf(&["rooms", "presence", "history"])),
        "Chat features (type: chat only); all on when omitted.",
    )
    .applies(CHAT)
    .flag(
        "features",
        "FEATURES",
        "Comma-separated features, e.g. rooms,presence,history",
    ),
    Key::new(
        "subprotocols",
        Ty::List(Items::Pattern(TOKEN_PATTERN)),
        "Subprotocols in preference order (RFC 6455 section 4).",
    )
    .flag(
        "subprotocols",
        "SUBPROTOCOLS",
        "Comma-separated subprotocols in preference order",
    ),
    Key::new(
        "requireSubprotocol",
        Ty::Bool,
        "Reject handshakes (HTTP 400) that offer none of `subprotocols`.",
    )
    .default(Fallback::Bool(false)),
    Key::new(
        "compression",
        Ty::Section {
            shorthand: Some("compression.enabled"),
            expecting: "true, false, or a map of permessage-deflate parameters",
            required: &[],
        },
        "permessage-deflate (RFC 7692): true/false or parameters; off when omitted.",
    ),
    Key::new(
        "compression.enabled",
        Ty::Bool,
        "Whether permessage-deflate is offered; true when `compression` is given.",
    )
    .label("enabled")
    .default(Fallback::Bool(true))
    .flag(
        "compression",
        "MODE",
        "permessage-deflate, true/on, or false/none/off",
    ),
    Key::new(
        "compression.serverNoContextTakeover",
        Ty::Bool,
        "The server resets its compression context after each message.",
    )
    .label("serverNoContextTakeover")
    .default(Fallback::Bool(false)),
    Key::new(
        "compression.clientNoContextTakeover",
        Ty::Bool,
        "The client must reset its compression context after each message.",
    )
    .label("clientNoContextTakeover")
    .default(Fallback::Bool(false)),
    Key::new(
        "compression.serverMaxWindowBits",
        range(8, 15),
        "LZ77 window of the server's compressor, in bits.",
    )
    .label("serverMaxWindowBits")
    .default(Fallback::Int(15))
    .note(" (RFC 7692)")
    .hint("15 is the default and the most common"),
    Key::new(
        "compression.clientMaxWindowBits",
        range(8, 15),
        "LZ77 window the client may use, in bits.",
    )
    .label("clientMaxWindowBits")
    .default(Fallback::Int(15))
    .note(" (RFC 7692)")
    .hint("15 is the default and the most common"),
    Key::new(
        "compression.threshold",
        at_least(0),
        "Messages below this many bytes are sent uncompressed.",
    )
    .label("threshold")
    .default(Fallback::Int(0))
    .note(" bytes")
    .hint("0 compresses every message"),
    Key::new(
        "maxPayload",
        range(1, CONTRACT.max_payload_limit as i64),
        "Largest message in bytes; larger ones close with 1009 (env WS_MAX_PAYLOAD).",
    )
    .default(Fallback::Int(104_857_600))
    .flag("max-payload", "MAX_PAYLOAD", "Largest message in bytes"),
    Key::new(
        "pingInterval",
        range(1, CONTRACT.ping_interval_limit_ms as i64),
        "Milliseconds between pings; a peer that misses a pong is dropped (env WS_PING_INTERVAL).",
    )
    .default(Fallback::Int(30_000))
    .flag(
        "ping-interval",
        "PING_INTERVAL",
        "Milliseconds between pings",
    ),
    Key::new(
        "goModule",
        Ty::Str {
            min_len: 1,
            pattern: Some(GO_MODULE_PATTERN),
            reserved: &[],
        },
        "Module path of the generated Go project (`example.com/<name>` when omitted).",
    )
    .flag(
        "module",
        "MODULE",
        "Go module path, e.g. github.com/you/chat (default example.com/<name>)",
    ),
    Key::new(
        "allowedOrigins",
        Ty::List(Items::Pattern(ORIGIN_PATTERN)),
        "Origins browsers may connect from: exact (`https://app.example.com`), `https://*.example.com`, or `*`; same-origin when omitted (env WS_ALLOWED_ORIGINS).",
    ),
    Key::new(
        "auth",
        Ty::Section {
            shorthand: None,
            expecting: "a map with `type: none`, `token` or `jwt`",
            required: &["type"],
        },
        "Authentication of connections (Bearer header or `access_token` query parameter).",
    ),
    Key::new(
        "auth.type",
        Ty::Enum(&["none", "token", "jwt"]),
        "none; token (env WS_AUTH_TOKENS or WS_AUTH_TOKENS_FILE); jwt (env WS_JWT_SECRET or WS_JWT_PUBLIC_KEY_FILE).",
    )
    .label("type")
    .default(Fallback::Str("none")),
    Key::new(
        "auth.algorithms",
        Ty::List(Items::OneOf(JWT_ALGORITHMS)),
        "JWT algorithms accepted, all HMAC (HS*) or all public-key; [HS256] when omitted.",
    )
    .label("algorithms")
    .only_with("type", "jwt"),
    Key::new(
        "auth.issuer",
        Ty::Str {
            min_len: 1,
            pattern: Some(r"\S"),
            reserved: &[],
        },
        "Required JWT `iss` (env WS_JWT_ISSUER).",
    )
    .label("issuer")
    .only_with("type", "jwt"),
    Key::new(
        "auth.audience",
        Ty::Str {
            min_len: 1,
            pattern: Some(r"\S"),
            reserved: &[],
        },
        "Required JWT `aud` (env WS_JWT_AUDIENCE).",
    )
    .label("audience")
    .only_with("type", "jwt"),
    Key::new(
        "maxConnections",
        range(1, 1_000_000),
        "Open connections beyond which handshakes get 503 (env WS_MAX_CONNECTIONS).",
    )
    .default(Fallback::Int(10_000)),
    Key::new(
        "maxConnectionsPerIp",
        range(0, 1_000_000),
        "Open connections per client address beyond which handshakes get 429; 0 for no limit (env WS_MAX_CONNECTIONS_PER_IP).",
    )
    .default(Fallback::Int(0))
    .hint("0 means no limit"),
    Key::new(
        "rateLimit",
        Ty::Section {
            shorthand: None,
            expecting: "a map with `messages`, `per` (ms) and optionally `burst`",
            required: &["messages", "per"],
        },
        "Messages per connection: a token bucket (env WS_RATE_LIMIT=N/MS or N/MS/B); none when omitted.",
    ),
    Key::new(
        "rateLimit.messages",
        range(1, 1_000_000),
        "Messages allowed per `per` milliseconds.",
    )
    .label("messages"),
    Key::new(
        "rateLimit.per",
        range(1, 86_400_000),
        "The refill period in milliseconds.",
    )
    .label("per")
    .note(" ms"),
    Key::new(
        "rateLimit.burst",
        range(1, 1_000_000),
        "Bucket size: messages a connection may send at once; `messages` when omitted.",
    )
    .label("burst"),
    Key::new(
        "handshakeTimeout",
        range(100, 600_000),
        "Milliseconds a client has to complete its request (TLS included) before it is disconnected (env WS_HANDSHAKE_TIMEOUT).",
    )
    .default(Fallback::Int(10_000))
    .note(" ms"),
    Key::new(
        "metrics",
        Ty::Bool,
        "Serve Prometheus metrics at GET /metrics (env WS_METRICS).",
    )
    .default(Fallback::Bool(true)),
    Key::new(
        "logFormat",
        Ty::Enum(&["text", "json"]),
        "Log lines as text or one JSON object per line (env WS_LOG_FORMAT).",
    )
    .default(Fallback::Str("text")),
    Key::new(
        "trustProxy",
        Ty::Bool,
        "Take the client address from the last X-Forwarded-For entry, behind a reverse proxy (env WS_TRUST_PROXY).",
    )
    .default(Fallback::Bool(false)),
    Key::new(
        "history",
        Ty::Section {
            shorthand: None,
            expecting: "a map of history settings",
            required: &[],
        },
        "Chat history settings.",
    )
    .applies(CHAT),
    Key::new(
        "history.limit",
        range(1, 1_000_000),
        "Messages kept per room.",
    )
    .applies(CHAT)
    .default(Fallback::Int(50)),
    Key::new(
        "maxMessageLength",
        range(1, 16 << 20),
        "Longest chat text in Unicode code points.",
    )
    .applies(CHAT)
    .default(Fallback::Int(4096)),
    Key::new(
        "maxRoomsPerConnection",
        range(1, 1_000_000),
        "Rooms one connection may join.",
    )
    .applies(CHAT)
    .default(Fallback::Int(16)),
    Key::new(
        "sendQueueLimit",
        range(1, 1_000_000),
        "Messages waiting for a slow reader before it is closed with 1008.",
    )
    .applies(CHAT)
    .default(Fallback::Int(1024)),
    Key::new(
        "backplane",
        Ty::Enum(&["memory", "redis"]),
        "Where rooms, ids, history and members live: this process (memory) or Redis, shared by every instance of a cluster (env WS_REDIS_URL, WS_REDIS_PREFIX, WS_BACKPLANE_HEARTBEAT; docs/cluster.md).",
    )
    .applies(CHAT)
    .default(Fallback::Str("memory")),
    Key::new(
        "mcp",
        Ty::Section {
            shorthand: None,
            expecting: "a map with `command` (the stdio MCP server's argv)",
            required: &["command"],
        },
        "The stdio MCP server each connection gets (type: mcp only).",
    )
    .applies(MCP),
    Key::new(
        "mcp.command",
        Ty::List(Items::Argv),
        "The MCP server's argv, run without a shell, one child per connection (env WS_MCP_COMMAND, a JSON array).",
    )
    .label("command")
    .applies(MCP),
    Key::new(
        "mcp.cwd",
        Ty::Str {
            min_len: 1,
            pattern: None,
            reserved: &[],
        },
        "The child's working folder, relative to where the server starts; the server's own when omitted.",
    )
    .label("cwd")
    .applies(MCP),
    Key::new(
        "mcp.env",
        Ty::List(Items::Pattern(ENV_NAME_PATTERN)),
        "Names of the server's environment variables the child gets; [PATH, HOME, LANG] when omitted.",
    )
    .label("env")
    .applies(MCP),
    Key::new(
        "mcp.maxSessions",
        range(1, 100_000),
        "Concurrent sessions (children); beyond it, handshakes get 503 (env WS_MCP_MAX_SESSIONS).",
    )
    .label("maxSessions")
    .applies(MCP)
    .default(Fallback::Int(64)),
    Key::new(
        "mcp.idleTimeout",
        range(1_000, 86_400_000),
        "Milliseconds without a message either way before the session closes 1000 and its child stops (env WS_MCP_IDLE_TIMEOUT).",
    )
    .label("idleTimeout")
    .applies(MCP)
    .note(" ms")
    .default(Fallback::Int(600_000)),
    Key::new(
        "mcp.shutdownGrace",
        range(0, 600_000),
        "Milliseconds between closing the child's stdin and SIGTERM, and between SIGTERM and SIGKILL.",
    )
    .label("shutdownGrace")
    .applies(MCP)
    .note(" ms")
    .default(Fallback::Int(5_000)),
    Key::new(
        "session",
        Ty::Section {
            shorthand: None,
            expecting: "a map with `command` (the worker's argv)",
            required: &["command"],
        },
        "The worker each session runs (type: session only; docs/protocol/session-v1.md).",
    )
    .applies(SESSION),
    Key::new(
        "session.command",
        Ty::List(Items::Argv),
        "The worker's argv, run without a shell, one process per session (env WS_SESSION_COMMAND, a JSON array).",
    )
    .label("command")
    .applies(SESSION),
    Key::new(
        "session.cwd",
        Ty::Str {
            min_len: 1,
            pattern: None,
            reserved: &[],
        },
        "The worker's working folder, relative to where the server starts; the server's own when omitted.",
    )
    .label("cwd")
    .applies(SESSION),
    Key::new(
        "session.env",
        Ty::List(Items::Pattern(ENV_NAME_PATTERN)),
        "Names of the server's environment variables the worker gets; [PATH, HOME, LANG] when omitted.",
    )
    .label("env")
    .applies(SESSION),
    Key::new(
        "session.maxSessions",
        range(
            CONTRACT.session_max_sessions_min as i64,
            CONTRACT.session_max_sessions_max as i64,
        ),
        "Live workers; beyond it `start` gets `session_limit` (env WS_SESSION_MAX_SESSIONS).",
    )
    .label("maxSessions")
    .applies(SESSION)
    .default(Fallback::Int(64)),
    Key::new(
        "session.maxClientsPerSession",
        range(1, 10_000),
        "Connections attached to one session; beyond it `attach` gets `busy`.",
    )
    .label("maxClientsPerSession")
    .applies(SESSION)
    .default(Fallback::Int(8)),
    Key::new(
        "session.detachTimeout",
        range(
            CONTRACT.session_detach_timeout_min_ms as i64,
            CONTRACT.session_detach_timeout_max_ms as i64,
        ),
        "Milliseconds with no connection attached before the session is ended and removed (env WS_SESSION_DETACH_TIMEOUT).",
    )
    .label("detachTimeout")
    .applies(SESSION)
    .note(" ms")
    .default(Fallback::Int(300_000)),
    Key::new(
        "session.replay",
        Ty::Section {
            shorthand: None,
            expecting: "a map with `limit` and `whenFull`",
            required: &[],
        },
        "What a session keeps for clients that attach again.",
    )
    .label("replay")
    .applies(SESSION),
    Key::new(
        "session.replay.limit",
        range(
            CONTRACT.session_replay_limit_min as i64,
            CONTRACT.session_replay_limit_max as i64,
        ),
        "Events a session retains (env WS_SESSION_REPLAY_LIMIT); the worker's exit is kept above it.",
    )
    .label("limit")
    .applies(SESSION)
    .default(Fallback::Int(10_000)),
    Key::new(
        "session.replay.whenFull",
        Ty::Enum(&["pause", "drop"]),
        "At the limit: stop reading the worker until an `ack` frees room (pause), or drop the oldest events (drop).",
    )
    .label("whenFull")
    .applies(SESSION)
    .default(Fallback::Str("pause")),
    Key::new(
        "session.shutdownGrace",
        range(0, 600_000),
        "Milliseconds between closing the worker's stdin and SIGTERM, and between SIGTERM and SIGKILL.",
    )
    .label("shutdownGrace")
    .applies(SESSION)
    .note(" ms")
    .default(Fallback::Int(5_000)),
    Key::new(
        "session.stderr",
        Ty::Enum(&["log", "forward"]),
        "The worker's stderr lines: logged (log), or logged and sent as `stderr` events too (forward).",
    )
    .label("stderr")
    .applies(SESSION)
    .default(Fallback::Str("log")),
];

impl Key {
    const fn new(path: &'static str, ty: Ty, description: &'static str) -> Key {
        Key {
            path,
            label: path,
            ty,
            default: Fallback::Derived,
            applies: ALL,
            description,
            hint: None,
            note: "",
            flag: None,
            only_with: None,
        }
    }
    const fn only_with(mut self, sibling: &'static str, value: &'static str) -> Key {
        self.only_with = Some((sibling, value));
        self
    }
    const fn label(mut self, label: &'static str) -> Key {
        self.label = label;
        self
    }
    const fn default(mut self, default: Fallback) -> Key {
        self.default = default;
        self
    }
    const fn applies(mut self, kinds: &'static [ServerKind]) -> Key {
        self.applies = kinds;
        self
    }
    const fn hint(mut self, hint: &'static str) -> Key {
        self.hint = Some(hint);
        self
    }
    const fn note(mut self, note: &'static str) -> Key {
        self.note = note;
        self
    }
    const fn flag(
        mut self,
        long: &'static str,
        value_name: &'static str,
        help: &'static str,
    ) -> Key {
        self.flag = Some(Flag {
            long,
            value_name,
            help,
        });
        self
    }

    /// The section the key sits in (`""` at the top level).
    pub fn parent(&self) -> &'static str {
        self.path.rsplit_once('.').map_or("", |(p, _)| p)
    }

    /// The key as written in its section.
    pub fn leaf(&self) -> &'static str {
        self.path.rsplit_once('.').map_or(self.path, |(_, l)| l)
    }

    pub fn applies_to(&self, kind: ServerKind) -> bool {
        self.applies.contains(&kind)
    }

    /// `` `port` must be between 1 and 65535, got 0 `` for an integer key.
    pub fn range_message(&self, got: i64) -> String {
        let label = self.label;
        let note = self.note;
        match self.ty {
            Ty::Int {
                min,
                max: Some(max),
            } => {
                format!("`{label}` must be between {min} and {max}{note}, got {got}")
            }
            Ty::Int { min, max: None } => {
                format!("`{label}` must be {min} or more{note}, got {got}")
            }
            _ => format!("`{label}` has an invalid value {got}"),
        }
    }

    /// The hint for an out-of-range value.
    pub fn range_hint(&self) -> String {
        match (self.hint, self.default) {
            (Some(h), _) => h.to_string(),
            (None, Fallback::Int(d)) => format!("remove `{}` to use the default ({d})", self.label),
            (None, _) => format!("remove `{}`", self.label),
        }
    }
}

/// The key at `path`.
pub fn key(path: &str) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.path == path)
}

/// The key `name` inside `section` (`""` for the top level).
pub fn child(section: &str, name: &str) -> Option<&'static Key> {
    KEYS.iter()
        .find(|k| k.parent() == section && k.leaf() == name)
}

/// The keys allowed in `section`, for "did you mean" hints.
pub fn names_in(section: &str) -> Vec<&'static str> {
    KEYS.iter()
        .filter(|k| k.parent() == section)
        .map(Key::leaf)
        .collect()
}

/// The integer default of `path`, at compile time (for `ir::DEFAULT_*`).
pub const fn int_default(path: &str) -> i64 {
    match find(path).default {
        Fallback::Int(v) => v,
        _ => panic!("the key has no integer default"),
    }
}

/// The string default of `path`, at compile time.
pub const fn str_default(path: &str) -> &'static str {
    match find(path).default {
        Fallback::Str(v) => v,
        _ => panic!("the key has no string default"),
    }
}

const fn find(path: &str) -> &'static Key {
    let mut i = 0;
    while i < KEYS.len() {
        if str_eq(KEYS[i].path, path) {
            return &KEYS[i];
        }
        i += 1;
    }
    panic!("no such spec key")
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_unique_and_sections_exist() {
        for (i, k) in KEYS.iter().enumerate() {
            assert!(
                KEYS[..i].iter().all(|o| o.path != k.path),
                "{} twice",
                k.path
            );
            let parent = k.parent();
            if !parent.is_empty() {
                let p = key(parent).unwrap_or_else(|| panic!("no section {parent}"));
                assert!(matches!(p.ty, Ty::Section { .. }), "{parent} is no section");
            }
        }
    }

    #[test]
    fn enums_match_the_ir() {
        let Ty::Enum(types) = key("type").unwrap().ty else {
            panic!("type is an enum")
        };
        let kinds: Vec<&str> = ServerKind::ALL.iter().map(|(n, _)| *n).collect();
        assert_eq!(types, kinds.as_slice());
        let Ty::List(Items::OneOf(features)) = key("features").unwrap().ty else {
            panic!("features is a list of names")
        };
        assert_eq!(features, ServerKind::Chat.features());
    }

    #[test]
    fn defaults_are_in_range() {
        for k in KEYS {
            if let (Ty::Int { min, max }, Fallback::Int(d)) = (k.ty, k.default) {
                assert!(d >= min && max.is_none_or(|m| d <= m), "{}", k.path);
            }
        }
    }
}
