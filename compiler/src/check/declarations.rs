//! Top-level declarations: types, services, constants and functions enter the module's
//! scope in source order; `export` lists are checked against it.

use std::rc::Rc;

use super::{ConstDef, ConstValue, Def, FuncDef, Namespace, ServiceDef, body, unknown_name};
use crate::check::CheckOptions;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::limits::MAX_NESTING;
use crate::modules::LoadedModule;
use crate::syntax::ast::{self, ExprKind, Item, TypeExpr};
use crate::types::{AbilityType, ArrowType, ScalarType, ServiceType, StructType, Type};

/// Adds the module's own declarations to `scope`; returns them alone (for `declares *`).
pub(super) fn declare(
    m: usize,
    module: &LoadedModule,
    scope: &mut Namespace,
    options: &CheckOptions,
    diagnostics: &mut Diagnostics,
) -> Namespace {
    let mut own = Namespace::default();
    for item in &module.ast.items {
        let (name, def) = match item {
            Item::Data(d) => {
                let fields = members(&d.fields, scope, diagnostics, "data");
                (&d.name, Def::Type(Type::Struct(Rc::new(StructType { name: d.name.name.clone(), fields }))))
            }
            Item::Ability(a) => {
                let fields = members(&a.fields, scope, diagnostics, "ability");
                (&a.name, Def::Type(Type::Ability(Rc::new(AbilityType { name: a.name.name.clone(), fields }))))
            }
            Item::Alias { name, ty, .. } => (name, Def::Type(resolve_type(ty, scope, diagnostics))),
            Item::Service(s) => (&s.name, Def::Service(Rc::new(service(s, scope, diagnostics)))),
            Item::Const(c) => (&c.name, Def::Const(Rc::new(constant(c, scope, options, diagnostics)))),
            Item::Func(f) => {
                let ty = Rc::new(resolve_arrow(&f.arrow, scope, diagnostics));
                let body = body::check_func(f, &ty, scope, diagnostics);
                let def = FuncDef { name: f.name.name.clone(), ty, body, module: m };
                (&f.name, Def::Func(Rc::new(def)))
            }
            _ => continue,
        };
        let def = match def {
            Def::Type(t) if crate::types::depth(&t) > MAX_NESTING => {
                diagnostics.push(
                    Diagnostic::error(Code::Limit, format!("the type `{}` nests more than {MAX_NESTING} levels deep", name.name))
                        .with_primary(name.span, "too deep"),
                );
                scope.poisoned.insert(name.name.clone());
                continue;
            }
            def => def,
        };
        if let Some(previous) = own.defs.get(&name.name) {
            diagnostics.push(
                Diagnostic::error(Code::Redefinition, format!("`{}` is already defined in this module", name.name))
                    .with_primary(name.span, format!("a second {}", def.kind()))
                    .with_hint(format!("the first is a {}; give one of them another name", previous.kind())),
            );
            continue;
        }
        own.defs.insert(name.name.clone(), def.clone());
        scope.defs.insert(name.name.clone(), def);
    }
    own
}

/// Fields of a data or ability declaration.
fn members(members: &[ast::Member], scope: &Namespace, diagnostics: &mut Diagnostics, what: &str) -> Vec<(String, Type)> {
    let mut out: Vec<(String, Type)> = Vec::new();
    for member in members {
        let ty = resolve_type(&member.ty, scope, diagnostics);
        if out.iter().any(|(n, _)| *n == member.name.name) {
            diagnostics.push(
                Diagnostic::error(Code::Redefinition, format!("the field `{}` is declared twice", member.name.name))
                    .with_primary(member.name.span, "a second time"),
            );
            continue;
        }
        let refused = match (&ty, what) {
            (Type::Arrow(_) | Type::Ability(_) | Type::Service(_), "data") => Some("a data field holds data, not arrows or abilities"),
            (Type::Stream(_) | Type::StreamMap(_), _) => Some("streams cannot be fields; use an array or an option"),
            _ => None,
        };
        if let Some(why) = refused {
            diagnostics.push(
                Diagnostic::error(Code::InvalidDeclaration, format!("the field `{}` cannot have the type `{ty}`", member.name.name))
                    .with_primary(member.ty.span(), why),
            );
        }
        out.push((member.name.name.clone(), ty));
    }
    out
}

fn service(s: &ast::ServiceDecl, scope: &Namespace, diagnostics: &mut Diagnostics) -> ServiceDef {
    let mut functions: Vec<(String, ArrowType)> = Vec::new();
    for member in &s.functions {
        let ty = resolve_type(&member.ty, scope, diagnostics);
        let Type::Arrow(arrow) = ty else {
            diagnostics.push(
                Diagnostic::error(Code::InvalidDeclaration, format!("`{}` in a service must be a function", member.name.name))
                    .with_primary(member.ty.span(), "not an arrow type")
                    .with_hint(format!("write `{}(arg: type) -> result`", member.name.name)),
            );
            continue;
        };
        if arrow.codomain.len() > 1 {
            diagnostics.push(
                Diagnostic::error(Code::InvalidDeclaration, "service functions cannot have multiple results")
                    .with_primary(member.ty.span(), "more than one result")
                    .with_hint("return a data type that holds the values"),
            );
        }
        if functions.iter().any(|(n, _)| *n == member.name.name) {
            diagnostics.push(
                Diagnostic::error(Code::Redefinition, format!("the service function `{}` is declared twice", member.name.name))
                    .with_primary(member.name.span, "a second time"),
            );
            continue;
        }
        functions.push((member.name.name.clone(), (*arrow).clone()));
    }
    let default_id = s.default_id.as_ref().and_then(|id| {
        let value = match &id.kind {
            ExprKind::Str(v) => Some(v.clone()),
            ExprKind::Name(n) => match scope.defs.get(n) {
                Some(Def::Const(c)) => match &c.value {
                    ConstValue::Str(v) => Some(v.clone()),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        };
        if value.is_none() {
            diagnostics.push(
                Diagnostic::error(Code::TypeMismatch, "a service's default id must be a string literal or a string constant")
                    .with_primary(id.span, "not a string"),
            );
        }
        value
    });
    ServiceDef { ty: Rc::new(ServiceType { name: s.name.name.clone(), functions }), default_id, span: s.span }
}

fn constant(c: &ast::ConstDecl, scope: &Namespace, options: &CheckOptions, diagnostics: &mut Diagnostics) -> ConstDef {
    if !c.name.name.chars().all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_') {
        diagnostics.push(
            Diagnostic::error(Code::InvalidConstant, format!("constant names are written in capitals: `{}`", c.name.name.to_uppercase()))
                .with_primary(c.name.span, "not all capitals"),
        );
    }
    let declared = match &c.value.kind {
        ExprKind::Bool(b) => Some(ConstValue::Bool(*b)),
        ExprKind::Int(i) => Some(ConstValue::Int(*i)),
        ExprKind::Float(f) => Some(ConstValue::Float(*f)),
        ExprKind::Str(s) => Some(ConstValue::Str(s.clone())),
        ExprKind::Nil => Some(ConstValue::Nil),
        ExprKind::Name(n) => match scope.defs.get(n) {
            Some(Def::Const(other)) => Some(other.value.clone()),
            Some(_) | None => None,
        },
        ExprKind::Error => Some(ConstValue::Nil),
        _ => None,
    };
    let value = declared.unwrap_or_else(|| {
        diagnostics.push(
            Diagnostic::error(Code::InvalidConstant, format!("the constant `{}` must be a literal", c.name.name))
                .with_primary(c.value.span, "not a literal or another constant")
                .with_hint("constants hold strings, numbers, booleans or `nil`"),
        );
        ConstValue::Nil
    });
    let value = match options.constants.get(&c.name.name) {
        Some(given) if c.overridable => match from_json(given) {
            Some(v) if same_kind(&v, &value) => v,
            _ => {
                diagnostics.push(
                    Diagnostic::error(Code::InvalidConstant, format!("the value given for `{}` does not fit it", c.name.name))
                        .with_primary(c.value.span, format!("declared as `{}`", const_type(&value)))
                        .with_hint(format!("`--const {}=...` was given `{given}`", c.name.name)),
                );
                value
            }
        },
        _ => value,
    };
    ConstDef { ty: const_type(&value), value, span: c.span }
}

fn from_json(v: &serde_json::Value) -> Option<ConstValue> {
    Some(match v {
        serde_json::Value::Bool(b) => ConstValue::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => ConstValue::Int(i128::from(i)),
            None => match n.as_u64() {
                Some(u) => ConstValue::Int(i128::from(u)),
                None => ConstValue::Float(n.as_f64()?),
            },
        },
        serde_json::Value::String(s) => ConstValue::Str(s.clone()),
        serde_json::Value::Null => ConstValue::Nil,
        _ => return None,
    })
}

fn same_kind(a: &ConstValue, b: &ConstValue) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b) || matches!((a, b), (ConstValue::Int(_), ConstValue::Float(_)))
}

/// The type of a constant's value: literal types, so that `const N = 5` fits any number.
pub(crate) fn const_type(v: &ConstValue) -> Type {
    use crate::types::LiteralKind;
    match v {
        ConstValue::Bool(_) => Type::Scalar(ScalarType::Bool),
        ConstValue::Int(i) if *i < 0 => Type::Literal(LiteralKind::Signed),
        ConstValue::Int(_) => Type::Literal(LiteralKind::Unsigned),
        ConstValue::Float(_) => Type::Literal(LiteralKind::Float),
        ConstValue::Str(_) => Type::Scalar(ScalarType::String),
        ConstValue::Nil => Type::Option(Box::new(Type::Bottom)),
    }
}

/// A type as written to a type; unknown names are reported and become `⊥`, which fits
/// everywhere, so that one unknown type gives one error.
pub(crate) fn resolve_type(te: &TypeExpr, scope: &Namespace, diagnostics: &mut Diagnostics) -> Type {
    match te {
        TypeExpr::Named(q) => {
            if let [single] = q.parts.as_slice()
                && let Some(s) = ScalarType::from_name(&single.name)
            {
                return Type::Scalar(s);
            }
            let path: Vec<&str> = q.parts.iter().map(|p| p.name.as_str()).collect();
            match super::lookup_path(scope, &path) {
                Some(Def::Type(t)) => t,
                Some(Def::Service(s)) => Type::Service(s.ty.clone()),
                Some(other) => {
                    diagnostics.push(
                        Diagnostic::error(Code::UnknownType, format!("`{}` is a {}, not a type", q.text(), other.kind()))
                            .with_primary(q.span, "not a type"),
                    );
                    Type::Bottom
                }
                None if q.parts.first().is_some_and(|p| scope.excuses(&p.name)) => Type::Bottom,
                None => {
                    let scalars = ["u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64", "f32", "f64", "bool", "string"];
                    let types = scope.defs.iter().filter(|(_, d)| matches!(d, Def::Type(_) | Def::Service(_))).map(|(n, _)| n.as_str());
                    let mut d = Diagnostic::error(Code::UnknownType, format!("the type `{}` is not defined", q.text()))
                        .with_primary(q.span, "unknown type");
                    let hint = if diagnostics.len() > crate::limits::MAX_DIAGNOSTICS_WITH_SUGGESTIONS {
                        None
                    } else {
                        crate::suggest::did_you_mean(&q.text(), scalars.into_iter().chain(types))
                    };
                    if let Some(hint) = hint {
                        d = d.with_hint(hint);
                    }
                    diagnostics.push(d);
                    Type::Bottom
                }
            }
        }
        TypeExpr::Array(t, _) => Type::Array(Box::new(resolve_type(t, scope, diagnostics))),
        TypeExpr::Option(t, _) => Type::Option(Box::new(resolve_type(t, scope, diagnostics))),
        TypeExpr::Stream(t, _) => Type::Stream(Box::new(resolve_type(t, scope, diagnostics))),
        TypeExpr::StreamMap(t, _) => Type::StreamMap(Box::new(resolve_type(t, scope, diagnostics))),
        TypeExpr::Arrow(a) => Type::Arrow(Rc::new(resolve_arrow(a, scope, diagnostics))),
        TypeExpr::Top(_) => Type::Top,
        TypeExpr::Bottom(_) => Type::Bottom,
    }
}

pub(crate) fn resolve_arrow(a: &ast::ArrowTypeExpr, scope: &Namespace, diagnostics: &mut Diagnostics) -> ArrowType {
    let abilities = a
        .abilities
        .iter()
        .map(|q| {
            let t = resolve_type(&TypeExpr::Named(q.clone()), scope, diagnostics);
            if !matches!(t, Type::Ability(_) | Type::Service(_) | Type::Bottom) {
                diagnostics.push(
                    Diagnostic::error(Code::TypeMismatch, format!("`{}` is not an ability", q.text()))
                        .with_primary(q.span, "only abilities go between `{` and `}`"),
                );
            }
            t
        })
        .collect();
    let domain = a.params.iter().map(|p| (p.name.as_ref().map(|n| n.name.clone()), resolve_type(&p.ty, scope, diagnostics))).collect();
    let codomain = a.results.iter().map(|t| resolve_type(t, scope, diagnostics)).collect();
    ArrowType { abilities, domain, codomain }
}

/// The module's `export` lists: names that exist and can be exported.
pub(super) fn exports(module: &LoadedModule, scope: &Namespace, diagnostics: &mut Diagnostics) -> Vec<(String, Def)> {
    let mut out: Vec<(String, Def)> = Vec::new();
    for item in &module.ast.items {
        let Item::Export { names, .. } = item else { continue };
        for r in names {
            let path: Vec<&str> = r.name.parts.iter().map(|p| p.name.as_str()).collect();
            let exported = r.alias.as_ref().map_or_else(|| path.last().copied().unwrap_or_default().to_string(), |a| a.name.clone());
            let Some(def) = super::lookup_path(scope, &path) else {
                if !path.first().is_some_and(|first| scope.excuses(first)) {
                    let last = r.name.parts.last().map_or(r.name.span, |p| p.span);
                    let mut d = unknown_name(&r.name.text(), last, scope, "in `export`");
                    if d.hint.is_none() {
                        let exportable: Vec<String> = scope
                            .defs
                            .iter()
                            .filter(|(_, d)| matches!(d, Def::Func(_) | Def::Service(_)))
                            .map(|(n, _)| format!("`{n}`"))
                            .collect();
                        if !exportable.is_empty() {
                            d = d.with_hint(format!("functions and services here: {}", exportable.join(", ")));
                        }
                    }
                    diagnostics.push(d);
                }
                continue;
            };
            match &def {
                Def::Func(f) => {
                    if let Some(why) = not_exportable(&f.ty) {
                        diagnostics.push(
                            Diagnostic::error(
                                Code::NotExportable,
                                format!("the function `{}` cannot be exported, because it {why}", r.name.text()),
                            )
                            .with_primary(r.name.span, "not exportable")
                            .with_hint("export a function that calls it with concrete values instead"),
                        );
                        continue;
                    }
                }
                Def::Service(_) => {}
                other => {
                    diagnostics.push(
                        Diagnostic::error(
                            Code::NotExportable,
                            format!("`{}` is a {}; only functions and services are exported", r.name.text(), other.kind()),
                        )
                        .with_primary(r.name.span, "not a function or a service")
                        .with_hint("types and constants reach other modules through `declares`"),
                    );
                    continue;
                }
            }
            if out.iter().any(|(n, _)| *n == exported) {
                let span = r.alias.as_ref().map_or(r.name.span, |a| a.span);
                diagnostics.push(
                    Diagnostic::error(Code::Redefinition, format!("`{exported}` is exported twice")).with_primary(span, "a second time"),
                );
                continue;
            }
            out.push((exported, def));
        }
    }
    out
}

fn not_exportable(ty: &ArrowType) -> Option<&'static str> {
    if !ty.abilities.is_empty() || ty.domain.iter().any(|(_, t)| matches!(t, Type::Ability(_))) {
        return Some("accepts an ability");
    }
    if ty.codomain.iter().any(|t| matches!(t, Type::Arrow(_) | Type::Ability(_) | Type::Service(_))) {
        return Some("returns an arrow or an ability");
    }
    None
}
