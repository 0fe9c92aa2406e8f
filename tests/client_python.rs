//! The Python client library (`--client`, docs/protocol/clients-v1.md), end
//! to end: for specs/echo.yaml, specs/chat.yaml and specs/session.yaml,
//! generate the client, check it with the pinned Ruff (`ruff check`, `ruff
//! format --check`) and mypy (`mypy --strict`), run its own pytest suite
//! (against a scripted server), install it through the driver's
//! `client_build_plan`, boot the real generated Python server of the same
//! spec and drive it with the client's `tail` example over the socket:
//! - session: `--start` prints `session ID TOKEN`, the 501 events of a worker
//!   emitting 500 lines in order, and `exit 502 code 0`; a second tail
//!   `--attach ID --session-token T --after 250` prints exactly 251..502;
//! - chat: messages sent by another connection, before and after the tail
//!   joined, are printed once each, in order, until `--until-id`;
//! - echo: what it sends comes back;
//! - a server with token auth (tests/fixtures/secure-session.yaml): no token
//!   gives `error unauthorized ...` and exit status 3 after ONE handshake
//!   (the metric of rejected handshakes says 1), the token works.
//!
//! The lint and test tools live in one virtual environment under
//! target/lint-tools/, keyed by the pins of src/lang/deps.rs.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use wsgen::lang::{Language, deps};
use wsgen::runner::{self, Launch, ServerProcess};

const INSTALL_PYTHON: &str = "install Python 3.10 or newer with venv and pip \
    (Debian/Ubuntu: apt-get install python3 python3-venv python3-pip)";

#[test]
fn echo_client() {
    let client = Client::check("specs/echo.yaml");
    let server = Server::boot("specs/echo.yaml", &[]);
    let url = server.url("/");
    let out = client.tail(&[&url, "--send", "hello", "--send", "say \"hi\""]);
    out.expect(0, "");
    assert_eq!(out.lines(), ["\"hello\"", "\"say \\\"hi\\\"\""], "{out}");
}

#[test]
fn chat_client() {
    let client = Client::check("specs/chat.yaml");
    let server = Server::boot("specs/chat.yaml", &[]);
    let url = server.url("/");
    // Three messages before the tail joins (its `joined` history), three
    // after (live), from another connection of the same library.
    client.send_chat(&url, "r1", "w", &["one", "two \"2\"", "three"]);
    let tail = client.spawn_tail(&[&url, "--room", "r1", "--user", "u", "--until-id", "6"]);
    client.send_chat(&url, "r1", "v", &["four", "five", "six"]);
    let out = tail.finish();
    out.expect(0, "");
    assert_eq!(
        out.lines(),
        [
            "1 w \"one\"",
            "2 w \"two \\\"2\\\"\"",
            "3 w \"three\"",
            "4 v \"four\"",
            "5 v \"five\"",
            "6 v \"six\"",
        ],
        "{out}\n{}",
        server.logs()
    );
}

#[test]
fn session_client() {
    let client = Client::check("specs/session.yaml");
    let command = support::tail::worker_command();
    let server = Server::boot("specs/session.yaml", &[("WS_SESSION_COMMAND", &command)]);
    let url = server.url("/");

    let out = client.tail(&[
        &url,
        "--start",
        "--input",
        r#"{"do":"emit","count":500,"exit":0}"#,
    ]);
    out.expect(0, "");
    let lines = out.lines();
    assert_eq!(lines.len(), 503, "{out}");
    let head: Vec<&str> = lines[0].split(' ').collect();
    assert!(
        head.len() == 3 && head[0] == "session" && head[1].len() == 32 && head[2].len() == 64,
        "{out}"
    );
    let (session, token) = (head[1].to_string(), head[2].to_string());
    let expected = expected_events(0);
    assert_eq!(lines[1..], expected[..], "{out}");

    let out = client.tail(&[
        &url,
        "--attach",
        &session,
        "--session-token",
        &token,
        "--after",
        "250",
    ]);
    out.expect(0, "");
    assert_eq!(out.lines(), expected_events(250), "{out}");

    // A wrong token is the server's typed error, exit status 3.
    let out = client.tail(&[&url, "--attach", &session, "--session-token", "0"]);
    out.expect(3, "");
    assert!(
        out.lines().len() == 1 && out.lines()[0].starts_with("error unknown_session "),
        "{out}"
    );
}

/// The token server: 401 without the token (one attempt, no retry), the
/// session runs with it.
#[test]
fn unauthorized_is_fatal_and_the_token_works() {
    let spec = "tests/fixtures/secure-session.yaml";
    let client = Client::check("specs/session.yaml");
    let command = support::tail::worker_command();
    let server = Server::boot(
        spec,
        &[
            ("WS_SESSION_COMMAND", &command),
            ("WS_AUTH_TOKENS", "alice:s3cret-token"),
        ],
    );
    let url = server.url("/jobs");
    let input = r#"{"do":"emit","count":3,"exit":0}"#;

    let started = Instant::now();
    let out = client.tail(&[&url, "--start", "--input", input, "--backoff-initial", "50"]);
    out.expect(3, "");
    assert_eq!(out.lines().len(), 1, "{out}");
    assert!(out.lines()[0].starts_with("error unauthorized "), "{out}");
    assert!(started.elapsed() < Duration::from_secs(10), "{out}");
    let metrics = runner::http_get(server.process.addr(), "/metrics", Duration::from_secs(5))
        .expect("GET /metrics");
    assert!(
        metrics
            .body
            .lines()
            .filter_map(|l| l.strip_prefix("ws_handshake_rejections_total{reason=\"auth\"} "))
            .any(|v| v.parse::<f64>() == Ok(1.0)),
        "one handshake, not retried:\n{}",
        metrics.body
    );

    let out = client.tail(&[&url, "--start", "--input", input, "--token", "s3cret-token"]);
    out.expect(0, "");
    let lines = out.lines();
    assert!(lines[0].starts_with("session "), "{out}");
    assert_eq!(
        lines[1..],
        [
            "1 {\"n\":1,\"pad\":\"\"}",
            "2 {\"n\":2,\"pad\":\"\"}",
            "3 {\"n\":3,\"pad\":\"\"}",
            "4 {\"emitted\":3}",
            "exit 5 code 0",
        ],
        "{out}"
    );
}

/// The lines a tail prints for the 500-event session after seq `after`.
fn expected_events(after: usize) -> Vec<String> {
    let mut lines: Vec<String> = (1..=500)
        .map(|n| format!("{n} {{\"n\":{n},\"pad\":\"\"}}"))
        .collect();
    lines.push("501 {\"emitted\":500}".into());
    lines.push("exit 502 code 0".into());
    lines.split_off(after)
}

// ---- the client package --------------------------------------------------

struct Client {
    spec: &'static str,
    _dir: tempfile::TempDir,
    launch: Launch,
}

impl Client {
    /// Generate the client of `spec`, lint it, run its own tests, install it.
    fn check(spec: &'static str) -> Client {
        let python = tools_python();
        let server = support::load(spec);
        let dir = tempfile::Builder::new()
            .prefix("wsgen-client-python-")
            .tempdir()
            .expect("temp dir");
        wsgen::pipeline::generate_client_into(&server, Language::Python, dir.path())
            .unwrap_or_else(|e| panic!("{spec}: {e}"));
        let bin = python.parent().expect("venv bin");
        let checks: [(PathBuf, Vec<&str>); 4] = [
            (bin.join("ruff"), vec!["check", "--no-cache", "."]),
            (
                bin.join("ruff"),
                vec!["format", "--check", "--no-cache", "."],
            ),
            (
                python.to_path_buf(),
                // No cache written into the project (the runner's build
                // cache is keyed by the project's files).
                vec!["-m", "mypy", "--strict", "--cache-dir", "/dev/null", "."],
            ),
            (
                python.to_path_buf(),
                vec!["-m", "pytest", "-q", "-p", "no:cacheprovider"],
            ),
        ];
        for (program, args) in &checks {
            let started = Instant::now();
            let text = support::check(
                spec,
                dir.path(),
                program,
                args,
                &[("PYTHONDONTWRITEBYTECODE", "1"), ("NO_COLOR", "1")],
                INSTALL_PYTHON,
            );
            eprintln!(
                "{spec}: {} {} in {:.1}s: {}",
                program.file_name().unwrap().to_string_lossy(),
                args.join(" "),
                started.elapsed().as_secs_f64(),
                text.lines().last().unwrap_or("").trim()
            );
        }
        let launch = runner::prepare_client_project(
            &server,
            Language::Python,
            dir.path(),
            &support::build_options(),
        )
        .unwrap_or_else(|e| panic!("{spec}: installing the client: {e}"));
        Client {
            spec,
            _dir: dir,
            launch,
        }
    }

    fn spawn_tail(&self, args: &[&str]) -> support::tail::Running {
        support::tail::spawn(&self.launch, args)
    }

    /// Run tail to its end.
    fn tail(&self, args: &[&str]) -> support::tail::Tail {
        support::tail::run(&self.launch, args)
    }

    /// Send `texts` to `room` as `user` from another connection, with the
    /// library itself (each `message` request answered before the next).
    fn send_chat(&self, url: &str, room: &str, user: &str, texts: &[&str]) {
        let module = format!("{}_client", support::load(self.spec).slug.replace('-', "_"));
        let script = format!(
            "import asyncio, json, sys\n\
             from {module} import connect\n\
             async def main():\n\
             \x20   client = await connect(sys.argv[1], user=sys.argv[3])\n\
             \x20   await client.join(sys.argv[2])\n\
             \x20   for text in json.loads(sys.argv[4]):\n\
             \x20       await client.message(sys.argv[2], text)\n\
             \x20   await client.close()\n\
             asyncio.run(main())\n"
        );
        let texts = serde_json::to_string(texts).unwrap();
        let out = Command::new(&self.launch.program)
            .args(["-c", &script, url, room, user, &texts])
            .current_dir(&self.launch.dir)
            .output()
            .expect("running the client's python");
        assert!(
            out.status.success(),
            "sending chat messages: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

// ---- the real server -----------------------------------------------------

struct Server {
    process: ServerProcess,
    _dir: tempfile::TempDir,
}

impl Server {
    /// The generated Python server of `spec`, built by the runner, on a free port.
    fn boot(spec: &str, env: &[(&str, &str)]) -> Server {
        let (dir, process) = support::serve(spec, Language::Python, env);
        Server { process, _dir: dir }
    }

    fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.process.addr())
    }

    fn logs(&self) -> String {
        self.process.logs()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.process.stop(Duration::from_secs(10));
    }
}

// ---- the tools -------------------------------------------------------------

/// The Python of a virtual environment holding the pinned websockets,
/// pytest, Ruff and mypy, created once per set of pins.
fn tools_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    static CREATING: Mutex<()> = Mutex::new(());
    let _one = CREATING.lock().unwrap_or_else(|e| e.into_inner());
    PYTHON.get_or_init(create_tools)
}

fn create_tools() -> PathBuf {
    support::require_toolchain(Language::Python);
    let pins: Vec<String> = [
        ("websockets", "websockets"),
        ("pytest", "pytest"),
        ("ruff", "ruff"),
        ("mypy", "client_mypy"),
    ]
    .iter()
    .map(|(name, key)| format!("{name}=={}", deps::version(Language::Python, key)))
    .collect();
    let key = format!("python-client-{}", pins.join("-").replace("==", "-"));
    support::python_venv(
        &support::repo().join("target").join("lint-tools").join(key),
        &pins,
    )
}
