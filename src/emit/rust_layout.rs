//! `rust_item`: a Rust `const` item whose value is a string or a list of
//! strings from the spec, escaped (as `rust_str`) and laid out the way rustfmt
//! (style edition 2024, default options) lays it out at the top level, so a
//! generated project passes `cargo fmt --check` whatever the spec's values.
//!
//! ```text
//! {{ server.path | rust_item(decl="pub const PATH: &str") }}
//! {{ server.subprotocols | rust_item(decl="pub const SUBPROTOCOLS: &[&str]") }}
//! ```
//!
//! The rules (checked against rustfmt in tests/generated_hygiene.rs):
//! - a string: `decl = "..";` when it fits in 100 columns, else the literal
//!   on the next line indented by 4 when that fits, else one line (rustfmt
//!   keeps a line it cannot shorten);
//! - a list `&[..]`: empty `&[]`; on one line when the items take at most
//!   60 columns (`array_width`) and the line fits, or the items after `=` on
//!   the next line for a single item; otherwise one item per line, or as many
//!   per line as fit when every literal is at most 10 bytes long
//!   (`short_array_element_width_threshold`).

use super::filters::{ItemValue, item_value, rust_str};
use tera::{Kwargs, State, Value};
use unicode_width::UnicodeWidthStr;

const MAX_WIDTH: usize = 100;
const ARRAY_WIDTH: usize = 60;
const SHORT_ITEM: usize = 10;
const INDENT: &str = "    ";

pub struct RustItem;

impl tera::Filter<&Value, tera::TeraResult<String>> for RustItem {
    fn call(&self, value: &Value, kwargs: Kwargs, _: &State) -> tera::TeraResult<String> {
        let decl: &str = kwargs.must_get("decl")?;
        Ok(match item_value(value, "rust_item")? {
            ItemValue::Str(s) => string_item(decl, s),
            ItemValue::List(strings) => list_item(decl, &strings),
        })
    }

    fn is_safe(&self) -> bool {
        true
    }
}

fn width(s: &str) -> usize {
    UnicodeWidthStr::width(s)
}

/// `decl = "value";`
pub fn string_item(decl: &str, value: &str) -> String {
    let lit = rust_str(value);
    let one_line = format!("{decl} = {lit};");
    let next_line = format!("{INDENT}{lit};");
    if width(&one_line) > MAX_WIDTH && width(&next_line) <= MAX_WIDTH {
        format!("{decl} =\n{next_line}")
    } else {
        one_line
    }
}

/// `decl = &["a", "b"];`
pub fn list_item(decl: &str, values: &[String]) -> String {
    let lits: Vec<String> = values.iter().map(|v| rust_str(v)).collect();
    let joined = lits.join(", ");
    let one_line = format!("{decl} = &[{joined}];");
    if lits.is_empty() || (width(&joined) <= ARRAY_WIDTH && width(&one_line) <= MAX_WIDTH) {
        return one_line;
    }
    if lits.len() == 1 {
        if width(&one_line) <= MAX_WIDTH {
            return one_line;
        }
        let next_line = format!("{INDENT}&[{joined}];");
        if width(&next_line) <= MAX_WIDTH {
            return format!("{decl} =\n{next_line}");
        }
    }
    let mut out = format!("{decl} = &[\n");
    if lits.len() > 1 && lits.iter().all(|l| l.len() <= SHORT_ITEM) {
        let mut line = String::new();
        for lit in &lits {
            if line.is_empty() {
                line = format!("{INDENT}{lit},");
            } else if width(&line) + " ".len() + width(lit) + ",".len() <= MAX_WIDTH {
                line.push(' ');
                line.push_str(lit);
                line.push(',');
            } else {
                out.push_str(&line);
                out.push('\n');
                line = format!("{INDENT}{lit},");
            }
        }
        out.push_str(&line);
        out.push('\n');
    } else {
        for lit in &lits {
            out.push_str(&format!("{INDENT}{lit},\n"));
        }
    }
    out.push_str("];");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn short_values_stay_on_one_line() {
        assert_eq!(string_item("const P: &str", "/"), r#"const P: &str = "/";"#);
        assert_eq!(
            list_item("const S: &[&str]", &[]),
            "const S: &[&str] = &[];"
        );
        assert_eq!(
            list_item("const S: &[&str]", &strings(&["a", "b\"c"])),
            r#"const S: &[&str] = &["a", "b\"c"];"#
        );
    }

    #[test]
    fn a_long_string_goes_to_the_next_line_when_it_fits_there() {
        let value = "x".repeat(80);
        assert_eq!(
            string_item("pub const BODY: &str", &value),
            format!("pub const BODY: &str =\n    \"{value}\";")
        );
        let value = "x".repeat(120);
        assert_eq!(
            string_item("pub const BODY: &str", &value),
            format!("pub const BODY: &str = \"{value}\";")
        );
    }

    #[test]
    fn long_lists_go_vertical_or_fill_lines_of_short_items() {
        let long = strings(&["a".repeat(40).as_str(), "b".repeat(20).as_str()]);
        assert_eq!(
            list_item("const S: &[&str]", &long),
            format!(
                "const S: &[&str] = &[\n    \"{}\",\n    \"{}\",\n];",
                long[0], long[1]
            )
        );
        let short: Vec<String> = (0..14).map(|i| format!("item{i:02}")).collect();
        let out = list_item("const S: &[&str]", &short);
        assert!(
            out.starts_with("const S: &[&str] = &[\n    \"item00\", \"item01\","),
            "{out}"
        );
        assert!(out.lines().all(|l| l.len() <= MAX_WIDTH), "{out}");
        assert!(out.ends_with(",\n];"), "{out}");
    }
}
