//! Incremental UTF-8 validation (RFC 3629), so a text message can be checked
//! fragment by fragment and fail fast at the first invalid octet.

/// Validates a byte stream that may arrive in arbitrary pieces.
///
/// `feed` returns the absolute offset (from the last `reset`) of the first
/// octet that makes the stream invalid. A stream is complete when
/// [`Utf8Validator::is_complete`] holds after the last piece.
#[derive(Debug, Clone, Default)]
pub struct Utf8Validator {
    need: u8,
    lower: u8,
    upper: u8,
    consumed: usize,
    failed: bool,
}

impl Utf8Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// True when no code point is left half-finished.
    pub fn is_complete(&self) -> bool {
        self.need == 0 && !self.failed
    }

    /// Bytes fed so far.
    pub fn consumed(&self) -> usize {
        self.consumed
    }

    /// Feed the next piece; `Err(offset)` names the first invalid octet.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), usize> {
        if self.failed {
            return Err(self.consumed);
        }
        let mut i = 0;
        // Finish a code point left open by the previous piece.
        while self.need > 0 && i < bytes.len() {
            self.step(bytes[i], i)?;
            i += 1;
        }
        if i == bytes.len() {
            self.consumed += bytes.len();
            return Ok(());
        }
        // Fast path through std for the bulk.
        match std::str::from_utf8(&bytes[i..]) {
            Ok(_) => {
                self.consumed += bytes.len();
                Ok(())
            }
            Err(e) => {
                let good = i + e.valid_up_to();
                if e.error_len().is_some() {
                    // Walk the bad sequence to find the exact failing octet.
                    let mut j = good;
                    while j < bytes.len() {
                        self.step(bytes[j], j)?;
                        j += 1;
                    }
                    unreachable!("std reported an error the state machine did not find");
                }
                for (j, &b) in bytes.iter().enumerate().skip(good) {
                    self.step(b, j)?;
                }
                self.consumed += bytes.len();
                Ok(())
            }
        }
    }

    fn step(&mut self, b: u8, idx: usize) -> Result<(), usize> {
        let fail = |s: &mut Self| {
            s.failed = true;
            let at = s.consumed + idx;
            s.consumed = at;
            Err(at)
        };
        if self.need == 0 {
            let (need, lo, hi) = match b {
                0x00..=0x7F => return Ok(()),
                0xC2..=0xDF => (1, 0x80, 0xBF),
                0xE0 => (2, 0xA0, 0xBF),
                0xE1..=0xEC | 0xEE..=0xEF => (2, 0x80, 0xBF),
                0xED => (2, 0x80, 0x9F),
                0xF0 => (3, 0x90, 0xBF),
                0xF1..=0xF3 => (3, 0x80, 0xBF),
                0xF4 => (3, 0x80, 0x8F),
                _ => return fail(self),
            };
            self.need = need;
            self.lower = lo;
            self.upper = hi;
            Ok(())
        } else {
            if b < self.lower || b > self.upper {
                return fail(self);
            }
            self.lower = 0x80;
            self.upper = 0xBF;
            self.need -= 1;
            Ok(())
        }
    }
}

/// Whole-buffer check, same rules.
pub fn is_valid(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agrees_with_std_on_every_split() {
        let samples: &[&[u8]] = &[
            "Hello-µ@ßöäüàá-UTF-8!!".as_bytes(),
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
            b"\xf4\x90\x80\x80",
            b"\xf0\x9f\x98\x80abc",
            b"\xc0\xaf",
            b"\xed\x9f\xbf",
            b"\xef\xbf\xbf",
        ];
        for s in samples {
            let want = std::str::from_utf8(s).is_ok();
            for cut in 0..=s.len() {
                let mut v = Utf8Validator::new();
                let ok = v.feed(&s[..cut]).is_ok() && v.feed(&s[cut..]).is_ok() && v.is_complete();
                assert_eq!(ok, want, "{s:x?} cut at {cut}");
            }
        }
    }

    #[test]
    fn fails_fast_on_the_offending_octet() {
        let mut v = Utf8Validator::new();
        assert!(
            v.feed(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5")
                .is_ok()
        );
        assert!(v.is_complete());
        assert_eq!(v.feed(b"\xf4"), Ok(()));
        assert!(!v.is_complete());
        assert_eq!(v.feed(b"\x90\x80\x80"), Err(12));
        let mut v = Utf8Validator::new();
        assert_eq!(v.feed(b"ab\xed\xa0\x80"), Err(3));
    }
}
