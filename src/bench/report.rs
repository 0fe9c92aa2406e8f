//! `wsgen bench --report FILE.html`: a self-contained page a person reads.
//! Inline CSS and inline SVG drawn by [`super::plot`]; no script, no
//! external resource (a Content-Security-Policy of `default-src 'none'`
//! makes sure), so the file shows everything offline.
//!
//! - one run (`--url`, open or closed loop): settings, results, the latency
//!   percentile distribution and throughput over time;
//! - chat fan-out (`--url ... --chat`): the same for deliveries;
//! - the comparison (`--spec FILE --language all`): the suite's table with
//!   its ratios, every server's latency curve overlaid on one plot and every
//!   server's throughput over time.

use std::fmt::Write as _;

use super::chat::ChatReport;
use super::load::LoadReport;
use super::plot::{Plot, Series, XKind, YKind};
use super::stats::{CurvePoint, Latency, fmt_int, fmt_us};
use super::suite::SuiteReport;
use super::timeline::Throughput;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}\
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #ddd}\
table{border-collapse:collapse;margin:.8em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;font-size:.9em;vertical-align:top}\
th{background:#f0f0f0}table.kv th{width:12em}td.num,th.num{text-align:right}\
.ok{background:#cfc}.miss{background:#f99;font-weight:bold}.warn{background:#ffc;padding:.3em .6em;margin:.3em 0}\
code{background:#f0f0f0;padding:0 .3em}.muted{color:#666;font-size:.9em}\
.plots{display:flex;flex-wrap:wrap;gap:1em}svg.plot{max-width:100%;height:auto;border:1px solid #eee;background:#fff}\
svg .area{fill:#fafafa;stroke:#999}svg .grid{stroke:#e3e3e3}svg .tick{font-size:11px;fill:#444;stroke:none}\
svg .axis{font-size:12px;fill:#222}svg .ptitle{font-size:14px;font-weight:bold;fill:#222}\
svg .marker{stroke:#888;stroke-dasharray:4 4}svg .nodata{font-size:16px;fill:#999}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{}</title><style>{CSS}</style></head><body>{body}\
<p class=\"muted\">Generated {} by wsgen {}. Self-contained: no script, no external resource.</p></body></html>\n",
        esc(title),
        esc(&utc_now()),
        esc(env!("CARGO_PKG_VERSION"))
    )
}

/// A two-column table (`key`, `value`); values are escaped here.
fn kv(rows: &[(&str, String)]) -> String {
    let mut h = String::from("<table class=\"kv\">");
    for (k, v) in rows {
        let _ = write!(h, "<tr><th>{}</th><td>{}</td></tr>", esc(k), esc(v));
    }
    h.push_str("</table>");
    h
}

fn notes(warnings: &[String], errors: &[String]) -> String {
    let mut h = String::new();
    for e in errors {
        let _ = write!(h, "<p class=\"warn\">error: {}</p>", esc(e));
    }
    for w in warnings {
        let _ = write!(h, "<p class=\"warn\">warning: {}</p>", esc(w));
    }
    h
}

fn cpu(c: Option<f64>) -> String {
    c.map(|c| format!("{:.0}%", c * 100.0))
        .unwrap_or_else(|| "unknown".into())
}

fn percentile_rows(l: &Latency) -> Vec<(&'static str, String)> {
    vec![
        ("samples", fmt_int(l.count)),
        ("p50", fmt_us(l.p50_us)),
        ("p90", fmt_us(l.p90_us)),
        ("p99", fmt_us(l.p99_us)),
        ("p99.9", fmt_us(l.p999_us)),
        ("max", fmt_us(l.max_us)),
        ("mean", fmt_us(l.mean_us)),
    ]
}

/// The latency percentile plot of some curves.
pub fn latency_plot(title: &str, curves: &[(String, &[CurvePoint])]) -> Plot {
    Plot {
        title: title.into(),
        x: XKind::Percentile,
        y: YKind::Latency,
        series: curves
            .iter()
            .map(|(name, c)| Series {
                name: name.clone(),
                points: c.iter().map(|p| (p.percentile, p.latency_us)).collect(),
            })
            .collect(),
        marker: None,
    }
}

/// The throughput-over-time plot of some runs, with the window's end marked.
pub fn throughput_plot(title: &str, runs: &[(String, &Throughput)]) -> Plot {
    let window = runs.iter().map(|r| r.1.window_s).fold(0.0, f64::max);
    Plot {
        title: title.into(),
        x: XKind::Seconds,
        y: YKind::Rate,
        series: runs
            .iter()
            .map(|(name, t)| Series {
                name: name.clone(),
                points: t.plot_points(),
            })
            .collect(),
        marker: (window > 0.0).then(|| (window, "window end".to_string())),
    }
}

fn plots(ps: &[Plot]) -> String {
    let mut h = String::from("<div class=\"plots\">");
    for p in ps {
        h.push_str(&p.svg());
    }
    h.push_str("</div>");
    h
}

const CURVE_NOTE: &str = "<p class=\"muted\">Latency percentile distribution: x is the percentile on a log scale of 1/(1&minus;p) (0, 90, 99, 99.9 % ...), up to what the sample count resolves; the last point is the maximum. Throughput: measured messages received per interval (receive time), from the opening of the measurement window; intervals after its end (late echoes of messages sent inside it) are drawn only when they hold more than 1 % of the messages (a backlog), and are always in the JSON report.</p>";

/// The page of one echo run (`wsgen bench --url`).
pub fn load_html(r: &LoadReport) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>wsgen bench</h1><p>Server <code>{}</code> &middot; {} loop</p>",
        esc(&r.url),
        esc(r.mode)
    );
    let target = if r.mode == "open" {
        format!(
            "{} msg/s ({} connections x {} msg/s), latency from the intended send time",
            fmt_int(r.target_rate as u64),
            r.connections,
            r.rate_per_connection
        )
    } else {
        "closed loop: send, await the echo, repeat".into()
    };
    b.push_str("<h2>Settings</h2>");
    b.push_str(&kv(&[
        ("URL", r.url.clone()),
        ("mode", r.mode.to_string()),
        ("connections", r.connections.to_string()),
        ("rate", target),
        ("duration", format!("{:.1} s", r.duration_s)),
        (
            "message size",
            format!(
                "{} octets, {}",
                r.size,
                if r.binary { "binary" } else { "text" }
            ),
        ),
        ("wsgen threads", r.client_threads.to_string()),
    ]));
    b.push_str("<h2>Results</h2>");
    b.push_str(&kv(&[
        (
            "connections",
            format!("{} open, {} failed", r.connected, r.connection_failures),
        ),
        ("sent", fmt_int(r.sent)),
        ("received", fmt_int(r.received)),
        (
            "achieved rate",
            format!("{} msg/s", fmt_int(r.achieved_rate as u64)),
        ),
        ("errors", r.errors.to_string()),
        ("mismatches", r.mismatches.to_string()),
        ("unanswered", r.unanswered.to_string()),
        (
            "client CPU",
            format!(
                "{:.0}% of {} thread(s); {} msg/CPU-s",
                r.client_cpu_cores * 100.0,
                r.client_threads,
                fmt_int(r.msgs_per_cpu_sec() as u64)
            ),
        ),
        (
            "server CPU",
            match (r.server_cpu_cores, r.server_pid) {
                (Some(c), Some(p)) => format!("{:.0}% (pid {p})", c * 100.0),
                (c, _) => cpu(c),
            },
        ),
        ("machine busy", cpu(r.machine_busy)),
    ]));
    b.push_str(&notes(&r.warnings, &r.error_samples));
    b.push_str("<h2>Latency</h2>");
    b.push_str(&kv(&percentile_rows(&r.latency)));
    b.push_str(&plots(&[
        latency_plot(
            "Latency by percentile",
            &[(r.url.clone(), &r.latency_curve[..])],
        ),
        throughput_plot(
            "Echoes per second over time",
            &[(r.url.clone(), &r.throughput)],
        ),
    ]));
    b.push_str(CURVE_NOTE);
    page(&format!("wsgen bench {}", r.url), &b)
}

/// The page of a chat fan-out run (`wsgen bench --url ... --chat`).
pub fn chat_html(r: &ChatReport) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>wsgen bench --chat</h1><p>Server <code>{}</code> &middot; room <code>{}</code></p>",
        esc(&r.url),
        esc(&r.room)
    );
    b.push_str("<h2>Settings</h2>");
    b.push_str(&kv(&[
        ("URL", r.url.clone()),
        ("mode", "chat fan-out (open loop per sender)".into()),
        ("room", r.room.clone()),
        ("members (connections)", r.members.to_string()),
        (
            "rate",
            format!(
                "{} senders x {} msg/s, every member receives every message",
                r.senders, r.rate_per_sender
            ),
        ),
        ("duration", format!("{:.1} s", r.duration_s)),
    ]));
    b.push_str("<h2>Results</h2>");
    b.push_str(&kv(&[
        (
            "members",
            format!("{} joined, {} failed", r.joined, r.join_failures),
        ),
        ("sent", fmt_int(r.sent)),
        (
            "received (deliveries)",
            format!(
                "{} of {} expected",
                fmt_int(r.deliveries),
                fmt_int(r.expected_deliveries)
            ),
        ),
        (
            "achieved rate",
            format!("{} deliveries/s", fmt_int(r.deliveries_per_sec as u64)),
        ),
        ("errors", r.errors.to_string()),
        ("mismatches", r.mismatches.to_string()),
        ("unanswered (lost)", r.lost.to_string()),
        ("server error replies", r.server_error_replies.to_string()),
        ("client CPU", format!("{:.0}%", r.client_cpu_cores * 100.0)),
        ("server CPU", cpu(r.server_cpu_cores)),
        ("machine busy", cpu(r.machine_busy)),
        (
            "server memory per member (peak under load)",
            match (r.rss_per_member_bytes, r.server_rss_peak_kib) {
                (Some(per), Some(peak)) => format!(
                    "{:.1} KB (RSS {:.1} MB peak)",
                    per / 1024.0,
                    peak as f64 / 1024.0
                ),
                _ => "unknown".into(),
            },
        ),
    ]));
    b.push_str(&notes(&r.warnings, &r.error_samples));
    b.push_str("<h2>Delivery latency</h2>");
    b.push_str(&kv(&percentile_rows(&r.latency)));
    b.push_str(&plots(&[
        latency_plot(
            "Delivery latency by percentile",
            &[(r.url.clone(), &r.latency_curve[..])],
        ),
        throughput_plot(
            "Deliveries per second over time",
            &[(r.url.clone(), &r.throughput)],
        ),
    ]));
    b.push_str(CURVE_NOTE);
    page(&format!("wsgen bench --chat {}", r.url), &b)
}

/// A table parsed from Markdown: header, right alignment per column, rows.
pub type Table = (Vec<String>, Vec<bool>, Vec<Vec<String>>);

/// A Markdown table (as `SuiteReport::render` prints it). The last column
/// takes the rest of a line, so an error message holding ` | ` stays whole.
pub fn markdown_table(md: &str) -> Option<Table> {
    let mut lines = md.lines().filter(|l| l.starts_with('|'));
    let cells = |l: &str, n: usize| -> Vec<String> {
        let inner = l.trim_start_matches('|').trim_end();
        let inner = inner.strip_suffix('|').unwrap_or(inner);
        let parts: Vec<String> = if n == 0 {
            inner.split('|').map(|c| c.trim().to_string()).collect()
        } else {
            inner
                .splitn(n, " | ")
                .map(|c| c.trim().to_string())
                .collect()
        };
        parts
    };
    let header = cells(lines.next()?, 0);
    let n = header.len();
    let mut right = vec![false; n];
    let mut rows = Vec::new();
    for l in lines {
        if l.starts_with("|-") || l.starts_with("| -") || l.starts_with("|:") {
            right = cells(l, 0).iter().map(|c| c.ends_with(':')).collect();
            right.resize(n, false);
            continue;
        }
        let mut r = cells(l, n);
        r.resize(n, String::new());
        rows.push(r);
    }
    Some((header, right, rows))
}

/// A table cell's class: the suite's verdicts (`... ok`, `MISS`, `error`).
fn verdict_class(cell: &str) -> &'static str {
    if cell.contains("MISS") || cell.starts_with("error") || cell.contains("; error") {
        "miss"
    } else if cell.ends_with(" ok") || cell == "all echoes verified" {
        "ok"
    } else {
        ""
    }
}

fn html_table(header: &[String], right: &[bool], rows: &[Vec<String>]) -> String {
    let class = |i: usize, extra: &str| {
        let num = right.get(i).copied().unwrap_or(false);
        match (num, extra) {
            (false, "") => String::new(),
            (true, "") => " class=\"num\"".into(),
            (false, e) => format!(" class=\"{e}\""),
            (true, e) => format!(" class=\"num {e}\""),
        }
    };
    let mut h = String::from("<table class=\"cmp\"><tr>");
    for (i, c) in header.iter().enumerate() {
        let _ = write!(h, "<th{}>{}</th>", class(i, ""), esc(c));
    }
    h.push_str("</tr>");
    for r in rows {
        h.push_str("<tr>");
        for (i, c) in r.iter().enumerate() {
            let _ = write!(h, "<td{}>{}</td>", class(i, verdict_class(c)), esc(c));
        }
        h.push_str("</tr>");
    }
    h.push_str("</table>");
    h
}

/// One server's runs in the comparison (the suite's median rounds).
#[derive(Debug, Clone, Copy)]
pub struct ServerRuns<'a> {
    pub name: &'a str,
    pub open: Option<&'a LoadReport>,
    pub closed: Option<&'a LoadReport>,
    pub chat: Option<&'a ChatReport>,
}

/// The comparison page (`wsgen bench --spec FILE --language all`).
pub fn suite_html(r: &SuiteReport) -> String {
    let servers: Vec<ServerRuns> = r
        .rows
        .iter()
        .map(|row| ServerRuns {
            name: &row.target.name,
            open: row.open.as_ref(),
            closed: row.closed.as_ref(),
            chat: row.chat.as_ref(),
        })
        .collect();
    comparison_page(
        &[
            ("machine", r.machine.clone()),
            ("date", r.date.clone()),
            (
                "load average before / after",
                format!("{} / {}", r.load_before, r.load_after),
            ),
            ("settings", r.settings.clone()),
        ],
        &r.render(),
        &servers,
    )
}

/// The comparison page from its parts: `meta` rows, the suite's Markdown
/// table and each server's runs.
pub fn comparison_page(meta: &[(&str, String)], table: &str, servers: &[ServerRuns]) -> String {
    let mut b = String::from("<h1>wsgen bench: generated servers vs baselines</h1>");
    b.push_str(&kv(meta));
    b.push_str("<h2>Comparison</h2>");
    if let Some((header, right, rows)) = markdown_table(table) {
        b.push_str(&html_table(&header, &right, &rows));
    }
    let chat: Vec<(String, &ChatReport)> = servers
        .iter()
        .filter_map(|s| s.chat.map(|c| (s.name.to_string(), c)))
        .collect();
    let mut ps = Vec::new();
    if !chat.is_empty() {
        let curves: Vec<(String, &[CurvePoint])> = chat
            .iter()
            .map(|(n, c)| (n.clone(), &c.latency_curve[..]))
            .collect();
        let tps: Vec<(String, &Throughput)> = chat
            .iter()
            .map(|(n, c)| (n.clone(), &c.throughput))
            .collect();
        ps.push(latency_plot("Chat delivery latency by percentile", &curves));
        ps.push(throughput_plot(
            "Chat deliveries per second over time",
            &tps,
        ));
    } else {
        b.push_str("<p class=\"muted\">Each generated server is compared with the baseline on the same library (else the first of its language): closed-loop throughput as a percentage of the baseline's (ok at 95 % or more), open-loop p99 as a difference (ok up to +10 %); figures are medians of alternating rounds.</p>");
        for (open, title_l, title_t) in [
            (
                true,
                "Open loop: latency by percentile (median round)",
                "Open loop: echoes per second over time",
            ),
            (
                false,
                "Closed loop: latency by percentile (median round)",
                "Closed loop: echoes per second over time",
            ),
        ] {
            let runs: Vec<(String, &LoadReport)> = servers
                .iter()
                .filter_map(|s| {
                    if open { s.open } else { s.closed }.map(|l| (s.name.to_string(), l))
                })
                .collect();
            let curves: Vec<(String, &[CurvePoint])> = runs
                .iter()
                .map(|(n, l)| (n.clone(), &l.latency_curve[..]))
                .collect();
            let tps: Vec<(String, &Throughput)> = runs
                .iter()
                .map(|(n, l)| (n.clone(), &l.throughput))
                .collect();
            ps.push(latency_plot(title_l, &curves));
            ps.push(throughput_plot(title_t, &tps));
        }
    }
    b.push_str("<h2>Latency and throughput</h2>");
    b.push_str(&plots(&ps));
    b.push_str(CURVE_NOTE);
    page("wsgen bench: generated servers vs baselines", &b)
}

/// Now as `YYYY-MM-DD HH:MM UTC` (civil date from the Unix day count).
fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's days_from_civil, inverted.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3_600,
        rem % 3_600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::load::sample_report as load_report;

    const HOSTILE: &str =
        "ws://127.0.0.1:1/<script>alert('x')</script>?a=\"b\"&c=http://evil.example/x.css";

    /// No resource the browser would fetch: nothing but the escaped URL
    /// (shown as text) may name a scheme.
    fn assert_self_contained(html: &str, url: &str) {
        let rest = html.replace(&esc(url), "");
        for bad in [
            "http://",
            "https://",
            "//",
            "src=",
            "href=\"http",
            "url(",
            "@import",
            "<link",
            "<img",
            "<iframe",
            "<script",
            "<object",
            "<embed",
            "xmlns",
        ] {
            assert!(!rest.contains(bad), "{bad:?} in the page");
        }
        assert!(html.contains("default-src 'none'"));
        assert!(!html.contains("NaN") && !html.contains("inf\""));
    }

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn a_run_page_escapes_every_text_and_loads_nothing() {
        let r = load_report(HOSTILE, &[100, 200, 300, 5_000]);
        let html = load_html(&r);
        assert!(html.contains(&esc(HOSTILE)));
        assert!(!html.contains("<script>") && !html.contains("<b>boom"));
        assert!(html.contains("&lt;b&gt;boom") && html.contains("a &amp; b"));
        assert_self_contained(&html, HOSTILE);
        // Settings and results, two plots with data.
        for k in [
            "<th>mode</th><td>open</td>",
            "<th>connections</th><td>4</td>",
            "<th>sent</th><td>4</td>",
            "<th>achieved rate</th>",
            "<th>unanswered</th><td>0</td>",
            "<th>server CPU</th><td>20% (pid 42)</td>",
        ] {
            assert!(html.contains(k), "{k}");
        }
        assert_eq!(html.matches("<svg class=\"plot\"").count(), 2);
        let curve = r.latency_curve.len();
        assert!(html.contains(&format!("data-points=\"{curve}\"")));
        assert!(html.contains(&format!(
            "data-points=\"{}\"",
            r.throughput.plot_points().len()
        )));
        assert!(html.contains("window end"));
    }

    #[test]
    fn edge_cases_render_without_broken_numbers() {
        // Zero messages: no curve, a throughput line of zeros.
        let zero = load_report("ws://127.0.0.1:1/", &[]);
        assert!(zero.latency_curve.is_empty());
        let html = load_html(&zero);
        assert!(html.contains("no data"));
        assert!(html.contains("data-points=\"0\""));
        assert!(html.contains(&format!(
            "data-points=\"{}\"",
            zero.throughput.plot_points().len()
        )));
        assert_self_contained(&html, "ws://127.0.0.1:1/");
        // One sample; all-equal latencies.
        for samples in [vec![700], vec![250; 50]] {
            let r = load_report("ws://127.0.0.1:1/", &samples);
            let html = load_html(&r);
            assert!(!html.contains("no data"));
            assert_self_contained(&html, "ws://127.0.0.1:1/");
        }
    }

    #[test]
    fn a_chat_page_has_its_settings_results_and_plots() {
        let l = load_report(HOSTILE, &[100, 200]);
        let c = ChatReport {
            url: HOSTILE.into(),
            room: "<main>".into(),
            members: 10,
            joined: 10,
            join_failures: 0,
            senders: 2,
            rate_per_sender: 5.0,
            duration_s: 2.0,
            sent: 20,
            deliveries: 200,
            expected_deliveries: 200,
            deliveries_per_sec: 100.0,
            lost: 0,
            mismatches: 0,
            errors: 0,
            server_error_replies: 0,
            latency: l.latency.clone(),
            latency_curve: l.latency_curve.clone(),
            throughput: l.throughput.clone(),
            client_cpu_cores: 0.1,
            server_cpu_cores: None,
            machine_busy: None,
            server_rss_before_kib: Some(10_240),
            server_rss_joined_kib: Some(20_480),
            server_rss_peak_kib: Some(30_720),
            rss_per_member_bytes: Some(2_048_000.0),
            error_samples: vec![],
            warnings: vec![],
        };
        let html = chat_html(&c);
        assert!(html.contains("room <code>&lt;main&gt;</code>"));
        assert!(html.contains("<th>server CPU</th><td>unknown</td>"));
        assert!(html.contains(
            "<th>server memory per member (peak under load)</th><td>2000.0 KB (RSS 30.0 MB peak)</td>"
        ));
        assert!(html.contains("<th>unanswered (lost)</th><td>0</td>"));
        assert_eq!(html.matches("<svg class=\"plot\"").count(), 2);
        assert_self_contained(&html, HOSTILE);
    }

    #[test]
    fn markdown_tables_keep_the_last_cell_whole() {
        let md = "machine: x\n\n| server | msg/s | checks |\n|---|---:|---|\n| go (generated) | 1,000 | error: build: a | b |\n| go-x (baseline) | 2 | all echoes verified |\n";
        let (h, right, rows) = markdown_table(md).unwrap();
        assert_eq!(h, vec!["server", "msg/s", "checks"]);
        assert_eq!(right, vec![false, true, false]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0][2], "error: build: a | b");
        assert_eq!(rows[1], vec!["go-x (baseline)", "2", "all echoes verified"]);
        let t = html_table(&h, &right, &rows);
        assert!(t.contains("<td class=\"miss\">error: build: a | b</td>"));
        assert!(t.contains("<td class=\"num\">1,000</td>"));
        assert!(t.contains("<td class=\"ok\">all echoes verified</td>"));
        assert_eq!(verdict_class("98% ok"), "ok");
        assert_eq!(verdict_class("+20% MISS"), "miss");
        assert!(markdown_table("no table").is_none());
    }

    #[test]
    fn an_empty_comparison_still_renders() {
        let r = SuiteReport {
            date: "2026-01-01 00:00 UTC".into(),
            machine: "2 cores <x>".into(),
            load_before: "0.1".into(),
            load_after: "0.2".into(),
            settings: "closed loop: 50 conns".into(),
            rows: vec![],
        };
        let html = suite_html(&r);
        assert!(html.contains("2 cores &lt;x&gt;"));
        assert!(html.contains("<th>closed-loop msg/s</th>") || html.contains("closed-loop msg/s"));
        assert_eq!(html.matches("<svg class=\"plot\"").count(), 4);
        assert_self_contained(&html, "");
    }

    #[test]
    fn the_comparison_overlays_every_server() {
        let fast: Vec<u64> = (1..=2_000).map(|i| 80 + i % 40).collect();
        let slow: Vec<u64> = (1..=1_000).map(|i| 900 + (i * 7) % 700).collect();
        let mid: Vec<u64> = (1..=1_500).map(|i| 300 + (i * 13) % 500).collect();
        let (a, b, c) = (
            load_report("ws://127.0.0.1:1/", &fast),
            load_report("ws://127.0.0.1:2/", &slow),
            load_report("ws://127.0.0.1:3/", &mid),
        );
        let servers = [
            ServerRuns {
                name: "rust (generated)",
                open: Some(&a),
                closed: Some(&b),
                chat: None,
            },
            ServerRuns {
                name: "rust-yawc (baseline)",
                open: Some(&b),
                closed: Some(&c),
                chat: None,
            },
            ServerRuns {
                name: "go <generated>",
                open: Some(&c),
                closed: None,
                chat: None,
            },
        ];
        let table = "| server | closed-loop msg/s | vs baseline | checks |\n|---|---:|---:|---|\n| rust (generated) | 10,000 | 98% ok | all echoes verified |\n| rust-yawc (baseline) | 10,200 |  | all echoes verified |\n| go <generated> | 8,000 | 80% MISS | error: boot: x | y |\n";
        let html = comparison_page(&[("machine", "test".into())], table, &servers);
        assert!(html.contains("<td class=\"num ok\">98% ok</td>"));
        assert!(html.contains("<td class=\"num miss\">80% MISS</td>"));
        assert!(html.contains("<td class=\"miss\">error: boot: x | y</td>"));
        assert!(html.contains("go &lt;generated&gt;") && !html.contains("go <generated>"));
        assert_eq!(html.matches("<svg class=\"plot\"").count(), 4);
        // Open loop: three servers per plot; closed loop: two.
        assert_eq!(html.matches("class=\"legend\"").count(), 3 + 3 + 2 + 2);
        assert_eq!(html.matches("<tr>").count(), 1 + 1 + 3);
        assert_self_contained(&html, "");
        if let Ok(p) = std::env::var("WSGEN_SAMPLE_COMPARISON_HTML") {
            std::fs::write(p, &html).unwrap();
        }
    }

    #[test]
    fn utc_dates() {
        let d = utc_now();
        assert_eq!(d.len(), "2026-01-01 00:00 UTC".len(), "{d}");
        assert!(d.starts_with("20") && d.ends_with(" UTC"));
    }
}
