//! The WebSocket opening handshake (RFC 6455 section 4.2): validate the
//! request, choose the subprotocol, agree on permessage-deflate, and write the
//! `101 Switching Protocols` response.

use crate::deflate;
use crate::http::{Request, Response};
use crate::spec;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha1::{Digest, Sha1};

/// The GUID that RFC 6455 appends to `Sec-WebSocket-Key`.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// A handshake the server accepts.
#[derive(Debug)]
pub struct Accepted {
    /// The `101 Switching Protocols` response head, ready to write.
    pub response: String,
    /// The negotiated subprotocol (one of [`spec::SUBPROTOCOLS`]).
    pub subprotocol: Option<&'static str>,
    /// The agreed permessage-deflate parameters, as sent to the client.
    pub deflate: Option<String>,
}

/// A handshake the server refuses, with the status and plain-text reason it answers.
#[derive(Debug, PartialEq, Eq)]
pub struct Rejected {
    /// Status code and reason phrase.
    pub status: &'static str,
    /// Extra response header lines.
    pub headers: &'static str,
    /// Why, for the response body.
    pub reason: String,
    /// Refused for want of a common subprotocol (`requireSubprotocol`).
    pub subprotocol: bool,
}

impl Rejected {
    fn bad_request(reason: impl Into<String>) -> Rejected {
        Rejected {
            status: "400 Bad Request",
            headers: "",
            reason: reason.into(),
            subprotocol: false,
        }
    }

    /// The status code, as logged.
    pub fn code(&self) -> u16 {
        self.status[..3].parse().unwrap_or(0)
    }

    /// The HTTP response that carries the refusal.
    pub fn response(&self) -> Response<'_> {
        Response {
            headers: self.headers,
            ..Response::text(self.status, &self.reason)
        }
    }
}

/// Validates a handshake request and builds the response; `compression` is
/// whether permessage-deflate is on (`WS_COMPRESSION`).
pub fn accept(request: &Request, compression: bool) -> Result<Accepted, Rejected> {
    if request.method != "GET" || request.http_minor < 1 {
        return Err(Rejected::bad_request(
            "a WebSocket handshake must be an HTTP/1.1 GET request\n",
        ));
    }
    if !request.has_host {
        return Err(Rejected::bad_request("missing Host header\n"));
    }
    if !request.upgrade_websocket || !request.connection_upgrade {
        return Err(Rejected::bad_request(
            "a WebSocket handshake needs `Upgrade: websocket` and `Connection: Upgrade`\n",
        ));
    }
    match request.version.as_deref() {
        Some("13") => {}
        Some(_) => {
            return Err(Rejected {
                status: "426 Upgrade Required",
                headers: "Sec-WebSocket-Version: 13\r\n",
                reason: "this server speaks WebSocket version 13\n".to_string(),
                subprotocol: false,
            });
        }
        None => return Err(Rejected::bad_request("missing Sec-WebSocket-Version\n")),
    }
    let key = match request.key.as_deref() {
        Some(key)
            if request.key_headers == 1
                && BASE64.decode(key).is_ok_and(|nonce| nonce.len() == 16) =>
        {
            key
        }
        _ => {
            return Err(Rejected::bad_request(
                "missing or invalid Sec-WebSocket-Key\n",
            ));
        }
    };
    if request.trailing > 0 {
        return Err(Rejected::bad_request(
            "data sent before the handshake response\n",
        ));
    }
    let subprotocol = choose_subprotocol(&request.protocols);
    if subprotocol.is_none() && spec::REQUIRE_SUBPROTOCOL {
        return Err(Rejected {
            subprotocol: true,
            ..Rejected::bad_request(format!(
                "this server requires a WebSocket subprotocol; it speaks: {}\n",
                spec::SUBPROTOCOLS.join(", ")
            ))
        });
    }
    let deflate = if compression {
        deflate::negotiate(&request.extensions, &spec::DEFLATE)
    } else {
        None
    };

    let mut response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n",
        accept_key(key)
    );
    if let Some(protocol) = subprotocol {
        response.push_str(&format!("Sec-WebSocket-Protocol: {protocol}\r\n"));
    }
    if let Some(extension) = &deflate {
        response.push_str(&format!("Sec-WebSocket-Extensions: {extension}\r\n"));
    }
    response.push_str("\r\n");
    Ok(Accepted {
        response,
        subprotocol,
        deflate,
    })
}

/// The first protocol in the client's offer that the server speaks.
pub fn choose_subprotocol(offered: &[String]) -> Option<&'static str> {
    offered.iter().find_map(|offer| {
        spec::SUBPROTOCOLS
            .iter()
            .copied()
            .find(|ours| ours == offer)
    })
}

/// `Sec-WebSocket-Accept` for a client's `Sec-WebSocket-Key`.
fn accept_key(key: &str) -> String {
    let mut sha1 = Sha1::new();
    sha1.update(key.as_bytes());
    sha1.update(GUID.as_bytes());
    BASE64.encode(sha1.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake() -> Request {
        Request {
            method: "GET".into(),
            path: spec::PATH.into(),
            upgrade_websocket: true,
            connection_upgrade: true,
            http_minor: 1,
            has_host: true,
            key: Some("dGhlIHNhbXBsZSBub25jZQ==".into()),
            key_headers: 1,
            version: Some("13".into()),
            ..Request::default()
        }
    }

    #[test]
    fn accept_key_matches_rfc_6455() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn picks_the_first_offered_protocol_the_server_speaks() {
        let mut offer = vec!["unknown".to_string()];
        offer.extend(spec::SUBPROTOCOLS.iter().rev().map(|p| p.to_string()));
        assert_eq!(
            choose_subprotocol(&offer),
            spec::SUBPROTOCOLS.last().copied()
        );
        assert_eq!(choose_subprotocol(&["unknown".to_string()]), None);
    }

    #[test]
    fn refuses_malformed_handshakes() {
        let no_key = Request {
            key: None,
            ..handshake()
        };
        assert_eq!(
            accept(&no_key, false).unwrap_err().status,
            "400 Bad Request"
        );
        let old = Request {
            version: Some("8".into()),
            ..handshake()
        };
        assert_eq!(
            accept(&old, false).unwrap_err().status,
            "426 Upgrade Required"
        );
        let two_keys = Request {
            key_headers: 2,
            ..handshake()
        };
        assert_eq!(
            accept(&two_keys, false).unwrap_err().status,
            "400 Bad Request"
        );
        let http10 = Request {
            http_minor: 0,
            ..handshake()
        };
        assert_eq!(
            accept(&http10, false).unwrap_err().status,
            "400 Bad Request"
        );
        let no_host = Request {
            has_host: false,
            ..handshake()
        };
        assert_eq!(
            accept(&no_host, false).unwrap_err().status,
            "400 Bad Request"
        );
    }

    #[test]
    fn answers_with_the_accept_key() {
        let request = Request {
            protocols: spec::SUBPROTOCOLS.iter().map(|p| p.to_string()).collect(),
            ..handshake()
        };
        let accepted = accept(&request, false).expect("a valid handshake");
        assert!(
            accepted
                .response
                .starts_with("HTTP/1.1 101 Switching Protocols\r\n")
        );
        assert!(
            accepted
                .response
                .contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n")
        );
        assert_eq!(accepted.subprotocol, spec::SUBPROTOCOLS.first().copied());
        assert_eq!(accepted.deflate, None);
    }
}
