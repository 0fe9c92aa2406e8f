//! The `mcp` part of the IR: the stdio MCP server each connection gets
//! (docs/protocol/mcp-bridge-v1.md).

use super::child::{command, env};
use super::{Checker, Settings};
use crate::ir::Mcp;

pub(super) fn mcp(c: &mut Checker, s: &Settings) -> Mcp {
    Mcp {
        command: command(
            c,
            s,
            "mcp",
            r#"add `mcp: {command: [npx, -y, "@modelcontextprotocol/server-everything"]}` (the stdio MCP server to bridge)"#,
        ),
        cwd: s.str("mcp.cwd").map(|v| v.value),
        env: env(c, s, "mcp"),
        max_sessions: c.int(s, "mcp.maxSessions"),
        idle_timeout_ms: c.int(s, "mcp.idleTimeout"),
        shutdown_grace_ms: c.int(s, "mcp.shutdownGrace"),
    }
}
