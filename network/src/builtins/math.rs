//! `math` (checked i64 arithmetic) and `cmp` (number comparison).

use super::Outcome;
use super::args::{Args, describe};
use serde_json::{Number, Value};
use std::cmp::Ordering;

pub(super) fn call_math(function: &str, a: &Args<'_>) -> Outcome {
    let r = match function {
        "add" => binary(a, i64::checked_add, "+"),
        "sub" => binary(a, i64::checked_sub, "-"),
        "mul" => binary(a, i64::checked_mul, "*"),
        "div" => division(a, i64::checked_div, "/"),
        "rem" => division(a, i64::checked_rem, "%"),
        "pow" => pow(a),
        "fmul" => fmul(a),
        "log" => log(a),
        _ => return Outcome::NotFound,
    };
    r.into()
}

/// Two i64 arguments.
fn two_i64(a: &Args<'_>) -> Result<(i64, i64), String> {
    a.exactly(2)?;
    Ok((a.i64(0)?, a.i64(1)?))
}

fn binary(a: &Args<'_>, op: fn(i64, i64) -> Option<i64>, sign: &str) -> Result<Value, String> {
    let (x, y) = two_i64(a)?;
    op(x, y).map(Value::from).ok_or_else(|| a.error(format!("overflow ({x} {sign} {y} does not fit in i64)")))
}

fn division(a: &Args<'_>, op: fn(i64, i64) -> Option<i64>, sign: &str) -> Result<Value, String> {
    let (x, y) = two_i64(a)?;
    if y == 0 {
        return Err(a.error("division by zero"));
    }
    op(x, y).map(Value::from).ok_or_else(|| a.error(format!("overflow ({x} {sign} {y} does not fit in i64)")))
}

fn pow(a: &Args<'_>) -> Result<Value, String> {
    a.exactly(2)?;
    let (x, y) = (a.i64(0)?, a.u32(1)?);
    x.checked_pow(y).map(Value::from).ok_or_else(|| a.error(format!("overflow ({x} to the power {y} does not fit in i64)")))
}

/// `fmul(x, y)`: the product of two numbers, rounded down to an i64.
fn fmul(a: &Args<'_>) -> Result<Value, String> {
    a.exactly(2)?;
    let (x, y) = (a.f64(0)?, a.f64(1)?);
    let product = (x * y).floor();
    // i64::MAX as f64 rounds up to 2^63, which is already out of range.
    if product.is_finite() && product >= i64::MIN as f64 && product < i64::MAX as f64 {
        Ok(Value::from(product as i64))
    } else {
        Err(a.error(format!("overflow ({x} * {y} does not fit in i64)")))
    }
}

/// `log(base, x)`: the integer logarithm, the largest `n` with `base^n <= x`.
fn log(a: &Args<'_>) -> Result<Value, String> {
    let (base, x) = two_i64(a)?;
    if base < 2 {
        return Err(a.error(format!("the base must be at least 2, got {base}")));
    }
    if x < 1 {
        return Err(a.error(format!("the logarithm of {x} is undefined: x must be at least 1")));
    }
    Ok(Value::from(x.ilog(base)))
}

pub(super) fn call_cmp(function: &str, a: &Args<'_>) -> Outcome {
    let test: fn(Ordering) -> bool = match function {
        "gt" => Ordering::is_gt,
        "gte" => Ordering::is_ge,
        "lt" => Ordering::is_lt,
        "lte" => Ordering::is_le,
        "cmp" => return compare(a).map(|o| Value::from(o as i8)).into(),
        _ => return Outcome::NotFound,
    };
    compare(a).map(|o| Value::Bool(test(o))).into()
}

/// Compares two numbers: exactly when both are integers, as f64 otherwise.
fn compare(a: &Args<'_>) -> Result<Ordering, String> {
    a.exactly(2)?;
    let number = |i: usize| match a.get(i)? {
        Value::Number(n) => Ok(n),
        v => Err(a.error(format!("argument {} must be a number, got {}", i + 1, describe(v)))),
    };
    let (x, y) = (number(0)?, number(1)?);
    let int = |n: &Number| n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from));
    Ok(match (int(x), int(y)) {
        (Some(x), Some(y)) => x.cmp(&y),
        // Without arbitrary precision every JSON number is a finite f64, so this always answers.
        _ => x.as_f64().zip(y.as_f64()).and_then(|(x, y)| x.partial_cmp(&y)).unwrap_or(Ordering::Equal),
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use serde_json::json;

    #[test]
    fn arithmetic() {
        assert_eq!(ok("math", "add", json!([2, 3])), json!(5));
        assert_eq!(ok("math", "add", json!([-2, 3])), json!(1));
        assert_eq!(ok("math", "sub", json!([2, 3])), json!(-1));
        assert_eq!(ok("math", "mul", json!([-4, 3])), json!(-12));
        assert_eq!(ok("math", "div", json!([7, 2])), json!(3));
        assert_eq!(ok("math", "div", json!([-7, 2])), json!(-3), "truncates toward zero");
        assert_eq!(ok("math", "rem", json!([7, 3])), json!(1));
        assert_eq!(ok("math", "rem", json!([-7, 3])), json!(-1));
        assert_eq!(ok("math", "pow", json!([2, 10])), json!(1024));
        assert_eq!(ok("math", "pow", json!([-3, 3])), json!(-27));
        assert_eq!(ok("math", "pow", json!([5, 0])), json!(1));
        assert_eq!(ok("math", "add", json!([i64::MAX, 0])), json!(i64::MAX));
    }

    #[test]
    fn overflow_is_an_error() {
        assert_eq!(err("math", "add", json!([i64::MAX, 1])), "math.add: overflow (9223372036854775807 + 1 does not fit in i64)");
        assert!(err("math", "sub", json!([i64::MIN, 1])).starts_with("math.sub: overflow"));
        assert!(err("math", "mul", json!([i64::MAX, 2])).starts_with("math.mul: overflow"));
        assert!(err("math", "div", json!([i64::MIN, -1])).starts_with("math.div: overflow"));
        assert!(err("math", "rem", json!([i64::MIN, -1])).starts_with("math.rem: overflow"));
        assert_eq!(err("math", "pow", json!([2, 63])), "math.pow: overflow (2 to the power 63 does not fit in i64)");
        assert_eq!(ok("math", "pow", json!([2, 62])), json!(1_i64 << 62));
    }

    #[test]
    fn division_by_zero() {
        assert_eq!(err("math", "div", json!([1, 0])), "math.div: division by zero");
        assert_eq!(err("math", "rem", json!([1, 0])), "math.rem: division by zero");
    }

    #[test]
    fn argument_checks() {
        assert_eq!(err("math", "add", json!([1])), "math.add: expected 2 arguments, got 1 argument");
        assert_eq!(err("math", "add", json!([1, 2, 3])), "math.add: expected 2 arguments, got 3 arguments");
        assert_eq!(err("math", "add", json!([1.5, 2])), "math.add: argument 1 must be an integer (i64), got the number 1.5");
        assert_eq!(err("math", "mul", json!([1, "2"])), "math.mul: argument 2 must be an integer (i64), got a string");
        assert!(
            err("math", "add", json!([u64::MAX, 1])).contains("argument 1 must be an integer (i64), got the number 18446744073709551615")
        );
        assert!(err("math", "pow", json!([2, -1])).starts_with("math.pow: argument 2 must be an integer from 0 to 4294967295"));
        assert_eq!(err("math", "fmul", json!(["1", 2])), "math.fmul: argument 1 must be a number, got a string");
    }

    #[test]
    fn fmul_floors() {
        assert_eq!(ok("math", "fmul", json!([1.5, 3])), json!(4));
        assert_eq!(ok("math", "fmul", json!([-1.5, 3])), json!(-5));
        assert_eq!(ok("math", "fmul", json!([0.1, 0.1])), json!(0));
        assert_eq!(ok("math", "fmul", json!([2, 3])), json!(6));
        assert!(err("math", "fmul", json!([1e300, 1e300])).starts_with("math.fmul: overflow"));
        assert!(err("math", "fmul", json!([9.3e18, 1])).starts_with("math.fmul: overflow"));
        assert_eq!(ok("math", "fmul", json!([-9.2e18, 1])), json!(-9_200_000_000_000_000_000_i64));
    }

    #[test]
    fn integer_log() {
        assert_eq!(ok("math", "log", json!([2, 1])), json!(0));
        assert_eq!(ok("math", "log", json!([2, 1024])), json!(10));
        assert_eq!(ok("math", "log", json!([2, 1023])), json!(9));
        assert_eq!(ok("math", "log", json!([10, 999])), json!(2));
        assert_eq!(ok("math", "log", json!([3, i64::MAX])), json!(39));
        assert_eq!(err("math", "log", json!([1, 10])), "math.log: the base must be at least 2, got 1");
        assert_eq!(err("math", "log", json!([-2, 10])), "math.log: the base must be at least 2, got -2");
        assert_eq!(err("math", "log", json!([2, 0])), "math.log: the logarithm of 0 is undefined: x must be at least 1");
        assert!(err("math", "log", json!([2, -8])).starts_with("math.log: the logarithm of -8"));
    }

    #[test]
    fn comparisons() {
        for (x, y, gt, gte, lt, lte, cmp) in [
            (json!(2), json!(1), true, true, false, false, 1),
            (json!(1), json!(1), false, true, false, true, 0),
            (json!(-1), json!(1), false, false, true, true, -1),
            (json!(1.5), json!(1), true, true, false, false, 1),
            (json!(1), json!(1.0), false, true, false, true, 0),
            (json!(u64::MAX), json!(-1), true, true, false, false, 1),
            (json!(i64::MAX), json!(i64::MAX - 1), true, true, false, false, 1),
        ] {
            let args = json!([x, y]);
            assert_eq!(ok("cmp", "gt", args.clone()), json!(gt), "gt {args}");
            assert_eq!(ok("cmp", "gte", args.clone()), json!(gte), "gte {args}");
            assert_eq!(ok("cmp", "lt", args.clone()), json!(lt), "lt {args}");
            assert_eq!(ok("cmp", "lte", args.clone()), json!(lte), "lte {args}");
            assert_eq!(ok("cmp", "cmp", args.clone()), json!(cmp), "cmp {args}");
        }
    }

    #[test]
    fn comparison_errors() {
        assert_eq!(err("cmp", "gt", json!([1])), "cmp.gt: expected 2 arguments, got 1 argument");
        assert_eq!(err("cmp", "cmp", json!(["a", 1])), "cmp.cmp: argument 1 must be a number, got a string");
        assert_eq!(err("cmp", "lte", json!([1, null])), "cmp.lte: argument 2 must be a number, got null");
    }
}
