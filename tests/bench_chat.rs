//! The chat fan-out mode against a tiny chat-v1 fixture server written here
//! (join -> joined + presence; message -> broadcast to every member, sender
//! included): every delivery is counted and checked; a server that corrupts
//! deliveries is caught. No timing is asserted.

use std::time::Duration;

#[path = "fixtures/bench_servers.rs"]
mod servers;

use servers::serve_chat as serve;
use wsgen::bench::chat::{self, ChatConfig};

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
    // The server (this process: the fixture listens here) was found and its
    // memory sampled before the members came and through the window.
    let (before, peak) = (r.server_rss_before_kib, r.server_rss_peak_kib);
    assert!(before.is_some() && peak >= before, "{}", r.render());
    assert!(r.rss_per_member_bytes.is_some(), "{}", r.render());
    assert!(r.render().contains("KB per member"), "{}", r.render());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corrupted_deliveries_are_caught() {
    let r = chat::run(&cfg(serve(10).await)).await.unwrap();
    assert_eq!(r.sent, 100);
    // Every 10th message is corrupted for all 20 members.
    assert_eq!(r.mismatches, 10 * 20, "{}", r.render());
    assert_eq!(r.lost, 10 * 20);
}
