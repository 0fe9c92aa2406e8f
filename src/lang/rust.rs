//! rust: capabilities and the names its templates read as `lang.*`.
//!
//! The generated server is tokio + yawc. The HTTP side (routing, `/healthz`,
//! the upgrade handshake, subprotocols and the permessage-deflate offer) is
//! parsed by hand with httparse in the templates, so no HTTP server runs per
//! connection and an idle connection costs a few KB; yawc then runs the
//! WebSocket protocol on the raw `TcpStream`.

use super::Capability;
use crate::emit::filters::json_str;
use crate::ir::{Server, ServerKind};
use serde_json::json;

pub const LIBRARY: &str = "tokio + yawc (permessage-deflate through zlib-rs)";

/// What the generated Rust server honours on the wire, each checked with a
/// real client offer (Python `websockets` `ClientPerMessageDeflateFactory`).
/// yawc compresses through flate2 on zlib-rs, so every RFC 7692 parameter is
/// honoured; the offer itself is negotiated by the template (`deflate.rs`).
/// One limit of zlib: a raw deflate stream cannot use an 8-bit window, so a
/// spec's `serverMaxWindowBits: 8` is answered as 9 (the smallest window
/// zlib can produce), and a client asking the server for 8 gets no extension.
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

/// Names cargo refuses as a package name (keywords and the built-in crates).
const RESERVED: &str = "abstract alloc as async await become box break const continue core crate \
    do dyn else enum extern false final fn for gen if impl in let loop macro match mod move mut \
    override priv proc-macro proc_macro pub ref return self static std struct super test trait \
    true try type typeof unsafe unsized use virtual where while yield";

/// The package (and binary) name: the slug, unless cargo reserves it.
pub fn package_name(slug: &str) -> String {
    if RESERVED.split_whitespace().any(|reserved| reserved == slug) {
        format!("{slug}-server")
    } else {
        slug.to_string()
    }
}

pub fn context(server: &Server) -> serde_json::Value {
    let package = package_name(&server.slug);
    let kind = match server.kind {
        ServerKind::Echo => "echo",
        ServerKind::Chat => "chat",
    };
    json!({
        "package": package,
        "module": package.replace('-', "_"),
        // The exact body of GET /healthz; templates pass it through rust_str.
        "healthz_body": format!(
            "{{\"status\":\"ok\",\"name\":{},\"type\":\"{kind}\"}}",
            json_str(&server.name)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_names_get_a_suffix() {
        assert_eq!(package_name("echo"), "echo");
        assert_eq!(package_name("test"), "test-server");
        assert_eq!(package_name("self"), "self-server");
    }
}
