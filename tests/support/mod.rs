//! Helpers shared by the integration tests: generate a project into a temp
//! folder and run its toolchain, failing loudly when a tool is missing.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use wsgen::lang::Language;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Generate `spec` (a path relative to the repo) for `lang` into a fresh temp folder.
pub fn generate(spec: &str, lang: Language) -> tempfile::TempDir {
    let server = wsgen::pipeline::load_server(Some(&repo().join(spec)), &Default::default())
        .unwrap_or_else(|e| panic!("{spec}: {e}"));
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
