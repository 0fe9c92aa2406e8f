//! Reading scenario files: YAML into raw serde types (every value keeps its
//! location), then checked into [`super::model`] with located
//! [`SpecError`]s, the same diagnostics specs use.

use super::model::*;
use super::pattern::{Ctx, Pattern, StrPattern};
use crate::spec::{SpecError, SpecErrors, did_you_mean};
use serde::Deserialize;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::Value;
use serde_saphyr::{Location, Spanned};
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Keys of a step, for "did you mean" hints and the "one action" check.
pub const ACTION_KEYS: &[&str] = &[
    "connect",
    "sendText",
    "sendBinary",
    "sendJson",
    "expectText",
    "expectBinary",
    "expectJson",
    "expectEcho",
    "expectClose",
    "expectNothing",
    "expectPing",
    "expectDropped",
    "expectHandshake",
    "httpGet",
    "answerPings",
    "close",
    "dropConnection",
    "sleep",
    "burst",
    "collect",
    "assert",
    "expectLog",
    "logExcludes",
    "logIsJson",
    "metrics",
    "rotateCertificate",
    "expectCertificate",
    "expectServerChildren",
    "expectProcessGone",
    "expectServerRss",
    "expectFile",
    "stopServer",
    "killInstance",
    "startInstance",
    "restartInstances",
    "stopRedis",
    "startRedis",
];
const MODIFIER_KEYS: &[&str] = &[
    "client",
    "within",
    "compressed",
    "smallerThanPrevious",
    "skip",
];
const OTHER_KEYS: &[&str] = &[
    "suite",
    "description",
    "appliesTo",
    "env",
    "scenarios",
    "types",
    "specs",
    "requires",
    "name",
    "clients",
    "steps",
    "startup",
    "path",
    "protocols",
    "extensions",
    "headers",
    "variable",
    "values",
    "exitCode",
    "output",
    "text",
    "hex",
    "generated",
    "json",
    "fragments",
    "fragmentSize",
    "binary",
    "code",
    "reason",
    "status",
    "body",
    "tls",
    "token",
    "jwt",
    "query",
    "padHeadTo",
    "slowloris",
    "anonymous",
    "user",
    "line",
    "since",
    "samples",
    "types",
    "count",
    "pid",
    "below",
    "cluster",
    "instances",
    "instanceEnv",
    "instance",
    "consecutive",
    "from",
    "atLeast",
    "atMost",
    "equals",
];

// ---- raw serde types ------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSuite {
    suite: Option<Spanned<String>>,
    description: Option<String>,
    applies_to: Option<RawApplies>,
    env: Option<Ordered<Spanned<Value>>>,
    cluster: Option<Spanned<bool>>,
    scenarios: Vec<Spanned<RawScenario>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawApplies {
    types: Option<Vec<Spanned<String>>>,
    specs: Option<Vec<String>>,
    requires: Option<Vec<Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawScenario {
    name: Spanned<String>,
    #[allow(dead_code)]
    description: Option<String>,
    requires: Option<Vec<Spanned<String>>>,
    env: Option<Ordered<Spanned<Value>>>,
    clients: Option<Ordered<Spanned<RawClient>>>,
    steps: Option<Vec<Spanned<RawStep>>>,
    startup: Option<Spanned<RawStartup>>,
    instances: Option<Spanned<Value>>,
    instance_env: Option<Spanned<Value>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawClient {
    path: Option<String>,
    protocols: Option<Vec<String>>,
    extensions: Option<Vec<String>>,
    headers: Option<Ordered<Spanned<Value>>>,
    connect: Option<bool>,
    tls: Option<bool>,
    anonymous: Option<bool>,
    user: Option<Spanned<String>>,
    token: Option<Spanned<Value>>,
    jwt: Option<Spanned<Value>>,
    query: Option<Ordered<Spanned<Value>>>,
    pad_head_to: Option<Spanned<Value>>,
    slowloris: Option<Spanned<Value>>,
    instance: Option<Spanned<Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawStartup {
    variable: Spanned<String>,
    values: Vec<Spanned<Value>>,
    exit_code: Option<i32>,
    output: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawStep {
    client: Option<Spanned<String>>,
    connect: Option<Spanned<Value>>,
    send_text: Option<Spanned<Value>>,
    send_binary: Option<Spanned<Value>>,
    send_json: Option<Spanned<Value>>,
    expect_text: Option<Spanned<Value>>,
    expect_binary: Option<Spanned<Value>>,
    expect_json: Option<Spanned<Value>>,
    expect_echo: Option<Spanned<Value>>,
    expect_close: Option<Spanned<Value>>,
    expect_nothing: Option<Spanned<Value>>,
    expect_ping: Option<Spanned<Value>>,
    expect_dropped: Option<Spanned<Value>>,
    expect_handshake: Option<Spanned<Value>>,
    http_get: Option<Spanned<Value>>,
    answer_pings: Option<Spanned<Value>>,
    close: Option<Spanned<Value>>,
    drop_connection: Option<Spanned<Value>>,
    sleep: Option<Spanned<Value>>,
    burst: Option<Spanned<Value>>,
    collect: Option<Spanned<Value>>,
    assert: Option<Spanned<Value>>,
    expect_log: Option<Spanned<Value>>,
    log_excludes: Option<Spanned<Value>>,
    log_is_json: Option<Spanned<Value>>,
    metrics: Option<Spanned<Value>>,
    rotate_certificate: Option<Spanned<Value>>,
    expect_certificate: Option<Spanned<Value>>,
    expect_server_children: Option<Spanned<Value>>,
    expect_process_gone: Option<Spanned<Value>>,
    expect_server_rss: Option<Spanned<Value>>,
    expect_file: Option<Spanned<Value>>,
    stop_server: Option<Spanned<Value>>,
    kill_instance: Option<Spanned<Value>>,
    start_instance: Option<Spanned<Value>>,
    restart_instances: Option<Spanned<Value>>,
    stop_redis: Option<Spanned<Value>>,
    start_redis: Option<Spanned<Value>>,
    within: Option<Spanned<Value>>,
    compressed: Option<Spanned<bool>>,
    smaller_than_previous: Option<Spanned<bool>>,
    skip: Option<Spanned<Value>>,
}

/// A YAML map whose key order is kept (clients connect in the order written).
#[derive(Debug)]
struct Ordered<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Ordered<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct OV<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for OV<V> {
            type Value = Ordered<V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered<V>, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, V>()? {
                    out.push((k, v));
                }
                Ok(Ordered(out))
            }
        }
        d.deserialize_map(OV(PhantomData))
    }
}

// ---- entry points ---------------------------------------------------------

/// Every `*.yaml` / `*.yml` / `*.json` file in `dir`, sorted by name. All
/// files are read; the errors of all of them are returned together.
pub fn load_dir(dir: &Path) -> Result<Vec<Suite>, SpecErrors> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        SpecError::whole_file(
            &dir.display().to_string(),
            format!("cannot read the folder: {e}"),
        )
    })?;
    let mut paths: Vec<_> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
        })
        .collect();
    paths.sort();
    let mut suites = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        match load_file(&p) {
            Ok(s) => suites.push(s),
            Err(e) => errors.extend(e.0),
        }
    }
    if errors.is_empty() {
        Ok(suites)
    } else {
        Err(SpecErrors(errors))
    }
}

pub fn load_file(path: &Path) -> Result<Suite, SpecErrors> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| SpecError::whole_file(&file, format!("cannot read scenario file: {e}")))?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    parse_str(&file, &stem, &text)
}

/// Parse scenario text; `file` names it in messages, `default_name` is the
/// suite name when the file has no `suite:`.
pub fn parse_str(file: &str, default_name: &str, text: &str) -> Result<Suite, SpecErrors> {
    let cx = Cx {
        file: file.to_string(),
        text: Arc::new(text.to_string()),
        errors: Vec::new(),
    };
    if text.trim().is_empty() {
        return Err(SpecError::whole_file(file, "the scenario file is empty").into());
    }
    let raw: RawSuite = match serde_saphyr::from_str(text) {
        Ok(r) => r,
        Err(err) => return Err(cx.serde_error(&err).into()),
    };
    cx.check(raw, default_name)
}

// ---- checking -------------------------------------------------------------

struct Cx {
    file: String,
    text: Arc<String>,
    errors: Vec<SpecError>,
}

impl Cx {
    fn err(&self, loc: &Location, message: impl Into<String>) -> SpecError {
        if loc.line() == 0 {
            SpecError::whole_file(&self.file, message)
        } else {
            SpecError::at(
                &self.file,
                &self.text,
                loc.line() as usize,
                loc.column() as usize,
                1,
                message,
            )
        }
    }

    fn push(&mut self, loc: &Location, message: impl Into<String>) {
        let e = self.err(loc, message);
        self.errors.push(e);
    }

    fn at(&self, loc: &Location) -> String {
        format!("{}:{}:{}", self.file, loc.line(), loc.column())
    }

    fn serde_error(&self, err: &serde_saphyr::Error) -> SpecError {
        let raw = err.without_snippet().to_string();
        let first = raw.lines().next().unwrap_or(&raw).trim();
        let first = first
            .rfind(" at line ")
            .map(|i| &first[..i])
            .unwrap_or(first);
        let loc = err.location().unwrap_or(Location::UNKNOWN);
        let unknown = first
            .split("unknown field `")
            .nth(1)
            .and_then(|r| r.split('`').next())
            .map(String::from);
        match unknown {
            Some(key) => {
                let all: Vec<&str> = ACTION_KEYS
                    .iter()
                    .chain(MODIFIER_KEYS)
                    .chain(OTHER_KEYS)
                    .copied()
                    .collect();
                let mut e = self.err(&loc, format!("unknown key `{key}`"));
                e = match did_you_mean(&key, &all) {
                    Some(s) => e.with_help(format!("did you mean `{s}`?")),
                    None => e.with_help(format!("{}; see docs/scenarios.md", expected_keys(first))),
                };
                e
            }
            None => {
                let msg = match first
                    .strip_prefix("invalid type: ")
                    .and_then(|r| r.split_once(", expected "))
                {
                    Some((got, expected)) => format!("expected {expected}, got {got}"),
                    None => first.to_string(),
                };
                self.err(&loc, msg)
                    .with_help("see docs/scenarios.md for the format")
            }
        }
    }

    fn check(mut self, raw: RawSuite, default_name: &str) -> Result<Suite, SpecErrors> {
        let mut applies = Applies::default();
        if let Some(a) = raw.applies_to {
            for t in a.types.unwrap_or_default() {
                if !["echo", "chat", "mcp", "session"].contains(&t.value.as_str()) {
                    self.push(
                        &t.referenced,
                        format!(
                            "unknown server type {:?}: expected echo, chat, mcp or session",
                            t.value
                        ),
                    );
                }
                applies.types.push(t.value);
            }
            applies.specs = a.specs.unwrap_or_default();
            applies.requires = self.requirements(a.requires);
        }
        let suite_env = self.env(raw.env);
        let cluster = raw.cluster.as_ref().is_some_and(|c| c.value);
        if cluster {
            // A cluster shares its rooms through Redis: only such specs.
            applies.requires.push(Requirement {
                property: Property::RedisBackplane,
                negated: false,
            });
        }
        let mut scenarios = Vec::new();
        let mut names = std::collections::BTreeSet::new();
        for s in raw.scenarios {
            if !names.insert(s.value.name.value.clone()) {
                self.push(
                    &s.value.name.referenced,
                    format!("duplicate scenario name {:?}", s.value.name.value),
                );
            }
            self.scenario(s, &suite_env, cluster, &mut scenarios);
        }
        if !self.errors.is_empty() {
            return Err(SpecErrors(self.errors));
        }
        Ok(Suite {
            name: raw
                .suite
                .map(|s| s.value)
                .unwrap_or_else(|| default_name.to_string()),
            file: self.file,
            description: raw.description,
            applies,
            cluster,
            scenarios,
        })
    }

    fn requirements(&mut self, raw: Option<Vec<Spanned<String>>>) -> Vec<Requirement> {
        let mut out = Vec::new();
        for r in raw.unwrap_or_default() {
            let (negated, name) = match r.value.strip_prefix('!') {
                Some(n) => (true, n.trim()),
                None => (false, r.value.trim()),
            };
            match Property::ALL.iter().find(|(n, _)| *n == name) {
                Some((_, p)) => out.push(Requirement {
                    property: *p,
                    negated,
                }),
                None => {
                    let names: Vec<&str> = Property::ALL.iter().map(|(n, _)| *n).collect();
                    let mut e = self.err(&r.referenced, format!("unknown spec property {name:?}"));
                    e = match did_you_mean(name, &names) {
                        Some(s) => e.with_help(format!("did you mean `{s}`?")),
                        None => e.with_help(format!(
                            "known properties (prefix `!` to negate): {}",
                            names.join(", ")
                        )),
                    };
                    self.errors.push(e);
                }
            }
        }
        out
    }

    fn env(&mut self, raw: Option<Ordered<Spanned<Value>>>) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (k, v) in raw.map(|o| o.0).unwrap_or_default() {
            match scalar(&v.value).map(|s| self.fixtures(&s)) {
                Some(Ok(s)) => out.push((k, s)),
                Some(Err(e)) => self.push(&v.referenced, format!("env `{k}`: {e}")),
                None => self.push(
                    &v.referenced,
                    format!("env `{k}`: expected a string, number or boolean"),
                ),
            }
        }
        out
    }

    /// `${fixtures.NAME}` becomes the absolute path of the folder NAME next
    /// to this scenario file (`generated-tests/mcp`: the suites' helper
    /// programs); a folder that does not exist is a load error.
    fn fixtures(&self, value: &str) -> Result<String, String> {
        const OPEN: &str = "${fixtures.";
        let mut out = String::new();
        let mut rest = value;
        while let Some(i) = rest.find(OPEN) {
            out.push_str(&rest[..i]);
            let after = &rest[i + OPEN.len()..];
            let end = after
                .find('}')
                .ok_or_else(|| format!("unclosed placeholder in {value:?}"))?;
            let name = &after[..end];
            let here = Path::new(&self.file)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let dir = here.join(name);
            if name.is_empty() || name.contains("..") || !dir.is_dir() {
                return Err(format!(
                    "${{fixtures.{name}}}: no folder {} next to the scenario file",
                    dir.display()
                ));
            }
            let abs = std::fs::canonicalize(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            out.push_str(&abs.display().to_string());
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn scenario(
        &mut self,
        raw: Spanned<RawScenario>,
        suite_env: &[(String, String)],
        cluster: bool,
        out: &mut Vec<Scenario>,
    ) {
        let loc = raw.referenced;
        let s = raw.value;
        let shape = self.cluster_shape(&s, cluster);
        let name = s.name.value.clone();
        let at = format!("{}:{}", self.file, s.name.referenced.line());
        let requires = self.requirements(s.requires);
        let mut env: Vec<(String, String)> = suite_env.to_vec();
        for (k, v) in self.env(s.env) {
            env.retain(|(ek, _)| *ek != k);
            env.push((k, v));
        }
        env.sort();
        if let Some(st) = s.startup {
            if cluster {
                self.push(&st.referenced, "a cluster suite has session scenarios only");
                return;
            }
            if s.steps.is_some() || s.clients.is_some() {
                self.push(
                    &st.referenced,
                    "a scenario has either `startup` or `clients`/`steps`, not both",
                );
                return;
            }
            let st = st.value;
            let output = st.output.as_ref().map_or(String::new(), |o| {
                o.value.replace("${variable}", "V").replace("${value}", "V")
            });
            if let Err(e) = StrPattern::compile(&output, &Ctx::checking()) {
                self.push(&st.output.as_ref().unwrap().referenced, e);
            }
            if st.values.is_empty() {
                self.push(
                    &st.variable.referenced,
                    "`values` lists at least one invalid value",
                );
            }
            for v in st.values {
                let Some(value) = scalar(&v.value) else {
                    self.push(&v.referenced, "expected a string or number");
                    continue;
                };
                out.push(Scenario {
                    name: format!("{name} ({}={value:?})", st.variable.value),
                    at: format!("{}:{}", self.file, v.referenced.line()),
                    requires: requires.clone(),
                    env: Vec::new(),
                    cluster: None,
                    body: Body::Startup(Startup {
                        variable: st.variable.value.clone(),
                        value,
                        exit_code: Some(st.exit_code.unwrap_or(2)),
                        output: st.output.as_ref().map_or_else(
                            || "$contains:invalid ${variable}=".to_string(),
                            |o| o.value.clone(),
                        ),
                    }),
                });
            }
            return;
        }
        let mut clients = Vec::new();
        for (cname, c) in s.clients.map(|o| o.0).unwrap_or_default() {
            let mut headers = Vec::new();
            for (k, v) in c.value.headers.map(|h| h.0).unwrap_or_default() {
                match scalar(&v.value) {
                    Some(s) => headers.push((k, s)),
                    None => self.push(&v.referenced, format!("header `{k}`: expected a string")),
                }
            }
            let mut query = Vec::new();
            for (k, v) in c.value.query.map(|h| h.0).unwrap_or_default() {
                match scalar(&v.value) {
                    Some(s) => match Ctx::checking().interpolate(&s) {
                        Ok(_) => query.push((k, s)),
                        Err(e) => self.push(&v.referenced, format!("query `{k}`: {e}")),
                    },
                    None => self.push(&v.referenced, format!("query `{k}`: expected a string")),
                }
            }
            let mut credential = None;
            if let (Some(_), Some(j)) = (&c.value.token, &c.value.jwt) {
                self.push(&j.referenced, "a client sends `token` or `jwt`, not both");
            }
            if let Some(u) = &c.value.user {
                if c.value.token.is_some() || c.value.jwt.is_some() {
                    self.push(
                        &u.referenced,
                        "a client sends `user`, `token` or `jwt`, one of them",
                    );
                } else if super::material::USERS.contains(&u.value.as_str()) {
                    credential = Some(Credential {
                        kind: CredentialKind::User(u.value.clone()),
                        in_query: false,
                    });
                } else {
                    self.push(
                        &u.referenced,
                        format!(
                            "`user`: {:?} has no test credential (users: {})",
                            u.value,
                            super::material::USERS.join(", ")
                        ),
                    );
                }
            }
            if c.value.anonymous == Some(true)
                && let Some(t) = c.value.token.as_ref().or(c.value.jwt.as_ref())
            {
                self.push(
                    &t.referenced,
                    "an `anonymous` client sends no `token` or `jwt`",
                );
            }
            if let Some(t) = &c.value.token {
                match token_option(&t.value) {
                    Ok(cr) => credential = Some(cr),
                    Err(e) => self.push(&t.referenced, format!("`token`: {e}")),
                }
            }
            if let Some(j) = &c.value.jwt {
                match jwt_option(&j.value) {
                    Ok(cr) => credential = Some(cr),
                    Err(e) => self.push(&j.referenced, format!("`jwt`: {e}")),
                }
            }
            let pad_head_to = match &c.value.pad_head_to {
                None => None,
                Some(p) => match size_expr(&p.value) {
                    Ok(s) => Some(s),
                    Err(e) => {
                        self.push(&p.referenced, format!("`padHeadTo`: {e}"));
                        None
                    }
                },
            };
            let slowloris = match &c.value.slowloris {
                None => None,
                Some(p) => match duration(&p.value) {
                    Ok(d) if d >= Duration::from_millis(10) => Some(d),
                    Ok(_) => {
                        self.push(
                            &p.referenced,
                            "`slowloris`: the interval between octets is at least 10ms",
                        );
                        None
                    }
                    Err(e) => {
                        self.push(&p.referenced, format!("`slowloris`: {e}"));
                        None
                    }
                },
            };
            let instance = match &c.value.instance {
                None => None,
                Some(i) => match self.instance_index(i, shape.as_ref(), "`instance`") {
                    Some(n) => Some(n),
                    None => continue,
                },
            };
            clients.push(Client {
                instance,
                name: cname,
                path: c.value.path,
                protocols: c.value.protocols.unwrap_or_default(),
                extensions: c.value.extensions.unwrap_or_default(),
                headers,
                connect: c.value.connect.unwrap_or(true),
                tls: c.value.tls,
                anonymous: c.value.anonymous.unwrap_or(false),
                credential,
                query,
                pad_head_to,
                slowloris,
            });
        }
        let Some(raw_steps) = s.steps else {
            self.push(
                &loc,
                format!("scenario {name:?} has neither `steps` nor `startup`"),
            );
            return;
        };
        let mut steps = Vec::new();
        for st in raw_steps {
            if let Some(step) = self.step(st, &mut clients, shape.as_ref()) {
                steps.push(step);
            }
        }
        out.push(Scenario {
            name,
            at,
            requires,
            env,
            cluster: shape,
            body: Body::Session { clients, steps },
        });
    }

    /// `instances` and `instanceEnv` of a scenario of a cluster suite (an
    /// error elsewhere).
    fn cluster_shape(&mut self, s: &RawScenario, cluster: bool) -> Option<ClusterShape> {
        if !cluster {
            for (key, v) in [
                ("instances", &s.instances),
                ("instanceEnv", &s.instance_env),
            ] {
                if let Some(v) = v {
                    self.push(
                        &v.referenced,
                        format!("`{key}` belongs to a cluster suite (`cluster: true`)"),
                    );
                }
            }
            return None;
        }
        let mut shape = ClusterShape {
            instances: ClusterShape::DEFAULT_INSTANCES,
            instance_env: Vec::new(),
        };
        if let Some(n) = &s.instances {
            match n.value.as_u64().map(|n| n as usize) {
                Some(n) if (1..=ClusterShape::MAX_INSTANCES).contains(&n) => shape.instances = n,
                _ => self.push(
                    &n.referenced,
                    format!(
                        "`instances`: expected a number of instances from 1 to {}",
                        ClusterShape::MAX_INSTANCES
                    ),
                ),
            }
        }
        if let Some(ie) = &s.instance_env {
            let Some(m) = ie.value.as_object() else {
                self.push(
                    &ie.referenced,
                    "`instanceEnv`: expected {INDEX: {VARIABLE: value}}",
                );
                return Some(shape);
            };
            for (k, vars) in m {
                let idx = match k.parse::<usize>() {
                    Ok(i) if i < shape.instances => i,
                    _ => {
                        self.push(
                            &ie.referenced,
                            format!(
                                "`instanceEnv`: {k:?} is not an instance of this scenario (0 to {})",
                                shape.instances - 1
                            ),
                        );
                        continue;
                    }
                };
                let Some(vars) = vars.as_object() else {
                    self.push(
                        &ie.referenced,
                        format!("`instanceEnv` {k}: expected {{VARIABLE: value}}"),
                    );
                    continue;
                };
                let mut env = Vec::new();
                for (name, v) in vars {
                    match scalar(v).map(|v| Ctx::checking().interpolate(&v).map(|_| v)) {
                        Some(Ok(v)) => env.push((name.clone(), v)),
                        Some(Err(e)) => {
                            self.push(&ie.referenced, format!("`instanceEnv` {k} `{name}`: {e}"))
                        }
                        None => self.push(
                            &ie.referenced,
                            format!("`instanceEnv` {k} `{name}`: expected a string or number"),
                        ),
                    }
                }
                env.sort();
                shape.instance_env.push((idx, env));
            }
            shape.instance_env.sort();
        }
        Some(shape)
    }

    /// An instance index of this scenario's cluster, or an error pushed.
    fn instance_index(
        &mut self,
        v: &Spanned<Value>,
        shape: Option<&ClusterShape>,
        what: &str,
    ) -> Option<usize> {
        let Some(shape) = shape else {
            self.push(
                &v.referenced,
                format!("{what}: instances belong to a cluster suite (`cluster: true`)"),
            );
            return None;
        };
        match v.value.as_u64().map(|n| n as usize) {
            Some(n) if n < shape.instances => Some(n),
            _ => {
                self.push(
                    &v.referenced,
                    format!(
                        "{what}: expected an instance of this scenario's cluster, 0 to {} (`instances: {}`)",
                        shape.instances - 1,
                        shape.instances
                    ),
                );
                None
            }
        }
    }

    fn step(
        &mut self,
        raw: Spanned<RawStep>,
        clients: &mut Vec<Client>,
        shape: Option<&ClusterShape>,
    ) -> Option<Step> {
        let loc = raw.referenced;
        let r = raw.value;
        let actions: Vec<(&str, &Spanned<Value>)> = [
            ("connect", &r.connect),
            ("sendText", &r.send_text),
            ("sendBinary", &r.send_binary),
            ("sendJson", &r.send_json),
            ("expectText", &r.expect_text),
            ("expectBinary", &r.expect_binary),
            ("expectJson", &r.expect_json),
            ("expectEcho", &r.expect_echo),
            ("expectClose", &r.expect_close),
            ("expectNothing", &r.expect_nothing),
            ("expectPing", &r.expect_ping),
            ("expectDropped", &r.expect_dropped),
            ("expectHandshake", &r.expect_handshake),
            ("httpGet", &r.http_get),
            ("answerPings", &r.answer_pings),
            ("close", &r.close),
            ("dropConnection", &r.drop_connection),
            ("sleep", &r.sleep),
            ("burst", &r.burst),
            ("collect", &r.collect),
            ("assert", &r.assert),
            ("expectLog", &r.expect_log),
            ("logExcludes", &r.log_excludes),
            ("logIsJson", &r.log_is_json),
            ("metrics", &r.metrics),
            ("rotateCertificate", &r.rotate_certificate),
            ("expectCertificate", &r.expect_certificate),
            ("expectServerChildren", &r.expect_server_children),
            ("expectProcessGone", &r.expect_process_gone),
            ("expectServerRss", &r.expect_server_rss),
            ("expectFile", &r.expect_file),
            ("stopServer", &r.stop_server),
            ("killInstance", &r.kill_instance),
            ("startInstance", &r.start_instance),
            ("restartInstances", &r.restart_instances),
            ("stopRedis", &r.stop_redis),
            ("startRedis", &r.start_redis),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect();
        let (key, v) = match actions.as_slice() {
            [one] => *one,
            [] => {
                let e = self.err(&loc, "this step has no action").with_help(format!(
                    "a step has exactly one of: {}",
                    ACTION_KEYS.join(", ")
                ));
                self.errors.push(e);
                return None;
            }
            [_, (k2, v2), ..] => {
                let names: Vec<&str> = actions.iter().map(|(k, _)| *k).collect();
                let e = self
                    .err(
                        &v2.referenced,
                        format!(
                            "one action per step, got {} (`{k2}` starts a second one)",
                            names.join(" and ")
                        ),
                    )
                    .with_help("put each action in its own `- ...` step");
                self.errors.push(e);
                return None;
            }
        };
        let at = self.at(&loc);
        let action = match key {
            "killInstance" | "startInstance" => {
                let n = self.instance_index(v, shape, &format!("`{key}`"))?;
                if key == "killInstance" {
                    Action::KillInstance(n)
                } else {
                    Action::StartInstance(n)
                }
            }
            "restartInstances" | "stopRedis" | "startRedis" => {
                if shape.is_none() {
                    self.push(
                        &v.referenced,
                        format!("`{key}` belongs to a cluster suite (`cluster: true`)"),
                    );
                    return None;
                }
                let ok = match key {
                    "restartInstances" => v.value.as_str() == Some("all"),
                    _ => v.value.as_object().is_some_and(|m| m.is_empty()),
                };
                if !ok {
                    let want = if key == "restartInstances" {
                        "all"
                    } else {
                        "{}"
                    };
                    self.push(&v.referenced, format!("`{key}`: expected {want}"));
                    return None;
                }
                match key {
                    "restartInstances" => Action::RestartInstances,
                    "stopRedis" => Action::StopRedis,
                    _ => Action::StartRedis,
                }
            }
            _ => match self.action(key, v) {
                Ok(a) => a,
                Err(msg) => {
                    self.push(&v.referenced, format!("`{key}`: {msg}"));
                    return None;
                }
            },
        };
        if let Action::HttpGet(h) = &action
            && let Some(i) = h.instance
            && shape.is_none_or(|c| i >= c.instances)
        {
            let shown = Spanned {
                value: Value::from(i as u64),
                referenced: v.referenced,
                defined: v.defined,
            };
            self.instance_index(&shown, shape, "`httpGet` `instance`");
            return None;
        }
        let within = match &r.within {
            Some(w) => match duration(&w.value) {
                Ok(d) => Some(d),
                Err(e) => {
                    self.push(&w.referenced, format!("`within`: {e}"));
                    None
                }
            },
            None => None,
        };
        let mut skip = Vec::new();
        if let Some(s) = &r.skip {
            let list = match &s.value {
                Value::Array(a) => a.clone(),
                other => vec![other.clone()],
            };
            for p in &list {
                if let Err(e) = Pattern::compile(p, &Ctx::checking()) {
                    self.push(&s.referenced, format!("`skip`: {e}"));
                }
            }
            skip = list;
        }
        if let Action::Burst { clients: names, .. } = &action {
            for n in names {
                if !clients.iter().any(|c| c.name == *n) {
                    self.push(&v.referenced, format!("`burst`: unknown client {n:?}"));
                    return None;
                }
            }
        }
        let is_message_expect = matches!(action, Action::Expect(_) | Action::ExpectEcho);
        for (name, present) in [
            ("compressed", r.compressed.as_ref().map(|c| c.referenced)),
            (
                "smallerThanPrevious",
                r.smaller_than_previous.as_ref().map(|c| c.referenced),
            ),
        ] {
            if let Some(l) = present
                && !is_message_expect
            {
                self.push(&l, format!("`{name}` applies to expectText/expectBinary/expectJson/expectEcho, not `{key}`"));
            }
        }
        // Which client: named, the only one, or an implicit default client.
        let client = if !action.needs_client() {
            0
        } else if let Some(c) = &r.client {
            match clients.iter().position(|k| k.name == c.value) {
                Some(i) => i,
                None => {
                    let names: Vec<&str> = clients.iter().map(|k| k.name.as_str()).collect();
                    self.push(
                        &c.referenced,
                        format!(
                            "unknown client {:?} (clients: {})",
                            c.value,
                            names.join(", ")
                        ),
                    );
                    return None;
                }
            }
        } else {
            if clients.is_empty() {
                clients.push(Client {
                    name: "client".into(),
                    connect: true,
                    ..Default::default()
                });
            }
            if clients.len() > 1 {
                self.push(
                    &loc,
                    format!("`{key}`: name the client (`client: ...`): this scenario has several"),
                );
                return None;
            }
            0
        };
        Some(Step {
            at,
            client,
            action,
            within,
            compressed: r.compressed.map(|c| c.value),
            smaller_than_previous: r.smaller_than_previous.map(|c| c.value),
            skip,
        })
    }

    fn action(&self, key: &str, v: &Spanned<Value>) -> Result<Action, String> {
        let check = Ctx::checking();
        let v = &v.value;
        Ok(match key {
            "connect" => Action::Connect,
            "sendText" | "sendBinary" => {
                let binary = key == "sendBinary";
                let (pieces, fragment_size) = send_payload(v, binary)?;
                Action::Send {
                    binary,
                    pieces,
                    fragment_size,
                }
            }
            "sendJson" => {
                check_send_json(v, &check)?;
                Action::Send {
                    binary: false,
                    pieces: vec![Payload::Json(v.clone())],
                    fragment_size: None,
                }
            }
            "expectText" => match v {
                Value::String(s) => {
                    StrPattern::compile(s, &check)?;
                    Action::Expect(MessageExpect::Text(s.clone()))
                }
                Value::Object(_) => Action::Expect(MessageExpect::TextPayload(payload(v, false)?)),
                _ => return Err("expected a string pattern or {text|hex|generated: ...}".into()),
            },
            "expectBinary" => Action::Expect(MessageExpect::Binary(payload(v, true)?)),
            "expectJson" => {
                Pattern::compile(v, &check)?;
                Action::Expect(MessageExpect::Json(v.clone()))
            }
            "expectEcho" => Action::ExpectEcho,
            "expectClose" => match v {
                Value::Number(_) => Action::ExpectClose {
                    code: Some(code(v)?),
                    reason: None,
                },
                Value::String(s) if s == "$any" => Action::ExpectClose {
                    code: None,
                    reason: None,
                },
                Value::Object(m) => {
                    only_keys(m, &["code", "reason"])?;
                    let reason = m.get("reason").map(|r| {
                        r.as_str()
                            .map(String::from)
                            .ok_or("`reason`: a string pattern")
                    });
                    let reason = reason.transpose()?;
                    if let Some(r) = &reason {
                        StrPattern::compile(r, &check)?;
                    }
                    Action::ExpectClose {
                        code: m.get("code").map(code).transpose()?,
                        reason,
                    }
                }
                _ => return Err("expected a close code, `$any`, or {code, reason}".into()),
            },
            "expectLog" => {
                let mut since_boot = false;
                let pattern = match v {
                    Value::String(p) => {
                        StrPattern::compile(p, &check)?;
                        LogPattern::Line(p.clone())
                    }
                    Value::Object(m) => {
                        only_keys(m, &["line", "json", "since"])?;
                        since_boot = match m.get("since").map(|s| s.as_str()) {
                            None | Some(Some("scenario")) => false,
                            Some(Some("boot")) => true,
                            _ => return Err("`since`: scenario (the default) or boot".into()),
                        };
                        match (m.get("line"), m.get("json")) {
                            (Some(l), None) => {
                                LogPattern::Line(string_pattern(Some(l))?.unwrap_or_default())
                            }
                            (None, Some(j)) => {
                                Pattern::compile(j, &check)?;
                                LogPattern::Json(j.clone())
                            }
                            _ => return Err("give one of `line` and `json`".into()),
                        }
                    }
                    _ => {
                        return Err(
                            "expected a string pattern, {line: PATTERN} or {json: JSON-PATTERN} (with since: boot)"
                                .into(),
                        );
                    }
                };
                Action::ExpectLog {
                    pattern,
                    since_boot,
                }
            }
            "logExcludes" => {
                let list = match v {
                    Value::String(_) => vec![v.clone()],
                    Value::Array(a) => a.clone(),
                    _ => return Err("expected a list of string patterns (`$credentials`: every credential in play)".into()),
                };
                let mut out = Vec::new();
                for p in list {
                    let p = p.as_str().ok_or("patterns are strings")?.to_string();
                    if p != "$credentials" && !p.starts_with("$var:") {
                        StrPattern::compile(&p, &check)?;
                    }
                    out.push(p);
                }
                Action::LogExcludes(out)
            }
            "logIsJson" => match v {
                Value::Bool(true) | Value::Null => Action::LogIsJson,
                _ => return Err("expected true".into()),
            },
            "rotateCertificate" => match v {
                Value::Bool(true) | Value::Null => Action::RotateCertificate,
                _ => return Err("expected true".into()),
            },
            "expectCertificate" => match v.as_str() {
                Some("first") => Action::ExpectCertificate(1),
                Some("second") => Action::ExpectCertificate(2),
                _ => return Err("expected first or second (the test certificate pairs)".into()),
            },
            "metrics" => Action::Metrics(metrics_check(v)?),
            "expectServerChildren" => {
                let n = match v {
                    Value::Object(m) => {
                        only_keys(m, &["count"])?;
                        m.get("count")
                    }
                    other => Some(other),
                };
                Action::ExpectServerChildren(
                    n.and_then(Value::as_u64)
                        .ok_or("expected a count of processes, or {count: N} (window: `within`)")?
                        as usize,
                )
            }
            "expectProcessGone" => {
                let pid = match v {
                    Value::Object(m) => {
                        only_keys(m, &["pid"])?;
                        m.get("pid").cloned().unwrap_or(Value::Null)
                    }
                    other => other.clone(),
                };
                match &pid {
                    Value::Number(n) if n.is_u64() => {}
                    Value::String(s) if s.starts_with("$var:") => {}
                    _ => {
                        return Err(
                            "expected a process id, or \"$var:NAME\" (a pid captured from a message)"
                                .into(),
                        );
                    }
                }
                Action::ExpectProcessGone(pid)
            }
            "expectServerRss" => {
                let m = v
                    .as_object()
                    .ok_or("expected {below: SIZE} (e.g. 256MiB)")?;
                only_keys(m, &["below"])?;
                let below = match m.get("below") {
                    Some(Value::Number(n)) => n.as_u64().ok_or("`below`: a size")?,
                    Some(Value::String(s)) => super::procs::parse_size(s)?,
                    _ => return Err("`below`: a size such as 256MiB".into()),
                };
                Action::ExpectServerRss(below)
            }
            "expectNothing" => Action::ExpectNothing(duration(v)?),
            "expectPing" => Action::ExpectPing(duration(v)?),
            "expectDropped" => Action::ExpectDropped(duration(v)?),
            "answerPings" => Action::AnswerPings(v.as_bool().ok_or("expected true or false")?),
            "close" => match v {
                Value::Null | Value::Bool(true) => Action::Close(None),
                _ => Action::Close(Some(code(v)?)),
            },
            "dropConnection" => match v {
                Value::Bool(true) | Value::Null => Action::DropConnection,
                _ => return Err("expected true".into()),
            },
            "sleep" => Action::Sleep(duration(v)?),
            "burst" => {
                let m = v
                    .as_object()
                    .ok_or("expected {clients: [NAME, ...], count: N, json: TEMPLATE}")?;
                only_keys(m, &["clients", "count", "json"])?;
                let clients: Vec<String> = m
                    .get("clients")
                    .and_then(Value::as_array)
                    .ok_or("`clients`: a list of client names")?
                    .iter()
                    .map(|c| {
                        c.as_str()
                            .map(String::from)
                            .ok_or("`clients`: names are strings")
                    })
                    .collect::<Result<_, _>>()?;
                let count = count(m.get("count"))?;
                let json = m
                    .get("json")
                    .cloned()
                    .ok_or("`json`: the message template")?;
                let probe = burst_message(&json, 0, "c", &check, &Default::default())?;
                Pattern::compile(&probe, &check).map(|_| ())?;
                Action::Burst {
                    clients,
                    count,
                    json,
                }
            }
            "collect" => {
                let m = v
                    .as_object()
                    .ok_or("expected {count: N, match: JSON-PATTERN, as: NAME}")?;
                only_keys(m, &["count", "match", "as"])?;
                let count = count(m.get("count"))?;
                let pattern = m
                    .get("match")
                    .cloned()
                    .unwrap_or(Value::String("$any".into()));
                Pattern::compile(&pattern, &check)?;
                let name = m
                    .get("as")
                    .and_then(Value::as_str)
                    .ok_or("`as`: the variable that receives the list")?;
                Action::Collect {
                    count,
                    pattern,
                    name: name.to_string(),
                }
            }
            "assert" => {
                let m = v.as_object().ok_or(
                    "expected {sameOrder: [NAME, ...], increasing: [NAME, ...], consecutive: [NAME, ...], from: N, field: KEY}",
                )?;
                only_keys(
                    m,
                    &["sameOrder", "increasing", "consecutive", "from", "field"],
                )?;
                let names = |k: &str| -> Result<Vec<String>, String> {
                    match m.get(k) {
                        None => Ok(Vec::new()),
                        Some(Value::String(s)) => Ok(vec![s.clone()]),
                        Some(Value::Array(a)) => a
                            .iter()
                            .map(|x| {
                                x.as_str()
                                    .map(String::from)
                                    .ok_or_else(|| format!("`{k}`: variable names"))
                            })
                            .collect(),
                        Some(_) => Err(format!("`{k}`: a variable name or a list of them")),
                    }
                };
                let (same_order, increasing, consecutive) = (
                    names("sameOrder")?,
                    names("increasing")?,
                    names("consecutive")?,
                );
                if same_order.is_empty() && increasing.is_empty() && consecutive.is_empty() {
                    return Err("give `sameOrder`, `increasing` and/or `consecutive`".into());
                }
                let from = match m.get("from") {
                    None => None,
                    Some(_) if consecutive.is_empty() => {
                        return Err("`from` goes with `consecutive`".into());
                    }
                    Some(f) => Some(number_expr(f, "from")?),
                };
                let field = m
                    .get("field")
                    .map(|f| f.as_str().map(String::from).ok_or("`field`: a key"))
                    .transpose()?;
                Action::Assert {
                    same_order,
                    increasing,
                    consecutive,
                    from,
                    field,
                }
            }
            "expectFile" => {
                let m = v.as_object().ok_or(
                    "expected {path: PATH, atLeast: N, atMost: N, equals: N} or {path: PATH, text: PATTERN}",
                )?;
                only_keys(m, &["path", "atLeast", "atMost", "equals", "text"])?;
                let path = m
                    .get("path")
                    .and_then(Value::as_str)
                    .ok_or("`path`: the file (placeholders such as ${target.dir} expand)")?;
                let size = |k: &str| m.get(k).map(|x| number_expr(x, k)).transpose();
                let f = FileExpect {
                    path: path.to_string(),
                    at_least: size("atLeast")?,
                    at_most: size("atMost")?,
                    equals: size("equals")?,
                    text: m
                        .get("text")
                        .map(|t| {
                            t.as_str()
                                .map(String::from)
                                .ok_or("`text`: a string pattern")
                        })
                        .transpose()?,
                };
                let numeric = f.at_least.is_some() || f.at_most.is_some() || f.equals.is_some();
                if numeric == f.text.is_some() {
                    return Err(
                        "give number conditions (atLeast, atMost, equals) or `text`, one kind"
                            .into(),
                    );
                }
                Action::ExpectFile(f)
            }
            "stopServer" => {
                let code = match v {
                    Value::Null | Value::Bool(true) => 0,
                    Value::Object(m) => {
                        only_keys(m, &["exitCode"])?;
                        match m.get("exitCode") {
                            None => 0,
                            Some(c) => c
                                .as_i64()
                                .and_then(|c| i32::try_from(c).ok())
                                .ok_or("`exitCode`: an integer")?,
                        }
                    }
                    _ => return Err("expected true or {exitCode: N}".into()),
                };
                Action::StopServer { exit_code: code }
            }
            "expectHandshake" => {
                let m = v
                    .as_object()
                    .ok_or("expected a map of status, headers, extensions, body")?;
                only_keys(m, &["status", "headers", "extensions", "body"])?;
                let mut h = HandshakeExpect {
                    status: m.get("status").map(status).transpose()?,
                    ..Default::default()
                };
                h.headers = headers(m.get("headers"))?;
                if let Some(e) = m.get("extensions") {
                    let one = |e: &Value| match e {
                        Value::Null => Ok(None),
                        Value::String(s) => Ok(Some(s.clone())),
                        _ => Err(
                            "`extensions`: the expected header value, or null for absent"
                                .to_string(),
                        ),
                    };
                    h.extensions = Some(match e {
                        Value::Object(m) => {
                            only_keys(m, &["oneOf", "serverMaxWindowBitsAtMost"])?;
                            match (m.get("oneOf"), m.get("serverMaxWindowBitsAtMost")) {
                                (Some(Value::Array(a)), None) if !a.is_empty() => {
                                    ExtensionsExpect::OneOf(
                                        a.iter().map(one).collect::<Result<_, _>>()?,
                                    )
                                }
                                (None, Some(n)) => ExtensionsExpect::ServerMaxWindowBitsAtMost(
                                    n.as_u64()
                                        .filter(|n| (8..=15).contains(n))
                                        .ok_or("`serverMaxWindowBitsAtMost`: 8 to 15")?
                                        as u8,
                                ),
                                _ => {
                                    return Err(
                                        "`extensions`: give `oneOf: [VALUE or null, ...]` \
                                                or `serverMaxWindowBitsAtMost: N`"
                                            .into(),
                                    );
                                }
                            }
                        }
                        e => ExtensionsExpect::OneOf(vec![one(e)?]),
                    });
                }
                h.body = string_pattern(m.get("body"))?;
                Action::ExpectHandshake(h)
            }
            "httpGet" => match v {
                Value::String(p) => Action::HttpGet(HttpExpect {
                    instance: None,
                    path: p.clone(),
                    status: 200,
                    headers: Vec::new(),
                    json: None,
                    body: None,
                }),
                Value::Object(m) => {
                    only_keys(
                        m,
                        &["path", "status", "headers", "json", "body", "instance"],
                    )?;
                    let instance = match m.get("instance") {
                        None => None,
                        Some(i) => Some(
                            i.as_u64()
                                .ok_or("`instance`: expected an instance number")?
                                as usize,
                        ),
                    };
                    let path = m
                        .get("path")
                        .and_then(Value::as_str)
                        .ok_or("`path` is required")?
                        .to_string();
                    if let Some(j) = m.get("json") {
                        Pattern::compile(j, &check)?;
                    }
                    Action::HttpGet(HttpExpect {
                        instance,
                        path,
                        status: m.get("status").map(status).transpose()?.unwrap_or(200),
                        headers: headers(m.get("headers"))?,
                        json: m.get("json").cloned(),
                        body: string_pattern(m.get("body"))?,
                    })
                }
                _ => return Err("expected a path or {path, status, headers, json, body}".into()),
            },
            _ => unreachable!("{key}"),
        })
    }
}

/// One message of a burst: `${i}` and `${client}` expanded in every string,
/// then the spec's placeholders; `$var:NAME` strings take captured values.
pub fn burst_message(
    template: &Value,
    i: usize,
    client: &str,
    ctx: &Ctx,
    vars: &super::pattern::Vars,
) -> Result<Value, String> {
    Ok(match template {
        Value::String(s) => {
            if let Some(n) = s.strip_prefix("$var:") {
                return vars
                    .get(n)
                    .cloned()
                    .ok_or_else(|| format!("${n} was never captured"))
                    .or_else(|e| {
                        if ctx.is_checking() {
                            Ok(Value::Null)
                        } else {
                            Err(e)
                        }
                    });
            }
            let s = s
                .replace("${i}", &i.to_string())
                .replace("${client}", client);
            if s == i.to_string() && template.as_str() == Some("${i}") {
                return Ok(Value::from(i));
            }
            ctx.json_string(&s)?
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| burst_message(x, i, client, ctx, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, x) in m {
                out.insert(k.clone(), burst_message(x, i, client, ctx, vars)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// Expand every string of a message to send with the checking context, so
/// that an unknown placeholder is a load error.
fn check_send_json(v: &Value, ctx: &Ctx) -> Result<(), String> {
    match v {
        Value::String(s) if s.starts_with("$var:") => Ok(()),
        Value::String(s) => ctx
            .json_string(s.strip_prefix("$$").unwrap_or(s))
            .map(|_| ()),
        Value::Array(a) => a.iter().try_for_each(|x| check_send_json(x, ctx)),
        Value::Object(m) => m.values().try_for_each(|x| check_send_json(x, ctx)),
        _ => Ok(()),
    }
}

fn expected_keys(serde_msg: &str) -> String {
    match serde_msg.split_once("expected one of ") {
        Some((_, rest)) => format!("known keys here: {}", rest.replace('`', "")),
        None => "see the known keys in docs/scenarios.md".into(),
    }
}

fn only_keys(m: &serde_json::Map<String, Value>, known: &[&str]) -> Result<(), String> {
    match m.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err(match did_you_mean(k, known) {
            Some(s) => format!("unknown key `{k}` (did you mean `{s}`?)"),
            None => format!("unknown key `{k}` (known: {})", known.join(", ")),
        }),
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn code(v: &Value) -> Result<u16, String> {
    v.as_u64()
        .filter(|c| (1000..=4999).contains(c))
        .map(|c| c as u16)
        .ok_or_else(|| format!("expected a close code 1000..4999, got {v}"))
}

fn status(v: &Value) -> Result<u16, String> {
    v.as_u64()
        .filter(|c| (100..=599).contains(c))
        .map(|c| c as u16)
        .ok_or_else(|| format!("expected an HTTP status, got {v}"))
}

fn string_pattern(v: Option<&Value>) -> Result<Option<String>, String> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) => {
            StrPattern::compile(s, &Ctx::checking())?;
            Ok(Some(s.clone()))
        }
        Some(other) => Err(format!("expected a string pattern, got {other}")),
    }
}

fn headers(v: Option<&Value>) -> Result<Vec<(String, Option<String>)>, String> {
    let Some(v) = v else { return Ok(Vec::new()) };
    let m = v
        .as_object()
        .ok_or("`headers`: expected a map of header name -> pattern (null: absent)")?;
    let mut out = Vec::new();
    for (k, v) in m {
        let p = match v {
            Value::Null => None,
            other => Some(
                string_pattern(Some(&Value::String(
                    scalar(other).ok_or("header values are strings")?,
                )))?
                .unwrap(),
            ),
        };
        out.push((k.clone(), p));
    }
    Ok(out)
}

/// `token: alice` or `token: {user: alice, in: query}`.
fn token_option(v: &Value) -> Result<Credential, String> {
    let (user, in_query) = match v {
        Value::String(u) => (u.clone(), false),
        Value::Object(m) => {
            only_keys(m, &["user", "in"])?;
            let u = m
                .get("user")
                .and_then(Value::as_str)
                .ok_or("`user`: one of the test users")?;
            (u.to_string(), credential_in(m)?)
        }
        _ => {
            return Err(
                "expected a test user (alice, bob, carol) or {user, in: header|query}".into(),
            );
        }
    };
    if !super::material::USERS.contains(&user.as_str()) {
        return Err(format!(
            "{user:?} has no test token (users: {})",
            super::material::USERS.join(", ")
        ));
    }
    Ok(Credential {
        kind: CredentialKind::Token(user),
        in_query,
    })
}

fn credential_in(m: &serde_json::Map<String, Value>) -> Result<bool, String> {
    match m.get("in").map(|v| v.as_str()) {
        None | Some(Some("header")) => Ok(false),
        Some(Some("query")) => Ok(true),
        _ => {
            Err("`in`: header (Authorization: Bearer, the default) or query (access_token)".into())
        }
    }
}

/// `jwt: {alg, sub, exp, nbf, iat, iss, aud, preset, in}`.
fn jwt_option(v: &Value) -> Result<Credential, String> {
    let m = v
        .as_object()
        .ok_or("expected {sub, exp, nbf, iat, iss, aud, alg, preset, in}")?;
    only_keys(
        m,
        &[
            "alg", "sub", "exp", "nbf", "iat", "iss", "aud", "preset", "in",
        ],
    )?;
    for k in ["exp", "nbf", "iat"] {
        if let Some(t) = m.get(k)
            && !t.is_null()
        {
            super::material::time_value(t, 0).map_err(|e| format!("`{k}`: {e}"))?;
        }
    }
    for k in ["alg", "preset"] {
        if let Some(x) = m.get(k)
            && !x.is_string()
        {
            return Err(format!("`{k}`: a string"));
        }
    }
    if let Some(p) = m.get("preset").and_then(Value::as_str)
        && !super::material::PRESETS.iter().any(|(n, _)| *n == p)
    {
        let names: Vec<&str> = super::material::PRESETS.iter().map(|(n, _)| *n).collect();
        return Err(format!(
            "unknown preset {p:?} (presets: {})",
            names.join(", ")
        ));
    }
    if let Some(a) = m.get("alg").and_then(Value::as_str)
        && a.parse::<jsonwebtoken::Algorithm>().is_err()
    {
        return Err(format!("unknown algorithm {a:?}"));
    }
    let mut claims = m.clone();
    claims.remove("in");
    Ok(Credential {
        kind: CredentialKind::Jwt(claims),
        in_query: credential_in(m)?,
    })
}

/// `metrics: {as, samples, types}`.
fn metrics_check(v: &Value) -> Result<MetricsCheck, String> {
    let m = v.as_object().ok_or(
        "expected {as: NAME, samples: {SELECTOR: CONDITION}, types: {NAME: counter|gauge}}",
    )?;
    only_keys(m, &["as", "samples", "types"])?;
    let mut out = MetricsCheck {
        save_as: m
            .get("as")
            .map(|a| a.as_str().map(String::from).ok_or("`as`: a name"))
            .transpose()?,
        ..Default::default()
    };
    if let Some(t) = m.get("types") {
        for (k, v) in t
            .as_object()
            .ok_or("`types`: a map of metric name -> counter|gauge")?
        {
            let kind = v
                .as_str()
                .filter(|k| ["counter", "gauge", "histogram", "summary", "untyped"].contains(k))
                .ok_or_else(|| format!("`types`: {k}: expected counter or gauge, got {v}"))?;
            out.types.push((k.clone(), kind.to_string()));
        }
    }
    if let Some(sm) = m.get("samples") {
        for (sel, c) in sm
            .as_object()
            .ok_or("`samples`: a map of selector -> condition")?
        {
            super::observe::parse_selector(sel)?;
            let cond = match c {
                Value::Number(n) => MetricCond::Equals(n.as_f64().unwrap_or_default()),
                Value::String(s) if s == "present" => MetricCond::Present,
                Value::String(s) if s == "absent" => MetricCond::Absent,
                Value::Object(o) => {
                    let num = |k: &str| -> Result<f64, String> {
                        o[k].as_f64()
                            .ok_or_else(|| format!("`{sel}`: `{k}` is a number"))
                    };
                    if o.contains_key("atLeast") && o.len() == 1 {
                        MetricCond::AtLeast(num("atLeast")?)
                    } else if o.contains_key("atMost") && o.len() == 1 {
                        MetricCond::AtMost(num("atMost")?)
                    } else if (o.contains_key("increase") || o.contains_key("increaseAtLeast"))
                        && o.contains_key("since")
                        && o.len() == 2
                    {
                        let at_least = o.contains_key("increaseAtLeast");
                        MetricCond::Increase {
                            by: num(if at_least {
                                "increaseAtLeast"
                            } else {
                                "increase"
                            })?,
                            since: o["since"]
                                .as_str()
                                .ok_or("`since`: a saved snapshot name")?
                                .to_string(),
                            at_least,
                        }
                    } else {
                        return Err(format!(
                            "`{sel}`: expected a number, present, absent, {{atLeast: N}}, {{atMost: N}}, {{increase: N, since: NAME}} or {{increaseAtLeast: N, since: NAME}}"
                        ));
                    }
                }
                _ => {
                    return Err(format!(
                        "`{sel}`: expected a number, present, absent or a condition map"
                    ));
                }
            };
            out.samples.push((sel.clone(), cond));
        }
    }
    Ok(out)
}

/// `500ms`, `2s`, `1.5s`, `1m`, or a number of milliseconds.
pub fn duration(v: &Value) -> Result<Duration, String> {
    let bad = || format!("expected a duration such as 500ms, 2s or 1m, got {v}");
    let ms: f64 = match v {
        Value::Number(n) => n.as_f64().ok_or_else(bad)?,
        Value::String(s) => {
            let s = s.trim();
            let (num, mul) = if let Some(n) = s.strip_suffix("ms") {
                (n, 1.0)
            } else if let Some(n) = s.strip_suffix('s') {
                (n, 1000.0)
            } else if let Some(n) = s.strip_suffix('m') {
                (n, 60_000.0)
            } else {
                (s, 1.0)
            };
            num.trim().parse::<f64>().map_err(|_| bad())? * mul
        }
        _ => return Err(bad()),
    };
    if !(0.0..=3_600_000.0).contains(&ms) {
        return Err(bad());
    }
    Ok(Duration::from_micros((ms * 1000.0) as u64))
}

/// A send payload: a string, or {text|hex|generated|json, fragments, fragmentSize}.
fn send_payload(v: &Value, binary: bool) -> Result<(Vec<Payload>, Option<String>), String> {
    let Value::Object(m) = v else {
        return Ok((vec![payload(v, binary)?], None));
    };
    let fragment_size = match m.get("fragmentSize") {
        None => None,
        Some(f) => Some(size_expr(f)?),
    };
    if let Some(f) = m.get("fragments") {
        if m.len() > 1 {
            return Err("`fragments` lists the pieces; it takes no other keys".into());
        }
        let list = f
            .as_array()
            .ok_or("`fragments`: a list of pieces (one frame each)")?;
        if list.len() < 2 {
            return Err("`fragments`: at least two pieces".into());
        }
        let pieces = list
            .iter()
            .map(|p| payload(p, binary))
            .collect::<Result<_, _>>()?;
        return Ok((pieces, None));
    }
    let mut rest = m.clone();
    rest.remove("fragmentSize");
    Ok((vec![payload(&Value::Object(rest), binary)?], fragment_size))
}

/// A burst's or collect's `count`: a positive integer or size expression.
fn count(v: Option<&Value>) -> Result<String, String> {
    const EXPECTED: &str = "`count`: a positive integer or size expression";
    let s = v.and_then(scalar).ok_or(EXPECTED)?;
    if s.contains("${") {
        // Placeholders have no values yet: check only their names.
        Ctx::checking()
            .interpolate(&s)
            .map_err(|e| format!("`count`: {e}"))?;
        return Ok(s);
    }
    match Ctx::checking().size(&s) {
        Ok(n) if n > 0 => Ok(s),
        Ok(_) => Err(EXPECTED.into()),
        Err(e) => Err(format!("`count`: {e}")),
    }
}

/// An integer >= 0 or a size expression with placeholders (checked by name).
fn number_expr(v: &Value, key: &str) -> Result<String, String> {
    let s = scalar(v).ok_or_else(|| format!("`{key}`: an integer or size expression"))?;
    if s.contains("${") {
        Ctx::checking()
            .interpolate(&s)
            .map_err(|e| format!("`{key}`: {e}"))?;
        return Ok(s);
    }
    Ctx::checking()
        .size(&s)
        .map(|_| s)
        .map_err(|e| format!("`{key}`: {e}"))
}

fn size_expr(v: &Value) -> Result<String, String> {
    let s = scalar(v).ok_or("expected a size")?;
    Ctx::checking().size(&s)?;
    Ok(s)
}

/// Message content: a string (UTF-8), or one of {text}, {hex}, {generated}, {json}.
fn payload(v: &Value, binary: bool) -> Result<Payload, String> {
    match v {
        Value::String(s) => {
            Ctx::checking().interpolate(s)?;
            Ok(Payload::Text(s.clone()))
        }
        Value::Object(m) if m.len() == 1 => {
            let (k, x) = m.iter().next().unwrap();
            match (k.as_str(), x) {
                ("text", Value::String(s)) => {
                    Ctx::checking().interpolate(s)?;
                    Ok(Payload::Text(s.clone()))
                }
                ("hex", Value::String(h)) => hex(h).map(Payload::Bytes),
                ("generated", g) => Ok(Payload::Generated(size_expr(g)?)),
                ("json", j) => Ok(Payload::Json(j.clone())),
                (k, _) => Err(format!(
                    "unknown payload `{k}` (use text: STRING, hex: \"00ff\", generated: SIZE or json: VALUE)"
                )),
            }
        }
        _ => Err(format!(
            "expected a string or one of {{text: ...}}, {{hex: ...}}, {{generated: N}}, {{json: ...}}{}",
            if binary {
                ""
            } else {
                ", optionally with fragments or fragmentSize"
            }
        )),
    }
}

fn hex(h: &str) -> Result<Vec<u8>, String> {
    let digits: String = h.chars().filter(|c| !c.is_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("hex {h:?} has an odd number of digits"));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).map_err(|_| format!("bad hex {h:?}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs(text: &str) -> Vec<SpecError> {
        parse_str("t.yaml", "t", text).unwrap_err().0
    }

    const GOOD: &str = r#"
suite: echo-basics
appliesTo: {types: [echo], requires: ["!requireSubprotocol"]}
env: {WS_PING_INTERVAL: 500}
scenarios:
  - name: two clients
    env: {WS_MAX_PAYLOAD: "1024"}
    clients:
      zed: {protocols: [a]}
      amy: {extensions: ["permessage-deflate; client_max_window_bits"], headers: {X-Test: 1}}
    steps:
      - {client: zed, sendText: {generated: "${spec.max_payload} + 1", fragmentSize: 100}}
      - {client: zed, expectClose: 1009, within: 5s}
      - {client: amy, sendBinary: {fragments: [{hex: "00 ff"}, "é"]}}
      - {client: amy, expectEcho: {}, compressed: true}
      - {client: amy, expectJson: {id: "$int", "$partial": true}, skip: [{type: presence, "$partial": true}]}
      - httpGet: {path: /healthz, json: {status: ok, name: "${spec.name}", type: "$string"}}
  - name: only one client
    steps:
      - sendText: hi
      - expectText: "$regex:^h"
  - name: bad port
    startup: {variable: PORT, values: [-1, abc, ""]}
"#;

    #[test]
    fn a_full_file_parses() {
        let s = parse_str("t.yaml", "t", GOOD).unwrap();
        assert_eq!(s.name, "echo-basics");
        assert_eq!(s.applies.types, ["echo"]);
        assert_eq!(
            s.applies.requires,
            [Requirement {
                property: Property::RequireSubprotocol,
                negated: true
            }]
        );
        assert_eq!(s.scenarios.len(), 5, "two sessions + three start-up values");
        let first = &s.scenarios[0];
        assert_eq!(
            first.env,
            [
                ("WS_MAX_PAYLOAD".into(), "1024".into()),
                ("WS_PING_INTERVAL".into(), "500".into())
            ]
        );
        let Body::Session { clients, steps } = &first.body else {
            panic!()
        };
        assert_eq!(
            clients.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["zed", "amy"]
        );
        assert_eq!(
            clients[1].headers,
            [("X-Test".to_string(), "1".to_string())]
        );
        assert_eq!(steps.len(), 6);
        assert_eq!(steps[1].within, Some(Duration::from_secs(5)));
        assert!(
            matches!(&steps[2].action, Action::Send { binary: true, pieces, .. } if pieces.len() == 2)
        );
        assert_eq!(steps[3].compressed, Some(true));
        assert_eq!(steps[4].skip.len(), 1);
        assert!(steps[0].at.starts_with("t.yaml:12:"), "{}", steps[0].at);
        let Body::Session { clients, .. } = &s.scenarios[1].body else {
            panic!()
        };
        assert_eq!(clients.len(), 1, "an implicit client");
        let Body::Startup(st) = &s.scenarios[4].body else {
            panic!()
        };
        assert_eq!(
            (st.variable.as_str(), st.value.as_str(), st.exit_code),
            ("PORT", "", Some(2))
        );
    }

    #[test]
    fn errors_are_located() {
        let e = errs("scenarios:\n  - name: x\n    steps:\n      - sendTxt: hi\n");
        assert_eq!(
            (e[0].line, e[0].message.as_str()),
            (4, "unknown key `sendTxt`")
        );
        assert_eq!(e[0].help.as_deref(), Some("did you mean `sendText`?"));

        let e =
            errs("scenarios:\n  - name: x\n    steps:\n      - {sendText: hi, expectText: hi}\n");
        assert_eq!(e[0].line, 4);
        assert!(
            e[0].message.contains("one action per step"),
            "{}",
            e[0].message
        );

        let e = errs(
            "scenarios:\n  - name: x\n    steps:\n      - expectClose: 99\n      - expectJson: {a: \"$regex:(\"}\n",
        );
        assert_eq!(e.len(), 2, "all errors at once: {e:?}");
        assert_eq!(e[0].line, 4);
        assert!(e[0].message.contains("close code"), "{}", e[0].message);
        assert_eq!(e[1].line, 5);
        assert!(e[1].message.contains("bad regex"), "{}", e[1].message);

        let e = errs("appliesTo:\n  requires: [compresion]\nscenarios: []\n");
        assert_eq!((e[0].line, e[0].column), (2, 14));
        assert_eq!(e[0].help.as_deref(), Some("did you mean `compression`?"));

        let e = errs(
            "scenarios:\n  - name: x\n    clients: {a: {}, b: {}}\n    steps:\n      - sendText: hi\n",
        );
        assert_eq!(e[0].line, 5);
        assert!(e[0].message.contains("name the client"), "{}", e[0].message);

        let e = errs("scenarios:\n  - name: x\n    steps:\n      - {client: bob, close: 1000}\n");
        assert!(
            e[0].message.contains("unknown client \"bob\""),
            "{}",
            e[0].message
        );

        let e = errs(
            "scenarios:\n  - name: x\n    steps:\n      - sendJson: {text: \"$repeat:${spec.chat.max_len}:x\"}\n",
        );
        assert_eq!(e[0].line, 4);
        assert!(
            e[0].message
                .contains("unknown placeholder ${spec.chat.max_len} (spec.chat has: "),
            "{}",
            e[0].message
        );

        let burst_file = |count: &str| {
            format!(
                "scenarios:\n  - name: x\n    clients: {{a: {{}}}}\n    steps:\n      - burst: {{clients: [a], count: {count}, json: {{}}}}\n"
            )
        };
        let burst = |count: &str| errs(&burst_file(count));
        parse_str(
            "t.yaml",
            "t",
            &burst_file("\"${spec.chat.max_rooms_per_connection} + 1\""),
        )
        .expect("a size expression is a count");
        let e = burst("\"${spec.chat.max_roms}\"");
        assert!(
            e[0].message.contains("unknown placeholder"),
            "{}",
            e[0].message
        );
        let e = burst("0");
        assert!(
            e[0].message.contains("positive integer"),
            "{}",
            e[0].message
        );

        let e = errs("scenarios:\n  - name: x\n    steps:\n      - expectNothing: soon\n");
        assert!(e[0].message.contains("duration"), "{}", e[0].message);

        let e = errs("scenarios:\n  - name: x\n    steps:\n      - sendText: \"${spec.nam}\"\n");
        assert!(
            e[0].message.contains("unknown placeholder"),
            "{}",
            e[0].message
        );

        let e =
            errs("scenarios:\n  - name: x\n    steps:\n      - {sendText: hi, compressed: true}\n");
        assert!(
            e[0].message.contains("`compressed` applies to"),
            "{}",
            e[0].message
        );

        let e = errs("scenarios:\n  - name: x\n    steps: {a: 1}\n");
        assert_eq!(e[0].line, 3);

        let rendered = SpecErrors(errs(
            "scenarios:\n  - name: x\n    steps:\n      - sendTxt: hi\n",
        ))
        .render();
        assert!(
            rendered.starts_with("t.yaml:4:9: unknown key `sendTxt`"),
            "{rendered}"
        );
    }

    #[test]
    fn multi_client_steps_are_checked() {
        let ok = "scenarios:\n  - name: x\n    clients: {a: {}, b: {}}\n    steps:\n      - burst: {clients: [a, b], count: 3, json: {n: \"${i}\", from: \"${client}\"}}\n      - {client: a, collect: {count: 6, as: la}}\n      - assert: {sameOrder: [la], increasing: la, field: \"n\"}\n";
        let s = parse_str("t.yaml", "t", ok).unwrap();
        let Body::Session { steps, .. } = &s.scenarios[0].body else {
            panic!()
        };
        assert!(matches!(&steps[0].action, Action::Burst { count, .. } if count == "3"));
        let msg = burst_message(
            &serde_json::json!({"n": "${i}", "from": "${client}"}),
            7,
            "a",
            &Ctx::default(),
            &Default::default(),
        )
        .unwrap();
        assert_eq!(msg, serde_json::json!({"n": 7, "from": "a"}));

        let e = errs(
            "scenarios:\n  - name: x\n    clients: {a: {}}\n    steps:\n      - burst: {clients: [a, zed], count: 3, json: {}}\n",
        );
        assert_eq!(e[0].line, 5);
        assert!(
            e[0].message.contains("unknown client \"zed\""),
            "{}",
            e[0].message
        );
        let e = errs("scenarios:\n  - name: x\n    steps:\n      - assert: {field: id}\n");
        assert!(e[0].message.contains("sameOrder"), "{}", e[0].message);
        let e = errs("scenarios:\n  - name: x\n    steps:\n      - collect: {count: 0, as: l}\n");
        assert!(e[0].message.contains("positive"), "{}", e[0].message);
    }

    #[test]
    fn security_clients_and_steps() {
        let ok = r#"
appliesTo: {requires: [tokenAuth, "!allowedOrigins"]}
env: {WS_TLS_CERT: "${tls.cert}"}
scenarios:
  - name: x
    clients:
      a: {token: {user: bob, in: query}, tls: true}
      b: {jwt: {sub: null, exp: "-10s", alg: RS256}}
      c: {user: carol, padHeadTo: "${contract.max_request_head_bytes} + 1"}
      d: {slowloris: 200ms, anonymous: true, query: {access_token: "${auth.token.alice}"}}
    steps:
      - expectLog: {json: {event: open, "$partial": true}}
      - logExcludes: [$credentials, "$contains:secret"]
      - logIsJson: true
      - metrics: {as: m0, samples: {'ws_closes_total{code="1000"}': {increase: 1, since: m0}, ws_connections_active: 0}, types: {ws_connections_total: counter}}
      - rotateCertificate: true
      - {client: a, expectCertificate: second}
      - {client: d, expectDropped: 5s}
"#;
        let s = parse_str("t.yaml", "t", ok).unwrap_or_else(|e| panic!("{}", e.render()));
        let sc = &s.scenarios[0];
        assert!(sc.needs_material());
        let Body::Session { clients, steps } = &sc.body else {
            panic!()
        };
        assert!(
            matches!(&clients[0].credential, Some(Credential { kind: CredentialKind::Token(u), in_query: true }) if u == "bob")
        );
        assert_eq!(clients[0].tls, Some(true));
        assert!(
            matches!(&clients[1].credential, Some(Credential { kind: CredentialKind::Jwt(m), .. }) if m["sub"].is_null())
        );
        assert!(
            matches!(&clients[2].credential, Some(Credential { kind: CredentialKind::User(u), .. }) if u == "carol")
        );
        assert_eq!(clients[3].slowloris, Some(Duration::from_millis(200)));
        assert!(clients[3].anonymous);
        assert!(
            matches!(&steps[3].action, Action::Metrics(m) if m.samples.len() == 2 && m.save_as.as_deref() == Some("m0"))
        );
        assert!(matches!(steps[5].action, Action::ExpectCertificate(2)));

        let client = |c: &str| {
            errs(&format!(
                "scenarios:\n  - name: x\n    clients:\n      a: {c}\n    steps:\n      - {{client: a, close: 1000}}\n"
            ))
        };
        let e = client("{token: mallory}");
        assert_eq!(e[0].line, 4);
        assert!(
            e[0].message.contains("has no test token"),
            "{}",
            e[0].message
        );
        let e = client("{jwt: {preset: alg-nope}}");
        assert!(e[0].message.contains("unknown preset"), "{}", e[0].message);
        let e = client("{jwt: {exp: \"60s\"}}");
        assert!(e[0].message.contains("`exp`"), "{}", e[0].message);
        let e = client("{jwt: {alg: XS256}}");
        assert!(
            e[0].message.contains("unknown algorithm"),
            "{}",
            e[0].message
        );
        let e = client("{token: alice, anonymous: true}");
        assert!(e[0].message.contains("anonymous"), "{}", e[0].message);
        let e = client("{slowloris: 1ms}");
        assert!(e[0].message.contains("at least 10ms"), "{}", e[0].message);
        let e = client("{slowlorris: 1s}");
        assert_eq!(e[0].help.as_deref(), Some("did you mean `slowloris`?"));

        let step = |st: &str| {
            errs(&format!(
                "scenarios:\n  - name: x\n    steps:\n      - {st}\n"
            ))
        };
        let e = step("metrics: {samples: {'a{b=c}': 1}}");
        assert_eq!(e[0].line, 4);
        assert!(e[0].message.contains("expected NAME"), "{}", e[0].message);
        let e = step("metrics: {samples: {a: {increase: 1}}}");
        assert!(e[0].message.contains("since"), "{}", e[0].message);
        let e = step("expectCertificate: third");
        assert!(e[0].message.contains("first or second"), "{}", e[0].message);
        let e = step("expectLog: {json: {a: \"$regex:(\"}}");
        assert!(e[0].message.contains("bad regex"), "{}", e[0].message);
        let e = step("sendText: \"${tls.cretificate}\"");
        assert!(
            e[0].message
                .contains("unknown placeholder ${tls.cretificate}"),
            "{}",
            e[0].message
        );
        let e = errs("appliesTo: {requires: [jwtAuht]}\nscenarios: []\n");
        assert_eq!(e[0].help.as_deref(), Some("did you mean `jwtAuth`?"));
    }

    #[test]
    fn durations() {
        assert_eq!(
            duration(&Value::from("500ms")).unwrap(),
            Duration::from_millis(500)
        );
        assert_eq!(
            duration(&Value::from("1.5s")).unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(
            duration(&Value::from(250)).unwrap(),
            Duration::from_millis(250)
        );
        assert!(duration(&Value::from("-1s")).is_err());
    }

    #[test]
    fn cluster_suites_and_their_steps() {
        let ok = "suite: c\ncluster: true\nscenarios:\n  - name: x\n    instances: 3\n    instanceEnv: {2: {WS_REDIS_PREFIX: \"${cluster.prefix}-b\"}}\n    clients: {a: {instance: 2}, b: {}}\n    steps:\n      - killInstance: 1\n      - startInstance: 1\n      - restartInstances: all\n      - stopRedis: {}\n      - startRedis: {}\n      - {httpGet: {instance: 2, path: /healthz}, within: 1s}\n";
        let s = parse_str("c.yaml", "c", ok).unwrap_or_else(|e| panic!("{}", e.render()));
        assert!(s.cluster);
        assert!(
            s.applies
                .requires
                .iter()
                .any(|r| r.property == Property::RedisBackplane && !r.negated)
        );
        let sc = &s.scenarios[0];
        let shape = sc.cluster.as_ref().unwrap();
        assert_eq!(shape.instances, 3);
        assert_eq!(shape.instance_env[0].0, 2);
        let Body::Session { clients, steps } = &sc.body else {
            panic!()
        };
        assert_eq!(clients[0].instance, Some(2));
        assert_eq!(clients[1].instance, None);
        assert!(matches!(steps[0].action, Action::KillInstance(1)));
        assert!(matches!(steps[2].action, Action::RestartInstances));
        assert!(matches!(&steps[5].action, Action::HttpGet(h) if h.instance == Some(2)));
        for (text, want) in [
            (
                "scenarios:\n  - name: x\n    clients: {a: {instance: 1}}\n    steps:\n      - {client: a, connect: true}\n",
                "instances belong to a cluster suite",
            ),
            (
                "scenarios:\n  - name: x\n    steps:\n      - stopRedis: {}\n",
                "belongs to a cluster suite",
            ),
            (
                "cluster: true\nscenarios:\n  - name: x\n    steps:\n      - killInstance: 2\n",
                "0 to 1",
            ),
            (
                "cluster: true\nscenarios:\n  - name: x\n    instances: 9\n    steps:\n      - sleep: 1ms\n",
                "from 1 to 8",
            ),
            (
                "cluster: true\nscenarios:\n  - name: x\n    steps:\n      - restartInstances: some\n",
                "expected all",
            ),
            (
                "cluster: true\nscenarios:\n  - name: x\n    steps:\n      - {httpGet: {instance: 5, path: /}}\n",
                "0 to 1",
            ),
        ] {
            let e = errs(text);
            assert!(
                e.iter().any(|x| x.message.contains(want)),
                "{text}: expected {want:?}, got {:?}",
                e.iter().map(|x| &x.message).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn session_steps_parse() {
        let s = parse_str(
            "t.yaml",
            "t",
            r#"
appliesTo: {types: [session], requires: [session]}
scenarios:
  - name: s
    steps:
      - sendJson: {type: start}
      - expectJson: {type: started, session: "$capture:sid", token: "$capture:tok"}
      - collect: {count: 3, match: {type: event, "$partial": true}, as: l}
      - assert: {consecutive: [l], from: 1, field: data.n}
      - expectFile: {path: "${target.dir}/p", atMost: "${spec.session.replay_limit} + 100", atLeast: 0}
      - expectFile: {path: /tmp/x, text: "$regex:^[0-9]+$"}
      - logExcludes: ["$var:tok"]
      - stopServer: {exitCode: 0}
        within: 10s
      - stopServer: true
"#,
        )
        .unwrap_or_else(|e| panic!("{}", e.render()));
        assert_eq!(s.applies.types, ["session"]);
        assert_eq!(s.applies.requires[0].property, Property::Session);
        let Body::Session { steps, .. } = &s.scenarios[0].body else {
            panic!()
        };
        assert!(matches!(
            &steps[3].action,
            Action::Assert { consecutive, from: Some(f), field: Some(k), .. }
                if consecutive == &["l"] && f == "1" && k == "data.n"
        ));
        let Action::ExpectFile(f) = &steps[4].action else {
            panic!("{:?}", steps[4].action)
        };
        assert_eq!(
            f.at_most.as_deref(),
            Some("${spec.session.replay_limit} + 100")
        );
        assert_eq!(f.at_least.as_deref(), Some("0"));
        assert!(matches!(&steps[5].action, Action::ExpectFile(f) if f.text.is_some()));
        assert!(matches!(
            steps[7].action,
            Action::StopServer { exit_code: 0 }
        ));
        assert!(matches!(
            steps[8].action,
            Action::StopServer { exit_code: 0 }
        ));
    }

    #[test]
    fn session_step_mistakes_are_located() {
        for (text, want) in [
            ("expectFile: {path: /x}", "one kind"),
            ("expectFile: {path: /x, atMost: 3, text: a}", "one kind"),
            ("expectFile: {atMost: 3}", "`path`"),
            (
                "assert: {increasing: l, from: 1}",
                "`from` goes with `consecutive`",
            ),
            ("stopServer: {exitCode: x}", "`exitCode`"),
            ("stopServer: 3", "expected true"),
        ] {
            let doc = format!("scenarios:\n  - name: s\n    steps:\n      - {text}\n");
            let e = errs(&doc);
            assert!(
                e.iter().any(|x| x.message.contains(want)),
                "{text}: expected {want:?}, got {:?}",
                e.iter().map(|x| &x.message).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn the_shipped_suites_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("generated-tests");
        let suites = load_dir(&dir).unwrap_or_else(|e| panic!("{}", e.render()));
        assert!(!suites.is_empty());
    }
}
