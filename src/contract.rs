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
}

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
    }
}
