//! The open-loop schedule: message `k` of a connection is *intended* to leave
//! at `start + offset + k / rate`, whatever happened to earlier messages.
//! Latency is measured from that intended time, so a stalled server is
//! charged for the messages that queued up behind the stall (coordinated
//! omission corrected, as wrk2 does).

/// Times are nanoseconds since the run's base instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub start_ns: u64,
    /// Messages per second (> 0).
    pub rate: f64,
    /// Spreads connections over one interval so they do not send in lockstep.
    pub offset_ns: u64,
}

impl Schedule {
    /// Schedule of connection `index` out of `count`, all starting at `start_ns`.
    pub fn spread(start_ns: u64, rate: f64, index: usize, count: usize) -> Schedule {
        let interval = 1e9 / rate;
        let offset_ns = (interval * index as f64 / count.max(1) as f64) as u64;
        Schedule {
            start_ns,
            rate,
            offset_ns,
        }
    }

    /// Intended send time of message `k`.
    pub fn intended(&self, k: u64) -> u64 {
        self.start_ns + self.offset_ns + (k as f64 * 1e9 / self.rate) as u64
    }

    /// How many messages are due at `now_ns` (those with intended time <= now).
    pub fn due(&self, now_ns: u64) -> u64 {
        let first = self.start_ns + self.offset_ns;
        if now_ns < first {
            return 0;
        }
        let mut n = ((now_ns - first) as f64 * self.rate / 1e9) as u64 + 1;
        // Float rounding: settle on the exact boundary.
        while n > 0 && self.intended(n - 1) > now_ns {
            n -= 1;
        }
        while self.intended(n) <= now_ns {
            n += 1;
        }
        n
    }

    /// How many messages have an intended time strictly before `end_ns`.
    pub fn count_before(&self, end_ns: u64) -> u64 {
        if end_ns == 0 {
            return 0;
        }
        self.due(end_ns - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intended_times_follow_the_rate() {
        let s = Schedule {
            start_ns: 1_000,
            rate: 100.0,
            offset_ns: 0,
        };
        assert_eq!(s.intended(0), 1_000);
        assert_eq!(s.intended(1), 1_000 + 10_000_000);
        assert_eq!(s.intended(100), 1_000 + 1_000_000_000);
        // Due counts: nothing before start, one at start, one more per interval.
        assert_eq!(s.due(999), 0);
        assert_eq!(s.due(1_000), 1);
        assert_eq!(s.due(1_000 + 9_999_999), 1);
        assert_eq!(s.due(1_000 + 10_000_000), 2);
        // A 60 s window holds exactly rate * 60 messages.
        assert_eq!(s.count_before(1_000 + 60_000_000_000), 6_000);
    }

    #[test]
    fn a_stall_makes_every_missed_message_due_at_once() {
        // The sender wakes late (a 250 ms stall): all messages whose intended
        // time passed are due, and each keeps its own intended time.
        let s = Schedule {
            start_ns: 0,
            rate: 1000.0,
            offset_ns: 0,
        };
        assert_eq!(s.due(250_000_000), 251);
        assert_eq!(s.intended(10), 10_000_000);
    }

    #[test]
    fn spread_offsets_cover_one_interval() {
        let n = 4;
        let offs: Vec<u64> = (0..n)
            .map(|i| Schedule::spread(0, 100.0, i, n).offset_ns)
            .collect();
        assert_eq!(offs, [0, 2_500_000, 5_000_000, 7_500_000]);
        // Fractional rates work too (one message every two seconds).
        let s = Schedule {
            start_ns: 0,
            rate: 0.5,
            offset_ns: 0,
        };
        assert_eq!(s.intended(3), 6_000_000_000);
        assert_eq!(s.count_before(6_000_000_000), 3);
    }

    #[test]
    fn due_is_exact_at_awkward_rates() {
        let s = Schedule {
            start_ns: 12_345,
            rate: 333.0,
            offset_ns: 777,
        };
        for k in 0..10_000u64 {
            let t = s.intended(k);
            assert_eq!(s.due(t), k + 1, "k={k}");
            assert_eq!(s.due(t - 1), k, "k={k}");
        }
    }
}
