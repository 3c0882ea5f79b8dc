//! The `builtin` provider: a static embedding model in model2vec's format (`config.json`,
//! `tokenizer.json`, `model.safetensors`: a token-embedding table, mean-pooled), run in this
//! process by `model2vec-rs`. A short text takes microseconds on one core; no network, no
//! service. The model id is a hash of the weights, so two directories holding the same model
//! share vectors and a changed model never compares with the old one's.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use model2vec_rs::model::StaticModel;
use sha2::{Digest, Sha256};

use super::{EmbedError, Embedder, normalize};

/// The files a model2vec model directory holds.
pub const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Longest text embedded, in tokens (the rest is ignored).
const MAX_TOKENS: usize = 512;

/// A loaded static model.
pub struct BuiltinModel {
    model: StaticModel,
    id: String,
    dir: PathBuf,
}

impl std::fmt::Debug for BuiltinModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuiltinModel")
            .field("id", &self.id)
            .field("dir", &self.dir)
            .field("dims", &self.model.dim())
            .finish()
    }
}

impl BuiltinModel {
    /// Reads the model in `dir`.
    ///
    /// Errors: a file is missing or unreadable, or the files are not a model2vec model; the
    /// message names the directory and how to get a model.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let read = |name: &str| {
            std::fs::read(dir.join(name)).map_err(|e| {
                EmbedError(format!(
                    "cannot read the embedding model's {name} in {}: {e}; run `mem0-mcp model install`, or set MEM0_EMBEDDING_MODEL to a model2vec model directory",
                    dir.display()
                ))
            })
        };
        let config = read("config.json")?;
        let tokenizer = read("tokenizer.json")?;
        let weights = read("model.safetensors")?;
        let digest = Sha256::digest(&weights);
        let id = format!(
            "builtin:{}",
            digest[..6]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        let model = StaticModel::from_bytes(&tokenizer, &weights, &config, Some(true)).map_err(
            |e| {
                EmbedError(format!(
                    "the embedding model in {} is not a model2vec model ({e:#}); run `mem0-mcp model install`, or point MEM0_EMBEDDING_MODEL at a model2vec model directory",
                    dir.display()
                ))
            },
        )?;
        Ok(BuiltinModel {
            model,
            id,
            dir: dir.to_owned(),
        })
    }

    /// Dimensions of the vectors this model makes.
    pub fn dims(&self) -> usize {
        self.model.dim()
    }

    /// The vector of one text, L2-normalized.
    pub fn embed_one(&self, text: &str) -> Vec<f32> {
        let mut vector = self
            .model
            .encode_with_args(&[text.to_owned()], Some(MAX_TOKENS), 1)
            .pop()
            .unwrap_or_default();
        normalize(&mut vector);
        vector
    }
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
        Ok(texts.iter().map(|t| self.embed_one(t)).collect())
    }
}
