//! `wsgen run --spec FILE --language L [--port P]`: generate into a cache
//! folder keyed by spec and language, install, build, and run the server in
//! the foreground, streaming its log and forwarding Ctrl-C and SIGTERM.

use super::exit;
use super::generate::parse_one;
use clap::Args;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use wsgen::emit::{self, TemplateSet};
use wsgen::ir::Overrides;
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
    /// Port to listen on (sets PORT for the server).
    #[arg(long)]
    port: Option<u16>,
    /// Server type when no spec is given (echo or chat).
    #[arg(long = "type", value_name = "TYPE")]
    kind: Option<String>,
    /// Build Rust in debug mode instead of release.
    #[arg(long)]
    debug: bool,
    /// Print the build commands.
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
    let files = match emit::generate(&server, lang, &TemplateSet::embedded()) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    // Cache key: the generated files themselves, so a changed spec or a new
    // wsgen version gets a fresh folder and an unchanged one reuses its build.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in &files {
        f.path.hash(&mut h);
        f.contents.hash(&mut h);
    }
    let cache = runner::default_cache_dir();
    let dir = cache
        .join("projects")
        .join(format!("{}-{}-{:016x}", server.slug, lang, h.finish()));
    if !dir.join(".wsgen-build").exists()
        && let Err(e) = emit::write(&dir, &files, true)
    {
        eprintln!("error: {e}");
        return exit::ENVIRONMENT;
    }
    let opts = BuildOptions {
        cargo_target_dir: cache.join("cargo-target"),
        release: !args.debug,
        verbose: args.verbose,
        cache_dir: cache.clone(),
    };
    eprintln!(
        "wsgen: preparing {} ({lang}) in {}",
        server.name.escape_debug(),
        dir.display()
    );
    let launch = match runner::prepare_project(&server, lang, &dir, &opts) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::ENVIRONMENT;
        }
    };
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
    forward_signals(child.id() as i32);
    match child.wait() {
        Ok(status) => status.code().unwrap_or(0),
        Err(e) => {
            eprintln!("error: {e}");
            exit::ENVIRONMENT
        }
    }
}

/// Forward SIGINT and SIGTERM to the server, which shuts down gracefully;
/// wsgen exits with the server's status.
fn forward_signals(pid: i32) {
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
                unsafe {
                    libc::kill(pid, sig);
                }
            }
        });
    });
}
