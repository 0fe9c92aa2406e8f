//! Interop with clients nobody here wrote, against every language's server:
//! the Python `websockets` client (offers permessage-deflate by default),
//! `wscat` from npm (with `-s` for the subprotocol), and headless Chromium
//! (offers `permessage-deflate; client_max_window_bits`). A missing tool fails.
//! The chat page in Chromium has its own tests: tests/chat_page.rs.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use wsgen::lang::Language;
use wsgen::runner::{self, BuildOptions};

fn interop_dir() -> PathBuf {
    support::repo().join("tests").join("interop")
}

/// Install the npm clients once (wscat, playwright-core), from the lockfile.
fn npm_clients() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        support::require_tool("npm", "install Node.js >= 20 with npm");
        if !interop_dir().join("node_modules").join("wscat").is_dir() {
            support::run(
                &interop_dir(),
                "npm",
                &["ci", "--no-audit", "--no-fund", "--loglevel=error"],
                &[],
            );
        }
    });
}

fn chromium() -> String {
    let path = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&path).exists(),
        "headless Chromium not found at {path}: apt-get install chromium (or set CHROMIUM=/path/to/chromium)"
    );
    path
}

fn python_websockets() {
    let ok = Command::new("python3")
        .args(["-c", "import websockets.sync.client"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "the Python `websockets` package is missing: python3 -m pip install 'websockets>=13'"
    );
}

fn client_json(program: &str, args: &[&str], env: &[(&str, &str)]) -> serde_json::Value {
    let out = Command::new(program)
        .args(args)
        .current_dir(interop_dir())
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("");
    let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|_| {
        panic!(
            "{program} {args:?} printed no result ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert!(
        out.status.success() && v["ok"] == true,
        "{program} {args:?}: {v}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    v
}

fn wscat(url: &str, subprotocol: Option<&str>) {
    let mut args = vec![
        "node_modules/wscat/bin/wscat",
        "-c",
        url,
        "-x",
        "hello from wscat",
        "-x",
        "second",
        "-w",
        "2",
    ];
    if let Some(p) = subprotocol {
        args.extend(["-s", p]);
    }
    // wscat exits when its stdin closes, before it has even connected: hold a
    // pipe open until it is done.
    let mut child = Command::new("node")
        .args(&args)
        .current_dir(interop_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run wscat");
    let stdin = child.stdin.take();
    let out = child.wait_with_output().expect("wscat output");
    drop(stdin);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("hello from wscat") && stdout.contains("second"),
        "wscat {url} {subprotocol:?}: no echo ({})\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn check_language(lang: Language) {
    npm_clients();
    python_websockets();
    let chromium = chromium();
    let logs = tempfile::tempdir().unwrap();
    let opts = BuildOptions {
        cargo_target_dir: support::cargo_target_dir(),
        ..Default::default()
    };
    for spec in [
        "specs/echo.yaml",
        "specs/subprotocols.yaml",
        "specs/compression.yaml",
    ] {
        let server =
            wsgen::pipeline::load_server(Some(&support::repo().join(spec)), &Default::default())
                .unwrap();
        let dir = support::generate(spec, lang);
        let launch = runner::prepare_project(&server, lang, dir.path(), &opts)
            .unwrap_or_else(|e| panic!("{spec} {lang}: {e}"));
        let proc = runner::boot(
            &launch,
            &[],
            logs.path(),
            &format!("{lang}-{}", server.slug),
        )
        .unwrap_or_else(|e| panic!("{spec} {lang}: {e}"));
        let url = format!("ws://127.0.0.1:{}{}", proc.port, server.path);
        let context = format!("{lang} {spec}\nserver log:\n{}", proc.logs());

        // The client's offer order decides: wamp.2.json is offered before graphql-ws.
        let offer: Vec<&str> = if server.subprotocols.is_empty() {
            vec![]
        } else {
            vec!["unknown.v1", "wamp.2.json", "graphql-ws"]
        };
        let mut py_args = vec!["py_client.py", url.as_str()];
        py_args.extend(offer.iter().copied());
        let py = client_json("python3", &py_args, &[]);
        let mut js_args = vec!["chromium_client.mjs", url.as_str()];
        js_args.extend(offer.iter().copied());
        let js = client_json("node", &js_args, &[("CHROMIUM", &chromium)]);
        wscat(&url, server.subprotocols.first().map(String::as_str));

        if server.subprotocols.is_empty() {
            assert!(py["subprotocol"].is_null(), "{context}\n{py}");
            assert_eq!(js["subprotocol"], "", "{context}");
        } else {
            assert_eq!(py["subprotocol"], "wamp.2.json", "{context}");
            assert_eq!(js["subprotocol"], "wamp.2.json", "{context}");
        }
        let py_ext = py["extensions"].as_str().unwrap_or("");
        let js_ext = js["extensions"].as_str().unwrap_or("");
        if server.compression.enabled {
            assert!(
                py_ext.starts_with("permessage-deflate"),
                "{context}\npython client got extensions {py_ext:?}"
            );
            assert!(
                js_ext.starts_with("permessage-deflate"),
                "{context}\nChromium got extensions {js_ext:?}"
            );
        } else {
            assert_eq!(py_ext, "", "{context}");
            assert_eq!(js_ext, "", "{context}");
        }
        drop(proc);
    }
}

#[test]
fn node_interop() {
    check_language(Language::Node);
}

#[test]
fn python_interop() {
    check_language(Language::Python);
}

#[test]
fn go_interop() {
    check_language(Language::Go);
}

#[test]
fn rust_interop() {
    check_language(Language::Rust);
}
