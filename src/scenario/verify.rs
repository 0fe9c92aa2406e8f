//! `wsgen verify`: generate a spec's project per language into a temporary
//! folder, install and build it through the runner, boot it, and run the
//! handshake suite, the conformance suite, every scenario suite that applies
//! to the spec, and the shutdown check (SIGTERM with a client connected: the
//! client gets 1001 and the process exits 0). Languages run one after another.
//! A spec with `backplane: redis` runs on clusters on a private Redis
//! ([`super::verify_cluster`], docs/scenarios.md "Clusters").

use super::engine::{self, Target};
use super::model::{Body, Scenario, Suite};
use crate::conformance::{self, Scale, SuiteOptions, Verdict};
use crate::ir::{Server, ServerKind};
use crate::lang::Language;
use crate::runner::{self, BuildOptions, Launch, ServerProcess};
use crate::wire::{self, ConnectOptions, Event};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long SIGTERM may take to close clients and exit (the contract gives
/// clients 5 s to answer the close).
pub const SHUTDOWN_LIMIT: Duration = Duration::from_secs(15);

/// What to run and how.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    pub build: BuildOptions,
    /// Scenario folder (default `generated-tests/`).
    pub scenarios_dir: PathBuf,
    /// Keep the generated projects and logs (their folder is reported).
    pub keep: bool,
    /// Run the handshake and conformance suites.
    pub conformance: bool,
    /// Print a line per suite to stderr while running.
    pub progress: bool,
    /// Verify the single-file form (`crate::single`) instead of the project.
    pub single_file: bool,
    /// More environment for every server instance (a `PATH` that finds an
    /// mcp spec's command, say); scenario environments still win.
    pub env: Vec<(String, String)>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            build: BuildOptions::default(),
            scenarios_dir: super::default_dir(),
            keep: false,
            conformance: true,
            progress: false,
            single_file: false,
            env: Vec::new(),
        }
    }
}

/// Bad input (spec or scenario files) versus a broken environment.
#[derive(Debug)]
pub enum VerifyError {
    Usage(String),
    Environment(String),
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::Usage(s) | VerifyError::Environment(s) => f.write_str(s),
        }
    }
}

/// One case's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct CaseOutcome {
    pub name: String,
    pub passed: bool,
    /// Why it failed (empty on PASS); conformance cases also say NON-STRICT/INFO.
    pub detail: String,
    /// `file:line` of the scenario.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The server instance it ran against (key into [`LanguageReport::logs`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuiteResult {
    pub suite: String,
    pub cases: Vec<CaseOutcome>,
}

impl SuiteResult {
    pub fn new(suite: &str) -> Self {
        SuiteResult {
            suite: suite.to_string(),
            cases: Vec::new(),
        }
    }
    pub fn passed(&self) -> usize {
        self.cases.iter().filter(|c| c.passed).count()
    }
    pub fn failed(&self) -> usize {
        self.cases.len() - self.passed()
    }
    /// Record a case (`Err` explains the failure).
    pub fn push_case(
        &mut self,
        name: impl Into<String>,
        r: Result<(), String>,
        at: Option<&str>,
        instance: Option<&str>,
    ) {
        self.push(name, r, at, instance)
    }

    fn push(
        &mut self,
        name: impl Into<String>,
        r: Result<(), String>,
        at: Option<&str>,
        instance: Option<&str>,
    ) {
        let (passed, detail) = match r {
            Ok(()) => (true, String::new()),
            Err(e) => (false, e),
        };
        self.cases.push(CaseOutcome {
            name: name.into(),
            passed,
            detail,
            at: at.map(String::from),
            instance: instance.map(String::from),
        });
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LanguageReport {
    pub language: String,
    pub suites: Vec<SuiteResult>,
    /// Server logs of instances that had a failing case.
    pub logs: BTreeMap<String, String>,
    /// Where the project was generated (when kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dir: Option<String>,
    pub wall_secs: f64,
}

impl LanguageReport {
    pub fn failed(&self) -> usize {
        self.suites.iter().map(SuiteResult::failed).sum()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub spec: String,
    pub name: String,
    pub languages: Vec<LanguageReport>,
}

impl VerifyReport {
    pub fn failed(&self) -> usize {
        self.languages.iter().map(LanguageReport::failed).sum()
    }

    /// Language x suite: `PASS n` or `FAIL f/n`.
    pub fn matrix(&self) -> String {
        let mut suites: Vec<&str> = Vec::new();
        for l in &self.languages {
            for s in &l.suites {
                if !suites.contains(&s.suite.as_str()) {
                    suites.push(&s.suite);
                }
            }
        }
        let cell = |l: &LanguageReport, s: &str| match l.suites.iter().find(|x| x.suite == s) {
            None => "-".to_string(),
            Some(r) if r.failed() == 0 => format!("PASS {}", r.cases.len()),
            Some(r) => format!("FAIL {}/{}", r.failed(), r.cases.len()),
        };
        let mut widths: Vec<usize> = suites.iter().map(|s| s.len()).collect();
        for l in &self.languages {
            for (i, s) in suites.iter().enumerate() {
                widths[i] = widths[i].max(cell(l, s).len());
            }
        }
        let lw = self
            .languages
            .iter()
            .map(|l| l.language.len())
            .chain([8])
            .max()
            .unwrap_or(8)
            + 1;
        let mut out = format!("{:<lw$}", "language");
        for (s, w) in suites.iter().zip(&widths) {
            out.push_str(&format!("  {s:<w$}"));
        }
        out.push_str("  time\n");
        for l in &self.languages {
            out.push_str(&format!("{:<lw$}", l.language));
            for (s, w) in suites.iter().zip(&widths) {
                out.push_str(&format!("  {:<w$}", cell(l, s)));
            }
            out.push_str(&format!("  {:.0}s\n", l.wall_secs));
        }
        out
    }

    /// Every failing case with its reason, then the logs of the servers involved.
    pub fn failures(&self) -> String {
        let mut out = String::new();
        for l in &self.languages {
            let mut instances = Vec::new();
            for s in &l.suites {
                for c in s.cases.iter().filter(|c| !c.passed) {
                    let at =
                        c.at.as_deref()
                            .map(|a| format!(" ({a})"))
                            .unwrap_or_default();
                    out.push_str(&format!(
                        "FAIL [{}] {} / {}{at}\n",
                        l.language, s.suite, c.name
                    ));
                    for line in c.detail.lines() {
                        out.push_str(&format!("    {line}\n"));
                    }
                    if let Some(i) = &c.instance
                        && !instances.contains(i)
                    {
                        instances.push(i.clone());
                    }
                }
            }
            for i in instances {
                if let Some(log) = l.logs.get(&i) {
                    out.push_str(&format!(
                        "--- [{}] server log ({i}), last lines:\n",
                        l.language
                    ));
                    let lines: Vec<&str> = log.lines().collect();
                    for line in &lines[lines.len().saturating_sub(40)..] {
                        out.push_str(&format!("    {line}\n"));
                    }
                }
            }
        }
        out
    }
}

/// Verify `spec` in each of `langs`, one language after another.
pub fn verify(
    spec: &Path,
    langs: &[Language],
    opts: &VerifyOptions,
) -> Result<VerifyReport, VerifyError> {
    let server = crate::pipeline::load_server(Some(spec), &Default::default())
        .map_err(|e| VerifyError::Usage(e.render()))?;
    let suites =
        super::load_dir(&opts.scenarios_dir).map_err(|e| VerifyError::Usage(e.render()))?;
    let root = temp_root()
        .map_err(|e| VerifyError::Environment(format!("creating a temporary folder: {e}")))?;
    runner::kill_on_interrupt();
    // A cluster spec: one private Redis for the whole run (every cluster
    // has its own key prefix).
    let redis = if super::verify_cluster::is_cluster_spec(&server) {
        Some(super::verify_cluster::private_redis().map_err(VerifyError::Environment)?)
    } else {
        None
    };
    let mut languages = Vec::new();
    let mut members = Vec::new();
    for &lang in langs {
        let (report, launch) = verify_language_on(
            &server,
            lang,
            &suites,
            opts,
            &root.join(lang.to_string()),
            redis.as_ref(),
        );
        languages.push(report);
        members.extend(launch.map(|launch| super::cluster::Member {
            label: lang.to_string(),
            launch,
        }));
    }
    // Several languages: one more cluster mixing them all (the cluster suites).
    if let Some(redis) = &redis
        && langs.len() > 1
    {
        languages.push(super::verify_cluster::verify_mixed(
            &server,
            langs,
            &members,
            &suites,
            opts,
            &root.join("mixed"),
            redis,
        ));
    }
    if opts.keep {
        eprintln!("wsgen: kept the projects and logs in {}", root.display());
    } else {
        let _ = std::fs::remove_dir_all(&root);
    }
    Ok(VerifyReport {
        spec: spec.display().to_string(),
        name: server.name.clone(),
        languages,
    })
}

fn temp_root() -> std::io::Result<PathBuf> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    // Several verifies may run at once in one process (tests, one per language).
    static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "wsgen-verify-{}-{nanos:x}-{seq}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Generate, prepare and verify one language. Setup failures (generation,
/// missing toolchain, build) are a FAIL of the `setup` suite: never a skip.
pub fn verify_language(
    server: &Server,
    lang: Language,
    suites: &[Suite],
    opts: &VerifyOptions,
    dir: &Path,
) -> LanguageReport {
    verify_language_on(server, lang, suites, opts, dir, None).0
}

/// [`verify_language`], on a cluster of this language on `redis` when
/// given (the spec has `backplane: redis`); also the prepared launch.
pub fn verify_language_on(
    server: &Server,
    lang: Language,
    suites: &[Suite],
    opts: &VerifyOptions,
    dir: &Path,
    redis: Option<&super::cluster::SharedRedis>,
) -> (LanguageReport, Option<Launch>) {
    let start = Instant::now();
    let project = dir.join("project");
    let logs_dir = dir.join("logs");
    let mut setup = SuiteResult::new("setup");
    let prepared = (|| {
        std::fs::create_dir_all(&logs_dir).map_err(|e| e.to_string())?;
        if opts.single_file {
            return crate::single::prepare(server, lang, &project, &opts.build);
        }
        crate::pipeline::generate_into(server, lang, &project)
            .map_err(|e| format!("generation failed: {e}"))?;
        if opts.progress {
            eprintln!(
                "wsgen: [{lang}] installing and building in {}",
                project.display()
            );
        }
        runner::prepare_project(server, lang, &project, &opts.build)
    })();
    setup.push(
        format!(
            "generate, install and build ({lang}{})",
            if opts.single_file {
                ", single file"
            } else {
                ""
            }
        ),
        prepared.as_ref().map(|_| ()).map_err(Clone::clone),
        None,
        None,
    );
    let launch = prepared.ok().map(|mut launch| {
        launch.env.extend(opts.env.iter().cloned());
        launch
    });
    let (mut suites_out, logs) = match &launch {
        Some(launch) => {
            let cluster = redis.map(|r| Cluster {
                members: vec![super::cluster::Member {
                    label: lang.to_string(),
                    launch: launch.clone(),
                }],
                redis: r.clone(),
                ordinary: true,
            });
            verify_target_on(
                server,
                launch,
                suites,
                &logs_dir,
                opts,
                &lang.to_string(),
                cluster.as_ref(),
            )
        }
        None => (Vec::new(), BTreeMap::new()),
    };
    suites_out.insert(0, setup);
    let report = LanguageReport {
        language: lang.to_string(),
        suites: suites_out,
        logs,
        dir: opts.keep.then(|| project.display().to_string()),
        wall_secs: start.elapsed().as_secs_f64(),
    };
    (report, launch)
}

/// Where [`verify_target_on`] runs its suites for a `backplane: redis` spec.
pub struct Cluster {
    /// What the instances run (instance `i` runs member `i % len`).
    pub members: Vec<super::cluster::Member>,
    pub redis: super::cluster::SharedRedis,
    /// Also the ordinary suites (clients spread over two instances), the
    /// handshake suite and the shutdown check; else the cluster suites only.
    pub ordinary: bool,
}

/// Run every applicable suite against a prepared server (`launch`). Also
/// used directly with hand-written servers (the engine's own tests).
pub fn verify_target(
    server: &Server,
    launch: &Launch,
    suites: &[Suite],
    log_dir: &Path,
    opts: &VerifyOptions,
    label: &str,
) -> (Vec<SuiteResult>, BTreeMap<String, String>) {
    verify_target_on(server, launch, suites, log_dir, opts, label, None)
}

/// [`verify_target`]; with `cluster`, every server is a cluster: the
/// ordinary suites' clients spread over two instances, and the cluster
/// suites (`cluster: true`) on clusters of their own.
pub fn verify_target_on(
    server: &Server,
    launch: &Launch,
    suites: &[Suite],
    log_dir: &Path,
    opts: &VerifyOptions,
    label: &str,
    cluster: Option<&Cluster>,
) -> (Vec<SuiteResult>, BTreeMap<String, String>) {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let mut s = SuiteResult::new("setup");
            s.push("tokio runtime", Err(e.to_string()), None, None);
            return (vec![s], BTreeMap::new());
        }
    };
    let mut logs = BTreeMap::new();
    let mut results: Vec<SuiteResult> = Vec::new();
    let mut hs = SuiteResult::new("handshake");
    let mut conf = SuiteResult::new("conformance");
    let mut shutdown = SuiteResult::new("shutdown");
    let mut children = SuiteResult::new(if server.kind == ServerKind::Session {
        "session children"
    } else {
        "mcp children"
    });
    let has_children = matches!(server.kind, ServerKind::Mcp | ServerKind::Session);

    let applicable: Vec<&Scenario> = suites
        .iter()
        .filter(|s| s.applies.matches(server))
        .flat_map(|s| s.scenarios.iter().filter(|sc| sc.applies(server)))
        .collect();
    let sec = match Security::new(server, &applicable, log_dir) {
        Ok(mut s) => {
            // An mcp spec's own child (npx, a Python package...) costs a second
            // or more per connection: the WebSocket-level suites run with the
            // stdlib chaos child instead; the MCP smoke and the shutdown check
            // use the spec's own command and settings (`mcp_instance`). Like
            // the rate limits, the spec's maxSessions would refuse the
            // handshake suite's many connections (sessions last until their
            // child is reaped): mcp-sessions.yaml checks it with its own value.
            if server.kind == ServerKind::Mcp {
                let chaos = opts.scenarios_dir.join("mcp").join("chaos.py");
                if chaos.is_file() {
                    let cmd = serde_json::json!(["python3", chaos.display().to_string()]);
                    s.base_env.push(("WS_MCP_COMMAND".into(), cmd.to_string()));
                }
                s.base_env
                    .push(("WS_MCP_MAX_SESSIONS".into(), "100000".into()));
            }
            // A session spec's worker is whatever the spec runs (a job
            // runner, an agent): the session suites drive the stdlib
            // controllable worker instead (a suite's own value wins).
            if server.kind == ServerKind::Session {
                let worker = opts.scenarios_dir.join("session").join("worker.py");
                if worker.is_file() {
                    let cmd = serde_json::json!(["python3", worker.display().to_string()]);
                    s.base_env
                        .push(("WS_SESSION_COMMAND".into(), cmd.to_string()));
                }
            }
            s
        }
        Err(e) => {
            let mut s = SuiteResult::new("setup");
            s.push(
                "test credentials (certificates, tokens, keys)",
                Err(e),
                None,
                None,
            );
            return (vec![s], BTreeMap::new());
        }
    };
    // Session scenarios grouped by server environment; the default first.
    type Env = Vec<(String, String)>;
    let mut groups: BTreeMap<Env, Vec<(usize, &Scenario)>> = BTreeMap::new();
    groups.insert(Vec::new(), Vec::new());
    let mut startups: Vec<(usize, &Scenario)> = Vec::new();
    let ordinary = cluster.is_none_or(|c| c.ordinary);
    let mut cluster_suites = Vec::new();
    for s in suites.iter().filter(|s| s.applies.matches(server)) {
        if s.cluster {
            if cluster.is_some() {
                cluster_suites.push((results.len(), s));
                results.push(SuiteResult::new(&s.name));
            }
            continue;
        }
        if !ordinary {
            continue;
        }
        let idx = results.len();
        results.push(SuiteResult::new(&s.name));
        for sc in s.scenarios.iter().filter(|sc| sc.applies(server)) {
            match sc.body {
                Body::Session { .. } => groups.entry(sc.env.clone()).or_default().push((idx, sc)),
                Body::Startup(_) => startups.push((idx, sc)),
            }
        }
    }
    if !ordinary {
        groups.clear();
    }
    for (gi, (env, items)) in groups.iter().enumerate() {
        let instance = if env.is_empty() {
            "default".to_string()
        } else {
            format!("env{gi}")
        };
        let env_desc: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if opts.progress {
            eprintln!(
                "wsgen: [{label}] {} scenario(s) on a server with {}",
                items.len(),
                if env.is_empty() {
                    "the spec's defaults".into()
                } else {
                    env_desc.join(" ")
                }
            );
        }
        let boot_env = match sec.env(env) {
            Ok(e) => e,
            Err(e) => {
                for (idx, sc) in items {
                    results[*idx].push(&sc.name, Err(e.clone()), Some(&sc.at), None);
                }
                continue;
            }
        };
        let booted = match cluster {
            None => runner::boot(launch, &boot_env, log_dir, &instance).map(|p| (p, None)),
            Some(c) => super::verify_cluster::boot_spread(c, &boot_env, log_dir, &instance),
        };
        let (mut proc, spread) = match booted {
            Ok(p) => p,
            Err(e) => {
                let why = format!(
                    "the server did not start with {}: {e}",
                    if env.is_empty() {
                        "the default environment".into()
                    } else {
                        env_desc.join(" ")
                    }
                );
                for (idx, sc) in items {
                    results[*idx].push(&sc.name, Err(why.clone()), Some(&sc.at), None);
                }
                if env.is_empty() {
                    shutdown.push("server starts", Err(why), None, None);
                }
                continue;
            }
        };
        let target = Target {
            tls: sec.serves_tls(&boot_env),
            material: sec.material.as_ref(),
            log: Some(proc.log_path.clone()),
            pid: proc.pid(),
            dir: std::fs::canonicalize(&launch.dir).ok(),
            spread: spread.is_some(),
            cluster: spread.clone(),
            ..Target::new(proc.addr(), server)
        };
        let mut failed = false;
        for (idx, sc) in items {
            let r = rt.block_on(engine::run_session(sc, &target));
            failed |= r.is_err();
            results[*idx].push(&sc.name, r, Some(&sc.at), Some(&instance));
        }
        if env.is_empty() {
            if opts.conformance {
                if opts.progress {
                    eprintln!("wsgen: [{label}] handshake and conformance suites");
                }
                let (h, c) = rt.block_on(conformance_suites(&proc, server, &instance, &sec));
                failed |= h.failed() + c.failed() > 0;
                hs = h;
                conf = c;
            }
            if server.kind != ServerKind::Mcp {
                shutdown = shutdown_check(&rt, &mut proc, server, &instance, &sec);
                failed |= shutdown.failed() > 0;
            }
        }
        if has_children {
            // Whatever the suites did (handshake cases included), every
            // session's child is stopped once its client is gone (mcp), or
            // once its session ended (session: the suites end theirs).
            let r = no_children_left(&proc, MCP_CHILDREN_WINDOW);
            failed |= r.is_err();
            children.push(
                format!(
                    "no child process left after the scenarios on {}",
                    if env.is_empty() {
                        "the default instance".to_string()
                    } else {
                        env_desc.join(" ")
                    }
                ),
                r,
                None,
                Some(&instance),
            );
        }
        if proc.try_wait().is_none() {
            let _ = proc.stop(SHUTDOWN_LIMIT);
        }
        if failed {
            let text = match &spread {
                Some(c) => c.logs(),
                None => proc.logs(),
            };
            logs.insert(instance, text);
        }
    }
    if let Some(c) = cluster {
        super::verify_cluster::run_cluster_suites(
            &rt,
            server,
            c,
            &cluster_suites,
            &sec,
            log_dir,
            opts,
            label,
            &mut results,
            &mut logs,
        );
    }
    let mut smoke = None;
    if server.kind == ServerKind::Mcp {
        if opts.progress {
            eprintln!("wsgen: [{label}] MCP smoke and shutdown with the spec's mcp.command");
        }
        let (sm, sd, log) = mcp_instance(&rt, server, launch, log_dir, &sec);
        if let Some((i, l)) = log {
            logs.insert(i, l);
        }
        smoke = Some(sm);
        shutdown = sd;
    }
    let startup_launch = match cluster {
        Some(c) => {
            let mut l = launch.clone();
            l.env
                .push(("WS_REDIS_URL".into(), super::cluster::lock(&c.redis).url()));
            l
        }
        None => launch.clone(),
    };
    let launch = &startup_launch;
    for (n, (idx, sc)) in startups.iter().enumerate() {
        let Body::Startup(st) = &sc.body else {
            unreachable!()
        };
        let instance = format!("startup{n}");
        // A spec with authentication needs its secret to start at all.
        let r = sec
            .env(&[(st.variable.clone(), st.value.clone())])
            .and_then(|env| {
                let mut l = launch.clone();
                l.env.extend(env);
                let mut st = st.clone();
                st.value = sec.expand(&st.value)?;
                engine::run_startup(&st, &l, log_dir, &instance)
            });
        if r.is_err() {
            let log = std::fs::read_to_string(log_dir.join(format!("{instance}.log")))
                .unwrap_or_default();
            logs.insert(instance.clone(), log);
        }
        results[*idx].push(&sc.name, r, Some(&sc.at), Some(&instance));
    }
    let mut out = Vec::new();
    if opts.conformance && ordinary {
        out.push(hs);
        if server.kind == ServerKind::Echo {
            out.push(conf);
            if sec.material.is_some() {
                if opts.progress {
                    eprintln!("wsgen: [{label}] conformance suite over wss");
                }
                let (r, log) = conformance_over_tls(&rt, server, launch, log_dir, &sec);
                if let Some((i, l)) = log {
                    logs.insert(i, l);
                }
                out.push(r);
            }
        }
    }
    out.extend(smoke);
    out.extend(results);
    if has_children {
        out.push(children);
    }
    if ordinary {
        out.push(shutdown);
    }
    (out, logs)
}

/// An mcp spec on its own command (no `WS_MCP_COMMAND`): the MCP smoke
/// (initialize, tools/list, ping), then the shutdown check with that
/// session's process tree alive.
fn mcp_instance(
    rt: &tokio::runtime::Runtime,
    server: &Server,
    launch: &Launch,
    log_dir: &Path,
    sec: &Security,
) -> (SuiteResult, SuiteResult, Option<(String, String)>) {
    let instance = "mcp".to_string();
    let mut smoke = SuiteResult::new("mcp smoke");
    let mut shutdown = SuiteResult::new("shutdown");
    let env = sec.env(&[]).map(|mut e| {
        e.retain(|(k, _)| k != "WS_MCP_COMMAND" && k != "WS_MCP_MAX_SESSIONS");
        e
    });
    let booted = env.and_then(|env| runner::boot(launch, &env, log_dir, &instance));
    let mut proc = match booted {
        Ok(p) => p,
        Err(e) => {
            smoke.push(
                "server starts with the spec's mcp.command",
                Err(e.clone()),
                None,
                None,
            );
            shutdown.push("server starts", Err(e), None, None);
            return (smoke, shutdown, None);
        }
    };
    let url = format!("ws://{}{}", proc.addr(), server.path);
    let opts = ConnectOptions {
        extra_headers: sec.headers.clone(),
        ..Default::default()
    };
    let r = rt
        .block_on(super::mcp_smoke::run(&url, &opts, MCP_SMOKE_TIMEOUT))
        .map(|_| ())
        .map_err(|e| e.to_string());
    smoke.push(
        "initialize, notifications/initialized, tools/list, ping on the spec's mcp.command",
        r,
        None,
        Some(&instance),
    );
    shutdown = shutdown_check(rt, &mut proc, server, &instance, sec);
    let failed = smoke.failed() + shutdown.failed() > 0;
    let log = failed.then(|| (instance.clone(), proc.logs()));
    let _ = proc.stop(SHUTDOWN_LIMIT);
    (smoke, shutdown, log)
}

/// How long an mcp instance may take to stop its children once the
/// scenarios' clients are gone (they use short shutdown graces).
pub const MCP_CHILDREN_WINDOW: Duration = Duration::from_secs(10);

/// The server process has no descendant left within `window`.
fn no_children_left(proc: &ServerProcess, window: Duration) -> Result<(), String> {
    let pid = proc.pid().ok_or("the server is not running")?;
    let deadline = Instant::now() + window;
    loop {
        let left = super::procs::descendants(pid, &super::procs::all()?);
        if left.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            let list: Vec<String> = left.iter().map(super::procs::Proc::describe).collect();
            return Err(format!(
                "{} process(es) of the server still there {window:?} after the last client: {}",
                left.len(),
                list.join(", ")
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// How long the MCP smoke waits for each answer (the first `initialize`
/// includes starting the spec's command: `npx` may resolve a package).
pub const MCP_SMOKE_TIMEOUT: Duration = Duration::from_secs(90);

/// The opening-handshake suite (`h.*`) and the Autobahn-class suite; the
/// compression categories (12, 13) only when the spec enables compression.
/// The Autobahn-class cases expect an echo server: a chat server gets the
/// handshake suite only (its protocol is covered by the chat scenarios).
async fn conformance_suites(
    proc: &ServerProcess,
    server: &Server,
    instance: &str,
    sec: &Security,
) -> (SuiteResult, SuiteResult) {
    let tls = if proc.tls {
        sec.material.as_ref().map(|m| m.client_tls.clone())
    } else {
        None
    };
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let url = format!("{scheme}://{}{}", proc.addr(), server.path);
    let mut exclude = vec!["h.*".to_string()];
    if !server.compression.enabled {
        exclude.extend(["12.*".to_string(), "13.*".to_string()]);
    }
    let all = conformance::Suite::new(Scale::Quick);
    // A server that requires a subprotocol refuses connections without one:
    // there every case offers the spec's first (cases with their own offer
    // keep it).
    let protocols = if server.require_subprotocol {
        server.subprotocols.iter().take(1).cloned().collect()
    } else {
        Vec::new()
    };
    let opts = SuiteOptions {
        protocols,
        headers: sec.headers.clone(),
        tls,
        ..Default::default()
    };
    let mut out = Vec::new();
    let mut runs = vec![("handshake", vec!["h.*".to_string()], vec![])];
    if server.kind == ServerKind::Echo {
        runs.push(("conformance", vec![], exclude));
    }
    for (name, include, exclude) in runs {
        let mut r = SuiteResult::new(name);
        match all.clone().select(&include, &exclude) {
            Err(e) => r.push("select cases", Err(e), None, None),
            Ok(suite) => match suite.run(&url, &opts, |_| {}).await {
                Err(e) => r.push("connect", Err(e.to_string()), None, Some(instance)),
                Ok(report) => {
                    for c in &report.cases {
                        let res = match c.verdict {
                            Verdict::Fail => Err(c.reason.clone()),
                            _ => Ok(()),
                        };
                        r.push(
                            format!("{} {}", c.id, c.description),
                            res,
                            None,
                            Some(instance),
                        );
                        if c.verdict != Verdict::Pass && c.verdict != Verdict::Fail {
                            let last = r.cases.last_mut().unwrap();
                            last.detail = format!("{}: {}", c.verdict.label(), c.reason);
                        }
                    }
                }
            },
        }
        out.push(r);
    }
    let conf = if out.len() == 2 {
        out.pop().unwrap()
    } else {
        SuiteResult::new("conformance")
    };
    (out.pop().unwrap(), conf)
}

/// The conformance suite (without `h.*`) once more, over wss, on an
/// instance started with the test certificate.
fn conformance_over_tls(
    rt: &tokio::runtime::Runtime,
    server: &Server,
    launch: &Launch,
    log_dir: &Path,
    sec: &Security,
) -> (SuiteResult, Option<(String, String)>) {
    let instance = "wss".to_string();
    let env = match sec.env(&[
        ("WS_TLS_CERT".into(), "${tls.cert}".into()),
        ("WS_TLS_KEY".into(), "${tls.key}".into()),
    ]) {
        Ok(e) => e,
        Err(e) => {
            let mut r = SuiteResult::new("conformance (wss)");
            r.push("server starts with TLS", Err(e), None, None);
            return (r, None);
        }
    };
    let mut proc = match runner::boot(launch, &env, log_dir, &instance) {
        Ok(p) => p,
        Err(e) => {
            let mut r = SuiteResult::new("conformance (wss)");
            r.push("server starts with TLS", Err(e), None, None);
            return (r, None);
        }
    };
    let (_, mut c) = rt.block_on(conformance_suites(&proc, server, &instance, sec));
    c.suite = "conformance (wss)".into();
    let log = (c.failed() > 0).then(|| (instance.clone(), proc.logs()));
    let _ = proc.stop(SHUTDOWN_LIMIT);
    (c, log)
}

/// The variables that give a server its authentication secret.
const AUTH_VARS: &[&str] = &[
    "WS_AUTH_TOKENS",
    "WS_AUTH_TOKENS_FILE",
    "WS_JWT_SECRET",
    "WS_JWT_PUBLIC_KEY_FILE",
];

/// What verify adds for the security features (docs/scenarios.md, "Test
/// material"): the generated credentials when a spec or scenario needs them,
/// the environment a spec with authentication needs to start at all, and a
/// valid credential for the clients that do not choose one (conformance,
/// shutdown, scenario clients without `token`/`jwt`/`anonymous`).
pub struct Security {
    pub material: Option<super::material::Material>,
    /// `WS_AUTH_TOKENS` / `WS_JWT_SECRET` / `WS_JWT_PUBLIC_KEY_FILE` (placeholders),
    /// the rate and per-address limits off, an mcp spec's test child.
    base_env: Vec<(String, String)>,
    /// `Authorization: Bearer <alice's token or JWT>` when auth is on.
    pub headers: Vec<(String, String)>,
    ctx: super::pattern::Ctx,
}

impl Security {
    pub fn new(server: &Server, scenarios: &[&Scenario], dir: &Path) -> Result<Security, String> {
        use super::model::{Property, Requirement};
        let auth = Requirement {
            property: Property::Auth,
            negated: false,
        }
        .holds(server);
        let needed = auth || scenarios.iter().any(|sc| sc.needs_material());
        let ctx = super::pattern::Ctx::for_server(server);
        // The spec's per-connection message rate and per-address connection
        // limits would fail the conformance suite (thousands of messages,
        // dozens of connections from 127.0.0.1) and the protocol suites:
        // they are off unless a scenario sets them (security-limits.yaml
        // checks them, the spec's own rate included).
        let mut base_env = Vec::new();
        if server.security.rate_limit.is_some() {
            base_env.push(("WS_RATE_LIMIT".to_string(), "off".to_string()));
        }
        if server.security.max_connections_per_ip > 0 {
            base_env.push(("WS_MAX_CONNECTIONS_PER_IP".to_string(), "0".to_string()));
        }
        if !needed {
            return Ok(Security {
                material: None,
                base_env,
                headers: Vec::new(),
                ctx,
            });
        }
        let material = super::material::Material::generate(&dir.join("material"))?;
        let ctx = ctx.clone().with_values(material.values(ctx.values()));
        let v = ctx.values();
        let mut headers = Vec::new();
        if auth {
            let kind = v.get("spec.security.auth.kind").map(String::as_str);
            let hmac = v.get("spec.security.auth.hmac").map(String::as_str) == Some("true");
            let (var, val, cred) = match (kind, hmac) {
                (Some("token"), _) => (
                    "WS_AUTH_TOKENS",
                    "${auth.tokens}",
                    material.token("alice").unwrap_or_default().to_string(),
                ),
                (_, true) => (
                    "WS_JWT_SECRET",
                    "${auth.jwtSecret}",
                    material.mint(&Default::default(), v)?,
                ),
                _ => (
                    "WS_JWT_PUBLIC_KEY_FILE",
                    "${auth.jwtPublicKeyFile}",
                    material.mint(&Default::default(), v)?,
                ),
            };
            base_env.push((var.to_string(), val.to_string()));
            headers.push(("Authorization".to_string(), format!("Bearer {cred}")));
        }
        Ok(Security {
            material: Some(material),
            base_env,
            headers,
            ctx,
        })
    }

    /// The environment to boot with: the base, then the scenario's, with
    /// placeholders expanded; the reload certificate files are reset first.
    pub fn env(&self, scenario_env: &[(String, String)]) -> Result<Vec<(String, String)>, String> {
        // A scenario that gives the server its credentials another way
        // (WS_AUTH_TOKENS_FILE, say) replaces verify's.
        let own_secret = scenario_env
            .iter()
            .any(|(k, _)| AUTH_VARS.contains(&k.as_str()));
        let mut env: Vec<(String, String)> = self
            .base_env
            .iter()
            .filter(|(k, _)| !(own_secret && AUTH_VARS.contains(&k.as_str())))
            .cloned()
            .collect();
        for (k, v) in scenario_env {
            env.retain(|(e, _)| e != k);
            env.push((k.clone(), v.clone()));
        }
        if let Some(m) = &self.material {
            m.reset_reload()?;
        }
        env.into_iter()
            .map(|(k, v)| Ok((k, self.ctx.interpolate(&v)?)))
            .collect()
    }

    /// Placeholders (spec, contract, test material) expanded.
    pub fn expand(&self, s: &str) -> Result<String, String> {
        self.ctx.interpolate(s)
    }

    /// A client configuration trusting the test CA, when `env` starts the
    /// server with TLS.
    pub fn serves_tls(
        &self,
        env: &[(String, String)],
    ) -> Option<std::sync::Arc<rustls::ClientConfig>> {
        let m = self.material.as_ref()?;
        env.iter()
            .any(|(k, v)| k == "WS_TLS_CERT" && !v.is_empty())
            .then(|| m.client_tls.clone())
    }
}

/// SIGTERM with a client connected: the client gets close 1001 and the
/// process exits 0.
fn shutdown_check(
    rt: &tokio::runtime::Runtime,
    proc: &mut ServerProcess,
    server: &Server,
    instance: &str,
    sec: &Security,
) -> SuiteResult {
    let mut r = SuiteResult::new("shutdown");
    let url = format!("ws://{}{}", proc.addr(), server.path);
    let opts = ConnectOptions {
        protocols: server.subprotocols.iter().take(1).cloned().collect(),
        extra_headers: sec.headers.clone(),
        ..Default::default()
    };
    let conn = rt.block_on(wire::connect(&url, &opts));
    let mut conn = match conn {
        Ok(c) => c,
        Err(e) => {
            r.push(
                "client connects before SIGTERM",
                Err(e.to_string()),
                None,
                Some(instance),
            );
            let _ = proc.stop(SHUTDOWN_LIMIT);
            return r;
        }
    };
    // An MCP bridge: the session's process tree (child, and what it
    // started) must be gone once the server has exited.
    let mcp = server.mcp.as_ref();
    let mut tree = Vec::new();
    if mcp.is_some() {
        let pid = proc.pid().unwrap_or(0);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            tree = super::procs::all()
                .map(|all| super::procs::descendants(pid, &all))
                .unwrap_or_default();
            if !tree.is_empty() || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        r.push(
            "the connected client has a child process",
            if tree.is_empty() {
                Err("no descendant process of the server 30 s after the connection opened".into())
            } else {
                Ok(())
            },
            None,
            Some(instance),
        );
    }
    // Children take up to 2 x shutdownGrace to stop.
    let limit = SHUTDOWN_LIMIT
        + mcp.map_or(Duration::ZERO, |m| {
            Duration::from_millis(2 * m.shutdown_grace_ms)
        });
    proc.signal(libc::SIGTERM);
    let closed = rt.block_on(async {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            match conn.next_event_until(deadline).await {
                Ok(Event::Close { code, reason }) => {
                    let _ = conn.send_close(code, b"").await;
                    return match code {
                        Some(1001) => Ok(()),
                        other => Err(format!(
                            "expected close 1001, got {other:?} {:?}",
                            String::from_utf8_lossy(&reason)
                        )),
                    };
                }
                Ok(Event::Ping(p)) => {
                    let _ = conn.pong(&p).await;
                }
                Ok(Event::Eof) => return Err("the server closed TCP without a close frame".into()),
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
    });
    r.push(
        "SIGTERM closes a connected client with 1001",
        closed,
        None,
        Some(instance),
    );
    let deadline = Instant::now() + limit;
    let exited = loop {
        if let Some(status) = proc.try_wait() {
            break if status.success() {
                Ok(())
            } else {
                Err(format!("the server exited with {status}"))
            };
        }
        if Instant::now() > deadline {
            let _ = proc.stop(Duration::from_secs(1));
            break Err(format!(
                "the server did not exit within {limit:?} of SIGTERM"
            ));
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    r.push(
        "the process exits 0 after SIGTERM",
        exited,
        None,
        Some(instance),
    );
    if !tree.is_empty() {
        // Orphans would still run; what the server reaped is gone (a
        // process SIGKILLed just now may take a moment to end).
        let deadline = Instant::now() + Duration::from_secs(2);
        let left: Vec<String> = loop {
            let left: Vec<String> = tree
                .iter()
                .filter(|p| super::procs::alive(p.pid))
                .map(super::procs::Proc::describe)
                .collect();
            if left.is_empty() || Instant::now() > deadline {
                break left;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        r.push(
            "every child process is stopped before the server exits",
            if left.is_empty() {
                Ok(())
            } else {
                Err(format!(
                    "still running after the server exited: {}",
                    left.join(", ")
                ))
            },
            None,
            Some(instance),
        );
    }
    drop(conn);
    r
}
