//! The JSON Schema of a spec (`wsgen schema`), for editor completion through
//! yaml-language-server (`# yaml-language-server: $schema=wsgen.schema.json`).
//! Built from [`KEYS`], so its limits and defaults are the ones `resolve` checks.

use super::keys::{Fallback, Items, KEYS, Key, Ty};
use crate::ir::ServerKind;
use serde_json::{Map, Value, json};

pub fn json_schema() -> Value {
    let mut root = section("");
    let doc = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "wsgen spec",
        "description": "A WebSocket server for wsgen to generate in Node.js, Python, Go or Rust.",
    });
    for (k, v) in doc.as_object().expect("an object") {
        root.insert(k.clone(), v.clone());
    }
    Value::Object(root)
}

/// `{ "type": "object", "properties": ... }` for the keys in `path`.
fn section(path: &str) -> Map<String, Value> {
    let properties: Map<String, Value> = KEYS
        .iter()
        .filter(|k| k.parent() == path)
        .map(|k| (k.leaf().to_string(), property(k)))
        .collect();
    let doc = json!({ "type": "object", "additionalProperties": false, "properties": properties });
    doc.as_object().expect("an object").clone()
}

fn property(k: &Key) -> Value {
    let mut p = match k.ty {
        Ty::Bool => json!({ "type": "boolean" }),
        Ty::Int { min, max } => {
            let mut p = json!({ "type": "integer", "minimum": min });
            if let Some(max) = max {
                p["maximum"] = json!(max);
            }
            p
        }
        Ty::Str {
            min_len,
            pattern,
            reserved,
        } => {
            let mut p = json!({ "type": "string", "minLength": min_len });
            if let Some(pattern) = pattern {
                p["pattern"] = json!(pattern);
            }
            if !reserved.is_empty() {
                p["not"] = json!({ "enum": reserved });
            }
            p
        }
        Ty::Enum(names) => json!({ "enum": names }),
        Ty::List(Items::Argv) => json!({
            "type": "array",
            "minItems": 1,
            "items": { "type": "string", "minLength": 1 }
        }),
        Ty::List(items) => {
            let items = match items {
                Items::OneOf(names) => json!({ "enum": names }),
                Items::Pattern(p) => json!({ "type": "string", "pattern": p }),
                Items::Argv => unreachable!("matched above"),
            };
            json!({ "type": "array", "uniqueItems": true, "items": items })
        }
        Ty::Section {
            shorthand,
            required,
            ..
        } => {
            let mut map = Value::Object(section(k.path));
            if !required.is_empty() {
                map["required"] = json!(required);
            }
            match shorthand {
                Some(_) => json!({ "oneOf": [{ "type": "boolean" }, map] }),
                None => map,
            }
        }
    };
    match k.default {
        Fallback::Derived => {}
        Fallback::Bool(b) => p["default"] = json!(b),
        Fallback::Int(i) => p["default"] = json!(i),
        Fallback::Str(s) => p["default"] = json!(s),
    }
    p["description"] = json!(k.description);
    p
}

/// A commented starter spec for `wsgen init`.
pub fn starter(kind: ServerKind) -> &'static str {
    match kind {
        ServerKind::Echo => include_str!("starter-echo.yaml"),
        ServerKind::Chat => include_str!("starter-chat.yaml"),
        ServerKind::Mcp => include_str!("starter-mcp.yaml"),
        ServerKind::Session => include_str!("starter-session.yaml"),
    }
}
