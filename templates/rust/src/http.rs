//! The HTTP/1.1 front: read one request head, answer plain requests.
//!
//! Every connection starts here. The head is read into a small buffer that is
//! freed once it is parsed, so an open WebSocket keeps none of it. Plain
//! requests get one response and the connection closes (`Connection: close`).

use crate::spec;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest request head accepted (request line and headers), in bytes.
const MAX_HEAD: usize = 8 * 1024;

/// Most header lines accepted in one request.
const MAX_HEADERS: usize = 32;

/// The parts of a request head the server looks at.
#[derive(Debug, Default)]
pub struct Request {
    /// The method, such as `GET`.
    pub method: String,
    /// The request target without its query string.
    pub path: String,
    /// Minor HTTP version: 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub http_minor: u8,
    /// A `Host` header is present.
    pub has_host: bool,
    /// `Upgrade` lists `websocket`.
    pub upgrade_websocket: bool,
    /// `Connection` lists `upgrade`.
    pub connection_upgrade: bool,
    /// `Sec-WebSocket-Key`.
    pub key: Option<String>,
    /// How many `Sec-WebSocket-Key` headers there are (exactly one is valid).
    pub key_headers: usize,
    /// `Sec-WebSocket-Version`.
    pub version: Option<String>,
    /// `Sec-WebSocket-Protocol` values, in the client's order of preference.
    pub protocols: Vec<String>,
    /// Every `Sec-WebSocket-Extensions` header, joined with `,`.
    pub extensions: String,
    /// Bytes that arrived after the head (a WebSocket client must wait for the
    /// handshake response before it sends frames).
    pub trailing: usize,
}

impl Request {
    /// Whether the client asks to switch protocols (`Connection: Upgrade`, or an
    /// `Upgrade: websocket` header); everything else is plain HTTP.
    pub fn is_upgrade(&self) -> bool {
        self.connection_upgrade || self.upgrade_websocket
    }
}

/// Why no request could be read.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    /// The peer closed the connection or the socket failed: nothing to answer.
    Closed,
    /// Not an HTTP/1.x request head: answer 400.
    Malformed,
    /// A head over [`MAX_HEAD`] bytes or [`MAX_HEADERS`] lines: answer 431.
    TooLarge,
}

/// Reads and parses one request head.
pub async fn read_request(stream: &mut TcpStream) -> Result<Request, ReadError> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        if buf.len() >= MAX_HEAD {
            return Err(ReadError::TooLarge);
        }
        buf.reserve(1024.min(MAX_HEAD - buf.len()));
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return Err(ReadError::Closed),
            Ok(_) => {}
        }
        if let Some(request) = parse(&buf)? {
            return Ok(request);
        }
    }
}

/// Parses a request head; `Ok(None)` while it is incomplete.
fn parse(buf: &[u8]) -> Result<Option<Request>, ReadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut head = httparse::Request::new(&mut headers);
    let len = match head.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(ReadError::TooLarge),
        Err(_) => return Err(ReadError::Malformed),
    };
    let target = head.path.unwrap_or("/");
    let mut request = Request {
        method: head.method.unwrap_or_default().to_string(),
        path: target.split('?').next().unwrap_or_default().to_string(),
        http_minor: head.version.unwrap_or_default(),
        trailing: buf.len() - len,
        ..Request::default()
    };
    for header in head.headers.iter() {
        let value = String::from_utf8_lossy(header.value);
        let value = value.trim();
        let name = header.name;
        if name.eq_ignore_ascii_case("upgrade") {
            request.upgrade_websocket |= has_token(value, "websocket");
        } else if name.eq_ignore_ascii_case("connection") {
            request.connection_upgrade |= has_token(value, "upgrade");
        } else if name.eq_ignore_ascii_case("host") {
            request.has_host = true;
        } else if name.eq_ignore_ascii_case("sec-websocket-key") {
            request.key_headers += 1;
            request.key = Some(value.to_string());
        } else if name.eq_ignore_ascii_case("sec-websocket-version") {
            request.version = Some(value.to_string());
        } else if name.eq_ignore_ascii_case("sec-websocket-protocol") {
            request.protocols.extend(
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(String::from),
            );
        } else if name.eq_ignore_ascii_case("sec-websocket-extensions") {
            if !request.extensions.is_empty() {
                request.extensions.push(',');
            }
            request.extensions.push_str(value);
        }
    }
    Ok(Some(request))
}

/// Whether a comma-separated header value lists `token` (case-insensitive).
fn has_token(value: &str, token: &str) -> bool {
    value
        .split(',')
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

/// A complete plain-HTTP response.
pub struct Response<'a> {
    /// Status code and reason, such as `404 Not Found`.
    pub status: &'static str,
    /// Extra header lines, each ending in `\r\n`.
    pub headers: &'a str,
    /// `Content-Type` of the body.
    pub content_type: &'static str,
    /// The body.
    pub body: &'a str,
}

impl<'a> Response<'a> {
    /// `200` with the health document.
    pub fn health() -> Response<'static> {
        Response {
            status: "200 OK",
            headers: "",
            content_type: "application/json",
            body: spec::HEALTHZ_BODY,
        }
    }

    /// `404` for every path the server does not serve.
    pub fn not_found() -> Response<'static> {
        Response::text("404 Not Found", "not found\n")
    }

    /// A plain-text response.
    pub fn text(status: &'static str, body: &'a str) -> Response<'a> {
        Response {
            status,
            headers: "",
            content_type: "text/plain; charset=utf-8",
            body,
        }
    }

    /// Writes the response and ends the exchange; the caller drops the connection.
    pub async fn send(&self, stream: &mut TcpStream) {
        let head = format!(
            "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n",
            self.status,
            self.content_type,
            self.body.len(),
            self.headers
        );
        if stream.write_all(head.as_bytes()).await.is_ok()
            && stream.write_all(self.body.as_bytes()).await.is_ok()
        {
            let _ = stream.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_websocket_handshake() {
        let head = b"GET /chat?x=1 HTTP/1.1\r\nHost: a\r\nUpgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n\
            Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
            Sec-WebSocket-Protocol: a, b\r\nSec-WebSocket-Protocol: c\r\n\
            Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
        let request = parse(head).expect("valid").expect("complete");
        assert_eq!(request.method, "GET");
        assert_eq!(request.path, "/chat");
        assert!(request.upgrade_websocket && request.connection_upgrade);
        assert_eq!(request.key.as_deref(), Some("dGhlIHNhbXBsZSBub25jZQ=="));
        assert_eq!(request.version.as_deref(), Some("13"));
        assert_eq!(request.protocols, ["a", "b", "c"]);
        assert_eq!(request.extensions, "permessage-deflate");
        assert_eq!(request.trailing, 0);
    }

    #[test]
    fn waits_for_a_complete_head_and_rejects_garbage() {
        assert!(
            parse(b"GET / HTTP/1.1\r\nHost: a\r\n")
                .expect("valid so far")
                .is_none()
        );
        assert_eq!(
            parse(b"\x16\x03\x01garbage\r\n\r\n").err(),
            Some(ReadError::Malformed)
        );
    }
}
