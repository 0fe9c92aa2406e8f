//! The Node.js output, end to end: for each spec, generate the project,
//! `node --check` every `.js` file, install its pinned dependencies from the
//! npm registry (once per run into a cache under target/, keyed by the pins,
//! and linked into each project), and run the project's own `npm test`, which
//! boots the real server and talks to it over a socket. The adversarial spec
//! is also booted here and its /healthz name compared with the IR's.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use wsgen::lang::{Language, deps};
use wsgen::runner::{Launch, ServerProcess, free_port, http_get};

const INSTALL_NODE: &str = "install Node.js 20 or newer with npm \
    (Debian/Ubuntu: apt-get install nodejs npm, or https://nodejs.org)";
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

    let launch = Launch {
        program: "node".into(),
        args: vec!["src/main.js".into()],
        dir: project.path().to_path_buf(),
        env: vec![],
    };
    let port = free_port().expect("a free port");
    let log = project.path().join("server.log");
    let mut running = ServerProcess::start(&launch, port, &log).expect("starting the server");
    running
        .wait_ready(Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{spec}: {e}"));
    let (status, body) =
        http_get(running.addr(), "/healthz", Duration::from_secs(5)).expect("GET /healthz");
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
        .expect("stopping the server");
    assert_eq!(
        exit.code(),
        Some(0),
        "exit status after SIGTERM; log:\n{}",
        running.logs()
    );
}

/// Generate, check the syntax, install, run the project's own tests; returns the project.
fn check_spec(spec: &str) -> tempfile::TempDir {
    let node_modules = installed_dependencies();
    let project = support::generate(spec, Language::Node);
    node_check(project.path());
    std::os::unix::fs::symlink(node_modules, project.path().join("node_modules"))
        .expect("linking node_modules");

    let started = Instant::now();
    let mut npm = Command::new("npm");
    npm.args(["test", "--silent"]).current_dir(project.path());
    for var in SERVER_ENV {
        npm.env_remove(var);
    }
    let out = npm
        .output()
        .unwrap_or_else(|e| panic!("cannot run npm: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{spec}: the generated project's npm test failed ({}):\n{text}",
        out.status
    );
    let summary: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("# pass") || l.starts_with("# fail"))
        .collect();
    eprintln!(
        "{spec}: npm test {} in {:.1}s",
        summary.join(", "),
        started.elapsed().as_secs_f64()
    );
    project
}

/// `node --check` on every generated `.js` file.
fn node_check(project: &Path) {
    let mut files = Vec::new();
    collect_js(project, &mut files);
    assert!(
        !files.is_empty(),
        "no .js files generated in {}",
        project.display()
    );
    for file in files {
        let out = Command::new("node")
            .arg("--check")
            .arg(&file)
            .output()
            .unwrap_or_else(|e| panic!("cannot run node: {e}"));
        assert!(
            out.status.success(),
            "node --check {} failed:\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

fn collect_js(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reading the project") {
        let path = entry.expect("dir entry").path();
        if path.file_name().is_some_and(|n| n == "node_modules") {
            continue;
        }
        if path.is_dir() {
            collect_js(&path, out);
        } else if path.extension().is_some_and(|e| e == "js") {
            out.push(path);
        }
    }
}

/// The pinned npm dependencies, installed from the registry once per set of
/// pins into target/node-deps/<key>/node_modules.
fn installed_dependencies() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        check_toolchain();
        let pins = deps::for_language(Language::Node);
        let key: Vec<String> = pins
            .iter()
            .map(|(k, v)| format!("{k}-{}", v.as_str().unwrap_or("")))
            .collect();
        let dir = support::repo()
            .join("target")
            .join("node-deps")
            .join(key.join("_"));
        let node_modules = dir.join("node_modules");
        let stamp = dir.join(".installed");
        if stamp.exists() && node_modules.is_dir() {
            return node_modules;
        }
        // The package.json of a generated project carries exactly the pins.
        let project = support::generate("specs/echo.yaml", Language::Node);
        std::fs::create_dir_all(&dir).expect("creating the npm cache folder");
        std::fs::copy(
            project.path().join("package.json"),
            dir.join("package.json"),
        )
        .expect("copying package.json");
        support::run(
            &dir,
            "npm",
            &["install", "--no-audit", "--no-fund", "--loglevel=error"],
            &[],
        );
        std::fs::write(&stamp, key.join("\n")).expect("writing the stamp");
        node_modules
    })
}

/// node >= 20 and npm on PATH, or a failure that says how to install them.
fn check_toolchain() {
    support::require_tool("node", INSTALL_NODE);
    support::require_tool("npm", INSTALL_NODE);
    let version = support::run(Path::new("."), "node", &["--version"], &[]);
    let major: u32 = version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    assert!(
        major >= 20,
        "Node.js {} is too old: {INSTALL_NODE}",
        version.trim()
    );
}
