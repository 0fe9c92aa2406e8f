//! bench/clients.sh, Rust: the loops on the GENERATED client libraries
//! (chat-client and session-client, generated from specs/chat.yaml and
//! specs/session.yaml into gen/, path dependencies).
//!
//!     lib chat URL COUNT WINDOW     join a room, then COUNT messages, WINDOW in flight,
//!                                   each awaited as its own copy (the request matched by ref)
//!     lib session URL COUNT         start a session whose worker emits COUNT events, read them all
//!     lib resume URL CONTROL CUTS   events paced 1 ms apart through proxy.py; CUTS cuts, each
//!                                   timed from the cut to the first event delivered after it
//!
//! Prints one JSON line: {"ok": true, ...}.
use futures::StreamExt;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

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

async fn chat(url: &str, count: usize, window: usize) {
    use chat_client::{Client, Options, requests};
    let options = Options {
        user: Some(name("b")),
        ..Options::default()
    };
    let (client, mut events) = Client::connect(url, options)
        .await
        .unwrap_or_else(|e| fail(format!("connect: {e}")));
    // The event stream has every message too: keep it read.
    tokio::spawn(async move { while events.next().await.is_some() {} });
    let room = name("r");
    client
        .join(requests::Join {
            room: room.clone(),
            ..Default::default()
        })
        .await
        .unwrap_or_else(|e| fail(format!("join: {e}")));
    let text = "m".repeat(64);
    let run = |per: usize| {
        let (client, room, text) = (client.clone(), room.clone(), text.clone());
        async move {
            let tasks = (0..window).map(|_| {
                let (client, room, text) = (client.clone(), room.clone(), text.clone());
                async move {
                    let mut lat = Vec::with_capacity(per);
                    for _ in 0..per {
                        let t = Instant::now();
                        client
                            .message(requests::Message {
                                room: room.clone(),
                                text: text.clone(),
                            })
                            .await
                            .unwrap_or_else(|e| fail(format!("message: {e}")));
                        lat.push(t.elapsed().as_secs_f64() * 1000.0);
                    }
                    lat
                }
            });
            futures::future::join_all(tasks).await.concat()
        }
    };
    run((500 / window).max(1)).await; // warm-up
    let per = count / window;
    let t0 = Instant::now();
    let mut lat = run(per).await;
    let secs = t0.elapsed().as_secs_f64();
    client.close();
    println!(
        "{}",
        json!({"ok": true, "perSecond": (per * window) as f64 / secs, "p50": pct(&mut lat, 0.5), "p99": pct(&mut lat, 0.99)})
    );
}

async fn session(url: &str, count: usize) {
    use session_client::{Client, Event, Options, ServerFrame, requests};
    let (client, mut events) = Client::connect(url, Options::default())
        .await
        .unwrap_or_else(|e| fail(format!("connect: {e}")));
    let mut t0 = Instant::now(); // reset at the first event: the worker's start-up excluded
    let input = json!({"do": "emit", "count": count, "size": 64, "exit": 0});
    client
        .start(requests::Start { input: Some(input) })
        .await
        .unwrap_or_else(|e| fail(format!("start: {e}")));
    let (mut n, mut last) = (0u64, 0i64);
    while let Some(ev) = events.next().await {
        match ev.unwrap_or_else(|e| fail(format!("stream: {e}"))) {
            Event::Frame(ServerFrame::Event(e)) => {
                if e.seq != last + 1 {
                    fail(format!("seq {} after {last}", e.seq));
                }
                last = e.seq;
                n += 1;
                if n == 1 {
                    t0 = Instant::now();
                }
            }
            Event::Frame(ServerFrame::Exit(_)) => break,
            _ => {}
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    client.close();
    println!(
        "{}",
        json!({"ok": true, "perSecond": (n - 1) as f64 / secs, "events": n})
    );
}

async fn resume(url: &str, control: &str, cuts: usize) {
    use session_client::{Client, Event, Options, ServerFrame, State, requests};
    let (client, mut events) = Client::connect(url, Options::default())
        .await
        .unwrap_or_else(|e| fail(format!("connect: {e}")));
    let lost = Arc::new(AtomicBool::new(false));
    let mut states = client.states();
    let flag = lost.clone();
    tokio::spawn(async move {
        while states.changed().await.is_ok() {
            if *states.borrow_and_update() != State::Open {
                flag.store(true, Ordering::SeqCst);
            }
        }
    });
    let ctl = tokio::net::TcpStream::connect(format!("127.0.0.1:{control}"))
        .await
        .unwrap_or_else(|e| fail(format!("control: {e}")));
    let (r, mut w) = ctl.into_split();
    let mut r = BufReader::new(r);
    let input = json!({"do": "emit", "count": 300 + cuts * 400, "pace": 1, "exit": 0});
    client
        .start(requests::Start { input: Some(input) })
        .await
        .unwrap_or_else(|e| fail(format!("start: {e}")));
    let (mut last, mut times, mut cut): (i64, Vec<f64>, Option<Instant>) = (0, Vec::new(), None);
    // The worker exits after its last event: the stream ends with its exit.
    while let Some(ev) = events.next().await {
        let Event::Frame(ServerFrame::Event(e)) =
            ev.unwrap_or_else(|e| fail(format!("stream: {e}")))
        else {
            break;
        };
        if e.seq != last + 1 {
            fail(format!("seq {} after {last}", e.seq));
        }
        last = e.seq;
        if let Some(t) = cut {
            if lost.load(Ordering::SeqCst) {
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                cut = None;
            }
        } else if times.len() < cuts && last >= (300 + 400 * times.len()) as i64 {
            lost.store(false, Ordering::SeqCst);
            cut = Some(Instant::now());
            w.write_all(b"cut\n").await.unwrap();
            let mut line = String::new();
            r.read_line(&mut line).await.unwrap();
        }
    }
    client.close();
    if times.len() < cuts {
        fail(format!(
            "{} of {cuts} cuts resumed (last seq {last})",
            times.len()
        ));
    }
    let all = times.clone();
    println!(
        "{}",
        json!({"ok": true, "median": pct(&mut times, 0.5), "cuts": all})
    );
}

#[tokio::main]
async fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 3 {
        eprintln!("usage: lib chat URL COUNT WINDOW | session URL COUNT | resume URL CONTROL CUTS");
        std::process::exit(2);
    }
    let n = |s: &String| {
        s.parse::<usize>()
            .unwrap_or_else(|_| fail(format!("bad number {s}")))
    };
    match a[0].as_str() {
        "chat" => chat(&a[1], n(&a[2]), n(&a[3])).await,
        "session" => session(&a[1], n(&a[2])).await,
        "resume" => resume(&a[1], &a[2], n(&a[3])).await,
        m => fail(format!("unknown mode {m}")),
    }
}
