//! Synthetic stand-ins for the Autobahn Testsuite's compression test files
//! (which wsgen cannot ship): deterministic, with the same kind of content
//! (JSON, a bitmap, German prose, HTML, a PDF-like mix) and similar sizes,
//! so compression ratios behave alike.

use std::sync::OnceLock;

use rand::{Rng, SeedableRng, rngs::StdRng};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Corpus {
    Json,
    Bitmap,
    Prose,
    Html,
    Pdf,
}

impl Corpus {
    pub const ALL: [Corpus; 5] = [
        Corpus::Json,
        Corpus::Bitmap,
        Corpus::Prose,
        Corpus::Html,
        Corpus::Pdf,
    ];

    /// Autobahn's description for the 12.N subcategory.
    pub fn description(self) -> &'static str {
        match self {
            Corpus::Json => "Large JSON data file (utf8)",
            Corpus::Bitmap => "Bitmap picture, 512x512 8-bit grayscale (binary)",
            Corpus::Prose => "Human readable text, German prose (binary)",
            Corpus::Html => "Large HTML file (utf8)",
            Corpus::Pdf => "A larger PDF-like file (binary)",
        }
    }

    /// Sent as a binary message (Autobahn sends the text files too as binary
    /// except JSON and HTML).
    pub fn binary(self) -> bool {
        matches!(self, Corpus::Bitmap | Corpus::Prose | Corpus::Pdf)
    }

    pub fn data(self) -> &'static [u8] {
        static DATA: [OnceLock<Vec<u8>>; 5] = [const { OnceLock::new() }; 5];
        let i = Corpus::ALL.iter().position(|c| *c == self).unwrap();
        DATA[i].get_or_init(|| match self {
            Corpus::Json => json(),
            Corpus::Bitmap => bitmap(),
            Corpus::Prose => prose(222_218),
            Corpus::Html => html(),
            Corpus::Pdf => pdf(),
        })
    }

    /// `len` octets starting at `*ptr`, wrapping around (Autobahn's sendOne);
    /// text corpora are cut back to a UTF-8 boundary... they are pure ASCII,
    /// so any cut is valid.
    pub fn slice(self, ptr: &mut usize, len: usize) -> Vec<u8> {
        let d = self.data();
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            let take = (len - out.len()).min(d.len() - *ptr);
            out.extend_from_slice(&d[*ptr..*ptr + take]);
            *ptr = (*ptr + take) % d.len();
        }
        out
    }
}

const WORDS: &[&str] = &[
    "Habe",
    "nun",
    "ach",
    "Philosophie",
    "Juristerei",
    "und",
    "Medizin",
    "leider",
    "auch",
    "Theologie",
    "durchaus",
    "studiert",
    "mit",
    "heissem",
    "Bemuehn",
    "Da",
    "steh",
    "ich",
    "armer",
    "Tor",
    "bin",
    "so",
    "klug",
    "als",
    "wie",
    "zuvor",
    "Heisse",
    "Magister",
    "heisse",
    "Doktor",
    "gar",
    "ziehe",
    "schon",
    "an",
    "die",
    "zehen",
    "Jahr",
    "herauf",
    "herab",
    "quer",
    "krumm",
    "meine",
    "Schueler",
    "der",
    "Nase",
    "herum",
    "sehe",
    "dass",
    "wir",
    "nichts",
    "wissen",
    "koennen",
    "Das",
    "will",
    "mir",
    "schier",
    "Herz",
    "verbrennen",
    "Geist",
    "Welt",
    "Nacht",
    "Himmel",
    "Erde",
];

fn prose(len: usize) -> Vec<u8> {
    let mut r = StdRng::seed_from_u64(2229);
    let mut s = String::with_capacity(len + 64);
    while s.len() < len {
        let n = r.random_range(4..12);
        for i in 0..n {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(WORDS[r.random_range(0..WORDS.len())]);
        }
        s.push_str(if r.random_bool(0.3) { ",\n" } else { ".\n" });
    }
    s.truncate(len);
    s.into_bytes()
}

fn json() -> Vec<u8> {
    let mut r = StdRng::seed_from_u64(1);
    let mut s = String::from("[\n");
    let mut i = 0;
    while s.len() < 194_000 {
        if i > 0 {
            s.push_str(",\n");
        }
        let name = WORDS[r.random_range(0..WORDS.len())];
        s.push_str(&format!(
            "  {{\"id\": {i}, \"guid\": \"{:08x}-{:04x}-{:04x}\", \"isActive\": {}, \"balance\": \"${}.{:02}\", \"age\": {}, \"name\": \"{name} {}\", \"tags\": [\"{}\", \"{}\"], \"latitude\": {:.6}, \"longitude\": {:.6}}}",
            r.random::<u32>(),
            r.random::<u16>(),
            r.random::<u16>(),
            r.random_bool(0.5),
            r.random_range(1000..4000),
            r.random_range(0..100),
            r.random_range(20..80),
            WORDS[r.random_range(0..WORDS.len())],
            WORDS[r.random_range(0..WORDS.len())],
            WORDS[r.random_range(0..WORDS.len())],
            r.random_range(-90.0..90.0f64),
            r.random_range(-180.0..180.0f64),
        ));
        i += 1;
    }
    s.push_str("\n]\n");
    s.into_bytes()
}

fn bitmap() -> Vec<u8> {
    let (w, h) = (512u32, 512u32);
    let mut out = Vec::with_capacity(263_222);
    let pixels = w * h;
    let offset = 14 + 40 + 256 * 4;
    out.extend_from_slice(b"BM");
    out.extend_from_slice(&(offset + pixels).to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&40u32.to_le_bytes());
    out.extend_from_slice(&w.to_le_bytes());
    out.extend_from_slice(&h.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8u16.to_le_bytes());
    out.extend_from_slice(&[0; 24]);
    for i in 0..=255u8 {
        out.extend_from_slice(&[i, i, i, 0]);
    }
    let mut r = StdRng::seed_from_u64(512);
    for y in 0..h {
        for x in 0..w {
            let fx = x as f64 / 40.0;
            let fy = y as f64 / 55.0;
            let v = 128.0
                + 60.0 * (fx.sin() * fy.cos())
                + 40.0 * ((fx + fy) / 3.0).sin()
                + r.random_range(-12.0..12.0);
            out.push(v.clamp(0.0, 255.0) as u8);
        }
    }
    out
}

fn html() -> Vec<u8> {
    let mut r = StdRng::seed_from_u64(7);
    let mut s = String::from(
        "<!DOCTYPE html>\n<html lang=\"de\">\n<head><meta charset=\"utf-8\"><title>Faust</title></head>\n<body>\n",
    );
    let body = prose(200_000);
    let text = String::from_utf8(body).unwrap();
    for (i, para) in text.split(".\n").enumerate() {
        if s.len() > 263_000 {
            break;
        }
        let class = ["verse", "speaker", "stage", "note"][r.random_range(0..4)];
        s.push_str(&format!(
            "  <div class=\"{class}\" id=\"p{i}\"><p>{para}.</p></div>\n"
        ));
    }
    s.push_str("</body>\n</html>\n");
    s.into_bytes()
}

fn pdf() -> Vec<u8> {
    let mut r = StdRng::seed_from_u64(105);
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut obj = 1;
    while out.len() < 1_040_000 {
        if r.random_bool(0.5) {
            let t = prose(r.random_range(500..4000));
            out.extend_from_slice(
                format!(
                    "{obj} 0 obj\n<< /Length {} >>\nstream\nBT /F1 12 Tf 72 712 Td (",
                    t.len()
                )
                .as_bytes(),
            );
            out.extend_from_slice(&t);
            out.extend_from_slice(b") Tj ET\nendstream\nendobj\n");
        } else {
            let n = r.random_range(1000..8000);
            out.extend_from_slice(
                format!("{obj} 0 obj\n<< /Length {n} /Filter /FlateDecode >>\nstream\n").as_bytes(),
            );
            out.extend((0..n).map(|_| r.random::<u8>()));
            out.extend_from_slice(b"\nendstream\nendobj\n");
        }
        obj += 1;
    }
    out.extend_from_slice(b"trailer\n<< /Root 1 0 R >>\n%%EOF\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corpora_are_deterministic_and_text_is_utf8() {
        for c in Corpus::ALL {
            let d = c.data();
            assert!(d.len() > 190_000, "{c:?} {}", d.len());
            if !c.binary() {
                assert!(std::str::from_utf8(d).is_ok());
            }
        }
        let mut p = 0;
        let a = Corpus::Json.slice(&mut p, 300_000);
        assert_eq!(a.len(), 300_000);
    }
}
