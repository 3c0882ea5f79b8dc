//! Secret files: the `NAME_FILE` files Docker and Kubernetes mount, and the owner-only files
//! `init` keeps secrets in when no keychain is used. This is the one reader, so the settings,
//! `init` and `doctor` all see the same value in the same file. The rule is the contract's:
//! one trailing newline (`\n` or `\r\n`) is trimmed, nothing else, so a file ending in two
//! newlines holds a value ending in one, everywhere.

use std::path::{Path, PathBuf};

use super::Secret;
use crate::files::{Access, Written};

/// The file in the config directory where `init` keeps the token when no keychain is used.
pub const TOKEN_FILE: &str = "token";
/// The file in the config directory where `init` keeps the database password.
pub const PASSWORD_FILE: &str = "db-password";

/// Why a secret file gives no secret.
#[derive(Debug)]
pub enum SecretFileError {
    /// Missing, unreadable or not text; the error's kind says which.
    Unreadable(std::io::Error),
    /// Nothing left once the trailing newline is trimmed.
    Empty,
}

/// Reads the secret in `path`.
///
/// # Errors
///
/// [`SecretFileError::Unreadable`] when the file cannot be read as UTF-8 text,
/// [`SecretFileError::Empty`] when it holds nothing but a newline.
pub fn read(path: &Path) -> Result<Secret, SecretFileError> {
    let text = std::fs::read_to_string(path).map_err(SecretFileError::Unreadable)?;
    let value = trim_line_end(&text);
    if value.is_empty() {
        return Err(SecretFileError::Empty);
    }
    Ok(Secret::new(value))
}

/// Trims one trailing newline (`\n` or `\r\n`): what a file written by `echo` or an editor, or
/// a value piped on stdin, ends with but does not mean.
pub fn trim_line_end(text: &str) -> &str {
    text.strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t))
        .unwrap_or(text)
}

/// Writes a secret file as [`read`] reads it back (the value and one newline), owner-only,
/// keeping a backup of a different previous content (see [`crate::files::write`]).
///
/// # Errors
///
/// The I/O error of creating the directory or writing the file.
pub fn write(path: &Path, value: &Secret) -> std::io::Result<Written> {
    crate::files::write(
        path,
        format!("{}\n", value.expose()).as_bytes(),
        Access::Private,
    )
}

/// The file `init` keeps a secret in (`file_name` is [`TOKEN_FILE`] or [`PASSWORD_FILE`]), when
/// it is there.
pub fn kept_by_init(file_name: &str) -> Option<PathBuf> {
    super::config_file::config_dir()
        .map(|dir| dir.join(file_name))
        .filter(|path| path.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trailing_newline_is_trimmed() {
        for (text, want) in [
            ("s3cret", "s3cret"),
            ("s3cret\n", "s3cret"),
            ("s3cret\r\n", "s3cret"),
            // Two newlines: the value keeps one, so a token file like this is not a token
            // anywhere (init's reuse step and the server agree).
            ("s3cret\n\n", "s3cret\n"),
            ("s3cret\r\n\r\n", "s3cret\r\n"),
            (" s3cret \n", " s3cret "),
        ] {
            assert_eq!(trim_line_end(text), want, "{text:?}");
        }
    }

    #[test]
    fn files_are_read_by_the_same_rule() {
        let dir = tempfile::tempdir().unwrap();
        let file = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let written = dir.path().join("written");
        write(&written, &Secret::new("s3cret")).unwrap();
        assert_eq!(read(&written).unwrap().expose(), "s3cret");
        assert!(!crate::files::readable_by_others(&written));
        let two_newlines = file("token", "mcp_token\n\n");
        assert_eq!(read(&two_newlines).unwrap().expose(), "mcp_token\n");
        assert!(matches!(
            read(&file("empty", "\n")),
            Err(SecretFileError::Empty)
        ));
        assert!(matches!(
            read(&dir.path().join("missing")),
            Err(SecretFileError::Unreadable(e)) if e.kind() == std::io::ErrorKind::NotFound
        ));
    }
}
