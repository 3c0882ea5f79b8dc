//! Text to index terms for the in-process ranking: the words search sees (folded, unspaced
//! scripts as character pairs, symbols as words: `crate::memory::search_text`), stop words
//! dropped, and plain English words cut to their stem by the Snowball English stemmer (the
//! algorithm PostgreSQL's `english` configuration uses), so `deploying` and `deploys` meet at
//! `deploy`. Memories and queries go through the same steps.

use rust_stemmers::{Algorithm, Stemmer};

use crate::memory::search_text;
use crate::store::is_stopword;

/// Left by possessives and contractions (`Maria's`, `don't`): PostgreSQL's english stop list
/// drops them too.
const CLITICS: [&str; 2] = ["s", "t"];

/// Most terms a query is ranked by (the rest of a very long query is ignored).
pub const MAX_QUERY_TERMS: usize = 32;

/// Turns words into index terms; holds the stemmer (cheap to create, kept for reuse).
pub struct Analyzer {
    stemmer: Stemmer,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Analyzer(english)")
    }
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer {
            stemmer: Stemmer::create(Algorithm::English),
        }
    }
}

impl Analyzer {
    /// The term one search word stands for, or `None` for a stop word.
    fn term(&self, word: &str) -> Option<String> {
        if is_stopword(word) || CLITICS.contains(&word) {
            return None;
        }
        // Only plain ASCII words have an English stem; numbers, folded non-English words,
        // character pairs and symbol words are kept as they are.
        if word.bytes().all(|b| b.is_ascii_alphabetic()) {
            Some(self.stemmer.stem(word).into_owned())
        } else {
            Some(word.to_string())
        }
    }

    /// The terms of a memory's content, in text order, repeats kept (they count).
    pub fn document_terms(&self, content: &str) -> Vec<String> {
        search_text::words(content)
            .iter()
            .filter_map(|w| self.term(w))
            .collect()
    }

    /// The distinct terms of a query, at most [`MAX_QUERY_TERMS`], in the query's order.
    pub fn query_terms(&self, query: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for word in search_text::words(query) {
            if let Some(term) = self.term(&word)
                && !out.contains(&term)
            {
                out.push(term);
                if out.len() == MAX_QUERY_TERMS {
                    break;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memories_and_queries_meet_at_stems() {
        let analyzer = Analyzer::default();
        assert_eq!(
            analyzer.document_terms("Deploys go through Fly.io from main; Maria's team deploying"),
            vec![
                "deploy", "go", "through", "fli", "io", "main", "maria", "team", "deploy"
            ]
        );
        assert_eq!(
            analyzer.query_terms("What did Maria's team decide about deploying?"),
            vec!["maria", "team", "decid", "deploy"]
        );
        // Folded, paired and symbol words are kept whole.
        assert_eq!(
            analyzer.document_terms("Office in Zürich, 部署は東京 🚀 v2"),
            vec![
                "offic", "zurich", "部署", "署は", "は東", "東京", "sym1f680", "v2"
            ]
        );
        assert_eq!(analyzer.query_terms("Zürich"), vec!["zurich"]);
        // Hangul and kana with voicing marks are kept as typed, like the memories' pairs.
        assert_eq!(
            analyzer.query_terms("서울 リポジトリ")[..2],
            ["서울", "リポ"]
        );
    }
}
