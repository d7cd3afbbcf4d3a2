//! The run the `invoke_data` fuzz target drives, shared with the test that replays its
//! seed corpus (`tests/fuzz_corpus.rs`) and with the property tests that mutate genuine
//! data (`tests/data_and_security.rs`): a script touching every kind of state and
//! record, the data its peers exchange, and what must hold whatever data arrives.

use air_vm::data::Data;
use air_vm::local::LocalNetwork;
use air_vm::{CallRequest, CallResult, Outcome, RunParameters, invoke, invoke_parsed};
use serde_json::json;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Calls on two peers, `par`, a fold over a stream, `ap` to a stream and to a map,
/// canons of both, and a failure caught by `xor`.
const AIR: &str = r#"
(seq
  (seq
    (call %init_peer_id% ("s" "items") [] xs)
    (fold xs x
      (par
        (seq (call @a ("s" "work") [x] $r) (ap ("k" x) %m))
        (next x))))
  (seq
    (seq (canon @a $r #r) (canon @a %m #%m))
    (xor
      (call @a ("s" "fail") [#r #%m] y)
      (call %init_peer_id% ("s" "report") [#r.length %last_error%]))))
"#;

pub struct Scenario {
    /// Peers `init` and `a`.
    pub net: LocalNetwork,
    /// The script, with the peers' IDs written in.
    pub air: String,
    /// The same script, parsed once.
    pub script: air_vm::syntax::Script,
    /// What `init` holds before `a`'s answer arrives.
    pub prev: Vec<u8>,
    /// The genuine data `a` sends back to `init`: the seed the fuzzer starts from.
    pub from_a: Vec<u8>,
}

impl Scenario {
    fn new() -> Self {
        let net = LocalNetwork::new(&["init", "a"]);
        let air = net.expand(AIR);
        let run = net.run(&air, "init", &mut |_: &str, r: &CallRequest| match r.function_name.as_str() {
            "items" => CallResult::ok(json!([1, 2, 3])),
            "fail" => CallResult::error(7, "no"),
            _ => CallResult::ok(json!({"v": r.arguments})),
        });
        assert!(run.errors.is_empty(), "{:?}", run.errors);
        let from_a = run.delivered.iter().rev().find(|(to, _)| to == "init").map(|(_, d)| d.clone()).expect("a answers init");
        let prev = invoke(&air, &[], &[], &net.params("init", "init"), BTreeMap::new()).data;
        let script = air_vm::syntax::parse(&air).expect("the scenario's script is valid");
        Scenario { net, air, script, prev, from_a }
    }

    /// The scenario, built once per thread (a parsed script is not `Sync`).
    pub fn get() -> Rc<Scenario> {
        thread_local!(static SCENARIO: Rc<Scenario> = Rc::new(Scenario::new()));
        SCENARIO.with(Rc::clone)
    }

    /// Delivers `incoming` to `init` (signatures checked, and not: hand-built traces reach
    /// merging and replay) and to a peer that holds nothing yet. Panics if a run loses or
    /// corrupts what it had, or if running from the parsed script gives another outcome.
    pub fn check(&self, incoming: &[u8]) {
        for (current, prev) in [("init", self.prev.as_slice()), ("a", &[][..])] {
            for signatures in [true, false] {
                let params = RunParameters { check_signatures: signatures, ..self.net.params("init", current) };
                let out = invoke(&self.air, prev, incoming, &params, BTreeMap::new());
                check_outcome(&out, prev);
                assert_eq!(invoke_parsed(&self.script, prev, incoming, &params, BTreeMap::new()), out);
            }
        }
    }
}

/// A rejected run gives the previous data back unchanged; any other writes data that
/// decodes.
fn check_outcome(out: &Outcome, prev: &[u8]) {
    // Preparation errors (1..=10) and uncatchable ones (20000..) keep the previous data.
    let kept = matches!(out.ret_code, 1..=10 | 20_000..=29_999);
    if kept {
        assert!(out.data == prev, "error {} changed the data: {}", out.ret_code, out.error_message);
    } else if let Err(e) = Data::from_bytes(&out.data) {
        panic!("outcome {} ({}) wrote data that does not decode: {e}", out.ret_code, out.error_message);
    }
}
