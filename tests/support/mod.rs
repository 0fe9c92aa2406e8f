//! Helpers shared by the integration tests, one parameterised body per
//! concern: generate a spec into a temp folder, require a language's
//! toolchain, run a project's own checks with the server's variables cleared,
//! boot a project through the runner, and the adversarial `/healthz`
//! round-trip with the SIGTERM exit. Each `tests/lang_<language>.rs` is then
//! its list of cases plus the language's own checks.
#![allow(dead_code)]

pub mod browser;
pub mod lint;
pub mod mcp;
pub mod tail;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use wsgen::ir::Server;
use wsgen::lang::Language;
use wsgen::runner::{self, BuildOptions, ServerProcess};

/// The specs every language's own tests run (`tests/lang_<language>.rs`):
/// `every_spec!()` there declares one test per entry, each calling that
/// file's `check_spec(path)`, so a spec added here is checked in all four.
/// - the mcp specs: the projects' own tests run a stdio child they ship,
///   not the spec's command (nothing is downloaded);
/// - `chat-redis`: the projects' tests start a redis-server of their own
///   (two instances on it, an outage, a reaped instance): it must be
///   installed;
/// - the session specs: the projects' tests start their own worker;
///   `secure-session` adds token auth, `whenFull: drop`, forwarded stderr
///   and a rate limit.
#[macro_export]
macro_rules! every_spec {
    () => {
        $crate::every_spec! {
            echo => "specs/echo.yaml",
            subprotocols => "specs/subprotocols.yaml",
            subprotocols_required => "specs/subprotocols-required.yaml",
            compression => "specs/compression.yaml",
            chat => "specs/chat.yaml",
            chat_minimal => "specs/chat-minimal.yaml",
            chat_redis => "specs/chat-redis.yaml",
            secure_echo => "specs/secure-echo.yaml",
            secure_chat => "specs/secure-chat.yaml",
            mcp => "specs/mcp.yaml",
            mcp_time => "specs/mcp-time.yaml",
            session => "specs/session.yaml",
            secure_session => "tests/fixtures/secure-session.yaml",
        }
    };
    ($($name:ident => $spec:literal),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                check_spec($spec);
            }
        )*
    };
}

/// A spec whose strings are full of quotes, newlines, `$` and braces.
pub const ADVERSARIAL: &str = "tests/fixtures/adversarial.yaml";

/// Variables the generated server reads; a project's own tests set their own.
pub const SERVER_ENV: &[&str] = &[
    "HOST",
    "PORT",
    "WS_MAX_PAYLOAD",
    "WS_PING_INTERVAL",
    "WS_COMPRESSION",
    // docs/security.md
    "WS_ALLOWED_ORIGINS",
    "WS_AUTH_TOKENS",
    "WS_AUTH_TOKENS_FILE",
    "WS_JWT_SECRET",
    "WS_JWT_PUBLIC_KEY_FILE",
    "WS_JWT_ISSUER",
    "WS_JWT_AUDIENCE",
    "WS_TLS_CERT",
    "WS_TLS_KEY",
    "WS_MAX_CONNECTIONS",
    "WS_MAX_CONNECTIONS_PER_IP",
    "WS_RATE_LIMIT",
    "WS_HANDSHAKE_TIMEOUT",
    "WS_METRICS",
    "WS_LOG_FORMAT",
    "WS_TRUST_PROXY",
];

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The IR of `spec` (a path relative to the repo).
pub fn load(spec: &str) -> Server {
    wsgen::pipeline::load_server(Some(&repo().join(spec)), &Default::default())
        .unwrap_or_else(|e| panic!("{spec}: {e}"))
}

/// Generate `spec` (a path relative to the repo) for `lang` into a fresh temp folder.
pub fn generate(spec: &str, lang: Language) -> tempfile::TempDir {
    let server = load(spec);
    let dir = tempfile::Builder::new()
        .prefix(&format!("wsgen-{}-", lang.name()))
        .tempdir()
        .expect("temp dir");
    wsgen::pipeline::generate_into(&server, lang, dir.path())
        .unwrap_or_else(|e| panic!("{spec} -> {lang}: {e}"));
    dir
}

/// Shared target folder for generated Rust projects, so dependencies compile once.
pub fn cargo_target_dir() -> PathBuf {
    std::env::var_os("WSGEN_CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target").join("generated"))
}

/// Where the runner keeps built projects for the tests, by content
/// (`BuildOptions::build_cache`): every test binary of a `cargo test` run
/// (verify, chat_page, cluster, mcp_sdk, interop, ...) builds a given
/// spec x language project once and boots that build.
pub fn build_cache() -> PathBuf {
    repo().join("target").join("wsgen-builds")
}

/// The runner's build settings for tests: debug builds, Rust in the shared
/// target folder, built projects shared through [`build_cache`].
pub fn build_options() -> BuildOptions {
    BuildOptions {
        cargo_target_dir: cargo_target_dir(),
        build_cache: Some(build_cache()),
        ..BuildOptions::default()
    }
}

/// Panic, naming the tool and how to install it, unless `lang`'s toolchain
/// (as its driver lists it, with version floors) is on PATH.
pub fn require_toolchain(lang: Language) {
    if let Err(e) = wsgen::runner::toolchain::check(lang) {
        panic!("{e}");
    }
}

/// Panic with install instructions when `tool` is not on PATH.
pub fn require_tool(tool: &str, install: &str) {
    let ok = Command::new(tool)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    let ok_version = || {
        Command::new(tool)
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !ok && !ok_version() {
        panic!("required tool `{tool}` is not installed or not on PATH: {install}");
    }
}

/// Run a command in `dir`, panicking with its output on failure.
pub fn run(dir: &Path, program: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{program}` (is it installed?): {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "`{program} {}` failed in {} ({}):\n{text}",
        args.join(" "),
        dir.display(),
        out.status
    );
    text
}

/// Run one of a project's own checks (`go vet`, `cargo test`, `npm test`,
/// pytest, ...) in `dir` with `env` and none of the server's variables
/// inherited; panics with `spec`, the command and its output on failure
/// (`install` when it cannot start). Returns stdout and stderr.
pub fn check(
    spec: &str,
    dir: &Path,
    program: impl AsRef<std::ffi::OsStr>,
    args: &[&str],
    env: &[(&str, &str)],
    install: &str,
) -> String {
    let program = program.as_ref();
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(dir).envs(env.iter().copied());
    for var in SERVER_ENV {
        cmd.env_remove(var);
    }
    let shown = Path::new(program).display();
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{shown}` ({e}): {install}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{spec}: `{shown} {}` failed in {} ({}):\n{text}",
        args.join(" "),
        dir.display(),
        out.status
    );
    text
}

/// Every file under `dir` with extension `ext` (not under `node_modules`);
/// panics when there is none.
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    fn collect(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("reading the project") {
            let path = entry.expect("dir entry").path();
            if path.file_name().is_some_and(|n| n == "node_modules") {
                continue;
            }
            if path.is_dir() {
                collect(&path, ext, out);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    collect(dir, ext, &mut files);
    assert!(
        !files.is_empty(),
        "no .{ext} files generated in {}",
        dir.display()
    );
    files
}

/// How the project reaches the state the runner launches it from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Install {
    /// The runner installs and builds it (its driver's plan).
    Runner,
    /// The language's checks already installed its dependencies into the
    /// project (Node links the shared `node_modules`), so only the plan's
    /// launch is used.
    ByChecks,
}

/// Boot the project generated for `server` in `dir` through the runner.
pub fn boot(server: &Server, lang: Language, dir: &Path, install: Install) -> ServerProcess {
    let opts = build_options();
    let launch = match install {
        Install::Runner => runner::prepare_project(server, lang, dir, &opts)
            .unwrap_or_else(|e| panic!("building the {lang} project: {e}")),
        Install::ByChecks => {
            lang.driver()
                .build_plan(dir, &lang.names(server), &opts)
                .launch
        }
    };
    runner::boot(&launch, &[], dir, "adversarial")
        .unwrap_or_else(|e| panic!("booting the {lang} server: {e}"))
}

/// Generate `spec`'s `lang` server, build it through the runner and boot it
/// on 127.0.0.1 (a free port) with `env`; the project folder lives as long
/// as the returned guard (the process is stopped when dropped).
pub fn serve(
    spec: &str,
    lang: Language,
    env: &[(&str, &str)],
) -> (tempfile::TempDir, ServerProcess) {
    require_toolchain(lang);
    let project = generate(spec, lang);
    let launch = runner::prepare_project(&load(spec), lang, project.path(), &build_options())
        .unwrap_or_else(|e| panic!("{spec}: building the {lang} server: {e}"));
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let running = runner::boot(&launch, &env, project.path(), "server")
        .unwrap_or_else(|e| panic!("{spec}: booting the {lang} server: {e}"));
    (project, running)
}

/// The adversarial spec, end to end in `lang`: it passes the language's
/// `checks`, builds and boots through the runner, `/healthz` returns the
/// spec's name exactly as the IR holds it, and SIGTERM stops it with exit 0
/// and the contract's log lines.
pub fn adversarial_round_trip(
    lang: Language,
    checks: impl Fn(&str) -> tempfile::TempDir,
    install: Install,
) {
    let project = checks(ADVERSARIAL);
    let server = load(ADVERSARIAL);
    let mut running = boot(&server, lang, project.path(), install);

    let reply = runner::http_get(running.addr(), "/healthz", Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("GET /healthz: {e}\n{}", running.logs()));
    let body = &reply.body;
    assert_eq!(
        reply.status,
        200,
        "GET /healthz: {reply:?}\n{}",
        running.logs()
    );
    assert!(
        reply
            .header("content-type")
            .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json")),
        "GET /healthz: {reply:?}"
    );
    let health: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("/healthz is not JSON ({e}): {body}"));
    assert_eq!(
        health["name"].as_str(),
        Some(server.name.as_str()),
        "/healthz: {body}"
    );
    assert_eq!(health["status"], "ok", "/healthz: {body}");
    assert_eq!(health["type"], "echo", "/healthz: {body}");

    let exit = running
        .stop(Duration::from_secs(10))
        .unwrap_or_else(|e| panic!("{e}\n{}", running.logs()));
    let logs = running.logs();
    assert_eq!(
        exit.code(),
        Some(0),
        "{lang}: exit status after SIGTERM; log:\n{logs}"
    );
    assert!(
        logs.contains("listening on ws://127.0.0.1:"),
        "{lang}: log:\n{logs}"
    );
    assert!(
        logs.lines().last() == Some("stopped"),
        "{lang}: log:\n{logs}"
    );
}

/// The Python of a virtual environment in `dir` holding `pins` (`name==1.2.3`),
/// made once: built next to `dir` and renamed into place, so a run that
/// dies half-way leaves no broken environment and concurrent runs never see
/// a partial one.
pub fn python_venv(dir: &Path, pins: &[String]) -> PathBuf {
    let python = dir.join("bin").join("python");
    if dir.join("ready").exists() {
        return python;
    }
    require_toolchain(Language::Python);
    let building = dir.with_extension(format!("building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    std::fs::create_dir_all(building.parent().expect("a parent folder"))
        .unwrap_or_else(|e| panic!("creating the parent of {}: {e}", dir.display()));
    run(
        Path::new("."),
        "python3",
        &["-m", "venv", building.to_str().expect("UTF-8 path")],
        &[],
    );
    let mut install = vec![
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "-q",
    ];
    install.extend(pins.iter().map(String::as_str));
    run(
        &building,
        building.join("bin/python").to_str().expect("UTF-8 path"),
        &install,
        &[],
    );
    std::fs::write(building.join("ready"), pins.join("\n")).expect("mark the venv ready");
    if std::fs::rename(&building, dir).is_err() {
        // Another run finished first: use its environment.
        let _ = std::fs::remove_dir_all(&building);
        assert!(
            dir.join("ready").exists(),
            "could not create {}",
            dir.display()
        );
    }
    python
}

/// How to get Go, for the errors of the Go checks.
pub const INSTALL_GO: &str = "install Go 1.23 or newer (https://go.dev/doc/install; \
    Debian/Ubuntu: apt-get install golang-go) and put `go` and `gofmt` on PATH";

/// A generated Go module's own checks, as its README gives them: gofmt-clean
/// as rendered, `go vet` and `go test` with the go.sum it ships
/// (`-mod=readonly`); returns `go test`'s output. `what` names it in failures.
pub fn go_checks(what: &str, dir: &Path) -> String {
    require_toolchain(Language::Go);
    let unformatted = gofmt(dir, "-l");
    assert!(
        unformatted.trim().is_empty(),
        "{what}: the rendered Go is not gofmt-clean:\n{}",
        gofmt(dir, "-d")
    );
    let go = |args: &[&str]| {
        check(
            what,
            dir,
            "go",
            args,
            &[("GOFLAGS", "-mod=readonly")],
            INSTALL_GO,
        )
    };
    go(&["mod", "download"]);
    go(&["vet", "./..."]);
    go(&["test", "-count=1", "./..."])
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
