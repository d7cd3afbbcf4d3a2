//! The types of the Aqua language and the relation between them.
//!
//! `accepts(expected, given)` is the one subtyping question the checker asks: may a
//! value of type `given` be used where `expected` is required? The rules are the
//! reference compiler's: numeric widening, structural subtyping of data and abilities,
//! arrays/options/streams compatible as inputs, arrows contravariant in their arguments.

use std::fmt;
use std::rc::Rc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

    pub fn from_name(name: &str) -> Option<ScalarType> {
        ScalarType::ALL.into_iter().find(|s| s.name() == name)
    }

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

    /// `given` widens to `self`: u8<u16<u32<u64, i8<...<i64, uN < i2N, f32<f64,
    /// 8- and 16-bit integers < f32, 32-bit integers < f64.
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

/// The type of a literal: `1` fits any number type, `-1` any signed or float type,
/// `1.5` floats only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LiteralKind {
    Unsigned,
    Signed,
    Float,
}

impl LiteralKind {
    fn fits(self, s: ScalarType) -> bool {
        match self {
            LiteralKind::Unsigned => s.is_integer() || s.is_float(),
            LiteralKind::Signed => s.is_signed() || s.is_float(),
            LiteralKind::Float => s.is_float(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructType {
    pub name: String,
    pub fields: Vec<(String, Type)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AbilityType {
    pub name: String,
    /// Data, arrows and nested abilities.
    pub fields: Vec<(String, Type)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceType {
    pub name: String,
    pub functions: Vec<(String, ArrowType)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrowType {
    /// Abilities taken implicitly: `func f{Ab}(...)`.
    pub abilities: Vec<Type>,
    pub domain: Vec<(Option<String>, Type)>,
    pub codomain: Vec<Type>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    Scalar(ScalarType),
    Literal(LiteralKind),
    Array(Box<Type>),
    Option(Box<Type>),
    Stream(Box<Type>),
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
    pub fn is_numeric(&self) -> bool {
        match self {
            Type::Scalar(s) => s.is_integer() || s.is_float(),
            Type::Literal(_) => true,
            _ => false,
        }
    }

    pub fn is_integer(&self) -> bool {
        match self {
            Type::Scalar(s) => s.is_integer(),
            Type::Literal(k) => *k != LiteralKind::Float,
            _ => false,
        }
    }

    /// The element type of an array, option, stream or stream map.
    pub fn element(&self) -> Option<&Type> {
        match self {
            Type::Array(t) | Type::Option(t) | Type::Stream(t) | Type::StreamMap(t) => Some(t),
            _ => None,
        }
    }

    pub fn is_stream(&self) -> bool {
        matches!(self, Type::Stream(_) | Type::StreamMap(_))
    }
}

/// May a value of type `given` be used where `expected` is required?
pub fn accepts(expected: &Type, given: &Type) -> bool {
    match (expected, given) {
        (_, Type::Bottom) | (Type::Top, _) => true,
        (Type::Scalar(e), Type::Scalar(g)) => e.widens_from(*g),
        (Type::Scalar(e), Type::Literal(k)) => k.fits(*e),
        (Type::Literal(e), Type::Literal(g)) => {
            e == g
                || matches!(
                    (e, g),
                    (LiteralKind::Signed | LiteralKind::Float, LiteralKind::Unsigned) | (LiteralKind::Float, LiteralKind::Signed)
                )
        }
        // Arrays, options and streams are all readable as arrays; options also read
        // streams and arrays (the first element).
        (Type::Array(e), Type::Array(g) | Type::Option(g) | Type::Stream(g)) => accepts(e, g),
        (Type::Option(e), Type::Option(g) | Type::Stream(g) | Type::Array(g)) => accepts(e, g),
        // Streams are passed by reference and written to: the element must match both ways.
        (Type::Stream(e), Type::Stream(g)) | (Type::StreamMap(e), Type::StreamMap(g)) => accepts(e, g) && accepts(g, e),
        (Type::Struct(e), Type::Struct(g)) => fields_accept(&e.fields, &g.fields),
        (Type::Ability(e), Type::Ability(g)) => fields_accept(&e.fields, &g.fields),
        (Type::Ability(e), Type::Service(g)) => {
            let as_fields: Vec<(String, Type)> = g.functions.iter().map(|(n, f)| (n.clone(), Type::Arrow(Rc::new(f.clone())))).collect();
            fields_accept(&e.fields, &as_fields)
        }
        (Type::Service(e), Type::Service(g)) => {
            e.functions.iter().all(|(n, f)| g.functions.iter().any(|(gn, gf)| gn == n && arrow_accepts(f, gf)))
        }
        (Type::Arrow(e), Type::Arrow(g)) => arrow_accepts(e, g),
        _ => false,
    }
}

/// Structural: every expected field exists in `given` with a fitting type.
fn fields_accept(expected: &[(String, Type)], given: &[(String, Type)]) -> bool {
    expected.iter().all(|(name, et)| given.iter().any(|(gn, gt)| gn == name && accepts(et, gt)))
}

/// Arguments contravariant, results covariant, abilities contravariant.
fn arrow_accepts(expected: &ArrowType, given: &ArrowType) -> bool {
    expected.domain.len() == given.domain.len()
        && expected.codomain.len() == given.codomain.len()
        && expected.abilities.len() == given.abilities.len()
        && expected.domain.iter().zip(&given.domain).all(|((_, e), (_, g))| accepts(g, e))
        && expected.abilities.iter().zip(&given.abilities).all(|(e, g)| accepts(g, e))
        && expected.codomain.iter().zip(&given.codomain).all(|(e, g)| accepts(e, g))
}

/// The least type both fit, for collection literals and comparisons.
pub fn unify(a: &Type, b: &Type) -> Option<Type> {
    if accepts(a, b) {
        return Some(a.clone());
    }
    if accepts(b, a) {
        return Some(b.clone());
    }
    match (a, b) {
        (Type::Scalar(x), Type::Scalar(y)) => {
            ScalarType::ALL.into_iter().find(|s| s.widens_from(*x) && s.widens_from(*y)).map(Type::Scalar)
        }
        (Type::Array(x), Type::Array(y)) => unify(x, y).map(|t| Type::Array(Box::new(t))),
        (Type::Option(x), Type::Option(y)) => unify(x, y).map(|t| Type::Option(Box::new(t))),
        _ => None,
    }
}

/// The result type of an arithmetic operator: the narrowest type both operands fit,
/// or `None` when there is none (the checker then warns and uses `i64`).
pub fn numeric_result(a: &Type, b: &Type) -> Option<Type> {
    if !a.is_numeric() || !b.is_numeric() {
        return None;
    }
    unify(a, b)
}

/// One line saying why `given` does not fit `expected`, for diagnostics.
pub fn describe_mismatch(expected: &Type, given: &Type) -> String {
    let fields = match (expected, given) {
        (Type::Struct(e), Type::Struct(g)) => Some((&e.fields, &g.fields)),
        (Type::Ability(e), Type::Ability(g)) => Some((&e.fields, &g.fields)),
        _ => None,
    };
    if let Some((ef, gf)) = fields {
        for (name, et) in ef {
            match gf.iter().find(|(n, _)| n == name) {
                None => return format!("`{given}` has no field `{name}`, which `{expected}` requires"),
                Some((_, gt)) if !accepts(et, gt) => return format!("field `{name}`: {}", describe_mismatch(et, gt)),
                Some(_) => {}
            }
        }
    }
    match (expected, given) {
        (Type::Scalar(e), Type::Scalar(g)) if e.is_integer() && g.is_integer() => {
            format!("`{}` does not fit `{}`: it may hold values that `{}` cannot", g.name(), e.name(), e.name())
        }
        (Type::Stream(_), g) if !g.is_stream() => format!("`{expected}` is a stream; only a stream can be passed where one is written to"),
        _ => format!("`{given}` does not fit `{expected}`"),
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Scalar(s) => f.write_str(s.name()),
            Type::Literal(LiteralKind::Unsigned) => f.write_str("unsigned literal"),
            Type::Literal(LiteralKind::Signed) => f.write_str("signed literal"),
            Type::Literal(LiteralKind::Float) => f.write_str("float literal"),
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

/// An arrow inside a collection or an argument list is parenthesised.
struct Nested<'a>(&'a Type);

impl fmt::Display for Nested<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Type::Arrow(a) => write!(f, "({a})"),
            t => write!(f, "{t}"),
        }
    }
}

impl fmt::Display for ArrowType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.abilities.is_empty() {
            let names: Vec<String> = self.abilities.iter().map(ToString::to_string).collect();
            write!(f, "{{{}}}", names.join(", "))?;
        }
        let args: Vec<String> = self.domain.iter().map(|(_, t)| Nested(t).to_string()).collect();
        f.write_str(&args.join(", "))?;
        if !args.is_empty() {
            f.write_str(" ")?;
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
    use ScalarType::*;

    fn s(t: ScalarType) -> Type {
        Type::Scalar(t)
    }

    fn strukt(name: &str, fields: &[(&str, Type)]) -> Type {
        Type::Struct(Rc::new(StructType { name: name.into(), fields: fields.iter().map(|(n, t)| (n.to_string(), t.clone())).collect() }))
    }

    fn arrow(domain: &[Type], codomain: &[Type]) -> Type {
        Type::Arrow(Rc::new(ArrowType {
            abilities: vec![],
            domain: domain.iter().map(|t| (None, t.clone())).collect(),
            codomain: codomain.to_vec(),
        }))
    }

    #[test]
    fn numeric_widening_follows_the_reference() {
        let yes =
            [(U16, U8), (U64, U8), (I16, I8), (I16, U8), (I32, U16), (I64, U32), (F64, F32), (F32, U16), (F32, I8), (F64, I32), (F64, U32)];
        for (e, g) in yes {
            assert!(accepts(&s(e), &s(g)), "{g:?} should fit {e:?}");
        }
        let no = [(U8, U16), (I64, U64), (U8, I8), (F32, F64), (F64, I64), (F32, U32), (I8, U8), (String, U8), (Bool, String)];
        for (e, g) in no {
            assert!(!accepts(&s(e), &s(g)), "{g:?} should not fit {e:?}");
        }
    }

    #[test]
    fn literals_fit_by_kind() {
        let unsigned = Type::Literal(LiteralKind::Unsigned);
        let signed = Type::Literal(LiteralKind::Signed);
        let float = Type::Literal(LiteralKind::Float);
        assert!(accepts(&s(U8), &unsigned) && accepts(&s(F32), &unsigned));
        assert!(!accepts(&s(U8), &signed) && accepts(&s(I8), &signed));
        assert!(!accepts(&s(I64), &float) && accepts(&s(F64), &float));
        assert!(!accepts(&s(String), &unsigned));
    }

    #[test]
    fn collections_are_compatible_as_inputs() {
        let arr = Type::Array(Box::new(s(U8)));
        let opt = Type::Option(Box::new(s(U8)));
        let stream = Type::Stream(Box::new(s(U8)));
        assert!(accepts(&Type::Array(Box::new(s(U32))), &stream));
        assert!(accepts(&Type::Array(Box::new(s(U8))), &opt));
        assert!(accepts(&opt, &stream));
        assert!(!accepts(&stream, &arr));
        assert!(!accepts(&Type::Stream(Box::new(s(U32))), &stream), "a stream's element must match exactly");
        assert!(accepts(&opt, &Type::Option(Box::new(Type::Bottom))), "nil fits any option");
        assert!(!accepts(&arr, &s(U8)));
    }

    #[test]
    fn structs_are_structural() {
        let small = strukt("A", &[("name", s(String))]);
        let big = strukt("B", &[("name", s(String)), ("age", s(U8))]);
        let wrong = strukt("C", &[("name", s(U8))]);
        assert!(accepts(&small, &big));
        assert!(!accepts(&big, &small));
        assert!(!accepts(&small, &wrong));
        assert!(describe_mismatch(&big, &small).contains("no field `age`"));
        assert!(describe_mismatch(&small, &wrong).contains("field `name`"));
    }

    #[test]
    fn services_fit_abilities_with_the_same_arrows() {
        let f = ArrowType { abilities: vec![], domain: vec![(Some("s".into()), s(String))], codomain: vec![s(String)] };
        let service = Type::Service(Rc::new(ServiceType { name: "Srv".into(), functions: vec![("greet".into(), f.clone())] }));
        let ability = Type::Ability(Rc::new(AbilityType { name: "Ab".into(), fields: vec![("greet".into(), Type::Arrow(Rc::new(f)))] }));
        assert!(accepts(&ability, &service));
        let other = Type::Ability(Rc::new(AbilityType { name: "Ab".into(), fields: vec![("other".into(), s(U8))] }));
        assert!(!accepts(&other, &service));
    }

    #[test]
    fn arrows_are_contravariant_in_arguments() {
        let takes_u64 = arrow(&[s(U64)], &[s(U8)]);
        let takes_u8 = arrow(&[s(U8)], &[s(U64)]);
        // Expected u8 -> u64: a function taking u64 and giving u8 fits.
        assert!(accepts(&takes_u8, &takes_u64));
        assert!(!accepts(&takes_u64, &takes_u8));
        assert!(!accepts(&arrow(&[], &[]), &arrow(&[s(U8)], &[])));
    }

    #[test]
    fn top_and_bottom() {
        assert!(accepts(&Type::Top, &s(U8)));
        assert!(accepts(&s(U8), &Type::Bottom));
        assert!(!accepts(&s(U8), &Type::Top));
    }

    #[test]
    fn unify_finds_the_least_common_type() {
        assert_eq!(unify(&s(U8), &s(U16)), Some(s(U16)));
        assert_eq!(unify(&s(U32), &s(I8)), Some(s(I64)));
        assert_eq!(unify(&s(U64), &s(I8)), None);
        assert_eq!(unify(&Type::Literal(LiteralKind::Unsigned), &s(U8)), Some(s(U8)));
        assert_eq!(unify(&Type::Bottom, &s(String)), Some(s(String)));
        assert_eq!(numeric_result(&s(String), &s(U8)), None);
    }

    #[test]
    fn types_print_as_written() {
        let t = Type::Array(Box::new(Type::Option(Box::new(strukt("User", &[])))));
        assert_eq!(t.to_string(), "[]?User");
        assert_eq!(arrow(&[s(String), s(U32)], &[s(Bool)]).to_string(), "string, u32 -> bool");
        assert_eq!(arrow(&[], &[]).to_string(), "-> ()");
        assert_eq!(Type::Stream(Box::new(arrow(&[s(U8)], &[]))).to_string(), "*(u8 -> ())");
        assert_eq!(Type::Option(Box::new(Type::Bottom)).to_string(), "?⊥");
    }
}
