//! `js_item`: a JavaScript declaration (or array entry) whose value is a
//! string or a list of strings from the spec, quoted as Prettier quotes it (`js_quoted`) and laid
//! out the way Prettier lays it out with the generated project's
//! `.prettierrc.json` (`printWidth` [`PRINT_WIDTH`], two-space indent,
//! trailing commas), so the project passes `prettier --check` whatever the
//! spec's values.
//!
//! ```text
//! {{ server.path | js_item(decl="export const PATH") }}
//! {{ server.subprotocols | js_item(decl="export const SUBPROTOCOLS") }}
//! {{ p | js_item(entry="echo", indent=2) }}
//! ```
//!
//! The rules (checked against Prettier in tests/generated_hygiene.rs):
//! - a string: `decl = '..';` when it fits, else the literal on the next
//!   line indented by 2 (Prettier breaks after `=` before a string literal,
//!   even when the literal alone does not fit either);
//! - a list: `decl = [];` when empty, on one line when it fits, else one
//!   item per line with a trailing comma;
//! - an entry `[value, NAME],` of a list indented by `indent`: on one line
//!   when it fits, else its two items on lines of their own.

use super::filters::{ItemValue, item_value, js_quoted};
use tera::{Kwargs, State, Value};
use unicode_width::UnicodeWidthStr;

/// The `printWidth` of the generated `.prettierrc.json`.
pub const PRINT_WIDTH: usize = 120;

pub struct JsItem;

impl tera::Filter<&Value, tera::TeraResult<String>> for JsItem {
    fn call(&self, value: &Value, kwargs: Kwargs, _: &State) -> tera::TeraResult<String> {
        if let Some(entry) = kwargs.get::<&str>("entry")? {
            let indent: usize = kwargs.get("indent")?.unwrap_or(0);
            let Some(s) = value.as_str() else {
                return Err(tera::Error::message(format!(
                    "js_item(entry=..) expects a string, got {value}"
                )));
            };
            return Ok(entry_item(s, entry, indent));
        }
        let decl: &str = kwargs.must_get("decl")?;
        Ok(match item_value(value, "js_item")? {
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

/// `decl = 'value';`
pub fn string_item(decl: &str, value: &str) -> String {
    let lit = js_quoted(value);
    let one_line = format!("{decl} = {lit};");
    if width(&one_line) <= PRINT_WIDTH {
        one_line
    } else {
        format!("{decl} =\n  {lit};")
    }
}

/// `decl = ['a', 'b'];`
pub fn list_item(decl: &str, values: &[String]) -> String {
    let lits: Vec<String> = values.iter().map(|v| js_quoted(v)).collect();
    let one_line = format!("{decl} = [{}];", lits.join(", "));
    if lits.is_empty() || width(&one_line) <= PRINT_WIDTH {
        return one_line;
    }
    let mut out = format!("{decl} = [\n");
    for lit in &lits {
        out.push_str(&format!("  {lit},\n"));
    }
    out.push_str("];");
    out
}

/// `[value, name],` at `indent` spaces (the indent is written too).
pub fn entry_item(value: &str, name: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let lit = js_quoted(value);
    let one_line = format!("{pad}[{lit}, {name}],");
    if width(&one_line) <= PRINT_WIDTH {
        one_line
    } else {
        format!("{pad}[\n{pad}  {lit},\n{pad}  {name},\n{pad}],")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        assert_eq!(string_item("export const A", "x"), "export const A = 'x';");
        let long = "y".repeat(130);
        assert_eq!(
            string_item("export const A", &long),
            format!("export const A =\n  '{long}';")
        );
        assert_eq!(list_item("export const L", &[]), "export const L = [];");
        assert_eq!(
            list_item("export const L", &["a'b".into(), "c".into()]),
            "export const L = [\"a'b\", 'c'];"
        );
        assert_eq!(
            list_item("export const L", std::slice::from_ref(&long)),
            format!("export const L = [\n  '{long}',\n];")
        );
        assert_eq!(entry_item("p", "echo", 2), "  ['p', echo],");
        assert_eq!(
            entry_item(&long, "echo", 2),
            format!("  [\n    '{long}',\n    echo,\n  ],")
        );
    }
}
