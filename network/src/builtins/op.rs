//! `op`: small value operations (identity, arrays, strings, base58, SHA-256).

use super::Outcome;
use super::args::{Args, count, describe};
use super::kad::sha256;
use serde_json::Value;

pub(super) fn call(function: &str, a: &Args<'_>) -> Outcome {
    let r = match function {
        // Ignores its arguments; "nothing" is answered as "", as the reference peer does.
        "noop" => Ok(Value::from("")),
        "identity" => identity(a),
        "array" => Ok(Value::Array(a.values().to_vec())),
        "array_length" => array_length(a),
        "concat" => concat(a),
        "concat_strings" => concat_strings(a),
        "string_to_b58" => a.exactly(1).and_then(|()| a.str(0)).map(|s| Value::from(bs58::encode(s).into_string())),
        "string_from_b58" => string_from_b58(a),
        "bytes_to_b58" => a.exactly(1).and_then(|()| a.bytes(0)).map(|b| Value::from(bs58::encode(b).into_string())),
        "bytes_from_b58" => a.exactly(1).and_then(|()| decode_b58(a)).map(Value::from),
        "sha256_string" => sha256_string(a),
        _ => return Outcome::NotFound,
    };
    r.into()
}

/// `identity()` is `""`, `identity(x)` is `x`.
fn identity(a: &Args<'_>) -> Result<Value, String> {
    match a.values() {
        [] => Ok(Value::from("")),
        [x] => Ok(x.clone()),
        more => Err(a.error(format!("expected at most 1 argument, got {}", count(more.len())))),
    }
}

fn array_length(a: &Args<'_>) -> Result<Value, String> {
    match a.values() {
        [Value::Array(xs)] => Ok(Value::from(xs.len())),
        [other] => Err(a.error(format!("expected exactly one array argument, got {}", describe(other)))),
        more => Err(a.error(format!("expected exactly one array argument, got {}", count(more.len())))),
    }
}

/// Concatenates array arguments into one array (one level deep).
fn concat(a: &Args<'_>) -> Result<Value, String> {
    let mut out = Vec::new();
    for i in 0..a.len() {
        out.extend_from_slice(a.array(i)?);
    }
    Ok(Value::Array(out))
}

fn concat_strings(a: &Args<'_>) -> Result<Value, String> {
    let mut out = String::new();
    for i in 0..a.len() {
        out.push_str(a.str(i)?);
    }
    Ok(Value::from(out))
}

fn decode_b58(a: &Args<'_>) -> Result<Vec<u8>, String> {
    bs58::decode(a.str(0)?).into_vec().map_err(|e| a.error(format!("argument 1 is not base58: {e}")))
}

fn string_from_b58(a: &Args<'_>) -> Result<Value, String> {
    a.exactly(1)?;
    let bytes = decode_b58(a)?;
    String::from_utf8(bytes).map(Value::from).map_err(|e| a.error(format!("the decoded bytes are not UTF-8: {e}")))
}

/// `sha256_string(s, digest_only?, as_bytes?)`: the SHA-256 multihash of `s` (`0x12 0x20`
/// then the digest), or only the digest; in base58, or as an array of bytes.
fn sha256_string(a: &Args<'_>) -> Result<Value, String> {
    a.between(1, 3)?;
    let s = a.str(0)?;
    let digest_only = a.opt_bool(1)?.unwrap_or(false);
    let as_bytes = a.opt_bool(2)?.unwrap_or(false);
    let digest = sha256(s.as_bytes());
    let bytes = if digest_only { digest.to_vec() } else { [&[0x12, 0x20][..], &digest].concat() };
    Ok(if as_bytes { Value::from(bytes) } else { Value::from(bs58::encode(bytes).into_string()) })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::{Value, json};

    #[test]
    fn noop_and_identity() {
        assert_eq!(ok("op", "noop", json!([])), json!(""));
        assert_eq!(ok("op", "noop", json!([1, "two"])), json!(""));
        assert_eq!(ok("op", "identity", json!([])), json!(""));
        assert_eq!(ok("op", "identity", json!([{"a": [1, null]}])), json!({"a": [1, null]}));
        assert_eq!(ok("op", "identity", json!([null])), Value::Null);
        assert_eq!(err("op", "identity", json!([1, 2])), "op.identity: expected at most 1 argument, got 2 arguments");
    }

    #[test]
    fn array_and_length() {
        assert_eq!(ok("op", "array", json!([])), json!([]));
        assert_eq!(ok("op", "array", json!([1, "a", [2]])), json!([1, "a", [2]]));
        assert_eq!(ok("op", "array_length", json!([[]])), json!(0));
        assert_eq!(ok("op", "array_length", json!([[1, [2, 3], 4]])), json!(3));
        assert_eq!(err("op", "array_length", json!([[1], [2]])), "op.array_length: expected exactly one array argument, got 2 arguments");
        assert_eq!(err("op", "array_length", json!([])), "op.array_length: expected exactly one array argument, got 0 arguments");
        assert_eq!(err("op", "array_length", json!(["abc"])), "op.array_length: expected exactly one array argument, got a string");
    }

    #[test]
    fn concat_flattens_one_level() {
        assert_eq!(ok("op", "concat", json!([])), json!([]));
        assert_eq!(ok("op", "concat", json!([[], []])), json!([]));
        assert_eq!(ok("op", "concat", json!([[1, [2]], [], ["x"]])), json!([1, [2], "x"]));
        assert_eq!(err("op", "concat", json!([[1], 2])), "op.concat: argument 2 must be an array, got the number 2");
    }

    #[test]
    fn concat_strings_joins() {
        assert_eq!(ok("op", "concat_strings", json!([])), json!(""));
        assert_eq!(ok("op", "concat_strings", json!(["a", "", "bc"])), json!("abc"));
        assert_eq!(err("op", "concat_strings", json!(["a", 1])), "op.concat_strings: argument 2 must be a string, got the number 1");
    }

    #[test]
    fn base58_of_strings() {
        assert_eq!(ok("op", "string_to_b58", json!(["hello"])), json!("Cn8eVZg"));
        assert_eq!(ok("op", "string_to_b58", json!([""])), json!(""));
        assert_eq!(ok("op", "string_from_b58", json!(["Cn8eVZg"])), json!("hello"));
        assert_eq!(ok("op", "string_from_b58", json!([""])), json!(""));
        let round = ok("op", "string_to_b58", json!(["ünïcode ✓"]));
        assert_eq!(ok("op", "string_from_b58", json!([round])), json!("ünïcode ✓"));
        assert!(err("op", "string_from_b58", json!(["0OIl"])).starts_with("op.string_from_b58: argument 1 is not base58: "));
        let not_utf8 = bs58::encode([0xff, 0xfe]).into_string();
        assert!(err("op", "string_from_b58", json!([not_utf8])).starts_with("op.string_from_b58: the decoded bytes are not UTF-8"));
        assert_eq!(err("op", "string_to_b58", json!([])), "op.string_to_b58: expected 1 argument, got 0 arguments");
        assert_eq!(err("op", "string_to_b58", json!([[1]])), "op.string_to_b58: argument 1 must be a string, got an array of 1 element");
    }

    #[test]
    fn base58_of_bytes() {
        assert_eq!(ok("op", "bytes_to_b58", json!([[104, 101, 108, 108, 111]])), json!("Cn8eVZg"));
        assert_eq!(ok("op", "bytes_to_b58", json!([[0, 0, 1]])), json!("112"));
        assert_eq!(ok("op", "bytes_to_b58", json!([[]])), json!(""));
        assert_eq!(ok("op", "bytes_from_b58", json!(["112"])), json!([0, 0, 1]));
        assert_eq!(ok("op", "bytes_from_b58", json!([""])), json!([]));
        assert!(err("op", "bytes_to_b58", json!([[300]])).contains("element 0 is the number 300"));
        assert!(err("op", "bytes_from_b58", json!(["I"])).starts_with("op.bytes_from_b58: argument 1 is not base58"));
        assert_eq!(err("op", "bytes_from_b58", json!(["1", "2"])), "op.bytes_from_b58: expected 1 argument, got 2 arguments");
    }

    #[test]
    fn sha256_in_four_shapes() {
        // SHA-256("abc") = ba7816bf…15ad.
        let digest: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        let multihash = [&[0x12, 0x20][..], &digest].concat();
        let b58 = |b: &[u8]| json!(bs58::encode(b).into_string());
        assert_eq!(ok("op", "sha256_string", json!(["abc"])), b58(&multihash));
        assert!(ok("op", "sha256_string", json!(["abc"])).as_str().unwrap().starts_with("Qm"), "a CIDv0-style multihash");
        assert_eq!(ok("op", "sha256_string", json!(["abc", [], []])), b58(&multihash));
        assert_eq!(ok("op", "sha256_string", json!(["abc", null, null])), b58(&multihash));
        assert_eq!(ok("op", "sha256_string", json!(["abc", [true]])), b58(&digest));
        assert_eq!(ok("op", "sha256_string", json!(["abc", true, false])), b58(&digest));
        assert_eq!(ok("op", "sha256_string", json!(["abc", [false], [true]])), json!(multihash));
        assert_eq!(ok("op", "sha256_string", json!(["abc", [true], [true]])), json!(digest));
    }

    #[test]
    fn sha256_errors() {
        assert_eq!(err("op", "sha256_string", json!([])), "op.sha256_string: expected 1 to 3 arguments, got 0 arguments");
        assert_eq!(err("op", "sha256_string", json!([1])), "op.sha256_string: argument 1 must be a string, got the number 1");
        assert_eq!(
            err("op", "sha256_string", json!(["a", "yes"])),
            "op.sha256_string: argument 2 must be an optional boolean, got a string"
        );
        assert!(err("op", "sha256_string", json!(["a", [], [true, true]])).contains("argument 3 is an option"));
    }
}
