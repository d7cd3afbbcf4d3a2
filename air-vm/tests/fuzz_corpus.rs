//! The fuzz targets' seed corpora go through the same checks as the fuzzers: every file
//! of `fuzz/corpus/parse_air` through the AIR front end (the hand-written `*.air` seeds
//! are valid unless their name starts with `bad_`), and every file of
//! `fuzz/corpus/invoke_data` as the data a peer receives.

use std::path::{Path, PathBuf};

use air_vm::syntax::{beautify, parse, to_air};

#[path = "../fuzz/scenario.rs"]
mod scenario;

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).expect("the seed corpus exists").map(|e| e.unwrap().path()).collect();
    files.sort();
    files
}

#[test]
fn fuzz_corpus_parses_without_panic() {
    let files = corpus("parse_air");
    for path in &files {
        let source = String::from_utf8_lossy(&std::fs::read(path).unwrap()).into_owned();
        let result = parse(&source);
        if let Ok(script) = &result {
            let text = to_air(script);
            assert_eq!(to_air(&parse(&text).expect("printed AIR parses")), text);
            beautify(script);
        }
        let name = path.file_name().unwrap().to_string_lossy();
        if name.ends_with(".air") {
            assert_eq!(result.is_err(), name.starts_with("bad_"), "{name}: {result:?}");
        }
    }
    assert!(files.len() >= 10, "the seed corpus has {} files", files.len());
}

#[test]
fn data_corpus_runs_without_losing_data() {
    let scenario = scenario::Scenario::get();
    let files = corpus("invoke_data");
    for path in &files {
        scenario.check(&std::fs::read(path).unwrap());
    }
    assert!(!files.is_empty(), "the data seed corpus is empty");
}

/// The genuine seed is what the scenario's peers send today, so the fuzzer starts from
/// data that gets through verification; after a change of the data format,
/// `AQUA_BLESS=1 cargo test -p air-vm --test fuzz_corpus` writes it again.
#[test]
fn the_genuine_data_seed_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/invoke_data/genuine_from_a.data");
    let genuine = &scenario::Scenario::get().from_a;
    if std::env::var_os("AQUA_BLESS").is_some() {
        std::fs::write(&path, genuine).unwrap();
    }
    let seed = std::fs::read(&path).unwrap_or_default();
    assert!(seed == *genuine, "{} is not the data the scenario's peers send now; run with AQUA_BLESS=1 to write it", path.display());
}
