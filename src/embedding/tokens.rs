//! Turning a text into the token ids a static model sums, the way model2vec does it: the
//! model's own `tokenizer.json` through the `tokenizers` crate, without special tokens
//! (no `[CLS]`/`[SEP]`), without the file's truncation or padding; the unknown token is
//! dropped (it carries no meaning, and would pull every text with an odd word together).
//! A long text is first cut to `max_tokens × the median token length` characters, so a huge
//! input costs no more to tokenize than a text of about `max_tokens` tokens.
//!
//! A WordPiece tokenizer (BERT's, which model2vec's published models use) is put together
//! from its parts here rather than by `Tokenizer::from_bytes`, with a vocabulary of our own
//! ([`super::wordpiece`]): that loader buffers the whole `model` object twice (as serde's
//! untyped content, then as a `serde_json::Value`) before it builds the vocabulary, which for
//! 30k tokens left about 5 MB of freed memory in the process's resident set for good, and its
//! `WordPiece` keeps the vocabulary twice. The normalizer, pre-tokenizer and added tokens are
//! still the library's. Other model types go through `from_bytes`.

use std::collections::HashMap;

use serde::Deserialize;
use tokenizers::decoders::DecoderWrapper;
use tokenizers::models::ModelWrapper;
use tokenizers::normalizers::NormalizerWrapper;
use tokenizers::pre_tokenizers::PreTokenizerWrapper;
use tokenizers::processors::PostProcessorWrapper;
use tokenizers::{AddedToken, Encoding, Tokenizer, TokenizerImpl};

use super::wordpiece::WordPieceVocab;

/// The library's pipeline over our WordPiece vocabulary.
type WordPieceTokenizer = TokenizerImpl<
    WordPieceVocab,
    NormalizerWrapper,
    PreTokenizerWrapper,
    PostProcessorWrapper,
    DecoderWrapper,
>;

/// Which pipeline turns texts into ids.
#[derive(Debug)]
enum Pipeline {
    WordPiece(Box<WordPieceTokenizer>),
    Library(Box<Tokenizer>),
}

/// A model's tokenizer and what pooling needs to know about it.
#[derive(Debug)]
pub struct TextTokenizer {
    pipeline: Pipeline,
    /// The token that stands for anything not in the vocabulary, if the model has one.
    unknown: Option<u32>,
    /// Median length in bytes of the vocabulary's tokens (at least 1).
    median_token_len: usize,
}

/// The part of `tokenizer.json` that says which model it is and names the unknown token
/// (`tokenizers` keeps it private for some models: Unigram's id, WordLevel's token). The
/// vocabulary is skipped without being kept.
#[derive(Deserialize)]
struct FileHead {
    model: ModelHead,
}

#[derive(Deserialize)]
struct ModelHead {
    #[serde(rename = "type")]
    kind: Option<String>,
    unk_token: Option<String>,
    unk_id: Option<u32>,
}

/// What of a WordPiece `tokenizer.json` turns a text into ids without special tokens: the
/// post-processor (which only adds `[CLS]`/`[SEP]`), the decoder, truncation and padding are
/// left out.
#[derive(Deserialize)]
struct WordPieceFile {
    #[serde(default)]
    added_tokens: Vec<AddedToken>,
    normalizer: Option<NormalizerWrapper>,
    pre_tokenizer: Option<PreTokenizerWrapper>,
    model: WordPieceModel,
}

/// The `model` object of a WordPiece tokenizer; the defaults are `tokenizers`' own.
#[derive(Deserialize)]
struct WordPieceModel {
    #[serde(default = "default_unk_token")]
    unk_token: String,
    #[serde(default = "default_subword_prefix")]
    continuing_subword_prefix: String,
    #[serde(default = "default_max_input_chars")]
    max_input_chars_per_word: usize,
    vocab: HashMap<Box<str>, u32, ahash::RandomState>,
}

fn default_unk_token() -> String {
    "[UNK]".into()
}

fn default_subword_prefix() -> String {
    "##".into()
}

fn default_max_input_chars() -> usize {
    100
}

/// The median of the vocabulary's token lengths in bytes, at least 1.
fn median_len<'a>(tokens: impl Iterator<Item = &'a str>) -> usize {
    let mut lens: Vec<usize> = tokens.map(str::len).collect();
    lens.sort_unstable();
    lens.get(lens.len() / 2).copied().unwrap_or(1).max(1)
}

impl TextTokenizer {
    /// Loads a tokenizer from the bytes of a `tokenizer.json`.
    ///
    /// Errors: the bytes are not a tokenizer, or they name an unknown token that is not in
    /// their vocabulary; the message says which (the caller adds the file's name).
    pub fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let head: FileHead = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        if head.model.kind.as_deref() == Some("WordPiece") {
            return Self::wordpiece(bytes);
        }
        let mut tokenizer = Tokenizer::from_bytes(bytes).map_err(|e| e.to_string())?;
        tokenizer.with_truncation(None).map_err(|e| e.to_string())?;
        tokenizer.with_padding(None);
        let unknown_token = match tokenizer.get_model() {
            // The defaults are `tokenizers`' own for a file that leaves the field out.
            ModelWrapper::WordPiece(_) => Some(head.model.unk_token.unwrap_or("[UNK]".into())),
            ModelWrapper::WordLevel(_) => Some(head.model.unk_token.unwrap_or("<unk>".into())),
            ModelWrapper::BPE(_) => head.model.unk_token,
            ModelWrapper::Unigram(_) => None,
        };
        let unknown = match unknown_token {
            Some(token) => Some(Self::id_of_unknown(&tokenizer, &token)?),
            None => head.model.unk_id,
        };
        let median_token_len = median_len(tokenizer.get_vocab(false).keys().map(String::as_str));
        Ok(TextTokenizer {
            pipeline: Pipeline::Library(Box::new(tokenizer)),
            unknown,
            median_token_len,
        })
    }

    /// A WordPiece tokenizer built from its parts, as `Tokenizer::from_bytes` would build it
    /// (added tokens registered after the model, as its loader does), with the vocabulary
    /// read once and kept once.
    fn wordpiece(bytes: &[u8]) -> Result<Self, String> {
        let file: WordPieceFile = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
        let median_token_len = median_len(file.model.vocab.keys().map(|t| &**t));
        let model = WordPieceVocab::new(
            file.model.vocab,
            file.model.unk_token,
            file.model.continuing_subword_prefix,
            file.model.max_input_chars_per_word,
        )?;
        let unknown = Some(model.unk_id());
        let mut tokenizer = WordPieceTokenizer::new(model);
        tokenizer.with_normalizer(file.normalizer);
        tokenizer.with_pre_tokenizer(file.pre_tokenizer);
        tokenizer.add_tokens(&file.added_tokens);
        Ok(TextTokenizer {
            pipeline: Pipeline::WordPiece(Box::new(tokenizer)),
            unknown,
            median_token_len,
        })
    }

    /// The id of the unknown token `token`.
    ///
    /// Errors: the vocabulary does not hold it.
    fn id_of_unknown(tokenizer: &Tokenizer, token: &str) -> Result<u32, String> {
        tokenizer
            .token_to_id(token)
            .ok_or_else(|| format!("its unknown token `{token}` is not in its vocabulary"))
    }

    /// The encoding of `text`, without special tokens.
    fn encode(&self, text: &str) -> tokenizers::Result<Encoding> {
        match &self.pipeline {
            Pipeline::WordPiece(tokenizer) => tokenizer.encode_fast(text, false),
            Pipeline::Library(tokenizer) => tokenizer.encode_fast(text, false),
        }
    }

    /// Replaces `ids` with the first `max_tokens` token ids of `text`, unknown tokens left
    /// out of the result (they still count towards `max_tokens`).
    ///
    /// Errors: the tokenizer failed on this text (it does not for the pipelines model2vec
    /// models use); the message is the tokenizer's.
    pub fn ids(&self, text: &str, max_tokens: usize, ids: &mut Vec<u32>) -> Result<(), String> {
        ids.clear();
        let cut = text
            .char_indices()
            .nth(max_tokens.saturating_mul(self.median_token_len))
            .map_or(text, |(at, _)| &text[..at]);
        let encoding = self.encode(cut).map_err(|e| e.to_string())?;
        ids.extend(
            encoding
                .get_ids()
                .iter()
                .take(max_tokens)
                .filter(|&&id| Some(id) != self.unknown),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lowercasing WordPiece tokenizer over a seven-token vocabulary.
    const WORDPIECE: &str = r###"{
      "version": "1.0", "truncation": {"max_length": 2, "strategy": "LongestFirst", "stride": 0, "direction": "Right"},
      "padding": null, "added_tokens": [{"id": 1, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
      "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
      "pre_tokenizer": {"type": "BertPreTokenizer"},
      "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": [{"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [1], "tokens": ["[CLS]"]}}},
      "decoder": null,
      "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
                "vocab": {"[UNK]": 0, "[CLS]": 1, "deploy": 2, "##s": 3, "with": 4, "pnpm": 5, "fly": 6}}
    }"###;

    fn ids(tokenizer: &TextTokenizer, text: &str, max: usize) -> Vec<u32> {
        let mut out = Vec::new();
        tokenizer.ids(text, max, &mut out).unwrap();
        out
    }

    #[test]
    fn drops_unknown_and_special_tokens_and_ignores_the_files_truncation() {
        let t = TextTokenizer::from_json(WORDPIECE.as_bytes()).unwrap();
        assert_eq!(t.unknown, Some(0));
        // No [CLS] (id 1), "quickly" is unknown, the file's max_length of 2 does not apply.
        assert_eq!(ids(&t, "Deploys quickly with PNPM", 512), [2, 3, 4, 5]);
        assert_eq!(ids(&t, "   ", 512), Vec::<u32>::new());
    }

    #[test]
    fn cuts_a_long_text_to_the_median_token_length_times_the_limit() {
        let t = TextTokenizer::from_json(WORDPIECE.as_bytes()).unwrap();
        // Token lengths 3, 3, 4, 4, 5, 5, 6 bytes: the median is 4.
        assert_eq!(t.median_token_len, 4);
        // 2 tokens × 4 = 8 characters: "fly fly " and nothing after.
        assert_eq!(ids(&t, "fly fly pnpm pnpm", 2), [6, 6]);
        // 3 × 4 = 12: "fly fly pnpm".
        assert_eq!(ids(&t, "fly fly pnpm pnpm", 3), [6, 6, 5]);
    }

    #[test]
    fn a_wordpiece_tokenizer_built_from_its_parts_matches_the_librarys_loader() {
        let lean = TextTokenizer::from_json(WORDPIECE.as_bytes()).unwrap();
        let mut library = Tokenizer::from_bytes(WORDPIECE.as_bytes()).unwrap();
        library.with_truncation(None).unwrap();
        for text in [
            "Deploys quickly with PNPM",
            "[CLS] fly [UNK] deploys",
            "DÉPLOYS fly-fly.pnpm,with",
            "部署 fly 🚀 pnpm",
            &"deploy".repeat(30),
        ] {
            let want: Vec<u32> = library
                .encode_fast(text, false)
                .unwrap()
                .get_ids()
                .iter()
                .copied()
                .filter(|&id| id != 0)
                .collect();
            assert_eq!(ids(&lean, text, 512), want, "{text}");
        }
    }

    #[test]
    fn an_unknown_token_missing_from_the_vocabulary_is_refused() {
        let broken = WORDPIECE.replace(r#""unk_token": "[UNK]""#, r#""unk_token": "<nope>""#);
        let err = TextTokenizer::from_json(broken.as_bytes()).unwrap_err();
        assert!(err.contains("`<nope>` is not in its vocabulary"), "{err}");
        assert!(TextTokenizer::from_json(b"{}").is_err());
    }
}
