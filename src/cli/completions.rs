//! `mem0-mcp completions SHELL`: prints the completion script for bash, zsh, fish, PowerShell
//! or elvish, generated from the same command definitions as `--help`.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, Failure};

#[derive(Debug, Args)]
#[command(after_help = "\
Install:
  bash:        mem0-mcp completions bash > ~/.local/share/bash-completion/completions/mem0-mcp
  zsh:         mem0-mcp completions zsh > ~/.zfunc/_mem0-mcp   (with fpath+=~/.zfunc before compinit)
  fish:        mem0-mcp completions fish > ~/.config/fish/completions/mem0-mcp.fish
  PowerShell:  mem0-mcp completions powershell >> $PROFILE")]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_name = "SHELL")]
    pub shell: Shell,
}

pub fn run(args: &CompletionsArgs) -> Result<(), Failure> {
    let mut command = Cli::command();
    clap_complete::generate(args.shell, &mut command, "mem0-mcp", &mut std::io::stdout());
    Ok(())
}
