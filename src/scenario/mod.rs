//! Scenario suites: declarative YAML files in `generated-tests/` played over
//! the wire against every language's output of a spec (docs/scenarios.md).
//!
//! - [`load`]: YAML -> checked [`model`], errors located like spec errors;
//! - [`pattern`]: string and JSON matching;
//! - [`placeholder`]: what `${spec.<path>}` and `${contract.<field>}` expand to;
//! - [`engine`]: plays session scenarios and start-up checks;
//! - [`cluster`]: several instances on one Redis (`backplane: redis`);
//! - [`verify`]: `wsgen verify`: generate, build, boot, run every suite
//!   (handshake, conformance, scenarios, shutdown), report a matrix.

pub mod cluster;
pub mod engine;
pub mod load;
pub mod material;
pub mod mcp_smoke;
pub mod model;
pub mod observe;
pub mod pattern;
pub mod placeholder;
pub mod procs;
pub mod regex;
pub mod verify;
pub mod verify_cluster;

pub use load::{load_dir, load_file, parse_str};
pub use model::*;

use std::path::PathBuf;
use std::time::Duration;

/// How long an expectation waits when the step gives no `within`.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(10);

/// The shipped scenario folder (`generated-tests/` of this crate).
pub fn default_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("generated-tests")
}

/// `n` deterministic octets: lowercase letters and spaces for text (mildly
/// compressible, like prose), any octet for binary. The same `n` always
/// gives the same bytes, so a scenario can expect exactly what it sent.
pub fn generated(n: usize, text: bool) -> Vec<u8> {
    const LETTERS: &[u8; 32] = b"etaoinshrdlucmfwypvbgkjqxz      ";
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if text {
                LETTERS[(x >> 59) as usize]
            } else {
                (x >> 56) as u8
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_payloads_are_deterministic() {
        assert_eq!(super::generated(64, true), super::generated(64, true));
        assert_eq!(
            &super::generated(100, true)[..64],
            &super::generated(64, true)[..]
        );
        assert!(
            super::generated(1000, true)
                .iter()
                .all(|b| b.is_ascii_lowercase() || *b == b' ')
        );
        let b = super::generated(4096, false);
        assert!(b.iter().any(|&x| x > 127));
    }
}
