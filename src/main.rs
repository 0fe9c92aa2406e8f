//! The `wsgen` command line (clap). One file per subcommand under `cli/`.

mod cli;

fn main() {
    std::process::exit(cli::main());
}
