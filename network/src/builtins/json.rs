//! `debug.stringify` and `json`: building, parsing and printing JSON values.
//!
//! JSON text is compact, with object keys in the order the object has them.

use super::Outcome;
use super::args::{Args, describe};
use serde_json::{Map, Value};

pub(super) fn call_debug(function: &str, a: &Args<'_>) -> Outcome {
    match function {
        "stringify" => Outcome::Ok(Value::from(match a.values() {
            [] => "<empty argument list>".to_owned(),
            [x] => x.to_string(),
            all => Value::from(all.to_vec()).to_string(),
        })),
        _ => Outcome::NotFound,
    }
}

pub(super) fn call_json(function: &str, a: &Args<'_>) -> Outcome {
    let r = match function {
        "obj" => put_all(a, Map::new(), 0),
        "put" => a.exactly(3).and_then(|()| a.object(0)).and_then(|o| put_all(a, o.clone(), 1)),
        "puts" => match a.len() {
            0 => Err(a.error("expected an object, then keys and values, got 0 arguments")),
            _ => a.object(0).and_then(|o| put_all(a, o.clone(), 1)),
        },
        "parse" => parse(a),
        "stringify" => a.exactly(1).map(|()| Value::from(a.values()[0].to_string())),
        "obj_pairs" => a.exactly(1).and_then(|()| put_pairs(a, Map::new(), 0)),
        "puts_pairs" => a.exactly(2).and_then(|()| a.object(0)).and_then(|o| put_pairs(a, o.clone(), 1)),
        _ => return Outcome::NotFound,
    };
    r.into()
}

/// Sets the key-value pairs given as arguments from `first` on (`k1, v1, k2, v2, ...`);
/// a later value for the same key wins.
fn put_all(a: &Args<'_>, mut obj: Map<String, Value>, first: usize) -> Result<Value, String> {
    let pairs = a.len() - first;
    if !pairs.is_multiple_of(2) {
        let after = if first == 0 { "" } else { " after the object" };
        return Err(a.error(format!("expected keys and values in pairs{after}, got an odd number ({pairs}) of them")));
    }
    for i in (first..a.len()).step_by(2) {
        obj.insert(a.str(i)?.to_owned(), a.values()[i + 1].clone());
    }
    Ok(Value::Object(obj))
}

/// Sets the pairs of argument `i`, an array of `[key, value]` arrays.
fn put_pairs(a: &Args<'_>, mut obj: Map<String, Value>, i: usize) -> Result<Value, String> {
    for (j, pair) in a.array(i)?.iter().enumerate() {
        match pair.as_array().map(Vec::as_slice) {
            Some([Value::String(k), v]) => {
                obj.insert(k.clone(), v.clone());
            }
            _ => {
                return Err(a.error(format!(
                    "argument {} must be an array of [key, value] pairs with string keys; element {j} is {}",
                    i + 1,
                    describe(pair)
                )));
            }
        }
    }
    Ok(Value::Object(obj))
}

fn parse(a: &Args<'_>) -> Result<Value, String> {
    a.exactly(1)?;
    serde_json::from_str(a.str(0)?).map_err(|e| a.error(format!("the string is not valid JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::json;

    #[test]
    fn debug_stringify() {
        assert_eq!(ok("debug", "stringify", json!([])), json!("<empty argument list>"));
        assert_eq!(ok("debug", "stringify", json!(["hi"])), json!("\"hi\""));
        assert_eq!(ok("debug", "stringify", json!([{"b": 1, "a": [null]}])), json!("{\"b\":1,\"a\":[null]}"));
        assert_eq!(ok("debug", "stringify", json!([1, "x", true])), json!("[1,\"x\",true]"));
        assert_eq!(ok("debug", "stringify", json!([[]])), json!("[]"));
    }

    #[test]
    fn obj_builds_objects() {
        assert_eq!(ok("json", "obj", json!([])), json!({}));
        assert_eq!(ok("json", "obj", json!(["a", 1, "b", [2]])), json!({"a": 1, "b": [2]}));
        assert_eq!(ok("json", "obj", json!(["a", 1, "a", 2])), json!({"a": 2}), "the later value wins");
        assert_eq!(ok("json", "obj", json!(["z", 1, "a", 2])).to_string(), "{\"z\":1,\"a\":2}", "keys keep their order");
        assert_eq!(err("json", "obj", json!(["a", 1, "b"])), "json.obj: expected keys and values in pairs, got an odd number (3) of them");
        assert_eq!(err("json", "obj", json!([1, 1])), "json.obj: argument 1 must be a string, got the number 1");
    }

    #[test]
    fn put_and_puts() {
        let o = json!({"a": 1, "b": 2});
        assert_eq!(ok("json", "put", json!([o, "c", {"x": null}])), json!({"a": 1, "b": 2, "c": {"x": null}}));
        assert_eq!(ok("json", "put", json!([o, "a", 9])).to_string(), "{\"a\":9,\"b\":2}", "replaces in place");
        assert_eq!(ok("json", "puts", json!([o])), o);
        assert_eq!(ok("json", "puts", json!([o, "c", 3, "a", 0])), json!({"a": 0, "b": 2, "c": 3}));
        assert_eq!(err("json", "put", json!([o, "c"])), "json.put: expected 3 arguments, got 2 arguments");
        assert_eq!(err("json", "put", json!([[1], "c", 3])), "json.put: argument 1 must be an object, got an array of 1 element");
        assert_eq!(err("json", "put", json!([o, 5, 3])), "json.put: argument 2 must be a string, got the number 5");
        assert_eq!(
            err("json", "puts", json!([o, "c", 3, "d"])),
            "json.puts: expected keys and values in pairs after the object, got an odd number (3) of them"
        );
        assert_eq!(err("json", "puts", json!([])), "json.puts: expected an object, then keys and values, got 0 arguments");
    }

    #[test]
    fn parse_and_stringify() {
        assert_eq!(ok("json", "parse", json!(["{\"a\": [1, 2.5, \"x\", null]}"])), json!({"a": [1, 2.5, "x", null]}));
        assert_eq!(ok("json", "parse", json!(["42"])), json!(42));
        assert_eq!(ok("json", "parse", json!(["\"s\""])), json!("s"));
        assert!(err("json", "parse", json!(["{oops"])).starts_with("json.parse: the string is not valid JSON: "));
        assert!(err("json", "parse", json!([""])).starts_with("json.parse: the string is not valid JSON: "));
        assert_eq!(err("json", "parse", json!([{}])), "json.parse: argument 1 must be a string, got an object");
        assert_eq!(ok("json", "stringify", json!([{"b": [1], "a": "x"}])), json!("{\"b\":[1],\"a\":\"x\"}"));
        assert_eq!(ok("json", "stringify", json!([null])), json!("null"));
        assert_eq!(err("json", "stringify", json!([])), "json.stringify: expected 1 argument, got 0 arguments");
        assert_eq!(err("json", "stringify", json!([1, 2])), "json.stringify: expected 1 argument, got 2 arguments");
    }

    #[test]
    fn pairs() {
        assert_eq!(ok("json", "obj_pairs", json!([[]])), json!({}));
        assert_eq!(ok("json", "obj_pairs", json!([[["a", 1], ["b", [true]]]])), json!({"a": 1, "b": [true]}));
        assert_eq!(ok("json", "puts_pairs", json!([{"a": 1}, [["b", 2], ["a", 3]]])), json!({"a": 3, "b": 2}));
        assert_eq!(
            err("json", "obj_pairs", json!([[["a", 1], ["b"]]])),
            "json.obj_pairs: argument 1 must be an array of [key, value] pairs with string keys; element 1 is an array of 1 element"
        );
        assert!(err("json", "obj_pairs", json!([[[1, 1]]])).contains("element 0 is an array of 2 elements"));
        assert!(err("json", "obj_pairs", json!([["a"]])).contains("element 0 is a string"));
        assert_eq!(err("json", "obj_pairs", json!([{}])), "json.obj_pairs: argument 1 must be an array, got an object");
        assert_eq!(err("json", "puts_pairs", json!([[], []])), "json.puts_pairs: argument 1 must be an object, got an array of 0 elements");
        assert_eq!(err("json", "puts_pairs", json!([{}])), "json.puts_pairs: expected 2 arguments, got 1 argument");
    }
}
