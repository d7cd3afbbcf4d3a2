//! The syntax tree of one Aqua module, as written: names are not resolved and types are
//! not checked yet. Every node carries the byte span of its source text.

use crate::diagnostic::Span;

/// A name as written, with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A dotted name such as `Builtin.Peer` or `Lib.Sub.f`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualName {
    pub parts: Vec<Ident>,
    pub span: Span,
}

impl QualName {
    /// The name as written, parts joined by dots.
    pub fn text(&self) -> String {
        self.parts.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(".")
    }
}

/// One parsed file.
#[derive(Debug, Clone, PartialEq)]
pub struct Module {
    pub header: Option<Header>,
    pub items: Vec<Item>,
}

/// `aqua Name declares ...` (or the deprecated `module Name ...`).
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub name: QualName,
    pub declares: Option<Declares>,
    /// Written with the deprecated keyword `module`.
    pub deprecated_keyword: bool,
    pub span: Span,
}

/// What a module lets importers see.
#[derive(Debug, Clone, PartialEq)]
pub enum Declares {
    All(Span),
    Names(Vec<Ident>),
}

/// `name` or `name as other` in import and export lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Renamed {
    pub name: QualName,
    pub alias: Option<Ident>,
}

/// A string literal: its text without quotes and its span (quotes included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

/// A top-level declaration.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A header in the wrong place (not the first item).
    Header(Header),
    /// `import "path"` (names: None) or `import a, B as C from "path"`.
    Import {
        names: Option<Vec<Renamed>>,
        path: StrLit,
        span: Span,
    },
    /// `use "path" [as M]` or `use a, B from "path" as M`.
    Use {
        names: Option<Vec<Renamed>>,
        path: StrLit,
        alias: Option<Ident>,
        span: Span,
    },
    Export {
        names: Vec<Renamed>,
        span: Span,
    },
    Service(ServiceDecl),
    Data(DataDecl),
    Ability(AbilityDecl),
    Alias {
        name: Ident,
        ty: TypeExpr,
        span: Span,
    },
    Const(ConstDecl),
    Func(FuncDecl),
    /// An item that did not parse; its errors are already reported. `name` is the name
    /// it declares when that much could be read, so that uses of it are not reported
    /// as unknown names.
    Error {
        span: Span,
        name: Option<Ident>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDecl {
    pub name: Ident,
    pub default_id: Option<Expr>,
    pub functions: Vec<Member>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DataDecl {
    pub name: Ident,
    pub fields: Vec<Member>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AbilityDecl {
    pub name: Ident,
    pub fields: Vec<Member>,
    pub span: Span,
}

/// A field of a data or ability type, or a function of a service:
/// `name: Type`, `name: A, B -> C` or `name(a: A) -> C`.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub name: Ident,
    pub ty: TypeExpr,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ConstDecl {
    pub name: Ident,
    /// Declared with `?=`: a value given on the command line wins.
    pub overridable: bool,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FuncDecl {
    pub name: Ident,
    pub arrow: ArrowTypeExpr,
    pub body: Block,
    pub span: Span,
}

/// A type as written.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeExpr {
    /// `u8` ... `string`, `bool`, or a named type (`User`, `Lib.User`).
    Named(QualName),
    Array(Box<TypeExpr>, Span),
    Option(Box<TypeExpr>, Span),
    Stream(Box<TypeExpr>, Span),
    StreamMap(Box<TypeExpr>, Span),
    Arrow(Box<ArrowTypeExpr>),
    Top(Span),
    Bottom(Span),
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named(q) => q.span,
            TypeExpr::Array(_, s)
            | TypeExpr::Option(_, s)
            | TypeExpr::Stream(_, s)
            | TypeExpr::StreamMap(_, s)
            | TypeExpr::Top(s)
            | TypeExpr::Bottom(s) => *s,
            TypeExpr::Arrow(a) => a.span,
        }
    }
}

/// An arrow type: `{Ab}a: A, B -> C, D`. Parameters of functions and closures are
/// named; those of arrow types in type position may be unnamed.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrowTypeExpr {
    pub abilities: Vec<QualName>,
    pub params: Vec<Param>,
    pub results: Vec<TypeExpr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: Option<Ident>,
    pub ty: TypeExpr,
}

/// An indented sequence of statements.
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    /// `par` or `co` written before the statement.
    pub prefix: Option<(ParPrefix, Span)>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParPrefix {
    Par,
    Co,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForMode {
    Par,
    Try,
    Rec,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StmtKind {
    /// A call whose results are not bound: `Srv.f(x)`.
    Expr(Expr),
    /// `a, b <- f(x)`; binding to a declared stream pushes to it.
    Bind {
        names: Vec<Ident>,
        value: Expr,
    },
    /// `x = expr` (also `Ab = Ability(...)`).
    Assign {
        name: Ident,
        value: Expr,
    },
    /// `f = (a: A) -> B:` with a body; `detached` for `f = func (a: A) -> B:`.
    Closure {
        name: Ident,
        detached: bool,
        arrow: ArrowTypeExpr,
        body: Block,
    },
    /// `<- a, b`
    Return(Vec<Expr>),
    /// `s: *string`
    Declare {
        name: Ident,
        ty: TypeExpr,
    },
    /// `s <<- v` or, on a stream map, `m <<- key, v`.
    Push {
        target: Ident,
        key: Option<Expr>,
        value: Expr,
    },
    /// `Srv "id"`: the service id for the rest of the block.
    ServiceId {
        service: QualName,
        id: Expr,
    },
    On {
        peer: Expr,
        via: Vec<Expr>,
        body: Block,
    },
    Join(Vec<Expr>),
    For {
        key: Option<Ident>,
        item: Ident,
        iterable: Expr,
        mode: Option<ForMode>,
        body: Block,
    },
    Parseq {
        item: Ident,
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
    /// `try:` (body is a block) or any statement followed by `catch`/`otherwise`.
    Try {
        body: Block,
        catch: Option<(Ident, Block)>,
        otherwise: Option<Block>,
    },
    /// `else:`, `catch e:` and `otherwise:` as parsed, before they are attached to the
    /// statement they follow (see `parser::attach_branches`).
    Else(Block),
    Catch(Ident, Block),
    Otherwise(Block),
    /// A statement that did not parse; its error is already reported. `names` are the
    /// names it was binding (`x <- ...` or `x = ...`), so that later uses of them are
    /// not reported as unknown.
    Error {
        names: Vec<Ident>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// How deeply the expression nests (a literal is 1); the parser keeps it at most
    /// `MAX_NESTING`, so recursive walks over expressions stay shallow.
    pub depth: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
    Lt,
    LtEq,
    Gt,
    GtEq,
    Eq,
    NotEq,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Pow => "**",
            BinOp::Lt => "<",
            BinOp::LtEq => "<=",
            BinOp::Gt => ">",
            BinOp::GtEq => ">=",
            BinOp::Eq => "==",
            BinOp::NotEq => "!=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectionKind {
    /// `[a, b]`
    Array,
    /// `?[a, b]`: the first element that can be computed.
    Option,
    /// `*[a, b]`
    Stream,
}

/// An argument, positional or `name = value` (struct and ability constructors, `copy`).
#[derive(Debug, Clone, PartialEq)]
pub struct Arg {
    pub name: Option<Ident>,
    pub value: Expr,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Bool(bool),
    /// An integer literal; the sign is part of it (`-3`).
    Int(i128),
    Float(f64),
    Str(String),
    InitPeerId,
    Nil,
    /// A name of any kind: variable, constant, function, service, ability, module.
    Name(String),
    /// `base.field` (also module access `M.f` and `.length`).
    Field(Box<Expr>, Ident),
    /// `base[index]`, `base!` (index 0) and `base!2`.
    Index(Box<Expr>, Box<Expr>),
    /// `callee{Ab, Cd}(args)`
    Call {
        callee: Box<Expr>,
        abilities: Vec<QualName>,
        args: Vec<Arg>,
    },
    Not(Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Collection(CollectionKind, Vec<Expr>),
    /// An expression that did not parse or was too deep; its error is already reported.
    Error,
}
