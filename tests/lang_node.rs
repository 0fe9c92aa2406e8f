//! The Node.js output, end to end: for each spec, generate the project,
//! `node --check` every `.js` file, install its pinned dependencies from the
//! npm registry (once per run into a cache under target/, keyed by the pins,
//! and linked into each project), and run the project's own `npm test`, which
//! boots the real server and talks to it over a socket. The adversarial spec
//! is also booted here and its /healthz name compared with the IR's, and it
//! must exit 0 on SIGTERM.

mod support;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;
use support::Install;
use wsgen::lang::{Language, deps};

const INSTALL_NODE: &str = "install Node.js 20 or newer with npm \
    (Debian/Ubuntu: apt-get install nodejs npm, or https://nodejs.org)";

// One test per spec of `every_spec!` (tests/support/mod.rs; the same list in
// every language), each running `check_spec` below.
every_spec!();

/// The bridge behind token auth, origins, a rate limit, metrics and JSON
/// logs, with `mcp.cwd` and its own `mcp.env`: the open line's `user=` and
/// `session pid=`, sessions checked before the credential.
#[test]
fn mcp_secure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = dir.path().join("secure-mcp.yaml");
    std::fs::write(&spec, SECURE_MCP).expect("writing the spec");
    check_spec(spec.to_str().expect("UTF-8 path"));
}

const SECURE_MCP: &str = "\
name: secure-mcp
type: mcp
path: /mcp
allowedOrigins: [\"https://app.example.com\"]
auth: {type: token}
maxConnectionsPerIp: 20
rateLimit: {messages: 50, per: 1000, burst: 100}
metrics: true
logFormat: json
mcp:
  command: [node, server.js]
  cwd: tests
  env: [PATH, LANG]
  maxSessions: 8
";

/// The checks link the shared `node_modules` into the project, so the
/// runner only launches it (`node src/main.js`).
#[test]
fn adversarial_values_round_trip() {
    support::adversarial_round_trip(Language::Node, check_spec, Install::ByChecks);
}

/// Generate, check the syntax, install, run the project's own tests; returns the project.
fn check_spec(spec: &str) -> tempfile::TempDir {
    let node_modules = installed_dependencies();
    let project = support::generate(spec, Language::Node);
    for file in support::files_with_extension(project.path(), "js") {
        support::check(
            spec,
            project.path(),
            "node",
            &["--check", file.to_str().expect("UTF-8 path")],
            &[],
            INSTALL_NODE,
        );
    }
    std::os::unix::fs::symlink(node_modules, project.path().join("node_modules"))
        .expect("linking node_modules");

    let started = Instant::now();
    let text = support::check(
        spec,
        project.path(),
        "npm",
        &["test", "--silent"],
        &[],
        INSTALL_NODE,
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

/// The pinned npm dependencies, installed from the registry once per set of
/// pins into target/node-deps/<key>/node_modules.
fn installed_dependencies() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        support::require_toolchain(Language::Node);
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
        // The package.json of a backplane chat carries exactly the pins
        // (the others leave out `redis`).
        let project = support::generate("specs/chat-redis.yaml", Language::Node);
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
