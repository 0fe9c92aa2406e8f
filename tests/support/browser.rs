//! The browser and npm clients of the interop and chat-page tests: the
//! tests/interop npm packages (wscat, playwright-core, from its lockfile)
//! and Debian's headless Chromium. A missing one fails the test.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// tests/interop: the client scripts and their `node_modules`.
pub fn interop_dir() -> PathBuf {
    super::repo().join("tests").join("interop")
}

/// Install the npm clients once (wscat, playwright-core), from the lockfile.
pub fn npm_clients() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        super::require_tool("npm", "install Node.js >= 20 with npm");
        let modules = interop_dir().join("node_modules");
        if !modules.join("wscat").is_dir() || !modules.join("playwright-core").is_dir() {
            super::run(
                &interop_dir(),
                "npm",
                &["ci", "--no-audit", "--no-fund", "--loglevel=error"],
                &[],
            );
        }
    });
}

/// Debian's headless Chromium (`CHROMIUM` overrides the path).
pub fn chromium() -> String {
    let path = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        Path::new(&path).exists(),
        "headless Chromium not found at {path}: apt-get install chromium (or set CHROMIUM=/path/to/chromium)"
    );
    path
}
