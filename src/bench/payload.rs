//! Self-checking payloads: every message carries a sequence number and a
//! checksum, so every echo (or chat delivery) is verified without keeping a
//! copy of what was sent.
//!
//! Layout (ASCII, so the same bytes are valid text and binary payloads):
//!
//! ```text
//! [0..16)  sequence number, 16 lowercase hex digits: (connection id << 40) | counter
//! [16..24) checksum, 8 lowercase hex digits: FNV-1a-32 over [24..] then [0..16)
//! [24..)   filler, a printable pattern that depends on the connection id
//! ```
//!
//! The checksum covers the filler first so a sender computes it from a
//! precomputed filler hash plus 16 octets: stamping a message costs the same
//! whatever its size.

/// Smallest payload that can carry a sequence number and a checksum.
pub const MIN_SIZE: usize = 24;
const SEQ: std::ops::Range<usize> = 0..16;
const SUM: std::ops::Range<usize> = 16..24;

const FNV_OFFSET: u32 = 0x811c_9dc5;
const FNV_PRIME: u32 = 0x0100_0193;

/// FNV-1a-32, continued from `h`.
pub fn fnv1a(mut h: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        h ^= b as u32;
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// Sequence number of message `counter` of connection `conn`.
pub fn seq_of(conn: u32, counter: u64) -> u64 {
    ((conn as u64) << 40) | (counter & ((1 << 40) - 1))
}

/// Connection id and counter of a sequence number.
pub fn split_seq(seq: u64) -> (u32, u64) {
    ((seq >> 40) as u32, seq & ((1 << 40) - 1))
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn write_hex(out: &mut [u8], mut v: u64) {
    for b in out.iter_mut().rev() {
        *b = HEX[(v & 0xF) as usize];
        v >>= 4;
    }
}

fn read_hex(b: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for &c in b {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        v = (v << 4) | d as u64;
    }
    Some(v)
}

/// Why a received payload is not one we sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mismatch {
    /// Shorter than [`MIN_SIZE`] or not the size that was sent.
    Length,
    /// The sequence or checksum field is not hex.
    Format,
    /// The checksum does not match the content.
    Checksum,
    /// A valid payload, but not the one expected next (lost, duplicated,
    /// reordered, or another connection's message).
    Sequence,
}

/// The payload pattern of one connection.
#[derive(Debug, Clone)]
pub struct Template {
    pub bytes: Vec<u8>,
    filler_hash: u32,
}

impl Template {
    /// A `size`-octet payload for connection `conn` (`size >= MIN_SIZE`).
    pub fn new(conn: u32, size: usize) -> Template {
        let size = size.max(MIN_SIZE);
        let mut bytes = vec![b'-'; size];
        for (i, b) in bytes[MIN_SIZE..].iter_mut().enumerate() {
            *b = b'a' + ((i as u32).wrapping_mul(7).wrapping_add(conn) % 26) as u8;
        }
        let filler_hash = fnv1a(FNV_OFFSET, &bytes[MIN_SIZE..]);
        let mut t = Template { bytes, filler_hash };
        t.stamp_in_place(0);
        t
    }

    /// Writes the 24-octet sequence+checksum header for `seq` into `out`.
    pub fn header(&self, seq: u64, out: &mut [u8; MIN_SIZE]) {
        write_hex(&mut out[SEQ], seq);
        let sum = fnv1a(self.filler_hash, &out[SEQ]);
        write_hex(&mut out[SUM], sum as u64);
    }

    /// Stamps `seq` into the template's own bytes.
    pub fn stamp_in_place(&mut self, seq: u64) {
        let mut h = [0u8; MIN_SIZE];
        self.header(seq, &mut h);
        self.bytes[..MIN_SIZE].copy_from_slice(&h);
    }

    /// The whole payload for `seq` (allocates; for tests and fixtures).
    pub fn payload(&self, seq: u64) -> Vec<u8> {
        let mut t = self.clone();
        t.stamp_in_place(seq);
        t.bytes
    }
}

/// Checks a payload's own consistency and returns its sequence number.
pub fn verify(p: &[u8]) -> Result<u64, Mismatch> {
    if p.len() < MIN_SIZE {
        return Err(Mismatch::Length);
    }
    let seq = read_hex(&p[SEQ]).ok_or(Mismatch::Format)?;
    let sum = read_hex(&p[SUM]).ok_or(Mismatch::Format)? as u32;
    let h = fnv1a(fnv1a(FNV_OFFSET, &p[MIN_SIZE..]), &p[SEQ]);
    if h != sum {
        return Err(Mismatch::Checksum);
    }
    Ok(seq)
}

/// Checks an echo: right size, consistent, and the sequence number expected.
pub fn verify_echo(p: &[u8], size: usize, expected_seq: u64) -> Result<u64, Mismatch> {
    if p.len() != size {
        return Err(Mismatch::Length);
    }
    let seq = verify(p)?;
    if seq != expected_seq {
        return Err(Mismatch::Sequence);
    }
    Ok(seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamped_payloads_verify_and_carry_their_sequence() {
        let t = Template::new(3, 64);
        for k in [0u64, 1, 2, 999_999] {
            let s = seq_of(3, k);
            let p = t.payload(s);
            assert_eq!(p.len(), 64);
            assert!(p.is_ascii());
            assert_eq!(verify(&p), Ok(s));
            assert_eq!(verify_echo(&p, 64, s), Ok(s));
            assert_eq!(split_seq(s), (3, k));
        }
    }

    #[test]
    fn any_single_corruption_is_detected() {
        let t = Template::new(7, 100);
        let p = t.payload(seq_of(7, 42));
        for i in 0..p.len() {
            let mut q = p.clone();
            q[i] ^= 0x01;
            assert!(verify_echo(&q, 100, seq_of(7, 42)).is_err(), "flip at {i}");
        }
        assert_eq!(
            verify_echo(&p[..99], 100, seq_of(7, 42)),
            Err(Mismatch::Length)
        );
        assert_eq!(verify(&p[..10]), Err(Mismatch::Length));
        assert_eq!(verify_echo(&p, 100, seq_of(7, 43)), Err(Mismatch::Sequence));
        // Another connection's valid message is a sequence mismatch.
        let other = Template::new(8, 100).payload(seq_of(8, 42));
        assert_eq!(
            verify_echo(&other, 100, seq_of(7, 42)),
            Err(Mismatch::Sequence)
        );
    }

    #[test]
    fn minimum_size_is_enforced() {
        assert_eq!(Template::new(0, 1).bytes.len(), MIN_SIZE);
        let p = Template::new(0, MIN_SIZE).payload(5);
        assert_eq!(verify(&p), Ok(5));
    }
}
