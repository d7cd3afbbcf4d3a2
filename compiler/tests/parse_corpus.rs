//! Every program of the `check/ok` corpus parses without a syntax error.

use std::path::Path;

use aqua_compiler::diagnostic::{SourceMap, render};
use aqua_compiler::syntax::parse_module;

fn aqua_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("corpus directory").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            aqua_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "aqua") {
            out.push(path);
        }
    }
}

#[test]
fn the_ok_corpus_parses() {
    let mut files = Vec::new();
    aqua_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/check/ok"), &mut files);
    assert!(files.len() > 20);
    let mut failures = String::new();
    for path in files {
        let text = std::fs::read_to_string(&path).expect("read");
        let mut sources = SourceMap::new();
        let id = sources.add(path.display().to_string(), text.clone());
        let (_, diagnostics) = parse_module(id, &text);
        if !diagnostics.is_empty() {
            failures.push_str(&render(&diagnostics, &sources, false));
        }
    }
    assert!(failures.is_empty(), "{failures}");
}
