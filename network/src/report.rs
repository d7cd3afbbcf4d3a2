//! What a simulation leaves: the result, every call, every hop, every event. Deterministic.

use serde::Serialize;
use serde_json::Value as Json;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub seed: u64,
    pub particle_id: String,
    /// What `callbackSrv.response` received on the client (one argument as is, several as an array).
    pub result: Option<Json>,
    /// What `errorHandlingSrv.error` received on the client: an error object.
    pub error: Option<Json>,
    pub peers: BTreeMap<String, String>,
    pub calls: Vec<Call>,
    pub hops: Vec<Hop>,
    pub events: Vec<Event>,
    /// Things that went wrong with the simulation itself (limits, convergence).
    pub problems: Vec<String>,
    /// Virtual time of the last event.
    pub end_ms: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Call {
    pub time_ms: u64,
    pub peer: String,
    pub service: String,
    pub function: String,
    pub args: Vec<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<Json>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Hop {
    /// When the particle was sent.
    pub time_ms: u64,
    pub from: String,
    pub to: String,
    /// When it arrives; `None` when a fault lost it.
    pub arrive_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Event {
    pub time_ms: u64,
    pub peer: String,
    pub kind: &'static str,
    pub detail: String,
}

impl Event {
    pub fn new(time_ms: u64, peer: &str, kind: &'static str, detail: String) -> Self {
        Event { time_ms, peer: peer.to_owned(), kind, detail }
    }
}

/// The legend printed above `--trace` output.
pub const TRACE_LEGEND: &str = "time(ms)  peer  event  detail
  start: the particle starts   receive: a peer got the particle   send: a peer sent it on
  call: a service call and its answer   dropped/lost/unreachable/expired: the particle did not arrive
  vm-error: the VM returned an error code on that peer";

impl Report {
    pub fn new(seed: u64, peers: BTreeMap<String, String>) -> Self {
        Report {
            seed,
            particle_id: String::new(),
            result: None,
            error: None,
            peers,
            calls: Vec::new(),
            hops: Vec::new(),
            events: Vec::new(),
            problems: Vec::new(),
            end_ms: 0,
        }
    }

    /// One line per event, in the order they happened, for `--trace`.
    pub fn trace_lines(&self) -> Vec<String> {
        self.events.iter().map(|e| format!("{:>8}  {}  {}  {}", e.time_ms, e.peer, e.kind, e.detail)).collect()
    }
}
