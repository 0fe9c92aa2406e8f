//! Counters and latency histograms shared by the connection tasks, and the
//! report they add up to.
//!
//! Each task buffers a few hundred latencies and adds them to one of a few
//! sharded HdrHistograms under a short lock, so 100,000 messages per second
//! cost a handful of uncontended locks per second, not one per message.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use hdrhistogram::Histogram;
use serde::Serialize;

const SHARDS: usize = 8;
const BATCH: usize = 256;

/// A histogram of latencies in nanoseconds, 1 µs to 1 h, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1_000, 3_600_000_000_000, 3).expect("valid histogram bounds")
}

/// Counters updated by every connection task.
#[derive(Debug)]
pub struct Shared {
    pub connected: AtomicU64,
    pub connect_failures: AtomicU64,
    pub sent: AtomicU64,
    pub received: AtomicU64,
    /// Echoes received for messages inside the measurement window.
    pub measured: AtomicU64,
    pub mismatches: AtomicU64,
    pub errors: AtomicU64,
    pub unanswered: AtomicU64,
    shards: Vec<Mutex<Histogram<u64>>>,
    samples: Mutex<Vec<String>>,
}

impl Default for Shared {
    fn default() -> Self {
        Shared {
            connected: AtomicU64::new(0),
            connect_failures: AtomicU64::new(0),
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
            measured: AtomicU64::new(0),
            mismatches: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            unanswered: AtomicU64::new(0),
            shards: (0..SHARDS).map(|_| Mutex::new(new_histogram())).collect(),
            samples: Mutex::new(Vec::new()),
        }
    }
}

impl Shared {
    /// Keeps the first few error messages for the report.
    pub fn sample(&self, what: impl Into<String>) {
        if let Ok(mut s) = self.samples.lock()
            && s.len() < 8
        {
            s.push(what.into());
        }
    }

    pub fn samples(&self) -> Vec<String> {
        self.samples.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// All shards merged.
    pub fn histogram(&self) -> Histogram<u64> {
        let mut h = new_histogram();
        for s in &self.shards {
            if let Ok(s) = s.lock() {
                let _ = h.add(&*s);
            }
        }
        h
    }
}

/// A connection's latency buffer, flushed into a shard when full.
pub struct Recorder {
    vals: Vec<u64>,
    shard: usize,
}

impl Recorder {
    pub fn new(conn: usize) -> Recorder {
        Recorder {
            vals: Vec::with_capacity(BATCH),
            shard: conn % SHARDS,
        }
    }

    pub fn record(&mut self, shared: &Shared, ns: u64) {
        self.vals.push(ns);
        if self.vals.len() >= BATCH {
            self.flush(shared);
        }
    }

    pub fn flush(&mut self, shared: &Shared) {
        if self.vals.is_empty() {
            return;
        }
        if let Ok(mut h) = shared.shards[self.shard].lock() {
            for &v in &self.vals {
                h.saturating_record(v);
            }
        }
        shared.measured.fetch_add(self.vals.len() as u64, Relaxed);
        self.vals.clear();
    }
}

/// Latency percentiles in microseconds.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Latency {
    pub count: u64,
    pub mean_us: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub max_us: f64,
}

impl Latency {
    pub fn from_histogram(h: &Histogram<u64>) -> Latency {
        if h.is_empty() {
            return Latency::default();
        }
        let us = |ns: u64| ns as f64 / 1_000.0;
        Latency {
            count: h.len(),
            mean_us: h.mean() / 1_000.0,
            p50_us: us(h.value_at_quantile(0.50)),
            p90_us: us(h.value_at_quantile(0.90)),
            p99_us: us(h.value_at_quantile(0.99)),
            p999_us: us(h.value_at_quantile(0.999)),
            max_us: us(h.max()),
        }
    }
}

/// Human form of a duration in microseconds: `85us`, `1.23ms`, `2.50s`.
pub fn fmt_us(us: f64) -> String {
    if us < 1_000.0 {
        format!("{us:.0}us")
    } else if us < 1_000_000.0 {
        format!("{:.2}ms", us / 1_000.0)
    } else {
        format!("{:.2}s", us / 1_000_000.0)
    }
}

/// `1234567` -> `1,234,567`.
pub fn fmt_int(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_batches_into_histograms_exactly() {
        let shared = Shared::default();
        let mut recs: Vec<Recorder> = (0..3).map(Recorder::new).collect();
        // 1..=10,000 µs, spread over three connections.
        for v in 1..=10_000u64 {
            recs[(v % 3) as usize].record(&shared, v * 1_000);
        }
        for r in &mut recs {
            r.flush(&shared);
        }
        let h = shared.histogram();
        assert_eq!(h.len(), 10_000);
        assert_eq!(shared.measured.load(Relaxed), 10_000);
        let l = Latency::from_histogram(&h);
        // 3 significant digits: within 0.1%.
        let close = |a: f64, b: f64| (a - b).abs() / b < 0.001;
        assert!(close(l.p50_us, 5_000.0), "{l:?}");
        assert!(close(l.p90_us, 9_000.0), "{l:?}");
        assert!(close(l.p99_us, 9_900.0), "{l:?}");
        assert!(close(l.p999_us, 9_990.0), "{l:?}");
        assert!(close(l.max_us, 10_000.0), "{l:?}");
        assert!(close(l.mean_us, 5_000.5), "{l:?}");
    }

    #[test]
    fn out_of_range_values_saturate_instead_of_failing() {
        let shared = Shared::default();
        let mut r = Recorder::new(0);
        r.record(&shared, 5); // below 1 µs
        r.record(&shared, u64::MAX);
        r.flush(&shared);
        assert_eq!(shared.histogram().len(), 2);
    }

    #[test]
    fn formatting() {
        assert_eq!(fmt_int(1_234_567), "1,234,567");
        assert_eq!(fmt_int(12), "12");
        assert_eq!(fmt_us(85.2), "85us");
        assert_eq!(fmt_us(1_234.0), "1.23ms");
        assert_eq!(fmt_us(2_500_000.0), "2.50s");
    }
}
