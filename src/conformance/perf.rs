//! Category 9 (limits/performance) and categories 12 and 13
//! (permessage-deflate) as bulk echo workloads.
//!
//! Category 9 always runs at Autobahn's sizes, fragment sizes, chop sizes and
//! message counts: each of those can decide a verdict (a server's payload or
//! fragment-count limit, a frame-length class), and at these sizes the whole
//! category takes a second or two on loopback. The default run
//! ([`Scale::Quick`]) scales one thing only: how many messages the 12.* and
//! 13.* cases of 256 octets and more send (see [`count`]); `--full` sends
//! Autobahn's 1000 in all of them.

use std::time::Duration;

use super::case::{Body, Case, DataSource, Load};
use super::corpus::Corpus;
use crate::wire::DeflateOffer;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Fewer messages per compression case (12.*, 13.*); everything else as Autobahn.
    Quick,
    /// Autobahn's sizes and counts.
    Full,
}

const KI: usize = 1024;
const MI: usize = 1024 * 1024;

fn load_case(id: String, description: String, expectation: String, load: Load) -> Case {
    Case {
        id,
        description,
        expectation,
        body: Body::Load(load),
    }
}

pub fn cases(scale: Scale) -> Vec<Case> {
    let mut v = Vec::new();
    category9(&mut v);
    category12(&mut v, scale);
    category13(&mut v, scale);
    v
}

fn kind(binary: bool) -> &'static str {
    if binary { "binary" } else { "text" }
}

fn repeat(binary: bool) -> DataSource {
    DataSource::Repeat(if binary { 0xFE } else { b'*' })
}

fn fmt_size(n: usize) -> String {
    if n >= MI && n.is_multiple_of(MI) {
        format!("{}M", n / MI)
    } else if n >= KI && n.is_multiple_of(KI) {
        format!("{}k", n / KI)
    } else {
        n.to_string()
    }
}

/// Autobahn's category 9, unscaled in every mode.
fn category9(v: &mut Vec<Case>) {
    for (sub, binary) in [(1, false), (2, true)] {
        for (i, n) in [64 * KI, 256 * KI, MI, 4 * MI, 8 * MI, 16 * MI]
            .into_iter()
            .enumerate()
        {
            v.push(load_case(
                format!("9.{sub}.{}", i + 1),
                format!("Send {} message of length {}.", kind(binary), fmt_size(n)),
                format!(
                    "Receive echo'ed {} message (with payload as sent).",
                    kind(binary)
                ),
                Load {
                    binary,
                    size: n,
                    count: 1,
                    frag: 0,
                    chop: 0,
                    data: repeat(binary),
                    offers: vec![],
                    timeout: Duration::from_secs(100),
                },
            ));
        }
    }
    for (sub, binary) in [(3, false), (4, true)] {
        let size = 4 * MI;
        for (i, f) in [64, 256, KI, 4 * KI, 16 * KI, 64 * KI, 256 * KI, MI, 4 * MI]
            .into_iter()
            .enumerate()
        {
            v.push(load_case(
                format!("9.{sub}.{}", i + 1),
                format!(
                    "Send fragmented {} message of length {} with fragments of length {}.",
                    kind(binary),
                    fmt_size(size),
                    fmt_size(f)
                ),
                format!(
                    "Receive echo'ed {} message (with payload as sent).",
                    kind(binary)
                ),
                Load {
                    binary,
                    size,
                    count: 1,
                    frag: f,
                    chop: 0,
                    data: repeat(binary),
                    offers: vec![],
                    timeout: Duration::from_secs(100),
                },
            ));
        }
    }
    for (sub, binary) in [(5, false), (6, true)] {
        let size = MI;
        for (i, c) in [64, 128, 256, 512, 1024, 2048].into_iter().enumerate() {
            v.push(load_case(
                format!("9.{sub}.{}", i + 1),
                format!(
                    "Send {} message of length {} in chops of {} octets.",
                    kind(binary),
                    fmt_size(size),
                    c
                ),
                format!(
                    "Receive echo'ed {} message (with payload as sent).",
                    kind(binary)
                ),
                Load {
                    binary,
                    size,
                    count: 1,
                    frag: 0,
                    chop: c,
                    data: repeat(binary),
                    offers: vec![],
                    timeout: Duration::from_secs(100),
                },
            ));
        }
    }
    for (sub, binary) in [(7, false), (8, true)] {
        let count = 1000;
        for (i, n) in [0usize, 16, 64, 256, 1024, 4096].into_iter().enumerate() {
            v.push(load_case(
                format!("9.{sub}.{}", i + 1),
                format!("Send {count} {} messages of payload size {n} to measure implementation/network RTT (round trip time) / latency.", kind(binary)),
                format!("Receive echo'ed {} messages (with payload as sent).", kind(binary)),
                Load {
                    binary,
                    size: n,
                    count,
                    frag: 0,
                    chop: 0,
                    data: repeat(binary),
                    offers: vec![],
                    timeout: Duration::from_secs(60),
                },
            ));
        }
    }
}

/// Autobahn's MSG_SIZES: (payload length, auto-fragment size).
const MSG_SIZES: [(usize, usize); 18] = [
    (16, 0),
    (64, 0),
    (256, 0),
    (1024, 0),
    (4096, 0),
    (8192, 0),
    (16384, 0),
    (32768, 0),
    (65536, 0),
    (131072, 0),
    (8192, 256),
    (16384, 256),
    (32768, 256),
    (65536, 256),
    (131072, 256),
    (131072, 1024),
    (131072, 4096),
    (131072, 32768),
];

/// Autobahn's messages per compression case.
const AUTOBAHN_COUNT: usize = 1000;

/// Messages per compression case: Autobahn's 1000 with `--full`. By default,
/// enough messages for at least 64 KiB per case (twice the largest deflate
/// window: it fills, then every octet of it is replaced), at least 4, never
/// more than Autobahn's 1000:
/// - up to 64 octets (12.x.1-2, 13.x.1-2) that is Autobahn's 1000, so every
///   corpus and every offer set still carries a thousand compressed messages
///   over one connection with one deflate context;
/// - from 256 octets on, 256 ... 4 messages: each case compresses across
///   message boundaries with context takeover, fills and slides the window,
///   and meets every frame-length class and fragment count of its size. What
///   is cut is the repetition of an identical step.
fn count(len: usize, scale: Scale) -> usize {
    match scale {
        Scale::Full => AUTOBAHN_COUNT,
        Scale::Quick => (64 * KI).div_ceil(len.max(1)).clamp(4, AUTOBAHN_COUNT),
    }
}

fn category12(v: &mut Vec<Case>, scale: Scale) {
    for (j, corpus) in Corpus::ALL.into_iter().enumerate() {
        for (i, &(len, frag)) in MSG_SIZES.iter().enumerate() {
            let n = count(len, scale);
            v.push(load_case(
                format!("12.{}.{}", j + 1, i + 1),
                format!(
                    "Send {n} compressed messages each of payload size {len}, auto-fragment to {frag} octets. Use default permessage-deflate offer. Data: {}.",
                    corpus.description()
                ),
                "Receive echo'ed messages (with payload as sent). UNIMPLEMENTED (INFO) if the server declines permessage-deflate.".into(),
                Load {
                    binary: corpus.binary(),
                    size: len,
                    count: n,
                    frag,
                    chop: 0,
                    data: DataSource::Corpus(corpus),
                    offers: vec![DeflateOffer::new()],
                    timeout: Duration::from_secs(120),
                },
            ));
        }
    }
}

/// The seven offer sets of 13.1 ... 13.7 (Autobahn's DEFLATE_PARAMS):
/// (server_no_context_takeover requested, server_max_window_bits requested).
pub fn offer_sets() -> Vec<(String, Vec<DeflateOffer>)> {
    let offer = |nct: bool, bits: u8| DeflateOffer {
        server_no_context_takeover: nct,
        server_max_window_bits: if bits == 0 { None } else { Some(bits) },
        ..DeflateOffer::new()
    };
    let sets: Vec<Vec<(bool, u8)>> = vec![
        vec![(false, 0)],
        vec![(true, 0)],
        vec![(false, 8)],
        vec![(false, 15)],
        vec![(true, 8)],
        vec![(true, 15)],
        vec![(true, 8), (true, 0), (false, 0)],
    ];
    sets.into_iter()
        .map(|s| {
            let offers: Vec<DeflateOffer> = s.iter().map(|&(n, b)| offer(n, b)).collect();
            let desc = offers
                .iter()
                .map(DeflateOffer::header_value)
                .collect::<Vec<_>>()
                .join(", ");
            (desc, offers)
        })
        .collect()
}

fn category13(v: &mut Vec<Case>, scale: Scale) {
    for (j, (desc, offers)) in offer_sets().into_iter().enumerate() {
        for (i, &(len, frag)) in MSG_SIZES.iter().enumerate() {
            let n = count(len, scale);
            v.push(load_case(
                format!("13.{}.{}", j + 1, i + 1),
                format!(
                    "Send {n} compressed messages each of payload size {len}, auto-fragment to {frag} octets. Offer: {desc}. Data: {}.",
                    Corpus::Json.description()
                ),
                "Receive echo'ed messages (with payload as sent); the server's response to the offer must be valid (RFC 7692). UNIMPLEMENTED (INFO) if the server declines every offer.".into(),
                Load {
                    binary: false,
                    size: len,
                    count: n,
                    frag,
                    chop: 0,
                    data: DataSource::Corpus(Corpus::Json),
                    offers: offers.clone(),
                    timeout: Duration::from_secs(120),
                },
            ));
        }
    }
}
