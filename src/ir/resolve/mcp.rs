//! The `mcp` part of the IR: the stdio MCP server each connection gets
//! (docs/protocol/mcp-bridge-v1.md).

use super::{Checker, Settings};
use crate::ir::{DEFAULT_MCP_ENV, Mcp};
use serde_saphyr::Spanned;

pub(super) fn mcp(c: &mut Checker, s: &Settings) -> Mcp {
    Mcp {
        command: command(c, s),
        cwd: s.str("mcp.cwd").map(|v| v.value),
        env: env(c, s),
        max_sessions: c.int(s, "mcp.maxSessions"),
        idle_timeout_ms: c.int(s, "mcp.idleTimeout"),
        shutdown_grace_ms: c.int(s, "mcp.shutdownGrace"),
    }
}

/// The child's argv: required, non-empty, no empty strings. A missing
/// `mcp` section is reported at `type: mcp` (the section's own rule reports
/// a section without `command`).
fn command(c: &mut Checker, s: &Settings) -> Vec<String> {
    let Some(list) = s.list("mcp.command") else {
        if s.given_at("mcp").is_none() {
            let at = s
                .get("type")
                .map(|t| Spanned::new((), t.referenced, t.defined));
            let help = "add `mcp: {command: [npx, -y, \"@modelcontextprotocol/server-everything\"]}` (the stdio MCP server to bridge)";
            match at {
                Some(at) => c.err(
                    &at,
                    "type",
                    "`type: mcp` needs `mcp.command`",
                    Some(help.into()),
                ),
                None => c.errors.push(
                    crate::spec::SpecError::whole_file(
                        &c.src.file,
                        "`type: mcp` needs `mcp.command`",
                    )
                    .with_help(help),
                ),
            }
        }
        return Vec::new();
    };
    if list.value.is_empty() {
        c.err(
            &list,
            "command",
            "`mcp.command` is empty: it needs the program to run",
            Some("write the argv as a list, e.g. `[node, server.js]`".into()),
        );
    }
    for arg in &list.value {
        if arg.value.is_empty() {
            c.err(
                arg,
                "command",
                "`mcp.command` holds an empty string",
                Some(
                    "remove it; the command runs without a shell, so every item is one argument"
                        .into(),
                ),
            );
        }
    }
    list.value.into_iter().map(|a| a.value).collect()
}

/// Variable names (each once), else the default list.
fn env(c: &mut Checker, s: &Settings) -> Vec<String> {
    let Some(list) = s.list("mcp.env") else {
        return DEFAULT_MCP_ENV.iter().map(|v| v.to_string()).collect();
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
