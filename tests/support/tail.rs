//! Running a built client library's `tail` example from a test: started
//! through the library's own runner (`wsgen::clients::tail::TailProcess`,
//! which the fault matrix uses too), its stderr in a temporary file, its
//! process group killed when it outlives [`TAIL_TIMEOUT`] or the test.

use std::path::PathBuf;
use std::time::{Duration, Instant};
use wsgen::clients::tail::TailProcess;
use wsgen::runner::Launch;

/// How long one `tail` run may take before the test fails.
pub const TAIL_TIMEOUT: Duration = Duration::from_secs(60);

/// What one `tail` run printed and how it ended.
#[derive(Debug)]
pub struct Tail {
    pub stdout: String,
    pub stderr: String,
    /// The exit status (`None`: killed at the deadline or by a signal).
    pub code: Option<i32>,
}

impl Tail {
    /// stdout's lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// Fails the test unless it exited with `code`, showing what it printed
    /// and `context` (the server's log, say).
    pub fn expect(&self, code: i32, context: &str) {
        assert_eq!(
            self.code,
            Some(code),
            "tail's exit status\n{self}\n--- context\n{context}"
        );
    }
}

impl std::fmt::Display for Tail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// A `tail` that runs while the test does something else.
pub struct Running {
    process: TailProcess,
    _stderr: tempfile::TempDir,
    what: String,
}

/// Starts `launch` with `args`.
pub fn spawn(launch: &Launch, args: &[&str]) -> Running {
    let stderr = tempfile::tempdir().expect("temp dir");
    let path: PathBuf = stderr.path().join("stderr");
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let process = TailProcess::start(launch, &args, &path)
        .unwrap_or_else(|e| panic!("starting tail {}: {e}", args.join(" ")));
    Running {
        process,
        _stderr: stderr,
        what: args.join(" "),
    }
}

impl Running {
    /// The next stdout line (`None`: stdout ended, or nothing for `timeout`).
    pub fn next_line(&mut self, timeout: Duration) -> Option<String> {
        self.process.next_line(timeout)
    }

    /// Waits for the end (all of stdout, the status); fails the test when
    /// it runs past [`TAIL_TIMEOUT`] from now.
    pub fn finish(self) -> Tail {
        let r = self.process.finish(Instant::now() + TAIL_TIMEOUT);
        let tail = Tail {
            stdout: r.stdout,
            stderr: r.stderr,
            code: r.status,
        };
        assert!(
            tail.code.is_some(),
            "tail {} did not end within {TAIL_TIMEOUT:?}\n{tail}",
            self.what
        );
        tail
    }
}

/// Runs `launch` with `args` to its end.
pub fn run(launch: &Launch, args: &[&str]) -> Tail {
    spawn(launch, args).finish()
}

/// The session worker of the suites (generated-tests/session/worker.py) as
/// `WS_SESSION_COMMAND`'s JSON argv.
pub fn worker_command() -> String {
    let worker = super::repo().join("generated-tests/session/worker.py");
    serde_json::json!(["python3", worker]).to_string()
}

/// The lines `K {"n":K,"pad":""}` of the worker's `emit` events, K in
/// `from..=to` (size 0).
pub fn emitted(from: u64, to: u64) -> Vec<String> {
    (from..=to)
        .map(|k| format!("{k} {{\"n\":{k},\"pad\":\"\"}}"))
        .collect()
}
