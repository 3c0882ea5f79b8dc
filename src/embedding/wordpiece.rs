//! A WordPiece vocabulary for the `tokenizers` pipeline that holds each token once.
//!
//! `tokenizers`' own `WordPiece` keeps two hash maps of owned strings (token → id and
//! id → token, the second for decoding): about 6 MB for BERT's 30k tokens, most of what the
//! builtin model costs besides its table. A static model never decodes, so this one keeps a
//! single map of boxed strings (about 2.5 MB) and finds a token by id by walking it, which
//! only the tokenizer's added-token bookkeeping does, at load. Splitting a word is the
//! library's algorithm (greedy longest match first, the rest of a word marked by the
//! continuing-subword prefix, a word that cannot be split or is too long becoming the unknown
//! token), so the ids are the same: the tokenizer's tests check it against the library.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tokenizers::models::wordpiece::WordPieceTrainer;
use tokenizers::{Model, Result, Token};

/// A WordPiece vocabulary and how words are split over it.
pub struct WordPieceVocab {
    vocab: HashMap<Box<str>, u32, ahash::RandomState>,
    unk_token: String,
    unk_id: u32,
    continuing_subword_prefix: String,
    max_input_chars_per_word: usize,
}

impl std::fmt::Debug for WordPieceVocab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordPieceVocab")
            .field("tokens", &self.vocab.len())
            .field("unk_token", &self.unk_token)
            .finish()
    }
}

impl WordPieceVocab {
    /// A vocabulary whose unknown token is `unk_token`; words of more than
    /// `max_input_chars_per_word` characters become it whole.
    ///
    /// Errors: `unk_token` is not in `vocab`; the message names it.
    pub fn new(
        vocab: HashMap<Box<str>, u32, ahash::RandomState>,
        unk_token: String,
        continuing_subword_prefix: String,
        max_input_chars_per_word: usize,
    ) -> std::result::Result<Self, String> {
        let unk_id = *vocab
            .get(unk_token.as_str())
            .ok_or_else(|| format!("its unknown token `{unk_token}` is not in its vocabulary"))?;
        Ok(WordPieceVocab {
            vocab,
            unk_token,
            unk_id,
            continuing_subword_prefix,
            max_input_chars_per_word,
        })
    }

    /// The id of the unknown token.
    pub fn unk_id(&self) -> u32 {
        self.unk_id
    }

    fn unknown(&self, word: &str) -> Vec<Token> {
        vec![Token::new(
            self.unk_id,
            self.unk_token.clone(),
            (0, word.len()),
        )]
    }
}

impl Model for WordPieceVocab {
    type Trainer = WordPieceTrainer;

    fn tokenize(&self, word: &str) -> Result<Vec<Token>> {
        if word.chars().count() > self.max_input_chars_per_word {
            return Ok(self.unknown(word));
        }
        let mut tokens = Vec::new();
        // The candidate piece, with the prefix when it continues a word; reused.
        let mut piece = String::with_capacity(self.continuing_subword_prefix.len() + word.len());
        let mut start = 0;
        while start < word.len() {
            let mut end = word.len();
            let found = loop {
                piece.clear();
                if start > 0 {
                    piece.push_str(&self.continuing_subword_prefix);
                }
                piece.push_str(&word[start..end]);
                if let Some(&id) = self.vocab.get(piece.as_str()) {
                    break Some(id);
                }
                // One character shorter; none left: the word cannot be split.
                match word[start..end].chars().next_back() {
                    Some(c) if end - c.len_utf8() > start => end -= c.len_utf8(),
                    _ => break None,
                }
            };
            let Some(id) = found else {
                return Ok(self.unknown(word));
            };
            tokens.push(Token::new(id, piece.clone(), (start, end)));
            start = end;
        }
        Ok(tokens)
    }

    fn token_to_id(&self, token: &str) -> Option<u32> {
        self.vocab.get(token).copied()
    }

    fn id_to_token(&self, id: u32) -> Option<String> {
        self.vocab
            .iter()
            .find(|&(_, &i)| i == id)
            .map(|(token, _)| token.to_string())
    }

    fn get_vocab(&self) -> std::collections::HashMap<String, u32> {
        self.vocab
            .iter()
            .map(|(token, &id)| (token.to_string(), id))
            .collect()
    }

    fn get_vocab_size(&self) -> usize {
        self.vocab.len()
    }

    /// Not needed by a static model, which never writes its vocabulary back.
    fn save(&self, _folder: &Path, _prefix: Option<&str>) -> Result<Vec<PathBuf>> {
        Err("a static model's WordPiece vocabulary is read-only".into())
    }

    fn get_trainer(&self) -> WordPieceTrainer {
        WordPieceTrainer::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab(tokens: &[&str]) -> WordPieceVocab {
        let map = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (Box::<str>::from(*t), i as u32))
            .collect();
        WordPieceVocab::new(map, "[UNK]".into(), "##".into(), 10).unwrap()
    }

    fn split(v: &WordPieceVocab, word: &str) -> Vec<(u32, String, (usize, usize))> {
        v.tokenize(word)
            .unwrap()
            .into_iter()
            .map(|t| (t.id, t.value, t.offsets))
            .collect()
    }

    #[test]
    fn splits_longest_first_and_marks_what_continues_a_word() {
        let v = vocab(&["[UNK]", "deploy", "de", "##s", "##ploy", "ü", "##ber"]);
        assert_eq!(
            split(&v, "deploys"),
            [(1, "deploy".into(), (0, 6)), (3, "##s".into(), (6, 7))]
        );
        assert_eq!(
            split(&v, "über"),
            [(5, "ü".into(), (0, 2)), (6, "##ber".into(), (2, 5))]
        );
    }

    #[test]
    fn a_word_that_cannot_be_split_or_is_too_long_is_unknown_whole() {
        let v = vocab(&["[UNK]", "deploy", "##s"]);
        assert_eq!(split(&v, "deployx"), [(0, "[UNK]".into(), (0, 7))]);
        assert_eq!(split(&v, "xdeploy"), [(0, "[UNK]".into(), (0, 7))]);
        assert_eq!(split(&v, "deploysssss"), [(0, "[UNK]".into(), (0, 11))]);
        assert_eq!(v.token_to_id("##s"), Some(2));
        assert_eq!(v.id_to_token(1).as_deref(), Some("deploy"));
        assert_eq!(v.id_to_token(9), None);
    }

    #[test]
    fn an_unknown_token_outside_the_vocabulary_is_refused() {
        let err =
            WordPieceVocab::new(HashMap::default(), "[UNK]".into(), "##".into(), 100).unwrap_err();
        assert!(err.contains("`[UNK]`"), "{err}");
    }
}
