//! Function bodies: statements and expressions, checked against the module's scope and
//! the function's local names.
//!
//! An expression that fails to check gets the type `⊥`, which fits everywhere, so one
//! mistake gives one diagnostic rather than a cascade.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::declarations::{resolve_arrow, resolve_type};
use super::{ConstDef, ConstValue, Def, FuncDef, Namespace, ServiceDef, lookup_path};
use crate::diagnostic::{Code, Diagnostic, Diagnostics, Span};
use crate::hir::{self, Bind, Callee, LocalId};
use crate::limits::MAX_DIAGNOSTICS_WITH_SUGGESTIONS;
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

/// Checks a function's body and gives it resolved and typed.
pub(super) fn check_func(f: &ast::FuncDecl, ty: &ArrowType, module: &Namespace, diagnostics: &mut Diagnostics) -> hir::Body {
    let mut checker = Checker { module, func_name: &f.name.name, frames: vec![Frame::default()], locals: Vec::new(), diagnostics };
    let mut abilities = Vec::new();
    for (q, ability) in f.arrow.abilities.iter().zip(&ty.abilities) {
        if let Some(last) = q.parts.last() {
            abilities.push(checker.define(last, ability.clone()));
        }
    }
    let mut params = Vec::new();
    for (param, (_, t)) in f.arrow.params.iter().zip(&ty.domain) {
        if let Some(name) = &param.name {
            params.push(checker.define(name, t.clone()));
        }
    }
    let (block, results) = checker.body(&f.body, &ty.codomain, f.name.span);
    hir::Body { locals: checker.locals, abilities, params, block, results }
}

/// Local names of one block, and the services given an id in it (with that id).
#[derive(Debug, Default)]
struct Frame {
    vars: BTreeMap<String, LocalId>,
    services: BTreeMap<String, hir::Expr>,
}

/// What a name or a dotted path refers to.
#[derive(Debug, Clone)]
enum Target {
    Value(hir::Expr),
    Func(Rc<FuncDef>),
    /// A service, with the name it was reached by.
    Service(Rc<ServiceDef>, String),
    TypeDef(Type),
    Namespace(Rc<Namespace>),
    Const(Rc<ConstDef>),
}

/// A checked call expression: a call, or a value built without a call (a data or
/// ability constructor, `copy`), or nothing after an error.
enum Checked {
    Call(hir::Call),
    Value(hir::Expr),
    Failed,
}

impl Checked {
    fn results(&self) -> Vec<Type> {
        match self {
            Checked::Call(c) => c.results.clone(),
            Checked::Value(v) => vec![v.ty.clone()],
            Checked::Failed => vec![Type::Bottom],
        }
    }
}

struct Checker<'a> {
    module: &'a Namespace,
    func_name: &'a str,
    frames: Vec<Frame>,
    locals: Vec<hir::Local>,
    diagnostics: &'a mut Diagnostics,
}

impl Checker<'_> {
    fn error(&mut self, code: Code, message: impl Into<String>, span: Span, label: impl Into<String>) {
        self.diagnostics.push(Diagnostic::error(code, message).with_primary(span, label));
    }

    fn push(&mut self, d: Diagnostic) {
        self.diagnostics.push(d);
    }

    fn local_id(&self, name: &str) -> Option<LocalId> {
        self.frames.iter().rev().find_map(|f| f.vars.get(name)).copied()
    }

    fn local(&self, name: &str) -> Option<&Type> {
        self.local_id(name).map(|id| &self.locals[id.0 as usize].ty)
    }

    /// A new local; a name already in scope is reported (and the new local is not
    /// visible by name, so uses keep seeing the first).
    fn define(&mut self, name: &Ident, ty: Type) -> LocalId {
        let id = LocalId(u32::try_from(self.locals.len()).unwrap_or(u32::MAX));
        self.locals.push(hir::Local { name: name.name.clone(), ty, span: name.span });
        if self.local(&name.name).is_some() {
            self.push(
                Diagnostic::error(Code::Redefinition, format!("`{}` is already defined", name.name))
                    .with_primary(name.span, "defined again here")
                    .with_hint("names are immutable in Aqua; choose a new name (streams collect several values)"),
            );
            return id;
        }
        if let Some(frame) = self.frames.last_mut() {
            frame.vars.insert(name.name.clone(), id);
        }
        id
    }

    fn local_expr(&self, id: LocalId, span: Span) -> hir::Expr {
        hir::Expr { kind: hir::ExprKind::Local(id), ty: self.locals[id.0 as usize].ty.clone(), span }
    }

    fn in_frame<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.frames.push(Frame::default());
        let out = f(self);
        self.frames.pop();
        out
    }

    /// A function or closure body: statements, then the return that must end it.
    fn body(&mut self, block: &Block, results: &[Type], name_span: Span) -> (hir::Block, Vec<hir::Expr>) {
        let (last, rest) = match block.stmts.split_last() {
            Some((last, rest)) => (Some(last), rest),
            None => (None, &block.stmts[..]),
        };
        let mut out = hir::Block::default();
        for stmt in rest {
            self.stmt(stmt, &mut out);
        }
        match last.map(|s| &s.kind) {
            Some(StmtKind::Return(values)) => {
                let returned = self.returns(values, results, last.map_or(block.span, |s| s.span));
                return (out, returned);
            }
            Some(_) => {
                if let Some(s) = last {
                    self.stmt(s, &mut out);
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
        (out, Vec::new())
    }

    fn returns(&mut self, values: &[Expr], results: &[Type], span: Span) -> Vec<hir::Expr> {
        let checked: Vec<hir::Expr> = values.iter().map(|v| self.value(v)).collect();
        let given: Vec<(Type, Span)> = checked.iter().map(|v| (v.ty.clone(), v.span)).collect();
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
            return checked;
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
        checked
    }

    fn block(&mut self, block: &Block) -> hir::Block {
        self.in_frame(|c| c.stmts(block))
    }

    /// Statements of a block in the current frame.
    fn stmts(&mut self, block: &Block) -> hir::Block {
        let mut out = hir::Block::default();
        for stmt in &block.stmts {
            self.stmt(stmt, &mut out);
        }
        out
    }

    /// Checks a statement and appends what it becomes to `out`.
    fn stmt(&mut self, stmt: &ast::Stmt, out: &mut hir::Block) {
        let prefix = stmt.prefix.map(|(p, _)| p);
        let mut emit = |kind: hir::StmtKind| out.stmts.push(hir::Stmt { kind, prefix, span: stmt.span });
        match &stmt.kind {
            StmtKind::Expr(e) => {
                if let Some(kind) = self.call_statement(e) {
                    emit(kind);
                }
            }
            StmtKind::Bind { names, value } => {
                if let Some(kind) = self.bind(names, value) {
                    emit(kind);
                }
            }
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
                let value = self.value(value);
                let local = self.define(name, value.ty.clone());
                emit(hir::StmtKind::Assign { local, value });
            }
            StmtKind::Closure { name, arrow, body, detached } => {
                let ty = resolve_arrow(arrow, self.module, self.diagnostics);
                let (params, (block, results)) = self.in_frame(|c| {
                    let mut params = Vec::new();
                    for (param, (_, t)) in arrow.params.iter().zip(&ty.domain) {
                        if let Some(n) = &param.name {
                            params.push(c.define(n, t.clone()));
                        }
                    }
                    (params, c.body(body, &ty.codomain, name.span))
                });
                let local = self.define(name, Type::Arrow(Rc::new(ty)));
                emit(hir::StmtKind::Closure(Rc::new(hir::Closure { local, detached: *detached, params, block, results })));
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
                let is_stream = t.is_stream();
                let local = self.define(name, t);
                if is_stream {
                    emit(hir::StmtKind::Declare(local));
                }
            }
            StmtKind::Push { target, key, value } => {
                if let Some(kind) = self.push_to(target, key.as_ref(), value) {
                    emit(kind);
                }
            }
            StmtKind::ServiceId { service, id } => {
                let id = self.value(id);
                self.expect(&Type::Scalar(ScalarType::String), &id.ty, id.span, "a service id");
                let path: Vec<&str> = service.parts.iter().map(|p| p.name.as_str()).collect();
                match lookup_path(self.module, &path) {
                    Some(Def::Service(_)) => {
                        if let Some(frame) = self.frames.last_mut() {
                            frame.services.insert(service.text(), id);
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
                let peer = self.peer(peer);
                let via = via.iter().map(|v| self.via(v)).collect();
                // Names bound inside `on` stay visible after it.
                let body = self.stmts(body);
                emit(hir::StmtKind::On { peer, via, body });
            }
            StmtKind::Join(values) => {
                let values = values.iter().map(|v| self.value(v)).collect();
                emit(hir::StmtKind::Join(values));
            }
            StmtKind::For { key, item, iterable, mode, body } => {
                let iterable = self.value(iterable);
                let (key_ty, item_ty) = self.iteration(&iterable.ty, iterable.span, key.is_some(), *mode);
                let (key, item, body) = self.in_frame(|c| {
                    let key = match (key, key_ty) {
                        (Some(k), Some(kt)) => Some(c.define(k, kt)),
                        _ => None,
                    };
                    let item = c.define(item, item_ty);
                    (key, item, c.stmts(body))
                });
                emit(hir::StmtKind::For { key, item, iterable, mode: *mode, body });
            }
            StmtKind::Parseq { item, iterable, peer, via, body } => {
                let iterable = self.value(iterable);
                let (_, item_ty) = self.iteration(&iterable.ty, iterable.span, false, None);
                let (item, peer, via, body) = self.in_frame(|c| {
                    let item = c.define(item, item_ty);
                    let peer = c.peer(peer);
                    let via = via.iter().map(|v| c.via(v)).collect();
                    (item, peer, via, c.stmts(body))
                });
                emit(hir::StmtKind::Parseq { item, iterable, peer, via, body });
            }
            StmtKind::If { cond, then, otherwise } => {
                let cond = self.value(cond);
                self.expect(&Type::Scalar(ScalarType::Bool), &cond.ty, cond.span, "an `if` condition");
                let then = self.block(then);
                let otherwise = otherwise.as_ref().map(|b| self.block(b));
                emit(hir::StmtKind::If { cond, then, otherwise });
            }
            StmtKind::Try { body, catch, otherwise } => {
                let body = self.block(body);
                let catch = catch.as_ref().map(|(e, b)| {
                    self.in_frame(|c| {
                        let e = c.define(e, error_type());
                        (e, c.stmts(b))
                    })
                });
                let otherwise = otherwise.as_ref().map(|b| self.block(b));
                emit(hir::StmtKind::Try { body, catch, otherwise });
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

    fn peer(&mut self, peer: &Expr) -> hir::Expr {
        let peer = self.value(peer);
        self.expect(&Type::Scalar(ScalarType::String), &peer.ty, peer.span, "a peer id");
        peer
    }

    fn via(&mut self, via: &Expr) -> hir::Expr {
        let checked = self.value(via);
        let t = checked.ty.clone();
        let string = Type::Scalar(ScalarType::String);
        let ok = accepts(&string, &t) || t.element().is_some_and(|e| accepts(&string, e));
        if !ok {
            self.push(
                Diagnostic::error(Code::TypeMismatch, format!("`via` takes a peer id or a collection of them, not `{t}`"))
                    .with_primary(via.span, format!("`{t}`")),
            );
        }
        checked
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

    fn push_to(&mut self, target: &Ident, key: Option<&Expr>, value: &Expr) -> Option<hir::StmtKind> {
        let checked = self.value(value);
        let v = checked.ty.clone();
        let (Some(stream), Some(t)) = (self.local_id(&target.name), self.local(&target.name).cloned()) else {
            if !self.module.excuses(&target.name) {
                self.push(self.unknown(&target.name, target.span));
            }
            return None;
        };
        match (&t, key) {
            (Type::Stream(e), None) => {
                self.expect(e, &v, value.span, "a value pushed to this stream");
                self.literal_range(e, value);
                return Some(hir::StmtKind::Push { stream, key: None, value: checked });
            }
            (Type::StreamMap(e), Some(k)) => {
                let key = self.value(k);
                self.expect(&Type::Scalar(ScalarType::String), &key.ty, k.span, "a stream map key");
                self.expect(e, &v, value.span, "a value pushed to this stream map");
                return Some(hir::StmtKind::Push { stream, key: Some(key), value: checked });
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
        None
    }

    fn call_statement(&mut self, e: &Expr) -> Option<hir::StmtKind> {
        if !matches!(e.kind, ExprKind::Call { .. }) {
            if !matches!(e.kind, ExprKind::Error) {
                self.push(
                    Diagnostic::error(Code::InvalidStatement, "this expression is computed and never used")
                        .with_primary(e.span, "not a call")
                        .with_hint("only calls stand alone as statements; bind a value with `name = ...`"),
                );
            }
            return None;
        }
        let checked = self.call(e);
        let results = checked.results();
        if !results.is_empty() && !results.contains(&Type::Bottom) {
            self.push(
                Diagnostic::warning(Code::ResultIgnored, "this call returns a value that is not used")
                    .with_primary(e.span, format!("returns {}", list(&results)))
                    .with_hint("bind it with `name <- ...` if you need it"),
            );
        }
        match checked {
            Checked::Call(call) => Some(hir::StmtKind::Call { call, binds: Vec::new() }),
            Checked::Value(_) | Checked::Failed => None,
        }
    }

    fn bind(&mut self, names: &[Ident], value: &Expr) -> Option<hir::StmtKind> {
        if !matches!(value.kind, ExprKind::Call { .. }) {
            let checked = self.value(value);
            let t = checked.ty.clone();
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
            return None;
        }
        let checked = self.call(value);
        let results = checked.results();
        // `map <- f()` where `f` returns a key and a value pushes to the stream map.
        if let ([name], [key, v]) = (names, results.as_slice())
            && let (Some(map), Some(Type::StreamMap(e))) = (self.local_id(&name.name), self.local(&name.name).cloned())
        {
            self.expect(&Type::Scalar(ScalarType::String), key, value.span, "the key pushed to this stream map");
            self.expect(&e, v, value.span, "a value pushed to this stream map");
            return match checked {
                Checked::Call(call) => Some(hir::StmtKind::CallToMap { call, map }),
                _ => None,
            };
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
            return None;
        }
        let binds: Vec<Bind> = names.iter().zip(results).map(|(n, t)| self.bind_one(n, t, value.span)).collect();
        match checked {
            Checked::Call(call) => Some(hir::StmtKind::Call { call, binds }),
            // `x <- Data(...)`: a value, bound as an assignment.
            Checked::Value(value) => match binds.as_slice() {
                [Bind::New(local)] => Some(hir::StmtKind::Assign { local: *local, value }),
                _ => None,
            },
            Checked::Failed => None,
        }
    }

    /// `x <- call`: binding to a stream in scope pushes to it.
    fn bind_one(&mut self, name: &Ident, t: Type, span: Span) -> Bind {
        match (self.local_id(&name.name), self.local(&name.name).cloned()) {
            (Some(id), Some(Type::Stream(e))) => {
                self.expect(&e, &t, span, "a value pushed to this stream");
                Bind::Push(id)
            }
            _ => Bind::New(self.define(name, t)),
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
        let d = Diagnostic::error(Code::UnknownName, format!("`{name}` is not defined")).with_primary(span, "unknown name");
        if self.diagnostics.len() > MAX_DIAGNOSTICS_WITH_SUGGESTIONS {
            return d;
        }
        let mut candidates: Vec<&str> = self.frames.iter().flat_map(|f| f.vars.keys().map(String::as_str)).collect();
        candidates.extend(self.module.defs.keys().map(String::as_str));
        candidates.extend(BUILTIN_VALUES);
        match did_you_mean(name, candidates) {
            Some(h) => d.with_hint(h),
            None => d,
        }
    }

    /// What a name or a dotted path refers to; `None` after reporting an error.
    fn target(&mut self, e: &Expr) -> Option<Target> {
        match &e.kind {
            ExprKind::Name(n) => {
                if let Some(id) = self.local_id(n) {
                    return Some(Target::Value(self.local_expr(id, e.span)));
                }
                if let Some((name, t)) = builtin_value(n) {
                    return Some(Target::Value(hir::Expr { kind: hir::ExprKind::Builtin(name), ty: t, span: e.span }));
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
                        Some(def) => Some(self.def_target(def.clone(), format!("{}.{}", path_text(base), field.name))),
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
                        let id = self.service_id(&s, &path, base.span);
                        Some(Target::Value(hir::Expr {
                            kind: hir::ExprKind::ServiceFunc { service: s, id: Box::new(id), function: field.name.clone() },
                            ty: Type::Arrow(Rc::new(f)),
                            span: e.span,
                        }))
                    }
                    Target::Value(v) => Some(Target::Value(self.field_of(v, field, e.span)?)),
                    Target::Const(c) => {
                        let v = const_expr(&c, base.span);
                        Some(Target::Value(self.field_of(v, field, e.span)?))
                    }
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

    /// The id a service's calls use here: the innermost `Srv "id"` in scope, else the
    /// declared default; reported when there is neither.
    fn service_id(&mut self, s: &ServiceDef, path: &str, span: Span) -> hir::Expr {
        let resolved = self.frames.iter().rev().find_map(|f| f.services.get(path).or_else(|| f.services.get(&s.ty.name)));
        if let Some(id) = resolved {
            return id.clone();
        }
        if let Some(default) = &s.default_id {
            return hir::Expr {
                kind: hir::ExprKind::Literal(ConstValue::Str(default.clone())),
                ty: Type::Scalar(ScalarType::String),
                span,
            };
        }
        self.push(
            Diagnostic::error(Code::UnresolvedService, format!("the service `{}` has no id here", s.ty.name))
                .with_primary(span, "called without an id")
                .with_hint(format!(
                    "give it one before the call with `{} \"service-id\"`, or declare a default: `service {}(\"id\")`",
                    s.ty.name, s.ty.name
                )),
        );
        hir::Expr::error(span)
    }

    /// `base.field`: struct and ability fields, service functions, `.length`, stream
    /// map methods (as arrow-typed map methods).
    fn field_of(&mut self, base: hir::Expr, field: &Ident, span: Span) -> Option<hir::Expr> {
        let t = base.ty.clone();
        let fields: Vec<(String, Type)> = match &t {
            Type::Bottom => return Some(hir::Expr::error(span)),
            Type::Struct(s) => s.fields.clone(),
            Type::Ability(a) => a.fields.clone(),
            Type::Service(s) => s.functions.iter().map(|(n, f)| (n.clone(), Type::Arrow(Rc::new(f.clone())))).collect(),
            Type::StreamMap(e) => {
                let string = Type::Scalar(ScalarType::String);
                let (domain, result) = match field.name.as_str() {
                    "get" => (vec![string], Type::Array(e.clone())),
                    "getStream" => (vec![string], Type::Stream(e.clone())),
                    "contains" => (vec![string], Type::Scalar(ScalarType::Bool)),
                    "keys" => (vec![], Type::Array(Box::new(string))),
                    "keysStream" => (vec![], Type::Stream(Box::new(string))),
                    _ => {
                        let d = Diagnostic::error(Code::UnknownField, format!("a stream map has no method `{}`", field.name))
                            .with_primary(field.span, "unknown method");
                        let methods = ["get", "getStream", "contains", "keys", "keysStream"];
                        let hint = did_you_mean(&field.name, methods).unwrap_or_else(|| {
                            "its methods are `get(key)`, `getStream(key)`, `contains(key)`, `keys()` and `keysStream()`".into()
                        });
                        self.push(d.with_hint(hint));
                        return None;
                    }
                };
                let ty = Type::Arrow(Rc::new(ArrowType {
                    abilities: vec![],
                    domain: domain.into_iter().map(|t| (None, t)).collect(),
                    codomain: vec![result],
                }));
                // Called through `Callee::MapMethod`; as a value it is the map's field.
                return Some(hir::Expr { kind: hir::ExprKind::Field(Box::new(base), field.name.clone()), ty, span });
            }
            Type::Array(_) | Type::Option(_) | Type::Stream(_) if field.name == "length" => {
                return Some(hir::Expr { kind: hir::ExprKind::Length(Box::new(base)), ty: Type::Scalar(ScalarType::U32), span });
            }
            other => {
                self.error(Code::UnknownField, format!("`{other}` has no fields"), field.span, format!("no field `{}`", field.name));
                return None;
            }
        };
        match fields.iter().find(|(n, _)| *n == field.name) {
            Some((_, ft)) => Some(hir::Expr { kind: hir::ExprKind::Field(Box::new(base), field.name.clone()), ty: ft.clone(), span }),
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

    /// An expression that must give exactly one value.
    fn value(&mut self, e: &Expr) -> hir::Expr {
        let literal = |v: ConstValue, ty: Type| hir::Expr { kind: hir::ExprKind::Literal(v), ty, span: e.span };
        match &e.kind {
            ExprKind::Bool(b) => literal(ConstValue::Bool(*b), Type::Scalar(ScalarType::Bool)),
            ExprKind::Int(i) if *i < 0 => literal(ConstValue::Int(*i), Type::Literal(LiteralKind::Signed)),
            ExprKind::Int(i) => literal(ConstValue::Int(*i), Type::Literal(LiteralKind::Unsigned)),
            ExprKind::Float(f) => literal(ConstValue::Float(*f), Type::Literal(LiteralKind::Float)),
            ExprKind::Str(v) => literal(ConstValue::Str(v.clone()), Type::Scalar(ScalarType::String)),
            ExprKind::InitPeerId => hir::Expr { kind: hir::ExprKind::InitPeerId, ty: Type::Scalar(ScalarType::String), span: e.span },
            ExprKind::Nil => literal(ConstValue::Nil, Type::Option(Box::new(Type::Bottom))),
            ExprKind::Error => hir::Expr::error(e.span),
            ExprKind::Name(_) | ExprKind::Field(..) => match self.target(e) {
                None => hir::Expr::error(e.span),
                Some(Target::Value(v)) => v,
                Some(Target::Const(c)) => const_expr(&c, e.span),
                Some(Target::Func(f)) => hir::Expr { ty: Type::Arrow(f.ty.clone()), kind: hir::ExprKind::Func(f), span: e.span },
                Some(Target::Service(s, path)) => {
                    let id = self.service_id(&s, &path, e.span);
                    hir::Expr {
                        ty: Type::Service(s.ty.clone()),
                        kind: hir::ExprKind::Service { service: s, id: Box::new(id) },
                        span: e.span,
                    }
                }
                Some(Target::TypeDef(t)) => {
                    self.error(Code::TypeMismatch, format!("`{t}` is a type, not a value"), e.span, "a type");
                    hir::Expr::error(e.span)
                }
                Some(Target::Namespace(_)) => {
                    self.error(Code::TypeMismatch, "a module is not a value", e.span, "a module name");
                    hir::Expr::error(e.span)
                }
            },
            ExprKind::Index(base, index) => {
                let b = self.value(base);
                let i = self.value(index);
                if let ExprKind::Int(v) = index.kind
                    && v < 0
                {
                    self.error(Code::InvalidIndex, "collection indexes must be non-negative", index.span, "a negative index");
                }
                if !i.ty.is_numeric() && i.ty != Type::Bottom {
                    let it = &i.ty;
                    self.error(Code::InvalidIndex, format!("an index must be a number, not `{it}`"), index.span, format!("`{it}`"));
                }
                let ty = match (&b.ty, b.ty.element()) {
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
                };
                hir::Expr { kind: hir::ExprKind::Index(Box::new(b), Box::new(i)), ty, span: e.span }
            }
            ExprKind::Call { .. } => match self.call(e) {
                Checked::Value(v) => v,
                Checked::Failed => hir::Expr::error(e.span),
                Checked::Call(call) => match call.results.len() {
                    1 => hir::Expr { ty: call.results[0].clone(), kind: hir::ExprKind::Call(Box::new(call)), span: e.span },
                    0 => {
                        self.error(Code::TypeMismatch, "this call returns nothing, so it has no value", e.span, "returns `()`");
                        hir::Expr::error(e.span)
                    }
                    n => {
                        self.error(
                            Code::TypeMismatch,
                            format!("this call returns {n} values where one is needed"),
                            e.span,
                            "bind them with `a, b <- ...`",
                        );
                        hir::Expr::error(e.span)
                    }
                },
            },
            ExprKind::Not(inner) => {
                let v = self.value(inner);
                self.expect(&Type::Scalar(ScalarType::Bool), &v.ty, inner.span, "the operand of `!`");
                hir::Expr { kind: hir::ExprKind::Not(Box::new(v)), ty: Type::Scalar(ScalarType::Bool), span: e.span }
            }
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, e.span),
            ExprKind::Collection(kind, items) => {
                let mut el = Type::Bottom;
                let mut checked = Vec::with_capacity(items.len());
                for item in items {
                    let v = self.value(item);
                    match unify(&el, &v.ty) {
                        Some(u) => el = u,
                        None => self.push(
                            Diagnostic::error(
                                Code::TypeMismatch,
                                format!("the elements of a collection must have one type; `{}` does not fit `{el}`", v.ty),
                            )
                            .with_primary(item.span, format!("`{}`", v.ty)),
                        ),
                    }
                    checked.push(v);
                }
                let ty = match kind {
                    CollectionKind::Array => Type::Array(Box::new(el)),
                    CollectionKind::Option => Type::Option(Box::new(el)),
                    CollectionKind::Stream => Type::Stream(Box::new(el)),
                };
                hir::Expr { kind: hir::ExprKind::Collection(*kind, checked), ty, span: e.span }
            }
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, span: Span) -> hir::Expr {
        let va = self.value(a);
        let vb = self.value(b);
        let (ta, tb) = (va.ty.clone(), vb.ty.clone());
        let bool_t = Type::Scalar(ScalarType::Bool);
        let ty = match op {
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
                    bool_t
                } else if !numbers_ok || ta == Type::Bottom || tb == Type::Bottom {
                    Type::Bottom
                } else {
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
        };
        hir::Expr { kind: hir::ExprKind::Binary(op, Box::new(va), Box::new(vb)), ty, span }
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

    /// Checks a call expression.
    fn call(&mut self, e: &Expr) -> Checked {
        let ExprKind::Call { callee, abilities, args } = &e.kind else { return Checked::Value(self.value(e)) };
        // `value.copy(field = ...)` on a struct.
        if let ExprKind::Field(base, f) = &callee.kind
            && f.name == "copy"
            && let Some(Target::Value(v)) = self.peek_target(base)
            && let Type::Struct(s) = v.ty.clone()
        {
            let fields = self.struct_args(&s.fields, &s.name, args, callee.span, true);
            return Checked::Value(hir::Expr { kind: hir::ExprKind::Copy(Box::new(v), fields), ty: Type::Struct(s), span: e.span });
        }
        let Some(target) = self.target(callee) else {
            self.skip_args(args);
            return Checked::Failed;
        };
        let (arrow, name, callee_hir) = match target {
            Target::Func(f) => (f.ty.clone(), f.name.clone(), Callee::Func { func: f, abilities: Vec::new() }),
            Target::Value(v) => match (&v.ty, &v.kind) {
                (Type::Arrow(a), hir::ExprKind::ServiceFunc { service, id, function }) => (
                    a.clone(),
                    callee_name(callee),
                    Callee::Service { service: service.clone(), id: id.clone(), function: function.clone() },
                ),
                (Type::Arrow(a), hir::ExprKind::Field(map, method)) if matches!(map.ty, Type::StreamMap(_)) => {
                    (a.clone(), callee_name(callee), Callee::MapMethod { map: map.clone(), method: method.clone() })
                }
                (Type::Arrow(a), _) => (a.clone(), callee_name(callee), Callee::Arrow(Box::new(v.clone()))),
                (Type::Bottom, _) => {
                    self.skip_args(args);
                    return Checked::Failed;
                }
                (t, _) => {
                    self.skip_args(args);
                    self.error(Code::TypeMismatch, format!("`{t}` cannot be called"), callee.span, "not a function");
                    return Checked::Failed;
                }
            },
            Target::TypeDef(Type::Struct(s)) => {
                let fields = self.struct_args(&s.fields, &s.name, args, callee.span, false);
                return Checked::Value(hir::Expr { kind: hir::ExprKind::Construct(fields), ty: Type::Struct(s), span: e.span });
            }
            Target::TypeDef(Type::Ability(a)) => {
                let fields = self.struct_args(&a.fields, &a.name, args, callee.span, false);
                return Checked::Value(hir::Expr { kind: hir::ExprKind::Construct(fields), ty: Type::Ability(a), span: e.span });
            }
            Target::Service(s, _) => {
                self.skip_args(args);
                self.push(
                    Diagnostic::error(Code::TypeMismatch, format!("`{}` is a service; call one of its functions", s.ty.name))
                        .with_primary(callee.span, "not a function")
                        .with_hint(format!("for example `{}.{}(...)`", s.ty.name, s.ty.functions.first().map_or("f", |(n, _)| n.as_str()))),
                );
                return Checked::Failed;
            }
            other => {
                self.skip_args(args);
                let what = match other {
                    Target::TypeDef(t) => format!("`{t}`"),
                    Target::Const(c) => format!("the constant of type `{}`", c.ty),
                    Target::Namespace(_) => "a module".into(),
                    _ => "this".into(),
                };
                self.error(Code::TypeMismatch, format!("{what} cannot be called"), callee.span, "not a function");
                return Checked::Failed;
            }
        };
        let passed = self.call_abilities(&arrow, abilities, &name, callee.span);
        let callee_hir = match callee_hir {
            Callee::Func { func, .. } => Callee::Func { func, abilities: passed },
            other => other,
        };
        let checked: Vec<(hir::Expr, bool)> = args.iter().map(|a| (self.value(&a.value), a.name.is_some())).collect();
        if checked.len() != arrow.domain.len() {
            self.push(
                Diagnostic::error(
                    Code::ArgumentCount,
                    format!("`{name}` takes {}, {} given", count(arrow.domain.len(), "argument"), checked.len()),
                )
                .with_primary(e.span, "wrong number of arguments")
                .with_hint(format!("its arguments are ({})", signature(&arrow))),
            );
        } else {
            for (((v, named), (pname, expected)), arg) in checked.iter().zip(&arrow.domain).zip(args) {
                self.literal_range(expected, &arg.value);
                if *named {
                    self.error(Code::InvalidStatement, "named arguments are for data and ability constructors", v.span, "a named argument");
                }
                if !accepts(expected, &v.ty) {
                    let t = &v.ty;
                    let what = pname.as_ref().map_or_else(|| "the argument".to_string(), |p| format!("the argument `{p}`"));
                    self.push(
                        Diagnostic::error(Code::TypeMismatch, format!("{what} of `{name}` must be `{expected}`, but this is `{t}`"))
                            .with_primary(v.span, format!("`{t}`"))
                            .with_hint(describe_mismatch(expected, t)),
                    );
                }
            }
        }
        Checked::Call(hir::Call {
            callee: callee_hir,
            args: checked.into_iter().map(|(v, _)| v).collect(),
            results: arrow.codomain.clone(),
            span: e.span,
        })
    }

    /// Like [`Self::target`], without reporting anything (for the `.copy` check).
    fn peek_target(&mut self, e: &Expr) -> Option<Target> {
        let before = self.diagnostics.len();
        let t = self.target(e);
        if self.diagnostics.len() != before {
            self.diagnostics.truncate(before);
            return None;
        }
        t
    }

    fn skip_args(&mut self, args: &[Arg]) {
        for a in args {
            self.value(&a.value);
        }
    }

    /// The abilities passed to a call with `{A, B}`.
    fn call_abilities(&mut self, arrow: &ArrowType, given: &[ast::QualName], name: &str, span: Span) -> Vec<hir::Expr> {
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
            return Vec::new();
        }
        let mut passed = Vec::new();
        for (q, expected) in given.iter().zip(&arrow.abilities) {
            let path = path_expr(q);
            let v = self.value(&path);
            self.expect(expected, &v.ty, q.span, "an ability passed in `{...}`");
            passed.push(v);
        }
        passed
    }

    /// Arguments of a data or ability constructor (`copy` when `partial`): named, or a
    /// variable whose name is the field's.
    fn struct_args(
        &mut self,
        fields: &[(String, Type)],
        type_name: &str,
        args: &[Arg],
        span: Span,
        partial: bool,
    ) -> Vec<(String, hir::Expr)> {
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut out = Vec::new();
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
            let v = self.value(&arg.value);
            let name_span = arg.name.as_ref().map_or(arg.value.span, |n| n.span);
            match fields.iter().find(|(n, _)| *n == field_name) {
                Some((n, expected)) => {
                    if !seen.insert(n.as_str()) {
                        self.error(Code::Redefinition, format!("the field `{n}` is given twice"), name_span, "a second time");
                    }
                    self.expect(expected, &v.ty, arg.value.span, &format!("the field `{n}` of `{type_name}`"));
                    self.literal_range(expected, &arg.value);
                    out.push((n.clone(), v));
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
        out
    }
}

/// A constant as an expression: its literal value.
fn const_expr(c: &ConstDef, span: Span) -> hir::Expr {
    hir::Expr { kind: hir::ExprKind::Literal(c.value.clone()), ty: c.ty.clone(), span }
}

/// The dotted text of a name path, for service lookups (`Lib.Srv`).
fn path_text(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Name(n) => n.clone(),
        ExprKind::Field(base, f) => format!("{}.{}", path_text(base), f.name),
        _ => String::new(),
    }
}

/// The built-in constants and their types.
fn builtin_value(name: &str) -> Option<(&'static str, Type)> {
    Some(match name {
        "INIT_PEER_ID" => ("INIT_PEER_ID", Type::Scalar(ScalarType::String)),
        "HOST_PEER_ID" => ("HOST_PEER_ID", Type::Scalar(ScalarType::String)),
        "PARTICLE_TTL" => ("PARTICLE_TTL", Type::Scalar(ScalarType::U32)),
        "PARTICLE_TIMESTAMP" => ("PARTICLE_TIMESTAMP", Type::Scalar(ScalarType::U64)),
        "LAST_ERROR" => ("LAST_ERROR", error_type()),
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
