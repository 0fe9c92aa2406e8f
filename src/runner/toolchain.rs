//! Which tools each language needs, and how to install them when missing.

use crate::lang::Language;
use std::process::Command;

/// A command-line tool a language's build needs.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    pub program: &'static str,
    pub version_arg: &'static str,
    pub install: &'static str,
}

pub fn tools(lang: Language) -> &'static [Tool] {
    match lang {
        Language::Node => &[
            Tool {
                program: "node",
                version_arg: "--version",
                install: "install Node.js >= 20 (apt-get install nodejs npm, or your platform's installer)",
            },
            Tool {
                program: "npm",
                version_arg: "--version",
                install: "npm comes with Node.js (apt-get install npm)",
            },
        ],
        Language::Python => &[Tool {
            program: "python3",
            version_arg: "--version",
            install: "install Python >= 3.10 with venv and pip (apt-get install python3 python3-venv python3-pip)",
        }],
        Language::Go => &[Tool {
            program: "go",
            version_arg: "version",
            install: "install Go >= 1.23 (apt-get install golang-go from a recent release, or the official tarball)",
        }],
        Language::Rust => &[Tool {
            program: "cargo",
            version_arg: "--version",
            install: "install Rust with rustup (curl https://sh.rustup.rs | sh)",
        }],
    }
}

/// Fail with a message naming the first missing tool and how to install it.
pub fn check(lang: Language) -> Result<(), String> {
    for tool in tools(lang) {
        let ok = Command::new(tool.program)
            .arg(tool.version_arg)
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false);
        if !ok {
            return Err(format!(
                "the {} output needs `{}`, which is not installed or not on PATH: {}",
                lang, tool.program, tool.install
            ));
        }
    }
    Ok(())
}
