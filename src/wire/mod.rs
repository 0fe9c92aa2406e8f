//! Our own RFC 6455 client codec: opening handshake, framing, masking,
//! fragmentation, UTF-8 validation, close codes and permessage-deflate
//! (RFC 7692). It can also send deliberately malformed traffic, which the
//! conformance suite uses.
//!
//! ```no_run
//! # async fn demo() -> Result<(), wsgen::wire::WireError> {
//! use wsgen::wire::{connect, ConnectOptions, Message};
//! let mut c = connect("ws://127.0.0.1:8080/ws", &ConnectOptions::default()).await?;
//! c.send_text("hello").await?;
//! assert_eq!(c.recv_message().await?, Message::Text("hello".into()));
//! c.close(Some(1000), "").await?;
//! # Ok(()) }
//! ```

pub mod conn;
pub mod deflate;
pub mod frame;
pub mod handshake;
pub mod tls;
pub mod utf8;

pub use conn::{ConnectOptions, Connection, Event, Message, connect, connect_with, open, open_tcp};
pub use deflate::{DeflateOffer, DeflateParams};
pub use frame::{Frame, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT};
pub use handshake::{HandshakeRequest, HttpResponse, WsUrl};
pub use tls::{ClientSide, Stream, Trust};

/// Everything that can go wrong on the wire.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot connect to {0}")]
    Connect(String),
    #[error("timed out {0}")]
    Timeout(String),
    #[error("bad URL: {0}")]
    Url(String),
    #[error("handshake failed: {0}")]
    Handshake(String),
    #[error("server answered the handshake with {} {}", .0.status, .0.reason)]
    Rejected(Box<HttpResponse>),
    #[error("protocol violation by the server (close {code}): {detail}")]
    Protocol { code: u16, detail: String },
    #[error("connection closed by the server (code {}, reason {reason:?})", CloseCode(*code))]
    Closed { code: Option<u16>, reason: String },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("compression: {0}")]
    Deflate(String),
}

impl WireError {
    /// Whether the error is about reaching the server at all (nothing
    /// listening, no route, a timeout, an I/O error) rather than about the
    /// URL or what the server answered: the CLI's exit 3, "the environment".
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            WireError::Io(_) | WireError::Connect(_) | WireError::Timeout(_)
        )
    }
}

/// A close code as people read it: `1003`, or `none` for a close frame
/// without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloseCode(pub Option<u16>);

impl std::fmt::Display for CloseCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(c) => write!(f, "{c}"),
            None => f.write_str("none"),
        }
    }
}

/// Close codes a peer may send in a close frame (RFC 6455 7.4, IANA registry).
pub fn close_code_is_valid(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_codes_print_as_numbers_or_none() {
        assert_eq!(CloseCode(Some(1003)).to_string(), "1003");
        assert_eq!(CloseCode(None).to_string(), "none");
        let e = WireError::Closed {
            code: Some(1007),
            reason: "bad utf-8".into(),
        };
        assert_eq!(
            e.to_string(),
            "connection closed by the server (code 1007, reason \"bad utf-8\")"
        );
    }
}
