//! `wsgen completions SHELL`: a completion script for bash, zsh, fish,
//! PowerShell or elvish, generated from the clap definition (clap_complete).

use super::{Cli, exit};
use clap::{Args, CommandFactory};
use clap_complete::Shell;

#[derive(Debug, Args)]
#[command(after_help = "\
Install, for example:
  bash:  wsgen completions bash > ~/.local/share/bash-completion/completions/wsgen
  zsh:   wsgen completions zsh > ~/.zfunc/_wsgen   (with fpath+=~/.zfunc before compinit)
  fish:  wsgen completions fish > ~/.config/fish/completions/wsgen.fish")]
pub struct CompletionsArgs {
    /// The shell to print the completion script of.
    #[arg(value_enum)]
    shell: Shell,
}

pub fn run(args: CompletionsArgs) -> i32 {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "wsgen", &mut script);
    print!("{}", String::from_utf8_lossy(&script));
    exit::OK
}
