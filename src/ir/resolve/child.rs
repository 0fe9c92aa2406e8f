//! What the `mcp` and `session` types share: the child process's argv and
//! the environment variables it is given.

use super::{Checker, Settings};
use crate::ir::DEFAULT_CHILD_ENV;
use serde_saphyr::Spanned;

/// The child's argv at `<section>.command`: required, non-empty, no empty
/// strings. A missing section is reported at `type:` (the section's own rule
/// reports a section without `command`); `help` says what to add.
pub(super) fn command(c: &mut Checker, s: &Settings, section: &str, help: &str) -> Vec<String> {
    let type_line = format!("`type: {section}` needs `{section}.command`");
    let Some(list) = s.list(&format!("{section}.command")) else {
        if s.given_at(section).is_none() {
            let at = s
                .get("type")
                .map(|t| Spanned::new((), t.referenced, t.defined));
            match at {
                Some(at) => c.err(&at, "type", type_line, Some(help.into())),
                None => c.errors.push(
                    crate::spec::SpecError::whole_file(&c.src.file, &type_line).with_help(help),
                ),
            }
        }
        return Vec::new();
    };
    if list.value.is_empty() {
        c.err(
            &list,
            "command",
            format!("`{section}.command` is empty: it needs the program to run"),
            Some("write the argv as a list, e.g. `[node, server.js]`".into()),
        );
    }
    for arg in &list.value {
        if arg.value.is_empty() {
            c.err(
                arg,
                "command",
                format!("`{section}.command` holds an empty string"),
                Some(
                    "remove it; the command runs without a shell, so every item is one argument"
                        .into(),
                ),
            );
        }
    }
    list.value.into_iter().map(|a| a.value).collect()
}

/// Variable names at `<section>.env` (each once), else the default list.
pub(super) fn env(c: &mut Checker, s: &Settings, section: &str) -> Vec<String> {
    let Some(list) = s.list(&format!("{section}.env")) else {
        return DEFAULT_CHILD_ENV.iter().map(|v| v.to_string()).collect();
    };
    let mut names: Vec<String> = Vec::new();
    for n in &list.value {
        let valid = n
            .value
            .starts_with(|ch: char| ch.is_ascii_alphabetic() || ch == '_')
            && n.value
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
        if !valid {
            c.err(
                n,
                "env",
                format!("{:?} is not an environment variable name", n.value),
                Some("use letters, digits and `_`, not starting with a digit (e.g. `HOME`)".into()),
            );
        } else if names.contains(&n.value) {
            c.err(
                n,
                "env",
                format!("`{}` is listed twice", n.value),
                Some("remove the duplicate".into()),
            );
        } else {
            names.push(n.value.clone());
        }
    }
    names
}
