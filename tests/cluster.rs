//! Mixed-language chat clusters (docs/cluster.md): specs/chat-redis.yaml
//! generated and built ONCE per language (the first test that needs a
//! language prepares it; the others reuse that launch), then the cluster
//! suites (generated-tests/cluster-*.yaml) on clusters mixing node+python,
//! go+rust and all four (instance i runs language i mod n), each test on a
//! private Redis of its own. Zero FAIL, and every cluster suite ran cases.
//! A missing toolchain or redis-server fails the test, naming what to install.

mod support;

use std::path::PathBuf;
use std::sync::OnceLock;
use wsgen::lang::Language;
use wsgen::scenario::cluster::Member;
use wsgen::scenario::verify::VerifyOptions;
use wsgen::scenario::verify_cluster::{private_redis, verify_mixed};

const SPEC: &str = "specs/chat-redis.yaml";

/// The language's project, generated and built once per test process.
fn member(lang: Language) -> Member {
    static BUILT: [OnceLock<Result<Member, String>>; 4] = [
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
        OnceLock::new(),
    ];
    let slot = Language::ALL
        .iter()
        .position(|l| *l == lang)
        .expect("a known language");
    BUILT[slot]
        .get_or_init(|| {
            support::require_toolchain(lang);
            let server = support::load(SPEC);
            let dir = projects().join(lang.name());
            let _ = std::fs::remove_dir_all(&dir);
            wsgen::pipeline::generate_into(&server, lang, &dir)
                .map_err(|e| format!("{SPEC} -> {lang}: {e}"))?;
            let launch =
                wsgen::runner::prepare_project(&server, lang, &dir, &support::build_options())?;
            Ok(Member {
                label: lang.to_string(),
                launch,
            })
        })
        .clone()
        .unwrap_or_else(|e| panic!("preparing {lang}: {e}"))
}

fn projects() -> PathBuf {
    support::repo().join("target").join("cluster-projects")
}

fn mixed(langs: &[Language]) {
    let server = support::load(SPEC);
    let members: Vec<Member> = langs.iter().map(|&l| member(l)).collect();
    let redis = private_redis().unwrap_or_else(|e| panic!("{e}"));
    let suites = wsgen::scenario::load_dir(&support::repo().join("generated-tests"))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let logs = tempfile::Builder::new()
        .prefix("wsgen-cluster-")
        .tempdir()
        .expect("temp dir");
    let report = verify_mixed(
        &server,
        langs,
        &members,
        &suites,
        &VerifyOptions::default(),
        logs.path(),
        &redis,
    );
    let cluster_suites: Vec<&str> = suites
        .iter()
        .filter(|s| s.cluster)
        .map(|s| s.name.as_str())
        .collect();
    assert!(
        cluster_suites.len() >= 4,
        "expected the cluster suites in generated-tests/, found {cluster_suites:?}"
    );
    for name in &cluster_suites {
        let ran = report
            .suites
            .iter()
            .find(|s| s.suite == *name)
            .map_or(0, |s| s.cases.len());
        assert!(ran > 0, "{}: the suite {name} ran no case", report.language);
    }
    let failures: Vec<String> = report
        .suites
        .iter()
        .flat_map(|s| {
            s.cases
                .iter()
                .filter(|c| !c.passed)
                .map(move |c| format!("{} / {}: {}", s.suite, c.name, c.detail))
        })
        .collect();
    let logs: Vec<String> = report
        .logs
        .iter()
        .map(|(i, l)| format!("--- {i} ---\n{l}"))
        .collect();
    assert!(
        failures.is_empty(),
        "{}: {} case(s) failed:\n{}\n{}",
        report.language,
        failures.len(),
        failures.join("\n"),
        logs.join("\n")
    );
    let cases: usize = report.suites.iter().map(|s| s.cases.len()).sum();
    eprintln!(
        "{}: {cases} cases passed in {:.0}s",
        report.language, report.wall_secs
    );
}

#[test]
fn node_and_python() {
    mixed(&[Language::Node, Language::Python]);
}

#[test]
fn go_and_rust() {
    mixed(&[Language::Go, Language::Rust]);
}

#[test]
fn all_four_languages() {
    mixed(&[
        Language::Node,
        Language::Python,
        Language::Go,
        Language::Rust,
    ]);
}
