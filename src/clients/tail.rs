//! The generated clients' `tail` example program (docs/protocol/clients-v1.md,
//! "The example program"): run it, and judge its stdout.
//!
//! Checkers are pure functions of the text printed, so the rules the fault
//! matrix enforces are unit-tested here without any client or server:
//! - session ([`check_emit`]): `session ID TOKEN` (after `--start`), then
//!   every seq from `after + 1` exactly once and in order with the worker's
//!   `emit` lines, the `{"emitted":N}` line, then `exit SEQ code 0`;
//! - chat ([`check_chat`]): ids `1..=N` exactly once, in order, with the
//!   texts the producer sent, and no `gap` line;
//! - a typed error ([`parse_error`]): one line `error CODE DETAIL`.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A parsed session tail output.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionOutput {
    /// From `session ID TOKEN` (after `--start`).
    pub session: Option<(String, String)>,
    /// `(seq, data)`: `data` the JSON text as printed.
    pub events: Vec<(u64, String)>,
    /// `(seq, "code 0")` or `(seq, "signal 9")`.
    pub exit: Option<(u64, String)>,
    /// `(code, detail)` of an `error` line.
    pub error: Option<(String, String)>,
}

/// The `error CODE DETAIL` line, if any (the last one).
pub fn parse_error(stdout: &str) -> Option<(String, String)> {
    stdout.lines().rev().find_map(|l| {
        let rest = l.strip_prefix("error ")?;
        let (code, detail) = rest.split_once(' ').unwrap_or((rest, ""));
        Some((code.to_string(), detail.to_string()))
    })
}

fn preview(line: &str) -> String {
    if line.chars().count() > 120 {
        format!("{}...", line.chars().take(120).collect::<String>())
    } else {
        line.to_string()
    }
}

/// Parses a session tail's stdout; any line that fits no form is an error.
pub fn parse_session(stdout: &str) -> Result<SessionOutput, String> {
    let mut out = SessionOutput::default();
    for (i, line) in stdout.lines().enumerate() {
        let at = |what: &str| format!("line {}: {what}: {}", i + 1, preview(line));
        if out.exit.is_some() || out.error.is_some() {
            return Err(at("a line after the end"));
        }
        if let Some(rest) = line.strip_prefix("session ") {
            if i != 0 {
                return Err(at("`session` not on the first line"));
            }
            let parts: Vec<&str> = rest.split(' ').collect();
            let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
            if parts.len() != 2 || !hex(parts[0]) || !hex(parts[1]) {
                return Err(at("expected `session ID TOKEN` (hex)"));
            }
            out.session = Some((parts[0].to_string(), parts[1].to_string()));
        } else if line.starts_with("error ") {
            out.error = parse_error(line);
        } else if let Some(rest) = line.strip_prefix("exit ") {
            let (seq, how) = rest
                .split_once(' ')
                .ok_or_else(|| at("expected `exit SEQ code N`"))?;
            let seq: u64 = seq.parse().map_err(|_| at("exit: SEQ is not a number"))?;
            let ok = match how.split_once(' ') {
                Some(("code" | "signal", n)) => n.parse::<i64>().is_ok(),
                _ => false,
            };
            if !ok {
                return Err(at("expected `exit SEQ code N` or `exit SEQ signal S`"));
            }
            out.exit = Some((seq, how.to_string()));
        } else {
            let (seq, data) = line
                .split_once(' ')
                .ok_or_else(|| at("expected `SEQ DATA`"))?;
            let seq: u64 = seq.parse().map_err(|_| at("SEQ is not a number"))?;
            if serde_json::from_str::<Value>(data).is_err() && !data.starts_with("stderr ") {
                return Err(at("DATA is not JSON"));
            }
            out.events.push((seq, data.to_string()));
        }
    }
    Ok(out)
}

/// The session run of the matrix: a worker told
/// `{"do":"emit","count":COUNT,"pace":0,"exit":0}` (size 0), watched from
/// `after` (0 with `--start`): seqs `after+1 ..` exactly once and in
/// order, event K is `{"n":K,"pad":""}`, then `{"emitted":COUNT}`, then
/// `exit COUNT+2 code 0`. `started`: the output must begin with `session`.
pub fn check_emit(stdout: &str, count: u64, after: u64, started: bool) -> Result<(), String> {
    let out = parse_session(stdout)?;
    if let Some((code, detail)) = &out.error {
        return Err(format!(
            "ended with `error {code} {detail}` after {} events",
            out.events.len()
        ));
    }
    if started != out.session.is_some() {
        return Err(if started {
            "no `session ID TOKEN` line first".into()
        } else {
            "a `session` line without --start".into()
        });
    }
    let mut expect = after + 1;
    for (seq, data) in &out.events {
        if *seq != expect {
            return Err(if *seq < expect {
                format!("seq {seq} again (or out of order) after {}", expect - 1)
            } else {
                format!("seqs {expect}..{} missing (next printed: {seq})", seq - 1)
            });
        }
        let want = if *seq <= count {
            format!(r#"{{"n":{seq},"pad":""}}"#)
        } else if *seq == count + 1 {
            format!(r#"{{"emitted":{count}}}"#)
        } else {
            return Err(format!("seq {seq} after the worker's last line: {data}"));
        };
        if *data != want {
            return Err(format!("seq {seq}: printed {data}, expected {want}"));
        }
        expect += 1;
    }
    match &out.exit {
        Some((seq, how)) if *seq == count + 2 && how == "code 0" => Ok(()),
        Some((seq, how)) => Err(format!(
            "`exit {seq} {how}`, expected `exit {} code 0`",
            count + 2
        )),
        None => Err(format!("no `exit` line (last seq printed: {})", expect - 1)),
    }
}

/// One chat line: `ID USER TEXT` (TEXT a JSON string) or `gap ROOM FROM TO`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatLine {
    Message { id: u64, user: String, text: String },
    Gap { room: String, from: u64, to: u64 },
}

/// A chat tail's lines, and its `error` line's (code, detail) if any.
pub type ChatOutput = (Vec<ChatLine>, Option<(String, String)>);

/// Parses a chat tail's stdout (an `error` line stops it: returned apart).
pub fn parse_chat(stdout: &str) -> Result<ChatOutput, String> {
    let mut lines = Vec::new();
    for (i, line) in stdout.lines().enumerate() {
        let at = |what: &str| format!("line {}: {what}: {}", i + 1, preview(line));
        if line.starts_with("error ") {
            return Ok((lines, parse_error(line)));
        }
        if let Some(rest) = line.strip_prefix("gap ") {
            let p: Vec<&str> = rest.split(' ').collect();
            let (Some(from), Some(to)) = (
                p.get(1).and_then(|s| s.parse().ok()),
                p.get(2).and_then(|s| s.parse().ok()),
            ) else {
                return Err(at("expected `gap ROOM FROM TO`"));
            };
            if p.len() != 3 {
                return Err(at("expected `gap ROOM FROM TO`"));
            }
            lines.push(ChatLine::Gap {
                room: p[0].to_string(),
                from,
                to,
            });
            continue;
        }
        let mut parts = line.splitn(3, ' ');
        let (Some(id), Some(user), Some(text)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(at("expected `ID USER TEXT`"));
        };
        let id: u64 = id.parse().map_err(|_| at("ID is not a number"))?;
        let text: String =
            serde_json::from_str(text).map_err(|_| at("TEXT is not a JSON string"))?;
        lines.push(ChatLine::Message {
            id,
            user: user.to_string(),
            text,
        });
    }
    Ok((lines, None))
}

/// The chat run of the matrix: messages 1..=`until` each exactly once, in
/// order, no gap; message K from `user` with text `text(K)`.
pub fn check_chat(
    stdout: &str,
    until: u64,
    user: &str,
    text: impl Fn(u64) -> String,
) -> Result<(), String> {
    let (lines, error) = parse_chat(stdout)?;
    let mut expect = 1;
    for l in &lines {
        match l {
            ChatLine::Gap { room, from, to } => {
                return Err(format!(
                    "`gap {room} {from} {to}` after message {}",
                    expect - 1
                ));
            }
            ChatLine::Message {
                id,
                user: u,
                text: t,
            } => {
                if *id != expect {
                    return Err(if *id < expect {
                        format!("message {id} again (or out of order) after {}", expect - 1)
                    } else {
                        format!("messages {expect}..{} missing (next printed: {id})", id - 1)
                    });
                }
                if u != user || *t != text(*id) {
                    return Err(format!(
                        "message {id}: {u} {t:?}, expected {user} {:?}",
                        text(*id)
                    ));
                }
                expect += 1;
            }
        }
    }
    if let Some((code, detail)) = error {
        return Err(format!(
            "ended with `error {code} {detail}` after message {}",
            expect - 1
        ));
    }
    if expect != until + 1 {
        return Err(format!("printed messages 1..{} of 1..{until}", expect - 1));
    }
    Ok(())
}

/// A running `tail`: stdout read line by line as it comes, stderr to a
/// file, killed (its whole process group) on drop.
pub struct TailProcess {
    child: Option<Child>,
    lines: mpsc::Receiver<String>,
    stdout: String,
    pub stderr_path: PathBuf,
    started: Instant,
    /// The command line, for reports.
    pub shown: String,
}

/// How a `tail` run ended.
#[derive(Debug, Clone)]
pub struct TailResult {
    pub stdout: String,
    pub stderr: String,
    /// `None`: killed at the deadline.
    pub status: Option<i32>,
    pub elapsed: Duration,
}

impl TailResult {
    /// `exit 0`, `exit 3`, `killed` ...
    pub fn status_text(&self) -> String {
        match self.status {
            Some(c) => format!("exit {c}"),
            None => "killed at its deadline (or by a signal)".into(),
        }
    }

    /// The last lines of stderr, for failure reports.
    pub fn stderr_tail(&self, n: usize) -> String {
        let lines: Vec<&str> = self.stderr.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// The last lines of stdout, for failure reports.
    pub fn stdout_tail(&self, n: usize) -> String {
        let lines: Vec<&str> = self.stdout.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl TailProcess {
    /// Starts `launch` + `args` (the `tail` example of a built client).
    pub fn start(
        launch: &crate::runner::Launch,
        args: &[String],
        stderr_path: &Path,
    ) -> Result<TailProcess, String> {
        use std::os::unix::process::CommandExt;
        let err = std::fs::File::create(stderr_path)
            .map_err(|e| format!("creating {}: {e}", stderr_path.display()))?;
        let mut cmd = Command::new(&launch.program);
        cmd.args(&launch.args)
            .args(args)
            .current_dir(&launch.dir)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .process_group(0);
        let shown = format!(
            "{} {}",
            launch.program.display(),
            launch
                .args
                .iter()
                .chain(args)
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        );
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", launch.program.display()))?;
        crate::runner::process::register_group(child.id() as i32);
        let stdout = child.stdout.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Ok(TailProcess {
            child: Some(child),
            lines: rx,
            stdout: String::new(),
            stderr_path: stderr_path.to_path_buf(),
            started: Instant::now(),
            shown,
        })
    }

    /// Waits for the next stdout line (`None`: stdout ended or `timeout`).
    pub fn next_line(&mut self, timeout: Duration) -> Option<String> {
        let line = self.lines.recv_timeout(timeout).ok()?;
        self.stdout.push_str(&line);
        self.stdout.push('\n');
        Some(line)
    }

    /// Lines printed so far (those read by [`Self::next_line`]).
    pub fn stdout_so_far(&self) -> &str {
        &self.stdout
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Reads stdout to its end and waits for the exit, killing the process
    /// group at `deadline`.
    pub fn finish(mut self, deadline: Instant) -> TailResult {
        let mut status = None;
        loop {
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            match self
                .lines
                .recv_timeout((deadline - now).min(Duration::from_millis(50)))
            {
                Ok(line) => {
                    self.stdout.push_str(&line);
                    self.stdout.push('\n');
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    // stdout closed: the process is ending.
                    let child = self.child.as_mut().expect("running");
                    let end = Instant::now() + Duration::from_secs(5).min(deadline - now);
                    while Instant::now() < end {
                        if let Ok(Some(s)) = child.try_wait() {
                            status = Some(s);
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    break;
                }
            }
        }
        let elapsed = self.started.elapsed();
        let code = match status {
            Some(s) => {
                self.forget();
                s.code()
            }
            None => {
                self.kill();
                None
            }
        };
        TailResult {
            stdout: std::mem::take(&mut self.stdout),
            stderr: std::fs::read_to_string(&self.stderr_path).unwrap_or_default(),
            status: code,
            elapsed,
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let pgid = c.id() as i32;
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
            let _ = c.wait();
            crate::runner::process::forget_group(pgid);
        }
    }

    fn forget(&mut self) {
        if let Some(c) = self.child.take() {
            let pgid = c.id() as i32;
            // Anything the program left in its group goes too.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
            crate::runner::process::forget_group(pgid);
        }
    }
}

impl Drop for TailProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emit_output(count: u64, after: u64, started: bool) -> String {
        let mut s = String::new();
        if started {
            s.push_str("session 0a1b 9f9f\n");
        }
        for k in after + 1..=count {
            s.push_str(&format!("{k} {{\"n\":{k},\"pad\":\"\"}}\n"));
        }
        if after <= count {
            s.push_str(&format!("{} {{\"emitted\":{count}}}\n", count + 1));
        }
        s.push_str(&format!("exit {} code 0\n", count + 2));
        s
    }

    #[test]
    fn a_complete_session_passes() {
        check_emit(&emit_output(5, 0, true), 5, 0, true).unwrap();
        check_emit(&emit_output(5, 3, false), 5, 3, false).unwrap();
    }

    #[test]
    fn session_duplicates_holes_and_bad_data_fail() {
        let ok = emit_output(5, 0, true);
        let dup = ok.replace(
            "3 {\"n\":3,\"pad\":\"\"}\n",
            "3 {\"n\":3,\"pad\":\"\"}\n3 {\"n\":3,\"pad\":\"\"}\n",
        );
        assert!(
            check_emit(&dup, 5, 0, true)
                .unwrap_err()
                .contains("seq 3 again")
        );
        let hole = ok.replace("3 {\"n\":3,\"pad\":\"\"}\n", "");
        assert!(
            check_emit(&hole, 5, 0, true)
                .unwrap_err()
                .contains("3..3 missing")
        );
        let wrong = ok.replace("{\"n\":4,", "{\"n\":40,");
        assert!(
            check_emit(&wrong, 5, 0, true)
                .unwrap_err()
                .contains("seq 4")
        );
        let spaced = ok.replace("{\"n\":2,\"pad\":\"\"}", "{\"n\": 2, \"pad\": \"\"}");
        assert!(check_emit(&spaced, 5, 0, true).is_err(), "not compact JSON");
        let no_exit = ok.replace("exit 7 code 0\n", "");
        assert!(
            check_emit(&no_exit, 5, 0, true)
                .unwrap_err()
                .contains("no `exit`")
        );
        let bad_exit = ok.replace("exit 7 code 0", "exit 7 code 1");
        assert!(check_emit(&bad_exit, 5, 0, true).is_err());
        let no_session = ok.replace("session 0a1b 9f9f\n", "");
        assert!(check_emit(&no_session, 5, 0, true).is_err());
        let error =
            "session 0a1b 9f9f\n1 {\"n\":1,\"pad\":\"\"}\nerror start_lost the answer was lost\n";
        assert!(
            check_emit(error, 5, 0, true)
                .unwrap_err()
                .contains("start_lost")
        );
        let after_end = format!("{ok}8 {{}}\n");
        assert!(
            check_emit(&after_end, 5, 0, true)
                .unwrap_err()
                .contains("after the end")
        );
    }

    #[test]
    fn session_lines_parse() {
        let out =
            parse_session("session ab cd\n1 {\"a\":[1,2]}\n2 stderr \"oops\"\nexit 3 signal 9\n")
                .unwrap();
        assert_eq!(out.session, Some(("ab".into(), "cd".into())));
        assert_eq!(out.events.len(), 2);
        assert_eq!(out.exit, Some((3, "signal 9".into())));
        assert!(parse_session("1 not json\n").is_err());
        assert!(parse_session("1 {}\nsession ab cd\n").is_err());
        assert!(parse_session("exit x code 0\n").is_err());
        let gap = parse_session("error replay_gap oldest 4001\n").unwrap();
        assert_eq!(gap.error, Some(("replay_gap".into(), "oldest 4001".into())));
    }

    fn chat_output(ids: impl Iterator<Item = u64>) -> String {
        ids.map(|k| {
            format!(
                "{k} producer {}\n",
                serde_json::to_string(&format!("m {k}")).unwrap()
            )
        })
        .collect()
    }

    #[test]
    fn a_complete_chat_passes() {
        let text = |k: u64| format!("m {k}");
        check_chat(&chat_output(1..=50), 50, "producer", text).unwrap();
    }

    #[test]
    fn chat_duplicates_holes_gaps_and_errors_fail() {
        let text = |k: u64| format!("m {k}");
        let e = check_chat(&chat_output((1..=5).chain(5..=10)), 10, "producer", text).unwrap_err();
        assert!(e.contains("message 5 again"), "{e}");
        let e = check_chat(&chat_output((1..=4).chain(6..=10)), 10, "producer", text).unwrap_err();
        assert!(e.contains("5..5 missing"), "{e}");
        let e = check_chat(&chat_output(1..=9), 10, "producer", text).unwrap_err();
        assert!(e.contains("1..9 of 1..10"), "{e}");
        let gapped = format!("{}gap r 5 5\n{}", chat_output(1..=4), chat_output(6..=10));
        assert!(
            check_chat(&gapped, 10, "producer", text)
                .unwrap_err()
                .contains("gap r 5 5")
        );
        let err = format!("{}error unavailable redis down\n", chat_output(1..=4));
        assert!(
            check_chat(&err, 10, "producer", text)
                .unwrap_err()
                .contains("unavailable")
        );
        let e = check_chat(&chat_output(1..=3), 3, "someone", text).unwrap_err();
        assert!(e.contains("expected someone"), "{e}");
        assert!(check_chat("1 u not-json\n", 1, "u", text).is_err());
        assert!(check_chat("gap r x 3\n", 1, "u", text).is_err());
    }

    #[test]
    fn chat_text_with_spaces_is_one_json_string() {
        let (lines, err) = parse_chat("7 bob \"a b \\\"c\\\"\"\ngap main 8 9\n").unwrap();
        assert!(err.is_none());
        assert_eq!(
            lines,
            vec![
                ChatLine::Message {
                    id: 7,
                    user: "bob".into(),
                    text: "a b \"c\"".into()
                },
                ChatLine::Gap {
                    room: "main".into(),
                    from: 8,
                    to: 9
                }
            ]
        );
    }

    #[test]
    fn error_lines_parse() {
        assert_eq!(
            parse_error("error unauthorized HTTP 401\n"),
            Some(("unauthorized".into(), "HTTP 401".into()))
        );
        assert_eq!(
            parse_error("error retries_exhausted\n"),
            Some(("retries_exhausted".into(), "".into()))
        );
        assert_eq!(parse_error("1 {}\n"), None);
    }
}
