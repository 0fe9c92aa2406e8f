//! The generated client libraries under faults (src/clients/matrix.rs,
//! docs/clients.md "verify --client"): each client's `tail` example reads
//! through a proxy that cuts its connections every few hundred ms, against a
//! real generated server, and must print every chat message and every
//! session event exactly once, in order:
//! - the diagonal (node/node, python/python, go/go, rust/rust) and two cross
//!   pairs (python client -> go server, go client -> node server), chat and
//!   session (with `attach --after` and `replay_gap` under `whenFull: drop`);
//! - the backoff (a refusing proxy, `--max-retries 6`: 6 attempts spread as
//!   the policy says, `retries_exhausted`) and the 401 (one attempt only)
//!   once each;
//! - the chat backplane: the instance the client is on is killed with
//!   SIGKILL mid-stream, the proxy switched to the other instance.
//!
//! One case runs at a time (timings and cut counts mean something on a
//! loaded machine). A missing toolchain, Python or redis-server fails.

mod support;

use std::sync::{Mutex, OnceLock};
use wsgen::clients::matrix::{Matrix, Outcome, Settings};
use wsgen::lang::Language::{self, Go, Node, Python, Rust};

fn matrix() -> &'static Matrix {
    static M: OnceLock<Matrix> = OnceLock::new();
    M.get_or_init(|| {
        support::require_tool("python3", "install Python 3 (the session worker)");
        Matrix::new(Settings {
            build: support::build_options(),
            ..Settings::default()
        })
        .expect("the matrix's work folder")
    })
}

/// Cases run one at a time, whatever the test harness's threads.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn require(langs: &[Language]) {
    for &l in langs {
        support::require_toolchain(l);
    }
}

fn assert_passed(outcomes: &[Outcome]) {
    for o in outcomes {
        eprintln!("{} -> {}: {}", o.client, o.server, o.line());
    }
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.passed)
        .map(|o| format!("{} {} -> {}: {}", o.case, o.client, o.server, o.detail))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
}

fn pair(client: Language, server: Language) {
    require(&[client, server]);
    let m = matrix();
    // Build outside the lock: builds of other tests may overlap, cases never.
    let _ = m.client(wsgen::clients::matrix::Fixture::Chat, client);
    let _ = m.client(wsgen::clients::matrix::Fixture::Session, client);
    let _ = m.server(wsgen::clients::matrix::Fixture::Chat, server);
    let _ = m.server(wsgen::clients::matrix::Fixture::Session, server);
    let _guard = serial();
    assert_passed(&[m.chat(client, server), m.session(client, server)]);
}

#[test]
fn node_client_node_server() {
    pair(Node, Node);
}

#[test]
fn python_client_python_server() {
    pair(Python, Python);
}

#[test]
fn go_client_go_server() {
    pair(Go, Go);
}

#[test]
fn rust_client_rust_server() {
    pair(Rust, Rust);
}

#[test]
fn python_client_go_server() {
    pair(Python, Go);
}

#[test]
fn go_client_node_server() {
    pair(Go, Node);
}

#[test]
fn backoff_then_retries_exhausted() {
    require(&[Go]);
    let m = matrix();
    let _ = m.client(wsgen::clients::matrix::Fixture::Chat, Go);
    let _guard = serial();
    assert_passed(&[m.backoff(Go)]);
}

#[test]
fn unauthorized_is_fatal_after_one_attempt() {
    require(&[Python, Node]);
    let m = matrix();
    let _ = m.client(wsgen::clients::matrix::Fixture::Chat, Python);
    let _ = m.server(wsgen::clients::matrix::Fixture::SecureChat, Node);
    let _guard = serial();
    assert_passed(&[m.unauthorized(Python, Node)]);
}

#[test]
fn backplane_instance_killed_mid_stream() {
    require(&[Rust, Go]);
    support::require_tool(
        wsgen::runner::redis::REDIS_SERVER,
        wsgen::runner::redis::REDIS_INSTALL,
    );
    let m = matrix();
    let _ = m.client(wsgen::clients::matrix::Fixture::Chat, Rust);
    let _ = m.server(wsgen::clients::matrix::Fixture::Backplane, Go);
    let _guard = serial();
    assert_passed(&[m.backplane(Rust, Go)]);
}

/// `wsgen verify --client`'s arguments: lists of languages, and the flags
/// that belong to the other form refused (nothing is built).
#[test]
fn verify_client_arguments() {
    let wsgen = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_wsgen"))
            .args(args)
            .output()
            .expect("run wsgen");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let (code, text) = wsgen(&["verify", "--help"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("--client") && text.contains("--server-language"),
        "{text}"
    );
    for bad in [
        &["verify", "--client", "--spec", "specs/echo.yaml"][..],
        &[
            "verify",
            "--spec",
            "specs/echo.yaml",
            "--language",
            "go",
            "--server-language",
            "go",
        ],
        &["verify", "--client", "--language", "go,cobol"],
        &["verify"],
    ] {
        let (code, text) = wsgen(bad);
        assert_eq!(code, Some(2), "{bad:?}: {text}");
    }
}
