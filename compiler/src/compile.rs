//! `compile_files`: the whole pipeline, source files to one AIR script per exported
//! function and a description of the exported signatures.

use serde_json::{Value as Json, json};

use crate::check::{CheckOptions, Def};
use crate::diagnostic::{Diagnostics, SourceMap};
use crate::lower::{LowerOptions, lower_function};
use crate::modules::Loader;
use crate::types::ArrowType;

/// What compiling one file named on the command line gave.
#[derive(Debug)]
pub struct CompiledModule {
    /// The file's path as given.
    pub path: String,
    /// Exported functions: exported name and AIR script.
    pub functions: Vec<(String, String)>,
    /// `{"functions": {...}, "services": {...}}`: every exported function's and
    /// service's signature (see the book's CLI chapter).
    pub signatures: Json,
}

/// Everything a compilation produced; `modules` is empty when there is any error.
#[derive(Debug)]
pub struct Compiled {
    pub sources: SourceMap,
    pub diagnostics: Diagnostics,
    pub modules: Vec<CompiledModule>,
}

/// Checks `roots` and their imports, then lowers every function the roots export.
pub fn compile_files(
    roots: &[String],
    import_roots: &[String],
    loader: &mut dyn Loader,
    check: &CheckOptions,
    lower: LowerOptions,
) -> Compiled {
    let front = crate::check_files(roots, import_roots, loader, check);
    let mut diagnostics = front.diagnostics;
    let mut modules = Vec::new();
    if !diagnostics.has_errors() {
        for &root in &front.program.roots {
            let Some(module) = front.program.modules.get(&root) else { continue };
            let mut functions = Vec::new();
            let mut func_sigs = serde_json::Map::new();
            let mut service_sigs = serde_json::Map::new();
            for (name, def) in &module.exports {
                match def {
                    Def::Func(f) => {
                        match lower_function(f, lower) {
                            Ok(air) => functions.push((name.clone(), air)),
                            Err(errors) => diagnostics.extend(errors),
                        }
                        func_sigs.insert(name.clone(), arrow_json(&f.ty));
                    }
                    Def::Service(s) => {
                        let fns: serde_json::Map<String, Json> = s.ty.functions.iter().map(|(n, f)| (n.clone(), arrow_json(f))).collect();
                        service_sigs.insert(name.clone(), json!({"default_id": s.default_id, "functions": fns}));
                    }
                    _ => {}
                }
            }
            modules.push(CompiledModule {
                path: module.path.clone(),
                functions,
                signatures: json!({"functions": func_sigs, "services": service_sigs}),
            });
        }
    }
    diagnostics.sort();
    if diagnostics.has_errors() {
        modules.clear();
    }
    Compiled { sources: front.sources, diagnostics, modules }
}

/// `{"arguments": [{"name", "type"}], "results": ["type"]}` with types as written in Aqua.
fn arrow_json(a: &ArrowType) -> Json {
    let args: Vec<Json> = a.domain.iter().map(|(n, t)| json!({"name": n, "type": t.to_string()})).collect();
    let results: Vec<Json> = a.codomain.iter().map(|t| Json::String(t.to_string())).collect();
    json!({"arguments": args, "results": results})
}
