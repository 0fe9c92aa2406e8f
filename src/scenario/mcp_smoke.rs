//! The MCP smoke test `wsgen verify` runs against an mcp spec's own
//! `mcp.command` and `wsgen test --mcp` runs against any URL: connect
//! offering the subprotocol `mcp` (which must be selected, as the MCP
//! TypeScript SDK's WebSocket client requires), `initialize` with
//! [`PROTOCOL_VERSION`], `notifications/initialized`, `tools/list` (every
//! page), one `ping`, then close 1000.

use crate::wire::{self, ConnectOptions, Connection, Message, WireError};
use serde_json::{Value, json};
use std::time::Duration;

/// The MCP protocol revision the smoke test asks for.
pub const PROTOCOL_VERSION: &str = "2025-06-18";

/// Pages of `tools/list` followed at most (a server that always returns a
/// `nextCursor` must not loop forever).
const MAX_PAGES: usize = 50;

/// What the server said about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct SmokeReport {
    pub name: String,
    pub version: String,
    /// The protocol revision the server chose.
    pub protocol_version: String,
    pub tools: usize,
}

impl std::fmt::Display for SmokeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} (MCP {}), {} tool{}",
            self.name,
            self.version,
            self.protocol_version,
            self.tools,
            if self.tools == 1 { "" } else { "s" }
        )
    }
}

/// Why the smoke test failed: the connection itself (nothing listens, TLS,
/// a refused handshake) or what the peer said.
#[derive(Debug)]
pub enum SmokeError {
    Connect(WireError),
    Peer(String),
}

impl std::fmt::Display for SmokeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SmokeError::Connect(e) => write!(f, "{e}"),
            SmokeError::Peer(s) => f.write_str(s),
        }
    }
}

/// Run the smoke test against `url`; `opts` carries headers and TLS (its
/// `protocols` are replaced by `mcp`); `timeout` bounds each answer.
pub async fn run(
    url: &str,
    opts: &ConnectOptions,
    timeout: Duration,
) -> Result<SmokeReport, SmokeError> {
    let opts = ConnectOptions {
        protocols: vec!["mcp".into()],
        read_timeout: timeout,
        ..opts.clone()
    };
    let mut c = wire::connect(url, &opts)
        .await
        .map_err(SmokeError::Connect)?;
    let r = session(&mut c, timeout).await;
    if r.is_ok() {
        let _ = c.close(Some(1000), "").await;
    } else if !c.sent_close {
        let _ = c.send_close(Some(1000), b"").await;
    }
    r.map_err(SmokeError::Peer)
}

async fn session(c: &mut Connection, timeout: Duration) -> Result<SmokeReport, String> {
    if c.protocol.as_deref() != Some("mcp") {
        return Err(format!(
            "the server did not select the subprotocol `mcp` (selected: {}): not an MCP bridge \
             (MCP WebSocket clients require it)",
            c.protocol.as_deref().unwrap_or("none")
        ));
    }
    let init = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "wsgen", "version": env!("CARGO_PKG_VERSION")},
        },
    });
    let result = call(c, &init, timeout).await?;
    let info = result.get("serverInfo").cloned().unwrap_or(Value::Null);
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(String::from);
    let name = text(info.get("name"))
        .ok_or_else(|| format!("the initialize result has no serverInfo.name: {result}"))?;
    let version = text(info.get("version")).unwrap_or_else(|| "?".into());
    let protocol_version = text(result.get("protocolVersion"))
        .ok_or_else(|| format!("the initialize result has no protocolVersion: {result}"))?;
    send(
        c,
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    )
    .await?;
    let mut tools = 0;
    let mut cursor: Option<Value> = None;
    for page in 0.. {
        if page == MAX_PAGES {
            return Err(format!(
                "tools/list still had a nextCursor after {MAX_PAGES} pages"
            ));
        }
        let mut req = json!({"jsonrpc": "2.0", "id": 2 + page, "method": "tools/list"});
        if let Some(cur) = &cursor {
            req["params"] = json!({ "cursor": cur });
        }
        let r = call(c, &req, timeout).await?;
        tools += r
            .get("tools")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("the tools/list result has no `tools` list: {r}"))?
            .len();
        cursor = r.get("nextCursor").filter(|v| !v.is_null()).cloned();
        if cursor.is_none() {
            break;
        }
    }
    call(
        c,
        &json!({"jsonrpc": "2.0", "id": "wsgen-ping", "method": "ping"}),
        timeout,
    )
    .await?;
    Ok(SmokeReport {
        name,
        version,
        protocol_version,
        tools,
    })
}

async fn send(c: &mut Connection, v: &Value) -> Result<(), String> {
    c.send_text(&v.to_string())
        .await
        .map_err(|e| format!("sending {}: {e}", method(v)))
}

fn method(v: &Value) -> &str {
    v.get("method").and_then(Value::as_str).unwrap_or("?")
}

/// Send a request and wait for its response, answering what the server asks
/// meanwhile (`ping` with an empty result, anything else with -32601) and
/// passing over its notifications.
async fn call(c: &mut Connection, req: &Value, timeout: Duration) -> Result<Value, String> {
    send(c, req).await?;
    let id = &req["id"];
    let what = method(req);
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let msg = match c.recv_message_timeout(left).await {
            Ok(m) => m,
            Err(WireError::Timeout(_)) => {
                return Err(format!("no answer to {what} within {timeout:?}"));
            }
            Err(WireError::Closed { code, reason }) => {
                return Err(format!(
                    "the server closed the connection while waiting for the {what} answer \
                     (code {}{})",
                    code.map_or("none".into(), |c| c.to_string()),
                    if reason.is_empty() {
                        String::new()
                    } else {
                        format!(", {reason:?}")
                    }
                ));
            }
            Err(e) => return Err(format!("waiting for the {what} answer: {e}")),
        };
        let text = match msg {
            Message::Text(t) => t,
            Message::Binary(_) => {
                return Err(format!(
                    "the server answered {what} with a binary message: not an MCP server"
                ));
            }
        };
        let v: Value = serde_json::from_str(&text).map_err(|_| {
            format!(
                "the server answered {what} with text that is not JSON ({:?}): not an MCP server",
                crate::scenario::pattern::preview(&text)
            )
        })?;
        if v == *req {
            return Err(format!(
                "the server sent the {what} request back unchanged: an echo server, not an MCP server"
            ));
        }
        let Some(obj) = v.as_object() else {
            return Err(format!("the server sent {v} (not a JSON-RPC object)"));
        };
        match (obj.get("method"), obj.get("id")) {
            // A request from the server.
            (Some(m), Some(rid)) => {
                let answer = if m == "ping" {
                    json!({"jsonrpc": "2.0", "id": rid, "result": {}})
                } else {
                    json!({"jsonrpc": "2.0", "id": rid,
                           "error": {"code": -32601, "message": "Method not found"}})
                };
                send(c, &answer).await?;
            }
            // A notification.
            (Some(_), None) => {}
            (None, Some(rid)) if rid == id => {
                if let Some(e) = obj.get("error") {
                    return Err(format!(
                        "the server answered {what} with an error: {} {}",
                        e.get("code").map_or("?".into(), |c| c.to_string()),
                        e.get("message").and_then(Value::as_str).unwrap_or("")
                    ));
                }
                return obj
                    .get("result")
                    .cloned()
                    .ok_or_else(|| format!("the {what} response has no result: {v}"));
            }
            (None, _) => {
                return Err(format!(
                    "the server sent a response that is not for {what} (id {id}): {v}"
                ));
            }
        }
    }
}
