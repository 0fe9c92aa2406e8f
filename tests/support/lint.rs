//! The pinned lint tools of the generated projects' checks (Prettier for
//! Node.js, Ruff for Python; versions in src/lang/deps.rs), installed by the
//! tests themselves into `target/lint-tools/`, once per version.

use std::path::{Path, PathBuf};
use std::process::Command;
use wsgen::lang::{Language, deps};

const INSTALL_NPM: &str = "install Node.js 20 or newer with npm \
    (Debian/Ubuntu: apt-get install nodejs npm, or https://nodejs.org)";
const INSTALL_PIP: &str = "install Python 3.10 or newer with venv and pip \
    (Debian/Ubuntu: apt-get install python3 python3-venv python3-pip)";

/// Where the pinned lint tools are installed, once per version.
pub fn tools_dir() -> PathBuf {
    super::repo().join("target").join("lint-tools")
}

/// Build `dir` through `build(tmp)` into a sibling folder, then rename it,
/// so that a run that dies half-way leaves nothing half-installed. `ready`
/// is a file `build` writes last.
fn install_once(dir: &Path, ready: &str, build: impl FnOnce(&Path)) {
    if dir.join(ready).exists() {
        return;
    }
    let building = dir.with_extension(format!("building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    std::fs::create_dir_all(&building).expect("creating target/lint-tools");
    build(&building);
    assert!(building.join(ready).exists(), "{ready} was not installed");
    if std::fs::rename(&building, dir).is_err() {
        let _ = std::fs::remove_dir_all(&building);
        assert!(
            dir.join(ready).exists(),
            "could not install into {}",
            dir.display()
        );
    }
}

fn run_install(dir: &Path, program: &str, args: &[&str], manual: &str) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{program}` ({e}); {manual}"));
    assert!(
        out.status.success(),
        "`{program} {}` failed; {manual}:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `prettier` executable at the pinned version, installed from npm
/// (`npm install --no-save prettier@VERSION`) on first use.
pub fn prettier() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let version = deps::version(Language::Node, "prettier");
        let dir = tools_dir().join(format!("prettier-{version}"));
        let bin = "node_modules/.bin/prettier";
        let manual = format!(
            "the test installs Prettier itself with `npm install --no-save prettier@{version}` \
             (network to the npm registry needed); {INSTALL_NPM}"
        );
        install_once(&dir, bin, |tmp| {
            std::fs::write(tmp.join("package.json"), "{\"private\": true}\n").unwrap();
            run_install(
                tmp,
                "npm",
                &[
                    "install",
                    "--no-save",
                    "--no-audit",
                    "--no-fund",
                    "--loglevel=error",
                    &format!("prettier@{version}"),
                ],
                &manual,
            );
        });
        dir.join(bin)
    })
    .clone()
}

/// The `ruff` executable at the pinned version, installed from PyPI into a
/// virtual environment of its own (`pip install ruff==VERSION`) on first use.
pub fn ruff() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let version = deps::version(Language::Python, "ruff");
        let dir = tools_dir().join(format!("ruff-{version}"));
        let manual = format!(
            "the test installs Ruff itself with `python3 -m venv DIR && DIR/bin/pip install \
             ruff=={version}` (network to PyPI needed); {INSTALL_PIP}"
        );
        install_once(&dir, "bin/ruff", |tmp| {
            run_install(tmp, "python3", &["-m", "venv", "."], &manual);
            run_install(
                tmp,
                "bin/python",
                &[
                    "-m",
                    "pip",
                    "install",
                    "--disable-pip-version-check",
                    "--no-input",
                    "-q",
                    &format!("ruff=={version}"),
                ],
                &manual,
            );
        });
        dir.join("bin/ruff")
    })
    .clone()
}

/// Run a lint tool in `dir`: (success, stdout + stderr).
pub fn lint(dir: &Path, tool: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run `{}`: {e}", tool.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
