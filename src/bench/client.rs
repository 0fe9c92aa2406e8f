//! The lean client path used for load: one handshake through [`crate::wire`],
//! then pre-encoded masked frames out and a compact in-place decoder in, with
//! no allocation per message.
//!
//! The general [`crate::wire::Connection`] validates everything a server
//! sends and allocates a `Vec` per frame; that is right for conformance and
//! too heavy for 100,000 messages per second on one core.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;

use crate::wire::Stream;
use crate::wire::conn::{open, open_tcp};
use crate::wire::frame::{
    OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, apply_mask, parse_header,
};
use crate::wire::handshake::{self, HandshakeRequest, WsUrl};

use super::payload::{MIN_SIZE, Template};

/// TCP connect plus a verified opening handshake over `ws://` only.
/// Returns the stream and any octets that arrived after the handshake
/// response. (Chat and the idle count use this; [`connect_link`] also
/// speaks TLS.)
pub async fn connect(
    url: &WsUrl,
    timeout: Duration,
    headers: &[(String, String)],
) -> Result<(TcpStream, Vec<u8>), String> {
    if url.tls {
        return Err(not_over_tls());
    }
    let l = connect_link(url, timeout, headers, None).await?;
    Ok((l.tcp, l.rest))
}

/// An open WebSocket connection for load: the TCP socket, driven by
/// readiness, and for `wss://` the rustls session that encrypts over it
/// (records are read and written by the caller through [`TryIo`], so the
/// plain path keeps its direct `recv`/`send`).
#[derive(Debug)]
pub struct Link {
    pub tcp: TcpStream,
    pub tls: Option<Box<rustls::ClientConnection>>,
    /// Plaintext that arrived after the handshake response.
    pub rest: Vec<u8>,
}

/// TCP connect, the TLS handshake for `wss://` (trusting `tls`, or the web
/// PKI when `None`; the same configuration `conformance` and `test` build
/// from `--ca`/`--insecure`), then a verified opening handshake.
pub async fn connect_link(
    url: &WsUrl,
    timeout: Duration,
    headers: &[(String, String)],
    tls: Option<&Arc<rustls::ClientConfig>>,
) -> Result<Link, String> {
    let mut req = HandshakeRequest::new(url);
    req.extra_headers = headers.to_vec();
    let key = req.key.clone().unwrap_or_default();
    let check = |resp: &handshake::HttpResponse| {
        if resp.status != 101 {
            return Err(format!(
                "handshake answered {} {}",
                resp.status, resp.reason
            ));
        }
        handshake::verify_upgrade(resp, &key).map_err(|e| format!("handshake: {e}"))
    };
    if !url.tls {
        let mut stream = open_tcp(url, timeout).await.map_err(|e| e.to_string())?;
        let (resp, rest) = handshake::exchange(&mut stream, &req, timeout)
            .await
            .map_err(|e| e.to_string())?;
        check(&resp)?;
        return Ok(Link {
            tcp: stream,
            tls: None,
            rest,
        });
    }
    let mut stream = open(url, timeout, tls).await.map_err(|e| e.to_string())?;
    let (resp, mut rest) = handshake::exchange(&mut stream, &req, timeout)
        .await
        .map_err(|e| e.to_string())?;
    check(&resp)?;
    let Stream::Tls(t) = stream else {
        return Err("wss:// URL without a TLS stream".into());
    };
    let (tcp, mut conn) = (*t).into_inner();
    // Plaintext rustls decrypted but the handshake reader did not take.
    let mut buf = [0u8; 4096];
    loop {
        match io::Read::read(&mut conn.reader(), &mut buf) {
            Ok(0) => break,
            Ok(n) => rest.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    Ok(Link {
        tcp,
        tls: Some(Box::new(conn)),
        rest,
    })
}

/// `std::io` reads and writes of a tokio socket that never block
/// (`try_read`/`try_write`: `WouldBlock` clears its readiness), for rustls'
/// `read_tls`/`write_tls`.
pub struct TryIo<'a>(pub &'a TcpStream);

impl io::Read for TryIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}

impl io::Write for TryIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.try_write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The load generator drives raw TCP sockets (readiness-based reads of many
/// connections); chat and the idle count do not speak TLS.
pub fn not_over_tls() -> String {
    "this bench mode loads servers over ws:// only (echo load and --handshakes also take wss://); for a wss:// server, bench its plain ws:// port or a TLS-terminating proxy".into()
}

/// Appends a complete masked client frame (header, key, masked payload).
pub fn push_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8], key: [u8; 4]) {
    let len = payload.len();
    out.push(0x80 | opcode);
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= 0xFFFF {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&key);
    let at = out.len();
    out.extend_from_slice(payload);
    apply_mask(&mut out[at..], key, 0);
}

/// A connection's message frame, encoded and masked once; each send copies
/// it and rewrites the 24 masked octets that carry the sequence number.
#[derive(Debug, Clone)]
pub struct FrameTemplate {
    pub template: Template,
    frame: Vec<u8>,
    payload_at: usize,
    mask_offset: usize,
    key: [u8; 4],
}

impl FrameTemplate {
    pub fn new(template: Template, binary: bool, key: [u8; 4]) -> FrameTemplate {
        Self::wrapped(template, b"", b"", binary, key)
    }

    /// A frame whose payload is `prefix + payload + suffix` (for example a
    /// JSON envelope around the self-checking payload).
    pub fn wrapped(
        template: Template,
        prefix: &[u8],
        suffix: &[u8],
        binary: bool,
        key: [u8; 4],
    ) -> FrameTemplate {
        let mut body = Vec::with_capacity(prefix.len() + template.bytes.len() + suffix.len());
        body.extend_from_slice(prefix);
        body.extend_from_slice(&template.bytes);
        body.extend_from_slice(suffix);
        let mut frame = Vec::with_capacity(body.len() + 14);
        push_frame(
            &mut frame,
            if binary { OP_BINARY } else { OP_TEXT },
            &body,
            key,
        );
        let payload_at = frame.len() - body.len() + prefix.len();
        FrameTemplate {
            template,
            frame,
            payload_at,
            mask_offset: prefix.len(),
            key,
        }
    }

    /// Octets on the wire per message.
    pub fn frame_len(&self) -> usize {
        self.frame.len()
    }

    /// Appends the frame of message `seq` to `out`.
    pub fn push(&self, seq: u64, out: &mut Vec<u8>) {
        let mut h = [0u8; MIN_SIZE];
        self.template.header(seq, &mut h);
        apply_mask(&mut h, self.key, self.mask_offset);
        let at = out.len() + self.payload_at;
        out.extend_from_slice(&self.frame);
        out[at..at + MIN_SIZE].copy_from_slice(&h);
    }

    pub fn key(&self) -> [u8; 4] {
        self.key
    }
}

/// What the server sent.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    Message { binary: bool, data: &'a [u8] },
    Ping(&'a [u8]),
    Pong,
    Close(Option<u16>),
}

/// A compact incremental decoder over one growable buffer. Frames are
/// decoded in place; fragmented messages are gathered in a second buffer
/// that is only allocated if a server fragments.
#[derive(Debug)]
pub struct Reader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    frag: Vec<u8>,
    frag_op: Option<u8>,
    max_message: usize,
}

impl Reader {
    pub fn new(capacity: usize, initial: &[u8], max_message: usize) -> Reader {
        let mut buf = vec![0u8; capacity.max(initial.len()).max(64)];
        buf[..initial.len()].copy_from_slice(initial);
        Reader {
            buf,
            start: 0,
            end: initial.len(),
            frag: Vec::new(),
            frag_op: None,
            max_message,
        }
    }

    /// Octets buffered and not yet decoded.
    pub fn pending(&self) -> usize {
        self.end - self.start
    }

    /// Reads what the socket has without blocking. `Ok(0)` is end of stream;
    /// `WouldBlock` means nothing was ready.
    pub fn try_read(&mut self, stream: &TcpStream) -> io::Result<usize> {
        self.make_room();
        stream
            .try_read(&mut self.buf[self.end..])
            .inspect(|&n| self.end += n)
    }

    /// Like [`Reader::try_read`], but a short read (fewer octets than there
    /// was room for) also clears the socket's read readiness, so the caller
    /// can stop without the extra `read` that would only say `EAGAIN`. This
    /// saves one system call per wake-up. Safe against lost wake-ups: tokio
    /// clears readiness only if no new readiness event arrived since the one
    /// this read acted on. Returns the octets read and whether the socket
    /// is drained.
    pub fn read_some(&mut self, stream: &TcpStream) -> io::Result<(usize, bool)> {
        use std::os::fd::AsRawFd;
        self.make_room();
        let fd = stream.as_raw_fd();
        let room = self.buf.len() - self.end;
        let ptr = self.buf[self.end..].as_mut_ptr();
        let mut got = 0usize;
        let r = stream.try_io(tokio::io::Interest::READABLE, || {
            // SAFETY: `ptr` points at `room` writable octets of `self.buf`.
            let n = unsafe { libc::recv(fd, ptr.cast(), room, 0) };
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            got = n as usize;
            if got > 0 && got < room {
                // Short read: report "would block" so tokio clears readiness.
                return Err(io::ErrorKind::WouldBlock.into());
            }
            Ok(got)
        });
        match r {
            Ok(n) => {
                self.end += n;
                Ok((n, false))
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && got > 0 => {
                self.end += got;
                Ok((got, true))
            }
            Err(e) => Err(e),
        }
    }

    /// Reads from `src` (e.g. a TLS session's plaintext) into the buffer.
    pub fn read_from(&mut self, src: &mut impl io::Read) -> io::Result<usize> {
        self.make_room();
        let n = src.read(&mut self.buf[self.end..])?;
        self.end += n;
        Ok(n)
    }

    /// Feeds octets directly (tests and fixtures).
    pub fn feed(&mut self, bytes: &[u8]) {
        self.make_room_for(bytes.len());
        self.buf[self.end..self.end + bytes.len()].copy_from_slice(bytes);
        self.end += bytes.len();
    }

    fn make_room(&mut self) {
        self.make_room_for(1);
    }

    fn make_room_for(&mut self, n: usize) {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        if self.buf.len() - self.end >= n {
            return;
        }
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() - self.end < n {
            let want = (self.end + n).max(self.buf.len() * 2);
            self.buf.resize(want, 0);
        }
    }

    /// The next complete frame or message, or `None` if more octets are needed.
    pub fn next_frame(&mut self) -> Result<Option<Incoming<'_>>, String> {
        loop {
            let avail = &self.buf[self.start..self.end];
            let h = match parse_header(avail) {
                Ok(Some(h)) => h,
                Ok(None) => return Ok(None),
                Err(e) => return Err(e.to_string()),
            };
            if h.len as usize > self.max_message {
                return Err(format!(
                    "frame of {} octets exceeds {}",
                    h.len, self.max_message
                ));
            }
            let total = h.header_len + h.len as usize;
            if avail.len() < total {
                // Make sure a large frame fits once it has arrived.
                if self.buf.len() - self.start < total {
                    self.make_room_for(total - (self.end - self.start));
                }
                return Ok(None);
            }
            let p0 = self.start + h.header_len;
            let p1 = self.start + total;
            self.start = p1;
            if let Some(k) = h.mask {
                apply_mask(&mut self.buf[p0..p1], k, 0);
            }
            match h.opcode {
                OP_TEXT | OP_BINARY if h.fin && self.frag_op.is_none() => {
                    return Ok(Some(Incoming::Message {
                        binary: h.opcode == OP_BINARY,
                        data: &self.buf[p0..p1],
                    }));
                }
                OP_TEXT | OP_BINARY => {
                    if self.frag_op.is_some() {
                        return Err("new data frame inside a fragmented message".into());
                    }
                    self.frag_op = Some(h.opcode);
                    self.frag.clear();
                    self.frag.extend_from_slice(&self.buf[p0..p1]);
                }
                OP_CONTINUATION => {
                    let Some(op) = self.frag_op else {
                        return Err("continuation frame without a message".into());
                    };
                    self.frag.extend_from_slice(&self.buf[p0..p1]);
                    if self.frag.len() > self.max_message {
                        return Err("fragmented message too large".into());
                    }
                    if h.fin {
                        self.frag_op = None;
                        return Ok(Some(Incoming::Message {
                            binary: op == OP_BINARY,
                            data: &self.frag,
                        }));
                    }
                }
                OP_PING => return Ok(Some(Incoming::Ping(&self.buf[p0..p1]))),
                OP_PONG => return Ok(Some(Incoming::Pong)),
                OP_CLOSE => {
                    let b = &self.buf[p0..p1];
                    let code = (b.len() >= 2).then(|| u16::from_be_bytes([b[0], b[1]]));
                    return Ok(Some(Incoming::Close(code)));
                }
                op => return Err(format!("reserved opcode {op}")),
            }
        }
    }
}

/// A pong answering `payload`, masked with `key`.
pub fn push_pong(out: &mut Vec<u8>, payload: &[u8], key: [u8; 4]) {
    push_frame(out, OP_PONG, payload, key);
}

/// A close frame with `code`, masked with `key`.
pub fn push_close(out: &mut Vec<u8>, code: u16, key: [u8; 4]) {
    push_frame(out, OP_CLOSE, &code.to_be_bytes(), key);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::payload::{seq_of, verify};
    use crate::wire::frame::{Decoder, Frame};

    #[test]
    fn template_frames_decode_to_stamped_payloads() {
        for size in [24usize, 125, 126, 1000, 70_000] {
            for binary in [false, true] {
                let t = FrameTemplate::new(Template::new(1, size), binary, [9, 8, 7, 6]);
                let mut out = Vec::new();
                t.push(seq_of(1, 5), &mut out);
                t.push(seq_of(1, 6), &mut out);
                assert_eq!(out.len(), 2 * t.frame_len());
                let (f, used) = Decoder::default().decode(&out).unwrap().unwrap();
                assert_eq!(f.opcode, if binary { OP_BINARY } else { OP_TEXT });
                assert_eq!(f.mask, Some([9, 8, 7, 6]));
                assert_eq!(verify(&f.payload), Ok(seq_of(1, 5)));
                let (g, _) = Decoder::default().decode(&out[used..]).unwrap().unwrap();
                assert_eq!(verify(&g.payload), Ok(seq_of(1, 6)));
            }
        }
    }

    #[test]
    fn wrapped_frames_keep_their_envelope() {
        let t = FrameTemplate::wrapped(
            Template::new(2, 30),
            b"{\"text\":\"",
            b"\"}",
            false,
            [1, 2, 3, 4],
        );
        let mut out = Vec::new();
        t.push(seq_of(2, 9), &mut out);
        let (f, _) = Decoder::default().decode(&out).unwrap().unwrap();
        let s = String::from_utf8(f.payload).unwrap();
        assert!(s.starts_with("{\"text\":\"") && s.ends_with("\"}"), "{s}");
        assert_eq!(verify(&s.as_bytes()[9..39]), Ok(seq_of(2, 9)));
    }

    #[test]
    fn reader_handles_split_frames_fragments_and_control() {
        let mut wire = Vec::new();
        wire.extend(Frame::text("hello").encode());
        wire.extend(Frame::ping("p").encode());
        wire.extend(Frame::binary(vec![1u8; 300]).fin(false).encode());
        wire.extend(Frame::pong("").encode());
        wire.extend(Frame::continuation(true, vec![2u8; 5]).encode());
        wire.extend(Frame::binary(vec![3u8; 100_000]).encode());
        wire.extend(Frame::close(Some(1001), b"bye").encode());
        // Feed one octet at a time: every split point is exercised.
        let mut r = Reader::new(64, &[], 1 << 20);
        let mut got = Vec::new();
        for b in &wire {
            r.feed(std::slice::from_ref(b));
            while let Some(m) = r.next_frame().unwrap() {
                got.push(match m {
                    Incoming::Message { binary, data } => format!("msg {binary} {}", data.len()),
                    Incoming::Ping(p) => format!("ping {}", p.len()),
                    Incoming::Pong => "pong".into(),
                    Incoming::Close(c) => format!("close {c:?}"),
                });
            }
        }
        assert_eq!(
            got,
            [
                "msg false 5",
                "ping 1",
                "pong",
                "msg true 305",
                "msg true 100000",
                "close Some(1001)"
            ]
        );
        assert_eq!(r.pending(), 0);
    }

    #[test]
    fn reader_rejects_oversize_and_stray_continuation() {
        let mut r = Reader::new(64, &Frame::binary(vec![0; 200]).encode(), 100);
        assert!(r.next_frame().is_err());
        let mut r = Reader::new(64, &Frame::continuation(true, "x").encode(), 100);
        assert!(r.next_frame().is_err());
    }
}
