//! The runner: per language, install and build as its driver's plan says
//! (`LanguageDriver::build_plan`), start on a free port on 127.0.0.1, wait
//! for `GET /healthz`, collect logs, and stop. Processes are
//! always cleaned up: on drop, on panic and on Ctrl-C.

pub mod build;
pub mod process;
pub mod redis;
pub mod toolchain;

pub use build::{
    BuildOptions, build_log, cached_project, default_cache_dir, prepare, prepare_client,
    show_progress,
};
pub use process::{
    HttpReply, Launch, ServerProcess, free_port, http_get, http_get_with, kill_on_interrupt,
};

use crate::ir::Server;
use crate::lang::Language;
use std::path::Path;
use std::time::Duration;

/// How long a server may take to answer `/healthz` after it is started.
pub const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Prepare (install + build) a generated project for `server`/`lang` in `dir`.
pub fn prepare_project(
    server: &Server,
    lang: Language,
    dir: &Path,
    opts: &BuildOptions,
) -> Result<Launch, String> {
    prepare(lang, dir, &lang.names(server), opts)
}

/// Prepare (install + build) the client library of `server`/`lang`
/// generated in `dir`; the launch runs its `tail` example.
pub fn prepare_client_project(
    server: &Server,
    lang: Language,
    dir: &Path,
    opts: &BuildOptions,
) -> Result<Launch, String> {
    prepare_client(lang, dir, &lang.client_names(server), opts)
}

/// Start a prepared project on a free port with extra environment variables
/// and wait until it is ready.
pub fn boot(
    launch: &Launch,
    env: &[(String, String)],
    log_dir: &Path,
    label: &str,
) -> Result<ServerProcess, String> {
    let mut launch = launch.clone();
    launch.env.extend(env.iter().cloned());
    let mut last_err = String::new();
    // A free port can be taken between probing and binding: retry a few times.
    for attempt in 0..3 {
        let port = free_port().map_err(|e| format!("no free port: {e}"))?;
        let log = log_dir.join(format!("{label}-{attempt}.log"));
        let mut server = ServerProcess::start(&launch, port, &log)?;
        match server.wait_ready(START_TIMEOUT) {
            Ok(()) => return Ok(server),
            Err(e) if e.contains("address already in use") || e.contains("EADDRINUSE") => {
                last_err = e
            }
            Err(e) => return Err(e),
        }
    }
    Err(last_err)
}
