//! One line of the doctor's report: a name, ✓ / ⚠ / ✗, what was found and, for a problem, the
//! fix. The same record is printed as text or as JSON (`--json`).

use serde::Serialize;

use crate::cli::style::Style;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Status {
    Pass,
    Warn,
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub warning: bool,
    pub detail: String,
    pub fix: Option<String>,
}

impl Check {
    pub(super) fn new(name: impl Into<String>, status: Status, detail: impl Into<String>) -> Self {
        Check {
            name: name.into(),
            ok: status != Status::Fail,
            warning: status == Status::Warn,
            detail: detail.into(),
            fix: None,
        }
    }

    pub(super) fn pass(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Check::new(name, Status::Pass, detail)
    }

    pub(super) fn warn(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Check::new(name, Status::Warn, detail).fix(fix)
    }

    pub(super) fn fail(
        name: impl Into<String>,
        detail: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Check::new(name, Status::Fail, detail).fix(fix)
    }

    /// Sets the fix; an empty one is none.
    pub(super) fn fix(mut self, fix: impl Into<String>) -> Self {
        let fix = fix.into();
        self.fix = (!fix.is_empty()).then_some(fix);
        self
    }

    fn status(&self) -> Status {
        match (self.ok, self.warning) {
            (false, _) => Status::Fail,
            (true, true) => Status::Warn,
            (true, false) => Status::Pass,
        }
    }

    /// The line as printed: `✗ name: detail — fix: fix`.
    pub(super) fn line(&self, style: Style) -> String {
        let mark = match self.status() {
            Status::Pass => style.pass(),
            Status::Warn => style.warn(),
            Status::Fail => style.fail(),
        };
        let mut line = format!("{mark} {}: {}", style.bold(&self.name), self.detail);
        if let Some(fix) = &self.fix {
            line.push_str(&format!(" — fix: {fix}"));
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_the_mark_and_the_fix() {
        let line = Check::fail("token", "revoked", "create a new one").line(Style::PLAIN);
        assert_eq!(line, "✗ token: revoked — fix: create a new one");
        assert_eq!(
            Check::pass("database", "ok").line(Style::PLAIN),
            "✓ database: ok"
        );
        assert!(
            Check::warn("project", "home", "set PROJECT_DIR")
                .line(Style::PLAIN)
                .starts_with("⚠ project: home")
        );
    }
}
