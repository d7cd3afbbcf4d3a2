//! Every file of the fuzz seed corpus (`fuzz/corpus/check_aqua`) goes through the front
//! end (load, parse, check) and both renderings of its diagnostics without panicking,
//! on a thread with a 2 MiB stack (the default for spawned threads), so that deep
//! recursion shows up here rather than only under the fuzzer.
//!
//! - `bad_*`: hand-written nasty inputs; each reports at least one error;
//! - `ok_*.aqua`: copies of `tests/data/check/ok` programs; no error, also with CRLF
//!   line endings;
//! - `err_*.aqua`: copies of `tests/data/check/err` programs; at least one diagnostic.

use std::path::Path;

use aqua_compiler::check::CheckOptions;
use aqua_compiler::check_files;
use aqua_compiler::diagnostic::{render, to_json};
use aqua_compiler::modules::MemoryLoader;

const STACK_BYTES: usize = 2 * 1024 * 1024;

/// What one corpus file produced: (errors, diagnostics, rendered text).
fn run(source: String) -> (usize, usize, String) {
    let mut loader = MemoryLoader::default();
    loader.files.insert("main.aqua".into(), source);
    let result = check_files(&["main.aqua".into()], &[], &mut loader, &CheckOptions::default());
    let text = render(&result.diagnostics, &result.sources, false);
    let json = to_json(&result.diagnostics, &result.sources);
    assert_eq!(json.as_array().map(Vec::len), Some(result.diagnostics.len()), "one JSON item per diagnostic");
    (result.diagnostics.error_count(), result.diagnostics.len(), text)
}

/// [`run`] on a fresh thread with a 2 MiB stack; `None` if it panicked.
fn run_on_small_stack(source: String) -> Option<(usize, usize, String)> {
    let thread = std::thread::Builder::new().stack_size(STACK_BYTES).spawn(move || run(source)).expect("spawn");
    thread.join().ok()
}

#[test]
fn fuzz_corpus_checks_without_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/check_aqua");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).expect("the seed corpus exists").map(|e| e.expect("entry").path()).collect();
    paths.sort();
    let mut failures = Vec::new();
    for path in &paths {
        let name = path.file_name().expect("file name").to_string_lossy().into_owned();
        let source = String::from_utf8_lossy(&std::fs::read(path).expect("read")).into_owned();
        let Some((errors, diagnostics, text)) = run_on_small_stack(source.clone()) else {
            failures.push(format!("{name}: panicked"));
            continue;
        };
        if name.starts_with("bad_") && errors == 0 {
            failures.push(format!("{name}: no error reported\n{text}"));
        }
        if name.starts_with("ok_") {
            if errors > 0 {
                failures.push(format!("{name}: {errors} errors\n{text}"));
            }
            match run_on_small_stack(source.replace('\n', "\r\n")) {
                None => failures.push(format!("{name} with CRLF: panicked")),
                Some((0, _, _)) => {}
                Some((errors, _, text)) => failures.push(format!("{name} with CRLF: {errors} errors\n{text}")),
            }
        }
        if name.starts_with("err_") && diagnostics == 0 {
            failures.push(format!("{name}: no diagnostic reported"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(paths.len() >= 40, "the seed corpus has {} files", paths.len());
}
