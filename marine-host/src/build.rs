//! Building components: `cargo build --release --target wasm32-wasip2` in a crate or
//! workspace, and the `.wasm` files it produced. Used by `aqua service build` and by
//! the tests and benchmarks that need the example services.

use std::path::{Path, PathBuf};

/// Builds the components of the crate or workspace in `dir` (into `target_dir` when
/// given, else where its cargo configuration says) and gives their paths. A failed
/// build's error carries cargo's own messages.
pub fn build_components(dir: &Path, target_dir: Option<&Path>) -> Result<Vec<PathBuf>, String> {
    let mut cargo = std::process::Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo.args(["build", "--release", "--target", "wasm32-wasip2", "--message-format", "json-render-diagnostics"]).current_dir(dir);
    if let Some(target) = target_dir {
        cargo.arg("--target-dir").arg(target);
    }
    let out = cargo.output().map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("the build in {} failed:\n{}", dir.display(), String::from_utf8_lossy(&out.stderr)));
    }
    let mut built = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if message["reason"] != "compiler-artifact" {
            continue;
        }
        let files = message["filenames"].as_array().into_iter().flatten().filter_map(|f| f.as_str());
        built.extend(files.filter(|f| f.ends_with(".wasm")).map(PathBuf::from));
    }
    if built.is_empty() {
        return Err(format!("cargo built no component in {} (a crate needs crate-type = [\"cdylib\"])", dir.display()));
    }
    Ok(built)
}
