//! `wsgen bench`: load against one server (`--url`), chat fan-out
//! (`--url ... --chat`), or the comparison of every generated server with its
//! hand-written baselines (`--spec FILE --language all`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::exit;
use super::generate::{Targets, parse_targets};
use wsgen::bench::chat::{self, ChatConfig};
use wsgen::bench::report as html;
use wsgen::bench::suite::{self, SuiteConfig};
use wsgen::bench::{LoadConfig, load, parse_duration, sys};
use wsgen::lang::Language;

#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  wsgen bench --url ws://127.0.0.1:8080/ws --connections 1000 --rate 100 --duration 60s
  wsgen bench --url ws://127.0.0.1:8080/ws --connections 50 --rate 0 --duration 10s --json out.json
  wsgen bench --url ws://127.0.0.1:8080/ws --chat --connections 1000 --senders 4 --rate 10
  wsgen bench --url wss://127.0.0.1:8443/ws --ca ca.pem --token $JWT --connections 50 --rate 0
  wsgen bench --url wss://127.0.0.1:8443/ws --ca ca.pem --token $JWT --handshakes -c 8 -d 10s
  wsgen bench --spec specs/echo.yaml --language all
  wsgen bench --url ws://127.0.0.1:8080/ws --connections 100 --rate 100 --duration 30s --report run.html

Open loop (--rate R > 0): every connection sends R messages/s on a fixed
schedule and latency is measured from each message's intended send time
(coordinated omission corrected). Closed loop (--rate 0): send, await the
echo, repeat. Every echo is checked (sequence number + checksum).
Exit status 1 when any message was lost, corrupted or a connection failed.")]
pub struct BenchArgs {
    /// The server to load: ws://HOST:PORT/PATH.
    #[arg(long, conflicts_with = "spec")]
    url: Option<String>,
    #[command(flatten)]
    client: super::client::ClientArgs,
    /// Benchmark every generated server of this spec against the baselines.
    #[arg(long, short = 's', value_name = "FILE")]
    spec: Option<PathBuf>,
    #[arg(long, short = 'l', value_name = "LANG", value_parser = parse_targets, default_value = "all",
          help = format!("With --spec: {}", Language::choices(true)))]
    language: Targets,
    /// Connections (chat: room members).
    #[arg(long, short = 'c', default_value_t = 10)]
    connections: usize,
    /// Messages per second per connection (chat: per sender); 0 = closed loop.
    #[arg(
        long,
        short = 'r',
        alias = "messages-per-second",
        default_value_t = 0.0
    )]
    rate: f64,
    /// Measurement time: 60s, 2m, 500ms.
    #[arg(long, short = 'd', default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Payload size in octets (at least 24: sequence number + checksum).
    #[arg(long, default_value_t = 64)]
    size: usize,
    /// Send binary messages instead of text.
    #[arg(long)]
    binary: bool,
    /// Open the connections evenly over this time before measuring.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    ramp: Duration,
    /// Write the report as JSON to this file (`-` for stdout).
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write a self-contained HTML report (settings, results, latency
    /// percentile plot, throughput over time) to this file.
    #[arg(long, value_name = "FILE.html")]
    report: Option<PathBuf>,
    /// Worker threads of the load generator.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// Wait this long for outstanding echoes after the window closes.
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    drain: Duration,
    /// The server's pid, for its CPU use (found from the port for local servers).
    #[arg(long)]
    server_pid: Option<i32>,
    /// No live progress line.
    #[arg(long, short = 'q')]
    quiet: bool,
    /// Chat fan-out over chat-v1: all connections join one room, --senders of them send.
    #[arg(long, conflicts_with = "handshakes")]
    chat: bool,
    /// Handshake rate: --connections workers loop connect (TLS for wss://),
    /// upgrade (with --header/--token), close, for --duration.
    #[arg(long)]
    handshakes: bool,
    /// Chat: how many members send.
    #[arg(long, default_value_t = 4)]
    senders: usize,
    /// Chat: the room (`main` works whether or not the spec has rooms).
    #[arg(long, default_value = "main")]
    room: String,
    /// With --spec: idle connections for memory per connection (0 skips).
    #[arg(long, default_value_t = 10_000)]
    idle_connections: usize,
    /// With --spec: connections of the closed-loop run.
    #[arg(long, default_value_t = 50)]
    closed_connections: usize,
    /// With --spec: connections and per-connection rate of the open-loop run.
    #[arg(long, default_value_t = 100)]
    open_connections: usize,
    #[arg(long, default_value_t = 100.0)]
    open_rate: f64,
    /// With --spec: rounds per server (alternating between servers; medians reported).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// With --spec: folder of hand-written baselines.
    #[arg(long, default_value = "bench/baselines")]
    baselines: PathBuf,
    /// With --spec: skip the baselines.
    #[arg(long)]
    no_baselines: bool,
    /// With --spec: only targets whose name starts with one of these (e.g. `go`, `rust-fastwebsockets`).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Print build commands.
    #[arg(long, short = 'v')]
    verbose: bool,
}

pub fn run(args: BenchArgs) -> i32 {
    // One thread: a current-thread runtime (no work-stealing, no cross-thread
    // wake-ups); more: a multi-thread runtime with that many workers.
    let builder = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(args.threads);
        b
    };
    let rt = match { builder }.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::ENVIRONMENT;
        }
    };
    sys::raise_nofile();
    if args.size < wsgen::bench::payload::MIN_SIZE {
        eprintln!(
            "note: --size {} raised to {} (sequence number + checksum)",
            args.size,
            wsgen::bench::payload::MIN_SIZE
        );
    }
    if let Some(url) = args.url.clone() {
        let side = match args.client.resolve(&url) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        };
        if side.tls.is_some() && args.chat {
            eprintln!("error: {}", wsgen::bench::client::not_over_tls());
            return exit::USAGE;
        }
        if args.handshakes {
            return run_handshakes(&args, url, side, &rt);
        }
        if args.chat {
            return run_chat(&args, url, side.headers, &rt);
        }
        let cfg = LoadConfig {
            url,
            headers: side.headers,
            connections: args.connections,
            rate: args.rate,
            duration: args.duration,
            size: args.size,
            binary: args.binary,
            ramp: args.ramp,
            drain: args.drain,
            progress: !args.quiet,
            server_pid: args.server_pid,
            threads: args.threads.max(1),
            tls: side.tls,
            ..Default::default()
        };
        let report = match rt.block_on(load::run(&cfg)) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        };
        print!("{}", report.render());
        if let Err(code) = write_json(&args.json, &report) {
            return code;
        }
        if let Err(code) = write_html(&args.report, || html::load_html(&report)) {
            return code;
        }
        let bad =
            report.mismatches + report.errors + report.connection_failures + report.unanswered;
        return if bad > 0 { exit::FAILED } else { exit::OK };
    }
    if args.spec.is_none() {
        eprintln!(
            "error: give --url ws://... to load one server, or --spec FILE to benchmark the generated servers"
        );
        return exit::USAGE;
    }
    let cfg = SuiteConfig {
        spec: args.spec.clone(),
        languages: args.language.0.clone(),
        baselines: (!args.no_baselines).then(|| args.baselines.clone()),
        only: args.only.clone(),
        closed_connections: args.closed_connections,
        open_connections: args.open_connections,
        open_rate: args.open_rate,
        duration: args.duration,
        size: args.size,
        idle_connections: args.idle_connections,
        threads: args.threads.max(1),
        rounds: args.rounds,
        chat_members: args.connections.max(args.senders),
        chat_senders: args.senders,
        chat_rate: if args.rate > 0.0 { args.rate } else { 10.0 },
        verbose: args.verbose,
    };
    match suite::run(&cfg, &rt) {
        Ok(report) => {
            println!();
            print!("{}", report.render());
            if let Err(code) = write_json(&args.json, &report) {
                return code;
            }
            if let Err(code) = write_html(&args.report, || html::suite_html(&report)) {
                return code;
            }
            if report.rows.iter().any(|r| r.error.is_some()) {
                exit::FAILED
            } else {
                exit::OK
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            exit::ENVIRONMENT
        }
    }
}

fn run_handshakes(
    args: &BenchArgs,
    url: String,
    side: super::client::Resolved,
    rt: &tokio::runtime::Runtime,
) -> i32 {
    let cfg = wsgen::bench::handshake::HandshakeConfig {
        url,
        headers: side.headers,
        tls: side.tls,
        workers: args.connections,
        duration: args.duration,
        timeout: Duration::from_secs(10),
        server_pid: args.server_pid,
    };
    let report = match rt.block_on(wsgen::bench::handshake::run(&cfg)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    print!("{}", report.render());
    if let Err(code) = write_json(&args.json, &report) {
        return code;
    }
    if report.failures > 0 || report.completed == 0 {
        exit::FAILED
    } else {
        exit::OK
    }
}

fn run_chat(
    args: &BenchArgs,
    url: String,
    headers: Vec<(String, String)>,
    rt: &tokio::runtime::Runtime,
) -> i32 {
    let cfg = ChatConfig {
        headers,
        url,
        room: args.room.clone(),
        members: args.connections,
        senders: args.senders,
        rate: if args.rate > 0.0 { args.rate } else { 10.0 },
        duration: args.duration,
        size: args.size,
        drain: args.drain,
        progress: !args.quiet,
        server_pid: args.server_pid,
        threads: args.threads.max(1),
        ..Default::default()
    };
    let report = match rt.block_on(chat::run(&cfg)) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    print!("{}", report.render());
    if let Err(code) = write_json(&args.json, &report) {
        return code;
    }
    if let Err(code) = write_html(&args.report, || html::chat_html(&report)) {
        return code;
    }
    if report.lost + report.mismatches + report.errors + report.join_failures > 0 {
        exit::FAILED
    } else {
        exit::OK
    }
}

fn write_json<T: serde::Serialize>(path: &Option<PathBuf>, v: &T) -> Result<(), i32> {
    let Some(p) = path else { return Ok(()) };
    let text = serde_json::to_string_pretty(v).expect("report serializes");
    if p.as_os_str() == "-" {
        println!("{text}");
        return Ok(());
    }
    std::fs::write(p, text + "\n").map_err(|e| {
        eprintln!("error: writing {}: {e}", p.display());
        exit::ENVIRONMENT
    })
}

fn write_html(path: &Option<PathBuf>, page: impl FnOnce() -> String) -> Result<(), i32> {
    let Some(p) = path else { return Ok(()) };
    std::fs::write(p, page()).map_err(|e| {
        eprintln!("error: writing {}: {e}", p.display());
        exit::ENVIRONMENT
    })?;
    eprintln!("report: {}", p.display());
    Ok(())
}
