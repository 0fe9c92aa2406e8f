//! Install and build a project by running its language driver's plan
//! (`LanguageDriver::build_plan`), and say how to start it. A stamp file
//! keyed by the project's contents skips work that is already done.

use super::process::Launch;
use super::toolchain;
use crate::lang::{BuildPlan, Cmd, LangNames, Language, STAGING, Step};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

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
    /// When set, projects are not built where they were generated but in a
    /// folder of this one named after a hash of their files and their plan,
    /// and launched from there: the same project prepared again (by another
    /// test, another test binary of the same `cargo test`, another spec
    /// run) reuses that build. Concurrent preparations of one project take
    /// turns on a lock file; the second finds it built.
    pub build_cache: Option<PathBuf>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions {
            cargo_target_dir: default_cache_dir().join("cargo-target"),
            release: false,
            verbose: false,
            cache_dir: default_cache_dir(),
            build_cache: None,
        }
    }
}

/// `$WSGEN_CACHE_DIR`, else `$XDG_CACHE_HOME/wsgen`, else `~/.cache/wsgen`.
/// Write `files` into the cache, in a folder named after the server, the
/// language and a hash of the files themselves: a changed spec or a new wsgen
/// version gets a fresh folder, an unchanged one reuses its build (`wsgen
/// run`, `wsgen bench --spec`). Returns the folder.
pub fn cached_project(
    server: &crate::ir::Server,
    lang: Language,
    files: &[crate::emit::GeneratedFile],
) -> Result<PathBuf, String> {
    let mut h = DefaultHasher::new();
    for f in files {
        f.path.hash(&mut h);
        f.contents.hash(&mut h);
    }
    let dir = default_cache_dir().join("projects").join(format!(
        "{}-{}-{:016x}",
        server.slug,
        lang,
        h.finish()
    ));
    if !dir.join(".wsgen-build").exists() {
        crate::emit::write::write(&dir, files, None, lang, crate::emit::write::Mode::Owned)
            .map_err(|e| e.to_string())?;
    }
    Ok(dir)
}

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

/// Install and build the client library in `dir` (`--client`), returning
/// how to start its `tail` example (the caller appends the arguments).
pub fn prepare_client(
    lang: Language,
    dir: &Path,
    names: &LangNames,
    opts: &BuildOptions,
) -> Result<Launch, String> {
    toolchain::check(lang)?;
    run_plan(dir, lang.driver().client_build_plan(dir, names, opts), opts)
}

/// Run the steps of `plan` in `dir` (skipping what the stamp says is
/// built), returning how to start what they built. The project form's plans
/// ([`prepare`]) and the single-file form's (`crate::single::prepare`) both
/// run here. With [`BuildOptions::build_cache`], the plan runs on a copy of
/// `dir` in that cache, at most once per content ([`run_plan_shared`]).
pub fn run_plan(dir: &Path, plan: BuildPlan, opts: &BuildOptions) -> Result<Launch, String> {
    match &opts.build_cache {
        Some(cache) => run_plan_shared(dir, plan, opts, cache),
        None => run_plan_in_place(dir, plan, opts),
    }
}

fn run_plan_in_place(dir: &Path, plan: BuildPlan, opts: &BuildOptions) -> Result<Launch, String> {
    let stamp = dir.join(".wsgen-build");
    let key = format!("{:x}-{}", tree_hash(dir), opts.release);
    let fresh = std::fs::read_to_string(&stamp).ok().as_deref() == Some(key.as_str());
    let _ = std::fs::remove_file(build_log(dir));
    // A binary copied out of the shared cargo target folder must be the one
    // this build made, not one of a concurrent build of a same-named crate.
    let copies_from_target = plan
        .steps
        .iter()
        .any(|s| matches!(s, Step::Copy { from, .. } if from.starts_with(&opts.cargo_target_dir)));
    let _target_lock = if copies_from_target {
        Some(lock(&opts.cargo_target_dir, ".wsgen-copy")?)
    } else {
        None
    };
    for step in &plan.steps {
        execute(dir, step, fresh, opts)?;
    }
    let _ = std::fs::write(&stamp, key);
    Ok(plan.launch)
}

/// The file `NAME.lock` in `dir`, locked exclusively (blocking until
/// the holder, in this process or another, drops it).
fn lock(dir: &Path, name: &str) -> Result<std::fs::File, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    let path = dir.join(format!("{name}.lock"));
    let file = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    file.lock()
        .map_err(|e| format!("locking {}: {e}", path.display()))?;
    Ok(file)
}

/// Prepare the project in `dir` in `cache/KEY`, KEY hashing the project's
/// files (as [`tree_hash`] sees them), its plan (with `dir` left out) and the
/// release flag: a copy of the files is built there once, under a lock, then
/// stamped; later calls with the same KEY only launch it. A folder without
/// the stamp (a build that failed or was killed) is made again.
fn run_plan_shared(
    dir: &Path,
    plan: BuildPlan,
    opts: &BuildOptions,
    cache: &Path,
) -> Result<Launch, String> {
    let mut files = Vec::new();
    collect(dir, dir, &mut files);
    files.sort();
    let mut h = DefaultHasher::new();
    files.hash(&mut h);
    format!("{:?}", rebase(plan.clone(), dir, Path::new("{project}"))).hash(&mut h);
    opts.release.hash(&mut h);
    let key = format!("{:016x}", h.finish());
    let built = cache.join(&key);
    let _lock = lock(cache, &key)?;
    let plan = rebase(plan, dir, &built);
    let stamp = built.join(".wsgen-shared");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(key.as_str()) {
        return Ok(plan.launch);
    }
    let _ = std::fs::remove_dir_all(&built);
    for (rel, _) in &files {
        let to = built.join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        // fs::copy keeps the mode (executable test scripts).
        std::fs::copy(dir.join(rel), &to).map_err(|e| format!("copying {rel}: {e}"))?;
    }
    let launch = run_plan_in_place(&built, plan, opts)?;
    std::fs::write(&stamp, &key).map_err(|e| format!("{}: {e}", stamp.display()))?;
    Ok(launch)
}

/// `plan` with every path under `from` (in paths, programs and arguments)
/// moved under `to`.
fn rebase(plan: BuildPlan, from: &Path, to: &Path) -> BuildPlan {
    let path = |p: PathBuf| match p.strip_prefix(from) {
        Ok(rest) if rest.as_os_str().is_empty() => to.to_path_buf(),
        Ok(rest) => to.join(rest),
        Err(_) => p,
    };
    let (from_s, to_s) = (from.to_string_lossy(), to.to_string_lossy());
    let text = |s: String| s.replace(from_s.as_ref(), to_s.as_ref());
    let cmd = |c: Cmd| Cmd {
        program: text(c.program),
        args: c.args.into_iter().map(text).collect(),
        env: c.env.into_iter().map(|(k, v)| (k, text(v))).collect(),
    };
    let steps = plan
        .steps
        .into_iter()
        .map(|step| match step {
            Step::Run {
                cmd: c,
                skip_if_built,
            } => Step::Run {
                cmd: cmd(c),
                skip_if_built: skip_if_built.map(path),
            },
            Step::Init { cmd: c, creates } => Step::Init {
                cmd: cmd(c),
                creates: path(creates),
            },
            Step::CreateOnce { dir, cmds } => Step::CreateOnce {
                dir: path(dir),
                cmds: cmds.into_iter().map(cmd).collect(),
            },
            Step::Copy { from, to } => Step::Copy {
                from: path(from),
                to: path(to),
            },
        })
        .collect();
    let l = plan.launch;
    BuildPlan {
        steps,
        launch: Launch {
            program: path(l.program),
            args: l.args.into_iter().map(text).collect(),
            dir: path(l.dir),
            env: l.env.into_iter().map(|(k, v)| (k, text(v))).collect(),
        },
    }
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

/// Whether build commands report what they are doing on stderr (`wsgen
/// run`): a spinner with the elapsed time on a terminal, plain lines
/// otherwise. Off by default, so verify, bench and tests stay quiet.
static SHOW_PROGRESS: AtomicBool = AtomicBool::new(false);

/// Turn the progress report of build commands on or off (process-wide).
pub fn show_progress(on: bool) {
    SHOW_PROGRESS.store(on, Ordering::Relaxed);
}

/// Where the output of every build command of a project goes:
/// `DIR/.wsgen/build.log`, appended to command by command.
pub fn build_log(dir: &Path) -> PathBuf {
    dir.join(".wsgen").join("build.log")
}

/// What a command is doing, in a word, for the progress line.
fn activity(program: &str, args: &[&str]) -> &'static str {
    let words = || args.iter().chain(std::iter::once(&program));
    if words().any(|a| matches!(*a, "install" | "download" | "venv" | "ci")) {
        "installing"
    } else if words().any(|a| *a == "build") {
        "compiling"
    } else {
        "running"
    }
}

/// Run a build command, its output appended to the project's build log
/// (`-v`: shown as it comes instead), returning that output in the error on
/// failure.
pub fn run(
    dir: &Path,
    program: &str,
    args: &[&str],
    env: &[(&str, &str)],
    opts: &BuildOptions,
) -> Result<(), String> {
    let line = format!("{program} {}", args.join(" "));
    let log_path = build_log(dir);
    let mut log = std::fs::create_dir_all(log_path.parent().expect("in .wsgen"))
        .and_then(|()| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&log_path)
        })
        .ok();
    if let Some(f) = log.as_mut() {
        let _ = writeln!(f, "$ {line}");
    }
    // Paths inside the project, relative: `go build -o .wsgen/server .`.
    let short = line.replace(&format!("{}/", dir.display()), "");
    let progress = SHOW_PROGRESS
        .load(Ordering::Relaxed)
        .then(|| Progress::start(activity(program, args), &short, opts.verbose));
    if opts.verbose && progress.is_none() {
        eprintln!("  $ {line}");
    }
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(dir).envs(env.iter().copied());
    let result = if opts.verbose {
        // Shown as it comes: the log holds the commands only.
        cmd.status().map(|status| (status, Vec::new(), Vec::new()))
    } else {
        cmd.output().map(|o| (o.status, o.stdout, o.stderr))
    };
    let (status, stdout, stderr) = match result {
        Ok(r) => r,
        Err(e) => {
            if let Some(p) = progress {
                p.finish(false);
            }
            return Err(format!("cannot run `{program}`: {e}"));
        }
    };
    if let Some(f) = log.as_mut() {
        let _ = f.write_all(&stdout);
        let _ = f.write_all(&stderr);
    }
    if let Some(p) = progress {
        p.finish(status.success());
    }
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{line}` failed in {} ({status}):\n{}{}(build log: {})",
            dir.display(),
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr),
            log_path.display()
        ))
    }
}

/// The progress of one build command on stderr.
struct Progress {
    what: String,
    start: Instant,
    spinner: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn start(activity: &str, line: &str, verbose: bool) -> Progress {
        let what = format!("{activity}: {line}");
        // A spinner would fight with the command's own output under -v.
        let spinner = (std::io::stderr().is_terminal() && !verbose).then(|| {
            let pb = indicatif::ProgressBar::new_spinner();
            pb.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {elapsed:>4} {wide_msg}")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            pb.set_message(what.clone());
            pb.enable_steady_tick(std::time::Duration::from_millis(120));
            pb
        });
        if spinner.is_none() {
            eprintln!("wsgen: {what}");
        }
        Progress {
            what,
            start: Instant::now(),
            spinner,
        }
    }

    fn finish(self, ok: bool) {
        let took = self.start.elapsed().as_secs_f64();
        let verdict = if ok { "done" } else { "FAILED" };
        match self.spinner {
            Some(pb) => {
                pb.finish_and_clear();
                eprintln!("wsgen: {} ... {verdict} in {took:.1} s", self.what);
            }
            None => eprintln!("wsgen: {verdict} in {took:.1} s"),
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_named_by_what_they_do() {
        assert_eq!(activity("npm", &["install", "--no-audit"]), "installing");
        assert_eq!(activity("python3", &["-m", "venv", "/x"]), "installing");
        assert_eq!(activity("go", &["build", "-o", "bin", "."]), "compiling");
        assert_eq!(activity("cargo", &["build", "--quiet"]), "compiling");
        assert_eq!(activity("node", &["--check", "x.js"]), "running");
    }

    #[test]
    fn a_command_s_output_goes_to_the_build_log() {
        let tmp = tempfile::tempdir().unwrap();
        let opts = BuildOptions::default();
        run(tmp.path(), "sh", &["-c", "echo hello"], &[], &opts).unwrap();
        let e = run(
            tmp.path(),
            "sh",
            &["-c", "echo broken >&2; exit 3"],
            &[],
            &opts,
        )
        .unwrap_err();
        assert!(e.contains("broken") && e.contains("build.log"), "{e}");
        let log = std::fs::read_to_string(build_log(tmp.path())).unwrap();
        assert!(log.contains("$ sh -c echo hello\nhello\n"), "{log}");
        assert!(log.contains("broken"), "{log}");
    }

    #[test]
    fn a_shared_build_runs_once_per_content_and_launches_from_the_cache() {
        let cache = tempfile::tempdir().unwrap();
        let opts = BuildOptions {
            build_cache: Some(cache.path().to_path_buf()),
            ..BuildOptions::default()
        };
        let runs = cache.path().join("runs");
        let plan = |dir: &Path| BuildPlan {
            steps: vec![Step::Run {
                cmd: Cmd::new(
                    "sh",
                    &[
                        "-c",
                        &format!("echo . >> {}; cp main.txt out.txt", runs.display()),
                    ],
                ),
                skip_if_built: None,
            }],
            launch: Launch {
                program: dir.join("out.txt"),
                args: vec![dir.join("main.txt").display().to_string()],
                dir: dir.to_path_buf(),
                env: vec![],
            },
        };
        let project = |text: &str| {
            let d = tempfile::tempdir().unwrap();
            std::fs::write(d.path().join("main.txt"), text).unwrap();
            d
        };
        let (a, b, c) = (project("one"), project("one"), project("two"));
        let la = run_plan(a.path(), plan(a.path()), &opts).unwrap();
        let lb = run_plan(b.path(), plan(b.path()), &opts).unwrap();
        assert_eq!(la.dir, lb.dir);
        assert!(la.dir.starts_with(cache.path()), "{la:?}");
        assert_eq!(la.program, la.dir.join("out.txt"));
        assert_eq!(la.args, [la.dir.join("main.txt").display().to_string()]);
        assert_eq!(std::fs::read_to_string(&la.program).unwrap(), "one");
        let lc = run_plan(c.path(), plan(c.path()), &opts).unwrap();
        assert_ne!(lc.dir, la.dir);
        assert_eq!(std::fs::read_to_string(&lc.program).unwrap(), "two");
        // One build per content.
        assert_eq!(std::fs::read_to_string(&runs).unwrap(), ".\n.\n");
        // The generated folders were left alone.
        assert!(!a.path().join("out.txt").exists());
    }
}
