//! Correctness of `wsgen bench` against fixture echo servers written here:
//! exact message counts under rate control, and every kind of bad echo
//! (corrupted, dropped, reordered) counted as a mismatch. No timing is
//! asserted: performance is measured by benchmarks, not by tests.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wsgen::bench::{LoadConfig, load};
use wsgen::wire::frame::{Decoder, Frame, OP_CLOSE, OP_PING};
use wsgen::wire::handshake::accept_key;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    None,
    /// Flip one payload octet of every Nth message.
    Corrupt(u64),
    /// Drop every Nth message.
    Drop(u64),
    /// Swap messages N and N+1 in every run of 2N (swap the Nth with the next).
    Swap(u64),
    /// Send a ping before every Nth echo.
    Ping(u64),
}

async fn serve(fault: Fault) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else { return };
            tokio::spawn(conn(s, fault));
        }
    });
    format!("ws://127.0.0.1:{port}/ws")
}

async fn conn(mut s: TcpStream, fault: Fault) {
    s.set_nodelay(true).unwrap();
    let mut buf = Vec::new();
    let mut tmp = [0u8; 16384];
    let head_end = loop {
        let n = s.read(&mut tmp).await.unwrap_or(0);
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let key = head
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("sec-websocket-key"))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap();
    let resp = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept_key(&key)
    );
    s.write_all(resp.as_bytes()).await.unwrap();
    buf.drain(..head_end);
    let dec = Decoder::default();
    let mut n = 0u64;
    let mut held: Option<Frame> = None;
    loop {
        let mut out = Vec::new();
        while let Ok(Some((f, used))) = dec.decode(&buf) {
            buf.drain(..used);
            if f.opcode == OP_CLOSE {
                let _ = s.write_all(&Frame::close(Some(1000), b"").encode()).await;
                return;
            }
            if f.opcode >= OP_CLOSE {
                continue;
            }
            n += 1;
            let mut echo = Frame::new(f.opcode, f.payload);
            match fault {
                Fault::Corrupt(k) if n.is_multiple_of(k) => echo.payload[30] ^= 0x20,
                Fault::Drop(k) if n.is_multiple_of(k) => continue,
                Fault::Swap(k) if n.is_multiple_of(k) => {
                    held = Some(echo);
                    continue;
                }
                Fault::Ping(k) if n.is_multiple_of(k) => {
                    out.extend(Frame::new(OP_PING, b"hi".to_vec()).encode())
                }
                _ => {}
            }
            echo.encode_into(&mut out);
            if let Some(h) = held.take() {
                h.encode_into(&mut out);
            }
        }
        if !out.is_empty() && s.write_all(&out).await.is_err() {
            return;
        }
        let r = s.read(&mut tmp).await.unwrap_or(0);
        if r == 0 {
            return;
        }
        buf.extend_from_slice(&tmp[..r]);
    }
}

fn cfg(url: String, connections: usize, rate: f64, ms: u64) -> LoadConfig {
    LoadConfig {
        url,
        connections,
        rate,
        duration: Duration::from_millis(ms),
        size: 64,
        drain: Duration::from_secs(5),
        threads: 2,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_sends_exactly_the_scheduled_messages_and_checks_every_echo() {
    let url = serve(Fault::None).await;
    // 4 connections x 200 msg/s x 1 s: the schedule holds exactly 800 messages.
    let r = load::run(&cfg(url, 4, 200.0, 1000)).await.unwrap();
    assert_eq!(r.mode, "open");
    assert_eq!(r.connected, 4);
    assert_eq!(r.sent, 800, "{}", r.render());
    assert_eq!(r.received, 800, "{}", r.render());
    assert_eq!(
        (r.mismatches, r.errors, r.unanswered, r.connection_failures),
        (0, 0, 0, 0),
        "{}",
        r.render()
    );
    assert_eq!(r.latency.count, 800);
    assert!(
        r.latency.p50_us > 0.0
            && r.latency.p50_us <= r.latency.p99_us
            && r.latency.p99_us <= r.latency.max_us
    );
    assert_eq!(r.achieved_rate, 800.0);
    // Throughput over time: 1 s in 100 ms intervals, every echo in one.
    assert_eq!(r.throughput.interval_s, 0.1);
    assert!(r.throughput.counts.len() >= 10, "{:?}", r.throughput);
    assert_eq!(r.throughput.counts.iter().sum::<u64>(), 800);
    let c = &r.latency_curve;
    assert_eq!(c.first().map(|p| p.percentile), Some(0.0));
    assert_eq!(c.last().map(|p| p.latency_us), Some(r.latency.max_us));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_and_large_messages_round_trip() {
    let url = serve(Fault::None).await;
    let mut c = cfg(url, 2, 50.0, 400);
    c.binary = true;
    c.size = 70_000;
    let r = load::run(&c).await.unwrap();
    assert_eq!(r.sent, 40);
    assert_eq!(
        (r.received, r.mismatches, r.errors),
        (40, 0, 0),
        "{}",
        r.render()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_loop_waits_for_each_echo() {
    let url = serve(Fault::Ping(7)).await;
    let r = load::run(&cfg(url, 3, 0.0, 300)).await.unwrap();
    assert_eq!(r.mode, "closed");
    assert_eq!(r.throughput.counts.iter().sum::<u64>(), r.latency.count);
    assert!(r.sent > 10);
    assert_eq!(r.received, r.sent, "{}", r.render());
    assert_eq!(
        (r.mismatches, r.errors, r.unanswered),
        (0, 0, 0),
        "{}",
        r.render()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_echoes_are_counted_exactly() {
    let url = serve(Fault::Corrupt(10)).await;
    let r = load::run(&cfg(url, 2, 100.0, 1000)).await.unwrap();
    assert_eq!(r.sent, 200);
    assert_eq!(r.mismatches, 20, "{}", r.render());
    assert_eq!(r.latency.count, 180);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_echoes_are_mismatches_and_the_rest_still_count() {
    let url = serve(Fault::Drop(10)).await;
    let mut c = cfg(url, 2, 100.0, 1000);
    c.drain = Duration::from_millis(500);
    let r = load::run(&c).await.unwrap();
    assert_eq!(r.sent, 200);
    // Every 10th echo of each connection is missing: 9 holes are seen as
    // skipped sequence numbers; the 10th (the last message) is never answered.
    assert_eq!(r.mismatches + r.unanswered, 20, "{}", r.render());
    assert_eq!(r.latency.count, 180);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_echoes_are_mismatches() {
    let url = serve(Fault::Swap(5)).await;
    let r = load::run(&cfg(url, 1, 100.0, 1000)).await.unwrap();
    assert_eq!(r.sent, 100);
    assert!(r.mismatches >= 20, "{}", r.render());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_a_connection_failure() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut c = cfg(format!("ws://127.0.0.1:{port}/"), 3, 10.0, 100);
    c.connect_timeout = Duration::from_secs(2);
    let r = load::run(&c).await.unwrap();
    assert_eq!((r.connected, r.connection_failures), (0, 3));
    assert!(!r.error_samples.is_empty());
}
