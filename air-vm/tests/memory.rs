//! How much memory a run takes beyond its inputs, for 100 MB values.
//!
//! The heap is counted by the test binary's allocator, so this file holds one test: the
//! figures of a run must not include another test's allocations. "Peak" is the most heap
//! a single `invoke` holds at once beyond what its caller held before the call (the
//! script, the datas and the call results, which the run takes over and may free), outputs
//! included.

use air_vm::limits::SizeLimits;
use air_vm::local::LocalNetwork;
use air_vm::{CallResult, Outcome, RunParameters, invoke};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

#[global_allocator]
static HEAP: peak_alloc::PeakAlloc = peak_alloc::PeakAlloc;

const PAYLOAD: usize = 100 * 1000 * 1000;

/// Runs `run` and gives its outcome with its peak heap as a multiple of the payload.
fn peak_of(run: impl FnOnce() -> Outcome) -> (Outcome, f64) {
    let before = HEAP.current_usage();
    HEAP.reset_peak_usage();
    let out = run();
    let peak = HEAP.peak_usage() - before;
    assert_eq!(out.ret_code, 0, "{}", out.error_message);
    (out, peak as f64 / PAYLOAD as f64)
}

/// The data after `air`'s first call is answered with `value`, and the peak of that run.
fn answered(air: &str, params: &RunParameters, value: Json) -> (Outcome, f64) {
    let start = invoke(air, &[], &[], params, BTreeMap::new());
    let results: BTreeMap<u32, CallResult> = start.call_requests.keys().map(|id| (*id, CallResult::ok(value.clone()))).collect();
    drop(value);
    // The results are the host's, made before the run; the run takes them over.
    peak_of(move || invoke(air, &start.data, &[], params, results))
}

#[test]
#[allow(clippy::print_stderr)] // the figures the book records
fn a_run_holds_few_copies_of_a_100_mb_value() {
    let net = LocalNetwork::new(&["init", "p1"]);
    let limits = SizeLimits { data_bytes: 4 * PAYLOAD, call_result_bytes: 4 * PAYLOAD };
    let (mut init, mut p1) = (net.params("init", "init"), net.params("init", "p1"));
    (init.size_limits, p1.size_limits) = (limits, limits);
    let big = || "v".repeat(PAYLOAD);
    let mut figures = Vec::new();

    // A service returns the value; the run stores it and sends it on. The run takes the
    // result over from the host and frees it before it writes the data, so beyond what the
    // host handed over it holds one copy at a time more: the value's text, then the data.
    let air = r#"(seq (call %init_peer_id% ("s" "big") [] v) (call "P1" ("s" "use") [v]))"#.replace("P1", &net.id("p1"));
    let (sent, peak) = answered(&air, &init, json!(big()));
    figures.push(("call result stored and sent", peak, 1.05));

    // The next peer receives it and passes it to a local service: the stored text is read
    // in place from the data received, so the copies are the parsed value (which becomes
    // the call's argument) and the data it keeps.
    let (received, peak) = peak_of(|| invoke(&air, &[], &sent.data, &p1, BTreeMap::new()));
    assert_eq!(received.call_requests[&1].arguments[0].as_str().map(str::len), Some(PAYLOAD));
    figures.push(("data received, value passed to a call", peak, 2.05));
    drop((sent, received));

    // A lens picks the value out of an object for a call: the lens's result moves into
    // the call request instead of being copied again; with the text and the data, and the
    // host's result freed, two copies more.
    let air = r#"(seq (call %init_peer_id% ("s" "big") [] v) (call %init_peer_id% ("s" "use") [v.$.big]))"#;
    let (out, peak) = answered(air, &init, json!({"big": big(), "small": 1}));
    assert_eq!(out.call_requests[&2].arguments[0].as_str().map(str::len), Some(PAYLOAD));
    figures.push(("lens into a result, passed to a call", peak, 2.05));
    drop(out);

    // The value goes into a stream map, which is canonicalized and passed to a call: the
    // map entry refers to the value instead of copying it (AquaVM's holds a copy), and
    // the map's JSON is built once, for the request.
    let air = r#"(seq (call %init_peer_id% ("s" "big") [] v)
                  (seq (ap ("k" v) %m) (seq (canon %init_peer_id% %m #%m) (call %init_peer_id% ("s" "use") [#%m]))))"#;
    let (out, peak) = answered(air, &init, json!(big()));
    assert_eq!(out.call_requests[&2].arguments[0]["k"][0].as_str().map(str::len), Some(PAYLOAD));
    figures.push(("stream map canonicalized, passed to a call", peak, 2.05));

    for (what, peak, bound) in &figures {
        eprintln!("{what}: peak {peak:.2} x the payload");
        assert!(peak <= bound, "{what}: the run held {peak:.2} x the payload, more than {bound}");
    }
}
