//! The Go output, end to end: for each spec, generate the project, check that
//! it is gofmt-clean exactly as rendered and `go vet`-clean, download the
//! pinned module, and run the project's own `go test ./...` (which boots the
//! real server and talks to it over a socket). Everything runs with
//! GOFLAGS=-mod=readonly, so a stale go.sum in the templates fails. The
//! adversarial spec is also built, booted, and its /healthz name compared
//! with the IR's, and it must exit 0 on SIGTERM.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};
use wsgen::lang::Language;
use wsgen::runner::{self, BuildOptions};

const INSTALL_GO: &str = "install Go 1.23 or newer (https://go.dev/doc/install; \
    Debian/Ubuntu: apt-get install golang-go) and put `go` and `gofmt` on PATH";
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

    let launch = runner::prepare_project(
        &server,
        Language::Go,
        project.path(),
        &BuildOptions::default(),
    )
    .unwrap_or_else(|e| panic!("building the adversarial Go project: {e}"));
    let mut running = runner::boot(&launch, &[], project.path(), "adversarial")
        .unwrap_or_else(|e| panic!("booting the adversarial Go server: {e}"));
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

/// Generate, check formatting and vet, run the project's own tests; returns the project.
fn check_spec(spec: &str) -> tempfile::TempDir {
    support::require_tool("go", INSTALL_GO);
    let project = support::generate(spec, Language::Go);
    let dir = project.path();
    let started = Instant::now();

    let unformatted = gofmt(dir, "-l");
    assert!(
        unformatted.trim().is_empty(),
        "{spec}: the rendered Go is not gofmt-clean:\n{}",
        gofmt(dir, "-d")
    );
    go(dir, &["mod", "download"]);
    go(dir, &["vet", "./..."]);
    let out = go(dir, &["test", "-count=1", "./..."]);
    eprintln!(
        "{spec}: go test {} in {:.1}s (gofmt, vet and test)",
        out.lines().last().unwrap_or("").trim(),
        started.elapsed().as_secs_f64()
    );
    project
}

/// `go ARGS` in `dir` with GOFLAGS=-mod=readonly and none of the server's
/// variables inherited; panics with the output on failure.
fn go(dir: &Path, args: &[&str]) -> String {
    let mut cmd = Command::new("go");
    cmd.args(args)
        .current_dir(dir)
        .env("GOFLAGS", "-mod=readonly");
    for var in SERVER_ENV {
        cmd.env_remove(var);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run `go` ({e}): {INSTALL_GO}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "`go {}` failed in {} ({}):\n{text}",
        args.join(" "),
        dir.display(),
        out.status
    );
    text
}

/// `gofmt FLAG .` in `dir` (gofmt has no version flag for require_tool).
fn gofmt(dir: &Path, flag: &str) -> String {
    let out = Command::new("gofmt")
        .args([flag, "."])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("required tool `gofmt` cannot run ({e}): {INSTALL_GO}"));
    assert!(
        out.status.success(),
        "gofmt {flag} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
