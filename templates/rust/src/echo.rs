//! The echo behaviour: every message goes back to its sender unchanged, text
//! as text and binary as binary.

use crate::connection::{Message, Session};

/// Answers one complete message; `None` sends nothing back.
///
/// # Per-subprotocol behaviour
///
/// This is the place to give each subprotocol its own handling. The session
/// carries the protocol negotiated in the handshake (`None` when the client
/// offered none of [`crate::spec::SUBPROTOCOLS`]); echo answers every
/// protocol alike, so it does not look at it. For example:
///
/// ```ignore
/// pub fn on_message(session: &Session, message: Message) -> Option<Message> {
///     match session.subprotocol {
///         Some("graphql-ws") => graphql_ws::on_message(session, message),
///         _ => Some(message),
///     }
/// }
/// ```
pub fn on_message(_session: &Session, message: Message) -> Option<Message> {
    Some(message)
}
