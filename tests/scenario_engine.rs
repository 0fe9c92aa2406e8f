//! The scenario engine against a hand-written reference echo server
//! (tests/fixtures/scenario/echo_server.py, Python `websockets`): the shipped
//! suites pass on a correct server, and each deliberate bug is flagged by
//! the scenario that covers it. This tests the engine and the suites, not
//! the generated servers (tests/verify.rs does that).

use std::path::{Path, PathBuf};
use std::process::Command;
use wsgen::ir::Server;
use wsgen::runner::Launch;
use wsgen::scenario::verify::{SuiteResult, VerifyOptions, verify_target};
use wsgen::scenario::{self, Suite};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn require_websockets() {
    let ok = Command::new("python3")
        .args(["-c", "import websockets.asyncio.server"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        ok,
        "the scenario engine tests need python3 with the `websockets` package (>= 13): \
         python3 -m pip install 'websockets==15.0.1' (.ci/run installs it)"
    );
}

fn server(spec: &str) -> Server {
    if spec.ends_with(".yaml") {
        wsgen::pipeline::load_server(Some(&root().join(spec)), &Default::default()).unwrap()
    } else {
        wsgen::pipeline::server_from_str("inline.yaml", spec).unwrap()
    }
}

fn suites(only: &[&str]) -> Vec<Suite> {
    let all = scenario::load_dir(&root().join("generated-tests"))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    all.into_iter()
        .filter(|s| only.is_empty() || only.contains(&s.name.as_str()))
        .collect()
}

/// Run `suites` against the fixture with `bug` (empty: none).
fn run(server: &Server, only: &[&str], bug: &str) -> Vec<SuiteResult> {
    run_fixture("echo_server.py", "fixture", server, suites(only), bug)
}

/// Run `suites` (and, for an mcp server, verify's MCP smoke and shutdown)
/// against the Python fixture `script` of tests/fixtures/scenario/ with
/// `bug` (empty: none); a fixture without a bug that fails shows its log.
fn run_fixture(
    script: &str,
    label: &str,
    server: &Server,
    suites: Vec<Suite>,
    bug: &str,
) -> Vec<SuiteResult> {
    require_websockets();
    let dir = tempfile::tempdir().unwrap();
    let launch = Launch {
        program: "python3".into(),
        args: vec![
            root()
                .join("tests/fixtures/scenario")
                .join(script)
                .display()
                .to_string(),
        ],
        dir: dir.path().to_path_buf(),
        env: vec![
            (
                "WSGEN_FIXTURE_SERVER".into(),
                serde_json::to_string(server).unwrap(),
            ),
            ("FIXTURE_BUG".into(), bug.into()),
            ("PYTHONUNBUFFERED".into(), "1".into()),
        ],
    };
    let opts = VerifyOptions {
        conformance: false,
        ..Default::default()
    };
    let (results, logs) = verify_target(server, &launch, &suites, dir.path(), &opts, label);
    for r in &results {
        for c in r.cases.iter().filter(|c| !c.passed) {
            eprintln!("[{bug}] FAIL {} / {}: {}", r.suite, c.name, c.detail);
        }
    }
    if bug.is_empty() && results.iter().any(|r| r.failed() > 0) {
        for (k, v) in logs {
            eprintln!("--- log {k}:\n{v}");
        }
    }
    results
}

fn failed<'a>(results: &'a [SuiteResult], suite: &str) -> Vec<&'a str> {
    results
        .iter()
        .filter(|r| r.suite == suite)
        .flat_map(|r| {
            r.cases
                .iter()
                .filter(|c| !c.passed)
                .map(|c| c.name.as_str())
        })
        .collect()
}

fn assert_all_pass(results: &[SuiteResult], what: &str) {
    let total: usize = results.iter().map(|r| r.cases.len()).sum();
    let bad: usize = results.iter().map(SuiteResult::failed).sum();
    assert!(total > 0, "{what}: no case ran");
    assert_eq!(
        bad, 0,
        "{what}: {bad} of {total} cases failed against the reference server (see stderr)"
    );
}

#[test]
fn the_reference_server_passes_the_echo_suites() {
    let s = server("specs/echo.yaml");
    let results = run(
        &s,
        &[
            "echo",
            "fragmentation",
            "limits",
            "http",
            "heartbeat",
            "startup",
        ],
        "",
    );
    assert_all_pass(&results, "echo.yaml");
    for suite in [
        "echo",
        "fragmentation",
        "limits",
        "http",
        "heartbeat",
        "startup",
        "shutdown",
    ] {
        assert!(
            results
                .iter()
                .any(|r| r.suite == suite && !r.cases.is_empty()),
            "{suite} did not run"
        );
    }
}

#[test]
fn the_reference_server_passes_the_subprotocol_suites() {
    let s = server("specs/subprotocols.yaml");
    let results = run(&s, &["subprotocols", "echo", "http"], "");
    assert_all_pass(&results, "subprotocols.yaml");
    assert!(
        results
            .iter()
            .any(|r| r.suite == "subprotocols" && r.cases.len() >= 6)
    );

    let required = server(
        "name: strict\ntype: echo\npath: /ws\nsubprotocols: [graphql-ws, wamp.2.json]\nrequireSubprotocol: true\n",
    );
    let results = run(&required, &["subprotocols", "echo"], "");
    assert_all_pass(&results, "requireSubprotocol: true");
    let names: Vec<&str> = results
        .iter()
        .filter(|r| r.suite == "subprotocols")
        .flat_map(|r| r.cases.iter().map(|c| c.name.as_str()))
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.contains("rejects no offer with 400")),
        "{names:?}"
    );
}

#[test]
fn the_reference_server_passes_the_compression_suite() {
    let s = server("specs/compression.yaml");
    let results = run(&s, &["compression"], "");
    assert_all_pass(&results, "compression.yaml");
    assert!(
        results
            .iter()
            .any(|r| r.suite == "compression" && r.cases.len() >= 10)
    );
}

#[test]
fn deliberate_bugs_are_flagged() {
    let echo = server("specs/echo.yaml");
    let sub = server("specs/subprotocols.yaml");
    let cases: &[(&Server, &str, &[&str], &str, &str)] = &[
        (
            &echo,
            "binary-as-text",
            &["echo"],
            "echo",
            "binary echoes as binary",
        ),
        (
            &echo,
            "ignore-max-payload",
            &["limits"],
            "limits",
            "text beyond WS_MAX_PAYLOAD closes 1009",
        ),
        (&echo, "healthz-name", &["http"], "http", "GET /healthz"),
        (
            &echo,
            "no-ping",
            &["heartbeat"],
            "heartbeat",
            "pings arrive at the interval",
        ),
        (
            &echo,
            "exit-1-on-sigterm",
            &["http"],
            "shutdown",
            "the process exits 0 after SIGTERM",
        ),
        (
            &sub,
            "last-subprotocol",
            &["subprotocols"],
            "subprotocols",
            "the client's order wins",
        ),
    ];
    for (server, bug, only, suite, case) in cases {
        let results = run(server, only, bug);
        let f = failed(&results, suite);
        assert!(
            f.contains(case),
            "bug {bug}: expected {suite} / {case:?} to fail, failed: {f:?}"
        );
    }
    // A server that accepts WS_COMPRESSION=maybe is flagged by the start-up suite.
    let s = Suite {
        scenarios: startup_only("WS_COMPRESSION"),
        ..suites(&["startup"]).remove(0)
    };
    require_websockets();
    let dir = tempfile::tempdir().unwrap();
    let launch = Launch {
        program: "python3".into(),
        args: vec![
            root()
                .join("tests/fixtures/scenario/echo_server.py")
                .display()
                .to_string(),
        ],
        dir: dir.path().to_path_buf(),
        env: vec![
            (
                "WSGEN_FIXTURE_SERVER".into(),
                serde_json::to_string(&echo).unwrap(),
            ),
            ("FIXTURE_BUG".into(), "accept-bad-env".into()),
        ],
    };
    let opts = VerifyOptions {
        conformance: false,
        ..Default::default()
    };
    let (results, _) = verify_target(&echo, &launch, &[s], dir.path(), &opts, "fixture");
    let f = failed(&results, "startup");
    assert!(
        f.iter().any(|n| n.contains("WS_COMPRESSION=\"maybe\"")),
        "{f:?}"
    );
}

fn startup_only(var: &str) -> Vec<scenario::Scenario> {
    suites(&["startup"])
        .remove(0)
        .scenarios
        .into_iter()
        .filter(|s| matches!(&s.body, scenario::Body::Startup(st) if st.variable == var))
        .collect()
}

#[test]
fn multi_client_steps_burst_collect_and_assert() {
    require_websockets();
    let s = server("specs/echo.yaml");
    let suite = scenario::load_file(&root().join("tests/fixtures/scenario/suites/burst.yaml"))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let dir = tempfile::tempdir().unwrap();
    let launch = Launch {
        program: "python3".into(),
        args: vec![
            root()
                .join("tests/fixtures/scenario/echo_server.py")
                .display()
                .to_string(),
        ],
        dir: dir.path().to_path_buf(),
        env: vec![(
            "WSGEN_FIXTURE_SERVER".into(),
            serde_json::to_string(&s).unwrap(),
        )],
    };
    let opts = VerifyOptions {
        conformance: false,
        ..Default::default()
    };
    let (results, _) = verify_target(&s, &launch, &[suite], dir.path(), &opts, "fixture");
    let burst = results.iter().find(|r| r.suite == "burst").unwrap();
    let verdict = |n: &str| {
        burst
            .cases
            .iter()
            .find(|c| c.name == n)
            .map(|c| (c.passed, c.detail.clone()))
            .unwrap()
    };
    let (ok, why) = verdict("concurrent senders, collected in order");
    assert!(ok, "{why}");
    let (ok, why) = verdict("captured values are sent back");
    assert!(ok, "{why}");
    let (ok, why) = verdict("a wrong order is detected");
    assert!(!ok && why.contains("not strictly increasing"), "{why}");
}

#[test]
fn scenario_errors_are_located_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = Path::new(dir.path()).join("bad.yaml");
    std::fs::write(
        &p,
        "scenarios:\n  - name: typo\n    steps:\n      - sendText: hi\n      - expectTxt: hi\n",
    )
    .unwrap();
    let e = scenario::load_dir(dir.path()).unwrap_err();
    let text = e.render();
    assert!(
        text.contains("bad.yaml:5:9: unknown key `expectTxt`"),
        "{text}"
    );
    assert!(text.contains("did you mean `expectText`?"), "{text}");
}

/// Security suites the reference server does not implement: it has no
/// handshake-timeout log line (websockets' open_timeout closes silently) and
/// validates only some variables.
const FIXTURE_SECURITY_GAPS: &[&str] = &[
    "a slowloris client is dropped after the handshake timeout; others connect meanwhile",
    "a slowloris drop is a rejected line without status",
    "invalid WS_LOG_FORMAT",
];

#[test]
fn the_reference_server_passes_the_security_suites() {
    // Token auth, metrics on: the security suites that apply, over TLS,
    // with limits, JSON logs and a certificate rotation.
    let s =
        server("name: secure-echo\ntype: echo\npath: /ws\nauth: {type: token}\nmetrics: true\n");
    let only = [
        "security-origins",
        "security-auth-token",
        "security-tls",
        "security-limits",
        "security-metrics",
        "security-json-logs",
    ];
    let results = run(&s, &only, "");
    for suite in only {
        assert!(
            results
                .iter()
                .any(|r| r.suite == suite && r.cases.len() > 1),
            "{suite} did not run"
        );
    }
    let unexpected: Vec<String> = results
        .iter()
        .flat_map(|r| r.cases.iter().filter(|c| !c.passed).map(move |c| (r, c)))
        .filter(|(_, c)| !FIXTURE_SECURITY_GAPS.iter().any(|g| c.name.starts_with(g)))
        .map(|(r, c)| format!("{} / {}: {}", r.suite, c.name, c.detail))
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:#?}");
}

#[test]
fn security_bugs_are_flagged() {
    let s = server("name: secure-echo\ntype: echo\npath: /ws\nauth: {type: token}\n");
    for (bug, suite, scenario) in [
        (
            "any-origin",
            "security-origins",
            "a foreign origin gets 403 before the upgrade",
        ),
        (
            "log-credentials",
            "security-auth-token",
            "the open line names the user; no credential in any log line",
        ),
        (
            "no-reload",
            "security-tls",
            "SIGHUP reloads the certificate; an open connection keeps echoing",
        ),
    ] {
        let results = run(&s, &[suite], bug);
        assert!(
            failed(&results, suite).contains(&scenario),
            "{bug}: {scenario:?} should fail, failed: {:?}",
            failed(&results, suite)
        );
    }
}

#[test]
fn test_material_leaves_plain_instances_plain() {
    // No auth: the TLS suite needs material, the default instance stays ws://.
    let s = server("specs/echo.yaml");
    let results = run(&s, &["http", "security-tls"], "");
    assert_all_pass(&results, "http + security-tls");
}

// ---- the MCP bridge (type: mcp) ------------------------------------------------

/// An mcp spec whose own command is the minimal stdio MCP server fixture
/// (what verify's MCP smoke and shutdown check run against).
fn mcp_spec(extra_args: &str) -> Server {
    let child = root().join("tests/fixtures/scenario/mcp_server.py");
    server(&format!(
        "name: mcp\ntype: mcp\npath: /mcp\nmcp:\n  command: [python3, {:?}{extra_args}]\n  env: [PATH, HOME, LANG]\n  shutdownGrace: 1000\n",
        child.display().to_string()
    ))
}

const MCP_SUITES: &[&str] = &[
    "mcp-config",
    "mcp-framing",
    "mcp-child-output",
    "mcp-lifecycle",
    "mcp-sessions",
];

/// Run `suites` against the reference MCP bridge with `bug` (empty: none).
fn run_bridge(server: &Server, suites: Vec<Suite>, bug: &str) -> Vec<SuiteResult> {
    run_fixture("mcp_bridge.py", "bridge", server, suites, bug)
}

#[test]
fn the_reference_bridge_passes_the_mcp_suites_smoke_and_shutdown() {
    let s = mcp_spec("");
    let results = run_bridge(&s, suites(MCP_SUITES), "");
    assert_all_pass(&results, "mcp suites");
    for suite in MCP_SUITES.iter().chain(&["mcp smoke", "shutdown"]) {
        assert!(
            results
                .iter()
                .any(|r| r.suite == *suite && !r.cases.is_empty()),
            "{suite} did not run"
        );
    }
    let shutdown = results.iter().find(|r| r.suite == "shutdown").unwrap();
    assert!(
        shutdown
            .cases
            .iter()
            .any(|c| c.name.contains("every child process is stopped")),
        "{:?}",
        shutdown.cases
    );
}

#[test]
fn mcp_bridge_bugs_are_flagged() {
    let s = mcp_spec("");
    for (bug, suite, scenario) in [
        (
            "reencode",
            "mcp-framing",
            "numbers, key order and escapes reach the child byte for byte",
        ),
        (
            "no-group-kill",
            "mcp-lifecycle",
            "a child that ignores stdin EOF and SIGTERM is killed with its group after twice the grace",
        ),
        (
            "keep-children",
            "mcp-framing",
            "a binary message closes 1003 and the child is stopped",
        ),
    ] {
        let only: Vec<Suite> = suites(&[suite])
            .into_iter()
            .map(|mut x| {
                x.scenarios.retain(|sc| sc.name == scenario);
                x
            })
            .collect();
        assert_eq!(only[0].scenarios.len(), 1, "{scenario} not found");
        let results = run_bridge(&s, only, bug);
        assert!(
            failed(&results, suite).contains(&scenario),
            "{bug}: {scenario:?} should fail, failed: {:?}",
            failed(&results, suite)
        );
    }
}

#[test]
fn the_mcp_smoke_flags_an_error_answer() {
    let s = mcp_spec(", --error");
    let results = run_bridge(&s, Vec::new(), "");
    let smoke = results.iter().find(|r| r.suite == "mcp smoke").unwrap();
    assert_eq!(smoke.failed(), 1, "{:?}", smoke.cases);
    assert!(
        smoke.cases[0]
            .detail
            .contains("answered initialize with an error: -32601 Method not found"),
        "{}",
        smoke.cases[0].detail
    );
}

#[test]
fn process_steps_report_what_they_saw() {
    let suite = scenario::parse_str(
        &root()
            .join("generated-tests/procs-check.yaml")
            .display()
            .to_string(),
        "procs",
        r#"
appliesTo: {types: [mcp]}
env:
  WS_MCP_COMMAND: '["python3","${fixtures.mcp}/chaos.py"]'
  WS_MCP_SHUTDOWN_GRACE: 200
scenarios:
  - name: one child per connection
    steps:
      - expectServerChildren: {count: 1}
      - close: 1000
      - expectServerChildren: 0
  - name: a wrong count names the processes
    steps:
      - sendText: '{"jsonrpc":"2.0","method":"x"}'
      - expectServerChildren: 3
        within: 300ms
  - name: the server is small
    steps:
      - expectServerRss: {below: 1GiB}
  - name: a tiny bound fails
    steps:
      - expectServerRss: {below: 64KiB}
  - name: a running process is not gone
    steps:
      - sendJson: {jsonrpc: "2.0", id: 1, method: chaos/pid}
      - expectJson: {jsonrpc: "2.0", id: 1, result: {pid: "$capture:p", pgid: "$any"}}
      - expectProcessGone: "$var:p"
        within: 300ms
"#,
    )
    .unwrap_or_else(|e| panic!("{}", e.render()));
    let results = run_bridge(&mcp_spec(""), vec![suite], "");
    let r = results.iter().find(|r| r.suite == "procs").unwrap();
    let verdict = |n: &str| {
        let c = r.cases.iter().find(|c| c.name == n).unwrap();
        (c.passed, c.detail.clone())
    };
    assert!(verdict("one child per connection").0);
    assert!(verdict("the server is small").0);
    let (ok, why) = verdict("a wrong count names the processes");
    assert!(
        !ok && why.contains("found 1: pid ") && why.contains("python3"),
        "{why}"
    );
    let (ok, why) = verdict("a tiny bound fails");
    assert!(!ok && why.contains("expected below 64 KiB"), "{why}");
    let (ok, why) = verdict("a running process is not gone");
    assert!(!ok && why.contains("still runs after"), "{why}");
}

#[test]
fn fixtures_placeholders_are_checked_at_load() {
    let file = root().join("generated-tests/x.yaml").display().to_string();
    let ok = scenario::parse_str(
        &file,
        "x",
        "env: {A: '${fixtures.mcp}/chaos.py'}\nscenarios:\n  - name: s\n    steps:\n      - sleep: 1ms\n",
    )
    .unwrap();
    let want = std::fs::canonicalize(root().join("generated-tests/mcp"))
        .unwrap()
        .join("chaos.py");
    assert_eq!(
        ok.scenarios[0].env,
        vec![("A".to_string(), want.display().to_string())]
    );
    let e = scenario::parse_str(
        &file,
        "x",
        "env: {A: '${fixtures.nope}'}\nscenarios:\n  - name: s\n    steps:\n      - sleep: 1ms\n",
    )
    .unwrap_err()
    .render();
    assert!(
        e.contains("x.yaml:1:") && e.contains("${fixtures.nope}: no folder"),
        "{e}"
    );
}
