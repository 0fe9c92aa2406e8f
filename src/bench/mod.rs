//! `wsgen bench`: a WebSocket load generator that is never the bottleneck,
//! and the benchmark table of the generated servers against hand-written
//! baselines.
//!
//! - [`load`]: N connections at R messages/s each (open loop, latency from
//!   the intended send time, coordinated omission corrected) or closed loop;
//!   every echo checked ([`payload`]).
//! - [`client`]: the lean client path (pre-encoded masked frames, an
//!   in-place decoder) on top of [`crate::wire`]'s handshake.
//! - [`idle`]: many idle connections, for server memory per connection.
//! - [`chat`]: chat-v1 fan-out (one room, many members, a few senders).
//! - [`suite`]: boot each generated server and baseline, run all of the
//!   above, print the comparison table.

pub mod chat;
pub mod client;
pub mod handshake;
pub mod idle;
pub mod load;
pub mod payload;
pub mod plot;
pub mod report;
pub mod schedule;
pub mod stats;
pub mod suite;
pub mod sys;
pub mod timeline;

pub use load::{LoadConfig, LoadReport};

/// Parses `60s`, `2m`, `500ms`, `1h`, `1.5s` or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let (num, mult) = if let Some(n) = t.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = t.strip_suffix("us") {
        (n, 1e-6)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (t, 1.0)
    };
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("bad duration {s:?}: use e.g. 60s, 2m, 500ms"))?;
    if !(v >= 0.0 && v.is_finite()) {
        return Err(format!("bad duration {s:?}: must be >= 0"));
    }
    Ok(std::time::Duration::from_secs_f64(v * mult))
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60s").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("10").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("-1s").is_err());
    }
}
