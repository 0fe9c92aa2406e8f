//! python: capabilities and the names its templates read as `lang.*`.
//!
//! The generated project is built on `websockets` (asyncio API). Every
//! capability below is checked over the wire by the generated project's own
//! tests and by `tests/lang_python.rs`:
//! - subprotocols: our `select_subprotocol` picks in the client's order;
//! - permessage-deflate: `ServerPerMessageDeflateFactory` honours both
//!   `*_no_context_takeover` flags and both `*_max_window_bits` (a client
//!   offer without `client_max_window_bits` is declined when the spec limits
//!   the client's window, as RFC 7692 section 7.1.2.2 requires). zlib
//!   cannot compress raw deflate with an 8-bit window: an offer asking for
//!   `server_max_window_bits=8` is declined (the next offer is tried), and a
//!   spec with `serverMaxWindowBits: 8` fails generation (the template throws);
//! - threshold: not in websockets; the template adds a small
//!   `PerMessageDeflate` subclass that sends messages under the threshold
//!   uncompressed (RSV1 clear), which RFC 7692 allows per message;
//! - chat: chat-v1 (docs/protocol/chat-v1.md) as docs/chat-implementation.md
//!   spells it out; strict JSON adds what `json.loads` lacks (it accepts
//!   NaN/Infinity and unpaired surrogate escapes), and the chat page is
//!   rendered into the package (`static/index.html`) and served at `GET /`.

use super::Capability;
use crate::ir::Server;
use serde_json::json;

pub const LIBRARY: &str = "websockets (PyPI, asyncio API)";

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

/// `package` is the distribution name (pyproject), `module` the import name.
/// Both end in `server` so that no spec name can shadow the standard library,
/// `websockets` or a keyword (`name: json` would otherwise break imports).
pub fn context(server: &Server) -> serde_json::Value {
    let module = module_name(&server.slug);
    json!({
        "package": module.replace('_', "-"),
        "module": module,
    })
}

fn module_name(slug: &str) -> String {
    let base = slug.replace('-', "_");
    if base == "server" || base.ends_with("_server") {
        base
    } else {
        format!("{base}_server")
    }
}

#[cfg(test)]
mod tests {
    use super::module_name;

    #[test]
    fn module_names_never_shadow_other_modules() {
        assert_eq!(module_name("echo"), "echo_server");
        assert_eq!(module_name("my-echo-server"), "my_echo_server");
        assert_eq!(module_name("websockets"), "websockets_server");
        assert_eq!(module_name("import"), "import_server");
    }
}
