//! The IR: the resolved, language-neutral model of a server. Defaults are
//! applied, limits checked and features expanded; templates read only this.

mod resolve;
pub mod security;

pub use resolve::{Overrides, resolve};
pub use security::{Auth, AuthKind, LogFormat, RateLimit, Security};

use serde::Serialize;

/// What kind of server a spec describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerKind {
    Echo,
    Chat,
    /// A stdio MCP server behind a WebSocket (docs/protocol/mcp-bridge-v1.md).
    Mcp,
    /// A worker per session, its events resumable (docs/protocol/session-v1.md).
    Session,
}

impl ServerKind {
    pub const ALL: &[(&str, ServerKind)] = &[
        ("echo", ServerKind::Echo),
        ("chat", ServerKind::Chat),
        ("mcp", ServerKind::Mcp),
        ("session", ServerKind::Session),
    ];

    /// The type's name in a spec (`type: chat`).
    pub fn name(self) -> &'static str {
        ServerKind::ALL
            .iter()
            .find(|(_, k)| *k == self)
            .map(|(n, _)| *n)
            .expect("every kind is in ALL")
    }

    /// Features a type accepts in `features:`.
    pub fn features(self) -> &'static [&'static str] {
        match self {
            ServerKind::Echo | ServerKind::Mcp | ServerKind::Session => &[],
            ServerKind::Chat => &["rooms", "presence", "history"],
        }
    }
}

/// The resolved server model (the template context's `server`).
#[derive(Debug, Clone, Serialize)]
pub struct Server {
    /// Display name from the spec (any text; reaches code only through filters).
    pub name: String,
    /// Lowercase ASCII slug derived from `name` (`[a-z0-9-]`, starts with a letter).
    pub slug: String,
    pub kind: ServerKind,
    pub port: u16,
    pub path: String,
    pub subprotocols: Vec<String>,
    pub require_subprotocol: bool,
    pub compression: Compression,
    pub max_payload: u64,
    pub ping_interval_ms: u64,
    /// Present only for `type: chat`.
    pub chat: Option<Chat>,
    /// Present only for `type: mcp`.
    pub mcp: Option<Mcp>,
    /// Present only for `type: session`.
    pub session: Option<Session>,
    /// The Go project's module path, when the spec sets one.
    pub go_module: Option<String>,
    /// Origins, authentication, limits, metrics and logs (every type).
    pub security: Security,
}

/// permessage-deflate settings (RFC 7692). Window bits are 8..=15.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Compression {
    pub enabled: bool,
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: u8,
    pub client_max_window_bits: u8,
    /// Messages smaller than this many bytes are sent uncompressed.
    pub threshold: u64,
}

impl Default for Compression {
    fn default() -> Self {
        Compression {
            enabled: false,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            threshold: DEFAULT_COMPRESSION_THRESHOLD,
        }
    }
}

/// Chat settings (docs/protocol/chat-v1.md).
#[derive(Debug, Clone, Serialize)]
pub struct Chat {
    pub rooms: bool,
    pub presence: bool,
    pub history: bool,
    pub history_limit: u64,
    pub max_message_length: u64,
    pub max_rooms_per_connection: u64,
    pub send_queue_limit: u64,
    /// Where rooms, ids, history and members live (docs/cluster.md).
    pub backplane: Backplane,
}

/// `backplane`: one process's memory, or Redis shared by a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backplane {
    Memory,
    Redis,
}

impl Backplane {
    pub const ALL: &[(&str, Backplane)] =
        &[("memory", Backplane::Memory), ("redis", Backplane::Redis)];
}

/// MCP bridge settings (docs/protocol/mcp-bridge-v1.md).
#[derive(Debug, Clone, Serialize)]
pub struct Mcp {
    /// The child's argv (no shell); env `WS_MCP_COMMAND` (a JSON array) overrides.
    pub command: Vec<String>,
    /// The child's working folder, relative to where the server starts.
    pub cwd: Option<String>,
    /// Names of the server's environment variables passed to the child.
    pub env: Vec<String>,
    /// Concurrent children; beyond it, HTTP 503 before the upgrade.
    pub max_sessions: u64,
    /// Milliseconds without a message either way before close 1000.
    pub idle_timeout_ms: u64,
    /// Milliseconds from closing stdin to SIGTERM, and from SIGTERM to SIGKILL.
    pub shutdown_grace_ms: u64,
}

/// Session settings (docs/protocol/session-v1.md).
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    /// The worker's argv (no shell); env `WS_SESSION_COMMAND` (a JSON array) overrides.
    pub command: Vec<String>,
    /// The worker's working folder, relative to where the server starts.
    pub cwd: Option<String>,
    /// Names of the server's environment variables passed to the worker.
    pub env: Vec<String>,
    /// Live workers; beyond it `start` gets `session_limit`.
    pub max_sessions: u64,
    /// Connections attached to one session; beyond it `attach` gets `busy`.
    pub max_clients_per_session: u64,
    /// Milliseconds with no connection attached before the session ends.
    pub detach_timeout_ms: u64,
    /// Events retained per session (the `exit` event is kept above it).
    pub replay_limit: u64,
    pub when_full: WhenFull,
    /// Milliseconds from closing stdin to SIGTERM, and from SIGTERM to SIGKILL.
    pub shutdown_grace_ms: u64,
    pub stderr: StderrMode,
}

/// `session.replay.whenFull`: what a session does at its retention limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WhenFull {
    /// Stop reading the worker until an `ack` frees room.
    Pause,
    /// Drop the oldest events.
    Drop,
}

impl WhenFull {
    pub const ALL: &[(&str, WhenFull)] = &[("pause", WhenFull::Pause), ("drop", WhenFull::Drop)];
}

/// `session.stderr`: where the worker's stderr lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StderrMode {
    /// To the server's log only.
    Log,
    /// To the log and, as `stderr` events, to the session's clients.
    Forward,
}

impl StderrMode {
    pub const ALL: &[(&str, StderrMode)] =
        &[("log", StderrMode::Log), ("forward", StderrMode::Forward)];
}

// The defaults, as declared in the key table (`crate::spec::keys`).
use crate::spec::keys::{int_default, str_default};
pub const DEFAULT_PORT: u16 = int_default("port") as u16;
pub const DEFAULT_PATH: &str = str_default("path");
pub const DEFAULT_MAX_PAYLOAD: u64 = int_default("maxPayload") as u64;
pub const DEFAULT_PING_INTERVAL_MS: u64 = int_default("pingInterval") as u64;
pub const DEFAULT_COMPRESSION_THRESHOLD: u64 = int_default("compression.threshold") as u64;
pub const DEFAULT_HISTORY_LIMIT: u64 = int_default("history.limit") as u64;
pub const DEFAULT_MAX_MESSAGE_LENGTH: u64 = int_default("maxMessageLength") as u64;
pub const DEFAULT_MAX_ROOMS: u64 = int_default("maxRoomsPerConnection") as u64;
/// What `mcp.env` and `session.env` pass to the child when the spec does not say.
pub const DEFAULT_CHILD_ENV: &[&str] = &["PATH", "HOME", "LANG"];
/// The subprotocol of `type: mcp` (the MCP TypeScript SDK's WebSocket client offers it).
pub const MCP_SUBPROTOCOL: &str = "mcp";
pub const DEFAULT_SEND_QUEUE_LIMIT: u64 = int_default("sendQueueLimit") as u64;

impl Server {
    /// The capability keys this server needs from a target language
    /// (see [`crate::lang::Capability`]).
    pub fn required_capabilities(&self) -> Vec<crate::lang::Capability> {
        use crate::lang::Capability as C;
        let mut caps = vec![C::Echo];
        match self.kind {
            ServerKind::Echo => {}
            ServerKind::Chat => caps = vec![C::Chat],
            ServerKind::Mcp => caps = vec![C::Mcp],
            ServerKind::Session => caps = vec![C::Session],
        }
        if self
            .chat
            .as_ref()
            .is_some_and(|c| c.backplane == Backplane::Redis)
        {
            caps.push(C::RedisBackplane);
        }
        if !self.subprotocols.is_empty() {
            caps.push(C::Subprotocols);
        }
        let c = &self.compression;
        if c.enabled {
            caps.push(C::Compression);
            if c.server_no_context_takeover {
                caps.push(C::ServerNoContextTakeover);
            }
            if c.client_no_context_takeover {
                caps.push(C::ClientNoContextTakeover);
            }
            if c.server_max_window_bits != 15 {
                caps.push(C::ServerMaxWindowBits);
            }
            if c.client_max_window_bits != 15 {
                caps.push(C::ClientMaxWindowBits);
            }
            if c.threshold > 0 {
                caps.push(C::Threshold);
            }
        }
        caps
    }
}
