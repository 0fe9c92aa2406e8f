//! Runs one case against a server and judges it.

use std::time::{Duration, Instant};

use serde::Serialize;
use sha1::{Digest, Sha1};
use tokio::io::AsyncWriteExt;

use super::case::{
    Action, Body, Case, CloseExpect, DataSource, End, Expect, HsOutcome, HsRequest, Load, Script,
    Verdict,
};
use crate::wire::conn::{self, ConnectOptions, Connection, Event};
use crate::wire::frame::{self, Frame, OP_BINARY, OP_TEXT};
use crate::wire::handshake::{self, HandshakeRequest, WsUrl};
use crate::wire::{CloseCode, WireError, close_code_is_valid};

/// How long to wait for the server to end TCP after the closing handshake.
const LINGER: Duration = Duration::from_millis(1500);

/// Outcome of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub id: String,
    pub description: String,
    pub expectation: String,
    pub verdict: Verdict,
    /// Autobahn's two columns: event behaviour and close behaviour.
    pub behavior: String,
    pub behavior_close: String,
    /// Why the verdict is what it is.
    pub reason: String,
    /// Acceptable event sequences, as text.
    pub expected: Vec<String>,
    pub observed: Vec<String>,
    pub close: CloseReport,
    pub duration_ms: f64,
    /// Frames and notes in order (capped).
    pub wirelog: Vec<String>,
    /// Load cases: messages echoed, octets, compression.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stats: Option<LoadStats>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CloseReport {
    pub expected_closed_by_me: bool,
    pub expected_codes: Vec<u16>,
    pub closed_by_me: bool,
    pub dropped_by_me: bool,
    pub was_clean: bool,
    pub remote_code: Option<u16>,
    pub remote_reason: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct LoadStats {
    pub messages: usize,
    pub payload_octets: u64,
    pub wire_octets_sent: u64,
    pub negotiated: Option<String>,
    pub rtt_ms_p50: Option<f64>,
    pub rtt_ms_max: Option<f64>,
}

pub struct RunOptions {
    pub url: WsUrl,
    pub url_str: String,
    pub connect_timeout: Duration,
    /// Subprotocols to offer (see `SuiteOptions::protocols`).
    pub protocols: Vec<String>,
    /// Extra request headers (see `SuiteOptions::headers`).
    pub headers: Vec<(String, String)>,
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
}

pub async fn run_case(case: &Case, opts: &RunOptions) -> CaseResult {
    let start = Instant::now();
    let mut r = match &case.body {
        Body::Script(s) => run_script(s, opts).await,
        Body::Load(l) => run_load(l, opts).await,
        Body::Handshake(h) => run_handshake(h, opts).await,
    };
    r.id = case.id.clone();
    r.description = case.description.clone();
    r.expectation = case.expectation.clone();
    r.duration_ms = start.elapsed().as_secs_f64() * 1000.0;
    r
}

fn blank() -> CaseResult {
    CaseResult {
        id: String::new(),
        description: String::new(),
        expectation: String::new(),
        verdict: Verdict::Fail,
        behavior: "FAILED".into(),
        behavior_close: "FAILED".into(),
        reason: String::new(),
        expected: vec![],
        observed: vec![],
        close: CloseReport::default(),
        duration_ms: 0.0,
        wirelog: vec![],
        stats: None,
    }
}

// ---- scripted cases -----------------------------------------------------

struct Session {
    conn: Connection,
    observed: Vec<Expect>,
    log: Vec<String>,
    violation: Option<String>,
    closed_by_me: Option<bool>,
    dropped_by_me: bool,
    sent_close: bool,
    received_close: bool,
    remote_code: Option<u16>,
    remote_reason: Option<String>,
    eof: bool,
    t0: Instant,
}

impl Session {
    fn note(&mut self, s: String) {
        if self.log.len() < 200 {
            let ms = self.t0.elapsed().as_secs_f64() * 1000.0;
            self.log.push(format!("{ms:8.1} ms  {s}"));
        }
    }

    fn ended(&self) -> bool {
        self.eof
    }

    /// A failed write is noted, not fatal: the server may have dropped us.
    fn sent(&mut self, r: Result<(), WireError>) {
        if let Err(e) = r {
            self.note(format!("write failed: {e}"));
        }
    }

    /// Our closing handshake.
    async fn start_close(&mut self, payload: Vec<u8>) {
        if self.closed_by_me.is_none() && !self.received_close {
            self.closed_by_me = Some(true);
        }
        let f = Frame::new(frame::OP_CLOSE, payload);
        self.note(format!("TX {}", f.describe()));
        self.sent_close = true;
        let r = self.conn.send_frame(f).await;
        if let Err(e) = r {
            self.note(format!("write failed: {e}"));
        }
    }

    /// Processes events until `deadline` or TCP end. `finish`: the expected
    /// events that, once all seen, make us close (Autobahn's finishWhenDone).
    async fn pump(&mut self, deadline: tokio::time::Instant, finish: Option<&[Vec<Expect>]>) {
        while !self.eof {
            let ev = self.conn.next_event_until(deadline).await;
            match ev {
                Err(WireError::Timeout(_)) => return,
                Err(WireError::Protocol { code, detail }) => {
                    self.note(format!("PROTOCOL VIOLATION by server: {detail}"));
                    if self.violation.is_none() {
                        self.violation = Some(detail);
                    }
                    if !self.sent_close {
                        self.start_close(crate::conformance::catalog::close_payload(
                            Some(code),
                            b"",
                        ))
                        .await;
                    }
                    self.drop_tcp().await;
                    return;
                }
                Err(e) => {
                    self.note(format!("connection error: {e}"));
                    self.eof = true;
                    if self.closed_by_me.is_none() {
                        self.closed_by_me = Some(false);
                    }
                    return;
                }
                Ok(Event::Eof) => {
                    self.note("TCP closed by server".into());
                    self.eof = true;
                    if self.closed_by_me.is_none() {
                        self.closed_by_me = Some(false);
                    }
                    return;
                }
                Ok(Event::Ping(p)) => {
                    // Server heartbeats are answered and not part of the comparison.
                    self.note(format!(
                        "RX PING {} (answered, not compared)",
                        frame::preview(&p, 40)
                    ));
                    if !self.sent_close {
                        let _ = self.conn.pong(&p).await;
                    }
                }
                Ok(Event::Pong(p)) => {
                    self.note(format!("RX PONG {}", frame::preview(&p, 40)));
                    self.observed.push(Expect::Pong(p));
                }
                Ok(Event::Message {
                    binary,
                    data,
                    frames,
                }) => {
                    self.note(format!(
                        "RX {} message, {} octets in {frames} frame(s): {}",
                        if binary { "binary" } else { "text" },
                        data.len(),
                        frame::preview(&data, 40)
                    ));
                    self.observed.push(Expect::Message { binary, data });
                }
                Ok(Event::Close { code, reason }) => {
                    self.note(format!(
                        "RX CLOSE code={} reason={:?}",
                        CloseCode(code),
                        String::from_utf8_lossy(&reason)
                    ));
                    self.received_close = true;
                    self.remote_code = code;
                    self.remote_reason = Some(String::from_utf8_lossy(&reason).into());
                    if self.closed_by_me.is_none() {
                        self.closed_by_me = Some(false);
                    }
                    if !self.sent_close {
                        // Echo the code (RFC 6455 5.5.1).
                        self.start_close(crate::conformance::catalog::close_payload(code, b""))
                            .await;
                    }
                    let linger = tokio::time::Instant::now() + LINGER;
                    Box::pin(self.pump(linger, None)).await;
                    if !self.eof {
                        self.note(
                            "server did not close TCP after the closing handshake; dropping".into(),
                        );
                        self.drop_tcp().await;
                    }
                    return;
                }
            }
            if let Some(lists) = finish
                && !self.sent_close
                && !lists.is_empty()
                && lists.iter().all(|l| *l == self.observed)
            {
                self.start_close(crate::conformance::catalog::close_payload(Some(1000), b""))
                    .await;
            }
        }
    }

    async fn drop_tcp(&mut self) {
        if !self.eof {
            if self.closed_by_me.is_none() {
                self.closed_by_me = Some(true);
            }
            self.dropped_by_me = true;
            self.note("TCP dropped by us".into());
            let _ = self.conn.stream_mut().shutdown().await;
            self.eof = true;
        }
    }
}

async fn run_script(s: &Script, opts: &RunOptions) -> CaseResult {
    let mut r = blank();
    r.expected = s
        .outcomes
        .iter()
        .map(|(v, evs)| {
            format!(
                "{}: [{}]",
                v.label(),
                evs.iter()
                    .map(Expect::describe)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
        .collect();
    r.close.expected_closed_by_me = s.close.by_me;
    r.close.expected_codes = s.close.codes.clone();
    let copts = ConnectOptions {
        timeout: opts.connect_timeout,
        read_timeout: Duration::from_secs(5),
        protocols: opts.protocols.clone(),
        extra_headers: opts.headers.clone(),
        tls: opts.tls.clone(),
        ..Default::default()
    };
    let conn = match conn::connect(&opts.url_str, &copts).await {
        Ok(c) => c,
        Err(e) => {
            r.reason = format!("could not open the WebSocket connection: {e}");
            return r;
        }
    };
    let mut ss = Session {
        conn,
        observed: vec![],
        log: vec![],
        violation: None,
        closed_by_me: None,
        dropped_by_me: false,
        sent_close: false,
        received_close: false,
        remote_code: None,
        remote_reason: None,
        eof: false,
        t0: Instant::now(),
    };
    let finish: Option<Vec<Vec<Expect>>> = if s.close.by_me {
        Some(
            s.outcomes
                .iter()
                .filter(|(v, _)| *v == Verdict::Pass)
                .map(|(_, e)| e.clone())
                .collect(),
        )
    } else {
        None
    };
    for a in &s.actions {
        if ss.ended() || ss.received_close {
            ss.note("server ended the connection; remaining actions skipped".into());
            break;
        }
        match a {
            Action::Frames { frames, chop, sync } => {
                for f in frames {
                    ss.note(format!(
                        "TX {}{}",
                        f.describe(),
                        chop.map(|c| format!(" (chops of {c})")).unwrap_or_default()
                    ));
                }
                if *sync {
                    for f in frames {
                        let res = ss.conn.send_frame_chopped(f.clone(), *chop).await;
                        if let Err(e) = res {
                            ss.note(format!("write failed: {e}"));
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                } else if let Some(c) = chop {
                    let mut bytes = Vec::new();
                    for f in frames {
                        f.clone().mask(rand::random()).encode_into(&mut bytes);
                    }
                    let res = ss.conn.send_raw_chopped(&bytes, *c).await;
                    ss.sent(res);
                } else {
                    let res = ss.conn.send_frames(frames.clone()).await;
                    ss.sent(res);
                }
            }
            Action::Close(payload) => ss.start_close(payload.clone()).await,
            Action::Raw(bytes) => {
                ss.note(format!("TX {} raw octets", bytes.len()));
                let res = ss.conn.send_raw(bytes).await;
                ss.sent(res);
            }
            Action::Wait { ms, marker } => {
                let deadline = tokio::time::Instant::now() + Duration::from_millis(*ms);
                ss.pump(deadline, finish.as_deref()).await;
                if !ss.ended()
                    && !ss.received_close
                    && let Some(m) = marker
                {
                    ss.note(format!("still open after wait {m}"));
                    ss.observed.push(Expect::Timeout(m));
                }
            }
        }
    }
    match s.end {
        End::CloseAfter(ms) => {
            let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
            ss.pump(deadline, finish.as_deref()).await;
            if !ss.ended() {
                if !ss.sent_close {
                    ss.start_close(crate::conformance::catalog::close_payload(Some(1000), b""))
                        .await;
                }
                let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
                ss.pump(deadline, None).await;
                ss.drop_tcp().await;
            }
        }
        End::KillAfter(ms) => {
            let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
            ss.pump(deadline, finish.as_deref()).await;
            if !ss.ended() && ss.sent_close && !ss.received_close {
                // We closed and wait for the answer (Autobahn's closeAfter + kill).
                ss.pump(tokio::time::Instant::now() + LINGER, None).await;
            }
            ss.drop_tcp().await;
        }
    }
    judge_script(s, ss, r)
}

fn judge_script(s: &Script, ss: Session, mut r: CaseResult) -> CaseResult {
    r.observed = ss.observed.iter().map(Expect::describe).collect();
    r.wirelog = ss.log;
    let closed_by_me = ss.closed_by_me.unwrap_or(true);
    let was_clean = ss.sent_close && ss.received_close;
    r.close.closed_by_me = closed_by_me;
    r.close.dropped_by_me = ss.dropped_by_me;
    r.close.was_clean = was_clean;
    r.close.remote_code = ss.remote_code;
    r.close.remote_reason = ss.remote_reason.clone();

    let matched = s
        .outcomes
        .iter()
        .find(|(_, evs)| *evs == ss.observed)
        .map(|(v, _)| *v);
    r.behavior = match matched {
        Some(Verdict::Pass) => "OK",
        Some(Verdict::NonStrict) => "NON-STRICT",
        _ => "FAILED",
    }
    .into();
    let c: &CloseExpect = &s.close;
    let (close_behavior, close_reason): (&str, String) = if closed_by_me != c.by_me {
        (
            "FAILED",
            if c.by_me {
                "the server failed the connection where it should have stayed open".into()
            } else {
                "the server did not fail the connection (we had to close it)".into()
            },
        )
    } else if c.require_clean && !was_clean {
        (
            "UNCLEAN",
            "the closing handshake was not completed (the spec requires a clean close here)".into(),
        )
    } else if ss.remote_code.is_some_and(|code| !c.codes.contains(&code)) {
        (
            "WRONG CODE",
            format!(
                "close code {} received, expected {} or none",
                ss.remote_code.unwrap(),
                fmt_codes(&c.codes)
            ),
        )
    } else if ss.dropped_by_me {
        (
            "FAILED BY CLIENT",
            "the server did not close the TCP connection; we had to drop it".into(),
        )
    } else {
        ("OK", "connection was properly closed".into())
    };
    r.behavior_close = close_behavior.into();

    if s.informational {
        r.verdict = Verdict::Info;
        r.reason = format!(
            "{}; close: {close_reason}",
            match matched {
                Some(Verdict::Pass) => "the message was processed before the close",
                Some(_) => "the close was processed first",
                None => "events differ from both outcomes",
            }
        );
        if let Some(v) = ss.violation {
            r.reason.push_str(&format!("; protocol violation: {v}"));
        }
        return r;
    }
    if let Some(v) = ss.violation {
        r.verdict = Verdict::Fail;
        r.reason = format!("protocol violation by the server: {v}");
        return r;
    }
    if matched.is_none() {
        r.verdict = Verdict::Fail;
        r.reason = "actual events differ from any expected".into();
        return r;
    }
    let wrong_code_fatal = c.code_is_fatal
        || ss
            .remote_code
            .is_some_and(|code| !close_code_is_valid(code))
        || (ss.remote_code == Some(1000) && !c.codes.contains(&1000));
    r.verdict = match close_behavior {
        "FAILED" => Verdict::Fail,
        "WRONG CODE" if wrong_code_fatal => Verdict::Fail,
        "WRONG CODE" | "UNCLEAN" | "FAILED BY CLIENT" => Verdict::NonStrict,
        _ => matched.unwrap(),
    };
    r.reason = match (r.verdict, matched) {
        (Verdict::Pass, _) => {
            "actual events match the expected ones; connection was properly closed".into()
        }
        (_, Some(Verdict::NonStrict)) if close_behavior == "OK" => {
            "events match the NON-STRICT outcome".into()
        }
        _ => close_reason,
    };
    r
}

fn fmt_codes(c: &[u16]) -> String {
    c.iter()
        .map(|x| x.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

// ---- load cases ---------------------------------------------------------

async fn run_load(l: &Load, opts: &RunOptions) -> CaseResult {
    let mut r = blank();
    r.expected = vec![format!(
        "{} {} message(s) of {} octets echoed unchanged",
        l.count,
        if l.binary { "binary" } else { "text" },
        l.size
    )];
    r.close.expected_closed_by_me = true;
    r.close.expected_codes = vec![1000];
    let copts = ConnectOptions {
        timeout: opts.connect_timeout,
        read_timeout: l.timeout,
        deflate: l.offers.clone(),
        max_message: l.size.max(1 << 20) * 2,
        protocols: opts.protocols.clone(),
        extra_headers: opts.headers.clone(),
        tls: opts.tls.clone(),
    };
    let mut c = match conn::connect(&opts.url_str, &copts).await {
        Ok(c) => c,
        Err(e) => {
            r.reason = format!("could not open the WebSocket connection: {e}");
            return r;
        }
    };
    let mut stats = LoadStats {
        negotiated: c.deflate.map(|p| p.header_value()),
        ..Default::default()
    };
    if !l.offers.is_empty() && c.deflate.is_none() {
        let _ = c.close(Some(1000), "").await;
        r.verdict = Verdict::Info;
        r.behavior = "UNIMPLEMENTED".into();
        r.behavior_close = "OK".into();
        r.reason = "UNIMPLEMENTED: the server declined permessage-deflate".into();
        r.stats = Some(stats);
        return r;
    }
    let deadline = tokio::time::Instant::now() + l.timeout;
    let mut ptr = 0usize;
    let mut rtts = Vec::with_capacity(l.count);
    let op = if l.binary { OP_BINARY } else { OP_TEXT };
    for i in 0..l.count {
        let msg = match l.data {
            DataSource::Repeat(b) => vec![b; l.size],
            DataSource::Corpus(cp) => cp.slice(&mut ptr, l.size),
        };
        let t = Instant::now();
        let frag = if l.frag > 0 { Some(l.frag) } else { None };
        let sent = async {
            let frames = c.message_frames(op, &msg, frag)?;
            let mut bytes = Vec::with_capacity(msg.len() + 16 * frames.len());
            for f in frames {
                f.mask(rand::random()).encode_into(&mut bytes);
            }
            stats.wire_octets_sent += bytes.len() as u64;
            if l.chop > 0 {
                c.send_raw_chopped(&bytes, l.chop).await
            } else {
                c.send_raw(&bytes).await
            }
        }
        .await;
        if let Err(e) = sent {
            r.reason = format!("message {}: write failed: {e}", i + 1);
            r.stats = Some(stats);
            return r;
        }
        loop {
            match c.next_event_until(deadline).await {
                Ok(Event::Message { binary, data, .. }) => {
                    if binary != l.binary || data.len() != msg.len() || sha(&data) != sha(&msg) {
                        r.observed = vec![format!(
                            "message {}: {} message of {} octets (sha1 {}), sent {} octets (sha1 {}): {}",
                            i + 1,
                            if binary { "binary" } else { "text" },
                            data.len(),
                            hexs(&sha(&data)),
                            msg.len(),
                            hexs(&sha(&msg)),
                            frame::preview(&data, 32)
                        )];
                        r.reason = if binary != l.binary {
                            "echo'ed message type differs from what was sent".into()
                        } else if data.len() != msg.len() {
                            "echo'ed message length differs from what was sent".into()
                        } else {
                            "echo'ed message content differs from what was sent".into()
                        };
                        let _ = c.close(Some(1000), "").await;
                        r.stats = Some(stats);
                        return r;
                    }
                    break;
                }
                Ok(Event::Ping(p)) => {
                    let _ = c.pong(&p).await;
                }
                Ok(Event::Pong(_)) => {}
                Ok(Event::Close { code, reason }) => {
                    r.close.remote_code = code;
                    r.close.remote_reason = Some(String::from_utf8_lossy(&reason).into());
                    r.reason = format!(
                        "server closed the connection at message {} with code {} {:?}{}",
                        i + 1,
                        CloseCode(code),
                        String::from_utf8_lossy(&reason),
                        if code == Some(1009) {
                            " (message too big: raise the server's limit, e.g. WS_MAX_PAYLOAD)"
                        } else {
                            ""
                        }
                    );
                    r.stats = Some(stats);
                    return r;
                }
                Ok(Event::Eof) => {
                    r.reason = format!("server dropped the connection at message {}", i + 1);
                    r.stats = Some(stats);
                    return r;
                }
                Err(WireError::Timeout(_)) => {
                    r.reason = format!(
                        "case did not finish within {} s (at message {})",
                        l.timeout.as_secs(),
                        i + 1
                    );
                    r.stats = Some(stats);
                    return r;
                }
                Err(e) => {
                    r.reason = format!("message {}: {e}", i + 1);
                    r.stats = Some(stats);
                    return r;
                }
            }
        }
        rtts.push(t.elapsed().as_secs_f64() * 1000.0);
        stats.messages += 1;
        stats.payload_octets += msg.len() as u64;
    }
    rtts.sort_by(|a, b| a.total_cmp(b));
    stats.rtt_ms_p50 = rtts.get(rtts.len() / 2).copied();
    stats.rtt_ms_max = rtts.last().copied();
    r.observed = vec![format!("{} message(s) echoed unchanged", stats.messages)];
    r.behavior = "OK".into();
    // Closing handshake.
    let close = c.close(Some(1000), "").await;
    r.close.closed_by_me = true;
    match close {
        Ok(code) => {
            r.close.remote_code = code;
            r.close.was_clean = code.is_some() || c.received_close;
            if code.is_some_and(|x| x != 1000) {
                r.behavior_close = "WRONG CODE".into();
                r.verdict = Verdict::NonStrict;
                r.reason = format!(
                    "all messages echoed; close code {}, expected 1000",
                    CloseCode(code)
                );
            } else {
                r.behavior_close = "OK".into();
                r.verdict = Verdict::Pass;
                r.reason = "all messages echoed unchanged; connection was properly closed".into();
            }
        }
        Err(WireError::Protocol { detail, .. }) => {
            r.behavior_close = "FAILED".into();
            r.verdict = Verdict::Fail;
            r.reason = format!("protocol violation by the server while closing: {detail}");
        }
        Err(e) => {
            r.behavior_close = "UNCLEAN".into();
            r.verdict = Verdict::NonStrict;
            r.reason =
                format!("all messages echoed, but the closing handshake did not complete: {e}");
        }
    }
    r.stats = Some(stats);
    r
}

fn sha(b: &[u8]) -> [u8; 20] {
    Sha1::digest(b).into()
}

fn hexs(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ---- handshake cases ----------------------------------------------------

/// Add `protocols` to a request that offers none (a case that makes its own
/// offer keeps it). A raw request gets the header before its blank line.
fn offer_protocols(request: &mut HsRequest, protocols: &[String]) {
    if protocols.is_empty() {
        return;
    }
    match request {
        HsRequest::Structured(q) => {
            if q.protocols.is_empty() {
                q.protocols = protocols.to_vec();
            }
        }
        HsRequest::Raw { bytes, .. } => {
            if raw_header(bytes, "sec-websocket-protocol").is_some() {
                return;
            }
            if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
                let line = format!("\r\nSec-WebSocket-Protocol: {}", protocols.join(", "));
                bytes.splice(end..end, line.into_bytes());
            }
        }
    }
}

/// The user's extra headers (`--header`, `--origin`, `--token`), each
/// unless the case's request already has that header.
fn add_headers(request: &mut HsRequest, headers: &[(String, String)]) {
    for (k, v) in headers {
        match request {
            HsRequest::Structured(q) => {
                if !q
                    .extra_headers
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(k))
                {
                    q.extra_headers.push((k.clone(), v.clone()));
                }
            }
            HsRequest::Raw { bytes, .. } => {
                if raw_header(bytes, k).is_some() {
                    continue;
                }
                if let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
                    bytes.splice(end..end, format!("\r\n{k}: {v}").into_bytes());
                }
            }
        }
    }
}

/// The first value of header `name` in a raw request's head.
fn raw_header(bytes: &[u8], name: &str) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let head = text.split("\r\n\r\n").next()?;
    head.split("\r\n").skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case(name)
            .then(|| v.trim().to_string())
    })
}

async fn run_handshake(h: &super::case::HandshakeCase, opts: &RunOptions) -> CaseResult {
    let mut r = blank();
    let mut request = (h.request)(&opts.url);
    offer_protocols(&mut request, &opts.protocols);
    add_headers(&mut request, &opts.headers);
    let (bytes, key, protocols, extensions) = match &request {
        HsRequest::Structured(q) => (
            q.to_bytes(),
            q.key.clone(),
            q.protocols.clone(),
            q.extensions.clone(),
        ),
        HsRequest::Raw { bytes, key } => {
            let offered = raw_header(bytes, "sec-websocket-protocol")
                .map(|v| {
                    v.split(',')
                        .map(|p| p.trim().to_string())
                        .filter(|p| !p.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            (bytes.clone(), key.clone(), offered, vec![])
        }
    };
    let response = async {
        let mut s = conn::open(&opts.url, opts.connect_timeout, opts.tls.as_ref()).await?;
        s.write_all(&bytes).await?;
        let (resp, _) = handshake::read_response(&mut s, Duration::from_secs(5)).await?;
        let _ = s.shutdown().await;
        Ok::<_, WireError>(resp)
    }
    .await;
    if let Err(WireError::Connect(e)) = &response {
        r.reason = format!("could not connect: {e}");
        return r;
    }
    r.wirelog
        .push(format!("TX {}", String::from_utf8_lossy(&bytes).trim_end()));
    if let Ok(resp) = &response {
        r.wirelog.push(format!("RX {}", resp.head.trim_end()));
        r.observed = vec![format!("{} {}", resp.status, resp.reason)];
    }
    let outcome = HsOutcome {
        key,
        offered_protocols: protocols,
        offered_extensions: extensions,
        response: response.map_err(|e| e.to_string()),
    };
    let (v, why) = (h.check)(&outcome);
    r.verdict = v;
    r.behavior = v.label().into();
    r.behavior_close = "-".into();
    r.reason = why;
    r
}

#[allow(dead_code)]
fn _unused(_: HandshakeRequest) {}
