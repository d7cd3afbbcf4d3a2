//! The AIR syntax tree.
//!
//! Instructions live in one arena (`Script::instrs`) and refer to each other by
//! [`InstrId`], so no part of the toolchain recurses over a tree whose depth the
//! user controls: walking, printing, dropping and executing all use explicit stacks.
//! Variable names are interned per script ([`VarId`]); the sigil is part of the name
//! (`x`, `$x` and `#x` are three variables) and is also kept as a [`VarKind`]. The
//! script keeps its text: the name table, string literals and lens field names are
//! spans into it ([`Script::text`]), so parsing allocates nothing per name or string.

use std::fmt;

/// A byte range in the AIR source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        // Scripts are limited far below 4 GiB (see `limits`), so this never saturates in practice.
        Span { start: u32::try_from(start).unwrap_or(u32::MAX), end: u32::try_from(end).unwrap_or(u32::MAX) }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Index of an instruction in [`Script::instrs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstrId(pub u32);

/// Index of an interned variable name in [`Script::names`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VarId(pub u32);

/// A parsed and validated AIR script.
#[derive(Debug, Clone)]
pub struct Script {
    /// All instructions; children always have smaller ids than their parents.
    pub instrs: Vec<Instr>,
    /// The outermost instruction.
    pub root: InstrId,
    /// The source text, which names, strings and lens field names point into.
    text: Box<str>,
    /// Interned variable names, sigil included (`$s`, `#c`, `%m`, `#%m`, `x`), by [`VarId`].
    names: Vec<Span>,
}

impl Script {
    pub(crate) fn new(instrs: Vec<Instr>, root: InstrId, text: Box<str>, names: Vec<Span>) -> Self {
        Script { instrs, root, text, names }
    }

    pub fn instr(&self, id: InstrId) -> &Instr {
        &self.instrs[id.0 as usize]
    }

    /// A variable's name, sigil included.
    pub fn name(&self, id: VarId) -> &str {
        self.text(self.names[id.0 as usize])
    }

    /// Every variable name, by [`VarId`] (so every `VarId` is below their count).
    pub fn names(&self) -> impl ExactSizeIterator<Item = &str> {
        self.names.iter().map(|&span| self.text(span))
    }

    /// The source text at `span`: a string literal's text (without its quotes), a lens
    /// field name, or any other part of the script.
    pub fn text(&self, span: Span) -> &str {
        &self.text[span.range()]
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Instr {
    pub kind: InstrKind,
    /// Span of the whole instruction, parentheses included.
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InstrKind {
    Call(Box<Call>),
    /// `(ap source dest)`
    Ap(Box<Ap>),
    /// `(ap (key value) %map)`
    ApMap(Box<ApMap>),
    Canon(Box<Canon>),
    Seq(InstrId, InstrId),
    Par(InstrId, InstrId),
    Xor(InstrId, InstrId),
    Match(Box<Match>),
    Mismatch(Box<Match>),
    Fold(Box<Fold>),
    /// `(next iterator)`
    Next(Var),
    /// `(new var body)`
    New {
        var: Var,
        body: InstrId,
    },
    Never,
    Null,
    Fail(Box<Fail>),
}

/// Which kind of variable a name denotes; decided by its sigil.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VarKind {
    /// `name`
    Scalar,
    /// `$name`
    Stream,
    /// `%name`
    StreamMap,
    /// `#name` or `#$name`
    CanonStream,
    /// `#%name`
    CanonMap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Var {
    pub id: VarId,
    pub kind: VarKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Number {
    Int(i64),
    Float(f64),
}

/// A value as it can appear in call arguments, `ap`, `match`, `fold`, triplets.
/// Which variants are allowed where is decided by the grammar. Lenses are boxed: most
/// values have none, and a small value is cheap to move through the parser.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `%init_peer_id%`
    InitPeerId,
    /// `%last_error%` with an optional lens.
    LastError(Option<Box<Lens>>),
    /// `:error:` with an optional lens.
    Error(Option<Box<Lens>>),
    /// `%timestamp%`
    Timestamp,
    /// `%ttl%`
    Ttl,
    /// `"text"` (AIR strings have no escapes): the span of the text between the quotes,
    /// read with [`Script::text`].
    String(Span),
    Number(Number),
    Bool(bool),
    /// `[]`
    EmptyArray,
    /// `x`, `x.$.a.[0]`, `x.length`
    Scalar {
        var: Var,
        lens: Option<Box<Lens>>,
    },
    /// `#c`, `#c.$.[0]`, `#c.length`
    CanonStream {
        var: Var,
        lens: Option<Box<Lens>>,
    },
    /// `#%m`, `#%m.$.key`, `#%m.length`
    CanonMap {
        var: Var,
        lens: Option<Box<Lens>>,
    },
    /// `$s` (only as a fold iterable)
    Stream(Var),
    /// `%m` (only as a fold iterable)
    StreamMap(Var),
}

/// A lens (AquaVM's "lambda") applied to a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Lens {
    pub kind: LensKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LensKind {
    /// `.length`
    Length,
    /// `.$.a.[0].[x]`, with an optional trailing `!` that changes nothing.
    Path { accessors: Vec<Accessor>, flatten: bool },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Accessor {
    /// `.name`: the span of the name, read with [`Script::text`].
    Field(Span),
    /// `.[3]`
    Index(u32),
    /// `.[x]`: a field name or an index taken from the scalar `x`.
    Scalar(Var),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub peer: Value,
    pub service: Value,
    pub function: Value,
    pub args: Vec<Value>,
    pub output: CallOutput,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CallOutput {
    None,
    Scalar(Var),
    Stream(Var),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ap {
    pub source: Value,
    /// A scalar or a stream.
    pub dest: Var,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApMap {
    pub key: Value,
    pub value: Value,
    /// A stream map.
    pub map: Var,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Canon {
    pub peer: Value,
    /// A stream (`$s`) or a stream map (`%m`).
    pub source: Var,
    /// A canon stream (`#c`, source is a stream), a canon map (`#%m`, source is a map),
    /// or a scalar (source is a map: the map-to-scalar form).
    pub dest: Var,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub left: Value,
    pub right: Value,
    pub body: InstrId,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fold {
    /// A scalar (with lens), a canon stream, a canon map (with lens), `[]`, a stream or a stream map.
    pub iterable: Value,
    /// The iterator: a scalar name.
    pub iterator: Var,
    pub body: InstrId,
    /// Runs when the iterable is exhausted.
    pub last: Option<InstrId>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Fail {
    /// `(fail 1 "message")`
    Literal { code: i64, message: Span },
    /// `(fail x)`, `(fail x.$.error)`, `(fail #c.$.[0])`: an error object.
    Value(Value),
    /// `(fail %last_error%)`
    LastError,
    /// `(fail :error:)`
    Error,
}

impl InstrKind {
    /// The direct sub-instructions, in source order.
    pub fn children(&self) -> impl DoubleEndedIterator<Item = InstrId> + use<> {
        let pair = match self {
            InstrKind::Seq(l, r) | InstrKind::Par(l, r) | InstrKind::Xor(l, r) => [Some(*l), Some(*r)],
            InstrKind::Match(m) | InstrKind::Mismatch(m) => [Some(m.body), None],
            InstrKind::Fold(f) => [Some(f.body), f.last],
            InstrKind::New { body, .. } => [Some(*body), None],
            InstrKind::Call(_)
            | InstrKind::Ap(_)
            | InstrKind::ApMap(_)
            | InstrKind::Canon(_)
            | InstrKind::Next(_)
            | InstrKind::Never
            | InstrKind::Null
            | InstrKind::Fail(_) => [None, None],
        };
        pair.into_iter().flatten()
    }
}

impl fmt::Display for VarKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VarKind::Scalar => "scalar",
            VarKind::Stream => "stream",
            VarKind::StreamMap => "stream map",
            VarKind::CanonStream => "canon stream",
            VarKind::CanonMap => "canon map",
        })
    }
}
