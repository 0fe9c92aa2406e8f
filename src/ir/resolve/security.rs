//! The `security` part of the IR: origins, authentication, limits, metrics
//! and logs (docs/protocol/server-security.md).

use super::{Checker, Settings};
use crate::ir::security::*;
use crate::spec::did_you_mean;
use crate::spec::keys::{self, Ty};

pub(super) fn security(c: &mut Checker, s: &Settings) -> Security {
    Security {
        allowed_origins: allowed_origins(c, s),
        auth: auth(c, s),
        max_connections: c.int(s, "maxConnections"),
        max_connections_per_ip: c.int(s, "maxConnectionsPerIp"),
        rate_limit: rate_limit(c, s),
        handshake_timeout_ms: c.int(s, "handshakeTimeout"),
        metrics: s.bool_or_default("metrics"),
        log_format: one_of(c, s, "logFormat", LogFormat::ALL),
        trust_proxy: s.bool_or_default("trustProxy"),
    }
}

/// An enum key's value (checked against the table's names), else its default.
pub(super) fn one_of<T: Copy>(c: &mut Checker, s: &Settings, path: &str, all: &[(&str, T)]) -> T {
    let key = keys::key(path).expect("a key of the table");
    let default = match key.default {
        keys::Fallback::Str(d) => d,
        _ => panic!("`{path}` has no string default"),
    };
    let by_name = |n: &str| all.iter().find(|(name, _)| *name == n).map(|(_, v)| *v);
    let Some(v) = s.str(path) else {
        return by_name(default).expect("the default is a value");
    };
    if let Some(value) = by_name(&v.value) {
        return value;
    }
    let names: Vec<&str> = all.iter().map(|(n, _)| *n).collect();
    let help = did_you_mean(&v.value, &names)
        .map(|n| format!("did you mean `{n}`?"))
        .unwrap_or_else(|| format!("use one of: {}", names.join(", ")));
    let label = key.label;
    c.err(
        &v,
        label,
        format!(
            "`{label}` must be one of {}, got `{}`",
            names.join(", "),
            v.value
        ),
        Some(help),
    );
    by_name(default).expect("the default is a value")
}

fn allowed_origins(c: &mut Checker, s: &Settings) -> Vec<String> {
    let mut origins: Vec<String> = Vec::new();
    for o in s.list("allowedOrigins").iter().flat_map(|l| &l.value) {
        let v = o.value.as_str();
        if !valid_origin(v) {
            c.err(
                o,
                "allowedOrigins",
                format!("{:?} is not an origin", o.value),
                Some("write `*`, `https://app.example.com`, `http://localhost:8080` or `https://*.example.com` (scheme, host, optional port; no path)".into()),
            );
        } else if origins.iter().any(|x| x.eq_ignore_ascii_case(v)) {
            c.err(
                o,
                "allowedOrigins",
                format!("origin `{}` is listed twice", o.value),
                Some("remove the duplicate".into()),
            );
        } else {
            origins.push(v.to_string());
        }
    }
    origins
}

/// `*`, or `scheme://host[:port]` whose host may start with `*.`.
pub fn valid_origin(v: &str) -> bool {
    if v == "*" {
        return true;
    }
    let Some((scheme, rest)) = v.split_once("://") else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c));
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    let host = host.strip_prefix("*.").unwrap_or(host);
    let host_ok = !host.is_empty()
        && !host.starts_with('.')
        && !host.ends_with('.')
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    scheme_ok && port_ok && host_ok
}

fn auth(c: &mut Checker, s: &Settings) -> Auth {
    let kind = one_of(c, s, "auth.type", AuthKind::ALL);
    let mut algorithms: Vec<String> = Vec::new();
    if kind == AuthKind::Jwt {
        match s.list("auth.algorithms") {
            None => algorithms.push("HS256".into()),
            Some(list) if list.value.is_empty() => c.err(
                &list,
                "algorithms",
                "`algorithms` must list at least one algorithm",
                Some("remove it to accept HS256, or list e.g. [RS256]".into()),
            ),
            Some(list) => {
                for a in &list.value {
                    if algorithms.contains(&a.value) {
                        c.err(
                            a,
                            "algorithms",
                            format!("algorithm `{}` is listed twice", a.value),
                            Some("remove the duplicate".into()),
                        );
                    } else {
                        algorithms.push(a.value.clone());
                    }
                }
                let hmac = |a: &String| JWT_HMAC_ALGORITHMS.contains(&a.as_str());
                if algorithms.iter().any(hmac) && !algorithms.iter().all(hmac) {
                    c.err(
                        &list,
                        "algorithms",
                        "`algorithms` mixes HMAC (HS*) and public-key algorithms",
                        Some("a server checks tokens with one kind of key: list only HS* (WS_JWT_SECRET) or only RS*/PS*/ES*/EdDSA (WS_JWT_PUBLIC_KEY_FILE)".into()),
                    );
                }
            }
        }
    }
    let hmac = algorithms
        .iter()
        .all(|a| JWT_HMAC_ALGORITHMS.contains(&a.as_str()))
        && kind == AuthKind::Jwt;
    Auth {
        kind,
        algorithms,
        hmac,
        issuer: s.str("auth.issuer").map(|v| v.value),
        audience: s.str("auth.audience").map(|v| v.value),
    }
}

fn rate_limit(c: &mut Checker, s: &Settings) -> Option<RateLimit> {
    s.given_at("rateLimit")?;
    let int = |c: &mut Checker, path: &str| -> u64 {
        let key = keys::key(path).expect("a key");
        let Ty::Int { min, max } = key.ty else {
            unreachable!("rateLimit keys are integers")
        };
        match s.int(path) {
            Some(v) if v.value >= min && max.is_none_or(|m| v.value <= m) => v.value as u64,
            Some(v) => {
                c.err(
                    &v,
                    key.label,
                    key.range_message(v.value),
                    Some(key.range_hint()),
                );
                1
            }
            None => 1,
        }
    };
    let messages = int(c, "rateLimit.messages");
    let per_ms = int(c, "rateLimit.per");
    let burst = if s.get("rateLimit.burst").is_some() {
        int(c, "rateLimit.burst")
    } else {
        messages
    };
    Some(RateLimit {
        messages,
        per_ms,
        burst,
    })
}

#[cfg(test)]
mod tests {
    use super::valid_origin;

    #[test]
    fn origins() {
        for ok in [
            "*",
            "https://app.example.com",
            "http://localhost:8080",
            "https://*.example.com",
            "HTTPS://Example.COM:443",
        ] {
            assert!(valid_origin(ok), "{ok}");
        }
        for bad in [
            "",
            "example.com",
            "https://",
            "https://a.example.com/path",
            "https://*.",
            "https://a:0",
            "https://a:99999",
            "https://*example.com",
            "null",
        ] {
            assert!(!valid_origin(bad), "{bad}");
        }
    }
}
