//! `array`: sums, set operations on string arrays, slices.
//!
//! The reference peer computes the set operations with hash sets, so their order is
//! unspecified there. Here `dedup` keeps the first occurrence of each string in input
//! order, and `intersect`, `diff` and `sdiff` answer sorted: the same every time.

use super::Outcome;
use super::args::{Args, describe};
use serde_json::Value;
use std::collections::BTreeSet;

pub(super) fn call(function: &str, a: &Args<'_>) -> Outcome {
    let r = match function {
        "sum" => sum(a),
        "dedup" => dedup(a),
        "intersect" => sets(a).map(|(x, y)| sorted(x.intersection(&y))),
        "diff" => sets(a).map(|(x, y)| sorted(x.difference(&y))),
        "sdiff" => sets(a).map(|(x, y)| sorted(x.symmetric_difference(&y))),
        "slice" => slice(a),
        "length" => a.exactly(1).and_then(|()| a.array(0)).map(|xs| Value::from(xs.len())),
        _ => return Outcome::NotFound,
    };
    r.into()
}

fn sum(a: &Args<'_>) -> Result<Value, String> {
    a.exactly(1)?;
    let mut total = 0i64;
    for (j, v) in a.array(0)?.iter().enumerate() {
        let n =
            v.as_i64().ok_or_else(|| a.error(format!("argument 1 must be an array of integers (i64); element {j} is {}", describe(v))))?;
        total = total.checked_add(n).ok_or_else(|| a.error("overflow (the sum does not fit in i64)"))?;
    }
    Ok(Value::from(total))
}

/// Each string once, where it first appears.
fn dedup(a: &Args<'_>) -> Result<Value, String> {
    a.exactly(1)?;
    let mut seen = BTreeSet::new();
    Ok(a.strings(0)?.into_iter().filter(|s| seen.insert(*s)).map(Value::from).collect())
}

fn sets<'a>(a: &Args<'a>) -> Result<(BTreeSet<&'a str>, BTreeSet<&'a str>), String> {
    a.exactly(2)?;
    Ok((a.strings(0)?.into_iter().collect(), a.strings(1)?.into_iter().collect()))
}

fn sorted<'s>(items: impl Iterator<Item = &'s &'s str>) -> Value {
    items.map(|s| Value::from(*s)).collect()
}

/// `slice(xs, start, end)`: the elements from `start` up to, not including, `end`.
/// Like the reference peer, an empty array slices to `[]` whatever the bounds.
fn slice(a: &Args<'_>) -> Result<Value, String> {
    a.exactly(3)?;
    let xs = a.array(0)?;
    let (start, end) = (a.u32(1)? as usize, a.u32(2)? as usize);
    if xs.is_empty() {
        return Ok(Value::Array(Vec::new()));
    }
    if start > end || end > xs.len() {
        return Err(a.error(format!("cannot take elements {start} to {end} of an array of {} elements", xs.len())));
    }
    Ok(Value::Array(xs[start..end].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::json;

    #[test]
    fn sums() {
        assert_eq!(ok("array", "sum", json!([[]])), json!(0));
        assert_eq!(ok("array", "sum", json!([[1, 2, -4]])), json!(-1));
        assert_eq!(ok("array", "sum", json!([[i64::MAX, -1, 1]])), json!(i64::MAX));
        assert_eq!(err("array", "sum", json!([[i64::MAX, 1]])), "array.sum: overflow (the sum does not fit in i64)");
        assert_eq!(
            err("array", "sum", json!([[1, 2.5]])),
            "array.sum: argument 1 must be an array of integers (i64); element 1 is the number 2.5"
        );
        assert_eq!(err("array", "sum", json!([1])), "array.sum: argument 1 must be an array, got the number 1");
        assert_eq!(err("array", "sum", json!([[1], [2]])), "array.sum: expected 1 argument, got 2 arguments");
    }

    #[test]
    fn dedup_keeps_first_occurrences() {
        assert_eq!(ok("array", "dedup", json!([[]])), json!([]));
        assert_eq!(ok("array", "dedup", json!([["b", "a", "b", "c", "a"]])), json!(["b", "a", "c"]));
        assert_eq!(
            err("array", "dedup", json!([["a", 1]])),
            "array.dedup: argument 1 must be an array of strings; element 1 is the number 1"
        );
        assert_eq!(err("array", "dedup", json!([])), "array.dedup: expected 1 argument, got 0 arguments");
    }

    #[test]
    fn set_operations_are_sorted_and_unique() {
        let x = json!(["d", "a", "b", "a", "c"]);
        let y = json!(["e", "c", "a", "c"]);
        assert_eq!(ok("array", "intersect", json!([x, y])), json!(["a", "c"]));
        assert_eq!(ok("array", "diff", json!([x, y])), json!(["b", "d"]));
        assert_eq!(ok("array", "diff", json!([y, x])), json!(["e"]));
        assert_eq!(ok("array", "sdiff", json!([x, y])), json!(["b", "d", "e"]));
        assert_eq!(ok("array", "sdiff", json!([y, x])), json!(["b", "d", "e"]));
        assert_eq!(ok("array", "intersect", json!([[], y])), json!([]));
        assert_eq!(ok("array", "diff", json!([x, []])), json!(["a", "b", "c", "d"]));
        assert_eq!(ok("array", "sdiff", json!([[], []])), json!([]));
    }

    #[test]
    fn set_operation_errors() {
        assert_eq!(err("array", "intersect", json!([["a"]])), "array.intersect: expected 2 arguments, got 1 argument");
        assert_eq!(err("array", "diff", json!([["a"], "b"])), "array.diff: argument 2 must be an array, got a string");
        assert!(err("array", "sdiff", json!([[null], []])).contains("element 0 is null"));
    }

    #[test]
    fn slices() {
        let xs = json!([0, "one", [2], {"three": 3}]);
        assert_eq!(ok("array", "slice", json!([xs, 1, 3])), json!(["one", [2]]));
        assert_eq!(ok("array", "slice", json!([xs, 0, 4])), xs);
        assert_eq!(ok("array", "slice", json!([xs, 2, 2])), json!([]));
        assert_eq!(ok("array", "slice", json!([[], 5, 1])), json!([]), "empty arrays slice to empty");
        assert_eq!(err("array", "slice", json!([xs, 3, 2])), "array.slice: cannot take elements 3 to 2 of an array of 4 elements");
        assert_eq!(err("array", "slice", json!([xs, 0, 5])), "array.slice: cannot take elements 0 to 5 of an array of 4 elements");
        assert!(err("array", "slice", json!([xs, -1, 2])).starts_with("array.slice: argument 2 must be an integer from 0"));
        assert_eq!(err("array", "slice", json!([xs, 1])), "array.slice: expected 3 arguments, got 2 arguments");
    }

    #[test]
    fn lengths() {
        assert_eq!(ok("array", "length", json!([[]])), json!(0));
        assert_eq!(ok("array", "length", json!([[1, [2, 3]]])), json!(2));
        assert_eq!(err("array", "length", json!(["abc"])), "array.length: argument 1 must be an array, got a string");
        assert_eq!(err("array", "length", json!([])), "array.length: expected 1 argument, got 0 arguments");
    }
}
