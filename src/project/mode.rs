//! `PROJECT_ID_MODE`: how the project that scopes memories is chosen.

use serde::Serialize;

/// How memories are grouped, chosen by `PROJECT_ID_MODE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProjectMode {
    /// Per user and project directory.
    Auto,
    /// Per user and `PROJECT_ID`.
    Manual,
    /// One pool shared by every user.
    Global,
}

impl ProjectMode {
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectMode::Auto => "auto",
            ProjectMode::Manual => "manual",
            ProjectMode::Global => "global",
        }
    }
}

impl std::str::FromStr for ProjectMode {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(ProjectMode::Auto),
            "manual" => Ok(ProjectMode::Manual),
            "global" => Ok(ProjectMode::Global),
            other => Err(format!(
                "PROJECT_ID_MODE '{other}' is not a mode: use auto, manual or global"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_mode_parses_case_insensitively() {
        assert_eq!("Auto".parse::<ProjectMode>(), Ok(ProjectMode::Auto));
        assert_eq!(" global ".parse::<ProjectMode>(), Ok(ProjectMode::Global));
        assert!(
            "shared"
                .parse::<ProjectMode>()
                .unwrap_err()
                .contains("shared")
        );
    }
}
