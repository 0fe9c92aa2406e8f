//! `wsgen verify` (as library calls) for every spec in `specs/` (echo, chat,
//! compression, subprotocols, ...), one test per language: build and boot
//! each output through the runner, then the handshake, conformance, scenario
//! and shutdown suites; zero FAIL. Plus tests/fixtures/secure-rs256.yaml
//! (public-key JWTs) with the scenario suites only. A missing toolchain is a FAIL of the
//! `setup` suite, never a skip. Cargo runs two test threads, so two languages
//! verify at once; Rust projects build in the same shared cargo target folder
//! as the other tests (`support::cargo_target_dir()`), so yawc/tokio compile
//! once.
//!
//! The mcp specs need their commands: specs/mcp.yaml runs
//! `npx -y @modelcontextprotocol/server-everything@...` (npm's cache is
//! filled once before the servers start, so the first session does not wait
//! for a download), specs/mcp-time.yaml runs `mcp-server-time`, which this
//! test installs from PyPI into a virtual environment under
//! `target/mcp-venvs/` and puts first on the servers' PATH.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;
use wsgen::lang::Language;
use wsgen::scenario::verify::{VerifyOptions, verify};

fn specs() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(support::repo().join("specs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    specs.sort();
    assert!(!specs.is_empty(), "no specs in specs/");
    specs
}

/// Fill npm's cache with the package an `npx -y PACKAGE ...` command runs.
fn warm_npx(command: &[String]) {
    let Some(package) = command.iter().skip(1).find(|a| !a.starts_with('-')) else {
        return;
    };
    let out = Command::new("npx")
        .args(["-y", "-p", package, "--", "true"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run npx (install Node.js with npm): {e}"));
    assert!(
        out.status.success(),
        "npx -y -p {package} -- true: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What an mcp spec's command needs on the servers' environment.
fn mcp_env(spec: &Path) -> Vec<(String, String)> {
    let server = support::load(
        spec.strip_prefix(support::repo())
            .unwrap()
            .to_str()
            .unwrap(),
    );
    let Some(mcp) = &server.mcp else {
        return Vec::new();
    };
    match mcp.command.first().map(String::as_str) {
        Some("npx") => {
            warm_npx(&mcp.command);
            Vec::new()
        }
        Some("mcp-server-time") => {
            let bin = support::mcp::time_bin();
            vec![("PATH".into(), support::mcp::path_with(&bin))]
        }
        _ => Vec::new(),
    }
}

fn every_spec_passes(lang: Language) {
    let opts = VerifyOptions {
        // Debug Rust builds in the shared cargo target folder of the tests.
        build: support::build_options(),
        progress: true,
        ..Default::default()
    };
    let mut failed = 0;
    let mut summary = String::new();
    for spec in &specs() {
        let start = Instant::now();
        let opts = VerifyOptions {
            env: mcp_env(spec),
            ..opts.clone()
        };
        let report = verify(spec, &[lang], &opts)
            .unwrap_or_else(|e| panic!("{} ({lang}): {e}", spec.display()));
        if report.failed() > 0 {
            eprintln!("{}", report.failures());
        }
        summary.push_str(&format!(
            "{} ({:.0}s)\n{}\n",
            spec.display(),
            start.elapsed().as_secs_f64(),
            report.matrix()
        ));
        failed += report.failed();
    }
    // Public-key JWTs: the scenario suites only (no second conformance run).
    let spec = support::repo().join("tests/fixtures/secure-rs256.yaml");
    let scenarios_only = VerifyOptions {
        conformance: false,
        ..opts
    };
    let report = verify(&spec, &[lang], &scenarios_only)
        .unwrap_or_else(|e| panic!("{} ({lang}): {e}", spec.display()));
    if report.failed() > 0 {
        eprintln!("{}", report.failures());
    }
    summary.push_str(&format!("{}\n{}\n", spec.display(), report.matrix()));
    failed += report.failed();
    eprintln!("{summary}");
    assert_eq!(failed, 0, "{lang}: {failed} case(s) failed:\n{summary}");
}

#[test]
fn node_passes_every_suite_for_every_spec() {
    every_spec_passes(Language::Node);
}

#[test]
fn python_passes_every_suite_for_every_spec() {
    every_spec_passes(Language::Python);
}

#[test]
fn go_passes_every_suite_for_every_spec() {
    every_spec_passes(Language::Go);
}

#[test]
fn rust_passes_every_suite_for_every_spec() {
    every_spec_passes(Language::Rust);
}
