//! permessage-deflate (RFC 7692): offers, response validation and the
//! per-message codec.
//!
//! flate2 is built with its `zlib-rs` backend, which supports window sizes of
//! 9..=15 bits. A window of 8 bits cannot be produced by zlib (it silently
//! uses 9), so when a peer limits *our* compression window to 8 bits we send
//! stored (uncompressed) deflate blocks, which are valid for any window.
//! Decompression always uses a 15-bit window, which reads streams made with
//! any smaller window.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

pub const EXTENSION: &str = "permessage-deflate";

/// One permessage-deflate offer a client sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeflateOffer {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    /// `server_max_window_bits=N`.
    pub server_max_window_bits: Option<u8>,
    /// `client_max_window_bits` (`Some(None)`: without a value).
    pub client_max_window_bits: Option<Option<u8>>,
}

impl DeflateOffer {
    /// The default offer: `permessage-deflate; client_max_window_bits`.
    pub fn new() -> Self {
        DeflateOffer {
            client_max_window_bits: Some(None),
            ..Default::default()
        }
    }

    pub fn header_value(&self) -> String {
        let mut s = String::from(EXTENSION);
        if self.server_no_context_takeover {
            s.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            s.push_str("; client_no_context_takeover");
        }
        if let Some(b) = self.server_max_window_bits {
            s.push_str(&format!("; server_max_window_bits={b}"));
        }
        match self.client_max_window_bits {
            Some(Some(b)) => s.push_str(&format!("; client_max_window_bits={b}")),
            Some(None) => s.push_str("; client_max_window_bits"),
            None => {}
        }
        s
    }
}

/// Parameters in force after negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateParams {
    pub server_no_context_takeover: bool,
    pub client_no_context_takeover: bool,
    pub server_max_window_bits: u8,
    pub client_max_window_bits: u8,
}

impl Default for DeflateParams {
    fn default() -> Self {
        DeflateParams {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
        }
    }
}

impl DeflateParams {
    pub fn header_value(&self) -> String {
        let mut s = String::from(EXTENSION);
        if self.server_no_context_takeover {
            s.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            s.push_str("; client_no_context_takeover");
        }
        if self.server_max_window_bits != 15 {
            s.push_str(&format!(
                "; server_max_window_bits={}",
                self.server_max_window_bits
            ));
        }
        if self.client_max_window_bits != 15 {
            s.push_str(&format!(
                "; client_max_window_bits={}",
                self.client_max_window_bits
            ));
        }
        s
    }
}

/// One extension from a `Sec-WebSocket-Extensions` header: name and params.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    pub name: String,
    pub params: Vec<(String, Option<String>)>,
}

/// Parses a `Sec-WebSocket-Extensions` value (RFC 6455 section 9.1).
pub fn parse_extensions(value: &str) -> Result<Vec<Extension>, String> {
    let mut out = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default().to_ascii_lowercase();
        if name.is_empty() || !name.chars().all(is_token_char) {
            return Err(format!("malformed extension name in {item:?}"));
        }
        let mut params = Vec::new();
        for p in parts {
            if p.is_empty() {
                return Err(format!("empty parameter in {item:?}"));
            }
            let (k, v) = match p.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim().trim_matches('"').to_string())),
                None => (p, None),
            };
            if k.is_empty() || !k.chars().all(is_token_char) {
                return Err(format!("malformed parameter {p:?}"));
            }
            params.push((k.to_ascii_lowercase(), v));
        }
        out.push(Extension { name, params });
    }
    Ok(out)
}

fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn window_bits(v: &Option<String>, name: &str) -> Result<u8, String> {
    let Some(v) = v else {
        return Err(format!("{name} needs a value"));
    };
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) || v.len() > 2 {
        return Err(format!("{name}={v} is not a number in 8..=15"));
    }
    let n: u8 = v
        .parse()
        .map_err(|_| format!("{name}={v} is not a number"))?;
    if !(8..=15).contains(&n) {
        return Err(format!("{name}={n} is outside 8..=15"));
    }
    Ok(n)
}

/// Validates a server's permessage-deflate response against the offers sent
/// (RFC 7692 section 7.1) and returns the parameters in force.
pub fn accept_response(offers: &[DeflateOffer], ext: &Extension) -> Result<DeflateParams, String> {
    if ext.name != EXTENSION {
        return Err(format!(
            "server chose extension {:?} that was not offered",
            ext.name
        ));
    }
    let mut p = DeflateParams::default();
    let mut seen = Vec::new();
    let mut client_bits_given = false;
    let mut server_bits_given = false;
    for (k, v) in &ext.params {
        if seen.contains(k) {
            return Err(format!("parameter {k} appears twice"));
        }
        seen.push(k.clone());
        match k.as_str() {
            "server_no_context_takeover" | "client_no_context_takeover" => {
                if v.is_some() {
                    return Err(format!("{k} must not have a value"));
                }
                if k.starts_with("server") {
                    p.server_no_context_takeover = true;
                } else {
                    p.client_no_context_takeover = true;
                }
            }
            "server_max_window_bits" => {
                p.server_max_window_bits = window_bits(v, k)?;
                server_bits_given = true;
            }
            "client_max_window_bits" => {
                p.client_max_window_bits = window_bits(v, k)?;
                client_bits_given = true;
            }
            other => return Err(format!("unknown parameter {other}")),
        }
    }
    // The response must answer at least one of the offers.
    let fits = |o: &DeflateOffer| {
        (!o.server_no_context_takeover || p.server_no_context_takeover)
            && (!client_bits_given || o.client_max_window_bits.is_some())
            && match o.server_max_window_bits {
                Some(n) => server_bits_given && p.server_max_window_bits <= n,
                None => true,
            }
            && match o.client_max_window_bits {
                Some(Some(n)) => !client_bits_given || p.client_max_window_bits <= n,
                _ => true,
            }
    };
    let Some(offer) = offers.iter().find(|o| fits(o)) else {
        return Err(format!(
            "response {:?} matches none of the offers sent",
            p.header_value()
        ));
    };
    // An offered client window limit binds us even when the server is silent.
    if let (Some(Some(n)), false) = (offer.client_max_window_bits, client_bits_given) {
        p.client_max_window_bits = n;
    }
    Ok(p)
}

/// Which side of the connection a codec serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Client,
    Server,
}

/// Compresses outgoing and decompresses incoming messages for one connection.
pub struct DeflateCodec {
    compress: Compress,
    stored_only: bool,
    reset_tx: bool,
    decompress: Decompress,
    reset_rx: bool,
}

impl std::fmt::Debug for DeflateCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeflateCodec")
            .field("reset_tx", &self.reset_tx)
            .field("reset_rx", &self.reset_rx)
            .finish()
    }
}

impl DeflateCodec {
    pub fn new(params: &DeflateParams, role: Role) -> Self {
        let (tx_bits, reset_tx, reset_rx) = match role {
            Role::Client => (
                params.client_max_window_bits,
                params.client_no_context_takeover,
                params.server_no_context_takeover,
            ),
            Role::Server => (
                params.server_max_window_bits,
                params.server_no_context_takeover,
                params.client_no_context_takeover,
            ),
        };
        let stored_only = tx_bits < 9;
        let level = if stored_only {
            Compression::none()
        } else {
            Compression::default()
        };
        DeflateCodec {
            compress: Compress::new_with_window_bits(level, false, tx_bits.max(9)),
            stored_only,
            reset_tx,
            decompress: Decompress::new_with_window_bits(false, 15),
            reset_rx,
        }
    }

    /// True when the codec sends stored blocks only (window of 8 bits).
    pub fn stored_only(&self) -> bool {
        self.stored_only
    }

    /// Compresses one whole message (RFC 7692 section 7.2.1).
    pub fn compress(&mut self, data: &[u8]) -> Result<Vec<u8>, String> {
        let mut out = Vec::with_capacity(data.len() / 2 + 64);
        let start_in = self.compress.total_in();
        loop {
            let consumed = (self.compress.total_in() - start_in) as usize;
            if out.capacity() - out.len() < 64 {
                out.reserve(out.capacity().max(1024));
            }
            self.compress
                .compress_vec(&data[consumed..], &mut out, FlushCompress::Sync)
                .map_err(|e| format!("deflate failed: {e}"))?;
            let consumed = (self.compress.total_in() - start_in) as usize;
            // Done when all input is in and the flush did not fill the buffer.
            if consumed == data.len() && out.len() < out.capacity() {
                break;
            }
        }
        if out.ends_with(&[0, 0, 0xff, 0xff]) {
            out.truncate(out.len() - 4);
        }
        if self.reset_tx {
            self.compress.reset();
        }
        Ok(out)
    }

    /// Decompresses one whole message, failing past `max` output octets.
    pub fn decompress(&mut self, data: &[u8], max: usize) -> Result<Vec<u8>, String> {
        let mut input = Vec::with_capacity(data.len() + 4);
        input.extend_from_slice(data);
        input.extend_from_slice(&[0, 0, 0xff, 0xff]);
        let mut out = Vec::with_capacity((data.len() * 3).clamp(256, 1 << 20));
        let start_in = self.decompress.total_in();
        loop {
            let consumed = (self.decompress.total_in() - start_in) as usize;
            if out.capacity() - out.len() < 1024 {
                out.reserve(out.capacity().max(4096));
            }
            let before_in = consumed;
            let before_out = out.len();
            let status = self
                .decompress
                .decompress_vec(&input[consumed..], &mut out, FlushDecompress::Sync)
                .map_err(|e| format!("inflate failed: {e}"))?;
            if out.len() > max {
                return Err(format!("decompressed message exceeds {max} octets"));
            }
            let consumed = (self.decompress.total_in() - start_in) as usize;
            if status == Status::StreamEnd {
                // BFINAL block: the peer ended its deflate stream; keep going fresh.
                self.decompress.reset(false);
                if consumed >= input.len() {
                    break;
                }
                continue;
            }
            if consumed == input.len() && out.len() < out.capacity() {
                break;
            }
            if consumed == before_in && out.len() == before_out {
                return Err("inflate made no progress (truncated or corrupt data)".into());
            }
        }
        if self.reset_rx {
            self.decompress.reset(false);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_with_and_without_context_takeover() {
        for nct in [false, true] {
            for bits in [8u8, 9, 12, 15] {
                let p = DeflateParams {
                    client_no_context_takeover: nct,
                    server_no_context_takeover: nct,
                    client_max_window_bits: bits,
                    server_max_window_bits: bits,
                };
                let mut c = DeflateCodec::new(&p, Role::Client);
                let mut s = DeflateCodec::new(&p, Role::Server);
                for msg in [
                    &b""[..],
                    b"hello hello hello hello",
                    &vec![42u8; 100_000],
                    b"\x00\x01\x02",
                ] {
                    let z = c.compress(msg).unwrap();
                    assert_eq!(s.decompress(&z, 1 << 20).unwrap(), msg);
                    let z = s.compress(msg).unwrap();
                    assert_eq!(c.decompress(&z, 1 << 20).unwrap(), msg);
                }
            }
        }
    }

    #[test]
    fn response_validation() {
        let ext = |s: &str| parse_extensions(s).unwrap().remove(0);
        let offers = [DeflateOffer::new()];
        assert!(accept_response(&offers, &ext("permessage-deflate")).is_ok());
        let p = accept_response(
            &offers,
            &ext("permessage-deflate; client_max_window_bits=10"),
        )
        .unwrap();
        assert_eq!(p.client_max_window_bits, 10);
        assert!(accept_response(&offers, &ext("permessage-deflate; foo")).is_err());
        assert!(
            accept_response(
                &offers,
                &ext("permessage-deflate; server_max_window_bits=7")
            )
            .is_err()
        );
        assert!(
            accept_response(
                &[DeflateOffer::default()],
                &ext("permessage-deflate; client_max_window_bits=10")
            )
            .is_err()
        );
        let o = DeflateOffer {
            server_no_context_takeover: true,
            ..DeflateOffer::new()
        };
        assert!(accept_response(std::slice::from_ref(&o), &ext("permessage-deflate")).is_err());
        assert!(
            accept_response(&[o], &ext("permessage-deflate; server_no_context_takeover")).is_ok()
        );
    }
}
