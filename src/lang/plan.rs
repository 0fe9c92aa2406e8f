//! What a language driver hands the runner: the tools it needs and how to
//! install, build and launch a project, as plain data. The runner
//! (`crate::runner::build`) executes it; nothing here runs a process.

use crate::runner::Launch;
use std::path::PathBuf;

/// A command-line tool a language's build needs.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    pub program: &'static str,
    /// The argument that prints its version (`--version`, `version`).
    pub version_arg: &'static str,
    /// The oldest (major, minor) that works, if any; read from the first
    /// `N.N` in the version output.
    pub min_version: Option<(u32, u32)>,
    /// How to install it, for the error when it is missing or too old.
    pub install: &'static str,
}

/// One command, run in the project's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cmd {
    pub program: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl Cmd {
    pub fn new(program: impl Into<String>, args: &[&str]) -> Cmd {
        Cmd {
            program: program.into(),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: vec![],
        }
    }

    pub fn env(mut self, key: &str, value: &str) -> Cmd {
        self.env.push((key.into(), value.into()));
        self
    }
}

/// In a [`Step::CreateOnce`] command, stands for the private staging folder.
pub const STAGING: &str = "{staging}";

/// One step of installing and building a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Run `cmd`; skipped when the project is unchanged since its last
    /// successful build and `skip_if_built` (when given) exists.
    Run {
        cmd: Cmd,
        skip_if_built: Option<PathBuf>,
    },
    /// Run `cmd` unless `creates` exists: a command that makes that file and
    /// refuses to run again (`go mod init` and its `go.mod`).
    Init { cmd: Cmd, creates: PathBuf },
    /// Create the shared folder `dir` once (skipped when it exists): run
    /// `cmds` with [`STAGING`] replaced by a private staging folder, then
    /// rename that to `dir`, so a concurrent run never sees a half-made one.
    CreateOnce { dir: PathBuf, cmds: Vec<Cmd> },
    /// Copy a build output (Rust: out of the shared target folder, which the
    /// next project with the same crate name overwrites).
    Copy { from: PathBuf, to: PathBuf },
}

/// Install, build, then launch.
#[derive(Debug, Clone)]
pub struct BuildPlan {
    pub steps: Vec<Step>,
    pub launch: Launch,
}
