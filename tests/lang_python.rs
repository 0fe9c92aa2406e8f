//! The Python output, end to end: for each spec, generate the project,
//! `py_compile` every file, install the pinned dependencies into a virtual
//! environment (cached under target/ and keyed by the pins, so the machine's
//! site-packages stay untouched and repeated runs are fast), and run the
//! project's own pytest suite, which boots the real server and talks to it
//! over a socket. The adversarial spec is also booted here (through the
//! runner) and its /healthz name compared with the IR's, and it must exit 0
//! on SIGTERM.

mod support;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;
use support::Install;
use wsgen::lang::{Language, deps};

const PYTHON: &str = "python3";
const INSTALL_PYTHON: &str = "install Python 3.10 or newer with venv and pip \
    (Debian/Ubuntu: apt-get install python3 python3-venv python3-pip)";

// One test per spec of `every_spec!` (tests/support/mod.rs; the same list in
// every language), each running `check_spec` below.
every_spec!();

#[test]
fn adversarial_values_round_trip() {
    support::adversarial_round_trip(Language::Python, check_spec, Install::Runner);
}

/// Generate, compile, install, run the project's own tests; returns the project.
fn check_spec(spec: &str) -> tempfile::TempDir {
    let python = venv_python();
    let project = support::generate(spec, Language::Python);
    let files = support::files_with_extension(project.path(), "py");
    let mut args = vec!["-m", "py_compile"];
    args.extend(files.iter().map(|f| f.to_str().expect("UTF-8 path")));
    support::check(
        spec,
        project.path(),
        PYTHON,
        &args,
        &[("PYTHONDONTWRITEBYTECODE", "1")],
        INSTALL_PYTHON,
    );
    let started = Instant::now();
    let text = support::check(
        spec,
        project.path(),
        python,
        &["-m", "pytest", "-q", "-p", "no:cacheprovider"],
        &[],
        INSTALL_PYTHON,
    );
    eprintln!(
        "{spec}: pytest {} in {:.1}s",
        text.lines().last().unwrap_or("").trim(),
        started.elapsed().as_secs_f64()
    );
    project
}

/// The interpreter of a virtual environment holding exactly the pinned
/// dependencies, created once per set of pins and Python version.
fn venv_python() -> &'static Path {
    static PYTHON_BIN: OnceLock<PathBuf> = OnceLock::new();
    static CREATING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = CREATING.lock().unwrap_or_else(|e| e.into_inner());
    PYTHON_BIN.get_or_init(create_venv)
}

fn create_venv() -> PathBuf {
    support::require_toolchain(Language::Python);
    let version = python_version();
    // What the server needs (pyproject's dependencies) and pytest, as
    // (PyPI name, key in src/lang/deps.rs).
    let pins: Vec<String> = [
        ("websockets", "websockets"),
        ("PyJWT", "pyjwt"),
        ("cryptography", "cryptography"),
        ("prometheus_client", "prometheus_client"),
        ("redis", "redis"),
        ("pytest", "pytest"),
    ]
    .iter()
    .map(|(name, key)| format!("{name}=={}", deps::version(Language::Python, key)))
    .collect();
    let key = format!("py{version}-{}", pins.join("-").replace("==", "-"));
    let dir = support::repo()
        .join("target")
        .join("python-venvs")
        .join(key);
    let started = Instant::now();
    let python = support::python_venv(&dir, &pins);
    eprintln!(
        "python venv with {} ready in {:.1}s",
        pins.join(" "),
        started.elapsed().as_secs_f64()
    );
    python
}

/// `3.11`; fails unless it is 3.10 or newer.
fn python_version() -> String {
    let out = support::run(
        Path::new("."),
        PYTHON,
        &["-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        &[],
    );
    let version = out.trim().to_string();
    let minor: u32 = version
        .strip_prefix("3.")
        .and_then(|m| m.parse().ok())
        .unwrap_or_else(|| panic!("unexpected `{PYTHON}` version {version:?}"));
    assert!(
        minor >= 10,
        "`{PYTHON}` is Python {version}; the generated project needs 3.10+: {INSTALL_PYTHON}"
    );
    version
}
