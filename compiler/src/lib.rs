//! `aqua-compiler`: Aqua source to AIR.
//!
//! The front end runs in three steps, each reporting [`diagnostic::Diagnostic`]s and
//! carrying on as far as it can, so that one run reports every independent error:
//!
//! 1. [`modules::load`] reads the files named on the command line and everything they
//!    import (through a [`modules::Loader`]), parsing each with [`syntax::parse_module`];
//! 2. [`check::check`] resolves names across modules and checks types;
//! 3. [`lower::lower_function`] turns each exported function into AIR;
//!    [`compile::compile_files`] runs the whole pipeline.
//!
//! The crate is pure: no file system, clock or threads. See ARCHITECTURE.md.
//!
//! ```
//! use aqua_compiler::{check_files, check::CheckOptions, modules::MemoryLoader};
//! let mut loader = MemoryLoader::default();
//! loader.files.insert("main.aqua".into(), "aqua Main\n\nfunc f(x: u32) -> string:\n    <- x\n".into());
//! let result = check_files(&["main.aqua".into()], &[], &mut loader, &CheckOptions::default());
//! assert_eq!(result.diagnostics.error_count(), 1);
//! ```

pub mod check;
pub mod compile;
pub mod diagnostic;
pub mod hir;
pub mod limits;
pub mod lower;
pub mod modules;
pub mod suggest;
pub mod syntax;
pub mod types;

use diagnostic::{Diagnostics, SourceMap};

/// Everything a front-end run produced.
#[derive(Debug)]
pub struct Compilation {
    pub sources: SourceMap,
    pub graph: modules::ModuleGraph,
    pub program: check::Program,
    /// Sorted by file and position, without duplicates.
    pub diagnostics: Diagnostics,
}

/// Loads, parses and checks `roots` and their imports.
pub fn check_files(
    roots: &[String],
    import_roots: &[String],
    loader: &mut dyn modules::Loader,
    options: &check::CheckOptions,
) -> Compilation {
    let mut sources = SourceMap::new();
    let mut diagnostics = Diagnostics::new();
    let graph = modules::load(roots, import_roots, loader, &mut sources, &mut diagnostics);
    let program = check::check(&graph, options, &mut diagnostics);
    diagnostics.sort();
    Compilation { sources, graph, program, diagnostics }
}
