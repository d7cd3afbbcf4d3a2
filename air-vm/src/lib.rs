//! `air-vm`: parse, execute and merge AIR.
//!
//! The VM is a pure function run by every peer a particle reaches:
//! [`invoke`]`(script, previous data, incoming data, run parameters, call results)`
//! gives back the new data, the peers to send the particle to, and the service calls
//! the host must make. It merges the two datas, re-executes the script from the root
//! against the merged trace, and records what it did. No file system, clock or threads.

pub mod data;
mod data_view;
pub mod errors;
mod exec;
pub mod limits;
pub mod local;
pub mod merge;
pub mod sign;
pub mod syntax;
pub mod trace;
pub mod value;

use data::{Data, DataError};
use errors::{PreparationError, UNPROCESSED_CALL_RESULT};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
pub use value::{ErrorObject, Tetraplet};

/// What a peer knows about the particle it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunParameters {
    pub init_peer_id: String,
    pub current_peer_id: String,
    /// Particle creation time, milliseconds since the epoch.
    pub timestamp: u64,
    /// Particle time to live, milliseconds.
    pub ttl: u32,
    pub particle_id: String,
    /// The current peer's Ed25519 key pair (encoded as its secret key): results it
    /// produces are signed with it. `None` leaves them unsigned.
    pub key: Option<sign::KeyPair>,
    /// Whether the incoming data's signatures are checked. Off only for hand-built traces.
    pub check_signatures: bool,
    /// How big the incoming data and the call results may be.
    #[serde(default)]
    pub size_limits: limits::SizeLimits,
}

/// A service's answer to a call request, fed back by the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallResult {
    /// 0 for success; anything else makes the call fail.
    pub ret_code: i32,
    /// The result, or for a failure the error (its JSON text becomes the message).
    pub result: serde_json::Value,
}

impl CallResult {
    pub fn ok(result: serde_json::Value) -> Self {
        CallResult { ret_code: 0, result }
    }

    pub fn error(ret_code: i32, message: impl Into<String>) -> Self {
        CallResult { ret_code, result: serde_json::Value::String(message.into()) }
    }
}

/// A service call the host must make on this peer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRequest {
    pub service_id: String,
    pub function_name: String,
    pub arguments: Vec<serde_json::Value>,
    /// For each argument, where its value (or each value of a canon) came from.
    pub tetraplets: Vec<Vec<Tetraplet>>,
}

/// What a run gives back to the host.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// 0, or the code of the error that ended the run.
    pub ret_code: i64,
    pub error_message: String,
    /// The data to store and to send on.
    pub data: Vec<u8>,
    /// Peers to send the particle to, sorted.
    pub next_peers: Vec<String>,
    /// Calls for the host to make, by call id.
    pub call_requests: BTreeMap<u32, CallRequest>,
}

impl Outcome {
    fn kept(prev: &[u8], code: i64, message: String) -> Self {
        Outcome { ret_code: code, error_message: message, data: prev.to_vec(), next_peers: Vec::new(), call_requests: BTreeMap::new() }
    }
}

/// Runs `air` on this peer: merges `prev_data` with `incoming_data`, re-executes, and
/// returns the new data with next peers and call requests. `call_results` answer this
/// peer's earlier requests; the run takes them over (a 100 MB result is not copied). On
/// a preparation or uncatchable error the previous data comes back unchanged.
pub fn invoke(
    air: &str,
    prev_data: &[u8],
    incoming_data: &[u8],
    params: &RunParameters,
    call_results: BTreeMap<u32, CallResult>,
) -> Outcome {
    run(Source::Text(air), prev_data, incoming_data, params, call_results)
}

/// [`invoke`] for a script already parsed with [`syntax::parse`], with the outcome
/// `invoke` gives for the script's text. A host that runs one particle's script on many
/// hops (the simulator) parses it once: for a compiled Aqua function, parsing can cost
/// as much as the rest of a hop.
pub fn invoke_parsed(
    script: &syntax::Script,
    prev_data: &[u8],
    incoming_data: &[u8],
    params: &RunParameters,
    call_results: BTreeMap<u32, CallResult>,
) -> Outcome {
    run(Source::Parsed(script), prev_data, incoming_data, params, call_results)
}

/// The script of a run: its text, or its parsed (and validated) form.
#[derive(Clone, Copy)]
enum Source<'a> {
    Text(&'a str),
    Parsed(&'a syntax::Script),
}

fn run(
    source: Source<'_>,
    prev_data: &[u8],
    incoming_data: &[u8],
    params: &RunParameters,
    call_results: BTreeMap<u32, CallResult>,
) -> Outcome {
    match prepare(source, prev_data, incoming_data, params, &call_results) {
        Err(e) => Outcome::kept(prev_data, e.code(), e.to_string()),
        Ok(p) => execute(p, prev_data, params, call_results),
    }
}

struct Prepared<'a> {
    script: std::borrow::Cow<'a, syntax::Script>,
    prev: Data<'a>,
    incoming: Data<'a>,
    /// What each peer produced in the previous and the incoming data, when signatures are checked.
    sets: Option<(sign::Produced, sign::Produced)>,
}

fn prepare<'a>(
    source: Source<'a>,
    prev_data: &'a [u8],
    incoming_data: &'a [u8],
    params: &RunParameters,
    call_results: &BTreeMap<u32, CallResult>,
) -> Result<Prepared<'a>, PreparationError> {
    use limits::*;
    // A parsed script was within the limit: `syntax::parse` checks it too.
    if let Source::Text(air) = source
        && air.len() > MAX_AIR_SIZE_BYTES
    {
        return Err(PreparationError::SizeLimit(format!("the script has {} bytes; the limit is {MAX_AIR_SIZE_BYTES}", air.len())));
    }
    let SizeLimits { data_bytes, call_result_bytes } = params.size_limits;
    if incoming_data.len() > data_bytes {
        return Err(PreparationError::SizeLimit(format!("the incoming data has {} bytes; the limit is {data_bytes}", incoming_data.len())));
    }
    for (id, r) in call_results {
        let size = value::json_text_len(&r.result);
        if size > call_result_bytes {
            return Err(PreparationError::SizeLimit(format!("call result {id} has {size} bytes; the limit is {call_result_bytes}")));
        }
    }
    // The previous data is this peer's own; only what arrives is verified, and records
    // it shares with the previous data are not hashed again.
    let prev = Data::decode_own(prev_data).map_err(|e| PreparationError::PrevData(e.to_string()))?;
    let incoming = Data::from_bytes_trusting(incoming_data, &prev.store).map_err(|e| match e {
        DataError::UnsupportedVersion { .. } => PreparationError::UnsupportedVersion(e.to_string()),
        DataError::Verification(_) => PreparationError::CidStore(e.to_string()),
        _ => PreparationError::IncomingData(e.to_string()),
    })?;
    // Who produced what, on both sides: needed to check and to merge signatures.
    let sets = if params.check_signatures && incoming.trace.state_count() > 0 {
        let (prev_sets, incoming_sets) = (sign::produced(&prev), sign::produced(&incoming));
        sign::verify(&incoming, &incoming_sets, &params.particle_id, Some((&prev, &prev_sets))).map_err(PreparationError::Signature)?;
        Some((prev_sets, incoming_sets))
    } else {
        None
    };
    let script = match source {
        Source::Text(air) => std::borrow::Cow::Owned(syntax::parse(air).map_err(|e| PreparationError::AirParse(e.to_string()))?),
        Source::Parsed(script) => std::borrow::Cow::Borrowed(script),
    };
    Ok(Prepared { script, prev, incoming, sets })
}

fn execute(p: Prepared<'_>, prev_data: &[u8], params: &RunParameters, call_results: BTreeMap<u32, CallResult>) -> Outcome {
    let Prepared { script, mut prev, incoming, sets } = p;
    // Nothing arrived: a round of call results.
    let nothing_arrived = incoming.trace.state_count() == 0;
    let merged = if nothing_arrived {
        // Merging with an empty trace gives the previous trace back (a law the convergence
        // tests check), so it is taken as is.
        let mut trace = std::mem::take(&mut prev.trace);
        trace.canonicalize();
        Ok(trace)
    } else {
        merge::merge_traces(&prev.trace, &incoming.trace)
    };
    let trace = match merged {
        Ok(t) => t,
        Err(e) => {
            let e = errors::Uncatchable::Merge(e.to_string());
            return Outcome::kept(prev_data, e.code(), e.to_string());
        }
    };
    // The signatures to keep, and (when computed on the way) what each peer produced in
    // the merged trace.
    let signatures = if nothing_arrived {
        // The signatures are the ones we had.
        Ok((prev.signatures.clone(), None))
    } else if let Some((prev_sets, incoming_sets)) = &sets {
        sign::merge_signatures((&prev, prev_sets), (&incoming, incoming_sets), &trace, &params.current_peer_id)
            .map(|(s, merged)| (s, Some(merged)))
    } else {
        let mut s = prev.signatures.clone();
        s.extend(incoming.signatures.clone());
        Ok((s, None))
    };
    let (mut signatures, merged_sets) = match signatures {
        Ok(s) => s,
        Err(e) => {
            let e = PreparationError::Signature(e);
            return Outcome::kept(prev_data, e.code(), e.to_string());
        }
    };
    let last_call_id = prev.last_call_id;
    let mut store = prev.store;
    store.absorb(incoming.store);
    let run = exec::Interpreter::new(&script, params, trace, store, last_call_id, call_results).run();
    let done = match run {
        Ok(done) => done,
        Err(e) => return Outcome::kept(prev_data, e.code(), e.to_string()),
    };
    let mut data = Data {
        trace: done.trace,
        store: done.store,
        signatures: BTreeMap::new(),
        last_call_id: done.last_call_id,
        interpreter_version: data::INTERPRETER_VERSION.to_owned(),
    };
    // This peer's results: those of the merged trace and those this run made.
    let mine = match merged_sets {
        Some(mut sets) => {
            let mut mine = sets.remove(&params.current_peer_id).unwrap_or_default();
            mine.extend_from_slice(&done.produced);
            value::sort_by_cid(&mut mine, |c| c);
            mine
        }
        None => sign::produced(&data).remove(&params.current_peer_id).unwrap_or_default(),
    };
    debug_assert_eq!(mine, sign::produced(&data).remove(&params.current_peer_id).unwrap_or_default());
    signatures.remove(&params.current_peer_id);
    if let (Some(key), false) = (&params.key, mine.is_empty()) {
        if !key.belongs_to(&params.current_peer_id) {
            let e = PreparationError::MalformedKey(format!(
                "the secret key belongs to {}, not to the current peer {}",
                key.peer_id(),
                params.current_peer_id
            ));
            return Outcome::kept(prev_data, e.code(), e.to_string());
        }
        signatures.insert(params.current_peer_id.clone(), sign::sign(key, &mine, &params.particle_id));
    }
    data.signatures = signatures;
    // The next run on this data takes its trace as canonical (every test checks it).
    debug_assert!(data.trace.is_canonical());
    let (ret_code, error_message) = match (&done.error, done.unused_results.is_empty()) {
        (Some(e), _) => (e.error_code, e.message.clone()),
        (None, false) => (UNPROCESSED_CALL_RESULT, format!("call results {:?} were not consumed by any call", done.unused_results)),
        (None, true) => (0, String::new()),
    };
    Outcome {
        ret_code,
        error_message,
        data: data.to_bytes(),
        next_peers: done.next_peers.into_iter().collect(),
        call_requests: done.call_requests,
    }
}
