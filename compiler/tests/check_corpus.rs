//! The checker against the test corpus (`tests/data/check`) and the book's samples.
//!
//! - every program in `ok/` checks with no error and no warning, and its exported
//!   functions compile to AIR the VM accepts;
//! - every program in `err/` reports at least one diagnostic of the severity its first
//!   line announces (`-- error: ...` or `-- warning: ...`), and its source with the
//!   rendered diagnostics is a reviewed snapshot;
//! - every ```aqua block of the language chapter of the book checks cleanly, and every
//!   ```aqua,should_fail block reports an error.

use std::path::{Path, PathBuf};

use aqua_compiler::check::CheckOptions;
use aqua_compiler::diagnostic::render;
use aqua_compiler::modules::{Loader, MemoryLoader};
use aqua_compiler::{Compilation, check_files};

/// Reads files relative to one directory, so that paths in messages stay short.
struct DirLoader(PathBuf);

impl Loader for DirLoader {
    fn read(&mut self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.0.join(path)).ok()
    }
}

fn data_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/check").join(kind)
}

/// The `.aqua` files directly in `dir` (not in `lib/`), sorted.
fn programs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("corpus directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".aqua"))
        .collect();
    names.sort();
    names
}

fn check_in(dir: &Path, file: &str) -> Compilation {
    check_files(&[file.to_string()], &[], &mut DirLoader(dir.to_path_buf()), &CheckOptions::default())
}

#[test]
fn every_ok_program_checks_cleanly() {
    let dir = data_dir("ok");
    let files = programs(&dir);
    assert!(files.len() >= 30, "{} ok programs", files.len());
    let mut failures = String::new();
    for file in files {
        let result = check_in(&dir, &file);
        if !result.diagnostics.is_empty() {
            failures.push_str(&render(&result.diagnostics, &result.sources, false));
            continue;
        }
        // Every exported function also compiles to AIR that the VM accepts.
        let compiled = aqua_compiler::compile::compile_files(
            std::slice::from_ref(&file),
            &[],
            &mut DirLoader(dir.clone()),
            &CheckOptions::default(),
            aqua_compiler::lower::LowerOptions::default(),
        );
        failures.push_str(&render(&compiled.diagnostics, &compiled.sources, false));
        for (function, air) in compiled.modules.iter().flat_map(|m| &m.functions) {
            if let Err(e) = air_vm::syntax::parse(air) {
                failures.push_str(&format!("{file}: {function} is not valid AIR: {e:?}\n"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn every_err_program_reports_its_diagnostic() {
    let dir = data_dir("err");
    let files = programs(&dir);
    assert!(files.len() >= 30, "{} err programs", files.len());
    for file in files {
        let source = std::fs::read_to_string(dir.join(&file)).expect("read");
        let result = check_in(&dir, &file);
        let warning_only = source.starts_with("-- warning:");
        if warning_only {
            assert!(!result.diagnostics.has_errors(), "{file} should only warn");
            assert!(result.diagnostics.warning_count() > 0, "{file} should warn");
        } else {
            assert!(result.diagnostics.has_errors(), "{file} should fail");
        }
        let rendered = render(&result.diagnostics, &result.sources, false);
        let name = file.trim_end_matches(".aqua").to_string();
        insta::with_settings!({ snapshot_path => "snapshots/diagnostics", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(name, format!("{source}\n----- diagnostics -----\n{rendered}"));
        });
    }
}

#[test]
fn every_diagnostic_code_has_a_reviewed_snapshot() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/diagnostics");
    let mut all = String::new();
    for entry in std::fs::read_dir(&dir).expect("snapshot directory") {
        all.push_str(&std::fs::read_to_string(entry.expect("entry").path()).expect("read"));
    }
    // `unsupported` comes from lowering (for a construct it cannot lower), not checking.
    let missing: Vec<&str> = aqua_compiler::diagnostic::Code::ALL
        .iter()
        .filter(|c| **c != aqua_compiler::diagnostic::Code::Unsupported)
        .map(|c| c.as_str())
        .filter(|c| !all.contains(&format!("[{c}]:")))
        .collect();
    assert!(missing.is_empty(), "codes without an example in tests/data/check/err: {missing:?}");
}

/// The fenced blocks of a Markdown file whose info string starts with `aqua`: (info, code).
fn aqua_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        match &mut current {
            None => {
                if let Some(info) = line.trim_start().strip_prefix("```")
                    && info.starts_with("aqua")
                {
                    current = Some((info.trim().to_string(), String::new()));
                }
            }
            Some((_, code)) => {
                if line.trim_start().starts_with("```") {
                    blocks.push(current.take().unwrap_or_default());
                } else {
                    code.push_str(line);
                    code.push('\n');
                }
            }
        }
    }
    blocks
}

#[test]
fn the_language_chapter_samples_check() {
    let chapter = Path::new(env!("CARGO_MANIFEST_DIR")).join("../book/src/language.md");
    let markdown = std::fs::read_to_string(&chapter).expect("the language chapter");
    let blocks = aqua_blocks(&markdown);
    assert!(!blocks.is_empty(), "the chapter has Aqua samples");
    let mut failures = String::new();
    for (i, (info, code)) in blocks.iter().enumerate() {
        let mut loader = MemoryLoader::default();
        let name = format!("language.md-sample-{}.aqua", i + 1);
        loader.files.insert(name.clone(), code.clone());
        let result = check_files(std::slice::from_ref(&name), &[], &mut loader, &CheckOptions::default());
        let should_fail = info.contains("should_fail");
        if should_fail && !result.diagnostics.has_errors() {
            failures.push_str(&format!("{name} should fail to check:\n{code}\n"));
        }
        if !should_fail && !result.diagnostics.is_empty() {
            failures.push_str(&render(&result.diagnostics, &result.sources, false));
        }
        if !should_fail {
            // What compiles must be valid AIR; only constructs not lowered yet may be refused.
            let compiled = aqua_compiler::compile::compile_files(
                std::slice::from_ref(&name),
                &[],
                &mut loader,
                &CheckOptions::default(),
                aqua_compiler::lower::LowerOptions::default(),
            );
            for d in compiled.diagnostics.iter().filter(|d| d.code != aqua_compiler::diagnostic::Code::Unsupported) {
                failures.push_str(&format!("{name}: {}\n", d.message));
            }
            for (function, air) in compiled.modules.iter().flat_map(|m| &m.functions) {
                if let Err(e) = air_vm::syntax::parse(air) {
                    failures.push_str(&format!("{name}: {function} is not valid AIR: {e:?}\n"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn every_standard_library_module_checks_cleanly_and_compiles() {
    for (path, _) in aqua_compiler::modules::STDLIB {
        let mut loader = MemoryLoader::default();
        loader.files.insert("main.aqua".into(), format!("aqua Main\n\nimport \"{path}\"\n"));
        let result = check_files(&["main.aqua".into()], &[], &mut loader, &Default::default());
        let problems: Vec<String> = result.diagnostics.iter().map(|d| format!("{d:?}")).collect();
        assert!(problems.is_empty(), "{path}: {problems:#?}");
        // Every function of the module that can run on its own (one that neither takes
        // abilities nor returns arrows or abilities) lowers to AIR the VM accepts.
        use aqua_compiler::types::Type;
        let module = result.program.modules.values().find(|m| m.path.ends_with(path)).expect("loaded");
        for (name, def) in &module.scope.defs {
            if let aqua_compiler::check::Def::Func(f) = def
                && f.ty.abilities.is_empty()
                && !f.ty.codomain.iter().any(|t| matches!(t, Type::Arrow(_) | Type::Ability(_)))
            {
                let air = aqua_compiler::lower::lower_function(f, Default::default()).unwrap_or_else(|e| panic!("{path} {name}: {e:?}"));
                air_vm::syntax::parse(&air).unwrap_or_else(|e| panic!("{path} {name}: {e:?}"));
            }
        }
    }
}
