//! The `openai` provider: any OpenAI-compatible `POST {url}/embeddings` endpoint (Ollama,
//! LM Studio, llama.cpp, vLLM, OpenAI). The API key, when set, goes only into the
//! `Authorization` header: never into a log line or an error. Each request has a deadline
//! ([`TIMEOUT`]); `reindex` sends texts in batches.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use super::{EmbedError, Embedder, normalize};
use crate::settings::Secret;

/// How long one request may take, connecting included. A search waits for at most this
/// before it goes on lexically.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// The endpoint and model.
pub struct OpenAiEmbedder {
    endpoint: String,
    model: String,
    id: String,
    api_key: Option<Secret>,
    agent: Arc<ureq::Agent>,
}

impl std::fmt::Debug for OpenAiEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiEmbedder")
            .field("endpoint", &self.endpoint)
            .field("model", &self.model)
            .field("api_key", &self.api_key)
            .finish()
    }
}

#[derive(Deserialize)]
struct Response {
    data: Vec<Item>,
}

#[derive(Deserialize)]
struct Item {
    embedding: Vec<f32>,
    #[serde(default)]
    index: Option<usize>,
}

impl OpenAiEmbedder {
    /// A client for `{url}/embeddings` serving `model`; nothing is sent yet.
    pub fn new(url: &str, model: &str, api_key: Option<Secret>) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .http_status_as_error(false)
            .build();
        OpenAiEmbedder {
            endpoint: format!("{}/embeddings", url.trim_end_matches('/')),
            model: model.to_owned(),
            id: format!("openai:{model}"),
            api_key,
            agent: Arc::new(config.new_agent()),
        }
    }

    fn post(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let body = serde_json::json!({ "model": self.model, "input": texts }).to_string();
        let mut request = self
            .agent
            .post(&self.endpoint)
            .header("Content-Type", "application/json");
        if let Some(key) = &self.api_key {
            request = request.header("Authorization", &format!("Bearer {}", key.expose()));
        }
        let mut response = request.send(body.as_bytes()).map_err(|e| {
            EmbedError(format!(
                "the embedding endpoint {} did not answer: {e}; check MEM0_EMBEDDING_URL and that the server runs",
                self.endpoint
            ))
        })?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| {
                EmbedError(format!(
                    "reading the answer of {} failed: {e}",
                    self.endpoint
                ))
            })?;
        match status {
            200..=299 => {}
            401 | 403 => {
                return Err(EmbedError(format!(
                    "the embedding endpoint {} refused the API key (HTTP {status}); set MEM0_EMBEDDING_API_KEY to a key it accepts",
                    self.endpoint
                )));
            }
            _ => {
                let excerpt: String = text.chars().take(200).collect();
                return Err(EmbedError(format!(
                    "the embedding endpoint {} answered HTTP {status} for model '{}': {excerpt}",
                    self.endpoint, self.model
                )));
            }
        }
        let parsed: Response = serde_json::from_str(&text).map_err(|e| {
            EmbedError(format!(
                "the embedding endpoint {} answered something other than an embeddings list: {e}",
                self.endpoint
            ))
        })?;
        if parsed.data.len() != texts.len() {
            return Err(EmbedError(format!(
                "the embedding endpoint {} returned {} vectors for {} texts",
                self.endpoint,
                parsed.data.len(),
                texts.len()
            )));
        }
        let mut items = parsed.data;
        if items.iter().all(|i| i.index.is_some()) {
            items.sort_by_key(|i| i.index);
        }
        Ok(items
            .into_iter()
            .map(|item| {
                let mut v = item.embedding;
                normalize(&mut v);
                v
            })
            .collect())
    }
}

#[async_trait]
impl Embedder for OpenAiEmbedder {
    fn model_id(&self) -> &str {
        &self.id
    }

    /// Sentence-transformer models (all-MiniLM-L6-v2) score unrelated texts up to about
    /// 0.1 and paraphrases from about 0.2.
    fn min_similarity(&self) -> f32 {
        0.18
    }

    /// A sentence-transformer reads the whole text: on the dev split its similarities alone
    /// beat words, and equal weights beat either side alone.
    fn vector_weight(&self) -> f64 {
        0.5
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let this = OpenAiEmbedder {
            endpoint: self.endpoint.clone(),
            model: self.model.clone(),
            id: self.id.clone(),
            api_key: self.api_key.clone(),
            agent: self.agent.clone(),
        };
        let texts = texts.to_vec();
        tokio::task::spawn_blocking(move || this.post(&texts))
            .await
            .map_err(|e| EmbedError(format!("the embedding request failed: {e}")))?
    }
}
