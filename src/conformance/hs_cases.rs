//! The opening-handshake suite (`h.*`): RFC 6455 section 4.2 checks a server
//! must make before it answers 101, and the negotiation it may do.

use super::case::{Body, Case, HandshakeCase, HsOutcome, HsRequest, Verdict};
use crate::wire::deflate::{self, DeflateOffer};
use crate::wire::handshake::{self, HandshakeRequest, HttpResponse, WsUrl};

fn hs(
    id: &str,
    description: &str,
    expectation: &str,
    request: fn(&WsUrl) -> HsRequest,
    check: fn(&HsOutcome) -> (Verdict, String),
) -> Case {
    Case {
        id: id.into(),
        description: description.into(),
        expectation: expectation.into(),
        body: Body::Handshake(HandshakeCase { request, check }),
    }
}

fn req(u: &WsUrl, f: impl FnOnce(&mut HandshakeRequest)) -> HsRequest {
    let mut r = HandshakeRequest::new(u);
    f(&mut r);
    HsRequest::Structured(Box::new(r))
}

fn status_line(r: &HttpResponse) -> String {
    format!("{} {}", r.status, r.reason)
}

/// The request must be refused. `strict`: statuses that PASS; other 4xx are
/// NON-STRICT; a dropped connection is NON-STRICT; 101 FAILs.
fn refuse(o: &HsOutcome, strict: &[u16], accept_verdict: Verdict) -> (Verdict, String) {
    match &o.response {
        Err(e) => (
            Verdict::NonStrict,
            format!("no HTTP answer ({e}); an HTTP error status is expected"),
        ),
        Ok(r) if r.status == 101 => (
            accept_verdict,
            "server accepted the upgrade (101); it must refuse this request".into(),
        ),
        Ok(r) if strict.contains(&r.status) => {
            (Verdict::Pass, format!("refused with {}", status_line(r)))
        }
        Ok(r) if (400..500).contains(&r.status) => (
            Verdict::NonStrict,
            format!(
                "refused with {}; {} is the usual answer",
                status_line(r),
                fmt_list(strict)
            ),
        ),
        Ok(r) => (
            Verdict::Fail,
            format!(
                "answered {}; expected a 4xx refusal ({})",
                status_line(r),
                fmt_list(strict)
            ),
        ),
    }
}

fn fmt_list(s: &[u16]) -> String {
    s.iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The upgrade must succeed with a correct accept key and nothing extra.
fn accept(o: &HsOutcome) -> (Verdict, String) {
    let r = match &o.response {
        Err(e) => return (Verdict::Fail, format!("no HTTP answer: {e}")),
        Ok(r) => r,
    };
    if let Err(e) = handshake::verify_upgrade(r, o.key.as_deref().unwrap_or("")) {
        return (Verdict::Fail, e);
    }
    if let Some(p) = r.header("sec-websocket-protocol")
        && !o.offered_protocols.iter().any(|x| x == p)
    {
        return (
            Verdict::Fail,
            format!("server selected subprotocol {p:?} that was not offered"),
        );
    }
    if let Some(e) = r.header_joined("sec-websocket-extensions")
        && o.offered_extensions.is_empty()
    {
        return (
            Verdict::Fail,
            format!("server answered extensions {e:?} that were not offered"),
        );
    }
    (
        Verdict::Pass,
        format!(
            "101 with Sec-WebSocket-Accept {:?}",
            r.header("sec-websocket-accept").unwrap_or("")
        ),
    )
}

/// A 101 answer must not select anything that was not offered / is invalid;
/// refusing with 4xx gets `refusal`.
fn no_bogus_selection(o: &HsOutcome, refusal: Verdict) -> (Verdict, String) {
    let r = match &o.response {
        Err(e) => return (Verdict::NonStrict, format!("no HTTP answer: {e}")),
        Ok(r) => r,
    };
    if r.status != 101 {
        if (400..500).contains(&r.status) {
            return (refusal, format!("refused with {}", status_line(r)));
        }
        return (Verdict::Fail, format!("answered {}", status_line(r)));
    }
    if let Err(e) = handshake::verify_upgrade(r, o.key.as_deref().unwrap_or("")) {
        return (Verdict::Fail, e);
    }
    if let Some(p) = r.header_joined("sec-websocket-protocol") {
        let offered: Vec<String> = o
            .offered_protocols
            .iter()
            .flat_map(|x| x.split(',').map(|t| t.trim().to_string()))
            .collect();
        if !offered.contains(&p) || p.is_empty() || p.contains(' ') {
            return (
                Verdict::Fail,
                format!("server selected subprotocol {p:?}, which is not a valid offered token"),
            );
        }
    }
    if let Some(e) = r.header_joined("sec-websocket-extensions") {
        return (
            Verdict::Fail,
            format!("server accepted extension(s) {e:?} from an invalid or unsupported offer"),
        );
    }
    (
        Verdict::Pass,
        "101 without selecting the invalid offer".into(),
    )
}

/// A valid deflate offer: accepted with a valid response, or declined (INFO).
fn deflate_ok(o: &HsOutcome, offers: &[DeflateOffer]) -> (Verdict, String) {
    let r = match &o.response {
        Err(e) => return (Verdict::Fail, format!("no HTTP answer: {e}")),
        Ok(r) => r,
    };
    if let Err(e) = handshake::verify_upgrade(r, o.key.as_deref().unwrap_or("")) {
        return (Verdict::Fail, e);
    }
    let Some(v) = r.header_joined("sec-websocket-extensions") else {
        return (
            Verdict::Info,
            "UNIMPLEMENTED: server declined permessage-deflate".into(),
        );
    };
    let exts = match deflate::parse_extensions(&v) {
        Ok(e) => e,
        Err(e) => {
            return (
                Verdict::Fail,
                format!("malformed Sec-WebSocket-Extensions {v:?}: {e}"),
            );
        }
    };
    if exts.len() != 1 {
        return (
            Verdict::Fail,
            format!("server accepted {} extensions: {v:?}", exts.len()),
        );
    }
    match deflate::accept_response(offers, &exts[0]) {
        Ok(p) => (Verdict::Pass, format!("accepted: {}", p.header_value())),
        Err(e) => (
            Verdict::Fail,
            format!("invalid permessage-deflate response {v:?}: {e}"),
        ),
    }
}

fn raw(u: &WsUrl, lines: &[String]) -> HsRequest {
    let key = handshake::random_key();
    let mut s = format!("GET {} HTTP/1.1\r\nHost: {}\r\n", u.resource, u.authority());
    for l in lines {
        s.push_str(&l.replace("{key}", &key));
        s.push_str("\r\n");
    }
    s.push_str("\r\n");
    HsRequest::Raw {
        bytes: s.into_bytes(),
        key: Some(key),
    }
}

macro_rules! deflate_case {
    ($v:expr, $id:expr, $desc:expr, $offer:expr) => {{
        fn offers() -> Vec<DeflateOffer> {
            $offer
        }
        $v.push(hs(
            $id,
            &format!(
                "Offer {}.",
                offers()
                    .iter()
                    .map(DeflateOffer::header_value)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            $desc,
            |u| {
                req(u, |r| {
                    r.extensions = vec![
                        offers()
                            .iter()
                            .map(DeflateOffer::header_value)
                            .collect::<Vec<_>>()
                            .join(", "),
                    ]
                })
            },
            |o| deflate_ok(o, &offers()),
        ));
    }};
}

pub fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    v.push(hs("h.1", "A valid opening handshake.", "101 Switching Protocols with the correct Sec-WebSocket-Accept, no subprotocol or extension that was not offered.", |u| req(u, |_| {}), accept));
    v.push(hs(
        "h.2",
        "Handshake without Sec-WebSocket-Key.",
        "Refused with 400 Bad Request (RFC 6455 4.2.1 item 5, 4.2.2).",
        |u| req(u, |r| r.key = None),
        |o| refuse(o, &[400], Verdict::Fail),
    ));
    v.push(hs(
        "h.3",
        "Sec-WebSocket-Key that is not base64 (\"not a base64 key!!\").",
        "Refused with 400. NON-STRICT if accepted: the key must be a base64-encoded 16-octet nonce.",
        |u| req(u, |r| r.key = Some("not a base64 key!!".into())),
        |o| refuse(o, &[400], Verdict::NonStrict),
    ));
    v.push(hs(
        "h.4",
        "Sec-WebSocket-Key that decodes to 8 octets instead of 16.",
        "Refused with 400. NON-STRICT if accepted.",
        |u| req(u, |r| r.key = Some("AAAAAAAAAAA=".into())),
        |o| refuse(o, &[400], Verdict::NonStrict),
    ));
    v.push(hs(
        "h.5",
        "Two Sec-WebSocket-Key headers.",
        "Refused with 400. NON-STRICT if accepted.",
        |u| {
            req(u, |r| {
                r.extra_headers
                    .push(("Sec-WebSocket-Key".into(), handshake::random_key()))
            })
        },
        |o| refuse(o, &[400], Verdict::NonStrict),
    ));
    v.push(hs(
        "h.6",
        "Sec-WebSocket-Version: 12 (a version no server implements).",
        "Refused with 426 Upgrade Required and a Sec-WebSocket-Version: 13 header (RFC 6455 4.4). NON-STRICT for another 4xx or a missing header.",
        |u| req(u, |r| r.version = Some("12".into())),
        |o| {
            let (v, why) = refuse(o, &[426], Verdict::Fail);
            let Ok(r) = &o.response else { return (v, why) };
            if r.status == 101 || v == Verdict::Fail {
                return (v, why);
            }
            if !r.header_tokens("sec-websocket-version").iter().any(|t| t == "13") {
                return (Verdict::NonStrict, format!("{why}; but without a Sec-WebSocket-Version: 13 header (RFC 6455 4.4 requires it)"));
            }
            (v, format!("{why} with Sec-WebSocket-Version: {}", r.header("sec-websocket-version").unwrap_or("")))
        },
    ));
    v.push(hs(
        "h.7",
        "Handshake without Sec-WebSocket-Version.",
        "Refused (400 or 426).",
        |u| req(u, |r| r.version = None),
        |o| refuse(o, &[400, 426], Verdict::Fail),
    ));
    v.push(hs(
        "h.8",
        "Sec-WebSocket-Version: abc.",
        "Refused (400 or 426).",
        |u| req(u, |r| r.version = Some("abc".into())),
        |o| refuse(o, &[400, 426], Verdict::Fail),
    ));
    v.push(hs(
        "h.9",
        "Upgrade request with method POST.",
        "Refused (400 or 405): the handshake must be a GET (RFC 6455 4.2.1 item 1).",
        |u| req(u, |r| r.method = "POST".into()),
        |o| refuse(o, &[400, 405], Verdict::Fail),
    ));
    v.push(hs(
        "h.10",
        "Upgrade request over HTTP/1.0.",
        "Refused (400 or 505): RFC 6455 requires HTTP/1.1 or higher. NON-STRICT if accepted.",
        |u| req(u, |r| r.http_version = "HTTP/1.0".into()),
        |o| refuse(o, &[400, 505], Verdict::NonStrict),
    ));
    v.push(hs(
        "h.11",
        "Handshake without an Upgrade header.",
        "Not upgraded: 400 or 426.",
        |u| req(u, |r| r.upgrade = None),
        |o| refuse(o, &[400, 426], Verdict::Fail),
    ));
    v.push(hs(
        "h.12",
        "Handshake with Upgrade: h2c.",
        "Not upgraded: 400 or 426.",
        |u| req(u, |r| r.upgrade = Some("h2c".into())),
        |o| refuse(o, &[400, 426], Verdict::Fail),
    ));
    v.push(hs(
        "h.13",
        "Handshake without a Connection header.",
        "Not upgraded: 400 or 426.",
        |u| req(u, |r| r.connection = None),
        |o| refuse(o, &[400, 426], Verdict::Fail),
    ));
    v.push(hs(
        "h.14",
        "Handshake with Connection: keep-alive (no upgrade token).",
        "Not upgraded: 400 or 426.",
        |u| req(u, |r| r.connection = Some("keep-alive".into())),
        |o| refuse(o, &[400, 426], Verdict::Fail),
    ));
    v.push(hs(
        "h.15",
        "Handshake with Connection: keep-alive, Upgrade (as Firefox sends it).",
        "101: Connection is a token list.",
        |u| req(u, |r| r.connection = Some("keep-alive, Upgrade".into())),
        accept,
    ));
    v.push(hs(
        "h.16",
        "Handshake with Upgrade: WebSocket (mixed case).",
        "101: the Upgrade value is case-insensitive.",
        |u| req(u, |r| r.upgrade = Some("WebSocket".into())),
        accept,
    ));
    v.push(hs(
        "h.17",
        "Handshake without a Host header.",
        "Refused with 400 (HTTP/1.1 requires Host). NON-STRICT if accepted.",
        |u| req(u, |r| r.host = None),
        |o| refuse(o, &[400], Verdict::NonStrict),
    ));
    v.push(hs(
        "h.18",
        "A plain HTTP GET on the WebSocket path (no upgrade headers).",
        "Not 101: a 4xx such as 426 Upgrade Required or 400. NON-STRICT for a 2xx page.",
        |u| HsRequest::Raw {
            bytes: format!(
                "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                u.resource,
                u.authority()
            )
            .into_bytes(),
            key: None,
        },
        |o| match &o.response {
            Ok(r) if (200..300).contains(&r.status) => {
                (Verdict::NonStrict, format!("answered {}", status_line(r)))
            }
            _ => refuse(o, &[426, 400], Verdict::Fail),
        },
    ));
    v.push(hs(
        "h.19",
        "Offer an unknown subprotocol (wsgen-unknown-protocol).",
        "101 without Sec-WebSocket-Protocol (RFC 6455 4.2.2: the server must not select a protocol that was not offered). NON-STRICT if refused.",
        |u| req(u, |r| r.protocols = vec!["wsgen-unknown-protocol".into()]),
        |o| no_bogus_selection(o, Verdict::NonStrict),
    ));
    v.push(hs(
        "h.20",
        "Malformed Sec-WebSocket-Protocol header (\"a b, , @@\").",
        "Refused with 400, or 101 without selecting any protocol.",
        |u| req(u, |r| r.protocols = vec!["a b, , @@".into()]),
        |o| no_bogus_selection(o, Verdict::Pass),
    ));
    v.push(hs(
        "h.21",
        "Offer an unknown extension (x-wsgen-unknown; foo=bar).",
        "101 without Sec-WebSocket-Extensions. NON-STRICT if refused.",
        |u| {
            req(u, |r| {
                r.extensions = vec!["x-wsgen-unknown; foo=bar".into()]
            })
        },
        |o| no_bogus_selection(o, Verdict::NonStrict),
    ));
    let bad_deflate: [(&str, &str); 5] = [
        ("h.22", "permessage-deflate; server_max_window_bits=abc"),
        ("h.23", "permessage-deflate; server_max_window_bits=7"),
        ("h.24", "permessage-deflate; client_max_window_bits=16"),
        ("h.25", "permessage-deflate; foo"),
        (
            "h.26",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        ),
    ];
    for (id, offer) in bad_deflate {
        let c = match id {
            "h.22" => hs(
                id,
                "",
                "",
                |u| {
                    req(u, |r| {
                        r.extensions = vec!["permessage-deflate; server_max_window_bits=abc".into()]
                    })
                },
                |o| no_bogus_selection(o, Verdict::Pass),
            ),
            "h.23" => hs(
                id,
                "",
                "",
                |u| {
                    req(u, |r| {
                        r.extensions = vec!["permessage-deflate; server_max_window_bits=7".into()]
                    })
                },
                |o| no_bogus_selection(o, Verdict::Pass),
            ),
            "h.24" => hs(
                id,
                "",
                "",
                |u| {
                    req(u, |r| {
                        r.extensions = vec!["permessage-deflate; client_max_window_bits=16".into()]
                    })
                },
                |o| no_bogus_selection(o, Verdict::Pass),
            ),
            "h.25" => hs(
                id,
                "",
                "",
                |u| req(u, |r| r.extensions = vec!["permessage-deflate; foo".into()]),
                |o| no_bogus_selection(o, Verdict::Pass),
            ),
            _ => hs(
                id,
                "",
                "",
                |u| {
                    req(u, |r| {
                        r.extensions = vec!["permessage-deflate; server_no_context_takeover; server_no_context_takeover".into()]
                    })
                },
                |o| no_bogus_selection(o, Verdict::Pass),
            ),
        };
        v.push(Case {
            description: format!("Offer an invalid permessage-deflate extension: {offer}."),
            expectation: "The offer is declined (101 without Sec-WebSocket-Extensions) or the request refused with 400 (RFC 7692 5, 7.1).".into(),
            ..c
        });
    }
    let exp = "Accepted with a response valid for the offer (RFC 7692 7.1), or declined (INFO, UNIMPLEMENTED).";
    deflate_case!(v, "h.27", exp, vec![DeflateOffer::new()]);
    deflate_case!(
        v,
        "h.28",
        exp,
        vec![DeflateOffer {
            client_no_context_takeover: true,
            ..DeflateOffer::new()
        }]
    );
    deflate_case!(
        v,
        "h.29",
        exp,
        vec![DeflateOffer {
            server_no_context_takeover: true,
            ..DeflateOffer::new()
        }]
    );
    deflate_case!(
        v,
        "h.30",
        exp,
        vec![DeflateOffer {
            server_max_window_bits: Some(10),
            ..DeflateOffer::new()
        }]
    );
    deflate_case!(
        v,
        "h.31",
        exp,
        vec![DeflateOffer {
            client_max_window_bits: Some(Some(10)),
            ..DeflateOffer::default()
        }]
    );
    deflate_case!(v, "h.32", exp, vec![DeflateOffer::default()]);
    v.push(hs(
        "h.33",
        "Offer an unknown extension first, then permessage-deflate.",
        "At most permessage-deflate is accepted, with a valid response; declining is INFO.",
        |u| {
            req(u, |r| {
                r.extensions =
                    vec!["x-wsgen-unknown, permessage-deflate; client_max_window_bits".into()]
            })
        },
        |o| deflate_ok(o, &[DeflateOffer::new()]),
    ));
    v.push(hs(
        "h.34",
        "Sec-WebSocket-Key and other header names in lower case.",
        "101: header names are case-insensitive.",
        |u| {
            raw(
                u,
                &[
                    "upgrade: websocket".into(),
                    "connection: Upgrade".into(),
                    "sec-websocket-key: {key}".into(),
                    "sec-websocket-version: 13".into(),
                ],
            )
        },
        accept,
    ));
    v.push(hs(
        "h.35",
        "GET /healthz (not part of RFC 6455; wsgen's generated servers serve it).",
        "200. INFO otherwise.",
        |u| HsRequest::Raw {
            bytes: format!(
                "GET /healthz HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                u.authority()
            )
            .into_bytes(),
            key: None,
        },
        |o| match &o.response {
            Ok(r) if r.status == 200 => (Verdict::Pass, "200".into()),
            Ok(r) => (
                Verdict::Info,
                format!(
                    "answered {} (only wsgen's servers are expected to serve /healthz)",
                    status_line(r)
                ),
            ),
            Err(e) => (Verdict::Info, format!("no answer: {e}")),
        },
    ));
    v.push(hs(
        "h.36",
        "Sec-WebSocket-Version: 8 (draft hybi-08, wire-compatible with 13).",
        "Refused with 426 and Sec-WebSocket-Version: 13. NON-STRICT if accepted: some libraries (Node's ws) still implement draft 8.",
        |u| req(u, |r| r.version = Some("8".into())),
        |o| refuse(o, &[426], Verdict::NonStrict),
    ));
    v
}
