//! Runs every AIR conformance case in `conformance/air/*.toml`.
//!
//! A case is data: a script, the peers, what each service function returns, and what
//! must happen (the calls recorded, in order, and the errors). `@name` in the script or
//! in expected values stands for the peer ID of peer `name`. Adding a case needs no Rust.

use air_vm::local::LocalNetwork;
use air_vm::{CallRequest, CallResult};
use serde::Deserialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    description: String,
    /// Peer names; the first one starts the particle.
    peers: Vec<String>,
    air: String,
    #[serde(default)]
    services: BTreeMap<String, Behaviour>,
    /// Set to false for cases about hand-written peer names without keys.
    #[serde(default = "yes")]
    signatures: bool,
    expect: Expect,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Behaviour {
    result: Option<toml::Value>,
    error: Option<String>,
    ret_code: Option<i32>,
    #[serde(default)]
    echo: bool,
    #[serde(default)]
    args: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// Service functions whose calls are recorded, as "service.function".
    #[serde(default)]
    record: Vec<String>,
    /// The recorded calls, in order: [peer, "service.function", [args...]].
    #[serde(default)]
    calls: Vec<(String, String, toml::Value)>,
    /// Errors outcomes: [peer, ret_code].
    #[serde(default)]
    errors: Vec<(String, i64)>,
}

fn to_json(v: &toml::Value, net: &LocalNetwork) -> Json {
    let json = serde_json::to_value(v).unwrap_or(Json::Null);
    expand_json(json, net)
}

fn expand_json(v: Json, net: &LocalNetwork) -> Json {
    match v {
        Json::String(s) if s.starts_with('@') => Json::String(net.id(&s[1..])),
        Json::Array(a) => Json::Array(a.into_iter().map(|x| expand_json(x, net)).collect()),
        Json::Object(m) => Json::Object(m.into_iter().map(|(k, x)| (k, expand_json(x, net))).collect()),
        other => other,
    }
}

fn run_case(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let case: Case = toml::from_str(&text).map_err(|e| format!("malformed case: {e}"))?;
    let names: Vec<&str> = case.peers.iter().map(String::as_str).collect();
    let mut net = LocalNetwork::new(&names);
    net.signatures = case.signatures;
    let air = net.expand(&case.air);
    let init = names.first().ok_or("a case needs at least one peer")?;
    let mut services = |_peer: &str, r: &CallRequest| -> CallResult {
        let key = format!("{}.{}", r.service_id, r.function_name);
        match case.services.get(&key) {
            None => CallResult::error(1, format!("service function {key} is not in the case")),
            Some(b) if b.echo => CallResult::ok(r.arguments.first().cloned().unwrap_or(Json::Null)),
            Some(b) if b.args => CallResult::ok(Json::Array(r.arguments.clone())),
            Some(Behaviour { error: Some(e), ret_code, .. }) => CallResult::error(ret_code.unwrap_or(1), e.clone()),
            Some(Behaviour { result: Some(v), .. }) => CallResult::ok(to_json(v, &net)),
            Some(_) => CallResult::ok(Json::Null),
        }
    };
    let run = net.run(&air, init, &mut services);
    let recorded: Vec<(String, String, Json)> = run
        .calls
        .iter()
        .map(|c| {
            (c.peer.clone(), format!("{}.{}", c.request.service_id, c.request.function_name), Json::Array(c.request.arguments.clone()))
        })
        .filter(|(_, f, _)| case.expect.record.contains(f))
        .collect();
    let expected: Vec<(String, String, Json)> =
        case.expect.calls.iter().map(|(p, f, a)| (p.clone(), f.clone(), to_json(a, &net))).collect();
    if recorded != expected {
        return Err(format!("{}\nrecorded calls: {recorded:#?}\nexpected calls: {expected:#?}", case.description));
    }
    let errors: Vec<(String, i64)> = run.errors.iter().map(|(p, c, _)| (p.clone(), *c)).collect();
    if errors != case.expect.errors {
        return Err(format!("{}\nerrors: {:#?}\nexpected errors: {:?}", case.description, run.errors, case.expect.errors));
    }
    Ok(())
}

#[test]
fn air_conformance_cases() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/air");
    let mut paths: Vec<_> = std::fs::read_dir(&dir).map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect()).unwrap_or_default();
    paths.retain(|p| p.extension().is_some_and(|e| e == "toml"));
    paths.sort();
    assert!(paths.len() >= 10, "expected the conformance cases in {}", dir.display());
    let failures: Vec<String> = paths.iter().filter_map(|p| run_case(p).err().map(|e| format!("{}: {e}", p.display()))).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n\n{}", failures.len(), paths.len(), failures.join("\n\n"));
}
