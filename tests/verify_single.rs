//! `wsgen verify --single-file` (as library calls): the single-file echo
//! servers (`--output echo-server.js`, `echo_server.py`, `main.go`) pass the
//! same handshake, conformance, scenario and shutdown suites as the project
//! form, for every echo spec in `specs/`, one test per language.

mod support;

use std::path::PathBuf;
use wsgen::lang::Language;
use wsgen::scenario::verify::{VerifyOptions, verify};

fn echo_specs() -> Vec<PathBuf> {
    let mut specs: Vec<PathBuf> = std::fs::read_dir(support::repo().join("specs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .filter(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .lines()
                .any(|l| l.trim() == "type: echo")
        })
        .collect();
    specs.sort();
    assert!(specs.len() >= 4, "echo specs in specs/: {specs:?}");
    specs
}

fn every_echo_spec_passes(lang: Language) {
    let opts = VerifyOptions {
        build: support::build_options(),
        progress: true,
        single_file: true,
        ..Default::default()
    };
    let mut failed = 0;
    let mut summary = String::new();
    for spec in &echo_specs() {
        let report = verify(spec, &[lang], &opts)
            .unwrap_or_else(|e| panic!("{} ({lang}): {e}", spec.display()));
        if report.failed() > 0 {
            eprintln!("{}", report.failures());
        }
        summary.push_str(&format!("{}\n{}\n", spec.display(), report.matrix()));
        failed += report.failed();
    }
    eprintln!("{summary}");
    assert_eq!(failed, 0, "{lang}: {failed} case(s) failed:\n{summary}");
}

#[test]
fn node_single_file_passes_every_suite() {
    every_echo_spec_passes(Language::Node);
}

#[test]
fn python_single_file_passes_every_suite() {
    every_echo_spec_passes(Language::Python);
}

#[test]
fn go_single_file_passes_every_suite() {
    every_echo_spec_passes(Language::Go);
}
