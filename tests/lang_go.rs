//! The Go output, end to end: for each spec, generate the project, check that
//! it is gofmt-clean exactly as rendered and `go vet`-clean, download the
//! pinned module, and run the project's own `go test ./...` (which boots the
//! real server and talks to it over a socket). Everything runs with
//! GOFLAGS=-mod=readonly, so a stale go.sum in the templates fails. The
//! adversarial spec is also built, booted, and its /healthz name compared
//! with the IR's, and it must exit 0 on SIGTERM.

mod support;

use std::time::Instant;
use support::Install;
use wsgen::lang::Language;

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

    let out = support::go_checks(spec, dir);
    eprintln!(
        "{spec}: go test {} in {:.1}s (gofmt, vet and test)",
        out.lines().last().unwrap_or("").trim(),
        started.elapsed().as_secs_f64()
    );
    project
}
