//! bench/clients.sh, Rust: the same loops as `lib` written directly on
//! tokio-tungstenite (the library the generated client uses, the same
//! version, config and TCP_NODELAY): raw JSON frames, answers matched by ref.
//!
//!     raw chat URL COUNT WINDOW
//!     raw session URL COUNT        (acks every 64 events, as the library does)
//!
//! Prints one JSON line like `lib`.
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

fn pct(xs: &mut [f64], q: f64) -> f64 {
    xs.sort_by(|a, b| a.partial_cmp(b).unwrap());
    xs[((q * xs.len() as f64) as usize).min(xs.len() - 1)]
}

fn fail(msg: String) -> ! {
    println!("{}", json!({"ok": false, "error": msg}));
    std::process::exit(1)
}

fn name(p: &str) -> String {
    let n = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("{p}{:08x}", n ^ std::process::id())
}

async fn dial(url: &str) -> Ws {
    let config = WebSocketConfig::default()
        .max_message_size(Some(1 << 24))
        .max_frame_size(Some(1 << 24));
    let (ws, _) = tokio_tungstenite::connect_async_tls_with_config(url, Some(config), true, None)
        .await
        .unwrap_or_else(|e| fail(format!("connect: {e}")));
    ws
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string()))
        .await
        .unwrap_or_else(|e| fail(format!("send: {e}")));
}

async fn recv(ws: &mut Ws) -> Value {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => {
                return serde_json::from_str(&t).unwrap_or_else(|e| fail(format!("json: {e}")));
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => fail(format!("read: {e}")),
            None => fail("closed".into()),
        }
    }
}

async fn chat(url: &str, count: usize, window: usize) {
    let mut ws = dial(url).await;
    let (user, room) = (name("b"), name("r"));
    send(
        &mut ws,
        json!({"type": "join", "room": room, "user": user, "ref": 0}),
    )
    .await;
    while recv(&mut ws).await.get("ref") != Some(&json!(0)) {}
    let text = "m".repeat(64);
    let mut next_ref: i64 = 0;
    let mut lat = Vec::new();
    // WINDOW requests in flight: a new one is sent as each answer comes in.
    for (n, keep) in [
        ((500 / window).max(1) * window, false),
        (count / window * window, true),
    ] {
        let t0 = Instant::now();
        let mut sent: HashMap<i64, Instant> = HashMap::new();
        let mut issued = 0;
        while issued < window.min(n) {
            next_ref += 1;
            sent.insert(next_ref, Instant::now());
            send(
                &mut ws,
                json!({"type": "message", "room": room, "text": text, "ref": next_ref}),
            )
            .await;
            issued += 1;
        }
        let mut done = 0;
        while done < n {
            let f = recv(&mut ws).await;
            let Some(r) = f.get("ref").and_then(Value::as_i64) else {
                continue;
            };
            let Some(t) = sent.remove(&r) else { continue };
            if f["type"] != "message" {
                fail(format!("answer {f}"));
            }
            if keep {
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            done += 1;
            if issued < n {
                next_ref += 1;
                sent.insert(next_ref, Instant::now());
                send(
                    &mut ws,
                    json!({"type": "message", "room": room, "text": text, "ref": next_ref}),
                )
                .await;
                issued += 1;
            }
        }
        if keep {
            let secs = t0.elapsed().as_secs_f64();
            let _ = ws.close(None).await;
            println!(
                "{}",
                json!({"ok": true, "perSecond": n as f64 / secs, "p50": pct(&mut lat, 0.5), "p99": pct(&mut lat, 0.99)})
            );
            return;
        }
    }
}

async fn session(url: &str, count: usize) {
    let mut ws = dial(url).await;
    let mut t0 = Instant::now(); // reset at the first event: the worker's start-up excluded
    let input = json!({"do": "emit", "count": count, "size": 64, "exit": 0});
    send(&mut ws, json!({"type": "start", "input": input, "ref": 1})).await;
    let (mut n, mut last) = (0u64, 0i64);
    loop {
        let f = recv(&mut ws).await;
        match f["type"].as_str() {
            Some("event") => {
                let seq = f["seq"].as_i64().unwrap_or(-1);
                if seq != last + 1 {
                    fail(format!("seq {seq} after {last}"));
                }
                last = seq;
                n += 1;
                if n == 1 {
                    t0 = Instant::now();
                }
                if last % 64 == 0 {
                    send(&mut ws, json!({"type": "ack", "seq": last})).await;
                }
            }
            Some("exit") => break,
            Some("error") => fail(format!("{f}")),
            _ => {}
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let _ = ws.close(None).await;
    println!(
        "{}",
        json!({"ok": true, "perSecond": (n - 1) as f64 / secs, "events": n})
    );
}

#[tokio::main]
async fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 3 {
        eprintln!("usage: raw chat URL COUNT WINDOW | session URL COUNT");
        std::process::exit(2);
    }
    let n = |s: &String| {
        s.parse::<usize>()
            .unwrap_or_else(|_| fail(format!("bad number {s}")))
    };
    match a[0].as_str() {
        "chat" => chat(&a[1], n(&a[2]), n(&a[3])).await,
        "session" => session(&a[1], n(&a[2])).await,
        m => fail(format!("unknown mode {m}")),
    }
}
