//! The part every Rust baseline shares: read an HTTP/1.1 request head,
//! answer `GET /healthz`, or complete the WebSocket opening handshake.

use base64::Engine;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads the request head; answers `/healthz` (and anything that is not an
/// upgrade) itself. Returns true when the stream is now a WebSocket.
pub async fn accept(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    let mut len = 0;
    let end = loop {
        match stream.read(&mut buf[len..]).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => len += n,
        }
        if let Some(i) = buf[..len].windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if len == buf.len() {
            return false;
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]);
    let path = head.split_whitespace().nth(1).unwrap_or("/");
    let key = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case("sec-websocket-key").then(|| v.trim().to_string())
    });
    let response = match (path, key) {
        ("/healthz", _) => {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\nconnection: close\r\n\r\nok\n").await;
            return false;
        }
        (_, Some(key)) => {
            let mut h = Sha1::new();
            h.update(key.as_bytes());
            h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
            let accept = base64::engine::general_purpose::STANDARD.encode(h.finalize());
            format!("HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {accept}\r\n\r\n")
        }
        _ => {
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
            return false;
        }
    };
    stream.write_all(response.as_bytes()).await.is_ok()
}

/// HOST and PORT from the environment, as the generated servers read them.
pub fn addr() -> String {
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    let port = std::env::var("PORT").unwrap_or_else(|_| "8080".into());
    format!("{host}:{port}")
}

/// Exits 0 on SIGTERM or SIGINT.
pub fn exit_on_signal() {
    tokio::spawn(async {
        use tokio::signal::unix::{SignalKind, signal};
        let (mut t, mut i) = (signal(SignalKind::terminate()).unwrap(), signal(SignalKind::interrupt()).unwrap());
        tokio::select! { _ = t.recv() => {}, _ = i.recv() => {} }
        std::process::exit(0);
    });
}
