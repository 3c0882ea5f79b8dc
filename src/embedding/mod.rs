//! Embedding providers: turn texts into vectors for semantic search. One trait,
//! [`Embedder`], with the `builtin` static model ([`builtin`]) and any OpenAI-compatible
//! endpoint ([`openai`]) behind it; `none` is no
//! embedder at all. Vectors are L2-normalized, so a dot product is their cosine similarity;
//! [`codec`] turns them into the bytes the store keeps.

pub mod builtin;
pub mod codec;
pub mod install;
pub mod openai;
pub mod token_table;
pub mod tokens;
pub mod weights_file;
pub mod wordpiece;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;

use crate::settings::EmbeddingProvider;

/// Why a provider could not load or embed. `Display` says what failed and how to fix it; it
/// never holds a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EmbedError(pub String);

/// Something that turns texts into vectors.
#[async_trait]
pub trait Embedder: Send + Sync + fmt::Debug {
    /// Names the model, stable across processes and machines that use the same one, e.g.
    /// `builtin:3f2a9c01d4e5` (a hash of the weights) or `openai:all-minilm`. Vectors of
    /// different model ids are never compared.
    fn model_id(&self) -> &str;

    /// Cosine similarity below which a text is not a match by meaning alone (it may still
    /// be found by its words). Models spread unrelated texts differently: this is the
    /// model family's, measured on the retrieval set of `scripts/embedding-quality.py`.
    fn min_similarity(&self) -> f32;

    /// Share (0..=1) of a search's fused score given to this model's similarity, the rest
    /// going to the lexical score: a model whose similarities separate answers from the rest
    /// well earns more. Measured per model family on the dev split of
    /// `scripts/search_set.py` with `scripts/fusion-tune.py` (see `service::fusion`).
    fn vector_weight(&self) -> f64;

    /// One L2-normalized vector per text, in order.
    ///
    /// Errors: the provider failed (unreachable, refused, answered nonsense); nothing partial.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// Loads the configured provider: `Ok(None)` for `none`. Slow for `builtin` (reads and
/// parses the model, tens of milliseconds): call it after the MCP handshake.
///
/// Errors: the model directory is missing or not a model2vec model.
pub async fn load(provider: &EmbeddingProvider) -> Result<Option<Arc<dyn Embedder>>, EmbedError> {
    match provider {
        EmbeddingProvider::None => Ok(None),
        EmbeddingProvider::Builtin { model_dir } => {
            let dir = model_dir.clone();
            let model = tokio::task::spawn_blocking(move || builtin::BuiltinModel::load(&dir))
                .await
                .map_err(|e| EmbedError(format!("loading the embedding model failed: {e}")))??;
            Ok(Some(Arc::new(model)))
        }
        EmbeddingProvider::OpenAi {
            url,
            model,
            api_key,
        } => Ok(Some(Arc::new(openai::OpenAiEmbedder::new(
            url,
            model,
            api_key.clone(),
        )))),
    }
}

/// Scales `vector` to unit length (a zero vector stays zero).
pub fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
}
