//! Chat fan-out over chat-v1 (docs/protocol/chat-v1.md): M members join one
//! room, S of them send at R messages/s each (open loop); every member gets
//! every message. Reports deliveries per second and delivery latency from
//! each message's intended send time, and checks every delivery (payload
//! checksum, per-sender order, nothing lost).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::Serialize;
use tokio::io::Interest;
use tokio::sync::{Semaphore, watch};
use tokio::time::Instant;

use super::client::{self, FrameTemplate, Reader};
use super::load::{ConnIo, local_port, ns_since};
use super::payload::{self, Template, seq_of, split_seq};
use super::schedule::Schedule;
use super::stats::{CurvePoint, Latency, Recorder, Shared, fmt_int, fmt_us, latency_curve};
use super::sys::CpuSnapshot;
use super::timeline::{Throughput, Timeline};
use crate::wire::handshake::WsUrl;

#[derive(Debug, Clone)]
pub struct ChatConfig {
    pub url: String,
    /// Extra handshake headers (`--header`, `--origin`, `--token`).
    pub headers: Vec<(String, String)>,
    pub room: String,
    pub members: usize,
    pub senders: usize,
    /// Messages per second per sender.
    pub rate: f64,
    pub duration: Duration,
    /// Size of the self-checking text inside each message.
    pub size: usize,
    pub connect_timeout: Duration,
    pub drain: Duration,
    pub progress: bool,
    pub server_pid: Option<i32>,
    pub threads: usize,
}

impl Default for ChatConfig {
    fn default() -> Self {
        ChatConfig {
            url: String::new(),
            headers: Vec::new(),
            room: "main".into(),
            members: 1000,
            senders: 4,
            rate: 10.0,
            duration: Duration::from_secs(10),
            size: 64,
            connect_timeout: Duration::from_secs(30),
            drain: Duration::from_secs(5),
            progress: false,
            server_pid: None,
            threads: 1,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ChatReport {
    pub url: String,
    pub room: String,
    pub members: usize,
    pub joined: u64,
    pub join_failures: u64,
    pub senders: usize,
    pub rate_per_sender: f64,
    pub duration_s: f64,
    pub sent: u64,
    /// Deliveries of messages sent in the window (every member, sender included).
    pub deliveries: u64,
    pub expected_deliveries: u64,
    pub deliveries_per_sec: f64,
    pub lost: u64,
    pub mismatches: u64,
    pub errors: u64,
    pub server_error_replies: u64,
    pub latency: Latency,
    /// The delivery latency percentile distribution (for `--report`).
    pub latency_curve: Vec<CurvePoint>,
    /// Measured deliveries per interval of receive time.
    pub throughput: Throughput,
    pub client_cpu_cores: f64,
    pub server_cpu_cores: Option<f64>,
    pub machine_busy: Option<f64>,
    /// The server's RSS before the members connected, once they had joined,
    /// and its peak during the window (sampled every 100 ms), in KiB.
    pub server_rss_before_kib: Option<u64>,
    pub server_rss_joined_kib: Option<u64>,
    pub server_rss_peak_kib: Option<u64>,
    /// (peak - before) / members joined: what a member costs under load.
    pub rss_per_member_bytes: Option<f64>,
    pub error_samples: Vec<String>,
    pub warnings: Vec<String>,
}

impl ChatReport {
    pub fn render(&self) -> String {
        let l = &self.latency;
        let mut s = format!("wsgen bench --chat {} (room {:?})\n", self.url, self.room);
        let row = |s: &mut String, k: &str, v: String| s.push_str(&format!("  {k:<22} {v}\n"));
        row(
            &mut s,
            "members",
            format!("{} joined, {} failed", self.joined, self.join_failures),
        );
        row(
            &mut s,
            "senders",
            format!(
                "{} x {} msg/s for {:.1}s ({} sent)",
                self.senders,
                self.rate_per_sender,
                self.duration_s,
                fmt_int(self.sent)
            ),
        );
        row(
            &mut s,
            "deliveries",
            format!(
                "{} /s ({} of {} expected, {} lost)",
                fmt_int(self.deliveries_per_sec as u64),
                fmt_int(self.deliveries),
                fmt_int(self.expected_deliveries),
                fmt_int(self.lost)
            ),
        );
        row(
            &mut s,
            "delivery latency",
            format!(
                "p50 {}  p90 {}  p99 {}  p99.9 {}  max {}",
                fmt_us(l.p50_us),
                fmt_us(l.p90_us),
                fmt_us(l.p99_us),
                fmt_us(l.p999_us),
                fmt_us(l.max_us)
            ),
        );
        row(
            &mut s,
            "errors",
            format!(
                "{} errors, {} mismatches, {} server error replies",
                self.errors, self.mismatches, self.server_error_replies
            ),
        );
        let server = self
            .server_cpu_cores
            .map(|c| format!(", server {:.0}%", c * 100.0))
            .unwrap_or_default();
        let machine = self
            .machine_busy
            .map(|m| format!(", machine {:.0}% busy", m * 100.0))
            .unwrap_or_default();
        row(
            &mut s,
            "cpu",
            format!(
                "wsgen {:.0}%{server}{machine}",
                self.client_cpu_cores * 100.0
            ),
        );
        if let (Some(before), Some(joined), Some(peak), Some(per)) = (
            self.server_rss_before_kib,
            self.server_rss_joined_kib,
            self.server_rss_peak_kib,
            self.rss_per_member_bytes,
        ) {
            row(
                &mut s,
                "server memory",
                format!(
                    "RSS {:.1} MB before, {:.1} MB joined, {:.1} MB peak under load: {:.1} KB per member",
                    before as f64 / 1024.0,
                    joined as f64 / 1024.0,
                    peak as f64 / 1024.0,
                    per / 1024.0
                ),
            );
        }
        for e in &self.error_samples {
            s.push_str(&format!("  error: {e}\n"));
        }
        for w in &self.warnings {
            s.push_str(&format!("  warning: {w}\n"));
        }
        s
    }
}

/// The string value of `"key"` in a flat JSON object, if it holds no escapes
/// (our payloads never do). Tolerates whitespace around the colon, as
/// `json.dumps` and friends emit.
pub fn json_str<'a>(obj: &'a [u8], key: &str) -> Option<&'a [u8]> {
    let pat = format!("\"{key}\"");
    let pat = pat.as_bytes();
    let mut from = 0;
    while let Some(i) = find(&obj[from..], pat) {
        let mut j = from + i + pat.len();
        while j < obj.len() && obj[j].is_ascii_whitespace() {
            j += 1;
        }
        if j < obj.len() && obj[j] == b':' {
            j += 1;
            while j < obj.len() && obj[j].is_ascii_whitespace() {
                j += 1;
            }
            if j < obj.len() && obj[j] == b'"' {
                let start = j + 1;
                let end = start + obj[start..].iter().position(|&c| c == b'"' || c == b'\\')?;
                if obj[end] == b'\\' {
                    return None;
                }
                return Some(&obj[start..end]);
            }
            return None;
        }
        from = from + i + 1;
    }
    None
}

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: u64,
    end: u64,
    drain_end: u64,
}

struct Counters {
    joined: AtomicU64,
    join_failures: AtomicU64,
    server_errors: AtomicU64,
}

pub async fn run(cfg: &ChatConfig) -> Result<ChatReport, String> {
    let url = WsUrl::parse(&cfg.url).map_err(|e| e.to_string())?;
    if cfg.senders == 0 || cfg.senders > cfg.members || cfg.rate <= 0.0 {
        return Err("chat bench needs 1 <= --senders <= --connections and --rate > 0".into());
    }
    let server_pid = cfg
        .server_pid
        .or_else(|| local_port(&url).and_then(super::sys::listener_pid));
    let rss = || server_pid.and_then(super::sys::proc_rss_kib);
    let rss_before = rss();
    let shared = Arc::new(Shared::default());
    let counters = Arc::new(Counters {
        joined: AtomicU64::new(0),
        join_failures: AtomicU64::new(0),
        server_errors: AtomicU64::new(0),
    });
    let base = Instant::now();
    let (go_tx, go_rx) = watch::channel::<Option<Window>>(None);
    let sem = Arc::new(Semaphore::new(64));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..cfg.members {
        let (shared, counters, go, sem, url, cfg) = (
            shared.clone(),
            counters.clone(),
            go_rx.clone(),
            sem.clone(),
            url.clone(),
            cfg.clone(),
        );
        tasks.spawn(async move { member(i, cfg, url, base, shared, counters, go, sem).await });
    }
    drop(go_rx);
    let deadline =
        Instant::now() + cfg.connect_timeout + Duration::from_secs(cfg.members as u64 / 20 + 10);
    loop {
        let done = counters.joined.load(Relaxed) + counters.join_failures.load(Relaxed);
        if done >= cfg.members as u64 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if cfg.progress {
        eprintln!(
            "chat: {} members joined, {} failed",
            counters.joined.load(Relaxed),
            counters.join_failures.load(Relaxed)
        );
    }
    // Let presence storms settle before the window opens.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_joined = rss();
    let start = ns_since(base) + 2_000_000;
    let end = start + cfg.duration.as_nanos() as u64;
    let _ = shared
        .timeline
        .set(Timeline::new(start, cfg.duration, cfg.drain));
    let _ = go_tx.send(Some(Window {
        start,
        end,
        drain_end: end + cfg.drain.as_nanos() as u64,
    }));
    tokio::time::sleep_until(base + Duration::from_nanos(start)).await;
    let cpu0 = CpuSnapshot::take(server_pid);
    let mut rss_peak = rss_joined;
    let window_end = base + Duration::from_nanos(end);
    while Instant::now() < window_end {
        tokio::time::sleep_until((Instant::now() + Duration::from_millis(100)).min(window_end))
            .await;
        rss_peak = rss_peak.max(rss());
    }
    let cpu1 = CpuSnapshot::take(server_pid);
    while tasks.join_next().await.is_some() {}
    let (own, server_cores, machine) = cpu1.usage_since(&cpu0);
    let sent = shared.sent.load(Relaxed);
    let joined = counters.joined.load(Relaxed);
    let deliveries = shared.measured.load(Relaxed);
    let expected = sent * joined;
    let secs = cfg.duration.as_secs_f64();
    let hist = shared.histogram();
    let mut r = ChatReport {
        url: cfg.url.clone(),
        room: cfg.room.clone(),
        members: cfg.members,
        joined,
        join_failures: counters.join_failures.load(Relaxed),
        senders: cfg.senders,
        rate_per_sender: cfg.rate,
        duration_s: secs,
        sent,
        deliveries,
        expected_deliveries: expected,
        deliveries_per_sec: deliveries as f64 / secs,
        lost: expected.saturating_sub(deliveries),
        mismatches: shared.mismatches.load(Relaxed),
        errors: shared.errors.load(Relaxed),
        server_error_replies: counters.server_errors.load(Relaxed),
        latency: Latency::from_histogram(&hist),
        latency_curve: latency_curve(&hist),
        throughput: shared
            .timeline
            .get()
            .map(Timeline::report)
            .unwrap_or_default(),
        client_cpu_cores: own,
        server_cpu_cores: server_cores,
        machine_busy: machine,
        server_rss_before_kib: rss_before,
        server_rss_joined_kib: rss_joined,
        server_rss_peak_kib: rss_peak,
        rss_per_member_bytes: match (rss_before, rss_peak) {
            (Some(b), Some(p)) if joined > 0 => {
                Some(p.saturating_sub(b) as f64 * 1024.0 / joined as f64)
            }
            _ => None,
        },
        error_samples: shared.samples(),
        warnings: Vec::new(),
    };
    if own > 0.85 * cfg.threads.max(1) as f64 {
        r.warnings.push(format!(
            "wsgen itself used {:.0}% CPU: it may be the bottleneck",
            own * 100.0
        ));
    }
    if r.lost > 0 {
        r.warnings
            .push(format!("{} deliveries never arrived", fmt_int(r.lost)));
    }
    Ok(r)
}

#[allow(clippy::too_many_arguments)]
async fn member(
    i: usize,
    cfg: ChatConfig,
    url: WsUrl,
    base: Instant,
    shared: Arc<Shared>,
    counters: Arc<Counters>,
    mut go: watch::Receiver<Option<Window>>,
    sem: Arc<Semaphore>,
) {
    let fail = |e: String| {
        counters.join_failures.fetch_add(1, Relaxed);
        shared.sample(format!("member {i}: {e}"));
    };
    let permit = sem.acquire().await;
    let (stream, rest) = match client::connect(&url, cfg.connect_timeout, &cfg.headers).await {
        Ok(x) => x,
        Err(e) => return fail(e),
    };
    let key: [u8; 4] = rand::random();
    let mut io = ConnIo {
        stream,
        tls: None,
        reader: Reader::new(16 * 1024, &rest, 64 << 20),
        wbuf: Vec::new(),
        wpos: 0,
        key,
    };
    let join = format!(
        "{{\"type\":\"join\",\"room\":\"{}\",\"user\":\"u{i}\"}}",
        cfg.room
    );
    client::push_frame(&mut io.wbuf, crate::wire::OP_TEXT, join.as_bytes(), key);
    if let Err(e) = io.flush() {
        return fail(e.to_string());
    }
    // Read until `joined` (presence and history may come first).
    let join_deadline = Instant::now() + cfg.connect_timeout;
    let mut joined = false;
    let mut err = None;
    while !joined {
        let ready =
            tokio::time::timeout_at(join_deadline, io.stream.ready(Interest::READABLE)).await;
        if ready.is_err() {
            return fail("no `joined` reply".into());
        }
        let r = io.read_all(
            |data, _| match json_str(data, "type") {
                Some(b"joined") => joined = true,
                Some(b"error") => err = Some(String::from_utf8_lossy(data).into_owned()),
                _ => {}
            },
            base,
        );
        if let Err(e) = r {
            return fail(e);
        }
        if let Some(e) = err.take() {
            return fail(format!("join answered {e}"));
        }
        let _ = io.flush();
    }
    drop(permit);
    counters.joined.fetch_add(1, Relaxed);
    // Keep reading (presence events) until the window opens.
    let w = loop {
        if let Some(w) = *go.borrow() {
            break w;
        }
        tokio::select! {
            r = go.changed() => if r.is_err() { return },
            _ = io.stream.ready(Interest::READABLE) => {
                if let Err(e) = io.read_all(|_, _| {}, base) {
                    shared.errors.fetch_add(1, Relaxed);
                    shared.sample(format!("member {i} before start: {e}"));
                    return;
                }
                let _ = io.flush();
            }
        }
    };
    drop(go);
    let sender = i < cfg.senders;
    let count = cfg.senders;
    // Every member knows every sender's schedule: a delivery's latency is
    // measured from its message's intended send time.
    let schedules: Vec<Schedule> = (0..count)
        .map(|s| Schedule::spread(w.start, cfg.rate, s, count))
        .collect();
    let end_k: Vec<u64> = schedules.iter().map(|s| s.count_before(w.end)).collect();
    let expected_total: u64 = end_k.iter().sum();
    let mut next_from = vec![0u64; count];
    let prefix = format!(
        "{{\"type\":\"message\",\"room\":\"{}\",\"text\":\"",
        cfg.room
    );
    let ft = FrameTemplate::wrapped(
        Template::new(i as u32, cfg.size),
        prefix.as_bytes(),
        b"\"}",
        false,
        key,
    );
    let mut rec = Recorder::new(i);
    let mut k = 0u64;
    let mut got = 0u64;
    let mut mism = 0u64;
    let mut sent = 0u64;
    let sleep = tokio::time::sleep_until(base);
    tokio::pin!(sleep);
    let outcome: Result<(), String> = loop {
        let now = ns_since(base);
        if sender {
            let due = schedules[i].due(now).min(end_k[i]);
            while k < due {
                ft.push(seq_of(i as u32, k), &mut io.wbuf);
                k += 1;
                sent += 1;
            }
        }
        if let Err(e) = io.flush() {
            break Err(format!("write: {e}"));
        }
        if got >= expected_total || now >= w.drain_end {
            break Ok(());
        }
        let wake = if sender && k < end_k[i] {
            schedules[i].intended(k)
        } else {
            w.drain_end
        };
        sleep.as_mut().reset(base + Duration::from_nanos(wake));
        let interest = if io.pending() > 0 {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        tokio::select! {
            biased;
            ready = io.stream.ready(interest) => {
                let Ok(ready) = ready else { break Err("socket error".into()) };
                if ready.is_readable() {
                    let r = io.read_all(|data, now| {
                        match json_str(data, "type") {
                            Some(b"message") => {}
                            Some(b"error") => {
                                counters.server_errors.fetch_add(1, Relaxed);
                                shared.sample(format!("member {i}: {}", String::from_utf8_lossy(data)));
                                return;
                            }
                            _ => return,
                        }
                        let Some(text) = json_str(data, "text") else { mism += 1; return };
                        match payload::verify(text) {
                            Ok(seq) => {
                                let (s, c) = split_seq(seq);
                                let s = s as usize;
                                if s >= count || text.len() != cfg.size.max(payload::MIN_SIZE) {
                                    mism += 1;
                                    return;
                                }
                                // Going backwards is a duplicate or a reordering; a
                                // gap is a loss, which `lost` already counts.
                                if c < next_from[s] {
                                    mism += 1;
                                } else if c > next_from[s] {
                                    // Name the first losses, so one can be traced.
                                    shared.sample(format!(
                                        "member {i} got nothing from sender {s} between its messages {} and {}",
                                        next_from[s],
                                        c - 1
                                    ));
                                }
                                next_from[s] = next_from[s].max(c + 1);
                                got += 1;
                                let intended = schedules[s].intended(c);
                                if intended >= w.start && intended < w.end {
                                    rec.record_at(&shared, now, now.saturating_sub(intended));
                                }
                            }
                            Err(_) => mism += 1,
                        }
                    }, base);
                    if let Err(e) = r {
                        break Err(e);
                    }
                }
            }
            _ = &mut sleep => {}
        }
    };
    rec.flush(&shared);
    shared.sent.fetch_add(sent, Relaxed);
    shared.received.fetch_add(got, Relaxed);
    shared.mismatches.fetch_add(mism, Relaxed);
    if let Err(e) = outcome {
        shared.errors.fetch_add(1, Relaxed);
        shared.sample(format!("member {i}: {e}"));
    }
    io.wbuf.clear();
    io.wpos = 0;
    client::push_close(&mut io.wbuf, 1000, key);
    let _ = io.stream.try_write(&io.wbuf);
}

#[cfg(test)]
mod tests {
    use super::json_str;

    #[test]
    fn json_fields_with_and_without_spaces() {
        let a = br#"{"type":"message","room":"main","user":"u1","text":"abc","id":3,"ts":1}"#;
        assert_eq!(json_str(a, "type"), Some(&b"message"[..]));
        assert_eq!(json_str(a, "text"), Some(&b"abc"[..]));
        let b = br#"{"type": "message", "room": "main", "text": "x y", "id": 3}"#;
        assert_eq!(json_str(b, "text"), Some(&b"x y"[..]));
        assert_eq!(json_str(b, "user"), None);
        // A key that appears as a value first.
        let c = br#"{"user":"text","text":"ok"}"#;
        assert_eq!(json_str(c, "text"), Some(&b"ok"[..]));
        assert_eq!(json_str(br#"{"text":"a\"b"}"#, "text"), None);
    }
}
