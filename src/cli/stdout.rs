//! A stdout that survives a closed pipe (`wsgen schema | head -1`).
//!
//! `print!` and `println!` panic when stdout is a pipe whose reader has gone
//! (exit 101 and a panic message). This module shadows both macros for every
//! module of the CLI declared after it (`#[macro_use] mod stdout;` comes
//! first in `cli/mod.rs`): output goes through [`write`], which ends the
//! process quietly with exit 0 on a broken pipe, as `grep`, `rg` and `head`
//! readers expect. SIGPIPE itself stays ignored (Rust's default), so a
//! server closing a socket never kills wsgen.

use std::io::Write;

/// Write to stdout; a closed pipe ends the process quietly (exit 0), any
/// other error with exit 3 (the environment).
pub fn write(args: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            wsgen::runner::process::kill_all();
            std::process::exit(super::exit::OK);
        }
        let _ = writeln!(std::io::stderr(), "error: writing to stdout: {e}");
        std::process::exit(super::exit::ENVIRONMENT);
    }
}

macro_rules! print {
    ($($arg:tt)*) => {
        $crate::cli::stdout::write(format_args!($($arg)*))
    };
}

macro_rules! println {
    () => {
        $crate::cli::stdout::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::stdout::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}
