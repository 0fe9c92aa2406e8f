//! The UTF-8 test sequences of cases 6.5 ... 6.23, in Autobahn's order
//! (after Markus Kuhn's UTF-8 decoder stress test).

type Seqs = Vec<(&'static str, Vec<(bool, Vec<u8>)>)>;

fn b(s: &[u8]) -> Vec<u8> {
    s.to_vec()
}

pub fn sequences() -> Seqs {
    let mut out: Seqs = Vec::new();
    let vss: &[u8] = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
    out.push((
        "Some valid UTF-8 sequences",
        vec![
            (true, b(b"hello\x24world")),
            (true, b(b"hello\xC2\xA2world")),
            (true, b(b"hello\xE2\x82\xACworld")),
            (true, b(b"hello\xF0\xA4\xAD\xA2world")),
            (true, b(vss)),
        ],
    ));
    out.push((
        "All prefixes of a valid UTF-8 string that contains multi-byte code points",
        (1..=vss.len())
            .map(|i| (std::str::from_utf8(&vss[..i]).is_ok(), b(&vss[..i])))
            .collect(),
    ));
    out.push((
        "First possible sequence of a certain length",
        vec![
            (true, b(b"\x00")),
            (true, b(b"\xc2\x80")),
            (true, b(b"\xe0\xa0\x80")),
            (true, b(b"\xf0\x90\x80\x80")),
        ],
    ));
    out.push((
        "First possible sequence length 5/6 (invalid codepoints)",
        vec![
            (false, b(b"\xf8\x88\x80\x80\x80")),
            (false, b(b"\xfc\x84\x80\x80\x80\x80")),
        ],
    ));
    out.push((
        "Last possible sequence of a certain length",
        vec![
            (true, b(b"\x7f")),
            (true, b(b"\xdf\xbf")),
            (true, b(b"\xef\xbf\xbf")),
            (true, b(b"\xf4\x8f\xbf\xbf")),
        ],
    ));
    out.push((
        "Last possible sequence length 4/5/6 (invalid codepoints)",
        vec![
            (false, b(b"\xf7\xbf\xbf\xbf")),
            (false, b(b"\xfb\xbf\xbf\xbf\xbf")),
            (false, b(b"\xfd\xbf\xbf\xbf\xbf\xbf")),
        ],
    ));
    out.push((
        "Other boundary conditions",
        vec![
            (true, b(b"\xed\x9f\xbf")),
            (true, b(b"\xee\x80\x80")),
            (true, b(b"\xef\xbf\xbd")),
            (true, b(b"\xf4\x8f\xbf\xbf")),
            (false, b(b"\xf4\x90\x80\x80")),
        ],
    ));
    out.push((
        "Unexpected continuation bytes",
        vec![
            (false, b(b"\x80")),
            (false, b(b"\xbf")),
            (false, b(b"\x80\xbf")),
            (false, b(b"\x80\xbf\x80")),
            (false, b(b"\x80\xbf\x80\xbf")),
            (false, b(b"\x80\xbf\x80\xbf\x80")),
            (false, b(b"\x80\xbf\x80\xbf\x80\xbf")),
            (false, (0x80u8..0xbf).collect()),
        ],
    ));
    out.push((
        "Lonely start characters",
        [
            (0xc0u8, 0xdfu8),
            (0xe0, 0xef),
            (0xf0, 0xf7),
            (0xf8, 0xfb),
            (0xfc, 0xfd),
        ]
        .iter()
        .map(|&(lo, hi)| (false, (lo..hi).flat_map(|c| [c, 0x20]).collect()))
        .collect(),
    ));
    let k: [&[u8]; 10] = [
        b"\xc0",
        b"\xe0\x80",
        b"\xf0\x80\x80",
        b"\xf8\x80\x80\x80",
        b"\xfc\x80\x80\x80\x80",
        b"\xdf",
        b"\xef\xbf",
        b"\xf7\xbf\xbf",
        b"\xfb\xbf\xbf\xbf",
        b"\xfd\xbf\xbf\xbf\xbf",
    ];
    out.push((
        "Sequences with last continuation byte missing",
        k.iter().map(|s| (false, b(s))).collect(),
    ));
    out.push((
        "Concatenation of incomplete sequences",
        vec![(false, k.concat())],
    ));
    out.push((
        "Impossible bytes",
        vec![
            (false, b(b"\xfe")),
            (false, b(b"\xff")),
            (false, b(b"\xfe\xfe\xff\xff")),
        ],
    ));
    out.push((
        "Examples of an overlong ASCII character",
        vec![
            (false, b(b"\xc0\xaf")),
            (false, b(b"\xe0\x80\xaf")),
            (false, b(b"\xf0\x80\x80\xaf")),
            (false, b(b"\xf8\x80\x80\x80\xaf")),
            (false, b(b"\xfc\x80\x80\x80\x80\xaf")),
        ],
    ));
    out.push((
        "Maximum overlong sequences",
        vec![
            (false, b(b"\xc1\xbf")),
            (false, b(b"\xe0\x9f\xbf")),
            (false, b(b"\xf0\x8f\xbf\xbf")),
            (false, b(b"\xf8\x87\xbf\xbf\xbf")),
            (false, b(b"\xfc\x83\xbf\xbf\xbf\xbf")),
        ],
    ));
    out.push((
        "Overlong representation of the NUL character",
        vec![
            (false, b(b"\xc0\x80")),
            (false, b(b"\xe0\x80\x80")),
            (false, b(b"\xf0\x80\x80\x80")),
            (false, b(b"\xf8\x80\x80\x80\x80")),
            (false, b(b"\xfc\x80\x80\x80\x80\x80")),
        ],
    ));
    out.push((
        "Single UTF-16 surrogates",
        [
            &b"\xed\xa0\x80"[..],
            b"\xed\xad\xbf",
            b"\xed\xae\x80",
            b"\xed\xaf\xbf",
            b"\xed\xb0\x80",
            b"\xed\xbe\x80",
            b"\xed\xbf\xbf",
        ]
        .iter()
        .map(|s| (false, b(s)))
        .collect(),
    ));
    let hi: [&[u8]; 4] = [
        b"\xed\xa0\x80",
        b"\xed\xad\xbf",
        b"\xed\xae\x80",
        b"\xed\xaf\xbf",
    ];
    let lo: [&[u8]; 2] = [b"\xed\xb0\x80", b"\xed\xbf\xbf"];
    out.push((
        "Paired UTF-16 surrogates",
        hi.iter()
            .flat_map(|h| lo.iter().map(move |l| (false, [*h, *l].concat())))
            .collect(),
    ));
    let mut nonchars = vec![(true, b(b"\xef\xbf\xbe")), (true, b(b"\xef\xbf\xbf"))];
    for z1 in [0xf0u8, 0xf1, 0xf2, 0xf3, 0xf4] {
        for z2 in [0x8fu8, 0x9f, 0xaf, 0xbf] {
            if z1 == 0xf4 && z2 != 0x8f {
                continue;
            }
            for z3 in [0xbeu8, 0xbf] {
                let zz = vec![z1, z2, 0xbf, z3];
                if zz == b"\xf0\x8f\xbf\xbe" || zz == b"\xf0\x8f\xbf\xbf" {
                    continue;
                }
                nonchars.push((true, zz));
            }
        }
    }
    out.push(("Non-character code points (valid UTF-8)", nonchars));
    out.push((
        "Unicode specials (i.e. replacement char)",
        [0xb9u8, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf]
            .iter()
            .map(|&c| (true, vec![0xef, 0xbf, c]))
            .collect(),
    ));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_match_autobahn() {
        let counts: Vec<usize> = super::sequences().iter().map(|(_, s)| s.len()).collect();
        assert_eq!(
            counts,
            [5, 11, 4, 2, 4, 3, 5, 8, 5, 10, 1, 3, 5, 5, 5, 7, 8, 34, 7]
        );
    }

    #[test]
    fn labels_agree_with_std() {
        for (name, seqs) in super::sequences() {
            for (valid, s) in seqs {
                assert_eq!(valid, std::str::from_utf8(&s).is_ok(), "{name}: {s:x?}");
            }
        }
    }
}
