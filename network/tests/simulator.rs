//! Scenarios on the simulator: services, faults, expiry, determinism, bad descriptions.

use aqua_network::{Description, Network, NoExternalServices, Report, RunSpec, Simulation};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

const TWO_RELAYS: &str = r#"
seed = 7
latency_ms = [2, 6]

[[relay]]
name = "R0"

[[relay]]
name = "R1"

[[client]]
name = "me"
relay = "R0"

[[service]]
id = "greeter"
peers = ["R1"]
functions.greet = { result = "hi" }
functions.echo = { echo = true }
functions.broken = { error = "out of greetings" }
"#;

/// Calls `greeter.<function>` on R1 through R0 and back, with the calling convention.
fn on_r1(function: &str) -> String {
    srv_script(&format!(r#"(call r1 ("greeter" "{function}") ["world"] r)"#))
}

fn network(toml: &str) -> Network {
    let desc = Description::parse(toml).expect("valid description");
    Network::from_description(&desc, toml, 0).expect("valid network")
}

fn run(net: &Network, script: &str) -> Report {
    let mut data = BTreeMap::new();
    data.insert("r1".to_owned(), json!(net.peers[net.index_of_name("R1").unwrap()].id));
    let client = net.index_of_name("me").unwrap();
    Simulation::new(
        net,
        RunSpec { script: script.to_owned(), client, data, ttl_ms: net.ttl_ms, particle_id: "p".into() },
        &mut NoExternalServices,
    )
    .run()
}

fn with_fault(fault: &str) -> Network {
    network(&format!("{TWO_RELAYS}\n[[fault]]\n{fault}\n"))
}

#[test]
fn a_mock_service_answers_through_the_relay() {
    let net = network(TWO_RELAYS);
    let report = run(&net, &on_r1("greet"));
    assert_eq!(report.result, Some(json!("hi")), "{:#?}", report.events);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let path: Vec<(String, String)> = report.hops.iter().map(|h| (h.from.clone(), h.to.clone())).collect();
    let expected = [("me", "R0"), ("R0", "R1"), ("R1", "R0"), ("R0", "me")].map(|(a, b)| (a.to_owned(), b.to_owned()));
    assert_eq!(path, expected);
    let greet = report.calls.iter().find(|c| c.function == "greet").expect("greet was called");
    assert_eq!((greet.peer.as_str(), greet.args.clone()), ("R1", vec![json!("world")]));
}

#[test]
fn echo_and_failing_mocks() {
    let net = network(TWO_RELAYS);
    assert_eq!(run(&net, &on_r1("echo")).result, Some(json!("world")));
    let report = run(&net, &on_r1("broken"));
    assert_eq!(report.result, None);
    let error = report.error.expect("the error reached the client");
    assert_eq!(error["error_code"], json!(10000));
    assert_eq!(error["peer_id"], json!(net.peers[net.index_of_name("R1").unwrap()].id));
    assert!(error["message"].as_str().unwrap_or_default().contains("out of greetings"));
}

#[test]
fn arrow_arguments_are_served_on_the_client_and_recorded() {
    let net = network(TWO_RELAYS);
    let script = r#"
(seq
  (call %init_peer_id% ("callbackSrv" "log") ["hello" 42])
  (call %init_peer_id% ("callbackSrv" "response") ["done"]))"#;
    let report = run(&net, script);
    assert_eq!(report.result, Some(json!("done")), "{:#?}", report.events);
    let log = report.calls.iter().find(|c| c.service == "callbackSrv" && c.function == "log").expect("the callback was recorded");
    assert_eq!((log.peer.as_str(), log.args.clone()), ("me", vec![json!("hello"), json!(42)]));
    assert_eq!(log.error, None);
}

#[test]
fn a_missing_service_fails_the_call_as_the_reference_peer_does() {
    let net = network(TWO_RELAYS);
    let report = run(&net, &on_r1("greet").replace("\"greeter\"", "\"nobody\""));
    let error = report.error.expect("an error");
    assert!(error["message"].as_str().unwrap_or_default().contains("Service with id 'nobody' not found (function greet)"), "{error}");
}

#[test]
fn the_same_seed_gives_the_same_report_and_another_seed_other_timings() {
    let net = network(TWO_RELAYS);
    let a = serde_json::to_string(&run(&net, &on_r1("greet"))).unwrap();
    let b = serde_json::to_string(&run(&net, &on_r1("greet"))).unwrap();
    assert_eq!(a, b);
    let mut other = net.clone();
    other.seed = 8;
    let c = run(&other, &on_r1("greet"));
    assert_eq!(c.result, Some(json!("hi")));
    let times = |r: &Report| r.hops.iter().map(|h| h.time_ms).collect::<Vec<_>>();
    assert_ne!(times(&run(&net, &on_r1("greet"))), times(&c), "latency is drawn from the seed");
}

#[test]
fn a_crashed_peer_loses_the_particle_and_the_client_gets_no_answer() {
    let net = with_fault("kind = \"crash\"\npeers = [\"R1\"]");
    let report = run(&net, &on_r1("greet"));
    assert_eq!(report.result, None);
    assert!(report.events.iter().any(|e| e.kind == "lost" && e.peer == "R1"));
}

#[test]
fn a_crash_that_ends_before_the_particle_arrives_changes_nothing() {
    let net = with_fault("kind = \"crash\"\npeers = [\"R1\"]\nuntil_ms = 1");
    assert_eq!(run(&net, &on_r1("greet")).result, Some(json!("hi")));
}

#[test]
fn a_partition_cuts_the_groups_apart() {
    let net = with_fault("kind = \"partition\"\npeers = [\"R1\"]");
    let report = run(&net, &on_r1("greet"));
    assert_eq!(report.result, None);
    assert!(report.hops.iter().any(|h| h.arrive_ms.is_none() && h.to == "R1"));
}

#[test]
fn dropped_particles_do_not_arrive() {
    let net = with_fault("kind = \"drop\"\npeers = [\"R1\"]");
    let report = run(&net, &on_r1("greet"));
    assert_eq!(report.result, None);
    assert!(report.events.iter().any(|e| e.kind == "dropped"));
}

#[test]
fn a_delay_adds_latency() {
    let plain = run(&network(TWO_RELAYS), &on_r1("greet"));
    let delayed = run(&with_fault("kind = \"delay\"\npeers = [\"R1\"]\ndelay_ms = 500"), &on_r1("greet"));
    assert_eq!(delayed.result, Some(json!("hi")));
    assert!(delayed.end_ms >= plain.end_ms + 1000, "two hops touch R1: {} vs {}", delayed.end_ms, plain.end_ms);
}

#[test]
fn duplicated_particles_merge_and_the_result_is_the_same() {
    let report = run(&with_fault("kind = \"duplicate\"\npeers = [\"R1\"]"), &on_r1("greet"));
    assert_eq!(report.result, Some(json!("hi")));
    assert!(report.hops.len() > 4, "copies were sent");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.calls.iter().filter(|c| c.function == "greet").count(), 1, "a duplicate does not call the service again");
}

#[test]
fn an_expired_particle_is_dropped_and_reported() {
    let net = network(&TWO_RELAYS.replace("seed = 7", "seed = 7\nttl_ms = 5"));
    let report = run(&net, &on_r1("greet"));
    assert_eq!(report.result, None);
    assert!(report.events.iter().any(|e| e.kind == "expired"), "{:#?}", report.events);
}

#[test]
fn a_timeout_race_survives_a_dead_peer() {
    let net = with_fault("kind = \"crash\"\npeers = [\"R1\"]");
    let script = r#"
(seq
  (seq
    (call %init_peer_id% ("getDataSrv" "-relay-") [] -relay-)
    (call %init_peer_id% ("getDataSrv" "r1") [] r1))
  (seq
    (call -relay- ("op" "noop") [])
    (seq
      (par
        (seq (call r1 ("greeter" "greet") [] $answer) (call -relay- ("op" "noop") []))
        (call -relay- ("peer" "timeout") [1000 "timed out"] $answer))
      (seq
        (canon -relay- $answer #answer)
        (seq
          (call %init_peer_id% ("op" "noop") [])
          (call %init_peer_id% ("callbackSrv" "response") [#answer.$.[0]]))))))
"#;
    let report = run(&net, script);
    assert_eq!(report.result, Some(json!("timed out")), "{:#?}", report.events);
}

#[test]
fn a_client_cannot_reach_a_relay_other_than_its_own() {
    let net = network(TWO_RELAYS);
    let report = run(&net, r#"(seq (call %init_peer_id% ("getDataSrv" "r1") [] r1) (call r1 ("op" "noop") []))"#);
    assert!(
        report.events.iter().any(|e| e.kind == "unreachable" && e.detail.contains("R1 cannot be reached directly from me")),
        "{:#?}",
        report.events
    );
}

#[test]
fn description_errors_say_what_and_where() {
    let err = |text: &str| {
        let desc = Description::parse(text);
        match desc {
            Err(e) => e.to_string(),
            Ok(d) => Network::from_description(&d, text, 0).err().map(|e| e.to_string()).unwrap_or_default(),
        }
    };
    assert_eq!(
        err("[[relay]]\nname = \"R0\"\n\n[[client]]\nname = \"me\"\nrelay = \"R9\"\n"),
        "line 6, column 9: client `me` is attached to an unknown relay `R9`; did you mean `R0`?"
    );
    assert!(
        err("[[relay]]\nname = \"R0\"\nsize = 3\n").starts_with("line 3, column 1: unknown field `size`"),
        "{}",
        err("[[relay]]\nname = \"R0\"\nsize = 3\n")
    );
    assert!(err("[[relay]\nname = \"R0\"\n").starts_with("line 1"), "{}", err("[[relay]\nname = \"R0\"\n"));
    assert!(err("[[relay]]\nname = \"R0\"\n[[relay]]\nname = \"R0\"\n").contains("two peers are named `R0`"));
    assert!(
        err("[[relay]]\nname = \"R0\"\n[[service]]\nid = \"s\"\npeers = [\"R7\"]\nfunctions.f = { result = 1 }\n")
            .contains("line 5, column 10: unknown peer `R7`")
    );
    assert!(
        err("[[relay]]\nname = \"R0\"\n[[service]]\nid = \"s\"\npeers = [\"R0\"]\nfunctions.f = { result = 1, echo = true }\n")
            .contains("exactly one of")
    );
    assert!(err("[[relay]]\nname = \"R0\"\n[[fault]]\nkind = \"melt\"\npeers = [\"R0\"]\n").contains("unknown variant `melt`"));
    assert!(err("").contains("no relay"));
    let blueprint = "[[relay]]\nname = \"R0\"\n[[service]]\nid = \"s\"\npeers = [\"R0\"]\nblueprint = []\n";
    assert!(err(blueprint).contains("line 6, column 13: service `s`: `blueprint` needs its components"), "{}", err(blueprint));
    let effect = "[[relay]]\nname = \"R0\"\n[[effector]]\neffect = \"ssh\"\nmodules = []\npeers = [\"R0\"]\n";
    assert!(err(effect).contains("line 4, column 10: unknown effect `ssh` (known: curl)"), "{}", err(effect));
}

/// Fan out over the relays in parallel and join on all their answers at the client (the
/// compiler's `join` pattern: one snapshot of the growing stream per answer). The
/// simulator benchmark runs the same script.
const FAN_OUT_JOIN: &str = include_str!("fan_out_join.air");

fn fan_out(peers: usize) -> Report {
    let mut toml = String::new();
    for i in 0..peers {
        toml.push_str(&format!("[[relay]]\nname = \"R{i}\"\n"));
    }
    toml.push_str("[[client]]\nname = \"me\"\nrelay = \"R0\"\n");
    let net = network(&toml);
    let mut data = BTreeMap::new();
    data.insert("peers".to_owned(), Json::Array(net.peers.iter().filter(|p| p.name != "me").map(|p| json!(p.id)).collect()));
    let client = net.index_of_name("me").unwrap();
    Simulation::new(
        &net,
        RunSpec { script: FAN_OUT_JOIN.to_owned(), client, data, ttl_ms: 600_000, particle_id: "fan".into() },
        &mut NoExternalServices,
    )
    .run()
}

#[test]
fn a_fan_out_over_many_peers_joins_all_answers() {
    let report = fan_out(20);
    assert_eq!(report.result, Some(json!(20)), "{:?}\n{}", report.problems, report.trace_lines().join("\n"));
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.calls.iter().filter(|c| c.function == "identity").count(), 20);
}

/// The same over 1 000 peers: 3 000 particle hops, each answer replayed at the relay
/// and at the client, where the join takes a snapshot of the growing stream per answer.
/// (Tens of seconds; the VM and the simulator are optimized in test builds for it.)
#[test]
fn a_fan_out_over_a_thousand_peers_joins_all_answers() {
    let report = fan_out(1000);
    assert_eq!(report.result, Some(json!(1000)), "{:?}", report.problems);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.calls.iter().filter(|c| c.function == "identity").count(), 1000);
    // The client to R0, R0 to the 999 others and back, and every answer on to the client.
    assert_eq!(report.hops.len(), 1 + 999 + 999 + 1000);
}

#[test]
fn the_svg_draws_every_peer_hop_and_call() {
    let report = run(&network(TWO_RELAYS), &on_r1("greet"));
    let svg = aqua_network::svg::render(&report);
    assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>\n"));
    for peer in ["R0", "R1", "me"] {
        assert!(svg.contains(&format!(">{peer}</text>")), "{peer}");
    }
    assert_eq!(svg.matches("marker-end=\"url(#arrow)\"").count(), report.hops.len());
    assert_eq!(svg.matches("<circle").count(), report.calls.len());
    assert!(svg.contains(">greeter.greet</text>"));
    assert_eq!(svg, aqua_network::svg::render(&run(&network(TWO_RELAYS), &on_r1("greet"))), "deterministic");
    let lost = aqua_network::svg::render(&run(&with_fault("kind = \"drop\"\npeers = [\"R1\"]"), &on_r1("greet")));
    assert!(lost.contains("stroke-dasharray"), "a lost hop is drawn dashed");
}

/// Runs `calls` on R1 (through R0) and responds with `r`.
fn srv_script(calls: &str) -> String {
    format!(
        r#"
(xor
  (seq
    (seq
      (call %init_peer_id% ("getDataSrv" "-relay-") [] -relay-)
      (call %init_peer_id% ("getDataSrv" "r1") [] r1))
    (seq
      (seq (call -relay- ("op" "noop") []) (seq {calls} (call -relay- ("op" "noop") [])))
      (call %init_peer_id% ("callbackSrv" "response") [r])))
  (seq (call -relay- ("op" "noop") []) (call %init_peer_id% ("errorHandlingSrv" "error") [%last_error% 0])))
"#
    )
}

#[test]
fn srv_lists_services_and_aliases_reach_them() {
    let net = network(TWO_RELAYS);
    let report = run(
        &net,
        &srv_script(
            r#"(seq (call r1 ("srv" "add_alias") ["hello" "greeter"]) (seq (call r1 ("hello" "greet") [] g) (seq (call r1 ("srv" "list") [] list) (call r1 ("srv" "resolve_alias") ["hello"] r))))"#,
        ),
    );
    assert_eq!(report.result, Some(json!("greeter")), "{:?}", report.error);
    let list = report.calls.iter().find(|c| c.function == "list").and_then(|c| c.result.clone()).expect("list");
    assert_eq!(list[0]["id"], "greeter");
    assert_eq!(list[0]["aliases"], json!(["hello"]));
    assert_eq!(report.calls.iter().find(|c| c.function == "greet").and_then(|c| c.result.clone()), Some(json!("hi")));
}

#[test]
fn srv_permissions_and_removal() {
    // By default the first client (`me`) manages; with R0 as the management peer, `me` may not.
    let net = network(&TWO_RELAYS.replacen("seed = 7", "management = \"R0\"\nseed = 7", 1));
    let report = run(&net, &srv_script(r#"(call r1 ("srv" "add_alias") ["hello" "greeter"] r)"#));
    let error = report.error.expect("refused");
    assert!(error["message"].as_str().unwrap_or_default().contains("only the host or the management peer may add aliases"), "{error}");
    let net = network(TWO_RELAYS);
    let report = run(
        &net,
        &srv_script(
            r#"(seq (call r1 ("srv" "remove") ["greeter"]) (xor (call r1 ("greeter" "greet") [] r) (ap %last_error%.$.message r)))"#,
        ),
    );
    let message = report.result.expect("a result");
    assert!(message.as_str().unwrap_or_default().contains("Service with id 'greeter' not found"), "{message}");
}
