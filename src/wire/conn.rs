//! A client connection: connect, send (well-formed or not), receive and
//! validate what the server sends, close.

use std::time::Duration;

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::deflate::{self, DeflateCodec, DeflateOffer, DeflateParams, Role};
use super::frame::{
    self, Decoder, Frame, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT,
};
use super::handshake::{self, HandshakeRequest, HttpResponse, WsUrl};
use super::tls::{self, Stream};
use super::utf8::Utf8Validator;
use super::{WireError, close_code_is_valid};

/// How to connect.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Limit for TCP connect plus the opening handshake.
    pub timeout: Duration,
    /// Default wait for [`Connection::recv_message`] and closing.
    pub read_timeout: Duration,
    /// Subprotocols offered in one `Sec-WebSocket-Protocol` header.
    pub protocols: Vec<String>,
    /// permessage-deflate offers, in preference order (empty: no compression).
    pub deflate: Vec<DeflateOffer>,
    pub extra_headers: Vec<(String, String)>,
    /// Largest message accepted from the server (1009 beyond it).
    pub max_message: usize,
    /// TLS client configuration for `wss://` URLs (`None`: the public web PKI).
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(10),
            protocols: Vec::new(),
            deflate: Vec::new(),
            extra_headers: Vec::new(),
            max_message: 256 << 20,
            tls: None,
        }
    }
}

/// A complete message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Text(String),
    Binary(Vec<u8>),
}

impl Message {
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Message::Text(s) => s.as_bytes(),
            Message::Binary(b) => b,
        }
    }
}

/// What the server sent, after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A whole message; text payloads are valid UTF-8.
    Message {
        binary: bool,
        data: Vec<u8>,
        frames: usize,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// A close frame (code and reason already validated).
    Close {
        code: Option<u16>,
        reason: Vec<u8>,
    },
    /// The server closed the TCP connection.
    Eof,
}

/// An open WebSocket connection (client side).
pub struct Connection {
    stream: Stream,
    rbuf: Vec<u8>,
    rpos: usize,
    decoder: Decoder,
    /// The server's handshake response.
    pub response: HttpResponse,
    /// Subprotocol the server selected.
    pub protocol: Option<String>,
    /// permessage-deflate parameters in force, if negotiated.
    pub deflate: Option<DeflateParams>,
    codec: Option<DeflateCodec>,
    frag: Option<Partial>,
    max_message: usize,
    pub read_timeout: Duration,
    /// A close frame was sent / received.
    pub sent_close: bool,
    pub received_close: bool,
    /// Frames sent, by opcode.
    pub tx_frames: [u64; 16],
    /// Frames received, by opcode.
    pub rx_frames: [u64; 16],
    eof: bool,
}

struct Partial {
    opcode: u8,
    compressed: bool,
    data: Vec<u8>,
    utf8: Utf8Validator,
    frames: usize,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("protocol", &self.protocol)
            .field("deflate", &self.deflate)
            .finish()
    }
}

/// Opens a TCP connection to the URL's host with `TCP_NODELAY` set.
pub async fn open_tcp(url: &WsUrl, timeout: Duration) -> Result<TcpStream, WireError> {
    let addr = url.authority();
    let s = tokio::time::timeout(timeout, TcpStream::connect(addr.as_str()))
        .await
        .map_err(|_| WireError::Timeout(format!("connecting to {addr}")))?
        .map_err(|e| WireError::Connect(format!("{addr}: {e}")))?;
    s.set_nodelay(true)?;
    Ok(s)
}

/// Opens the URL's transport: TCP, plus a TLS handshake for `wss://`
/// (trusting `tls`, or the public web PKI when `None`). The TLS handshake
/// shares the `timeout`.
pub async fn open(
    url: &WsUrl,
    timeout: Duration,
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Result<Stream, WireError> {
    let deadline = Instant::now() + timeout;
    let tcp = open_tcp(url, timeout).await?;
    if !url.tls {
        return Ok(Stream::Plain(tcp));
    }
    let config = match tls {
        Some(c) => c.clone(),
        None => tls::client_config(&tls::Trust::WebPki).map_err(WireError::Tls)?,
    };
    tokio::time::timeout_at(deadline, tls::wrap(tcp, &url.host, config))
        .await
        .map_err(|_| WireError::Timeout(format!("in the TLS handshake with {}", url.authority())))?
        .map_err(WireError::Tls)
}

/// Connects and performs a verified opening handshake.
pub async fn connect(url: &str, opts: &ConnectOptions) -> Result<Connection, WireError> {
    let u = WsUrl::parse(url)?;
    let mut req = HandshakeRequest::new(&u);
    req.protocols = opts.protocols.clone();
    if !opts.deflate.is_empty() {
        req.extensions.push(
            opts.deflate
                .iter()
                .map(DeflateOffer::header_value)
                .collect::<Vec<_>>()
                .join(", "),
        );
    }
    req.extra_headers = opts.extra_headers.clone();
    connect_with(&u, &req, opts).await
}

/// Connects with a caller-built request (still verifying the answer).
pub async fn connect_with(
    u: &WsUrl,
    req: &HandshakeRequest,
    opts: &ConnectOptions,
) -> Result<Connection, WireError> {
    let mut stream = open(u, opts.timeout, opts.tls.as_ref()).await?;
    let (resp, rest) = handshake::exchange(&mut stream, req, opts.timeout).await?;
    let key = req.key.clone().unwrap_or_default();
    if resp.status != 101 {
        return Err(WireError::Rejected(Box::new(resp)));
    }
    handshake::verify_upgrade(&resp, &key).map_err(WireError::Handshake)?;
    // Subprotocol (RFC 6455 4.1: must be one we offered).
    let protocol = match resp.header_joined("sec-websocket-protocol") {
        None => None,
        Some(p) => {
            if !req.protocols.contains(&p) {
                return Err(WireError::Handshake(format!(
                    "server selected subprotocol {p:?}, offered {:?}",
                    req.protocols
                )));
            }
            Some(p)
        }
    };
    // Extensions: only permessage-deflate, and only if offered.
    let mut params = None;
    if let Some(v) = resp.header_joined("sec-websocket-extensions") {
        let exts = deflate::parse_extensions(&v).map_err(WireError::Handshake)?;
        if exts.len() > 1 {
            return Err(WireError::Handshake(format!(
                "server accepted {} extensions, offered one: {v:?}",
                exts.len()
            )));
        }
        if let Some(e) = exts.first() {
            if opts.deflate.is_empty() {
                return Err(WireError::Handshake(format!(
                    "server chose extension {v:?} that was not offered"
                )));
            }
            params =
                Some(deflate::accept_response(&opts.deflate, e).map_err(WireError::Handshake)?);
        }
    }
    let mut c = Connection::from_stream(stream, resp, rest, opts);
    c.protocol = protocol;
    c.set_deflate(params);
    Ok(c)
}

impl Connection {
    /// Wraps a stream whose handshake is done; `rest` holds octets already read.
    pub fn from_stream(
        stream: Stream,
        response: HttpResponse,
        rest: Vec<u8>,
        opts: &ConnectOptions,
    ) -> Self {
        Connection {
            stream,
            rbuf: rest,
            rpos: 0,
            decoder: Decoder::new(opts.max_message as u64),
            response,
            protocol: None,
            deflate: None,
            codec: None,
            frag: None,
            max_message: opts.max_message,
            read_timeout: opts.read_timeout,
            sent_close: false,
            received_close: false,
            tx_frames: [0; 16],
            rx_frames: [0; 16],
            eof: false,
        }
    }

    pub fn set_deflate(&mut self, params: Option<DeflateParams>) {
        self.codec = params.as_ref().map(|p| DeflateCodec::new(p, Role::Client));
        self.deflate = params;
    }

    // ---- sending -------------------------------------------------------

    /// Sends raw octets as they are. While writing, whatever the server
    /// sends is buffered, so a server that answers before it has read
    /// everything cannot deadlock us.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), WireError> {
        let t = self.read_timeout;
        let stream = &mut self.stream;
        let rbuf = &mut self.rbuf;
        let eof = &mut self.eof;
        let mut written = 0;
        let mut tmp = vec![0u8; 64 * 1024];
        // One stream (TCP or TLS) polled for both directions: take in what
        // arrives while the write makes progress.
        let io = poll_fn(|cx| {
            loop {
                let mut progressed = false;
                if !*eof {
                    let mut rb = ReadBuf::new(&mut tmp);
                    match Pin::new(&mut *stream).poll_read(cx, &mut rb) {
                        Poll::Ready(Ok(())) if rb.filled().is_empty() => *eof = true,
                        Poll::Ready(Ok(())) => {
                            rbuf.extend_from_slice(rb.filled());
                            progressed = true;
                        }
                        Poll::Ready(Err(_)) => *eof = true,
                        Poll::Pending => {}
                    }
                }
                if written < bytes.len() {
                    match Pin::new(&mut *stream).poll_write(cx, &bytes[written..]) {
                        Poll::Ready(Ok(0)) => {
                            return Poll::Ready(Err(std::io::Error::from(
                                std::io::ErrorKind::WriteZero,
                            )));
                        }
                        Poll::Ready(Ok(n)) => {
                            written += n;
                            progressed = true;
                        }
                        Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                        Poll::Pending => {}
                    }
                } else if let Poll::Ready(r) = Pin::new(&mut *stream).poll_flush(cx) {
                    return Poll::Ready(r);
                }
                if !progressed {
                    return Poll::Pending;
                }
            }
        });
        match tokio::time::timeout(t, io).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(WireError::Timeout("writing to the server".into())),
        }
    }

    /// Sends raw octets in pieces of `chop` octets, each its own write.
    pub async fn send_raw_chopped(&mut self, bytes: &[u8], chop: usize) -> Result<(), WireError> {
        let chop = chop.max(1);
        for piece in bytes.chunks(chop) {
            self.send_raw(piece).await?;
            if chop < 16 {
                tokio::task::yield_now().await;
            }
        }
        Ok(())
    }

    /// Sends a frame as given; an unmasked frame gets a random mask.
    pub async fn send_frame(&mut self, frame: Frame) -> Result<(), WireError> {
        self.send_frame_chopped(frame, None).await
    }

    /// Sends a frame, optionally in pieces of `chop` octets.
    pub async fn send_frame_chopped(
        &mut self,
        mut frame: Frame,
        chop: Option<usize>,
    ) -> Result<(), WireError> {
        if frame.mask.is_none() {
            frame.mask = Some(rand::random());
        }
        self.note_tx(&frame);
        let bytes = frame.encode();
        match chop {
            Some(c) => self.send_raw_chopped(&bytes, c).await,
            None => self.send_raw(&bytes).await,
        }
    }

    /// Sends several frames in one write.
    pub async fn send_frames(&mut self, frames: Vec<Frame>) -> Result<(), WireError> {
        let mut out = Vec::new();
        for mut f in frames {
            if f.mask.is_none() {
                f.mask = Some(rand::random());
            }
            self.note_tx(&f);
            f.encode_into(&mut out);
        }
        self.send_raw(&out).await
    }

    fn note_tx(&mut self, f: &Frame) {
        self.tx_frames[(f.opcode & 0xF) as usize] += 1;
        if f.opcode == OP_CLOSE {
            self.sent_close = true;
        }
    }

    /// Builds the frames of one message: compressed when deflate is in force,
    /// split into fragments of `frag` octets when given.
    pub fn message_frames(
        &mut self,
        opcode: u8,
        payload: &[u8],
        frag: Option<usize>,
    ) -> Result<Vec<Frame>, WireError> {
        let (body, rsv) = match &mut self.codec {
            Some(c) => (c.compress(payload).map_err(WireError::Deflate)?, 4),
            None => (payload.to_vec(), 0),
        };
        let frag = frag.filter(|&f| f > 0 && f < body.len());
        let Some(size) = frag else {
            return Ok(vec![Frame::new(opcode, body).rsv(rsv)]);
        };
        let n = body.len().div_ceil(size);
        Ok(body
            .chunks(size)
            .enumerate()
            .map(|(i, c)| {
                let op = if i == 0 { opcode } else { OP_CONTINUATION };
                Frame::new(op, c.to_vec())
                    .fin(i + 1 == n)
                    .rsv(if i == 0 { rsv } else { 0 })
            })
            .collect())
    }

    /// Sends one message, fragmented when `frag` is given.
    pub async fn send_message(
        &mut self,
        opcode: u8,
        payload: &[u8],
        frag: Option<usize>,
    ) -> Result<(), WireError> {
        let frames = self.message_frames(opcode, payload, frag)?;
        self.send_frames(frames).await
    }

    pub async fn send_text(&mut self, text: &str) -> Result<(), WireError> {
        self.send_message(OP_TEXT, text.as_bytes(), None).await
    }

    pub async fn send_binary(&mut self, data: &[u8]) -> Result<(), WireError> {
        self.send_message(OP_BINARY, data, None).await
    }

    pub async fn ping(&mut self, payload: &[u8]) -> Result<(), WireError> {
        self.send_frame(Frame::ping(payload.to_vec())).await
    }

    pub async fn pong(&mut self, payload: &[u8]) -> Result<(), WireError> {
        self.send_frame(Frame::pong(payload.to_vec())).await
    }

    /// Sends a close frame (no waiting).
    pub async fn send_close(&mut self, code: Option<u16>, reason: &[u8]) -> Result<(), WireError> {
        self.send_frame(Frame::close(code, reason)).await
    }

    // ---- receiving -----------------------------------------------------

    /// Reads one raw frame; `Ok(None)` when the server closed TCP.
    pub async fn read_frame_until(
        &mut self,
        deadline: Instant,
    ) -> Result<Option<Frame>, WireError> {
        loop {
            match self.decoder.decode(&self.rbuf[self.rpos..]) {
                Ok(Some((f, used))) => {
                    self.rpos += used;
                    if self.rpos == self.rbuf.len() {
                        self.rbuf.clear();
                        self.rpos = 0;
                    }
                    self.rx_frames[(f.opcode & 0xF) as usize] += 1;
                    return Ok(Some(f));
                }
                Ok(None) => {}
                Err(frame::DecodeError::TooLarge { len, max }) => {
                    return Err(WireError::Protocol {
                        code: 1009,
                        detail: format!("server frame of {len} octets exceeds {max}"),
                    });
                }
                Err(e) => {
                    return Err(WireError::Protocol {
                        code: 1002,
                        detail: e.to_string(),
                    });
                }
            }
            if self.eof {
                return Ok(None);
            }
            if self.rpos > 0 && self.rpos * 2 > self.rbuf.len() {
                self.rbuf.drain(..self.rpos);
                self.rpos = 0;
            }
            // Read more, sized to what the pending frame still needs.
            let need = match frame::parse_header(&self.rbuf[self.rpos..]) {
                Ok(Some(h)) => {
                    (h.header_len as u64 + h.len) as usize - (self.rbuf.len() - self.rpos)
                }
                _ => 0,
            };
            let len = self.rbuf.len();
            let grow = need.clamp(16 * 1024, 8 << 20);
            self.rbuf.resize(len + grow, 0);
            let r =
                tokio::time::timeout_at(deadline, self.stream.read(&mut self.rbuf[len..])).await;
            match r {
                Err(_) => {
                    self.rbuf.truncate(len);
                    return Err(WireError::Timeout(
                        "waiting for data from the server".into(),
                    ));
                }
                Ok(Err(e)) => {
                    self.rbuf.truncate(len);
                    if e.kind() == std::io::ErrorKind::ConnectionReset {
                        self.eof = true;
                        return Ok(None);
                    }
                    return Err(e.into());
                }
                Ok(Ok(0)) => {
                    self.rbuf.truncate(len);
                    self.eof = true;
                    return Ok(None);
                }
                Ok(Ok(n)) => self.rbuf.truncate(len + n),
            }
        }
    }

    /// Next validated event. Protocol violations by the server come back as
    /// [`WireError::Protocol`] with the close code a client should send.
    pub async fn next_event_until(&mut self, deadline: Instant) -> Result<Event, WireError> {
        loop {
            let Some(f) = self.read_frame_until(deadline).await? else {
                return Ok(Event::Eof);
            };
            if let Some(ev) = self.on_frame(f)? {
                return Ok(ev);
            }
        }
    }

    pub async fn next_event(&mut self, timeout: Duration) -> Result<Event, WireError> {
        self.next_event_until(Instant::now() + timeout).await
    }

    fn on_frame(&mut self, f: Frame) -> Result<Option<Event>, WireError> {
        let perr = |code: u16, detail: String| Err(WireError::Protocol { code, detail });
        if f.mask.is_some() {
            return perr(
                1002,
                format!("server sent a masked frame ({})", f.describe()),
            );
        }
        if frame::is_reserved(f.opcode) {
            return perr(1002, format!("server sent reserved opcode {}", f.opcode));
        }
        let rsv1_ok = self.codec.is_some() && (f.opcode == OP_TEXT || f.opcode == OP_BINARY);
        if f.rsv != 0 && !(f.rsv == 4 && rsv1_ok) {
            return perr(
                1002,
                format!(
                    "server sent RSV bits {} without an extension defining them ({})",
                    f.rsv,
                    f.describe()
                ),
            );
        }
        if f.is_control() {
            if !f.fin {
                return perr(
                    1002,
                    format!("server sent a fragmented control frame ({})", f.describe()),
                );
            }
            if f.payload.len() > 125 {
                return perr(
                    1002,
                    format!(
                        "server sent a control frame with {} octets (max 125)",
                        f.payload.len()
                    ),
                );
            }
        }
        match f.opcode {
            OP_PING => Ok(Some(Event::Ping(f.payload))),
            OP_PONG => Ok(Some(Event::Pong(f.payload))),
            OP_CLOSE => {
                self.received_close = true;
                let (code, reason) = f.close_parts();
                if f.payload.len() == 1 {
                    return perr(1002, "server sent a close frame with a 1-octet body".into());
                }
                if let Some(c) = code
                    && !close_code_is_valid(c)
                {
                    return perr(1002, format!("server sent invalid close code {c}"));
                }
                if std::str::from_utf8(reason).is_err() {
                    return perr(
                        1007,
                        "server sent a close reason that is not valid UTF-8".into(),
                    );
                }
                Ok(Some(Event::Close {
                    code,
                    reason: reason.to_vec(),
                }))
            }
            OP_TEXT | OP_BINARY => {
                if self.frag.is_some() {
                    return perr(
                        1002,
                        "server started a new message before finishing the previous one".into(),
                    );
                }
                let p = Partial {
                    opcode: f.opcode,
                    compressed: f.rsv == 4,
                    data: Vec::new(),
                    utf8: Utf8Validator::new(),
                    frames: 0,
                };
                self.frag = Some(p);
                self.on_data(f.fin, f.payload)
            }
            OP_CONTINUATION => {
                if self.frag.is_none() {
                    return perr(
                        1002,
                        "server sent a continuation frame with no message to continue".into(),
                    );
                }
                self.on_data(f.fin, f.payload)
            }
            _ => unreachable!(),
        }
    }

    fn on_data(&mut self, fin: bool, payload: Vec<u8>) -> Result<Option<Event>, WireError> {
        let max = self.max_message;
        let p = self.frag.as_mut().expect("message in progress");
        p.frames += 1;
        if p.data.len() + payload.len() > max {
            self.frag = None;
            return Err(WireError::Protocol {
                code: 1009,
                detail: format!("server message exceeds {max} octets"),
            });
        }
        if p.opcode == OP_TEXT
            && !p.compressed
            && let Err(at) = p.utf8.feed(&payload)
        {
            self.frag = None;
            return Err(WireError::Protocol {
                code: 1007,
                detail: format!("server sent invalid UTF-8 at octet {at}"),
            });
        }
        if p.data.is_empty() {
            p.data = payload;
        } else {
            p.data.extend_from_slice(&payload);
        }
        if !fin {
            return Ok(None);
        }
        let p = self.frag.take().unwrap();
        let data = if p.compressed {
            let codec = self
                .codec
                .as_mut()
                .expect("compressed frame only with a codec");
            codec
                .decompress(&p.data, max)
                .map_err(|e| WireError::Protocol {
                    code: 1007,
                    detail: e,
                })?
        } else {
            p.data
        };
        if p.opcode == OP_TEXT {
            if p.compressed && std::str::from_utf8(&data).is_err() {
                return Err(WireError::Protocol {
                    code: 1007,
                    detail: "server sent invalid UTF-8".into(),
                });
            }
            if !p.compressed && !p.utf8.is_complete() {
                return Err(WireError::Protocol {
                    code: 1007,
                    detail: "server sent truncated UTF-8".into(),
                });
            }
        }
        Ok(Some(Event::Message {
            binary: p.opcode == OP_BINARY,
            data,
            frames: p.frames,
        }))
    }

    /// Receives the next message, answering pings and ignoring pongs. A close
    /// from the server is answered and reported as [`WireError::Closed`].
    pub async fn recv_message(&mut self) -> Result<Message, WireError> {
        let t = self.read_timeout;
        self.recv_message_timeout(t).await
    }

    pub async fn recv_message_timeout(&mut self, timeout: Duration) -> Result<Message, WireError> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.next_event_until(deadline).await {
                Ok(Event::Message { binary, data, .. }) => {
                    return Ok(if binary {
                        Message::Binary(data)
                    } else {
                        Message::Text(String::from_utf8(data).expect("validated UTF-8"))
                    });
                }
                Ok(Event::Ping(p)) => self.pong(&p).await?,
                Ok(Event::Pong(_)) => {}
                Ok(Event::Close { code, reason }) => {
                    if !self.sent_close {
                        let _ = self.send_close(code, &reason).await;
                    }
                    return Err(WireError::Closed {
                        code,
                        reason: String::from_utf8_lossy(&reason).into(),
                    });
                }
                Ok(Event::Eof) => {
                    return Err(WireError::Closed {
                        code: None,
                        reason: "connection lost".into(),
                    });
                }
                Err(e @ WireError::Protocol { code, .. }) => {
                    if !self.sent_close {
                        let _ = self.send_close(Some(code), b"").await;
                    }
                    return Err(e);
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Closing handshake: sends close (if not yet sent), waits for the
    /// server's close and for it to end TCP. Returns the server's close code.
    pub async fn close(
        &mut self,
        code: Option<u16>,
        reason: &str,
    ) -> Result<Option<u16>, WireError> {
        if !self.sent_close {
            self.send_close(code, reason.as_bytes()).await?;
        }
        let deadline = Instant::now() + self.read_timeout;
        let mut server_code = None;
        loop {
            match self.next_event_until(deadline).await? {
                Event::Close { code, .. } => server_code = code,
                Event::Eof => return Ok(server_code),
                _ => {}
            }
        }
    }

    /// Half-closes our side and drops the connection.
    pub async fn shutdown(mut self) {
        let _ = self.stream.shutdown().await;
    }

    /// Access to the transport (for tests that need it).
    pub fn stream_mut(&mut self) -> &mut Stream {
        &mut self.stream
    }

    /// The transport (for its TLS session: [`Stream::peer_certificates`]).
    pub fn stream(&self) -> &Stream {
        &self.stream
    }
}
