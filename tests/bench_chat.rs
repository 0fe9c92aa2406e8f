//! The chat fan-out mode against a tiny chat-v1 fixture server written here
//! (join -> joined + presence; message -> broadcast to every member, sender
//! included): every delivery is counted and checked; a server that corrupts
//! deliveries is caught. No timing is asserted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use wsgen::bench::chat::{self, ChatConfig};
use wsgen::wire::frame::{Decoder, Frame, OP_CLOSE, OP_TEXT};
use wsgen::wire::handshake::accept_key;

type Members = Arc<Mutex<Vec<mpsc::UnboundedSender<Vec<u8>>>>>;

async fn serve(corrupt_every: u64) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let members: Members = Arc::default();
    let counter = Arc::new(Mutex::new(0u64));
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else { return };
            tokio::spawn(conn(s, members.clone(), counter.clone(), corrupt_every));
        }
    });
    format!("ws://127.0.0.1:{port}/")
}

async fn writer(mut w: OwnedWriteHalf, mut rx: mpsc::UnboundedReceiver<Vec<u8>>) {
    while let Some(m) = rx.recv().await {
        if w.write_all(&Frame::new(OP_TEXT, m).encode()).await.is_err() {
            return;
        }
    }
}

async fn conn(mut s: TcpStream, members: Members, counter: Arc<Mutex<u64>>, corrupt_every: u64) {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let end = loop {
        let n = s.read(&mut tmp).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let key = head
        .lines()
        .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
        .unwrap()
        .trim()
        .to_string();
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(&key)
    );
    s.write_all(resp.as_bytes()).await.unwrap();
    buf.drain(..end);
    let (mut r, w) = s.into_split();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(writer(w, rx));
    let dec = Decoder::default();
    let mut user = String::new();
    loop {
        while let Ok(Some((f, used))) = dec.decode(&buf) {
            buf.drain(..used);
            if f.opcode == OP_CLOSE {
                return;
            }
            let v: serde_json::Value = serde_json::from_slice(&f.payload).unwrap();
            match v["type"].as_str() {
                Some("join") => {
                    user = v["user"].as_str().unwrap().to_string();
                    let presence = format!(
                        r#"{{"type": "presence", "room": "main", "user": "{user}", "event": "join"}}"#
                    );
                    let all = members.lock().unwrap().clone();
                    for m in &all {
                        let _ = m.send(presence.clone().into_bytes());
                    }
                    members.lock().unwrap().push(tx.clone());
                    let _ = tx.send(
                        format!(
                            r#"{{"type":"joined","room":"main","user":"{user}","members":[]}}"#
                        )
                        .into_bytes(),
                    );
                }
                Some("message") => {
                    let id = {
                        let mut c = counter.lock().unwrap();
                        *c += 1;
                        *c
                    };
                    let mut text = v["text"].as_str().unwrap().to_string();
                    if corrupt_every > 0 && id.is_multiple_of(corrupt_every) {
                        text.replace_range(30..31, "#");
                    }
                    // Python-style separators, to exercise the tolerant field reader.
                    let out = format!(
                        r#"{{"type": "message", "room": "main", "user": "{user}", "text": "{text}", "id": {id}, "ts": 1}}"#
                    );
                    let all = members.lock().unwrap().clone();
                    for m in &all {
                        let _ = m.send(out.clone().into_bytes());
                    }
                }
                _ => {}
            }
        }
        let n = r.read(&mut tmp).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&tmp[..n]);
    }
}

fn cfg(url: String) -> ChatConfig {
    ChatConfig {
        url,
        members: 20,
        senders: 2,
        rate: 50.0,
        duration: Duration::from_millis(1000),
        size: 48,
        drain: Duration::from_secs(3),
        threads: 2,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_member_gets_every_message() {
    let r = chat::run(&cfg(serve(0).await)).await.unwrap();
    assert_eq!(r.joined, 20, "{}", r.render());
    // 2 senders x 50 msg/s x 1 s, each delivered to all 20 members.
    assert_eq!(r.sent, 100, "{}", r.render());
    assert_eq!(r.expected_deliveries, 2000);
    assert_eq!(
        (r.deliveries, r.lost, r.mismatches, r.errors),
        (2000, 0, 0, 0),
        "{}",
        r.render()
    );
    assert_eq!(r.latency.count, 2000);
    // Every measured delivery is in one interval of the timeline, and the
    // percentile curve ends at the maximum.
    assert_eq!(r.throughput.counts.iter().sum::<u64>(), 2000);
    assert_eq!(r.latency_curve.last().map(|p| p.percentile), Some(100.0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_deliveries_are_caught() {
    let r = chat::run(&cfg(serve(10).await)).await.unwrap();
    assert_eq!(r.sent, 100);
    // Every 10th message is corrupted for all 20 members.
    assert_eq!(r.mismatches, 10 * 20, "{}", r.render());
    assert_eq!(r.lost, 10 * 20);
}
