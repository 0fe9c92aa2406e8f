//! The cross-language contract of generated servers: every constant that
//! docs/generated-servers.md and docs/chat.md promise and that all four
//! languages must agree on. Templates read it as `contract.*` (never a
//! literal), and scenario suites as `${contract.<field>}`, so changing a
//! value here changes every output, its README and the checks together.

use crate::emit::shape::{Described, Shape};
use serde::Serialize;

/// The constants every generated server shares (the template context's `contract`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contract {
    /// Seconds a shutting-down server waits for its clients' close replies
    /// (after closing them with 1001) before it exits anyway.
    pub shutdown_grace_secs: u64,
    /// The close reason sent with 1001 to every client at shutdown.
    pub shutdown_reason: &'static str,
    /// Seconds a chat connection's full send queue may go without anything
    /// written out before the slow reader is closed with 1008.
    pub stall_timeout_secs: u64,
    /// Longest chat room name, in characters.
    pub room_name_max_len: u64,
    /// Longest chat user name, in characters.
    pub user_name_max_len: u64,
    /// The characters a room or user name may contain, as docs and error
    /// messages spell them (`[A-Za-z0-9_.-]` in pattern syntax).
    pub name_chars: &'static str,
    /// The largest accepted `WS_MAX_PAYLOAD`, in bytes (1 TiB).
    pub max_payload_limit: u64,
    /// The largest accepted `WS_PING_INTERVAL`, in milliseconds (one day).
    pub ping_interval_limit_ms: u64,
    /// The address a server binds when `HOST` is not set.
    pub default_host: &'static str,
    /// The host a server's `listening on` (and chat `page:`) log line names
    /// when it binds the unspecified address (`0.0.0.0` or `::`), which not
    /// every client accepts as a destination.
    pub connect_host: &'static str,
    /// The exit code of a server whose environment is invalid.
    pub config_error_exit_code: u8,
    /// The largest request head (request line and headers up to the blank
    /// line) a server reads; a larger one gets HTTP 431.
    pub max_request_head_bytes: u64,
    /// Seconds of clock skew allowed on a JWT's `exp` and `nbf`.
    pub jwt_leeway_secs: u64,
    /// The `Retry-After` seconds of a 503 at `maxConnections`.
    pub retry_after_secs: u64,
    /// The close reason (echo, 1008) and error message (chat `rate_limited`)
    /// of a message over the rate limit.
    pub rate_limit_reason: &'static str,
    /// The query parameter a browser passes its credential in (RFC 6750).
    pub auth_query_param: &'static str,
    /// Every metric at `GET /metrics`, in every language.
    pub metrics: &'static [Metric],
    /// MCP bridge: while this many bytes wait to go out on the WebSocket,
    /// the bridge stops reading the child's stdout.
    pub mcp_high_water_bytes: u64,
    /// MCP bridge and session workers: how much of a dropped stdout line (or
    /// a stderr line) the log shows, in characters.
    pub child_log_excerpt_chars: u64,
    /// MCP bridge: the body of the 503 beyond `maxSessions` (the metric's
    /// rejection `reason` is `sessions`).
    pub mcp_sessions_body: &'static str,
    /// MCP bridge: the close reason of a child that could not be started (1011).
    pub mcp_start_failed_reason: &'static str,
    /// MCP bridge: the close reason of a binary message (1003).
    pub mcp_binary_reason: &'static str,
    /// MCP bridge: the close reason of the idle timeout (1000).
    pub mcp_idle_reason: &'static str,
    /// Chat backplane (docs/cluster.md): `WS_REDIS_URL` when unset.
    pub redis_url_default: &'static str,
    /// Chat backplane: `WS_BACKPLANE_HEARTBEAT` when unset, and its range, in ms.
    pub backplane_heartbeat_ms: u64,
    pub backplane_heartbeat_min_ms: u64,
    pub backplane_heartbeat_max_ms: u64,
    /// Chat backplane: an instance whose liveness key is this many
    /// heartbeats old is dead; its members are reaped (presence `leave`).
    pub backplane_missed_heartbeats: u64,
    /// Chat backplane: reconnection backoff to Redis, doubling from min to max (ms).
    pub backplane_backoff_min_ms: u64,
    pub backplane_backoff_max_ms: u64,
    /// Chat backplane: how long a sender waits for its own message to come
    /// back from the event channel before it is answered from the stored id.
    pub backplane_reply_wait_ms: u64,
    /// Chat backplane: the message of the `unavailable` error.
    pub backplane_unavailable_message: &'static str,
    /// Chat backplane: the close reason (1008) of a connection whose room
    /// membership could not be restored after Redis came back (its name was
    /// taken meanwhile).
    pub backplane_lost_reason: &'static str,
    /// Chat backplane: `GET /healthz`'s `status` (with 503) while Redis is unreachable.
    pub degraded_status: &'static str,
    /// Sessions (docs/protocol/session-v1.md): random bytes of a session id
    /// and of its token, both sent as lowercase hex.
    pub session_id_bytes: u64,
    pub session_token_bytes: u64,
    /// Sessions: a worker stdout line longer than the max payload less this
    /// many bytes is logged and dropped (room for the event's envelope).
    pub session_line_margin_bytes: u64,
    /// Sessions: after the worker exited, how long stdout may stay silent
    /// (a grandchild holding the pipe) before the `exit` event is appended.
    pub session_drain_quiet_ms: u64,
    /// Sessions: the close reason (1008) of a connection whose cursor points
    /// at an event no longer retained.
    pub session_behind_reason: &'static str,
    /// Sessions: the ranges of `session.maxSessions`, `session.detachTimeout`
    /// and `session.replay.limit`, in the spec and in their environment overrides.
    pub session_max_sessions_min: u64,
    pub session_max_sessions_max: u64,
    pub session_detach_timeout_min_ms: u64,
    pub session_detach_timeout_max_ms: u64,
    pub session_replay_limit_min: u64,
    pub session_replay_limit_max: u64,
    /// Generated clients (docs/protocol/clients-v1.md): the reconnect
    /// backoff's first ceiling and its cap (full jitter: a wait is uniform
    /// in 0..=min(max, initial * 2^attempt)).
    pub client_backoff_initial_ms: u64,
    pub client_backoff_max_ms: u64,
    /// Session clients acknowledge after this many events, or after this
    /// long with unacknowledged ones, whichever comes first.
    pub client_ack_every: u64,
    pub client_ack_interval_ms: u64,
    /// A request without an answer after this long fails with `timeout`.
    pub client_request_timeout_ms: u64,
    /// The opening handshake's time limit.
    pub client_connect_timeout_ms: u64,
    /// Close codes after which a client does not reconnect (and 4000-4999).
    pub client_fatal_close_codes: &'static [u16],
    /// Frames a client's event stream holds before it stops reading.
    pub client_event_queue: u64,
}

/// One Prometheus metric of the generated servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Metric {
    pub name: &'static str,
    /// `counter` or `gauge`.
    pub kind: &'static str,
    pub help: &'static str,
    pub labels: &'static [&'static str],
    /// The server type (`chat`, `mcp`) that alone has it; every type when `None`.
    pub only: Option<&'static str>,
}

const fn metric(name: &'static str, kind: &'static str, help: &'static str) -> Metric {
    Metric {
        name,
        kind,
        help,
        labels: &[],
        only: None,
    }
}

impl Metric {
    const fn labels(mut self, labels: &'static [&'static str]) -> Metric {
        self.labels = labels;
        self
    }
    const fn chat(mut self) -> Metric {
        self.only = Some("chat");
        self
    }
    const fn mcp(mut self) -> Metric {
        self.only = Some("mcp");
        self
    }
    const fn session(mut self) -> Metric {
        self.only = Some("session");
        self
    }
}

/// The metrics of docs/protocol/server-security.md, "Metrics".
const METRICS: &[Metric] = &[
    metric(
        "ws_connections_active",
        "gauge",
        "Open WebSocket connections.",
    ),
    metric(
        "ws_connections_total",
        "counter",
        "WebSocket connections opened.",
    ),
    metric(
        "ws_handshake_rejections_total",
        "counter",
        "Handshakes refused before the upgrade, by reason.",
    )
    .labels(&["reason"]),
    metric(
        "ws_messages_received_total",
        "counter",
        "Messages received.",
    ),
    metric("ws_messages_sent_total", "counter", "Messages sent."),
    metric(
        "ws_bytes_received_total",
        "counter",
        "Payload bytes received (after decompression).",
    ),
    metric(
        "ws_bytes_sent_total",
        "counter",
        "Payload bytes sent (before compression).",
    ),
    metric(
        "ws_closes_total",
        "counter",
        "Connections closed, by close code.",
    )
    .labels(&["code"]),
    metric(
        "ws_rate_limited_total",
        "counter",
        "Messages refused by the rate limit.",
    ),
    metric("chat_rooms", "gauge", "Chat rooms with members.").chat(),
    metric("chat_members", "gauge", "Room memberships.").chat(),
    metric("chat_messages_total", "counter", "Chat messages broadcast.").chat(),
    metric(
        "chat_slow_reader_closes_total",
        "counter",
        "Connections closed for not reading their messages.",
    )
    .chat(),
    metric(
        "mcp_sessions",
        "gauge",
        "Open MCP sessions (child processes).",
    )
    .mcp(),
    metric(
        "mcp_child_exits_total",
        "counter",
        "MCP child processes that ended, by reason.",
    )
    .labels(&["reason"])
    .mcp(),
    metric(
        "mcp_dropped_lines_total",
        "counter",
        "Child stdout lines dropped (not JSON, or longer than maxPayload).",
    )
    .mcp(),
    metric("session_workers", "gauge", "Live session workers.").session(),
    metric(
        "session_clients",
        "gauge",
        "Connections attached to a session.",
    )
    .session(),
    metric(
        "session_events_total",
        "counter",
        "Session events numbered (worker lines, forwarded stderr, exits).",
    )
    .session(),
    metric(
        "session_replay_gaps_total",
        "counter",
        "Attaches refused with replay_gap.",
    )
    .session(),
];

/// The contract in force.
pub const CONTRACT: Contract = Contract {
    shutdown_grace_secs: 5,
    shutdown_reason: "server shutting down",
    stall_timeout_secs: 5,
    room_name_max_len: 64,
    user_name_max_len: 32,
    name_chars: "A-Z a-z 0-9 _ . -",
    max_payload_limit: 1_099_511_627_776,
    ping_interval_limit_ms: 86_400_000,
    default_host: "0.0.0.0",
    connect_host: "localhost",
    config_error_exit_code: 2,
    max_request_head_bytes: 16_384,
    jwt_leeway_secs: 30,
    retry_after_secs: 1,
    rate_limit_reason: "rate limit exceeded",
    auth_query_param: "access_token",
    metrics: METRICS,
    mcp_high_water_bytes: 1 << 20,
    child_log_excerpt_chars: 200,
    mcp_sessions_body: "too many sessions",
    mcp_start_failed_reason: "mcp server failed to start",
    mcp_binary_reason: "binary messages are not supported",
    mcp_idle_reason: "idle timeout",
    redis_url_default: "redis://127.0.0.1:6379/0",
    backplane_heartbeat_ms: 5000,
    backplane_heartbeat_min_ms: 100,
    backplane_heartbeat_max_ms: 60_000,
    backplane_missed_heartbeats: 3,
    backplane_backoff_min_ms: 100,
    backplane_backoff_max_ms: 5000,
    backplane_reply_wait_ms: 2000,
    backplane_unavailable_message: "the chat backplane cannot be reached: nothing was stored or delivered, try again",
    backplane_lost_reason: "room membership lost while the backplane was unreachable",
    degraded_status: "degraded",
    session_id_bytes: 16,
    session_token_bytes: 32,
    session_line_margin_bytes: 256,
    session_drain_quiet_ms: 2000,
    session_behind_reason: "fell behind the session's retained events",
    session_max_sessions_min: 1,
    session_max_sessions_max: 100_000,
    session_detach_timeout_min_ms: 100,
    session_detach_timeout_max_ms: 86_400_000,
    session_replay_limit_min: 1,
    session_replay_limit_max: 10_000_000,
    client_backoff_initial_ms: 100,
    client_backoff_max_ms: 10_000,
    client_ack_every: 64,
    client_ack_interval_ms: 500,
    client_request_timeout_ms: 10_000,
    client_connect_timeout_ms: 10_000,
    client_fatal_close_codes: &[1002, 1003, 1007, 1009],
    client_event_queue: 256,
};

impl Described for Contract {
    fn shape() -> Shape {
        Shape::fields([
            ("shutdown_grace_secs", Shape::Scalar),
            ("shutdown_reason", Shape::Scalar),
            ("stall_timeout_secs", Shape::Scalar),
            ("room_name_max_len", Shape::Scalar),
            ("user_name_max_len", Shape::Scalar),
            ("name_chars", Shape::Scalar),
            ("max_payload_limit", Shape::Scalar),
            ("ping_interval_limit_ms", Shape::Scalar),
            ("default_host", Shape::Scalar),
            ("connect_host", Shape::Scalar),
            ("config_error_exit_code", Shape::Scalar),
            ("max_request_head_bytes", Shape::Scalar),
            ("jwt_leeway_secs", Shape::Scalar),
            ("retry_after_secs", Shape::Scalar),
            ("rate_limit_reason", Shape::Scalar),
            ("auth_query_param", Shape::Scalar),
            (
                "metrics",
                Shape::List(Box::new(Shape::fields([
                    ("name", Shape::Scalar),
                    ("kind", Shape::OneOf(vec!["counter", "gauge"])),
                    ("help", Shape::Scalar),
                    ("labels", Shape::List(Box::new(Shape::Scalar))),
                    ("only", Shape::OneOf(vec!["chat", "mcp", "session"])),
                ]))),
            ),
            ("mcp_high_water_bytes", Shape::Scalar),
            ("child_log_excerpt_chars", Shape::Scalar),
            ("mcp_sessions_body", Shape::Scalar),
            ("mcp_start_failed_reason", Shape::Scalar),
            ("mcp_binary_reason", Shape::Scalar),
            ("mcp_idle_reason", Shape::Scalar),
            ("redis_url_default", Shape::Scalar),
            ("backplane_heartbeat_ms", Shape::Scalar),
            ("backplane_heartbeat_min_ms", Shape::Scalar),
            ("backplane_heartbeat_max_ms", Shape::Scalar),
            ("backplane_missed_heartbeats", Shape::Scalar),
            ("backplane_backoff_min_ms", Shape::Scalar),
            ("backplane_backoff_max_ms", Shape::Scalar),
            ("backplane_reply_wait_ms", Shape::Scalar),
            ("backplane_unavailable_message", Shape::Scalar),
            ("backplane_lost_reason", Shape::Scalar),
            ("degraded_status", Shape::Scalar),
            ("session_id_bytes", Shape::Scalar),
            ("session_token_bytes", Shape::Scalar),
            ("session_line_margin_bytes", Shape::Scalar),
            ("session_drain_quiet_ms", Shape::Scalar),
            ("session_behind_reason", Shape::Scalar),
            ("session_max_sessions_min", Shape::Scalar),
            ("session_max_sessions_max", Shape::Scalar),
            ("session_detach_timeout_min_ms", Shape::Scalar),
            ("session_detach_timeout_max_ms", Shape::Scalar),
            ("session_replay_limit_min", Shape::Scalar),
            ("session_replay_limit_max", Shape::Scalar),
            ("client_backoff_initial_ms", Shape::Scalar),
            ("client_backoff_max_ms", Shape::Scalar),
            ("client_ack_every", Shape::Scalar),
            ("client_ack_interval_ms", Shape::Scalar),
            ("client_request_timeout_ms", Shape::Scalar),
            ("client_connect_timeout_ms", Shape::Scalar),
            (
                "client_fatal_close_codes",
                Shape::List(Box::new(Shape::Scalar)),
            ),
            ("client_event_queue", Shape::Scalar),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::CONTRACT as C;

    /// The user docs state the same numbers as the contract.
    #[test]
    fn the_docs_state_the_contract() {
        let servers = include_str!("../docs/generated-servers.md");
        let chat = include_str!("../docs/chat.md");
        for phrase in [
            format!(
                "wait up to {} s for their close replies",
                C.shutdown_grace_secs
            ),
            format!("(\"{}\")", C.shutdown_reason),
            format!("integer bytes, 1..{}", C.max_payload_limit),
            format!("integer milliseconds, 1..{}", C.ping_interval_limit_ms),
            format!("expected an integer from 1 to {}", C.max_payload_limit),
            format!("and exit code {}", C.config_error_exit_code),
            format!("| `HOST` | `{}` |", C.default_host),
            format!("HOST is `{}` when the server", C.connect_host),
        ] {
            assert!(
                servers.contains(&phrase),
                "docs/generated-servers.md lacks {phrase:?}"
            );
        }
        let security = include_str!("../docs/security.md");
        let security = security.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut phrases = vec![
            format!("503 with `Retry-After: {}`", C.retry_after_secs),
            format!("with {} s leeway", C.jwt_leeway_secs),
            format!("closes with 1008 (`{}`)", C.rate_limit_reason),
            format!("`?{}=<token>`", C.auth_query_param),
            format!("over {} KiB gets HTTP 431", C.max_request_head_bytes / 1024),
        ];
        phrases.extend(C.metrics.iter().map(|m| format!("`{}`", m.name)));
        for phrase in phrases {
            assert!(
                security.contains(&phrase),
                "docs/security.md lacks {phrase:?}"
            );
        }
        let chat = chat.split_whitespace().collect::<Vec<_>>().join(" ");
        for phrase in [
            format!(
                "rooms 1-{} and users 1-{} characters from `{}`",
                C.room_name_max_len, C.user_name_max_len, C.name_chars
            ),
            format!("nothing written for {} seconds", C.stall_timeout_secs),
        ] {
            assert!(chat.contains(&phrase), "docs/chat.md lacks {phrase:?}");
        }
        let clients = include_str!("../docs/clients.md");
        let clients = clients.split_whitespace().collect::<Vec<_>>().join(" ");
        for phrase in [
            format!(
                "min({} s, {} ms x 2^attempt)",
                C.client_backoff_max_ms / 1000,
                C.client_backoff_initial_ms
            ),
            format!(
                "acknowledges every {} events or every {} ms",
                C.client_ack_every, C.client_ack_interval_ms
            ),
            format!("holds at most {} frames", C.client_event_queue),
            format!("(default {} s)", C.client_request_timeout_ms / 1000),
        ] {
            assert!(
                clients.contains(&phrase),
                "docs/clients.md lacks {phrase:?}"
            );
        }
    }
}
