//! `wsgen bench --report`: the real binary loads an in-process echo server
//! on 127.0.0.1 for 2 s and writes the HTML report, which headless Chromium
//! then opens offline: the DOM must hold the tables and both plots with
//! their points, and the page must not have asked for anything on the
//! network (Chromium's net log, checked against a control page that does).
//!
//! Needs `/usr/bin/chromium` (Debian: `apt-get install chromium`); without
//! it the test fails, it does not skip. Set `WSGEN_REPORT_SCREENSHOT=/tmp/x.png`
//! to keep a screenshot of the report.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "fixtures/bench_servers.rs"]
mod servers;

/// An echo server on its own thread and runtime; returns its URL.
fn echo_server() -> String {
    servers::on_own_thread(|| servers::serve_echo(servers::Fault::None))
}

/// The chat-v1 fixture of tests/bench_chat.rs, on its own thread.
fn chat_server() -> String {
    servers::on_own_thread(|| servers::serve_chat(0))
}

fn chromium() -> PathBuf {
    for p in ["/usr/bin/chromium", "/usr/bin/chromium-browser"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("headless Chromium is needed to check the HTML report: apt-get install chromium");
}

/// Runs headless Chromium on `page` with `extra` arguments, offline (every
/// host name resolves to nothing) and with its net log in `netlog`; returns
/// stdout.
fn run_chromium(page: &Path, netlog: &Path, profile: &Path, extra: &[&str]) -> String {
    let mut cmd = Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--host-resolver-rules=MAP * ~NOTFOUND",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg(format!("--log-net-log={}", netlog.display()))
    .args(extra)
    .arg(format!("file://{}", page.display()))
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish in 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "chromium failed: {:?}", out.status);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// URLs the page itself asked for (not Chromium's own background requests,
/// whose initiator is "not an origin"), from a net log.
fn page_requests(netlog: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(netlog).expect("net log written");
    // Chromium may leave the events array unterminated if killed; it was not.
    let v: serde_json::Value = serde_json::from_str(&text).expect("net log is JSON");
    let start_job = v["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
        .as_u64()
        .expect("URL_REQUEST_START_JOB in the net log constants");
    v["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_u64() == Some(start_job))
        .filter(|e| e["params"]["initiator"].as_str() != Some("not an origin"))
        .filter_map(|e| e["params"]["url"].as_str().map(String::from))
        .filter(|u| !u.starts_with("file:"))
        .collect()
}

#[test]
fn a_run_report_opens_offline_in_chromium_with_its_tables_and_plots() {
    let url = echo_server();
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let json = dir.path().join("report.json");
    // 4 connections x 100 msg/s x 2 s: exactly 800 messages.
    let out = Command::new(env!("CARGO_BIN_EXE_wsgen"))
        .args(["bench", "--url", &url, "-c", "4", "--rate", "100"])
        .args(["--duration", "2s", "--drain", "2s", "-q", "--report"])
        .arg(&html)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The JSON has the new data, and it adds up.
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["sent"], 800);
    assert_eq!(v["latency"]["count"], 800);
    let curve = v["latency_curve"].as_array().unwrap();
    // 10 points per decade of 1/(1-p) up to 1/800, then the maximum.
    assert_eq!(curve.len(), 31, "{curve:?}");
    assert_eq!(curve.last().unwrap()["percentile"], 100.0);
    let counts: Vec<u64> = v["throughput"]["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_u64().unwrap())
        .collect();
    assert_eq!(counts.iter().sum::<u64>(), 800, "{counts:?}");
    assert!(counts.len() >= 20, "2 s in 100 ms intervals: {counts:?}");
    assert_eq!(v["throughput"]["interval_s"], 0.1);

    // A control page that does fetch something: the net log must show it,
    // or the check below proves nothing.
    let control = dir.path().join("control.html");
    std::fs::write(
        &control,
        "<!DOCTYPE html><html><body><p>control</p><img src=\"http://wsgen-netcheck.invalid/x.png\"></body></html>",
    )
    .unwrap();
    let control_log = dir.path().join("control-netlog.json");
    run_chromium(
        &control,
        &control_log,
        &dir.path().join("profile-control"),
        &["--dump-dom"],
    );
    let seen = page_requests(&control_log);
    assert!(
        seen.iter().any(|u| u.contains("wsgen-netcheck.invalid")),
        "the net log check does not see page requests: {seen:?}"
    );

    let netlog = dir.path().join("netlog.json");
    let dom = run_chromium(&html, &netlog, &dir.path().join("profile"), &["--dump-dom"]);
    assert_eq!(
        page_requests(&netlog),
        Vec::<String>::new(),
        "the report asked for network resources"
    );
    // The document was parsed to its end (nothing blocked it) ...
    assert!(dom.contains("Self-contained: no script"), "{dom}");
    // ... with the settings and results tables ...
    for row in [
        "<th>mode</th><td>open</td>",
        "<th>connections</th><td>4</td>",
        "<th>sent</th><td>800</td>",
        "<th>received</th><td>800</td>",
        "<th>achieved rate</th><td>400 msg/s</td>",
        "<th>errors</th><td>0</td>",
        "<th>mismatches</th><td>0</td>",
        "<th>unanswered</th><td>0</td>",
        "<th>samples</th><td>800</td>",
    ] {
        assert!(dom.contains(row), "{row} missing from the DOM:\n{dom}");
    }
    assert!(dom.contains(&format!("<code>{url}</code>")));
    // ... and both plots with their points.
    assert_eq!(dom.matches("<svg class=\"plot\"").count(), 2, "{dom}");
    assert!(dom.contains("data-points=\"31\""), "latency curve: {dom}");
    // The window's 20 intervals, and the drain's when it held a backlog.
    let late: u64 = counts[20..].iter().sum();
    let plotted = if late * 100 <= 800 { 20 } else { counts.len() };
    assert!(
        dom.contains(&format!("data-points=\"{plotted}\"")),
        "throughput: {dom}"
    );
    let polylines = dom.matches("<polyline").count();
    assert_eq!(polylines, 2, "{dom}");
    for pts in dom.split(" points=\"").skip(1) {
        let pts = pts.split('"').next().unwrap();
        assert!(pts.split(' ').count() >= 20, "{pts}");
        for xy in pts.split(' ') {
            let (x, y) = xy.split_once(',').unwrap();
            assert!(x.parse::<f64>().is_ok() && y.parse::<f64>().is_ok(), "{xy}");
        }
    }

    // A screenshot renders (and is kept when asked for).
    let png = std::env::var("WSGEN_REPORT_SCREENSHOT")
        .map(PathBuf::from)
        .unwrap_or_else(|_| dir.path().join("report.png"));
    let shot_log = dir.path().join("shot-netlog.json");
    run_chromium(
        &html,
        &shot_log,
        &dir.path().join("profile-shot"),
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,1600",
            "--hide-scrollbars",
        ],
    );
    let bytes = std::fs::read(&png).expect("screenshot written");
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000);
    assert_eq!(page_requests(&shot_log), Vec::<String>::new());
}

#[test]
fn a_closed_loop_report_is_written_even_when_checks_fail() {
    // A refused connection: exit 1, and the report still says so.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("r.html");
    let url = format!("ws://127.0.0.1:{port}/?a=<b>&c=\"d\"");
    let out = Command::new(env!("CARGO_BIN_EXE_wsgen"))
        .args(["bench", "--url", &url, "-c", "2", "--rate", "0"])
        .args(["--duration", "200ms", "--drain", "100ms", "-q", "--report"])
        .arg(&html)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<th>mode</th><td>closed</td>"));
    assert!(page.contains("<th>connections</th><td>0 open, 2 failed</td>"));
    assert!(page.contains("?a=&lt;b&gt;&amp;c=&quot;d&quot;"));
    assert!(page.contains("no data"));
    assert!(!page.contains("<b>"));
}

#[test]
fn a_chat_report_shows_deliveries() {
    let url = chat_server();
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("chat.html");
    let json = dir.path().join("chat.json");
    // 10 members, 2 senders x 20 msg/s x 1 s: 40 messages, 400 deliveries.
    let out = Command::new(env!("CARGO_BIN_EXE_wsgen"))
        .args([
            "bench",
            "--url",
            &url,
            "--chat",
            "-c",
            "10",
            "--senders",
            "2",
        ])
        .args(["--rate", "20", "--duration", "1s", "--drain", "2s", "-q"])
        .arg("--report")
        .arg(&html)
        .arg("--json")
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["deliveries"], 400);
    let counts = v["throughput"]["counts"].as_array().unwrap();
    assert_eq!(counts.iter().map(|c| c.as_u64().unwrap()).sum::<u64>(), 400);
    let page = std::fs::read_to_string(&html).unwrap();
    for row in [
        "<th>members (connections)</th><td>10</td>",
        "<th>sent</th><td>40</td>",
        "<th>received (deliveries)</th><td>400 of 400 expected</td>",
        "<th>unanswered (lost)</th><td>0</td>",
        "<th>samples</th><td>400</td>",
    ] {
        assert!(page.contains(row), "{row} missing:\n{page}");
    }
    assert_eq!(page.matches("<svg class=\"plot\"").count(), 2);
    let curve = v["latency_curve"].as_array().unwrap().len();
    assert!(page.contains(&format!("data-points=\"{curve}\"")));
    // 1 s in 100 ms intervals (and the drain's if it held a backlog).
    let all: Vec<u64> = counts.iter().map(|c| c.as_u64().unwrap()).collect();
    let plotted = if all[10..].iter().sum::<u64>() * 100 <= 400 {
        10
    } else {
        all.len()
    };
    assert!(page.contains(&format!("data-points=\"{plotted}\"")));
}
