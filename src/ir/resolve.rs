//! Spec -> IR: read every key from its command-line flag first, then from the
//! spec; apply the defaults and limits of the key table (`spec::keys`), run
//! the checks that span keys, and collect all located errors at once.

use super::*;
use crate::spec::keys::{self, Fallback, KEYS, Ty};
use crate::spec::{Source, Spec, SpecError, SpecErrors, Value, did_you_mean, unknown_key_errors};
use serde_saphyr::{Location, Spanned};

pub use crate::spec::Overrides;

mod child;
mod mcp;
mod security;
mod session;

/// Where resolution reads a key: the flag when given, else the spec.
struct Settings<'a> {
    spec: &'a Spec,
    flags: &'a Overrides,
}

impl Settings<'_> {
    fn get(&self, path: &str) -> Option<Spanned<Value>> {
        self.flags
            .get(path)
            .or_else(|| self.spec.get(path).cloned())
    }

    fn typed<T>(&self, path: &str, f: impl FnOnce(Value) -> Option<T>) -> Option<Spanned<T>> {
        let s = self.get(path)?;
        Some(Spanned::new(f(s.value)?, s.referenced, s.defined))
    }

    fn int(&self, path: &str) -> Option<Spanned<i64>> {
        self.typed(path, Value::into_int)
    }

    fn bool(&self, path: &str) -> Option<Spanned<bool>> {
        self.typed(path, Value::into_bool)
    }

    fn str(&self, path: &str) -> Option<Spanned<String>> {
        self.typed(path, Value::into_str)
    }

    fn list(&self, path: &str) -> Option<Spanned<Vec<Spanned<String>>>> {
        self.typed(path, Value::into_list)
    }

    /// A boolean key, or its default.
    fn bool_or_default(&self, path: &str) -> bool {
        let key = keys::key(path).expect("a key of the table");
        self.bool(path)
            .map_or(key.default == Fallback::Bool(true), |b| b.value)
    }

    /// Where a key or section was given (a flag is located nowhere).
    fn given_at(&self, path: &str) -> Option<Location> {
        self.get(path)
            .map(|v| v.referenced)
            .or_else(|| self.spec.section(path))
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

    /// An integer key within the table's limits; else an error and the default.
    fn int(&mut self, s: &Settings, path: &str) -> u64 {
        let key = keys::key(path).expect("a key of the table");
        let (Ty::Int { min, max }, Fallback::Int(default)) = (key.ty, key.default) else {
            panic!("`{path}` is not an integer key with a default")
        };
        match s.int(path) {
            None => default as u64,
            Some(v) if v.value >= min && max.is_none_or(|m| v.value <= m) => v.value as u64,
            Some(v) => {
                self.err(
                    &v,
                    key.label,
                    key.range_message(v.value),
                    Some(key.range_hint()),
                );
                default as u64
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

/// Resolve a parsed spec into the IR, reporting every problem found; `flags`
/// win over the spec's values.
pub fn resolve(spec: &Spec, src: &Source, flags: &Overrides) -> Result<Server, SpecErrors> {
    let mut c = Checker {
        src,
        errors: unknown_key_errors(spec, src),
    };
    let s = Settings { spec, flags };

    let name = name(&mut c, &s);
    let kind = kind(&mut c, &s);
    let port = c.int(&s, "port") as u16;
    let path = path(&mut c, &s);
    let features = features(&mut c, &s, kind);
    let subprotocols = subprotocols(&mut c, &s, kind);
    let require_subprotocol = s.bool_or_default("requireSubprotocol");
    let compression = compression(&mut c, &s);
    let max_payload = c.int(&s, "maxPayload");
    let ping_interval_ms = c.int(&s, "pingInterval");
    not_for_this_type(&mut c, &s, kind);
    section_rules(&mut c, &s);
    let chat = (kind == ServerKind::Chat).then(|| chat(&mut c, &s, &features));
    let mcp = (kind == ServerKind::Mcp).then(|| mcp::mcp(&mut c, &s));
    let session = (kind == ServerKind::Session).then(|| session::session(&mut c, &s));
    let security = security::security(&mut c, &s);
    let go_module = go_module(&mut c, &s);

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
        mcp,
        session,
        go_module,
        security,
    })
}

/// The spec's name, else the file name.
fn name(c: &mut Checker, s: &Settings) -> String {
    match s.str("name") {
        Some(n) if n.value.trim().is_empty() => {
            c.err(&n, "name", "`name` must not be empty", None);
            String::new()
        }
        Some(n) => n.value,
        None => std::path::Path::new(&c.src.file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "server".into()),
    }
}

fn kind(c: &mut Checker, s: &Settings) -> ServerKind {
    let Some(k) = s.str("type") else {
        return ServerKind::Echo;
    };
    if let Some((_, kind)) = ServerKind::ALL.iter().find(|(n, _)| *n == k.value) {
        return *kind;
    }
    let names: Vec<&str> = ServerKind::ALL.iter().map(|(n, _)| *n).collect();
    let help = did_you_mean(&k.value, &names)
        .map(|s| format!("did you mean `{s}`?"))
        .unwrap_or_else(|| format!("use one of: {}", names.join(", ")));
    c.err(
        &k,
        "type",
        format!("unknown server type `{}`", k.value),
        Some(help),
    );
    ServerKind::Echo
}

fn path(c: &mut Checker, s: &Settings) -> String {
    let Some(p) = s.str("path") else {
        return DEFAULT_PATH.to_string();
    };
    let v = &p.value;
    if !v.starts_with('/') {
        c.err(
            &p,
            "path",
            format!("`path` must start with `/`, got {v:?}"),
            Some(format!("write `/{}`", v.trim_start_matches('/'))),
        );
    } else if let Some(bad) = v
        .chars()
        .find(|ch| !(ch.is_ascii_alphanumeric() || "-._~/!$&'()*+,;=:@%".contains(*ch)))
    {
        c.err(
            &p,
            "path",
            format!("`path` contains {bad:?}, which is not allowed in a URL path"),
            Some("use letters, digits and `-._~/`".into()),
        );
    } else if reserved("path").contains(&v.as_str()) {
        c.err(
            &p,
            "path",
            format!("`path` cannot be `{v}`: every generated server serves its health check there"),
            Some("pick another path such as `/ws`".into()),
        );
    }
    p.value
}

/// A Go module path whose first element is a domain (`github.com/you/app`).
fn go_module(c: &mut Checker, s: &Settings) -> Option<String> {
    let m = s.str("goModule")?;
    let mut parts = m.value.split('/');
    let first = parts.next().unwrap_or("");
    let domain_ok = first.contains('.')
        && !first.starts_with('.')
        && !first.ends_with('.')
        && !first.contains("..")
        && first
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '.');
    let rest_ok = parts.all(|p| {
        !p.is_empty()
            && p.chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-._~".contains(ch))
    });
    if domain_ok && rest_ok {
        return Some(m.value);
    }
    c.err(
        &m,
        "goModule",
        format!("{:?} is not a Go module path", m.value),
        Some("write a path that starts with a lowercase domain, e.g. `github.com/you/chat`".into()),
    );
    None
}

/// Values a string key refuses.
fn reserved(path: &str) -> &'static [&'static str] {
    match keys::key(path).map(|k| k.ty) {
        Some(Ty::Str { reserved, .. }) => reserved,
        _ => &[],
    }
}

/// The features listed (each checked against the type), else all of the type's.
fn features(c: &mut Checker, s: &Settings, kind: ServerKind) -> Vec<String> {
    let allowed = kind.features();
    let Some(list) = s.list("features") else {
        return allowed.iter().map(|s| s.to_string()).collect();
    };
    let kind_name = ServerKind::ALL.iter().find(|(_, k)| *k == kind).unwrap().0;
    let mut features: Vec<String> = Vec::new();
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
                .unwrap_or_else(|| format!("`{kind_name}` supports: {}", allowed.join(", ")));
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
    features
}

/// The subprotocols (tokens, each once); `requireSubprotocol` needs some.
/// `type: mcp` speaks `mcp` when the spec lists none.
fn subprotocols(c: &mut Checker, s: &Settings, kind: ServerKind) -> Vec<String> {
    let mut subprotocols: Vec<String> = Vec::new();
    let list = s.list("subprotocols");
    if list.is_none() && kind == ServerKind::Mcp {
        return vec![MCP_SUBPROTOCOL.to_string()];
    }
    for p in list.iter().flat_map(|l| &l.value) {
        if !is_token(&p.value) {
            c.err(
                p,
                "subprotocols",
                format!("subprotocol {:?} is not a valid RFC 7230 token", p.value),
                Some("use letters, digits and `!#$%&'*+-.^_`|~` only (no spaces, commas, slashes or quotes)".into()),
            );
        } else if subprotocols.contains(&p.value) {
            c.err(
                p,
                "subprotocols",
                format!("subprotocol `{}` is listed twice", p.value),
                Some("remove the duplicate".into()),
            );
        } else {
            subprotocols.push(p.value.clone());
        }
    }
    if let Some(r) = s.bool("requireSubprotocol")
        && r.value
        && list.is_none_or(|l| l.value.is_empty())
    {
        c.err(
            &r,
            "requireSubprotocol",
            "`requireSubprotocol: true` needs a non-empty `subprotocols` list",
            Some(
                "list the subprotocols the server speaks, e.g. `subprotocols: [graphql-ws]`".into(),
            ),
        );
    }
    subprotocols
}

/// permessage-deflate: off unless `compression` (or its flag) is given.
fn compression(c: &mut Checker, s: &Settings) -> Compression {
    let given = s.given_at("compression").is_some();
    Compression {
        enabled: s.bool("compression.enabled").map_or(given, |b| b.value),
        server_no_context_takeover: s.bool_or_default("compression.serverNoContextTakeover"),
        client_no_context_takeover: s.bool_or_default("compression.clientNoContextTakeover"),
        server_max_window_bits: c.int(s, "compression.serverMaxWindowBits") as u8,
        client_max_window_bits: c.int(s, "compression.clientMaxWindowBits") as u8,
        threshold: c.int(s, "compression.threshold"),
    }
}

/// Keys given for a server type they do not apply to. A section is reported
/// once, not per key inside it; `features` are checked item by item instead.
fn not_for_this_type(c: &mut Checker, s: &Settings, kind: ServerKind) {
    for key in KEYS.iter().filter(|k| !k.applies_to(kind)) {
        let parent_reported = keys::key(key.parent()).is_some_and(|p| !p.applies_to(kind));
        if key.path == "features" || parent_reported {
            continue;
        }
        if let Some(loc) = s.given_at(key.path) {
            let types: Vec<String> = key
                .applies
                .iter()
                .filter_map(|k| ServerKind::ALL.iter().find(|(_, x)| x == k))
                .map(|(n, _)| format!("`type: {n}`"))
                .collect();
            c.err(
                &Spanned::new((), loc, loc),
                key.label,
                format!("`{}` applies only to {}", key.label, types.join(" or ")),
                Some(format!("remove it, or set {}", types.join(" or "))),
            );
        }
    }
}

/// The table's rules within sections: keys a given section must contain
/// (`rateLimit` needs `messages` and `per`), and keys that apply only with a
/// sibling's value (`auth.issuer` only with `type: jwt`).
fn section_rules(c: &mut Checker, s: &Settings) {
    for key in KEYS {
        if let Ty::Section { required, .. } = key.ty
            && let Some(loc) = s.given_at(key.path)
        {
            for leaf in required {
                if s.get(&format!("{}.{leaf}", key.path)).is_none() {
                    c.err(
                        &Spanned::new((), loc, loc),
                        key.label,
                        format!("`{}` needs `{leaf}`", key.label),
                        Some(format!(
                            "{}: see `wsgen schema` or `wsgen init`",
                            key.description
                        )),
                    );
                }
            }
        }
        if let Some((sibling, value)) = key.only_with
            && let Some(v) = s.get(key.path)
        {
            let sibling_path = format!("{}.{sibling}", key.parent());
            let actual = s.str(&sibling_path).map(|v| v.value);
            if actual.as_deref() != Some(value) {
                let label = key.label;
                c.err(
                    &v,
                    label,
                    format!("`{label}` applies only to `{sibling}: {value}`"),
                    Some(format!("remove it, or set `{sibling}: {value}`")),
                );
            }
        }
    }
}

fn chat(c: &mut Checker, s: &Settings, features: &[String]) -> Chat {
    let has = |f: &str| features.iter().any(|x| x == f);
    if let Some(loc) = s.given_at("history")
        && !has("history")
    {
        c.err(
            &Spanned::new((), loc, loc),
            "history",
            "`history` settings need the `history` feature",
            Some("add `history` to `features`, or remove this block".into()),
        );
    }
    Chat {
        rooms: has("rooms"),
        presence: has("presence"),
        history: has("history"),
        history_limit: c.int(s, "history.limit"),
        max_message_length: c.int(s, "maxMessageLength"),
        max_rooms_per_connection: c.int(s, "maxRoomsPerConnection"),
        send_queue_limit: c.int(s, "sendQueueLimit"),
        backplane: security::one_of(c, s, "backplane", Backplane::ALL),
    }
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
