//! Counters and latency histograms shared by the connection tasks, and the
//! report they add up to.
//!
//! Each task buffers a few hundred latencies and adds them to one of a few
//! sharded HdrHistograms under a short lock, so 100,000 messages per second
//! cost a handful of uncontended locks per second, not one per message.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, OnceLock};

use hdrhistogram::Histogram;
use serde::Serialize;

use super::timeline::Timeline;

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
    /// Measured messages per interval of receive time; set when the
    /// window is fixed, before any message is measured.
    pub timeline: OnceLock<Timeline>,
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
            timeline: OnceLock::new(),
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

/// A connection's latency buffer, flushed into a shard when full, and its
/// count of measured messages in the current timeline interval.
pub struct Recorder {
    vals: Vec<u64>,
    shard: usize,
    slot: usize,
    slot_count: u64,
}

impl Recorder {
    pub fn new(conn: usize) -> Recorder {
        Recorder {
            vals: Vec::with_capacity(BATCH),
            shard: conn % SHARDS,
            slot: 0,
            slot_count: 0,
        }
    }

    /// Records a latency and counts the message in the timeline interval of
    /// `at_ns` (its receive time on the run's clock).
    pub fn record_at(&mut self, shared: &Shared, at_ns: u64, ns: u64) {
        if let Some(t) = shared.timeline.get() {
            let i = t.index(at_ns);
            if i != self.slot {
                t.add(self.slot, self.slot_count);
                self.slot = i;
                self.slot_count = 0;
            }
            self.slot_count += 1;
        }
        self.record(shared, ns);
    }

    pub fn record(&mut self, shared: &Shared, ns: u64) {
        self.vals.push(ns);
        if self.vals.len() >= BATCH {
            self.flush(shared);
        }
    }

    pub fn flush(&mut self, shared: &Shared) {
        if let Some(t) = shared.timeline.get() {
            t.add(self.slot, self.slot_count);
            self.slot_count = 0;
        }
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

/// One point of the latency percentile distribution.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct CurvePoint {
    /// 0 to 100; 100 is the maximum.
    pub percentile: f64,
    pub latency_us: f64,
}

/// Points per decade of 1/(1-p) in [`latency_curve`].
const CURVE_STEPS: u32 = 10;

/// The percentile distribution, HdrHistogram style: percentiles evenly
/// spaced on a log scale of 1/(1-p) (0, 20.6, 36.9, ... 90, ... 99, ...
/// 99.9, ...) up to the resolution of the data (1/(1-p) <= count), then the
/// maximum as percentile 100. Empty for an empty histogram.
pub fn latency_curve(h: &Histogram<u64>) -> Vec<CurvePoint> {
    if h.is_empty() {
        return Vec::new();
    }
    let us = |ns: u64| ns as f64 / 1_000.0;
    let decades = (h.len() as f64).log10();
    let last = (decades * CURVE_STEPS as f64 + 1e-9).floor() as u32;
    let mut out: Vec<CurvePoint> = (0..=last)
        .map(|i| {
            let q = 1.0 - 10f64.powf(-(i as f64) / CURVE_STEPS as f64);
            CurvePoint {
                percentile: 100.0 * q,
                latency_us: us(h.value_at_quantile(q)),
            }
        })
        .collect();
    out.push(CurvePoint {
        percentile: 100.0,
        latency_us: us(h.max()),
    });
    out
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
    fn the_curve_spans_the_data_and_ends_at_the_maximum() {
        assert!(latency_curve(&new_histogram()).is_empty());
        let mut one = new_histogram();
        one.record(5_000_000).unwrap();
        let c = latency_curve(&one);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].percentile, 0.0);
        assert_eq!(c[1].percentile, 100.0);
        let near = |v: f64| (v - 5_000.0).abs() / 5_000.0 < 0.001;
        assert!(near(c[0].latency_us) && near(c[1].latency_us), "{c:?}");
        let mut h = new_histogram();
        for v in 1..=1_000u64 {
            h.record(v * 1_000).unwrap();
        }
        let c = latency_curve(&h);
        // 0, then 10 points per decade up to 99.9 %, then the maximum.
        assert_eq!(c.len(), 32);
        assert!((c[10].percentile - 90.0).abs() < 1e-9, "{:?}", c[10]);
        assert!((c[30].percentile - 99.9).abs() < 1e-9, "{:?}", c[30]);
        assert!(
            c.windows(2)
                .all(|w| w[0].percentile < w[1].percentile && w[0].latency_us <= w[1].latency_us)
        );
        assert!(
            (c[10].latency_us - 900.0).abs() / 900.0 < 0.002,
            "{:?}",
            c[10]
        );
        assert!((c[31].latency_us - 1_000.0).abs() < 1.0);
    }

    #[test]
    fn the_timeline_counts_what_the_histogram_holds() {
        let shared = Shared::default();
        let base = 1_000_000u64;
        shared
            .timeline
            .set(Timeline::new(
                base,
                std::time::Duration::from_secs(1),
                std::time::Duration::ZERO,
            ))
            .unwrap();
        let mut a = Recorder::new(0);
        let mut b = Recorder::new(1);
        for k in 0..1_000u64 {
            // 100 ms intervals: receive times k ms after the window opened.
            let at = base + k * 1_000_000;
            if k % 2 == 0 { &mut a } else { &mut b }.record_at(&shared, at, 10_000);
        }
        a.flush(&shared);
        b.flush(&shared);
        let t = shared.timeline.get().unwrap().report();
        assert_eq!(t.counts, vec![100; 10]);
        assert_eq!(shared.histogram().len(), 1_000);
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
