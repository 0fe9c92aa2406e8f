//! Serde types mirroring the YAML spec. Every value is [`Spanned`] so semantic
//! checks can point at the line and column it came from. Unknown keys are
//! errors (`deny_unknown_fields`).

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// A spec as written. `None` means "not given": the IR applies the defaults.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Spec {
    pub name: Option<Spanned<String>>,
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    pub port: Option<Spanned<i64>>,
    pub path: Option<Spanned<String>>,
    pub features: Option<Spanned<Vec<Spanned<String>>>>,
    pub subprotocols: Option<Spanned<Vec<Spanned<String>>>>,
    pub require_subprotocol: Option<Spanned<bool>>,
    pub compression: Option<Spanned<Compression>>,
    pub max_payload: Option<Spanned<i64>>,
    pub ping_interval: Option<Spanned<i64>>,
    pub history: Option<Spanned<History>>,
    pub max_message_length: Option<Spanned<i64>>,
    pub max_rooms_per_connection: Option<Spanned<i64>>,
    pub send_queue_limit: Option<Spanned<i64>>,
}

/// `compression: true|false` or the full RFC 7692 parameter map.
#[derive(Debug, Default)]
pub struct Compression {
    pub enabled: Option<Spanned<bool>>,
    pub server_no_context_takeover: Option<Spanned<bool>>,
    pub client_no_context_takeover: Option<Spanned<bool>>,
    pub server_max_window_bits: Option<Spanned<i64>>,
    pub client_max_window_bits: Option<Spanned<i64>>,
    pub threshold: Option<Spanned<i64>>,
    /// True when written as a plain boolean.
    pub shorthand: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CompressionMap {
    enabled: Option<Spanned<bool>>,
    server_no_context_takeover: Option<Spanned<bool>>,
    client_no_context_takeover: Option<Spanned<bool>>,
    server_max_window_bits: Option<Spanned<i64>>,
    client_max_window_bits: Option<Spanned<i64>>,
    threshold: Option<Spanned<i64>>,
}

/// Field names of the compression map, for "did you mean" hints.
pub const COMPRESSION_KEYS: &[&str] = &[
    "enabled",
    "serverNoContextTakeover",
    "clientNoContextTakeover",
    "serverMaxWindowBits",
    "clientMaxWindowBits",
    "threshold",
];

impl<'de> Deserialize<'de> for Compression {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Compression;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true, false, or a map of permessage-deflate parameters")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Compression, E> {
                Ok(Compression {
                    enabled: Some(Spanned::new(
                        v,
                        serde_saphyr::Location::UNKNOWN,
                        serde_saphyr::Location::UNKNOWN,
                    )),
                    shorthand: true,
                    ..Default::default()
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Compression, A::Error> {
                let m = CompressionMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Compression {
                    enabled: m.enabled,
                    server_no_context_takeover: m.server_no_context_takeover,
                    client_no_context_takeover: m.client_no_context_takeover,
                    server_max_window_bits: m.server_max_window_bits,
                    client_max_window_bits: m.client_max_window_bits,
                    threshold: m.threshold,
                    shorthand: false,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// Chat history settings.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct History {
    pub limit: Option<Spanned<i64>>,
}
