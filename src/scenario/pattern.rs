//! Matching what a server sent against what a scenario expects.
//!
//! - String patterns (text messages, header values, close reasons, bodies):
//!   a literal, or `$any`, `$regex:RE`, `$contains:TEXT`; `$$` escapes a
//!   leading `$`.
//! - JSON patterns: any JSON value; strings may be directives: `$any`,
//!   `$int`, `$number`, `$string`, `$bool`, `$absent` (the key must be
//!   missing), `$regex:RE` (a string matching RE), `$capture:NAME` (anything;
//!   remembered as NAME), `$var:NAME` (equal to what NAME captured). Objects
//!   must have exactly the pattern's keys unless the pattern has
//!   `"$partial": true`. Arrays match element by element.
//! - `${spec.name}`-style placeholders in literals are replaced by the spec's
//!   values (see [`Ctx`]) after a string is classified, so a spec value that
//!   looks like a directive is still compared literally; `$int:SIZE` and
//!   `$repeat:SIZE:TEXT` stand for a number and a repeated text.

use super::placeholder;
use super::regex::Regex;
use crate::ir::Server;
use serde_json::Value;
use std::collections::BTreeMap;

/// Values `${...}` placeholders expand to (see [`super::placeholder`]).
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    values: BTreeMap<String, String>,
    /// Load-time checking: any well-formed known key expands to a placeholder.
    checking: bool,
}

impl Ctx {
    pub fn for_server(s: &Server) -> Ctx {
        Ctx {
            values: placeholder::values(s),
            checking: false,
        }
    }

    /// More values (verify's test material: `tls.*`, `auth.*`).
    pub fn with_values(mut self, extra: std::collections::BTreeMap<String, String>) -> Ctx {
        self.values.extend(extra);
        self
    }

    /// Every value (for the engine's own lookups, e.g. JWT defaults).
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    /// A context for validating files before any spec is known.
    pub fn checking() -> Ctx {
        Ctx {
            values: BTreeMap::new(),
            checking: true,
        }
    }

    pub fn is_checking(&self) -> bool {
        self.checking
    }

    fn lookup(&self, key: &str) -> Result<String, String> {
        if let Some(v) = self.values.get(key) {
            return Ok(v.clone());
        }
        placeholder::check(key)?;
        if self.checking {
            return Ok("1".into());
        }
        Err(format!("${{{key}}} has no value for this spec"))
    }

    /// A JSON string of a message to send or expect: `$int:SIZE` is the
    /// number SIZE (`"$int:${spec.chat.history_limit} + 1"`),
    /// `$repeat:SIZE:TEXT` is TEXT repeated SIZE times; any other string has
    /// its placeholders expanded.
    pub fn json_string(&self, s: &str) -> Result<Value, String> {
        if let Some(expr) = s.strip_prefix("$int:") {
            return Ok(Value::from(self.size(expr)?));
        }
        if let Some(rest) = s.strip_prefix("$repeat:") {
            let (n, text) = rest
                .split_once(':')
                .ok_or_else(|| format!("{s:?}: expected $repeat:SIZE:TEXT"))?;
            return Ok(Value::String(self.interpolate(text)?.repeat(self.size(n)?)));
        }
        Ok(Value::String(self.interpolate(s)?))
    }

    /// Replace every `${key}` in `s`.
    pub fn interpolate(&self, s: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find("${") {
            out.push_str(&rest[..i]);
            let after = &rest[i + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed `${{` in {s:?}"))?;
            out.push_str(&self.lookup(after[..end].trim())?);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// A size: an integer, or a placeholder expression with `+`/`-` such as
    /// `"${spec.compression.threshold} - 1"`.
    pub fn size(&self, expr: &str) -> Result<usize, String> {
        let s = self.interpolate(expr)?;
        let mut total: i128 = 0;
        let mut sign = 1;
        for tok in s.replace('+', " + ").replace('-', " - ").split_whitespace() {
            match tok {
                "+" => sign = 1,
                "-" => sign = -sign,
                n => {
                    let n: i128 = n
                        .parse()
                        .map_err(|_| format!("{expr:?}: expected a size in octets"))?;
                    total += sign * n;
                    sign = 1;
                }
            }
        }
        usize::try_from(total).map_err(|_| format!("{expr:?} is {total}, not a size"))
    }
}

/// A pattern for one string.
#[derive(Debug, Clone)]
pub enum StrPattern {
    Exact(String),
    Any,
    Contains(String),
    Regex(Regex),
}

impl StrPattern {
    pub fn compile(s: &str, ctx: &Ctx) -> Result<StrPattern, String> {
        if let Some(lit) = s.strip_prefix("$$") {
            return Ok(StrPattern::Exact(format!("${}", ctx.interpolate(lit)?)));
        }
        if s == "$any" {
            return Ok(StrPattern::Any);
        }
        if let Some(t) = s.strip_prefix("$contains:") {
            return Ok(StrPattern::Contains(ctx.interpolate(t)?));
        }
        if let Some(re) = s.strip_prefix("$regex:") {
            return Regex::new(re)
                .map(StrPattern::Regex)
                .map_err(|e| format!("bad regex {re:?}: {e}"));
        }
        if s.starts_with('$') && !s.starts_with("${") {
            return Err(format!(
                "unknown directive {s:?} here: use $any, $contains:TEXT, $regex:RE, or $$ for a literal `$`"
            ));
        }
        Ok(StrPattern::Exact(ctx.interpolate(s)?))
    }

    pub fn matches(&self, s: &str) -> bool {
        match self {
            StrPattern::Exact(e) => e == s,
            StrPattern::Any => true,
            StrPattern::Contains(t) => s.contains(t.as_str()),
            StrPattern::Regex(r) => r.is_match(s),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            StrPattern::Exact(e) => format!("{:?}", preview(e)),
            StrPattern::Any => "anything".into(),
            StrPattern::Contains(t) => format!("text containing {t:?}"),
            StrPattern::Regex(r) => format!("text matching /{}/", r.as_str()),
        }
    }
}

/// A compiled JSON pattern.
#[derive(Debug, Clone)]
pub enum Pattern {
    Any,
    Int,
    Number,
    Str,
    Bool,
    Absent,
    Regex(Regex),
    Capture(String),
    Var(String),
    Literal(Value),
    Object {
        fields: Vec<(String, Pattern)>,
        partial: bool,
    },
    Array(Vec<Pattern>),
}

/// Captured values of a scenario run.
pub type Vars = BTreeMap<String, Value>;

impl Pattern {
    pub fn compile(v: &Value, ctx: &Ctx) -> Result<Pattern, String> {
        Ok(match v {
            Value::String(s) => {
                if let Some(lit) = s.strip_prefix("$$") {
                    return Ok(Pattern::Literal(Value::String(format!(
                        "${}",
                        ctx.interpolate(lit)?
                    ))));
                }
                match s.as_str() {
                    "$any" => Pattern::Any,
                    "$int" => Pattern::Int,
                    "$number" => Pattern::Number,
                    "$string" => Pattern::Str,
                    "$bool" => Pattern::Bool,
                    "$absent" => Pattern::Absent,
                    _ => {
                        if let Some(re) = s.strip_prefix("$regex:") {
                            Pattern::Regex(
                                Regex::new(re).map_err(|e| format!("bad regex {re:?}: {e}"))?,
                            )
                        } else if let Some(n) = s.strip_prefix("$capture:") {
                            Pattern::Capture(name(n)?)
                        } else if let Some(n) = s.strip_prefix("$var:") {
                            Pattern::Var(name(n)?)
                        } else if s.starts_with("$int:") || s.starts_with("$repeat:") {
                            Pattern::Literal(ctx.json_string(s)?)
                        } else if s.starts_with('$') && !s.starts_with("${") {
                            return Err(format!(
                                "unknown directive {s:?}: use $any, $int, $number, $string, $bool, $absent, \
                                 $regex:RE, $capture:NAME, $var:NAME, $int:SIZE, $repeat:SIZE:TEXT, \
                                 or $$ for a literal `$`"
                            ));
                        } else {
                            Pattern::Literal(Value::String(ctx.interpolate(s)?))
                        }
                    }
                }
            }
            Value::Object(map) => {
                let mut partial = false;
                let mut fields = Vec::new();
                for (k, v) in map {
                    if k == "$partial" {
                        partial = v.as_bool().ok_or("`$partial` takes true or false")?;
                        continue;
                    }
                    fields.push((k.clone(), Pattern::compile(v, ctx)?));
                }
                Pattern::Object { fields, partial }
            }
            Value::Array(items) => Pattern::Array(
                items
                    .iter()
                    .map(|i| Pattern::compile(i, ctx))
                    .collect::<Result<_, _>>()?,
            ),
            other => Pattern::Literal(other.clone()),
        })
    }

    /// Match `v`; on success captures are added to `vars`, on failure the
    /// error names the JSON path of the first difference.
    pub fn matches(&self, v: &Value, vars: &mut Vars) -> Result<(), String> {
        let mut caps = Vec::new();
        self.m(v, "$", vars, &mut caps)?;
        vars.extend(caps);
        Ok(())
    }

    /// Match `v` without keeping captures (`vars` is only read: no copy of
    /// the captured values, which may hold long collected lists).
    pub fn test(&self, v: &Value, vars: &Vars) -> Result<(), String> {
        self.m(v, "$", vars, &mut Vec::new())
    }

    /// `caps`: captures made by this match so far (they shadow `vars`).
    fn m(
        &self,
        v: &Value,
        path: &str,
        vars: &Vars,
        caps: &mut Vec<(String, Value)>,
    ) -> Result<(), String> {
        let bad = |what: &str| Err(format!("at {path}: expected {what}, got {}", short(v)));
        match self {
            Pattern::Any => Ok(()),
            Pattern::Int if v.is_i64() || v.is_u64() => Ok(()),
            Pattern::Int => bad("an integer"),
            Pattern::Number if v.is_number() => Ok(()),
            Pattern::Number => bad("a number"),
            Pattern::Str if v.is_string() => Ok(()),
            Pattern::Str => bad("a string"),
            Pattern::Bool if v.is_boolean() => Ok(()),
            Pattern::Bool => bad("true or false"),
            Pattern::Absent => bad("no value"),
            Pattern::Regex(r) => match v.as_str() {
                Some(s) if r.is_match(s) => Ok(()),
                _ => bad(&format!("a string matching /{}/", r.as_str())),
            },
            Pattern::Capture(n) => {
                caps.push((n.clone(), v.clone()));
                Ok(())
            }
            Pattern::Var(n) => match caps
                .iter()
                .rev()
                .find(|(k, _)| k == n)
                .map(|(_, x)| x)
                .or_else(|| vars.get(n))
            {
                None => Err(format!(
                    "at {path}: ${n} was never captured (use $capture:{n} earlier)"
                )),
                Some(want) if want == v => Ok(()),
                Some(want) => bad(&short(want)),
            },
            Pattern::Literal(want) => {
                if json_eq(want, v) {
                    Ok(())
                } else {
                    bad(&short(want))
                }
            }
            Pattern::Array(items) => {
                let Some(arr) = v.as_array() else {
                    return bad("an array");
                };
                if arr.len() != items.len() {
                    return bad(&format!("an array of {} items", items.len()));
                }
                for (i, (p, x)) in items.iter().zip(arr).enumerate() {
                    p.m(x, &format!("{path}[{i}]"), vars, caps)?;
                }
                Ok(())
            }
            Pattern::Object { fields, partial } => {
                let Some(obj) = v.as_object() else {
                    return bad("an object");
                };
                for (k, p) in fields {
                    let sub = format!("{path}.{k}");
                    match (obj.get(k), p) {
                        (None, Pattern::Absent) => {}
                        (None, _) => return Err(format!("at {sub}: missing (got {})", short(v))),
                        (Some(x), p) => p.m(x, &sub, vars, caps)?,
                    }
                }
                if !partial
                    && let Some(extra) = obj.keys().find(|k| !fields.iter().any(|(f, _)| f == *k))
                {
                    return Err(format!(
                        "at {path}: unexpected key {extra:?} (add \"$partial\": true to allow extra keys)"
                    ));
                }
                Ok(())
            }
        }
    }
}

fn name(n: &str) -> Result<String, String> {
    if !n.is_empty()
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        Ok(n.to_string())
    } else {
        Err(format!(
            "bad variable name {n:?}: letters, digits, `_` and `-`"
        ))
    }
}

/// Numbers compare by value (1 == 1.0), everything else structurally.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn short(v: &Value) -> String {
    preview(&v.to_string())
}

/// The first 200 characters of `s`.
pub fn preview(s: &str) -> String {
    if s.chars().count() <= 200 {
        s.to_string()
    } else {
        format!(
            "{}... ({} chars)",
            s.chars().take(200).collect::<String>(),
            s.chars().count()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pat(v: Value) -> Pattern {
        Pattern::compile(&v, &Ctx::default()).unwrap()
    }

    #[test]
    fn json_patterns_ignore_or_match_volatile_fields() {
        let p = pat(
            json!({"type": "message", "id": "$int", "ts": "$regex:^\\d{4}-\\d\\d-\\d\\dT", "from": "$any"}),
        );
        let mut vars = Vars::new();
        p.matches(
            &json!({"type": "message", "id": 7, "ts": "2025-01-02T03:04:05Z", "from": null}),
            &mut vars,
        )
        .unwrap();
        let e = p
            .matches(
                &json!({"type": "message", "id": "7", "ts": "2025-01-02T03:04:05Z", "from": 1}),
                &mut vars,
            )
            .unwrap_err();
        assert!(e.contains("$.id") && e.contains("integer"), "{e}");
        let e = p
            .matches(
                &json!({"type": "message", "id": 7, "ts": "yesterday", "from": 1}),
                &mut vars,
            )
            .unwrap_err();
        assert!(e.contains("$.ts"), "{e}");
    }

    #[test]
    fn objects_are_exact_unless_partial() {
        let exact = pat(json!({"a": 1}));
        let mut vars = Vars::new();
        let e = exact
            .matches(&json!({"a": 1, "b": 2}), &mut vars)
            .unwrap_err();
        assert!(e.contains("unexpected key \"b\""), "{e}");
        let partial = pat(json!({"a": 1.0, "$partial": true, "c": "$absent"}));
        partial
            .matches(&json!({"a": 1, "b": 2}), &mut vars)
            .unwrap();
        assert!(
            partial
                .matches(&json!({"a": 1, "c": 2}), &mut vars)
                .is_err()
        );
        assert!(
            exact
                .matches(&json!({}), &mut vars)
                .unwrap_err()
                .contains("$.a: missing")
        );
    }

    #[test]
    fn captures_are_kept_only_on_success_and_compared_later() {
        let mut vars = Vars::new();
        let cap = pat(json!({"id": "$capture:first", "n": 1}));
        assert!(cap.matches(&json!({"id": 5, "n": 2}), &mut vars).is_err());
        assert!(vars.is_empty());
        cap.matches(&json!({"id": 5, "n": 1}), &mut vars).unwrap();
        let same = pat(json!(["$var:first", "$string"]));
        same.matches(&json!([5, "x"]), &mut vars).unwrap();
        assert!(
            same.matches(&json!([6, "x"]), &mut vars)
                .unwrap_err()
                .contains("$[0]")
        );
    }

    #[test]
    fn placeholders_expand_after_classification() {
        let server = crate::pipeline::server_from_str(
            "t.yaml",
            "name: \"$any\"\ntype: echo\nsubprotocols: [a, b]\n",
        )
        .unwrap();
        let ctx = Ctx::for_server(&server);
        let p = Pattern::compile(
            &json!({"name": "${spec.name}", "p": "${spec.subprotocols.1}"}),
            &ctx,
        )
        .unwrap();
        let mut vars = Vars::new();
        p.matches(&json!({"name": "$any", "p": "b"}), &mut vars)
            .unwrap();
        // The spec name is "$any" and must be compared literally.
        assert!(
            p.matches(&json!({"name": "other", "p": "b"}), &mut vars)
                .is_err()
        );
        assert!(ctx.interpolate("${spec.subprotocols.2}").is_err());
        assert!(
            ctx.interpolate("${spec.nope}")
                .unwrap_err()
                .contains("unknown placeholder")
        );
        assert_eq!(ctx.size("${spec.max_payload} + 1").unwrap(), 104_857_601);
        assert!(ctx.size("${spec.compression.threshold} - 1").is_err());
    }

    #[test]
    fn numbers_and_repeated_texts_from_spec_and_contract_limits() {
        let server = crate::pipeline::server_from_str(
            "t.yaml",
            "name: t\ntype: chat\nmaxMessageLength: 3\nhistory: {limit: 7}\n",
        )
        .unwrap();
        let ctx = Ctx::for_server(&server);
        assert_eq!(
            ctx.json_string("$int:${spec.chat.history_limit} + 1")
                .unwrap(),
            json!(8)
        );
        assert_eq!(
            ctx.json_string("$repeat:${spec.chat.max_message_length} + 1:é")
                .unwrap(),
            json!("éééé")
        );
        assert_eq!(
            ctx.json_string("$repeat:${contract.user_name_max_len}:u")
                .unwrap(),
            json!("u".repeat(32))
        );
        let p =
            Pattern::compile(&json!({"limit": "$int:${spec.chat.history_limit}"}), &ctx).unwrap();
        assert!(p.test(&json!({"limit": 7}), &Vars::new()).is_ok());
        assert!(p.test(&json!({"limit": "7"}), &Vars::new()).is_err());
        let e = ctx
            .json_string("$repeat:${spec.chat.max_mesage_length}:x")
            .unwrap_err();
        assert!(e.contains("unknown placeholder"), "{e}");
        assert!(ctx.json_string("$repeat:3").is_err());
    }

    #[test]
    fn string_patterns() {
        let ctx = Ctx::default();
        assert!(StrPattern::compile("$any", &ctx).unwrap().matches("x"));
        assert!(
            StrPattern::compile("$contains:WS_PORT", &ctx)
                .unwrap()
                .matches("error: WS_PORT=x")
        );
        assert!(StrPattern::compile("$$any", &ctx).unwrap().matches("$any"));
        assert!(!StrPattern::compile("$$any", &ctx).unwrap().matches("x"));
        assert!(StrPattern::compile("$nope", &ctx).is_err());
        assert!(StrPattern::compile("$regex:(", &ctx).is_err());
    }
}
