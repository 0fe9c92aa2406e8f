//! Handshake rate: `--connections` workers, each in a loop of connect (TCP,
//! TLS for `wss://`), opening handshake (with the `--header`/`--token`
//! credential, if any), close frame, the server's close answer, for the
//! measurement window. What an authenticated or encrypted server pays per
//! connection, as handshakes per second and the latency of one cycle.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use serde::Serialize;
use tokio::io::Interest;
use tokio::time::Instant;

use super::client;
use super::load::{ConnIo, local_port, ns_since};
use super::stats::{Latency, Recorder, Shared, fmt_int, fmt_us};
use super::sys::CpuSnapshot;
use crate::wire::handshake::WsUrl;

#[derive(Debug, Clone)]
pub struct HandshakeConfig {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Workers, each with at most one connection open at a time.
    pub workers: usize,
    pub duration: Duration,
    pub timeout: Duration,
    pub server_pid: Option<i32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HandshakeReport {
    pub url: String,
    pub mode: &'static str,
    pub tls: bool,
    pub workers: usize,
    pub duration_s: f64,
    /// Completed cycles (connect, upgrade, close answered) per second.
    pub handshakes_per_sec: f64,
    pub completed: u64,
    pub failures: u64,
    /// Time of one full cycle.
    pub latency: Latency,
    pub client_cpu_cores: f64,
    pub server_pid: Option<i32>,
    pub server_cpu_cores: Option<f64>,
    pub machine_busy: Option<f64>,
    pub error_samples: Vec<String>,
}

impl HandshakeReport {
    pub fn render(&self) -> String {
        let l = &self.latency;
        let mut s = format!("wsgen bench --handshakes {}\n", self.url);
        let row = |s: &mut String, k: &str, v: String| s.push_str(&format!("  {k:<22} {v}\n"));
        row(
            &mut s,
            "cycle",
            format!(
                "connect{}, upgrade, close ({} workers, {:.1}s)",
                if self.tls { ", TLS" } else { "" },
                self.workers,
                self.duration_s
            ),
        );
        row(
            &mut s,
            "handshakes/s",
            format!(
                "{} ({} completed, {} failed)",
                fmt_int(self.handshakes_per_sec as u64),
                fmt_int(self.completed),
                fmt_int(self.failures)
            ),
        );
        row(
            &mut s,
            "cycle latency",
            format!(
                "p50 {}  p90 {}  p99 {}  max {}",
                fmt_us(l.p50_us),
                fmt_us(l.p90_us),
                fmt_us(l.p99_us),
                fmt_us(l.max_us)
            ),
        );
        let cpu = match self.server_cpu_cores {
            Some(c) => format!(
                "wsgen {:.0}%, server {:.0}%",
                self.client_cpu_cores * 100.0,
                c * 100.0
            ),
            None => format!("wsgen {:.0}%", self.client_cpu_cores * 100.0),
        };
        row(&mut s, "cpu", cpu);
        for e in &self.error_samples {
            row(&mut s, "error", e.clone());
        }
        s
    }
}

/// Runs the handshake loop and returns its report.
pub async fn run(cfg: &HandshakeConfig) -> Result<HandshakeReport, String> {
    let url = WsUrl::parse(&cfg.url).map_err(|e| e.to_string())?;
    if cfg.workers == 0 {
        return Err("--connections must be at least 1".into());
    }
    let server_pid = cfg
        .server_pid
        .or_else(|| local_port(&url).and_then(super::sys::listener_pid));
    let shared = Arc::new(Shared::default());
    let headers: Arc<[(String, String)]> = cfg.headers.clone().into();
    let base = Instant::now();
    let end = cfg.duration.as_nanos() as u64;
    let cpu0 = CpuSnapshot::take(server_pid);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..cfg.workers {
        let (url, headers, tls, shared) = (
            url.clone(),
            headers.clone(),
            cfg.tls.clone(),
            shared.clone(),
        );
        let timeout = cfg.timeout;
        tasks.spawn(async move {
            let mut rec = Recorder::new(i);
            while ns_since(base) < end {
                let t0 = ns_since(base);
                match cycle(&url, &headers, tls.as_ref(), timeout).await {
                    Ok(()) => {
                        let now = ns_since(base);
                        if now <= end {
                            shared.received.fetch_add(1, Relaxed);
                            rec.record_at(&shared, now, now - t0);
                        }
                    }
                    Err(e) => {
                        shared.connect_failures.fetch_add(1, Relaxed);
                        shared.sample(e);
                        // Do not spin on a refusing server.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            rec.flush(&shared);
        });
    }
    tokio::time::sleep_until(base + cfg.duration).await;
    let cpu1 = CpuSnapshot::take(server_pid);
    while tasks.join_next().await.is_some() {}
    let (own, server_cores, machine) = cpu1.usage_since(&cpu0);
    let secs = cfg.duration.as_secs_f64();
    let completed = shared.received.load(Relaxed);
    Ok(HandshakeReport {
        url: cfg.url.clone(),
        mode: "handshakes",
        tls: url.tls,
        workers: cfg.workers,
        duration_s: secs,
        handshakes_per_sec: completed as f64 / secs,
        completed,
        failures: shared.connect_failures.load(Relaxed),
        latency: Latency::from_histogram(&shared.histogram()),
        client_cpu_cores: own,
        server_pid,
        server_cpu_cores: server_cores,
        machine_busy: machine,
        error_samples: shared.samples(),
    })
}

/// One connect, upgrade, close; `Ok` once the server answered the close
/// (or closed the TCP connection after it).
async fn cycle(
    url: &WsUrl,
    headers: &[(String, String)],
    tls: Option<&Arc<rustls::ClientConfig>>,
    timeout: Duration,
) -> Result<(), String> {
    let link = client::connect_link(url, timeout, headers, tls).await?;
    let mut io = ConnIo::new(link, 256, 64);
    io.close_now(1000);
    let deadline = Instant::now() + timeout;
    loop {
        let interest = if io.pending() > 0 {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        let ready = tokio::time::timeout_at(deadline, io.stream.ready(interest))
            .await
            .map_err(|_| "no close answer within the timeout".to_string())?
            .map_err(|e| e.to_string())?;
        if ready.is_readable() {
            match io.read_all(|_, _| {}, Instant::now()) {
                Ok(()) => {}
                // The close answer, or the TCP close that follows it.
                Err(_) => return Ok(()),
            }
        }
        io.flush().map_err(|e| format!("write: {e}"))?;
    }
}
