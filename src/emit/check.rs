//! The template contract: every path a template reads below `server`,
//! `lang`, `deps`, `contract` or `wsgen` must exist in the typed context
//! ([`super::context::TemplateContext`]). Tera treats a missing field as
//! undefined, and `if` treats undefined as false, so without this check a
//! misspelt field in a condition would silently switch code off.
//!
//! Also refused: a field of a plain value or list, an index into a map, and
//! an enum (`server.kind`) compared with a string it never equals. Not
//! checked: a misspelt root (`sever.chat` reads as an unknown local
//! variable), paths below a dynamic subscript (`server[key]`), names bound
//! to anything but a plain path (`{% set c = server.chat | default(...) %}`,
//! `for k, v in ...`), variables a partial inherits from its includer, and
//! the type a filter or test expects.

use super::EmitError;
use super::scan::{self, Read, Seg};
use super::shape::Shape;

/// The names templates read from the context.
pub const ROOTS: &[&str] = &["server", "lang", "deps", "contract", "wsgen"];

/// Check one template (`name` as the error should show it) against `shape`.
pub fn check_template(name: &str, source: &str, shape: &Shape) -> Result<(), EmitError> {
    let reads = scan::reads(source, ROOTS).map_err(|e| EmitError::Template {
        template: format!("{name}:{}:{}", e.line, e.column),
        message: e.message,
    })?;
    for read in &reads {
        check_read(read, shape).map_err(|message| EmitError::Template {
            template: format!("{name}:{}:{}", read.line, read.column),
            message,
        })?;
    }
    Ok(())
}

/// Walk `read` down `shape`; the message names the first step that does not exist.
fn check_read(read: &Read, shape: &Shape) -> Result<(), String> {
    let path = read.resolved();
    let alias_len = read.alias_of.as_ref().map_or(0, |a| a.len() - 1);
    let mut here = shape;
    for (i, seg) in path.iter().enumerate() {
        let next = match seg {
            Seg::Field(name) => here.field(name),
            Seg::Index(_) | Seg::Each => here.element(),
            Seg::Dynamic => return Ok(()),
        };
        let Some(next) = next else {
            let parent = scan::display(&path[..i]);
            // Name the step as written: `x.rooms` when `x` is an alias.
            let mut written = vec![Seg::Field(read.root.clone())];
            written.extend(path[alias_len + 1..=i].iter().cloned());
            let written = scan::display(&written);
            let what = match seg {
                Seg::Field(_) => "unknown field",
                _ => "cannot index",
            };
            let alias = match &read.alias_of {
                Some(target) => format!("{} is {}; ", read.root, scan::display(target)),
                None => String::new(),
            };
            return Err(format!(
                "{what} {written} ({alias}{parent} {})",
                here.describe()
            ));
        };
        here = next;
    }
    match (here, &read.compared_with) {
        (Shape::OneOf(values), Some(v)) if !values.contains(&v.as_str()) => Err(format!(
            "{} is compared with {v:?}, which it never is ({} {})",
            read.written(),
            scan::display(&path),
            here.describe()
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape() -> Shape {
        Shape::fields([(
            "server",
            Shape::fields([
                ("port", Shape::Scalar),
                ("subprotocols", Shape::List(Box::new(Shape::Scalar))),
                (
                    "chat",
                    Shape::fields([("rooms", Shape::Scalar), ("presence", Shape::Scalar)]),
                ),
            ]),
        )])
    }

    fn check(src: &str) -> Result<(), String> {
        check_template("t.tera", src, &shape()).map_err(|e| e.to_string())
    }

    #[test]
    fn existing_paths_pass() {
        check("{% if server.chat.rooms %}{{ server.port }}{% endif %}{% for p in server.subprotocols %}{{ p }}{% endfor %}{{ server.subprotocols[0] }}").unwrap();
    }

    #[test]
    fn a_misspelt_field_in_a_condition_is_located() {
        assert_eq!(
            check("a\n  {% if server.chat.romos %}x{% endif %}").unwrap_err(),
            "template t.tera:2:9: unknown field server.chat.romos (server.chat has: presence, rooms)"
        );
    }

    #[test]
    fn aliases_are_checked_through_their_target() {
        assert_eq!(
            check("{% set c = server.chat %}{{ c.room }}").unwrap_err(),
            "template t.tera:1:29: unknown field c.room (c is server.chat; server.chat has: presence, rooms)"
        );
        assert_eq!(
            check("{% for p in server.subprotocols %}{{ p.name }}{% endfor %}").unwrap_err(),
            "template t.tera:1:38: unknown field p.name (p is server.subprotocols[*]; server.subprotocols[*] is a plain value, without fields)"
        );
    }

    #[test]
    fn an_enum_compared_with_a_value_it_never_has_is_refused() {
        let shape = Shape::fields([(
            "server",
            Shape::fields([("kind", Shape::OneOf(vec!["echo", "chat"]))]),
        )]);
        let check = |src: &str| check_template("t.tera", src, &shape).map_err(|e| e.to_string());
        check(r#"{% if server.kind == "chat" %}{% elif "echo" != server.kind %}{% endif %}"#)
            .unwrap();
        assert_eq!(
            check(r#"{% if server.kind == "chatt" %}{% endif %}"#).unwrap_err(),
            r#"template t.tera:1:7: server.kind is compared with "chatt", which it never is (server.kind is one of: echo, chat)"#
        );
    }

    #[test]
    fn fields_of_plain_values_and_lists_are_refused() {
        let e = check("{{ server.port.x }}").unwrap_err();
        assert!(e.contains("server.port is a plain value"), "{e}");
        let e = check("{{ server.chat[0] }}").unwrap_err();
        assert!(e.contains("cannot index server.chat[0]"), "{e}");
        let e = check("{{ server.subprotocols.first }}").unwrap_err();
        assert!(e.contains("server.subprotocols is a list"), "{e}");
    }
}
