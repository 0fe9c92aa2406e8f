//! `wsgen bench` on the command line: arguments, durations, exit codes and
//! the JSON report. (Counting correctness is in bench_load.rs.)

use std::process::Command;

fn wsgen() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wsgen"))
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn a_server_that_refuses_connections_fails_with_exit_1_and_a_json_report() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    let out = wsgen()
        .args([
            "bench",
            "--url",
            &format!("ws://127.0.0.1:{}/", closed_port()),
        ])
        .args([
            "-c",
            "3",
            "--messages-per-second",
            "10",
            "--duration",
            "200ms",
            "--drain",
            "100ms",
            "-q",
            "--json",
        ])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("0 open, 3 failed"), "{stdout}");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["connection_failures"], 3);
    assert_eq!(v["mode"], "open");
    assert_eq!(v["rate_per_connection"], 10.0);
    assert_eq!(v["duration_s"], 0.2);
}

#[test]
fn bad_arguments_are_usage_errors() {
    let bad_duration = wsgen()
        .args(["bench", "--url", "ws://127.0.0.1:1/", "--duration", "soon"])
        .output()
        .unwrap();
    assert_eq!(bad_duration.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_duration.stderr).contains("bad duration"));
    let bad_url = wsgen()
        .args(["bench", "--url", "http://x/", "-q"])
        .output()
        .unwrap();
    assert_eq!(bad_url.status.code(), Some(2));
    let nothing = wsgen().args(["bench"]).output().unwrap();
    assert_eq!(nothing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("--url"));
}
