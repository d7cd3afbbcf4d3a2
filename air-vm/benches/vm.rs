//! Workloads modelled on AquaVM's metered suite. Each measures one `invoke` (one hop on
//! one peer), with signatures made and checked as in production. Inputs are built once
//! with the local driver.

use air_vm::local::LocalNetwork;
use air_vm::{CallRequest, CallResult, RunParameters, invoke};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;
use std::hint::black_box;

/// The allocator of the `aqua` binary, which runs the VM: the figures are what a peer gets.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The data the init peer holds after one local run of `air` (all calls answered by `f`).
fn data_after(net: &LocalNetwork, air: &str, f: &mut dyn FnMut(&str, &CallRequest) -> CallResult) -> Vec<u8> {
    let run = net.run(air, "init", f);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    run.data["init"].clone()
}

fn one(
    c: &mut Criterion,
    name: &str,
    air: &str,
    prev: &[u8],
    incoming: &[u8],
    params: &RunParameters,
    results: &BTreeMap<u32, CallResult>,
) {
    let out = invoke(air, prev, incoming, params, results.clone());
    assert!(out.ret_code == 0, "{name}: {}", out.error_message);
    // The host hands its results over to the run; copying them is not the run's time.
    c.bench_function(name, |b| {
        b.iter_batched(
            || results.clone(),
            |results| invoke(black_box(air), black_box(prev), black_box(incoming), params, results),
            BatchSize::SmallInput,
        )
    });
}

fn bench(c: &mut Criterion) {
    let net = LocalNetwork::new(&["init", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"]);
    let init = net.params("init", "init");
    let none = BTreeMap::new();

    // The empty script.
    one(c, "null", "(null)", &[], &[], &init, &none);

    // 500 call requests issued in one run, then the 500 results fed back.
    let items: Vec<u32> = (0..500).collect();
    let air500 = r#"(seq (call %init_peer_id% ("s" "items") [] xs)
                       (fold xs x (par (call %init_peer_id% ("s" "work") [x] $r) (next x))))"#;
    let start = invoke(air500, &[], &[], &init, BTreeMap::new());
    let items_result: BTreeMap<u32, CallResult> = start.call_requests.keys().map(|id| (*id, CallResult::ok(json!(items)))).collect();
    let issued = invoke(air500, &start.data, &[], &init, items_result.clone());
    assert_eq!(issued.call_requests.len(), 500);
    one(c, "call-requests500", air500, &start.data, &[], &init, &items_result);
    let results: BTreeMap<u32, CallResult> = issued.call_requests.keys().map(|id| (*id, CallResult::ok(json!({"answer": id})))).collect();
    one(c, "call-results500", air500, &issued.data, &[], &init, &results);

    // A long trace: 1 300 executed calls arriving as incoming data.
    let air_long = r#"(seq (call %init_peer_id% ("s" "items") [] xs)
                          (fold xs x (seq (call %init_peer_id% ("s" "work") [x] r) (next x))))"#;
    let long_items: Vec<u32> = (0..1299).collect();
    let long = data_after(&net, air_long, &mut |_: &str, r: &CallRequest| {
        if r.function_name == "items" {
            CallResult::ok(json!(long_items))
        } else {
            CallResult::ok(json!(format!("value {}", r.arguments[0])))
        }
    });
    let observer = net.params("init", "p8");
    one(c, "long-data (1300 states, 1300 distinct values)", air_long, &[], &long, &observer, &none);
    // The same with AquaVM's recorded mix: 93 distinct values of about 1 KB each.
    let long93 = data_after(&net, air_long, &mut |_: &str, r: &CallRequest| {
        if r.function_name == "items" {
            CallResult::ok(json!(long_items))
        } else {
            let n = r.arguments[0].as_u64().unwrap_or(0) % 93;
            CallResult::ok(json!({"index": n, "payload": format!("{n:0>980}")}))
        }
    });
    one(c, "long-data (1300 states, 93 distinct values of 1 KB)", air_long, &[], &long93, &observer, &none);

    // Big values: 10 calls returning 100 KB each.
    let big_value = Json::String("v".repeat(100 * 1024));
    let air_big = r#"(seq (call %init_peer_id% ("s" "items") [] xs)
                         (fold xs x (seq (call %init_peer_id% ("s" "big") [x] $r) (next x))))"#;
    let big = data_after(&net, air_big, &mut |_: &str, r: &CallRequest| {
        if r.function_name == "items" { CallResult::ok(json!((0..10).collect::<Vec<u32>>())) } else { CallResult::ok(big_value.clone()) }
    });
    one(c, "big-values-data (10 x 100 KB)", air_big, &[], &big, &observer, &none);

    // Results from 8 peers (8 signatures), merged at the init peer.
    let peers: Vec<String> = (1..=8).map(|i| net.id(&format!("p{i}"))).collect();
    let air_peers = r#"(seq (call %init_peer_id% ("s" "peers") [] ps)
                           (fold ps p (par (seq (call p ("s" "work") [p] $r) (call %init_peer_id% ("s" "collect") [])) (next p))))"#;
    let mut peer_services =
        |_: &str, r: &CallRequest| if r.function_name == "peers" { CallResult::ok(json!(peers)) } else { CallResult::ok(json!("ok")) };
    let run = net.run(air_peers, "init", &mut peer_services);
    let last = run.delivered.iter().rev().find(|(to, _)| to == "init").map(|(_, d)| d.clone()).unwrap_or_default();
    let before = invoke(air_peers, &[], &[], &init, BTreeMap::new()).data;
    one(c, "multiple-peers8", air_peers, &before, &last, &observer, &none);

    // 30 signatures: 30 distinct result producers in one data.
    let many = LocalNetwork::new(
        &(0..31)
            .map(|i| if i == 0 { "init".to_owned() } else { format!("q{i}") })
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    let qs: Vec<String> = (1..=30).map(|i| many.id(&format!("q{i}"))).collect();
    let mut q_services =
        |_: &str, r: &CallRequest| if r.function_name == "peers" { CallResult::ok(json!(qs)) } else { CallResult::ok(json!("ok")) };
    let run = many.run(air_peers, "init", &mut q_services);
    let full = run.data["init"].clone();
    one(c, "multiple-sigs30", air_peers, &[], &full, &many.params("init", "q1"), &none);

    // A canon map over 770 entries under one key.
    let air_map = r#"(seq (call %init_peer_id% ("s" "items") [] xs)
                    (seq (fold xs x (seq (ap ("key" x) %m) (next x)))
                         (canon %init_peer_id% %m #%m)))"#;
    let map_items: Vec<u32> = (0..770).collect();
    let map_data = data_after(&net, air_map, &mut |_: &str, _: &CallRequest| CallResult::ok(json!(map_items)));
    one(c, "canon-map-single-key (770)", air_map, &[], &map_data, &observer, &none);

    // Network exploration: ask 5 peers for neighbours, then each neighbour for its own, joining at the init peer.
    let five: Vec<String> = (1..=5).map(|i| net.id(&format!("p{i}"))).collect();
    let air_explore = r#"
      (seq (call %init_peer_id% ("s" "peers") [] ps)
           (fold ps p
             (par
               (seq (call p ("kad" "neighborhood") [p] ns)
                    (fold ns n
                      (par (seq (call n ("peer" "identify") [] $infos) (call %init_peer_id% ("s" "collect") []))
                           (next n))))
               (next p))))"#;
    let mut explore_services = |_: &str, r: &CallRequest| match r.function_name.as_str() {
        "peers" => CallResult::ok(json!(five)),
        "neighborhood" => CallResult::ok(json!(five[..3])),
        _ => CallResult::ok(json!({"external_addresses": ["/ip4/127.0.0.1/tcp/7777"]})),
    };
    let run = net.run(air_explore, "init", &mut explore_services);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let explored = run.data["init"].clone();
    one(c, "network-explore (5 peers)", air_explore, &[], &explored, &observer, &none);
}

/// 100 MB values (AquaVM's `call-result-100mb`, `lense-100mb` and `canon-map-100mb`):
/// one run that takes the value as a call result and uses it. Their memory is checked by
/// the `memory` test.
fn big_values(c: &mut Criterion) {
    let net = LocalNetwork::new(&["init"]);
    let mut init = net.params("init", "init");
    init.size_limits = air_vm::limits::SizeLimits { data_bytes: 1 << 30, call_result_bytes: 1 << 30 };
    let payload = || "v".repeat(100 * 1000 * 1000);
    let workloads = [
        ("call-result-100mb", r#"(call %init_peer_id% ("s" "big") [] v)"#, json!(payload())),
        (
            "lens-100mb",
            r#"(seq (call %init_peer_id% ("s" "big") [] v) (call %init_peer_id% ("s" "use") [v.$.big]))"#,
            json!({"big": payload(), "small": 1}),
        ),
        (
            "canon-map-100mb",
            r#"(seq (call %init_peer_id% ("s" "big") [] v)
                (seq (ap ("k" v) %m) (seq (canon %init_peer_id% %m #%m) (call %init_peer_id% ("s" "use") [#%m]))))"#,
            json!(payload()),
        ),
    ];
    let mut group = c.benchmark_group("100 MB values");
    group.sample_size(10);
    for (name, air, value) in workloads {
        let start = invoke(air, &[], &[], &init, BTreeMap::new());
        let results: BTreeMap<u32, CallResult> = start.call_requests.keys().map(|id| (*id, CallResult::ok(value.clone()))).collect();
        let out = invoke(air, &start.data, &[], &init, results.clone());
        assert!(out.ret_code == 0, "{name}: {}", out.error_message);
        group.bench_function(name, |b| {
            b.iter_batched(
                || results.clone(),
                |results| invoke(black_box(air), black_box(&start.data), &[], &init, results),
                BatchSize::LargeInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, bench, big_values);
criterion_main!(benches);
