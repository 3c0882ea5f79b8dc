//! What makes text findable beyond the words a full-text index sees by itself, the same way on
//! both backends (PostgreSQL's `english` configuration and SQLite's `unicode61` tokenizer):
//!
//! - diacritics are folded: `Zürich` is also indexed as `zurich`, so either spelling finds it;
//! - scripts written without spaces (Chinese, Japanese, Korean, Thai) are cut into overlapping
//!   pairs of characters: `部署は東京` is also `部署 署は は東 東京`, so `東京` finds it;
//! - symbols such as emoji become a word of their own: `🚀` is also `sym1f680`.
//!
//! [`index_extra`] is what a memory's row stores beside its content for the index; [`query_words`]
//! turns a query's text into words that match either.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Characters of scripts written without spaces between words.
fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF          // Thai, Lao
        | 0x1100..=0x11FF        // Hangul Jamo
        | 0x3040..=0x30FF        // Hiragana, Katakana
        | 0x3130..=0x318F        // Hangul compatibility Jamo
        | 0x31F0..=0x31FF        // Katakana extensions
        | 0x3400..=0x4DBF        // CJK extension A
        | 0x4E00..=0x9FFF        // CJK unified ideographs
        | 0xAC00..=0xD7AF        // Hangul syllables
        | 0xF900..=0xFAFF        // CJK compatibility ideographs
        | 0xFF66..=0xFF9F        // half-width Katakana
        | 0x20000..=0x2FFFF      // CJK extensions B and later
    )
}

/// Symbols that carry meaning on their own (emoji, arrows, dingbats), as opposed to
/// punctuation, spaces and the joiners and selectors inside emoji sequences.
fn symbol(c: char) -> bool {
    let code = c as u32;
    code >= 0x2190
        && !c.is_alphanumeric()
        && !c.is_whitespace()
        && !matches!(code,
            0x2000..=0x206F          // general punctuation, zero-width joiner
            | 0x3000..=0x303F        // CJK punctuation
            | 0xFE00..=0xFE0F        // variation selectors
            | 0xFE30..=0xFE6F        // CJK compatibility forms, small forms
            | 0xFF00..=0xFF65        // full-width punctuation
            | 0x1F3FB..=0x1F3FF      // skin tone modifiers
            | 0xE0000..=0xE007F      // tags
        )
}

/// A word without its diacritics, lowercase: `Zürich` → `zurich`.
pub fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The words of `text` as the search sees them: plain words folded and lowercase, each run of an
/// unspaced script as its overlapping pairs (a single character alone), each symbol as
/// `sym<hex>`. In text order, repeats kept.
pub fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut run: Vec<char> = Vec::new();
    let flush_plain = |plain: &mut String, out: &mut Vec<String>| {
        let folded = fold(plain);
        if !folded.is_empty() {
            out.push(folded);
        }
        plain.clear();
    };
    let flush_run = |run: &mut Vec<char>, out: &mut Vec<String>| {
        match run.len() {
            0 => {}
            1 => out.push(run[0].to_string()),
            _ => out.extend(run.windows(2).map(|pair| pair.iter().collect::<String>())),
        }
        run.clear();
    };
    for c in text.nfc() {
        if unspaced(c) {
            flush_plain(&mut plain, &mut out);
            run.push(c);
        } else if c.is_alphanumeric() || is_combining_mark(c) {
            flush_run(&mut run, &mut out);
            plain.push(c);
        } else {
            flush_plain(&mut plain, &mut out);
            flush_run(&mut run, &mut out);
            if symbol(c) {
                out.push(format!("sym{:x}", c as u32));
            }
        }
    }
    flush_plain(&mut plain, &mut out);
    flush_run(&mut run, &mut out);
    out
}

/// What a memory stores beside its content for the full-text index: the words of the content
/// that the index would not see as such (folded spellings, pairs of unspaced scripts, symbols),
/// space-separated, each once. Empty for plain ASCII text.
pub fn index_extra(content: &str) -> String {
    let plain: Vec<String> = content
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut extra: Vec<String> = Vec::new();
    for word in words(content) {
        if !plain.contains(&word) && !extra.contains(&word) {
            extra.push(word);
        }
    }
    extra.join(" ")
}

/// The words of a query, in the same form as [`index_extra`], plus each word's own lowercase
/// spelling where folding changed it (rows stored before the extra words existed hold only that).
pub fn query_words(query: &str) -> Vec<String> {
    let mut out = words(query);
    for word in query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !w.chars().any(unspaced))
        .map(|w| w.nfc().flat_map(char::to_lowercase).collect::<String>())
    {
        if !out.contains(&word) {
            out.push(word);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_pairs_and_symbols() {
        assert_eq!(fold("Zürich"), "zurich");
        assert_eq!(fold("Zu\u{308}rich"), "zurich");
        assert_eq!(index_extra("Office in Zürich"), "zurich");
        assert_eq!(index_extra("plain ascii text"), "");
        assert_eq!(
            query_words("このリポジトリは pnpm を使う。部署は東京"),
            vec![
                "この", "のリ", "リポ", "ポジ", "ジト", "トリ", "リは", "pnpm", "を使", "使う",
                "部署", "署は", "は東", "東京"
            ]
        );
        assert_eq!(query_words("東京"), vec!["東京"]);
        assert_eq!(query_words("東"), vec!["東"]);
        assert_eq!(
            index_extra("Release checklist: 🚀 means shipped"),
            "sym1f680"
        );
        assert_eq!(query_words("🚀"), vec!["sym1f680"]);
        // Joiners, selectors and skin tones are not words; the symbols around them are.
        assert_eq!(query_words("👍🏽 ❤️"), vec!["sym1f44d", "sym2764"]);
        assert_eq!(query_words("a — b … c"), vec!["a", "b", "c"]);
    }
}
