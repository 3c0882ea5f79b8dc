//! Unexpanded placeholders: a setting whose value is a variable reference the MCP client was
//! meant to expand but passed through literally (`${workspaceFolder}`, `${env:HOME}`,
//! `${input:token}`, `%APPDATA%`, `$HOME`). Such a value is never what the user meant, and used
//! as is it silently lands every such client in one shared project (`workspacefolder-…`) or
//! directory, so the resolver reports it, naming the client behaviour and the fix, and treats
//! the setting as unset (see [`super::sources::resolve`]).

use crate::problem::Problem;

/// The kind of placeholder a value holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placeholder {
    /// `${…}`: VS Code-style variables (`${workspaceFolder}`, `${env:X}`, `${input:x}`), which
    /// only some clients expand, and only in some fields.
    Editor,
    /// `%NAME%`: a Windows variable, expanded by cmd.exe only.
    Windows,
    /// `$NAME` / `~`-less shell variables, expanded by a shell only.
    Shell,
}

impl Placeholder {
    /// The placeholder in `value`, if it holds one.
    pub fn find(value: &str) -> Option<Placeholder> {
        if let Some(start) = value.find("${")
            && value[start..].contains('}')
        {
            return Some(Placeholder::Editor);
        }
        if windows_variable(value) {
            return Some(Placeholder::Windows);
        }
        if shell_variable(value) {
            return Some(Placeholder::Shell);
        }
        None
    }

    /// The placeholder's form, shown in place of a secret's value.
    pub fn shape(self) -> &'static str {
        match self {
            Placeholder::Editor => "${…}",
            Placeholder::Windows => "%…%",
            Placeholder::Shell => "$…",
        }
    }

    /// What the client did, for the warning.
    fn behaviour(self) -> &'static str {
        match self {
            Placeholder::Editor => {
                "a ${…} variable the MCP client passed through without expanding it (VS Code and Cursor expand ${workspaceFolder}, ${env:…} and ${input:…} in their own mcp.json; most other clients, and other places, pass them on literally)"
            }
            Placeholder::Windows => {
                "a %VARIABLE% that only cmd.exe expands; MCP clients start servers without a shell, so it arrived literally"
            }
            Placeholder::Shell => {
                "a $VARIABLE that only a shell expands; MCP clients start servers without a shell, so it arrived literally"
            }
        }
    }
}

/// `%NAME%` with NAME a variable name.
fn windows_variable(value: &str) -> bool {
    let mut parts = value.split('%');
    parts.next();
    let inner: Vec<&str> = parts.collect();
    // An odd piece between two `%`: %A%…
    inner.len() >= 2
        && inner
            .iter()
            .take(inner.len() - 1)
            .step_by(2)
            .any(|n| is_name(n))
}

/// `$NAME` at the start or after a `/` or `\`.
fn shell_variable(value: &str) -> bool {
    value.match_indices('$').any(|(i, _)| {
        let before_ok = i == 0 || matches!(value.as_bytes()[i - 1], b'/' | b'\\');
        let name: String = value[i + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        before_ok && is_name(&name)
    })
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The warning for setting `name` holding `shown` (the value, or a stand-in for a secret), with
/// what unsetting it means.
pub fn warning(name: &str, shown: &str, kind: Placeholder) -> Problem {
    let instead = match name {
        "PROJECT_DIR" => {
            "; it is ignored, so the project comes from the client's MCP roots or the working directory"
        }
        "PROJECT_ID" => "; it is ignored",
        "MEM0_USER_ID" => "; it is ignored, so the user is the one the token or OS names",
        _ => "; it is ignored, as if unset",
    };
    Problem::new(
        format!("{name} is '{shown}', {}{instead}", kind.behaviour()),
        format!(
            "write the real value in the client's configuration instead of the variable, or remove {name}"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_plain_values() {
        for (value, kind) in [
            ("${workspaceFolder}", Placeholder::Editor),
            ("${env:HOME}/src", Placeholder::Editor),
            ("${input:token}", Placeholder::Editor),
            ("${userHome}/x", Placeholder::Editor),
            ("%APPDATA%\\mem0", Placeholder::Windows),
            ("C:\\Users\\%USERNAME%\\repo", Placeholder::Windows),
            ("$HOME", Placeholder::Shell),
            ("$HOME/src/app", Placeholder::Shell),
            ("/srv/$PROJECT", Placeholder::Shell),
        ] {
            assert_eq!(Placeholder::find(value), Some(kind), "{value}");
        }
        for value in [
            "/home/me/src/app",
            "my-project",
            "50% done",
            "100%",
            "a$b",
            "price $5",
            "C:\\repo",
            "{workspaceFolder}",
            "alice@example.com",
        ] {
            assert_eq!(Placeholder::find(value), None, "{value}");
        }
    }
}
