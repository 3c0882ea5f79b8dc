//! `mem0-mcp secret set NAME` / `delete NAME` / `status`: the OS keychain entries the server
//! reads (service `mem0-jwt`, `mem0-db-password`, `mem0-database-url`, `mem0-token`; account
//! `mem0`). A value is read from a hidden prompt on a terminal, else from stdin; never from the
//! command line, where every user of the machine could see it.

use std::io::{IsTerminal, Read, Write};

use clap::Subcommand;

use super::{ExitCode, Failure};
use crate::settings::keychain::{INSTALL_HINT, Lookup};
use crate::settings::{Keychain, Secret, SecretName};

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store a secret (read from a hidden prompt, or from stdin when piped)
    Set {
        /// jwt-secret, db-password, database-url, token or embedding-api-key
        name: String,
    },
    /// Delete a secret from the keychain
    Delete {
        /// jwt-secret, db-password, database-url, token or embedding-api-key
        name: String,
    },
    /// Which secrets the keychain holds (never their values)
    Status,
}

fn parse_name(name: &str) -> Result<SecretName, Failure> {
    SecretName::from_cli_name(name).ok_or_else(|| {
        let names: Vec<&str> = SecretName::ALL.iter().map(|s| s.cli_name()).collect();
        Failure::new(
            ExitCode::Usage,
            format!(
                "'{name}' is not a secret name: use one of {}",
                names.join(", ")
            ),
        )
    })
}

fn unavailable(reason: &str) -> Failure {
    Failure::new(
        ExitCode::Other,
        format!("the OS keychain cannot be used ({reason}): {INSTALL_HINT}"),
    )
}

pub fn run(command: &SecretCommand, keychain: &Keychain) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match command {
        SecretCommand::Set { name } => {
            let name = parse_name(name)?;
            keychain.availability().map_err(|r| unavailable(&r))?;
            let value = read_value(name)?;
            keychain.set(name, &value).map_err(|r| unavailable(&r))?;
            let _ = writeln!(
                out,
                "Stored {} in the keychain (service {}, account mem0).",
                name.cli_name(),
                name.keychain_service()
            );
        }
        SecretCommand::Delete { name } => {
            let name = parse_name(name)?;
            match keychain.delete(name).map_err(|r| unavailable(&r))? {
                true => {
                    let _ = writeln!(out, "Deleted {} from the keychain.", name.cli_name());
                }
                false => {
                    let _ = writeln!(
                        out,
                        "The keychain holds no {}; nothing to delete.",
                        name.cli_name()
                    );
                }
            }
        }
        SecretCommand::Status => {
            if let Err(reason) = keychain.availability() {
                let _ = writeln!(out, "OS keychain: unavailable ({reason}).\n{INSTALL_HINT}.");
                return Ok(());
            }
            let _ = writeln!(out, "OS keychain: available (account mem0)");
            for name in SecretName::ALL {
                let state = match keychain.get(name) {
                    Lookup::Found(_) => "stored".to_string(),
                    Lookup::Missing => "not stored".to_string(),
                    Lookup::Unavailable(reason) => format!("unreadable ({reason})"),
                };
                let _ = writeln!(
                    out,
                    "  {:<13} service {:<18} {state}",
                    name.cli_name(),
                    name.keychain_service()
                );
            }
        }
    }
    Ok(())
}

/// A hidden prompt on a terminal; otherwise all of stdin with one trailing newline trimmed.
fn read_value(name: SecretName) -> Result<Secret, Failure> {
    let value = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(format!("{} (input hidden): ", name.cli_name())).map_err(
            |e| {
                Failure::new(
                    ExitCode::Other,
                    format!("cannot read from the terminal: {e}"),
                )
            },
        )?
    } else {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Failure::new(ExitCode::Other, format!("cannot read stdin: {e}")))?;
        crate::settings::secret_file::trim_line_end(&text).to_owned()
    };
    if value.is_empty() {
        return Err(Failure::new(
            ExitCode::Usage,
            format!(
                "no value given for {}: type it at the prompt or pipe it on stdin",
                name.cli_name()
            ),
        ));
    }
    if name == SecretName::JwtSecret && value.len() < crate::settings::MIN_JWT_SECRET_BYTES {
        return Err(Failure::new(
            ExitCode::Usage,
            format!(
                "the JWT secret must be at least {} bytes (it was {}): generate one with `openssl rand -base64 48`",
                crate::settings::MIN_JWT_SECRET_BYTES,
                value.len()
            ),
        ));
    }
    Ok(Secret::new(value))
}
