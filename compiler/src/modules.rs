//! Finding and loading the modules of a compilation: import resolution (relative to
//! the importing file, then the import roots, then the standard library built into the
//! compiler), the import graph, cycle detection and a dependency order.
//!
//! Files are read through the [`Loader`] trait, so the compiler itself stays free of
//! the file system; paths are plain `/`-separated strings.

use std::collections::BTreeMap;

use crate::diagnostic::{Code, Diagnostic, Diagnostics, SourceId, SourceMap, Span};
use crate::limits::MAX_MODULES;
use crate::syntax::ast::{Item, Module, StrLit};
use crate::syntax::parse_module;

/// The standard library: import path and text, built into the compiler.
pub const STDLIB: &[(&str, &str)] = &[
    ("@fluencelabs/aqua-lib/builtin.aqua", include_str!("../../stdlib/builtin.aqua")),
    ("@fluencelabs/aqua-lib/math.aqua", include_str!("../../stdlib/math.aqua")),
    ("@fluencelabs/aqua-lib/subnet.aqua", include_str!("../../stdlib/subnet.aqua")),
    ("@fluencelabs/spell/api.aqua", include_str!("../../stdlib/spell/api.aqua")),
    ("@fluencelabs/spell/spell_service.aqua", include_str!("../../stdlib/spell/spell_service.aqua")),
    ("@fluencelabs/spell/trigger.aqua", include_str!("../../stdlib/spell/trigger.aqua")),
    ("@fluencelabs/spell/types.aqua", include_str!("../../stdlib/spell/types.aqua")),
    ("@aqua/patterns/balance.aqua", include_str!("../../stdlib/patterns/balance.aqua")),
    ("@aqua/patterns/failover.aqua", include_str!("../../stdlib/patterns/failover.aqua")),
    ("@aqua/patterns/gather.aqua", include_str!("../../stdlib/patterns/gather.aqua")),
    ("@aqua/patterns/quorum.aqua", include_str!("../../stdlib/patterns/quorum.aqua")),
    ("@aqua/patterns/race.aqua", include_str!("../../stdlib/patterns/race.aqua")),
    ("@aqua/patterns/retry.aqua", include_str!("../../stdlib/patterns/retry.aqua")),
];

/// Where the standard library's files appear to live, in messages and module paths.
const STDLIB_PREFIX: &str = "<stdlib>/";

/// Reads source files for the compiler.
pub trait Loader {
    /// The text of the file at `path`, or `None` if there is no such file.
    fn read(&mut self, path: &str) -> Option<String>;
}

/// An in-memory [`Loader`] for tests and tools: path to text.
#[derive(Debug, Default, Clone)]
pub struct MemoryLoader {
    pub files: BTreeMap<String, String>,
}

impl Loader for MemoryLoader {
    fn read(&mut self, path: &str) -> Option<String> {
        self.files.get(path).cloned()
    }
}

/// One parsed module and the modules its imports resolved to.
#[derive(Debug)]
pub struct LoadedModule {
    pub path: String,
    pub source: SourceId,
    pub ast: Module,
    /// For each `import`/`use` item (by item index), the module it resolved to.
    pub imports: BTreeMap<usize, usize>,
}

/// All modules of a compilation.
#[derive(Debug, Default)]
pub struct ModuleGraph {
    pub modules: Vec<LoadedModule>,
    /// The modules named on the command line.
    pub roots: Vec<usize>,
    /// Every module after the modules it imports. Modules on an import cycle are left
    /// out (the cycle is reported).
    pub order: Vec<usize>,
}

/// Loads `roots` and everything they import. Problems become diagnostics; whatever
/// could be loaded is returned so that checking can go on.
pub fn load(
    roots: &[String],
    import_roots: &[String],
    loader: &mut dyn Loader,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
) -> ModuleGraph {
    let mut graph = ModuleGraph::default();
    let mut by_path: BTreeMap<String, usize> = BTreeMap::new();
    let mut queue: Vec<usize> = Vec::new();
    for root in roots {
        let path = normalize(root);
        if let Some(&i) = by_path.get(&path) {
            graph.roots.push(i);
            continue;
        }
        match loader.read(&path) {
            Some(text) => {
                let i = add_module(&mut graph, &mut by_path, sources, diagnostics, path, text);
                graph.roots.push(i);
                queue.push(i);
            }
            None => diagnostics.push(Diagnostic::error(Code::UnresolvedImport, format!("cannot read `{path}`"))),
        }
    }
    while let Some(i) = queue.pop() {
        let importer = graph.modules[i].path.clone();
        let wanted: Vec<(usize, StrLit)> = graph.modules[i]
            .ast
            .items
            .iter()
            .enumerate()
            .filter_map(|(n, item)| match item {
                Item::Import { path, .. } | Item::Use { path, .. } => Some((n, path.clone())),
                _ => None,
            })
            .collect();
        for (item, import) in wanted {
            let candidates = candidates(&importer, &import.value, import_roots);
            let found = candidates
                .iter()
                .find_map(|c| by_path.get(c).map(|&m| (m, None)).or_else(|| loader.read(c).map(|t| (usize::MAX, Some((c.clone(), t))))));
            // The standard library: by its import path, or relative to a file of its own.
            let found = found.or_else(|| {
                std::iter::once(import.value.as_str())
                    .chain(candidates.iter().filter_map(|c| c.strip_prefix(STDLIB_PREFIX)))
                    .find_map(stdlib_module)
                    .map(|(p, t)| (by_path.get(&p).copied().unwrap_or(usize::MAX), Some((p, t))))
            });
            let target = match found {
                Some((m, _)) if m != usize::MAX => m,
                Some((_, Some((path, text)))) => {
                    if graph.modules.len() >= MAX_MODULES {
                        diagnostics.push(
                            Diagnostic::error(Code::Limit, format!("more than {MAX_MODULES} modules take part in this compilation"))
                                .with_primary(import.span, "one too many"),
                        );
                        continue;
                    }
                    let m = add_module(&mut graph, &mut by_path, sources, diagnostics, path, text);
                    queue.push(m);
                    m
                }
                _ => {
                    let tried = candidates.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ");
                    diagnostics.push(
                        Diagnostic::error(Code::UnresolvedImport, format!("cannot find the imported file \"{}\"", import.value))
                            .with_primary(import.span, "not found")
                            .with_hint(format!("tried {tried}; add the directory that holds it with `-I DIR`")),
                    );
                    continue;
                }
            };
            graph.modules[i].imports.insert(item, target);
        }
    }
    graph.order = dependency_order(&graph, diagnostics);
    graph
}

fn add_module(
    graph: &mut ModuleGraph,
    by_path: &mut BTreeMap<String, usize>,
    sources: &mut SourceMap,
    diagnostics: &mut Diagnostics,
    path: String,
    text: String,
) -> usize {
    let source = sources.add(path.clone(), text);
    let (ast, errors) = parse_module(source, sources.text(source));
    diagnostics.extend(errors);
    let i = graph.modules.len();
    by_path.insert(path.clone(), i);
    graph.modules.push(LoadedModule { path, source, ast, imports: BTreeMap::new() });
    i
}

/// The paths tried for `import` written in the file at `importer`, in order.
fn candidates(importer: &str, import: &str, import_roots: &[String]) -> Vec<String> {
    let mut bases = Vec::new();
    if import.starts_with('/') {
        bases.push(import.to_string());
    } else {
        bases.push(match importer.rsplit_once('/') {
            Some((dir, _)) => format!("{dir}/{import}"),
            None => import.to_string(),
        });
        for root in import_roots {
            bases.push(format!("{}/{import}", root.trim_end_matches('/')));
        }
    }
    let mut out = Vec::new();
    for base in bases {
        let base = normalize(&base);
        if !base.ends_with(".aqua") {
            out.push(format!("{base}.aqua"));
        }
        out.push(base);
    }
    out.dedup();
    out
}

/// The built-in module an import names, if any: `(module path, text)`.
fn stdlib_module(import: &str) -> Option<(String, String)> {
    let wanted = if import.ends_with(".aqua") { import.to_string() } else { format!("{import}.aqua") };
    STDLIB.iter().find(|(name, _)| *name == wanted).map(|(name, text)| (format!("{STDLIB_PREFIX}{name}"), (*text).to_string()))
}

/// Resolves `.` and `..` segments, keeping a leading `/`.
pub fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !absolute {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    if absolute { format!("/{joined}") } else { joined }
}

/// A depth-first walk with an explicit stack: modules in dependency order, and every
/// import cycle reported once with its path.
fn dependency_order(graph: &ModuleGraph, diagnostics: &mut Diagnostics) -> Vec<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let n = graph.modules.len();
    let mut mark = vec![Mark::New; n];
    let mut on_cycle = vec![false; n];
    let mut order = Vec::new();
    for start in 0..n {
        if mark[start] != Mark::New {
            continue;
        }
        let mut stack: Vec<Visit> = vec![(start, imports_of(graph, start), 0)];
        mark[start] = Mark::Open;
        while let Some(top) = stack.last_mut() {
            let (m, edges, next) = (top.0, &top.1, top.2);
            if next < edges.len() {
                let (item, target) = edges[next];
                top.2 += 1;
                match mark[target] {
                    Mark::New => {
                        mark[target] = Mark::Open;
                        stack.push((target, imports_of(graph, target), 0));
                    }
                    Mark::Open => {
                        let from = stack.iter().position(|f| f.0 == target).unwrap_or(0);
                        let cycle: Vec<usize> = stack[from..].iter().map(|f| f.0).collect();
                        for &c in &cycle {
                            on_cycle[c] = true;
                        }
                        let mut steps = Vec::new();
                        for (k, &c) in cycle.iter().enumerate() {
                            let next = cycle.get(k + 1).copied().unwrap_or(target);
                            steps.push(format!("{} imports {}", graph.modules[c].path, graph.modules[next].path));
                        }
                        let span = import_span(graph, m, item);
                        let mut d =
                            Diagnostic::error(Code::ImportCycle, format!("modules import each other in a cycle: {}", steps.join(", ")));
                        if let Some(span) = span {
                            d = d.with_primary(span, "this import closes the cycle");
                        }
                        diagnostics.push(d.with_hint("move what both need into a third module that neither imports"));
                    }
                    Mark::Done => {}
                }
            } else {
                mark[m] = Mark::Done;
                order.push(m);
                stack.pop();
            }
        }
    }
    order.retain(|&m| !on_cycle[m]);
    order
}

/// A module being visited: its index, its imports as (item, target), the next to follow.
type Visit = (usize, Vec<(usize, usize)>, usize);

fn imports_of(graph: &ModuleGraph, m: usize) -> Vec<(usize, usize)> {
    graph.modules[m].imports.iter().map(|(&item, &target)| (item, target)).collect()
}

fn import_span(graph: &ModuleGraph, m: usize, item: usize) -> Option<Span> {
    match graph.modules[m].ast.items.get(item)? {
        Item::Import { path, .. } | Item::Use { path, .. } => Some(path.span),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn loader(files: &[(&str, &str)]) -> MemoryLoader {
        MemoryLoader { files: files.iter().map(|(p, t)| (p.to_string(), t.to_string())).collect() }
    }

    #[test]
    fn paths_are_normalized() {
        assert_eq!(normalize("/a/./b/../c.aqua"), "/a/c.aqua");
        assert_eq!(normalize("../x/y"), "../x/y");
        assert_eq!(normalize("/../x"), "/x");
    }

    #[test]
    fn imports_resolve_relative_then_roots_then_stdlib() {
        let mut l = loader(&[
            ("/p/main.aqua", "aqua Main\n\nimport \"lib/a\"\nimport \"b.aqua\"\nimport \"@fluencelabs/aqua-lib/builtin.aqua\"\n"),
            ("/p/lib/a.aqua", "aqua A\n"),
            ("/roots/b.aqua", "aqua B\n"),
        ]);
        let mut sources = SourceMap::new();
        let mut diags = Diagnostics::new();
        let g = load(&["/p/main.aqua".into()], &["/roots".into()], &mut l, &mut sources, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        let paths: Vec<&str> = g.order.iter().map(|&m| g.modules[m].path.as_str()).collect();
        assert_eq!(paths.len(), 4);
        assert_eq!(*paths.last().unwrap(), "/p/main.aqua");
        assert!(paths.contains(&"/roots/b.aqua"));
        assert!(paths.contains(&"<stdlib>/@fluencelabs/aqua-lib/builtin.aqua"));
    }

    #[test]
    fn unresolved_imports_list_every_path_tried() {
        let mut l = loader(&[("/p/main.aqua", "aqua Main\n\nimport \"nope\"\n")]);
        let mut sources = SourceMap::new();
        let mut diags = Diagnostics::new();
        load(&["/p/main.aqua".into()], &["/r".into()], &mut l, &mut sources, &mut diags);
        let d = &diags.as_slice()[0];
        assert_eq!(d.code, Code::UnresolvedImport);
        let hint = d.hint.as_deref().unwrap();
        assert!(hint.contains("`/p/nope.aqua`, `/p/nope`, `/r/nope.aqua`, `/r/nope`"), "{hint}");
    }

    #[test]
    fn cycles_are_reported_with_their_path() {
        let mut l = loader(&[
            ("/m.aqua", "aqua M\n\nimport \"a\"\n"),
            ("/a.aqua", "aqua A\n\nimport \"b\"\n"),
            ("/b.aqua", "aqua B\n\nimport \"a\"\n"),
        ]);
        let mut sources = SourceMap::new();
        let mut diags = Diagnostics::new();
        let g = load(&["/m.aqua".into()], &[], &mut l, &mut sources, &mut diags);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags.as_slice()[0].code, Code::ImportCycle);
        assert!(
            diags.as_slice()[0].message.contains("/a.aqua imports /b.aqua, /b.aqua imports /a.aqua"),
            "{}",
            diags.as_slice()[0].message
        );
        // The cycle's modules are left out of the order; the root still comes.
        assert_eq!(g.order.iter().map(|&m| g.modules[m].path.as_str()).collect::<Vec<_>>(), vec!["/m.aqua"]);
    }
}
