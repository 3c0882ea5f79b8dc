//! Names people read in lists, logs and the audit log (user ids, token names, tool names): which
//! characters may not be in them, and how an untrusted one is echoed back. Bidirectional
//! controls (U+202A–U+202E, U+2066–U+2069) and the other invisible format and control
//! characters make such output lie (`alice\u{202E}nimda` reads as another name), so an
//! identifier holding one is refused; an echoed name is escaped and cut short.

use unicode_general_category::{GeneralCategory, get_general_category};

/// Longest part of an untrusted name that an error message repeats, in characters.
pub const ECHO_CHARS: usize = 64;

/// Whether `c` is invisible or changes how the text around it is shown: a control character
/// (Cc), a format character (Cf: bidirectional controls, zero-width characters, the BOM), a
/// line or paragraph separator, or an unassigned or private-use code point.
pub fn is_hidden(c: char) -> bool {
    matches!(
        get_general_category(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::Unassigned
            | GeneralCategory::PrivateUse
            | GeneralCategory::Surrogate
    )
}

/// The first hidden character of `text` (see [`is_hidden`]), to name in an error.
pub fn first_hidden(text: &str) -> Option<char> {
    text.chars().find(|&c| is_hidden(c))
}

/// `c` as an error names it: `U+202E`.
pub fn code_point(c: char) -> String {
    format!("U+{:04X}", c as u32)
}

/// An untrusted name as an error message repeats it: hidden characters escaped, at most
/// [`ECHO_CHARS`] characters, `…` when cut.
pub fn echo(text: &str) -> String {
    let mut shown = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == ECHO_CHARS {
            shown.push('…');
            break;
        }
        if is_hidden(c) {
            shown.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            shown.push(c);
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_and_other_invisible_characters_are_hidden() {
        for c in [
            '\u{202A}',
            '\u{202B}',
            '\u{202C}',
            '\u{202D}',
            '\u{202E}',
            '\u{2066}',
            '\u{2067}',
            '\u{2068}',
            '\u{2069}',
            '\u{200B}',
            '\u{200E}',
            '\u{200F}',
            '\u{061C}',
            '\u{FEFF}',
            '\u{2028}',
            '\u{2029}',
            '\u{0000}',
            '\u{001B}',
            '\u{007F}',
            '\u{0085}',
            '\u{E000}',
            '\u{E0041}',
        ] {
            assert!(is_hidden(c), "{}", code_point(c));
        }
        for c in ['a', 'é', 'ß', '日', '@', '.', '-', ' ', 'ا'] {
            assert!(!is_hidden(c), "{c}");
        }
        assert_eq!(first_hidden("alice\u{202E}nimda"), Some('\u{202E}'));
        assert_eq!(code_point('\u{202E}'), "U+202E");
    }

    #[test]
    fn echoes_are_escaped_and_cut() {
        assert_eq!(echo("add_memory"), "add_memory");
        assert_eq!(echo("a\u{202E}b\n"), "a\\u{202e}b\\u{a}");
        let long = "x".repeat(100_000);
        let shown = echo(&long);
        assert_eq!(shown.chars().count(), ECHO_CHARS + 1);
        assert!(shown.ends_with('…'));
    }
}
