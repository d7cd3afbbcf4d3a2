//! The checker: resolves names across modules and checks types, turning the syntax
//! trees of a [`ModuleGraph`] into a [`Program`] plus diagnostics.
//!
//! Modules are checked in dependency order. Each gets a scope of top-level definitions
//! ([`Def`]): what its imports bring in, then its own declarations in source order (a
//! declaration sees only what comes before it, so a function cannot call itself).
//! Function bodies are checked in `body.rs`.

mod body;
mod declarations;

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use crate::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::modules::ModuleGraph;
use crate::syntax::ast::{self, Declares, Item};
use crate::types::{ArrowType, ServiceType, Type};

/// Options that change checking: values for `?=` constants given on the command line.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// `NAME=value` pairs; values are JSON literals (string, number, bool).
    pub constants: BTreeMap<String, serde_json::Value>,
}

/// A top-level definition a name can refer to.
#[derive(Debug, Clone)]
pub enum Def {
    /// A data type, an ability type or an alias.
    Type(Type),
    Service(Rc<ServiceDef>),
    Func(Rc<FuncDef>),
    Const(Rc<ConstDef>),
    /// What a `use` brings in: a module's declarations under its name.
    Namespace(Rc<Namespace>),
}

impl Def {
    /// How the definition is called in messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Def::Type(Type::Ability(_)) => "ability",
            Def::Type(Type::Struct(_)) => "data type",
            Def::Type(_) => "type",
            Def::Service(_) => "service",
            Def::Func(_) => "function",
            Def::Const(_) => "constant",
            Def::Namespace(_) => "module",
        }
    }
}

#[derive(Debug)]
pub struct ServiceDef {
    pub ty: Rc<ServiceType>,
    /// The id given in the declaration, `service Srv("id")` (a string literal or a
    /// string constant).
    pub default_id: Option<String>,
    pub span: Span,
}

#[derive(Debug)]
pub struct FuncDef {
    pub name: String,
    pub ty: Rc<ArrowType>,
    /// The checked body, for lowering.
    pub body: crate::hir::Body,
    /// The module it is declared in (index into the graph).
    pub module: usize,
}

#[derive(Debug)]
pub struct ConstDef {
    pub ty: Type,
    pub value: ConstValue,
    pub span: Span,
}

/// The value of a constant: constants hold literals only.
#[derive(Debug, Clone, PartialEq)]
pub enum ConstValue {
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Nil,
}

/// Names defined at the top of a module (or brought in by `use`).
#[derive(Debug, Default, Clone)]
pub struct Namespace {
    pub defs: BTreeMap<String, Def>,
    /// Names whose definition failed (a declaration that did not parse, an import that
    /// was not found): using them is not reported again.
    pub poisoned: BTreeSet<String>,
    /// Set when a whole import failed, so any name might have come from it: unknown
    /// names are then not reported at all.
    pub incomplete: bool,
}

impl Namespace {
    /// Whether an unknown `name` is explained by an error already reported.
    pub fn excuses(&self, name: &str) -> bool {
        self.incomplete || self.poisoned.contains(name)
    }
}

/// What a checked module offers.
#[derive(Debug)]
pub struct CheckedModule {
    pub path: String,
    pub name: String,
    /// Everything in scope at the top of the module, imports included.
    pub scope: Namespace,
    /// What importers see (`declares`).
    pub declared: Namespace,
    /// `export`ed functions and services: exported name and definition.
    pub exports: Vec<(String, Def)>,
}

/// The result of checking: every module that could be checked, by graph index.
#[derive(Debug, Default)]
pub struct Program {
    pub modules: BTreeMap<usize, CheckedModule>,
    /// The modules named on the command line.
    pub roots: Vec<usize>,
}

/// Checks every module of `graph`.
pub fn check(graph: &ModuleGraph, options: &CheckOptions, diagnostics: &mut Diagnostics) -> Program {
    let mut program = Program { modules: BTreeMap::new(), roots: graph.roots.clone() };
    for &m in &graph.order {
        let checked = check_module(graph, m, &program, options, diagnostics);
        program.modules.insert(m, checked);
    }
    program
}

fn check_module(graph: &ModuleGraph, m: usize, program: &Program, options: &CheckOptions, diagnostics: &mut Diagnostics) -> CheckedModule {
    let module = &graph.modules[m];
    let name = module.ast.header.as_ref().map(|h| h.name.text()).unwrap_or_default();
    let mut scope = Namespace::default();
    // Imports first: they are visible to every declaration of the module.
    for (index, item) in module.ast.items.iter().enumerate() {
        let Some(target) = module.imports.get(&index).and_then(|t| program.modules.get(t)) else {
            poison_failed_import(item, &mut scope);
            continue;
        };
        match item {
            Item::Import { names: None, .. } => {
                for (n, def) in &target.declared.defs {
                    scope.defs.insert(n.clone(), def.clone());
                }
            }
            Item::Import { names: Some(names), .. } => {
                for (n, def) in select(target, names, diagnostics) {
                    match def {
                        Some(def) => {
                            scope.defs.insert(n, def);
                        }
                        None => {
                            scope.poisoned.insert(n);
                        }
                    }
                }
            }
            Item::Use { names, alias, .. } => {
                let ns = match names {
                    None => target.declared.clone(),
                    Some(names) => Namespace {
                        defs: select(target, names, diagnostics).into_iter().filter_map(|(n, d)| Some((n, d?))).collect(),
                        ..Namespace::default()
                    },
                };
                let path: Vec<String> = match alias {
                    Some(a) => vec![a.name.clone()],
                    None => target.name.split('.').map(str::to_string).collect(),
                };
                insert_namespace(&mut scope, &path, ns);
            }
            _ => {}
        }
    }
    for item in &module.ast.items {
        if let Item::Error { name, .. } = item {
            match name {
                Some(n) => {
                    scope.poisoned.insert(n.name.clone());
                }
                None => scope.incomplete = true,
            }
        }
    }
    let own = declarations::declare(m, module, &mut scope, options, diagnostics);
    let declared = match module.ast.header.as_ref().and_then(|h| h.declares.as_ref()) {
        None => Namespace::default(),
        Some(Declares::All(_)) => own,
        Some(Declares::Names(names)) => {
            let mut ns = Namespace::default();
            for n in names {
                match scope.defs.get(&n.name) {
                    Some(def) => {
                        ns.defs.insert(n.name.clone(), def.clone());
                    }
                    None if scope.excuses(&n.name) => {}
                    None => diagnostics.push(unknown_name(&n.name, n.span, &scope, "declared")),
                }
            }
            ns
        }
    };
    let exports = declarations::exports(module, &scope, diagnostics);
    CheckedModule { path: module.path.clone(), name, scope, declared, exports }
}

/// Marks what a failed import would have brought in.
fn poison_failed_import(item: &Item, scope: &mut Namespace) {
    match item {
        Item::Import { names: Some(names), .. } => scope.poisoned.extend(names.iter().map(local_name)),
        Item::Use { alias: Some(alias), .. } => {
            scope.poisoned.insert(alias.name.clone());
        }
        Item::Import { .. } | Item::Use { .. } => scope.incomplete = true,
        _ => {}
    }
}

/// The name an imported item gets in the importing module.
fn local_name(r: &ast::Renamed) -> String {
    r.alias.as_ref().map_or_else(|| r.name.parts.last().map(|p| p.name.clone()).unwrap_or_default(), |a| a.name.clone())
}

/// The definitions a selective `import a, B as C from "x"` or `use ... from` picks;
/// `None` for a name the module does not declare (reported here).
fn select(target: &CheckedModule, names: &[ast::Renamed], diagnostics: &mut Diagnostics) -> Vec<(String, Option<Def>)> {
    let mut out = Vec::new();
    for r in names {
        let wanted = r.name.text();
        let found = lookup_path(&target.declared, &r.name.parts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>());
        let missing = found.is_none();
        out.push((local_name(r), found));
        if missing {
            let declared: Vec<&str> = target.declared.defs.keys().map(String::as_str).collect();
            let hint = if target.scope.defs.contains_key(&wanted) {
                format!(
                    "`{wanted}` exists in `{}` but is not declared; add it to the module's `declares` (or use `declares *`)",
                    target.name
                )
            } else if declared.is_empty() {
                format!("`{}` declares nothing; its header needs `declares` (for example `declares *`)", target.name)
            } else {
                crate::suggest::did_you_mean(&wanted, declared.iter().copied())
                    .unwrap_or_else(|| format!("it declares {}", declared.iter().map(|d| format!("`{d}`")).collect::<Vec<_>>().join(", ")))
            };
            diagnostics.push(
                Diagnostic::error(Code::UndeclaredImport, format!("module `{}` does not declare `{wanted}`", target.name))
                    .with_primary(r.name.span, "not declared there")
                    .with_hint(hint),
            );
        }
    }
    out
}

fn insert_namespace(scope: &mut Namespace, path: &[String], ns: Namespace) {
    let Some((first, rest)) = path.split_first() else { return };
    if rest.is_empty() {
        match scope.defs.get_mut(first) {
            Some(Def::Namespace(existing)) => {
                let merged = Rc::make_mut(existing);
                merged.defs.extend(ns.defs);
            }
            _ => {
                scope.defs.insert(first.clone(), Def::Namespace(Rc::new(ns)));
            }
        }
        return;
    }
    let mut inner = match scope.defs.get(first) {
        Some(Def::Namespace(existing)) => (**existing).clone(),
        _ => Namespace::default(),
    };
    insert_namespace(&mut inner, rest, ns);
    scope.defs.insert(first.clone(), Def::Namespace(Rc::new(inner)));
}

/// Follows a dotted path through namespaces.
pub(crate) fn lookup_path(ns: &Namespace, path: &[&str]) -> Option<Def> {
    let (first, rest) = path.split_first()?;
    let def = ns.defs.get(*first)?;
    if rest.is_empty() {
        return Some(def.clone());
    }
    match def {
        Def::Namespace(inner) => lookup_path(inner, rest),
        _ => None,
    }
}

/// "`x` is not defined", with the closest names as a suggestion.
pub(crate) fn unknown_name(name: &str, span: Span, scope: &Namespace, what: &str) -> Diagnostic {
    let d = Diagnostic::error(Code::UnknownName, format!("`{name}` is not defined")).with_primary(span, format!("unknown name {what}"));
    match crate::suggest::did_you_mean(name, scope.defs.keys().map(String::as_str)) {
        Some(hint) => d.with_hint(hint),
        None => d,
    }
}
