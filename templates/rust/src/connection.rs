//! One WebSocket connection: reassemble messages and hand them to the handler
//! ([`crate::echo`]), keep the peer alive with pings, close cleanly.
//!
//! yawc answers pings and closing handshakes and checks framing; this module
//! adds what the server's contract says on top: messages up to
//! `WS_MAX_PAYLOAD` (1009 beyond), UTF-8 text (1007), the heartbeat, and the
//! 1001 on shutdown.

use crate::echo;
use crate::handshake::Accepted;
use crate::server::{SHUTDOWN_GRACE, Server};
use bytes::Bytes;
use futures::SinkExt;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{self, Instant, MissedTickBehavior};
use yawc::close::CloseCode;
use yawc::streaming::Streaming;
use yawc::{Frame, OpCode, Role, WebSocket, WebSocketError};

/// How long to wait for the peer's side of a closing handshake.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Largest payload of a control frame (RFC 6455 section 5.5).
const MAX_CONTROL_PAYLOAD: usize = 125;

/// Close code for a protocol error.
const PROTOCOL_ERROR: u16 = 1002;

/// What the handler knows about a connection.
#[derive(Debug)]
pub struct Session {
    /// Connection number, as in the log.
    pub id: u64,
    /// The client's address.
    pub peer: SocketAddr,
    /// The subprotocol negotiated in the handshake, if any (one of
    /// [`crate::spec::SUBPROTOCOLS`]).
    pub subprotocol: Option<&'static str>,
}

/// A complete message (fragments already reassembled).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A text message; the payload is valid UTF-8.
    Text(Bytes),
    /// A binary message.
    Binary(Bytes),
}

impl Message {
    fn into_frame(self) -> Frame {
        match self {
            Message::Text(payload) => Frame::text(payload),
            Message::Binary(payload) => Frame::binary(payload),
        }
    }
}

/// How a connection ended.
enum End {
    /// The peer sent a Close frame with this code (1005 when it had none).
    PeerClosed(u16),
    /// The server closes with this code and reason, and waits for the reply.
    Closing(CloseCode, &'static str),
    /// The peer broke the protocol: the server sends this close code and
    /// drops the connection (without what yawc may have queued).
    Failed(u16),
    /// The peer did not answer the previous ping.
    Dropped,
    /// The connection broke without a closing handshake.
    Lost,
}

type Ws<'a> = Streaming<&'a mut TcpStream>;

/// Runs an accepted WebSocket until it ends, logging its life.
pub async fn serve(mut stream: TcpStream, peer: SocketAddr, accepted: Accepted, server: &Server) {
    if stream.write_all(accepted.response.as_bytes()).await.is_err() {
        return;
    }
    let Ok(ws) = WebSocket::from_stream_with_extensions(
        &mut stream,
        Role::Server,
        accepted.deflate.as_deref(),
        server.options.clone(),
    ) else {
        return;
    };
    let (id, _open) = server.open_connection();
    let session = Session {
        id,
        peer,
        subprotocol: accepted.subprotocol,
    };
    eprintln!(
        "conn {} open {} subprotocol={} compression={}",
        session.id,
        session.peer,
        session.subprotocol.unwrap_or("none"),
        if accepted.deflate.is_some() { "on" } else { "off" },
    );
    let mut ws = ws.into_streaming();
    let end = run(&mut ws, &session, server).await;
    let code = finish(&mut ws, &end).await;
    drop(ws);
    if let End::Failed(code) = end {
        let _ = stream.write_all(&close_frame(code)).await;
    }
    match code {
        Some(code) => eprintln!("conn {} close code={code}", session.id),
        None => eprintln!("conn {} dropped: no pong within ping interval", session.id),
    }
    linger(&mut stream).await;
}

/// The read loop: messages, heartbeat and shutdown, until the connection ends.
async fn run(ws: &mut Ws<'_>, session: &Session, server: &Server) -> End {
    let period = server.config.ping_interval;
    let mut heartbeat = time::interval_at(Instant::now() + period, period);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut awaiting_pong = false;
    let mut stopping = server.stopping();
    let mut assembler = Assembler::new(server.config.max_payload);
    loop {
        tokio::select! {
            frame = ws.next_frame() => {
                let frame = match frame {
                    Ok(frame) => frame,
                    Err(WebSocketError::ConnectionClosed | WebSocketError::IoError(_)) => return End::Lost,
                    Err(err) => return End::Failed(close_code(&err)),
                };
                match frame.opcode() {
                    OpCode::Pong => awaiting_pong = false,
                    OpCode::Ping => {}
                    OpCode::Close if frame.payload().len() > MAX_CONTROL_PAYLOAD => {
                        return End::Failed(PROTOCOL_ERROR);
                    }
                    OpCode::Close => {
                        return End::PeerClosed(frame.close_code().map_or(1005, u16::from));
                    }
                    OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                        match assembler.push(frame) {
                            Ok(None) => {}
                            Ok(Some(message)) => {
                                if let Some(reply) = echo::on_message(session, message) {
                                    if ws.send(reply.into_frame()).await.is_err() {
                                        return End::Lost;
                                    }
                                }
                            }
                            Err(code) => return End::Failed(code.into()),
                        }
                    }
                }
            }
            _ = heartbeat.tick() => {
                if awaiting_pong {
                    return End::Dropped;
                }
                awaiting_pong = true;
                if ws.send(Frame::ping(Bytes::new())).await.is_err() {
                    return End::Lost;
                }
            }
            _ = stopping.changed() => return End::Closing(CloseCode::Away, "server shutting down"),
        }
    }
}

/// Completes the closing handshake; returns the close code to log, or `None`
/// for a peer dropped by the heartbeat.
async fn finish(ws: &mut Ws<'_>, end: &End) -> Option<u16> {
    match *end {
        End::PeerClosed(code) => {
            let _ = time::timeout(CLOSE_TIMEOUT, ws.next_frame()).await;
            Some(code)
        }
        End::Closing(code, reason) => {
            let _ = time::timeout(SHUTDOWN_GRACE, async {
                ws.send(Frame::close(code, reason)).await?;
                while ws.next_frame().await?.opcode() != OpCode::Close {}
                Ok::<(), WebSocketError>(())
            })
            .await;
            Some(code.into())
        }
        End::Failed(code) => Some(code),
        End::Dropped => None,
        End::Lost => Some(1006),
    }
}

/// The close code for a protocol error yawc found (RFC 6455 section 7.4.1).
fn close_code(err: &WebSocketError) -> u16 {
    match err {
        WebSocketError::FrameTooLarge => 1009,
        WebSocketError::InvalidUTF8 => 1007,
        err if err.is_protocol_error() => PROTOCOL_ERROR,
        _ => 1011,
    }
}

/// A server-to-client Close frame with `code` and no reason, written straight
/// to the socket: yawc's queued reply to a broken frame is dropped, so the
/// code is always the one of [`close_code`] (yawc would answer an unknown
/// opcode with 1003, and echo an oversized Close frame).
fn close_frame(code: u16) -> [u8; 4] {
    let [high, low] = code.to_be_bytes();
    [0x88, 0x02, high, low]
}

/// Half-closes the socket and reads what the peer still sends (bounded), so
/// that the last frames reach it before the connection is torn down.
async fn linger(stream: &mut TcpStream) {
    let _ = stream.shutdown().await;
    let mut sink = Vec::with_capacity(512);
    let _ = time::timeout(CLOSE_TIMEOUT, async {
        loop {
            sink.clear();
            match stream.read_buf(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
}

/// Reassembles fragmented messages (RFC 6455 section 5.4) within the size limit.
struct Assembler {
    limit: u64,
    partial: Option<(OpCode, Vec<u8>)>,
}

impl Assembler {
    fn new(limit: u64) -> Assembler {
        Assembler {
            limit,
            partial: None,
        }
    }

    /// Takes a data frame; returns a message once it is complete.
    fn push(&mut self, frame: Frame) -> Result<Option<Message>, CloseCode> {
        let opcode = frame.opcode();
        let fin = frame.is_fin();
        let payload = frame.into_payload();
        let message = match (opcode, self.partial.take()) {
            (OpCode::Continuation, None) => {
                return Err(CloseCode::Protocol);
            }
            (OpCode::Text | OpCode::Binary, Some(_)) => {
                return Err(CloseCode::Protocol);
            }
            (OpCode::Text | OpCode::Binary, None) if fin => (opcode, payload),
            (_, partial) => {
                let (kind, mut buffer) = partial.unwrap_or((opcode, Vec::new()));
                if (buffer.len() + payload.len()) as u64 > self.limit {
                    return Err(CloseCode::Size);
                }
                buffer.extend_from_slice(&payload);
                if !fin {
                    self.partial = Some((kind, buffer));
                    return Ok(None);
                }
                (kind, Bytes::from(buffer))
            }
        };
        match message {
            (OpCode::Text, text) if std::str::from_utf8(&text).is_err() => {
                Err(CloseCode::Invalid)
            }
            (OpCode::Text, text) => Ok(Some(Message::Text(text))),
            (_, binary) => Ok(Some(Message::Binary(binary))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassembles_fragments() {
        let mut assembler = Assembler::new(10);
        assert_eq!(assembler.push(Frame::text("hel").with_fin(false)), Ok(None));
        assert_eq!(
            assembler.push(Frame::continuation("lo")),
            Ok(Some(Message::Text(Bytes::from("hello"))))
        );
        assert_eq!(
            assembler.push(Frame::binary(vec![1, 2])),
            Ok(Some(Message::Binary(Bytes::from(vec![1, 2]))))
        );
    }

    #[test]
    fn enforces_the_limit_over_fragments() {
        let mut assembler = Assembler::new(4);
        assert_eq!(assembler.push(Frame::binary("abc").with_fin(false)), Ok(None));
        assert_eq!(assembler.push(Frame::continuation("de")).unwrap_err(), CloseCode::Size);
    }

    #[test]
    fn rejects_broken_sequences_and_bad_text() {
        let mut assembler = Assembler::new(100);
        assert_eq!(assembler.push(Frame::continuation("x")).unwrap_err(), CloseCode::Protocol);
        assert_eq!(assembler.push(Frame::text(vec![0xff])).unwrap_err(), CloseCode::Invalid);
    }
}
