//! What the operator sees: the server's log (`expectLog`, `logExcludes`,
//! `logIsJson`) and `GET /metrics` parsed as Prometheus text with the
//! `prometheus-parse` crate (`metrics`).

use super::model::{LogPattern, MetricCond, MetricsCheck};
use super::pattern::{Ctx, Pattern, StrPattern, Vars, preview};
use serde_json::Value;
use std::time::Duration;

/// The JSON log's events (docs/protocol/server-security.md, "Logs").
pub const LOG_EVENTS: &[&str] = &[
    "listening",
    "open",
    "close",
    "dropped",
    "rejected",
    "reload",
    "shutdown",
    "stopped",
    "error",
    // The MCP bridge (type: mcp).
    "child_start_failed",
    "child_line_dropped",
    "child_stderr",
    "child_exit",
];

/// Wait until a line written since `from` matches.
pub fn find_line(
    text: &str,
    from: usize,
    p: &LogPattern,
    ctx: &Ctx,
    vars: &mut Vars,
) -> Result<bool, String> {
    let tail = text.get(from..).unwrap_or(text);
    match p {
        LogPattern::Line(s) => {
            let p = StrPattern::compile(s, ctx)?;
            Ok(tail.lines().any(|l| p.matches(l)))
        }
        LogPattern::Json(j) => {
            let p = Pattern::compile(j, ctx)?;
            Ok(tail.lines().any(|l| {
                serde_json::from_str::<Value>(l)
                    .ok()
                    .is_some_and(|v| p.matches(&v, vars).is_ok())
            }))
        }
    }
}

pub fn describe(p: &LogPattern, ctx: &Ctx) -> String {
    match p {
        LogPattern::Line(s) => StrPattern::compile(s, ctx)
            .map(|p| format!("a line {}", p.describe()))
            .unwrap_or_else(|e| e),
        LogPattern::Json(j) => format!("a JSON line matching {j}"),
    }
}

/// Lines matching any of `patterns` (literal secrets or string patterns).
pub fn offending_lines(text: &str, secrets: &[String], patterns: &[StrPattern]) -> Vec<String> {
    text.lines()
        .filter(|l| {
            secrets
                .iter()
                .any(|s| !s.is_empty() && l.contains(s.as_str()))
                || patterns.iter().any(|p| p.matches(l))
        })
        .map(|l| preview(l).to_string())
        .collect()
}

/// Every non-empty line is a JSON object whose first keys are `ts` (RFC
/// 3339 UTC with milliseconds), `level` (info, warn, error) and `event` (a
/// known event).
pub fn check_json_log(text: &str) -> Result<usize, String> {
    let ts = super::regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        .map_err(|e| e.to_string())?;
    let mut n = 0;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        n += 1;
        let bad = |why: String| format!("log line {}: {why}\n  {}", i + 1, preview(line));
        // serde_json keeps key order (preserve_order) only with a feature:
        // check the order on the text itself.
        let v: Value = serde_json::from_str(line).map_err(|e| bad(format!("not JSON ({e})")))?;
        let o = v
            .as_object()
            .ok_or_else(|| bad("not a JSON object".into()))?;
        let order = ["\"ts\"", "\"level\"", "\"event\""];
        let pos: Vec<Option<usize>> = order.iter().map(|k| line.find(k)).collect();
        if pos.iter().any(Option::is_none) || !pos.windows(2).all(|w| w[0] < w[1]) {
            return Err(bad(
                "expected the keys ts, level, event first, in that order".into(),
            ));
        }
        match o.get("ts").and_then(Value::as_str) {
            Some(t) if ts.is_match(t) => {}
            other => {
                return Err(bad(format!(
                    "ts {other:?} is not RFC 3339 UTC with milliseconds (2026-12-07T10:00:00.123Z)"
                )));
            }
        }
        match o.get("level").and_then(Value::as_str) {
            Some("info" | "warn" | "error") => {}
            other => {
                return Err(bad(format!(
                    "level {other:?}: expected info, warn or error"
                )));
            }
        }
        let event = match o.get("event").and_then(Value::as_str) {
            Some(e) if LOG_EVENTS.contains(&e) => e,
            other => {
                return Err(bad(format!(
                    "event {other:?}: expected one of {}",
                    LOG_EVENTS.join(", ")
                )));
            }
        };
        for (field, kind) in event_fields(event) {
            let v = o.get(*field);
            let ok = match (*kind, v) {
                ("number", Some(v)) => v.is_number(),
                ("string", Some(v)) => v.is_string(),
                ("string|null", Some(v)) => v.is_string() || v.is_null(),
                ("number|null", Some(v)) => v.is_number() || v.is_null(),
                _ => false,
            };
            if !ok {
                return Err(bad(format!(
                    "a {event} line has `{field}` ({kind}), got {}",
                    v.map_or("nothing".to_string(), Value::to_string)
                )));
            }
        }
        if event == "child_exit"
            && o.get("code").is_some_and(Value::is_number) == o.get("signal").is_some_and(Value::is_number)
        {
            return Err(bad(
                "a child_exit line has a number `code` or a number `signal` (one of them)".into(),
            ));
        }
        if o.get("status").is_some_and(|s| !s.is_number()) {
            return Err(bad("`status` is a number".into()));
        }
    }
    if n == 0 {
        return Err("the server log is empty".into());
    }
    Ok(n)
}

/// The fields every line of an event has (docs: the lead's design, "Logs";
/// `user`, `page` and a rejected line's `status` are optional).
fn event_fields(event: &str) -> &'static [(&'static str, &'static str)] {
    match event {
        "listening" => &[("url", "string")],
        "open" => &[
            ("conn", "number"),
            ("peer", "string"),
            ("subprotocol", "string|null"),
            ("compression", "string"),
        ],
        "close" => &[("conn", "number"), ("code", "number|null")],
        "dropped" => &[("conn", "number"), ("reason", "string")],
        "rejected" => &[("peer", "string"), ("reason", "string")],
        "shutdown" => &[("connections", "number")],
        "error" => &[("message", "string")],
        "child_start_failed" => &[("conn", "number"), ("error", "string")],
        "child_line_dropped" => &[("conn", "number"), ("reason", "string")],
        "child_stderr" => &[("conn", "number"), ("line", "string")],
        "child_exit" => &[("conn", "number")],
        _ => &[],
    }
}

// ---- metrics --------------------------------------------------------------

/// One parsed sample: name, labels (sorted), value, declared type.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
    pub kind: &'static str,
}

/// Prometheus text exposition, parsed by `prometheus-parse`.
pub fn parse_metrics(text: &str) -> Result<Vec<Sample>, String> {
    let scrape = prometheus_parse::Scrape::parse(text.lines().map(|l| Ok(l.to_string())))
        .map_err(|e| format!("/metrics is not Prometheus text: {e}"))?;
    if scrape.samples.is_empty() && !text.trim().is_empty() {
        return Err(format!(
            "/metrics parsed to no sample: {:?}",
            preview(text.trim())
        ));
    }
    let mut out = Vec::new();
    for s in scrape.samples {
        let (value, kind) = match s.value {
            prometheus_parse::Value::Counter(v) => (v, "counter"),
            prometheus_parse::Value::Gauge(v) => (v, "gauge"),
            prometheus_parse::Value::Untyped(v) => (v, "untyped"),
            prometheus_parse::Value::Histogram(_) => (f64::NAN, "histogram"),
            prometheus_parse::Value::Summary(_) => (f64::NAN, "summary"),
        };
        let mut labels: Vec<(String, String)> = s
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels.sort();
        out.push(Sample {
            name: s.metric,
            labels,
            value,
            kind,
        });
    }
    Ok(out)
}

/// `name` or `name{label="value",...}`.
pub fn parse_selector(sel: &str) -> Result<(String, Vec<(String, String)>), String> {
    let bad = || format!("{sel:?}: expected NAME or NAME{{label=\"value\",...}}");
    let (name, rest) = match sel.find('{') {
        Some(i) => (&sel[..i], Some(&sel[i + 1..])),
        None => (sel, None),
    };
    let name = name.trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    {
        return Err(bad());
    }
    let mut labels = Vec::new();
    if let Some(rest) = rest {
        let inner = rest.strip_suffix('}').ok_or_else(bad)?;
        for kv in inner.split(',').filter(|s| !s.trim().is_empty()) {
            let (k, v) = kv.split_once('=').ok_or_else(bad)?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .ok_or_else(bad)?;
            labels.push((k.trim().to_string(), v.to_string()));
        }
    }
    Ok((name.to_string(), labels))
}

/// The summed value of the samples a selector names (`None`: no such sample).
pub fn select(samples: &[Sample], sel: &str) -> Result<Option<f64>, String> {
    let (name, labels) = parse_selector(sel)?;
    let hits: Vec<&Sample> = samples
        .iter()
        .filter(|s| s.name == name && labels.iter().all(|l| s.labels.contains(l)))
        .collect();
    Ok(if hits.is_empty() {
        None
    } else {
        Some(hits.iter().map(|s| s.value).sum())
    })
}

fn snapshot_key(name: &str) -> String {
    format!("$metrics:{name}")
}

/// Check the conditions against `samples` (snapshots from `vars`).
pub fn check_metrics(m: &MetricsCheck, samples: &[Sample], vars: &Vars) -> Result<(), String> {
    for (name, kind) in &m.types {
        let got: Vec<&str> = samples
            .iter()
            .filter(|s| s.name == *name)
            .map(|s| s.kind)
            .collect();
        match got.first() {
            None => return Err(format!("no {name} sample in /metrics")),
            Some(k) if k != kind => {
                return Err(format!("{name} is declared {k}, expected {kind}"));
            }
            _ => {}
        }
    }
    for (sel, cond) in &m.samples {
        let got = select(samples, sel)?;
        let fail = |want: String| {
            Err(format!(
                "{sel}: expected {want}, got {}",
                got.map_or("no sample".to_string(), |v| v.to_string())
            ))
        };
        match (cond, got) {
            (MetricCond::Absent, None) | (MetricCond::Present, Some(_)) => {}
            (MetricCond::Absent, Some(_)) => return fail("no sample".into()),
            (MetricCond::Present, None) => return fail("a sample".into()),
            (MetricCond::Equals(w), Some(v)) if v == *w => {}
            (MetricCond::Equals(w), _) => return fail(w.to_string()),
            (MetricCond::AtLeast(w), Some(v)) if v >= *w => {}
            (MetricCond::AtLeast(w), _) => return fail(format!("at least {w}")),
            (MetricCond::AtMost(w), Some(v)) if v <= *w => {}
            (MetricCond::AtMost(w), _) => return fail(format!("at most {w}")),
            (
                MetricCond::Increase {
                    by,
                    since,
                    at_least,
                },
                got,
            ) => {
                let snap = vars.get(&snapshot_key(since)).ok_or_else(|| {
                    format!("{sel}: no metrics snapshot {since:?} (save one with `as`)")
                })?;
                let before: Vec<Sample> = from_json(snap);
                let b = select(&before, sel)?.unwrap_or(0.0);
                let v = got.unwrap_or(0.0);
                let ok = if *at_least {
                    v - b >= *by
                } else {
                    v - b == *by
                };
                if !ok {
                    return Err(format!(
                        "{sel}: expected an increase of {}{by} since {since:?}, got {b} -> {v}",
                        if *at_least { "at least " } else { "" }
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Save a snapshot under `name` in `vars`.
pub fn save(vars: &mut Vars, name: &str, samples: &[Sample]) {
    let list: Vec<Value> = samples
        .iter()
        .map(|s| {
            serde_json::json!({
                "name": s.name,
                "labels": s.labels.iter().map(|(k, v)| vec![k.clone(), v.clone()]).collect::<Vec<_>>(),
                "value": if s.value.is_finite() { Value::from(s.value) } else { Value::Null },
                "kind": s.kind,
            })
        })
        .collect();
    vars.insert(snapshot_key(name), Value::Array(list));
}

fn from_json(v: &Value) -> Vec<Sample> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|x| Sample {
                    name: x["name"].as_str().unwrap_or_default().to_string(),
                    labels: x["labels"]
                        .as_array()
                        .map(|l| {
                            l.iter()
                                .map(|p| {
                                    (
                                        p[0].as_str().unwrap_or_default().to_string(),
                                        p[1].as_str().unwrap_or_default().to_string(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default(),
                    value: x["value"].as_f64().unwrap_or(f64::NAN),
                    kind: "untyped",
                })
                .collect()
        })
        .unwrap_or_default()
}

/// How often `metrics` and `expectLog` look again while waiting.
pub const POLL: Duration = Duration::from_millis(100);

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# HELP ws_connections_total Connections opened.\n# TYPE ws_connections_total counter\nws_connections_total 3.0\n# HELP ws_connections_active Open connections.\n# TYPE ws_connections_active gauge\nws_connections_active 1\n# TYPE ws_handshake_rejections_total counter\nws_handshake_rejections_total{reason=\"origin\"} 2\nws_handshake_rejections_total{reason=\"auth\"} 5\n";

    #[test]
    fn metrics_parse_select_and_check() {
        let s = parse_metrics(TEXT).unwrap();
        assert_eq!(select(&s, "ws_connections_total").unwrap(), Some(3.0));
        assert_eq!(
            select(&s, "ws_handshake_rejections_total{reason=\"origin\"}").unwrap(),
            Some(2.0)
        );
        assert_eq!(
            select(&s, "ws_handshake_rejections_total").unwrap(),
            Some(7.0)
        );
        assert_eq!(
            select(&s, "ws_handshake_rejections_total{reason=\"limit\"}").unwrap(),
            None
        );
        assert!(parse_selector("a{b=c}").is_err());
        let mut vars = Vars::new();
        save(&mut vars, "before", &s);
        let after =
            parse_metrics(&TEXT.replace("ws_connections_total 3.0", "ws_connections_total 5"))
                .unwrap();
        let check = MetricsCheck {
            save_as: None,
            samples: vec![
                (
                    "ws_connections_total".into(),
                    MetricCond::Increase {
                        by: 2.0,
                        since: "before".into(),
                        at_least: false,
                    },
                ),
                ("ws_connections_active".into(), MetricCond::AtMost(1.0)),
                (
                    "ws_handshake_rejections_total{reason=\"origin\"}".into(),
                    MetricCond::Present,
                ),
                ("ws_rate_limited_total".into(), MetricCond::Absent),
            ],
            types: vec![
                ("ws_connections_total".into(), "counter".into()),
                ("ws_connections_active".into(), "gauge".into()),
            ],
        };
        check_metrics(&check, &after, &vars).unwrap();
        let wrong = MetricsCheck {
            samples: vec![(
                "ws_connections_total".into(),
                MetricCond::Increase {
                    by: 1.0,
                    since: "before".into(),
                    at_least: false,
                },
            )],
            ..Default::default()
        };
        let e = check_metrics(&wrong, &after, &vars).unwrap_err();
        assert!(e.contains("got 3 -> 5"), "{e}");
        let typed = MetricsCheck {
            types: vec![("ws_connections_active".into(), "counter".into())],
            ..Default::default()
        };
        assert!(
            check_metrics(&typed, &after, &vars)
                .unwrap_err()
                .contains("declared gauge")
        );
    }

    #[test]
    fn json_logs_are_checked() {
        let good = "{\"ts\":\"2026-12-07T10:00:00.123Z\",\"level\":\"info\",\"event\":\"listening\",\"url\":\"ws://127.0.0.1:1/ws\"}\n{\"ts\":\"2026-12-07T10:00:01.000Z\",\"level\":\"warn\",\"event\":\"rejected\",\"peer\":\"127.0.0.1:5\",\"status\":403,\"reason\":\"origin\"}\n";
        assert_eq!(check_json_log(good).unwrap(), 2);
        let e = check_json_log("listening on ws://x\n").unwrap_err();
        assert!(e.contains("not JSON"), "{e}");
        let e = check_json_log(
            "{\"level\":\"info\",\"ts\":\"2026-12-07T10:00:00.123Z\",\"event\":\"open\"}",
        )
        .unwrap_err();
        assert!(e.contains("in that order"), "{e}");
        let e = check_json_log(
            "{\"ts\":\"2026-12-07 10:00:00\",\"level\":\"info\",\"event\":\"open\"}",
        )
        .unwrap_err();
        assert!(e.contains("RFC 3339"), "{e}");
        let e = check_json_log(
            "{\"ts\":\"2026-12-07T10:00:00.123Z\",\"level\":\"debug\",\"event\":\"open\"}",
        )
        .unwrap_err();
        assert!(e.contains("level"), "{e}");
    }

    #[test]
    fn json_log_events_have_their_fields() {
        let line = |rest: &str| {
            format!("{{\"ts\":\"2026-12-07T10:00:00.123Z\",\"level\":\"info\",{rest}}}")
        };
        let e = check_json_log(&line("\"event\":\"open\",\"conn\":\"1\"")).unwrap_err();
        assert!(e.contains("`conn` (number)"), "{e}");
        let ok = line("\"event\":\"close\",\"conn\":1,\"code\":null");
        assert_eq!(check_json_log(&ok).unwrap(), 1);
        let e = check_json_log(&line(
            "\"event\":\"rejected\",\"peer\":\"p\",\"reason\":\"auth\",\"status\":\"401\"",
        ))
        .unwrap_err();
        assert!(e.contains("status"), "{e}");
    }

    #[test]
    fn log_lines_and_secrets() {
        let ctx = Ctx::default();
        let mut vars = Vars::new();
        let log = "listening on ws://x\nconn 1 open 127.0.0.1:5 compression=off user=alice\n";
        assert!(
            find_line(
                log,
                0,
                &LogPattern::Line("$contains:user=alice".into()),
                &ctx,
                &mut vars
            )
            .unwrap()
        );
        assert!(
            !find_line(
                log,
                40,
                &LogPattern::Line("$contains:listening".into()),
                &ctx,
                &mut vars
            )
            .unwrap()
        );
        let off = offending_lines(log, &["alice".into()], &[]);
        assert_eq!(off.len(), 1);
        assert!(offending_lines(log, &["tok-secret".into()], &[]).is_empty());
    }
}
