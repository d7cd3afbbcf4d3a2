//! A minimal in-process driver: runs one particle across named peers until nothing is
//! left to deliver. It is the host loop of a peer (invoke, serve the call requests,
//! invoke again with the results, send to the next peers) without time, latency or
//! faults; the network simulator builds the real thing on the same loop. Tests and
//! conformance cases use it to run AIR on several peers.

use crate::data::Data;
use crate::sign::KeyPair;
use crate::{CallRequest, CallResult, Outcome, RunParameters, invoke, invoke_parsed};
use std::collections::{BTreeMap, VecDeque};

/// Serves call requests: `(peer name, request) -> result`.
pub type Services<'a> = dyn FnMut(&str, &CallRequest) -> CallResult + 'a;

/// One service call as it happened.
#[derive(Debug, Clone, PartialEq)]
pub struct ServedCall {
    pub peer: String,
    pub request: CallRequest,
    pub result: CallResult,
}

/// One run of the VM on a peer: who ran, its return code, the peers it sent the particle
/// to (by name) and how many calls it asked for (the next ones in [`LocalRun::calls`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    pub peer: String,
    pub ret_code: i64,
    pub next_peers: Vec<String>,
    pub calls: usize,
}

/// What a run left behind.
#[derive(Debug, Clone, Default)]
pub struct LocalRun {
    /// The data each peer holds at the end, by peer name.
    pub data: BTreeMap<String, Vec<u8>>,
    /// Every call served, in order.
    pub calls: Vec<ServedCall>,
    /// Every non-zero outcome: (peer name, ret_code, message).
    pub errors: Vec<(String, i64, String)>,
    /// Every particle delivered: (receiving peer name, its data).
    pub delivered: Vec<(String, Vec<u8>)>,
    /// Every run of the VM, in order (a peer runs again with its call results).
    pub hops: Vec<Hop>,
}

/// Named peers with deterministic keys, and the particle's parameters.
#[derive(Debug, Clone)]
pub struct LocalNetwork {
    keys: BTreeMap<String, KeyPair>,
    names_by_id: BTreeMap<String, String>,
    pub particle_id: String,
    pub timestamp: u64,
    pub ttl: u32,
    /// Whether peers sign and check signatures.
    pub signatures: bool,
    /// Most deliveries before the run stops (guards against scripts that never settle).
    pub max_deliveries: usize,
}

impl LocalNetwork {
    pub fn new(peer_names: &[&str]) -> Self {
        let keys: BTreeMap<String, KeyPair> = peer_names.iter().map(|n| (n.to_string(), KeyPair::derive(n, 0))).collect();
        let names_by_id = keys.iter().map(|(n, k)| (k.peer_id(), n.clone())).collect();
        LocalNetwork {
            keys,
            names_by_id,
            particle_id: "particle-1".into(),
            timestamp: 1_700_000_000_000,
            ttl: 60_000,
            signatures: true,
            max_deliveries: 10_000,
        }
    }

    /// The peer ID of a named peer.
    pub fn id(&self, name: &str) -> String {
        self.keys.get(name).map(KeyPair::peer_id).unwrap_or_else(|| name.to_owned())
    }

    /// The name of a peer ID, if it is one of ours.
    pub fn name_of(&self, id: &str) -> Option<&str> {
        self.names_by_id.get(id).map(String::as_str)
    }

    /// Replaces every `@name` in `air` with the peer ID of `name` as an AIR string literal.
    pub fn expand(&self, air: &str) -> String {
        let mut out = air.to_owned();
        // Longest names first, so `@ab` is not taken for `@a` followed by `b`.
        let mut names: Vec<&String> = self.keys.keys().collect();
        names.sort_by_key(|n| std::cmp::Reverse(n.len()));
        for n in names {
            out = out.replace(&format!("@{n}"), &format!("\"{}\"", self.id(n)));
        }
        out
    }

    pub fn params(&self, init: &str, current: &str) -> RunParameters {
        RunParameters {
            init_peer_id: self.id(init),
            current_peer_id: self.id(current),
            timestamp: self.timestamp,
            ttl: self.ttl,
            particle_id: self.particle_id.clone(),
            key: if self.signatures { self.keys.get(current).cloned() } else { None },
            check_signatures: self.signatures,
            size_limits: Default::default(),
        }
    }

    /// Runs `air` started by `init`, delivering particles first in, first out.
    pub fn run(&self, air: &str, init: &str, services: &mut Services<'_>) -> LocalRun {
        self.run_ordered(air, init, services, &mut |_| 0)
    }

    /// Like [`LocalNetwork::run`], but `pick(pending)` chooses which pending delivery goes next.
    pub fn run_ordered(&self, air: &str, init: &str, services: &mut Services<'_>, pick: &mut dyn FnMut(usize) -> usize) -> LocalRun {
        let mut run = LocalRun::default();
        // Parsed once, as a host running one particle should; a script that does not
        // parse goes to `invoke` on every hop, which reports the error.
        let script = crate::syntax::parse(air).ok();
        let mut queue: VecDeque<(String, Vec<u8>)> = VecDeque::new();
        queue.push_back((init.to_owned(), Vec::new()));
        while !queue.is_empty() && run.delivered.len() < self.max_deliveries {
            let i = pick(queue.len()).min(queue.len() - 1);
            let Some((peer, incoming)) = queue.remove(i) else { break };
            run.delivered.push((peer.clone(), incoming.clone()));
            let params = self.params(init, &peer);
            let mut incoming = incoming;
            let mut results = BTreeMap::new();
            loop {
                let prev = run.data.get(&peer).cloned().unwrap_or_default();
                let round = std::mem::take(&mut results);
                // Every test run through this driver also checks that a parsed script
                // runs exactly as its text does.
                #[cfg(debug_assertions)]
                let from_text = script.as_ref().map(|_| invoke(air, &prev, &incoming, &params, round.clone()));
                let outcome: Outcome = match &script {
                    Some(script) => invoke_parsed(script, &prev, &incoming, &params, round),
                    None => invoke(air, &prev, &incoming, &params, round),
                };
                #[cfg(debug_assertions)]
                assert!(from_text.is_none_or(|text| text == outcome), "a parsed script ran otherwise than its text");
                if outcome.ret_code != 0 {
                    run.errors.push((peer.clone(), outcome.ret_code, outcome.error_message.clone()));
                }
                run.data.insert(peer.clone(), outcome.data.clone());
                let next_peers: Vec<String> =
                    outcome.next_peers.iter().map(|p| self.name_of(p).map(str::to_owned).unwrap_or_else(|| p.clone())).collect();
                for name in &next_peers {
                    queue.push_back((name.clone(), outcome.data.clone()));
                }
                run.hops.push(Hop { peer: peer.clone(), ret_code: outcome.ret_code, next_peers, calls: outcome.call_requests.len() });
                if outcome.call_requests.is_empty() {
                    break;
                }
                for (id, request) in outcome.call_requests {
                    let result = services(&peer, &request);
                    run.calls.push(ServedCall { peer: peer.clone(), request, result: result.clone() });
                    results.insert(id, result);
                }
                incoming = Vec::new();
            }
        }
        run
    }

    /// The decoded final data of a peer.
    pub fn final_data<'r>(run: &'r LocalRun, peer: &str) -> Data<'r> {
        run.data.get(peer).and_then(|b| Data::from_bytes(b).ok()).unwrap_or_default()
    }
}
