//! The JSON Schema of a spec (`wsgen schema`), for editor completion through
//! yaml-language-server (`# yaml-language-server: $schema=wsgen.schema.json`).

use crate::ir::*;
use serde_json::{Value, json};

pub fn json_schema() -> Value {
    let positive = |desc: &str, default: u64| json!({ "type": "integer", "minimum": 1, "default": default, "description": desc });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "wsgen spec",
        "description": "A WebSocket server for wsgen to generate in Node.js, Python, Go or Rust.",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "name": { "type": "string", "minLength": 1, "description": "Project name; also used for package names." },
            "type": { "enum": ["echo", "chat"], "default": "echo", "description": "Server type." },
            "port": { "type": "integer", "minimum": 1, "maximum": 65535, "default": DEFAULT_PORT, "description": "Default TCP port (env PORT overrides)." },
            "path": { "type": "string", "pattern": "^/", "default": DEFAULT_PATH, "description": "WebSocket path; `/healthz` is reserved." },
            "features": {
                "type": "array", "uniqueItems": true,
                "items": { "enum": ["rooms", "presence", "history"] },
                "description": "Chat features (type: chat only); all on when omitted."
            },
            "subprotocols": {
                "type": "array", "uniqueItems": true,
                "items": { "type": "string", "pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" },
                "description": "Subprotocols in preference order (RFC 6455 section 4)."
            },
            "requireSubprotocol": { "type": "boolean", "default": false, "description": "Reject handshakes (HTTP 400) that offer none of `subprotocols`." },
            "compression": {
                "description": "permessage-deflate (RFC 7692): true/false or parameters.",
                "oneOf": [
                    { "type": "boolean" },
                    {
                        "type": "object", "additionalProperties": false,
                        "properties": {
                            "enabled": { "type": "boolean", "default": true },
                            "serverNoContextTakeover": { "type": "boolean", "default": false },
                            "clientNoContextTakeover": { "type": "boolean", "default": false },
                            "serverMaxWindowBits": { "type": "integer", "minimum": 8, "maximum": 15, "default": 15 },
                            "clientMaxWindowBits": { "type": "integer", "minimum": 8, "maximum": 15, "default": 15 },
                            "threshold": { "type": "integer", "minimum": 0, "default": DEFAULT_COMPRESSION_THRESHOLD, "description": "Messages below this many bytes are sent uncompressed." }
                        }
                    }
                ]
            },
            "maxPayload": positive("Largest message in bytes; larger ones close with 1009 (env WS_MAX_PAYLOAD).", DEFAULT_MAX_PAYLOAD),
            "pingInterval": positive("Milliseconds between pings; a peer that misses a pong is dropped (env WS_PING_INTERVAL).", DEFAULT_PING_INTERVAL_MS),
            "history": {
                "type": "object", "additionalProperties": false,
                "properties": { "limit": positive("Messages kept per room.", DEFAULT_HISTORY_LIMIT) }
            },
            "maxMessageLength": positive("Longest chat text in Unicode code points.", DEFAULT_MAX_MESSAGE_LENGTH),
            "maxRoomsPerConnection": positive("Rooms one connection may join.", DEFAULT_MAX_ROOMS),
            "sendQueueLimit": positive("Messages waiting for a slow reader before it is closed with 1008.", DEFAULT_SEND_QUEUE_LIMIT)
        }
    })
}

/// A commented starter spec for `wsgen init`.
pub fn starter(kind: ServerKind) -> &'static str {
    match kind {
        ServerKind::Echo => include_str!("starter-echo.yaml"),
        ServerKind::Chat => include_str!("starter-chat.yaml"),
    }
}
