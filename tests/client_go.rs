//! The Go client library (`--client`, docs/protocol/clients-v1.md), end to
//! end: for specs/echo.yaml, specs/chat.yaml and specs/session.yaml, generate
//! the client, check that it is gofmt-clean as rendered and `go vet`-clean,
//! run the package's own `go test` (backoff bounds, fatal vs retried
//! handshakes and closes, ref matching, chat merge and gaps, session resume,
//! acks, start_lost, against in-test servers), build its `tail` example
//! through the driver's client plan, and drive it against the real generated
//! Go server of the same spec over a socket. The secure session fixture adds
//! a bearer token, and a wrong one ends `tail` with `error unauthorized`
//! (exit 3) after exactly one handshake. The fault proxy
//! (`wsgen::clients::proxy`), cutting every connection at chosen points,
//! proves the resume against the real servers: a session's events and a
//! chat room's messages each printed once, in order.

mod support;

use std::time::{Duration, Instant};
use support::tail::{TAIL_TIMEOUT, emitted, run as tail, spawn, worker_command};
use wsgen::clients::proxy::FaultProxy;
use wsgen::ir::Server;
use wsgen::lang::Language;
use wsgen::runner::{self, Launch, ServerProcess};

/// Generate `spec`'s Go client, check gofmt and vet, run its own tests,
/// build `tail`; returns the folder (kept alive) and how to launch `tail`.
fn client(spec: &str) -> (tempfile::TempDir, Launch) {
    support::require_toolchain(Language::Go);
    let server = support::load(spec);
    let dir = tempfile::Builder::new()
        .prefix("wsgen-go-client-")
        .tempdir()
        .expect("temp dir");
    wsgen::pipeline::generate_client_into(&server, Language::Go, dir.path())
        .unwrap_or_else(|e| panic!("{spec} -> go client: {e}"));
    let path = dir.path();
    let started = Instant::now();
    let out = support::go_checks(spec, path);
    assert!(out.contains("ok "), "{spec}: go test ran nothing:\n{out}");
    let launch =
        runner::prepare_client_project(&server, Language::Go, path, &support::build_options())
            .unwrap_or_else(|e| panic!("{spec}: building the Go client's tail: {e}"));
    eprintln!(
        "{spec}: go client checked, tested and built in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    (dir, launch)
}

/// Generate, build and boot the real Go server of `spec` with `env`.
fn boot(spec: &str, env: &[(&str, &str)]) -> (tempfile::TempDir, Server, ServerProcess) {
    let (project, running) = support::serve(spec, Language::Go, env);
    (project, support::load(spec), running)
}

fn url(server: &Server, running: &ServerProcess) -> String {
    format!("ws://{}{}", running.addr(), server.path)
}

#[test]
fn session_start_then_attach_after() {
    let (_client, launch) = client("specs/session.yaml");
    let command = worker_command();
    let (_project, server, mut running) = boot(
        "specs/session.yaml",
        &[("WS_SESSION_COMMAND", command.as_str())],
    );
    let url = url(&server, &running);

    let first = tail(
        &launch,
        &[
            &url,
            "--start",
            "--input",
            r#"{"do":"emit","count":500,"exit":0}"#,
        ],
    );
    let context = format!("stdout:\n{}\nstderr:\n{}", first.stdout, first.stderr);
    assert_eq!(first.code, Some(0), "tail --start: {context}");
    let lines: Vec<&str> = first.stdout.lines().collect();
    let head: Vec<&str> = lines[0].split(' ').collect();
    assert!(
        head.len() == 3 && head[0] == "session" && head[1].len() == 32 && head[2].len() == 64,
        "first line: {context}"
    );
    let (id, token) = (head[1], head[2]);
    let mut want = emitted(1, 500);
    want.push(r#"501 {"emitted":500}"#.into());
    want.push("exit 502 code 0".into());
    assert_eq!(lines[1..], want, "tail --start: {context}");

    let second = tail(
        &launch,
        &[
            &url,
            "--attach",
            id,
            "--session-token",
            token,
            "--after",
            "250",
        ],
    );
    let context = format!("stdout:\n{}\nstderr:\n{}", second.stdout, second.stderr);
    assert_eq!(second.code, Some(0), "tail --attach: {context}");
    let lines: Vec<&str> = second.stdout.lines().collect();
    assert_eq!(lines, want[250..], "tail --attach --after 250: {context}");

    let bad = tail(
        &launch,
        &[&url, "--attach", id, "--session-token", &"0".repeat(64)],
    );
    assert_eq!(bad.code, Some(3), "a wrong session token: {}", bad.stderr);
    assert!(
        bad.stdout.starts_with("error unknown_session "),
        "a wrong session token: {}",
        bad.stdout
    );
    assert_eq!(tail(&launch, &[&url]).code, Some(2), "no mode: usage");
    running.stop(Duration::from_secs(10)).ok();
}

#[test]
fn session_token_auth_and_unauthorized() {
    let (_client, launch) = client("specs/session.yaml");
    let command = worker_command();
    let (_project, server, mut running) = boot(
        "tests/fixtures/secure-session.yaml",
        &[
            ("WS_SESSION_COMMAND", command.as_str()),
            ("WS_AUTH_TOKENS", "alice:s3cret-token"),
        ],
    );
    let url = url(&server, &running);

    let ok = tail(
        &launch,
        &[
            &url,
            "--token",
            "s3cret-token",
            "--start",
            "--input",
            r#"{"do":"emit","count":3,"exit":0}"#,
        ],
    );
    let lines: Vec<&str> = ok.stdout.lines().skip(1).collect();
    let mut want = emitted(1, 3);
    want.push(r#"4 {"emitted":3}"#.into());
    want.push("exit 5 code 0".into());
    assert_eq!(
        (ok.code, lines),
        (Some(0), want.iter().map(String::as_str).collect()),
        "with the token: {}",
        ok.stderr
    );

    let denied = tail(&launch, &[&url, "--token", "wrong", "--start"]);
    assert_eq!(
        denied.code,
        Some(3),
        "a wrong token: {}\n{}",
        denied.stdout,
        denied.stderr
    );
    assert!(
        denied.stdout.starts_with("error unauthorized ") && denied.stdout.lines().count() == 1,
        "a wrong token: {}",
        denied.stdout
    );
    assert!(
        !denied.stderr.contains("reconnecting"),
        "retried: {}",
        denied.stderr
    );
    // Exactly one handshake was refused: no retry.
    let metrics = runner::http_get(running.addr(), "/metrics", Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("GET /metrics: {e}"));
    assert!(
        metrics
            .body
            .lines()
            .any(|l| l == r#"ws_handshake_rejections_total{reason="auth"} 1"#),
        "rejections after one 401:\n{}",
        metrics.body
    );
    running.stop(Duration::from_secs(10)).ok();
}

#[test]
fn chat_until_id() {
    let (_client, launch) = client("specs/chat.yaml");
    let (_project, server, mut running) = boot("specs/chat.yaml", &[]);
    let url = url(&server, &running);
    let texts: Vec<String> = (1..=6).map(|i| format!("say \"{i}\" <é>")).collect();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        use wsgen::wire::conn::{ConnectOptions, Message, connect};
        let mut sender = connect(&url, &ConnectOptions::default())
            .await
            .expect("the sender connects");
        let send = |v: serde_json::Value| v.to_string();
        sender
            .send_text(&send(
                serde_json::json!({"type":"join","room":"r","user":"sender"}),
            ))
            .await
            .expect("join");
        // Three before tail joins (its first `joined` history), three after.
        for text in &texts[..3] {
            sender
                .send_text(&send(
                    serde_json::json!({"type":"message","room":"r","text":text}),
                ))
                .await
                .expect("message");
        }
        let mut seen = 0;
        while seen < 4 {
            let Message::Text(_) = sender.recv_message().await.expect("answers") else {
                continue;
            };
            seen += 1; // joined + three copies
        }
        let child = spawn(
            &launch,
            &[&url, "--room", "r", "--user", "u", "--until-id", "6"],
        );
        // Wait until the tail has joined (presence), then send the rest.
        loop {
            let Message::Text(text) = sender.recv_message().await.expect("presence") else {
                continue;
            };
            let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            if v["type"] == "presence" && v["user"] == "u" && v["event"] == "join" {
                break;
            }
        }
        for text in &texts[3..] {
            sender
                .send_text(&send(
                    serde_json::json!({"type":"message","room":"r","text":text}),
                ))
                .await
                .expect("message");
        }
        let out = child.finish();
        assert_eq!(
            out.code,
            Some(0),
            "tail --room: {}\n{}",
            out.stdout,
            out.stderr
        );
        let want: Vec<String> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| format!("{} sender {}", i + 1, serde_json::to_string(t).unwrap()))
            .collect();
        assert_eq!(
            out.stdout.lines().collect::<Vec<_>>(),
            want,
            "{}",
            out.stderr
        );

        // Through a proxy that cuts the tail's connection twice while
        // messages flow: it rejoins, fetches `history` after its last id and
        // prints every message once, in order.
        let proxy = FaultProxy::start(running.addr()).expect("fault proxy");
        let proxied = proxy.ws_url(&server.path);
        sender
            .send_text(&send(
                serde_json::json!({"type":"join","room":"r2","user":"sender"}),
            ))
            .await
            .expect("join r2");
        let child = spawn(
            &launch,
            &[
                &proxied,
                "--room",
                "r2",
                "--user",
                "u2",
                "--until-id",
                "60",
                "--backoff-initial",
                "20",
                "--backoff-max",
                "100",
            ],
        );
        loop {
            let Message::Text(text) = sender.recv_message().await.expect("presence") else {
                continue;
            };
            let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
            if v["type"] == "presence" && v["user"] == "u2" && v["room"] == "r2" {
                break;
            }
        }
        for i in 1..=60 {
            sender
                .send_text(&send(
                    serde_json::json!({"type":"message","room":"r2","text":format!("m{i}")}),
                ))
                .await
                .expect("message");
            if i == 20 || i == 40 {
                proxy.cut_all();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let out = child.finish();
        assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("state reconnecting"),
            "no reconnect:\n{}",
            out.stderr
        );
        let want: Vec<String> = (1..=60).map(|i| format!("{i} sender \"m{i}\"")).collect();
        assert_eq!(
            out.stdout.lines().collect::<Vec<_>>(),
            want,
            "{}",
            out.stderr
        );
    });
    running.stop(Duration::from_secs(10)).ok();
}

#[test]
fn echo_send_and_receive() {
    let (_client, launch) = client("specs/echo.yaml");
    let (_project, server, mut running) = boot("specs/echo.yaml", &[]);
    let url = url(&server, &running);
    let out = tail(&launch, &[&url, "--send", "hello", "--send", "wörld \"2\""]);
    assert_eq!(out.code, Some(0), "{}\n{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "\"hello\"\n\"wörld \\\"2\\\"\"\n");
    // Nothing listens on a closed port: retried, then retries_exhausted.
    let port = runner::free_port().expect("free port");
    let out = tail(
        &launch,
        &[
            &format!("ws://127.0.0.1:{port}/"),
            "--max-retries",
            "3",
            "--backoff-initial",
            "10",
            "--backoff-max",
            "20",
        ],
    );
    assert_eq!(out.code, Some(3), "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stdout.starts_with("error retries_exhausted "),
        "{}",
        out.stdout
    );
    running.stop(Duration::from_secs(10)).ok();
}

/// Through a proxy that cuts every connection twice mid-stream, `tail
/// --start` still prints every event of the real Go server once, in order:
/// the library reconnects and attaches after the last seq it delivered.
#[test]
fn session_resumes_across_cuts() {
    let (_client, launch) = client("specs/session.yaml");
    let command = worker_command();
    let (_project, server, mut running) = boot(
        "specs/session.yaml",
        &[("WS_SESSION_COMMAND", command.as_str())],
    );
    let proxy = FaultProxy::start(running.addr()).expect("fault proxy");
    let url = proxy.ws_url(&server.path);
    let mut child = spawn(
        &launch,
        &[
            &url,
            "--start",
            "--input",
            r#"{"do":"emit","count":300,"pace":5,"exit":0}"#,
            "--backoff-initial",
            "20",
            "--backoff-max",
            "100",
        ],
    );
    let mut lines = Vec::new();
    let mut cuts = 0;
    while let Some(line) = child.next_line(TAIL_TIMEOUT) {
        // Cut after events 100 and 200 were printed.
        if line.starts_with("100 ") || line.starts_with("200 ") {
            proxy.cut_all();
            cuts += 1;
        }
        lines.push(line);
    }
    let out = child.finish();
    assert_eq!(cuts, 2, "stdout: {lines:?}\nstderr:\n{}", out.stderr);
    assert_eq!(out.code, Some(0), "stderr:\n{}", out.stderr);
    assert!(
        out.stderr.contains("state reconnecting"),
        "no reconnect:\n{}",
        out.stderr
    );
    let mut want = emitted(1, 300);
    want.push(r#"301 {"emitted":300}"#.into());
    want.push("exit 302 code 0".into());
    assert_eq!(lines[1..], want, "stderr:\n{}", out.stderr);
    running.stop(Duration::from_secs(10)).ok();
}

/// A spec full of quotes, newlines, `$` and braces still makes a Go client
/// that is gofmt- and vet-clean, passes its tests and builds `tail`.
#[test]
fn adversarial_names() {
    let (_client, launch) = client(support::ADVERSARIAL);
    assert!(launch.program.exists(), "{}", launch.program.display());
}
