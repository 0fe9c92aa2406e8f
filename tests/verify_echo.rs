//! `wsgen verify` (as library calls) for every spec in specs/ in all four
//! languages: zero FAIL. A missing toolchain is a FAIL of the `setup` suite,
//! never a skip. Languages run one after another (2 cores); Rust projects
//! share one cargo target folder.

use std::path::PathBuf;
use std::time::Instant;
use wsgen::lang::Language;
use wsgen::runner::BuildOptions;
use wsgen::scenario::verify::{VerifyOptions, verify};

#[test]
fn every_spec_passes_every_suite_in_every_language() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut specs: Vec<PathBuf> = std::fs::read_dir(root.join("specs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    specs.sort();
    assert!(!specs.is_empty(), "no specs in specs/");
    let opts = VerifyOptions {
        // Debug Rust builds in the shared cargo target folder of the cache.
        build: BuildOptions { release: false, verbose: false, ..BuildOptions::default() },
        progress: true,
        ..Default::default()
    };
    let mut failed = 0;
    let mut summary = String::new();
    for spec in &specs {
        let start = Instant::now();
        let report = verify(spec, &Language::ALL, &opts).unwrap_or_else(|e| panic!("{}: {e}", spec.display()));
        if report.failed() > 0 {
            eprintln!("{}", report.failures());
        }
        summary.push_str(&format!("{} ({:.0}s)\n{}\n", spec.display(), start.elapsed().as_secs_f64(), report.matrix()));
        failed += report.failed();
    }
    eprintln!("{summary}");
    assert_eq!(failed, 0, "{failed} case(s) failed:\n{summary}");
}
