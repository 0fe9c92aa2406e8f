//! What the default conformance run scales, compared with `--full`
//! (Autobahn's counts): the message count of the 12.*/13.* cases of 256
//! octets and more, and nothing else. docs/conformance.md says why that cannot
//! change a verdict; these tests keep the suite to what that page says.

use wsgen::conformance::case::{Body, Load};
use wsgen::conformance::{Scale, perf};
use wsgen::wire::DeflateOffer;

const KI: usize = 1024;
const MI: usize = 1024 * KI;

fn loads(scale: Scale) -> Vec<(String, Load)> {
    perf::cases(scale)
        .into_iter()
        .map(|c| match c.body {
            Body::Load(l) => (c.id, l),
            _ => panic!("{} is not a load case", c.id),
        })
        .collect()
}

fn offers(l: &Load) -> Vec<String> {
    l.offers.iter().map(DeflateOffer::header_value).collect()
}

#[test]
fn the_default_run_scales_only_repetitions_of_compression_cases() {
    let quick = loads(Scale::Quick);
    let full = loads(Scale::Full);
    assert_eq!(quick.len(), 54 + 90 + 126);
    assert_eq!(quick.len(), full.len());
    for ((id, q), (full_id, f)) in quick.iter().zip(&full) {
        assert_eq!(id, full_id);
        assert_eq!(
            (
                q.binary,
                q.size,
                q.frag,
                q.chop,
                q.data,
                q.timeout,
                offers(q)
            ),
            (
                f.binary,
                f.size,
                f.frag,
                f.chop,
                f.data,
                f.timeout,
                offers(f)
            ),
            "{id}: only the message count may differ"
        );
        let compression = id.starts_with("12.") || id.starts_with("13.");
        if compression {
            assert_eq!(f.count, 1000, "{id}: --full sends Autobahn's count");
        }
        if !compression || q.size <= 64 {
            assert_eq!(q.count, f.count, "{id}: Autobahn's message count");
        } else {
            // Two 32 KiB deflate windows through one context, in at least 4 messages.
            assert!(q.count >= 4 && q.count < f.count, "{id}: {}", q.count);
            assert!(q.count * q.size >= 64 * KI, "{id}: {}", q.count);
        }
    }
}

/// Autobahn's fragment counts, message sizes and round trips, in the default run.
#[test]
fn the_default_run_keeps_autobahns_fragment_and_message_counts() {
    let quick = loads(Scale::Quick);
    let get = |id: &str| &quick.iter().find(|(i, _)| i == id).unwrap().1;
    for (id, frames) in [
        ("9.3.1", 65_536),
        ("9.3.2", 16_384),
        ("9.4.1", 65_536),
        ("9.4.2", 16_384),
        ("9.3.9", 1),
    ] {
        let l = get(id);
        assert_eq!(l.size, 4 * MI, "{id}");
        assert_eq!(l.size.div_ceil(l.frag), frames, "{id}");
    }
    assert_eq!(get("9.1.6").size, 16 * MI);
    assert_eq!(get("9.2.6").size, 16 * MI);
    assert_eq!(get("9.6.1").chop, 64);
    for id in [
        "9.7.1", "9.7.6", "9.8.6", "12.1.1", "12.5.1", "13.1.1", "13.7.1",
    ] {
        assert_eq!(get(id).count, 1000, "{id}");
    }
}
