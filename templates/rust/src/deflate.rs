//! permessage-deflate (RFC 7692): answer the client's offers with the spec's
//! parameters. yawc compresses and decompresses with what is agreed here.
//!
//! For each offer, in the client's order, the server accepts the first one it
//! can honour:
//! - `server_no_context_takeover` / `client_no_context_takeover`: agreed when
//!   the client asks for them or the spec sets them;
//! - `server_max_window_bits`: the smaller of the client's value and the spec's;
//!   sent whenever the client asked for it or the spec limits the window;
//! - `client_max_window_bits`: only when the client offered it (with or without
//!   a value), capped by the spec's value;
//! - an offer with an unknown, repeated or out-of-range parameter is declined.
//!
//! zlib cannot write a raw deflate stream with an 8-bit window, so the server
//! compresses with at least 9 bits: wsgen refuses a spec's server window of 8
//! for Rust, and an offer that asks the server for 8 is declined.

/// The permessage-deflate parameters of the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// Reset the server's compression context after every message.
    pub server_no_context_takeover: bool,
    /// Ask the client to reset its compression context after every message.
    pub client_no_context_takeover: bool,
    /// Largest LZ77 window the server compresses with (9..=15).
    pub server_max_window_bits: u8,
    /// Largest LZ77 window the client may compress with (8..=15).
    pub client_max_window_bits: u8,
    /// Messages smaller than this many bytes are sent uncompressed.
    pub threshold: u64,
}

/// The smallest window zlib compresses with.
const MIN_SERVER_WINDOW_BITS: u8 = 9;

/// The largest window RFC 7692 allows (32 KiB), the default.
const MAX_WINDOW_BITS: u8 = 15;

/// One permessage-deflate offer.
#[derive(Debug, Default, PartialEq, Eq)]
struct Offer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: offered without a value.
    client_max_window_bits: Option<Option<u8>>,
}

/// The `Sec-WebSocket-Extensions` response for the client's offers (all
/// `Sec-WebSocket-Extensions` headers joined with `,`), or `None` to run
/// without compression.
pub fn negotiate(offers: &str, settings: &Settings) -> Option<String> {
    offers
        .split(',')
        .filter_map(parse_offer)
        .find_map(|offer| answer(&offer, settings))
}

/// Parses one `permessage-deflate; param; param=value` offer; `None` for other
/// extensions and for offers the server must decline.
fn parse_offer(text: &str) -> Option<Offer> {
    let mut parts = text.split(';').map(str::trim);
    if !parts.next()?.eq_ignore_ascii_case("permessage-deflate") {
        return None;
    }
    let mut offer = Offer::default();
    for param in parts {
        let (name, value) = match param.split_once('=') {
            Some((name, value)) => (name.trim(), Some(value.trim().trim_matches('"'))),
            None => (param, None),
        };
        match (name, value) {
            ("server_no_context_takeover", None) if !offer.server_no_context_takeover => {
                offer.server_no_context_takeover = true;
            }
            ("client_no_context_takeover", None) if !offer.client_no_context_takeover => {
                offer.client_no_context_takeover = true;
            }
            ("server_max_window_bits", Some(value)) if offer.server_max_window_bits.is_none() => {
                offer.server_max_window_bits = Some(window_bits(value)?);
            }
            ("client_max_window_bits", value) if offer.client_max_window_bits.is_none() => {
                offer.client_max_window_bits = Some(match value {
                    Some(value) => Some(window_bits(value)?),
                    None => None,
                });
            }
            _ => return None,
        }
    }
    Some(offer)
}

/// A window size parameter: an integer from 8 to 15.
fn window_bits(value: &str) -> Option<u8> {
    value
        .parse()
        .ok()
        .filter(|bits| (8..=MAX_WINDOW_BITS).contains(bits))
}

/// The response to an acceptable offer.
fn answer(offer: &Offer, settings: &Settings) -> Option<String> {
    let mut response = String::from("permessage-deflate");
    if offer.server_no_context_takeover || settings.server_no_context_takeover {
        response.push_str("; server_no_context_takeover");
    }
    if offer.client_no_context_takeover || settings.client_no_context_takeover {
        response.push_str("; client_no_context_takeover");
    }
    let server_bits = settings.server_max_window_bits;
    match offer.server_max_window_bits {
        Some(asked) if asked < MIN_SERVER_WINDOW_BITS => return None,
        Some(asked) => response.push_str(&format!(
            "; server_max_window_bits={}",
            asked.min(server_bits)
        )),
        None if server_bits < MAX_WINDOW_BITS => {
            response.push_str(&format!("; server_max_window_bits={server_bits}"));
        }
        None => {}
    }
    if let Some(offered) = offer.client_max_window_bits {
        let bits = offered
            .unwrap_or(MAX_WINDOW_BITS)
            .min(settings.client_max_window_bits);
        if bits < MAX_WINDOW_BITS {
            response.push_str(&format!("; client_max_window_bits={bits}"));
        }
    }
    Some(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULTS: Settings = Settings {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: 15,
        client_max_window_bits: 15,
        threshold: 0,
    };

    #[test]
    fn accepts_a_plain_offer() {
        assert_eq!(
            negotiate("permessage-deflate", &DEFAULTS).as_deref(),
            Some("permessage-deflate")
        );
        assert_eq!(
            negotiate("permessage-deflate; client_max_window_bits", &DEFAULTS).as_deref(),
            Some("permessage-deflate")
        );
        assert_eq!(negotiate("x-webkit-deflate-frame", &DEFAULTS), None);
        assert_eq!(negotiate("", &DEFAULTS), None);
    }

    #[test]
    fn applies_the_spec_parameters() {
        let spec = Settings {
            server_no_context_takeover: true,
            client_no_context_takeover: true,
            server_max_window_bits: 10,
            client_max_window_bits: 11,
            threshold: 0,
        };
        assert_eq!(
            negotiate("permessage-deflate; client_max_window_bits", &spec).as_deref(),
            Some(
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
                 server_max_window_bits=10; client_max_window_bits=11"
            )
        );
        assert_eq!(
            negotiate("permessage-deflate", &spec).as_deref(),
            Some(
                "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"
            )
        );
    }

    #[test]
    fn honours_the_client_requests() {
        assert_eq!(
            negotiate(
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits=9",
                &DEFAULTS
            )
            .as_deref(),
            Some("permessage-deflate; server_no_context_takeover; server_max_window_bits=12; client_max_window_bits=9")
        );
    }

    #[test]
    fn declines_what_it_cannot_honour_and_takes_the_next_offer() {
        assert_eq!(
            negotiate("permessage-deflate; server_max_window_bits=8", &DEFAULTS),
            None
        );
        assert_eq!(negotiate("permessage-deflate; foo", &DEFAULTS), None);
        assert_eq!(
            negotiate("permessage-deflate; client_max_window_bits=16", &DEFAULTS),
            None
        );
        assert_eq!(
            negotiate(
                "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                &DEFAULTS
            ),
            None
        );
        assert_eq!(
            negotiate(
                "permessage-deflate; foo, permessage-deflate; client_max_window_bits=\"10\"",
                &DEFAULTS
            )
            .as_deref(),
            Some("permessage-deflate; client_max_window_bits=10")
        );
    }
}
