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
fn a_stream_reaching_its_length_limit_is_an_uncatchable_error() {
    let net = LocalNetwork::new(&["init"]);
    let air = r#"(seq (call %init_peer_id% ("s" "many") [] xs) (xor (fold xs x (seq (ap x $s) (next x))) (null)))"#;
    // As in AquaVM, the 1 024th value is one too many.
    for (len, errors) in [(1023, 0), (1024, 1)] {
        let mut services = |_: &str, _: &CallRequest| CallResult::ok(json!((0..len).collect::<Vec<u32>>()));
        let run = net.run(air, "init", &mut services);
        assert_eq!(run.errors.len(), errors, "{len}: {:?}", run.errors);
        if let Some((_, code, message)) = run.errors.first() {
            assert_eq!(*code, 20013);
            assert!(message.contains("limit of 1024"), "{message}");
        }
    }
}

#[test]
fn oversized_inputs_are_refused_before_anything_runs() {
    let net = LocalNetwork::new(&["init"]);
    let params = net.params("init", "init");
    let huge_air = format!("(null) ;{}", "x".repeat(air_vm::limits::MAX_AIR_SIZE_BYTES));
    let out = invoke(&huge_air, &[], &[], &params, BTreeMap::new());
    assert_eq!(out.ret_code, 10);
    assert!(out.error_message.contains("the script has"), "{}", out.error_message);
    let mut results = BTreeMap::new();
    results.insert(1, CallResult::ok(Json::String("x".repeat(air_vm::limits::MAX_CALL_RESULT_SIZE_BYTES))));
    let out = invoke("(null)", &[], &[], &params, results);
    assert_eq!(out.ret_code, 10);
    assert!(out.error_message.contains("call result 1"), "{}", out.error_message);
}

#[test]
fn a_host_sets_its_own_size_limits() {
    let net = LocalNetwork::new(&["init", "p1"]);
    let air = r#"(seq (call %init_peer_id% ("s" "get") [] v) (call "P1" ("s" "use") [v]))"#.replace("P1", &net.id("p1"));
    let mut params = net.params("init", "init");
    let start = invoke(&air, &[], &[], &params, BTreeMap::new());
    let value = Json::String("x".repeat(1000));
    let results: BTreeMap<u32, CallResult> = start.call_requests.keys().map(|id| (*id, CallResult::ok(value.clone()))).collect();

    // A result of 1 002 bytes of JSON text: refused under a 1 001-byte limit, taken under 1 002.
    params.size_limits.call_result_bytes = 1001;
    let refused = invoke(&air, &start.data, &[], &params, results.clone());
    assert_eq!(refused.ret_code, 10);
    assert!(refused.error_message.contains("call result 1 has 1002 bytes; the limit is 1001"), "{}", refused.error_message);
    assert_eq!(refused.data, start.data, "a refused run keeps the previous data");
    params.size_limits.call_result_bytes = 1002;
    let taken = invoke(&air, &start.data, &[], &params, results);
    assert_eq!(taken.ret_code, 0, "{}", taken.error_message);

    // The data it sends on: refused by a peer whose data limit is below its size.
    let mut p1 = net.params("init", "p1");
    p1.size_limits.data_bytes = taken.data.len() - 1;
    let refused = invoke(&air, &[], &taken.data, &p1, BTreeMap::new());
    assert_eq!(refused.ret_code, 10);
    assert!(refused.error_message.contains("the incoming data has"), "{}", refused.error_message);
    p1.size_limits.data_bytes = taken.data.len();
    let taken = invoke(&air, &[], &taken.data, &p1, BTreeMap::new());
    assert_eq!(taken.ret_code, 0, "{}", taken.error_message);
    assert_eq!(taken.call_requests[&1].arguments, vec![value]);
}
