//! node: capabilities and the names its templates read as `lang.*`.
//!
//! The generated project is an ESM package on Node.js >= 20 built on `ws` 8.x.
//! Each capability below was checked on the wire against a third-party client
//! (Python `websockets` with explicit permessage-deflate offers):
//! - `ws` answers `server_no_context_takeover` / `client_no_context_takeover`
//!   and the window bits from its `perMessageDeflate` options and compresses
//!   with them; an offer the spec cannot satisfy (a smaller
//!   `client_max_window_bits`, or none at all when the spec limits it) is
//!   declined, so the connection goes on uncompressed.
//! - `threshold`: `ws` applies its own threshold only without context
//!   takeover, so the generated `Connection#send` sets the per-message
//!   `compress` flag itself (RSV1 only at or above the threshold).

use super::Capability;
use crate::ir::Server;
use serde_json::json;

pub const LIBRARY: &str = "ws (npm)";

pub const CAPABILITIES: &[Capability] = &[
    Capability::Echo,
    Capability::Chat,
    Capability::Subprotocols,
    Capability::Compression,
    Capability::ServerNoContextTakeover,
    Capability::ClientNoContextTakeover,
    Capability::ServerMaxWindowBits,
    Capability::ClientMaxWindowBits,
    Capability::Threshold,
];

/// `package`: the npm package name (`package.json`), the spec's slug, which is
/// already a valid npm name (lowercase `[a-z0-9-]`, starts with a letter).
pub fn context(server: &Server) -> serde_json::Value {
    json!({
        "package": server.slug,
    })
}
