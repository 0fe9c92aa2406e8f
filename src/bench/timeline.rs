//! Throughput over time: measured echoes (or chat deliveries) counted per
//! interval of receive time, from the opening of the measurement window to
//! the end of the drain.
//!
//! The buckets are allocated once, when the window is fixed. A connection's
//! [`super::stats::Recorder`] counts into its current bucket locally (receive
//! times only move forward on one connection) and adds the count to the
//! shared atomic when the bucket changes or the recorder flushes: one atomic
//! add per connection per interval, nothing per message but a compare.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use serde::Serialize;

/// Most buckets kept (a 1 h window at 1 s intervals, plus its drain).
const MAX_BUCKETS: usize = 4_000;

/// Interval lengths offered, in milliseconds.
const STEPS_MS: [u64; 12] = [
    100, 200, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 300_000, 600_000, 3_600_000,
];

/// The interval for a window: the shortest of [`STEPS_MS`] that gives at
/// most 60 intervals (100 ms for short runs, 1 s for a minute).
pub fn pick_interval(window: Duration) -> Duration {
    let ms = window.as_millis() as u64;
    let step = STEPS_MS
        .iter()
        .copied()
        .find(|&s| ms.div_ceil(s) <= 60)
        .unwrap_or(STEPS_MS[STEPS_MS.len() - 1]);
    Duration::from_millis(step)
}

/// Shared per-interval counters of one run.
#[derive(Debug)]
pub struct Timeline {
    start_ns: u64,
    interval_ns: u64,
    window_ns: u64,
    buckets: Vec<AtomicU64>,
}

impl Timeline {
    /// Buckets from `start_ns` (the window's opening, on the run's clock)
    /// over the window and the drain after it.
    pub fn new(start_ns: u64, window: Duration, drain: Duration) -> Timeline {
        let interval_ns = pick_interval(window).as_nanos() as u64;
        let span = (window + drain).as_nanos() as u64;
        let n = (span.div_ceil(interval_ns) as usize + 1).clamp(1, MAX_BUCKETS);
        Timeline {
            start_ns,
            interval_ns,
            window_ns: window.as_nanos() as u64,
            buckets: (0..n).map(|_| AtomicU64::new(0)).collect(),
        }
    }

    /// The bucket of a receive time (late ones go to the last bucket).
    pub fn index(&self, at_ns: u64) -> usize {
        ((at_ns.saturating_sub(self.start_ns) / self.interval_ns) as usize)
            .min(self.buckets.len() - 1)
    }

    pub fn add(&self, index: usize, count: u64) {
        if count > 0
            && let Some(b) = self.buckets.get(index)
        {
            b.fetch_add(count, Relaxed);
        }
    }

    /// The counts: every interval of the window, then the drain's up to its
    /// last non-empty one.
    pub fn report(&self) -> Throughput {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let in_window = (self.window_ns.div_ceil(self.interval_ns) as usize).min(counts.len());
        let last = counts.iter().rposition(|&c| c > 0).map_or(0, |i| i + 1);
        Throughput::from_counts(
            counts[..in_window.max(last)].to_vec(),
            self.interval_ns as f64 / 1e9,
            self.window_ns as f64 / 1e9,
        )
    }
}

/// Measured messages per interval of receive time (in the `--json` report).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Throughput {
    /// Length of one interval in seconds; interval i covers
    /// `[i * interval_s, (i + 1) * interval_s)` after the window opened.
    pub interval_s: f64,
    /// The measurement window; intervals past it are the drain (late echoes).
    pub window_s: f64,
    /// Messages received per interval (they add up to the latency count).
    pub counts: Vec<u64>,
    /// The same per second.
    pub per_second: Vec<f64>,
}

impl Throughput {
    pub fn from_counts(counts: Vec<u64>, interval_s: f64, window_s: f64) -> Throughput {
        let per_second = counts
            .iter()
            .map(|&c| {
                if interval_s > 0.0 {
                    c as f64 / interval_s
                } else {
                    0.0
                }
            })
            .collect();
        Throughput {
            interval_s,
            window_s,
            counts,
            per_second,
        }
    }

    /// `(middle of interval in seconds, messages per second)` per interval.
    pub fn points(&self) -> Vec<(f64, f64)> {
        self.per_second
            .iter()
            .enumerate()
            .map(|(i, &r)| ((i as f64 + 0.5) * self.interval_s, r))
            .collect()
    }

    /// Intervals inside the window.
    pub fn window_intervals(&self) -> usize {
        if self.interval_s > 0.0 {
            ((self.window_s / self.interval_s - 1e-9).ceil() as usize).min(self.counts.len())
        } else {
            0
        }
    }

    /// Messages received after the window closed (echoes of messages sent
    /// inside it).
    pub fn late(&self) -> u64 {
        self.counts[self.window_intervals()..].iter().sum()
    }

    /// The points worth plotting: the window's, and the drain's too when it
    /// holds more than 1% of the messages (a backlog being worked off, not
    /// just the last round trips).
    pub fn plot_points(&self) -> Vec<(f64, f64)> {
        let total: u64 = self.counts.iter().sum();
        let mut p = self.points();
        if self.late() * 100 <= total {
            p.truncate(self.window_intervals());
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_give_at_most_sixty_points() {
        let ms = |m: u64| pick_interval(Duration::from_millis(m)).as_millis();
        assert_eq!(ms(0), 100);
        assert_eq!(ms(2_000), 100);
        assert_eq!(ms(10_000), 200);
        assert_eq!(ms(60_000), 1_000);
        assert_eq!(ms(61_000), 2_000);
        assert_eq!(ms(3_600_000), 60_000);
        assert_eq!(ms(u64::MAX / 2), 3_600_000);
    }

    #[test]
    fn counts_land_in_their_interval_and_the_drain_is_trimmed() {
        let t = Timeline::new(1_000, Duration::from_secs(2), Duration::from_secs(5));
        // 100 ms intervals; 2 s window = 20 intervals; drain adds 50 more.
        t.add(t.index(1_000), 3); // first instant of the window
        t.add(t.index(1_000 + 150_000_000), 2);
        t.add(t.index(500), 1); // before the window: first interval
        t.add(t.index(1_000 + 2_050_000_000), 4); // drain, interval 20
        t.add(t.index(u64::MAX), 0); // nothing added
        let r = t.report();
        assert_eq!(r.interval_s, 0.1);
        assert_eq!(r.window_s, 2.0);
        assert_eq!(r.counts.len(), 21);
        assert_eq!(r.counts[0], 4);
        assert_eq!(r.counts[1], 2);
        assert_eq!(r.counts[20], 4);
        assert_eq!(r.counts.iter().sum::<u64>(), 10);
        assert_eq!(r.per_second[0], 40.0);
        assert_eq!(r.points()[1], (0.15000000000000002, 20.0));
        // 4 of 10 messages arrived after the window: the drain is plotted.
        assert_eq!(r.window_intervals(), 20);
        assert_eq!(r.late(), 4);
        assert_eq!(r.plot_points().len(), 21);
        // 1 of 101: it is not.
        let few = Throughput::from_counts(vec![50, 50, 1], 1.0, 2.0);
        assert_eq!((few.late(), few.plot_points().len()), (1, 2));
        // Late beyond the drain: the last bucket.
        t.add(t.index(u64::MAX), 1);
        assert_eq!(t.report().counts.len(), t.buckets.len());
    }

    #[test]
    fn an_empty_run_still_has_its_window_intervals() {
        let t = Timeline::new(0, Duration::from_secs(1), Duration::ZERO);
        let r = t.report();
        assert_eq!(r.counts, vec![0; 10]);
        let z = Timeline::new(0, Duration::ZERO, Duration::ZERO).report();
        assert!(z.counts.is_empty());
        assert!(z.points().is_empty());
    }
}
