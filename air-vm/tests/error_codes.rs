//! The error codes an outcome carries that AIR code cannot observe: errors before the run
//! and uncatchable ones. Each is reached from the input a peer could really be given, and
//! each keeps the previous data. (Catchable codes are conformance cases, in
//! `tests/conformance/air`; the other preparation codes are in `data_and_security.rs`.)

use air_vm::data::Data;
use air_vm::local::LocalNetwork;
use air_vm::trace::{CallState, Generation, State};
use air_vm::{CallRequest, CallResult, Outcome, invoke};
use serde_json::json;
use std::collections::BTreeMap;

fn answer(_: &str, _: &CallRequest) -> CallResult {
    CallResult::ok(json!("answer"))
}

/// The data `peer` holds after a local run of `air` started by `init`.
fn data_after(net: &LocalNetwork, air: &str, peer: &str) -> Vec<u8> {
    let run = net.run(air, "init", &mut answer);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    run.data[peer].clone()
}

fn assert_kept(out: &Outcome, prev: &[u8], code: i64, needle: &str) {
    assert_eq!(out.ret_code, code, "{}", out.error_message);
    assert!(out.error_message.contains(needle), "{needle:?} not in: {}", out.error_message);
    assert_eq!(out.data, prev, "the previous data must come back unchanged");
    assert!(out.next_peers.is_empty() && out.call_requests.is_empty());
}

#[test]
fn previous_data_that_does_not_decode_is_code_2() {
    let net = LocalNetwork::new(&["init"]);
    let prev = b"AQUADATA but not what follows".to_vec();
    let out = invoke("(null)", &prev, &[], &net.params("init", "init"), BTreeMap::new());
    assert_kept(&out, &prev, 2, "previous data");
}

#[test]
fn a_record_that_does_not_match_its_cid_is_code_8() {
    let net = LocalNetwork::new(&["init", "a"]);
    let air = net.expand(r#"(seq (call @a ("s" "f") [] x) (call %init_peer_id% ("s" "g") [x]))"#);
    let from_a = net.run(&air, "init", &mut answer).delivered.into_iter().rev().find(|(to, _)| to == "init").map(|(_, d)| d).unwrap();
    // The value's text replaced under its old CID: the store no longer hashes right.
    let mut data = Data::from_bytes(&from_a).unwrap().into_owned();
    let cid = *data.store.values.keys().find(|c| data.store.values[*c] == "\"answer\"").unwrap();
    data.store.values.insert(cid, "\"tampered\"".to_owned().into());
    let prev = invoke(&air, &[], &[], &net.params("init", "init"), BTreeMap::new()).data;
    let out = invoke(&air, &prev, &data.to_bytes(), &net.params("init", "init"), BTreeMap::new());
    assert_kept(&out, &prev, 8, "does not match its content");
}

/// The trace of one script delivered to a peer running another: at the first position,
/// a call state where the script has a `par`.
#[test]
fn a_trace_that_does_not_fit_the_script_is_code_20000() {
    let net = LocalNetwork::new(&["init", "a"]);
    let sequential = net.expand(r#"(seq (call @a ("s" "f") [] x) (call %init_peer_id% ("s" "g") [x]))"#);
    let parallel = net.expand(r#"(par (call @a ("s" "f") [] x) (call %init_peer_id% ("s" "g") []))"#);
    let from_a = data_after(&net, &sequential, "a");

    // Nothing to merge with: the run itself finds the mismatch.
    let out = invoke(&parallel, &[], &from_a, &net.params("init", "init"), BTreeMap::new());
    assert_kept(&out, &[], 20000, "expected a par state, but the trace holds a call state");

    // The peer's own trace has a par there: merging finds it first.
    let prev = invoke(&parallel, &[], &[], &net.params("init", "init"), BTreeMap::new()).data;
    let out = invoke(&parallel, &prev, &from_a, &net.params("init", "init"), BTreeMap::new());
    assert_kept(&out, &prev, 20000, "merging the incoming data failed");
}

/// A result recorded for a call that binds a scalar, replayed by the same call writing
/// to a stream: same arguments, same triplet, another kind of output.
#[test]
fn a_result_recorded_for_another_output_is_code_20006() {
    let net = LocalNetwork::new(&["init"]);
    let to_scalar = r#"(call %init_peer_id% ("s" "f") [] x)"#;
    let to_stream = r#"(call %init_peer_id% ("s" "f") [] $x)"#;
    let prev = data_after(&net, to_scalar, "init");
    let out = invoke(to_stream, &prev, &[], &net.params("init", "init"), BTreeMap::new());
    assert_kept(&out, &prev, 20006, "recorded for another kind of output");
}

/// A stream value given a generation no stream within the length limit has (generations
/// are not signed: each peer numbers its own): the run stops where the value is replayed,
/// before making the stream that big.
#[test]
fn a_stream_value_in_an_impossible_generation_is_code_20011() {
    let net = LocalNetwork::new(&["init", "a"]);
    let air = net.expand(r#"(seq (call @a ("s" "f") [] $s) (call %init_peer_id% ("s" "g") []))"#);
    let from_a = data_after(&net, &air, "a");
    let mut data = Data::from_bytes(&from_a).unwrap().into_owned();
    for state in data.trace.subtraces.iter_mut().flatten() {
        if let Some(generation) = state.generation_mut() {
            *generation = Generation::Own(u32::MAX);
        }
    }
    let prev = invoke(&air, &[], &[], &net.params("init", "init"), BTreeMap::new()).data;
    let out = invoke(&air, &prev, &data.to_bytes(), &net.params("init", "init"), BTreeMap::new());
    assert_kept(&out, &prev, 20011, &format!("stream '$s' in generation {}", u32::MAX));
}

/// A value a result record of the peer's own stored data refers to, missing from its
/// store (the storage was damaged; own data is not checked as deeply as what arrives):
/// the run stops where the value is needed.
#[test]
fn a_missing_record_in_the_peers_own_data_is_code_20010() {
    let net = LocalNetwork::new(&["init"]);
    let air = r#"(seq (call %init_peer_id% ("s" "f") [] x) (call %init_peer_id% ("s" "g") [x]))"#;
    let stored = data_after(&net, air, "init");
    let mut data = Data::from_bytes(&stored).unwrap().into_owned();
    let first = data.trace.subtraces[0].iter().find_map(|s| match s {
        State::Call(CallState::Executed { result, .. }) => Some(*result),
        _ => None,
    });
    let value = data.store.results[&first.unwrap()].value;
    data.store.values.remove(&value);
    let prev = data.to_bytes();
    let out = invoke(air, &prev, &[], &net.params("init", "init"), BTreeMap::new());
    assert_kept(&out, &prev, 20010, &format!("value for CID {value} is not found"));
}

/// Calls to another peer leave a state each without waiting for anything, so nested
/// folds fill the trace past its limit of a million states in one run.
#[test]
fn a_trace_past_its_limit_is_code_20021() {
    let net = LocalNetwork::new(&["init", "other"]);
    let air = net.expand(
        r#"(seq (call %init_peer_id% ("s" "items") [] xs)
                (fold xs x (par (fold xs y (par (call @other ("s" "f") []) (next y))) (next x))))"#,
    );
    let start = invoke(&air, &[], &[], &net.params("init", "init"), BTreeMap::new());
    assert_eq!(start.ret_code, 0, "{}", start.error_message);
    // 710 x 710 calls and as many `par` states: just over a million.
    let items: Vec<u32> = (0..710).collect();
    let results = start.call_requests.keys().map(|id| (*id, CallResult::ok(json!(items)))).collect();
    let out = invoke(&air, &start.data, &[], &net.params("init", "init"), results);
    assert_kept(&out, &start.data, 20021, "more than 1000000 states");
}
