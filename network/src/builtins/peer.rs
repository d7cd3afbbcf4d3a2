//! `peer`: who this peer is, its clock, timers and connections.

use super::args::{Args, describe};
use super::{CallContext, Outcome};
use serde_json::{Value, json};

pub(super) fn call(function: &str, a: &Args<'_>, ctx: &CallContext<'_>) -> Outcome {
    match function {
        "identify" => identify(a, ctx).into(),
        "timestamp_ms" => a.exactly(0).map(|()| json!(ctx.now_ms)).into(),
        "timestamp_sec" => a.exactly(0).map(|()| json!(ctx.now_ms / 1000)).into(),
        "timeout" => match timeout(a) {
            Ok((after_ms, message)) => Outcome::After { after_ms, value: Value::from(message) },
            Err(e) => Outcome::Err(e),
        },
        "is_connected" => a.exactly(1).and_then(|()| a.str(0)).map(|p| Value::Bool((ctx.is_connected)(p))).into(),
        "get_contact" => get_contact(a, ctx).into(),
        _ => Outcome::NotFound,
    }
}

fn identify(a: &Args<'_>, ctx: &CallContext<'_>) -> Result<Value, String> {
    a.exactly(0)?;
    Ok(json!({
        "external_addresses": ctx.external_addresses,
        "node_version": concat!("aqua-network ", env!("CARGO_PKG_VERSION")),
        "air_version": air_vm::data::INTERPRETER_VERSION,
        "spell_version": "",
        "allowed_binaries": [],
        "vm_info": null,
    }))
}

/// `timeout(duration_ms, message?)`: the duration is a number or a numeric string (as the
/// reference peer accepts); the message defaults to `""`.
fn timeout(a: &Args<'_>) -> Result<(u64, String), String> {
    a.between(1, 2)?;
    let d = a.get(0)?;
    let duration = match d {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse::<u64>().ok(),
        _ => None,
    };
    let duration = duration
        .ok_or_else(|| a.error(format!("argument 1 (duration_ms) must be a non-negative integer or a string of one, got {}", shown(d))))?;
    let message = a.opt_str(1)?.unwrap_or_default();
    Ok((duration, message.to_owned()))
}

/// A value in a message: strings quoted (they are short here), others described.
fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string {s:?}"),
        _ => describe(v),
    }
}

/// `get_contact(peer)`: `{peer_id, addresses}` if this peer is connected to it, else `null`.
/// Simulated peers have no multiaddresses, so `addresses` is empty.
fn get_contact(a: &Args<'_>, ctx: &CallContext<'_>) -> Result<Value, String> {
    a.exactly(1)?;
    let peer = a.str(0)?;
    Ok(if (ctx.is_connected)(peer) { json!({"peer_id": peer, "addresses": []}) } else { Value::Null })
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[test]
    fn identify_describes_the_peer() {
        let v = ok("peer", "identify", json!([]));
        assert_eq!(v["external_addresses"], json!(["/ip4/127.0.0.1/tcp/7777"]));
        assert_eq!(v["node_version"], json!(format!("aqua-network {}", env!("CARGO_PKG_VERSION"))));
        assert_eq!(v["air_version"], json!(air_vm::data::INTERPRETER_VERSION));
        assert_eq!(v["spell_version"], json!(""));
        assert_eq!(v["allowed_binaries"], json!([]));
        assert_eq!(v["vm_info"], Value::Null);
        let keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["external_addresses", "node_version", "air_version", "spell_version", "allowed_binaries", "vm_info"]);
        assert_eq!(err("peer", "identify", json!([1])), "peer.identify: expected 0 arguments, got 1 argument");
    }

    #[test]
    fn timestamps_come_from_virtual_time() {
        assert_eq!(ok("peer", "timestamp_ms", json!([])), json!(1_700_000_123_456_u64));
        assert_eq!(ok("peer", "timestamp_sec", json!([])), json!(1_700_000_123_u64));
        let mut f = Fixture::new();
        f.now_ms = 999;
        assert_eq!(f.call("peer", "timestamp_sec", json!([])), Outcome::Ok(json!(0)));
        assert_eq!(f.call("peer", "timestamp_ms", json!([])), Outcome::Ok(json!(999)));
        assert_eq!(err("peer", "timestamp_ms", json!(["x"])), "peer.timestamp_ms: expected 0 arguments, got 1 argument");
    }

    #[test]
    fn timeout_answers_later() {
        assert_eq!(run("peer", "timeout", json!([1500, "late"])), Outcome::After { after_ms: 1500, value: json!("late") });
        assert_eq!(run("peer", "timeout", json!(["250", "s"])), Outcome::After { after_ms: 250, value: json!("s") });
        assert_eq!(run("peer", "timeout", json!([0])), Outcome::After { after_ms: 0, value: json!("") });
        assert_eq!(run("peer", "timeout", json!([10, null])), Outcome::After { after_ms: 10, value: json!("") });
        assert_eq!(run("peer", "timeout", json!([10, []])), Outcome::After { after_ms: 10, value: json!("") });
        assert_eq!(run("peer", "timeout", json!([10, ["m"]])), Outcome::After { after_ms: 10, value: json!("m") });
    }

    #[test]
    fn timeout_rejects_bad_arguments() {
        assert_eq!(err("peer", "timeout", json!([])), "peer.timeout: expected 1 to 2 arguments, got 0 arguments");
        assert_eq!(err("peer", "timeout", json!([1, "a", "b"])), "peer.timeout: expected 1 to 2 arguments, got 3 arguments");
        assert_eq!(
            err("peer", "timeout", json!([-1, "m"])),
            "peer.timeout: argument 1 (duration_ms) must be a non-negative integer or a string of one, got the number -1"
        );
        assert_eq!(
            err("peer", "timeout", json!(["soon"])),
            "peer.timeout: argument 1 (duration_ms) must be a non-negative integer or a string of one, got the string \"soon\""
        );
        assert!(err("peer", "timeout", json!([1.5])).contains("the number 1.5"));
        assert!(err("peer", "timeout", json!([null])).contains("got null"));
        assert_eq!(err("peer", "timeout", json!([5, 7])), "peer.timeout: argument 2 must be an optional string, got the number 7");
    }

    #[test]
    fn connections() {
        let mut f = Fixture::new();
        f.connected = vec!["12D3KooWfriend".to_owned()];
        assert_eq!(f.call("peer", "is_connected", json!(["12D3KooWfriend"])), Outcome::Ok(json!(true)));
        assert_eq!(f.call("peer", "is_connected", json!(["12D3KooWstranger"])), Outcome::Ok(json!(false)));
        assert_eq!(
            f.call("peer", "get_contact", json!(["12D3KooWfriend"])),
            Outcome::Ok(json!({"peer_id": "12D3KooWfriend", "addresses": []}))
        );
        assert_eq!(f.call("peer", "get_contact", json!(["12D3KooWstranger"])), Outcome::Ok(Value::Null));
        assert_eq!(err("peer", "is_connected", json!([])), "peer.is_connected: expected 1 argument, got 0 arguments");
        assert_eq!(err("peer", "is_connected", json!([1])), "peer.is_connected: argument 1 must be a string, got the number 1");
        assert_eq!(err("peer", "get_contact", json!(["a", "b"])), "peer.get_contact: expected 1 argument, got 2 arguments");
    }
}
