//! Command-line parsing and dispatch. Each subcommand lives in its own file
//! and returns the process exit code (see [`exit`]).

// First: its `print!`/`println!` survive a closed pipe in every module below.
#[macro_use]
mod stdout;

mod bench;
mod client;
mod cluster;
mod completions;
mod conformance;
mod generate;
mod info;
mod output;
mod project;
mod run;
mod smoke;
mod verify;

use clap::{Parser, Subcommand};

/// Exit codes, documented in `--help`.
pub mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// A check failed: drift (`--check`), a FAIL case, a mismatch.
    pub const FAILED: i32 = 1;
    /// Bad input: command-line arguments, a spec or scenario file.
    pub const USAGE: i32 = 2;
    /// The environment: missing toolchain, I/O, a server that would not start.
    pub const ENVIRONMENT: i32 = 3;
}

const AFTER_HELP: &str = "\
Examples:
  wsgen --spec specs/chat.yaml --language go --out chat-go
  wsgen --type chat --features rooms,presence --language node --out chat-node
  wsgen --spec specs/echo.yaml --language all --out out/ --format json
  wsgen --spec specs/echo.yaml --language rust --out echo-rs --check
  wsgen --spec specs/chat.yaml --language python --client --out chat-client-py
  wsgen generate-server --type echo --output echo-server.js
  wsgen generate-server --task task.json --format json
  wsgen init --type chat > chat.yaml
  wsgen languages
  wsgen completions bash > ~/.local/share/bash-completion/completions/wsgen

Exit codes:
  0  success
  1  a check failed (drift under --check, a FAIL case, a mismatch)
  2  bad input (arguments, spec or scenario file)
  3  environment (missing toolchain, I/O error, server did not start)";

/// Generate WebSocket servers in Node.js, Python, Go and Rust from a YAML spec,
/// and prove them over the wire.
#[derive(Debug, Parser)]
#[command(name = "wsgen", version, after_help = AFTER_HELP, args_conflicts_with_subcommands = true,
          arg_required_else_help = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    generate: generate::GenerateArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Generate a server project or a single-file echo server (the same as the short form `wsgen --spec ...`).
    #[command(visible_alias = "generate-server")]
    Generate(generate::GenerateArgs),
    /// Print a commented starter spec (or write it with --out FILE).
    Init(info::InitArgs),
    /// Print the JSON Schema of the spec (for yaml-language-server).
    Schema,
    /// Print the capability table (language x feature).
    Languages,
    /// Generate (cached), install, build and run a server in the foreground.
    Run(run::RunArgs),
    /// Load-test a WebSocket server (open/closed loop, chat fan-out) or compare the generated servers.
    #[command(visible_alias = "benchmark")]
    Bench(bench::BenchArgs),
    /// Build, boot and prove a spec's servers (handshake, conformance, scenarios, shutdown), or with --client the client libraries through a fault proxy.
    Verify(verify::VerifyArgs),
    /// Run the RFC 6455 conformance suite (Autobahn-numbered cases) against a server.
    #[command(visible_alias = "autobahn-test")]
    Conformance(conformance::ConformanceArgs),
    /// Smoke-test an echo server: send N mixed messages, check every echo, print latency.
    Test(smoke::SmokeArgs),
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish.
    Completions(completions::CompletionsArgs),
}

pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return code;
        }
    };
    match cli.command {
        None => generate::run(cli.generate),
        Some(Command::Generate(args)) => generate::run(args),
        Some(Command::Init(args)) => info::init(args),
        Some(Command::Schema) => info::schema(),
        Some(Command::Languages) => info::languages(),
        Some(Command::Run(args)) => run::run(args),
        Some(Command::Bench(args)) => bench::run(args),
        Some(Command::Verify(args)) => verify::run(args),
        Some(Command::Conformance(args)) => conformance::run(args),
        Some(Command::Test(args)) => smoke::run(args),
        Some(Command::Completions(args)) => completions::run(args),
    }
}
