//! Cases 1.* to 7.* and 10.*, numbered and specified like the Autobahn
//! Testsuite's so results map one to one.

use super::case::{Action, Body, Case, CloseExpect, End, Expect, Script, Verdict};
use super::utf8_cases;
use crate::wire::Frame;
use crate::wire::frame::{OP_BINARY, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};

const HELLO: &str = "Hello, world!";

pub(crate) fn case(id: &str, description: &str, expectation: &str, script: Script) -> Case {
    Case {
        id: id.into(),
        description: description.into(),
        expectation: expectation.into(),
        body: Body::Script(script),
    }
}

fn frames(fs: Vec<Frame>) -> Action {
    Action::Frames {
        frames: fs,
        chop: None,
        sync: false,
    }
}

fn frames_mode(fs: Vec<Frame>, mode: Mode) -> Action {
    match mode {
        Mode::Whole => Action::Frames {
            frames: fs,
            chop: None,
            sync: false,
        },
        Mode::Sync => Action::Frames {
            frames: fs,
            chop: None,
            sync: true,
        },
        Mode::Octets => Action::Frames {
            frames: fs,
            chop: Some(1),
            sync: false,
        },
    }
}

#[derive(Clone, Copy)]
enum Mode {
    Whole,
    Sync,
    Octets,
}

impl Mode {
    fn words(self) -> &'static str {
        match self {
            Mode::Whole => "all sent in one chop",
            Mode::Sync => "sent in per-frame chops",
            Mode::Octets => "sent in octet-wise chops",
        }
    }
}

/// We close normally once the expected events arrived.
fn normal_close() -> CloseExpect {
    CloseExpect {
        by_me: true,
        codes: vec![1000],
        require_clean: true,
        code_is_fatal: false,
    }
}

/// The server must fail the connection with one of `codes`.
fn server_fails(codes: &[u16]) -> CloseExpect {
    CloseExpect {
        by_me: false,
        codes: codes.to_vec(),
        require_clean: false,
        code_is_fatal: false,
    }
}

/// Expect exactly `events`, then close normally.
fn echo_script(actions: Vec<Action>, events: Vec<Expect>) -> Script {
    Script {
        actions,
        outcomes: vec![(Verdict::Pass, events)],
        close: normal_close(),
        end: End::CloseAfter(1000),
        informational: false,
    }
}

/// The server must fail the connection; `before` are events allowed first.
fn fail_script(actions: Vec<Action>, before: Vec<Expect>, code: u16) -> Script {
    let mut outcomes = vec![(Verdict::Pass, before.clone())];
    if !before.is_empty() {
        // Failing before the earlier echo went out is also acceptable.
        outcomes.push((Verdict::NonStrict, vec![]));
    }
    Script {
        actions,
        outcomes,
        close: server_fails(&[code]),
        end: End::KillAfter(1000),
        informational: false,
    }
}

pub fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    category1(&mut v);
    category2(&mut v);
    category3(&mut v);
    category4(&mut v);
    category5(&mut v);
    category6(&mut v);
    category7(&mut v);
    category10(&mut v);
    v
}

fn category1(v: &mut Vec<Case>) {
    let sizes = [0usize, 125, 126, 127, 128, 65535, 65536, 65536];
    for (binary, sub) in [(false, 1), (true, 2)] {
        for (i, &n) in sizes.iter().enumerate() {
            let chop = if i == 7 { Some(997) } else { None };
            let (op, byte, kind) = if binary {
                (OP_BINARY, 0xFEu8, "binary")
            } else {
                (OP_TEXT, b'*', "text")
            };
            let payload = vec![byte; n];
            let exp = Expect::Message {
                binary,
                data: payload.clone(),
            };
            let desc = match chop {
                Some(c) => format!(
                    "Send {kind} message with payload length {n}, chopped into chunks of {c} octets."
                ),
                None => format!("Send {kind} message with payload length {n}."),
            };
            v.push(case(
                &format!("1.{sub}.{}", i + 1),
                &desc,
                &format!("Receive echo'ed {kind} message (with payload as sent). Clean close with normal code."),
                echo_script(vec![Action::Frames { frames: vec![Frame::new(op, payload)], chop, sync: false }], vec![exp]),
            ));
        }
    }
}

fn category2(v: &mut Vec<Case>) {
    let pong_case = |id: &str, desc: &str, payload: Vec<u8>, chop: Option<usize>| {
        case(
            id,
            desc,
            "Pong (with payload as sent) is received. Clean close with normal code.",
            echo_script(
                vec![Action::Frames {
                    frames: vec![Frame::ping(payload.clone())],
                    chop,
                    sync: false,
                }],
                vec![Expect::Pong(payload)],
            ),
        )
    };
    v.push(pong_case("2.1", "Send ping without payload.", vec![], None));
    v.push(pong_case(
        "2.2",
        "Send ping with small text payload.",
        b"Hello, world!".to_vec(),
        None,
    ));
    v.push(pong_case(
        "2.3",
        "Send ping with small binary (non UTF-8) payload.",
        vec![0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff],
        None,
    ));
    v.push(pong_case(
        "2.4",
        "Send ping with binary payload of 125 octets.",
        vec![0xfe; 125],
        None,
    ));
    v.push(case(
        "2.5",
        "Send ping with binary payload of 126 octets.",
        "Connection is failed immediately (1002/Protocol Error), since control frames are only allowed to have payload up to and including 125 octets.",
        fail_script(vec![frames(vec![Frame::ping(vec![0xfe; 126])])], vec![], 1002),
    ));
    v.push(pong_case(
        "2.6",
        "Send ping with binary payload of 125 octets, send in octet-wise chops.",
        vec![0xfe; 125],
        Some(1),
    ));
    let quiet = |id: &str, desc: &str, fs: Vec<Frame>, events: Vec<Expect>| {
        case(
            id,
            desc,
            "Nothing in reply (or only the pong for our ping). Clean close with normal code.",
            echo_script(vec![frames(fs)], events),
        )
    };
    v.push(quiet(
        "2.7",
        "Send unsolicited pong without payload.",
        vec![Frame::pong(vec![])],
        vec![],
    ));
    v.push(quiet(
        "2.8",
        "Send unsolicited pong with payload.",
        vec![Frame::pong(b"unsolicited pong payload".to_vec())],
        vec![],
    ));
    v.push(quiet(
        "2.9",
        "Send unsolicited pong with payload, then ping with payload.",
        vec![
            Frame::pong(b"unsolicited pong payload".to_vec()),
            Frame::ping(b"ping payload".to_vec()),
        ],
        vec![Expect::Pong(b"ping payload".to_vec())],
    ));
    for (id, chop) in [("2.10", None), ("2.11", Some(1))] {
        let pings: Vec<Vec<u8>> = (0..10)
            .map(|i| format!("payload-{i}").into_bytes())
            .collect();
        let actions = pings
            .iter()
            .map(|p| Action::Frames {
                frames: vec![Frame::ping(p.clone())],
                chop,
                sync: true,
            })
            .collect();
        let mut s = echo_script(
            actions,
            pings.iter().map(|p| Expect::Pong(p.clone())).collect(),
        );
        // RFC 6455 5.5.3 allows answering only the most recent ping.
        s.outcomes
            .push((Verdict::NonStrict, vec![Expect::Pong(pings[9].clone())]));
        s.end = End::CloseAfter(3000);
        v.push(case(
            id,
            &format!("Send 10 pings with payload{}.", if chop.is_some() { ", sent in octet-wise chops" } else { "" }),
            "Pongs for all our pings with all the payloads (NON-STRICT: only the last one, which RFC 6455 5.5.3 allows). Clean close with normal code.",
            s,
        ));
    }
}

fn category3(v: &mut Vec<Case>) {
    let e = "The connection is failed immediately (1002), since RSV must be 0 when no extension defining RSV meaning has been negotiated.";
    v.push(case(
        "3.1",
        "Send small text message with RSV = 1.",
        e,
        fail_script(vec![frames(vec![Frame::text(HELLO).rsv(1)])], vec![], 1002),
    ));
    for (id, rsv, mode) in [
        ("3.2", 2u8, Mode::Whole),
        ("3.3", 3, Mode::Sync),
        ("3.4", 4, Mode::Octets),
    ] {
        v.push(case(
            id,
            &format!("Send small text message, then send again with RSV = {rsv}, then send ping, {}.", mode.words()),
            &format!("Echo for the first message is received, but then the connection is failed immediately (1002). The pong is not received. {e}"),
            fail_script(
                vec![frames_mode(vec![Frame::text(HELLO), Frame::text(HELLO).rsv(rsv), Frame::ping(vec![])], mode)],
                vec![Expect::text(HELLO)],
                1002,
            ),
        ));
    }
    v.push(case(
        "3.5",
        "Send small binary message with RSV = 5.",
        e,
        fail_script(
            vec![frames(vec![
                Frame::binary(vec![0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]).rsv(5),
            ])],
            vec![],
            1002,
        ),
    ));
    v.push(case(
        "3.6",
        "Send ping with payload and RSV = 6.",
        e,
        fail_script(
            vec![frames(vec![Frame::ping(b"ping payload".to_vec()).rsv(6)])],
            vec![],
            1002,
        ),
    ));
    v.push(case(
        "3.7",
        "Send close with RSV = 7.",
        e,
        fail_script(
            vec![frames(vec![Frame::new(OP_CLOSE, vec![]).rsv(7)])],
            vec![],
            1002,
        ),
    ));
}

fn category4(v: &mut Vec<Case>) {
    for (sub, base, kind) in [(1, 3u8, "non-control"), (2, 11u8, "control")] {
        let e = "The connection is failed immediately (1002), since a reserved opcode is used.";
        v.push(case(
            &format!("4.{sub}.1"),
            &format!("Send frame with reserved {kind} opcode {base}."),
            e,
            fail_script(vec![frames(vec![Frame::new(base, vec![])])], vec![], 1002),
        ));
        v.push(case(
            &format!("4.{sub}.2"),
            &format!(
                "Send frame with reserved {kind} opcode {} and non-empty payload.",
                base + 1
            ),
            e,
            fail_script(
                vec![frames(vec![Frame::new(
                    base + 1,
                    b"reserved opcode payload".to_vec(),
                )])],
                vec![],
                1002,
            ),
        ));
        for k in 0..3u8 {
            let op = base + 2 + k;
            let payload = if k == 0 {
                vec![]
            } else {
                b"reserved opcode payload".to_vec()
            };
            v.push(case(
                &format!("4.{sub}.{}", 3 + k),
                &format!(
                    "Send small text message, then send frame with reserved {kind} opcode {op}{}, then send ping.",
                    if k == 0 { "" } else { " and non-empty payload" }
                ),
                &format!("Echo for the first message is received, then the connection is failed immediately (1002). {e}"),
                fail_script(
                    vec![frames(vec![Frame::text(HELLO), Frame::new(op, payload), Frame::ping(vec![])])],
                    vec![Expect::text(HELLO)],
                    1002,
                ),
            ));
        }
    }
}

fn category5(v: &mut Vec<Case>) {
    let fail = "The connection is failed immediately (1002).";
    v.push(case(
        "5.1",
        "Send ping in 2 fragments.",
        &format!("{fail} Control frames must not be fragmented."),
        fail_script(
            vec![frames(vec![
                Frame::ping(b"fragment1".to_vec()).fin(false),
                Frame::continuation(true, "fragment2"),
            ])],
            vec![],
            1002,
        ),
    ));
    v.push(case(
        "5.2",
        "Send pong in 2 fragments.",
        &format!("{fail} Control frames must not be fragmented."),
        fail_script(
            vec![frames(vec![
                Frame::pong(b"fragment1".to_vec()).fin(false),
                Frame::continuation(true, "fragment2"),
            ])],
            vec![],
            1002,
        ),
    ));
    let two = || {
        vec![
            Frame::text("fragment1").fin(false),
            Frame::continuation(true, "fragment2"),
        ]
    };
    for (id, mode) in [
        ("5.3", Mode::Whole),
        ("5.4", Mode::Sync),
        ("5.5", Mode::Octets),
    ] {
        v.push(case(
            id,
            &format!(
                "Send text message unfragmented in 2 fragments, {}.",
                mode.words()
            ),
            "Message is processed and echo'ed back to us.",
            echo_script(
                vec![frames_mode(two(), mode)],
                vec![Expect::text("fragment1fragment2")],
            ),
        ));
    }
    for (id, mode) in [
        ("5.6", Mode::Whole),
        ("5.7", Mode::Sync),
        ("5.8", Mode::Octets),
    ] {
        v.push(case(
            id,
            &format!(
                "Send text message in 2 fragments with ping with payload in between, {}.",
                mode.words()
            ),
            "A pong is received, then the message is echo'ed back to us.",
            echo_script(
                vec![frames_mode(
                    vec![
                        Frame::text("fragment1").fin(false),
                        Frame::ping(b"ping payload".to_vec()),
                        Frame::continuation(true, "fragment2"),
                    ],
                    mode,
                )],
                vec![
                    Expect::Pong(b"ping payload".to_vec()),
                    Expect::text("fragment1fragment2"),
                ],
            ),
        ));
    }
    for (base, fin) in [(9, true), (12, false)] {
        for (k, mode) in [Mode::Whole, Mode::Sync, Mode::Octets]
            .into_iter()
            .enumerate()
        {
            v.push(case(
                &format!("5.{}", base + k),
                &format!(
                    "Send unfragmented text message after continuation frame with FIN = {fin}, where there is nothing to continue, {}.",
                    mode.words()
                ),
                &format!("{fail} There is no message to continue."),
                fail_script(
                    vec![frames_mode(vec![Frame::continuation(fin, "non-continuation payload"), Frame::text(HELLO)], mode)],
                    vec![],
                    1002,
                ),
            ));
        }
    }
    v.push(case(
        "5.15",
        "Send text message fragmented into 2 fragments, then continuation frame with FIN = false where there is nothing to continue, then unfragmented text message, all sent in one chop.",
        &format!("Echo of the first message, then {fail} There is no message to continue."),
        fail_script(
            vec![frames(vec![
                Frame::text("fragment1").fin(false),
                Frame::continuation(true, "fragment2"),
                Frame::continuation(false, "fragment3"),
                Frame::text("fragment4"),
            ])],
            vec![Expect::text("fragment1fragment2")],
            1002,
        ),
    ));
    for (id, first_fin) in [("5.16", false), ("5.17", true)] {
        let mut fs = Vec::new();
        for _ in 0..2 {
            fs.push(Frame::continuation(first_fin, "fragment1"));
            fs.push(Frame::text("fragment2").fin(false));
            fs.push(Frame::continuation(true, "fragment3"));
        }
        v.push(case(
            id,
            &format!("Repeated 2x: continuation frame with FIN = {first_fin} (where there is nothing to continue), then text message in 2 fragments."),
            &format!("{fail} There is no message to continue."),
            fail_script(vec![frames(fs)], vec![], 1002),
        ));
    }
    v.push(case(
        "5.18",
        "Send text message in 2 fragments, both with a text opcode (the second should be a continuation).",
        &format!("{fail} A new data frame arrived while a fragmented message was in progress."),
        fail_script(vec![frames(vec![Frame::text("fragment1").fin(false), Frame::text("fragment2")])], vec![], 1002),
    ));
    for (id, mode) in [("5.19", Mode::Whole), ("5.20", Mode::Octets)] {
        let part1 = vec![
            Frame::text("fragment1").fin(false),
            Frame::continuation(false, "fragment2"),
            Frame::ping(b"pongme 1!".to_vec()),
        ];
        let part2 = vec![
            Frame::continuation(false, "fragment3"),
            Frame::continuation(false, "fragment4"),
            Frame::ping(b"pongme 2!".to_vec()),
            Frame::continuation(true, "fragment5"),
        ];
        v.push(case(
            id,
            &format!(
                "A fragmented text message is sent in multiple frames. After sending the first 2 frames of the text message, a ping is sent. Then we wait 1 s, then send 2 more text fragments, another ping and then the final text fragment{}. Everything is legal.",
                if matches!(mode, Mode::Octets) { ", all frames in octet-wise chops" } else { "" }
            ),
            "The peer answers the first ping before it has received the last text fragment, pongs both payloads exactly, and echoes the whole message.",
            echo_script(
                vec![
                    frames_mode(part1, if matches!(mode, Mode::Whole) { Mode::Sync } else { mode }),
                    Action::Wait { ms: 1000, marker: None },
                    frames_mode(part2, if matches!(mode, Mode::Whole) { Mode::Sync } else { mode }),
                ],
                vec![
                    Expect::Pong(b"pongme 1!".to_vec()),
                    Expect::Pong(b"pongme 2!".to_vec()),
                    Expect::text("fragment1fragment2fragment3fragment4fragment5"),
                ],
            ),
        ));
    }
}

fn category6(v: &mut Vec<Case>) {
    let echo = "The message is echo'ed back to us.";
    v.push(case(
        "6.1.1",
        "Send text message of length 0.",
        echo,
        echo_script(vec![frames(vec![Frame::text("")])], vec![Expect::text("")]),
    ));
    v.push(case(
        "6.1.2",
        "Send fragmented text message, 3 fragments each of length 0.",
        echo,
        echo_script(
            vec![frames(vec![
                Frame::text("").fin(false),
                Frame::continuation(false, ""),
                Frame::continuation(true, ""),
            ])],
            vec![Expect::text("")],
        ),
    ));
    v.push(case(
        "6.1.3",
        "Send fragmented text message, 3 fragments, first and last of length 0, middle non-empty.",
        echo,
        echo_script(
            vec![frames(vec![
                Frame::text("").fin(false),
                Frame::continuation(false, "middle frame payload"),
                Frame::continuation(true, ""),
            ])],
            vec![Expect::text("middle frame payload")],
        ),
    ));
    let p = "Hello-\u{b5}@\u{df}\u{f6}\u{e4}\u{fc}\u{e0}\u{e1}-UTF-8!!";
    v.push(case(
        "6.2.1",
        &format!("Send a valid UTF-8 text message in one fragment. MESSAGE: {p}"),
        echo,
        echo_script(vec![frames(vec![Frame::text(p)])], vec![Expect::text(p)]),
    ));
    let (a, b) = p.split_at("Hello-\u{b5}@\u{df}\u{f6}\u{e4}".len());
    v.push(case(
        "6.2.2",
        "Send a valid UTF-8 text message in two fragments, fragmented on UTF-8 code point boundary.",
        echo,
        echo_script(vec![frames(vec![Frame::text(a).fin(false), Frame::continuation(true, b)])], vec![Expect::text(p)]),
    ));
    v.push(case(
        "6.2.3",
        "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends.",
        echo,
        echo_script(vec![frames(fragments(p.as_bytes(), 1))], vec![Expect::text(p)]),
    ));
    let kosme = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5".to_vec();
    v.push(case(
        "6.2.4",
        "Send a valid UTF-8 text message in fragments of 1 octet, resulting in frames ending on positions which are not code point ends. MESSAGE: \u{3ba}\u{1f79}\u{3c3}\u{3bc}\u{3b5}",
        echo,
        echo_script(vec![frames(fragments(&kosme, 1))], vec![Expect::text(&kosme)]),
    ));
    let mut bad = kosme.clone();
    bad.extend_from_slice(b"\xed\xa0\x80edited");
    v.push(case(
        "6.3.1",
        &format!(
            "Send invalid UTF-8 text message unfragmented. MESSAGE: {}",
            hex(&bad)
        ),
        "The connection is failed immediately (1007), since the payload is not valid UTF-8.",
        fail_script(vec![frames(vec![Frame::text(bad.clone())])], vec![], 1007),
    ));
    v.push(case(
        "6.3.2",
        &format!(
            "Send invalid UTF-8 text message in fragments of 1 octet. MESSAGE: {}",
            hex(&bad)
        ),
        "The connection is failed immediately (1007), since the payload is not valid UTF-8.",
        fail_script(vec![frames(fragments(&bad, 1))], vec![], 1007),
    ));
    // 6.4.x: fail fast on invalid UTF-8.
    let splits: [(&[u8], &[u8], &[u8]); 2] = [
        (
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",
            b"\xf4\x90\x80\x80",
            b"edited",
        ),
        (
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4",
            b"\x90",
            b"\x80\x80edited",
        ),
    ];
    for (k, (p1, p2, p3)) in splits.iter().enumerate() {
        let id_frames = format!("6.4.{}", 1 + k);
        let id_chops = format!("6.4.{}", 3 + k);
        let parts = format!(
            "PART1 = {}, PART2 = {}, PART3 = {}",
            hex(p1),
            hex(p2),
            hex(p3)
        );
        let outcomes = vec![
            (Verdict::Pass, vec![Expect::Timeout("A")]),
            (
                Verdict::NonStrict,
                vec![Expect::Timeout("A"), Expect::Timeout("B")],
            ),
        ];
        let close = CloseExpect {
            by_me: false,
            codes: vec![1007],
            require_clean: false,
            code_is_fatal: false,
        };
        v.push(case(
            &id_frames,
            &format!("Send invalid UTF-8 text message in 3 fragments (frames). The first frame payload is valid, then wait, then the 2nd frame which makes the sequence invalid, then wait, then the 3rd frame. {parts}"),
            "The first frame is accepted (we time out on the first wait). The 2nd frame is rejected immediately (fail fast on UTF-8, 1007). NON-STRICT if the connection is failed only after the 2nd wait.",
            Script {
                actions: vec![
                    frames(vec![Frame::text(p1.to_vec()).fin(false)]),
                    Action::Wait { ms: 1000, marker: Some("A") },
                    frames(vec![Frame::continuation(false, p2.to_vec())]),
                    Action::Wait { ms: 1000, marker: Some("B") },
                    frames(vec![Frame::continuation(true, p3.to_vec())]),
                ],
                outcomes: outcomes.clone(),
                close: close.clone(),
                end: End::KillAfter(1000),
                informational: false,
            },
        ));
        let mut whole = p1.to_vec();
        whole.extend_from_slice(p2);
        whole.extend_from_slice(p3);
        let bytes = Frame::text(whole).mask(rand::random()).encode();
        let h = bytes.len() - p1.len() - p2.len() - p3.len() + p1.len();
        let h2 = h + p2.len();
        v.push(case(
            &id_chops,
            &format!("Same as {id_frames}, but the message is sent in 3 chops of one frame. {parts}"),
            "The first chop is accepted (we time out on the first wait). The 2nd chop is rejected immediately (fail fast on UTF-8, 1007). NON-STRICT if the connection is failed only after the 2nd wait.",
            Script {
                actions: vec![
                    Action::Raw(bytes[..h].to_vec()),
                    Action::Wait { ms: 1000, marker: Some("A") },
                    Action::Raw(bytes[h..h2].to_vec()),
                    Action::Wait { ms: 1000, marker: Some("B") },
                    Action::Raw(bytes[h2..].to_vec()),
                ],
                outcomes,
                close,
                end: End::KillAfter(1000),
                informational: false,
            },
        ));
    }
    for (sub, (_name, seqs)) in utf8_cases::sequences().into_iter().enumerate() {
        for (j, (valid, payload)) in seqs.into_iter().enumerate() {
            let id = format!("6.{}.{}", sub + 5, j + 1);
            if valid {
                v.push(case(
                    &id,
                    &format!("Send a text message with payload which is valid UTF-8 in one fragment. Payload: 0x{}", hex(&payload)),
                    echo,
                    echo_script(vec![frames(vec![Frame::text(payload.clone())])], vec![Expect::text(&payload)]),
                ));
            } else {
                v.push(case(
                    &id,
                    &format!("Send a text message with payload which is not valid UTF-8 in one fragment. Payload: 0x{}", hex(&payload)),
                    "The connection is failed immediately (1007), since the payload is not valid UTF-8.",
                    fail_script(vec![frames(vec![Frame::text(payload)])], vec![], 1007),
                ));
            }
        }
    }
}

/// Subcategory names of 6.5 ... 6.23 (for reports).
pub fn utf8_subcategory(sub: usize) -> Option<&'static str> {
    utf8_cases::sequences()
        .get(sub.checked_sub(5)?)
        .map(|(n, _)| *n)
}

fn category7(v: &mut Vec<Case>) {
    let clean = |codes: &[u16], fatal: bool| CloseExpect {
        by_me: true,
        codes: codes.to_vec(),
        require_clean: true,
        code_is_fatal: fatal,
    };
    let close1000 = || Action::Close(close_payload(Some(1000), b""));
    let s = |actions: Vec<Action>, events: Vec<Expect>, close: CloseExpect| Script {
        actions,
        outcomes: vec![(Verdict::Pass, events)],
        close,
        end: End::KillAfter(1000),
        informational: false,
    };
    let mut s711 = s(
        vec![frames(vec![Frame::text("Hello World!")]), close1000()],
        vec![Expect::text("Hello World!")],
        clean(&[1000], false),
    );
    // An asynchronous server may process our close before its application
    // echoes; once it has answered the close it must not send data any more.
    s711.outcomes.push((Verdict::NonStrict, vec![]));
    v.push(case(
        "7.1.1",
        "Send a message followed by a close frame.",
        "Echo'ed message followed by a clean close with normal code. NON-STRICT: no echo, when the server handled the close before its application echoed the message.",
        s711,
    ));
    v.push(case(
        "7.1.2",
        "Send two close frames.",
        "Clean close with normal code. The second close frame is ignored.",
        s(
            vec![close1000(), frames(vec![Frame::close(Some(1000), b"")])],
            vec![],
            clean(&[1000], false),
        ),
    ));
    v.push(case(
        "7.1.3",
        "Send a ping after the close message.",
        "Clean close with normal code, no pong.",
        s(
            vec![
                close1000(),
                frames(vec![Frame::ping(b"Hello World!".to_vec())]),
            ],
            vec![],
            clean(&[1000], false),
        ),
    ));
    v.push(case(
        "7.1.4",
        "Send a text message after the close frame.",
        "Clean close with normal code. The text message is ignored.",
        s(
            vec![close1000(), frames(vec![Frame::text("Hello World!")])],
            vec![],
            clean(&[1000], false),
        ),
    ));
    v.push(case(
        "7.1.5",
        "Send message fragment 1 followed by close then fragment 2.",
        "Clean close with normal code. The message is not echo'ed.",
        s(
            vec![
                frames(vec![Frame::text("fragment1").fin(false)]),
                close1000(),
                frames(vec![Frame::continuation(true, "fragment2")]),
            ],
            vec![],
            clean(&[1000], false),
        ),
    ));
    let big: Vec<u8> = b"BAsd7&jh23"
        .iter()
        .copied()
        .cycle()
        .take(256 * 1024)
        .collect();
    let mut s716 = s(
        vec![
            frames(vec![Frame::text(big), Frame::text("Hello World!")]),
            close1000(),
            frames(vec![Frame::ping(vec![])]),
        ],
        vec![Expect::text("Hello World!")],
        clean(&[1000], false),
    );
    s716.outcomes.push((Verdict::NonStrict, vec![]));
    s716.informational = true;
    v.push(case(
        "7.1.6",
        "Send 256K message followed by a short message, then close, then a ping.",
        "Outcome depends on implementation-defined close behaviour: whether the message is processed before the close frame.",
        s716,
    ));
    v.push(case(
        "7.3.1",
        "Send a close frame with payload length 0 (no close code, no close reason).",
        "Clean close with normal code.",
        s(vec![Action::Close(vec![])], vec![], clean(&[1000], true)),
    ));
    v.push(case(
        "7.3.2",
        "Send a close frame with payload length 1.",
        "Clean close with protocol error code (1002) or dropped TCP.",
        s(
            vec![Action::Close(b"a".to_vec())],
            vec![],
            CloseExpect {
                by_me: true,
                codes: vec![1002],
                require_clean: false,
                code_is_fatal: true,
            },
        ),
    ));
    v.push(case(
        "7.3.3",
        "Send a close frame with payload length 2 (regular close with a code).",
        "Clean close with normal code.",
        s(vec![close1000()], vec![], clean(&[1000], true)),
    ));
    v.push(case(
        "7.3.4",
        "Send a close frame with close code and close reason.",
        "Clean close with normal code.",
        s(
            vec![Action::Close(close_payload(Some(1000), b"Hello World!"))],
            vec![],
            clean(&[1000], true),
        ),
    ));
    v.push(case(
        "7.3.5",
        "Send a close frame with close code and close reason of maximum length (123).",
        "Clean close with normal code.",
        s(
            vec![Action::Close(close_payload(Some(1000), &[b'*'; 123]))],
            vec![],
            clean(&[1000], true),
        ),
    ));
    v.push(case(
        "7.3.6",
        "Send a close frame with close code and close reason which is too long (124), for a total payload of 126 octets.",
        "Connection is failed with a protocol error (1002) or dropped TCP.",
        s(
            vec![Action::Close(close_payload(Some(1000), &[b'*'; 124]))],
            vec![],
            CloseExpect { by_me: true, codes: vec![1002], require_clean: false, code_is_fatal: true },
        ),
    ));
    v.push(case(
        "7.5.1",
        "Send a close frame with invalid UTF-8 payload.",
        "Close with protocol error (1002) or invalid payload (1007) code, or dropped TCP.",
        s(
            vec![Action::Close(close_payload(
                Some(1000),
                b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
            ))],
            vec![],
            CloseExpect {
                by_me: true,
                codes: vec![1002, 1007],
                require_clean: false,
                code_is_fatal: true,
            },
        ),
    ));
    for (i, code) in [
        1000u16, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999,
    ]
    .into_iter()
    .enumerate()
    {
        v.push(case(
            &format!("7.7.{}", i + 1),
            &format!("Send close with valid close code {code}."),
            "Clean close with normal or echoed code.",
            s(
                vec![Action::Close(close_payload(Some(code), b""))],
                vec![],
                clean(&[1000, code], true),
            ),
        ));
    }
    for (i, code) in [0u16, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999]
        .into_iter()
        .enumerate()
    {
        v.push(case(
            &format!("7.9.{}", i + 1),
            &format!("Send close with invalid close code {code}."),
            "Clean close with protocol error code (1002) or dropped TCP.",
            s(
                vec![Action::Close(close_payload(Some(code), b""))],
                vec![],
                CloseExpect {
                    by_me: true,
                    codes: vec![1002],
                    require_clean: false,
                    code_is_fatal: true,
                },
            ),
        ));
    }
    for (i, code) in [5000u16, 65535].into_iter().enumerate() {
        let mut sc = s(
            vec![Action::Close(close_payload(Some(code), b""))],
            vec![],
            CloseExpect {
                by_me: true,
                codes: vec![1000, code, 1002],
                require_clean: false,
                code_is_fatal: false,
            },
        );
        sc.informational = true;
        v.push(case(
            &format!("7.13.{}", i + 1),
            &format!("Send close with close code {code}."),
            "Actual events are undefined by the spec (RFC 6455 leaves codes of 5000 and above unassigned).",
            sc,
        ));
    }
}

fn category10(v: &mut Vec<Case>) {
    let payload = vec![b'*'; 65536];
    v.push(case(
        "10.1.1",
        "Send text message with payload of length 65536 auto-fragmented into frames of 1300 octets.",
        "Receive echo'ed text message (with payload as sent). Clean close with normal code.",
        echo_script(vec![frames(fragments_op(OP_TEXT, &payload, 1300))], vec![Expect::text(&payload)]),
    ));
    let _ = OP_PING;
    let _ = OP_PONG;
}

/// Close frame payload: optional code then reason.
pub fn close_payload(code: Option<u16>, reason: &[u8]) -> Vec<u8> {
    Frame::close(code, reason).payload
}

fn fragments(payload: &[u8], size: usize) -> Vec<Frame> {
    fragments_op(OP_TEXT, payload, size)
}

/// A message split into frames of `size` octets.
pub fn fragments_op(op: u8, payload: &[u8], size: usize) -> Vec<Frame> {
    if payload.is_empty() {
        return vec![Frame::new(op, vec![])];
    }
    let n = payload.len().div_ceil(size);
    payload
        .chunks(size)
        .enumerate()
        .map(|(i, c)| Frame::new(if i == 0 { op } else { 0 }, c.to_vec()).fin(i + 1 == n))
        .collect()
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
