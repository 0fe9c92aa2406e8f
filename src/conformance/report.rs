//! Suite results: per-category summary (text), JSON and a self-contained
//! HTML page with per-case detail (like Autobahn's report).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use super::case::Verdict;
use super::runner::CaseResult;

#[derive(Debug, Clone, Serialize)]
pub struct SuiteReport {
    pub url: String,
    pub wsgen_version: String,
    pub jobs: usize,
    pub wall_time_s: f64,
    pub summary: Vec<CategorySummary>,
    pub totals: Counts,
    pub cases: Vec<CaseResult>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub total: usize,
    pub pass: usize,
    pub non_strict: usize,
    pub info: usize,
    pub fail: usize,
}

impl Counts {
    fn add(&mut self, v: Verdict) {
        self.total += 1;
        match v {
            Verdict::Pass => self.pass += 1,
            Verdict::NonStrict => self.non_strict += 1,
            Verdict::Info => self.info += 1,
            Verdict::Fail => self.fail += 1,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CategorySummary {
    pub category: String,
    pub name: String,
    pub counts: Counts,
}

/// Autobahn's category names (and ours for `h`).
pub fn category_name(cat: &str) -> &'static str {
    match cat {
        "h" => "Opening handshake",
        "1" => "Framing",
        "2" => "Pings/Pongs",
        "3" => "Reserved bits",
        "4" => "Opcodes",
        "5" => "Fragmentation",
        "6" => "UTF-8 handling",
        "7" => "Close handling",
        "9" => "Limits/Performance",
        "10" => "Misc",
        "12" => "WebSocket compression (different payloads)",
        "13" => "WebSocket compression (different parameters)",
        _ => "",
    }
}

impl SuiteReport {
    pub fn new(url: &str, cases: Vec<CaseResult>, wall: Duration, jobs: usize) -> Self {
        let mut by_cat: BTreeMap<Vec<u32>, (String, Counts)> = BTreeMap::new();
        let mut totals = Counts::default();
        for c in &cases {
            let cat = c.id.split('.').next().unwrap_or("").to_string();
            by_cat
                .entry(super::id_key(&cat))
                .or_insert_with(|| (cat.clone(), Counts::default()))
                .1
                .add(c.verdict);
            totals.add(c.verdict);
        }
        let summary = by_cat
            .into_values()
            .map(|(category, counts)| CategorySummary {
                name: category_name(&category).into(),
                category,
                counts,
            })
            .collect();
        SuiteReport {
            url: url.into(),
            wsgen_version: env!("CARGO_PKG_VERSION").into(),
            jobs,
            wall_time_s: wall.as_secs_f64(),
            summary,
            totals,
            cases,
        }
    }

    pub fn count(&self, v: Verdict) -> usize {
        self.cases.iter().filter(|c| c.verdict == v).count()
    }

    /// Ids with this verdict.
    pub fn ids(&self, v: Verdict) -> Vec<String> {
        self.cases
            .iter()
            .filter(|c| c.verdict == v)
            .map(|c| c.id.clone())
            .collect()
    }

    /// Summary table plus failure detail, for the terminal.
    pub fn text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<5} {:<46} {:>5} {:>5} {:>10} {:>5} {:>5}",
            "cat", "name", "cases", "PASS", "NON-STRICT", "INFO", "FAIL"
        );
        for c in &self.summary {
            let k = &c.counts;
            let _ = writeln!(
                s,
                "{:<5} {:<46} {:>5} {:>5} {:>10} {:>5} {:>5}",
                c.category, c.name, k.total, k.pass, k.non_strict, k.info, k.fail
            );
        }
        let k = &self.totals;
        let _ = writeln!(
            s,
            "{:<5} {:<46} {:>5} {:>5} {:>10} {:>5} {:>5}",
            "all", "", k.total, k.pass, k.non_strict, k.info, k.fail
        );
        let _ = writeln!(
            s,
            "\n{} cases in {:.1} s ({} jobs) against {}",
            k.total, self.wall_time_s, self.jobs, self.url
        );
        let non_strict: Vec<&CaseResult> = self
            .cases
            .iter()
            .filter(|c| c.verdict == Verdict::NonStrict)
            .collect();
        if !non_strict.is_empty() {
            let _ = writeln!(s, "\nNON-STRICT:");
            for c in non_strict {
                let _ = writeln!(s, "  {:<9} {}", c.id, c.reason);
            }
        }
        let fails: Vec<&CaseResult> = self
            .cases
            .iter()
            .filter(|c| c.verdict == Verdict::Fail)
            .collect();
        if !fails.is_empty() {
            let _ = writeln!(s, "\nFAIL:");
            for c in fails {
                let _ = writeln!(s, "  {:<9} {}", c.id, c.description);
                let _ = writeln!(s, "            why:      {}", c.reason);
                for e in &c.expected {
                    let _ = writeln!(s, "            expected: {e}");
                }
                let _ = writeln!(s, "            observed: [{}]", c.observed.join(", "));
                if c.close.remote_code.is_some() || !c.close.expected_codes.is_empty() {
                    let _ = writeln!(
                        s,
                        "            close:    expected {} by {}; got {} (closed by {}, clean {})",
                        c.close
                            .expected_codes
                            .iter()
                            .map(|x| x.to_string())
                            .collect::<Vec<_>>()
                            .join("/"),
                        if c.close.expected_closed_by_me {
                            "us"
                        } else {
                            "server"
                        },
                        crate::wire::CloseCode(c.close.remote_code),
                        if c.close.closed_by_me { "us" } else { "server" },
                        c.close.was_clean
                    );
                }
            }
        }
        s
    }

    pub fn json(&self) -> String {
        serde_json::to_string_pretty(self).expect("report serialises")
    }

    /// A self-contained HTML page (no external assets).
    pub fn html(&self) -> String {
        let mut h = String::new();
        h.push_str("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>wsgen conformance report</title><style>");
        h.push_str(CSS);
        h.push_str("</style></head><body>");
        let _ = write!(
            h,
            "<h1>wsgen conformance report</h1><p>Server <code>{}</code> &middot; {} cases in {:.1} s ({} jobs) &middot; wsgen {}</p>",
            esc(&self.url),
            self.totals.total,
            self.wall_time_s,
            self.jobs,
            esc(&self.wsgen_version)
        );
        h.push_str("<table class=\"sum\"><tr><th>Category</th><th>Cases</th><th>PASS</th><th>NON-STRICT</th><th>INFO</th><th>FAIL</th></tr>");
        for c in &self.summary {
            let k = &c.counts;
            let _ = write!(
                h,
                "<tr><td><a href=\"#cat-{0}\">{0} {1}</a></td><td>{2}</td><td>{3}</td><td>{4}</td><td>{5}</td><td class=\"{6}\">{7}</td></tr>",
                esc(&c.category),
                esc(&c.name),
                k.total,
                k.pass,
                k.non_strict,
                k.info,
                if k.fail > 0 { "FAIL" } else { "" },
                k.fail
            );
        }
        h.push_str("</table>");
        let mut current = String::new();
        for c in &self.cases {
            let cat = c.id.split('.').next().unwrap_or("");
            if cat != current {
                if !current.is_empty() {
                    h.push_str("</table>");
                }
                current = cat.to_string();
                let _ = write!(
                    h,
                    "<h2 id=\"cat-{0}\">{0} {1}</h2><table class=\"cases\"><tr><th>Case</th><th>Verdict</th><th>Close</th><th>Time</th><th>Description</th></tr>",
                    esc(cat),
                    esc(category_name(cat))
                );
            }
            let _ = write!(
                h,
                "<tr><td><a href=\"#case-{0}\">{0}</a></td><td class=\"{1}\">{1}</td><td>{2}</td><td>{3:.0} ms</td><td>{4}</td></tr>",
                esc(&c.id),
                c.verdict.label(),
                esc(&c.behavior_close),
                c.duration_ms,
                esc(&c.description)
            );
        }
        if !current.is_empty() {
            h.push_str("</table>");
        }
        h.push_str("<h2>Case details</h2>");
        for c in &self.cases {
            let _ = write!(
                h,
                "<details id=\"case-{0}\"{5}><summary><b>{0}</b> <span class=\"{1}\">{1}</span> {2}</summary><dl><dt>Expectation</dt><dd>{3}</dd><dt>Result</dt><dd>{4}</dd>",
                esc(&c.id),
                c.verdict.label(),
                esc(&c.description),
                esc(&c.expectation),
                esc(&c.reason),
                if c.verdict == Verdict::Fail {
                    " open"
                } else {
                    ""
                }
            );
            let _ = write!(
                h,
                "<dt>Behaviour</dt><dd>{} / close: {}</dd>",
                esc(&c.behavior),
                esc(&c.behavior_close)
            );
            if !c.expected.is_empty() {
                let _ = write!(
                    h,
                    "<dt>Expected</dt><dd>{}</dd>",
                    c.expected
                        .iter()
                        .map(|e| esc(e))
                        .collect::<Vec<_>>()
                        .join("<br>")
                );
            }
            let _ = write!(
                h,
                "<dt>Observed</dt><dd>[{}]</dd>",
                esc(&c.observed.join(", "))
            );
            let cl = &c.close;
            let _ = write!(
                h,
                "<dt>Close</dt><dd>expected by {} with {}; closed by {}, clean: {}, dropped by us: {}, server code: {}, reason: {}</dd>",
                if cl.expected_closed_by_me {
                    "us"
                } else {
                    "server"
                },
                esc(&cl
                    .expected_codes
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>()
                    .join("/")),
                if cl.closed_by_me { "us" } else { "server" },
                cl.was_clean,
                cl.dropped_by_me,
                cl.remote_code
                    .map(|x| x.to_string())
                    .unwrap_or_else(|| "none".into()),
                esc(cl.remote_reason.as_deref().unwrap_or(""))
            );
            if let Some(st) = &c.stats {
                let _ = write!(
                    h,
                    "<dt>Stats</dt><dd>{}</dd>",
                    esc(&serde_json::to_string(st).unwrap_or_default())
                );
            }
            let _ = write!(h, "<dt>Duration</dt><dd>{:.1} ms</dd>", c.duration_ms);
            if !c.wirelog.is_empty() {
                let _ = write!(
                    h,
                    "<dt>Wire log</dt><dd><pre>{}</pre></dd>",
                    esc(&c.wirelog.join("\n"))
                );
            }
            h.push_str("</dl></details>");
        }
        h.push_str("</body></html>\n");
        h
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}\
td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left;font-size:.9em}th{background:#f0f0f0}\
.PASS{background:#cfc}.NON-STRICT{background:#ffc}.INFO{background:#cdf}.FAIL{background:#f99;font-weight:bold}\
details{border-bottom:1px solid #ddd;padding:.3em 0}dt{font-weight:bold;margin-top:.4em}dd{margin-left:1.5em}\
pre{background:#f7f7f7;padding:.5em;overflow-x:auto;font-size:.85em}code{background:#f0f0f0;padding:0 .3em}";
