//! `wsgen bench --spec FILE --language all`: generate, build (release) and
//! boot each language's server and each hand-written baseline, one after the
//! other, run the same measurements against each, and print one table.
//!
//! Per server: memory per idle connection (RSS delta over N idle connections,
//! measured first on a fresh process), closed-loop throughput, open-loop
//! latency at a fixed rate, and the server's CPU in both.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::chat::{self, ChatConfig, ChatReport};
use super::idle::{self, IdleReport};
use super::load::{self, LoadConfig, LoadReport};
use super::stats::{fmt_int, fmt_us};
use super::sys;
use crate::emit::{self, TemplateSet};
use crate::ir::{Overrides, Server};
use crate::lang::{LangNames, Language};
use crate::runner::{self, BuildOptions, Launch};

#[derive(Debug, Clone)]
pub struct SuiteConfig {
    pub spec: Option<PathBuf>,
    pub languages: Vec<Language>,
    /// Folder of baselines (`bench/baselines`); `None` skips them.
    pub baselines: Option<PathBuf>,
    /// Only these targets (by row name), if not empty.
    pub only: Vec<String>,
    pub closed_connections: usize,
    pub open_connections: usize,
    pub open_rate: f64,
    pub duration: Duration,
    pub size: usize,
    pub idle_connections: usize,
    pub threads: usize,
    /// Rounds of (closed, open) per server, alternating between servers.
    pub rounds: usize,
    /// Chat specs: room members, senders and messages/s per sender.
    pub chat_members: usize,
    pub chat_senders: usize,
    pub chat_rate: f64,
    pub verbose: bool,
}

/// One server to measure.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub name: String,
    pub language: String,
    pub kind: &'static str,
    pub library: String,
    #[serde(skip)]
    lang: Language,
    #[serde(skip)]
    dir: PathBuf,
    #[serde(skip)]
    names: LangNames,
    #[serde(skip)]
    server: Option<Server>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub target: Target,
    pub idle: Option<IdleReport>,
    /// The median round of each kind.
    pub closed: Option<LoadReport>,
    pub open: Option<LoadReport>,
    pub closed_rounds: Vec<LoadReport>,
    pub open_rounds: Vec<LoadReport>,
    /// Chat fan-out (chat specs only).
    pub chat: Option<ChatReport>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuiteReport {
    pub date: String,
    pub machine: String,
    pub load_before: String,
    pub load_after: String,
    pub settings: String,
    pub rows: Vec<Row>,
}

/// Idle-memory target of a language, in bytes per connection with 10,000
/// connections (issue 11: at or below the best hand-written server).
pub fn memory_target(lang: Language) -> f64 {
    lang.driver().idle_memory_target()
}

/// A baseline's `baseline.txt`: `language = ...`, `library = ...`, and the
/// names its language's build plan needs, as the generator would give them
/// (`package = ...` for Rust, the binary; `module = ...` for Python).
pub fn read_baseline(dir: &Path) -> Option<(Language, String, LangNames)> {
    let text = std::fs::read_to_string(dir.join("baseline.txt")).ok()?;
    let get = |k: &str| {
        text.lines()
            .filter_map(|l| l.split_once('='))
            .find(|(a, _)| a.trim() == k)
            .map(|(_, v)| v.trim().to_string())
    };
    let lang = Language::parse(&get("language")?)?;
    let names = LangNames {
        package: get("package"),
        module: get("module"),
        ..LangNames::default()
    };
    Some((lang, get("library").unwrap_or_default(), names))
}

fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let name = e.file_name();
        let n = name.to_string_lossy();
        if matches!(
            n.as_ref(),
            "node_modules" | ".venv" | "target" | ".wsgen" | "__pycache__"
        ) {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        if src.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            let new = std::fs::read(&src)?;
            if std::fs::read(&dst).ok().as_deref() != Some(&new[..]) {
                std::fs::write(&dst, new)?;
            }
        }
    }
    Ok(())
}

/// Every target of the run: per language the generated server, then its baselines.
pub fn targets(cfg: &SuiteConfig, server: &Server) -> Result<Vec<Target>, String> {
    let cache = runner::default_cache_dir();
    let mut out = Vec::new();
    let mut baselines: Vec<(String, Language, String, LangNames, PathBuf)> = Vec::new();
    if let Some(b) = &cfg.baselines
        && let Ok(rd) = std::fs::read_dir(b)
    {
        for e in rd.flatten() {
            if let Some((lang, library, names)) = read_baseline(&e.path()) {
                baselines.push((
                    e.file_name().to_string_lossy().into_owned(),
                    lang,
                    library,
                    names,
                    e.path(),
                ));
            }
        }
    }
    baselines.sort_by(|a, b| a.0.cmp(&b.0));
    for &lang in &cfg.languages {
        let files = emit::generate(server, lang, &TemplateSet::embedded())
            .map_err(|e| format!("{lang}: {e}"))?;
        let dir = runner::cached_project(server, lang, &files)?;
        out.push(Target {
            name: format!("{lang} (generated)"),
            language: lang.name().into(),
            kind: "generated",
            library: lang.library().into(),
            lang,
            dir,
            names: lang.names(server),
            server: Some(server.clone()),
        });
        for (name, blang, library, names, path) in &baselines {
            if *blang != lang {
                continue;
            }
            let dir = cache.join("bench-baselines").join(name);
            copy_tree(path, &dir).map_err(|e| format!("copying baseline {name}: {e}"))?;
            out.push(Target {
                name: format!("{name} (baseline)"),
                language: lang.name().into(),
                kind: "baseline",
                library: library.clone(),
                lang,
                dir,
                names: names.clone(),
                server: None,
            });
        }
    }
    if !cfg.only.is_empty() {
        out.retain(|t| cfg.only.iter().any(|o| t.name.starts_with(o.as_str())));
    }
    Ok(out)
}

fn prepare(t: &Target, opts: &BuildOptions) -> Result<Launch, String> {
    match &t.server {
        Some(s) => runner::prepare_project(s, t.lang, &t.dir, opts),
        None => runner::prepare(t.lang, &t.dir, &t.names, opts),
    }
}

fn uptime() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Runs everything; `rt` is the runtime the load runs on.
pub fn run(cfg: &SuiteConfig, rt: &tokio::runtime::Runtime) -> Result<SuiteReport, String> {
    let server = crate::pipeline::load_server(cfg.spec.as_deref(), &Overrides::default())
        .map_err(|e| e.render())?;
    let (soft, _) = sys::raise_nofile();
    if (soft as usize) < cfg.idle_connections + 100 {
        eprintln!(
            "warning: open-file limit {soft} is below {} idle connections",
            cfg.idle_connections
        );
    }
    let targets = targets(cfg, &server)?;
    let cache = runner::default_cache_dir();
    let opts = BuildOptions {
        release: true,
        verbose: cfg.verbose,
        ..Default::default()
    };
    let log_dir = cache.join("bench-logs");
    let _ = std::fs::create_dir_all(&log_dir);
    runner::kill_on_interrupt();
    // Build everything first, so builds never overlap a measurement.
    let mut launches_built = Vec::new();
    for t in &targets {
        eprintln!("bench: building {} in {}", t.name, t.dir.display());
        launches_built.push(prepare(t, &opts));
    }
    let load_before = uptime();
    let mut rows: Vec<Row> = Vec::new();
    let mut launches: Vec<Option<Launch>> = Vec::new();
    for (t, launch) in targets.iter().zip(launches_built) {
        let mut row = Row {
            target: t.clone(),
            idle: None,
            closed: None,
            open: None,
            closed_rounds: vec![],
            open_rounds: vec![],
            chat: None,
            error: None,
        };
        match launch {
            Err(e) => {
                row.error = Some(format!("build: {}", first_lines(&e, 6)));
                launches.push(None);
            }
            Ok(l) => launches.push(Some(l)),
        }
        rows.push(row);
    }
    // 1. Memory per idle connection: each server alone, on a fresh process.
    if cfg.idle_connections > 0 {
        for (row, launch) in rows.iter_mut().zip(&launches) {
            let Some(launch) = launch else { continue };
            let t = row.target.clone();
            if let Err(e) = measure_idle(cfg, rt, &t, launch, &server.path, &log_dir, row) {
                row.error = Some(e);
            }
        }
    }
    // Chat specs: the fan-out benchmark per generated server (the baselines
    // are echo servers), then nothing else: echo load does not apply.
    if server.kind == crate::ir::ServerKind::Chat {
        for (row, launch) in rows.iter_mut().zip(&launches) {
            let Some(launch) = launch else { continue };
            if row.target.kind != "generated" {
                continue;
            }
            let label = format!(
                "{}-chat",
                row.target
                    .name
                    .split_whitespace()
                    .next()
                    .unwrap_or("server")
            );
            let mut s = match runner::boot(launch, &env(), &log_dir, &label) {
                Ok(s) => s,
                Err(e) => {
                    row.error = Some(format!("boot: {}", first_lines(&e, 6)));
                    continue;
                }
            };
            let url = format!("ws://127.0.0.1:{}{}", s.port, server.path);
            eprintln!(
                "bench: {}: chat fan-out, {} members, {} senders x {} msg/s",
                row.target.name, cfg.chat_members, cfg.chat_senders, cfg.chat_rate
            );
            let c = ChatConfig {
                url,
                members: cfg.chat_members,
                senders: cfg.chat_senders,
                rate: cfg.chat_rate,
                duration: cfg.duration,
                size: cfg.size,
                server_pid: sys::listener_pid(s.port),
                threads: cfg.threads,
                ..Default::default()
            };
            match rt.block_on(chat::run(&c)) {
                Ok(r) => {
                    eprint!("{}", r.render());
                    row.chat = Some(r);
                }
                Err(e) => row.error = Some(format!("chat: {e}")),
            }
            let _ = s.stop(Duration::from_secs(10));
        }
        rows.retain(|r| r.target.kind == "generated");
        return Ok(SuiteReport {
            date: chrono_like_now(),
            machine: machine_line(),
            load_before,
            load_after: uptime(),
            settings: format!(
                "chat fan-out: one room, {} members, {} senders x {} msg/s x {:?}; idle: {} conns; {} wsgen thread(s)",
                cfg.chat_members,
                cfg.chat_senders,
                cfg.chat_rate,
                cfg.duration,
                cfg.idle_connections,
                cfg.threads
            ),
            rows,
        });
    }
    // 2. Throughput and latency: per language, boot the generated server and
    // its baselines side by side and alternate between them for several
    // rounds, so a change in the machine's load (it is shared) hits both
    // alike; each figure is the median of its rounds.
    for &lang in &cfg.languages {
        let idx: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i].target.lang == lang && launches[i].is_some())
            .collect();
        let mut servers = Vec::new();
        for &i in &idx {
            let t = &rows[i].target;
            let label = format!(
                "{}-load",
                t.name.split_whitespace().next().unwrap_or("server")
            );
            match runner::boot(
                launches[i].as_ref().expect("built"),
                &env(),
                &log_dir,
                &label,
            ) {
                Ok(s) => servers.push((i, s)),
                Err(e) => rows[i].error = Some(format!("boot: {}", first_lines(&e, 6))),
            }
        }
        let urls: Vec<(usize, String, Option<i32>)> = servers
            .iter()
            .map(|(i, s)| {
                (
                    *i,
                    format!("ws://127.0.0.1:{}{}", s.port, server.path),
                    sys::listener_pid(s.port),
                )
            })
            .collect();
        for (i, url, pid) in &urls {
            // Warm-up (JIT, pools), not reported.
            eprintln!(
                "bench: {} on {url} (pid {}): warm-up",
                rows[*i].target.name,
                pid.unwrap_or(0)
            );
            let _ = rt.block_on(load::run(&load_config(
                cfg,
                url,
                *pid,
                cfg.closed_connections,
                0.0,
                Duration::from_secs(2),
            )));
        }
        for round in 0..cfg.rounds.max(1) {
            for (i, url, pid) in &urls {
                eprintln!(
                    "bench: {}: round {}/{}: closed loop",
                    rows[*i].target.name,
                    round + 1,
                    cfg.rounds.max(1)
                );
                match rt.block_on(load::run(&load_config(
                    cfg,
                    url,
                    *pid,
                    cfg.closed_connections,
                    0.0,
                    cfg.duration,
                ))) {
                    Ok(r) => rows[*i].closed_rounds.push(r),
                    Err(e) => rows[*i].error = Some(e),
                }
                eprintln!(
                    "bench: {}: round {}/{}: open loop",
                    rows[*i].target.name,
                    round + 1,
                    cfg.rounds.max(1)
                );
                match rt.block_on(load::run(&load_config(
                    cfg,
                    url,
                    *pid,
                    cfg.open_connections,
                    cfg.open_rate,
                    cfg.duration,
                ))) {
                    Ok(r) => rows[*i].open_rounds.push(r),
                    Err(e) => rows[*i].error = Some(e),
                }
            }
        }
        for (_, mut s) in servers {
            let _ = s.stop(Duration::from_secs(10));
        }
        for &i in &idx {
            let row = &mut rows[i];
            row.closed = median_by(&row.closed_rounds, |r| r.achieved_rate);
            row.open = median_by(&row.open_rounds, |r| r.latency.p99_us);
            eprint!("{}", render_row_summary(row));
        }
    }
    Ok(SuiteReport {
        date: chrono_like_now(),
        machine: machine_line(),
        load_before,
        load_after: uptime(),
        settings: format!(
            "closed loop: {} conns x {:?}; open loop: {} conns x {} msg/s x {:?}; {} B text; median of {} alternating rounds; idle: {} conns; {} wsgen thread(s)",
            cfg.closed_connections,
            cfg.duration,
            cfg.open_connections,
            cfg.open_rate,
            cfg.duration,
            cfg.size,
            cfg.rounds.max(1),
            cfg.idle_connections,
            cfg.threads
        ),
        rows,
    })
}

fn first_lines(s: &str, n: usize) -> String {
    s.lines().take(n).collect::<Vec<_>>().join(" | ")
}

fn env() -> Vec<(String, String)> {
    vec![("WS_MAX_PAYLOAD".to_string(), (1 << 20).to_string())]
}

fn load_config(
    cfg: &SuiteConfig,
    url: &str,
    pid: Option<i32>,
    connections: usize,
    rate: f64,
    duration: Duration,
) -> LoadConfig {
    LoadConfig {
        url: url.to_string(),
        connections,
        rate,
        duration,
        size: cfg.size,
        server_pid: pid,
        threads: cfg.threads,
        drain: Duration::from_secs(3),
        ..Default::default()
    }
}

/// The round whose `key` is the median (rounds sorted by it).
pub fn median_by(rounds: &[LoadReport], key: impl Fn(&LoadReport) -> f64) -> Option<LoadReport> {
    let mut v: Vec<&LoadReport> = rounds.iter().collect();
    v.sort_by(|a, b| key(a).total_cmp(&key(b)));
    v.get(v.len().checked_sub(1)? / 2).map(|r| (*r).clone())
}

fn measure_idle(
    cfg: &SuiteConfig,
    rt: &tokio::runtime::Runtime,
    t: &Target,
    launch: &Launch,
    path: &str,
    log_dir: &Path,
    row: &mut Row,
) -> Result<(), String> {
    let label = t
        .name
        .split_whitespace()
        .next()
        .unwrap_or("server")
        .to_string();
    let mut server = runner::boot(launch, &env(), log_dir, &format!("{label}-idle"))?;
    let url = format!("ws://127.0.0.1:{}{}", server.port, path);
    let pid = sys::listener_pid(server.port).ok_or("cannot find the server's pid from its port")?;
    eprintln!(
        "bench: {} on {url} (pid {pid}): {} idle connections",
        t.name, cfg.idle_connections
    );
    match rt.block_on(idle::measure(
        &url,
        cfg.idle_connections,
        pid,
        Duration::from_secs(2),
        128,
    )) {
        Ok(r) => row.idle = Some(r),
        Err(e) => row.error = Some(format!("idle: {e}")),
    }
    let _ = server.stop(Duration::from_secs(10));
    Ok(())
}

fn render_row_summary(r: &Row) -> String {
    let mut s = format!("bench: {}:", r.target.name);
    if let Some(i) = &r.idle {
        s.push_str(&format!(
            " idle {:.1} KB/conn ({} open);",
            i.bytes_per_connection / 1024.0,
            i.opened
        ));
    }
    if let Some(c) = &r.closed {
        s.push_str(&format!(
            " closed {} msg/s;",
            fmt_int(c.achieved_rate as u64)
        ));
    }
    if let Some(o) = &r.open {
        s.push_str(&format!(" open p99 {};", fmt_us(o.latency.p99_us)));
    }
    if let Some(e) = &r.error {
        s.push_str(&format!(" error: {e}"));
    }
    s.push('\n');
    s
}

fn machine_line() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| {
                l.split_once(':')
                    .map(|x| x.1.trim().to_string())
                    .unwrap_or_default()
            })
        })
        .unwrap_or_default();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| sys::parse_status_kib(&m, "MemTotal:"))
        .unwrap_or(0);
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    format!(
        "{cores} cores, {cpu}, {:.0} GiB RAM",
        mem as f64 / 1024.0 / 1024.0
    )
}

fn chrono_like_now() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

impl SuiteReport {
    /// The comparison table (Markdown, so it pastes into docs/BENCHMARKS.md).
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "machine: {}\ndate: {}\nload average before/after: {} / {}\nsettings: {}\n\n",
            self.machine, self.date, self.load_before, self.load_after, self.settings
        ));
        if self.rows.iter().any(|r| r.chat.is_some()) {
            s.push_str("| server | library | deliveries/s | expected | p50 | p99 | max | server CPU | RSS per member under load | RSS per idle conn | checks |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
            for r in &self.rows {
                let c = r.chat.as_ref();
                s.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                    r.target.name,
                    r.target.library,
                    c.map(|c| fmt_int(c.deliveries_per_sec as u64))
                        .unwrap_or_default(),
                    c.map(|c| fmt_int(c.expected_deliveries))
                        .unwrap_or_default(),
                    c.map(|c| fmt_us(c.latency.p50_us)).unwrap_or_default(),
                    c.map(|c| fmt_us(c.latency.p99_us)).unwrap_or_default(),
                    c.map(|c| fmt_us(c.latency.max_us)).unwrap_or_default(),
                    c.and_then(|c| c.server_cpu_cores)
                        .map(|x| format!("{:.0}%", x * 100.0))
                        .unwrap_or_default(),
                    c.and_then(|c| c.rss_per_member_bytes)
                        .map(|b| format!("{:.1} KB", b / 1024.0))
                        .unwrap_or_default(),
                    r.idle
                        .as_ref()
                        .map(|i| format!("{:.1} KB", i.bytes_per_connection / 1024.0))
                        .unwrap_or_default(),
                    match (c, &r.error) {
                        (_, Some(e)) => format!("error: {e}"),
                        (Some(c), None) => format!(
                            "{} lost, {} mism, {} err",
                            c.lost,
                            c.mismatches,
                            c.errors + c.join_failures
                        ),
                        _ => String::new(),
                    }
                ));
            }
            return s;
        }
        s.push_str("| server | library | closed-loop msg/s | vs same library | vs best | msg per server CPU-s | open p50 | open p99 | p99 vs best | server CPU closed / open | RSS per idle conn | vs best | mem target | checks |\n");
        s.push_str("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n");
        for r in &self.rows {
            let generated = r.target.kind == "generated";
            let baselines: Vec<&Row> = self
                .rows
                .iter()
                .filter(|b| b.target.kind == "baseline" && b.target.language == r.target.language)
                .collect();
            // The baseline on the same library (its name's first word appears
            // in the generated server's library), else the first.
            let same_lib = baselines
                .iter()
                .find(|b| {
                    b.target
                        .library
                        .split_whitespace()
                        .next()
                        .is_some_and(|w| r.target.library.contains(w))
                })
                .or(baselines.first());
            let closed = r.closed.as_ref().map(|c| c.achieved_rate);
            let p99 = r.open.as_ref().map(|o| o.latency.p99_us);
            let idle = r.idle.as_ref().map(|i| i.bytes_per_connection);
            let vs_same = match (closed, same_lib.and_then(|b| b.closed.as_ref())) {
                (Some(a), Some(b)) if generated && b.achieved_rate > 0.0 => {
                    format!("{:.0}%", 100.0 * a / b.achieved_rate)
                }
                _ => "".into(),
            };
            // The best hand-written server of the language, per measure
            // (issue 11's targets): the highest closed-loop rate, the lowest
            // open-loop p99, the least memory per idle connection.
            let best = |value: &dyn Fn(&Row) -> Option<f64>, higher: bool| {
                baselines
                    .iter()
                    .filter_map(|b| value(b).filter(|v| *v > 0.0).map(|v| (v, short_name(b))))
                    .reduce(|x, y| if (y.0 > x.0) == higher { y } else { x })
            };
            let vs_best_tp = match (
                closed,
                best(&|b| b.closed.as_ref().map(|c| c.achieved_rate), true),
            ) {
                (Some(a), Some((b, name))) if generated => {
                    let pct = 100.0 * a / b;
                    format!("{pct:.0}% of {name} {}", verdict(pct >= 95.0))
                }
                _ => "".into(),
            };
            let vs_best_p99 = match (
                p99,
                best(&|b| b.open.as_ref().map(|o| o.latency.p99_us), false),
            ) {
                (Some(a), Some((b, name))) if generated => {
                    let x = a / b;
                    format!("{x:.2}x {name} {}", verdict(x <= 1.25))
                }
                _ => "".into(),
            };
            let vs_best_mem = match (
                idle,
                best(&|b| b.idle.as_ref().map(|i| i.bytes_per_connection), false),
            ) {
                (Some(a), Some((b, name))) if generated => {
                    format!("{:.2}x {name} ({:.1} KB)", a / b, b / 1024.0)
                }
                _ => "".into(),
            };
            let cpu = match (&r.closed, &r.open) {
                (Some(c), Some(o)) => format!(
                    "{} / {}",
                    c.server_cpu_cores
                        .map(|x| format!("{:.0}%", x * 100.0))
                        .unwrap_or("?".into()),
                    o.server_cpu_cores
                        .map(|x| format!("{:.0}%", x * 100.0))
                        .unwrap_or("?".into())
                ),
                _ => "".into(),
            };
            let (mem, target) = match &r.idle {
                Some(i) if generated => {
                    let t = memory_target(r.target.lang);
                    (
                        format!(
                            "{:.1} KB ({} conns)",
                            i.bytes_per_connection / 1024.0,
                            i.opened
                        ),
                        format!(
                            "<= {:.1} KB {}",
                            t / 1024.0,
                            verdict(i.bytes_per_connection <= t)
                        ),
                    )
                }
                Some(i) => (
                    format!(
                        "{:.1} KB ({} conns)",
                        i.bytes_per_connection / 1024.0,
                        i.opened
                    ),
                    "".into(),
                ),
                None => ("".into(), "".into()),
            };
            let mut checks = Vec::new();
            for l in [&r.closed, &r.open].into_iter().flatten() {
                if l.mismatches + l.errors + l.connection_failures + l.unanswered > 0 {
                    checks.push(format!(
                        "{} mism, {} err, {} conn fail, {} unanswered",
                        l.mismatches, l.errors, l.connection_failures, l.unanswered
                    ));
                }
            }
            if let Some(i) = &r.idle
                && i.failed > 0
            {
                checks.push(format!("{} idle conns failed", i.failed));
            }
            if let Some(e) = &r.error {
                checks.push(format!("error: {e}"));
            }
            let checks = if checks.is_empty() {
                "all echoes verified".to_string()
            } else {
                checks.join("; ")
            };
            // Under CPU contention throughput measures the machine as much as
            // the server; messages per CPU-second of the server is steadier.
            let per_cpu = r
                .closed
                .as_ref()
                .and_then(|c| {
                    c.server_cpu_cores
                        .filter(|x| *x > 0.0)
                        .map(|x| fmt_int((c.achieved_rate / x) as u64))
                })
                .unwrap_or_default();
            s.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                r.target.name,
                r.target.library,
                closed.map(|c| fmt_int(c as u64)).unwrap_or_default(),
                vs_same,
                vs_best_tp,
                per_cpu,
                r.open
                    .as_ref()
                    .map(|o| fmt_us(o.latency.p50_us))
                    .unwrap_or_default(),
                p99.map(fmt_us).unwrap_or_default(),
                vs_best_p99,
                cpu,
                mem,
                vs_best_mem,
                target,
                checks
            ));
        }
        s
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISS" }
}

/// A baseline's row name without its " (baseline)" suffix.
fn short_name(r: &Row) -> &str {
    r.target
        .name
        .split_whitespace()
        .next()
        .unwrap_or(&r.target.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::load::sample_report;

    fn row(
        name: &str,
        kind: &'static str,
        library: &str,
        rate: f64,
        p99_us: &[u64],
        idle_kb: f64,
    ) -> Row {
        let mut closed = sample_report("ws://127.0.0.1:1/", &[100]);
        closed.achieved_rate = rate;
        Row {
            target: Target {
                name: name.into(),
                language: "go".into(),
                kind,
                library: library.into(),
                lang: Language::Go,
                dir: PathBuf::new(),
                names: LangNames::default(),
                server: None,
            },
            idle: Some(IdleReport {
                target: 100,
                opened: 100,
                failed: 0,
                rss_before_kib: 0,
                rss_after_kib: 0,
                bytes_per_connection: idle_kb * 1024.0,
                connect_secs: 1.0,
                error_samples: vec![],
            }),
            closed: Some(closed),
            open: Some(sample_report("ws://127.0.0.1:1/", p99_us)),
            closed_rounds: vec![],
            open_rounds: vec![],
            chat: None,
            error: None,
        }
    }

    /// The generated server is held to the best baseline of its language
    /// per measure (issue 11): the fastest, the lowest p99, the leanest,
    /// each possibly a different library; "vs same library" beside it.
    #[test]
    fn the_table_compares_with_the_best_baseline_per_measure() {
        let report = SuiteReport {
            date: "d".into(),
            machine: "m".into(),
            load_before: "1".into(),
            load_after: "1".into(),
            settings: "s".into(),
            rows: vec![
                row(
                    "go (generated)",
                    "generated",
                    "github.com/coder/websocket",
                    9_000.0,
                    &[2_000],
                    12.0,
                ),
                row(
                    "go-coder (baseline)",
                    "baseline",
                    "github.com/coder/websocket v1",
                    9_500.0,
                    &[1_000],
                    20.0,
                ),
                row(
                    "go-gws (baseline)",
                    "baseline",
                    "github.com/lxzan/gws v1",
                    10_000.0,
                    &[3_000],
                    8.0,
                ),
            ],
        };
        let table = report.render();
        let generated = table
            .lines()
            .find(|l| l.starts_with("| go (generated)"))
            .unwrap();
        let cells: Vec<&str> = generated.split(" | ").collect();
        assert_eq!(cells[3], "95%", "{generated}");
        assert_eq!(cells[4], "90% of go-gws MISS", "{generated}");
        assert_eq!(cells[8], "2.00x go-coder MISS", "{generated}");
        assert_eq!(cells[11], "1.50x go-gws (8.0 KB)", "{generated}");
        assert_eq!(cells[12], "<= 10.0 KB MISS", "{generated}");
        let baseline = table.lines().find(|l| l.starts_with("| go-gws")).unwrap();
        assert!(
            !baseline.contains("ok") && !baseline.contains("MISS"),
            "{baseline}"
        );
    }

    /// Every baseline names what its build plan needs: Rust the package
    /// (its binary, as in its Cargo.toml), Python its module.
    #[test]
    fn baselines_name_what_their_build_plan_needs() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/baselines");
        let mut seen = 0;
        for e in std::fs::read_dir(&root).unwrap().flatten() {
            let (_, library, names) = read_baseline(&e.path())
                .unwrap_or_else(|| panic!("{}: no valid baseline.txt", e.path().display()));
            assert!(!library.is_empty(), "{}", e.path().display());
            let manifest = std::fs::read_to_string(e.path().join("Cargo.toml")).ok();
            assert_eq!(
                manifest.is_some(),
                names.package.is_some(),
                "{}: a Cargo project names its package in baseline.txt",
                e.path().display()
            );
            if let (Some(manifest), Some(package)) = (manifest, &names.package) {
                assert!(
                    manifest.contains(&format!("[package]\nname = \"{package}\"")),
                    "{}: package {package} is not the Cargo.toml's",
                    e.path().display()
                );
            }
            if let Some(module) = &names.module {
                assert!(e.path().join(module).is_dir(), "{}", e.path().display());
            }
            seen += 1;
        }
        assert!(seen >= 4, "baselines in {}", root.display());
    }
}
