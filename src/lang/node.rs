//! node: capabilities and the names its templates read as `lang.*`.

use super::Capability;
use crate::ir::Server;
use serde_json::json;

pub const LIBRARY: &str = "ws (npm)";

pub const CAPABILITIES: &[Capability] = &[Capability::Echo];

pub fn context(server: &Server) -> serde_json::Value {
    json!({
        "package": server.slug,
    })
}
