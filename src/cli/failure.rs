//! How a command fails: the documented exit code and one line for stderr. Errors of the layers
//! below turn into a [`Failure`] here, in one place, so each command only says `?`.

use crate::auth::AuthError;
use crate::auth::tokens::TokenError;
use crate::problem::Problem;
use crate::store::StoreError;

/// Exit codes, as documented in `--help` and the README.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Other = 1,
    Usage = 2,
    Auth = 3,
    Database = 4,
}

/// A command that failed: the exit code and one sentence saying what failed and how to fix it.
#[derive(Debug)]
pub struct Failure {
    pub code: ExitCode,
    pub message: String,
}

impl Failure {
    pub fn new(code: ExitCode, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }
}

impl From<crate::settings::SettingsError> for Failure {
    fn from(error: crate::settings::SettingsError) -> Self {
        error.problem.into()
    }
}

impl From<StoreError> for Failure {
    /// Database failures exit with 4 and say how to fix the usual causes; settings that cannot
    /// form a connection are a configuration error (2), not an outage.
    fn from(error: StoreError) -> Self {
        let code = match error {
            StoreError::InvalidUrl(_) | StoreError::NotPrivate(_) => ExitCode::Usage,
            _ => ExitCode::Database,
        };
        Failure::new(code, error.problem().sentence())
    }
}

impl From<AuthError> for Failure {
    /// Refused credentials exit with 3; a token table that cannot be read is a database failure.
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::Store(e) => e.into(),
            e => Failure::new(ExitCode::Auth, e.to_string()),
        }
    }
}

impl From<TokenError> for Failure {
    /// Usage errors (2) for a reference or permission set that cannot be used, 3 when there is
    /// no parent token to mint from, 1 for the rest; refused credentials and database failures
    /// as above.
    fn from(error: TokenError) -> Self {
        let code = match error {
            TokenError::Auth(e) => return e.into(),
            TokenError::Store(e) => return e.into(),
            TokenError::NotAReference { .. }
            | TokenError::Ambiguous { .. }
            | TokenError::BeyondParent { .. } => ExitCode::Usage,
            TokenError::NoParentToken => ExitCode::Auth,
            TokenError::Random(_)
            | TokenError::NotFound { .. }
            | TokenError::Gone { .. }
            | TokenError::Jwt(_) => ExitCode::Other,
        };
        Failure::new(code, error.to_string())
    }
}

impl From<Problem> for Failure {
    /// A problem in what the user asked for or configured: a usage error (exit 2).
    fn from(problem: Problem) -> Self {
        Failure::new(ExitCode::Usage, problem.sentence())
    }
}
