//! Values across the boundary: JSON (what AIR passes) to component values and back,
//! driven by the function's WIT types, and the Aqua type each WIT type stands for.
//!
//! Aqua has scalars, arrays, options and records (`data`), so: integers, floats, bool,
//! string and char (a one-character string), `list<T>` (`[]T`), `option<T>` (`?T`,
//! as Aqua encodes options: `[]` or `[x]`), records (`data`, fields in snake_case),
//! and tuples (`data` with fields `_0`, `_1`, ...). Variants, enums, results, flags,
//! maps and resources have no Aqua form: [`check_aqua`] refuses them, so a facade that
//! uses them is refused when it is loaded.

use serde_json::{Map, Value as Json};
use wasmtime::component::{Type, Val};

/// A WIT type Aqua cannot express.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported(pub String);

/// Whether Aqua can express a WIT type; if not, the kind of WIT type that it cannot.
pub fn check_aqua(ty: &Type) -> Result<(), Unsupported> {
    match ty {
        Type::Bool | Type::S8 | Type::S16 | Type::S32 | Type::S64 | Type::U8 | Type::U16 | Type::U32 | Type::U64 => Ok(()),
        Type::Float32 | Type::Float64 | Type::Char | Type::String => Ok(()),
        Type::List(l) => check_aqua(&l.ty()),
        Type::Option(o) => check_aqua(&o.ty()),
        Type::Record(r) => r.fields().try_for_each(|f| check_aqua(&f.ty)),
        Type::Tuple(t) => t.types().try_for_each(|t| check_aqua(&t)),
        other => Err(Unsupported(wit_kind(other).into())),
    }
}

/// A type as Aqua writes it, with records and tuples just called so (for listings
/// such as `srv.get_interface`).
pub fn brief(ty: &Type) -> String {
    match ty {
        Type::List(l) => format!("[]{}", brief(&l.ty())),
        Type::Option(o) => format!("?{}", brief(&o.ty())),
        Type::Bool => "bool".into(),
        Type::S8 => "i8".into(),
        Type::S16 => "i16".into(),
        Type::S32 => "i32".into(),
        Type::S64 => "i64".into(),
        Type::U8 => "u8".into(),
        Type::U16 => "u16".into(),
        Type::U32 => "u32".into(),
        Type::U64 => "u64".into(),
        Type::Float32 => "f32".into(),
        Type::Float64 => "f64".into(),
        Type::Char | Type::String => "string".into(),
        other => wit_kind(other).into(),
    }
}

/// The WIT name of a type's kind, for messages.
pub fn wit_kind(ty: &Type) -> &'static str {
    match ty {
        Type::Variant(_) => "variant",
        Type::Enum(_) => "enum",
        Type::Result(_) => "result",
        Type::Flags(_) => "flags",
        Type::Map(_) => "map",
        Type::Own(_) | Type::Borrow(_) => "resource",
        Type::Future(_) => "future",
        Type::Stream(_) => "stream",
        Type::ErrorContext => "error-context",
        Type::FixedLengthList(_) => "fixed-length list",
        Type::Record(_) => "record",
        Type::Tuple(_) => "tuple",
        Type::List(_) => "list",
        Type::Option(_) => "option",
        _ => "scalar",
    }
}

/// A record field's name in Aqua and JSON: kebab-case becomes snake_case.
pub fn field_name(wit: &str) -> String {
    wit.replace('-', "_")
}

/// Where a value is, for messages: `argument 2 (`who`).name[0]`. Built on the stack as
/// the conversion descends, and only written out when something is wrong.
#[derive(Debug, Clone, Copy)]
pub enum At<'a> {
    /// An argument: its number from 1, and its name.
    Argument(usize, &'a str),
    Index(&'a At<'a>, usize),
    Field(&'a At<'a>, &'a str),
    /// A tuple's element, shown as its Aqua field `_i`.
    Position(&'a At<'a>, usize),
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            At::Argument(n, name) => write!(f, "argument {n} (`{name}`)"),
            At::Index(at, i) => write!(f, "{at}[{i}]"),
            At::Field(at, name) => write!(f, "{at}.{name}"),
            At::Position(at, i) => write!(f, "{at}._{i}"),
        }
    }
}

/// Converts `json` to a value of type `ty`; `at` says where it is, for messages.
pub fn from_json(json: &Json, ty: &Type, at: &At<'_>) -> Result<Val, String> {
    let wrong = |expected: &str| format!("{at} must be {expected}, not {}", short(json));
    let int = |min: i128, max: i128| -> Result<i128, String> {
        let n = json.as_i64().map(i128::from).or_else(|| json.as_u64().map(i128::from));
        match n {
            Some(n) if (min..=max).contains(&n) => Ok(n),
            Some(n) => Err(format!("{at} is {n}, out of range for its type ({min} to {max})")),
            None => Err(wrong("an integer")),
        }
    };
    // Each cast below is within range: `int` checked it.
    Ok(match ty {
        Type::Bool => Val::Bool(json.as_bool().ok_or_else(|| wrong("a boolean"))?),
        Type::S8 => Val::S8(int(i8::MIN.into(), i8::MAX.into())? as i8),
        Type::S16 => Val::S16(int(i16::MIN.into(), i16::MAX.into())? as i16),
        Type::S32 => Val::S32(int(i32::MIN.into(), i32::MAX.into())? as i32),
        Type::S64 => Val::S64(int(i64::MIN.into(), i64::MAX.into())? as i64),
        Type::U8 => Val::U8(int(0, u8::MAX.into())? as u8),
        Type::U16 => Val::U16(int(0, u16::MAX.into())? as u16),
        Type::U32 => Val::U32(int(0, u32::MAX.into())? as u32),
        Type::U64 => Val::U64(int(0, u64::MAX.into())? as u64),
        Type::Float32 => Val::Float32(json.as_f64().ok_or_else(|| wrong("a number"))? as f32),
        Type::Float64 => Val::Float64(json.as_f64().ok_or_else(|| wrong("a number"))?),
        Type::Char => {
            let s = json.as_str().ok_or_else(|| wrong("a one-character string"))?;
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Val::Char(c),
                _ => return Err(wrong("a one-character string")),
            }
        }
        Type::String => Val::String(json.as_str().ok_or_else(|| wrong("a string"))?.to_owned()),
        Type::List(l) => {
            let items = json.as_array().ok_or_else(|| wrong("an array"))?;
            let ty = l.ty();
            Val::List(items.iter().enumerate().map(|(i, x)| from_json(x, &ty, &At::Index(at, i))).collect::<Result<_, _>>()?)
        }
        Type::Option(o) => {
            let inner = match json {
                Json::Null => None,
                Json::Array(a) if a.is_empty() => None,
                Json::Array(a) if a.len() == 1 => Some(&a[0]),
                Json::Array(_) => return Err(wrong("an option: [] or [value]")),
                other => Some(other),
            };
            Val::Option(match inner {
                Some(x) => Some(Box::new(from_json(x, &o.ty(), at)?)),
                None => None,
            })
        }
        Type::Record(r) => {
            let object = json.as_object().ok_or_else(|| wrong("an object"))?;
            let mut fields = Vec::new();
            for f in r.fields() {
                let name = field_name(f.name);
                let value = object.get(&name).ok_or_else(|| format!("{at} has no field `{name}`"))?;
                fields.push((f.name.to_owned(), from_json(value, &f.ty, &At::Field(at, &name))?));
            }
            Val::Record(fields)
        }
        Type::Tuple(t) => {
            let types: Vec<Type> = t.types().collect();
            let items: Vec<&Json> = match json {
                Json::Array(a) if a.len() == types.len() => a.iter().collect(),
                Json::Object(o) => (0..types.len())
                    .map(|i| o.get(&format!("_{i}")).ok_or_else(|| format!("{at} has no field `_{i}`")))
                    .collect::<Result<_, _>>()?,
                _ => return Err(wrong(&format!("a tuple of {}: {{\"_0\": ..}} or an array", types.len()))),
            };
            Val::Tuple(
                items
                    .iter()
                    .zip(&types)
                    .enumerate()
                    .map(|(i, (x, ty))| from_json(x, ty, &At::Position(at, i)))
                    .collect::<Result<_, _>>()?,
            )
        }
        other => return Err(format!("{at} has the WIT type {}, which Aqua cannot give", wit_kind(other))),
    })
}

/// Converts a value back to JSON, as Aqua reads it, taking its strings rather than
/// copying them.
pub fn into_json(val: Val) -> Result<Json, String> {
    Ok(match val {
        Val::String(s) => Json::String(s),
        Val::List(items) => Json::Array(items.into_iter().map(into_json).collect::<Result<_, _>>()?),
        Val::Option(None) => Json::Array(Vec::new()),
        Val::Option(Some(x)) => Json::Array(vec![into_json(*x)?]),
        Val::Record(fields) => {
            Json::Object(fields.into_iter().map(|(k, v)| Ok((field_name(&k), into_json(v)?))).collect::<Result<Map<_, _>, String>>()?)
        }
        Val::Tuple(items) => Json::Object(
            items.into_iter().enumerate().map(|(i, v)| Ok((format!("_{i}"), into_json(v)?))).collect::<Result<Map<_, _>, String>>()?,
        ),
        other => to_json(&other)?,
    })
}

/// Converts a value back to JSON, as Aqua reads it.
pub fn to_json(val: &Val) -> Result<Json, String> {
    Ok(match val {
        Val::Bool(b) => Json::Bool(*b),
        Val::S8(n) => Json::from(*n),
        Val::S16(n) => Json::from(*n),
        Val::S32(n) => Json::from(*n),
        Val::S64(n) => Json::from(*n),
        Val::U8(n) => Json::from(*n),
        Val::U16(n) => Json::from(*n),
        Val::U32(n) => Json::from(*n),
        Val::U64(n) => Json::from(*n),
        Val::Float32(x) => float(f64::from(*x))?,
        Val::Float64(x) => float(*x)?,
        Val::Char(c) => Json::String(c.to_string()),
        Val::String(s) => Json::String(s.clone()),
        Val::List(items) => Json::Array(items.iter().map(to_json).collect::<Result<_, _>>()?),
        Val::Option(None) => Json::Array(Vec::new()),
        Val::Option(Some(x)) => Json::Array(vec![to_json(x)?]),
        Val::Record(fields) => {
            Json::Object(fields.iter().map(|(k, v)| Ok((field_name(k), to_json(v)?))).collect::<Result<Map<_, _>, String>>()?)
        }
        Val::Tuple(items) => {
            Json::Object(items.iter().enumerate().map(|(i, v)| Ok((format!("_{i}"), to_json(v)?))).collect::<Result<Map<_, _>, String>>()?)
        }
        other => return Err(format!("a result of a kind Aqua cannot read ({other:?})")),
    })
}

fn float(x: f64) -> Result<Json, String> {
    serde_json::Number::from_f64(x).map(Json::Number).ok_or_else(|| format!("the result {x} is not a JSON number"))
}

/// A short rendering of a JSON value for messages.
fn short(json: &Json) -> String {
    let text = json.to_string();
    match text.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_convert_both_ways() {
        let cases = [
            (Type::Bool, json!(true)),
            (Type::S8, json!(-128)),
            (Type::U64, json!(u64::MAX)),
            (Type::S64, json!(i64::MIN)),
            (Type::Float64, json!(1.5)),
            (Type::String, json!("hé")),
            (Type::Char, json!("é")),
        ];
        for (ty, value) in cases {
            let val = from_json(&value, &ty, &At::Argument(1, "x")).expect("converts");
            assert_eq!(to_json(&val), Ok(value.clone()));
            assert_eq!(into_json(val), Ok(value));
        }
    }

    #[test]
    fn bad_values_say_what_and_where() {
        let at = At::Argument(2, "n");
        assert_eq!(from_json(&json!(300), &Type::U8, &at).unwrap_err(), "argument 2 (`n`) is 300, out of range for its type (0 to 255)");
        let nested = At::Index(&At::Field(&at, "xs"), 3);
        assert_eq!(from_json(&json!("x"), &Type::U32, &nested).unwrap_err(), "argument 2 (`n`).xs[3] must be an integer, not \"x\"");
        assert!(from_json(&json!("ab"), &Type::Char, &at).unwrap_err().contains("one-character"));
        assert!(from_json(&json!(1.5), &Type::S32, &at).unwrap_err().contains("an integer"));
    }

    #[test]
    fn options_use_the_aqua_encoding() {
        assert_eq!(to_json(&Val::Option(None)), Ok(json!([])));
        assert_eq!(to_json(&Val::Option(Some(Box::new(Val::U8(1))))), Ok(json!([1])));
        assert_eq!(to_json(&Val::Tuple(vec![Val::U8(1), Val::Bool(false)])), Ok(json!({"_0": 1, "_1": false})));
        assert_eq!(to_json(&Val::Record(vec![("first-name".into(), Val::String("a".into()))])), Ok(json!({"first_name": "a"})));
        assert!(to_json(&Val::Float64(f64::NAN)).is_err());
    }
}
