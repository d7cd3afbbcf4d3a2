//! The checked program: every name resolved, every expression typed.
//!
//! The checker builds one [`Body`] per function (closures included in the body of the
//! function they are written in). Locals are numbered ([`LocalId`]), so later passes
//! (inlining, lowering to AIR) never have to think about shadowing or name clashes;
//! services carry the id expression their calls use; constants are folded to their
//! literal values. An expression that failed to check is [`ExprKind::Error`] with
//! type `⊥`; a body with errors is never lowered.

use std::rc::Rc;

use crate::check::{ConstValue, FuncDef, ServiceDef};
use crate::diagnostic::Span;
use crate::syntax::ast::{BinOp, CollectionKind, ForMode, ParPrefix};
use crate::types::Type;

/// An index into [`Body::locals`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalId(pub u32);

/// A name bound in a function body: a parameter, an ability, a variable, a stream, a
/// closure, a loop item or a caught error.
#[derive(Debug, Clone)]
pub struct Local {
    pub name: String,
    pub ty: Type,
    pub span: Span,
}

/// A checked function body.
#[derive(Debug, Clone, Default)]
pub struct Body {
    pub locals: Vec<Local>,
    /// The function's abilities, in declaration order.
    pub abilities: Vec<LocalId>,
    /// The function's parameters, in declaration order.
    pub params: Vec<LocalId>,
    pub block: Block,
    /// The values after the final `<-` (empty when the function returns nothing).
    pub results: Vec<Expr>,
}

impl Body {
    pub fn local(&self, id: LocalId) -> &Local {
        &self.locals[id.0 as usize]
    }
}

#[derive(Debug, Clone, Default)]
pub struct Block {
    pub stmts: Vec<Stmt>,
}

#[derive(Debug, Clone)]
pub struct Stmt {
    pub kind: StmtKind,
    /// `par` or `co` written before the statement.
    pub prefix: Option<ParPrefix>,
    pub span: Span,
}

/// Where the results of a call go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bind {
    /// A new local.
    New(LocalId),
    /// Pushed to a stream in scope.
    Push(LocalId),
}

#[derive(Debug, Clone)]
pub enum StmtKind {
    /// A call; its results go to `binds` (none for a call statement).
    Call {
        call: Call,
        binds: Vec<Bind>,
    },
    /// `map <- f()` where `f` returns a key and a value.
    CallToMap {
        call: Call,
        map: LocalId,
    },
    Assign {
        local: LocalId,
        value: Expr,
    },
    Closure(Rc<Closure>),
    /// `s: *T` or `m: %T`: a new stream scoped to the enclosing block.
    Declare(LocalId),
    Push {
        stream: LocalId,
        key: Option<Expr>,
        value: Expr,
    },
    On {
        peer: Expr,
        via: Vec<Expr>,
        body: Block,
    },
    Join(Vec<Expr>),
    For {
        key: Option<LocalId>,
        item: LocalId,
        iterable: Expr,
        mode: Option<ForMode>,
        body: Block,
    },
    Parseq {
        item: LocalId,
        iterable: Expr,
        peer: Expr,
        via: Vec<Expr>,
        body: Block,
    },
    If {
        cond: Expr,
        then: Block,
        otherwise: Option<Block>,
    },
    Try {
        body: Block,
        catch: Option<(LocalId, Block)>,
        otherwise: Option<Block>,
    },
}

/// A closure: `f = (a: A) -> B:` (or `func (...)`, `detached`, which does not capture
/// where it was defined).
#[derive(Debug, Clone)]
pub struct Closure {
    pub local: LocalId,
    pub detached: bool,
    pub params: Vec<LocalId>,
    pub block: Block,
    pub results: Vec<Expr>,
}

#[derive(Debug, Clone)]
pub struct Call {
    pub callee: Callee,
    pub args: Vec<Expr>,
    /// The types of the results.
    pub results: Vec<Type>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Callee {
    /// A service function, with the id expression in force at the call.
    Service { service: Rc<ServiceDef>, id: Box<Expr>, function: String },
    /// A top-level function, with the abilities passed to it.
    Func { func: Rc<FuncDef>, abilities: Vec<Expr> },
    /// An arrow value: a closure, an arrow parameter, an ability's arrow.
    Arrow(Box<Expr>),
    /// A method of a stream map: `get`, `getStream`, `contains`, `keys`, `keysStream`.
    MapMethod { map: Box<Expr>, method: String },
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub ty: Type,
    pub span: Span,
}

impl Expr {
    pub fn error(span: Span) -> Expr {
        Expr { kind: ExprKind::Error, ty: Type::Bottom, span }
    }
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    /// A literal, or a constant folded to its value.
    Literal(ConstValue),
    InitPeerId,
    /// `HOST_PEER_ID`, `PARTICLE_TTL`, `PARTICLE_TIMESTAMP`, `LAST_ERROR`.
    Builtin(&'static str),
    Local(LocalId),
    Field(Box<Expr>, String),
    Index(Box<Expr>, Box<Expr>),
    /// `.length` of an array, option or stream.
    Length(Box<Expr>),
    Call(Box<Call>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Collection(CollectionKind, Vec<Expr>),
    /// A data or ability value built field by field (the type says which).
    Construct(Vec<(String, Expr)>),
    /// `base.copy(field = value, ...)`.
    Copy(Box<Expr>, Vec<(String, Expr)>),
    /// A top-level function used as a value.
    Func(Rc<FuncDef>),
    /// A service function used as a value (`Srv.f`), with its id.
    ServiceFunc {
        service: Rc<ServiceDef>,
        id: Box<Expr>,
        function: String,
    },
    /// A service used as an ability value, with its id.
    Service {
        service: Rc<ServiceDef>,
        id: Box<Expr>,
    },
    Error,
}
