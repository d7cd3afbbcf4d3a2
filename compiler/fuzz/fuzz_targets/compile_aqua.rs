//! Feeds arbitrary bytes, read as (lossy) UTF-8, to the whole compiler as the module
//! `main.aqua`: whatever checks cleanly must lower to AIR that the VM's parser accepts
//! (lowering may refuse only a construct not lowered yet, `unsupported`, or a program past
//! a limit of lowering, `limit`, such as calls inlined deeper than it allows), and
//! nothing may panic.
#![no_main]

use aqua_compiler::check::CheckOptions;
use aqua_compiler::compile::compile_files;
use aqua_compiler::diagnostic::Code;
use aqua_compiler::lower::LowerOptions;
use aqua_compiler::modules::MemoryLoader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data).into_owned();
    let mut loader = MemoryLoader::default();
    loader.files.insert("main.aqua".into(), source);
    let root = ["main.aqua".to_owned()];
    let checked = aqua_compiler::check_files(&root, &[], &mut loader, &CheckOptions::default());
    if checked.diagnostics.has_errors() {
        return;
    }
    let compiled = compile_files(&root, &[], &mut loader, &CheckOptions::default(), LowerOptions::default());
    let refusals = [Code::Unsupported, Code::Limit];
    for d in compiled.diagnostics.iter().filter(|d| !refusals.contains(&d.code) && d.is_error()) {
        panic!("a checked module failed to lower: {}", d.message);
    }
    for (function, air) in compiled.modules.iter().flat_map(|m| &m.functions) {
        if let Err(e) = air_vm::syntax::parse(air) {
            panic!("{function} lowered to invalid AIR: {e:?}\n{air}");
        }
    }
});
