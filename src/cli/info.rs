//! `wsgen init`, `wsgen schema`, `wsgen languages`.

use super::exit;
use clap::Args;
use std::path::PathBuf;
use wsgen::ir::ServerKind;

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Server type of the starter spec: echo or chat.
    #[arg(long = "type", value_name = "TYPE", default_value = "echo")]
    kind: String,
    /// Write to this file instead of stdout.
    #[arg(long, short = 'o', value_name = "FILE")]
    out: Option<PathBuf>,
    /// Overwrite an existing file.
    #[arg(long)]
    force: bool,
}

pub fn init(args: InitArgs) -> i32 {
    let Some((_, kind)) = ServerKind::ALL.iter().find(|(n, _)| *n == args.kind) else {
        eprintln!("error: unknown type `{}`; use echo or chat", args.kind);
        return exit::USAGE;
    };
    let text = wsgen::spec::starter(*kind);
    match args.out {
        None => {
            print!("{text}");
            exit::OK
        }
        Some(path) => {
            if path.exists() && !args.force {
                eprintln!(
                    "error: {} exists; pass --force to overwrite it",
                    path.display()
                );
                return exit::USAGE;
            }
            match std::fs::write(&path, text) {
                Ok(()) => {
                    eprintln!("wrote {}", path.display());
                    exit::OK
                }
                Err(e) => {
                    eprintln!("error: writing {}: {e}", path.display());
                    exit::ENVIRONMENT
                }
            }
        }
    }
}

pub fn schema() -> i32 {
    println!(
        "{}",
        serde_json::to_string_pretty(&wsgen::spec::json_schema()).expect("serialisable")
    );
    exit::OK
}

pub fn languages() -> i32 {
    print!("{}", wsgen::lang::capability_table());
    exit::OK
}
