//! `wsgen verify --spec FILE --language L|all [--keep] [--json out.json]`:
//! generate into a temporary folder, build and boot through the runner, run
//! the handshake, conformance, scenario and shutdown suites, print a matrix
//! language x suite with the server logs of failures.
//!
//! `wsgen verify --client [--language L,...] [--server-language L,...]`:
//! the generated client libraries against the generated servers through a
//! fault-injecting proxy (`wsgen::clients::matrix`): chat and session for
//! every client x server pair, backoff and 401 per client language; a line
//! per pair, exit 1 on any failure.

use super::exit;
use super::generate::{Targets, parse_targets};
use clap::Args;
use std::path::PathBuf;
use wsgen::lang::Language;
use wsgen::runner::{self, BuildOptions};
use wsgen::scenario::verify::{VerifyError, VerifyOptions, verify};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The spec file (YAML or JSON); not with --client (it has its own specs).
    #[arg(
        long,
        short = 's',
        value_name = "FILE",
        required_unless_present = "client",
        conflicts_with = "client"
    )]
    spec: Option<PathBuf>,
    /// The server language(s); with --client, the CLIENT language(s), a
    /// comma-separated list or `all` (default: all four).
    #[arg(long, short = 'l', value_name = "LANG", value_parser = parse_language_list,
          required_unless_present = "client")]
    language: Option<Targets>,
    /// Verify the generated client libraries instead: each client language
    /// against each server language through a proxy that cuts connections
    /// (chat and session resume exactly once and in order), plus backoff and
    /// a 401 per client language (docs/clients.md).
    #[arg(long)]
    client: bool,
    /// With --client: the server language(s) (default: all four).
    #[arg(long, value_name = "LANG", value_parser = parse_language_list)]
    server_language: Option<Targets>,
    /// Keep the generated projects and server logs.
    #[arg(long)]
    keep: bool,
    /// Also write the full report (every case) as JSON.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Scenario folder (default: the generated-tests/ shipped with wsgen).
    #[arg(long, value_name = "DIR")]
    scenarios: Option<PathBuf>,
    /// Skip the handshake and conformance suites (scenarios and shutdown only).
    #[arg(long)]
    no_conformance: bool,
    /// Verify the single-file form (`--output echo-server.js`) instead of the
    /// project: echo servers in node, python and go.
    #[arg(long)]
    single_file: bool,
    /// Show the builds as they run: each command and its output.
    #[arg(long, short = 'v')]
    verbose: bool,
}

/// `go`, `all`, or a comma-separated list (`node,go`): each once, in the
/// order given.
fn parse_language_list(s: &str) -> Result<Targets, String> {
    let mut out: Vec<Language> = Vec::new();
    for part in s.split(',') {
        for l in parse_targets(part.trim())?.0 {
            if !out.contains(&l) {
                out.push(l);
            }
        }
    }
    Ok(Targets(out))
}

pub fn run(args: VerifyArgs) -> i32 {
    if args.client {
        return run_clients(args);
    }
    if args.server_language.is_some() {
        eprintln!("error: --server-language goes with --client");
        return exit::USAGE;
    }
    let (Some(spec), Some(language)) = (args.spec.clone(), args.language.clone()) else {
        eprintln!("error: --spec and --language are required (or --client)");
        return exit::USAGE;
    };
    let mut opts = VerifyOptions {
        build: build_options(args.verbose),
        keep: args.keep,
        conformance: !args.no_conformance,
        progress: true,
        single_file: args.single_file,
        ..Default::default()
    };
    if let Some(d) = args.scenarios {
        opts.scenarios_dir = d;
    }
    let report = match verify(&spec, &language.0, &opts) {
        Ok(r) => r,
        Err(VerifyError::Usage(e)) => {
            eprint!("{e}");
            return exit::USAGE;
        }
        Err(VerifyError::Environment(e)) => {
            eprintln!("error: {e}");
            return exit::ENVIRONMENT;
        }
    };
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report).expect("report serialises");
        if let Err(e) = std::fs::write(path, json) {
            eprintln!("error: writing {}: {e}", path.display());
            return exit::ENVIRONMENT;
        }
    }
    let failures = report.failures();
    if !failures.is_empty() {
        println!("{failures}");
    }
    println!("{} ({})", report.name, report.spec);
    print!("{}", report.matrix());
    if report.failed() == 0 {
        println!("all suites passed");
        exit::OK
    } else {
        println!("{} case(s) failed", report.failed());
        exit::FAILED
    }
}

/// `verify --client`: the client x server fault matrix.
fn run_clients(args: VerifyArgs) -> i32 {
    use wsgen::clients::matrix::{Matrix, Settings};
    let all = || Language::ALL.to_vec();
    let clients = args.language.map_or_else(all, |t| t.0);
    let servers = args.server_language.map_or_else(all, |t| t.0);
    for lang in clients.iter().chain(&servers) {
        if let Err(e) = runner::toolchain::check(*lang) {
            eprintln!("error: {e}");
            return exit::ENVIRONMENT;
        }
    }
    let work = args
        .keep
        .then(|| std::env::temp_dir().join(format!("wsgen-verify-client-{}", std::process::id())));
    let settings = Settings {
        build: build_options(args.verbose),
        work_dir: work,
        ..Settings::default()
    };
    let mut settings = settings;
    if let Some(dir) = &args.scenarios {
        settings.worker = dir.join("session").join("worker.py");
    }
    runner::kill_on_interrupt();
    let matrix = match Matrix::new(settings) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ENVIRONMENT;
        }
    };
    let report = matrix.run(&clients, &servers, true);
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(&report).expect("report serialises");
        if let Err(e) = std::fs::write(path, json) {
            eprintln!("error: writing {}: {e}", path.display());
            return exit::ENVIRONMENT;
        }
    }
    for o in report.outcomes.iter().filter(|o| !o.passed) {
        println!(
            "--- {} {} -> {} ---\n{}\n",
            o.case, o.client, o.server, o.detail
        );
    }
    println!("client libraries (client -> server, through a fault proxy)");
    print!("{}", report.table());
    if args.keep {
        println!("projects and logs kept in {}", matrix.work_dir().display());
    }
    if report.failed() == 0 {
        println!("all cases passed");
        exit::OK
    } else {
        println!("{} case(s) failed", report.failed());
        exit::FAILED
    }
}

/// Debug builds in wsgen's cache (`~/.cache/wsgen`), Rust in its shared
/// target folder there: what `verify` and `verify --client` build with.
fn build_options(verbose: bool) -> BuildOptions {
    let cache = runner::default_cache_dir();
    BuildOptions {
        cargo_target_dir: cache.join("cargo-target"),
        release: false,
        verbose,
        cache_dir: cache,
        build_cache: None,
    }
}
