//! The JSON view of particle data for people (`aqua air trace`).
//!
//! The trace is shown as its flat list of subtraces (a `par` names the subtraces of
//! its branches) rather than as nested JSON, so arbitrarily deep traces print without
//! recursion. Values are shown inline instead of as CIDs.

use crate::data::Data;
use crate::trace::{CallState, CanonState, Output, State};
use crate::value::Cid;
use serde_json::{Value as Json, json};

pub(crate) fn data_to_json(d: &Data) -> Json {
    let value = |cid: &Cid| d.store.values.get(cid).and_then(|t| serde_json::from_str::<Json>(t).ok()).unwrap_or(Json::Null);
    let tetraplet = |cid: &Cid| d.store.tetraplets.get(cid).map(|t| serde_json::to_value(t).unwrap_or(Json::Null)).unwrap_or(Json::Null);
    let state = |s: &State| -> Json {
        match s {
            State::Call(CallState::RequestSent { by, call_id }) => json!({ "call": { "request_sent_by": by, "call_id": call_id } }),
            State::Call(CallState::Executed { result, output }) => {
                let r = d.store.results.get(result);
                json!({ "call": {
                    "result": r.map(|r| value(&r.value)),
                    "output": match output {
                        Output::Scalar => json!("scalar"),
                        Output::Stream(generation) => json!({ "stream": { "generation": generation.number() } }),
                        Output::Unused => json!("unused"),
                    },
                    "tetraplet": r.map(|r| tetraplet(&r.tetraplet)),
                    "cid": result.to_hex(),
                } })
            }
            State::Call(CallState::Failed { result }) => {
                let r = d.store.results.get(result);
                json!({ "call": { "failed": r.map(|r| value(&r.value)), "tetraplet": r.map(|r| tetraplet(&r.tetraplet)), "cid": result.to_hex() } })
            }
            State::Par { left, right } => json!({ "par": { "left": left.0, "right": right.0 } }),
            State::Fold { iterations } => json!({ "fold": iterations.iter().map(|i| json!({
                "value_key": i.value.0.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                "subtrace": i.subtrace.0,
            })).collect::<Vec<_>>() }),
            State::Ap(generation) => json!({ "ap": { "generation": generation.number() } }),
            State::Canon(CanonState::RequestSent { by }) => json!({ "canon": { "request_sent_by": by } }),
            State::Canon(CanonState::Executed { result }) => {
                let c = d.store.canons.get(result);
                json!({ "canon": {
                    "values": c.map(|c| d.store.canon_elements(c).iter().map(|e| match &e.key {
                        None => value(&e.value),
                        Some(key) => json!({ "key": value(key), "value": value(&e.value) }),
                    }).collect::<Vec<_>>()),
                    "tetraplet": c.map(|c| tetraplet(&c.tetraplet)),
                    "cid": result.to_hex(),
                } })
            }
        }
    };
    let subtraces: Vec<Json> = d
        .trace
        .subtraces
        .iter()
        .enumerate()
        .map(|(i, states)| json!({ "subtrace": i, "states": states.iter().map(state).collect::<Vec<_>>() }))
        .collect();
    let signatures: serde_json::Map<String, Json> =
        d.signatures.iter().map(|(p, s)| (p.clone(), Json::from(bs58::encode(s.0).into_string()))).collect();
    json!({
        "format_version": crate::data::FORMAT_VERSION,
        "interpreter_version": d.interpreter_version,
        "last_call_id": d.last_call_id,
        "trace": subtraces,
        "signatures": signatures,
        "store": { "values": d.store.values.len(), "tetraplets": d.store.tetraplets.len(), "results": d.store.results.len(), "canons": d.store.canons.len() },
    })
}
