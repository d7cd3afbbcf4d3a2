//! No text makes the front end panic, and every error it reports points into the text.
//!
//! Two kinds of input: arbitrary strings, and strings built from Aqua tokens (keywords,
//! names, types, literals, punctuation, line breaks with 0, 4 or 8 spaces of
//! indentation), optionally after a header and a function head, so that generated
//! inputs often get past the layout and the parser into the checker.

use aqua_compiler::check::CheckOptions;
use aqua_compiler::diagnostic::{render, to_json};
use aqua_compiler::modules::MemoryLoader;
use aqua_compiler::{Compilation, check_files};
use proptest::prelude::*;

/// Words and symbols of Aqua, separated by spaces: keywords, names, types, literals,
/// punctuation and operators.
const WORDS: &str = "aqua module declares * import use from as export service func data alias ability const on via par co \
    join for parseq if else try catch otherwise rec true false nil %init_peer_id% \
    a b x res f Srv Data Ab M N u8 u32 i64 f64 string bool []u32 ?string *string %string []Data \
    Srv.get a.b M.f x! LAST_ERROR HOST_PEER_ID 0 1 42 -1 2.5 18446744073709551616 \"peer\" \"\" \"unclosed \
    <- <<- -> = ?= == != < <= > >= && || ! + - / % ** . , : ? ( ) [ ] { } ⊤ ⊥ -- --comment";

/// Line breaks and indentation.
const LAYOUT: &[&str] = &["\n", "\n", "\n", "\n    ", "\n    ", "\n        ", "\n        ", "\n\n", "\t", "\r\n"];

/// Larger pieces: an import of the standard library and whole declarations.
const PIECES: &[&str] = &[
    "import \"@fluencelabs/aqua-lib/builtin.aqua\"\n",
    "service Srv(\"srv\"):\n    get(a: u32) -> string\n",
    "data Data:\n    a: u32\n    b: string\n",
    "func g(a: u32, cb: u32 -> string) -> string:\n    <- cb(a)\n",
];

/// Starts that make the tokens after them land inside a module, a function or a block.
const PREFIXES: &[&str] = &[
    "",
    "aqua M\n\n",
    "aqua M declares *\n\nexport f\n\n",
    "aqua M\n\nfunc f(a: u32, b: string, x: []u32) -> u32:\n    ",
    "aqua M\n\nservice Srv(\"srv\"):\n    get(a: u32) -> string\n\nfunc f(a: u32, peer: string) -> string:\n    on peer:\n        ",
];

fn aqua_like() -> impl Strategy<Value = String> {
    let words: Vec<&'static str> = WORDS.split_whitespace().collect();
    let token = prop_oneof![
        6 => prop::sample::select(words),
        3 => prop::sample::select(LAYOUT),
        1 => prop::sample::select(PIECES),
    ];
    let prefix = prop::sample::select(PREFIXES);
    let tokens = proptest::collection::vec((token, prop::bool::weighted(0.7)), 0..80);
    (prefix, tokens).prop_map(|(prefix, tokens)| {
        let mut text = prefix.to_string();
        for (token, space) in tokens {
            text.push_str(token);
            if space {
                text.push(' ');
            }
        }
        text
    })
}

/// Checks `source` as the module `main.aqua` and renders the diagnostics both ways.
fn check(source: &str) -> Compilation {
    let mut loader = MemoryLoader::default();
    loader.files.insert("main.aqua".into(), source.to_string());
    let result = check_files(&["main.aqua".into()], &[], &mut loader, &CheckOptions::default());
    let _ = render(&result.diagnostics, &result.sources, false);
    let _ = render(&result.diagnostics, &result.sources, true);
    let _ = to_json(&result.diagnostics, &result.sources);
    result
}

/// Every error has a label whose span lies within the text of its file.
fn errors_point_into_the_text(result: &Compilation) -> Result<(), TestCaseError> {
    for d in result.diagnostics.iter().filter(|d| d.is_error()) {
        let inside = d.labels.iter().any(|l| {
            result.sources.contains(l.span.source)
                && l.span.start <= l.span.end
                && l.span.end as usize <= result.sources.text(l.span.source).len()
        });
        prop_assert!(inside, "no label of this error lies within the text: {d:?}");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// (a) no panic in checking or rendering, (b) every error points into the text.
    #[test]
    fn arbitrary_text_never_panics_and_errors_point_into_it(source in ".{0,300}") {
        errors_point_into_the_text(&check(&source))?;
    }

    /// The same for text made of Aqua tokens.
    #[test]
    fn aqua_like_text_never_panics_and_errors_point_into_it(source in aqua_like()) {
        errors_point_into_the_text(&check(&source))?;
    }
}

/// Runs [`check`] on a thread with a 2 MiB stack (the default for spawned threads).
fn check_on_small_stack(source: String) -> usize {
    let thread = std::thread::Builder::new().stack_size(2 * 1024 * 1024).spawn(move || check(&source).diagnostics.len()).expect("spawn");
    thread.join().expect("the check panicked")
}

#[test]
fn a_long_non_ascii_string_does_not_overflow_the_stack() {
    let source = format!("aqua M\n\nfunc f() -> string:\n    <- \"{}\"\n", "é".repeat(10_000));
    assert_eq!(check_on_small_stack(source), 0);
}

#[test]
fn a_long_non_ascii_comment_does_not_overflow_the_stack() {
    let source = format!("aqua M\n\n-- {}\n", "é".repeat(10_000));
    assert_eq!(check_on_small_stack(source), 0);
}

#[test]
fn a_long_unclosed_non_ascii_string_is_one_error() {
    let source = format!("aqua M\n\nfunc f() -> string:\n    <- \"{}\n", "日".repeat(10_000));
    assert!(check_on_small_stack(source) >= 1);
}
