//! The `wsgen conformance` and `wsgen test` commands end to end.

#[path = "fixtures/conformance/servers.rs"]
mod servers;
#[path = "fixtures/tls_front.rs"]
mod tls;

use tls::tls_front;

use std::process::Command;

use servers::{Flaws, spawn};

fn wsgen() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsgen"))
}

async fn output(mut cmd: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("run wsgen"))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_writes_reports_and_exits_zero_on_a_good_server() {
    let server = spawn(Flaws::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let html = dir.path().join("report.html");
    let mut cmd = wsgen();
    cmd.args([
        "conformance",
        "--url",
        &server.url,
        "--cases",
        "1.*,6.4.*,h.1",
        "--exclude",
        "1.2.*",
        "--jobs",
        "4",
    ])
    .arg("--json")
    .arg(&json)
    .arg("--report")
    .arg(&html);
    let out = output(cmd).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Framing"), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let ids: Vec<&str> = v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 8 + 4 + 1, "{ids:?}");
    assert!(ids.contains(&"6.4.3") && ids.contains(&"h.1") && !ids.contains(&"1.2.1"));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("id=\"case-6.4.3\"") && !page.contains("<script src"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_exits_one_on_fail_two_on_usage_errors_three_when_unreachable() {
    let server = spawn(Flaws {
        never_pong: true,
        ..Default::default()
    })
    .await;
    let mut cmd = wsgen();
    cmd.args(["conformance", "--url", &server.url, "--cases", "2.*"]);
    let out = output(cmd).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL:") && stdout.contains("2.1 "),
        "{stdout}"
    );
    // Close codes read as numbers or `none`, never as Rust's `Some(1000)`.
    assert!(!stdout.contains("Some("), "{stdout}");

    let mut cmd = wsgen();
    cmd.args(["conformance", "--url", &server.url, "--cases", "99.*"]);
    assert_eq!(output(cmd).await.status.code(), Some(2));
    drop(server);

    // Nothing listens on a port we just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = wsgen();
    cmd.args(["conformance", "--url", &format!("ws://127.0.0.1:{port}/")]);
    let out = output(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smoke_test_checks_every_echo() {
    let good = spawn(Flaws::default()).await;
    let mut cmd = wsgen();
    cmd.args(["test", "--url", &good.url, "--messages", "60"]);
    let out = output(cmd).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("p50") && stdout.contains("p99") && stdout.contains("PASS"),
        "{stdout}"
    );

    let bad = spawn(Flaws {
        wrong_opcode_echo: true,
        ..Default::default()
    })
    .await;
    let mut cmd = wsgen();
    cmd.args(["test", "--url", &bad.url, "--messages", "10"]);
    let out = output(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_and_test_speak_wss_with_ca_and_insecure() {
    let server = spawn(Flaws::default()).await;
    let plain: std::net::SocketAddr = server
        .url
        .trim_start_matches("ws://")
        .trim_end_matches("/ws")
        .parse()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (url, ca) = tls_front(plain, dir.path()).await;

    let mut cmd = wsgen();
    cmd.args(["conformance", "--url", &url, "--cases", "1.*,5.*,h.1"])
        .arg("--ca")
        .arg(&ca)
        .args([
            "--header",
            "X-Test: 1",
            "--origin",
            "https://app.example.com",
            "--token",
            "t0k",
        ]);
    let out = output(cmd).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let mut cmd = wsgen();
    cmd.args(["test", "--url", &url, "--messages", "20", "--insecure"]);
    let out = output(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Not trusted: the TLS error and a hint, exit 3.
    let mut cmd = wsgen();
    cmd.args(["test", "--url", &url, "--messages", "1"]);
    let out = output(cmd).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("TLS") && err.contains("--ca FILE"), "{err}");

    // Bad flag values are usage errors.
    for args in [
        vec!["--header", "no colon"],
        vec!["--ca", "/nonexistent/ca.pem"],
        vec!["--token", ""],
    ] {
        let mut cmd = wsgen();
        cmd.args(["conformance", "--url", &url]).args(&args);
        let out = output(cmd).await;
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut cmd = wsgen();
    cmd.args(["conformance", "--url", &server.url, "--insecure"]);
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("apply to wss://"));
    // bench loads wss:// with the same flags (counts: tests/bench_load.rs);
    // chat fan-out stays ws:// only.
    let mut cmd = wsgen();
    cmd.args(["bench", "--url", &url, "--insecure", "--token", "t0k"])
        .args([
            "-c", "2", "--rate", "10", "-d", "300ms", "--drain", "2s", "-q",
        ]);
    let out = output(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut cmd = wsgen();
    cmd.args([
        "bench",
        "--url",
        &url,
        "--insecure",
        "--chat",
        "--duration",
        "1s",
    ]);
    let out = output(cmd).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ws:// only"));
}

/// The default run (no `--cases`, no `--full`), as a user runs it, fails a
/// server that closes messages of more than 16,384 frames with 1008 (`ws`'s
/// default `maxFragments`): 9.3.1 and 9.4.1 send 65,536 frames. 9.3.2 and
/// 9.4.2 send exactly 16,384, which that limit allows (`ws` 8.23.0 fails
/// exactly these two cases too).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_run_fails_a_server_with_a_fragment_limit_of_16384() {
    let server = spawn(Flaws {
        max_fragments: Some(16_384),
        ..Default::default()
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let mut cmd = wsgen();
    // The whole default run moves about 140 MiB each way through this
    // debug-built server: a generous connect timeout keeps a loaded machine
    // from turning a slow handshake into a FAIL of an unrelated case.
    cmd.args([
        "conformance",
        "--url",
        &server.url,
        "--connect-timeout",
        "60",
    ])
    .arg("--json")
    .arg(&json);
    let out = output(cmd).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 553, "the whole default suite ran");
    let verdict = |id: &str| {
        let c = cases.iter().find(|c| c["id"] == id).unwrap();
        (
            c["verdict"].as_str().unwrap().to_string(),
            c["reason"].to_string(),
        )
    };
    for id in ["9.3.1", "9.4.1"] {
        let (verdict, reason) = verdict(id);
        assert_eq!(verdict, "FAIL", "{id}: {reason}");
        assert!(reason.contains("1008"), "{id}: {reason}");
    }
    for id in ["9.3.2", "9.4.2"] {
        assert_eq!(verdict(id).0, "PASS", "{id}: {}", verdict(id).1);
    }
    assert!(
        stdout.contains("FAIL:") && stdout.contains("9.3.1 "),
        "{stdout}"
    );
}
