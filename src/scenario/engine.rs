//! Plays scenarios over the wire: session scenarios against a running server,
//! start-up checks by launching the server with one bad variable.

use super::material::Material;
use super::model::*;
use super::observe;
use super::pattern::{Ctx, Pattern, StrPattern, Vars, preview};
use super::procs;
use super::{DEFAULT_WINDOW, generated};
use crate::ir::Server;
use crate::runner::{Launch, ServerProcess, free_port};
use crate::wire::deflate::{self, DeflateCodec, DeflateOffer, Role};
use crate::wire::frame::{Frame, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT};
use crate::wire::handshake::{self, HandshakeRequest, HttpResponse, WsUrl};
use crate::wire::{ConnectOptions, Connection, Stream, WireError};
use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Longest a whole session scenario may take (a stuck server must not hang verify).
pub const SCENARIO_LIMIT: Duration = Duration::from_secs(120);

/// A running server to play sessions against.
#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub addr: SocketAddr,
    pub server: &'a Server,
    /// The instance serves only TLS (its environment sets `WS_TLS_CERT`):
    /// clients and GETs use wss/https by default, trusting this.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// verify's test credentials (`${tls.*}`, `${auth.*}`, `token`, `jwt`).
    pub material: Option<&'a Material>,
    /// The server's log file (for `expectLog`, `logExcludes`, `logIsJson`).
    pub log: Option<PathBuf>,
    /// The server's process id (for `rotateCertificate`'s SIGHUP and the
    /// process steps).
    pub pid: Option<u32>,
    /// The server's working folder (`${target.dir}`, absolute).
    pub dir: Option<PathBuf>,
    /// Several instances on one Redis: clients connect to the instance
    /// they name (`instance: N`), cluster steps act on it; `addr`, `log`
    /// and `pid` are instance 0's.
    pub cluster: Option<Arc<super::cluster::Cluster>>,
    /// Clients that name no instance go round-robin over the cluster's
    /// instances (client k to instance k mod n), instead of to instance 0.
    pub spread: bool,
}

impl<'a> Target<'a> {
    /// A plain target: a server at `addr`, nothing else known.
    pub fn new(addr: SocketAddr, server: &'a Server) -> Self {
        Target {
            addr,
            server,
            tls: None,
            material: None,
            log: None,
            pid: None,
            dir: None,
            cluster: None,
            spread: false,
        }
    }

    /// Where instance `i` listens (the target itself without a cluster).
    fn addr_of(&self, i: usize) -> Result<SocketAddr, String> {
        match &self.cluster {
            Some(c) => c.addr(i),
            None if i == 0 => Ok(self.addr),
            None => Err(format!(
                "instance {i}: this target is one server, not a cluster"
            )),
        }
    }

    /// The instance a client connects to.
    fn instance_for(&self, client: &Client, index: usize) -> usize {
        match (&self.cluster, client.instance) {
            (_, Some(i)) => i,
            (Some(c), None) if self.spread && !c.is_empty() => index % c.len(),
            _ => 0,
        }
    }

    fn ctx(&self) -> Ctx {
        let ctx = Ctx::for_server(self.server);
        let mut extra = match self.material {
            Some(m) => m.values(ctx.values()),
            None => Default::default(),
        };
        // The instance itself: `Host` as clients send it, and the origin a
        // page served by this server has (same-origin).
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        extra.insert("target.port".into(), self.addr.port().to_string());
        extra.insert("target.host".into(), self.addr.to_string());
        extra.insert("target.origin".into(), format!("{scheme}://{}", self.addr));
        if let Some(d) = &self.dir {
            extra.insert("target.dir".into(), d.display().to_string());
        }
        if let Some(c) = &self.cluster {
            extra.extend(c.values());
        }
        ctx.with_values(extra)
    }

    fn log_text(&self) -> Result<String, String> {
        let p = self
            .log
            .as_ref()
            .ok_or("this target has no server log (only verify's instances do)")?;
        std::fs::read(p)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| format!("reading the server log {}: {e}", p.display()))
    }
}

/// Per-scenario state the steps share.
struct Session {
    /// Length of the server log when the scenario started.
    log_start: usize,
    /// Per client: some step checks its handshake (a refusal is expected).
    checks_handshake: Vec<bool>,
}

/// Play one session scenario. `Err` explains the first failing step.
pub async fn run_session(scenario: &Scenario, target: &Target<'_>) -> Result<(), String> {
    let Body::Session { clients, steps } = &scenario.body else {
        return Err("not a session scenario".into());
    };
    match tokio::time::timeout(SCENARIO_LIMIT, session(clients, steps, target)).await {
        Ok(r) => r,
        Err(_) => Err(format!(
            "the scenario did not finish within {SCENARIO_LIMIT:?}"
        )),
    }
}

async fn session(specs: &[Client], steps: &[Step], target: &Target<'_>) -> Result<(), String> {
    let ctx = target.ctx();
    let sess = Session {
        log_start: target.log_text().map(|t| t.len()).unwrap_or(0),
        checks_handshake: (0..specs.len())
            .map(|i| {
                steps
                    .iter()
                    .any(|s| s.client == i && matches!(s.action, Action::ExpectHandshake(_)))
            })
            .collect(),
    };
    let mut clients: Vec<Peer> = specs
        .iter()
        .enumerate()
        .map(|(k, c)| {
            let mut c = c.clone();
            c.instance = Some(target.instance_for(&c, k));
            Peer::new(c)
        })
        .collect();
    let mut vars = Vars::new();
    for (i, c) in clients.iter_mut().enumerate() {
        if c.spec.connect {
            c.connect(target, &ctx).await;
            let checks_handshake = steps
                .iter()
                .any(|s| s.client == i && matches!(s.action, Action::ExpectHandshake(_)));
            if let Some(e) = &c.connect_error
                && !checks_handshake
            {
                return Err(format!("client {}: {e}", c.spec.name));
            }
        }
    }
    let mut pumps: Vec<Option<Pump>> = clients.iter().map(|_| None).collect();
    let result = async {
        for step in steps {
            if step.action.needs_client() {
                reclaim(&mut clients, &mut pumps, step.client).await;
            }
            let r = run_step(
                step,
                &mut clients,
                &mut pumps,
                target,
                &ctx,
                &mut vars,
                &sess,
            )
            .await;
            if let Err(e) = r {
                let who = if step.action.needs_client() {
                    format!("client {}: ", clients[step.client].spec.name)
                } else {
                    String::new()
                };
                return Err(format!("{}: {who}{e}", step.at));
            }
        }
        Ok(())
    }
    .await;
    for i in 0..clients.len() {
        reclaim(&mut clients, &mut pumps, i).await;
    }
    for c in &mut clients {
        c.goodbye().await;
    }
    result
}

async fn run_step(
    step: &Step,
    clients: &mut [Peer],
    pumps: &mut [Option<Pump>],
    target: &Target<'_>,
    ctx: &Ctx,
    vars: &mut Vars,
    sess: &Session,
) -> Result<(), String> {
    let window = step.within.unwrap_or(DEFAULT_WINDOW);
    match &step.action {
        Action::HttpGet(h) => {
            // With `within`, retried until it holds (a cluster instance
            // notices a Redis outage at its next heartbeat).
            let Some(w) = step.within else {
                return http_check(h, target, ctx);
            };
            let deadline = tokio::time::Instant::now() + w;
            loop {
                match http_check(h, target, ctx) {
                    Ok(()) => return Ok(()),
                    Err(e) if tokio::time::Instant::now() >= deadline => {
                        return Err(format!("{e} (still, after {w:?})"));
                    }
                    Err(_) => tokio::time::sleep(observe::POLL).await,
                }
            }
        }
        Action::ExpectLog {
            pattern,
            since_boot,
        } => {
            let from = if *since_boot { 0 } else { sess.log_start };
            return expect_log(pattern, target, ctx, vars, from, window).await;
        }
        Action::LogExcludes(ps) => return log_excludes(ps, clients, target, ctx, vars),
        Action::LogIsJson => return log_is_json(target),
        Action::Metrics(m) => return metrics_step(m, target, vars, window).await,
        Action::RotateCertificate => {
            let m = target
                .material
                .ok_or("rotateCertificate: no test material (verify generates it)")?;
            m.rotate()?;
            let pid = target.pid.ok_or("rotateCertificate: no server process")?;
            unsafe {
                libc::kill(pid as i32, libc::SIGHUP);
            }
            return Ok(());
        }
        Action::Sleep(d) => {
            tokio::time::sleep(*d).await;
            return Ok(());
        }
        Action::ExpectServerChildren(n) => return server_children(*n, target, window).await,
        Action::KillInstance(n) => {
            let n = *n;
            return cluster_op(target, move |c| c.kill(n)).await;
        }
        Action::StartInstance(n) => {
            let n = *n;
            return cluster_op(target, move |c| c.start(n)).await;
        }
        Action::RestartInstances => return cluster_op(target, |c| c.restart_all()).await,
        Action::StopRedis => return cluster_op(target, |c| c.stop_redis()).await,
        Action::StartRedis => return cluster_op(target, |c| c.start_redis()).await,
        Action::ExpectProcessGone(pid) => return process_gone(pid, vars, window).await,
        Action::ExpectServerRss(below) => {
            let pid = target
                .pid
                .ok_or("expectServerRss: no server process (only verify's instances have one)")?;
            let rss = procs::rss(pid)?;
            return if rss < *below {
                Ok(())
            } else {
                Err(format!(
                    "the server's resident memory is {}, expected below {}",
                    procs::human(rss),
                    procs::human(*below)
                ))
            };
        }
        Action::Burst {
            clients: names,
            count,
            json,
        } => return burst(clients, pumps, names, ctx.size(count)?, json, ctx, vars).await,
        Action::Assert {
            same_order,
            increasing,
            consecutive,
            from,
            field,
        } => {
            assert_lists(same_order, increasing, field.as_deref(), vars)?;
            let from = from.as_deref().map(|f| ctx.size(f)).transpose()?;
            return assert_consecutive(consecutive, from, field.as_deref(), vars);
        }
        Action::ExpectFile(f) => return expect_file(f, ctx, window).await,
        Action::StopServer { exit_code } => return stop_server(*exit_code, target, window).await,
        _ => {}
    }
    let peer = &mut clients[step.client];
    let skip = compile_skip(&step.skip, ctx)?;
    let skip = skip.as_slice();
    match &step.action {
        Action::Connect => {
            peer.connect(target, ctx).await;
            match &peer.connect_error {
                // A refusal that a later step checks is not a failure here.
                Some(_) if peer.response.is_some() && sess.checks_handshake[step.client] => Ok(()),
                Some(e) => Err(e.clone()),
                None => Ok(()),
            }
        }
        Action::ExpectHandshake(h) => handshake_check(peer, h, ctx),
        Action::AnswerPings(on) => {
            peer.answer_pings = *on;
            Ok(())
        }
        Action::Send {
            binary,
            pieces,
            fragment_size,
        } => {
            let mut parts = Vec::new();
            for p in pieces {
                parts.push(resolve(p, *binary, ctx, vars)?);
            }
            let frag = fragment_size.as_ref().map(|f| ctx.size(f)).transpose()?;
            peer.send(*binary, parts, frag).await
        }
        Action::Expect(e) => {
            let msg = peer.recv(window, skip, vars).await?;
            check_message(e, &msg, ctx, vars)?;
            peer.check_wire(step, &msg)
        }
        Action::ExpectEcho => {
            let (binary, data) = peer
                .last_sent
                .clone()
                .ok_or("expectEcho: this client has sent nothing yet")?;
            let msg = peer.recv(window, skip, vars).await?;
            if msg.binary != binary {
                return Err(format!(
                    "expected the {} message echoed, got {}",
                    kind(binary),
                    msg.describe()
                ));
            }
            if msg.data != data {
                return Err(format!(
                    "expected the {} echoed, got {}",
                    describe_data(binary, &data),
                    msg.describe()
                ));
            }
            peer.check_wire(step, &msg)
        }
        Action::ExpectClose { code, reason } => {
            let (got, why) = peer.wait_close(window, skip).await?;
            if let Some(c) = code
                && got != Some(*c)
            {
                return Err(format!(
                    "expected close code {c}, got {}",
                    close_desc(got, &why)
                ));
            }
            if let Some(r) = reason {
                let p = StrPattern::compile(r, ctx)?;
                if !p.matches(&why) {
                    return Err(format!(
                        "expected a close reason matching {}, got {why:?}",
                        p.describe()
                    ));
                }
            }
            Ok(())
        }
        Action::ExpectNothing(d) => peer.expect_nothing(*d, skip).await,
        Action::ExpectPing(d) => peer.expect_ping(*d).await,
        Action::ExpectDropped(d) => peer.expect_dropped(*d).await,
        Action::ExpectCertificate(n) => {
            let m = target
                .material
                .ok_or("expectCertificate: no test material (verify generates it)")?;
            let conn = peer.conn()?;
            let chain = conn
                .stream()
                .peer_certificates()
                .ok_or("expectCertificate: not a TLS connection")?;
            let leaf = chain.first().ok_or("the server sent no certificate")?;
            let (want, other) = if *n == 1 {
                (&m.first_der, &m.second_der)
            } else {
                (&m.second_der, &m.first_der)
            };
            if leaf == want {
                Ok(())
            } else if leaf == other {
                Err(format!(
                    "the server presented the {} test certificate, expected the {}",
                    if *n == 1 { "second" } else { "first" },
                    if *n == 1 { "first" } else { "second" }
                ))
            } else {
                Err("the server presented a certificate that is neither test pair".into())
            }
        }
        Action::Close(code) => {
            let conn = peer.conn()?;
            let code = code.or(Some(1000));
            conn.close(code, "")
                .await
                .map_err(|e| format!("closing handshake: {e}"))?;
            // The handshake is complete: close our side of TCP too, as a
            // client does (a server may wait for it before it counts the
            // connection as gone).
            use tokio::io::AsyncWriteExt;
            let _ =
                tokio::time::timeout(Duration::from_secs(1), conn.stream_mut().shutdown()).await;
            peer.conn = None;
            peer.gone = Some("closed by this client".into());
            Ok(())
        }
        Action::DropConnection => {
            let conn = peer.conn()?;
            use tokio::io::AsyncWriteExt;
            let _ =
                tokio::time::timeout(Duration::from_secs(1), conn.stream_mut().shutdown()).await;
            peer.conn = None;
            peer.gone = Some("dropped by this client".into());
            Ok(())
        }
        Action::Collect {
            count,
            pattern,
            name,
        } => {
            let deadline = tokio::time::Instant::now() + window;
            let p = Pattern::compile(pattern, ctx)?;
            let count = ctx.size(count)?;
            let mut got = Vec::with_capacity(count);
            while got.len() < count {
                let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                let msg = peer
                    .recv(left, skip, vars)
                    .await
                    .map_err(|e| format!("collecting {count} messages, got {}: {e}", got.len()))?;
                let v: Value = msg
                    .text()
                    .and_then(|t| serde_json::from_str(t).ok())
                    .ok_or_else(|| format!("collecting: expected JSON, got {}", msg.describe()))?;
                p.test(&v, vars)
                    .map_err(|e| format!("collecting message {}: {e}", got.len() + 1))?;
                got.push(v);
            }
            vars.insert(name.clone(), Value::Array(got));
            Ok(())
        }
        // Steps without a client (`Action::needs_client`) are played by the caller.
        _ => unreachable!("a step without a client reached a client's step"),
    }
}

// ---- the server's processes --------------------------------------------------

/// A cluster step, off the async threads (it waits for processes).
async fn cluster_op(
    target: &Target<'_>,
    op: impl FnOnce(&super::cluster::Cluster) -> Result<(), String> + Send + 'static,
) -> Result<(), String> {
    let c = target
        .cluster
        .clone()
        .ok_or("this step needs a cluster (a cluster suite on a spec with backplane: redis)")?;
    tokio::task::spawn_blocking(move || op(&c))
        .await
        .map_err(|e| format!("the cluster step failed: {e}"))?
}

async fn server_children(want: usize, target: &Target<'_>, window: Duration) -> Result<(), String> {
    let pid = target
        .pid
        .ok_or("expectServerChildren: no server process (only verify's instances have one)")?;
    let deadline = tokio::time::Instant::now() + window;
    loop {
        let found = procs::descendants(pid, &procs::all()?);
        if found.len() == want {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            let list: Vec<String> = found.iter().map(procs::Proc::describe).collect();
            return Err(format!(
                "expected {want} descendant process(es) of the server within {window:?}, found {}: {}",
                found.len(),
                if list.is_empty() {
                    "none".to_string()
                } else {
                    list.join(", ")
                }
            ));
        }
        tokio::time::sleep(observe::POLL).await;
    }
}

async fn process_gone(pid: &Value, vars: &Vars, window: Duration) -> Result<(), String> {
    let v = match pid {
        Value::String(s) => {
            let n = s.strip_prefix("$var:").unwrap_or(s);
            vars.get(n)
                .cloned()
                .ok_or_else(|| format!("${n} was never captured"))?
        }
        other => other.clone(),
    };
    let pid = v
        .as_u64()
        .and_then(|p| u32::try_from(p).ok())
        .filter(|p| *p > 1)
        .ok_or_else(|| format!("expectProcessGone: {v} is not a process id"))?;
    let deadline = tokio::time::Instant::now() + window;
    while procs::alive(pid) {
        if tokio::time::Instant::now() >= deadline {
            return Err(format!("process {pid} still runs after {window:?}"));
        }
        tokio::time::sleep(observe::POLL).await;
    }
    Ok(())
}

/// `expectFile`: read the file until its content meets the conditions.
async fn expect_file(f: &FileExpect, ctx: &Ctx, window: Duration) -> Result<(), String> {
    let path = ctx.interpolate(&f.path)?;
    let bound = |e: &Option<String>| e.as_deref().map(|x| ctx.size(x)).transpose();
    let (least, most, equals) = (bound(&f.at_least)?, bound(&f.at_most)?, bound(&f.equals)?);
    let text = f
        .text
        .as_deref()
        .map(|t| StrPattern::compile(t, ctx))
        .transpose()?;
    let deadline = tokio::time::Instant::now() + window;
    loop {
        let verdict = match std::fs::read_to_string(&path) {
            Err(e) => Err(format!("cannot read {path}: {e}")),
            Ok(content) => {
                let content = content.trim_end();
                match &text {
                    Some(p) if p.matches(content) => Ok(()),
                    Some(p) => Err(format!(
                        "{path} holds {}, expected {}",
                        preview(content),
                        p.describe()
                    )),
                    None => match content.trim().parse::<usize>() {
                        Err(_) => Err(format!("{path} holds {}, not a number", preview(content))),
                        Ok(n) if least.is_some_and(|l| n < l) => Err(format!(
                            "{path} holds {n}, expected at least {}",
                            least.unwrap_or(0)
                        )),
                        Ok(n) if most.is_some_and(|m| n > m) => Err(format!(
                            "{path} holds {n}, expected at most {}",
                            most.unwrap_or(0)
                        )),
                        Ok(n) if equals.is_some_and(|q| n != q) => Err(format!(
                            "{path} holds {n}, expected {}",
                            equals.unwrap_or(0)
                        )),
                        Ok(_) => Ok(()),
                    },
                }
            }
        };
        match verdict {
            Ok(()) => return Ok(()),
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(format!("{e} (after {window:?})"));
            }
            Err(_) => tokio::time::sleep(observe::POLL).await,
        }
    }
}

/// `stopServer`: SIGTERM the server; it must exit with `code` within the
/// window, and every process that descended from it before the signal must
/// be gone by then too (nothing orphaned).
async fn stop_server(code: i32, target: &Target<'_>, window: Duration) -> Result<(), String> {
    let pid = target
        .pid
        .ok_or("stopServer: no server process (only verify's instances have one)")?;
    let before = procs::descendants(pid, &procs::all()?);
    unsafe {
        libc::kill(pid as i32, libc::SIGTERM);
    }
    let deadline = tokio::time::Instant::now() + window;
    while procs::alive(pid) {
        if tokio::time::Instant::now() >= deadline {
            return Err(format!("the server still runs {window:?} after SIGTERM"));
        }
        tokio::time::sleep(observe::POLL).await;
    }
    match procs::exit_status(pid) {
        Some(procs::Exit::Code(c)) if c == code => {}
        Some(procs::Exit::Code(c)) => {
            return Err(format!(
                "the server exited with code {c} after SIGTERM, expected {code}"
            ));
        }
        Some(procs::Exit::Signal(n)) => {
            return Err(format!(
                "the server was killed by signal {n} after SIGTERM, expected exit code {code}"
            ));
        }
        // Not our child (or already reaped): its status cannot be read.
        None => {}
    }
    loop {
        let left: Vec<String> = before
            .iter()
            .filter(|p| procs::alive(p.pid))
            .map(procs::Proc::describe)
            .collect();
        if left.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(format!(
                "the server exited but left its processes running: {}",
                left.join(", ")
            ));
        }
        tokio::time::sleep(observe::POLL).await;
    }
}

// ---- the server's log and metrics ------------------------------------------

async fn expect_log(
    p: &LogPattern,
    target: &Target<'_>,
    ctx: &Ctx,
    vars: &mut Vars,
    from: usize,
    window: Duration,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + window;
    loop {
        let text = target.log_text()?;
        if observe::find_line(&text, from, p, ctx, vars)? {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            let tail: Vec<&str> = text.get(from..).unwrap_or("").lines().collect();
            let tail = &tail[tail.len().saturating_sub(8)..];
            return Err(format!(
                "no server log line since {} is {} (within {window:?}); last lines:\n  {}",
                if from == 0 {
                    "the server started"
                } else {
                    "the scenario started"
                },
                observe::describe(p, ctx),
                tail.join("\n  ")
            ));
        }
        tokio::time::sleep(observe::POLL).await;
    }
}

fn log_excludes(
    patterns: &[String],
    clients: &[Peer],
    target: &Target<'_>,
    ctx: &Ctx,
    vars: &Vars,
) -> Result<(), String> {
    let text = target.log_text()?;
    let mut secrets = Vec::new();
    let mut compiled = Vec::new();
    for p in patterns {
        if let Some(n) = p.strip_prefix("$var:") {
            // A captured value (a session token, say), found as a substring.
            let v = vars
                .get(n)
                .ok_or_else(|| format!("${n} was never captured"))?;
            secrets.push(match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            });
        } else if p == "$credentials" {
            secrets.extend(clients.iter().filter_map(|c| c.credential.clone()));
            if let Some(m) = target.material {
                secrets.extend(m.secrets());
            }
        } else {
            compiled.push(StrPattern::compile(p, ctx)?);
        }
    }
    let bad = observe::offending_lines(&text, &secrets, &compiled);
    if bad.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} server log line(s) hold what must not be logged (a credential or an excluded pattern):\n  {}",
            bad.len(),
            bad.join("\n  ")
        ))
    }
}

fn log_is_json(target: &Target<'_>) -> Result<(), String> {
    observe::check_json_log(&target.log_text()?).map(|_| ())
}

async fn metrics_step(
    m: &MetricsCheck,
    target: &Target<'_>,
    vars: &mut Vars,
    window: Duration,
) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + window;
    loop {
        let reply = crate::runner::http_get_with(
            target.addr,
            "/metrics",
            Duration::from_secs(10),
            target.tls.clone(),
            &[],
        )
        .map_err(|e| format!("GET /metrics: {e}"))?;
        let r = if reply.status != 200 {
            Err(format!(
                "GET /metrics: expected status 200, got {} {:?}",
                reply.status,
                preview(&reply.body)
            ))
        } else {
            observe::parse_metrics(&reply.body)
                .and_then(|samples| observe::check_metrics(m, &samples, vars).map(|_| samples))
        };
        match r {
            Ok(samples) => {
                if let Some(n) = &m.save_as {
                    observe::save(vars, n, &samples);
                }
                return Ok(());
            }
            Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
            Err(_) => tokio::time::sleep(observe::POLL).await,
        }
    }
}

/// Every listed client sends its messages at the same time (one task each).
/// Like a real client, each keeps reading while and after it sends (pings
/// answered, messages buffered for later steps) until a step needs it again.
async fn burst(
    clients: &mut [Peer],
    pumps: &mut [Option<Pump>],
    names: &[String],
    count: usize,
    template: &Value,
    ctx: &Ctx,
    vars: &Vars,
) -> Result<(), String> {
    let mut sent = Vec::new();
    for name in names {
        let i = clients
            .iter()
            .position(|c| c.spec.name == *name)
            .ok_or_else(|| format!("unknown client {name:?}"))?;
        let msgs: Vec<Vec<u8>> = (0..count)
            .map(|n| {
                let v = super::load::burst_message(template, n, name, ctx, vars)?;
                serde_json::to_vec(&v).map_err(|e| e.to_string())
            })
            .collect::<Result<_, String>>()?;
        reclaim(clients, pumps, i).await;
        let placeholder = Peer::new(clients[i].spec.clone());
        let mut peer = std::mem::replace(&mut clients[i], placeholder);
        let (done_tx, done_rx) = tokio::sync::oneshot::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let stop_flag = stop.clone();
        let task = tokio::spawn(async move {
            let mut r = Ok(());
            for m in msgs {
                if let Err(e) = peer.send(false, vec![m], None).await {
                    r = Err(format!("client {}: {e}", peer.spec.name));
                    break;
                }
                // Take in (and answer) whatever has arrived, without waiting.
                if !peer.pump(tokio::time::Instant::now()).await {
                    break;
                }
            }
            let ok = r.is_ok();
            let _ = done_tx.send(r);
            if ok {
                while !stop_flag.load(Ordering::Relaxed)
                    && peer.pump(tokio::time::Instant::now() + PUMP_TICK).await
                {}
            }
            peer
        });
        pumps[i] = Some(Pump {
            stop,
            task: Some(task),
        });
        sent.push(done_rx);
    }
    let mut first_err = None;
    for rx in sent {
        let r = rx
            .await
            .unwrap_or_else(|_| Err("a burst task ended early".into()));
        if let Err(e) = r {
            first_err.get_or_insert(e);
        }
    }
    first_err.map_or(Ok(()), Err)
}

/// How often a pumping client checks whether a step wants it back.
const PUMP_TICK: Duration = Duration::from_millis(20);

/// A client reading in the background (see [`burst`]).
struct Pump {
    stop: Arc<AtomicBool>,
    task: Option<tokio::task::JoinHandle<Peer>>,
}

impl Drop for Pump {
    /// A session that times out must not leave readers behind.
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}

/// Take client `i` back from its background reader, if it has one; what it
/// read waits in the client's inbox.
async fn reclaim(clients: &mut [Peer], pumps: &mut [Option<Pump>], i: usize) {
    let Some(mut p) = pumps.get_mut(i).and_then(Option::take) else {
        return;
    };
    p.stop.store(true, Ordering::Relaxed);
    let Some(task) = p.task.take() else { return };
    match task.await {
        Ok(peer) => clients[i] = peer,
        Err(e) => clients[i].gone = Some(format!("its reader task failed: {e}")),
    }
}

fn assert_lists(
    same_order: &[String],
    increasing: &[String],
    field: Option<&str>,
    vars: &Vars,
) -> Result<(), String> {
    let list = |n: &str| -> Result<Vec<Value>, String> {
        let v = vars
            .get(n)
            .ok_or_else(|| format!("${n} was never collected"))?;
        let a = v.as_array().ok_or_else(|| format!("${n} is not a list"))?;
        Ok(a.iter()
            .map(|x| field.map_or_else(|| x.clone(), |f| project(x, f)))
            .collect())
    };
    if let Some((first, rest)) = same_order.split_first() {
        let want = list(first)?;
        for n in rest {
            let got = list(n)?;
            if got.len() != want.len() {
                return Err(format!(
                    "${first} has {} items, ${n} {}",
                    want.len(),
                    got.len()
                ));
            }
            if let Some(at) = want.iter().zip(&got).position(|(a, b)| a != b) {
                return Err(format!(
                    "${first} and ${n} differ at item {at}: {} vs {}",
                    want[at], got[at]
                ));
            }
        }
    }
    for n in increasing {
        let items = list(n)?;
        for (k, w) in items.windows(2).enumerate() {
            let (a, b) = (w[0].as_f64(), w[1].as_f64());
            match (a, b) {
                (Some(a), Some(b)) if a < b => {}
                _ => {
                    return Err(format!(
                        "${n} is not strictly increasing at item {}: {} then {}",
                        k + 1,
                        w[0],
                        w[1]
                    ));
                }
            }
        }
    }
    Ok(())
}

/// `x` at a key or a dotted path (`data.n`); null when missing.
fn project(x: &Value, field: &str) -> Value {
    let direct = x.get(field);
    if direct.is_some() || !field.contains('.') {
        return direct.cloned().unwrap_or(Value::Null);
    }
    field
        .split('.')
        .try_fold(x, |v, k| v.get(k))
        .cloned()
        .unwrap_or(Value::Null)
}

/// The lists, one after the other, projected on `field`, are consecutive
/// integers (the first one `from` when given): no gap, no duplicate.
fn assert_consecutive(
    names: &[String],
    from: Option<usize>,
    field: Option<&str>,
    vars: &Vars,
) -> Result<(), String> {
    let mut expected: Option<u64> = from.map(|f| f as u64);
    let mut total = 0usize;
    for n in names {
        let v = vars
            .get(n)
            .ok_or_else(|| format!("${n} was never collected"))?;
        let a = v.as_array().ok_or_else(|| format!("${n} is not a list"))?;
        for (k, x) in a.iter().enumerate() {
            let got = field.map_or_else(|| x.clone(), |f| project(x, f));
            let g = got.as_u64().ok_or_else(|| {
                format!("${n} item {k}: {got} is not an integer >= 0 (field {field:?})")
            })?;
            if let Some(e) = expected
                && g != e
            {
                let what = if g < e {
                    "a duplicate or out of order"
                } else {
                    "a gap"
                };
                return Err(format!(
                    "${n} item {k}: expected {e}, got {g} ({what}, after {total} consecutive item(s))"
                ));
            }
            expected = Some(g + 1);
            total += 1;
        }
    }
    Ok(())
}

/// Deterministic payload bytes.
fn resolve(p: &Payload, binary: bool, ctx: &Ctx, vars: &Vars) -> Result<Vec<u8>, String> {
    Ok(match p {
        Payload::Text(s) => ctx.interpolate(s)?.into_bytes(),
        Payload::Bytes(b) => b.clone(),
        Payload::Generated(n) => generated(ctx.size(n)?, !binary),
        Payload::Json(v) => {
            serde_json::to_vec(&fill_json(v, ctx, vars)?).map_err(|e| e.to_string())?
        }
    })
}

/// Expand placeholders in a JSON value to send; a string `$var:NAME` becomes
/// the captured value.
fn fill_json(v: &Value, ctx: &Ctx, vars: &Vars) -> Result<Value, String> {
    Ok(match v {
        Value::String(s) => {
            if let Some(n) = s.strip_prefix("$var:") {
                vars.get(n)
                    .cloned()
                    .ok_or_else(|| format!("${n} was never captured"))?
            } else if let Some(lit) = s.strip_prefix("$$") {
                Value::String(format!("${}", ctx.interpolate(lit)?))
            } else {
                ctx.json_string(s)?
            }
        }
        Value::Array(a) => Value::Array(
            a.iter()
                .map(|x| fill_json(x, ctx, vars))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(m) => {
            let mut out = serde_json::Map::new();
            for (k, x) in m {
                out.insert(k.clone(), fill_json(x, ctx, vars)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

fn check_message(
    e: &MessageExpect,
    msg: &Received,
    ctx: &Ctx,
    vars: &mut Vars,
) -> Result<(), String> {
    match e {
        MessageExpect::Text(p) => {
            let p = StrPattern::compile(p, ctx)?;
            match msg.text() {
                Some(t) if p.matches(t) => Ok(()),
                _ => Err(format!(
                    "expected a text message {}, got {}",
                    p.describe(),
                    msg.describe()
                )),
            }
        }
        MessageExpect::TextPayload(p) | MessageExpect::Binary(p) => {
            let binary = matches!(e, MessageExpect::Binary(_));
            let want = resolve(p, binary, ctx, vars)?;
            if msg.binary != binary || msg.data != want {
                return Err(format!(
                    "expected {}, got {}",
                    describe_data(binary, &want),
                    msg.describe()
                ));
            }
            Ok(())
        }
        MessageExpect::Json(p) => {
            let Some(t) = msg.text() else {
                return Err(format!(
                    "expected a JSON text message, got {}",
                    msg.describe()
                ));
            };
            let v: Value = serde_json::from_str(t)
                .map_err(|err| format!("expected JSON, got {:?} ({err})", preview(t)))?;
            Pattern::compile(p, ctx)?
                .matches(&v, vars)
                .map_err(|err| format!("{err}\n  message: {}", preview(t)))
        }
    }
}

fn kind(binary: bool) -> &'static str {
    if binary { "binary" } else { "text" }
}

fn describe_data(binary: bool, data: &[u8]) -> String {
    if !binary && let Ok(t) = std::str::from_utf8(data) {
        return format!("text {:?} ({} octets)", preview(t), data.len());
    }
    format!(
        "{} message of {} octets starting {}",
        kind(binary),
        data.len(),
        hex_preview(data)
    )
}

fn hex_preview(d: &[u8]) -> String {
    let h: String = d.iter().take(16).map(|b| format!("{b:02x}")).collect();
    if d.len() > 16 { format!("{h}...") } else { h }
}

fn close_desc(code: Option<u16>, reason: &str) -> String {
    match code {
        Some(c) if reason.is_empty() => format!("close {c}"),
        Some(c) => format!("close {c} {reason:?}"),
        None => "a close frame without a code".into(),
    }
}

// ---- a client -------------------------------------------------------------

/// A message as received, with what the wire showed.
#[derive(Debug)]
struct Received {
    binary: bool,
    data: Vec<u8>,
    /// RSV1 was set on the first frame.
    compressed: bool,
    /// Octets of frame payload on the wire.
    wire_len: usize,
}

impl Received {
    fn text(&self) -> Option<&str> {
        if self.binary {
            None
        } else {
            std::str::from_utf8(&self.data).ok()
        }
    }
    fn describe(&self) -> String {
        describe_data(self.binary, &self.data)
    }
}

enum In {
    Msg(Received),
    Ping,
    Close(Option<u16>, String),
    Eof,
}

struct Peer {
    spec: Client,
    conn: Option<Connection>,
    response: Option<HttpResponse>,
    connect_error: Option<String>,
    rx: Option<DeflateCodec>,
    answer_pings: bool,
    last_sent: Option<(bool, Vec<u8>)>,
    last_compressed_len: Option<usize>,
    partial: Option<(u8, bool, Vec<u8>)>,
    gone: Option<String>,
    /// What a background reader took in, oldest first.
    inbox: VecDeque<Result<In, WireError>>,
    /// The credential (token or JWT) this client sent, for `$credentials`.
    credential: Option<String>,
    /// A slowloris client's background writer: ends with how the server
    /// ended the connection.
    slow: Option<tokio::task::JoinHandle<String>>,
}

impl Peer {
    fn new(spec: Client) -> Self {
        Peer {
            spec,
            conn: None,
            response: None,
            connect_error: None,
            rx: None,
            answer_pings: true,
            last_sent: None,
            last_compressed_len: None,
            partial: None,
            gone: None,
            inbox: VecDeque::new(),
            credential: None,
            slow: None,
        }
    }

    fn conn(&mut self) -> Result<&mut Connection, String> {
        if let Some(e) = &self.connect_error {
            return Err(format!("not connected: {e}"));
        }
        if let Some(g) = &self.gone {
            return Err(format!("the connection is gone ({g})"));
        }
        self.conn
            .as_mut()
            .ok_or_else(|| "not connected (add a `connect` step)".into())
    }

    async fn connect(&mut self, target: &Target<'_>, ctx: &Ctx) {
        self.connect_error = None;
        if let Err(e) = self.try_connect(target, ctx).await {
            self.connect_error = Some(e);
        }
    }

    async fn try_connect(&mut self, target: &Target<'_>, ctx: &Ctx) -> Result<(), String> {
        let mut path = match &self.spec.path {
            Some(p) => ctx.interpolate(p)?,
            None => target.server.path.clone(),
        };
        let mut query = Vec::new();
        for (k, v) in &self.spec.query {
            query.push((k.clone(), ctx.interpolate(v)?));
        }
        let mut headers = Vec::new();
        for (k, v) in &self.spec.headers {
            headers.push((k.clone(), ctx.interpolate(v)?));
        }
        // With authentication on, a client that chooses nothing is alice.
        let default_credential = Credential {
            kind: match ctx
                .values()
                .get("spec.security.auth.kind")
                .map(String::as_str)
            {
                Some("token") => CredentialKind::Token("alice".into()),
                _ => CredentialKind::Jwt(Default::default()),
            },
            in_query: false,
        };
        let auth_on = Requirement {
            property: Property::Auth,
            negated: false,
        }
        .holds(target.server);
        let credential = self.spec.credential.as_ref().or_else(|| {
            (auth_on
                && !self.spec.anonymous
                && !headers
                    .iter()
                    .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
                && !query.iter().any(|(k, _)| k == "access_token"))
            .then_some(&default_credential)
        });
        if let Some(c) = credential {
            let m = target
                .material
                .ok_or("`token`/`jwt` need verify's test material")?;
            let cred = match &c.kind {
                CredentialKind::Token(user) => m
                    .token(user)
                    .ok_or_else(|| format!("no test token for {user:?}"))?
                    .to_string(),
                CredentialKind::Jwt(opts) => m.mint(opts, ctx.values())?,
                CredentialKind::User(user) => match target.server.security.auth.kind {
                    crate::ir::AuthKind::Token => m
                        .token(user)
                        .ok_or_else(|| format!("no test token for {user:?}"))?
                        .to_string(),
                    _ => {
                        let mut o = serde_json::Map::new();
                        o.insert("sub".into(), Value::from(user.clone()));
                        m.mint(&o, ctx.values())?
                    }
                },
            };
            if c.in_query {
                query.push(("access_token".into(), cred.clone()));
            } else {
                headers.push(("Authorization".into(), format!("Bearer {cred}")));
            }
            self.credential = Some(cred);
        }
        if !query.is_empty() {
            let q: Vec<String> = query
                .iter()
                .map(|(k, v)| format!("{}={}", url_encode(k), url_encode(v)))
                .collect();
            path.push(if path.contains('?') { '&' } else { '?' });
            path.push_str(&q.join("&"));
        }
        let tls = match self.spec.tls {
            Some(false) => None,
            Some(true) => Some(
                target
                    .tls
                    .clone()
                    .or_else(|| target.material.map(|m| m.client_tls.clone()))
                    .ok_or("`tls: true` needs verify's test CA")?,
            ),
            None => target.tls.clone(),
        };
        let scheme = if tls.is_some() { "wss" } else { "ws" };
        let addr = target.addr_of(self.spec.instance.unwrap_or(0))?;
        let u = WsUrl::parse(&format!("{scheme}://{addr}{path}")).map_err(|e| e.to_string())?;
        let mut req = HandshakeRequest::new(&u);
        for p in &self.spec.protocols {
            req.protocols.push(ctx.interpolate(p)?);
        }
        let offers_raw: Vec<String> = self
            .spec
            .extensions
            .iter()
            .map(|e| ctx.interpolate(e))
            .collect::<Result<_, _>>()?;
        if !offers_raw.is_empty() {
            req.extensions.push(offers_raw.join(", "));
        }
        req.extra_headers = headers;
        if let Some(size) = &self.spec.pad_head_to {
            let want = ctx.size(size)?;
            let have = req.to_bytes().len();
            // `X-Pad: ` + value + CRLF.
            let pad = want.checked_sub(have + 9).ok_or_else(|| {
                format!("padHeadTo {want}: the request head is already {have} octets")
            })?;
            req.extra_headers.push(("X-Pad".into(), "p".repeat(pad)));
            debug_assert_eq!(req.to_bytes().len(), want);
        }
        let opts = ConnectOptions::default();
        let mut stream = crate::wire::open(&u, opts.timeout, tls.as_ref())
            .await
            .map_err(|e| e.to_string())?;
        if let Some(interval) = self.spec.slowloris {
            self.slow = Some(tokio::spawn(slowloris(stream, req.to_bytes(), interval)));
            return Ok(());
        }
        let (resp, rest) = handshake::exchange(&mut stream, &req, Duration::from_secs(10))
            .await
            .map_err(|e| format!("opening handshake: {e}"))?;
        self.response = Some(resp.clone());
        if resp.status != 101 {
            let body = String::from_utf8_lossy(&resp.body);
            return Err(format!(
                "the handshake was answered {} {} {:?}",
                resp.status,
                resp.reason,
                preview(body.trim())
            ));
        }
        handshake::verify_upgrade(&resp, req.key.as_deref().unwrap_or_default())?;
        let protocol = resp.header_joined("sec-websocket-protocol");
        if let Some(p) = &protocol
            && !req.protocols.contains(p)
        {
            return Err(format!(
                "the server selected subprotocol {p:?}, offered {:?}",
                req.protocols
            ));
        }
        let mut params = None;
        if let Some(v) = resp.header_joined("sec-websocket-extensions") {
            let offers = deflate_offers(&offers_raw)?;
            let exts = deflate::parse_extensions(&v)?;
            if exts.len() != 1 || offers.is_empty() {
                return Err(format!(
                    "the server accepted extensions {v:?}; offered {offers_raw:?}"
                ));
            }
            params = Some(deflate::accept_response(&offers, &exts[0])?);
        }
        let mut conn = Connection::from_stream(stream, resp, rest, &opts);
        conn.protocol = protocol;
        conn.set_deflate(params);
        self.rx = params.map(|p| DeflateCodec::new(&p, Role::Client));
        self.conn = Some(conn);
        self.gone = None;
        Ok(())
    }

    async fn send(
        &mut self,
        binary: bool,
        parts: Vec<Vec<u8>>,
        frag: Option<usize>,
    ) -> Result<(), String> {
        let opcode = if binary { OP_BINARY } else { OP_TEXT };
        let whole: Vec<u8> = parts.concat();
        let conn = self.conn()?;
        let frames = if parts.len() > 1 && conn.deflate.is_none() {
            let n = parts.len();
            parts
                .into_iter()
                .enumerate()
                .map(|(i, p)| {
                    let op = if i == 0 { opcode } else { OP_CONTINUATION };
                    Frame::new(op, p).fin(i + 1 == n)
                })
                .collect()
        } else {
            // Compressed pieces: compress the message, then split it as many ways.
            let frag = if parts.len() > 1 {
                Some(whole.len().div_ceil(parts.len()).max(1))
            } else {
                frag
            };
            conn.message_frames(opcode, &whole, frag)
                .map_err(|e| e.to_string())?
        };
        conn.send_frames(frames)
            .await
            .map_err(|e| format!("sending: {e}"))?;
        self.last_sent = Some((binary, whole));
        Ok(())
    }

    /// The next thing the server sends (pings are answered unless told not to).
    async fn next(&mut self, deadline: tokio::time::Instant) -> Result<In, WireError> {
        if let Some(x) = self.inbox.pop_front() {
            return x;
        }
        self.read_next(deadline).await
    }

    /// Read what has arrived by `deadline` into the inbox. False once the
    /// connection is over (close, EOF, error) or was never there.
    async fn pump(&mut self, deadline: tokio::time::Instant) -> bool {
        if self.conn().is_err() {
            return false;
        }
        loop {
            match self.read_next(deadline).await {
                Err(WireError::Timeout(_)) => return true,
                r @ (Ok(In::Msg(_)) | Ok(In::Ping)) => self.inbox.push_back(r),
                r => {
                    self.inbox.push_back(r);
                    return false;
                }
            }
        }
    }

    async fn read_next(&mut self, deadline: tokio::time::Instant) -> Result<In, WireError> {
        if let Err(e) = self.conn() {
            return Err(WireError::Handshake(e));
        }
        let answer = self.answer_pings;
        let Peer {
            conn,
            partial,
            rx,
            gone,
            ..
        } = self;
        let conn = conn.as_mut().expect("checked above");
        loop {
            let Some(f) = conn.read_frame_until(deadline).await? else {
                *gone = Some("the server closed the TCP connection".into());
                return Ok(In::Eof);
            };
            match f.opcode {
                OP_PING => {
                    if answer {
                        let _ = conn.pong(&f.payload).await;
                    }
                    return Ok(In::Ping);
                }
                OP_PONG => continue,
                OP_CLOSE => {
                    let (code, reason) = f.close_parts();
                    let reason = String::from_utf8_lossy(reason).into_owned();
                    if !conn.sent_close {
                        let _ = conn.send_close(code, b"").await;
                    }
                    // The closing handshake is complete: end our side of TCP,
                    // as clients do (a server may wait for it before it
                    // counts the connection gone and, say, stops an MCP child).
                    use tokio::io::AsyncWriteExt;
                    let _ =
                        tokio::time::timeout(Duration::from_secs(1), conn.stream_mut().shutdown())
                            .await;
                    *gone = Some(format!(
                        "the server closed it: {}",
                        close_desc(code, &reason)
                    ));
                    return Ok(In::Close(code, reason));
                }
                OP_TEXT | OP_BINARY => {
                    if partial.is_some() {
                        return Err(protocol(
                            "a new message started before the previous one ended",
                        ));
                    }
                    *partial = Some((f.opcode, f.rsv & 4 != 0, Vec::new()));
                }
                OP_CONTINUATION if partial.is_none() => {
                    return Err(protocol("a continuation frame with no message to continue"));
                }
                OP_CONTINUATION => {}
                op => return Err(protocol(&format!("reserved opcode {op}"))),
            }
            let p = partial.as_mut().expect("a message in progress");
            p.2.extend_from_slice(&f.payload);
            if !f.fin {
                continue;
            }
            let (op, compressed, raw) = partial.take().unwrap();
            let wire_len = raw.len();
            let data = if compressed {
                let codec = rx
                    .as_mut()
                    .ok_or_else(|| protocol("RSV1 set without permessage-deflate"))?;
                codec
                    .decompress(&raw, 256 << 20)
                    .map_err(|e| protocol(&e))?
            } else {
                raw
            };
            if op == OP_TEXT && std::str::from_utf8(&data).is_err() {
                return Err(protocol("a text message that is not valid UTF-8"));
            }
            return Ok(In::Msg(Received {
                binary: op == OP_BINARY,
                data,
                compressed,
                wire_len,
            }));
        }
    }

    /// The next message that no `skip` pattern matches.
    async fn recv(
        &mut self,
        window: Duration,
        skip: &[Pattern],
        vars: &Vars,
    ) -> Result<Received, String> {
        let deadline = tokio::time::Instant::now() + window;
        loop {
            match self.next(deadline).await {
                Ok(In::Msg(m)) if skipped(&m, skip, vars) => {}
                Ok(In::Msg(m)) => return Ok(m),
                Ok(In::Ping) => {}
                Ok(In::Close(code, reason)) => {
                    return Err(format!(
                        "expected a message, the server closed: {}",
                        close_desc(code, &reason)
                    ));
                }
                Ok(In::Eof) => {
                    return Err("expected a message, the server closed the TCP connection".into());
                }
                Err(WireError::Timeout(_)) => return Err(format!("no message within {window:?}")),
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    async fn wait_close(
        &mut self,
        window: Duration,
        skip: &[Pattern],
    ) -> Result<(Option<u16>, String), String> {
        let deadline = tokio::time::Instant::now() + window;
        let vars = Vars::new();
        loop {
            match self.next(deadline).await {
                Ok(In::Close(code, reason)) => return Ok((code, reason)),
                Ok(In::Msg(m)) if skipped(&m, skip, &vars) => {}
                Ok(In::Msg(m)) => {
                    return Err(format!("expected a close frame, got {}", m.describe()));
                }
                Ok(In::Ping) => {}
                Ok(In::Eof) => {
                    return Err("expected a close frame, the server closed TCP without one".into());
                }
                Err(WireError::Timeout(_)) => {
                    return Err(format!("no close frame within {window:?}"));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    async fn expect_nothing(&mut self, window: Duration, skip: &[Pattern]) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + window;
        let vars = Vars::new();
        loop {
            match self.next(deadline).await {
                Err(WireError::Timeout(_)) => return Ok(()),
                Ok(In::Ping) => {}
                Ok(In::Msg(m)) if skipped(&m, skip, &vars) => {}
                Ok(In::Msg(m)) => {
                    return Err(format!(
                        "expected nothing for {window:?}, got {}",
                        m.describe()
                    ));
                }
                Ok(In::Close(code, reason)) => {
                    return Err(format!(
                        "expected nothing for {window:?}, the server closed: {}",
                        close_desc(code, &reason)
                    ));
                }
                Ok(In::Eof) => {
                    return Err(format!(
                        "expected nothing for {window:?}, the server closed TCP"
                    ));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    async fn expect_ping(&mut self, window: Duration) -> Result<(), String> {
        let deadline = tokio::time::Instant::now() + window;
        match self.next(deadline).await {
            Ok(In::Ping) => Ok(()),
            Ok(In::Msg(m)) => Err(format!("expected a ping, got {}", m.describe())),
            Ok(In::Close(code, reason)) => Err(format!(
                "expected a ping, the server closed: {}",
                close_desc(code, &reason)
            )),
            Ok(In::Eof) => Err("expected a ping, the server closed TCP".into()),
            Err(WireError::Timeout(_)) => Err(format!("no ping within {window:?}")),
            Err(e) => Err(e.to_string()),
        }
    }

    async fn expect_dropped(&mut self, window: Duration) -> Result<(), String> {
        if let Some(task) = self.slow.as_mut() {
            return match tokio::time::timeout(window, task).await {
                Ok(Ok(_how)) => {
                    self.slow = None;
                    Ok(())
                }
                Ok(Err(e)) => Err(format!("the slowloris task failed: {e}")),
                Err(_) => Err(format!(
                    "the slowloris client is still connected after {window:?}"
                )),
            };
        }
        let deadline = tokio::time::Instant::now() + window;
        loop {
            match self.next(deadline).await {
                Ok(In::Close(..)) | Ok(In::Eof) => return Ok(()),
                Ok(In::Ping) | Ok(In::Msg(_)) => {}
                Err(WireError::Timeout(_)) => {
                    return Err(format!("still connected after {window:?}"));
                }
                // A reset is a drop too.
                Err(WireError::Io(_)) => return Ok(()),
                Err(e) => return Err(e.to_string()),
            }
        }
    }

    fn check_wire(&mut self, step: &Step, msg: &Received) -> Result<(), String> {
        let previous = self.last_compressed_len;
        if msg.compressed {
            self.last_compressed_len = Some(msg.wire_len);
        }
        if let Some(want) = step.compressed
            && msg.compressed != want
        {
            return Err(format!(
                "expected RSV1 {} on a {}-octet message",
                if want {
                    "set (compressed)"
                } else {
                    "clear (not compressed)"
                },
                msg.data.len()
            ));
        }
        if let Some(want) = step.smaller_than_previous {
            let prev = previous
                .ok_or("smallerThanPrevious: no earlier compressed message on this client")?;
            if !msg.compressed {
                return Err("smallerThanPrevious: the message was not compressed".into());
            }
            if (msg.wire_len < prev) != want {
                return Err(format!(
                    "expected the compressed payload ({} octets) {} the previous one ({prev} octets){}",
                    msg.wire_len,
                    if want {
                        "to be smaller than"
                    } else {
                        "not to be smaller than"
                    },
                    if want {
                        ": context takeover not observed"
                    } else {
                        ": context was kept"
                    }
                ));
            }
        }
        Ok(())
    }

    /// End the session politely: a close frame, without waiting.
    async fn goodbye(&mut self) {
        if let Some(t) = self.slow.take() {
            t.abort();
        }
        if self.gone.is_none()
            && let Some(c) = self.conn.as_mut()
            && !c.sent_close
        {
            let _ =
                tokio::time::timeout(Duration::from_secs(1), c.send_close(Some(1000), b"")).await;
        }
        self.conn = None;
    }
}

/// A slowloris client: the request head one octet per `interval`, never
/// finished in time. Ends when the server closes or resets the connection
/// (or after the whole head, which a sane server never lets happen).
async fn slowloris(mut stream: Stream, head: Vec<u8>, interval: Duration) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sent = 0;
    let mut buf = [0u8; 1024];
    loop {
        let tick = tokio::time::sleep(interval);
        tokio::select! {
            r = stream.read(&mut buf) => match r {
                Ok(0) => return format!("closed after {sent} octets"),
                Ok(_) => return format!("answered after {sent} octets"),
                Err(e) => return format!("reset after {sent} octets: {e}"),
            },
            _ = tick => {}
        }
        if sent < head.len() {
            if let Err(e) = stream.write_all(&head[sent..sent + 1]).await {
                return format!("write failed after {sent} octets: {e}");
            }
            let _ = stream.flush().await;
            sent += 1;
        }
    }
}

/// Percent-encoding for a query component.
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn protocol(detail: &str) -> WireError {
    WireError::Protocol {
        code: 1002,
        detail: format!("the server sent {detail}"),
    }
}

fn compile_skip(skip: &[Value], ctx: &Ctx) -> Result<Vec<Pattern>, String> {
    skip.iter()
        .map(|p| Pattern::compile(p, ctx).map_err(|e| format!("skip: {e}")))
        .collect()
}

fn skipped(m: &Received, skip: &[Pattern], vars: &Vars) -> bool {
    if skip.is_empty() {
        return false;
    }
    let Some(v) = m.text().and_then(|t| serde_json::from_str::<Value>(t).ok()) else {
        return false;
    };
    skip.iter().any(|p| p.test(&v, vars).is_ok())
}

/// Client offers from raw `Sec-WebSocket-Extensions` values.
fn deflate_offers(raw: &[String]) -> Result<Vec<DeflateOffer>, String> {
    let mut out = Vec::new();
    for r in raw {
        for e in deflate::parse_extensions(r)? {
            if e.name != deflate::EXTENSION {
                continue;
            }
            let mut o = DeflateOffer::default();
            for (k, v) in &e.params {
                let bits = || v.as_deref().and_then(|b| b.parse::<u8>().ok());
                match k.as_str() {
                    "server_no_context_takeover" => o.server_no_context_takeover = true,
                    "client_no_context_takeover" => o.client_no_context_takeover = true,
                    "server_max_window_bits" => o.server_max_window_bits = bits(),
                    "client_max_window_bits" => o.client_max_window_bits = Some(bits()),
                    _ => {}
                }
            }
            out.push(o);
        }
    }
    Ok(out)
}

// ---- handshake and HTTP checks ----------------------------------------------

fn handshake_check(peer: &Peer, h: &HandshakeExpect, ctx: &Ctx) -> Result<(), String> {
    let resp = peer.response.as_ref().ok_or_else(|| {
        format!(
            "no handshake response: {}",
            peer.connect_error.as_deref().unwrap_or("not connected")
        )
    })?;
    if let Some(s) = h.status
        && resp.status != s
    {
        return Err(format!(
            "expected the handshake answered {s}, got {} {}\n{}",
            resp.status,
            resp.reason,
            resp.head.trim()
        ));
    }
    if h.status.is_none()
        && resp.status == 101
        && let Some(e) = &peer.connect_error
    {
        return Err(e.clone());
    }
    if h.status == Some(101)
        && let Some(e) = &peer.connect_error
    {
        return Err(e.clone());
    }
    header_checks(&h.headers, |n| resp.header_joined(n), ctx)
        .map_err(|e| format!("{e}\n{}", resp.head.trim()))?;
    if let Some(want) = &h.extensions {
        let got = resp.header_joined("sec-websocket-extensions");
        extensions_check(want, got.as_deref(), ctx)?;
    }
    if let Some(b) = &h.body {
        let p = StrPattern::compile(b, ctx)?;
        let body = String::from_utf8_lossy(&resp.body);
        if !p.matches(&body) {
            return Err(format!(
                "expected a response body {}, got {:?}",
                p.describe(),
                preview(&body)
            ));
        }
    }
    Ok(())
}

fn extensions_check(want: &ExtensionsExpect, got: Option<&str>, ctx: &Ctx) -> Result<(), String> {
    let show = |v: &Option<String>| {
        v.as_ref()
            .map_or_else(|| "none".to_string(), |v| format!("{v:?}"))
    };
    match want {
        ExtensionsExpect::OneOf(options) => {
            let mut wants = Vec::new();
            for w in options {
                let w = w.as_deref().map(|w| ctx.interpolate(w)).transpose()?;
                let ok = match (&w, got) {
                    (None, None) => true,
                    (Some(w), Some(g)) => same_extensions(w, g)?,
                    _ => false,
                };
                if ok {
                    return Ok(());
                }
                wants.push(show(&w));
            }
            let got = show(&got.map(String::from));
            Err(match wants.as_slice() {
                [one] => format!("expected Sec-WebSocket-Extensions {one}, got {got}"),
                _ => format!(
                    "expected Sec-WebSocket-Extensions one of {}, got {got}",
                    wants.join(", ")
                ),
            })
        }
        ExtensionsExpect::ServerMaxWindowBitsAtMost(max) => {
            let Some(g) = got else { return Ok(()) };
            let exts = deflate::parse_extensions(g)?;
            let [e] = exts.as_slice() else {
                return Err(format!(
                    "expected no extension or one permessage-deflate, got {g:?}"
                ));
            };
            if !e.name.eq_ignore_ascii_case(deflate::EXTENSION) {
                return Err(format!(
                    "expected no extension or permessage-deflate, got {g:?}"
                ));
            }
            let bits = e
                .params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("server_max_window_bits"))
                .and_then(|(_, v)| v.as_deref())
                .map(|v| {
                    v.trim_matches('"')
                        .parse::<u8>()
                        .map_err(|_| format!("server_max_window_bits={v:?} in {g:?}"))
                })
                .transpose()?;
            match bits {
                Some(b) if b <= *max => Ok(()),
                Some(b) => Err(format!(
                    "expected server_max_window_bits <= {max}, got {b} in {g:?}"
                )),
                None => Err(format!(
                    "expected server_max_window_bits <= {max} (or the offer declined), got {g:?}"
                )),
            }
        }
    }
}

/// Extension lists compared by name and parameter set (parameter order ignored).
fn same_extensions(a: &str, b: &str) -> Result<bool, String> {
    type Normalised = Vec<(String, Vec<(String, Option<String>)>)>;
    let norm = |s: &str| -> Result<Normalised, String> {
        Ok(deflate::parse_extensions(s)?
            .into_iter()
            .map(|e| {
                let mut p: Vec<_> = e
                    .params
                    .into_iter()
                    .map(|(k, v)| {
                        (
                            k.to_ascii_lowercase(),
                            v.map(|v| v.trim_matches('"').to_string()),
                        )
                    })
                    .collect();
                p.sort();
                (e.name.to_ascii_lowercase(), p)
            })
            .collect())
    };
    Ok(norm(a)? == norm(b)?)
}

fn header_checks(
    want: &[(String, Option<String>)],
    get: impl Fn(&str) -> Option<String>,
    ctx: &Ctx,
) -> Result<(), String> {
    for (name, p) in want {
        match (p, get(name)) {
            (None, None) => {}
            (None, Some(v)) => return Err(format!("expected no {name} header, got {v:?}")),
            (Some(p), None) => {
                let p = StrPattern::compile(p, ctx)?;
                return Err(format!(
                    "expected a {name} header {}, got none",
                    p.describe()
                ));
            }
            (Some(p), Some(v)) => {
                let p = StrPattern::compile(p, ctx)?;
                if !p.matches(&v) {
                    return Err(format!("expected {name} {}, got {v:?}", p.describe()));
                }
            }
        }
    }
    Ok(())
}

fn http_check(h: &HttpExpect, target: &Target<'_>, ctx: &Ctx) -> Result<(), String> {
    let path = ctx.interpolate(&h.path)?;
    let addr = target.addr_of(h.instance.unwrap_or(0))?;
    let crate::runner::HttpReply {
        status,
        headers,
        body,
    } = crate::runner::http_get_with(
        addr,
        &path,
        Duration::from_secs(10),
        target.tls.clone(),
        &[],
    )
    .map_err(|e| format!("GET {path}: {e}"))?;
    if status != h.status {
        return Err(format!(
            "GET {path}: expected status {}, got {status} {:?}",
            h.status,
            preview(&body)
        ));
    }
    let get = |n: &str| {
        let v: Vec<&str> = headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(n))
            .map(|(_, v)| v.as_str())
            .collect();
        if v.is_empty() {
            None
        } else {
            Some(v.join(", "))
        }
    };
    header_checks(&h.headers, get, ctx).map_err(|e| format!("GET {path}: {e}"))?;
    if let Some(p) = &h.json {
        let v: Value = serde_json::from_str(&body)
            .map_err(|e| format!("GET {path}: expected JSON, got {:?} ({e})", preview(&body)))?;
        let mut vars = Vars::new();
        Pattern::compile(p, ctx)?
            .matches(&v, &mut vars)
            .map_err(|e| format!("GET {path}: {e}\n  body: {}", preview(&body)))?;
    }
    if let Some(b) = &h.body {
        let p = StrPattern::compile(b, ctx)?;
        if !p.matches(&body) {
            return Err(format!(
                "GET {path}: expected a body {}, got {:?}",
                p.describe(),
                preview(&body)
            ));
        }
    }
    Ok(())
}

// ---- start-up checks ------------------------------------------------------

/// How long a server may take to refuse a bad variable.
pub const STARTUP_LIMIT: Duration = Duration::from_secs(30);

/// Start the server with `variable=value`; it must exit before listening,
/// with the expected code and a message naming the variable.
pub fn run_startup(
    st: &Startup,
    launch: &Launch,
    log_dir: &Path,
    label: &str,
) -> Result<(), String> {
    let mut launch = launch.clone();
    launch.env.retain(|(k, _)| *k != st.variable);
    launch.env.push((st.variable.clone(), st.value.clone()));
    let port = free_port().map_err(|e| format!("no free port: {e}"))?;
    let log = log_dir.join(format!("{label}.log"));
    let mut server = ServerProcess::start(&launch, port, &log)?;
    let deadline = Instant::now() + STARTUP_LIMIT;
    let status = loop {
        if let Some(s) = server.try_wait() {
            break s;
        }
        if st.variable != "PORT"
            && crate::runner::http_get(server.addr(), "/healthz", Duration::from_millis(500))
                .is_ok()
        {
            return Err(format!(
                "the server started with {}={:?} instead of refusing it\n{}",
                st.variable,
                st.value,
                server.logs()
            ));
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the server neither exited nor answered within {STARTUP_LIMIT:?} with {}={:?}",
                st.variable, st.value
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Give the log writer a moment; the process has exited.
    let output = server.logs();
    drop(server);
    let code = status.code();
    match (st.exit_code, code) {
        (_, Some(0)) => {
            return Err(format!(
                "exited 0 with {}={:?} (expected a refusal)\n{output}",
                st.variable, st.value
            ));
        }
        (Some(want), Some(got)) if want != got => {
            return Err(format!(
                "exited with code {got}, expected {want} for {}={:?}\n{}",
                st.variable,
                st.value,
                preview(output.trim())
            ));
        }
        (_, None) => {
            return Err(format!(
                "killed by a signal ({status}) with {}={:?}",
                st.variable, st.value
            ));
        }
        _ => {}
    }
    let pattern = st
        .output
        .replace("${variable}", &st.variable)
        .replace("${value}", &st.value);
    let p = StrPattern::compile(&pattern, &Ctx::default())?;
    if !p.matches(&output) {
        return Err(format!(
            "expected the output to contain {}, got {:?}",
            p.describe(),
            preview(output.trim())
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(items: &[(&str, Value)]) -> Vars {
        let mut v = Vars::default();
        for (k, x) in items {
            v.insert((*k).to_string(), x.clone());
        }
        v
    }

    #[test]
    fn consecutive_lists_have_no_gap_and_no_duplicate() {
        let ev = |s: u64| serde_json::json!({"type": "event", "seq": s, "data": {"n": s + 10}});
        let vars = lists(&[
            ("a", Value::Array(vec![ev(1), ev(2), ev(3)])),
            ("b", Value::Array(vec![ev(4), ev(5)])),
            ("gap", Value::Array(vec![ev(4), ev(6)])),
            ("dup", Value::Array(vec![ev(3), ev(4)])),
        ]);
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            assert_consecutive(&names(&["a", "b"]), Some(1), Some("seq"), &vars),
            Ok(())
        );
        assert_eq!(
            assert_consecutive(&names(&["b"]), None, Some("seq"), &vars),
            Ok(())
        );
        assert_eq!(
            assert_consecutive(&names(&["a"]), Some(11), Some("data.n"), &vars),
            Ok(())
        );
        let e = assert_consecutive(&names(&["a", "gap"]), Some(1), Some("seq"), &vars).unwrap_err();
        assert!(
            e.contains("expected 5, got 6") && e.contains("a gap"),
            "{e}"
        );
        let e = assert_consecutive(&names(&["a", "dup"]), None, Some("seq"), &vars).unwrap_err();
        assert!(
            e.contains("expected 4, got 3") && e.contains("duplicate"),
            "{e}"
        );
        let e = assert_consecutive(&names(&["a"]), Some(2), Some("seq"), &vars).unwrap_err();
        assert!(e.contains("expected 2, got 1"), "{e}");
        let e = assert_consecutive(&names(&["a"]), None, Some("type"), &vars).unwrap_err();
        assert!(e.contains("not an integer"), "{e}");
        assert!(assert_consecutive(&names(&["nope"]), None, None, &vars).is_err());
    }

    #[test]
    fn fields_project_by_key_or_dotted_path() {
        let x = serde_json::json!({"seq": 3, "data": {"n": 7}, "a.b": 1});
        assert_eq!(project(&x, "seq"), 3);
        assert_eq!(project(&x, "data.n"), 7);
        assert_eq!(project(&x, "a.b"), 1, "a key holding a dot wins");
        assert_eq!(project(&x, "data.m"), Value::Null);
    }

    #[tokio::test]
    async fn expect_file_reads_numbers_and_text() {
        let dir = std::env::temp_dir().join(format!("wsgen-expect-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("progress");
        std::fs::write(&p, "150\n").unwrap();
        let ctx = Ctx::checking();
        let f = |least: Option<&str>, most: Option<&str>| FileExpect {
            path: p.display().to_string(),
            at_least: least.map(String::from),
            at_most: most.map(String::from),
            ..Default::default()
        };
        let w = Duration::from_millis(50);
        assert_eq!(
            expect_file(&f(Some("100"), Some("200")), &ctx, w).await,
            Ok(())
        );
        let e = expect_file(&f(None, Some("100 + 20")), &ctx, w)
            .await
            .unwrap_err();
        assert!(e.contains("holds 150, expected at most 120"), "{e}");
        let e = expect_file(&f(Some("151"), None), &ctx, w)
            .await
            .unwrap_err();
        assert!(e.contains("at least 151"), "{e}");
        let t = FileExpect {
            path: p.display().to_string(),
            text: Some("$regex:^1\\d+$".into()),
            ..Default::default()
        };
        assert_eq!(expect_file(&t, &ctx, w).await, Ok(()));
        let missing = FileExpect {
            path: dir.join("none").display().to_string(),
            equals: Some("1".into()),
            ..Default::default()
        };
        assert!(
            expect_file(&missing, &ctx, w)
                .await
                .unwrap_err()
                .contains("cannot read")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn extensions_compare_as_sets_of_parameters() {
        assert!(same_extensions("permessage-deflate; a; b=1", "permessage-deflate;b=1;a").unwrap());
        assert!(same_extensions("permessage-deflate; b=\"1\"", "permessage-deflate; b=1").unwrap());
        assert!(
            !same_extensions(
                "permessage-deflate",
                "permessage-deflate; client_max_window_bits=15"
            )
            .unwrap()
        );
    }

    #[test]
    fn extensions_expectations() {
        let ctx = Ctx::default();
        let at_most = ExtensionsExpect::ServerMaxWindowBitsAtMost(10);
        assert!(extensions_check(&at_most, None, &ctx).is_ok());
        assert!(
            extensions_check(
                &at_most,
                Some("permessage-deflate; server_max_window_bits=10"),
                &ctx
            )
            .is_ok()
        );
        assert!(
            extensions_check(
                &at_most,
                Some("permessage-deflate; server_max_window_bits=9"),
                &ctx
            )
            .is_ok()
        );
        assert!(
            extensions_check(
                &at_most,
                Some("permessage-deflate; server_max_window_bits=11"),
                &ctx
            )
            .is_err()
        );
        assert!(extensions_check(&at_most, Some("permessage-deflate"), &ctx).is_err());
        let one_of = ExtensionsExpect::OneOf(vec![None, Some("permessage-deflate; a".into())]);
        assert!(extensions_check(&one_of, None, &ctx).is_ok());
        assert!(extensions_check(&one_of, Some("permessage-deflate;a"), &ctx).is_ok());
        let e = extensions_check(&one_of, Some("permessage-deflate"), &ctx).unwrap_err();
        assert!(e.contains("one of none"), "{e}");
        let exact = ExtensionsExpect::OneOf(vec![None]);
        assert!(
            extensions_check(&exact, Some("permessage-deflate"), &ctx)
                .unwrap_err()
                .contains("expected Sec-WebSocket-Extensions none")
        );
    }

    #[test]
    fn offers_parse_into_deflate_offers() {
        let o = deflate_offers(&["permessage-deflate; client_max_window_bits, permessage-deflate; server_max_window_bits=10".into()])
            .unwrap();
        assert_eq!(o.len(), 2);
        assert_eq!(o[0].client_max_window_bits, Some(None));
        assert_eq!(o[1].server_max_window_bits, Some(10));
    }
}
