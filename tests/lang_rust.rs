//! The Rust output, end to end: for each spec, generate the project, build it,
//! run clippy on it (warnings are errors) and run its own `cargo test` (which
//! boots the real server binary and talks to it over sockets). Every generated
//! project builds into one shared target folder (`support::cargo_target_dir()`)
//! with the same dependency set, so the dependencies compile once. The
//! adversarial spec is also booted: its /healthz name must equal the IR's, and
//! it must exit 0 on SIGTERM. The checks run in the runner's shared build of
//! the project (`support::build_options`), at a path that stays the same for
//! the same files, so cargo's fingerprints of the server binary carry over
//! to (and from) verify, chat_page, cluster, interop and mcp_sdk.

mod support;

use std::time::Instant;
use support::Install;
use wsgen::lang::Language;

const INSTALL_RUST: &str = "install a Rust toolchain 1.85 or newer with clippy \
    (https://rustup.rs, then `rustup component add clippy`) and put `cargo` on PATH";

// One test per spec of `every_spec!` (tests/support/mod.rs; the same list in
// every language), each running `check_spec` below.
every_spec!();

#[test]
fn adversarial_values_round_trip() {
    support::adversarial_round_trip(Language::Rust, check_spec, Install::Runner);
}

/// Generate, build, clippy, and run the project's own tests; returns the
/// project. Every cargo command uses the shared target folder; warnings are
/// denied through clippy's `-D warnings`, not RUSTFLAGS, which would make
/// every build recompile the dependencies.
fn check_spec(spec: &str) -> tempfile::TempDir {
    support::require_toolchain(Language::Rust);
    support::require_tool("cargo-clippy", INSTALL_RUST);
    let project = support::generate(spec, Language::Rust);
    let started = Instant::now();
    // The checks run in the runner's build of this project (the shared
    // build cache, `support::build_options`): the server binary the other
    // test binaries boot is compiled once, here or by whichever ran first.
    let launch = wsgen::runner::prepare_project(
        &support::load(spec),
        Language::Rust,
        project.path(),
        &support::build_options(),
    )
    .unwrap_or_else(|e| panic!("{spec}: building the rust project: {e}"));
    let dir = launch.dir.as_path();
    let target = support::cargo_target_dir();
    let cargo = |args: &[&str]| {
        support::check(
            spec,
            dir,
            "cargo",
            args,
            &[("CARGO_TARGET_DIR", target.to_str().expect("UTF-8 path"))],
            INSTALL_RUST,
        )
    };

    cargo(&["build", "--all-targets"]);
    let built = started.elapsed();
    cargo(&["clippy", "--all-targets", "--", "-D", "warnings"]);
    let out = cargo(&["test"]);
    let results: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("test result:"))
        .collect();
    assert!(
        !results.is_empty(),
        "{spec}: cargo test ran no test:\n{out}"
    );
    eprintln!(
        "{spec}: build {:.1}s, clippy + test {:.1}s; {}",
        built.as_secs_f64(),
        (started.elapsed() - built).as_secs_f64(),
        results.join("; ")
    );
    project
}
