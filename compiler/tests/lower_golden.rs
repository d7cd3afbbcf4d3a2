//! Golden files of compiled AIR: every exported function of `tests/data/lower/*.aqua`,
//! kept as a reviewed snapshot (source and AIR in one file). Every script must also
//! parse and validate with the AIR VM.

use std::path::Path;

use aqua_compiler::check::CheckOptions;
use aqua_compiler::compile::compile_files;
use aqua_compiler::diagnostic::render;
use aqua_compiler::lower::LowerOptions;
use aqua_compiler::modules::MemoryLoader;

#[test]
fn compiled_air_matches_the_reviewed_golden_files() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lower");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .expect("golden sources")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".aqua"))
        .collect();
    files.sort();
    assert!(files.len() >= 15, "{} golden sources", files.len());
    for file in files {
        let source = std::fs::read_to_string(dir.join(&file)).expect("read");
        let mut loader = MemoryLoader::default();
        loader.files.insert(file.clone(), source.clone());
        let compiled = compile_files(std::slice::from_ref(&file), &[], &mut loader, &CheckOptions::default(), LowerOptions::default());
        assert!(compiled.diagnostics.is_empty(), "{}", render(&compiled.diagnostics, &compiled.sources, false));
        let mut text = format!("{source}\n");
        for module in &compiled.modules {
            for (name, air) in &module.functions {
                if let Err(e) = air_vm::syntax::parse(air) {
                    panic!("{file}: {name} does not parse as AIR: {e:?}\n{air}");
                }
                text.push_str(&format!("----- {name} -----\n{air}"));
            }
        }
        let name = file.trim_end_matches(".aqua").to_string();
        insta::with_settings!({ snapshot_path => "snapshots/lower", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(name, text);
        });
    }
}
