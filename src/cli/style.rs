//! How command output looks on a terminal: the ✓ / ⚠ / ✗ marks and a little emphasis, in
//! colour only when the stream is a terminal and `NO_COLOR` is unset (<https://no-color.org>), so
//! pipes, files and tests get plain text.

use std::io::IsTerminal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    color: bool,
}

const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const RED: &str = "\x1b[31m";
const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

impl Style {
    #[cfg(test)]
    pub const PLAIN: Style = Style { color: false };

    fn for_terminal(is_terminal: bool) -> Style {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Style {
            color: is_terminal && !no_color,
        }
    }

    pub fn stdout() -> Style {
        Style::for_terminal(std::io::stdout().is_terminal())
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("{code}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }

    pub fn pass(self) -> String {
        self.paint(GREEN, "✓")
    }

    pub fn warn(self) -> String {
        self.paint(YELLOW, "⚠")
    }

    pub fn fail(self) -> String {
        self.paint(RED, "✗")
    }

    pub fn bold(self, text: &str) -> String {
        self.paint(BOLD, text)
    }

    pub fn dim(self, text: &str) -> String {
        self.paint(DIM, text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_has_no_escape_codes() {
        let plain = Style::PLAIN;
        assert_eq!(plain.pass(), "✓");
        assert_eq!(plain.fail(), "✗");
        assert_eq!(plain.bold("x"), "x");
        let coloured = Style { color: true };
        assert!(coloured.pass().starts_with('\x1b'));
    }
}
