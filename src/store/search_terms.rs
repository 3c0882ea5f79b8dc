//! Turns free text from a model into search terms that can never be a syntax error: plain words
//! for the full-text index (stemmed, prefix-matched), and literal fragments for a substring
//! fallback that finds what stemmers mangle (identifiers, file names, version strings).

/// Words too common to rank by; PostgreSQL's english configuration drops these itself, SQLite
/// FTS5 has no stop list.
const STOPWORDS: &[&str] = &[
    "a", "about", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by",
    "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "how", "i", "if",
    "in", "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "should",
    "so", "that", "the", "their", "them", "then", "there", "these", "they", "this", "to", "us",
    "was", "we", "were", "what", "when", "where", "which", "who", "why", "will", "with", "would",
    "you", "your",
];

/// True for a word too common to rank by (lowercase).
pub fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

const MAX_WORDS: usize = 32;
const MAX_FRAGMENTS: usize = 16;
const MIN_FRAGMENT_CHARS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchTerms {
    /// Lowercase runs of letters and digits, stop words removed.
    pub words: Vec<String>,
    /// Whitespace-separated pieces that hold punctuation inside (`pnpm-lock.yaml`, `v1.2.3`,
    /// `snake_case`, `src/main.rs`), stripped of surrounding punctuation, lowercase. Plain words
    /// are left to the full-text index: matching them as substrings would scan every row.
    pub fragments: Vec<String>,
}

impl SearchTerms {
    pub fn parse(query: &str) -> Self {
        let mut words: Vec<String> = Vec::new();
        // Folded, with scripts written without spaces cut into pairs and symbols as words
        // (see `memory::search_text`), matching what the index holds for each memory.
        for word in crate::memory::search_text::query_words(query) {
            if !STOPWORDS.contains(&word.as_str()) && !words.contains(&word) {
                words.push(word);
            }
        }
        words.truncate(MAX_WORDS);

        let mut fragments: Vec<String> = Vec::new();
        for piece in query.split_whitespace() {
            let piece = piece
                .trim_matches(|c: char| !c.is_alphanumeric() && !"_/~@#$".contains(c))
                .to_lowercase();
            if piece.chars().count() >= MIN_FRAGMENT_CHARS
                && piece.chars().any(|c| !c.is_alphanumeric())
                && !STOPWORDS.contains(&piece.as_str())
                && !fragments.contains(&piece)
            {
                fragments.push(piece);
            }
        }
        fragments.truncate(MAX_FRAGMENTS);
        SearchTerms { words, fragments }
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.fragments.is_empty()
    }

    /// A `to_tsquery` expression: any word, each as a prefix. Words hold only letters and digits,
    /// so nothing in them is tsquery syntax.
    pub fn tsquery(&self) -> String {
        self.words
            .iter()
            .map(|w| format!("{w}:*"))
            .collect::<Vec<_>>()
            .join(" | ")
    }

    /// An FTS5 MATCH expression: any word, each a quoted prefix phrase, so AND/OR/NOT/NEAR and
    /// punctuation in the query are taken literally.
    pub fn fts5_query(&self) -> String {
        self.words
            .iter()
            .map(|w| format!("\"{}\"*", w.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(" OR ")
    }

    /// `%fragment%` LIKE patterns with `\` escaping `%`, `_` and `\` itself.
    pub fn like_patterns(&self) -> Vec<String> {
        self.fragments
            .iter()
            .map(|f| {
                let mut pattern = String::with_capacity(f.len() + 2);
                pattern.push('%');
                for c in f.chars() {
                    if matches!(c, '%' | '_' | '\\') {
                        pattern.push('\\');
                    }
                    pattern.push(c);
                }
                pattern.push('%');
                pattern
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_becomes_plain_terms() {
        let cases: &[(&str, &[&str], &[&str])] = &[
            ("pnpm", &["pnpm"], &[]),
            (
                "a:b:c ~/.config",
                &["b", "c", "config"],
                &["a:b:c", "~/.config"],
            ),
            (
                "\"unbalanced (quote* AND -x OR y NEAR: z",
                &["unbalanced", "quote", "x", "y", "near", "z"],
                &[],
            ),
            ("What does THE repo use?", &["repo", "use"], &[]),
            (
                "pnpm-lock.yaml v1.2.3 snake_case",
                &["pnpm", "lock", "yaml", "v1", "2", "3", "snake", "case"],
                &["pnpm-lock.yaml", "v1.2.3", "snake_case"],
            ),
            ("!!! ---", &[], &[]),
        ];
        for (query, words, fragments) in cases {
            let terms = SearchTerms::parse(query);
            assert_eq!(terms.words, *words, "{query}");
            assert_eq!(terms.fragments, *fragments, "{query}");
        }
    }

    #[test]
    fn renderings_quote_and_escape() {
        let terms = SearchTerms::parse("50%_off a\\b deploy");
        assert_eq!(terms.tsquery(), "50:* | off:* | b:* | deploy:*");
        assert_eq!(
            terms.fts5_query(),
            "\"50\"* OR \"off\"* OR \"b\"* OR \"deploy\"*"
        );
        assert_eq!(terms.like_patterns(), vec!["%50\\%\\_off%", "%a\\\\b%"]);
    }
}
