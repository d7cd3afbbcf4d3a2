//! Spells and deployments on the simulated network: Aqua compiled by the compiler, run
//! by the simulator, checked through the report.

use aqua_compiler::check::{CheckOptions, Def};
use aqua_compiler::lower::{LowerOptions, lower_function};
use aqua_compiler::modules::MemoryLoader;
use aqua_network::network::SpellSource;
use aqua_network::report::SpellReport;
use aqua_network::spell::Stored;
use aqua_network::{Description, Network, NoExternalServices, Report, RunSpec, Simulation};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

const SPELLS: &str = r#"
aqua Spells

import "@fluencelabs/aqua-lib/builtin.aqua"
import "@fluencelabs/aqua-lib/subnet.aqua"
import "@fluencelabs/spell/api.aqua"
import "@fluencelabs/spell/spell_service.aqua"

service Missing:
    call()

service Store("store"):
    get() -> string

data Args:
    target: string

func beat():
    Spell "self"
    beats <- Spell.get_u32("beats")
    counted <- Spell.set_u32("beats", beats.value + 1)
    logged <- Spell.store_log("beat")

func broken():
    Spell "self"
    Missing "nowhere"
    Missing.call()

func pinger(target: PeerId):
    Spell "self"
    on target:
        now <- Peer.timestamp_ms()
    pushed <- Spell.list_push_string("seen", target)

func watcher():
    Spell "self"
    trigger <- Spell.get_string("hw_trigger")
    logged <- Spell.store_log(trigger.value)

func reader():
    Spell "self"
    message <- Spell.pop_mailbox()
    if message.absent == false:
        logged <- Spell.store_log(message.message[0].message)

func install(script: string, peer: PeerId, start_sec: u32, period_sec: u32) -> string:
    config = TriggerConfig(clock = ClockConfig(start_sec = start_sec, end_sec = 0, period_sec = period_sec), connections = ConnectionPoolConfig(connect = false, disconnect = false), blockchain = BlockChainConfig(start_block = 0, end_block = 0))
    on peer:
        id <- PeerSpell.install(script, Args(target = peer), config, "pinger")
    <- id

func remove(peer: PeerId, name: string) -> []string:
    on peer:
        PeerSpell.remove(name)
        left <- PeerSpell.list()
    <- left

func retrigger(peer: PeerId, name: string, start_sec: u32, period_sec: u32) -> TriggerConfigValue:
    config = TriggerConfig(clock = ClockConfig(start_sec = start_sec, end_sec = 0, period_sec = period_sec), connections = ConnectionPoolConfig(connect = false, disconnect = false), blockchain = BlockChainConfig(start_block = 0, end_block = 0))
    on peer:
        PeerSpell.update_trigger_config(name, config)
        Spell name
        now <- Spell.get_trigger_config()
    <- now

func write(peer: PeerId, spell: string, key: string) -> UnitValue:
    on peer:
        Spell spell
        written <- Spell.set_string(key, "v")
    <- written

func mail(peer: PeerId, spell: string, text: string) -> UnitValue:
    on peer:
        Spell spell
        pushed <- Spell.push_mailbox(text)
    <- pushed

func replicas(name: string) -> []string:
    hosts: *string
    on HOST_PEER_ID:
        subnet <- Subnet.resolve(name)
    for w <- subnet.workers:
        hosts <<- w.host_id
    <- hosts

func ask_replicas(name: string) -> []string:
    answers: *string
    on HOST_PEER_ID:
        subnet <- Subnet.resolve(name)
        for w <- subnet.workers par:
            on w.worker_id! via w.host_id:
                answers <- Store.get()
        join answers[subnet.workers.length - 1]
    <- answers
"#;

/// Compiles the function `name` of [`SPELLS`] to AIR.
fn compile(name: &str) -> String {
    let mut loader = MemoryLoader::default();
    loader.files.insert("spells.aqua".into(), SPELLS.into());
    let result = aqua_compiler::check_files(&["spells.aqua".into()], &[], &mut loader, &CheckOptions::default());
    assert!(!result.diagnostics.has_errors(), "{:?}", result.diagnostics);
    let root = result.program.roots[0];
    let Some(Def::Func(f)) = result.program.modules[&root].scope.defs.get(name) else { panic!("no function {name}") };
    lower_function(f, LowerOptions::default()).unwrap_or_else(|d| panic!("{d:?}"))
}

const PEERS: &str = r#"
[[relay]]
name = "R0"

[[relay]]
name = "R1"

[[relay]]
name = "R2"

[[client]]
name = "me"
relay = "R0"

[[client]]
name = "eve"
relay = "R0"
"#;

/// The network of [`PEERS`] plus `extra`, its spells' functions compiled from [`SPELLS`].
fn network(extra: &str) -> Network {
    let text = format!("{PEERS}\n{extra}");
    let desc = Description::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let mut net = Network::from_description(&desc, &text, 3).unwrap_or_else(|e| panic!("{e}"));
    net.load_spell_scripts(&mut |source| match source {
        SpellSource::Aqua { function, .. } => Ok(compile(function)),
        SpellSource::Air { file } => Err(format!("no AIR files here ({file})")),
    })
    .expect("scripts load");
    net
}

fn peer_id(net: &Network, name: &str) -> String {
    net.peers[net.index_of_name(name).expect("a peer")].id.clone()
}

/// Runs `function(args)` from client `from` until `until` ms (or until done).
fn call(net: &Network, from: &str, function: &str, args: &[(&str, Json)], until: Option<u64>) -> Report {
    let data: BTreeMap<String, Json> = args.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    let client = net.index_of_name(from).expect("a client");
    let spec = RunSpec { script: compile(function), client, data, ttl_ms: 20_000, particle_id: format!("{function}-run") };
    let mut external = NoExternalServices;
    let sim = Simulation::new(net, spec, &mut external);
    match until {
        Some(ms) => sim.until(ms).run(),
        None => sim.run(),
    }
}

fn spells_until(net: &Network, until: u64) -> Report {
    Simulation::spells_only(net, &mut NoExternalServices).until(until).run()
}

fn spell<'r>(report: &'r Report, alias: &str) -> &'r SpellReport {
    report.spells.iter().find(|s| s.alias.as_deref() == Some(alias)).unwrap_or_else(|| panic!("no spell {alias}: {report:#?}"))
}

fn spell_desc(name: &str, peer: &str, function: &str, trigger: &str) -> String {
    format!("[[spell]]\nname = \"{name}\"\npeers = [\"{peer}\"]\naqua = \"spells.aqua\"\nfunction = \"{function}\"\n{trigger}\n")
}

#[test]
fn a_clock_spell_fires_once_per_period_within_its_window() {
    let net = network(&spell_desc("beat", "R1", "beat", "clock = { start_ms = 1000, period_ms = 1000, end_ms = 5500 }"));
    let report = spells_until(&net, 10_000);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let beat = spell(&report, "beat");
    assert_eq!((beat.runs, beat.peer.as_str()), (5, "R1"));
    assert_eq!(beat.kv.get("beats"), Some(&Stored::U32(5)), "the store holds what the runs wrote");
    assert_eq!(beat.kv.get("hw_counter"), Some(&Stored::U32(5)));
    let times: Vec<u64> = beat.logs.iter().map(|l| l.time_ms).collect();
    assert_eq!(times, [1000, 2000, 3000, 4000, 5000]);
    assert_eq!(report.end_ms, 10_000);
    // A shorter window sees fewer runs.
    assert_eq!(spell(&spells_until(&net, 2500), "beat").runs, 2);
}

#[test]
fn a_failing_spell_stores_each_error_and_keeps_its_schedule() {
    let net = network(&spell_desc("broken", "R0", "broken", "clock = { period_ms = 1000 }"));
    let report = spells_until(&net, 2000);
    let broken = spell(&report, "broken");
    assert_eq!(broken.runs, 3);
    assert_eq!(broken.errors.len(), 3, "one entry per failed run: {:#?}", broken.errors);
    for e in &broken.errors {
        let message = e.errors[0]["last_error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("Service with id 'nowhere' not found"), "{message}");
    }
    assert_eq!(report.events.iter().filter(|e| e.kind == "spell-error").count(), 3);
}

#[test]
fn spells_do_not_keep_a_run_alive_without_until() {
    let net = network(&spell_desc("beat", "R1", "beat", "clock = { period_ms = 1000 }"));
    let report = call(&net, "me", "replicas", &[("name", json!("none"))], None);
    assert_eq!(report.result, Some(json!([])));
    assert_eq!(spell(&report, "beat").runs, 1, "only the firing at 0 ms, while the run was alive");
    assert!(report.end_ms < 1000, "{}", report.end_ms);
}

#[test]
fn the_management_peer_installs_a_spell_at_run_time() {
    let net = network("");
    let (r2, start) = (peer_id(&net, "R2"), 1_767_225_600 + 1);
    let args = [("script", json!(compile("pinger"))), ("peer", json!(r2)), ("start_sec", json!(start)), ("period_sec", json!(1))];
    let report = call(&net, "me", "install", &args, Some(4500));
    let pinger = spell(&report, "pinger");
    assert_eq!(report.result, Some(json!(pinger.id)), "install answers the spell's id");
    assert_eq!((pinger.peer.as_str(), pinger.runs), ("R2", 4), "fires at 1, 2, 3 and 4 s");
    assert_eq!(pinger.kv.get("seen"), Some(&Stored::List(vec![r2.clone(); 4])), "its init_args reached the function");
    // Anyone else is refused, with the reason.
    let refused = call(&net, "eve", "install", &args, Some(4500));
    let message = refused.error.expect("refused")["message"].as_str().unwrap_or_default().to_owned();
    assert!(message.contains("only the host or the management peer"), "{message}");
    assert!(refused.spells.is_empty());
}

#[test]
fn a_removed_spell_fires_no_more() {
    let net = network(&spell_desc("beat", "R1", "beat", "clock = { start_ms = 1000, period_ms = 1000 }"));
    let report = call(&net, "me", "remove", &[("peer", json!(peer_id(&net, "R1"))), ("name", json!("beat"))], Some(5000));
    assert_eq!(report.result, Some(json!([])), "spell.list no longer has it");
    let beat = spell(&report, "beat");
    assert_eq!((beat.runs, beat.removed), (0, true));
}

#[test]
fn a_new_trigger_replaces_the_old_one() {
    let net = network(&spell_desc("beat", "R1", "beat", "clock = { period_ms = 500 }"));
    let start = 1_767_225_600 + 2;
    let args = [("peer", json!(peer_id(&net, "R1"))), ("name", json!("beat")), ("start_sec", json!(start)), ("period_sec", json!(1))];
    let report = call(&net, "me", "retrigger", &args, Some(4000));
    let config = report.result.clone().expect("an answer");
    assert_eq!(config["config"]["clock"], json!({"start_sec": start, "end_sec": 0, "period_sec": 1}));
    // The old clock fired at 0 s (and would have every 0.5 s); the new one at 2, 3 and 4 s.
    let times: Vec<u64> = spell(&report, "beat").logs.iter().map(|l| l.time_ms).collect();
    assert_eq!(times, [0, 2000, 3000, 4000]);
}

#[test]
fn others_may_read_but_not_write_a_spells_store() {
    let net = network(&spell_desc("beat", "R1", "beat", ""));
    let r1 = json!(peer_id(&net, "R1"));
    let written = call(&net, "me", "write", &[("peer", r1.clone()), ("spell", json!("beat")), ("key", json!("k"))], None);
    let written = written.result.expect("an answer");
    assert_eq!(written["success"], json!(false));
    assert!(written["error"].as_str().unwrap_or_default().contains("may not write 'k'"), "{written}");
    let missing = call(&net, "me", "write", &[("peer", r1), ("spell", json!("nope")), ("key", json!("k"))], None);
    assert!(missing.error.is_some(), "an unknown spell is an unknown service");
}

#[test]
fn a_spell_reads_its_mailbox() {
    let net = network(&spell_desc("reader", "R1", "reader", "clock = { start_ms = 1000 }"));
    let args = [("peer", json!(peer_id(&net, "R1"))), ("spell", json!("reader")), ("text", json!("hello"))];
    let report = call(&net, "me", "mail", &args, Some(2000));
    assert_eq!(report.result.as_ref().map(|r| r["success"].clone()), Some(json!(true)), "anyone may push to the mailbox");
    let logs: Vec<&str> = spell(&report, "reader").logs.iter().map(|l| l.message.as_str()).collect();
    assert_eq!(logs, ["hello"]);
}

#[test]
fn connection_triggers_fire_on_connect_and_disconnect() {
    let watcher = spell_desc("watcher", "R0", "watcher", "connections = { connect = true, disconnect = true }");
    let fault = "[[fault]]\nkind = \"crash\"\npeers = [\"R1\"]\nfrom_ms = 1000\nuntil_ms = 3000\n";
    let net = network(&format!("{watcher}\n{fault}"));
    let report = spells_until(&net, 5000);
    let w = spell(&report, "watcher");
    let seen: Vec<(u64, Json)> =
        w.logs.iter().map(|l| (l.time_ms, serde_json::from_str::<Json>(&l.message).expect("JSON")["peer"][0].clone())).collect();
    let peer = |name: &str, connected: bool| json!({"peer_id": peer_id(&net, name), "connected": connected});
    // The clients connect at the start; R1 goes down at 1 s and comes back at 3 s.
    let expected =
        [(0, peer("me", true)), (0, peer("eve", true)), (1000, peer("R1", false)), (3000, peer("R1", true))].map(|(t, p)| (t, p));
    assert_eq!(seen, expected);
}

#[test]
fn a_spell_on_a_crashed_peer_skips_its_runs_until_the_peer_is_back() {
    let beat = spell_desc("beat", "R1", "beat", "clock = { period_ms = 1000 }");
    let fault = "[[fault]]\nkind = \"crash\"\npeers = [\"R1\"]\nfrom_ms = 1500\nuntil_ms = 3500\n";
    let report = spells_until(&network(&format!("{beat}\n{fault}")), 4500);
    assert_eq!(spell(&report, "beat").runs, 3, "0 and 1 s, then 4 s");
    let skipped = report.events.iter().filter(|e| e.kind == "spell" && e.detail.contains("did not fire")).count();
    assert_eq!(skipped, 2);
}

#[test]
fn runs_with_spells_are_deterministic() {
    let beat = spell_desc("beat", "R1", "pinger", "init_args = { target = \"@R2\" }\nclock = { period_ms = 700 }");
    let net = network(&beat);
    let a = serde_json::to_string(&spells_until(&net, 5000)).expect("JSON");
    let b = serde_json::to_string(&spells_until(&net, 5000)).expect("JSON");
    assert_eq!(a, b);
    assert!(a.contains("beat#8"), "run labels are in the report");
}

const STORE: &str = "[[service]]\nid = \"store\"\nfunctions.get = { result = \"v1\" }\n";

#[test]
fn a_deployment_places_its_replicas_on_distinct_peers() {
    let net = network(&format!("{STORE}\n[[deployment]]\nname = \"kv\"\nservice = \"store\"\nreplicas = 3\n"));
    let kv = net.deployment("kv").expect("placed");
    assert_eq!(kv.hosts.len(), 3);
    let hosts: Vec<String> = kv.hosts.iter().map(|&h| net.peers[h].id.clone()).collect();
    let report = call(&net, "me", "replicas", &[("name", json!("kv"))], None);
    assert_eq!(report.result, Some(json!(hosts)), "subnet.resolve lists them");
    for (i, services) in net.services.iter().enumerate() {
        assert_eq!(services.contains_key("store"), kv.hosts.contains(&i), "{}", net.peers[i].name);
    }
    let unknown = call(&net, "me", "replicas", &[("name", json!("nope"))], None);
    assert_eq!(unknown.result, Some(json!([])));
}

#[test]
fn placement_comes_from_the_seed() {
    let text = format!("{PEERS}\n{STORE}\n[[deployment]]\nname = \"kv\"\nservice = \"store\"\nreplicas = 2\npeers = [\"relays\"]\n");
    let desc = Description::parse(&text).expect("valid");
    let place = |seed| Network::from_description(&desc, &text, seed).expect("valid").deployment("kv").expect("placed").hosts.clone();
    assert_eq!(place(1), place(1));
    let placements: std::collections::BTreeSet<Vec<usize>> = (0..20).map(place).collect();
    assert!(placements.len() > 1, "different seeds spread the replicas differently");
    assert!(placements.iter().all(|p| p.len() == 2 && p[0] != p[1] && p.iter().all(|&h| h < 3)), "{placements:?}");
}

#[test]
fn a_call_reaches_every_replica_through_subnet_resolve() {
    let deploy = format!("{STORE}\n[[deployment]]\nname = \"kv\"\nservice = \"store\"\nreplicas = 3\n");
    let net = network(&deploy);
    let report = call(&net, "me", "ask_replicas", &[("name", json!("kv"))], None);
    assert_eq!(report.result, Some(json!(["v1", "v1", "v1"])));
}

#[test]
fn bad_deployments_and_spells_are_refused_with_the_reason() {
    let cases = [
        ("[[deployment]]\nname = \"kv\"\nservice = \"store\"\nreplicas = 4\n", "asks for 4 replica(s), but 3 peer(s) can host it"),
        ("[[deployment]]\nname = \"kv\"\nservice = \"stor\"\nreplicas = 1\n", "unknown service `stor`; did you mean `store`?"),
        ("[[deployment]]\nname = \"kv\"\nservice = \"store\"\nreplicas = 0\n", "asks for 0 replica(s)"),
        ("[[spell]]\nname = \"s\"\npeers = [\"R0\"]\n", "needs a script"),
        ("[[spell]]\nname = \"s\"\npeers = [\"R9\"]\nair = \"a.air\"\n", "unknown peer `R9`"),
        ("[[spell]]\nname = \"s\"\npeers = [\"R0\"]\nair = \"a.air\"\nclock = { start_ms = 5, end_ms = 5 }\n", "ends (end_ms) before"),
    ];
    for (extra, expected) in cases {
        let text = format!("{PEERS}\n{STORE}\npeers = [\"R0\"]\n{extra}");
        let desc = Description::parse(&text).unwrap_or_else(|e| panic!("{e}"));
        let error = Network::from_description(&desc, &text, 0).expect_err(extra).to_string();
        assert!(error.contains(expected) && error.starts_with("line "), "{error}");
    }
    let text = format!("{PEERS}\n{STORE}");
    let error = Network::from_description(&Description::parse(&text).expect("valid"), &text, 0).expect_err("no peers").to_string();
    assert!(error.contains("service `store` is on no peer"), "{error}");
}
