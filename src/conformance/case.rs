//! The case model: every case is data (a script of actions plus what to
//! expect), interpreted by [`super::runner`].

use std::time::Duration;

use serde::Serialize;

use crate::wire::{DeflateOffer, Frame, HandshakeRequest, HttpResponse, WsUrl};

/// Final verdict of a case (Autobahn's semantics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING-KEBAB-CASE")]
pub enum Verdict {
    Pass,
    NonStrict,
    Info,
    Fail,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::NonStrict => "NON-STRICT",
            Verdict::Info => "INFO",
            Verdict::Fail => "FAIL",
        }
    }
}

/// One conformance case.
#[derive(Debug, Clone)]
pub struct Case {
    /// Autobahn-style id (`1.1.1`, `6.4.2`, `13.7.18`) or `h.N` for the
    /// opening-handshake suite.
    pub id: String,
    pub description: String,
    pub expectation: String,
    pub body: Body,
}

#[derive(Debug, Clone)]
pub enum Body {
    Script(Script),
    Load(Load),
    Handshake(HandshakeCase),
}

impl Case {
    /// Category: the part of the id before the first dot.
    pub fn category(&self) -> &str {
        self.id.split('.').next().unwrap_or("")
    }
}

/// A scripted exchange (categories 1-7 and 10).
#[derive(Debug, Clone)]
pub struct Script {
    pub actions: Vec<Action>,
    /// Acceptable event sequences, best first: (verdict if matched, events).
    pub outcomes: Vec<(Verdict, Vec<Expect>)>,
    pub close: CloseExpect,
    pub end: End,
    /// Case outcome is undefined by the spec: always INFO, with detail.
    pub informational: bool,
}

/// Something the runner does.
#[derive(Debug, Clone)]
pub enum Action {
    /// Send frames. `chop`: write the octets in pieces of this size;
    /// `sync`: each frame its own write (Autobahn's "frame-wise chops").
    Frames {
        frames: Vec<Frame>,
        chop: Option<usize>,
        sync: bool,
    },
    /// Send a close frame with this raw payload as *our* closing handshake.
    Close(Vec<u8>),
    /// Send raw octets (pieces of one frame, for fail-fast tests).
    Raw(Vec<u8>),
    /// Wait, watching the connection. If still open afterwards, record
    /// `Expect::Timeout(marker)` when a marker is given.
    Wait {
        ms: u64,
        marker: Option<&'static str>,
    },
}

/// An event the server is expected to produce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    Message { binary: bool, data: Vec<u8> },
    Pong(Vec<u8>),
    Timeout(&'static str),
}

impl Expect {
    pub fn text(s: impl AsRef<[u8]>) -> Self {
        Expect::Message {
            binary: false,
            data: s.as_ref().to_vec(),
        }
    }
    pub fn binary(b: impl AsRef<[u8]>) -> Self {
        Expect::Message {
            binary: true,
            data: b.as_ref().to_vec(),
        }
    }
    pub fn describe(&self) -> String {
        match self {
            Expect::Message { binary, data } => format!(
                "{} message, {} octets: {}",
                if *binary { "binary" } else { "text" },
                data.len(),
                crate::wire::frame::preview(data, 48)
            ),
            Expect::Pong(p) => format!("pong {}", crate::wire::frame::preview(p, 48)),
            Expect::Timeout(m) => format!("connection still open after wait {m}"),
        }
    }
}

/// How the connection should end.
#[derive(Debug, Clone)]
pub struct CloseExpect {
    /// True when we are expected to start the closing handshake (the server
    /// should not fail the connection).
    pub by_me: bool,
    /// Acceptable close codes from the server.
    pub codes: Vec<u16>,
    pub require_clean: bool,
    /// A wrong close code fails the case (close-handling cases).
    pub code_is_fatal: bool,
}

/// What the runner does after the script.
#[derive(Debug, Clone, Copy)]
pub enum End {
    /// Wait this long for the expected events, then start a normal close.
    CloseAfter(u64),
    /// Wait this long for the server to end the connection, then drop TCP.
    KillAfter(u64),
}

/// A bulk echo workload (categories 9, 12, 13).
#[derive(Debug, Clone)]
pub struct Load {
    pub binary: bool,
    pub size: usize,
    pub count: usize,
    /// Auto-fragment size (Autobahn's autoFragmentSize), 0 = none.
    pub frag: usize,
    /// Write octets in pieces of this size, 0 = whole.
    pub chop: usize,
    pub data: DataSource,
    /// permessage-deflate offers (non-empty for 12.x / 13.x).
    pub offers: Vec<DeflateOffer>,
    pub timeout: Duration,
}

/// Where a load case's payload comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataSource {
    /// One octet repeated (`*` for text, 0xFE for binary).
    Repeat(u8),
    /// A synthetic corpus, read round-robin (Autobahn's test files).
    Corpus(super::corpus::Corpus),
}

/// Opening-handshake case: build a request, judge the raw response.
#[derive(Clone)]
pub struct HandshakeCase {
    pub request: fn(&WsUrl) -> HsRequest,
    pub check: fn(&HsOutcome) -> (Verdict, String),
}

impl std::fmt::Debug for HandshakeCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HandshakeCase")
    }
}

/// A request to send: structured, or raw octets for what cannot be expressed.
pub enum HsRequest {
    Structured(Box<HandshakeRequest>),
    Raw { bytes: Vec<u8>, key: Option<String> },
}

/// What came back from a handshake case.
#[derive(Debug)]
pub struct HsOutcome {
    pub key: Option<String>,
    pub offered_protocols: Vec<String>,
    pub offered_extensions: Vec<String>,
    /// The response, or why there was none.
    pub response: Result<HttpResponse, String>,
}
