//! Many idle connections, held open (answering pings) while the server's
//! resident memory is read: memory per idle connection is the RSS delta
//! divided by the connections that are really open.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Semaphore, watch};

use super::client::{self, Incoming, Reader};
use super::sys::proc_rss_kib;
use crate::wire::handshake::WsUrl;

#[derive(Debug, Clone, Serialize)]
pub struct IdleReport {
    pub target: usize,
    pub opened: u64,
    pub failed: u64,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    /// (after - before) / opened, in bytes.
    pub bytes_per_connection: f64,
    pub connect_secs: f64,
    pub error_samples: Vec<String>,
}

/// Opens `n` connections to `url`, waits `settle`, reads the RSS of `pid`,
/// then closes them all.
pub async fn measure(
    url: &str,
    n: usize,
    pid: i32,
    settle: Duration,
    concurrency: usize,
) -> Result<IdleReport, String> {
    let url = WsUrl::parse(url).map_err(|e| e.to_string())?;
    // Warm the server up first (lazy pools, JIT, first-connection buffers),
    // so the delta is what each further connection costs.
    {
        let mut warm = Vec::new();
        for _ in 0..20 {
            if let Ok(c) = client::connect(&url, Duration::from_secs(10), &[]).await {
                warm.push(c);
            }
        }
        drop(warm);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let before = proc_rss_kib(pid).ok_or("cannot read the server's RSS")?;
    let opened = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let samples = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let sem = Arc::new(Semaphore::new(concurrency.max(1)));
    let t0 = std::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..n {
        let (url, opened, failed, samples, mut stop, sem) = (
            url.clone(),
            opened.clone(),
            failed.clone(),
            samples.clone(),
            stop_rx.clone(),
            sem.clone(),
        );
        tasks.spawn(async move {
            let c = {
                let _p = sem.acquire().await;
                client::connect(&url, Duration::from_secs(30), &[]).await
            };
            let (stream, rest) = match c {
                Ok(x) => x,
                Err(e) => {
                    failed.fetch_add(1, Relaxed);
                    if let Ok(mut s) = samples.lock()
                        && s.len() < 5
                    {
                        s.push(e);
                    }
                    return;
                }
            };
            opened.fetch_add(1, Relaxed);
            let key: [u8; 4] = rand::random();
            let mut reader = Reader::new(128, &rest, 1 << 20);
            let mut out = Vec::new();
            loop {
                tokio::select! {
                    _ = stop.changed() => break,
                    r = stream.readable() => {
                        if r.is_err() { break; }
                        match reader.try_read(&stream) {
                            Ok(0) => return,
                            Ok(_) => {}
                            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                            Err(_) => return,
                        }
                        while let Ok(Some(m)) = reader.next_frame() {
                            match m {
                                Incoming::Ping(p) => client::push_pong(&mut out, p, key),
                                Incoming::Close(_) => return,
                                _ => {}
                            }
                        }
                        if !out.is_empty() {
                            let _ = stream.try_write(&out);
                            out.clear();
                        }
                    }
                }
            }
            client::push_close(&mut out, 1000, key);
            let _ = stream.try_write(&out);
        });
    }
    // Wait until all have connected or failed.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while opened.load(Relaxed) + failed.load(Relaxed) < n as u64
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let connect_secs = t0.elapsed().as_secs_f64();
    tokio::time::sleep(settle).await;
    let after = proc_rss_kib(pid).ok_or("cannot read the server's RSS (did it exit?)")?;
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    let o = opened.load(Relaxed);
    Ok(IdleReport {
        target: n,
        opened: o,
        failed: failed.load(Relaxed),
        rss_before_kib: before,
        rss_after_kib: after,
        bytes_per_connection: if o > 0 {
            (after as f64 - before as f64) * 1024.0 / o as f64
        } else {
            0.0
        },
        connect_secs,
        error_samples: samples.lock().map(|s| s.clone()).unwrap_or_default(),
    })
}
