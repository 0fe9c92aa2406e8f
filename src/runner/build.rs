//! Install and build a project by running its language driver's plan
//! (`LanguageDriver::build_plan`), and say how to start it. A stamp file
//! keyed by the project's contents skips work that is already done.

use super::process::Launch;
use super::toolchain;
use crate::lang::{BuildPlan, Cmd, LangNames, Language, STAGING, Step};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Build settings shared by every project of a run.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// Shared target folder for generated Rust projects.
    pub cargo_target_dir: PathBuf,
    /// Build Rust in release mode (benchmarks, `wsgen run`).
    pub release: bool,
    /// Print each command before running it.
    pub verbose: bool,
    /// Where shared installs live (Python virtual environments per
    /// dependency set).
    pub cache_dir: PathBuf,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            cargo_target_dir: default_cache_dir().join("cargo-target"),
            release: false,
            verbose: false,
            cache_dir: default_cache_dir(),
        }
    }
}

/// `$WSGEN_CACHE_DIR`, else `$XDG_CACHE_HOME/wsgen`, else `~/.cache/wsgen`.
pub fn default_cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("WSGEN_CACHE_DIR") {
        return PathBuf::from(d);
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return PathBuf::from(d).join("wsgen");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    home.join(".cache").join("wsgen")
}

/// Install dependencies and build `dir` (a `lang` project with these
/// `names`) by running the driver's plan, returning how to start it.
pub fn prepare(
    lang: Language,
    dir: &Path,
    names: &LangNames,
    opts: &BuildOptions,
) -> Result<Launch, String> {
    toolchain::check(lang)?;
    run_plan(dir, lang.driver().build_plan(dir, names, opts), opts)
}

/// Run the steps of `plan` in `dir` (skipping what the stamp says is
/// built), returning how to start what they built. The project form's plans
/// ([`prepare`]) and the single-file form's (`crate::single::prepare`) both
/// run here.
pub fn run_plan(dir: &Path, plan: BuildPlan, opts: &BuildOptions) -> Result<Launch, String> {
    let stamp = dir.join(".wsgen-build");
    let key = format!("{:x}-{}", tree_hash(dir), opts.release);
    let fresh = std::fs::read_to_string(&stamp).ok().as_deref() == Some(key.as_str());
    for step in &plan.steps {
        execute(dir, step, fresh, opts)?;
    }
    let _ = std::fs::write(&stamp, key);
    Ok(plan.launch)
}

/// Run one step of a plan in the project folder `dir`.
fn execute(dir: &Path, step: &Step, fresh: bool, opts: &BuildOptions) -> Result<(), String> {
    match step {
        Step::Run { cmd, skip_if_built } => {
            if fresh && skip_if_built.as_ref().is_some_and(|p| p.exists()) {
                return Ok(());
            }
            run_cmd(dir, cmd, opts)
        }
        Step::Init { cmd, creates } => {
            if creates.exists() {
                return Ok(());
            }
            run_cmd(dir, cmd, opts)
        }
        Step::CreateOnce { dir: shared, cmds } => {
            if shared.exists() {
                return Ok(());
            }
            // Build in a private folder and rename, so concurrent runs never
            // see a half-made one.
            let tmp = shared.with_extension(format!("tmp-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&tmp);
            if let Some(parent) = tmp.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            let staging = tmp.to_str().ok_or("non-UTF-8 cache folder")?;
            for cmd in cmds {
                let cmd = Cmd {
                    program: cmd.program.replace(STAGING, staging),
                    args: cmd
                        .args
                        .iter()
                        .map(|a| a.replace(STAGING, staging))
                        .collect(),
                    env: cmd.env.clone(),
                };
                run_cmd(dir, &cmd, opts)?;
            }
            if std::fs::rename(&tmp, shared).is_err() {
                let _ = std::fs::remove_dir_all(&tmp);
            }
            Ok(())
        }
        Step::Copy { from, to } => {
            if let Some(parent) = to.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            std::fs::copy(from, to)
                .map(|_| ())
                .map_err(|e| format!("copying {}: {e}", from.display()))
        }
    }
}

fn run_cmd(dir: &Path, cmd: &Cmd, opts: &BuildOptions) -> Result<(), String> {
    let args: Vec<&str> = cmd.args.iter().map(String::as_str).collect();
    let env: Vec<(&str, &str)> = cmd
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    run(dir, &cmd.program, &args, &env, opts)
}

/// Run a build command, returning its output in the error on failure.
pub fn run(
    dir: &Path,
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
    opts: &BuildOptions,
) -> Result<(), String> {
    if opts.verbose {
        eprintln!("  $ {program} {}", args.join(" "));
    }
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .output()
        .map_err(|e| format!("cannot run `{program}`: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{program} {}` failed in {} ({}):\n{}{}",
            args.join(" "),
            dir.display(),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A hash of the generated files (not of installed dependencies or builds).
fn tree_hash(dir: &Path) -> u64 {
    let mut files = Vec::new();
    collect(dir, dir, &mut files);
    files.sort();
    let mut h = DefaultHasher::new();
    for (rel, bytes) in files {
        rel.hash(&mut h);
        bytes.hash(&mut h);
    }
    h.finish()
}

const SKIP: &[&str] = &[
    "node_modules",
    ".venv",
    "target",
    ".wsgen",
    "__pycache__",
    ".pytest_cache",
    ".git",
];

fn collect(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if p.is_dir() {
            if !SKIP.contains(&name.as_str()) && !name.ends_with(".egg-info") {
                collect(root, &p, out);
            }
        } else if name != ".wsgen-build" && name != "package-lock.json" {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.push((rel, std::fs::read(&p).unwrap_or_default()));
        }
    }
}
