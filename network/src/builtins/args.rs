//! Argument extraction with error messages that name the function and the argument.
//!
//! Arguments are numbered from 1 in messages, as a person counts them.

use serde_json::{Map, Value};
use std::fmt::Display;

/// The arguments of one call, with the `service.function` name for messages.
pub(crate) struct Args<'a> {
    name: String,
    values: &'a [Value],
}

impl<'a> Args<'a> {
    pub fn new(service: &str, function: &str, values: &'a [Value]) -> Self {
        Args { name: format!("{service}.{function}"), values }
    }

    pub fn values(&self) -> &'a [Value] {
        self.values
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// An error message about this call.
    pub fn error(&self, what: impl Display) -> String {
        format!("{}: {what}", self.name)
    }

    pub fn exactly(&self, n: usize) -> Result<(), String> {
        if self.len() == n { Ok(()) } else { Err(self.error(format!("expected {}, got {}", count(n), count(self.len())))) }
    }

    pub fn between(&self, min: usize, max: usize) -> Result<(), String> {
        if (min..=max).contains(&self.len()) {
            Ok(())
        } else {
            Err(self.error(format!("expected {min} to {max} arguments, got {}", count(self.len()))))
        }
    }

    /// Argument `i` (from 0), which must be present.
    pub fn get(&self, i: usize) -> Result<&'a Value, String> {
        self.values.get(i).ok_or_else(|| self.error(format!("argument {} is missing", i + 1)))
    }

    fn wrong(&self, i: usize, expected: &str, got: &Value) -> String {
        self.error(format!("argument {} must be {expected}, got {}", i + 1, describe(got)))
    }

    pub fn i64(&self, i: usize) -> Result<i64, String> {
        let v = self.get(i)?;
        v.as_i64().ok_or_else(|| self.wrong(i, "an integer (i64)", v))
    }

    pub fn u32(&self, i: usize) -> Result<u32, String> {
        let v = self.get(i)?;
        v.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(|| self.wrong(i, "an integer from 0 to 4294967295 (u32)", v))
    }

    /// Any JSON number, as f64.
    pub fn f64(&self, i: usize) -> Result<f64, String> {
        let v = self.get(i)?;
        match v {
            Value::Number(n) => n.as_f64().ok_or_else(|| self.wrong(i, "a number", v)),
            _ => Err(self.wrong(i, "a number", v)),
        }
    }

    pub fn str(&self, i: usize) -> Result<&'a str, String> {
        let v = self.get(i)?;
        v.as_str().ok_or_else(|| self.wrong(i, "a string", v))
    }

    pub fn array(&self, i: usize) -> Result<&'a [Value], String> {
        let v = self.get(i)?;
        v.as_array().map(Vec::as_slice).ok_or_else(|| self.wrong(i, "an array", v))
    }

    pub fn object(&self, i: usize) -> Result<&'a Map<String, Value>, String> {
        let v = self.get(i)?;
        v.as_object().ok_or_else(|| self.wrong(i, "an object", v))
    }

    /// An array of strings.
    pub fn strings(&self, i: usize) -> Result<Vec<&'a str>, String> {
        let items = self.array(i)?;
        items
            .iter()
            .enumerate()
            .map(|(j, v)| {
                v.as_str()
                    .ok_or_else(|| self.error(format!("argument {} must be an array of strings; element {j} is {}", i + 1, describe(v))))
            })
            .collect()
    }

    /// An array of bytes (integers from 0 to 255).
    pub fn bytes(&self, i: usize) -> Result<Vec<u8>, String> {
        let items = self.array(i)?;
        items
            .iter()
            .enumerate()
            .map(|(j, v)| {
                v.as_u64().and_then(|b| u8::try_from(b).ok()).ok_or_else(|| {
                    self.error(format!("argument {} must be an array of bytes (integers 0 to 255); element {j} is {}", i + 1, describe(v)))
                })
            })
            .collect()
    }

    /// An optional argument: absent, `null` or `[]` is none; `[x]` or a bare `x` is `x`.
    pub fn opt(&self, i: usize) -> Result<Option<&'a Value>, String> {
        match self.values.get(i) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => match items.as_slice() {
                [] => Ok(None),
                [x] => Ok(Some(x)),
                _ => Err(self.error(format!(
                    "argument {} is an option: expected [] or [value], got an array of {} elements",
                    i + 1,
                    items.len()
                ))),
            },
            Some(v) => Ok(Some(v)),
        }
    }

    pub fn opt_bool(&self, i: usize) -> Result<Option<bool>, String> {
        match self.opt(i)? {
            None => Ok(None),
            Some(v) => v.as_bool().map(Some).ok_or_else(|| self.wrong(i, "an optional boolean", v)),
        }
    }

    pub fn opt_u32(&self, i: usize) -> Result<Option<u32>, String> {
        match self.opt(i)? {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Some)
                .ok_or_else(|| self.wrong(i, "an optional integer from 0 to 4294967295 (u32)", v)),
        }
    }

    pub fn opt_str(&self, i: usize) -> Result<Option<&'a str>, String> {
        match self.opt(i)? {
            None => Ok(None),
            Some(v) => v.as_str().map(Some).ok_or_else(|| self.wrong(i, "an optional string", v)),
        }
    }
}

/// "1 argument", "2 arguments".
pub(super) fn count(n: usize) -> String {
    if n == 1 { "1 argument".to_owned() } else { format!("{n} arguments") }
}

/// A value as a message mentions it: its kind, and numbers and booleans themselves.
pub(super) fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(_) => "a string".to_owned(),
        Value::Array(items) if items.len() == 1 => "an array of 1 element".to_owned(),
        Value::Array(items) => format!("an array of {} elements", items.len()),
        Value::Object(_) => "an object".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn args(values: &[Value]) -> Args<'_> {
        Args::new("svc", "f", values)
    }

    #[test]
    fn counts_are_checked() {
        let v = [json!(1), json!(2)];
        assert_eq!(args(&v).exactly(2), Ok(()));
        assert_eq!(args(&v).exactly(1).unwrap_err(), "svc.f: expected 1 argument, got 2 arguments");
        assert_eq!(args(&v[..1]).exactly(2).unwrap_err(), "svc.f: expected 2 arguments, got 1 argument");
        assert_eq!(args(&v).between(1, 3), Ok(()));
        assert_eq!(args(&[]).between(1, 3).unwrap_err(), "svc.f: expected 1 to 3 arguments, got 0 arguments");
        assert_eq!(args(&v).get(2).unwrap_err(), "svc.f: argument 3 is missing");
    }

    #[test]
    fn integers() {
        let v = [json!(-5), json!(1.5), json!("7"), json!(u64::MAX), json!(4_294_967_296_u64)];
        let a = args(&v);
        assert_eq!(a.i64(0), Ok(-5));
        assert_eq!(a.i64(1).unwrap_err(), "svc.f: argument 2 must be an integer (i64), got the number 1.5");
        assert_eq!(a.i64(2).unwrap_err(), "svc.f: argument 3 must be an integer (i64), got a string");
        assert!(a.i64(3).is_err(), "u64::MAX is out of the i64 range");
        assert!(a.u32(0).is_err());
        assert!(a.u32(4).is_err());
        assert_eq!(args(&[json!(4_294_967_295_u64)]).u32(0), Ok(u32::MAX));
        assert_eq!(a.f64(1), Ok(1.5));
        assert_eq!(a.f64(0), Ok(-5.0));
        assert!(a.f64(2).is_err());
    }

    #[test]
    fn containers() {
        let v = [json!(["a", "b"]), json!(["a", 1]), json!([0, 255]), json!([256]), json!({"k": 1}), json!([-1])];
        let a = args(&v);
        assert_eq!(a.strings(0), Ok(vec!["a", "b"]));
        assert_eq!(a.strings(1).unwrap_err(), "svc.f: argument 2 must be an array of strings; element 1 is the number 1");
        assert_eq!(a.bytes(2), Ok(vec![0, 255]));
        assert_eq!(a.bytes(3).unwrap_err(), "svc.f: argument 4 must be an array of bytes (integers 0 to 255); element 0 is the number 256");
        assert!(a.bytes(5).is_err());
        assert!(a.object(4).is_ok());
        assert_eq!(a.object(0).unwrap_err(), "svc.f: argument 1 must be an object, got an array of 2 elements");
        assert_eq!(a.array(4).unwrap_err(), "svc.f: argument 5 must be an array, got an object");
    }

    #[test]
    fn options_in_every_form() {
        let v = [json!(null), json!([]), json!([true]), json!(false), json!([1, 2]), json!([7]), json!("x")];
        let a = args(&v);
        assert_eq!(a.opt_bool(0), Ok(None));
        assert_eq!(a.opt_bool(1), Ok(None));
        assert_eq!(a.opt_bool(2), Ok(Some(true)));
        assert_eq!(a.opt_bool(3), Ok(Some(false)));
        assert_eq!(a.opt_bool(99), Ok(None), "absent");
        assert_eq!(a.opt_bool(4).unwrap_err(), "svc.f: argument 5 is an option: expected [] or [value], got an array of 2 elements");
        assert_eq!(a.opt_bool(5).unwrap_err(), "svc.f: argument 6 must be an optional boolean, got the number 7");
        assert_eq!(a.opt_u32(5), Ok(Some(7)));
        assert_eq!(a.opt_u32(1), Ok(None));
        assert!(a.opt_u32(6).is_err());
        assert_eq!(a.opt_str(6), Ok(Some("x")));
        assert!(a.opt_str(5).is_err());
    }

    #[test]
    fn descriptions() {
        assert_eq!(describe(&json!(null)), "null");
        assert_eq!(describe(&json!(true)), "the boolean true");
        assert_eq!(describe(&json!("s")), "a string");
        assert_eq!(describe(&json!([1])), "an array of 1 element");
        assert_eq!(describe(&json!([])), "an array of 0 elements");
        assert_eq!(count(0), "0 arguments");
    }
}
