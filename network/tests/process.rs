//! Host-native services: the Python example service in `examples/calc`.

use aqua_network::{Description, Network, ProcessServices, Report, RunSpec, Simulation};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::Path;

fn calc_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/calc")
}

fn run(script: &str) -> Report {
    let toml = std::fs::read_to_string(calc_dir().join("network.toml")).expect("the example network");
    let net = Network::from_description(&Description::parse(&toml).expect("valid"), &toml, 0).expect("valid");
    let client = net.index_of_name("me").expect("a client");
    let spec = RunSpec { script: script.to_owned(), client, data: BTreeMap::new(), ttl_ms: 20_000, particle_id: "p".into() };
    let mut processes = ProcessServices::new(calc_dir());
    Simulation::new(&net, spec, &mut processes).run()
}

/// Calls `calc.<call>` on the relay and reports the result or the error object.
fn on_relay(calls: &str) -> String {
    format!(
        r#"
(xor
  (seq
    (call %init_peer_id% ("getDataSrv" "-relay-") [] -relay-)
    (seq {calls} (call %init_peer_id% ("callbackSrv" "response") [r])))
  (call %init_peer_id% ("errorHandlingSrv" "error") [%last_error% 0]))
"#
    )
}

#[test]
fn a_python_service_answers_and_sees_its_peer() {
    let report = run(&std::fs::read_to_string(calc_dir().join("add.air")).expect("the example script"));
    assert_eq!(report.result, Some(json!([42, "R0"])), "{:#?}", report.events);
    let whoami = report.calls.iter().find(|c| c.function == "whoami").and_then(|c| c.result.clone()).expect("whoami answered");
    assert_eq!(whoami["id"], json!(report.peers["R0"]));
    assert_eq!(whoami["peer_id"], json!(report.peers["R0"]));
}

#[test]
fn an_error_answer_fails_the_call_with_10000() {
    let report = run(&on_relay(r#"(call -relay- ("calc" "fail") ["no such thing"] r)"#));
    let error = report.error.expect("the error reached the client");
    assert_eq!(error["error_code"], json!(10000));
    assert!(error["message"].as_str().unwrap_or_default().contains("no such thing"), "{error}");
}

#[test]
fn a_crashed_process_fails_its_calls_clearly_and_the_run_goes_on() {
    let report =
        run(&on_relay(r#"(seq (xor (call -relay- ("calc" "crash") [] x) (null)) (seq (call -relay- ("calc" "add") [1 2] r) (null)))"#));
    let crash = report.calls.iter().find(|c| c.function == "crash").and_then(|c| c.error.clone()).expect("crash failed");
    assert!(crash.contains("service process 'calc' on R0 failed") && crash.contains("exited"), "{crash}");
    let add = report.calls.iter().find(|c| c.function == "add").and_then(|c| c.error.clone()).expect("add failed");
    assert!(add.contains("is not running"), "{add}");
    let error = report.error.expect("the failure reached the client");
    assert_eq!(error["error_code"], json!(10000));
}

#[test]
fn a_command_that_cannot_start_is_reported() {
    let toml = "[[relay]]\nname = \"R0\"\n[[client]]\nname = \"me\"\nrelay = \"R0\"\n[[service]]\nid = \"calc\"\npeers = [\"R0\"]\nprocess = [\"./no-such-program\"]\n";
    let net = Network::from_description(&Description::parse(toml).expect("valid"), toml, 0).expect("valid");
    let spec = RunSpec {
        script: on_relay(r#"(call -relay- ("calc" "add") [1 2] r)"#),
        client: 1,
        data: BTreeMap::new(),
        ttl_ms: 20_000,
        particle_id: "p".into(),
    };
    let mut processes = ProcessServices::new(calc_dir());
    let report = Simulation::new(&net, spec, &mut processes).run();
    let error = report.error.expect("an error");
    assert!(error["message"].as_str().unwrap_or_default().contains("cannot start `./no-such-program`"), "{error}");
}
