//! The `mem0-mcp` binary: parse the command line, resolve the settings, start logging on
//! stderr, run the command on a single-threaded runtime and turn its failure into one stderr
//! line and the documented exit code.

use clap::Parser;
use mem0_mcp::cli::{self, Cli, Command, ExitCode, Failure};
use mem0_mcp::settings::{self, Keychain};

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let keychain = Keychain::platform();
    match run(&cli, &keychain) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("mem0-mcp: {}", failure.message);
            std::process::ExitCode::from(failure.code as u8)
        }
    }
}

fn run(cli: &Cli, keychain: &Keychain) -> Result<(), Failure> {
    // Commands that need no settings, or load them their own way, so they work (and explain)
    // even when the settings are broken.
    let flags = cli.flags.to_flags();
    match &cli.command {
        Some(Command::Config(cli::config::ConfigCommand::Example)) => {
            return cli::config::example();
        }
        Some(Command::Config(command)) => {
            let inspected = settings::inspect(&flags, keychain)?;
            init_logging(inspected.resolved.get("MEM0_LOG").unwrap_or("warn"));
            for warning in &inspected.resolved.warnings {
                tracing::warn!("{warning}");
            }
            return cli::config::run(command, &inspected);
        }
        Some(Command::Completions(args)) => return cli::completions::run(args),
        Some(Command::Trust(args)) => return cli::trust::run(args),
        Some(Command::Secret(command)) => {
            init_logging(cli.flags.log.as_deref().unwrap_or("warn"));
            return cli::secret::run(command, keychain);
        }
        Some(Command::Init(args)) => {
            init_logging(cli.flags.log.as_deref().unwrap_or("warn"));
            return runtime()?.block_on(cli::init::run(args, &flags, keychain));
        }
        Some(Command::Doctor(args)) => {
            // Problems are the report's lines, not log noise.
            init_logging(cli.flags.log.as_deref().unwrap_or("error"));
            return runtime()?.block_on(cli::doctor::run(args, &flags, keychain));
        }
        _ => {}
    }
    let loaded = settings::load(&flags, keychain)?;
    init_logging(&loaded.settings.log_filter);
    for warning in &loaded.resolved.warnings {
        tracing::warn!("{warning}");
    }
    let settings = &loaded.settings;
    // The team server answers many clients at once: give it every core.
    let runtime = match &cli.command {
        Some(Command::Serve(args)) if args.http => runtime_with(Threads::AllCores)?,
        _ => runtime()?,
    };
    runtime.block_on(async {
        match &cli.command {
            None => cli::serve::run(&Default::default(), settings).await,
            Some(Command::Serve(args)) => cli::serve::run(args, settings).await,
            Some(Command::Migrate(args)) => cli::migrate::run(args, settings).await,
            Some(Command::ClientConfig(args)) => cli::client_config::run(args, &loaded),
            Some(Command::Token(args)) => cli::token::run(args, settings).await,
            Some(Command::Export(args)) => cli::portable::export(args, settings).await,
            Some(Command::Import(args)) => cli::portable::import(args, settings).await,
            Some(Command::Reindex(args)) => cli::reindex::run(args, settings).await,
            Some(Command::Model(command)) => cli::model::run(command, settings),
            Some(
                Command::Secret(_)
                | Command::Config(_)
                | Command::Completions(_)
                | Command::Init(_)
                | Command::Doctor(_)
                | Command::Trust(_),
            ) => Ok(()),
        }
    })
}

/// One thread for a stdio session or a command (one client, mostly waiting on I/O); all cores
/// for the team server, which answers many clients at once.
fn runtime_with(threads: Threads) -> Result<tokio::runtime::Runtime, Failure> {
    let mut builder = match threads {
        Threads::One => tokio::runtime::Builder::new_current_thread(),
        Threads::AllCores => tokio::runtime::Builder::new_multi_thread(),
    };
    builder.enable_all().build().map_err(|e| {
        Failure::new(
            ExitCode::Other,
            format!("cannot start the async runtime: {e}"),
        )
    })
}

#[derive(Debug, Clone, Copy)]
enum Threads {
    One,
    AllCores,
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    runtime_with(Threads::One)
}

/// Logs go to stderr only: stdout carries JSON-RPC while serving.
fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
}
