//! The semantic-search check: is the configured embedding provider usable (the model loads,
//! the endpoint answers one text), and how many memories still lack a vector of its model.
//! A broken provider is a ⚠, not a ✗: search still works, lexically.

use std::time::Instant;

use super::check::Check;
use crate::service::{ProviderState, Semantic};
use crate::settings::{EmbeddingProvider, Settings};
use crate::store::Stores;

const NAME: &str = "semantic search";

pub(super) async fn embeddings_check(settings: &Settings, stores: Option<&Stores>) -> Check {
    let provider = &settings.embeddings.provider;
    let what = match provider {
        EmbeddingProvider::None => {
            return Check::pass(
                NAME,
                "off (MEM0_EMBEDDING_PROVIDER is none): search is lexical only",
            );
        }
        EmbeddingProvider::Builtin { model_dir } => {
            format!("builtin model in {}", model_dir.display())
        }
        EmbeddingProvider::OpenAi { url, model, .. } => format!("openai model '{model}' at {url}"),
    };
    let semantic = Semantic::new(provider.clone());
    let started = Instant::now();
    let Some(embedder) = semantic.embedder().await else {
        let reason = match semantic.state() {
            ProviderState::Failed { reason } => reason,
            other => format!("{other:?}"),
        };
        return Check::warn(
            NAME,
            format!("{what} does not load, so search is lexical only: {reason}"),
            match provider {
                EmbeddingProvider::OpenAi { .. } => {
                    "check MEM0_EMBEDDING_URL and that the endpoint runs, or set MEM0_EMBEDDING_PROVIDER=none"
                }
                _ => {
                    "run `mem0-mcp model install`, or point MEM0_EMBEDDING_MODEL at a model2vec model directory, or set MEM0_EMBEDDING_PROVIDER=none"
                }
            },
        );
    };
    let dims = match embedder.embed(&["doctor".to_owned()]).await {
        Ok(vectors) => vectors.first().map(Vec::len).unwrap_or_default(),
        Err(e) => {
            return Check::warn(
                NAME,
                format!("{what} fails, so search is lexical only: {e}"),
                "start the embedding server, or fix MEM0_EMBEDDING_URL / MEM0_EMBEDDING_API_KEY",
            );
        }
    };
    let model = embedder.model_id().to_owned();
    let ready = format!(
        "{what}: {model}, {dims} dimensions, ready in {} ms",
        started.elapsed().as_millis()
    );
    let counts = match stores {
        Some(stores) => stores.memories.count_unembedded(None, &model).await.ok(),
        None => None,
    };
    match counts {
        Some((missing, total)) if missing > 0 => Check::warn(
            NAME,
            format!(
                "{ready}; {missing} of {total} memories have no vector of this model (found by their words only)"
            ),
            "run `mem0-mcp reindex --all-projects`",
        ),
        Some((_, total)) => {
            Check::pass(NAME, format!("{ready}; all {total} memories have a vector"))
        }
        None => Check::pass(NAME, ready),
    }
}
