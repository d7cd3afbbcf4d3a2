//! Deep nesting, long folds and the size limits.

use air_vm::data::Data;
use air_vm::local::LocalNetwork;
use air_vm::{CallRequest, CallResult, invoke};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

fn report_args(run: &air_vm::local::LocalRun) -> Vec<Json> {
    run.calls.iter().filter(|c| c.request.function_name == "report").map(|c| Json::Array(c.request.arguments.clone())).collect()
}

/// `depth` nested `(kind first ...)` around `inner`, where `first` is `(null)`, or for
/// `xor` a failure so that the right branch runs.
fn nested(kind: &str, depth: usize, inner: &str) -> String {
    let first = if kind == "xor" { r#"(fail 1 "left")"# } else { "(null)" };
    let mut s = String::with_capacity(depth * 24 + inner.len());
    for _ in 0..depth {
        s.push('(');
        s.push_str(kind);
        s.push(' ');
        s.push_str(first);
        s.push(' ');
    }
    s.push_str(inner);
    s.push_str(&")".repeat(depth));
    s
}

#[test]
fn air_nested_ten_thousand_deep_runs_on_a_test_thread() {
    let net = LocalNetwork::new(&["init"]);
    let report = r#"(call %init_peer_id% ("s" "report") ["deep"])"#;
    for kind in ["seq", "par", "xor"] {
        let air = nested(kind, 10_000, report);
        let run = net.run(&air, "init", &mut |_: &str, _: &CallRequest| CallResult::ok(json!(null)));
        assert!(run.errors.is_empty(), "{kind}: {:?}", run.errors);
        assert_eq!(report_args(&run), vec![json!(["deep"])], "{kind}");
    }
    // The par nesting left 10 000 nested par states; the data still encodes and decodes.
    let air = nested("par", 10_000, report);
    let run = net.run(&air, "init", &mut |_: &str, _: &CallRequest| CallResult::ok(json!(null)));
    let data = LocalNetwork::final_data(&run, "init");
    assert_eq!(data.trace.state_count(), 10_001);
    assert_eq!(Data::from_bytes(&data.to_bytes()).unwrap(), data);
}

#[test]
fn a_fold_over_one_hundred_thousand_elements_runs_without_overflow() {
    let net = LocalNetwork::new(&["init"]);
    let big: Vec<u32> = (0..100_000).collect();
    let mut services = |_: &str, r: &CallRequest| match r.function_name.as_str() {
        "big" => CallResult::ok(json!(big)),
        _ => CallResult::ok(json!(null)),
    };
    // Sequential body, last element reported after the walk.
    let air = r#"
      (seq (call %init_peer_id% ("s" "big") [] xs)
      (seq (fold xs x (seq (ap x last) (next x)) (null))
           (call %init_peer_id% ("s" "report") [xs.length])))"#;
    let run = net.run(air, "init", &mut services);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(report_args(&run), vec![json!([100_000])]);
    // Parallel body: every iteration nests a par in the previous one's right branch.
    let air = r#"
      (seq (call %init_peer_id% ("s" "big") [] xs)
      (seq (fold xs x (par (ap x y) (next x)))
           (call %init_peer_id% ("s" "report") ["done"])))"#;
    let run = net.run(air, "init", &mut services);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(report_args(&run), vec![json!(["done"])]);
    assert_eq!(LocalNetwork::final_data(&run, "init").trace.state_count(), 100_000 + 2);
}

#[test]
fn a_stream_over_its_length_limit_is_an_uncatchable_error() {
    let net = LocalNetwork::new(&["init"]);
    let mut services = |_: &str, _: &CallRequest| CallResult::ok(json!((0..2000).collect::<Vec<u32>>()));
    let air = r#"(seq (call %init_peer_id% ("s" "many") [] xs) (xor (fold xs x (seq (ap x $s) (next x))) (null)))"#;
    let run = net.run(air, "init", &mut services);
    assert_eq!(run.errors.len(), 1, "{:?}", run.errors);
    assert_eq!(run.errors[0].1, 20013);
    assert!(run.errors[0].2.contains("limit of 1024"), "{}", run.errors[0].2);
}

#[test]
fn oversized_inputs_are_refused_before_anything_runs() {
    let net = LocalNetwork::new(&["init"]);
    let params = net.params("init", "init");
    let huge_air = format!("(null) ;{}", "x".repeat(air_vm::limits::MAX_AIR_SIZE_BYTES));
    let out = invoke(&huge_air, &[], &[], &params, &BTreeMap::new());
    assert_eq!(out.ret_code, 10);
    assert!(out.error_message.contains("the script has"), "{}", out.error_message);
    let mut results = BTreeMap::new();
    results.insert(1, CallResult::ok(Json::String("x".repeat(air_vm::limits::MAX_CALL_RESULT_SIZE_BYTES))));
    let out = invoke("(null)", &[], &[], &params, &results);
    assert_eq!(out.ret_code, 10);
    assert!(out.error_message.contains("call result 1"), "{}", out.error_message);
}
