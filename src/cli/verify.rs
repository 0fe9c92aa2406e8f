//! `wsgen verify --spec FILE --language L|all [--keep] [--json out.json]`:
//! generate into a temporary folder, build and boot through the runner, run
//! the handshake, conformance, scenario and shutdown suites, print a matrix
//! language x suite with the server logs of failures.

use super::exit;
use super::generate::{Targets, parse_targets};
use clap::Args;
use std::path::PathBuf;
use wsgen::lang::Language;
use wsgen::runner::{self, BuildOptions};
use wsgen::scenario::verify::{VerifyError, VerifyOptions, verify};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The spec file (YAML or JSON).
    #[arg(long, short = 's', value_name = "FILE")]
    spec: PathBuf,
    #[arg(long, short = 'l', value_name = "LANG", value_parser = parse_targets,
          help = Language::choices(true))]
    language: Targets,
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

pub fn run(args: VerifyArgs) -> i32 {
    let cache = runner::default_cache_dir();
    let mut opts = VerifyOptions {
        build: BuildOptions {
            cargo_target_dir: cache.join("cargo-target"),
            release: false,
            verbose: args.verbose,
            cache_dir: cache.clone(),
            build_cache: None,
        },
        keep: args.keep,
        conformance: !args.no_conformance,
        progress: true,
        single_file: args.single_file,
        ..Default::default()
    };
    if let Some(d) = args.scenarios {
        opts.scenarios_dir = d;
    }
    let report = match verify(&args.spec, &args.language.0, &opts) {
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
