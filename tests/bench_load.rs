//! Correctness of `wsgen bench` against fixture echo servers written here:
//! exact message counts under rate control, and every kind of bad echo
//! (corrupted, dropped, reordered) counted as a mismatch. No timing is
//! asserted: performance is measured by benchmarks, not by tests.

use std::time::Duration;

#[path = "fixtures/bench_servers.rs"]
mod servers;
#[path = "fixtures/tls_front.rs"]
mod tls;

use servers::{Fault, serve_echo as serve};
use wsgen::bench::{LoadConfig, load};

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

/// wss:// through a TLS-terminating proxy (verify's throw-away CA): the same
/// exact counts as over ws://, open and closed loop, text and large binary
/// messages (records split across reads), and the handshake cycle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wss_loads_count_every_echo_like_ws() {
    let plain = serve(Fault::None).await;
    let addr: std::net::SocketAddr = plain
        .trim_start_matches("ws://")
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (url, ca) = tls::tls_front(addr, dir.path()).await;
    let trust = wsgen::wire::Trust::Ca(ca.clone());
    let tls = Some(wsgen::wire::tls::client_config(&trust).unwrap());

    let mut c = cfg(url.clone(), 4, 200.0, 1000);
    c.tls = tls.clone();
    let r = load::run(&c).await.unwrap();
    assert_eq!(
        (r.connected, r.sent, r.received),
        (4, 800, 800),
        "{}",
        r.render()
    );
    assert_eq!(
        (r.mismatches, r.errors, r.unanswered, r.connection_failures),
        (0, 0, 0, 0),
        "{}",
        r.render()
    );
    assert_eq!(r.latency.count, 800);

    let mut c = cfg(url.clone(), 2, 50.0, 400);
    c.tls = tls.clone();
    c.binary = true;
    c.size = 70_000;
    let r = load::run(&c).await.unwrap();
    assert_eq!(
        (r.sent, r.received, r.mismatches, r.errors),
        (40, 40, 0, 0),
        "{}",
        r.render()
    );

    let mut c = cfg(url.clone(), 3, 0.0, 300);
    c.tls = tls.clone();
    let r = load::run(&c).await.unwrap();
    assert_eq!(r.mode, "closed");
    assert!(r.sent > 10, "{}", r.render());
    assert_eq!(
        (r.mismatches, r.errors, r.unanswered),
        (0, 0, 0),
        "{}",
        r.render()
    );

    // Without the CA the certificate is refused: every connection fails.
    let mut c = cfg(url.clone(), 2, 10.0, 100);
    c.tls = Some(wsgen::wire::tls::client_config(&wsgen::wire::Trust::WebPki).unwrap());
    let r = load::run(&c).await.unwrap();
    assert_eq!(r.connection_failures, 2, "{}", r.render());

    // Handshake cycles over TLS (and over plain ws:// to compare).
    for (u, t) in [(url, tls), (plain, None)] {
        let h = wsgen::bench::handshake::run(&wsgen::bench::handshake::HandshakeConfig {
            url: u,
            headers: vec![("Authorization".into(), "Bearer t0k".into())],
            tls: t,
            workers: 2,
            duration: Duration::from_millis(300),
            timeout: Duration::from_secs(5),
            server_pid: None,
        })
        .await
        .unwrap();
        assert!(h.completed > 0, "{}", h.render());
        assert_eq!(h.failures, 0, "{}", h.render());
        assert_eq!(h.latency.count, h.completed, "{}", h.render());
    }
}
