//! `wsgen run --spec FILE --language L [--port P]`: generate into a cache
//! folder keyed by spec and language, install, build, and run the server in
//! the foreground, streaming its log and forwarding Ctrl-C and SIGTERM.
//! A chat spec with `backplane: redis` runs as a cluster (`--instances N`,
//! default 1) against one Redis: see [`super::cluster`].

use super::generate::parse_one;
use super::{cluster, exit};
use clap::Args;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wsgen::emit::{self, TemplateSet};
use wsgen::ir::{Backplane, Overrides, ServerKind};
use wsgen::lang::Language;
use wsgen::runner::{self, BuildOptions};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The spec file (YAML or JSON).
    #[arg(long, short = 's', value_name = "FILE")]
    spec: Option<PathBuf>,
    #[arg(long, short = 'l', value_name = "LANG", value_parser = parse_one,
          help = format!("The language (one server): {}", Language::choices(false)))]
    language: Language,
    /// Port to listen on (sets PORT for the server); with --instances, the first of consecutive ports.
    #[arg(long)]
    port: Option<u16>,
    /// Boot N instances of a `backplane: redis` chat spec on consecutive ports, sharing one Redis
    /// (WS_REDIS_URL, else a private redis-server started for the run).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1000))]
    instances: Option<u16>,
    /// Server type when no spec is given (echo or chat).
    #[arg(long = "type", value_name = "TYPE")]
    kind: Option<String>,
    /// Build Rust in debug mode instead of release.
    #[arg(long)]
    debug: bool,
    /// Show the build as it runs: each command and its output (otherwise in .wsgen/build.log).
    #[arg(long, short = 'v')]
    verbose: bool,
}

pub fn run(args: RunArgs) -> i32 {
    let lang = args.language;
    let mut overrides = Overrides::default();
    if let Some(kind) = &args.kind {
        overrides.set("type", wsgen::spec::Value::Str(kind.clone()));
    }
    let server = match wsgen::pipeline::load_server(args.spec.as_deref(), &overrides) {
        Ok(s) => s,
        Err(e) => {
            eprint!("{}", e.render());
            return exit::USAGE;
        }
    };
    let cluster = server
        .chat
        .as_ref()
        .is_some_and(|c| c.backplane == Backplane::Redis);
    if args.instances.is_some() && !cluster {
        eprintln!("{}", cluster::needs_backplane(&server));
        return exit::USAGE;
    }
    // Where Redis comes from, before a long build: fail now when there is none.
    let redis = if cluster {
        match cluster::plan_redis() {
            Ok(plan) => Some(plan),
            Err(e) => {
                eprintln!("{e}");
                return exit::ENVIRONMENT;
            }
        }
    } else {
        None
    };
    let files = match emit::generate(&server, lang, &TemplateSet::embedded()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let cache = runner::default_cache_dir();
    let dir = match runner::cached_project(&server, lang, &files) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ENVIRONMENT;
        }
    };
    // The port the server will listen on: --port, else $PORT, else the spec's.
    let port = args
        .port
        .or_else(|| std::env::var("PORT").ok()?.parse().ok())
        .unwrap_or(server.port);
    let ports = match cluster::ports(port, args.instances.unwrap_or(1)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return exit::USAGE;
        }
    };
    if let Err(e) = ports_free(&ports) {
        eprintln!("{e}");
        return exit::ENVIRONMENT;
    }
    let opts = BuildOptions {
        cargo_target_dir: cache.join("cargo-target"),
        release: !args.debug,
        verbose: args.verbose,
        cache_dir: cache.clone(),
        build_cache: None,
    };
    eprintln!(
        "wsgen: preparing {} ({lang}) in {}",
        server.name.escape_debug(),
        dir.display()
    );
    runner::show_progress(true);
    let launch = match runner::prepare_project(&server, lang, &dir, &opts) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ENVIRONMENT;
        }
    };
    let log = runner::build_log(&dir);
    if log.exists() && !args.verbose {
        eprintln!(
            "wsgen: build log in {} (-v shows the build as it runs)",
            log.display()
        );
    }
    // The build took time: a port may have been taken meanwhile.
    if let Err(e) = ports_free(&ports) {
        eprintln!("{e}");
        return exit::ENVIRONMENT;
    }
    if let Some(plan) = redis {
        return cluster::run(&server, &launch, &ports, plan);
    }
    let mut cmd = Command::new(&launch.program);
    cmd.args(&launch.args)
        .current_dir(&launch.dir)
        .envs(launch.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null());
    if let Some(p) = args.port {
        cmd.env("PORT", p.to_string());
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot start {}: {e}", launch.program.display());
            return exit::ENVIRONMENT;
        }
    };
    forward_signals(
        Arc::new(Mutex::new(vec![child.id() as i32])),
        Arc::new(AtomicBool::new(false)),
    );
    let ready = announce_when_ready(port, &server);
    let status = child.wait();
    let was_ready = ready.load(Ordering::Relaxed);
    ready.store(true, Ordering::Relaxed); // stop the watcher
    match status {
        Ok(status) if !was_ready && !status.success() => {
            // It never came up: that is the environment (exit 3), whatever
            // the server's own status was (its log above says why).
            eprintln!(
                "error: the server exited during start-up ({status}); if port {port} is taken, pick another with --port"
            );
            exit::ENVIRONMENT
        }
        Ok(status) => status.code().unwrap_or(0),
        Err(e) => {
            eprintln!("error: {e}");
            exit::ENVIRONMENT
        }
    }
}

/// [`port_free`] for each port.
fn ports_free(ports: &[u16]) -> Result<(), String> {
    ports.iter().try_for_each(|p| port_free(*p))
}

/// Fail with a hint when something already listens on `port` (on the
/// address the server binds: `$HOST`, else all interfaces).
fn port_free(port: u16) -> Result<(), String> {
    let host = std::env::var("HOST").unwrap_or_else(|_| "0.0.0.0".into());
    match TcpListener::bind((host.as_str(), port)) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let other = runner::free_port()
                .map(|p| format!(", e.g. `--port {p}`"))
                .unwrap_or_default();
            Err(format!(
                "error: port {port} is already in use (another server listens on it); pick another with --port{other}"
            ))
        }
        // Anything else (no such address...) is left to the server to report.
        Err(_) => Ok(()),
    }
}

/// Watch `GET /healthz` in the background and print, once the server
/// answers, where to connect and how to try it. The returned flag is set
/// once it was ready (and by the caller to stop the watcher).
fn announce_when_ready(port: u16, server: &wsgen::ir::Server) -> Arc<AtomicBool> {
    let ready = Arc::new(AtomicBool::new(false));
    let flag = ready.clone();
    let lines = ready_lines(port, server);
    std::thread::spawn(move || {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + runner::START_TIMEOUT;
        while !flag.load(Ordering::Relaxed) {
            if runner::http_get(addr, "/healthz", Duration::from_secs(2))
                .is_ok_and(|r| r.status == 200)
            {
                if !flag.swap(true, Ordering::Relaxed) {
                    eprint!("{lines}");
                }
                return;
            }
            if Instant::now() > deadline {
                eprintln!(
                    "wsgen: the server has not answered GET /healthz on port {port} after {} s",
                    runner::START_TIMEOUT.as_secs()
                );
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    ready
}

/// `ready: ws://localhost:PORT/PATH`, a client to try it with, and the chat
/// page for chat servers.
fn ready_lines(port: u16, server: &wsgen::ir::Server) -> String {
    let host = wsgen::contract::CONTRACT.connect_host;
    let url = format!("ws://{host}:{port}{}", server.path);
    // Offer the spec's first subprotocol, as its clients would (an MCP
    // client offers `mcp`; `requireSubprotocol` refuses a handshake without).
    let (wscat, websocat) = match server.subprotocols.first() {
        Some(p) => (format!("-s {p} "), format!("--protocol {p} ")),
        None => (String::new(), String::new()),
    };
    let mut s = format!(
        "ready: {url}\ntry:   npx wscat {wscat}-c {url}   (or: websocat {websocat}{url})\n"
    );
    match server.kind {
        ServerKind::Chat => s.push_str(&format!("page:  http://{host}:{port}/\n")),
        ServerKind::Mcp => s.push_str(&format!("check: wsgen test --url {url} --mcp\n")),
        ServerKind::Session => s.push_str(&format!("check: wsgen test --url {url} --session\n")),
        ServerKind::Echo => {}
    }
    s.push_str("stop:  Ctrl-C\n");
    s
}

/// Forward SIGINT and SIGTERM to the servers (`pids`, as they are when the
/// signal comes), which shut down gracefully; `stopping` is set first.
/// wsgen exits with the servers' status.
pub(super) fn forward_signals(pids: Arc<Mutex<Vec<i32>>>, stopping: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        rt.block_on(async move {
            use tokio::signal::unix::{SignalKind, signal};
            let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else {
                return;
            };
            loop {
                let sig = tokio::select! { _ = int.recv() => libc::SIGINT, _ = term.recv() => libc::SIGTERM };
                stopping.store(true, Ordering::Relaxed);
                for pid in pids.lock().map(|p| p.clone()).unwrap_or_default() {
                    unsafe {
                        libc::kill(pid, sig);
                    }
                }
            }
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ready_lines_say_where_to_connect() {
        let echo = wsgen::pipeline::server_from_str("e.yaml", "path: /ws\n").unwrap();
        let t = ready_lines(9001, &echo);
        assert!(t.starts_with("ready: ws://localhost:9001/ws\n"), "{t}");
        assert!(t.contains("npx wscat -c ws://localhost:9001/ws"), "{t}");
        assert!(!t.contains("http://"), "{t}");
        let chat = wsgen::pipeline::server_from_str("c.yaml", "type: chat\n").unwrap();
        assert!(ready_lines(9002, &chat).contains("page:  http://localhost:9002/\n"));
        let mcp =
            wsgen::pipeline::server_from_str("m.yaml", "type: mcp\nmcp: {command: [x]}\n").unwrap();
        let t = ready_lines(9003, &mcp);
        assert!(
            t.contains("npx wscat -s mcp -c ws://localhost:9003/"),
            "{t}"
        );
        assert!(t.contains("websocat --protocol mcp ws://"), "{t}");
        assert!(
            t.contains("wsgen test --url ws://localhost:9003/ --mcp"),
            "{t}"
        );
    }

    #[test]
    fn a_taken_port_is_refused_with_a_hint() {
        let taken = TcpListener::bind("0.0.0.0:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let e = port_free(port).unwrap_err();
        assert!(e.contains(&format!("port {port} is already in use")), "{e}");
        assert!(e.contains("--port"), "{e}");
        drop(taken);
        port_free(port).unwrap();
    }
}
