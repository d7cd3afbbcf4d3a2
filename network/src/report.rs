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
    /// Every spell installed during the run: its runs and what it stored, logged and failed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub spells: Vec<SpellReport>,
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
    /// The particle, when it is not the run's own (a spell's run: `alias#n`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub particle: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Hop {
    /// When the particle was sent.
    pub time_ms: u64,
    pub from: String,
    pub to: String,
    /// When it arrives; `None` when a fault lost it.
    pub arrive_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub particle: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Event {
    pub time_ms: u64,
    pub peer: String,
    pub kind: &'static str,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub particle: Option<String>,
}

impl Event {
    pub fn new(time_ms: u64, peer: &str, kind: &'static str, detail: String) -> Self {
        Event { time_ms, peer: peer.to_owned(), kind, detail, particle: None }
    }
}

/// A spell as the run left it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SpellReport {
    pub id: String,
    pub alias: Option<String>,
    pub peer: String,
    /// Runs started.
    pub runs: u32,
    pub removed: bool,
    pub kv: BTreeMap<String, crate::spell::Stored>,
    pub logs: Vec<crate::spell::Log>,
    pub errors: Vec<crate::spell::ParticleErrors>,
}

/// The legend printed above `--trace` output.
pub const TRACE_LEGEND: &str = "time(ms)  peer  event  detail
  start: the particle starts   receive: a peer got the particle   send: a peer sent it on
  call: a service call and its answer   dropped/lost/unreachable/expired: the particle did not arrive
  vm-error: the VM returned an error code on that peer   log: a line a WebAssembly service logged
  spell: a spell's trigger fired   spell-error: a spell's run failed   stopped: --until was reached
  [name#n]: the event belongs to run n of spell `name`, not to the run's own particle";

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
            spells: Vec::new(),
            end_ms: 0,
        }
    }

    /// One line per event, in the order they happened, for `--trace`.
    pub fn trace_lines(&self) -> Vec<String> {
        self.events
            .iter()
            .map(|e| match &e.particle {
                Some(label) => format!("{:>8}  {}  {}  [{label}] {}", e.time_ms, e.peer, e.kind, e.detail),
                None => format!("{:>8}  {}  {}  {}", e.time_ms, e.peer, e.kind, e.detail),
            })
            .collect()
    }
}
