//! Spec -> IR: apply defaults and command-line overrides, check every value,
//! and collect all located errors at once.

use super::*;
use crate::spec::{Source, Spec, SpecError, SpecErrors, did_you_mean};
use serde_saphyr::{Location, Spanned};

/// Settings given as command-line flags; they win over the spec's values.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub features: Option<Vec<String>>,
    pub port: Option<i64>,
    pub path: Option<String>,
    pub subprotocols: Option<Vec<String>>,
    pub compression: Option<bool>,
    pub max_payload: Option<i64>,
    pub ping_interval: Option<i64>,
}

fn flag<T>(v: T) -> Spanned<T> {
    Spanned::new(v, Location::UNKNOWN, Location::UNKNOWN)
}

impl Overrides {
    /// Write the flags into the spec (they carry no location, so errors about
    /// them name the flag instead of a line).
    pub fn apply(&self, spec: &mut Spec) {
        if let Some(v) = &self.name {
            spec.name = Some(flag(v.clone()));
        }
        if let Some(v) = &self.kind {
            spec.kind = Some(flag(v.clone()));
        }
        if let Some(v) = &self.features {
            spec.features = Some(flag(v.iter().cloned().map(flag).collect()));
        }
        if let Some(v) = self.port {
            spec.port = Some(flag(v));
        }
        if let Some(v) = &self.path {
            spec.path = Some(flag(v.clone()));
        }
        if let Some(v) = &self.subprotocols {
            spec.subprotocols = Some(flag(v.iter().cloned().map(flag).collect()));
        }
        if let Some(v) = self.compression {
            let c = spec
                .compression
                .get_or_insert_with(|| flag(Default::default()));
            c.value.enabled = Some(flag(v));
        }
        if let Some(v) = self.max_payload {
            spec.max_payload = Some(flag(v));
        }
        if let Some(v) = self.ping_interval {
            spec.ping_interval = Some(flag(v));
        }
    }
}

struct Checker<'a> {
    src: &'a Source,
    errors: Vec<SpecError>,
}

impl Checker<'_> {
    fn err<T>(&mut self, v: &Spanned<T>, key: &str, msg: impl Into<String>, help: Option<String>) {
        let len = value_len(self.src, &v.referenced);
        let mut msg = msg.into();
        if v.referenced.line() == 0 {
            msg = format!("{msg} (from the command-line flag for `{key}`)");
        }
        let mut e = self.src.error_at(&v.referenced, len, msg);
        if let Some(h) = help {
            e = e.with_help(h);
        }
        self.errors.push(e);
    }

    /// A positive integer within `max`, else an error naming the key.
    fn positive(&mut self, v: &Option<Spanned<i64>>, key: &str, default: u64, max: u64) -> u64 {
        match v {
            None => default,
            Some(s) if s.value >= 1 && (s.value as u64) <= max => s.value as u64,
            Some(s) => {
                self.err(
                    s,
                    key,
                    format!("`{key}` must be between 1 and {max}, got {}", s.value),
                    Some(format!("remove `{key}` to use the default ({default})")),
                );
                default
            }
        }
    }
}

/// Length of the scalar at `loc` in the source, for the caret underline.
fn value_len(src: &Source, loc: &Location) -> usize {
    let line = loc.line() as usize;
    let col = loc.column() as usize;
    if line == 0 {
        return 1;
    }
    let Some(text) = src.text.lines().nth(line - 1) else {
        return 1;
    };
    let rest: String = text.chars().skip(col.saturating_sub(1)).collect();
    let rest = rest.split(" #").next().unwrap_or("").trim_end();
    let quoted = rest.starts_with('"') || rest.starts_with('\'');
    let end = if quoted {
        let q = rest.chars().next().unwrap();
        rest[1..].find(q).map(|i| i + 2).unwrap_or(rest.len())
    } else {
        rest.find([',', ']', '}']).unwrap_or(rest.len())
    };
    rest[..end].trim_end().chars().count().max(1)
}

/// RFC 7230 `token` (the grammar of subprotocol names).
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A lowercase ASCII slug for package and crate names.
fn slugify(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let mut out = out.trim_end_matches('-').to_string();
    out.truncate(40);
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() || !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        format!("ws-{out}").trim_end_matches('-').to_string()
    } else {
        out
    }
}

/// Resolve a parsed spec into the IR, reporting every problem found.
pub fn resolve(spec: &Spec, src: &Source) -> Result<Server, SpecErrors> {
    let mut c = Checker {
        src,
        errors: Vec::new(),
    };

    let name = match &spec.name {
        Some(n) if n.value.trim().is_empty() => {
            c.err(n, "name", "`name` must not be empty", None);
            String::new()
        }
        Some(n) => n.value.clone(),
        None => std::path::Path::new(&src.file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "server".into()),
    };

    let kind = match &spec.kind {
        None => ServerKind::Echo,
        Some(k) => match ServerKind::ALL.iter().find(|(n, _)| *n == k.value) {
            Some((_, kind)) => *kind,
            None => {
                let names: Vec<&str> = ServerKind::ALL.iter().map(|(n, _)| *n).collect();
                let help = did_you_mean(&k.value, &names)
                    .map(|s| format!("did you mean `{s}`?"))
                    .unwrap_or_else(|| format!("use one of: {}", names.join(", ")));
                c.err(
                    k,
                    "type",
                    format!("unknown server type `{}`", k.value),
                    Some(help),
                );
                ServerKind::Echo
            }
        },
    };

    let port = match &spec.port {
        None => DEFAULT_PORT,
        Some(p) if (1..=65535).contains(&p.value) => p.value as u16,
        Some(p) => {
            c.err(
                p,
                "port",
                format!("`port` must be between 1 and 65535, got {}", p.value),
                Some("pick a free TCP port such as 8080".into()),
            );
            DEFAULT_PORT
        }
    };

    let path = match &spec.path {
        None => DEFAULT_PATH.to_string(),
        Some(p) => {
            let v = &p.value;
            if !v.starts_with('/') {
                c.err(
                    p,
                    "path",
                    format!("`path` must start with `/`, got {v:?}"),
                    Some(format!("write `/{}`", v.trim_start_matches('/'))),
                );
            } else if let Some(bad) = v
                .chars()
                .find(|ch| !(ch.is_ascii_alphanumeric() || "-._~/!$&'()*+,;=:@%".contains(*ch)))
            {
                c.err(
                    p,
                    "path",
                    format!("`path` contains {bad:?}, which is not allowed in a URL path"),
                    Some("use letters, digits and `-._~/`".into()),
                );
            } else if v == "/healthz" {
                c.err(p, "path", "`path` cannot be `/healthz`: every generated server serves its health check there", Some("pick another path such as `/ws`".into()));
            }
            v.clone()
        }
    };

    let mut features: Vec<String> = Vec::new();
    match &spec.features {
        None => {
            features = kind.features().iter().map(|s| s.to_string()).collect();
        }
        Some(list) => {
            let allowed = kind.features();
            let kind_name = ServerKind::ALL.iter().find(|(_, k)| *k == kind).unwrap().0;
            for f in &list.value {
                if allowed.is_empty() {
                    c.err(
                        f,
                        "features",
                        format!("type `{kind_name}` has no features, got `{}`", f.value),
                        Some("features apply to `type: chat` (rooms, presence, history)".into()),
                    );
                } else if !allowed.contains(&f.value.as_str()) {
                    let help = did_you_mean(&f.value, allowed)
                        .map(|s| format!("did you mean `{s}`?"))
                        .unwrap_or_else(|| {
                            format!("`{kind_name}` supports: {}", allowed.join(", "))
                        });
                    c.err(
                        f,
                        "features",
                        format!("unknown feature `{}` for type `{kind_name}`", f.value),
                        Some(help),
                    );
                } else if features.contains(&f.value) {
                    c.err(
                        f,
                        "features",
                        format!("feature `{}` is listed twice", f.value),
                        Some("remove the duplicate".into()),
                    );
                } else {
                    features.push(f.value.clone());
                }
            }
        }
    }

    let mut subprotocols: Vec<String> = Vec::new();
    if let Some(list) = &spec.subprotocols {
        for s in &list.value {
            if !is_token(&s.value) {
                c.err(s, "subprotocols", format!("subprotocol {:?} is not a valid RFC 7230 token", s.value), Some("use letters, digits and `!#$%&'*+-.^_`|~` only (no spaces, commas, slashes or quotes)".into()));
            } else if subprotocols.contains(&s.value) {
                c.err(
                    s,
                    "subprotocols",
                    format!("subprotocol `{}` is listed twice", s.value),
                    Some("remove the duplicate".into()),
                );
            } else {
                subprotocols.push(s.value.clone());
            }
        }
    }
    let require_subprotocol = spec
        .require_subprotocol
        .as_ref()
        .map(|r| r.value)
        .unwrap_or(false);
    if let Some(r) = &spec.require_subprotocol
        && r.value
        && subprotocols.is_empty()
        && spec
            .subprotocols
            .as_ref()
            .is_none_or(|l| l.value.is_empty())
    {
        c.err(
            r,
            "requireSubprotocol",
            "`requireSubprotocol: true` needs a non-empty `subprotocols` list",
            Some(
                "list the subprotocols the server speaks, e.g. `subprotocols: [graphql-ws]`".into(),
            ),
        );
    }

    let mut compression = Compression::default();
    if let Some(cs) = &spec.compression {
        let cv = &cs.value;
        compression.enabled = cv.enabled.as_ref().map(|e| e.value).unwrap_or(true);
        let flag = |o: &Option<Spanned<bool>>| o.as_ref().map(|b| b.value).unwrap_or(false);
        compression.server_no_context_takeover = flag(&cv.server_no_context_takeover);
        compression.client_no_context_takeover = flag(&cv.client_no_context_takeover);
        for (v, key, slot) in [
            (
                &cv.server_max_window_bits,
                "serverMaxWindowBits",
                &mut compression.server_max_window_bits,
            ),
            (
                &cv.client_max_window_bits,
                "clientMaxWindowBits",
                &mut compression.client_max_window_bits,
            ),
        ] {
            if let Some(b) = v {
                if (8..=15).contains(&b.value) {
                    *slot = b.value as u8;
                } else {
                    c.err(
                        b,
                        key,
                        format!(
                            "`{key}` must be between 8 and 15 (RFC 7692), got {}",
                            b.value
                        ),
                        Some("15 is the default and the most common".into()),
                    );
                }
            }
        }
        if let Some(t) = &cv.threshold {
            if t.value < 0 {
                c.err(
                    t,
                    "threshold",
                    format!("`threshold` must be 0 or more bytes, got {}", t.value),
                    Some("0 compresses every message".into()),
                );
            } else {
                compression.threshold = t.value as u64;
            }
        }
    }

    let max_payload = c.positive(
        &spec.max_payload,
        "maxPayload",
        DEFAULT_MAX_PAYLOAD,
        1 << 40,
    );
    let ping_interval_ms = c.positive(
        &spec.ping_interval,
        "pingInterval",
        DEFAULT_PING_INTERVAL_MS,
        86_400_000,
    );

    let chat_only: [(&str, bool); 4] = [
        ("history", spec.history.is_some()),
        ("maxMessageLength", spec.max_message_length.is_some()),
        (
            "maxRoomsPerConnection",
            spec.max_rooms_per_connection.is_some(),
        ),
        ("sendQueueLimit", spec.send_queue_limit.is_some()),
    ];
    let chat = if kind == ServerKind::Chat {
        let has = |f: &str| features.iter().any(|x| x == f);
        if let Some(h) = &spec.history
            && !has("history")
        {
            c.err(
                h,
                "history",
                "`history` settings need the `history` feature",
                Some("add `history` to `features`, or remove this block".into()),
            );
        }
        let history_limit = c.positive(
            &spec.history.as_ref().and_then(|h| h.value.limit.clone()),
            "history.limit",
            DEFAULT_HISTORY_LIMIT,
            1_000_000,
        );
        Some(Chat {
            rooms: has("rooms"),
            presence: has("presence"),
            history: has("history"),
            history_limit,
            max_message_length: c.positive(
                &spec.max_message_length,
                "maxMessageLength",
                DEFAULT_MAX_MESSAGE_LENGTH,
                16 << 20,
            ),
            max_rooms_per_connection: c.positive(
                &spec.max_rooms_per_connection,
                "maxRoomsPerConnection",
                DEFAULT_MAX_ROOMS,
                1_000_000,
            ),
            send_queue_limit: c.positive(
                &spec.send_queue_limit,
                "sendQueueLimit",
                DEFAULT_SEND_QUEUE_LIMIT,
                1_000_000,
            ),
        })
    } else {
        for (key, given) in chat_only {
            if given {
                let loc = match key {
                    "history" => spec.history.as_ref().map(|h| h.referenced),
                    "maxMessageLength" => spec.max_message_length.as_ref().map(|h| h.referenced),
                    "maxRoomsPerConnection" => {
                        spec.max_rooms_per_connection.as_ref().map(|h| h.referenced)
                    }
                    _ => spec.send_queue_limit.as_ref().map(|h| h.referenced),
                }
                .unwrap_or(Location::UNKNOWN);
                c.err(
                    &Spanned::new((), loc, loc),
                    key,
                    format!("`{key}` applies only to `type: chat`"),
                    Some("remove it, or set `type: chat`".into()),
                );
            }
        }
        None
    };

    if !c.errors.is_empty() {
        c.errors.sort_by_key(|e| (e.line, e.column));
        return Err(SpecErrors(c.errors));
    }
    Ok(Server {
        slug: slugify(&name),
        name,
        kind,
        port,
        path,
        subprotocols,
        require_subprotocol,
        compression,
        max_payload,
        ping_interval_ms,
        chat,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_package_safe() {
        assert_eq!(slugify("My Echo Server!"), "my-echo-server");
        assert_eq!(slugify("123"), "ws-123");
        assert_eq!(slugify("\"; rm -rf / ${x}"), "rm-rf-x");
        assert_eq!(slugify("日本"), "ws");
    }

    #[test]
    fn tokens() {
        assert!(is_token("graphql-ws"));
        assert!(is_token("wamp.2.json"));
        assert!(!is_token("a b"));
        assert!(!is_token("a,b"));
        assert!(!is_token(""));
    }
}
