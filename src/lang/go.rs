//! go: capabilities and the names its templates read as `lang.*`.

use super::Capability;
use crate::ir::Server;
use serde_json::json;

pub const LIBRARY: &str = "github.com/coder/websocket";

/// What the generated Go server honours on the wire. coder/websocket
/// negotiates only the context-takeover parameters itself; the templates do
/// the rest of RFC 7692 (deflate.go), so a client window limit works too. A
/// server window smaller than 15 bits cannot: compress/flate always
/// compresses with a 32 KiB window (golang/go#3155).
pub const CAPABILITIES: &[Capability] = &[
    Capability::Echo,
    Capability::Chat,
    Capability::Subprotocols,
    Capability::Compression,
    Capability::ServerNoContextTakeover,
    Capability::ClientNoContextTakeover,
    Capability::ClientMaxWindowBits,
    Capability::Threshold,
];

pub fn context(server: &Server) -> serde_json::Value {
    json!({
        // A dotted first element keeps the module path clear of the standard
        // library's (a server named "net" or "log" would clash otherwise).
        "module_path": format!("example.com/{}", server.slug),
        "binary": server.slug,
    })
}
