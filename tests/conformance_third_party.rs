//! `wsgen conformance` against a server wsgen did not generate: a tiny echo
//! server written with Python's `websockets` (tests/fixtures/conformance/py_echo.py).
//! This test fails loudly (never skips) when python3 or websockets is missing.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use wsgen::conformance::{Scale, Suite, SuiteOptions, Verdict};

/// Kills the server when the test ends, however it ends.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_py_echo() -> (Guard, String) {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/conformance/py_echo.py"
    );
    let check = Command::new("python3")
        .args(["-c", "import websockets"])
        .output()
        .unwrap_or_else(|e| panic!("python3 is required for this test and could not be run: {e}"));
    assert!(
        check.status.success(),
        "the Python package `websockets` is required for this test: pip install websockets\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let mut child = Command::new("python3")
        .arg(script)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start python3 py_echo.py");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("read port");
    let port: u16 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("py_echo.py printed {line:?}, expected a port"));
    (Guard(child), format!("ws://127.0.0.1:{port}/"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_websockets_echo_server_has_no_fail() {
    let (_guard, url) = start_py_echo();
    let suite = Suite::new(Scale::Quick);
    let report = suite
        .run(
            &url,
            &SuiteOptions {
                jobs: 16,
                ..Default::default()
            },
            |_| {},
        )
        .await
        .unwrap();
    assert_eq!(report.count(Verdict::Fail), 0, "{}", report.text());
    // Documented in docs/conformance.md: the NON-STRICT verdicts websockets gets.
    let non_strict = report.ids(Verdict::NonStrict);
    eprintln!("{}", report.text());
    eprintln!("NON-STRICT: {non_strict:?}");
}
