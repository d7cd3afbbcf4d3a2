//! Function bodies: statements and expressions, checked against the module's scope and
//! the function's local names.
//!
//! An expression that fails to check gets the type `⊥`, which fits everywhere, so one
//! mistake gives one diagnostic rather than a cascade.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::declarations::{resolve_arrow, resolve_type};
use super::{ConstDef, Def, FuncDef, Namespace, ServiceDef, lookup_path};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::suggest::did_you_mean;
use crate::syntax::ast::{self, Arg, BinOp, Block, CollectionKind, Expr, ExprKind, ForMode, Ident, StmtKind};
use crate::types::{ArrowType, LiteralKind, ScalarType, StructType, Type, accepts, describe_mismatch, numeric_result, unify};

/// The names every function sees besides its own and the module's.
const BUILTIN_VALUES: [&str; 5] = ["INIT_PEER_ID", "HOST_PEER_ID", "PARTICLE_TTL", "PARTICLE_TIMESTAMP", "LAST_ERROR"];

/// The error object of `catch e` and `LAST_ERROR`, as AquaVM makes it.
pub(crate) fn error_type() -> Type {
    Type::Struct(Rc::new(StructType {
        name: "Error".into(),
        fields: vec![
            ("error_code".into(), Type::Scalar(ScalarType::I64)),
            ("message".into(), Type::Scalar(ScalarType::String)),
            ("instruction".into(), Type::Scalar(ScalarType::String)),
            ("peer_id".into(), Type::Scalar(ScalarType::String)),
        ],
    }))
}

pub(super) fn check_func(f: &ast::FuncDecl, ty: &ArrowType, module: &Namespace, diagnostics: &mut Diagnostics) {
    let mut checker = Checker { module, func_name: &f.name.name, frames: vec![Frame::default()], diagnostics };
    for (q, ability) in f.arrow.abilities.iter().zip(&ty.abilities) {
        if let Some(last) = q.parts.last() {
            checker.define(last, ability.clone());
        }
    }
    for (param, (_, t)) in f.arrow.params.iter().zip(&ty.domain) {
        if let Some(name) = &param.name {
            checker.define(name, t.clone());
        }
    }
    checker.body(&f.body, &ty.codomain, f.name.span);
}

/// Local names of one block, and the services given an id in it.
#[derive(Debug, Default)]
struct Frame {
    vars: BTreeMap<String, Type>,
    services: BTreeSet<String>,
}

/// What a name or a dotted path refers to.
#[derive(Debug, Clone)]
enum Target {
    Value(Type),
    Func(Rc<FuncDef>),
    Service(Rc<ServiceDef>, String),
    TypeDef(Type),
    Namespace(Rc<Namespace>),
    Const(Rc<ConstDef>),
}

struct Checker<'a> {
    module: &'a Namespace,
    func_name: &'a str,
    frames: Vec<Frame>,
    diagnostics: &'a mut Diagnostics,
}

impl Checker<'_> {
    fn error(&mut self, code: Code, message: impl Into<String>, span: Span, label: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(code, message).with_primary(span, label));
    }

    fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    fn local(&self, name: &str) -> Option<&Type> {
        self.frames.iter().rev().find_map(|f| f.vars.get(name))
    }

    fn define(&mut self, name: &Ident, ty: Type) {
        if self.local(&name.name).is_some() {
            self.push(
                Diagnostic::error(Code::Redefinition, format!("`{}` is already defined", name.name))
                    .with_primary(name.span, "defined again here")
                    .with_hint("names are immutable in Aqua; choose a new name (streams collect several values)"),
            );
            return;
        }
        if let Some(frame) = self.frames.last_mut() {
            frame.vars.insert(name.name.clone(), ty);
        }
    }

    fn in_frame<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.frames.push(Frame::default());
        let out = f(self);
        self.frames.pop();
        out
    }

    /// A function or closure body: statements, then the return that must end it.
    fn body(&mut self, block: &Block, results: &[Type], name_span: Span) {
        let (last, rest) = match block.stmts.split_last() {
            Some((last, rest)) => (Some(last), rest),
            None => (None, &block.stmts[..]),
        };
        for stmt in rest {
            self.stmt(stmt);
        }
        match last.map(|s| &s.kind) {
            Some(StmtKind::Return(values)) => self.returns(values, results, last.map_or(block.span, |s| s.span)),
            Some(_) => {
                if let Some(s) = last {
                    self.stmt(s);
                }
                // A broken last statement may well have been the return.
                let broken = matches!(last.map(|s| &s.kind), Some(StmtKind::Error { .. }));
                if !results.is_empty() && !broken {
                    self.push(
                        Diagnostic::error(Code::MissingReturn, "this function declares a result but returns nothing")
                            .with_primary(name_span, format!("declared to return {}", list(results)))
                            .with_hint("end the body with `<- value`"),
                    );
                }
            }
            None => {}
        }
    }

    fn returns(&mut self, values: &[Expr], results: &[Type], span: Span) {
        let given: Vec<(Type, Span)> = values.iter().map(|v| (self.value(v), v.span)).collect();
        if given.len() != results.len() {
            let expected =
                if results.is_empty() { "nothing".to_string() } else { format!("{}: {}", count(results.len(), "value"), list(results)) };
            self.push(
                Diagnostic::error(
                    Code::ReturnMismatch,
                    format!("this returns {}, the function returns {expected}", count(given.len(), "value")),
                )
                .with_primary(span, "wrong number of values"),
            );
            return;
        }
        for (((t, s), expected), v) in given.iter().zip(results).zip(values) {
            self.literal_range(expected, v);
            if !accepts(expected, t) {
                self.push(
                    Diagnostic::error(Code::ReturnMismatch, format!("this returns `{t}` where the function returns `{expected}`"))
                        .with_primary(*s, format!("`{t}`"))
                        .with_hint(describe_mismatch(expected, t)),
                );
            }
        }
    }

    fn block(&mut self, block: &Block) {
        self.in_frame(|c| c.stmts(block));
    }

    /// Statements of a block in the current frame.
    fn stmts(&mut self, block: &Block) {
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &ast::Stmt) {
        match &stmt.kind {
            StmtKind::Expr(e) => self.call_statement(e),
            StmtKind::Bind { names, value } => self.bind(names, value),
            StmtKind::Assign { name, value } => {
                if matches!(&value.kind, ExprKind::Collection(CollectionKind::Array, items) if items.is_empty()) {
                    self.push(
                        Diagnostic::error(Code::EmptyArrayAssignment, "assigning an empty array to a name is not allowed")
                            .with_primary(value.span, "its element type is unknown")
                            .with_hint("use `nil`, or pass `[]` directly where it is needed"),
                    );
                    self.define(name, Type::Bottom);
                    return;
                }
                let t = self.value(value);
                self.define(name, t);
            }
            StmtKind::Closure { name, arrow, body, .. } => {
                let ty = resolve_arrow(arrow, self.module, self.diagnostics);
                self.in_frame(|c| {
                    for (param, (_, t)) in arrow.params.iter().zip(&ty.domain) {
                        if let Some(n) = &param.name {
                            c.define(n, t.clone());
                        }
                    }
                    c.body(body, &ty.codomain, name.span);
                });
                self.define(name, Type::Arrow(Rc::new(ty)));
            }
            StmtKind::Return(_) => self.error(
                Code::InvalidStatement,
                "`<-` can only end a function body",
                stmt.span,
                "a return in the middle of a body or inside a block",
            ),
            StmtKind::Declare { name, ty } => {
                let t = resolve_type(ty, self.module, self.diagnostics);
                if !matches!(t, Type::Stream(_) | Type::StreamMap(_) | Type::Bottom) {
                    self.push(
                        Diagnostic::error(Code::InvalidStatement, format!("only streams and stream maps are declared, not `{t}`"))
                            .with_primary(ty.span(), "not a stream")
                            .with_hint(format!("declare a stream with `{}: *{t}`, or bind a value with `=`", name.name)),
                    );
                }
                self.define(name, t);
            }
            StmtKind::Push { target, key, value } => self.push_to(target, key.as_ref(), value),
            StmtKind::ServiceId { service, id } => {
                let t = self.value(id);
                self.expect(&Type::Scalar(ScalarType::String), &t, id.span, "a service id");
                let path: Vec<&str> = service.parts.iter().map(|p| p.name.as_str()).collect();
                match lookup_path(self.module, &path) {
                    Some(Def::Service(_)) => {
                        if let Some(frame) = self.frames.last_mut() {
                            frame.services.insert(service.text());
                        }
                    }
                    Some(other) => self.error(
                        Code::TypeMismatch,
                        format!("`{}` is a {}, not a service", service.text(), other.kind()),
                        service.span,
                        "not a service",
                    ),
                    None => {
                        let d = Diagnostic::error(Code::UnknownName, format!("the service `{}` is not defined", service.text()))
                            .with_primary(service.span, "unknown service");
                        let d = match did_you_mean(&service.text(), self.module_names(|d| matches!(d, Def::Service(_)))) {
                            Some(h) => d.with_hint(h),
                            None => d,
                        };
                        self.push(d);
                    }
                }
            }
            StmtKind::On { peer, via, body } => {
                self.peer(peer);
                for v in via {
                    self.via(v);
                }
                // Names bound inside `on` stay visible after it.
                self.stmts(body);
            }
            StmtKind::Join(values) => {
                for v in values {
                    self.value(v);
                }
            }
            StmtKind::For { key, item, iterable, mode, body } => {
                let t = self.value(iterable);
                let (key_ty, item_ty) = self.iteration(&t, iterable.span, key.is_some(), *mode);
                self.in_frame(|c| {
                    if let (Some(k), Some(kt)) = (key, key_ty) {
                        c.define(k, kt);
                    }
                    c.define(item, item_ty);
                    c.stmts(body);
                });
            }
            StmtKind::Parseq { item, iterable, peer, via, body } => {
                let t = self.value(iterable);
                let (_, item_ty) = self.iteration(&t, iterable.span, false, None);
                self.in_frame(|c| {
                    c.define(item, item_ty);
                    c.peer(peer);
                    for v in via {
                        c.via(v);
                    }
                    c.stmts(body);
                });
            }
            StmtKind::If { cond, then, otherwise } => {
                let t = self.value(cond);
                self.expect(&Type::Scalar(ScalarType::Bool), &t, cond.span, "an `if` condition");
                self.block(then);
                if let Some(b) = otherwise {
                    self.block(b);
                }
            }
            StmtKind::Try { body, catch, otherwise } => {
                self.block(body);
                if let Some((e, b)) = catch {
                    self.in_frame(|c| {
                        c.define(e, error_type());
                        c.stmts(b);
                    });
                }
                if let Some(b) = otherwise {
                    self.block(b);
                }
            }
            // Misplaced branches are reported by the parser.
            StmtKind::Error { names } => {
                for n in names {
                    if self.local(&n.name).is_none() {
                        self.define(n, Type::Bottom);
                    }
                }
            }
            StmtKind::Else(_) | StmtKind::Catch(..) | StmtKind::Otherwise(_) => {}
        }
    }

    fn peer(&mut self, peer: &Expr) {
        let t = self.value(peer);
        self.expect(&Type::Scalar(ScalarType::String), &t, peer.span, "a peer id");
    }

    fn via(&mut self, via: &Expr) {
        let t = self.value(via);
        let string = Type::Scalar(ScalarType::String);
        let ok = accepts(&string, &t) || t.element().is_some_and(|e| accepts(&string, e));
        if !ok {
            self.push(
                Diagnostic::error(Code::TypeMismatch, format!("`via` takes a peer id or a collection of them, not `{t}`"))
                    .with_primary(via.span, format!("`{t}`")),
            );
        }
    }

    /// The types bound by a `for` over a value of type `t`: (key, item).
    fn iteration(&mut self, t: &Type, span: Span, pairs: bool, mode: Option<ForMode>) -> (Option<Type>, Type) {
        if mode == Some(ForMode::Rec) && !matches!(t, Type::Stream(_) | Type::Bottom) {
            self.error(Code::TypeMismatch, format!("`for ... rec` iterates over a stream, not `{t}`"), span, "not a stream");
        }
        match (t, pairs) {
            (Type::StreamMap(v), true) => (Some(Type::Scalar(ScalarType::String)), (**v).clone()),
            (Type::StreamMap(v), false) => (
                None,
                Type::Struct(Rc::new(StructType {
                    name: "KeyValue".into(),
                    fields: vec![("key".into(), Type::Scalar(ScalarType::String)), ("value".into(), (**v).clone())],
                })),
            ),
            (Type::Bottom, _) => (pairs.then_some(Type::Bottom), Type::Bottom),
            (_, true) => {
                self.error(
                    Code::TypeMismatch,
                    format!("`for k, v <- ...` iterates over a stream map, not `{t}`"),
                    span,
                    "not a stream map",
                );
                (Some(Type::Bottom), Type::Bottom)
            }
            (t, false) => match t.element() {
                Some(e) => (None, e.clone()),
                None => {
                    self.error(Code::TypeMismatch, format!("`for` iterates over a collection, not `{t}`"), span, "not a collection");
                    (None, Type::Bottom)
                }
            },
        }
    }

    fn push_to(&mut self, target: &Ident, key: Option<&Expr>, value: &Expr) {
        let v = self.value(value);
        let Some(t) = self.local(&target.name).cloned() else {
            if !self.module.excuses(&target.name) {
                self.push(self.unknown(&target.name, target.span));
            }
            return;
        };
        match (&t, key) {
            (Type::Stream(e), None) => {
                self.expect(e, &v, value.span, "a value pushed to this stream");
                self.literal_range(e, value);
            }
            (Type::StreamMap(e), Some(k)) => {
                let kt = self.value(k);
                self.expect(&Type::Scalar(ScalarType::String), &kt, k.span, "a stream map key");
                self.expect(e, &v, value.span, "a value pushed to this stream map");
            }
            (Type::StreamMap(_), None) => {
                self.error(Code::InvalidStatement, "a push to a stream map needs a key: `map <<- key, value`", target.span, "no key given")
            }
            (Type::Stream(_), Some(k)) => {
                self.error(Code::InvalidStatement, "a push to a stream takes one value, not a key and a value", k.span, "unexpected key")
            }
            (Type::Option(_), _) => self.push(
                Diagnostic::error(Code::InvalidStatement, format!("`{}` is an option; options cannot be pushed to", target.name))
                    .with_primary(target.span, format!("`{t}`"))
                    .with_hint(format!(
                        "declare a stream instead: `{}: *{}`",
                        target.name,
                        t.element().map_or("T".to_string(), ToString::to_string)
                    )),
            ),
            (Type::Bottom, _) => {}
            _ => self.push(
                Diagnostic::error(
                    Code::InvalidStatement,
                    format!("`{}` is not a stream; only streams and stream maps are pushed to", target.name),
                )
                .with_primary(target.span, format!("`{t}`")),
            ),
        }
    }

    fn call_statement(&mut self, e: &Expr) {
        if !matches!(e.kind, ExprKind::Call { .. }) {
            if !matches!(e.kind, ExprKind::Error) {
                self.push(
                    Diagnostic::error(Code::InvalidStatement, "this expression is computed and never used")
                        .with_primary(e.span, "not a call")
                        .with_hint("only calls stand alone as statements; bind a value with `name = ...`"),
                );
            }
            return;
        }
        let results = self.call(e);
        if !results.is_empty() && !results.contains(&Type::Bottom) {
            self.push(
                Diagnostic::warning(Code::ResultIgnored, "this call returns a value that is not used")
                    .with_primary(e.span, format!("returns {}", list(&results)))
                    .with_hint("bind it with `name <- ...` if you need it"),
            );
        }
    }

    fn bind(&mut self, names: &[Ident], value: &Expr) {
        if !matches!(value.kind, ExprKind::Call { .. }) {
            let t = self.value(value);
            if !matches!(value.kind, ExprKind::Error) {
                let name = names.first().map_or("x", |n| n.name.as_str());
                self.push(
                    Diagnostic::error(Code::InvalidStatement, "`<-` binds the results of a call")
                        .with_primary(value.span, "not a call")
                        .with_hint(format!("bind a value with `{name} = ...`")),
                );
            }
            if let [n] = names {
                self.bind_one(n, t, value.span);
            }
            return;
        }
        let results = self.call(value);
        // `map <- f()` where `f` returns a key and a value pushes to the stream map.
        if let ([name], [key, v]) = (names, results.as_slice())
            && let Some(Type::StreamMap(e)) = self.local(&name.name).cloned()
        {
            self.expect(&Type::Scalar(ScalarType::String), key, value.span, "the key pushed to this stream map");
            self.expect(&e, v, value.span, "a value pushed to this stream map");
            return;
        }
        if results.len() != names.len() {
            let msg = if results.is_empty() {
                "this call returns nothing, so there is nothing to bind".to_string()
            } else {
                format!("this call returns {}, but {} bound", count(results.len(), "value"), count(names.len(), "name"))
            };
            self.error(
                Code::ReturnMismatch,
                msg,
                value.span,
                if results.is_empty() { "returns nothing".to_string() } else { format!("returns {}", list(&results)) },
            );
            for n in names {
                self.bind_one(n, Type::Bottom, value.span);
            }
            return;
        }
        for (n, t) in names.iter().zip(results) {
            self.bind_one(n, t, value.span);
        }
    }

    /// `x <- call`: binding to a stream in scope pushes to it.
    fn bind_one(&mut self, name: &Ident, t: Type, span: Span) {
        match self.local(&name.name).cloned() {
            Some(Type::Stream(e)) => self.expect(&e, &t, span, "a value pushed to this stream"),
            _ => self.define(name, t),
        }
    }

    /// Reports when `given` does not fit `expected`.
    fn expect(&mut self, expected: &Type, given: &Type, span: Span, what: &str) {
        if !accepts(expected, given) {
            self.push(
                Diagnostic::error(Code::TypeMismatch, format!("{what} must be `{expected}`, but this is `{given}`"))
                    .with_primary(span, format!("`{given}`"))
                    .with_hint(describe_mismatch(expected, given)),
            );
        }
    }

    /// Reports an integer literal outside the range of the integer type it is used as.
    fn literal_range(&mut self, expected: &Type, e: &Expr) {
        let ExprKind::Int(v) = e.kind else { return };
        let Type::Scalar(s) = expected else { return };
        let range: (i128, i128) = match s {
            ScalarType::U8 => (0, u8::MAX.into()),
            ScalarType::U16 => (0, u16::MAX.into()),
            ScalarType::U32 => (0, u32::MAX.into()),
            ScalarType::U64 => (0, u64::MAX.into()),
            ScalarType::I8 => (i8::MIN.into(), i8::MAX.into()),
            ScalarType::I16 => (i16::MIN.into(), i16::MAX.into()),
            ScalarType::I32 => (i32::MIN.into(), i32::MAX.into()),
            ScalarType::I64 => (i64::MIN.into(), i64::MAX.into()),
            _ => return,
        };
        if v < range.0 || v > range.1 {
            self.push(
                Diagnostic::error(Code::TypeMismatch, format!("`{v}` does not fit `{expected}`"))
                    .with_primary(e.span, format!("out of range for `{expected}`"))
                    .with_hint(format!("`{expected}` holds {} to {}", range.0, range.1)),
            );
        }
    }

    fn module_names(&self, keep: impl Fn(&Def) -> bool) -> Vec<&str> {
        self.module.defs.iter().filter(|(_, d)| keep(d)).map(|(n, _)| n.as_str()).collect()
    }

    fn unknown(&self, name: &str, span: Span) -> Diagnostic {
        if name == self.func_name {
            return Diagnostic::error(Code::Recursion, format!("`{name}` calls itself; recursion is not supported"))
                .with_primary(span, "a call of the function being defined")
                .with_hint("functions are inlined into AIR; use `for` over a stream (or `for ... rec`) to repeat");
        }
        let mut candidates: Vec<&str> = self.frames.iter().flat_map(|f| f.vars.keys().map(String::as_str)).collect();
        candidates.extend(self.module.defs.keys().map(String::as_str));
        candidates.extend(BUILTIN_VALUES);
        let d = Diagnostic::error(Code::UnknownName, format!("`{name}` is not defined")).with_primary(span, "unknown name");
        match did_you_mean(name, candidates) {
            Some(h) => d.with_hint(h),
            None => d,
        }
    }

    /// What a name or a dotted path refers to; `None` after reporting an error.
    fn target(&mut self, e: &Expr) -> Option<Target> {
        match &e.kind {
            ExprKind::Name(n) => {
                if let Some(t) = self.local(n) {
                    return Some(Target::Value(t.clone()));
                }
                if let Some(t) = builtin_value(n) {
                    return Some(Target::Value(t));
                }
                match self.module.defs.get(n) {
                    Some(def) => Some(self.def_target(def.clone(), n.clone())),
                    None if self.module.excuses(n) => None,
                    None => {
                        let d = self.unknown(n, e.span);
                        self.push(d);
                        None
                    }
                }
            }
            ExprKind::Field(base, field) => {
                let base_target = self.target(base)?;
                match base_target {
                    Target::Namespace(ns) => match ns.defs.get(&field.name) {
                        Some(def) => Some(self.def_target(def.clone(), field.name.clone())),
                        None => {
                            let d = Diagnostic::error(Code::UnknownName, format!("`{}` is not defined in this module", field.name))
                                .with_primary(field.span, "unknown name");
                            let d = match did_you_mean(&field.name, ns.defs.keys().map(String::as_str)) {
                                Some(h) => d.with_hint(h),
                                None => d,
                            };
                            self.push(d);
                            None
                        }
                    },
                    Target::Service(s, path) => {
                        let f = self.service_function(&s, &field.name, field.span)?;
                        self.check_service_id(&s, &path, base.span);
                        Some(Target::Value(Type::Arrow(Rc::new(f))))
                    }
                    Target::Value(t) => Some(Target::Value(self.field_of(&t, field)?)),
                    Target::Const(c) => Some(Target::Value(self.field_of(&c.ty, field)?)),
                    Target::Func(f) => {
                        self.error(Code::UnknownField, format!("the function `{}` has no fields", f.name), field.span, "no such field");
                        None
                    }
                    Target::TypeDef(t) => {
                        self.error(
                            Code::UnknownField,
                            format!("`{t}` is a type; its fields belong to values"),
                            field.span,
                            "a type has no fields",
                        );
                        None
                    }
                }
            }
            _ => Some(Target::Value(self.value(e))),
        }
    }

    fn def_target(&self, def: Def, name: String) -> Target {
        match def {
            Def::Type(t) => Target::TypeDef(t),
            Def::Service(s) => Target::Service(s, name),
            Def::Func(f) => Target::Func(f),
            Def::Const(c) => Target::Const(c),
            Def::Namespace(ns) => Target::Namespace(ns),
        }
    }

    fn service_function(&mut self, s: &ServiceDef, name: &str, span: Span) -> Option<ArrowType> {
        match s.ty.functions.iter().find(|(n, _)| n == name) {
            Some((_, f)) => Some(f.clone()),
            None => {
                let d = Diagnostic::error(Code::UnknownFunction, format!("the service `{}` has no function `{name}`", s.ty.name))
                    .with_primary(span, "unknown function");
                let names: Vec<&str> = s.ty.functions.iter().map(|(n, _)| n.as_str()).collect();
                let hint = did_you_mean(name, names.iter().copied()).unwrap_or_else(|| {
                    format!("its functions are {}", names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "))
                });
                self.push(d.with_hint(hint));
                None
            }
        }
    }

    fn check_service_id(&mut self, s: &ServiceDef, path: &str, span: Span) {
        if s.default_id.is_some() || self.frames.iter().any(|f| f.services.contains(path) || f.services.contains(&s.ty.name)) {
            return;
        }
        self.push(
            Diagnostic::error(Code::UnresolvedService, format!("the service `{}` has no id here", s.ty.name))
                .with_primary(span, "called without an id")
                .with_hint(format!(
                    "give it one before the call with `{} \"service-id\"`, or declare a default: `service {}(\"id\")`",
                    s.ty.name, s.ty.name
                )),
        );
    }

    /// The type of `t.field`: struct and ability fields, service functions, `.length`.
    fn field_of(&mut self, t: &Type, field: &Ident) -> Option<Type> {
        let fields: Vec<(String, Type)> = match t {
            Type::Bottom => return Some(Type::Bottom),
            Type::Struct(s) => s.fields.clone(),
            Type::Ability(a) => a.fields.clone(),
            Type::Service(s) => s.functions.iter().map(|(n, f)| (n.clone(), Type::Arrow(Rc::new(f.clone())))).collect(),
            Type::StreamMap(e) => {
                let string = Type::Scalar(ScalarType::String);
                let method = |domain: Vec<Type>, result: Type| {
                    Some(Type::Arrow(Rc::new(ArrowType {
                        abilities: vec![],
                        domain: domain.into_iter().map(|t| (None, t)).collect(),
                        codomain: vec![result],
                    })))
                };
                return match field.name.as_str() {
                    "get" => method(vec![string], Type::Array(e.clone())),
                    "getStream" => method(vec![string], Type::Stream(e.clone())),
                    "contains" => method(vec![string], Type::Scalar(ScalarType::Bool)),
                    "keys" => method(vec![], Type::Array(Box::new(string))),
                    "keysStream" => method(vec![], Type::Stream(Box::new(string))),
                    _ => {
                        let d = Diagnostic::error(Code::UnknownField, format!("a stream map has no method `{}`", field.name))
                            .with_primary(field.span, "unknown method");
                        let methods = ["get", "getStream", "contains", "keys", "keysStream"];
                        let hint = did_you_mean(&field.name, methods).unwrap_or_else(|| {
                            "its methods are `get(key)`, `getStream(key)`, `contains(key)`, `keys()` and `keysStream()`".into()
                        });
                        self.push(d.with_hint(hint));
                        None
                    }
                };
            }
            Type::Array(_) | Type::Option(_) | Type::Stream(_) if field.name == "length" => {
                return Some(Type::Scalar(ScalarType::U32));
            }
            other => {
                self.error(Code::UnknownField, format!("`{other}` has no fields"), field.span, format!("no field `{}`", field.name));
                return None;
            }
        };
        match fields.iter().find(|(n, _)| *n == field.name) {
            Some((_, ft)) => Some(ft.clone()),
            None => {
                let d = Diagnostic::error(Code::UnknownField, format!("`{t}` has no field `{}`", field.name))
                    .with_primary(field.span, "unknown field");
                let hint = did_you_mean(&field.name, fields.iter().map(|(n, _)| n.as_str())).unwrap_or_else(|| {
                    format!("its fields are {}", fields.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", "))
                });
                self.push(d.with_hint(hint));
                None
            }
        }
    }

    /// The type of an expression that must give exactly one value.
    fn value(&mut self, e: &Expr) -> Type {
        match &e.kind {
            ExprKind::Bool(_) => Type::Scalar(ScalarType::Bool),
            ExprKind::Int(i) if *i < 0 => Type::Literal(LiteralKind::Signed),
            ExprKind::Int(_) => Type::Literal(LiteralKind::Unsigned),
            ExprKind::Float(_) => Type::Literal(LiteralKind::Float),
            ExprKind::Str(_) | ExprKind::InitPeerId => Type::Scalar(ScalarType::String),
            ExprKind::Nil => Type::Option(Box::new(Type::Bottom)),
            ExprKind::Error => Type::Bottom,
            ExprKind::Name(_) | ExprKind::Field(..) => match self.target(e) {
                None => Type::Bottom,
                Some(Target::Value(t)) => t,
                Some(Target::Const(c)) => c.ty.clone(),
                Some(Target::Func(f)) => Type::Arrow(f.ty.clone()),
                Some(Target::Service(s, _)) => Type::Service(s.ty.clone()),
                Some(Target::TypeDef(t)) => {
                    self.error(Code::TypeMismatch, format!("`{t}` is a type, not a value"), e.span, "a type");
                    Type::Bottom
                }
                Some(Target::Namespace(_)) => {
                    self.error(Code::TypeMismatch, "a module is not a value", e.span, "a module name");
                    Type::Bottom
                }
            },
            ExprKind::Index(base, index) => {
                let bt = self.value(base);
                let it = self.value(index);
                if let ExprKind::Int(i) = index.kind
                    && i < 0
                {
                    self.error(Code::InvalidIndex, "collection indexes must be non-negative", index.span, "a negative index");
                }
                if !it.is_numeric() && it != Type::Bottom {
                    self.error(Code::InvalidIndex, format!("an index must be a number, not `{it}`"), index.span, format!("`{it}`"));
                }
                match (&bt, bt.element()) {
                    (Type::StreamMap(_), _) => {
                        self.error(
                            Code::TypeMismatch,
                            "a stream map is indexed by iterating over it with `for k, v <- map`",
                            base.span,
                            "a stream map",
                        );
                        Type::Bottom
                    }
                    (_, Some(el)) => el.clone(),
                    (Type::Bottom, None) => Type::Bottom,
                    (t, None) => {
                        self.error(
                            Code::TypeMismatch,
                            format!("`{t}` is not a collection and cannot be indexed"),
                            base.span,
                            format!("`{t}`"),
                        );
                        Type::Bottom
                    }
                }
            }
            ExprKind::Call { .. } => {
                let results = self.call(e);
                match results.len() {
                    1 => results.into_iter().next().unwrap_or(Type::Bottom),
                    0 => {
                        self.error(Code::TypeMismatch, "this call returns nothing, so it has no value", e.span, "returns `()`");
                        Type::Bottom
                    }
                    n => {
                        self.error(
                            Code::TypeMismatch,
                            format!("this call returns {n} values where one is needed"),
                            e.span,
                            "bind them with `a, b <- ...`",
                        );
                        Type::Bottom
                    }
                }
            }
            ExprKind::Not(inner) => {
                let t = self.value(inner);
                self.expect(&Type::Scalar(ScalarType::Bool), &t, inner.span, "the operand of `!`");
                Type::Scalar(ScalarType::Bool)
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, e.span),
            ExprKind::Collection(kind, items) => {
                let mut el = Type::Bottom;
                for item in items {
                    let t = self.value(item);
                    match unify(&el, &t) {
                        Some(u) => el = u,
                        None => self.push(
                            Diagnostic::error(
                                Code::TypeMismatch,
                                format!("the elements of a collection must have one type; `{t}` does not fit `{el}`"),
                            )
                            .with_primary(item.span, format!("`{t}`")),
                        ),
                    }
                }
                match kind {
                    CollectionKind::Array => Type::Array(Box::new(el)),
                    CollectionKind::Option => Type::Option(Box::new(el)),
                    CollectionKind::Stream => Type::Stream(Box::new(el)),
                }
            }
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, span: Span) -> Type {
        let ta = self.value(a);
        let tb = self.value(b);
        let bool_t = Type::Scalar(ScalarType::Bool);
        match op {
            BinOp::And | BinOp::Or => {
                self.expect(&bool_t, &ta, a.span, &format!("the left side of `{}`", op.symbol()));
                self.expect(&bool_t, &tb, b.span, &format!("the right side of `{}`", op.symbol()));
                bool_t
            }
            BinOp::Eq | BinOp::NotEq => {
                if unify(&ta, &tb).is_none() && !accepts(&ta, &tb) && !accepts(&tb, &ta) {
                    self.push(
                        Diagnostic::error(Code::TypeMismatch, format!("`{ta}` and `{tb}` cannot be compared"))
                            .with_primary(span, format!("`{}` of different types", op.symbol())),
                    );
                }
                bool_t
            }
            _ => {
                let numbers_ok = self.integer_operands(op, (&ta, a.span), (&tb, b.span));
                if matches!(op, BinOp::Lt | BinOp::LtEq | BinOp::Gt | BinOp::GtEq) {
                    return bool_t;
                }
                if !numbers_ok || ta == Type::Bottom || tb == Type::Bottom {
                    return Type::Bottom;
                }
                match numeric_result(&ta, &tb) {
                    Some(t) => t,
                    None => {
                        self.push(
                            Diagnostic::warning(
                                Code::UnknownResultType,
                                format!("the result type of `{ta} {} {tb}` is unknown, `i64` is used", op.symbol()),
                            )
                            .with_primary(span, "no common number type")
                            .with_hint("convert one side so that both fit one type"),
                        );
                        Type::Scalar(ScalarType::I64)
                    }
                }
            }
        }
    }

    /// Reports operands of an arithmetic or ordering operator that are not integers
    /// (the `math` and `cmp` builtins these become work on 64-bit integers); returns
    /// whether both are.
    fn integer_operands(&mut self, op: BinOp, (ta, sa): (&Type, Span), (tb, sb): (&Type, Span)) -> bool {
        let ok = |t: &Type| t.is_integer() || *t == Type::Bottom;
        let (bad, span) = match (ok(ta), ok(tb)) {
            (true, true) => return true,
            (false, true) => (format!("`{ta}`"), sa),
            (true, false) => (format!("`{tb}`"), sb),
            (false, false) => (if ta == tb { format!("`{ta}`") } else { format!("`{ta}` and `{tb}`") }, sa.to(sb)),
        };
        let mut d =
            Diagnostic::error(Code::TypeMismatch, format!("`{}` works on integers, not {bad}", op.symbol())).with_primary(span, bad);
        let string = Type::Scalar(ScalarType::String);
        if op == BinOp::Add && (*ta == string || *tb == string) {
            d = d.with_hint("join strings with `Op.concat_strings(a, b)`");
        } else if ta.is_numeric() && tb.is_numeric() {
            d = d.with_hint("arithmetic and comparisons become calls to the `math` and `cmp` builtins, which take 64-bit integers");
        }
        self.push(d);
        false
    }

    /// Checks a call and gives its results.
    fn call(&mut self, e: &Expr) -> Vec<Type> {
        let ExprKind::Call { callee, abilities, args } = &e.kind else { return vec![self.value(e)] };
        // `value.copy(field = ...)` on a struct.
        if let ExprKind::Field(base, f) = &callee.kind
            && f.name == "copy"
            && let Some(Target::Value(Type::Struct(s))) = self.peek_target(base)
        {
            self.struct_args(&s.fields, &s.name, args, callee.span, true);
            return vec![Type::Struct(s)];
        }
        let Some(target) = self.target(callee) else {
            self.skip_args(args);
            return vec![Type::Bottom];
        };
        let (arrow, name) = match target {
            Target::Func(f) => (f.ty.clone(), f.name.clone()),
            Target::Value(Type::Arrow(a)) => (a, callee_name(callee)),
            Target::Value(Type::Bottom) => {
                self.skip_args(args);
                return vec![Type::Bottom];
            }
            Target::TypeDef(Type::Struct(s)) => {
                self.struct_args(&s.fields, &s.name, args, callee.span, false);
                return vec![Type::Struct(s)];
            }
            Target::TypeDef(Type::Ability(a)) => {
                self.struct_args(&a.fields, &a.name, args, callee.span, false);
                return vec![Type::Ability(a)];
            }
            Target::Service(s, _) => {
                self.skip_args(args);
                self.push(
                    Diagnostic::error(Code::TypeMismatch, format!("`{}` is a service; call one of its functions", s.ty.name))
                        .with_primary(callee.span, "not a function")
                        .with_hint(format!("for example `{}.{}(...)`", s.ty.name, s.ty.functions.first().map_or("f", |(n, _)| n.as_str()))),
                );
                return vec![Type::Bottom];
            }
            other => {
                self.skip_args(args);
                let what = match other {
                    Target::Value(t) | Target::TypeDef(t) => format!("`{t}`"),
                    Target::Const(c) => format!("the constant of type `{}`", c.ty),
                    Target::Namespace(_) => "a module".into(),
                    _ => "this".into(),
                };
                self.error(Code::TypeMismatch, format!("{what} cannot be called"), callee.span, "not a function");
                return vec![Type::Bottom];
            }
        };
        self.call_abilities(&arrow, abilities, &name, callee.span);
        let given: Vec<(Type, Span, bool)> = args.iter().map(|a| (self.value(&a.value), a.value.span, a.name.is_some())).collect();
        if given.len() != arrow.domain.len() {
            self.push(
                Diagnostic::error(
                    Code::ArgumentCount,
                    format!("`{name}` takes {}, {} given", count(arrow.domain.len(), "argument"), given.len()),
                )
                .with_primary(e.span, "wrong number of arguments")
                .with_hint(format!("its arguments are ({})", signature(&arrow))),
            );
        } else {
            for (((t, span, named), (pname, expected)), arg) in given.iter().zip(&arrow.domain).zip(args) {
                self.literal_range(expected, &arg.value);
                if *named {
                    self.error(Code::InvalidStatement, "named arguments are for data and ability constructors", *span, "a named argument");
                }
                if !accepts(expected, t) {
                    let what = pname.as_ref().map_or_else(|| "the argument".to_string(), |p| format!("the argument `{p}`"));
                    self.push(
                        Diagnostic::error(Code::TypeMismatch, format!("{what} of `{name}` must be `{expected}`, but this is `{t}`"))
                            .with_primary(*span, format!("`{t}`"))
                            .with_hint(describe_mismatch(expected, t)),
                    );
                }
            }
        }
        arrow.codomain.clone()
    }

    /// Like [`Self::target`], without reporting anything (for the `.copy` check).
    fn peek_target(&mut self, e: &Expr) -> Option<Target> {
        let before = self.diagnostics.len();
        let t = self.target(e);
        if self.diagnostics.len() != before {
            return None;
        }
        t
    }

    fn skip_args(&mut self, args: &[Arg]) {
        for a in args {
            self.value(&a.value);
        }
    }

    fn call_abilities(&mut self, arrow: &ArrowType, given: &[ast::QualName], name: &str, span: Span) {
        if given.len() != arrow.abilities.len() {
            let expected = arrow.abilities.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ");
            self.push(
                Diagnostic::error(
                    Code::ArgumentCount,
                    format!("`{name}` takes {}, {} given", count(arrow.abilities.len(), "ability"), given.len()),
                )
                .with_primary(span, "wrong number of abilities")
                .with_hint(if expected.is_empty() {
                    "remove the `{...}`".to_string()
                } else {
                    format!("pass {expected} between `{{` and `}}`")
                }),
            );
            return;
        }
        for (q, expected) in given.iter().zip(&arrow.abilities) {
            let path = path_expr(q);
            let t = self.value(&path);
            self.expect(expected, &t, q.span, "an ability passed in `{...}`");
        }
    }

    /// Arguments of a data or ability constructor (`copy` when `partial`): named, or a
    /// variable whose name is the field's.
    fn struct_args(&mut self, fields: &[(String, Type)], type_name: &str, args: &[Arg], span: Span, partial: bool) {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for arg in args {
            let field_name = match (&arg.name, &arg.value.kind) {
                (Some(n), _) => n.name.clone(),
                (None, ExprKind::Name(n)) => n.clone(),
                (None, _) => {
                    self.value(&arg.value);
                    self.error(
                        Code::TypeMismatch,
                        format!("arguments of `{type_name}` are named: `field = value`"),
                        arg.value.span,
                        "a value without a field name",
                    );
                    continue;
                }
            };
            let t = self.value(&arg.value);
            let name_span = arg.name.as_ref().map_or(arg.value.span, |n| n.span);
            match fields.iter().find(|(n, _)| *n == field_name) {
                Some((n, expected)) => {
                    if !seen.insert(n.as_str()) {
                        self.error(Code::Redefinition, format!("the field `{n}` is given twice"), name_span, "a second time");
                    }
                    self.expect(expected, &t, arg.value.span, &format!("the field `{n}` of `{type_name}`"));
                    self.literal_range(expected, &arg.value);
                }
                None => {
                    let d = Diagnostic::error(Code::UnknownField, format!("`{type_name}` has no field `{field_name}`"))
                        .with_primary(name_span, "unknown field");
                    let d = match did_you_mean(&field_name, fields.iter().map(|(n, _)| n.as_str())) {
                        Some(h) => d.with_hint(h),
                        None => d,
                    };
                    self.push(d);
                }
            }
        }
        if !partial {
            let missing: Vec<String> = fields.iter().filter(|(n, _)| !seen.contains(n.as_str())).map(|(n, _)| format!("`{n}`")).collect();
            if !missing.is_empty() {
                self.push(
                    Diagnostic::error(Code::TypeMismatch, format!("`{type_name}` needs a value for {}", missing.join(", ")))
                        .with_primary(span, "fields missing"),
                );
            }
        }
    }
}

/// The types of the built-in constants.
fn builtin_value(name: &str) -> Option<Type> {
    Some(match name {
        "INIT_PEER_ID" | "HOST_PEER_ID" => Type::Scalar(ScalarType::String),
        "PARTICLE_TTL" => Type::Scalar(ScalarType::U32),
        "PARTICLE_TIMESTAMP" => Type::Scalar(ScalarType::U64),
        "LAST_ERROR" => error_type(),
        _ => return None,
    })
}

/// An ability path `{A.B}` as an expression.
fn path_expr(q: &ast::QualName) -> Expr {
    let mut parts = q.parts.iter();
    let first = parts.next().map_or_else(String::new, |p| p.name.clone());
    let mut e = Expr { kind: ExprKind::Name(first), span: q.parts.first().map_or(q.span, |p| p.span), depth: 1 };
    for p in parts {
        let span = e.span.to(p.span);
        let depth = e.depth.saturating_add(1);
        e = Expr { kind: ExprKind::Field(Box::new(e), p.clone()), span, depth };
    }
    e
}

fn callee_name(callee: &Expr) -> String {
    match &callee.kind {
        ExprKind::Name(n) => n.clone(),
        ExprKind::Field(base, f) => format!("{}.{}", callee_name(base), f.name),
        _ => "this".into(),
    }
}

/// "1 value", "2 values"; "ability" becomes "abilities".
fn count(n: usize, noun: &str) -> String {
    match (n, noun.strip_suffix('y')) {
        (1, _) => format!("1 {noun}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        _ => format!("{n} {noun}s"),
    }
}

fn list(types: &[Type]) -> String {
    types.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(", ")
}

fn signature(arrow: &ArrowType) -> String {
    arrow.domain.iter().map(|(n, t)| n.as_ref().map_or_else(|| t.to_string(), |n| format!("{n}: {t}"))).collect::<Vec<_>>().join(", ")
}
