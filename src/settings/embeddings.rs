//! The semantic-search settings: `MEM0_EMBEDDING_PROVIDER` (`none`, `builtin`, `openai`),
//! `MEM0_EMBEDDING_MODEL`, `MEM0_EMBEDDING_URL` and `MEM0_MODEL_URL`, checked once at startup.

use std::path::{Path, PathBuf};

use super::{Resolved, Secret, SecretName, SettingsError};

/// Where embedding vectors come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbeddingProvider {
    /// Lexical search only.
    None,
    /// A local static model (model2vec format) in `model_dir`: no network, no service.
    Builtin {
        /// `MEM0_EMBEDDING_MODEL` when set, else `models/potion-base-8M` in the data directory.
        model_dir: PathBuf,
    },
    /// An OpenAI-compatible `/v1/embeddings` endpoint.
    OpenAi {
        /// Base URL, e.g. `http://127.0.0.1:11434/v1` (`/embeddings` is appended).
        url: String,
        /// The model name sent with each request.
        model: String,
        /// `MEM0_EMBEDDING_API_KEY`, sent as a bearer token when set.
        api_key: Option<Secret>,
    },
}

impl EmbeddingProvider {
    /// `none`, `builtin` or `openai`, as the settings and `doctor` name it.
    pub fn name(&self) -> &'static str {
        match self {
            EmbeddingProvider::None => "none",
            EmbeddingProvider::Builtin { .. } => "builtin",
            EmbeddingProvider::OpenAi { .. } => "openai",
        }
    }
}

/// The semantic-search settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddingSettings {
    pub provider: EmbeddingProvider,
    /// `MEM0_MODEL_URL`: where `mem0-mcp model install` downloads the builtin model's files
    /// from (`/<file>` is appended); default Hugging Face's minishlab/potion-base-8M.
    pub model_url: String,
}

/// Where `mem0-mcp model install` downloads from unless `MEM0_MODEL_URL` says otherwise:
/// minishlab/potion-base-8M (MIT) on Hugging Face; `/<file>` is appended.
pub const DEFAULT_MODEL_URL: &str = "https://huggingface.co/minishlab/potion-base-8M/resolve/main";

/// The directory `mem0-mcp model install` fills and `builtin` reads by default.
pub fn default_model_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("models").join("potion-base-8M")
}

pub(super) fn from_resolved(
    resolved: &Resolved,
    cwd: &Path,
    data_dir: &Path,
) -> Result<EmbeddingSettings, SettingsError> {
    let raw = resolved
        .get("MEM0_EMBEDDING_PROVIDER")
        .unwrap_or("none")
        .trim()
        .to_ascii_lowercase();
    let model = resolved
        .get("MEM0_EMBEDDING_MODEL")
        .map(str::trim)
        .filter(|m| !m.is_empty());
    let provider = match raw.as_str() {
        "none" | "" => EmbeddingProvider::None,
        "builtin" => EmbeddingProvider::Builtin {
            model_dir: model
                .map(|m| cwd.join(m))
                .unwrap_or_else(|| default_model_dir(data_dir)),
        },
        "openai" => {
            let url = resolved
                .get("MEM0_EMBEDDING_URL")
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .ok_or_else(|| {
                    SettingsError::new(
                        "MEM0_EMBEDDING_PROVIDER is openai but MEM0_EMBEDDING_URL is not set",
                        "set MEM0_EMBEDDING_URL to the endpoint's base URL, e.g. http://127.0.0.1:11434/v1 for Ollama",
                    )
                })?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(SettingsError::new(
                    format!("MEM0_EMBEDDING_URL '{url}' is not an http:// or https:// URL"),
                    "set it to the endpoint's base URL, e.g. http://127.0.0.1:11434/v1",
                ));
            }
            let model = model.ok_or_else(|| {
                SettingsError::new(
                    "MEM0_EMBEDDING_PROVIDER is openai but MEM0_EMBEDDING_MODEL is not set",
                    "set MEM0_EMBEDDING_MODEL to the model the endpoint serves, e.g. all-minilm or text-embedding-3-small",
                )
            })?;
            EmbeddingProvider::OpenAi {
                url: url.trim_end_matches('/').to_owned(),
                model: model.to_owned(),
                api_key: resolved.secret(SecretName::EmbeddingApiKey),
            }
        }
        other => {
            return Err(SettingsError::new(
                format!("MEM0_EMBEDDING_PROVIDER '{other}' is not a provider"),
                "use none, builtin or openai",
            ));
        }
    };
    let model_url = resolved
        .get("MEM0_MODEL_URL")
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or(DEFAULT_MODEL_URL);
    if !(model_url.starts_with("http://") || model_url.starts_with("https://")) {
        return Err(SettingsError::new(
            format!("MEM0_MODEL_URL '{model_url}' is not an http:// or https:// URL"),
            "set it to the base URL the model files are served under, or unset it for Hugging Face",
        ));
    }
    Ok(EmbeddingSettings {
        provider,
        model_url: model_url.trim_end_matches('/').to_owned(),
    })
}
