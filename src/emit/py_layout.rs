//! `py_item`: a Python assignment of a tuple of strings from the spec,
//! escaped (as `py_str`) and laid out the way `ruff format` lays it out with
//! the generated project's `[tool.ruff]` (`line-length` [`LINE_LENGTH`]), so
//! the project passes `ruff format --check` whatever the spec's values.
//!
//! ```text
//! {{ server.subprotocols | py_item(decl="SUBPROTOCOLS: tuple[str, ...]") }}
//! ```
//!
//! The rules (checked against Ruff in tests/generated_hygiene.rs): `()` when
//! empty, `("a",)` for one item, `("a", "b")`, on one line when it fits;
//! else one item per line with a trailing comma.

use super::filters::{ItemValue, item_value, py_str};
use tera::{Kwargs, State, Value};
use unicode_width::UnicodeWidthStr;

/// The `line-length` of the generated `pyproject.toml`'s `[tool.ruff]`.
pub const LINE_LENGTH: usize = 100;

pub struct PyItem;

impl tera::Filter<&Value, tera::TeraResult<String>> for PyItem {
    fn call(&self, value: &Value, kwargs: Kwargs, _: &State) -> tera::TeraResult<String> {
        let decl: &str = kwargs.must_get("decl")?;
        match item_value(value, "py_item")? {
            ItemValue::List(strings) => Ok(tuple_item(decl, &strings)),
            ItemValue::Str(_) => Err(tera::Error::message(format!(
                "py_item expects a list of strings, got {value}"
            ))),
        }
    }

    fn is_safe(&self) -> bool {
        true
    }
}

/// `decl = ("a", "b")`
pub fn tuple_item(decl: &str, values: &[String]) -> String {
    let lits: Vec<String> = values.iter().map(|v| py_str(v)).collect();
    let inner = match lits.as_slice() {
        [one] => format!("{one},"),
        _ => lits.join(", "),
    };
    let one_line = format!("{decl} = ({inner})");
    if lits.is_empty() || UnicodeWidthStr::width(one_line.as_str()) <= LINE_LENGTH {
        return one_line;
    }
    let mut out = format!("{decl} = (\n");
    for lit in &lits {
        out.push_str(&format!("    {lit},\n"));
    }
    out.push(')');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        assert_eq!(tuple_item("T", &[]), "T = ()");
        assert_eq!(tuple_item("T", &["a".into()]), "T = (\"a\",)");
        assert_eq!(
            tuple_item("T", &["a".into(), "b'".into()]),
            "T = (\"a\", \"b'\")"
        );
        let long = "p".repeat(100);
        assert_eq!(
            tuple_item("T", std::slice::from_ref(&long)),
            format!("T = (\n    \"{long}\",\n)")
        );
    }
}
