//! `wsgen conformance --url ws://...`: the Autobahn-class server suite.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::exit;
use wsgen::conformance::{Scale, Suite, SuiteOptions, Verdict, default_jobs};

#[derive(Debug, Args)]
pub struct ConformanceArgs {
    /// Server to test: ws://HOST:PORT/PATH or wss://HOST:PORT/PATH.
    #[arg(long)]
    pub url: String,
    #[command(flatten)]
    pub client: super::client::ClientArgs,
    /// Cases to run, comma-separated patterns (1.*, 6.4.*, 7.1.1, h.*). Default: all.
    #[arg(long, value_delimiter = ',')]
    pub cases: Vec<String>,
    /// Cases to skip, same patterns.
    #[arg(long, value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Cases running at once, each on its own connection [default: 8 x cores, 8..64].
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Write a self-contained HTML report here.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Write the results as JSON here.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Autobahn's 1000 messages in every 12.* and 13.* case (minutes); everything
    /// else, category 9 included, is at Autobahn's sizes and counts in every run.
    #[arg(long)]
    pub full: bool,
    /// Seconds allowed for each TCP connect plus handshake.
    #[arg(long, default_value_t = 5)]
    pub connect_timeout: u64,
}

pub fn run(args: ConformanceArgs) -> i32 {
    let scale = if args.full { Scale::Full } else { Scale::Quick };
    let suite = match Suite::new(scale).select(&args.cases, &args.exclude) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    if suite.cases.is_empty() {
        eprintln!("error: no case selected");
        return exit::USAGE;
    }
    let jobs = args.jobs.unwrap_or_else(default_jobs);
    if jobs == 0 {
        eprintln!("error: --jobs must be at least 1");
        return exit::USAGE;
    }
    let side = match args.client.resolve(&args.url) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let opts = SuiteOptions {
        jobs,
        headers: side.headers,
        tls: side.tls,
        connect_timeout: std::time::Duration::from_secs(args.connect_timeout),
        ..Default::default()
    };
    let pb = ProgressBar::new(suite.cases.len() as u64);
    if std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::stderr());
        pb.set_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} cases  {elapsed}  {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
    } else {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit::ENVIRONMENT;
        }
    };
    let bar = pb.clone();
    let fails = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let f2 = fails.clone();
    let result = rt.block_on(suite.run(&args.url, &opts, move |r| {
        if r.verdict == Verdict::Fail {
            let n = f2.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            bar.set_message(format!("{n} FAIL"));
        }
        bar.inc(1);
    }));
    pb.finish_and_clear();
    let report = match result {
        Ok(r) => r,
        Err(e) if e.is_unreachable() => {
            eprintln!("error: {e}; is the server running? (`wsgen run` starts one)");
            return exit::ENVIRONMENT;
        }
        Err(e @ wsgen::wire::WireError::Tls(_)) => {
            eprintln!(
                "error: {e}\n  hint: --ca FILE trusts a private CA; --insecure skips the check"
            );
            return exit::ENVIRONMENT;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    print!("{}", report.text());
    if let Some(p) = &args.json {
        if let Err(e) = std::fs::write(p, report.json()) {
            eprintln!("error: cannot write {}: {e}", p.display());
            return exit::ENVIRONMENT;
        }
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = &args.report {
        if let Err(e) = std::fs::write(p, report.html()) {
            eprintln!("error: cannot write {}: {e}", p.display());
            return exit::ENVIRONMENT;
        }
        eprintln!("wrote {}", p.display());
    }
    if report.count(Verdict::Fail) > 0 {
        exit::FAILED
    } else {
        exit::OK
    }
}
