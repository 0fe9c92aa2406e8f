//! Property tests of the frame decoder and the UTF-8 validator, driven by a
//! seeded random loop (reproducible: the seed is printed on failure).

use rand::{Rng, SeedableRng, rngs::StdRng};
use wsgen::wire::frame::{Decoder, Frame, parse_header};
use wsgen::wire::utf8::Utf8Validator;

fn random_frame(r: &mut StdRng) -> Frame {
    let len = match r.random_range(0..4) {
        0 => r.random_range(0..126),
        1 => r.random_range(126..70_000),
        2 => 125 + r.random_range(0..3),
        _ => 65535 + r.random_range(0..3),
    };
    let payload: Vec<u8> = (0..len).map(|_| r.random()).collect();
    let mut f = Frame::new(r.random_range(0..16), payload)
        .fin(r.random())
        .rsv(r.random_range(0..8));
    if r.random() {
        f = f.mask(r.random());
    }
    f
}

#[test]
fn any_frame_roundtrips_through_any_split() {
    let seed = 0x5eed_u64;
    let mut r = StdRng::seed_from_u64(seed);
    let dec = Decoder::default();
    for i in 0..300 {
        let frames: Vec<Frame> = (0..r.random_range(1..4))
            .map(|_| random_frame(&mut r))
            .collect();
        let mut wire = Vec::new();
        for f in &frames {
            f.encode_into(&mut wire);
        }
        // Feed the bytes in random pieces, as TCP would deliver them.
        let mut buf = Vec::new();
        let mut got = Vec::new();
        let mut pos = 0;
        while pos < wire.len() {
            let n = r.random_range(1..=4096).min(wire.len() - pos);
            buf.extend_from_slice(&wire[pos..pos + n]);
            pos += n;
            while let Some((f, used)) = dec.decode(&buf).unwrap() {
                buf.drain(..used);
                got.push(f);
            }
        }
        assert!(buf.is_empty(), "seed {seed} iteration {i}: leftover octets");
        assert_eq!(got, frames, "seed {seed} iteration {i}");
    }
}

#[test]
fn garbage_never_panics_and_prefixes_never_decode() {
    let seed = 0xbad_u64;
    let mut r = StdRng::seed_from_u64(seed);
    let dec = Decoder::new(1 << 20);
    for _ in 0..20_000 {
        let len = r.random_range(0..64);
        let bytes: Vec<u8> = (0..len).map(|_| r.random()).collect();
        if let Ok(Some((f, used))) = dec.decode(&bytes) {
            assert!(used <= bytes.len());
            assert_eq!(f.encode().len(), used.min(f.encode().len()));
        }
        let _ = parse_header(&bytes);
    }
    // A strict prefix of a valid frame is never a frame.
    for _ in 0..200 {
        let f = random_frame(&mut r);
        let b = f.encode();
        let cut = r.random_range(0..b.len());
        assert!(dec.decode(&b[..cut]).unwrap().is_none());
    }
}

#[test]
fn utf8_validator_agrees_with_std_on_random_input_and_splits() {
    let seed = 0x0ff_u64;
    let mut r = StdRng::seed_from_u64(seed);
    let pieces: [&[u8]; 10] = [
        b"a",
        b"\xc3\xa9",
        b"\xe2\x82\xac",
        b"\xf0\x9f\x98\x80",
        b"\xed\xa0\x80",
        b"\xc0",
        b"\x80",
        b"\xf4\x90",
        b"\xff",
        b"\xef\xbf\xbf",
    ];
    for i in 0..5000 {
        let mut s = Vec::new();
        for _ in 0..r.random_range(0..12) {
            if r.random_bool(0.8) {
                s.extend_from_slice(pieces[r.random_range(0..pieces.len())]);
            } else {
                s.push(r.random());
            }
        }
        let want = std::str::from_utf8(&s).is_ok();
        let mut v = Utf8Validator::new();
        let mut ok = true;
        let mut pos = 0;
        while pos < s.len() {
            let n = r.random_range(1..=4).min(s.len() - pos);
            if v.feed(&s[pos..pos + n]).is_err() {
                ok = false;
                break;
            }
            pos += n;
        }
        assert_eq!(
            ok && v.is_complete(),
            want,
            "seed {seed} iteration {i}: {s:x?}"
        );
        // Fail-fast: the reported offset is where std says validity ends.
        if let Err(e) = std::str::from_utf8(&s)
            && e.error_len().is_some()
        {
            let mut v = Utf8Validator::new();
            let at = v.feed(&s).unwrap_err();
            assert_eq!(
                at,
                e.valid_up_to() + first_bad_offset(&s[e.valid_up_to()..]),
                "{s:x?}"
            );
        }
    }
}

/// Offset, inside an invalid sequence, of the octet that makes it invalid.
fn first_bad_offset(rest: &[u8]) -> usize {
    let mut v = Utf8Validator::new();
    for (i, b) in rest.iter().enumerate() {
        if v.feed(&[*b]).is_err() {
            return i;
        }
    }
    unreachable!()
}
