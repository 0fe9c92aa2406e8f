//! The chat page (templates/common/chat-page.html.tera, served at `GET /` by
//! every chat server) in headless Chromium, against the real generated
//! server of each language: visible validation messages, the draft kept
//! when the server refuses it, automatic re-join after a reconnect with a
//! visible connection state, several rooms with unread counts, "load older
//! messages" through history paging, the layout at 390 px, keyboard use and
//! labels. One server per spec and language, shared by every check
//! (tests/interop/chat_page.mjs runs them all in one browser and prints one
//! result per check). A missing Chromium, Node.js or toolchain fails.
//!
//! `WSGEN_PAGE_SCREENSHOTS=DIR` also writes the desktop and phone screenshots
//! shown in docs/chat.md (from the Go server of specs/chat.yaml).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Instant;
use wsgen::lang::Language;
use wsgen::runner;

fn interop_dir() -> PathBuf {
    support::repo().join("tests").join("interop")
}

/// playwright-core from tests/interop's lockfile, installed once.
fn playwright() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        support::require_tool("npm", "install Node.js >= 20 with npm");
        if !interop_dir()
            .join("node_modules")
            .join("playwright-core")
            .is_dir()
        {
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

fn check_page(lang: Language) {
    playwright();
    let chromium = chromium();
    support::require_toolchain(lang);
    let logs = tempfile::tempdir().unwrap();
    for spec in ["specs/chat.yaml", "specs/chat-minimal.yaml"] {
        let started = Instant::now();
        let server = support::load(spec);
        let chat = server.chat.as_ref().expect("a chat spec");
        let dir = support::generate(spec, lang);
        let launch = runner::prepare_project(&server, lang, dir.path(), &support::build_options())
            .unwrap_or_else(|e| panic!("{spec} {lang}: {e}"));
        let built = started.elapsed();
        // Dropped (and so stopped) on every path out of this block, panics included.
        let proc = runner::boot(
            &launch,
            &[],
            logs.path(),
            &format!("{lang}-{}", server.slug),
        )
        .unwrap_or_else(|e| panic!("{spec} {lang}: {e}"));
        let url = format!("http://127.0.0.1:{}/", proc.port);
        let config = serde_json::json!({
            "maxMessageLength": chat.max_message_length,
            "historyLimit": chat.history_limit,
            "rooms": chat.rooms,
            "presence": chat.presence,
            "history": chat.history,
            "auth": "none",
        });
        let mut cmd = Command::new("node");
        cmd.args(["chat_page.mjs", &url, &config.to_string()])
            .current_dir(interop_dir())
            .env("CHROMIUM", &chromium)
            .env_remove("SCREENSHOTS");
        if let Some(shots) = std::env::var_os("WSGEN_PAGE_SCREENSHOTS")
            && lang == Language::Go
            && spec == "specs/chat.yaml"
        {
            cmd.env("SCREENSHOTS", shots);
        }
        let out = cmd.output().expect("run node (Node.js >= 20)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let result: serde_json::Value = stdout
            .lines()
            .last()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or_else(|| {
                panic!(
                    "{lang} {spec}: chat_page.mjs printed no result ({}):\n{stdout}\n{}\nserver log:\n{}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr),
                    proc.logs()
                )
            });
        let checks = result["checks"].as_array().cloned().unwrap_or_default();
        let failed: Vec<String> = checks
            .iter()
            .filter(|c| c["ok"] != true)
            .map(|c| format!("  FAILED {}: {}", c["name"], c["error"]))
            .collect();
        eprintln!(
            "{lang} {spec}: built in {:.1} s, {} page checks in {:.1} s",
            built.as_secs_f64(),
            checks.len(),
            (started.elapsed() - built).as_secs_f64()
        );
        for c in &checks {
            eprintln!(
                "  {} {} ({} ms)",
                if c["ok"] == true { "ok" } else { "FAILED" },
                c["name"],
                c["ms"]
            );
        }
        assert!(
            out.status.success() && result["ok"] == true && failed.is_empty() && checks.len() >= 6,
            "{lang} {spec}: the chat page failed in Chromium:\n{}\n{}\nserver log:\n{}",
            failed.join("\n"),
            String::from_utf8_lossy(&out.stderr),
            proc.logs()
        );
        drop(proc);
    }
}

#[test]
fn node_chat_page() {
    check_page(Language::Node);
}

#[test]
fn python_chat_page() {
    check_page(Language::Python);
}

#[test]
fn go_chat_page() {
    check_page(Language::Go);
}

#[test]
fn rust_chat_page() {
    check_page(Language::Rust);
}
