//! The Rust client library (`--client`, templates/clients/rust), end to end:
//! for specs/echo.yaml, chat.yaml and session.yaml, generate the client,
//! check it with `cargo fmt --check` and `cargo clippy -D warnings`, run its
//! own `cargo test`, build its `tail` example through the driver's
//! `client_build_plan`, and prove it over a real socket against the real
//! generated Rust server of the same spec: a session started, streamed and
//! attached again after a seq; a chat room followed from its history into
//! live messages; echo; over wss with the test CA (`--ca`), a 401 that ends
//! `tail` with `error unauthorized` (exit 3) without a second attempt, and an
//! untrusted certificate retried until `--max-retries`. Every cargo command
//! uses the shared target folder (`support::cargo_target_dir()`).

mod support;

use std::time::{Duration, Instant};
use wsgen::lang::Language;
use wsgen::runner::{self, Launch, ServerProcess};

const INSTALL_RUST: &str = "install a Rust toolchain 1.85 or newer with clippy and rustfmt \
    (https://rustup.rs, then `rustup component add clippy rustfmt`) and put `cargo` on PATH";

/// A generated, checked and built client: its folder and how to run `tail`.
struct Tail {
    _dir: tempfile::TempDir,
    launch: Launch,
}

impl Tail {
    /// Run `tail URL ARGS...` to its end.
    fn run(&self, url: &str, args: &[&str]) -> support::tail::Tail {
        let args: Vec<&str> = std::iter::once(url).chain(args.iter().copied()).collect();
        support::tail::run(&self.launch, &args)
    }
}

/// Generate `spec`'s client, check it (fmt, clippy, its own tests) and
/// build its `tail`.
fn client(spec: &str) -> Tail {
    support::require_toolchain(Language::Rust);
    support::require_tool("cargo-clippy", INSTALL_RUST);
    support::require_tool("rustfmt", INSTALL_RUST);
    let server = support::load(spec);
    let dir = tempfile::Builder::new()
        .prefix("wsgen-client-rust-")
        .tempdir()
        .expect("temp dir");
    wsgen::pipeline::generate_client_into(&server, Language::Rust, dir.path())
        .unwrap_or_else(|e| panic!("{spec}: generating the rust client: {e}"));
    let target = support::cargo_target_dir();
    let cargo = |args: &[&str]| {
        support::check(
            spec,
            dir.path(),
            "cargo",
            args,
            &[("CARGO_TARGET_DIR", target.to_str().expect("UTF-8 path"))],
            INSTALL_RUST,
        )
    };
    let started = Instant::now();
    cargo(&["fmt", "--check"]);
    cargo(&[
        "clippy",
        "--locked",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    let out = cargo(&["test", "--locked"]);
    let results: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("test result:"))
        .collect();
    assert!(
        results.iter().any(|r| !r.contains(" 0 passed")),
        "{spec}: the client's cargo test ran no test:\n{out}"
    );
    let launch = runner::prepare_client_project(
        &server,
        Language::Rust,
        dir.path(),
        &support::build_options(),
    )
    .unwrap_or_else(|e| panic!("{spec}: building the client's tail: {e}"));
    eprintln!(
        "{spec}: client checked and built in {:.1}s; {}",
        started.elapsed().as_secs_f64(),
        results.join("; ")
    );
    Tail { _dir: dir, launch }
}

/// Generate, build and boot `spec`'s Rust server with `env`.
fn server(spec: &str, env: &[(&str, String)]) -> (tempfile::TempDir, ServerProcess) {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    support::serve(spec, Language::Rust, &env)
}

/// The session lines `first..=count` of the worker's `emit` (pad 0), the
/// `{"emitted":count}` line and the exit line.
fn emitted(first: u64, count: u64) -> Vec<String> {
    let mut lines = support::tail::emitted(first, count);
    lines.push(format!("{} {{\"emitted\":{count}}}", count + 1));
    lines.push(format!("exit {} code 0", count + 2));
    lines
}

#[test]
fn session_start_attach_after_and_unauthorized() {
    let tail = client("specs/session.yaml");
    let (_project, mut running) = server(
        "specs/session.yaml",
        &[("WS_SESSION_COMMAND", support::tail::worker_command())],
    );
    let url = format!("ws://{}/", running.addr());

    let out = tail.run(
        &url,
        &[
            "--start",
            "--input",
            r#"{"do":"emit","count":500,"exit":0}"#,
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out);
    let text = out.stdout.clone();
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let parts: Vec<&str> = first.split(' ').collect();
    assert!(
        parts.len() == 3 && parts[0] == "session" && parts[1].len() == 32 && parts[2].len() == 64,
        "the first line is `session ID TOKEN`: {first}"
    );
    let (session, token) = (parts[1], parts[2]);
    assert_eq!(lines.collect::<Vec<_>>(), emitted(1, 500), "{}", out);

    let out = tail.run(
        &url,
        &[
            "--attach",
            session,
            "--session-token",
            token,
            "--after",
            "250",
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out);
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        emitted(251, 500),
        "{}",
        out
    );

    let out = tail.run(
        &url,
        &["--attach", session, "--session-token", &"0".repeat(64)],
    );
    assert_eq!(out.code, Some(3), "{}", out);
    assert!(out.stdout.starts_with("error unknown_session "), "{}", out);
    running.stop(Duration::from_secs(15)).expect("stop");

    // Token auth over wss (tests/fixtures/secure-session.yaml, a test CA):
    // without the CA the certificate is not trusted (retried, then given
    // up); a wrong token is a 401, fatal at once; the right one streams.
    let fixture = "tests/fixtures/secure-session.yaml";
    let logs = tempfile::tempdir().expect("temp dir");
    let material = wsgen::scenario::material::Material::generate(&logs.path().join("tls"))
        .expect("test certificates");
    let path = |name: &str| material.dir.join(name).display().to_string();
    let ca = path("ca.pem");
    let (_secure_project, mut secure) = server(
        fixture,
        &[
            ("WS_SESSION_COMMAND", support::tail::worker_command()),
            ("WS_AUTH_TOKENS", "alice:alice-secret".to_string()),
            ("WS_TLS_CERT", path("cert.pem")),
            ("WS_TLS_KEY", path("key.pem")),
        ],
    );
    let url = format!("wss://127.0.0.1:{}/jobs", secure.addr().port());
    let out = tail.run(
        &url,
        &[
            "--start",
            "--token",
            "alice-secret",
            "--max-retries",
            "2",
            "--backoff-initial",
            "10",
        ],
    );
    assert_eq!(out.code, Some(3), "{}", out);
    assert!(
        out.stdout.starts_with("error retries_exhausted "),
        "an untrusted certificate: {}",
        out
    );
    let out = tail.run(
        &url,
        &[
            "--start",
            "--ca",
            &ca,
            "--token",
            "wrong",
            "--backoff-initial",
            "10",
        ],
    );
    assert_eq!(out.code, Some(3), "{}", out);
    assert!(out.stdout.starts_with("error unauthorized "), "{}", out);
    assert_eq!(out.stdout.lines().count(), 1, "{}", out);
    let tls = wsgen::wire::tls::client_config(&wsgen::wire::Trust::Insecure).expect("TLS");
    let metrics = runner::http_get_with(
        secure.addr(),
        "/metrics",
        Duration::from_secs(5),
        Some(tls),
        &[],
    )
    .expect("GET /metrics");
    let rejected: Vec<&str> = metrics
        .body
        .lines()
        .filter(|l| l.starts_with("ws_handshake_rejections_total{reason=\"auth\"}"))
        .collect();
    assert_eq!(
        rejected,
        vec!["ws_handshake_rejections_total{reason=\"auth\"} 1"],
        "one attempt, not retried:\n{}",
        metrics.body
    );
    let out = tail.run(
        &url,
        &[
            "--start",
            "--ca",
            &ca,
            "--token",
            "alice-secret",
            "--input",
            r#"{"do":"emit","count":3,"exit":0}"#,
        ],
    );
    assert_eq!(out.code, Some(0), "{}", out);
    assert_eq!(
        out.stdout.lines().skip(1).collect::<Vec<_>>(),
        emitted(1, 3),
        "{}",
        out
    );
    secure.stop(Duration::from_secs(15)).expect("stop");
}

/// The next frame of `kind` on `conn` (presence events are skipped).
async fn answer(conn: &mut wsgen::wire::Connection, kind: &str) -> serde_json::Value {
    loop {
        let message = conn.recv_message().await.expect("an answer");
        let wsgen::wire::Message::Text(text) = message else {
            panic!("a binary frame");
        };
        let frame: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        if frame["type"] == kind {
            return frame;
        }
        assert_ne!(frame["type"], "error", "{frame}");
    }
}

#[test]
fn chat_history_then_live_until_id() {
    let tail = client("specs/chat.yaml");
    let (_project, mut running) = server("specs/chat.yaml", &[]);
    let url = format!("ws://{}/", running.addr());
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut sender = rt.block_on(async {
        let mut conn = wsgen::wire::connect(&url, &Default::default())
            .await
            .expect("sender connects");
        conn.send_text(r#"{"type":"join","room":"r","user":"sender"}"#)
            .await
            .expect("join");
        answer(&mut conn, "joined").await;
        conn
    });
    let send = |conn: &mut wsgen::wire::Connection, n: u32| {
        rt.block_on(async {
            let frame = serde_json::json!({"type": "message", "room": "r", "text": format!("m \"{n}\""), "ref": n});
            conn.send_text(&frame.to_string()).await.expect("message");
            answer(conn, "message").await;
        })
    };
    // Three messages before tail joins (its `joined` history), three after.
    for n in 1..=3 {
        send(&mut sender, n);
    }
    let launch = tail.launch.clone();
    let tail_url = url.clone();
    let follower = std::thread::spawn(move || {
        let args = [&tail_url, "--room", "r", "--user", "u", "--until-id", "6"];
        support::tail::run(&launch, &args)
    });
    // Live ones once tail is in the room (it is named `u` there).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let members = rt.block_on(async {
            sender
                .send_text(r#"{"type":"members","room":"r"}"#)
                .await
                .expect("members");
            answer(&mut sender, "members").await
        });
        if members["members"]
            .as_array()
            .is_some_and(|m| m.iter().any(|u| u == "u"))
        {
            break;
        }
        assert!(Instant::now() < deadline, "tail never joined: {members:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    for n in 4..=6 {
        send(&mut sender, n);
    }
    let out = follower.join().expect("tail thread");
    assert_eq!(out.code, Some(0), "{}", out);
    let expected: Vec<String> = (1..=6)
        .map(|n| format!("{n} sender \"m \\\"{n}\\\"\""))
        .collect();
    assert_eq!(out.stdout.lines().collect::<Vec<_>>(), expected, "{}", out);
    rt.block_on(sender.shutdown());
    running.stop(Duration::from_secs(15)).expect("stop");
}

#[test]
fn echo_round_trip_and_usage() {
    let tail = client("specs/echo.yaml");
    let (_project, mut running) = server("specs/echo.yaml", &[]);
    let url = format!("ws://{}/", running.addr());
    let out = tail.run(&url, &["--send", "hello", "--send", "wörld \"q\""]);
    assert_eq!(out.code, Some(0), "{}", out);
    assert_eq!(
        out.stdout.lines().collect::<Vec<_>>(),
        vec!["\"hello\"", "\"wörld \\\"q\\\"\""],
        "{}",
        out
    );
    let out = tail.run(&url, &["--room", "r"]);
    assert_eq!(out.code, Some(2), "bad arguments: {}", out);
    assert!(out.stdout.is_empty(), "{}", out);
    running.stop(Duration::from_secs(15)).expect("stop");
}
