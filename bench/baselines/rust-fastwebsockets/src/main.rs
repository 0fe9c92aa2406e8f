//! Minimal echo server on fastwebsockets, written by hand: a second Rust
//! baseline (the crate's own echo example, on a raw tokio listener).

mod handshake;

use fastwebsockets::{FragmentCollector, OpCode, Role, WebSocket};
use tokio::net::TcpListener;

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
            let mut ws = WebSocket::after_handshake(stream, Role::Server);
            ws.set_auto_close(true);
            ws.set_auto_pong(true);
            ws.set_max_message_size(max);
            let mut ws = FragmentCollector::new(ws);
            while let Ok(frame) = ws.read_frame().await {
                match frame.opcode {
                    OpCode::Close => break,
                    OpCode::Text | OpCode::Binary => {
                        if ws.write_frame(frame).await.is_err() {
                            break;
                        }
                    }
                    _ => {}
                }
            }
        });
    }
}
