//! Minimal echo server on tokio-tungstenite with its default buffer sizes,
//! written by hand: the memory reference the issue quotes (~138 KB per idle
//! connection).

mod handshake;

use futures::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

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
            let config = WebSocketConfig::default().max_message_size(Some(max));
            let mut ws = WebSocketStream::from_raw_socket(stream, Role::Server, Some(config)).await;
            while let Some(Ok(msg)) = ws.next().await {
                if msg.is_text() || msg.is_binary() {
                    if ws.send(msg).await.is_err() {
                        break;
                    }
                } else if msg.is_close() {
                    break;
                }
            }
        });
    }
}
