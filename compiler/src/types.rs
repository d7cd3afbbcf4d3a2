//! The types of the Aqua language (as of reference compiler 0.14) and the relations
//! between them, used by the checker and later by lowering.
//!
//! `accepts(expected, given)` is the one subtyping question the checker asks: may a
//! value of type `given` be used where `expected` is required? The rules are the
//! reference compiler's: numeric widening, literal types that fit several scalars,
//! structural subtyping of data and abilities, arrays/options/streams compatible as
//! inputs, arrows contravariant in their arguments and covariant in their results.
//! `unify` gives the least common supertype (collection literals, `if` branches) and
//! `numeric_result` the type of an arithmetic expression.

use std::collections::BTreeSet;
use std::fmt;
use std::ptr;
use std::rc::Rc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScalarType {
    U8,
    U16,
    U32,
    U64,
    I8,
    I16,
    I32,
    I64,
    F32,
    F64,
    Bool,
    String,
}

impl ScalarType {
    /// Unsigned, then signed, then floats, each from narrow to wide: `unify` takes the
    /// first that fits both sides, which makes it prefer integers and narrow types.
    pub const ALL: [ScalarType; 12] = [
        ScalarType::U8,
        ScalarType::U16,
        ScalarType::U32,
        ScalarType::U64,
        ScalarType::I8,
        ScalarType::I16,
        ScalarType::I32,
        ScalarType::I64,
        ScalarType::F32,
        ScalarType::F64,
        ScalarType::Bool,
        ScalarType::String,
    ];

    /// The scalar a type name denotes (`"u32"`), if it is one.
    pub fn from_name(name: &str) -> Option<ScalarType> {
        ScalarType::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The name as written in Aqua source.
    pub fn name(self) -> &'static str {
        match self {
            ScalarType::U8 => "u8",
            ScalarType::U16 => "u16",
            ScalarType::U32 => "u32",
            ScalarType::U64 => "u64",
            ScalarType::I8 => "i8",
            ScalarType::I16 => "i16",
            ScalarType::I32 => "i32",
            ScalarType::I64 => "i64",
            ScalarType::F32 => "f32",
            ScalarType::F64 => "f64",
            ScalarType::Bool => "bool",
            ScalarType::String => "string",
        }
    }

    pub fn is_integer(self) -> bool {
        self.is_unsigned() || self.is_signed()
    }

    pub fn is_unsigned(self) -> bool {
        matches!(self, ScalarType::U8 | ScalarType::U16 | ScalarType::U32 | ScalarType::U64)
    }

    pub fn is_signed(self) -> bool {
        matches!(self, ScalarType::I8 | ScalarType::I16 | ScalarType::I32 | ScalarType::I64)
    }

    pub fn is_float(self) -> bool {
        matches!(self, ScalarType::F32 | ScalarType::F64)
    }

    pub fn is_numeric(self) -> bool {
        self.is_integer() || self.is_float()
    }

    /// `given` widens to `self`: u8<u16<u32<u64, i8<...<i64, uN < i2N, f32<f64,
    /// 8- and 16-bit integers < f32, integers up to 32 bits < f64.
    fn widens_from(self, given: ScalarType) -> bool {
        use ScalarType::*;
        if self == given {
            return true;
        }
        let bits = |s: ScalarType| match s {
            U8 | I8 => 8,
            U16 | I16 => 16,
            U32 | I32 | F32 => 32,
            U64 | I64 | F64 => 64,
            Bool | String => 0,
        };
        match (self, given) {
            (e, g) if e.is_unsigned() && g.is_unsigned() => bits(g) < bits(e),
            (e, g) if e.is_signed() && g.is_signed() => bits(g) < bits(e),
            (e, g) if e.is_signed() && g.is_unsigned() => bits(g) * 2 <= bits(e),
            (F64, F32) => true,
            (F32, g) => g.is_integer() && bits(g) <= 16,
            (F64, g) => g.is_integer() && bits(g) <= 32,
            _ => false,
        }
    }
}

/// The type of a literal, which fits several scalars: `1` any number type, `-1` any
/// signed or float type, `1.5` floats only; `"s"` and `true` only `string` and `bool`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LiteralKind {
    Unsigned,
    Signed,
    Float,
    String,
    Bool,
}

impl LiteralKind {
    /// May a literal of this kind be used as a value of `scalar`?
    pub fn fits(self, scalar: ScalarType) -> bool {
        match self {
            LiteralKind::Unsigned => scalar.is_numeric(),
            LiteralKind::Signed => scalar.is_signed() || scalar.is_float(),
            LiteralKind::Float => scalar.is_float(),
            LiteralKind::String => scalar == ScalarType::String,
            LiteralKind::Bool => scalar == ScalarType::Bool,
        }
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, LiteralKind::Unsigned | LiteralKind::Signed | LiteralKind::Float)
    }

    /// Among literal kinds: Unsigned < Signed < Float (every `1` is a valid `-1`-kind
    /// value, every `-1` a valid float); strings and booleans only themselves.
    fn widens_from(self, given: LiteralKind) -> bool {
        use LiteralKind::*;
        self == given || matches!((self, given), (Signed | Float, Unsigned) | (Float, Signed))
    }

    /// String and bool literals fit exactly one scalar, so they are the same type as it.
    fn same_as(self, scalar: ScalarType) -> bool {
        matches!((self, scalar), (LiteralKind::String, ScalarType::String) | (LiteralKind::Bool, ScalarType::Bool))
    }
}

/// `data Name:` with its fields in declaration order; names are unique.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StructType {
    pub name: String,
    pub fields: Vec<(String, Type)>,
}

/// `ability Name:` with its fields in declaration order; names are unique.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AbilityType {
    pub name: String,
    /// Data, arrows and nested abilities.
    pub fields: Vec<(String, Type)>,
}

/// `service Name:` with its functions in declaration order; names are unique.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServiceType {
    pub name: String,
    pub functions: Vec<(String, ArrowType)>,
}

/// A function type: `{Ab}string, u32 -> bool, u8`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArrowType {
    /// Abilities taken implicitly: `func f{Ab}(...)`.
    pub abilities: Vec<Type>,
    /// Argument names are kept for messages; they take no part in subtyping.
    pub domain: Vec<(Option<String>, Type)>,
    /// Empty for `-> ()`.
    pub codomain: Vec<Type>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Type {
    Scalar(ScalarType),
    Literal(LiteralKind),
    Array(Box<Type>),
    Option(Box<Type>),
    Stream(Box<Type>),
    /// `%T`: string keys to values of `T`.
    StreamMap(Box<Type>),
    Struct(Rc<StructType>),
    Ability(Rc<AbilityType>),
    Service(Rc<ServiceType>),
    Arrow(Rc<ArrowType>),
    /// `⊤`: every value fits it.
    Top,
    /// `⊥`: fits everywhere; `nil` is `?⊥`. The checker also gives it to expressions
    /// that failed, so that one error is reported once.
    Bottom,
}

impl Type {
    /// A number scalar or a number literal: what arithmetic takes.
    pub fn is_numeric(&self) -> bool {
        match self {
            Type::Scalar(s) => s.is_numeric(),
            Type::Literal(k) => k.is_numeric(),
            _ => false,
        }
    }

    pub fn is_integer(&self) -> bool {
        match self {
            Type::Scalar(s) => s.is_integer(),
            Type::Literal(k) => matches!(k, LiteralKind::Unsigned | LiteralKind::Signed),
            _ => false,
        }
    }

    /// An array, option, stream or stream map: a type with an [`element`](Type::element).
    pub fn is_collection(&self) -> bool {
        self.element().is_some()
    }

    /// The element type of an array, option, stream or stream map (the value type for a map).
    pub fn element(&self) -> Option<&Type> {
        match self {
            Type::Array(t) | Type::Option(t) | Type::Stream(t) | Type::StreamMap(t) => Some(t),
            _ => None,
        }
    }

    /// A stream or stream map: appendable, and passed by reference.
    pub fn is_stream(&self) -> bool {
        matches!(self, Type::Stream(_) | Type::StreamMap(_))
    }

    pub fn is_arrow(&self) -> bool {
        matches!(self, Type::Arrow(_))
    }
}

/// How deeply `t` nests (a scalar is 1, `[]u8` is 2, a data type one more than its
/// deepest field). Computed without recursion, measuring each shared declaration
/// once, so that the checker can refuse types too deep for the recursive walks
/// (printing, dropping) to handle.
pub fn depth(t: &Type) -> usize {
    enum Step<'a> {
        Enter(&'a Type),
        /// Combine the depths of this many children, pushed just before.
        Exit(&'a Type, usize),
    }
    fn children(t: &Type) -> Vec<&Type> {
        match t {
            Type::Array(e) | Type::Option(e) | Type::Stream(e) | Type::StreamMap(e) => vec![&**e],
            Type::Struct(s) => s.fields.iter().map(|(_, f)| f).collect(),
            Type::Ability(a) => a.fields.iter().map(|(_, f)| f).collect(),
            Type::Service(s) => s.functions.iter().flat_map(|(_, f)| arrow_parts(f)).collect(),
            Type::Arrow(a) => arrow_parts(a),
            _ => Vec::new(),
        }
    }
    fn arrow_parts(a: &ArrowType) -> Vec<&Type> {
        a.abilities.iter().chain(a.domain.iter().map(|(_, t)| t)).chain(&a.codomain).collect()
    }
    fn shared(t: &Type) -> Option<*const ()> {
        match t {
            Type::Struct(s) => Some(Rc::as_ptr(s).cast()),
            Type::Ability(a) => Some(Rc::as_ptr(a).cast()),
            Type::Service(s) => Some(Rc::as_ptr(s).cast()),
            Type::Arrow(a) => Some(Rc::as_ptr(a).cast()),
            _ => None,
        }
    }
    let mut measured: std::collections::BTreeMap<*const (), usize> = std::collections::BTreeMap::new();
    let mut results: Vec<usize> = Vec::new();
    let mut steps = vec![Step::Enter(t)];
    while let Some(step) = steps.pop() {
        match step {
            Step::Enter(t) => {
                if let Some(d) = shared(t).and_then(|p| measured.get(&p)) {
                    results.push(*d);
                    continue;
                }
                let kids = children(t);
                steps.push(Step::Exit(t, kids.len()));
                steps.extend(kids.into_iter().map(Step::Enter));
            }
            Step::Exit(t, n) => {
                let d = 1 + results.split_off(results.len().saturating_sub(n)).into_iter().max().unwrap_or(0);
                if let Some(p) = shared(t) {
                    measured.insert(p, d);
                }
                results.push(d);
            }
        }
    }
    results.pop().unwrap_or(1)
}

/// May a value of type `given` be used where `expected` is required?
///
/// Walks both types with a work list rather than recursion, and compares each pair of
/// shared declarations (structs, abilities, services, arrows) once, so that neither a
/// deep type nor a declaration used many times over can exhaust the stack or the clock.
pub fn accepts(expected: &Type, given: &Type) -> bool {
    let mut todo = vec![Goal::Types(Mode::Fits, expected, given)];
    let mut seen = BTreeSet::new();
    while let Some(goal) = todo.pop() {
        let holds = match goal {
            Goal::Types(Mode::Fits, e, g) => fits_step(e, g, &mut todo, &mut seen),
            Goal::Types(Mode::Same, e, g) => same_step(e, g, &mut todo, &mut seen),
            Goal::Arrows(mode, e, g) => arrow_step(mode, e, g, &mut todo, &mut seen),
        };
        if !holds {
            return false;
        }
    }
    true
}

/// What a goal asks of its pair: `Fits` is `accepts(e, g)`; `Same` is
/// `accepts(e, g) && accepts(g, e)`, needed for streams, which are written to.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    Fits,
    Same,
}

/// One pair still to check; `accepts` holds when every goal does.
enum Goal<'a> {
    Types(Mode, &'a Type, &'a Type),
    Arrows(Mode, &'a ArrowType, &'a ArrowType),
}

/// Pairs of declarations (by address) already on the work list.
type Seen = BTreeSet<(Mode, usize, usize)>;

/// Whether a pair of declarations still has to be checked: not when it is one
/// declaration compared with itself (every type accepts itself), nor when it was seen.
fn fresh<E, G>(seen: &mut Seen, mode: Mode, e: &E, g: &G) -> bool {
    let (e, g) = (ptr::from_ref(e).addr(), ptr::from_ref(g).addr());
    e != g && seen.insert((mode, e, g))
}

fn fits_step<'a>(expected: &'a Type, given: &'a Type, todo: &mut Vec<Goal<'a>>, seen: &mut Seen) -> bool {
    match (expected, given) {
        (_, Type::Bottom) | (Type::Top, _) => true,
        (Type::Scalar(e), Type::Scalar(g)) => e.widens_from(*g),
        (Type::Scalar(e), Type::Literal(k)) => k.fits(*e),
        (Type::Literal(e), Type::Literal(g)) => e.widens_from(*g),
        (Type::Literal(k), Type::Scalar(s)) => k.same_as(*s),
        // Arrays, options and streams are all readable as arrays; options also read
        // streams (their first value), but not arrays, which may hold more than one.
        (Type::Array(e), Type::Array(g) | Type::Option(g) | Type::Stream(g)) | (Type::Option(e), Type::Option(g) | Type::Stream(g)) => {
            todo.push(Goal::Types(Mode::Fits, e, g));
            true
        }
        // Streams are passed by reference and written to, so the elements must match
        // both ways; except a stream of literals or of nothing (`*[1, 2]`, `*[]`),
        // which takes the element type of the place it is passed to.
        (Type::Stream(e), Type::Stream(g)) | (Type::StreamMap(e), Type::StreamMap(g)) => {
            let mode = if matches!(**g, Type::Bottom | Type::Literal(_)) { Mode::Fits } else { Mode::Same };
            todo.push(Goal::Types(mode, e, g));
            true
        }
        (Type::Struct(e), Type::Struct(g)) => !fresh(seen, Mode::Fits, &**e, &**g) || push_fields(Mode::Fits, &e.fields, &g.fields, todo),
        (Type::Ability(e), Type::Ability(g)) => !fresh(seen, Mode::Fits, &**e, &**g) || push_fields(Mode::Fits, &e.fields, &g.fields, todo),
        // A service fits an ability whose fields are all arrows it has.
        (Type::Ability(e), Type::Service(g)) => {
            if !fresh(seen, Mode::Fits, &**e, &**g) {
                return true;
            }
            e.fields.iter().all(|(name, et)| match (find(&g.functions, name), et) {
                (Some(gf), Type::Arrow(ef)) => {
                    todo.push(Goal::Arrows(Mode::Fits, ef, gf));
                    true
                }
                (Some(_), Type::Top) => true,
                _ => false,
            })
        }
        (Type::Service(e), Type::Service(g)) => {
            !fresh(seen, Mode::Fits, &**e, &**g) || push_functions(Mode::Fits, &e.functions, &g.functions, todo)
        }
        (Type::Arrow(e), Type::Arrow(g)) => {
            todo.push(Goal::Arrows(Mode::Fits, e, g));
            true
        }
        _ => false,
    }
}

/// Mutual acceptance, decomposed constructor by constructor (a pair of different kinds
/// never accepts both ways, and `Same` of two streams is `Same` of their elements).
fn same_step<'a>(a: &'a Type, b: &'a Type, todo: &mut Vec<Goal<'a>>, seen: &mut Seen) -> bool {
    match (a, b) {
        (Type::Top, Type::Top) | (Type::Bottom, Type::Bottom) => true,
        (Type::Scalar(x), Type::Scalar(y)) => x == y,
        (Type::Literal(x), Type::Literal(y)) => x == y,
        (Type::Scalar(s), Type::Literal(k)) | (Type::Literal(k), Type::Scalar(s)) => k.same_as(*s),
        (Type::Array(x), Type::Array(y))
        | (Type::Option(x), Type::Option(y))
        | (Type::Stream(x), Type::Stream(y))
        | (Type::StreamMap(x), Type::StreamMap(y)) => {
            todo.push(Goal::Types(Mode::Same, x, y));
            true
        }
        (Type::Struct(x), Type::Struct(y)) => {
            !fresh(seen, Mode::Same, &**x, &**y)
                || (x.fields.len() == y.fields.len() && push_fields(Mode::Same, &x.fields, &y.fields, todo))
        }
        (Type::Ability(x), Type::Ability(y)) => {
            !fresh(seen, Mode::Same, &**x, &**y)
                || (x.fields.len() == y.fields.len() && push_fields(Mode::Same, &x.fields, &y.fields, todo))
        }
        (Type::Service(x), Type::Service(y)) => {
            !fresh(seen, Mode::Same, &**x, &**y)
                || (x.functions.len() == y.functions.len() && push_functions(Mode::Same, &x.functions, &y.functions, todo))
        }
        (Type::Arrow(x), Type::Arrow(y)) => {
            todo.push(Goal::Arrows(Mode::Same, x, y));
            true
        }
        _ => false,
    }
}

/// Arguments and abilities contravariant, results covariant, arities equal.
fn arrow_step<'a>(mode: Mode, e: &'a ArrowType, g: &'a ArrowType, todo: &mut Vec<Goal<'a>>, seen: &mut Seen) -> bool {
    if !fresh(seen, mode, e, g) {
        return true;
    }
    if e.domain.len() != g.domain.len() || e.codomain.len() != g.codomain.len() || e.abilities.len() != g.abilities.len() {
        return false;
    }
    let flip = |x: &'a Type, y: &'a Type| if mode == Mode::Fits { Goal::Types(mode, y, x) } else { Goal::Types(mode, x, y) };
    todo.extend(e.domain.iter().zip(&g.domain).map(|((_, et), (_, gt))| flip(et, gt)));
    todo.extend(e.abilities.iter().zip(&g.abilities).map(|(et, gt)| flip(et, gt)));
    todo.extend(e.codomain.iter().zip(&g.codomain).map(|(et, gt)| Goal::Types(mode, et, gt)));
    true
}

/// Structural: every expected field exists in `given`; its pair of types is queued.
fn push_fields<'a>(mode: Mode, expected: &'a [(String, Type)], given: &'a [(String, Type)], todo: &mut Vec<Goal<'a>>) -> bool {
    expected.iter().all(|(name, et)| match find(given, name) {
        Some(gt) => {
            todo.push(Goal::Types(mode, et, gt));
            true
        }
        None => false,
    })
}

fn push_functions<'a>(mode: Mode, expected: &'a [(String, ArrowType)], given: &'a [(String, ArrowType)], todo: &mut Vec<Goal<'a>>) -> bool {
    expected.iter().all(|(name, ef)| match find(given, name) {
        Some(gf) => {
            todo.push(Goal::Arrows(mode, ef, gf));
            true
        }
        None => false,
    })
}

fn find<'a, T>(members: &'a [(String, T)], name: &str) -> Option<&'a T> {
    members.iter().find(|(n, _)| n == name).map(|(_, t)| t)
}

/// The least type both `a` and `b` fit, for the elements of a collection literal
/// `[a, b]` and the results of `if` branches; `None` when there is none (`u64` and
/// `i8` share no integer type). Between numbers with several incomparable common
/// types (`u32` and `i16`: `i64` or `f64`) the integer one is chosen.
pub fn unify(a: &Type, b: &Type) -> Option<Type> {
    if accepts(a, b) {
        return Some(a.clone());
    }
    if accepts(b, a) {
        return Some(b.clone());
    }
    let array = |x: &Type, y: &Type| unify(x, y).map(|t| Type::Array(Box::new(t)));
    let option = |x: &Type, y: &Type| unify(x, y).map(|t| Type::Option(Box::new(t)));
    match (a, b) {
        (Type::Scalar(_) | Type::Literal(_), Type::Scalar(_) | Type::Literal(_)) => {
            ScalarType::ALL.into_iter().map(Type::Scalar).find(|s| accepts(s, a) && accepts(s, b))
        }
        (Type::Array(x), Type::Array(y) | Type::Option(y) | Type::Stream(y)) | (Type::Option(x) | Type::Stream(x), Type::Array(y)) => {
            array(x, y)
        }
        (Type::Option(x), Type::Option(y) | Type::Stream(y)) | (Type::Stream(x), Type::Option(y)) => option(x, y),
        // One declaration; `accepts` fails only when a field failed to resolve.
        (Type::Struct(x), Type::Struct(y)) if x.name == y.name => Some(a.clone()),
        _ => None,
    }
}

/// The result type of `a + b` (and `-`, `*`, `/`, `%`, `**`): the least number type
/// both operands fit, as [`unify`] finds it. Two literals give a literal type (the
/// expression is folded later); a literal and a scalar give the scalar.
///
/// `None` means "unknown": either an operand is not a number (the checker reports that
/// mismatch itself) or no number type holds both (`u64 + i64`), for which the checker
/// warns "Result type of ... is unknown, using i64 instead", as the reference does.
pub fn numeric_result(a: &Type, b: &Type) -> Option<Type> {
    if !a.is_numeric() || !b.is_numeric() {
        return None;
    }
    unify(a, b)
}

/// One line, worded for users, saying why `given` does not fit `expected`; meant for
/// the hint of a type mismatch, and only meaningful when `!accepts(expected, given)`.
pub fn describe_mismatch(expected: &Type, given: &Type) -> String {
    let generic = format!("`{given}` does not fit `{expected}`");
    match (expected, given) {
        (Type::Struct(e), Type::Struct(g)) => describe_fields(expected, given, &e.fields, &g.fields).unwrap_or(generic),
        (Type::Ability(e), Type::Ability(g)) => describe_fields(expected, given, &e.fields, &g.fields).unwrap_or(generic),
        (Type::Ability(e), Type::Service(g)) => {
            for (name, et) in &e.fields {
                match (et, find(&g.functions, name)) {
                    (Type::Arrow(_) | Type::Top, None) => {
                        return format!("`{given}` has no function `{name}`, which `{expected}` requires");
                    }
                    (Type::Arrow(ef), Some(gf)) if !accepts(et, &Type::Arrow(Rc::new(gf.clone()))) => {
                        return format!("function `{name}`: `{gf}` does not fit `{ef}`");
                    }
                    (Type::Arrow(_) | Type::Top, Some(_)) => {}
                    _ => return format!("`{expected}` has a field `{name}` of type `{et}`; a service provides only functions"),
                }
            }
            generic
        }
        (Type::Scalar(e), Type::Scalar(g)) if e.is_numeric() && g.is_numeric() => {
            format!("{generic}: it may hold values that `{e}` cannot", e = e.name())
        }
        (Type::Scalar(e), Type::Literal(LiteralKind::Signed)) if e.is_unsigned() => {
            format!("a negative number does not fit `{}`", e.name())
        }
        (Type::Scalar(e), Type::Literal(LiteralKind::Float)) if e.is_integer() => {
            format!("a floating-point number does not fit `{}`", e.name())
        }
        (Type::Scalar(e), Type::Literal(k)) if k.is_numeric() => format!("a number does not fit `{}`", e.name()),
        (Type::Stream(_) | Type::StreamMap(_), g) if !g.is_stream() => {
            format!("{generic}: only a stream can be passed where one is appended to")
        }
        (Type::Stream(_), Type::Stream(_)) | (Type::StreamMap(_), Type::StreamMap(_)) => {
            format!("{generic}: a stream is passed by reference, so its element type must be the same")
        }
        (Type::Option(_), Type::Array(_)) => format!("{generic}: an array may hold more than one value"),
        (Type::Array(e), Type::Array(g) | Type::Option(g) | Type::Stream(g)) | (Type::Option(e), Type::Option(g) | Type::Stream(g))
            if !accepts(e, g) =>
        {
            format!("in the elements, {}", describe_mismatch(e, g))
        }
        (Type::Arrow(e), Type::Arrow(g)) => describe_arrows(e, g).unwrap_or(generic),
        _ => generic,
    }
}

/// The first expected field that is missing or does not fit.
fn describe_fields(expected: &Type, given: &Type, ef: &[(String, Type)], gf: &[(String, Type)]) -> Option<String> {
    ef.iter().find_map(|(name, et)| match find(gf, name) {
        None => Some(format!("`{given}` has no field `{name}`, which `{expected}` requires")),
        Some(gt) if !accepts(et, gt) => Some(format!("field `{name}`: {}", describe_mismatch(et, gt))),
        Some(_) => None,
    })
}

/// The first difference between two arrows: arity, then an argument, ability or result.
fn describe_arrows(e: &ArrowType, g: &ArrowType) -> Option<String> {
    let count = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let arity = |verb: &str, given: usize, expected: usize, one: &str, many: &str| {
        Some(format!("`{g}` {verb} {} where {} expected", count(given, one, many), count(expected, "is", "are")))
    };
    if e.domain.len() != g.domain.len() {
        return arity("takes", g.domain.len(), e.domain.len(), "argument", "arguments");
    }
    if e.codomain.len() != g.codomain.len() {
        return arity("returns", g.codomain.len(), e.codomain.len(), "value", "values");
    }
    if e.abilities.len() != g.abilities.len() {
        return arity("takes", g.abilities.len(), e.abilities.len(), "ability", "abilities");
    }
    let arguments = e.domain.iter().zip(&g.domain).map(|((_, et), (_, gt))| (et, gt));
    for (i, (et, gt)) in arguments.enumerate() {
        if !accepts(gt, et) {
            return Some(format!("argument {}: the function takes `{gt}`, which cannot receive every `{et}`", i + 1));
        }
    }
    for (i, (et, gt)) in e.abilities.iter().zip(&g.abilities).enumerate() {
        if !accepts(gt, et) {
            return Some(format!("ability {}: the function needs `{gt}`, which `{et}` does not provide", i + 1));
        }
    }
    for (i, (et, gt)) in e.codomain.iter().zip(&g.codomain).enumerate() {
        if !accepts(et, gt) {
            return Some(format!("result {}: {}", i + 1, describe_mismatch(et, gt)));
        }
    }
    None
}

impl fmt::Display for ScalarType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for LiteralKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LiteralKind::Unsigned => "unsigned literal",
            LiteralKind::Signed => "signed literal",
            LiteralKind::Float => "float literal",
            LiteralKind::String => "string",
            LiteralKind::Bool => "bool",
        })
    }
}

/// Aqua syntax as a user writes it: `[]?User`, `string, u32 -> bool`, `*(u8 -> ())`.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Scalar(s) => write!(f, "{s}"),
            Type::Literal(k) => write!(f, "{k}"),
            Type::Array(t) => write!(f, "[]{}", Nested(t)),
            Type::Option(t) => write!(f, "?{}", Nested(t)),
            Type::Stream(t) => write!(f, "*{}", Nested(t)),
            Type::StreamMap(t) => write!(f, "%{}", Nested(t)),
            Type::Struct(s) => f.write_str(&s.name),
            Type::Ability(a) => f.write_str(&a.name),
            Type::Service(s) => f.write_str(&s.name),
            Type::Arrow(a) => write!(f, "{a}"),
            Type::Top => f.write_str("⊤"),
            Type::Bottom => f.write_str("⊥"),
        }
    }
}

/// An arrow inside a collection, an argument list or a result list is parenthesised.
struct Nested<'a>(&'a Type);

impl fmt::Display for Nested<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Type::Arrow(a) => write!(f, "({a})"),
            t => write!(f, "{t}"),
        }
    }
}

/// `{Ab}string, u32 -> bool`, `-> ()`; no space after `}`, as the reference parser requires.
impl fmt::Display for ArrowType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.abilities.is_empty() {
            let names: Vec<String> = self.abilities.iter().map(ToString::to_string).collect();
            write!(f, "{{{}}}", names.join(", "))?;
        }
        let args: Vec<String> = self.domain.iter().map(|(_, t)| Nested(t).to_string()).collect();
        if !args.is_empty() {
            write!(f, "{} ", args.join(", "))?;
        }
        if self.codomain.is_empty() {
            return f.write_str("-> ()");
        }
        let results: Vec<String> = self.codomain.iter().map(|t| Nested(t).to_string()).collect();
        write!(f, "-> {}", results.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_counts_nesting_and_shares_declarations() {
        assert_eq!(depth(&Type::Scalar(U8)), 1);
        let arr = Type::Array(Box::new(Type::Option(Box::new(Type::Scalar(U8)))));
        assert_eq!(depth(&arr), 3);
        let mut t = Type::Scalar(U8);
        for i in 0..60 {
            // Each level uses the one below twice: 2^60 paths, 61 levels.
            t = Type::Struct(Rc::new(StructType { name: format!("S{i}"), fields: vec![("a".into(), t.clone()), ("b".into(), t)] }));
        }
        assert_eq!(depth(&t), 61);
    }
    use ScalarType::{Bool, F32, F64, I8, I16, I32, I64, String as Str, U8, U16, U32, U64};

    const NUMBERS: [ScalarType; 10] = [U8, U16, U32, U64, I8, I16, I32, I64, F32, F64];

    fn s(t: ScalarType) -> Type {
        Type::Scalar(t)
    }

    fn lit(k: LiteralKind) -> Type {
        Type::Literal(k)
    }

    fn array(t: Type) -> Type {
        Type::Array(Box::new(t))
    }

    fn option(t: Type) -> Type {
        Type::Option(Box::new(t))
    }

    fn stream(t: Type) -> Type {
        Type::Stream(Box::new(t))
    }

    fn map(t: Type) -> Type {
        Type::StreamMap(Box::new(t))
    }

    fn nil() -> Type {
        option(Type::Bottom)
    }

    fn fields(fields: &[(&str, Type)]) -> Vec<(String, Type)> {
        fields.iter().map(|(n, t)| (n.to_string(), t.clone())).collect()
    }

    fn strukt(name: &str, f: &[(&str, Type)]) -> Type {
        Type::Struct(Rc::new(StructType { name: name.into(), fields: fields(f) }))
    }

    fn ability(name: &str, f: &[(&str, Type)]) -> Type {
        Type::Ability(Rc::new(AbilityType { name: name.into(), fields: fields(f) }))
    }

    fn arrow_type(abilities: &[Type], domain: &[Type], codomain: &[Type]) -> ArrowType {
        ArrowType { abilities: abilities.to_vec(), domain: domain.iter().map(|t| (None, t.clone())).collect(), codomain: codomain.to_vec() }
    }

    fn arrow(domain: &[Type], codomain: &[Type]) -> Type {
        Type::Arrow(Rc::new(arrow_type(&[], domain, codomain)))
    }

    fn service(name: &str, functions: &[(&str, ArrowType)]) -> Type {
        Type::Service(Rc::new(ServiceType {
            name: name.into(),
            functions: functions.iter().map(|(n, a)| (n.to_string(), a.clone())).collect(),
        }))
    }

    /// Checks every row and reports all wrong ones at once.
    fn check_table(rows: &[(Type, Type, bool)]) {
        let wrong: Vec<String> = rows
            .iter()
            .filter(|(e, g, want)| accepts(e, g) != *want)
            .map(|(e, g, want)| format!("accepts(`{e}`, `{g}`) should be {want}"))
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn scalar_names_round_trip() {
        for scalar in ScalarType::ALL {
            assert_eq!(ScalarType::from_name(scalar.name()), Some(scalar));
        }
        assert_eq!(ScalarType::from_name("u32"), Some(U32));
        assert_eq!(ScalarType::from_name("int"), None);
        assert_eq!(ScalarType::from_name("U32"), None);
    }

    /// The full 10×10 table of number types against the reference's widening, written
    /// out per given type, so every pair not listed must be rejected.
    #[test]
    fn numeric_widening_follows_the_reference() {
        let widens_to: [(ScalarType, &[ScalarType]); 10] = [
            (U8, &[U8, U16, U32, U64, I16, I32, I64, F32, F64]),
            (U16, &[U16, U32, U64, I32, I64, F32, F64]),
            (U32, &[U32, U64, I64, F64]),
            (U64, &[U64]),
            (I8, &[I8, I16, I32, I64, F32, F64]),
            (I16, &[I16, I32, I64, F32, F64]),
            (I32, &[I32, I64, F64]),
            (I64, &[I64]),
            (F32, &[F32, F64]),
            (F64, &[F64]),
        ];
        let mut rows = vec![];
        for (given, targets) in widens_to {
            for expected in ScalarType::ALL {
                rows.push((s(expected), s(given), targets.contains(&expected)));
            }
        }
        for other in [Str, Bool] {
            for expected in ScalarType::ALL {
                rows.push((s(expected), s(other), expected == other));
            }
        }
        check_table(&rows);
        // The negatives the reference is easy to misread on.
        check_table(&[
            (s(I64), s(U64), false),
            (s(U8), s(I8), false),
            (s(F32), s(F64), false),
            (s(F64), s(I64), false),
            (s(F32), s(U32), false),
            (s(F32), s(I32), false),
            (s(I16), s(U16), false),
        ]);
    }

    #[test]
    fn literals_fit_the_scalars_of_their_kind() {
        use LiteralKind as L;
        let fits: [(LiteralKind, &[ScalarType]); 5] = [
            (L::Unsigned, &NUMBERS),
            (L::Signed, &[I8, I16, I32, I64, F32, F64]),
            (L::Float, &[F32, F64]),
            (L::String, &[Str]),
            (L::Bool, &[Bool]),
        ];
        let mut rows = vec![];
        for (kind, targets) in fits {
            for expected in ScalarType::ALL {
                rows.push((s(expected), lit(kind), targets.contains(&expected)));
            }
        }
        check_table(&rows);
    }

    #[test]
    fn literal_kinds_among_themselves() {
        use LiteralKind as L;
        let below = [(L::Signed, L::Unsigned), (L::Float, L::Unsigned), (L::Float, L::Signed)];
        let kinds = [L::Unsigned, L::Signed, L::Float, L::String, L::Bool];
        let mut rows = vec![];
        for e in kinds {
            for g in kinds {
                rows.push((lit(e), lit(g), e == g || below.contains(&(e, g))));
            }
        }
        // A string or bool literal is that scalar; a number literal is not any one number.
        rows.extend([
            (lit(L::String), s(Str), true),
            (lit(L::Bool), s(Bool), true),
            (lit(L::Unsigned), s(U8), false),
            (lit(L::Float), s(F64), false),
            (lit(L::String), s(Bool), false),
        ]);
        check_table(&rows);
    }

    #[test]
    fn collections_are_compatible_as_inputs() {
        check_table(&[
            // `[]T` reads arrays, options and streams, covariant in the element.
            (array(s(U32)), array(s(U8)), true),
            (array(s(U32)), option(s(U8)), true),
            (array(s(U32)), stream(s(U8)), true),
            (array(s(U8)), array(s(U32)), false),
            (array(s(U8)), stream(s(U32)), false),
            (array(s(U8)), map(s(U8)), false),
            (array(s(U8)), s(U8), false),
            // `?T` reads options and streams, not arrays.
            (option(s(U32)), option(s(U8)), true),
            (option(s(Str)), stream(s(Str)), true),
            (option(s(U32)), array(s(U8)), false),
            (option(s(U8)), option(s(U32)), false),
            // `*T` is written to: only a stream of the same element type.
            (stream(s(U32)), stream(s(U32)), true),
            (stream(s(U32)), stream(s(U8)), false),
            (stream(s(U8)), stream(s(U32)), false),
            (stream(s(U8)), array(s(U8)), false),
            (stream(s(U8)), option(s(U8)), false),
            (stream(array(s(U32))), stream(array(s(U8))), false),
            (stream(strukt("A", &[("x", s(U8))])), stream(strukt("B", &[("x", s(U8))])), true),
            (stream(strukt("A", &[("x", s(U8))])), stream(strukt("B", &[("x", s(U8)), ("y", s(U8))])), false),
            // ... except a stream literal of literals or of nothing: `*[1, 2]`, `*[]`.
            (stream(s(U32)), stream(lit(LiteralKind::Unsigned)), true),
            (stream(s(U32)), stream(lit(LiteralKind::Signed)), false),
            (stream(s(U32)), stream(Type::Bottom), true),
            // `%T` like `*T`.
            (map(s(U32)), map(s(U32)), true),
            (map(s(U32)), map(s(U8)), false),
            (map(s(U32)), stream(s(U32)), false),
            // Nested.
            (array(array(s(U32))), array(option(s(U8))), true),
            (array(option(s(U8))), array(array(s(U8))), false),
        ]);
    }

    #[test]
    fn top_bottom_and_nil() {
        let user = strukt("User", &[("name", s(Str))]);
        let f = arrow(&[s(U8)], &[]);
        check_table(&[
            (Type::Top, s(U8), true),
            (Type::Top, user.clone(), true),
            (Type::Top, f.clone(), true),
            (Type::Top, Type::Bottom, true),
            (Type::Top, Type::Top, true),
            (s(U8), Type::Top, false),
            (array(Type::Top), array(s(U8)), true),
            (s(U8), Type::Bottom, true),
            (user.clone(), Type::Bottom, true),
            (f.clone(), Type::Bottom, true),
            (stream(s(U8)), Type::Bottom, true),
            (Type::Bottom, s(U8), false),
            (Type::Bottom, Type::Bottom, true),
            (option(s(U8)), nil(), true),
            (array(user.clone()), nil(), true),
            (option(option(s(U8))), nil(), true),
            (s(U8), nil(), false),
            (stream(s(U8)), nil(), false),
        ]);
    }

    #[test]
    fn structs_are_structural() {
        let small = strukt("A", &[("name", s(Str))]);
        let big = strukt("B", &[("name", s(Str)), ("age", s(U8))]);
        let wrong = strukt("C", &[("name", s(U8))]);
        let wide = strukt("D", &[("name", s(Str)), ("age", s(U64))]);
        check_table(&[
            (small.clone(), big.clone(), true),
            (big.clone(), small.clone(), false),
            (small.clone(), wrong.clone(), false),
            (wide.clone(), big.clone(), true),
            (big.clone(), wide.clone(), false),
            (strukt("Outer", &[("inner", small.clone())]), strukt("Other", &[("inner", big.clone()), ("x", s(Bool))]), true),
            (strukt("Outer", &[("inner", big.clone())]), strukt("Other", &[("inner", small.clone())]), false),
            (small.clone(), ability("A", &[("name", s(Str))]), false),
        ]);
        assert_eq!(describe_mismatch(&big, &small), "`A` has no field `age`, which `B` requires");
        assert_eq!(describe_mismatch(&small, &wrong), "field `name`: `u8` does not fit `string`");
        let nested = describe_mismatch(&strukt("Outer", &[("inner", big.clone())]), &strukt("Other", &[("inner", wide)]));
        assert_eq!(nested, "field `inner`: field `age`: `u64` does not fit `u8`: it may hold values that `u8` cannot");
    }

    #[test]
    fn abilities_are_structural_and_services_fit_them() {
        let greet = arrow_type(&[], &[s(Str)], &[s(Str)]);
        let srv = service("Srv", &[("greet", greet.clone()), ("other", arrow_type(&[], &[], &[]))]);
        let wants_greet = ability("Ab", &[("greet", Type::Arrow(Rc::new(greet.clone())))]);
        let wants_wide_greet = ability("Ab", &[("greet", arrow(&[s(Str)], &[Type::Top]))]);
        let wants_bad_greet = ability("Ab", &[("greet", arrow(&[s(Str)], &[s(U8)]))]);
        let wants_data = ability("Ab", &[("greet", Type::Arrow(Rc::new(greet.clone()))), ("prefix", s(Str))]);
        let wants_missing = ability("Ab", &[("bye", Type::Arrow(Rc::new(greet.clone())))]);
        let inner = ability("Inner", &[("n", s(U8))]);
        let outer = ability("Outer", &[("inner", inner.clone())]);
        check_table(&[
            (wants_greet.clone(), srv.clone(), true),
            (wants_wide_greet.clone(), srv.clone(), true),
            (wants_bad_greet, srv.clone(), false),
            (wants_data.clone(), srv.clone(), false),
            (wants_missing.clone(), srv.clone(), false),
            (srv.clone(), wants_greet.clone(), false),
            (srv.clone(), srv.clone(), true),
            (service("Small", &[("greet", greet.clone())]), srv.clone(), true),
            (srv.clone(), service("Small", &[("greet", greet.clone())]), false),
            (wants_greet.clone(), wants_data.clone(), true),
            (wants_data.clone(), wants_greet.clone(), false),
            (outer.clone(), ability("Outer2", &[("inner", ability("Inner2", &[("n", s(U8)), ("m", s(U8))]))]), true),
            (outer, ability("Outer2", &[("inner", ability("Inner2", &[("n", s(Str))]))]), false),
        ]);
        assert_eq!(describe_mismatch(&wants_missing, &srv), "`Srv` has no function `bye`, which `Ab` requires");
        assert_eq!(describe_mismatch(&wants_data, &srv), "`Ab` has a field `prefix` of type `string`; a service provides only functions");
    }

    #[test]
    fn arrows_are_contravariant_in_arguments_and_covariant_in_results() {
        let ab_small = ability("Small", &[("x", s(U8))]);
        let ab_big = ability("Big", &[("x", s(U8)), ("y", s(U8))]);
        let with_ability = |ab: &Type| Type::Arrow(Rc::new(arrow_type(std::slice::from_ref(ab), &[], &[])));
        check_table(&[
            // Expected `u8 -> ()`: a function taking any `u64` can take every `u8`.
            (arrow(&[s(U8)], &[]), arrow(&[s(U64)], &[]), true),
            (arrow(&[s(U64)], &[]), arrow(&[s(U8)], &[]), false),
            // Expected `-> u64`: a function giving `u8` gives a `u64`.
            (arrow(&[], &[s(U64)]), arrow(&[], &[s(U8)]), true),
            (arrow(&[], &[s(U8)]), arrow(&[], &[s(U64)]), false),
            // Both at once, and a struct argument.
            (arrow(&[s(U8)], &[s(U64)]), arrow(&[s(U64)], &[s(U8)]), true),
            (arrow(&[strukt("B", &[("a", s(U8)), ("b", s(U8))])], &[]), arrow(&[strukt("A", &[("a", s(U8))])], &[]), true),
            (arrow(&[strukt("A", &[("a", s(U8))])], &[]), arrow(&[strukt("B", &[("a", s(U8)), ("b", s(U8))])], &[]), false),
            // Arities must match.
            (arrow(&[], &[]), arrow(&[s(U8)], &[]), false),
            (arrow(&[s(U8)], &[]), arrow(&[], &[]), false),
            (arrow(&[], &[]), arrow(&[], &[s(U8)]), false),
            (arrow(&[], &[s(U8), s(U8)]), arrow(&[], &[s(U8)]), false),
            // Abilities are inputs too: a function needing less fits.
            (with_ability(&ab_big), with_ability(&ab_small), true),
            (with_ability(&ab_small), with_ability(&ab_big), false),
            (arrow(&[], &[]), with_ability(&ab_small), false),
            // Higher order: an argument that is itself an arrow flips twice.
            (arrow(&[arrow(&[s(U64)], &[])], &[]), arrow(&[arrow(&[s(U8)], &[])], &[]), true),
            (arrow(&[arrow(&[s(U8)], &[])], &[]), arrow(&[arrow(&[s(U64)], &[])], &[]), false),
            (arrow(&[], &[]), s(U8), false),
        ]);
    }

    #[test]
    fn streams_of_arrows_compare_both_ways() {
        let f = |d: ScalarType| stream(arrow(&[s(d)], &[]));
        check_table(&[(f(U8), f(U8), true), (f(U8), f(U64), false), (f(U64), f(U8), false)]);
    }

    /// 40 levels of structs with two fields of the level below, declared twice: a walk
    /// per path would take 2^40 steps; comparing each pair of declarations once is quick.
    #[test]
    fn shared_declarations_are_compared_once() {
        let chain = |prefix: &str| {
            let mut t = s(U8);
            for i in 0..40 {
                t = strukt(&format!("{prefix}{i}"), &[("a", t.clone()), ("b", t)]);
            }
            t
        };
        let (x, y) = (chain("X"), chain("Y"));
        assert!(accepts(&x, &y));
        assert!(accepts(&stream(x.clone()), &stream(y.clone())));
        let mut z = chain("Z");
        z = strukt("Top", &[("a", z), ("b", s(Str))]);
        assert!(!accepts(&strukt("Top", &[("a", x.clone()), ("b", s(U8))]), &z));
    }

    #[test]
    fn unify_finds_the_least_common_type() {
        use LiteralKind as L;
        let user = strukt("User", &[("name", s(Str))]);
        let cases = [
            (s(U8), s(U16), Some(s(U16))),
            (s(U16), s(U8), Some(s(U16))),
            (s(U32), s(I8), Some(s(I64))),
            (s(U16), s(I8), Some(s(I32))),
            (s(U8), s(I8), Some(s(I16))),
            (s(U64), s(I8), None),
            (s(I64), s(F32), None),
            (s(I32), s(F32), Some(s(F64))),
            (s(U8), s(F32), Some(s(F32))),
            (s(Str), s(U8), None),
            (s(Bool), s(Str), None),
            (lit(L::Unsigned), s(U8), Some(s(U8))),
            (lit(L::Signed), s(U8), Some(s(I16))),
            (lit(L::Float), s(U32), Some(s(F64))),
            (lit(L::Signed), s(U64), None),
            (lit(L::Unsigned), lit(L::Signed), Some(lit(L::Signed))),
            (lit(L::Unsigned), lit(L::Unsigned), Some(lit(L::Unsigned))),
            (lit(L::String), s(Str), Some(lit(L::String))),
            (lit(L::String), lit(L::Bool), None),
            (Type::Bottom, s(Str), Some(s(Str))),
            (s(Str), Type::Bottom, Some(s(Str))),
            (nil(), option(s(U8)), Some(option(s(U8)))),
            (array(s(U8)), array(s(U16)), Some(array(s(U16)))),
            (array(s(U8)), option(s(U16)), Some(array(s(U16)))),
            (option(s(U16)), array(s(U8)), Some(array(s(U16)))),
            (option(s(U8)), stream(s(U16)), Some(option(s(U16)))),
            (array(s(U64)), array(s(I8)), None),
            (stream(s(U8)), stream(s(U16)), None),
            (user.clone(), user.clone(), Some(user.clone())),
            (user.clone(), strukt("Other", &[("id", s(U8))]), None),
            (s(U8), Type::Top, Some(Type::Top)),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter(|(a, b, want)| unify(a, b) != *want)
            .map(|(a, b, want)| format!("unify(`{a}`, `{b}`) = {:?}, want {want:?}", unify(a, b)))
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn numeric_result_is_the_widest_operand() {
        use LiteralKind as L;
        assert_eq!(numeric_result(&lit(L::Unsigned), &lit(L::Unsigned)), Some(lit(L::Unsigned)));
        assert_eq!(numeric_result(&s(U8), &lit(L::Unsigned)), Some(s(U8)));
        assert_eq!(numeric_result(&s(U32), &s(I32)), Some(s(I64)));
        assert_eq!(numeric_result(&s(U32), &s(U8)), Some(s(U32)));
        assert_eq!(numeric_result(&s(F32), &lit(L::Signed)), Some(s(F32)));
        assert_eq!(numeric_result(&s(U64), &s(I64)), None);
        assert_eq!(numeric_result(&s(Str), &s(U8)), None);
        assert_eq!(numeric_result(&lit(L::String), &lit(L::String)), None);
        assert_eq!(numeric_result(&s(Bool), &s(Bool)), None);
        assert_eq!(numeric_result(&Type::Bottom, &s(U8)), None);
    }

    #[test]
    fn type_predicates() {
        use LiteralKind as L;
        assert!(s(U8).is_numeric() && s(F64).is_numeric() && lit(L::Float).is_numeric());
        assert!(!s(Str).is_numeric() && !lit(L::String).is_numeric() && !lit(L::Bool).is_numeric());
        assert!(s(I8).is_integer() && lit(L::Signed).is_integer());
        assert!(!s(F32).is_integer() && !lit(L::Float).is_integer() && !lit(L::Bool).is_integer());
        for t in [array(s(U8)), option(s(U8)), stream(s(U8)), map(s(U8))] {
            assert!(t.is_collection(), "{t}");
            assert_eq!(t.element(), Some(&s(U8)), "{t}");
        }
        assert!(!s(U8).is_collection() && s(U8).element().is_none() && Type::Bottom.element().is_none());
        assert!(stream(s(U8)).is_stream() && map(s(U8)).is_stream());
        assert!(!array(s(U8)).is_stream() && !option(s(U8)).is_stream());
        assert!(arrow(&[], &[]).is_arrow() && !service("S", &[]).is_arrow() && !s(U8).is_arrow());
    }

    #[test]
    fn types_print_as_written() {
        let user = strukt("User", &[]);
        let cases = [
            (s(U32), "u32"),
            (array(s(Str)), "[]string"),
            (option(s(U8)), "?u8"),
            (stream(user.clone()), "*User"),
            (map(s(U64)), "%u64"),
            (array(array(option(user.clone()))), "[][]?User"),
            (ability("Ab", &[]), "Ab"),
            (service("Srv", &[]), "Srv"),
            (arrow(&[s(Str), s(U32)], &[s(Bool)]), "string, u32 -> bool"),
            (arrow(&[], &[]), "-> ()"),
            (arrow(&[s(Str)], &[]), "string -> ()"),
            (arrow(&[], &[s(Str), s(U8)]), "-> string, u8"),
            (Type::Arrow(Rc::new(arrow_type(&[ability("Ab", &[])], &[s(Str)], &[s(U32)]))), "{Ab}string -> u32"),
            (Type::Arrow(Rc::new(arrow_type(&[ability("A", &[]), ability("B", &[])], &[], &[]))), "{A, B}-> ()"),
            (arrow(&[arrow(&[s(U8)], &[]), array(s(U8))], &[arrow(&[], &[s(U8)])]), "(u8 -> ()), []u8 -> (-> u8)"),
            (stream(arrow(&[s(U8)], &[])), "*(u8 -> ())"),
            (Type::Top, "⊤"),
            (Type::Bottom, "⊥"),
            (nil(), "?⊥"),
            (lit(LiteralKind::Unsigned), "unsigned literal"),
            (lit(LiteralKind::Signed), "signed literal"),
            (lit(LiteralKind::Float), "float literal"),
            (lit(LiteralKind::String), "string"),
            (lit(LiteralKind::Bool), "bool"),
            (array(lit(LiteralKind::Unsigned)), "[]unsigned literal"),
        ];
        for (t, want) in cases {
            assert_eq!(t.to_string(), want, "{t:?}");
        }
    }

    #[test]
    fn mismatches_are_described_for_users() {
        use LiteralKind as L;
        let cases = [
            (s(U32), s(Str), "`string` does not fit `u32`"),
            (s(Str), option(s(Str)), "`?string` does not fit `string`"),
            (s(I64), s(U64), "`u64` does not fit `i64`: it may hold values that `i64` cannot"),
            (s(U8), lit(L::Signed), "a negative number does not fit `u8`"),
            (s(U32), lit(L::Float), "a floating-point number does not fit `u32`"),
            (s(Str), lit(L::Unsigned), "a number does not fit `string`"),
            (stream(s(U8)), array(s(U8)), "`[]u8` does not fit `*u8`: only a stream can be passed where one is appended to"),
            (
                stream(s(U32)),
                stream(s(U8)),
                "`*u8` does not fit `*u32`: a stream is passed by reference, so its element type must be the same",
            ),
            (option(s(U8)), array(s(U8)), "`[]u8` does not fit `?u8`: an array may hold more than one value"),
            (array(array(s(U32))), array(option(s(Str))), "in the elements, in the elements, `string` does not fit `u32`"),
            (arrow(&[], &[]), arrow(&[s(U8)], &[]), "`u8 -> ()` takes 1 argument where 0 are expected"),
            (arrow(&[], &[s(U8)]), arrow(&[], &[]), "`-> ()` returns 0 values where 1 is expected"),
            (arrow(&[s(U64)], &[]), arrow(&[s(U8)], &[]), "argument 1: the function takes `u8`, which cannot receive every `u64`"),
            (arrow(&[], &[s(U8)]), arrow(&[], &[s(Str)]), "result 1: `string` does not fit `u8`"),
        ];
        for (expected, given, want) in cases {
            assert!(!accepts(&expected, &given), "`{given}` fits `{expected}`");
            assert_eq!(describe_mismatch(&expected, &given), want);
        }
    }
}
