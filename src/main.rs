//! The `mem0-mcp` binary: parse the command line, start logging on stderr, run the command on a
//! single-threaded runtime and turn its failure into one stderr line and the documented exit code.

use clap::Parser;
use mem0_mcp::cli::{self, Cli, Command, ExitCode, Failure};
use mem0_mcp::settings;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    init_logging();
    let env = settings::process_environment();
    let result = settings::resolve(&env)
        .map_err(Failure::from)
        .and_then(|settings| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| {
                    Failure::new(
                        ExitCode::Other,
                        format!("cannot start the async runtime: {e}"),
                    )
                })?;
            runtime.block_on(async {
                match &cli.command {
                    None => cli::serve::run(&Default::default(), &settings).await,
                    Some(Command::Serve(args)) => cli::serve::run(args, &settings).await,
                    Some(Command::Migrate(args)) => cli::migrate::run(args, &settings).await,
                    Some(Command::Token(args)) => cli::token::run(args, &settings).await,
                }
            })
        });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("mem0-mcp: {}", failure.message);
            std::process::ExitCode::from(failure.code as u8)
        }
    }
}

/// Logs go to stderr only: stdout carries JSON-RPC while serving.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MEM0_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,mem0_mcp=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}
