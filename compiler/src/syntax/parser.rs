//! The Aqua parser: the lalrpop grammar (`aqua.lalrpop`) driven one top-level item at a
//! time, the [`Ctx`] its actions build nodes through, and the translation of lalrpop's
//! errors into messages for people.

use lalrpop_util::{ErrorRecovery, ParseError};

use super::ast::*;
use super::layout::{layout, split_items};
use super::lexer::{Spanned, Token, lex};
use crate::diagnostic::{Code, Diagnostic, SourceId, Span};
use crate::limits::{MAX_NESTING, MAX_SOURCE_BYTES};

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused_qualifications, missing_debug_implementations, unused_imports, unused_parens)]
    grammar,
    "/syntax/aqua.rs"
);

/// Tokens never carry errors (lexical errors are reported before parsing), so the
/// grammar's error type has no values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Never {}

/// A parameter list item before regrouping (see the grammar's `Params`).
#[derive(Debug, Clone, PartialEq)]
pub enum PItem {
    /// `name: {Ab} T [-> R]` or `name: -> R`.
    Named(Ident, Vec<QualName>, Option<TypeExpr>, Option<Vec<TypeExpr>>),
    /// `T [-> R]` continuing the previous named parameter's arrow type.
    Unnamed(TypeExpr, Option<Vec<TypeExpr>>),
}

/// Parses one Aqua file. Always returns a module (items that failed to parse become
/// [`Item::Error`]) together with every syntax error found.
pub fn parse_module(source: SourceId, text: &str) -> (Module, Vec<Diagnostic>) {
    let mut ctx = Ctx { source, text: text.to_string(), diagnostics: Vec::new(), refused_type: None };
    if text.len() > MAX_SOURCE_BYTES {
        ctx.diagnostics.push(
            Diagnostic::error(Code::Limit, format!("the file is {} bytes long, more than the limit of 16 MiB", text.len()))
                .with_primary(Span::new(source, 0, 0), "this file"),
        );
        return (Module { header: None, items: Vec::new() }, ctx.diagnostics);
    }
    let (tokens, lex_errors) = lex(text);
    for e in lex_errors {
        let mut d = Diagnostic::error(Code::Syntax, e.message).with_primary(ctx.span(e.start, e.end), "here");
        if let Some(hint) = e.hint {
            d = d.with_hint(hint);
        }
        ctx.diagnostics.push(d);
    }
    let mut items = Vec::new();
    for item_tokens in split_items(text, &tokens) {
        items.push(ctx.parse_item(text, &item_tokens));
    }
    let header = match items.first() {
        Some(Item::Header(_)) => match items.remove(0) {
            Item::Header(h) => Some(h),
            _ => None,
        },
        _ => None,
    };
    // A header that failed to parse has its own error already.
    let header_attempted = text.trim_start().starts_with("aqua") || text.trim_start().starts_with("module");
    match &header {
        None if header_attempted => {}
        None => {
            let at = items.iter().find_map(item_start).unwrap_or(Span::new(source, 0, 0));
            ctx.diagnostics.push(
                Diagnostic::error(Code::MissingHeader, "the module header is missing at the top of the file")
                    .with_primary(Span::new(source, at.start, at.start), "expected `aqua ModuleName` before this")
                    .with_hint("start the file with `aqua Name` (and `declares *` if other files import it)"),
            );
        }
        Some(h) if h.deprecated_keyword => ctx.diagnostics.push(
            Diagnostic::error(Code::DeprecatedModuleKeyword, "the keyword `module` is deprecated")
                .with_primary(Span::new(source, h.span.start, h.span.start + 6), "use `aqua` instead"),
        ),
        Some(_) => {}
    }
    for item in &items {
        if let Item::Header(h) = item {
            ctx.diagnostics.push(
                Diagnostic::error(Code::Syntax, "the module header must be the first line of the file")
                    .with_primary(h.span, "a second header"),
            );
        }
    }
    (Module { header, items }, ctx.diagnostics)
}

fn item_start(item: &Item) -> Option<Span> {
    Some(match item {
        Item::Header(h) => h.span,
        Item::Import { span, .. } | Item::Use { span, .. } | Item::Export { span, .. } | Item::Alias { span, .. } => *span,
        Item::Service(s) => s.span,
        Item::Data(d) => d.span,
        Item::Ability(a) => a.span,
        Item::Const(c) => c.span,
        Item::Func(f) => f.span,
        Item::Error { span, .. } => *span,
    })
}

/// What grammar actions build nodes with: the source id for spans and the errors found
/// along the way.
#[derive(Debug)]
pub struct Ctx {
    source: SourceId,
    /// The file's text, to read what a broken statement was binding.
    text: String,
    diagnostics: Vec<Diagnostic>,
    /// The span of the last type refused as too deep (see `wrap_type`).
    refused_type: Option<Span>,
}

impl Ctx {
    fn parse_item(&mut self, text: &str, tokens: &[Spanned<'_>]) -> Item {
        let start = tokens.iter().find(|(_, t, _)| *t != Token::LineBreak).map_or(0, |t| t.0);
        let end = tokens.last().map_or(start, |t| t.2);
        let whole = self.span(start, end);
        let (laid_out, layout_errors) = layout(text, tokens);
        for e in layout_errors {
            let (code, label) = if e.limit { (Code::Limit, "too deep") } else { (Code::UnexpectedIndent, "indentation") };
            let mut d = Diagnostic::error(code, e.message).with_primary(self.span(e.start, e.end), label);
            if let Some(hint) = e.hint {
                d = d.with_hint(hint);
            }
            self.diagnostics.push(d);
        }
        if laid_out.is_empty() {
            return Item::Error { span: whole, name: self.declared_name(&laid_out) };
        }
        let parsed = grammar::ItemParser::new().parse(self, laid_out.iter().map(|&t| Ok::<_, Never>(t)));
        match parsed {
            // A statement inside may have failed and been skipped: the item is kept for
            // checking anyway, so that errors in other statements are still found.
            Ok(item) => *item,
            Err(e) => {
                let d = self.syntax_error(e, &laid_out);
                self.diagnostics.push(d);
                Item::Error { span: whole, name: self.declared_name(&laid_out) }
            }
        }
    }

    /// The names a statement that failed to parse was binding: `a, b <- ...`, `a = ...`.
    fn bound_names(&self, l: usize, r: usize) -> Vec<Ident> {
        let Some(text) = self.text.get(l..r.min(self.text.len())) else { return Vec::new() };
        let (tokens, _) = lex(text);
        let mut names = Vec::new();
        for (i, (start, token, end)) in tokens.iter().enumerate() {
            match (token, i % 2) {
                (Token::Name(n) | Token::Upper(n), 0) => names.push(self.ident(n, l + start, l + end)),
                (Token::Comma, 1) => {}
                (Token::LeftArrow | Token::Assign, 1) => return names,
                _ => break,
            }
        }
        Vec::new()
    }

    /// The name a declaration that failed to parse was going to declare.
    fn declared_name(&self, tokens: &[Spanned<'_>]) -> Option<Ident> {
        match tokens {
            [
                (_, Token::Func | Token::Service | Token::Data | Token::Ability | Token::Alias | Token::Const, _),
                (l, Token::Name(n) | Token::Upper(n), r),
                ..,
            ] => Some(self.ident(n, *l, *r)),
            _ => None,
        }
    }

    pub(crate) fn span(&self, l: usize, r: usize) -> Span {
        Span::new(self.source, u32::try_from(l).unwrap_or(u32::MAX), u32::try_from(r).unwrap_or(u32::MAX))
    }

    pub(crate) fn ident(&self, name: &str, l: usize, r: usize) -> Ident {
        Ident { name: name.to_string(), span: self.span(l, r) }
    }

    pub(crate) fn qual(&self, parts: Vec<Ident>, l: usize, r: usize) -> QualName {
        QualName { parts, span: self.span(l, r) }
    }

    pub(crate) fn str_lit(&self, quoted: &str, l: usize, r: usize) -> StrLit {
        let inner = quoted.strip_prefix('"').unwrap_or(quoted);
        let inner = inner.strip_suffix('"').unwrap_or(inner);
        StrLit { value: inner.to_string(), span: self.span(l, r) }
    }

    pub(crate) fn expr(&self, kind: ExprKind, l: usize, r: usize) -> Expr {
        Expr { kind, span: self.span(l, r), depth: 1 }
    }

    /// Builds a node over children, refusing to nest deeper than [`MAX_NESTING`].
    fn nested(&mut self, kind: ExprKind, child_depth: u16, l: usize, r: usize) -> Expr {
        let depth = child_depth.saturating_add(1);
        if usize::from(depth) > MAX_NESTING {
            let span = self.span(l, r);
            if !self.diagnostics.iter().any(|d| d.code == Code::Limit && d.primary_span().is_some_and(|s| s.start == span.start)) {
                self.diagnostics.push(
                    Diagnostic::error(Code::Limit, format!("this expression nests more than {MAX_NESTING} levels deep"))
                        .with_primary(span, "too deep")
                        .with_hint("split it into several assignments"),
                );
            }
            return Expr { kind: ExprKind::Error, span, depth: 1 };
        }
        Expr { kind, span: self.span(l, r), depth }
    }

    pub(crate) fn field(&mut self, base: Expr, field: Ident, l: usize, r: usize) -> Expr {
        let d = base.depth;
        self.nested(ExprKind::Field(Box::new(base), field), d, l, r)
    }

    pub(crate) fn index(&mut self, base: Expr, index: Expr, l: usize, r: usize) -> Expr {
        let d = base.depth.max(index.depth);
        self.nested(ExprKind::Index(Box::new(base), Box::new(index)), d, l, r)
    }

    /// `base!` (index 0) and `base!N`.
    pub(crate) fn bang(&mut self, base: Expr, n: Option<&str>, bl: usize, br: usize, l: usize, r: usize) -> Expr {
        let index = match n {
            None => self.expr(ExprKind::Int(0), bl, br),
            Some(text) => self.int(text, false, bl, br),
        };
        self.index(base, index, l, r)
    }

    pub(crate) fn call(&mut self, callee: Expr, abilities: Vec<QualName>, args: Vec<Arg>, l: usize, r: usize) -> Expr {
        let d = args.iter().map(|a| a.value.depth).fold(callee.depth, u16::max);
        self.nested(ExprKind::Call { callee: Box::new(callee), abilities, args }, d, l, r)
    }

    pub(crate) fn binary(&mut self, op: BinOp, a: Expr, b: Expr, l: usize, r: usize) -> Expr {
        let d = a.depth.max(b.depth);
        self.nested(ExprKind::Binary(op, Box::new(a), Box::new(b)), d, l, r)
    }

    pub(crate) fn not(&mut self, e: Expr, l: usize, r: usize) -> Expr {
        let d = e.depth;
        self.nested(ExprKind::Not(Box::new(e)), d, l, r)
    }

    pub(crate) fn paren(&mut self, e: Expr, l: usize, r: usize) -> Expr {
        let d = e.depth;
        Expr { span: self.span(l, r), ..self.nested(e.kind, d, l, r) }
    }

    pub(crate) fn collection(&mut self, kind: CollectionKind, items: Vec<Expr>, l: usize, r: usize) -> Expr {
        let d = items.iter().map(|e| e.depth).max().unwrap_or(0);
        self.nested(ExprKind::Collection(kind, items), d, l, r)
    }

    pub(crate) fn int(&mut self, text: &str, negative: bool, l: usize, r: usize) -> Expr {
        match text.parse::<i128>() {
            Ok(v) if v <= i128::from(u64::MAX) => self.expr(ExprKind::Int(if negative { -v } else { v }), l, r),
            _ => {
                self.diagnostics.push(
                    Diagnostic::error(Code::Syntax, "this number is too large")
                        .with_primary(self.span(l, r), "more than the largest `u64`"),
                );
                self.expr(ExprKind::Error, l, r)
            }
        }
    }

    pub(crate) fn float(&mut self, text: &str, negative: bool, l: usize, r: usize) -> Expr {
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => self.expr(ExprKind::Float(if negative { -v } else { v }), l, r),
            _ => {
                self.diagnostics
                    .push(Diagnostic::error(Code::Syntax, "this number is too large").with_primary(self.span(l, r), "not a finite `f64`"));
                self.expr(ExprKind::Error, l, r)
            }
        }
    }

    /// `Srv "id"`: the part before the id must be a (possibly qualified) service name.
    pub(crate) fn service_id(&mut self, service: Expr, id: Expr) -> StmtKind {
        let mut parts = Vec::new();
        let mut cur = &service;
        loop {
            match &cur.kind {
                ExprKind::Field(base, f) if f.name.starts_with(char::is_uppercase) => {
                    parts.push(f.clone());
                    cur = base;
                }
                ExprKind::Name(n) if n.starts_with(char::is_uppercase) => {
                    parts.push(Ident { name: n.clone(), span: cur.span });
                    break;
                }
                _ => {
                    self.diagnostics.push(
                        Diagnostic::error(Code::Syntax, "expected a service name before the service id")
                            .with_primary(service.span, "not a service name")
                            .with_hint("set a service's id with `ServiceName \"id\"` or `ServiceName id_variable`"),
                    );
                    return StmtKind::Error { names: Vec::new() };
                }
            }
        }
        parts.reverse();
        StmtKind::ServiceId { service: QualName { parts, span: service.span }, id }
    }

    /// `[]T`, `?T`, `*T` or `%T`, refusing chains deeper than [`MAX_NESTING`] (they
    /// need no brackets, so the layout pass does not bound them).
    pub(crate) fn wrap_type(&mut self, wrap: fn(Box<TypeExpr>, Span) -> TypeExpr, inner: TypeExpr, l: usize, r: usize) -> TypeExpr {
        let span = self.span(l, r);
        // Above a type already refused, stay refused without a second message.
        if let TypeExpr::Top(s) = inner
            && self.refused_type == Some(s)
        {
            self.refused_type = Some(span);
            return TypeExpr::Top(span);
        }
        let mut depth = 1;
        let mut cur = &inner;
        while let TypeExpr::Array(t, _) | TypeExpr::Option(t, _) | TypeExpr::Stream(t, _) | TypeExpr::StreamMap(t, _) = cur {
            depth += 1;
            cur = t;
            if depth > MAX_NESTING {
                break;
            }
        }
        if depth >= MAX_NESTING {
            self.diagnostics.push(
                Diagnostic::error(Code::Limit, format!("this type nests more than {MAX_NESTING} levels deep"))
                    .with_primary(span, "too deep"),
            );
            self.refused_type = Some(span);
            return TypeExpr::Top(span);
        }
        wrap(Box::new(inner), span)
    }

    /// A member's type: `T`, or an arrow built from unnamed parameter types.
    pub(crate) fn member_type(
        &mut self,
        abilities: Vec<QualName>,
        mut types: Vec<TypeExpr>,
        results: Option<Vec<TypeExpr>>,
        l: usize,
        r: usize,
    ) -> TypeExpr {
        match results {
            None if types.len() == 1 && abilities.is_empty() => types.pop().unwrap_or(TypeExpr::Top(self.span(l, r))),
            None => {
                self.diagnostics.push(
                    Diagnostic::error(Code::Syntax, "expected `->` and a result after these argument types")
                        .with_primary(self.span(l, r), "an arrow type needs `->`")
                        .with_hint("write `A, B -> C`, or `A, B -> ()` when nothing is returned"),
                );
                TypeExpr::Top(self.span(l, r))
            }
            Some(results) => TypeExpr::Arrow(Box::new(ArrowTypeExpr {
                abilities,
                params: types.into_iter().map(|ty| Param { name: None, ty }).collect(),
                results,
                span: self.span(l, r),
            })),
        }
    }

    pub(crate) fn arrow(
        &mut self,
        abilities: Vec<QualName>,
        params: Vec<PItem>,
        results: Vec<TypeExpr>,
        l: usize,
        r: usize,
    ) -> ArrowTypeExpr {
        ArrowTypeExpr { abilities, params: self.params(params), results, span: self.span(l, r) }
    }

    /// Regroups flattened parameter items: `cb: string, u32 -> ()` is one parameter.
    fn params(&mut self, items: Vec<PItem>) -> Vec<Param> {
        struct Pending {
            name: Ident,
            abilities: Vec<QualName>,
            domain: Vec<TypeExpr>,
        }
        let mut out = Vec::new();
        let mut pending: Option<Pending> = None;
        let finish = |ctx: &mut Ctx, p: Pending, results: Option<Vec<TypeExpr>>, out: &mut Vec<Param>| {
            let start = p.domain.first().map_or(p.name.span, TypeExpr::span);
            let end = results.as_ref().and_then(|r| r.last()).map(TypeExpr::span).or_else(|| p.domain.last().map(TypeExpr::span));
            let span = end.map_or(start, |e| start.to(e));
            let ty = match results {
                Some(results) => TypeExpr::Arrow(Box::new(ArrowTypeExpr {
                    abilities: p.abilities,
                    params: p.domain.into_iter().map(|ty| Param { name: None, ty }).collect(),
                    results,
                    span,
                })),
                None if p.domain.len() == 1 && p.abilities.is_empty() => p.domain.into_iter().next().unwrap_or(TypeExpr::Top(span)),
                None => {
                    ctx.diagnostics.push(
                        Diagnostic::error(Code::Syntax, format!("expected `->` after the argument types of `{}`", p.name.name))
                            .with_primary(span, "an arrow type needs `->` and a result")
                            .with_hint("parameters are written `name: type`; an arrow parameter `name: A, B -> C`"),
                    );
                    TypeExpr::Top(span)
                }
            };
            out.push(Param { name: Some(p.name), ty });
        };
        for item in items {
            match item {
                PItem::Named(name, abilities, ty, results) => {
                    if let Some(p) = pending.take() {
                        finish(self, p, None, &mut out);
                    }
                    let p = Pending { name, abilities, domain: ty.into_iter().collect() };
                    if results.is_some() {
                        finish(self, p, results, &mut out);
                    } else {
                        pending = Some(p);
                    }
                }
                PItem::Unnamed(ty, results) => match pending.take() {
                    Some(mut p) => {
                        p.domain.push(ty);
                        if results.is_some() {
                            finish(self, p, results, &mut out);
                        } else {
                            pending = Some(p);
                        }
                    }
                    None => self.diagnostics.push(
                        Diagnostic::error(Code::Syntax, "this parameter has no name")
                            .with_primary(ty.span(), "expected `name: type`")
                            .with_hint("an arrow parameter is written `name: A, B -> C`"),
                    ),
                },
            }
        }
        if let Some(p) = pending {
            finish(self, p, None, &mut out);
        }
        out
    }

    pub(crate) fn stmt(&mut self, kind: StmtKind, prefix: Option<(ParPrefix, Span)>, l: usize, r: usize) -> Box<Stmt> {
        Box::new(Stmt { kind, prefix, span: self.span(l, r) })
    }

    pub(crate) fn broken_stmt(&mut self, e: ErrorRecovery<usize, Token<'_>, Never>, l: usize, r: usize) -> Box<Stmt> {
        let d = self.syntax_error(e.error, &[]);
        self.diagnostics.push(d);
        let names = self.bound_names(l, r);
        Box::new(Stmt { kind: StmtKind::Error { names }, prefix: None, span: self.span(l, r) })
    }

    /// Builds a block, attaching `else`, `catch` and `otherwise` to the statement before.
    pub(crate) fn block(&mut self, stmts: Vec<Stmt>, l: usize, r: usize) -> Block {
        let mut out: Vec<Stmt> = Vec::with_capacity(stmts.len());
        for stmt in stmts {
            match stmt.kind {
                StmtKind::Else(b) => match out.last_mut() {
                    Some(Stmt { kind: StmtKind::If { otherwise: slot @ None, .. }, span, .. }) => {
                        *span = span.to(b.span);
                        *slot = Some(b);
                    }
                    _ => self.diagnostics.push(
                        Diagnostic::error(Code::Syntax, "`else` must follow an `if` block")
                            .with_primary(stmt.span, "no `if` right before this"),
                    ),
                },
                StmtKind::Catch(..) | StmtKind::Otherwise(_) => {
                    let (is_catch, word) = match stmt.kind {
                        StmtKind::Catch(..) => (true, "catch"),
                        _ => (false, "otherwise"),
                    };
                    let Some(prev) = out.pop() else {
                        self.diagnostics.push(
                            Diagnostic::error(Code::Syntax, format!("`{word}` must follow a `try` block or a statement"))
                                .with_primary(stmt.span, "nothing to recover from before this"),
                        );
                        continue;
                    };
                    let mut prev = match prev.kind {
                        StmtKind::Try { .. } => prev,
                        _ => {
                            let span = prev.span;
                            let prefix = prev.prefix;
                            let inner = Stmt { prefix: None, ..prev };
                            Stmt {
                                kind: StmtKind::Try { body: Block { stmts: vec![inner], span }, catch: None, otherwise: None },
                                prefix,
                                span,
                            }
                        }
                    };
                    if let StmtKind::Try { catch, otherwise, .. } = &mut prev.kind {
                        let taken = if is_catch { catch.is_some() } else { otherwise.is_some() };
                        if taken {
                            self.diagnostics.push(
                                Diagnostic::error(Code::Syntax, format!("this `try` already has a `{word}` block"))
                                    .with_primary(stmt.span, "a second one"),
                            );
                        } else {
                            prev.span = prev.span.to(stmt.span);
                            match stmt.kind {
                                StmtKind::Catch(e, b) => *catch = Some((e, b)),
                                StmtKind::Otherwise(b) => *otherwise = Some(b),
                                _ => {}
                            }
                        }
                    }
                    out.push(prev);
                }
                _ => out.push(stmt),
            }
        }
        Block { stmts: out, span: self.span(l, r) }
    }

    /// Turns a lalrpop error into a message for people.
    fn syntax_error(&self, error: ParseError<usize, Token<'_>, Never>, tokens: &[Spanned<'_>]) -> Diagnostic {
        match error {
            ParseError::UnrecognizedToken { token: (l, token, r), expected } => self.unexpected(token, l, r, &expected),
            ParseError::UnrecognizedEof { location, expected } => {
                let at = tokens.last().map_or(location, |t| t.2);
                let d = Diagnostic::error(Code::Syntax, "this declaration ends too early").with_primary(self.span(at, at), "the end");
                match describe_expected(&expected) {
                    Some(e) => d.with_hint(format!("expected {e}")),
                    None => d,
                }
            }
            ParseError::ExtraToken { token: (l, token, r) } => Diagnostic::error(Code::Syntax, format!("unexpected {}", token.describe()))
                .with_primary(self.span(l, r), "not expected here"),
            ParseError::InvalidToken { location } => {
                Diagnostic::error(Code::Syntax, "invalid token").with_primary(self.span(location, location), "here")
            }
            ParseError::User { error } => match error {},
        }
    }

    fn unexpected(&self, token: Token<'_>, l: usize, r: usize, expected: &[String]) -> Diagnostic {
        let span = self.span(l, r);
        let expects = |t: &str| expected.iter().any(|e| e == t);
        if token == Token::Indent {
            return Diagnostic::error(Code::UnexpectedIndent, "this line is indented, but the line before does not open a block")
                .with_primary(span, "unexpected indentation")
                .with_hint("a block starts after a line ending with `:`; otherwise keep the indentation of the line before");
        }
        if token == Token::Newline && expects("\":\"") {
            return Diagnostic::error(Code::Syntax, "expected `:` at the end of this line")
                .with_primary(span, "`:` missing")
                .with_hint("a block starts with `:` and its lines are indented below");
        }
        if token == Token::Minus && expects("Int") && !expects("\"(\"") {
            return Diagnostic::error(Code::InvalidIndex, "collection indexes must be non-negative").with_primary(span, "a negative index");
        }
        if token == Token::Assign && expects("\"==\"") {
            return Diagnostic::error(Code::Syntax, "unexpected `=`").with_primary(span, "`=` binds a name").with_hint("compare with `==`");
        }
        if token == Token::Newline && expects("Indent") {
            return Diagnostic::error(Code::Syntax, "expected an indented block after `:`").with_primary(span, "the block is missing");
        }
        let what = match token {
            Token::Newline => "the line ends too early".to_string(),
            Token::Dedent => "the block ends too early".to_string(),
            t => format!("unexpected {}", t.describe()),
        };
        let d = Diagnostic::error(Code::Syntax, what).with_primary(span, "here");
        match describe_expected(expected) {
            Some(e) => d.with_hint(format!("expected {e}")),
            None => d,
        }
    }
}

/// Names lalrpop's expected terminals as a person would, e.g. "`)` or `,`".
fn describe_expected(expected: &[String]) -> Option<String> {
    let mut words: Vec<String> = expected
        .iter()
        .map(|t| match t.as_str() {
            "Name" => "a name".to_string(),
            "Upper" => "a capitalised name".to_string(),
            "Int" => "a number".to_string(),
            "Float" => "a number".to_string(),
            "Str" => "a string".to_string(),
            "Newline" => "the end of the line".to_string(),
            "Indent" => "an indented block".to_string(),
            "Dedent" => "the end of the block".to_string(),
            quoted => format!("`{}`", quoted.trim_matches('"').replace("\\\"", "\"")),
        })
        .collect();
    words.sort();
    words.dedup();
    match words.len() {
        0 => None,
        1 => words.pop(),
        n if n <= 6 => {
            let last = words.pop().unwrap_or_default();
            Some(format!("{} or {last}", words.join(", ")))
        }
        _ => None,
    }
}
