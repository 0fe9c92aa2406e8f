//! The echo load: N connections, each sending at a fixed rate (open loop,
//! latency from the intended send time) or one message at a time (closed
//! loop), every echo checked.
//!
//! One task per connection drives its socket by readiness (`try_read` /
//! `try_write`), so a slow server never blocks reading behind a full send
//! buffer; one timer per connection is re-armed, never re-created; frames
//! come from a per-connection template and the read buffer is decoded in
//! place.

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use serde::Serialize;
use tokio::io::Interest;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

use super::client::{self, FrameTemplate, Incoming, Reader};
use super::payload::{self, Template, seq_of};
use super::schedule::Schedule;
use super::stats::{CurvePoint, Latency, Recorder, Shared, fmt_int, fmt_us, latency_curve};
use super::sys::CpuSnapshot;
use super::timeline::{Throughput, Timeline};
use crate::wire::handshake::WsUrl;

/// Most unsent octets a connection queues before it stops encoding (the
/// schedule keeps running: late messages are still charged from their
/// intended time).
const MAX_PENDING: usize = 256 * 1024;

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadConfig {
    pub url: String,
    /// Extra handshake headers (`--header`, `--origin`, `--token`).
    pub headers: Vec<(String, String)>,
    pub connections: usize,
    /// Messages per second per connection; 0 = closed loop.
    pub rate: f64,
    pub duration: Duration,
    pub size: usize,
    pub binary: bool,
    /// Open connections evenly over this time; measurement starts after it.
    pub ramp: Duration,
    pub connect_timeout: Duration,
    /// How long to wait for outstanding echoes after the window closes.
    pub drain: Duration,
    /// Print a live progress line on stderr.
    pub progress: bool,
    /// The server's pid, for its CPU use (found from the port when local).
    pub server_pid: Option<i32>,
    /// Worker threads of the runtime this runs on (for the bottleneck check).
    pub threads: usize,
    /// Handshakes in flight at once while connecting.
    pub connect_concurrency: usize,
    /// For `wss://`: the TLS client configuration (`--ca`, `--insecure`).
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            url: String::new(),
            headers: Vec::new(),
            connections: 10,
            rate: 0.0,
            duration: Duration::from_secs(10),
            size: 64,
            binary: false,
            ramp: Duration::ZERO,
            connect_timeout: Duration::from_secs(10),
            drain: Duration::from_secs(5),
            progress: false,
            server_pid: None,
            threads: 1,
            connect_concurrency: 128,
            tls: None,
        }
    }
}

/// The result of a run (also the `--json` document).
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    pub url: String,
    pub mode: &'static str,
    pub connections: usize,
    pub connected: u64,
    pub connection_failures: u64,
    pub rate_per_connection: f64,
    pub target_rate: f64,
    pub duration_s: f64,
    pub size: usize,
    pub binary: bool,
    pub sent: u64,
    pub received: u64,
    /// Echoes of messages sent inside the window, per second of window.
    pub achieved_rate: f64,
    pub errors: u64,
    pub mismatches: u64,
    pub unanswered: u64,
    pub latency: Latency,
    /// The latency percentile distribution (for the `--report` plot).
    pub latency_curve: Vec<CurvePoint>,
    /// Measured echoes per interval of receive time.
    pub throughput: Throughput,
    pub client_cpu_cores: f64,
    pub client_threads: usize,
    pub server_pid: Option<i32>,
    pub server_cpu_cores: Option<f64>,
    pub machine_busy: Option<f64>,
    pub error_samples: Vec<String>,
    pub warnings: Vec<String>,
}

impl LoadReport {
    /// Messages per second driven per CPU-second of the load generator.
    pub fn msgs_per_cpu_sec(&self) -> f64 {
        if self.client_cpu_cores > 0.0 {
            self.achieved_rate / self.client_cpu_cores
        } else {
            0.0
        }
    }

    pub fn render(&self) -> String {
        let l = &self.latency;
        let mut s = String::new();
        let target = if self.mode == "open" {
            format!(
                "{} msg/s ({} conns x {} msg/s)",
                fmt_int(self.target_rate as u64),
                self.connections,
                self.rate_per_connection
            )
        } else {
            "closed loop (send, await echo, repeat)".into()
        };
        let row = |s: &mut String, k: &str, v: String| s.push_str(&format!("  {k:<22} {v}\n"));
        s.push_str(&format!("wsgen bench {}\n", self.url));
        row(&mut s, "target", target);
        row(
            &mut s,
            "message",
            format!(
                "{} octets, {}",
                self.size,
                if self.binary { "binary" } else { "text" }
            ),
        );
        row(&mut s, "duration", format!("{:.1}s", self.duration_s));
        row(
            &mut s,
            "connections",
            format!(
                "{} open, {} failed",
                self.connected, self.connection_failures
            ),
        );
        row(
            &mut s,
            "achieved",
            format!(
                "{} msg/s ({} sent, {} echoed)",
                fmt_int(self.achieved_rate as u64),
                fmt_int(self.sent),
                fmt_int(self.received)
            ),
        );
        row(
            &mut s,
            "latency",
            format!(
                "p50 {}  p90 {}  p99 {}  p99.9 {}  max {}  ({} samples{})",
                fmt_us(l.p50_us),
                fmt_us(l.p90_us),
                fmt_us(l.p99_us),
                fmt_us(l.p999_us),
                fmt_us(l.max_us),
                fmt_int(l.count),
                if self.mode == "open" {
                    ", from intended send time"
                } else {
                    ""
                }
            ),
        );
        row(
            &mut s,
            "errors",
            format!(
                "{} errors, {} mismatches, {} unanswered",
                self.errors, self.mismatches, self.unanswered
            ),
        );
        let server = match self.server_cpu_cores {
            Some(c) => format!(
                ", server {:.0}% (pid {})",
                c * 100.0,
                self.server_pid.unwrap_or(0)
            ),
            None => String::new(),
        };
        let machine = self
            .machine_busy
            .map(|m| format!(", machine {:.0}% busy", m * 100.0))
            .unwrap_or_default();
        row(
            &mut s,
            "cpu",
            format!(
                "wsgen {:.0}% of {} thread(s){server}{machine}; {} msg/CPU-s",
                self.client_cpu_cores * 100.0,
                self.client_threads,
                fmt_int(self.msgs_per_cpu_sec() as u64)
            ),
        );
        for e in &self.error_samples {
            s.push_str(&format!("  error: {e}\n"));
        }
        for w in &self.warnings {
            s.push_str(&format!("  warning: {w}\n"));
        }
        s
    }
}

/// Times of one run, in nanoseconds since its base instant.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: u64,
    end: u64,
    drain_end: u64,
}

pub(super) fn ns_since(base: Instant) -> u64 {
    base.elapsed().as_nanos() as u64
}

/// Runs the load and returns its report.
pub async fn run(cfg: &LoadConfig) -> Result<LoadReport, String> {
    let url = WsUrl::parse(&cfg.url).map_err(|e| e.to_string())?;
    if cfg.connections == 0 {
        return Err("--connections must be at least 1".into());
    }
    let size = cfg.size.max(payload::MIN_SIZE);
    let server_pid = cfg
        .server_pid
        .or_else(|| local_port(&url).and_then(super::sys::listener_pid));
    let shared = Arc::new(Shared::default());
    let base = Instant::now();
    let ramp = cfg.ramp.as_nanos() as u64;
    // Without a ramp the window opens once every connection is up; the
    // tasks wait for it on this channel.
    let (go_tx, go_rx) = watch::channel::<Option<Window>>(None);
    if ramp > 0 {
        let start = ramp;
        let end = start + cfg.duration.as_nanos() as u64;
        let _ = shared
            .timeline
            .set(Timeline::new(start, cfg.duration, cfg.drain));
        let _ = go_tx.send(Some(Window {
            start,
            end,
            drain_end: end + cfg.drain.as_nanos() as u64,
        }));
    }
    let sem = Arc::new(Semaphore::new(cfg.connect_concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    let headers: Arc<[(String, String)]> = cfg.headers.clone().into();
    for i in 0..cfg.connections {
        let conn = Conn {
            id: i as u32,
            index: i,
            count: cfg.connections,
            rate: cfg.rate,
            size,
            binary: cfg.binary,
            url: url.clone(),
            headers: headers.clone(),
            tls: cfg.tls.clone(),
            timeout: cfg.connect_timeout,
            connect_at: ramp * i as u64 / cfg.connections as u64,
            ramped: ramp > 0,
        };
        let (shared, go, sem) = (shared.clone(), go_rx.clone(), sem.clone());
        tasks.spawn(async move { conn.run(base, shared, go, sem).await });
    }
    drop(go_rx);
    // Progress line.
    let progress = cfg.progress.then(|| {
        let shared = shared.clone();
        let total = cfg.connections as u64;
        let dur = cfg.duration.as_secs_f64() + cfg.ramp.as_secs_f64();
        tokio::spawn(progress_loop(shared, total, dur, base))
    });
    let window = if ramp == 0 {
        // Wait until every connection is up or has failed.
        let deadline = Instant::now()
            + cfg.connect_timeout
            + Duration::from_secs(cfg.connections as u64 / 100 + 5);
        loop {
            let done = shared.connected.load(Relaxed) + shared.connect_failures.load(Relaxed);
            if done >= cfg.connections as u64 || Instant::now() > deadline || tasks.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let start = ns_since(base) + 2_000_000;
        let end = start + cfg.duration.as_nanos() as u64;
        let w = Window {
            start,
            end,
            drain_end: end + cfg.drain.as_nanos() as u64,
        };
        let _ = shared
            .timeline
            .set(Timeline::new(start, cfg.duration, cfg.drain));
        let _ = go_tx.send(Some(w));
        w
    } else {
        go_tx.borrow().expect("window set for a ramp")
    };
    tokio::time::sleep_until(base + Duration::from_nanos(window.start)).await;
    let cpu0 = CpuSnapshot::take(server_pid);
    tokio::time::sleep_until(base + Duration::from_nanos(window.end)).await;
    let cpu1 = CpuSnapshot::take(server_pid);
    while tasks.join_next().await.is_some() {}
    if let Some(p) = progress {
        p.abort();
        eprintln!();
    }
    let (own, server_cores, machine) = cpu1.usage_since(&cpu0);
    let secs = cfg.duration.as_secs_f64();
    let hist = shared.histogram();
    let latency = Latency::from_histogram(&hist);
    let mode = if cfg.rate > 0.0 { "open" } else { "closed" };
    let mut r = LoadReport {
        url: cfg.url.clone(),
        mode,
        connections: cfg.connections,
        connected: shared.connected.load(Relaxed),
        connection_failures: shared.connect_failures.load(Relaxed),
        rate_per_connection: cfg.rate,
        target_rate: cfg.rate * cfg.connections as f64,
        duration_s: secs,
        size,
        binary: cfg.binary,
        sent: shared.sent.load(Relaxed),
        received: shared.received.load(Relaxed),
        achieved_rate: shared.measured.load(Relaxed) as f64 / secs,
        errors: shared.errors.load(Relaxed),
        mismatches: shared.mismatches.load(Relaxed),
        unanswered: shared.unanswered.load(Relaxed),
        latency,
        latency_curve: latency_curve(&hist),
        throughput: shared
            .timeline
            .get()
            .map(Timeline::report)
            .unwrap_or_default(),
        client_cpu_cores: own,
        client_threads: cfg.threads,
        server_pid,
        server_cpu_cores: server_cores,
        machine_busy: machine,
        error_samples: shared.samples(),
        warnings: Vec::new(),
    };
    r.warnings = bottleneck_warnings(&r);
    Ok(r)
}

/// Says when the figures describe the load generator or the machine rather
/// than the server.
pub fn bottleneck_warnings(r: &LoadReport) -> Vec<String> {
    let mut w = Vec::new();
    let threads = r.client_threads.max(1) as f64;
    let short = r.mode == "open" && r.achieved_rate < 0.97 * r.target_rate;
    if r.client_cpu_cores > 0.85 * threads {
        w.push(format!(
            "wsgen itself used {:.0}% CPU on {} worker thread(s): it may be the bottleneck; raise --threads or lower the load",
            r.client_cpu_cores * 100.0,
            r.client_threads
        ));
    }
    if short {
        let server_busy = r.server_cpu_cores.map(|c| c >= 0.9);
        match server_busy {
            Some(true) => w.push(format!(
                "achieved {:.0}% of the target rate: the server is saturated ({:.0}% CPU)",
                100.0 * r.achieved_rate / r.target_rate,
                r.server_cpu_cores.unwrap_or(0.0) * 100.0
            )),
            _ if r.client_cpu_cores > 0.7 * threads => w.push(format!(
                "achieved {:.0}% of the target rate while the server was not saturated: the load generator is the bottleneck",
                100.0 * r.achieved_rate / r.target_rate
            )),
            _ => w.push(format!("achieved {:.0}% of the target rate", 100.0 * r.achieved_rate / r.target_rate)),
        }
    }
    if let Some(m) = r.machine_busy
        && m > 0.95
    {
        w.push(format!(
            "the machine's CPUs were {:.0}% busy: server and load generator competed for CPU; treat the figures as a lower bound",
            m * 100.0
        ));
    }
    w
}

pub(super) fn local_port(u: &WsUrl) -> Option<u16> {
    let local =
        matches!(u.host.as_str(), "127.0.0.1" | "localhost" | "::1") || u.host.starts_with("127.");
    local.then_some(u.port)
}

async fn progress_loop(shared: Arc<Shared>, total: u64, dur: f64, base: Instant) {
    let tty = unsafe { libc::isatty(2) } == 1;
    let mut last = (0u64, 0u64, Instant::now());
    let mut cpu_last = CpuSnapshot::take(None);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        tick.tick().await;
        let (s, r) = (shared.sent.load(Relaxed), shared.received.load(Relaxed));
        let now = Instant::now();
        let dt = (now - last.2).as_secs_f64().max(1e-6);
        let cpu = CpuSnapshot::take(None);
        let (own, _, _) = cpu.usage_since(&cpu_last);
        let line = format!(
            "[{:>5.1}s/{dur:.0}s] conns {}/{}  sent {}/s  echoed {}/s  mismatches {}  errors {}  wsgen cpu {:.0}%",
            base.elapsed().as_secs_f64(),
            shared.connected.load(Relaxed),
            total,
            fmt_int(((s - last.0) as f64 / dt) as u64),
            fmt_int(((r - last.1) as f64 / dt) as u64),
            shared.mismatches.load(Relaxed),
            shared.errors.load(Relaxed) + shared.connect_failures.load(Relaxed),
            own * 100.0
        );
        if tty {
            eprint!("\r{line}\x1b[K");
        } else {
            eprintln!("{line}");
        }
        last = (s, r, now);
        cpu_last = cpu;
    }
}

struct Conn {
    id: u32,
    index: usize,
    count: usize,
    rate: f64,
    size: usize,
    binary: bool,
    url: WsUrl,
    headers: Arc<[(String, String)]>,
    tls: Option<Arc<rustls::ClientConfig>>,
    timeout: Duration,
    connect_at: u64,
    ramped: bool,
}

/// Per-connection counters, added to the shared ones in batches.
#[derive(Default)]
struct Local {
    sent: u64,
    received: u64,
    mismatches: u64,
}

impl Local {
    fn publish(&mut self, shared: &Shared) {
        if self.sent > 0 {
            shared.sent.fetch_add(self.sent, Relaxed);
        }
        if self.received > 0 {
            shared.received.fetch_add(self.received, Relaxed);
        }
        if self.mismatches > 0 {
            shared.mismatches.fetch_add(self.mismatches, Relaxed);
        }
        *self = Local::default();
    }
}

impl Conn {
    async fn run(
        self,
        base: Instant,
        shared: Arc<Shared>,
        mut go: watch::Receiver<Option<Window>>,
        sem: Arc<Semaphore>,
    ) {
        if self.connect_at > 0 {
            tokio::time::sleep_until(base + Duration::from_nanos(self.connect_at)).await;
        }
        let connected = {
            let _permit = sem.acquire().await;
            client::connect_link(&self.url, self.timeout, &self.headers, self.tls.as_ref()).await
        };
        let link = match connected {
            Ok(x) => x,
            Err(e) => {
                shared.connect_failures.fetch_add(1, Relaxed);
                shared.sample(format!("connect: {e}"));
                return;
            }
        };
        shared.connected.fetch_add(1, Relaxed);
        let window = match go.wait_for(|w| w.is_some()).await {
            Ok(w) => w.expect("checked"),
            Err(_) => return,
        };
        let connected_at = ns_since(base);
        drop(go);
        let mut io = ConnIo::new(link, 16 * 1024, 0);
        let ft = FrameTemplate::new(Template::new(self.id, self.size), self.binary, io.key);
        io.wbuf.reserve(ft.frame_len() * 8);
        let mut rec = Recorder::new(self.index);
        let result = if self.rate > 0.0 {
            let sched = if self.ramped {
                Schedule {
                    start_ns: connected_at,
                    rate: self.rate,
                    offset_ns: 0,
                }
            } else {
                Schedule::spread(window.start, self.rate, self.index, self.count)
            };
            self.open_loop(&mut io, &ft, sched, window, base, &shared, &mut rec)
                .await
        } else {
            self.closed_loop(&mut io, &ft, window, base, &shared, &mut rec)
                .await
        };
        rec.flush(&shared);
        match result {
            Ok(unanswered) => {
                if unanswered > 0 {
                    shared.unanswered.fetch_add(unanswered, Relaxed);
                }
                // Polite close; do not wait for the answer.
                io.close_now(1000);
            }
            Err((e, unanswered)) => {
                shared.errors.fetch_add(1, Relaxed);
                shared.unanswered.fetch_add(unanswered, Relaxed);
                shared.sample(format!("connection {}: {e}", self.id));
            }
        }
    }

    /// Returns the count of messages never answered, or an error with it.
    #[allow(clippy::too_many_arguments)]
    async fn open_loop(
        &self,
        io: &mut ConnIo,
        ft: &FrameTemplate,
        sched: Schedule,
        w: Window,
        base: Instant,
        shared: &Shared,
        rec: &mut Recorder,
    ) -> Result<u64, (String, u64)> {
        let end_k = sched.count_before(w.end);
        let mut k = 0u64; // next to send
        let mut acked = 0u64; // next echo expected
        let mut local = Local::default();
        let sleep = tokio::time::sleep_until(base);
        tokio::pin!(sleep);
        let mut armed = 0u64;
        loop {
            let now = ns_since(base);
            if io.pending() < MAX_PENDING {
                let due = sched.due(now).min(end_k);
                while k < due {
                    ft.push(seq_of(self.id, k), &mut io.wbuf);
                    k += 1;
                    local.sent += 1;
                }
            }
            io.flush().map_err(|e| (format!("write: {e}"), k - acked))?;
            if k >= end_k && acked >= k {
                local.publish(shared);
                return Ok(0);
            }
            if now >= w.drain_end {
                local.publish(shared);
                return Ok(k - acked);
            }
            let wake = if k < end_k {
                sched.intended(k)
            } else {
                w.drain_end
            };
            // While the send buffer is full only writability matters; the
            // timer is re-armed only when its deadline moves.
            let timer_on = io.pending() < MAX_PENDING || k >= end_k;
            if timer_on && (wake != armed || sleep.is_elapsed()) {
                sleep.as_mut().reset(base + Duration::from_nanos(wake));
                armed = wake;
            }
            let interest = if io.pending() > 0 {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            tokio::select! {
                biased;
                ready = io.stream.ready(interest) => {
                    let ready = ready.map_err(|e| (e.to_string(), k - acked))?;
                    if ready.is_readable() {
                        let r = io.read_all(|data, now| {
                            local.received += 1;
                            if let Some(c) = check_echo(data, self.size, self.id, &mut acked, k, &mut local.mismatches) {
                                let intended = sched.intended(c);
                                if intended >= w.start && intended < w.end {
                                    rec.record_at(shared, now, now.saturating_sub(intended));
                                }
                            }
                        }, base);
                        local.publish(shared);
                        r.map_err(|e| (e, k.saturating_sub(acked)))?;
                        if acked > k {
                            return Err((format!("the server sent more messages than it was sent ({acked} > {k})"), 0));
                        }
                    }
                }
                _ = &mut sleep, if timer_on => {}
            }
        }
    }

    async fn closed_loop(
        &self,
        io: &mut ConnIo,
        ft: &FrameTemplate,
        w: Window,
        base: Instant,
        shared: &Shared,
        rec: &mut Recorder,
    ) -> Result<u64, (String, u64)> {
        let start = base + Duration::from_nanos(w.start);
        tokio::time::sleep_until(start).await;
        let mut k = 0u64;
        let mut acked = 0u64;
        let mut sent_at = 0u64;
        let mut local = Local::default();
        let sleep = tokio::time::sleep_until(base + Duration::from_nanos(w.drain_end));
        tokio::pin!(sleep);
        loop {
            let now = ns_since(base);
            if k == acked {
                if now >= w.end {
                    local.publish(shared);
                    return Ok(0);
                }
                ft.push(seq_of(self.id, k), &mut io.wbuf);
                sent_at = now;
                k += 1;
                local.sent += 1;
            }
            io.flush().map_err(|e| (format!("write: {e}"), k - acked))?;
            if now >= w.drain_end {
                local.publish(shared);
                return Ok(k - acked);
            }
            let interest = if io.pending() > 0 {
                Interest::READABLE | Interest::WRITABLE
            } else {
                Interest::READABLE
            };
            tokio::select! {
                biased;
                ready = io.stream.ready(interest) => {
                    let ready = ready.map_err(|e| (e.to_string(), k - acked))?;
                    if ready.is_readable() {
                        let r = io.read_all(|data, now| {
                            local.received += 1;
                            if check_echo(data, self.size, self.id, &mut acked, k, &mut local.mismatches).is_some()
                                && sent_at >= w.start && sent_at < w.end
                            {
                                rec.record_at(shared, now, now.saturating_sub(sent_at));
                            }
                        }, base);
                        if local.sent >= 64 {
                            local.publish(shared);
                        }
                        r.map_err(|e| (e, k.saturating_sub(acked)))?;
                        if acked > k {
                            return Err((format!("the server sent more messages than it was sent ({acked} > {k})"), 0));
                        }
                    }
                }
                _ = &mut sleep => {}
            }
        }
    }
}

/// Checks one echo against what connection `id` sent (messages `0..sent`,
/// `acked` answered so far). Returns the counter of the message it answers,
/// or `None` for a corrupted, foreign or duplicate payload. Every problem
/// adds to `mismatches`: a corrupted payload, each message skipped over (lost
/// or reordered), a duplicate or another connection's message.
pub fn check_echo(
    data: &[u8],
    size: usize,
    id: u32,
    acked: &mut u64,
    sent: u64,
    mismatches: &mut u64,
) -> Option<u64> {
    match payload::verify_echo(data, size, seq_of(id, *acked)) {
        Ok(_) => {
            *acked += 1;
            Some(*acked - 1)
        }
        Err(payload::Mismatch::Sequence) => {
            let (conn, c) = payload::split_seq(payload::verify(data).ok()?);
            *mismatches += 1;
            if conn == id && c > *acked && c < sent {
                // Messages in between were skipped: count them, resynchronise.
                *mismatches += c - *acked - 1;
                *acked = c + 1;
                Some(c)
            } else {
                None
            }
        }
        Err(_) => {
            // Corrupted: assume it stood for the message expected next.
            *mismatches += 1;
            *acked += 1;
            None
        }
    }
}

pub(super) struct ConnIo {
    pub(super) stream: TcpStream,
    /// The TLS session for `wss://` (`None`: plain, the direct path).
    pub(super) tls: Option<Box<rustls::ClientConnection>>,
    pub(super) reader: Reader,
    pub(super) wbuf: Vec<u8>,
    pub(super) wpos: usize,
    pub(super) key: [u8; 4],
}

impl ConnIo {
    pub(super) fn new(link: client::Link, reader_capacity: usize, wbuf_capacity: usize) -> ConnIo {
        ConnIo {
            stream: link.tcp,
            tls: link.tls,
            reader: Reader::new(reader_capacity, &link.rest, 64 << 20),
            wbuf: Vec::with_capacity(wbuf_capacity),
            wpos: 0,
            key: rand::random(),
        }
    }

    /// Unsent octets (for TLS, plus one while rustls holds records).
    pub(super) fn pending(&self) -> usize {
        let tls = self.tls.as_ref().is_some_and(|t| t.wants_write());
        self.wbuf.len() - self.wpos + tls as usize
    }

    /// Writes what the socket takes without blocking.
    pub(super) fn flush(&mut self) -> io::Result<()> {
        if let Some(tls) = self.tls.as_mut() {
            return flush_tls(tls, &self.stream, &mut self.wbuf, &mut self.wpos);
        }
        while self.wpos < self.wbuf.len() {
            match self.stream.try_write(&self.wbuf[self.wpos..]) {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "socket closed")),
                Ok(n) => self.wpos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        if self.wpos == self.wbuf.len() {
            self.wbuf.clear();
            self.wpos = 0;
        }
        Ok(())
    }

    /// Reads until the socket is drained, handing each data message to `on`
    /// with the time it was decoded; answers pings.
    pub(super) fn read_all(
        &mut self,
        mut on: impl FnMut(&[u8], u64),
        base: Instant,
    ) -> Result<(), String> {
        if self.tls.is_some() {
            return self.read_all_tls(on, base);
        }
        let mut drained = false;
        while !drained {
            match self.reader.read_some(&self.stream) {
                Ok((0, _)) => return Err("the server closed the TCP connection".into()),
                Ok((_, d)) => drained = d,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(format!("read: {e}")),
            }
            self.decode(&mut on, ns_since(base))?;
        }
        Ok(())
    }

    /// The TLS path: records from the socket into rustls until the socket
    /// would block, plaintext from rustls into the frame reader.
    fn read_all_tls(
        &mut self,
        mut on: impl FnMut(&[u8], u64),
        base: Instant,
    ) -> Result<(), String> {
        loop {
            let tls = self.tls.as_mut().expect("TLS path");
            let (eof, drained) = match tls.read_tls(&mut client::TryIo(&self.stream)) {
                Ok(0) => (true, true),
                Ok(_) => (false, false),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => (false, true),
                Err(e) => return Err(format!("read: {e}")),
            };
            tls.process_new_packets().map_err(|e| format!("TLS: {e}"))?;
            let mut closed = false;
            loop {
                match self.reader.read_from(&mut tls.reader()) {
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(_) => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        closed = true;
                        break;
                    }
                    Err(e) => return Err(format!("TLS read: {e}")),
                }
            }
            self.decode(&mut on, ns_since(base))?;
            if eof || closed {
                return Err("the server closed the TCP connection".into());
            }
            if drained {
                return Ok(());
            }
        }
    }

    fn decode(&mut self, on: &mut impl FnMut(&[u8], u64), now: u64) -> Result<(), String> {
        loop {
            match self.reader.next_frame()? {
                None => return Ok(()),
                Some(Incoming::Message { data, .. }) => on(data, now),
                Some(Incoming::Ping(p)) => {
                    let p = p.to_vec();
                    client::push_pong(&mut self.wbuf, &p, self.key);
                }
                Some(Incoming::Pong) => {}
                Some(Incoming::Close(code)) => {
                    return Err(format!(
                        "the server closed the connection (code {})",
                        crate::wire::CloseCode(code)
                    ));
                }
            }
        }
    }

    /// Sends a close frame with `code` as far as the socket takes it now
    /// (a polite close that does not wait for the answer).
    pub(super) fn close_now(&mut self, code: u16) {
        self.wbuf.clear();
        self.wpos = 0;
        client::push_close(&mut self.wbuf, code, self.key);
        if let Some(t) = self.tls.as_mut() {
            t.send_close_notify();
        }
        let _ = self.flush();
    }
}

/// Plaintext into the TLS session (rustls bounds what it buffers), records
/// out to the socket until it would block.
fn flush_tls(
    tls: &mut rustls::ClientConnection,
    stream: &TcpStream,
    wbuf: &mut Vec<u8>,
    wpos: &mut usize,
) -> io::Result<()> {
    use std::io::Write;
    loop {
        if *wpos < wbuf.len() {
            *wpos += tls.writer().write(&wbuf[*wpos..])?;
        }
        let mut blocked = false;
        while tls.wants_write() {
            match tls.write_tls(&mut client::TryIo(stream)) {
                Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "socket closed")),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    blocked = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if *wpos == wbuf.len() {
            wbuf.clear();
            *wpos = 0;
            return Ok(());
        }
        if blocked {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(
        mode: &'static str,
        target: f64,
        achieved: f64,
        client: f64,
        server: Option<f64>,
    ) -> LoadReport {
        LoadReport {
            url: "ws://x".into(),
            mode,
            connections: 1,
            connected: 1,
            connection_failures: 0,
            rate_per_connection: target,
            target_rate: target,
            duration_s: 1.0,
            size: 64,
            binary: false,
            sent: 0,
            received: 0,
            achieved_rate: achieved,
            errors: 0,
            mismatches: 0,
            unanswered: 0,
            latency: Latency::default(),
            latency_curve: vec![],
            throughput: Throughput::default(),
            client_cpu_cores: client,
            client_threads: 1,
            server_pid: None,
            server_cpu_cores: server,
            machine_busy: None,
            error_samples: vec![],
            warnings: vec![],
        }
    }

    #[test]
    fn echo_checks_count_corruption_loss_reordering_and_strangers() {
        let t = Template::new(1, 40);
        let p = |c: u64| t.payload(seq_of(1, c));
        let (mut acked, mut m) = (0u64, 0u64);
        // In order.
        assert_eq!(check_echo(&p(0), 40, 1, &mut acked, 10, &mut m), Some(0));
        assert_eq!((acked, m), (1, 0));
        // Message 1 lost, 2 arrives: one mismatch for the hole, 2 is still timed.
        assert_eq!(check_echo(&p(2), 40, 1, &mut acked, 10, &mut m), Some(2));
        assert_eq!((acked, m), (3, 1));
        // A late duplicate of 2: a mismatch, nothing advances.
        assert_eq!(check_echo(&p(2), 40, 1, &mut acked, 10, &mut m), None);
        assert_eq!((acked, m), (3, 2));
        // Corrupted copy of 3: a mismatch, 3 counts as answered.
        let mut bad = p(3);
        bad[30] ^= 1;
        assert_eq!(check_echo(&bad, 40, 1, &mut acked, 10, &mut m), None);
        assert_eq!((acked, m), (4, 3));
        // Another connection's message.
        let other = Template::new(2, 40).payload(seq_of(2, 4));
        assert_eq!(check_echo(&other, 40, 1, &mut acked, 10, &mut m), None);
        assert_eq!((acked, m), (4, 4));
        // A message never sent (beyond `sent`).
        assert_eq!(check_echo(&p(50), 40, 1, &mut acked, 10, &mut m), None);
        assert_eq!((acked, m), (4, 5));
        assert_eq!(check_echo(&p(4), 40, 1, &mut acked, 10, &mut m), Some(4));
    }

    #[test]
    fn bottleneck_warnings_name_the_culprit() {
        assert!(bottleneck_warnings(&report("open", 1000.0, 1000.0, 0.2, Some(0.3))).is_empty());
        let w = bottleneck_warnings(&report("open", 1000.0, 500.0, 0.95, Some(0.3)));
        assert!(w.iter().any(|w| w.contains("wsgen itself")), "{w:?}");
        assert!(
            w.iter()
                .any(|w| w.contains("load generator is the bottleneck")),
            "{w:?}"
        );
        let w = bottleneck_warnings(&report("open", 1000.0, 500.0, 0.3, Some(1.0)));
        assert!(w.iter().any(|w| w.contains("server is saturated")), "{w:?}");
        assert!(bottleneck_warnings(&report("closed", 0.0, 500.0, 0.3, None)).is_empty());
    }
}

/// A report of `samples` latencies (µs), one per millisecond, for tests of
/// what renders reports.
#[cfg(test)]
pub(crate) fn sample_report(url: &str, samples: &[u64]) -> LoadReport {
    use super::stats::{Recorder, Shared, latency_curve};
    use super::timeline::Timeline;
    let shared = Shared::default();
    shared
        .timeline
        .set(Timeline::new(0, Duration::from_secs(2), Duration::ZERO))
        .unwrap();
    let mut rec = Recorder::new(0);
    for (i, &us) in samples.iter().enumerate() {
        rec.record_at(&shared, i as u64 * 1_000_000, us * 1_000);
    }
    rec.flush(&shared);
    let h = shared.histogram();
    LoadReport {
        url: url.into(),
        mode: "open",
        connections: 4,
        connected: 4,
        connection_failures: 0,
        rate_per_connection: 100.0,
        target_rate: 400.0,
        duration_s: 2.0,
        size: 64,
        binary: false,
        sent: samples.len() as u64,
        received: samples.len() as u64,
        achieved_rate: samples.len() as f64 / 2.0,
        errors: 0,
        mismatches: 0,
        unanswered: 0,
        latency: Latency::from_histogram(&h),
        latency_curve: latency_curve(&h),
        throughput: shared.timeline.get().unwrap().report(),
        client_cpu_cores: 0.1,
        client_threads: 1,
        server_pid: Some(42),
        server_cpu_cores: Some(0.2),
        machine_busy: None,
        error_samples: vec!["connection 3: <b>boom</b>".into()],
        warnings: vec!["a & b".into()],
    }
}
