//! Security and operations settings of every server type
//! (docs/protocol/server-security.md): who may connect, how much, and what
//! the server tells its operator. Each has an environment override that the
//! generated server reads at start-up; these are the project's defaults.

use serde::Serialize;

/// The resolved security settings (the template context's `server.security`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Security {
    /// Origins a browser handshake may come from: exact origins,
    /// `scheme://*.domain` wildcards, or `*`. Empty: same-origin only.
    pub allowed_origins: Vec<String>,
    pub auth: Auth,
    /// Open WebSocket connections beyond which handshakes get 503.
    pub max_connections: u64,
    /// Open connections per client address beyond which handshakes get 429 (0: no limit).
    pub max_connections_per_ip: u64,
    pub rate_limit: Option<RateLimit>,
    /// Milliseconds a client has to send its complete request head.
    pub handshake_timeout_ms: u64,
    /// Whether `GET /metrics` serves Prometheus metrics.
    pub metrics: bool,
    pub log_format: LogFormat,
    /// Whether the last `X-Forwarded-For` entry is the client address.
    pub trust_proxy: bool,
}

/// How connections authenticate.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Auth {
    pub kind: AuthKind,
    /// JWT algorithms accepted (`jwt` only), all of one family.
    pub algorithms: Vec<String>,
    /// JWT with HMAC algorithms (a shared secret) rather than a public key.
    pub hmac: bool,
    pub issuer: Option<String>,
    pub audience: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    None,
    Token,
    Jwt,
}

impl AuthKind {
    pub const ALL: &[(&str, AuthKind)] = &[
        ("none", AuthKind::None),
        ("token", AuthKind::Token),
        ("jwt", AuthKind::Jwt),
    ];
}

/// A token bucket per connection: `burst` tokens, refilled at
/// `messages` per `per_ms` milliseconds.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RateLimit {
    pub messages: u64,
    pub per_ms: u64,
    pub burst: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    pub const ALL: &[(&str, LogFormat)] = &[("text", LogFormat::Text), ("json", LogFormat::Json)];
}

/// JWT algorithms a spec may list: HMAC ones first.
pub const JWT_HMAC_ALGORITHMS: &[&str] = &["HS256", "HS384", "HS512"];
pub const JWT_ALGORITHMS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "EdDSA",
];
