//! The opening handshake (RFC 6455 section 4): request building, raw HTTP
//! response parsing and `Sec-WebSocket-Accept` checks.
//!
//! Every request field can be changed or left out so the conformance suite
//! can send malformed handshakes and inspect the server's raw answer.

use std::time::Duration;

use base64::Engine;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::WireError;

pub const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// `Sec-WebSocket-Accept` for a given key.
pub fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.as_bytes());
    h.update(GUID.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// A fresh random 16-octet key, base64-encoded.
pub fn random_key() -> String {
    let k: [u8; 16] = rand::random();
    base64::engine::general_purpose::STANDARD.encode(k)
}

/// A parsed `ws://host:port/path` or `wss://host:port/path` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsUrl {
    /// `wss://`: TLS over the TCP connection.
    pub tls: bool,
    pub host: String,
    pub port: u16,
    /// Path plus query, always starting with `/`.
    pub resource: String,
}

impl WsUrl {
    pub fn parse(url: &str) -> Result<Self, WireError> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("ws://") {
            (false, r)
        } else if let Some(r) = url.strip_prefix("wss://") {
            (true, r)
        } else {
            return Err(WireError::Url(format!(
                "{url}: expected a ws://HOST:PORT/PATH or wss://HOST:PORT/PATH URL"
            )));
        };
        let (authority, resource) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_string()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_string()),
        };
        let (host, port) = if let Some(h) = authority.strip_prefix('[') {
            let (h, p) = h
                .split_once(']')
                .ok_or_else(|| WireError::Url(format!("{url}: bad IPv6 host")))?;
            (h.to_string(), p.strip_prefix(':').unwrap_or(""))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), p),
                None => (authority.to_string(), ""),
            }
        };
        if host.is_empty() {
            return Err(WireError::Url(format!("{url}: missing host")));
        }
        let port = if port.is_empty() {
            if tls { 443 } else { 80 }
        } else {
            port.parse()
                .map_err(|_| WireError::Url(format!("{url}: bad port {port:?}")))?
        };
        Ok(WsUrl {
            tls,
            host,
            port,
            resource,
        })
    }

    /// `host:port` for the `Host` header and for connecting.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// An opening-handshake request. `None` fields are left out of the request.
#[derive(Debug, Clone)]
pub struct HandshakeRequest {
    pub method: String,
    pub resource: String,
    pub http_version: String,
    pub host: Option<String>,
    pub upgrade: Option<String>,
    pub connection: Option<String>,
    pub key: Option<String>,
    pub version: Option<String>,
    /// One `Sec-WebSocket-Protocol` header listing these, if any.
    pub protocols: Vec<String>,
    /// `Sec-WebSocket-Extensions` header values, one header each.
    pub extensions: Vec<String>,
    pub extra_headers: Vec<(String, String)>,
}

impl HandshakeRequest {
    /// A valid request for `url` with a fresh random key.
    pub fn new(url: &WsUrl) -> Self {
        HandshakeRequest {
            method: "GET".into(),
            resource: url.resource.clone(),
            http_version: "HTTP/1.1".into(),
            host: Some(url.authority()),
            upgrade: Some("websocket".into()),
            connection: Some("Upgrade".into()),
            key: Some(random_key()),
            version: Some("13".into()),
            protocols: Vec::new(),
            extensions: Vec::new(),
            extra_headers: Vec::new(),
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut s = format!(
            "{} {} {}\r\n",
            self.method, self.resource, self.http_version
        );
        let mut h = |k: &str, v: &str| s.push_str(&format!("{k}: {v}\r\n"));
        if let Some(v) = &self.host {
            h("Host", v);
        }
        if let Some(v) = &self.upgrade {
            h("Upgrade", v);
        }
        if let Some(v) = &self.connection {
            h("Connection", v);
        }
        if let Some(v) = &self.key {
            h("Sec-WebSocket-Key", v);
        }
        if let Some(v) = &self.version {
            h("Sec-WebSocket-Version", v);
        }
        if !self.protocols.is_empty() {
            h("Sec-WebSocket-Protocol", &self.protocols.join(", "));
        }
        for e in &self.extensions {
            h("Sec-WebSocket-Extensions", e);
        }
        for (k, v) in &self.extra_headers {
            h(k, v);
        }
        s.push_str("\r\n");
        s.into_bytes()
    }
}

/// The server's raw answer to a handshake request.
#[derive(Debug, Clone, Default)]
pub struct HttpResponse {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    /// Body octets read (only for non-101 answers; capped at 64 KiB).
    pub body: Vec<u8>,
    /// The status line and headers exactly as received.
    pub head: String,
}

impl HttpResponse {
    /// First header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All values of a header, comma-lists split and trimmed.
    pub fn header_tokens(&self, name: &str) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(',').map(|t| t.trim().to_string()))
            .filter(|t| !t.is_empty())
            .collect()
    }

    /// The header values joined with `, ` (RFC 9110 field combination).
    pub fn header_joined(&self, name: &str) -> Option<String> {
        let v: Vec<&str> = self
            .headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        if v.is_empty() {
            None
        } else {
            Some(v.join(", "))
        }
    }
}

/// Sends `req` on `stream` and reads the response head (and, for non-101
/// answers, the body). Returns the response and any octets read past the head
/// (the first WebSocket frames, for a 101).
pub async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    req: &HandshakeRequest,
    timeout: Duration,
) -> Result<(HttpResponse, Vec<u8>), WireError> {
    let bytes = req.to_bytes();
    tokio::time::timeout(timeout, stream.write_all(&bytes))
        .await
        .map_err(|_| WireError::Timeout("sending the handshake request".into()))??;
    read_response(stream, timeout).await
}

/// Reads an HTTP/1.1 response head from `stream`.
pub async fn read_response<S: AsyncRead + Unpin>(
    stream: &mut S,
    timeout: Duration,
) -> Result<(HttpResponse, Vec<u8>), WireError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut buf = Vec::with_capacity(1024);
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return Err(WireError::Handshake("response head exceeds 64 KiB".into()));
        }
        let n = tokio::time::timeout_at(deadline, stream.read(&mut tmp))
            .await
            .map_err(|_| WireError::Timeout("waiting for the handshake response".into()))??;
        if n == 0 {
            return Err(if buf.is_empty() {
                WireError::Handshake("server closed the connection without an HTTP response".into())
            } else {
                WireError::Handshake(format!(
                    "server closed the connection mid-response: {:?}",
                    String::from_utf8_lossy(&buf)
                ))
            });
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let proto = parts.next().unwrap_or_default();
    if !proto.starts_with("HTTP/") {
        return Err(WireError::Handshake(format!(
            "not an HTTP response: {status_line:?}"
        )));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| WireError::Handshake(format!("bad status line {status_line:?}")))?;
    let reason = parts.next().unwrap_or_default().to_string();
    let mut headers = Vec::new();
    for l in lines {
        if l.is_empty() {
            continue;
        }
        let (k, v) = l
            .split_once(':')
            .ok_or_else(|| WireError::Handshake(format!("malformed header line {l:?}")))?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    let mut resp = HttpResponse {
        status,
        reason,
        headers,
        body: Vec::new(),
        head,
    };
    let rest = buf[head_end..].to_vec();
    if status == 101 {
        return Ok((resp, rest));
    }
    // Read a body: Content-Length if given, else until close or a short idle.
    let mut body = rest;
    let want = resp
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .map(|n| n.min(64 * 1024));
    loop {
        if let Some(w) = want
            && body.len() >= w
        {
            body.truncate(w);
            break;
        }
        if body.len() >= 64 * 1024 {
            break;
        }
        let idle = if want.is_some() {
            Duration::from_secs(2)
        } else {
            Duration::from_millis(300)
        };
        match tokio::time::timeout(
            idle.min(deadline.saturating_duration_since(tokio::time::Instant::now())),
            stream.read(&mut tmp),
        )
        .await
        {
            Ok(Ok(0)) | Err(_) | Ok(Err(_)) => break,
            Ok(Ok(n)) => body.extend_from_slice(&tmp[..n]),
        }
    }
    resp.body = body;
    Ok((resp, Vec::new()))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Checks a 101 answer to a request that carried `key` (RFC 6455 4.1, client
/// steps 1-4 of the response checks). Extension and subprotocol checks are
/// done by the caller, who knows what was offered.
pub fn verify_upgrade(resp: &HttpResponse, key: &str) -> Result<(), String> {
    if resp.status != 101 {
        return Err(format!(
            "expected status 101, got {} {}",
            resp.status, resp.reason
        ));
    }
    if !resp
        .header_tokens("upgrade")
        .iter()
        .any(|t| t.eq_ignore_ascii_case("websocket"))
    {
        return Err(format!(
            "Upgrade header is {:?}, expected websocket",
            resp.header("upgrade")
        ));
    }
    if !resp
        .header_tokens("connection")
        .iter()
        .any(|t| t.eq_ignore_ascii_case("upgrade"))
    {
        return Err(format!(
            "Connection header is {:?}, expected Upgrade",
            resp.header("connection")
        ));
    }
    let want = accept_key(key);
    match resp.header("sec-websocket-accept") {
        Some(v) if v == want => Ok(()),
        Some(v) => Err(format!("Sec-WebSocket-Accept is {v:?}, expected {want:?}")),
        None => Err("Sec-WebSocket-Accept header missing".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_example_accept() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn url_parsing() {
        let u = WsUrl::parse("ws://127.0.0.1:9001/echo?x=1").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.resource.as_str()),
            ("127.0.0.1", 9001, "/echo?x=1")
        );
        let u = WsUrl::parse("ws://localhost").unwrap();
        assert_eq!((u.port, u.resource.as_str()), (80, "/"));
        assert!(WsUrl::parse("http://x").is_err());
        let s = WsUrl::parse("wss://localhost/x").unwrap();
        assert!(s.tls && s.port == 443 && s.resource == "/x");
    }
}
