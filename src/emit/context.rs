//! The template context as Rust types: what `server`, `lang`, `deps`,
//! `contract` and `wsgen` hold. It serialises into the Tera context and
//! describes its own [`Shape`], which every template is checked against when
//! the engine is built (see [`super::check`]).

use super::Product;
use super::shape::{Described, Shape};
use crate::contract::{CONTRACT, Contract};
use crate::ir::{
    Auth, AuthKind, Chat, Compression, LogFormat, Mcp, RateLimit, Security, Server, ServerKind,
    Session, StderrMode, WhenFull,
};
use crate::lang::{LangNames, Language, deps};
use crate::protocol::{self, Field, FieldTy, Frame, Protocol};
use serde::Serialize;
use std::collections::BTreeMap;

/// Everything a template may read.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateContext<'a> {
    /// The IR.
    pub server: &'a Server,
    /// The language's names (`lang.package`, ...).
    pub lang: LangNames,
    /// Pinned dependency versions of the language (`deps.<key>`).
    pub deps: BTreeMap<&'static str, &'static str>,
    /// The cross-language constants.
    pub contract: Contract,
    pub wsgen: Wsgen,
    /// A client library's extras (`--client`); absent for a server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientContext>,
}

/// What client templates read as `client.*`: the protocol's frames
/// (`crate::protocol`) and the library's limits.
#[derive(Debug, Clone, Serialize)]
pub struct ClientContext {
    /// The library's max message size: the larger of `maxPayload` and the
    /// largest frame the server may send (docs/protocol/clients-v1.md).
    pub max_message_bytes: u64,
    /// Client -> server frames, the spec's features applied.
    pub requests: Vec<Frame>,
    /// Server -> client frames.
    pub events: Vec<Frame>,
    /// The server's error codes.
    pub errors: Vec<&'static str>,
    /// The library's own typed errors.
    pub library_errors: &'static [&'static str],
}

/// About the generator itself.
#[derive(Debug, Clone, Serialize)]
pub struct Wsgen {
    pub version: &'static str,
}

impl<'a> TemplateContext<'a> {
    pub fn new(server: &'a Server, lang: Language) -> TemplateContext<'a> {
        TemplateContext {
            server,
            lang: lang.names(server),
            deps: deps_of(lang),
            contract: CONTRACT,
            wsgen: Wsgen {
                version: env!("CARGO_PKG_VERSION"),
            },
            client: None,
        }
    }

    /// The context of `server`'s client library in `lang`: the server's,
    /// with the client's names as `lang` and the protocol as `client`.
    pub fn client(server: &'a Server, lang: Language) -> TemplateContext<'a> {
        let Protocol {
            requests,
            events,
            errors,
        } = Protocol::of(server);
        TemplateContext {
            lang: lang.client_names(server),
            client: Some(ClientContext {
                max_message_bytes: protocol::largest_server_frame(server).max(server.max_payload),
                requests,
                events,
                errors,
                library_errors: protocol::LIBRARY_ERRORS,
            }),
            ..TemplateContext::new(server, lang)
        }
    }

    /// The shape templates of `lang`'s `product` are checked against
    /// (`deps` holds only that language's keys; `client` exists for clients).
    pub fn shape(lang: Language, product: Product) -> Shape {
        let Shape::Fields(mut fields) = Self::server_shape(lang) else {
            unreachable!("a context is a map")
        };
        if product == Product::Client {
            fields.insert("client".into(), ClientContext::shape());
        }
        Shape::Fields(fields)
    }

    fn server_shape(lang: Language) -> Shape {
        Shape::fields([
            ("server", Server::shape()),
            ("lang", LangNames::shape()),
            (
                "deps",
                Shape::fields(deps_of(lang).into_keys().map(|k| (k, Shape::Scalar))),
            ),
            ("contract", Contract::shape()),
            ("wsgen", Shape::fields([("version", Shape::Scalar)])),
        ])
    }
}

fn deps_of(lang: Language) -> BTreeMap<&'static str, &'static str> {
    deps::DEPS
        .iter()
        .filter(|(l, _, _)| *l == lang)
        .map(|(_, key, version)| (*key, *version))
        .collect()
}

impl Described for ClientContext {
    fn shape() -> Shape {
        Shape::fields([
            ("max_message_bytes", u64::shape()),
            ("requests", Vec::<Frame>::shape()),
            ("events", Vec::<Frame>::shape()),
            ("errors", Vec::<String>::shape()),
            ("library_errors", Vec::<String>::shape()),
        ])
    }
}

impl Described for Frame {
    fn shape() -> Shape {
        Shape::fields([
            ("name", String::shape()),
            ("fields", Vec::<Field>::shape()),
            ("reply", Option::<String>::shape()),
        ])
    }
}

impl Described for Field {
    fn shape() -> Shape {
        Shape::fields([
            ("name", String::shape()),
            (
                "ty",
                Shape::OneOf(FieldTy::ALL.iter().map(|(n, _)| *n).collect()),
            ),
            ("optional", bool::shape()),
        ])
    }
}

impl Described for LangNames {
    fn shape() -> Shape {
        Shape::fields([
            ("package", Shape::Scalar),
            ("module", Shape::Scalar),
            ("module_path", Shape::Scalar),
            ("binary", Shape::Scalar),
            ("healthz_body", Shape::Scalar),
        ])
    }
}

impl Described for ServerKind {
    fn shape() -> Shape {
        Shape::OneOf(ServerKind::ALL.iter().map(|(name, _)| *name).collect())
    }
}

impl Described for Server {
    fn shape() -> Shape {
        Shape::fields([
            ("name", String::shape()),
            ("slug", String::shape()),
            ("kind", ServerKind::shape()),
            ("port", u16::shape()),
            ("path", String::shape()),
            ("subprotocols", Vec::<String>::shape()),
            ("require_subprotocol", bool::shape()),
            ("compression", Compression::shape()),
            ("max_payload", u64::shape()),
            ("ping_interval_ms", u64::shape()),
            ("chat", Option::<Chat>::shape()),
            ("mcp", Option::<Mcp>::shape()),
            ("session", Option::<Session>::shape()),
            ("go_module", Option::<String>::shape()),
            ("security", Security::shape()),
        ])
    }
}

impl Described for Security {
    fn shape() -> Shape {
        Shape::fields([
            ("allowed_origins", Vec::<String>::shape()),
            ("auth", Auth::shape()),
            ("max_connections", u64::shape()),
            ("max_connections_per_ip", u64::shape()),
            ("rate_limit", Option::<RateLimit>::shape()),
            ("handshake_timeout_ms", u64::shape()),
            ("metrics", bool::shape()),
            (
                "log_format",
                Shape::OneOf(LogFormat::ALL.iter().map(|(n, _)| *n).collect()),
            ),
            ("trust_proxy", bool::shape()),
        ])
    }
}

impl Described for Auth {
    fn shape() -> Shape {
        Shape::fields([
            (
                "kind",
                Shape::OneOf(AuthKind::ALL.iter().map(|(n, _)| *n).collect()),
            ),
            ("algorithms", Vec::<String>::shape()),
            ("hmac", bool::shape()),
            ("issuer", Option::<String>::shape()),
            ("audience", Option::<String>::shape()),
        ])
    }
}

impl Described for RateLimit {
    fn shape() -> Shape {
        Shape::fields([
            ("messages", u64::shape()),
            ("per_ms", u64::shape()),
            ("burst", u64::shape()),
        ])
    }
}

impl Described for Compression {
    fn shape() -> Shape {
        Shape::fields([
            ("enabled", Shape::Scalar),
            ("server_no_context_takeover", Shape::Scalar),
            ("client_no_context_takeover", Shape::Scalar),
            ("server_max_window_bits", Shape::Scalar),
            ("client_max_window_bits", Shape::Scalar),
            ("threshold", Shape::Scalar),
        ])
    }
}

impl Described for Chat {
    fn shape() -> Shape {
        Shape::fields([
            ("rooms", Shape::Scalar),
            ("presence", Shape::Scalar),
            ("history", Shape::Scalar),
            ("history_limit", Shape::Scalar),
            ("max_message_length", Shape::Scalar),
            ("max_rooms_per_connection", Shape::Scalar),
            ("send_queue_limit", Shape::Scalar),
            ("backplane", Shape::OneOf(vec!["memory", "redis"])),
        ])
    }
}

/// The fields of a child-process section (`mcp`, `session`): the argv, its
/// folder, the variables passed, the live children allowed, the stop grace.
fn child_fields() -> [(&'static str, Shape); 5] {
    [
        ("command", Vec::<String>::shape()),
        ("cwd", Option::<String>::shape()),
        ("env", Vec::<String>::shape()),
        ("max_sessions", u64::shape()),
        ("shutdown_grace_ms", u64::shape()),
    ]
}

impl Described for Mcp {
    fn shape() -> Shape {
        Shape::fields(
            child_fields()
                .into_iter()
                .chain([("idle_timeout_ms", u64::shape())]),
        )
    }
}

impl Described for Session {
    fn shape() -> Shape {
        Shape::fields(child_fields().into_iter().chain([
            ("max_clients_per_session", u64::shape()),
            ("detach_timeout_ms", u64::shape()),
            ("replay_limit", u64::shape()),
            (
                "when_full",
                Shape::OneOf(WhenFull::ALL.iter().map(|(n, _)| *n).collect()),
            ),
            (
                "stderr",
                Shape::OneOf(StderrMode::ALL.iter().map(|(n, _)| *n).collect()),
            ),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The shape a serialised value actually has (lists by their first fully
    /// described element).
    fn shape_of(v: &Value) -> Shape {
        match v {
            Value::Array(items) => Shape::List(Box::new(
                items
                    .iter()
                    .map(shape_of)
                    .reduce(|a, b| if has_any(&a) { b } else { a })
                    .unwrap_or(Shape::Any),
            )),
            Value::Object(map) => Shape::fields(map.iter().map(|(k, v)| (k.as_str(), shape_of(v)))),
            _ => Shape::Scalar,
        }
    }

    /// Whether an empty list left part of a shape undescribed.
    fn has_any(shape: &Shape) -> bool {
        match shape {
            Shape::Any => true,
            Shape::List(e) => has_any(e),
            Shape::Fields(f) => f.values().any(has_any),
            _ => false,
        }
    }

    /// `OneOf` serialises as a plain string.
    fn plain(shape: Shape) -> Shape {
        match shape {
            Shape::OneOf(_) => Shape::Scalar,
            Shape::List(e) => Shape::List(Box::new(plain(*e))),
            Shape::Fields(f) => Shape::Fields(f.into_iter().map(|(k, v)| (k, plain(v))).collect()),
            other => other,
        }
    }

    #[test]
    fn the_server_kind_is_one_of_its_names() {
        let shape = TemplateContext::shape(Language::Go, Product::Server);
        let kind = shape.field("server").and_then(|s| s.field("kind"));
        assert_eq!(
            kind,
            Some(&Shape::OneOf(vec!["echo", "chat", "mcp", "session"]))
        );
    }

    /// The hand-written shapes agree with what serde writes, for a server
    /// with every optional part present.
    #[test]
    fn described_shape_matches_the_serialised_context() {
        let mut server = crate::pipeline::server_from_str(
            "t.yaml",
            "name: t\ntype: chat\nsubprotocols: [a]\ncompression: true\n\
             auth: {type: jwt, issuer: i, audience: a}\nallowedOrigins: [\"*\"]\ngoModule: example.org/t\nrateLimit: {messages: 2, per: 10}\n",
        )
        .expect("spec");
        // No spec has a chat, an mcp and a session part; the shape test wants all.
        let bridge = crate::pipeline::server_from_str(
            "m.yaml",
            "type: mcp\nmcp: {command: [node, s.js], cwd: x}\n",
        )
        .expect("spec");
        server.mcp = bridge.mcp;
        let worker = crate::pipeline::server_from_str(
            "s.yaml",
            "type: session\nsession: {command: [python3, w.py], cwd: x}\n",
        )
        .expect("spec");
        server.session = worker.session;
        for lang in Language::ALL {
            let mut ctx = TemplateContext::new(&server, lang);
            ctx.lang = LangNames {
                package: Some("p".into()),
                module: Some("m".into()),
                module_path: Some("x/m".into()),
                binary: Some("b".into()),
                healthz_body: Some("{}".into()),
            };
            let json = serde_json::to_value(&ctx).expect("serialises");
            assert_eq!(
                shape_of(&json),
                plain(TemplateContext::shape(lang, Product::Server)),
                "{lang}"
            );
        }
    }

    /// The same for a client library's context (`client` described too).
    #[test]
    fn described_client_shape_matches_the_serialised_context() {
        let server = crate::pipeline::server_from_str(
            "s.yaml",
            "type: session\nsession: {command: [python3, w.py]}\n",
        )
        .expect("spec");
        for lang in Language::ALL {
            let mut ctx = TemplateContext::client(&server, lang);
            ctx.lang = LangNames {
                package: Some("p".into()),
                module: Some("m".into()),
                module_path: Some("x/m".into()),
                binary: Some("b".into()),
                healthz_body: Some("{}".into()),
            };
            let json = serde_json::to_value(&ctx).expect("serialises");
            let want = plain(TemplateContext::shape(lang, Product::Client));
            // The context's server has no chat or mcp part, which the shape has.
            let (Shape::Fields(mut got), Shape::Fields(mut want)) = (shape_of(&json), want) else {
                panic!("maps")
            };
            got.remove("server");
            want.remove("server");
            assert_eq!(got, want, "{lang}");
        }
    }

    #[test]
    fn lang_names_come_from_the_language() {
        let server = crate::pipeline::server_from_str("t.yaml", "name: My Echo\n").expect("spec");
        let names = Language::Python.names(&server);
        assert_eq!(names.module.as_deref(), Some("my_echo_server"));
        assert_eq!(names.binary, None);
    }
}
