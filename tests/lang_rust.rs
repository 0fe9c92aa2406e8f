//! The Rust output, end to end: for each spec, generate the project, build it,
//! run clippy on it (warnings are errors) and run its own `cargo test` (which
//! boots the real server binary and talks to it over sockets). Every generated
//! project builds into one shared target folder (`support::cargo_target_dir()`)
//! with the same dependency set, so the dependencies compile once. The
//! adversarial spec is also booted: its /healthz name must equal the IR's, and
//! it must exit 0 on SIGTERM.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use wsgen::lang::Language;
use wsgen::runner::{self, BuildOptions};

const INSTALL_RUST: &str = "install a Rust toolchain 1.85 or newer with clippy \
    (https://rustup.rs, then `rustup component add clippy`) and put `cargo` on PATH";

/// Variables the generated server reads; its tests set their own.
const SERVER_ENV: [&str; 5] = [
    "HOST",
    "PORT",
    "WS_MAX_PAYLOAD",
    "WS_PING_INTERVAL",
    "WS_COMPRESSION",
];

#[test]
fn echo() {
    check_spec("specs/echo.yaml");
}

#[test]
fn subprotocols() {
    check_spec("specs/subprotocols.yaml");
}

#[test]
fn compression() {
    check_spec("specs/compression.yaml");
}

#[test]
fn chat() {
    check_spec("specs/chat.yaml");
}

#[test]
fn chat_minimal() {
    check_spec("specs/chat-minimal.yaml");
}

#[test]
fn adversarial_values_round_trip() {
    let spec = "tests/fixtures/adversarial.yaml";
    let project = check_spec(spec);
    let server =
        wsgen::pipeline::load_server(Some(&support::repo().join(spec)), &Default::default())
            .unwrap_or_else(|e| panic!("{spec}: {e}"));

    let options = BuildOptions {
        cargo_target_dir: support::cargo_target_dir(),
        ..BuildOptions::default()
    };
    let launch = runner::prepare_project(&server, Language::Rust, project.path(), &options)
        .unwrap_or_else(|e| panic!("building the adversarial Rust project: {e}"));
    let mut running = runner::boot(&launch, &[], project.path(), "adversarial")
        .unwrap_or_else(|e| panic!("booting the adversarial Rust server: {e}"));
    let (status, body) = runner::http_get(running.addr(), "/healthz", Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("GET /healthz: {e}\n{}", running.logs()));
    assert_eq!(status, 200, "/healthz: {body}");
    let health: serde_json::Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("/healthz is not JSON ({e}): {body}"));
    assert_eq!(
        health["name"].as_str(),
        Some(server.name.as_str()),
        "/healthz: {body}"
    );
    assert_eq!(health["status"], "ok");
    assert_eq!(health["type"], "echo");

    let exit = running
        .stop(Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("{e}\n{}", running.logs()));
    let logs = running.logs();
    assert_eq!(
        exit.code(),
        Some(0),
        "exit status after SIGTERM; stderr:\n{logs}"
    );
    assert!(
        logs.contains("listening on ws://127.0.0.1:"),
        "stderr:\n{logs}"
    );
    assert!(logs.lines().last() == Some("stopped"), "stderr:\n{logs}");
}

/// Generate, build, clippy, and run the project's own tests; returns the project.
fn check_spec(spec: &str) -> tempfile::TempDir {
    support::require_tool("cargo", INSTALL_RUST);
    support::require_tool("cargo-clippy", INSTALL_RUST);
    let project = support::generate(spec, Language::Rust);
    let dir = project.path();
    let started = Instant::now();

    cargo(dir, &["build", "--all-targets"]);
    let built = started.elapsed();
    cargo(dir, &["clippy", "--all-targets", "--", "-D", "warnings"]);
    let out = cargo(dir, &["test"]);
    let results: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("test result:"))
        .collect();
    assert!(
        !results.is_empty(),
        "{spec}: cargo test ran no test:\n{out}"
    );
    eprintln!(
        "{spec}: build {:.1}s, clippy + test {:.1}s; {}",
        built.as_secs_f64(),
        (started.elapsed() - built).as_secs_f64(),
        results.join("; ")
    );
    project
}

/// `cargo ARGS` in `dir` with the shared target folder and none of the
/// server's variables inherited; panics with the output on failure. (Warnings
/// are denied through clippy's `-D warnings`, not RUSTFLAGS, which would make
/// every build recompile the dependencies.)
fn cargo(dir: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new("cargo");
    cmd.args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", support::cargo_target_dir());
    for var in SERVER_ENV {
        cmd.env_remove(var);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run `cargo` ({e}): {INSTALL_RUST}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "`cargo {}` failed in {} ({}):\n{text}",
        args.join(" "),
        dir.display(),
        out.status
    );
    text
}
