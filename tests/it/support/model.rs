//! The embedding model the semantic-search tests load as the `builtin` provider: built once
//! per machine by `scripts/build-test-model.sh` (distilled from all-MiniLM-L6-v2 from a PyPI
//! package, cached in ~/.cache/mem0-mcp) and once per test run looked up here. A model that
//! cannot be built fails the test that needs it, saying why: nothing is skipped.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The directory of the test model (config.json, tokenizer.json, model.safetensors).
pub fn test_model_dir() -> PathBuf {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| build(&[]))
        .clone()
        .unwrap_or_else(|why| panic!("the test embedding model is not available: {why}"))
}

/// The test model with its table stored as float32 (as potion-base-8M's is) instead of
/// int8: the same distillation, about 30 MB.
pub fn float32_test_model_dir() -> PathBuf {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| build(&["--dtype", "float32"]))
        .clone()
        .unwrap_or_else(|why| panic!("the float32 test embedding model is not available: {why}"))
}

fn build(args: &[&str]) -> Result<PathBuf, String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/build-test-model.sh");
    let out = Command::new("bash")
        .arg(&script)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}); it needs python3 and PyPI (see README, Development):\n{}",
            script.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    if !dir.join("model.safetensors").is_file() {
        return Err(format!(
            "{} printed {}, which holds no model.safetensors",
            script.display(),
            dir.display()
        ));
    }
    Ok(dir)
}

/// `scripts/embedding-server.py`: all-MiniLM-L6-v2 behind an OpenAI-compatible
/// `/v1/embeddings`, on a free local port, stopped when dropped.
#[derive(Debug)]
pub struct EmbeddingServer {
    child: std::process::Child,
    /// The base URL to give as `MEM0_EMBEDDING_URL`, e.g. `http://127.0.0.1:40123/v1`.
    pub url: String,
}

impl EmbeddingServer {
    /// Starts the server (requiring `api_key` when given) and waits until it listens.
    pub fn start(api_key: Option<&str>) -> Self {
        use std::io::BufRead;
        let scripts = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts");
        let venv = Command::new("bash")
            .arg(scripts.join("embedding-venv.sh"))
            .output()
            .expect("run scripts/embedding-venv.sh");
        assert!(
            venv.status.success(),
            "scripts/embedding-venv.sh failed (it needs python3 and PyPI):\n{}",
            String::from_utf8_lossy(&venv.stderr)
        );
        let python = String::from_utf8_lossy(&venv.stdout).trim().to_string();
        let mut cmd = Command::new(python);
        cmd.arg(scripts.join("embedding-server.py"))
            .args(["--port", "0"])
            .env("OPENBLAS_NUM_THREADS", "1")
            .env_remove("EMBEDDING_SERVER_API_KEY")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null());
        if let Some(key) = api_key {
            cmd.env("EMBEDDING_SERVER_API_KEY", key);
        }
        let mut child = cmd.spawn().expect("start scripts/embedding-server.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the server's first line");
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("scripts/embedding-server.py did not start: {line:?}"))
            .to_string();
        EmbeddingServer {
            child,
            url: format!("{base}/v1"),
        }
    }
}

impl Drop for EmbeddingServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
