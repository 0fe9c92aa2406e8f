//! Per-language escaping filters. Every string that comes from a spec reaches
//! generated code only through one of these; the guard escape function makes
//! the engine refuse any other string that could break out of its context.

use std::fmt::Write as _;
use tera::{Kwargs, State, Tera};

/// A filter whose output is marked safe (it did its own escaping).
struct Escaper(fn(&str) -> String);

impl tera::Filter<&str, String> for Escaper {
    fn call(&self, value: &str, _: Kwargs, _: &State) -> String {
        (self.0)(value)
    }
    fn is_safe(&self) -> bool {
        true
    }
}

/// Register all escaping filters on `tera`.
pub fn register(tera: &mut Tera) {
    type Escape = fn(&str) -> String;
    let filters: [(&str, Escape); 11] = [
        ("js_str", js_str),
        ("json_str", json_str),
        ("py_str", py_str),
        ("go_str", go_str),
        ("rust_str", rust_str),
        ("toml_str", toml_str),
        ("md_text", md_text),
        ("comment", comment),
        ("html_text", html_text),
        // Identifiers from our own names (frame and field names):
        // `replay_gap` -> `ReplayGap` / `replayGap`.
        ("pascal", pascal),
        ("camel", camel),
    ];
    for (name, f) in filters {
        tera.register_filter(name, Escaper(f));
    }
    // A Rust `const` item with a spec string (or list): escaped as `rust_str`
    // and laid out as rustfmt would.
    tera.register_filter("rust_item", super::rust_layout::RustItem);
    // A JavaScript `const` (or array entry) with a spec string or list:
    // quoted and laid out as Prettier would; `py_item` the same for a
    // Python tuple and `ruff format`.
    tera.register_filter("py_item", super::py_layout::PyItem);
    tera.register_filter("js_item", super::js_layout::JsItem);
    // A filter section: Cargo.lock entries in Cargo's order (not an escaper).
    tera.register_filter("cargo_lock", super::cargo_lock::CargoLock);
    tera.set_escape_fn(guard);
    tera.autoescape_on([""]);
}

/// `snake_case` (or `kebab-case`) as `PascalCase`; any character that is not
/// an ASCII letter or digit separates words and is dropped, so the result
/// is always a plain identifier.
pub fn pascal(s: &str) -> String {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut cs = w.chars();
            let first = cs.next().expect("non-empty").to_ascii_uppercase();
            std::iter::once(first).chain(cs).collect::<String>()
        })
        .collect()
}

/// `snake_case` as `camelCase` (see [`pascal`]).
pub fn camel(s: &str) -> String {
    let p = pascal(s);
    let mut cs = p.chars();
    match cs.next() {
        Some(first) => std::iter::once(first.to_ascii_lowercase())
            .chain(cs)
            .collect(),
        None => p,
    }
}

/// Characters a value may contain to be interpolated without a filter:
/// enough for numbers, versions, slugs and paths, nothing that can end a
/// string literal, start an interpolation or a comment, or break a line.
pub fn is_plain(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || " _.-/:@^~+=,*".contains(c))
}

fn guard(input: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    if is_plain(input) {
        out.write_all(input.as_bytes())
    } else {
        Err(std::io::Error::other(format!(
            "the value {input:?} reached a template without an escaping filter \
             (use js_str, py_str, go_str, rust_str, rust_item, js_item, py_item, toml_str, json_str, md_text, comment or html_text)"
        )))
    }
}

/// A JavaScript string literal (JSON is valid JS; U+2028/9 escaped for old engines).
pub fn js_str(s: &str) -> String {
    json_str(s)
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// A JavaScript string literal quoted as Prettier quotes it with
/// `singleQuote` (the generated Node.js sources, through `js_item`): single
/// quotes unless the value holds more single quotes than double ones (then
/// double), only the enclosing quote escaped; JSON's escapes otherwise
/// (U+2028/9 escaped for old engines).
pub fn js_quoted(s: &str) -> String {
    let singles = s.matches('\'').count();
    let doubles = s.matches('"').count();
    let quote = if singles > doubles { '"' } else { '\'' };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A JSON string.
pub fn json_str(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

/// A Python string literal (`repr`-style escapes), quoted as `ruff format`
/// quotes it: double quotes unless the value holds more double quotes than
/// single ones (then single), only the enclosing quote escaped.
pub fn py_str(s: &str) -> String {
    let quote = if s.matches('"').count() > s.matches('\'').count() {
        '\''
    } else {
        '"'
    };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if c.is_control() || is_unicode_separator(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A Go interpreted string literal (`strconv.Quote`-style).
pub fn go_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_unicode_separator(c) || c == '\u{feff}' => {
                if (c as u32) <= 0xffff {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                } else {
                    let _ = write!(out, "\\U{:08x}", c as u32);
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Rust string literal.
pub fn rust_str(s: &str) -> String {
    format!("{s:?}")
}

/// A TOML basic string.
pub fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Inline Markdown text: one line, Markdown and HTML metacharacters escaped.
pub fn md_text(s: &str) -> String {
    let mut out = String::new();
    for c in one_line(s).chars() {
        if "\\`*_{}[]()<>#+-!|$~".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Text inside a line comment (`//` or `#`): one line, no comment terminators.
pub fn comment(s: &str) -> String {
    one_line(s).replace("*/", "* /")
}

/// HTML text content.
pub fn html_text(s: &str) -> String {
    let mut buf = Vec::new();
    tera::escape_html(s, &mut buf).expect("writing to a Vec cannot fail");
    String::from_utf8(buf).expect("escaping keeps UTF-8")
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || is_unicode_separator(c) {
                ' '
            } else {
                c
            }
        })
        .collect()
}

fn is_unicode_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}')
}

/// What a layout filter (`rust_item`, `js_item`, `py_item`) was given: a
/// spec string, or a list of spec strings.
pub enum ItemValue<'a> {
    Str(&'a str),
    List(Vec<String>),
}

/// Read a layout filter's value, refusing anything but a string or a list of
/// strings with a message naming `filter`.
pub fn item_value<'a>(value: &'a tera::Value, filter: &str) -> tera::TeraResult<ItemValue<'a>> {
    if let Some(s) = value.as_str() {
        return Ok(ItemValue::Str(s));
    }
    let Some(items) = value.as_array() else {
        return Err(tera::Error::message(format!(
            "{filter} expects a string or a list of strings, got {value}"
        )));
    };
    items
        .iter()
        .map(|v| {
            v.as_str()
                .map(str::to_string)
                .ok_or_else(|| tera::Error::message(format!("{filter}: {v} is not a string")))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(ItemValue::List)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_quotes_and_newlines() {
        let s = "a\"b\\c\nd${x}{{y}}";
        assert_eq!(js_str(s), r#""a\"b\\c\nd${x}{{y}}""#);
        assert_eq!(js_quoted(s), r#"'a"b\\c\nd${x}{{y}}'"#);
        assert_eq!(js_quoted("it's"), r#""it's""#);
        assert_eq!(js_quoted("'\"'"), r#""'\"'""#);
        assert_eq!(py_str(s), r#"'a"b\\c\nd${x}{{y}}'"#);
        assert_eq!(py_str("it's"), r#""it's""#);
        assert_eq!(py_str("say \"hi\""), r#"'say "hi"'"#);
        assert_eq!(go_str(s), r#""a\"b\\c\nd${x}{{y}}""#);
        assert_eq!(rust_str(s), r#""a\"b\\c\nd${x}{{y}}""#);
        assert_eq!(toml_str(s), r#""a\"b\\c\nd${x}{{y}}""#);
        assert_eq!(comment("a\nb */ c"), "a b * / c");
    }

    #[test]
    fn identifiers_in_pascal_and_camel_case() {
        assert_eq!(pascal("replay_gap"), "ReplayGap");
        assert_eq!(pascal("joined"), "Joined");
        assert_eq!(camel("max_message_bytes"), "maxMessageBytes");
        assert_eq!(pascal("a\"b; c"), "ABC");
    }

    #[test]
    fn guard_accepts_plain_values_only() {
        assert!(is_plain("8.18.3"));
        assert!(is_plain("/chat"));
        assert!(!is_plain("a\"b"));
        assert!(!is_plain("${x}"));
        assert!(!is_plain("a\nb"));
    }
}
