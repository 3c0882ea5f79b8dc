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
    DIR.get_or_init(build)
        .clone()
        .unwrap_or_else(|why| panic!("the test embedding model is not available: {why}"))
}

fn build() -> Result<PathBuf, String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/build-test-model.sh");
    let out = Command::new("bash")
        .arg(&script)
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
