//! Convergence: the merge laws, and the same contributions in any order give the same trace.

use air_vm::data::Data;
use air_vm::local::LocalNetwork;
use air_vm::merge::merge_traces;
use air_vm::trace::{CallState, FoldIteration, Generation, Output, State, SubtraceId, Trace, ValueKey};
use air_vm::value::Cid;
use air_vm::{CallRequest, CallResult, invoke};
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;

/// A random complete trace tree, described as nested nodes before it is put in an arena.
#[derive(Debug, Clone)]
enum Node {
    Call(u8),
    Ap,
    Par(Vec<Node>, Vec<Node>),
    Fold(Vec<(u8, Vec<Node>)>),
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![any::<u8>().prop_map(Node::Call), Just(Node::Ap)];
    leaf.prop_recursive(4, 48, 4, |inner| {
        prop_oneof![
            (prop::collection::vec(inner.clone(), 0..4), prop::collection::vec(inner.clone(), 0..4)).prop_map(|(l, r)| Node::Par(l, r)),
            prop::collection::btree_map(any::<u8>(), prop::collection::vec(inner, 0..3), 0..3)
                .prop_map(|m| Node::Fold(m.into_iter().collect())),
        ]
    })
}

/// Builds the arena form of `nodes`; `keep(n)` decides, from a running counter, how much of
/// the full trace this view holds: 0 drops the rest of a subtrace, 1 keeps a call only as
/// "request sent", 2 keeps everything.
fn build(nodes: &[Node], keep: &mut dyn FnMut() -> u8) -> Trace {
    let mut trace = Trace::default();
    let mut work = vec![(nodes.to_vec(), Trace::ROOT)];
    while let Some((nodes, sub)) = work.pop() {
        let mut states = Vec::new();
        for n in nodes {
            let k = keep();
            if k == 0 {
                break;
            }
            states.push(match n {
                Node::Call(v) if k == 1 => {
                    let _ = v;
                    State::Call(CallState::RequestSent { by: "peer".into(), call_id: None })
                }
                Node::Call(v) => State::Call(CallState::Executed { result: Cid::of("test", &[v]), output: Output::Scalar }),
                Node::Ap => State::Ap(Generation::Own(0)),
                Node::Par(l, r) => {
                    let (ls, rs) = (trace.new_subtrace(), trace.new_subtrace());
                    work.push((l, ls));
                    work.push((r, rs));
                    State::Par { left: ls, right: rs }
                }
                Node::Fold(its) => {
                    let mut iterations = Vec::new();
                    for (key, body) in its {
                        if keep() == 0 {
                            continue;
                        }
                        let s = trace.new_subtrace();
                        work.push((body, s));
                        iterations.push(FoldIteration { value: ValueKey([key; 16]), subtrace: s });
                    }
                    State::Fold { iterations }
                }
            });
        }
        trace.subtraces[sub.0 as usize] = states;
    }
    trace.canonicalize();
    trace
}

/// A view of the full trace chosen by `seed`.
fn view(nodes: &[Node], seed: u64) -> Trace {
    let mut x = seed | 1;
    build(nodes, &mut || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        [0, 1, 2, 2, 2, 2][(x % 6) as usize]
    })
}

fn full(nodes: &[Node]) -> Trace {
    build(nodes, &mut || 2)
}

proptest! {
    #[test]
    fn merging_is_idempotent(nodes in prop::collection::vec(node(), 0..6), seed in any::<u64>()) {
        let a = view(&nodes, seed);
        prop_assert_eq!(merge_traces(&a, &a).unwrap(), a);
    }

    #[test]
    fn an_empty_trace_is_the_identity_of_merging(nodes in prop::collection::vec(node(), 0..6), seed in any::<u64>()) {
        let (a, empty) = (view(&nodes, seed), Trace::default());
        prop_assert_eq!(merge_traces(&a, &empty).unwrap(), a.clone());
        // Taken from the incoming side, stream values are marked as the sender's generations.
        prop_assert_eq!(merge_traces(&empty, &a).unwrap().normalized(), a.normalized());
    }

    #[test]
    fn merging_is_associative_and_order_free_up_to_fold_order(nodes in prop::collection::vec(node(), 0..6), s1 in any::<u64>(), s2 in any::<u64>(), s3 in any::<u64>()) {
        let (a, b, c) = (view(&nodes, s1), view(&nodes, s2), view(&nodes, s3));
        let left = merge_traces(&merge_traces(&a, &b).unwrap(), &c).unwrap();
        let right = merge_traces(&a, &merge_traces(&b, &c).unwrap()).unwrap();
        prop_assert_eq!(&left, &right);
        // Another order gives the same trace, up to the order of fold iterations.
        let reversed = merge_traces(&merge_traces(&c, &b).unwrap(), &a).unwrap();
        prop_assert_eq!(left.normalized(), reversed.normalized());
    }

    #[test]
    fn the_full_trace_absorbs_every_view(nodes in prop::collection::vec(node(), 0..6), seed in any::<u64>()) {
        let (v, f) = (view(&nodes, seed), full(&nodes));
        prop_assert_eq!(merge_traces(&v, &f).unwrap().normalized(), f.normalized());
        prop_assert_eq!(merge_traces(&f, &v).unwrap(), f);
    }
}

#[test]
fn a_state_of_another_kind_is_rejected_with_its_position() {
    let mut a = Trace::default();
    a.subtraces[0].push(State::Ap(Generation::Own(0)));
    let mut b = Trace::default();
    b.subtraces[0].push(State::Ap(Generation::Own(0)));
    let (l, r) = (b.new_subtrace(), b.new_subtrace());
    b.subtraces[0].push(State::Par { left: l, right: r });
    b.subtraces[r.0 as usize].push(State::Ap(Generation::Own(0)));
    let mut c = b.clone();
    c.subtraces[r.0 as usize][0] = State::Call(CallState::Executed { result: Cid::of("x", b"1"), output: Output::Unused });
    let err = merge_traces(&b, &c).unwrap_err().to_string();
    assert_eq!(err, "at root[1].right[0]: the previous data has a ap state where the incoming data has a call state");
    assert!(merge_traces(&a, &b).is_ok());
    let _ = SubtraceId(0);
}

#[test]
fn a_result_cannot_turn_back_into_a_request_or_into_another_result() {
    let mk = |s: CallState| Trace { subtraces: vec![vec![State::Call(s)]] };
    let sent = mk(CallState::RequestSent { by: "p".into(), call_id: None });
    let done = mk(CallState::Executed { result: Cid::of("x", b"1"), output: Output::Scalar });
    let other = mk(CallState::Executed { result: Cid::of("x", b"2"), output: Output::Scalar });
    let failed = mk(CallState::Failed { result: Cid::of("x", b"1") });
    assert_eq!(merge_traces(&done, &sent).unwrap(), done);
    assert_eq!(merge_traces(&sent, &done).unwrap(), done);
    assert!(merge_traces(&done, &other).unwrap_err().to_string().contains("different results"));
    assert!(merge_traces(&done, &failed).unwrap_err().to_string().contains("succeeded in one data and failed"));
}

/// Fan-out to three peers, each reporting back to the init peer: no step depends on timing.
const FAN_OUT: &str = r#"
(seq
  (call %init_peer_id% ("s" "peers") [] peers)
  (fold peers p
    (par
      (seq
        (call p ("s" "work") [p] r)
        (seq
          (call %init_peer_id% ("s" "collect") [r] $all)
          (ap r $mine)))
      (next p))))
"#;

fn fan_out_services(_peer: &str, r: &CallRequest) -> CallResult {
    match r.function_name.as_str() {
        "peers" => CallResult::ok(json!(["@a", "@b", "@c"])),
        "work" => CallResult::ok(json!(format!("done by {}", r.arguments[0].as_str().unwrap_or_default()))),
        _ => CallResult::ok(json!("ok")),
    }
}

/// The fan-out script for `net` (peers a, b, c) and the services it calls.
fn fan_out(net: &LocalNetwork) -> (String, impl FnMut(&str, &CallRequest) -> CallResult + use<>) {
    let peers = json!([net.id("a"), net.id("b"), net.id("c")]);
    let services =
        move |p: &str, r: &CallRequest| if r.function_name == "peers" { CallResult::ok(peers.clone()) } else { fan_out_services(p, r) };
    (net.expand(FAN_OUT), services)
}

#[test]
fn any_delivery_order_gives_the_init_peer_the_same_final_trace() {
    let net = LocalNetwork::new(&["init", "a", "b", "c"]);
    let (air, mut services) = fan_out(&net);
    let reference = net.run(&air, "init", &mut services);
    assert!(reference.errors.is_empty(), "{:?}", reference.errors);
    let expected = LocalNetwork::final_data(&reference, "init");
    assert_eq!(reference.calls.iter().filter(|c| c.request.function_name == "collect").count(), 3);
    for seed in 1..40u64 {
        let mut x = seed;
        let mut pick = |n: usize| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((x >> 33) as usize) % n
        };
        let run = net.run_ordered(&air, "init", &mut services, &mut pick);
        assert!(run.errors.is_empty(), "{:?}", run.errors);
        let got = LocalNetwork::final_data(&run, "init");
        // Up to generation numbers, which record the order in which values reached a peer.
        assert_eq!(got.trace.normalized(), expected.trace.normalized(), "delivery order {seed} changed the final trace");
        assert_eq!(got.store, expected.store);
    }
}

#[test]
fn an_observer_merging_all_contributions_in_any_order_gets_one_trace() {
    let net = LocalNetwork::new(&["init", "a", "b", "c", "observer"]);
    let (air, mut services) = fan_out(&net);
    let run = net.run(&air, "init", &mut services);
    let mut blobs: Vec<Vec<u8>> = run.delivered.iter().map(|(_, d)| d.clone()).collect();
    blobs.extend(run.data.values().cloned());
    let observe = |order: &[usize]| {
        let params = net.params("init", "observer");
        let mut data = Vec::new();
        for &i in order {
            let out = invoke(&air, &data, &blobs[i], &params, BTreeMap::new());
            assert_eq!(out.ret_code, 0, "{}", out.error_message);
            data = out.data;
        }
        Data::from_bytes(&data).unwrap().into_owned()
    };
    let forward: Vec<usize> = (0..blobs.len()).collect();
    let backward: Vec<usize> = forward.iter().rev().copied().collect();
    let mut shuffled = forward.clone();
    shuffled.sort_by_key(|i| (i * 7919) % 13);
    let (f, b, s) = (observe(&forward), observe(&backward), observe(&shuffled));
    assert_eq!(f.trace, b.trace);
    assert_eq!(f.trace, s.trace);
    assert_eq!(f.store, s.store);
}

#[test]
fn the_same_run_twice_gives_byte_identical_data() {
    let net = LocalNetwork::new(&["init", "a", "b", "c"]);
    let (air, mut services) = fan_out(&net);
    let first = net.run(&air, "init", &mut services);
    let second = net.run(&air, "init", &mut services);
    assert_eq!(first.data, second.data);
    assert_eq!(first.delivered, second.delivered);
}
