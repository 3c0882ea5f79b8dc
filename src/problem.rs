//! A failure a person can act on, carried as two fields from the place it is made: what failed
//! (naming the input) and how to fix it. Commands print [`Problem::sentence`]; `doctor` prints
//! the two parts on their own lines. Nothing parses a message back into its parts.

use std::fmt;

/// What failed and how to fix it.
///
/// `what` names the failing input ("MEM0_DB_PORT is 'abc'"), never the value of a secret;
/// `fix` is an instruction ("use a port number such as 5432"), empty when `what` already says
/// everything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub what: String,
    pub fix: String,
}

impl Problem {
    /// A problem with its fix.
    pub fn new(what: impl Into<String>, fix: impl Into<String>) -> Self {
        Problem {
            what: what.into(),
            fix: fix.into(),
        }
    }

    /// A problem that needs no separate fix (the description says it all).
    pub fn plain(what: impl Into<String>) -> Self {
        Problem::new(what, "")
    }

    /// The one line a command prints: `what: fix`, or `what; fix` when `what` already holds a
    /// colon (so the fix does not read as part of a nested explanation).
    pub fn sentence(&self) -> String {
        if self.fix.is_empty() {
            self.what.clone()
        } else if self.what.contains(": ") {
            format!("{}; {}", self.what, self.fix)
        } else {
            format!("{}: {}", self.what, self.fix)
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sentence())
    }
}

impl std::error::Error for Problem {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentences_join_the_two_parts() {
        assert_eq!(
            Problem::new("MEM0_DB_PORT is 'abc'", "use a port number such as 5432").sentence(),
            "MEM0_DB_PORT is 'abc': use a port number such as 5432"
        );
        assert_eq!(
            Problem::new("cannot connect: refused", "check that PostgreSQL runs").sentence(),
            "cannot connect: refused; check that PostgreSQL runs"
        );
        assert_eq!(Problem::plain("done badly").sentence(), "done badly");
    }
}
