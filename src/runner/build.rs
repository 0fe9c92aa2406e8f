//! Install and build a generated project, and say how to start it. A stamp
//! file keyed by the project's contents skips work that is already done.

use super::process::Launch;
use super::toolchain;
use crate::lang::Language;
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

/// Install dependencies and build `dir` (a generated `lang` project whose
/// `lang.module` is `module`), returning how to start it.
pub fn prepare(
    lang: Language,
    dir: &Path,
    module: &str,
    opts: &BuildOptions,
) -> Result<Launch, String> {
    toolchain::check(lang)?;
    let stamp = dir.join(".wsgen-build");
    let key = format!("{:x}-{}", tree_hash(dir), opts.release);
    let fresh = std::fs::read_to_string(&stamp).ok().as_deref() == Some(key.as_str());
    let launch = match lang {
        Language::Node => node(dir, fresh, opts)?,
        Language::Python => python(dir, module, fresh, opts)?,
        Language::Go => go(dir, fresh, opts)?,
        Language::Rust => rust(dir, opts)?,
    };
    let _ = std::fs::write(&stamp, key);
    Ok(launch)
}

fn node(dir: &Path, fresh: bool, opts: &BuildOptions) -> Result<Launch, String> {
    if !fresh || !dir.join("node_modules").is_dir() {
        run(
            dir,
            "npm",
            &["install", "--no-audit", "--no-fund", "--loglevel=error"],
            &[],
            opts,
        )?;
    }
    let pkg: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("package.json"))
            .map_err(|e| format!("package.json: {e}"))?,
    )
    .map_err(|e| format!("package.json: {e}"))?;
    let start = pkg["scripts"]["start"].as_str().unwrap_or("node server.js");
    let mut words = start.split_whitespace().map(String::from);
    let program = words.next().ok_or("package.json: empty start script")?;
    Ok(Launch {
        program: program.into(),
        args: words.collect(),
        dir: dir.to_path_buf(),
        env: vec![],
    })
}

/// Python: one virtual environment per dependency set, shared by every
/// project that pins the same versions; the project itself runs from its
/// folder (`python -m <module>`), so nothing is built per project.
fn python(dir: &Path, module: &str, _fresh: bool, opts: &BuildOptions) -> Result<Launch, String> {
    let pyproject = std::fs::read_to_string(dir.join("pyproject.toml"))
        .map_err(|e| format!("pyproject.toml: {e}"))?;
    let deps = pyproject_dependencies(&pyproject);
    let mut h = DefaultHasher::new();
    deps.hash(&mut h);
    let venv = opts
        .cache_dir
        .join("python")
        .join(format!("venv-{:016x}", h.finish()));
    let py = venv.join("bin").join("python");
    if !py.exists() {
        // Build in a private folder and rename, so concurrent runs never see
        // a half-installed environment.
        let tmp = venv.with_extension(format!("tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(tmp.parent().unwrap()).map_err(|e| e.to_string())?;
        run(
            dir,
            "python3",
            &["-m", "venv", tmp.to_str().unwrap()],
            &[],
            opts,
        )?;
        let tmp_py = tmp.join("bin").join("python");
        let mut args = vec![
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ];
        args.extend(deps.iter().map(String::as_str));
        if !deps.is_empty() {
            run(dir, tmp_py.to_str().unwrap(), &args, &[], opts)?;
        }
        if std::fs::rename(&tmp, &venv).is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
    }
    Ok(Launch {
        program: py,
        args: vec!["-m".into(), module.into()],
        dir: dir.to_path_buf(),
        env: vec![],
    })
}

/// The requirement strings of `[project] dependencies = [...]`.
fn pyproject_dependencies(pyproject: &str) -> Vec<String> {
    let Some(start) = pyproject.find("\ndependencies") else {
        return vec![];
    };
    let rest = &pyproject[start..];
    let Some(open) = rest.find('[') else {
        return vec![];
    };
    let Some(close) = rest[open..].find(']') else {
        return vec![];
    };
    rest[open + 1..open + close]
        .split(',')
        .map(|d| d.trim().trim_matches('"').trim_matches('\'').to_string())
        .filter(|d| !d.is_empty())
        .collect()
}

fn go(dir: &Path, fresh: bool, opts: &BuildOptions) -> Result<Launch, String> {
    let bin = dir.join(".wsgen").join("server");
    if !fresh || !bin.exists() {
        run(
            dir,
            "go",
            &["build", "-o", bin.to_str().unwrap(), "."],
            &[("GOFLAGS", "-mod=readonly")],
            opts,
        )?;
    }
    Ok(Launch {
        program: bin,
        args: vec![],
        dir: dir.to_path_buf(),
        env: vec![],
    })
}

fn rust(dir: &Path, opts: &BuildOptions) -> Result<Launch, String> {
    // cargo's own freshness check is cheap and exact; always ask it.
    let target = opts
        .cargo_target_dir
        .to_str()
        .ok_or("non-UTF-8 target dir")?
        .to_string();
    let mut args = vec!["build", "--quiet"];
    if opts.release {
        args.push("--release");
    }
    run(dir, "cargo", &args, &[("CARGO_TARGET_DIR", &target)], opts)?;
    let manifest =
        std::fs::read_to_string(dir.join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    let name = package_name(&manifest).ok_or("Cargo.toml: no package name")?;
    let profile = if opts.release { "release" } else { "debug" };
    let bin = opts.cargo_target_dir.join(profile).join(&name);
    // Copy the binary out: the shared target folder is overwritten by the next
    // project with the same crate name.
    let own = dir.join(".wsgen").join(&name);
    std::fs::create_dir_all(own.parent().unwrap()).map_err(|e| e.to_string())?;
    std::fs::copy(&bin, &own).map_err(|e| format!("copying {}: {e}", bin.display()))?;
    Ok(Launch {
        program: own,
        args: vec![],
        dir: dir.to_path_buf(),
        env: vec![],
    })
}

fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            in_package = l == "[package]";
        } else if in_package && let Some(v) = l.strip_prefix("name") {
            let v = v.trim_start().strip_prefix('=')?.trim();
            return Some(v.trim_matches('"').to_string());
        }
    }
    None
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

#[cfg(test)]
mod tests {
    #[test]
    fn pyproject_dependencies_are_read() {
        let t = "[project]\nname = \"x\"\ndependencies = [\"websockets==16.1.1\", \"b>=2\"]\n[x]\n";
        assert_eq!(
            super::pyproject_dependencies(t),
            vec!["websockets==16.1.1", "b>=2"]
        );
    }

    #[test]
    fn package_name_is_read_from_the_package_table() {
        let m = "[workspace]\n\n[package]\nname = \"echo-server\"\nversion = \"0.1.0\"\n[dependencies]\nname = \"x\"\n";
        assert_eq!(super::package_name(m).as_deref(), Some("echo-server"));
    }
}
