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
use std::time::Instant;
use support::Install;
use wsgen::lang::Language;

const INSTALL_GO: &str = "install Go 1.23 or newer (https://go.dev/doc/install; \
    Debian/Ubuntu: apt-get install golang-go) and put `go` and `gofmt` on PATH";

// One test per spec of `every_spec!` (tests/support/mod.rs; the same list in
// every language), each running `check_spec` below.
every_spec!();

#[test]
fn adversarial_values_round_trip() {
    support::adversarial_round_trip(Language::Go, check_spec, Install::Runner);
}

/// Generate, check formatting and vet, run the project's own tests; returns the project.
fn check_spec(spec: &str) -> tempfile::TempDir {
    support::require_toolchain(Language::Go);
    let project = support::generate(spec, Language::Go);
    let dir = project.path();
    let started = Instant::now();

    let unformatted = gofmt(dir, "-l");
    assert!(
        unformatted.trim().is_empty(),
        "{spec}: the rendered Go is not gofmt-clean:\n{}",
        gofmt(dir, "-d")
    );
    let go = |args: &[&str]| {
        support::check(
            spec,
            dir,
            "go",
            args,
            &[("GOFLAGS", "-mod=readonly")],
            INSTALL_GO,
        )
    };
    go(&["mod", "download"]);
    go(&["vet", "./..."]);
    let out = go(&["test", "-count=1", "./..."]);
    eprintln!(
        "{spec}: go test {} in {:.1}s (gofmt, vet and test)",
        out.lines().last().unwrap_or("").trim(),
        started.elapsed().as_secs_f64()
    );
    project
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
