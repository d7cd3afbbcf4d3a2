//! Feeds arbitrary bytes, read as (lossy) UTF-8, to the Aqua front end as the module
//! `main.aqua`: loading, parsing, checking and rendering the diagnostics as text and
//! as JSON must never panic.
#![no_main]

use aqua_compiler::check::CheckOptions;
use aqua_compiler::check_files;
use aqua_compiler::diagnostic::{render, to_json};
use aqua_compiler::modules::MemoryLoader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data).into_owned();
    let mut loader = MemoryLoader::default();
    loader.files.insert("main.aqua".into(), source);
    let result = check_files(&["main.aqua".into()], &[], &mut loader, &CheckOptions::default());
    let _ = render(&result.diagnostics, &result.sources, false);
    let _ = to_json(&result.diagnostics, &result.sources);
});
