//! How a command fails: the documented exit code and one line for stderr. Errors of the layers
//! below turn into a [`Failure`] here, in one place, so each command only says `?`.

use crate::problem::Problem;

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

impl From<Problem> for Failure {
    /// A problem in what the user asked for or configured: a usage error (exit 2).
    fn from(problem: Problem) -> Self {
        Failure::new(ExitCode::Usage, problem.sentence())
    }
}
