//! RFC 6455 section 5.2 frames: encoder, incremental decoder and masking.
//!
//! The encoder writes whatever it is given (reserved opcodes, RSV bits,
//! oversized control frames, fragmented control frames) so the conformance
//! suite can send deliberately malformed traffic. Validation of what a peer
//! sends belongs to [`crate::wire::conn`], not here.

pub const OP_CONTINUATION: u8 = 0x0;
pub const OP_TEXT: u8 = 0x1;
pub const OP_BINARY: u8 = 0x2;
pub const OP_CLOSE: u8 = 0x8;
pub const OP_PING: u8 = 0x9;
pub const OP_PONG: u8 = 0xA;

/// True for opcodes 0x8..=0xF.
pub fn is_control(opcode: u8) -> bool {
    opcode & 0x8 != 0
}

/// True for the opcodes RFC 6455 reserves (3-7 and 11-15).
pub fn is_reserved(opcode: u8) -> bool {
    matches!(opcode, 0x3..=0x7 | 0xB..=0xF)
}

/// One frame. `rsv` holds RSV1..RSV3 as bits 2..0 (RSV1 = 4).
#[derive(Clone, PartialEq, Eq)]
pub struct Frame {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    pub payload: Vec<u8>,
}

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.describe())
    }
}

impl Frame {
    pub fn new(opcode: u8, payload: impl Into<Vec<u8>>) -> Self {
        Frame {
            fin: true,
            rsv: 0,
            opcode,
            mask: None,
            payload: payload.into(),
        }
    }
    pub fn text(payload: impl Into<Vec<u8>>) -> Self {
        Self::new(OP_TEXT, payload)
    }
    pub fn binary(payload: impl Into<Vec<u8>>) -> Self {
        Self::new(OP_BINARY, payload)
    }
    pub fn continuation(fin: bool, payload: impl Into<Vec<u8>>) -> Self {
        Self::new(OP_CONTINUATION, payload).fin(fin)
    }
    pub fn ping(payload: impl Into<Vec<u8>>) -> Self {
        Self::new(OP_PING, payload)
    }
    pub fn pong(payload: impl Into<Vec<u8>>) -> Self {
        Self::new(OP_PONG, payload)
    }
    /// A close frame; `code: None` sends an empty body (reason is ignored).
    pub fn close(code: Option<u16>, reason: &[u8]) -> Self {
        let mut p = Vec::new();
        if let Some(c) = code {
            p.extend_from_slice(&c.to_be_bytes());
            p.extend_from_slice(reason);
        }
        Self::new(OP_CLOSE, p)
    }
    pub fn fin(mut self, fin: bool) -> Self {
        self.fin = fin;
        self
    }
    pub fn rsv(mut self, rsv: u8) -> Self {
        self.rsv = rsv & 0x7;
        self
    }
    pub fn mask(mut self, key: [u8; 4]) -> Self {
        self.mask = Some(key);
        self
    }
    pub fn is_control(&self) -> bool {
        is_control(self.opcode)
    }

    /// Close code and reason of a close frame, as sent (not validated).
    pub fn close_parts(&self) -> (Option<u16>, &[u8]) {
        if self.payload.len() >= 2 {
            (
                Some(u16::from_be_bytes([self.payload[0], self.payload[1]])),
                &self.payload[2..],
            )
        } else {
            (None, &self.payload[..])
        }
    }

    /// Short human-readable form for reports: `TEXT fin rsv=0 len=5 "hello"`.
    pub fn describe(&self) -> String {
        let name = opcode_name(self.opcode);
        let mut s = format!(
            "{name}{} rsv={} len={}",
            if self.fin { " fin" } else { "" },
            self.rsv,
            self.payload.len()
        );
        if self.mask.is_some() {
            s.push_str(" masked");
        }
        if self.opcode == OP_CLOSE {
            let (code, reason) = self.close_parts();
            if let Some(c) = code {
                s.push_str(&format!(
                    " code={c} reason={:?}",
                    String::from_utf8_lossy(reason)
                ));
            }
        } else if !self.payload.is_empty() {
            s.push(' ');
            s.push_str(&preview(&self.payload, 40));
        }
        s
    }

    /// Wire bytes (header + payload, masked when `mask` is set).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.payload.len() + 14);
        self.encode_into(&mut out);
        out
    }

    pub fn encode_into(&self, out: &mut Vec<u8>) {
        encode_header(
            out,
            self.fin,
            self.rsv,
            self.opcode,
            self.mask,
            self.payload.len() as u64,
        );
        let start = out.len();
        out.extend_from_slice(&self.payload);
        if let Some(key) = self.mask {
            apply_mask(&mut out[start..], key, 0);
        }
    }
}

/// Writes a frame header announcing `len` payload octets.
pub fn encode_header(
    out: &mut Vec<u8>,
    fin: bool,
    rsv: u8,
    opcode: u8,
    mask: Option<[u8; 4]>,
    len: u64,
) {
    out.push(((fin as u8) << 7) | ((rsv & 0x7) << 4) | (opcode & 0xF));
    let m = if mask.is_some() { 0x80 } else { 0 };
    if len < 126 {
        out.push(m | len as u8);
    } else if len <= 0xFFFF {
        out.push(m | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(m | 127);
        out.extend_from_slice(&len.to_be_bytes());
    }
    if let Some(k) = mask {
        out.extend_from_slice(&k);
    }
}

pub fn opcode_name(op: u8) -> String {
    match op {
        OP_CONTINUATION => "CONT".into(),
        OP_TEXT => "TEXT".into(),
        OP_BINARY => "BINARY".into(),
        OP_CLOSE => "CLOSE".into(),
        OP_PING => "PING".into(),
        OP_PONG => "PONG".into(),
        o => format!("OP{o}"),
    }
}

/// Quoted text if the bytes are short valid UTF-8, otherwise hex.
pub fn preview(b: &[u8], max: usize) -> String {
    let cut = &b[..b.len().min(max)];
    let more = if b.len() > max { "..." } else { "" };
    match std::str::from_utf8(cut) {
        Ok(s) => format!("{s:?}{more}"),
        Err(_) => format!(
            "0x{}{more}",
            cut.iter().map(|x| format!("{x:02x}")).collect::<String>()
        ),
    }
}

/// XOR `buf` with `key`, where `buf[0]` is payload octet number `offset`.
pub fn apply_mask(buf: &mut [u8], key: [u8; 4], offset: usize) {
    let mut k = key;
    k.rotate_left(offset % 4);
    let word = u32::from_ne_bytes(k);
    let wide = (word as u64) | ((word as u64) << 32);
    let mut chunks = buf.chunks_exact_mut(8);
    for c in &mut chunks {
        let v = u64::from_ne_bytes(c.try_into().unwrap()) ^ wide;
        c.copy_from_slice(&v.to_ne_bytes());
    }
    for (i, b) in chunks.into_remainder().iter_mut().enumerate() {
        *b ^= k[i % 4];
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    pub len: u64,
    /// Header size in octets.
    pub header_len: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("64-bit payload length has its most significant bit set")]
    LengthMsb,
    #[error("frame payload of {len} octets exceeds the limit of {max}")]
    TooLarge { len: u64, max: u64 },
}

/// Parses a header from the front of `buf`; `Ok(None)` means more bytes are needed.
pub fn parse_header(buf: &[u8]) -> Result<Option<Header>, DecodeError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let b0 = buf[0];
    let b1 = buf[1];
    let masked = b1 & 0x80 != 0;
    let (len, mut pos) = match b1 & 0x7F {
        126 => {
            if buf.len() < 4 {
                return Ok(None);
            }
            (u16::from_be_bytes([buf[2], buf[3]]) as u64, 4)
        }
        127 => {
            if buf.len() < 10 {
                return Ok(None);
            }
            let l = u64::from_be_bytes(buf[2..10].try_into().unwrap());
            if l >> 63 != 0 {
                return Err(DecodeError::LengthMsb);
            }
            (l, 10)
        }
        n => (n as u64, 2),
    };
    let mask = if masked {
        if buf.len() < pos + 4 {
            return Ok(None);
        }
        let k: [u8; 4] = buf[pos..pos + 4].try_into().unwrap();
        pos += 4;
        Some(k)
    } else {
        None
    };
    Ok(Some(Header {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 0x7,
        opcode: b0 & 0xF,
        mask,
        len,
        header_len: pos,
    }))
}

/// Incremental decoder: call [`Decoder::decode`] with whatever bytes have
/// arrived; it returns a frame and the octets it consumed, or `None`.
/// Payloads come back unmasked; `mask` keeps the key that was on the wire.
#[derive(Debug, Clone)]
pub struct Decoder {
    pub max_payload: u64,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder {
            max_payload: 1 << 30,
        }
    }
}

impl Decoder {
    pub fn new(max_payload: u64) -> Self {
        Decoder { max_payload }
    }

    pub fn decode(&self, buf: &[u8]) -> Result<Option<(Frame, usize)>, DecodeError> {
        let Some(h) = parse_header(buf)? else {
            return Ok(None);
        };
        if h.len > self.max_payload {
            return Err(DecodeError::TooLarge {
                len: h.len,
                max: self.max_payload,
            });
        }
        let total = h.header_len + h.len as usize;
        if buf.len() < total {
            return Ok(None);
        }
        let mut payload = buf[h.header_len..total].to_vec();
        if let Some(k) = h.mask {
            apply_mask(&mut payload, k, 0);
        }
        Ok(Some((
            Frame {
                fin: h.fin,
                rsv: h.rsv,
                opcode: h.opcode,
                mask: h.mask,
                payload,
            },
            total,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_encodings() {
        for (len, hlen) in [
            (0usize, 2usize),
            (125, 2),
            (126, 4),
            (65535, 4),
            (65536, 10),
        ] {
            let f = Frame::binary(vec![7u8; len]);
            let bytes = f.encode();
            assert_eq!(bytes.len(), len + hlen);
            let (g, used) = Decoder::default().decode(&bytes).unwrap().unwrap();
            assert_eq!(used, bytes.len());
            assert_eq!(g, f);
        }
    }

    #[test]
    fn masking_roundtrip_at_any_offset() {
        let key = [1, 2, 3, 4];
        let data: Vec<u8> = (0..37).collect();
        let mut whole = data.clone();
        apply_mask(&mut whole, key, 0);
        for split in 0..data.len() {
            let mut a = data.clone();
            let (x, y) = a.split_at_mut(split);
            apply_mask(x, key, 0);
            apply_mask(y, key, split);
            assert_eq!(a, whole);
        }
        let f = Frame::text("hello").mask(key);
        let (g, _) = Decoder::default().decode(&f.encode()).unwrap().unwrap();
        assert_eq!(g.payload, b"hello");
        assert_eq!(g.mask, Some(key));
    }

    #[test]
    fn malformed_frames_encode_as_asked() {
        let f = Frame::new(0xB, vec![0; 200]).rsv(5).fin(false);
        let b = f.encode();
        assert_eq!(b[0], 0x5B);
        let (g, _) = Decoder::default().decode(&b).unwrap().unwrap();
        assert_eq!(
            (g.fin, g.rsv, g.opcode, g.payload.len()),
            (false, 5, 0xB, 200)
        );
    }

    #[test]
    fn rejects_msb_and_oversize() {
        let mut b = vec![0x82, 127];
        b.extend_from_slice(&(1u64 << 63).to_be_bytes());
        assert_eq!(Decoder::default().decode(&b), Err(DecodeError::LengthMsb));
        let b = Frame::binary(vec![0; 300]).encode();
        assert!(matches!(
            Decoder::new(100).decode(&b),
            Err(DecodeError::TooLarge { .. })
        ));
    }
}
