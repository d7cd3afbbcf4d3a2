//! Replays what AquaVM 0.62 did with random scripts, hop by hop.
//!
//! `conformance/aquavm/random-0.62.jsonl` holds, per line, a random script over four
//! peers and the outcome of every hop AquaVM 0.62 ran for it (its Wasm build, under
//! node, outside this repository): the peer, the return code, the peers it sent the
//! particle to and the calls it asked for with their arguments. This test runs the same
//! deliveries with this VM and must see the same outcomes. The scripts cover calls that
//! succeed or fail, `seq`, `par`, `xor`, `match`, `mismatch`, every form of `fail`,
//! `never`, `new`, `ap` to streams and maps, `canon`, folds over values, streams and
//! canons, lenses that fail, `%last_error%` and `:error:` read as arguments, and (the
//! `gen5` mix) streams written by parallel branches that reach peers in different orders,
//! joins before a `canon` and folds over streams whose iterations wait or write into the
//! stream they fold, which only agree with streams kept by generation. The book's AIR
//! chapter says how they were made, and which scripts AquaVM answers differently on
//! purpose. `@name` stands for the peer ID of peer `name`, also inside
//! strings of the recorded arguments.

use air_vm::CallResult;
use air_vm::local::LocalNetwork;
use serde::Deserialize;
use serde_json::{Value as Json, json};

const PEERS: [&str; 4] = ["init", "a", "b", "c"];

/// The most deliveries a script may take (AquaVM's run was cut at the same count).
const MAX_DELIVERIES: usize = 400;

/// One hop as recorded: the peer, the return code, the peers the particle went to (sorted
/// by peer ID) and the calls asked for, in call ID order, as [function, arguments].
type Step = (String, i64, Vec<String>, Vec<(String, Json)>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Recorded {
    /// Which random mix the script came from, and its seed there.
    mix: String,
    seed: u64,
    air: String,
    steps: Vec<Step>,
}

/// What the services answer, as they did for AquaVM: `fail` fails, `list` gives an
/// array, anything else an object naming the peer and counting the arguments.
fn answer(peer: &str, function: &str, arguments: usize) -> CallResult {
    match function {
        "fail" => CallResult::error(1, format!("failed on {peer}")),
        "list" => CallResult::ok(json!([peer, arguments, { "peer": peer }])),
        _ => CallResult::ok(json!({ "peer": peer, "got": arguments })),
    }
}

/// Every hop of `air` on the local network (the initiator first, then each peer a
/// particle was sent to, in the order sent; a peer that asks for calls runs again with
/// their results), with the calls each asked for.
fn hops(net: &LocalNetwork, air: &str) -> Vec<Step> {
    let run = net.run(air, "init", &mut |peer, r| answer(peer, &r.function_name, r.arguments.len()));
    let mut calls = run.calls.into_iter();
    run.hops
        .into_iter()
        .map(|hop| {
            let requests = calls.by_ref().take(hop.calls).map(|c| (c.request.function_name, Json::from(c.request.arguments))).collect();
            (hop.peer, hop.ret_code, hop.next_peers, requests)
        })
        .collect()
}

/// `@name` inside recorded strings, back to peer IDs.
fn expand(v: Json, net: &LocalNetwork) -> Json {
    match v {
        Json::String(mut s) => {
            for name in PEERS {
                s = s.replace(&format!("@{name}"), &net.id(name));
            }
            Json::String(s)
        }
        Json::Array(items) => Json::Array(items.into_iter().map(|x| expand(x, net)).collect()),
        Json::Object(m) => Json::Object(m.into_iter().map(|(k, x)| (k, expand(x, net))).collect()),
        other => other,
    }
}

#[test]
fn every_hop_is_what_aquavm_did() {
    let mut net = LocalNetwork::new(&PEERS);
    net.max_deliveries = MAX_DELIVERIES;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/conformance/aquavm/random-0.62.jsonl");
    let text = std::fs::read_to_string(path).expect("the recorded outcomes");
    let mut failures = Vec::new();
    let mut count = 0;
    for (line_no, line) in text.lines().enumerate() {
        let recorded: Recorded = serde_json::from_str(line).unwrap_or_else(|e| panic!("line {}: {e}", line_no + 1));
        count += 1;
        let air = net.expand(&recorded.air);
        let expected: Vec<_> = recorded
            .steps
            .into_iter()
            .map(|(peer, code, next, calls)| {
                (peer, code, next, calls.into_iter().map(|(f, args)| (f, expand(args, &net))).collect::<Vec<_>>())
            })
            .collect();
        let got = hops(&net, &air);
        if got != expected {
            let at = got.iter().zip(&expected).take_while(|(g, e)| g == e).count();
            failures.push(format!(
                "{} seed {} (line {}), hop {at}:\n  AquaVM: {:?}\n  ours:   {:?}\n  {}",
                recorded.mix,
                recorded.seed,
                line_no + 1,
                expected.get(at),
                got.get(at),
                recorded.air
            ));
        }
    }
    assert!(count >= 800, "only {count} recorded scripts");
    assert!(failures.is_empty(), "{} of {count} scripts differ from AquaVM:\n{}", failures.len(), failures.join("\n"));
}
