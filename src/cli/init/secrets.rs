//! The secrets `init` handles: the database password it was given, the token it keeps or
//! creates, and where each goes (the OS keychain, or an owner-only file in the config directory
//! that the client configuration references through `NAME_FILE`). A stored token that still
//! validates is kept, so running init again does not pile up tokens.

use std::io::Read;
use std::path::Path;

use super::report::Report;
use super::{InitArgs, Setup, other, usage};
use crate::auth::{self, Credentials, Token};
use crate::cli::Failure;

use crate::access::Permissions;
use crate::auth::tokens::{TokenRequest, issue};
use crate::cli::prompt::Prompter;
use crate::files::Written;
use crate::settings::keychain::{INSTALL_HINT, Lookup};
use crate::settings::secret_file::{self, PASSWORD_FILE, TOKEN_FILE};
use crate::settings::sources::Kept;
use crate::settings::{DatabaseTarget, Keychain, Loaded, Secret, SecretName};
use crate::store::Stores;

/// A secret known to init, and where it is kept already (`None`: it still has to be stored).
#[derive(Debug, Clone)]
pub(super) struct Known {
    pub value: Secret,
    pub stored: Option<Kept>,
}

impl Known {
    fn typed(value: Secret) -> Self {
        Known {
            value,
            stored: None,
        }
    }
}

/// Where new secrets go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    Keychain,
    File,
}

/// `--secrets`: the keychain or files; `auto` asks when a keychain is usable.
pub(super) fn place(
    args: &InitArgs,
    ask: &Prompter,
    keychain: &Keychain,
) -> Result<Place, Failure> {
    match args.secrets.as_str() {
        "keychain" => {
            keychain.availability().map_err(|reason| {
                other(format!(
                    "--secrets keychain, but the OS keychain cannot be used ({reason}): {INSTALL_HINT}; or use --secrets file"
                ))
            })?;
            Ok(Place::Keychain)
        }
        "file" => Ok(Place::File),
        _ => match keychain.availability() {
            Ok(()) => {
                let keep = ask.confirm(
                    "\nKeep secrets (the token, a database password) in the OS keychain? Otherwise they go to owner-only files in the config directory",
                    true,
                )?;
                Ok(if keep { Place::Keychain } else { Place::File })
            }
            Err(_) => Ok(Place::File),
        },
    }
}

/// Stores a secret where `place` says (`file_name`: its file in the config directory); falls
/// back from a keychain that does not take it to a file, saying so.
pub(super) fn store(
    setup: &Setup<'_>,
    name: SecretName,
    value: &Secret,
    place: Place,
    file_name: &str,
) -> Result<Kept, Failure> {
    let report = &setup.report;
    if place == Place::Keychain {
        match setup.keychain.set_checked(name, value) {
            Ok(()) => {
                report.done(
                    name.cli_name(),
                    format!(
                        "stored in the OS keychain (service {}, account mem0); the server reads it from there",
                        name.keychain_service()
                    ),
                );
                return Ok(Kept::Keychain);
            }
            Err(reason) => {
                eprintln!(
                    "Note: the OS keychain did not take the {} ({reason}); writing it to an owner-only file instead.",
                    name.cli_name()
                );
            }
        }
    }
    let file = setup.config_dir.join(file_name);
    let written = secret_file::write(&file, value)
        .map_err(|e| other(format!("cannot write {}: {e}", file.display())))?;
    let note = match written {
        Written::Replaced { backup } => {
            format!(" (the previous one is kept as {})", backup.display())
        }
        _ => String::new(),
    };
    report.done(
        name.cli_name(),
        format!(
            "written to {} (readable by you only){note}; clients reference it through {}_FILE, no keychain being used",
            file.display(),
            name.env()
        ),
    );
    Ok(Kept::File(file))
}

/// The password init already knows of, and where it is kept: piped in, in effect here, or
/// where init keeps it.
pub(super) fn known_password(setup: &Setup<'_>) -> Result<Option<Known>, Failure> {
    if setup.args.db_password_stdin {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| other(format!("cannot read the password from stdin: {e}")))?;
        let text = secret_file::trim_line_end(&text);
        if text.is_empty() {
            return Err(usage(
                "--db-password-stdin was given but stdin was empty: pipe the password in",
            ));
        }
        return Ok(Some(Known::typed(Secret::new(text))));
    }
    if let Some(loaded) = setup.current {
        let resolved = &loaded.resolved;
        if let Some(password) = resolved.secret(SecretName::DbPassword) {
            return Ok(Some(Known {
                value: password,
                stored: resolved.kept(SecretName::DbPassword),
            }));
        }
        if let DatabaseTarget::Postgres(url) = &loaded.settings.database
            && let Some(password) = url.password()
        {
            return Ok(Some(Known::typed(password.clone())));
        }
    }
    let file = setup.config_dir.join(PASSWORD_FILE);
    if let Ok(password) = secret_file::read(&file) {
        return Ok(Some(Known {
            value: password,
            stored: Some(Kept::File(file)),
        }));
    }
    if let Lookup::Found(password) = setup.keychain.get(SecretName::DbPassword) {
        return Ok(Some(Known {
            value: password,
            stored: Some(Kept::Keychain),
        }));
    }
    Ok(None)
}

/// The tokens stored where init keeps them (its file, the keychain) and the one in effect.
fn stored_tokens(current: Option<&Loaded>, config_dir: &Path, keychain: &Keychain) -> Vec<Known> {
    let mut candidates: Vec<Known> = Vec::new();
    let file = config_dir.join(TOKEN_FILE);
    if let Ok(token) = secret_file::read(&file) {
        candidates.push(Known {
            value: token,
            stored: Some(Kept::File(file)),
        });
    }
    if let Lookup::Found(token) = keychain.get(SecretName::Token) {
        candidates.push(Known {
            value: token,
            stored: Some(Kept::Keychain),
        });
    }
    if let Some(loaded) = current
        && let Some(token) = &loaded.settings.token
    {
        candidates.push(Known {
            value: token.clone(),
            stored: loaded.resolved.kept(SecretName::Token),
        });
    }
    candidates
}

/// The user a stored, still usable token belongs to: the natural default on a second run.
pub(super) async fn stored_token_owner(setup: &Setup<'_>, stores: &Stores) -> Option<String> {
    for candidate in stored_tokens(setup.current, &setup.config_dir, setup.keychain) {
        let Ok(token) = Token::parse(candidate.value.expose()) else {
            continue;
        };
        if let Ok(Some(record)) = stores.tokens.token_by_hash(&token.hash()).await
            && record.status(chrono::Utc::now()) == crate::store::TokenStatus::Enabled
        {
            return Some(record.user_id);
        }
    }
    None
}

/// A token for `user_id` that works: a stored one that still validates, else a new one.
pub(super) async fn ensure_token(
    setup: &Setup<'_>,
    stores: &Stores,
    user_id: &str,
) -> Result<Known, Failure> {
    let report = &setup.report;
    let candidates = stored_tokens(setup.current, &setup.config_dir, setup.keychain);
    let mut rejected = false;
    for candidate in candidates {
        // Only database tokens are kept: a minted JWT expires by itself.
        if Token::parse(candidate.value.expose()).is_err() {
            continue;
        }
        let credentials = Credentials {
            token: Some(&candidate.value),
            user_id: Some(user_id),
            jwt_secret: None,
        };
        match auth::verify(stores.tokens.as_ref(), credentials, false).await {
            Ok(done) => {
                report.done(
                    "token",
                    format!(
                        "keeping {} for {} (still valid{})",
                        done.token.token_prefix,
                        user_id,
                        done.token
                            .expires_at
                            .map(|at| format!(", expires {}", at.format("%Y-%m-%d")))
                            .unwrap_or_default()
                    ),
                );
                return Ok(candidate);
            }
            Err(auth::AuthError::Store(e)) => return Err(e.into()),
            Err(_) => rejected = true,
        }
    }
    let token = create_token(report, stores, user_id, rejected).await?;
    Ok(Known::typed(token))
}

/// A new read,write token for a year, named after this machine.
async fn create_token(
    report: &Report,
    stores: &Stores,
    user_id: &str,
    replaces_a_stored_one: bool,
) -> Result<Secret, Failure> {
    let host = whoami::hostname().unwrap_or_else(|_| "this machine".into());
    let request = TokenRequest {
        user_id: user_id.to_owned(),
        name: Some(format!("mem0-mcp init on {host}")),
        email: None,
        expires_days: 365,
        permissions: Permissions::READ_WRITE,
        created_by: None,
    };
    let (token, record) = issue(stores.tokens.as_ref(), &request).await?;
    let why = if replaces_a_stored_one {
        " (the stored one no longer works)"
    } else {
        ""
    };
    report.done(
        "token",
        format!(
            "created {} for {user_id}{why}: read,write, expires {}",
            record.token_prefix,
            record
                .expires_at
                .map(|at| at.format("%Y-%m-%d").to_string())
                .unwrap_or_else(|| "never".into())
        ),
    );
    Ok(Secret::new(token.expose()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A token file ending in two newlines used to pass the reuse step (which trimmed every
    /// newline) and then fail the launch check (which trims one, as the server does). Both read
    /// it through one reader now: the value keeps a newline, is no token, and a new one is made.
    #[test]
    fn a_token_file_ending_in_two_newlines_is_read_as_the_server_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let token = Token::generate().unwrap();
        std::fs::write(
            dir.path().join(TOKEN_FILE),
            format!("{}\n\n", token.expose()),
        )
        .unwrap();
        let keychain = Keychain::disabled("no keychain in this test");
        let candidates = stored_tokens(None, dir.path(), &keychain);
        assert_eq!(candidates.len(), 1);
        let read = candidates[0].value.expose();
        assert_eq!(read, format!("{}\n", token.expose()));
        assert!(Token::parse(read).is_err(), "not reused as a token");
        let server_reads = secret_file::read(&dir.path().join(TOKEN_FILE)).unwrap();
        assert_eq!(server_reads.expose(), read);
    }
}
