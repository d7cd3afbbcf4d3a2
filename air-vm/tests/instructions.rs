//! One or more tests per instruction, run on several peers with the local driver.

use air_vm::local::{LocalNetwork, LocalRun};
use air_vm::{CallRequest, CallResult};
use serde_json::{Value as Json, json};

/// A service table for tests: `s.echo` returns its first argument, `s.fail` fails,
/// `s.value` returns the argument list's length... see the match below.
fn services(_peer: &str, r: &CallRequest) -> CallResult {
    match (r.service_id.as_str(), r.function_name.as_str()) {
        ("s", "echo") => CallResult::ok(r.arguments.first().cloned().unwrap_or(Json::Null)),
        ("s", "args") => CallResult::ok(Json::Array(r.arguments.clone())),
        ("s", "fail") => CallResult::error(1, "boom"),
        ("s", "list") => CallResult::ok(json!([1, 2, 3])),
        ("s", "unit") => CallResult::ok(json!("unit")),
        ("s", "error_object") => CallResult::ok(json!({"error_code": 9, "message": "m", "extra": true})),
        _ => CallResult::error(2, format!("no {}.{}", r.service_id, r.function_name)),
    }
}

/// Arguments of every call to `s.report`, in order.
fn reports(run: &LocalRun) -> Vec<Json> {
    run.calls.iter().filter(|c| c.request.function_name == "report").map(|c| Json::Array(c.request.arguments.clone())).collect()
}

fn net() -> LocalNetwork {
    LocalNetwork::new(&["init", "a", "b", "c"])
}

fn report_services(peer: &str, r: &CallRequest) -> CallResult {
    if r.function_name == "report" { CallResult::ok(Json::Null) } else { services(peer, r) }
}

fn run_r(net: &LocalNetwork, air: &str) -> LocalRun {
    let air = net.expand(air);
    net.run(&air, "init", &mut report_services)
}

#[test]
fn local_call_binds_its_result() {
    let net = net();
    let r = run_r(&net, r#"(seq (call %init_peer_id% ("s" "echo") ["hi"] x) (call %init_peer_id% ("s" "report") [x]))"#);
    assert_eq!(reports(&r), vec![json!(["hi"])]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
}

#[test]
fn a_call_on_another_peer_hops_there_and_the_result_travels_on() {
    let net = net();
    let r = run_r(
        &net,
        r#"(seq (call @a ("s" "echo") ["from a"] x)
                (seq (call @b ("s" "args") [x] y)
                     (call %init_peer_id% ("s" "report") [y])))"#,
    );
    let peers: Vec<&str> = r.calls.iter().map(|c| c.peer.as_str()).collect();
    assert_eq!(peers, ["a", "b", "init"]);
    assert_eq!(reports(&r), vec![json!([["from a"]])]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
}

#[test]
fn par_runs_both_branches_and_a_join_waits_for_both_values() {
    let net = net();
    let r = run_r(
        &net,
        r#"(seq (par (call @a ("s" "echo") ["x"] x)
                     (call @b ("s" "echo") ["y"] y))
                (call %init_peer_id% ("s" "report") [x y]))"#,
    );
    assert_eq!(reports(&r), vec![json!(["x", "y"])]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
}

#[test]
fn xor_catches_a_service_error_and_sets_last_error() {
    let net = net();
    let r = run_r(
        &net,
        r#"(xor (call %init_peer_id% ("s" "fail") [] x)
                (call %init_peer_id% ("s" "report") [%last_error% :error: %last_error%.$.error_code]))"#,
    );
    let init = net.id("init");
    let expected_error = json!({
        "error_code": 10000,
        "message": "Local service error, ret_code is 1, error message is '\"boom\"'",
        "instruction": r#"call %init_peer_id% ("s" "fail") [] x"#,
        "peer_id": init,
    });
    assert_eq!(reports(&r), vec![json!([expected_error, expected_error, 10000])]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
}

#[test]
fn an_error_on_a_remote_peer_is_caught_by_the_xor_around_it() {
    let net = net();
    let r = run_r(
        &net,
        r#"(xor (call @a ("s" "fail") [] x)
                (call %init_peer_id% ("s" "report") [%last_error%.$.peer_id %last_error%.$.error_code]))"#,
    );
    assert_eq!(reports(&r), vec![json!([net.id("a"), 10000])]);
}

#[test]
fn an_uncaught_fail_reaches_the_root_as_10006_with_the_object_it_threw() {
    let net = net();
    let r = run_r(&net, r#"(seq (null) (fail 42 "nope"))"#);
    // AquaVM's message, the object's keys in sorted order.
    let message = format!(
        r#"fail with '{{"error_code":42,"instruction":"fail 42 \"nope\"","message":"nope","peer_id":"{}"}}' is used without corresponding xor"#,
        net.id("init")
    );
    assert_eq!(r.errors, vec![("init".to_owned(), 10006, message)]);
    let r = run_r(&net, r#"(xor (call %init_peer_id% ("s" "fail") [] x) (call %init_peer_id% ("s" "unit") [] y))"#);
    assert!(r.errors.is_empty());
    let r = run_r(&net, r#"(call %init_peer_id% ("s" "fail") [] x)"#);
    assert_eq!(r.errors[0].1, 10000, "a service error keeps its own code");
}

#[test]
fn match_and_mismatch_choose_branches() {
    let net = net();
    let r = run_r(
        &net,
        r#"(seq (call %init_peer_id% ("s" "echo") [1] one)
           (seq (xor (match one 1 (call %init_peer_id% ("s" "report") ["equal"])) (null))
           (seq (xor (match one 2 (call %init_peer_id% ("s" "report") ["wrong"])) (call %init_peer_id% ("s" "report") [:error:.$.error_code %last_error%.$.error_code]))
                (xor (mismatch one 2 (call %init_peer_id% ("s" "report") ["differ"])) (null)))))"#,
    );
    // A failed match sets `:error:` (10001) but leaves `%last_error%` as it was (no error: 0).
    assert_eq!(reports(&r), vec![json!(["equal"]), json!([10001, 0]), json!(["differ"])]);
}

#[test]
fn fold_over_an_array_visits_in_order_and_next_after_visits_in_reverse() {
    let net = net();
    let r = run_r(
        &net,
        r#"(seq (call %init_peer_id% ("s" "list") [] xs)
           (seq (fold xs x (seq (call %init_peer_id% ("s" "report") [x]) (next x)))
                (fold xs y (seq (next y) (call %init_peer_id% ("s" "report") [y])))))"#,
    );
    assert_eq!(reports(&r), vec![json!([1]), json!([2]), json!([3]), json!([3]), json!([2]), json!([1])]);
}

#[test]
fn fold_with_par_over_peers_fans_out_and_collects_into_a_stream() {
    let net = net();
    let peers = json!([net.id("a"), net.id("b"), net.id("c")]);
    let air = net.expand(
        r#"(seq (seq (call %init_peer_id% ("s" "peers") [] peers)
                (fold peers p
                   (par (seq (call p ("s" "echo") [p] $res)
                             (call %init_peer_id% ("s" "unit") []))
                        (next p))))
           (seq (canon %init_peer_id% $res #res)
                (call %init_peer_id% ("s" "report") [#res.length])))"#,
    );
    let r = net.run(&air, "init", &mut |p: &str, r: &CallRequest| {
        if r.function_name == "peers" { CallResult::ok(peers.clone()) } else { report_services(p, r) }
    });
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    // The canon runs as soon as the init peer has seen the par complete: at least one
    // value, never more than three, and each run of the init peer reports once.
    let lengths: Vec<i64> = reports(&r).iter().map(|j| j[0].as_i64().unwrap_or(-1)).collect();
    assert_eq!(lengths.first(), Some(&1));
    assert!(lengths.iter().all(|n| (1..=3).contains(n)));
}

#[test]
fn ap_to_a_stream_and_canon_keep_insertion_order_and_tetraplets() {
    let net = net();
    let r = run_r(
        &net,
        r#"(seq (call @a ("s" "echo") ["from a"] x)
           (seq (ap x $s)
           (seq (ap "literal" $s)
           (seq (canon %init_peer_id% $s #s)
                (call %init_peer_id% ("s" "report") [#s #s.$.[1] #s.length])))))"#,
    );
    assert_eq!(reports(&r), vec![json!([["from a", "literal"], "literal", 2])]);
    let report = r.calls.iter().find(|c| c.request.function_name == "report").map(|c| c.request.tetraplets.clone()).unwrap_or_default();
    assert_eq!(report[0].len(), 2);
    assert_eq!(report[0][0].peer_pk, net.id("a"));
    assert_eq!(report[0][0].service_id, "s");
    assert_eq!(report[0][1].peer_pk, net.id("init"));
    assert_eq!(report[0][1].service_id, "");
}

#[test]
fn lenses_reach_into_values_and_record_the_path_in_the_tetraplet() {
    let net = net();
    let r = {
        let air = net.expand(
            r#"(seq (call %init_peer_id% ("s" "obj") [] v)
               (seq (ap "a" key)
               (seq (ap v.$.a arr)
                    (call %init_peer_id% ("s" "report") [v.$.a.[1].b v.$.[key].[0] arr.length]))))"#,
        );
        net.run(&air, "init", &mut |p: &str, r: &CallRequest| {
            if r.function_name == "obj" { CallResult::ok(json!({"a": [10, {"b": "deep"}]})) } else { report_services(p, r) }
        })
    };
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(reports(&r), vec![json!(["deep", 10, 2])]);
    let t = &r.calls.last().map(|c| c.request.tetraplets.clone()).unwrap_or_default();
    assert_eq!(t[0][0].lens, ".$.a.[1].b");
    assert_eq!(t[1][0].lens, ".$.a.[0]");
}

/// A fold over an array binds each element with the array's origin and `.$.[index]`
/// added to its lens, through nested folds, lenses, streams and canons.
#[test]
fn fold_elements_carry_the_arrays_origin_with_their_index() {
    let net = net();
    let air = net.expand(
        r#"(seq (call %init_peer_id% ("s" "grid") [] g)
           (seq (fold g row
                  (seq (fold row x
                         (seq (ap x $cells) (next x)))
                       (next row)))
           (seq (canon %init_peer_id% $cells #cells)
                (fold g row
                  (seq (call %init_peer_id% ("s" "report") [row row.$.[1] #cells]) (next row))))))"#,
    );
    let r = net.run(&air, "init", &mut |p: &str, r: &CallRequest| {
        if r.function_name == "grid" { CallResult::ok(json!([[1, 2], [3, 4]])) } else { report_services(p, r) }
    });
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(reports(&r), vec![json!([[1, 2], 2, [1, 2, 3, 4]]), json!([[3, 4], 4, [1, 2, 3, 4]])]);
    let calls: Vec<_> = r.calls.iter().filter(|c| c.request.function_name == "report").collect();
    let lenses = |call: usize, arg: usize| -> Vec<String> { calls[call].request.tetraplets[arg].iter().map(|t| t.lens.clone()).collect() };
    assert_eq!(lenses(1, 0), [".$.[1]"]);
    assert_eq!(lenses(1, 1), [".$.[1].$.[1]"]);
    assert_eq!(lenses(0, 2), [".$.[0].$.[0]", ".$.[0].$.[1]", ".$.[1].$.[0]", ".$.[1].$.[1]"]);
    let origin = &calls[1].request.tetraplets[0][0];
    assert_eq!(
        (origin.peer_pk.as_str(), origin.service_id.as_str(), origin.function_name.as_str()),
        (net.id("init").as_str(), "s", "grid")
    );
}

#[test]
fn a_lens_error_is_catchable() {
    let net = net();
    let r = run_r(
        &net,
        r#"(seq (call %init_peer_id% ("s" "list") [] v)
                (xor (call %init_peer_id% ("s" "report") [v.$.[7]])
                     (call %init_peer_id% ("s" "report") [%last_error%.$.error_code])))"#,
    );
    assert_eq!(reports(&r), vec![json!([10007])]);
}

#[test]
fn fold_over_a_stream_sees_values_added_while_folding() {
    let net = net();
    // Each iteration below 3 appends the next number: a recursive stream. What an
    // iteration writes forms a generation of its own, folded as a chain of its own, so
    // the fold completes (and the canon after it runs) when the first chain reaches its
    // last instruction, while the chains over 1, 2 and 3 go on (AquaVM's order).
    let r = {
        let air = net.expand(
            r#"(seq (ap 0 $n)
               (seq (fold $n i
                       (seq (xor (mismatch i 3 (call %init_peer_id% ("s" "inc") [i] $n)) (null))
                            (next i))
                       (null))
               (seq (canon %init_peer_id% $n #n)
                    (call %init_peer_id% ("s" "report") [#n]))))"#,
        );
        net.run(&air, "init", &mut |p: &str, r: &CallRequest| {
            if r.function_name == "inc" { CallResult::ok(json!(r.arguments[0].as_i64().unwrap_or(0) + 1)) } else { report_services(p, r) }
        })
    };
    assert_eq!(reports(&r), vec![json!([[0, 1]])]);
    let incremented: Vec<_> = r.calls.iter().filter(|c| c.request.function_name == "inc").map(|c| c.request.arguments[0].clone()).collect();
    assert_eq!(incremented, [json!(0), json!(1), json!(2)]);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
}

#[test]
fn a_fold_over_a_stream_without_last_never_completes_but_with_null_it_does() {
    let net = net();
    let r = run_r(
        &net,
        r#"(seq (ap 1 $s)
           (seq (xor (seq (fold $s i (seq (null) (next i))) (call %init_peer_id% ("s" "report") ["after fold without last"])) (null))
                (seq (fold $s i (seq (null) (next i)) (null)) (call %init_peer_id% ("s" "report") ["after fold with null"]))))"#,
    );
    assert_eq!(reports(&r), Vec::<Json>::new());
    // The first fold stays incomplete, so nothing after it runs at all (seq stops).
    let r2 = run_r(
        &net,
        r#"(seq (ap 1 $s)
           (par (seq (fold $s i (seq (null) (next i))) (call %init_peer_id% ("s" "report") ["after fold without last"]))
                (seq (fold $s i (seq (null) (next i)) (null)) (call %init_peer_id% ("s" "report") ["after fold with null"]))))"#,
    );
    assert_eq!(reports(&r2), vec![json!(["after fold with null"])]);
}

#[test]
fn new_gives_a_fresh_stream_in_each_iteration() {
    let net = net();
    let r = run_r(
        &net,
        r#"(seq (call %init_peer_id% ("s" "list") [] xs)
                (fold xs x
                   (seq (new $acc
                          (seq (ap x $acc)
                          (seq (canon %init_peer_id% $acc #acc)
                               (call %init_peer_id% ("s" "report") [#acc]))))
                        (next x))))"#,
    );
    assert_eq!(reports(&r), vec![json!([[1]]), json!([[2]]), json!([[3]])]);
}

#[test]
fn a_scalar_cannot_be_set_twice_outside_a_fold() {
    let net = net();
    let r = run_r(&net, r#"(seq (ap 1 x) (ap 2 x))"#);
    assert_eq!(r.errors.len(), 1);
    assert_eq!(r.errors[0].1, 20007);
}

#[test]
fn stream_maps_canon_to_maps_and_scalars() {
    let net = net();
    let r = run_r(
        &net,
        r#"(seq (ap ("k" 1) %m)
           (seq (ap ("k" 2) %m)
           (seq (ap (7 "seven") %m)
           (seq (canon %init_peer_id% %m #%m)
           (seq (canon %init_peer_id% %m first)
           (seq (call %init_peer_id% ("s" "report") [#%m #%m.$.k first #%m.length])
                (fold #%m e (seq (call %init_peer_id% ("s" "report") [e]) (next e)))))))))"#,
    );
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(
        reports(&r),
        vec![
            json!([{"k": [1, 2], "7": ["seven"]}, [1, 2], {"k": 1, "7": "seven"}, 2]),
            json!([{"key": "k", "value": 2}]),
            json!([{"key": 7, "value": "seven"}]),
        ]
    );
}

#[test]
fn fail_rethrows_error_objects() {
    let net = net();
    let r = run_r(
        &net,
        r#"(xor (xor (call %init_peer_id% ("s" "fail") [] x) (fail :error:))
                (call %init_peer_id% ("s" "report") [%last_error%.$.error_code :error:.$.error_code]))"#,
    );
    assert_eq!(reports(&r), vec![json!([10000, 10000])]);
    // `%last_error%` is the object a `fail` threw; throwing it again is a user error.
    let r = run_r(
        &net,
        r#"(xor (xor (fail 5 "five") (fail %last_error%))
                (call %init_peer_id% ("s" "report") [%last_error%.$.error_code %last_error%.$.message :error:.$.error_code]))"#,
    );
    assert_eq!(reports(&r), vec![json!([5, "five", 10006])]);
    let r = run_r(&net, r#"(xor (fail 5 "five") (fail %last_error%))"#);
    assert_eq!(r.errors[0].1, 10006);
    // So is a scalar holding an error object: `%last_error%` is that object as it is.
    let r = run_r(
        &net,
        r#"(seq (call %init_peer_id% ("s" "error_object") [] obj)
                (xor (fail obj) (call %init_peer_id% ("s" "report") [%last_error%])))"#,
    );
    assert_eq!(reports(&r), vec![json!([{"error_code": 9, "message": "m", "extra": true}])]);
    let r = run_r(&net, r#"(seq (ap 3 obj) (fail obj))"#);
    assert_eq!(r.errors[0].1, 10008);
    // `%last_error%` before any error is "no error", which cannot be thrown.
    let r = run_r(&net, r#"(xor (match 1 2 (null)) (call %init_peer_id% ("s" "report") [%last_error%.$.error_code]))"#);
    assert_eq!(reports(&r), vec![json!([0])]);
    let r = run_r(&net, r#"(xor (match 1 2 (null)) (fail %last_error%))"#);
    assert_eq!(r.errors[0].1, 10008);
    assert!(r.errors[0].2.contains("error code must be non-zero"), "{}", r.errors[0].2);
}

#[test]
fn never_and_null() {
    let net = net();
    let r = run_r(&net, r#"(seq (never) (call %init_peer_id% ("s" "report") ["unreachable"]))"#);
    assert!(reports(&r).is_empty());
    let r = run_r(&net, r#"(seq (null) (call %init_peer_id% ("s" "report") ["reached"]))"#);
    assert_eq!(reports(&r), vec![json!(["reached"])]);
}

#[test]
fn special_values() {
    let net = net();
    let r = run_r(&net, r#"(call %init_peer_id% ("s" "report") [%init_peer_id% %timestamp% %ttl% [] true -3 1.5])"#);
    assert_eq!(reports(&r), vec![json!([net.id("init"), net.timestamp, net.ttl, [], true, -3, 1.5])]);
}

#[test]
fn a_call_with_a_missing_service_fails_with_10000() {
    let net = net();
    let r = run_r(&net, r#"(call %init_peer_id% ("nope" "f") [])"#);
    assert_eq!(r.errors.len(), 1);
    assert_eq!(r.errors[0].1, 10000);
}

/// The join Aqua compiles `join results[n-1]` to: a fold over the stream that snapshots
/// what it has seen so far and stops once it has n values.
#[test]
fn a_gate_on_a_stream_joins_values_arriving_in_any_order() {
    let net = net();
    let peers = json!([net.id("a"), net.id("b"), net.id("c")]);
    let air = net.expand(
        r#"(seq
  (seq (call %init_peer_id% ("s" "peers") [] xs) (ap 3 n))
  (seq
    (fold xs x (par (seq (call x ("s" "echo") [x] $answers) (call %init_peer_id% ("s" "unit") [])) (next x)))
    (new $seen
      (seq
        (fold $answers a
          (seq
            (seq
              (ap a $seen)
              (canon %init_peer_id% $seen #seen))
            (xor
              (match #seen.length n
                (null))
              (next a)))
          (never))
        (seq
          (canon %init_peer_id% $seen #all)
          (call %init_peer_id% ("s" "report") [#all.length]))))))"#,
    );
    for seed in 0..12u64 {
        let mut x = seed;
        let mut pick = |n: usize| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((x >> 33) as usize) % n
        };
        let r = net.run_ordered(
            &air,
            "init",
            &mut |p: &str, r: &CallRequest| {
                if r.function_name == "peers" { CallResult::ok(peers.clone()) } else { report_services(p, r) }
            },
            &mut pick,
        );
        assert!(r.errors.is_empty(), "{:?}", r.errors);
        assert_eq!(reports(&r), vec![json!([3])], "delivery order {seed}");
    }
}

/// A request to another peer (a call or a canon) sends the particle there once, when it
/// is recorded: neither a later run of the peer that recorded it nor a peer the data
/// reaches afterwards sends it there again (AquaVM's rule).
#[test]
fn a_request_to_another_peer_is_sent_once() {
    let net = net();
    for request in [r#"(canon @a $s #c)"#, r#"(call @a ("s" "unit") [] x)"#] {
        let air = net.expand(&format!(r#"(par {request} (call @b ("s" "unit") [] y))"#));
        let params = |peer| net.params("init", peer);
        let first = air_vm::invoke(&air, &[], &[], &params("init"), Default::default());
        let mut both = vec![net.id("a"), net.id("b")];
        both.sort();
        assert_eq!(first.next_peers, both);
        let again = air_vm::invoke(&air, &first.data, &[], &params("init"), Default::default());
        assert!(again.next_peers.is_empty(), "{request}: sent again to {:?}", again.next_peers);
        let at_b = air_vm::invoke(&air, &[], &first.data, &params("b"), Default::default());
        assert!(!at_b.next_peers.contains(&net.id("a")), "{request}: b sent it to a again");
    }
}

/// A call whose result nothing binds is replayed without comparing its arguments (as in
/// AquaVM): here `b` calls with no error in sight, and `c`, which replays it after a
/// failure of its own, reads another `%last_error%`. A bound result is compared, and
/// the same script then refuses the data (20017, as AquaVM does).
#[test]
fn an_unbound_result_is_replayed_whatever_its_arguments_read_now() {
    let net = net();
    let unbound = r#"(par (call @c ("s" "fail") [] x)
                          (seq (call @b ("s" "unit") [%last_error%.$.error_code]) (call @c ("s" "report") [%last_error%.$.error_code])))"#;
    let r = run_r(&net, unbound);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    assert_eq!(reports(&r), vec![json!([10000])]);
    let bound = unbound.replace("[%last_error%.$.error_code]) (call @c", "[%last_error%.$.error_code] y) (call @c");
    let r = run_r(&net, &bound);
    assert_eq!(r.errors.iter().map(|e| (e.0.as_str(), e.1)).collect::<Vec<_>>(), [("c", 20017)]);
}
