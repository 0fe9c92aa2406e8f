//! Minimal echo server on yawc, written by hand: the baseline for the
//! generated Rust server. Same library and defaults, nothing else.

mod handshake;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use yawc::{Frame, OpCode, Options, Role, WebSocket};

#[tokio::main]
async fn main() {
    let listener = TcpListener::bind(handshake::addr()).await.expect("bind");
    handshake::exit_on_signal();
    eprintln!("listening on ws://{}", listener.local_addr().unwrap());
    let max: usize = std::env::var("WS_MAX_PAYLOAD").ok().and_then(|v| v.parse().ok()).unwrap_or(1 << 20);
    loop {
        let Ok((mut stream, _)) = listener.accept().await else { continue };
        tokio::spawn(async move {
            let _ = stream.set_nodelay(true);
            // Boxed: the 4 KiB request buffer lives only during the handshake
            // instead of inside every connection's task for its whole life.
            if !Box::pin(handshake::accept(&mut stream)).await {
                return;
            }
            let Ok(mut ws) = WebSocket::from_stream(stream, Role::Server, Options::default().with_max_payload_read(max)) else { return };
            while let Some(frame) = ws.next().await {
                let reply = match frame.opcode() {
                    OpCode::Text => Frame::text(frame.payload().clone()),
                    OpCode::Binary => Frame::binary(frame.payload().clone()),
                    OpCode::Close => break,
                    _ => continue,
                };
                if ws.send(reply).await.is_err() {
                    break;
                }
            }
        });
    }
}
