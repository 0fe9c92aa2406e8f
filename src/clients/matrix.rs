//! The fault matrix of the generated client libraries: for a (client
//! language, server language) pair, build the client's `tail` example and
//! the server, boot the server, put a [`FaultProxy`] in front, and check
//! that what `tail` prints is exactly once and in order although the proxy
//! keeps cutting its connections (docs/clients.md, "verify --client").
//!
//! Cases:
//! - [`Matrix::session`]: `tail --start` of a worker emitting
//!   [`Settings::session_count`] events (`pace 0`) through random cuts (the
//!   proxy held to [`Settings::session_bytes_per_sec`], so that the run
//!   lasts long enough to be cut);
//!   a second `tail --attach --after` through the cuts too; and under
//!   `whenFull: drop` with a small replay limit, `tail --attach --after 5`
//!   ends with `error replay_gap` and exit 3.
//! - [`Matrix::chat`]: a producer (our own client, straight to the server)
//!   sends [`Settings::chat_count`] messages while `tail --room --until-id`
//!   reads through random cuts: ids 1..N once each, in order, no gap.
//! - [`Matrix::backoff`]: a proxy refusing everything and `--max-retries 6`:
//!   `error retries_exhausted`, exit 3, 6 attempts at the proxy, spread as
//!   the backoff policy allows (not a tight loop, not longer than the sum of
//!   the maximal waits).
//! - [`Matrix::unauthorized`]: a token server and a wrong `--token`:
//!   `error unauthorized`, exit 3, exactly one connection attempt.
//! - [`Matrix::backplane`]: two instances of a chat cluster on a private
//!   Redis; the instance `tail` is on is killed (SIGKILL) mid-stream and the
//!   proxy switched to the other: the output stays exactly once, in order.
//!
//! The specs are built in ([`Fixture`]), sized for the cases (a chat history
//! that holds every message of the run, so a correct client never needs a
//! `gap`). Every chat case runs the client generated from [`CHAT_SPEC`]
//! (token, retries and reconnects are the same in any chat client); the
//! servers are each case's own.

use super::proxy::{FaultProxy, Slow};
use super::tail::{self, TailProcess, TailResult};
use crate::ir::Server;
use crate::lang::Language;
use crate::runner::{self, BuildOptions, Launch, ServerProcess};
use crate::wire::{self, ConnectOptions};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A chat server whose history holds a whole run (rooms, presence: the
/// producer waits until the reader is in the room).
pub const CHAT_SPEC: &str = "\
name: matrix-chat
type: chat
features: [rooms, presence, history]
history:
  limit: 5000
";

/// A session server; the worker is `generated-tests/session/worker.py`
/// (`WS_SESSION_COMMAND`).
pub const SESSION_SPEC: &str = "\
name: matrix-session
type: session
session:
  command: [python3, worker.py]
  replay: {limit: 10000, whenFull: pause}
";

/// Token authentication (`WS_AUTH_TOKENS`).
pub const SECURE_CHAT_SPEC: &str = "\
name: matrix-secure-chat
type: chat
features: [rooms, presence, history]
auth:
  type: token
";

/// A chat cluster on Redis, history holding a whole run.
pub const BACKPLANE_SPEC: &str = "\
name: matrix-chat-redis
type: chat
features: [rooms, presence, history]
history:
  limit: 5000
backplane: redis
";

/// The token the unauthorized case's server knows (and the client does not send).
const KNOWN_TOKENS: &str = "alice:tok-alice-matrix";

/// The built-in specs of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fixture {
    Chat,
    Session,
    SecureChat,
    Backplane,
}

impl Fixture {
    pub fn spec(self) -> &'static str {
        match self {
            Fixture::Chat => CHAT_SPEC,
            Fixture::Session => SESSION_SPEC,
            Fixture::SecureChat => SECURE_CHAT_SPEC,
            Fixture::Backplane => BACKPLANE_SPEC,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Fixture::Chat => "chat",
            Fixture::Session => "session",
            Fixture::SecureChat => "secure-chat",
            Fixture::Backplane => "chat-redis",
        }
    }

    /// The resolved spec.
    pub fn server(self) -> Server {
        crate::pipeline::server_from_str(&format!("matrix-{}.yaml", self.name()), self.spec())
            .unwrap_or_else(|e| panic!("the built-in {} spec: {e:?}", self.name()))
    }
}

/// Sizes and timings of the cases.
#[derive(Debug, Clone)]
pub struct Settings {
    pub build: BuildOptions,
    /// Generated projects and logs go here (a temporary folder by default).
    pub work_dir: Option<PathBuf>,
    /// The session worker (`generated-tests/session/worker.py`).
    pub worker: PathBuf,
    /// Random cut window of the proxy, ms.
    pub cut_ms: (u64, u64),
    /// A run must have seen at least this many cuts, else it proved nothing.
    pub min_cuts: u64,
    /// Events the session worker emits.
    pub session_count: u64,
    /// The proxy's bandwidth for the session runs (bytes/s, each way): a
    /// fast client reads 10,000 events in half a second, before the cuts
    /// begin; held to this, a run lasts seconds and sees many cuts.
    pub session_bytes_per_sec: u64,
    /// Messages the chat producer sends.
    pub chat_count: u64,
    /// Wait between the producer's messages (after each one's echo).
    pub chat_pace: Duration,
    /// Backoff the fault cases give `tail` (ms): short, so reconnects are quick.
    pub backoff_ms: (u64, u64),
    /// Longest a `tail` run may take.
    pub case_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            build: BuildOptions::default(),
            work_dir: None,
            worker: crate::scenario::default_dir()
                .join("session")
                .join("worker.py"),
            cut_ms: (150, 450),
            min_cuts: 3,
            session_count: 10_000,
            session_bytes_per_sec: 300_000,
            chat_count: 2_000,
            chat_pace: Duration::from_millis(1),
            backoff_ms: (20, 200),
            case_timeout: Duration::from_secs(180),
        }
    }
}

/// One case's result.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub case: String,
    pub client: String,
    pub server: String,
    pub passed: bool,
    /// What was measured (PASS) or why it failed.
    pub detail: String,
    pub secs: f64,
}

impl Outcome {
    /// Runs `case` and records how it ended and how long it took.
    fn timed(
        case: &str,
        client: Language,
        server: Option<Language>,
        run: impl FnOnce() -> Result<String, String>,
    ) -> Outcome {
        let t = Instant::now();
        let r = run();
        let (passed, detail) = match r {
            Ok(d) => (true, d),
            Err(e) => (false, e),
        };
        Outcome {
            case: case.to_string(),
            client: client.to_string(),
            server: server.map_or_else(|| "-".to_string(), |s| s.to_string()),
            passed,
            detail,
            secs: t.elapsed().as_secs_f64(),
        }
    }

    /// `PASS chat (2000 messages ...)` / `FAIL chat: why`.
    pub fn line(&self) -> String {
        if self.passed {
            format!("PASS {} in {:.1} s: {}", self.case, self.secs, self.detail)
        } else {
            format!("FAIL {} in {:.1} s: {}", self.case, self.secs, self.detail)
        }
    }
}

/// Every outcome of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MatrixReport {
    pub outcomes: Vec<Outcome>,
}

impl MatrixReport {
    pub fn failed(&self) -> usize {
        self.outcomes.iter().filter(|o| !o.passed).count()
    }

    /// One line per (client, server) pair (and per client for the
    /// client-only cases): `node -> go   chat PASS 4.1 s   session PASS 6.0 s`.
    pub fn table(&self) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for o in &self.outcomes {
            let k = (o.client.clone(), o.server.clone());
            if !pairs.contains(&k) {
                pairs.push(k);
            }
        }
        let mut out = String::new();
        for (c, s) in pairs {
            let head = if s == "-" {
                format!("{c} client")
            } else {
                format!("{c} -> {s}")
            };
            out.push_str(&format!("{head:<18}"));
            for o in self
                .outcomes
                .iter()
                .filter(|o| o.client == c && o.server == s)
            {
                let v = if o.passed { "PASS" } else { "FAIL" };
                out.push_str(&format!("  {} {v} {:>5.1} s", o.case, o.secs));
            }
            out.push('\n');
        }
        out
    }
}

type Built = Result<Launch, String>;
/// One build per (fixture, language, client side), each behind its own lock.
type BuildSlots = HashMap<(Fixture, Language, bool), Arc<Mutex<Option<Built>>>>;

/// Builds (once per fixture, language and side) and runs the cases.
pub struct Matrix {
    pub settings: Settings,
    work: PathBuf,
    /// The work folder was made here: removed on drop.
    owned: bool,
    built: Mutex<BuildSlots>,
}

impl Matrix {
    pub fn new(settings: Settings) -> Result<Matrix, String> {
        let (work, owned) = match &settings.work_dir {
            Some(d) => (d.clone(), false),
            None => (
                std::env::temp_dir().join(format!(
                    "wsgen-client-matrix-{}-{:08x}",
                    std::process::id(),
                    rand::random::<u32>()
                )),
                true,
            ),
        };
        std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
        Ok(Matrix {
            settings,
            work,
            owned,
            built: Mutex::new(HashMap::new()),
        })
    }

    /// Where projects and logs are.
    pub fn work_dir(&self) -> &Path {
        &self.work
    }

    /// The `tail` launch of `lang`'s client for `fixture`, built once.
    pub fn client(&self, fixture: Fixture, lang: Language) -> Built {
        self.build(fixture, lang, true)
    }

    /// `lang`'s server for `fixture`, built once.
    pub fn server(&self, fixture: Fixture, lang: Language) -> Built {
        self.build(fixture, lang, false)
    }

    fn build(&self, fixture: Fixture, lang: Language, client: bool) -> Built {
        let slot = self
            .built
            .lock()
            .expect("build table")
            .entry((fixture, lang, client))
            .or_default()
            .clone();
        let mut slot = slot.lock().expect("build slot");
        if let Some(r) = slot.as_ref() {
            return r.clone();
        }
        let r = self.build_now(fixture, lang, client);
        *slot = Some(r.clone());
        r
    }

    fn build_now(&self, fixture: Fixture, lang: Language, client: bool) -> Built {
        let server = fixture.server();
        let side = if client { "client" } else { "server" };
        let dir = self
            .work
            .join("projects")
            .join(format!("{}-{side}-{lang}", fixture.name()));
        let _ = std::fs::remove_dir_all(&dir);
        if client {
            crate::pipeline::generate_client_into(&server, lang, &dir)
                .map_err(|e| format!("generating the {lang} client of {}: {e}", fixture.name()))?;
            runner::prepare_client_project(&server, lang, &dir, &self.settings.build)
                .map_err(|e| format!("building the {lang} client of {}: {e}", fixture.name()))
        } else {
            crate::pipeline::generate_into(&server, lang, &dir)
                .map_err(|e| format!("generating the {lang} server of {}: {e}", fixture.name()))?;
            runner::prepare_project(&server, lang, &dir, &self.settings.build)
                .map_err(|e| format!("building the {lang} server of {}: {e}", fixture.name()))
        }
    }

    fn log_dir(&self, name: &str) -> Result<PathBuf, String> {
        let d = self.work.join("logs").join(name);
        std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        Ok(d)
    }

    fn session_env(&self, extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let cmd = json!(["python3", self.settings.worker.display().to_string()]);
        let mut env = vec![("WS_SESSION_COMMAND".to_string(), cmd.to_string())];
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        env
    }

    fn backoff_args(&self) -> Vec<String> {
        let (a, b) = self.settings.backoff_ms;
        vec![
            "--backoff-initial".into(),
            a.to_string(),
            "--backoff-max".into(),
            b.to_string(),
        ]
    }

    fn deadline(&self) -> Instant {
        Instant::now() + self.settings.case_timeout
    }

    /// The session case (module docs).
    pub fn session(&self, client: Language, server: Language) -> Outcome {
        Outcome::timed("session", client, Some(server), || {
            self.session_inner(client, server)
        })
    }

    fn session_inner(&self, c: Language, s: Language) -> Result<String, String> {
        if !self.settings.worker.is_file() {
            return Err(format!(
                "the session worker {} is missing",
                self.settings.worker.display()
            ));
        }
        let tail_launch = self.client(Fixture::Session, c)?;
        let server_launch = self.server(Fixture::Session, s)?;
        let logs = self.log_dir(&format!("session-{c}-{s}"))?;
        let server = runner::boot(&server_launch, &self.session_env(&[]), &logs, "server")?;
        let proxy = FaultProxy::start(server.addr()).map_err(|e| format!("the proxy: {e}"))?;
        proxy.random_cuts(Some(self.settings.cut_ms));
        proxy.slow(Slow {
            per_chunk: Duration::ZERO,
            bytes_per_sec: self.settings.session_bytes_per_sec,
        });
        let url = proxy.ws_url("/");
        let n = self.settings.session_count;
        let input = json!({"do": "emit", "count": n, "pace": 0, "exit": 0}).to_string();
        let mut args = vec![url.clone(), "--start".into(), "--input".into(), input];
        args.extend(self.backoff_args());
        let run = TailProcess::start(&tail_launch, &args, &logs.join("tail-start.stderr"))?;
        let shown = run.shown.clone();
        let res = run.finish(self.deadline());
        let judge = |r: Result<(), String>, res: &TailResult, shown: &str| {
            r.and_then(|()| expect_status(res, 0))
                .map_err(|e| failure(&e, shown, res, &proxy, &server))
        };
        judge(tail::check_emit(&res.stdout, n, 0, true), &res, &shown)?;
        let cuts = proxy.cuts();
        if cuts < self.settings.min_cuts {
            return Err(failure(
                &format!(
                    "the proxy made {cuts} cut(s) (at least {} needed to prove anything): the run was too quick for the cut window {:?} ms",
                    self.settings.min_cuts, self.settings.cut_ms
                ),
                &shown,
                &res,
                &proxy,
                &server,
            ));
        }
        let first = format!(
            "{n} events once each through {cuts} cuts ({} connections) in {:.1} s",
            proxy.accepted(),
            res.elapsed.as_secs_f64()
        );
        // A second attacher, from near the end, through the cuts as well.
        let (id, token) = tail::parse_session(&res.stdout)?
            .session
            .ok_or("no session line")?;
        let after = n - n / 10;
        let mut args = vec![
            url.clone(),
            "--attach".into(),
            id,
            "--session-token".into(),
            token,
            "--after".into(),
            after.to_string(),
        ];
        args.extend(self.backoff_args());
        let run = TailProcess::start(&tail_launch, &args, &logs.join("tail-attach.stderr"))?;
        let shown = run.shown.clone();
        let res = run.finish(self.deadline());
        judge(tail::check_emit(&res.stdout, n, after, false), &res, &shown)?;
        drop(proxy);
        drop(server);
        let gap = self.replay_gap(&tail_launch, &server_launch, &logs)?;
        Ok(format!(
            "{first}; attach --after {after}: {} events once each; {gap}",
            n + 2 - after
        ))
    }

    /// `whenFull: drop`, replay limit 100: a session of 300 events, then
    /// `tail --attach --after 5` must end with `error replay_gap`, exit 3.
    fn replay_gap(
        &self,
        tail_launch: &Launch,
        server_launch: &Launch,
        logs: &Path,
    ) -> Result<String, String> {
        let env = self.session_env(&[
            ("WS_SESSION_WHEN_FULL", "drop"),
            ("WS_SESSION_REPLAY_LIMIT", "100"),
        ]);
        let server = runner::boot(server_launch, &env, logs, "server-drop")?;
        let url = format!("ws://{}/", server.addr());
        let (id, token) = block_on(start_and_wait_for_gap(url, 300)).map_err(|e| {
            format!(
                "replay_gap setup: {e}\nserver log:\n{}",
                log_tail(&server, 20)
            )
        })?;
        let proxy = FaultProxy::start(server.addr()).map_err(|e| format!("the proxy: {e}"))?;
        let args = vec![
            proxy.ws_url("/"),
            "--attach".into(),
            id,
            "--session-token".into(),
            token,
            "--after".into(),
            "5".into(),
        ];
        let run = TailProcess::start(tail_launch, &args, &logs.join("tail-gap.stderr"))?;
        let shown = run.shown.clone();
        let res = run.finish(Instant::now() + Duration::from_secs(60));
        let check = || -> Result<String, String> {
            expect_status(&res, 3)?;
            match tail::parse_error(&res.stdout) {
                Some((code, detail)) if code == "replay_gap" => {
                    if res.stdout.lines().count() != 1 {
                        return Err("more than the error line on stdout".into());
                    }
                    Ok(format!("replay_gap ({detail}) exit 3"))
                }
                other => Err(format!("expected `error replay_gap ...`, got {other:?}")),
            }
        };
        check().map_err(|e| failure(&e, &shown, &res, &proxy, &server))
    }

    /// The chat case (module docs).
    pub fn chat(&self, client: Language, server: Language) -> Outcome {
        Outcome::timed("chat", client, Some(server), || {
            self.chat_inner(client, server)
        })
    }

    fn chat_inner(&self, c: Language, s: Language) -> Result<String, String> {
        let tail_launch = self.client(Fixture::Chat, c)?;
        let server_launch = self.server(Fixture::Chat, s)?;
        let logs = self.log_dir(&format!("chat-{c}-{s}"))?;
        let server = runner::boot(&server_launch, &[], &logs, "server")?;
        let proxy = FaultProxy::start(server.addr()).map_err(|e| format!("the proxy: {e}"))?;
        proxy.random_cuts(Some(self.settings.cut_ms));
        let n = self.settings.chat_count;
        let mut args = vec![
            proxy.ws_url("/"),
            "--room".into(),
            ROOM.into(),
            "--user".into(),
            READER.into(),
            "--until-id".into(),
            n.to_string(),
        ];
        args.extend(self.backoff_args());
        let run = TailProcess::start(&tail_launch, &args, &logs.join("tail.stderr"))?;
        let shown = run.shown.clone();
        let producer = spawn_producer(
            format!("ws://{}/", server.addr()),
            n,
            self.settings.chat_pace,
        );
        let res = run.finish(self.deadline());
        let produced = producer
            .join()
            .unwrap_or_else(|_| Err("the producer panicked".into()));
        let cuts = proxy.cuts();
        let check = || -> Result<(), String> {
            produced.clone().map_err(|e| format!("the producer: {e}"))?;
            tail::check_chat(&res.stdout, n, PRODUCER, message_text)?;
            expect_status(&res, 0)?;
            if cuts < self.settings.min_cuts {
                return Err(format!(
                    "the proxy made {cuts} cut(s) (at least {} needed to prove anything)",
                    self.settings.min_cuts
                ));
            }
            Ok(())
        };
        check().map_err(|e| failure(&e, &shown, &res, &proxy, &server))?;
        Ok(format!(
            "{n} messages once each, in order, through {cuts} cuts ({} connections) in {:.1} s",
            proxy.accepted(),
            res.elapsed.as_secs_f64()
        ))
    }

    /// The backoff case (module docs).
    pub fn backoff(&self, client: Language) -> Outcome {
        Outcome::timed("backoff", client, None, || self.backoff_inner(client))
    }

    fn backoff_inner(&self, c: Language) -> Result<String, String> {
        const RETRIES: usize = 6;
        const INITIAL: u64 = 50;
        const MAX: u64 = 400;
        let tail_launch = self.client(Fixture::Chat, c)?;
        let logs = self.log_dir(&format!("backoff-{c}"))?;
        // Nothing behind the proxy: it refuses everything anyway.
        let nowhere = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?;
        let proxy = FaultProxy::start(nowhere).map_err(|e| format!("the proxy: {e}"))?;
        proxy.refuse();
        let args: Vec<String> = [
            proxy.ws_url("/").as_str(),
            "--room",
            ROOM,
            "--user",
            READER,
            "--max-retries",
            &RETRIES.to_string(),
            "--backoff-initial",
            &INITIAL.to_string(),
            "--backoff-max",
            &MAX.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let run = TailProcess::start(&tail_launch, &args, &logs.join("tail.stderr"))?;
        let shown = run.shown.clone();
        let res = run.finish(Instant::now() + Duration::from_secs(60));
        // Attempts still on their way would show up now.
        std::thread::sleep(Duration::from_millis(300));
        let attempts = proxy.attempts();
        let check = || -> Result<String, String> {
            expect_status(&res, 3)?;
            match tail::parse_error(&res.stdout) {
                Some((code, _)) if code == "retries_exhausted" => {}
                other => return Err(format!("expected `error retries_exhausted`, got {other:?}")),
            }
            if attempts.len() != RETRIES {
                return Err(format!(
                    "{} connection attempts at the proxy, expected {RETRIES} (--max-retries {RETRIES})",
                    attempts.len()
                ));
            }
            let gaps: Vec<u64> = attempts
                .windows(2)
                .map(|w| (w[1].at - w[0].at).as_millis() as u64)
                .collect();
            let span: u64 = gaps.iter().sum();
            // Attempt k (k >= 1) waits at most min(max, initial * 2^k).
            let bound: u64 = (1..RETRIES as u32).map(|k| MAX.min(INITIAL << k)).sum();
            // Each attempt's own work (connect, reset, bookkeeping) on a loaded machine.
            let slack = 150 * RETRIES as u64;
            if span > bound + slack {
                return Err(format!(
                    "attempts spread over {span} ms (gaps {gaps:?}), more than the policy's {bound} ms of waits (+{slack} ms)"
                ));
            }
            // Full jitter: the five waits summing under 40 ms has a chance of about 1e-6.
            if span < 40 {
                return Err(format!(
                    "attempts only {span} ms apart in all (gaps {gaps:?}): a tight loop, not a backoff"
                ));
            }
            Ok(format!(
                "{RETRIES} attempts over {span} ms (gaps {gaps:?} ms; policy at most {bound} ms), then retries_exhausted, exit 3"
            ))
        };
        check().map_err(|e| {
            format!(
                "{e}\n  {shown}\n  {}\n  stdout:\n{}\n  stderr:\n{}",
                res.status_text(),
                res.stdout_tail(5),
                res.stderr_tail(10)
            )
        })
    }

    /// The 401 case (module docs).
    pub fn unauthorized(&self, client: Language, server: Language) -> Outcome {
        Outcome::timed("unauthorized", client, Some(server), || {
            self.unauthorized_inner(client, server)
        })
    }

    fn unauthorized_inner(&self, c: Language, s: Language) -> Result<String, String> {
        let tail_launch = self.client(Fixture::Chat, c)?;
        let server_launch = self.server(Fixture::SecureChat, s)?;
        let logs = self.log_dir(&format!("unauthorized-{c}-{s}"))?;
        let env = vec![("WS_AUTH_TOKENS".to_string(), KNOWN_TOKENS.to_string())];
        let server = runner::boot(&server_launch, &env, &logs, "server")?;
        let proxy = FaultProxy::start(server.addr()).map_err(|e| format!("the proxy: {e}"))?;
        let mut args = vec![
            proxy.ws_url("/"),
            "--room".into(),
            ROOM.into(),
            "--user".into(),
            "alice".into(),
            "--token".into(),
            "not-the-token".into(),
        ];
        args.extend(self.backoff_args());
        let run = TailProcess::start(&tail_launch, &args, &logs.join("tail.stderr"))?;
        let shown = run.shown.clone();
        let res = run.finish(Instant::now() + Duration::from_secs(60));
        // A retry after the typed error would show up now.
        std::thread::sleep(Duration::from_millis(500));
        let check = || -> Result<String, String> {
            expect_status(&res, 3)?;
            match tail::parse_error(&res.stdout) {
                Some((code, _)) if code == "unauthorized" => {}
                other => return Err(format!("expected `error unauthorized`, got {other:?}")),
            }
            let n = proxy.attempts().len();
            if n != 1 {
                return Err(format!(
                    "{n} connection attempts at the proxy: a 401 is fatal, exactly one expected"
                ));
            }
            Ok("error unauthorized, exit 3, one connection attempt".into())
        };
        check().map_err(|e| failure(&e, &shown, &res, &proxy, &server))
    }

    /// The backplane case (module docs): `client` reads through the proxy
    /// from instance A while the producer writes to instance B; A is killed
    /// after a quarter of the messages.
    pub fn backplane(&self, client: Language, server: Language) -> Outcome {
        Outcome::timed("backplane", client, Some(server), || {
            self.backplane_inner(client, server)
        })
    }

    fn backplane_inner(&self, c: Language, s: Language) -> Result<String, String> {
        let tail_launch = self.client(Fixture::Chat, c)?;
        let server_launch = self.server(Fixture::Backplane, s)?;
        let logs = self.log_dir(&format!("backplane-{c}-{s}"))?;
        let redis = runner::redis::RedisServer::start()?;
        let env = vec![
            ("WS_REDIS_URL".to_string(), redis.url()),
            (
                "WS_REDIS_PREFIX".to_string(),
                format!("wsgen-matrix-{:08x}", rand::random::<u32>()),
            ),
            (
                "WS_BACKPLANE_HEARTBEAT".to_string(),
                crate::scenario::cluster::TEST_HEARTBEAT_MS.to_string(),
            ),
        ];
        let mut a = runner::boot(&server_launch, &env, &logs, "instance-a")?;
        let b = runner::boot(&server_launch, &env, &logs, "instance-b")?;
        let proxy = FaultProxy::start(a.addr()).map_err(|e| format!("the proxy: {e}"))?;
        let n = self.settings.chat_count;
        let mut args = vec![
            proxy.ws_url("/"),
            "--room".into(),
            ROOM.into(),
            "--user".into(),
            READER.into(),
            "--until-id".into(),
            n.to_string(),
        ];
        args.extend(self.backoff_args());
        let mut run = TailProcess::start(&tail_launch, &args, &logs.join("tail.stderr"))?;
        let shown = run.shown.clone();
        let producer = spawn_producer(format!("ws://{}/", b.addr()), n, self.settings.chat_pace);
        // Kill A once a quarter of the messages came through it.
        let kill_at = (n / 4).max(1);
        let deadline = self.deadline();
        let mut seen = 0;
        while seen < kill_at && Instant::now() < deadline {
            match run.next_line(Duration::from_millis(200)) {
                Some(_) => seen += 1,
                None if !producer.is_finished() => {}
                None => break,
            }
        }
        if seen < kill_at {
            let res = run.finish(Instant::now());
            let produced = producer.join().unwrap_or_else(|_| Err("panicked".into()));
            return Err(failure(
                &format!("only {seen} lines before the kill (producer: {produced:?})"),
                &shown,
                &res,
                &proxy,
                &a,
            ));
        }
        a.signal(libc::SIGKILL);
        let _ = a.wait();
        proxy.set_target(b.addr());
        proxy.cut_all();
        let killed = Instant::now();
        let res = run.finish(deadline);
        let produced = producer
            .join()
            .unwrap_or_else(|_| Err("the producer panicked".into()));
        let check = || -> Result<(), String> {
            produced.clone().map_err(|e| format!("the producer: {e}"))?;
            tail::check_chat(&res.stdout, n, PRODUCER, message_text)?;
            expect_status(&res, 0)?;
            if proxy.accepted() < 2 {
                return Err("the client never connected again after the kill".into());
            }
            Ok(())
        };
        check().map_err(|e| failure(&e, &shown, &res, &proxy, &b))?;
        drop(redis);
        Ok(format!(
            "{n} messages once each, in order; instance A killed (SIGKILL) after {seen} lines, the rest through B ({} connections; done {:.1} s after the kill)",
            proxy.accepted(),
            killed.elapsed().as_secs_f64()
        ))
    }

    /// Chat and session for every pair, then backoff, 401 and the backplane
    /// kill per client language (the last two against the first server
    /// language). `progress`: a line per case on stderr as it ends.
    pub fn run(&self, clients: &[Language], servers: &[Language], progress: bool) -> MatrixReport {
        let mut report = MatrixReport::default();
        let mut push = |o: Outcome| {
            if progress {
                eprintln!("{} -> {}: {}", o.client, o.server, o.line());
            }
            report.outcomes.push(o);
        };
        for &c in clients {
            for &s in servers {
                push(self.chat(c, s));
                push(self.session(c, s));
            }
        }
        for &c in clients {
            push(self.backoff(c));
            if let Some(&s) = servers.first() {
                push(self.unauthorized(c, s));
                push(self.backplane(c, s));
            }
        }
        report
    }
}

impl Drop for Matrix {
    fn drop(&mut self) {
        if self.owned {
            let _ = std::fs::remove_dir_all(&self.work);
        }
    }
}

/// The chat room, reader and producer names of the cases.
pub const ROOM: &str = "matrix";
pub const READER: &str = "reader";
pub const PRODUCER: &str = "producer";

/// The text of the producer's message K.
pub fn message_text(k: u64) -> String {
    format!("m {k}")
}

fn expect_status(res: &TailResult, code: i32) -> Result<(), String> {
    if res.status == Some(code) {
        Ok(())
    } else {
        Err(format!("tail: {}, expected exit {code}", res.status_text()))
    }
}

fn log_tail(server: &ServerProcess, n: usize) -> String {
    let logs = server.logs();
    let lines: Vec<&str> = logs.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// A failure with what helps: the command, its status and output tails,
/// the proxy's counters and the server's log tail.
fn failure(
    e: &str,
    shown: &str,
    res: &TailResult,
    proxy: &FaultProxy,
    server: &ServerProcess,
) -> String {
    format!(
        "{e}\n  command: {shown}\n  {} after {:.1} s; proxy: {}\n  stdout (last lines):\n{}\n  stderr (last lines):\n{}\n  server log (last lines):\n{}",
        res.status_text(),
        res.elapsed.as_secs_f64(),
        proxy.summary(),
        indent(&res.stdout_tail(5)),
        indent(&res.stderr_tail(15)),
        indent(&log_tail(server, 15)),
    )
}

fn indent(s: &str) -> String {
    s.lines().map(|l| format!("    {l}\n")).collect()
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime")
        .block_on(f)
}

/// The producer on a thread of its own: joins [`ROOM`] as [`PRODUCER`],
/// waits until [`READER`] is a member, sends `count` messages
/// ([`message_text`]), each after the echo of the one before (plus `pace`),
/// and checks that message K got id K.
pub fn spawn_producer(
    url: String,
    count: u64,
    pace: Duration,
) -> std::thread::JoinHandle<Result<(), String>> {
    std::thread::spawn(move || block_on(produce(url, count, pace)))
}

async fn send(c: &mut wire::Connection, v: Value) -> Result<(), String> {
    c.send_text(&v.to_string())
        .await
        .map_err(|e| format!("sending {v}: {e}"))
}

/// The next frame answering `r` (other frames are skipped).
async fn answer(c: &mut wire::Connection, r: &Value) -> Result<Value, String> {
    loop {
        let m = c
            .recv_message_timeout(Duration::from_secs(30))
            .await
            .map_err(|e| format!("waiting for the answer to ref {r}: {e}"))?;
        let v: Value = serde_json::from_slice(m.as_bytes())
            .map_err(|e| format!("a frame that is not JSON ({e})"))?;
        if v.get("ref") == Some(r) {
            return Ok(v);
        }
    }
}

async fn produce(url: String, count: u64, pace: Duration) -> Result<(), String> {
    let opts = ConnectOptions {
        timeout: Duration::from_secs(10),
        ..ConnectOptions::default()
    };
    let mut c = wire::connect(&url, &opts)
        .await
        .map_err(|e| format!("connecting to {url}: {e}"))?;
    let r = json!("join");
    send(
        &mut c,
        json!({"type": "join", "room": ROOM, "user": PRODUCER, "ref": r}),
    )
    .await?;
    let joined = answer(&mut c, &r).await?;
    if joined["type"] != "joined" {
        return Err(format!("join: {joined}"));
    }
    // The reader must be in the room before the first message, so that it
    // sees the whole room whatever its client does with the `joined` history.
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let r = json!("members");
        send(&mut c, json!({"type": "members", "room": ROOM, "ref": r})).await?;
        let m = answer(&mut c, &r).await?;
        let present = m["members"]
            .as_array()
            .is_some_and(|a| a.iter().any(|u| u == READER));
        if present {
            break;
        }
        if Instant::now() > until {
            return Err(format!("{READER} never joined {ROOM} (last answer: {m})"));
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    for k in 1..=count {
        let r = json!(k);
        send(
            &mut c,
            json!({"type": "message", "room": ROOM, "text": message_text(k), "ref": r}),
        )
        .await?;
        let m = answer(&mut c, &r).await?;
        if m["type"] != "message" || m["id"] != json!(k) {
            return Err(format!("message {k}: the server answered {m}"));
        }
        if !pace.is_zero() {
            tokio::time::sleep(pace).await;
        }
    }
    let _ = c.close(Some(1000), "").await;
    Ok(())
}

/// Starts a session of `count` events with our own client, leaves it, and
/// waits until attaching from 0 gets `replay_gap` (the oldest events are
/// gone); returns (session, token).
async fn start_and_wait_for_gap(url: String, count: u64) -> Result<(String, String), String> {
    let opts = ConnectOptions {
        timeout: Duration::from_secs(10),
        ..ConnectOptions::default()
    };
    let mut c = wire::connect(&url, &opts)
        .await
        .map_err(|e| format!("connecting to {url}: {e}"))?;
    let r = json!(1);
    let input = json!({"do": "emit", "count": count, "pace": 0, "exit": 0});
    send(&mut c, json!({"type": "start", "input": input, "ref": r})).await?;
    let started = answer(&mut c, &r).await?;
    let (Some(id), Some(token)) = (started["session"].as_str(), started["token"].as_str()) else {
        return Err(format!("start: {started}"));
    };
    let (id, token) = (id.to_string(), token.to_string());
    let _ = c.close(Some(1000), "").await;
    let until = Instant::now() + Duration::from_secs(20);
    loop {
        let mut c = wire::connect(&url, &opts)
            .await
            .map_err(|e| format!("connecting to {url}: {e}"))?;
        let r = json!(2);
        send(
            &mut c,
            json!({"type": "attach", "session": id, "token": token, "after": 0, "ref": r}),
        )
        .await?;
        let a = answer(&mut c, &r).await?;
        let _ = c.close(Some(1000), "").await;
        if a["type"] == "error" && a["code"] == "replay_gap" {
            return Ok((id, token));
        }
        if Instant::now() > until {
            return Err(format!("attach after 0 never got replay_gap (last: {a})"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_specs_resolve() {
        for f in [
            Fixture::Chat,
            Fixture::Session,
            Fixture::SecureChat,
            Fixture::Backplane,
        ] {
            let s = f.server();
            assert!(s.slug.starts_with("matrix-"), "{}", s.slug);
        }
        let chat = Fixture::Chat.server();
        assert!(chat.chat.as_ref().unwrap().history_limit >= Settings::default().chat_count);
    }

    #[test]
    fn the_table_has_a_line_per_pair() {
        let o = |case: &str, c: &str, s: &str, passed: bool| Outcome {
            case: case.into(),
            client: c.into(),
            server: s.into(),
            passed,
            detail: String::new(),
            secs: 1.0,
        };
        let r = MatrixReport {
            outcomes: vec![
                o("chat", "node", "go", true),
                o("session", "node", "go", false),
                o("chat", "go", "go", true),
                o("backoff", "go", "-", true),
            ],
        };
        assert_eq!(r.failed(), 1);
        let t = r.table();
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3, "{t}");
        assert!(
            lines[0].starts_with("node -> go")
                && lines[0].contains("chat PASS")
                && lines[0].contains("session FAIL"),
            "{t}"
        );
        assert!(
            lines[2].starts_with("go client") && lines[2].contains("backoff PASS"),
            "{t}"
        );
    }
}
