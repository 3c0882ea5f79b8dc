//! The `builtin` provider: a static embedding model in model2vec's format (`config.json`,
//! `tokenizer.json`, `model.safetensors`: a token-embedding table, mean-pooled), run in this
//! process. A short text takes microseconds on one core; no network, no service. The table
//! is held as int8 ([`super::token_table`]) and read from the file a row at a time
//! ([`super::weights_file`]), so a model of 30k tokens × 256 dimensions costs about 8 MB
//! of memory, at load and after. Texts are tokenized as model2vec does
//! ([`super::tokens`]); the vectors match model2vec's own to a cosine above 0.99.
//!
//! The model id is a hash of the weights file, so two directories holding the same model
//! share vectors and a changed model never compares with the old one's.

use std::io::Read;
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::token_table::TokenTable;
use super::tokens::TextTokenizer;
use super::weights_file::WeightsFile;
use super::{EmbedError, Embedder, normalize};

/// The files a model2vec model directory holds.
pub const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Longest text embedded, in tokens (the rest is ignored).
const MAX_TOKENS: usize = 512;

/// A loaded static model.
pub struct BuiltinModel {
    tokenizer: TextTokenizer,
    table: TokenTable,
    id: String,
    dir: PathBuf,
}

impl std::fmt::Debug for BuiltinModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltinModel")
            .field("id", &self.id)
            .field("dir", &self.dir)
            .field("dims", &self.table.dims())
            .field("rows", &self.table.rows())
            .finish()
    }
}

impl BuiltinModel {
    /// Reads the model in `dir`: the tokenizer, then the weights a row at a time.
    ///
    /// Errors: a file is missing or unreadable, or the files are not a model2vec model; the
    /// message names the file and how to get a model.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let not_a_model = |name: &str, why: String| {
            EmbedError(format!(
                "the embedding model's {name} in {} is not a model2vec model's ({why}); run `mem0-mcp model install`, or point MEM0_EMBEDDING_MODEL at a model2vec model directory",
                dir.display()
            ))
        };
        let unreadable = |name: &str, e: std::io::Error| {
            EmbedError(format!(
                "cannot read the embedding model's {name} in {}: {e}; run `mem0-mcp model install`, or set MEM0_EMBEDDING_MODEL to a model2vec model directory",
                dir.display()
            ))
        };
        let config =
            std::fs::read(dir.join("config.json")).map_err(|e| unreadable("config.json", e))?;
        serde_json::from_slice::<serde_json::Value>(&config)
            .map_err(|e| not_a_model("config.json", e.to_string()))?;
        let tokenizer = std::fs::read(dir.join("tokenizer.json"))
            .map_err(|e| unreadable("tokenizer.json", e))?;
        let tokenizer = TextTokenizer::from_json(&tokenizer)
            .map_err(|why| not_a_model("tokenizer.json", why))?;
        let weights_path = dir.join("model.safetensors");
        let id = model_id(&weights_path).map_err(|e| unreadable("model.safetensors", e))?;
        let table = WeightsFile::open(&weights_path)
            .and_then(|mut file| TokenTable::read(&mut file))
            .map_err(|why| not_a_model("model.safetensors", why))?;
        Ok(BuiltinModel {
            tokenizer,
            table,
            id,
            dir: dir.to_owned(),
        })
    }

    /// Dimensions of the vectors this model makes.
    pub fn dims(&self) -> usize {
        self.table.dims()
    }

    /// The vector of one text: the mean of its tokens' rows, L2-normalized. A text with no
    /// known token gets the zero vector, which matches nothing.
    ///
    /// Errors: the tokenizer failed on this text.
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        let mut ids = Vec::new();
        self.tokenizer
            .ids(text, MAX_TOKENS, &mut ids)
            .map_err(|why| {
                EmbedError(format!(
                    "the embedding model could not tokenize a text: {why}"
                ))
            })?;
        let mut vector = vec![0.0; self.table.dims()];
        // The mean's divisor is left out: normalizing removes it.
        self.table.add_rows(ids.into_iter(), &mut vector);
        normalize(&mut vector);
        Ok(vector)
    }
}

/// `builtin:` and the first 12 hex digits of the SHA-256 of the weights file, read in
/// pieces.
fn model_id(weights: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(weights)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    let digest = hasher.finalize();
    Ok(format!(
        "builtin:{}",
        digest[..6]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ))
}

#[async_trait]
impl Embedder for BuiltinModel {
    fn model_id(&self) -> &str {
        &self.id
    }

    /// Static models score unrelated texts up to about 0.25.
    fn min_similarity(&self) -> f32 {
        0.3
    }

    /// A static model's similarities are coarse (word vectors averaged, no context): on the
    /// dev split they find the answer in the top 10 less often than words do, so words lead.
    fn vector_weight(&self) -> f64 {
        0.3
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        texts.iter().map(|t| self.embed_one(t)).collect()
    }
}
