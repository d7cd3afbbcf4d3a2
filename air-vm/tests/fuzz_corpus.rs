//! Every file of the fuzz seed corpus (`fuzz/corpus/parse_air`) goes through the AIR
//! front end without panicking; the hand-written `*.air` seeds are valid unless their
//! name starts with `bad_`.

use std::path::Path;

use air_vm::syntax::{beautify, parse, to_air};

#[test]
fn fuzz_corpus_parses_without_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse_air");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).expect("the seed corpus exists") {
        let path = entry.unwrap().path();
        let source = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
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
        seen += 1;
    }
    assert!(seen >= 10, "the seed corpus has {seen} files");
}
