//! The deterministic simulator: one event loop in virtual time over one particle.
//!
//! Each peer runs the AIR VM on every copy of the particle it receives, serves the call
//! requests addressed to it (services from the description, the calling convention on
//! the client, builtins), feeds the results back, and sends the particle on. Latency
//! and faults are drawn from one ChaCha RNG seeded by the run's seed, so the same seed
//! and inputs give the same report, byte for byte.

use crate::builtins::{self, CallContext};
use crate::description::{FaultKind, MockFunction};
use crate::network::{Network, ServiceSpec};
use crate::registry::{Caller, Registry};
use crate::report::{Call, Event, Report};
use air_vm::{CallRequest, CallResult, ErrorObject, RunParameters, invoke};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde_json::Value as Json;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::rc::Rc;

/// Virtual start time of every simulation (ms since the epoch): 2026-01-01.
pub const EPOCH_MS: u64 = 1_767_225_600_000;
/// Most events one simulation may process.
pub const MAX_EVENTS: usize = 1_000_000;

/// What to run and from where.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub script: String,
    /// The peer that starts the particle (a client, usually).
    pub client: usize,
    /// Values `getDataSrv.<name>` serves on the client.
    pub data: BTreeMap<String, Json>,
    pub ttl_ms: u32,
    pub particle_id: String,
}

/// A particle's immutable header, signed by its initiator.
#[derive(Debug)]
struct Header {
    id: String,
    init: usize,
    timestamp: u64,
    ttl: u32,
    script: String,
    signature: [u8; 64],
    valid: std::cell::OnceCell<bool>,
}

fn header_bytes(id: &str, timestamp: u64, ttl: u32, script: &str) -> Vec<u8> {
    let mut m = id.as_bytes().to_vec();
    m.extend_from_slice(&timestamp.to_le_bytes());
    m.extend_from_slice(&ttl.to_le_bytes());
    m.extend_from_slice(script.as_bytes());
    m
}

#[derive(Debug)]
enum Action {
    Deliver {
        to: usize,
        from: usize,
        data: Rc<Vec<u8>>,
    },
    /// A delayed service answer (`peer.timeout`).
    Answer {
        peer: usize,
        call_id: u32,
        result: CallResult,
    },
}

/// Host-native services, served outside the simulator's pure core (see `process.rs`).
pub trait ExternalServices {
    /// Serves one call of the process service `command` on `peer`. `request` is the
    /// JSON-lines request object; the answer is the result, or the failure message.
    fn call(&mut self, peer: &crate::network::Peer, command: (&str, &[String]), service: &str, request: Json) -> Result<Json, String>;
}

/// For runs without host-native services: every such call fails, saying why.
#[derive(Debug, Default)]
pub struct NoExternalServices;

impl ExternalServices for NoExternalServices {
    fn call(&mut self, _: &crate::network::Peer, _: (&str, &[String]), service: &str, _: Json) -> Result<Json, String> {
        Err(format!("service '{service}' is a host-native process, and this run cannot start processes"))
    }
}

/// Wall-clock time spent in a run, measured only when a clock is given (the core has none).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Timings {
    /// Time inside `air-vm`.
    pub vm_ns: u64,
    /// Time serving calls (services, builtins, processes).
    pub services_ns: u64,
    /// The whole run.
    pub total_ns: u64,
}

pub struct Simulation<'n> {
    net: &'n Network,
    external: &'n mut dyn ExternalServices,
    clock: Option<&'n dyn Fn() -> u64>,
    timings: Timings,
    header: Header,
    rng: ChaCha8Rng,
    now: u64,
    seq: u64,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    actions: BTreeMap<u64, Action>,
    /// Each peer's data for the particle.
    stored: Vec<Vec<u8>>,
    /// Each peer's services and aliases (`srv`).
    registries: Vec<Registry>,
    data: BTreeMap<String, Json>,
    report: Report,
}

impl std::fmt::Debug for Simulation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation").field("particle", &self.header.id).field("now", &self.now).finish_non_exhaustive()
    }
}

impl<'n> Simulation<'n> {
    pub fn new(net: &'n Network, spec: RunSpec, external: &'n mut dyn ExternalServices) -> Self {
        let init = &net.peers[spec.client];
        let timestamp = EPOCH_MS;
        let signature = init.key.sign(&header_bytes(&spec.particle_id, timestamp, spec.ttl_ms, &spec.script));
        let header = Header {
            id: spec.particle_id,
            init: spec.client,
            timestamp,
            ttl: spec.ttl_ms,
            script: spec.script,
            signature,
            valid: std::cell::OnceCell::new(),
        };
        let mut report = Report::new(net.seed, net.peers.iter().map(|p| (p.name.clone(), p.id.clone())).collect());
        report.particle_id = header.id.clone();
        Simulation {
            net,
            external,
            clock: None,
            timings: Timings::default(),
            header,
            rng: ChaCha8Rng::seed_from_u64(net.seed),
            now: 0,
            seq: 0,
            queue: BinaryHeap::new(),
            actions: BTreeMap::new(),
            stored: vec![Vec::new(); net.peers.len()],
            registries: net.services.iter().zip(&net.peers).map(|(services, p)| Registry::new(services.keys().cloned(), &p.id)).collect(),
            data: spec.data,
            report,
        }
    }

    fn schedule(&mut self, at: u64, action: Action) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq)));
        self.actions.insert(self.seq, action);
    }

    /// Measures wall-clock time with `clock` (nanoseconds from any origin).
    pub fn with_clock(mut self, clock: &'n dyn Fn() -> u64) -> Self {
        self.clock = Some(clock);
        self
    }

    fn tick(&self) -> u64 {
        self.clock.map_or(0, |c| c())
    }

    /// Runs until nothing is left to do, and returns the report.
    pub fn run(self) -> Report {
        self.run_timed().0
    }

    /// Like [`Simulation::run`], with the wall-clock timings (zero without a clock).
    pub fn run_timed(mut self) -> (Report, Timings) {
        let start = self.tick();
        let report = self.event_loop();
        let mut timings = self.timings;
        timings.total_ns = self.tick().saturating_sub(start);
        (report, timings)
    }

    fn event_loop(&mut self) -> Report {
        let init = self.header.init;
        self.report.events.push(Event::new(0, &self.net.peers[init].name, "start", format!("particle {} starts", self.header.id)));
        self.schedule(0, Action::Deliver { to: init, from: init, data: Rc::new(Vec::new()) });
        let mut processed = 0;
        while let Some(Reverse((at, seq))) = self.queue.pop() {
            processed += 1;
            if processed > MAX_EVENTS {
                self.report.problems.push(format!("the simulation stopped after {MAX_EVENTS} events"));
                break;
            }
            self.now = at;
            match self.actions.remove(&seq) {
                Some(Action::Deliver { to, from, data }) => self.deliver(to, from, &data),
                Some(Action::Answer { peer, call_id, result }) => self.answer(peer, call_id, result),
                None => {}
            }
        }
        self.report.end_ms = self.now;
        self.check_convergence();
        std::mem::replace(&mut self.report, Report::new(0, BTreeMap::new()))
    }

    fn peer_name(&self, p: usize) -> &str {
        &self.net.peers[p].name
    }

    fn expired(&self) -> bool {
        self.now >= u64::from(self.header.ttl)
    }

    fn crashed(&self, peer: usize) -> bool {
        self.net.faults.iter().any(|f| f.kind == FaultKind::Crash && f.active(self.now) && f.peers.contains(&peer))
    }

    fn deliver(&mut self, to: usize, from: usize, data: &[u8]) {
        let name = self.peer_name(to).to_owned();
        if self.expired() {
            self.report.events.push(Event::new(
                self.now,
                &name,
                "expired",
                format!("particle expired (ttl {} ms); dropped", self.header.ttl),
            ));
            return;
        }
        if self.crashed(to) {
            // A crashed peer loses what it held for the particle.
            self.stored[to].clear();
            self.report.events.push(Event::new(self.now, &name, "lost", "the peer is down; the particle is lost".into()));
            return;
        }
        if !self.header_valid() {
            self.report.events.push(Event::new(self.now, &name, "rejected", "the particle's signature does not verify".into()));
            return;
        }
        if from != to {
            self.report.events.push(Event::new(self.now, &name, "receive", format!("from {}", self.peer_name(from))));
        }
        self.execute(to, data.to_vec(), BTreeMap::new());
    }

    /// Whether the particle's header carries its initiator's valid signature. Every peer
    /// checks it on arrival; the header never changes, so the answer is computed once.
    fn header_valid(&self) -> bool {
        *self.header.valid.get_or_init(|| {
            let init_key = &self.net.peers[self.header.init].key;
            let message = header_bytes(&self.header.id, self.header.timestamp, self.header.ttl, &self.header.script);
            let signature = ed25519_dalek::Signature::from_bytes(&self.header.signature);
            air_vm::sign::public_key_of(&init_key.peer_id()).is_some_and(|pk| pk.verify_strict(&message, &signature).is_ok())
        })
    }

    fn answer(&mut self, peer: usize, call_id: u32, result: CallResult) {
        if self.expired() || self.crashed(peer) {
            return;
        }
        let mut results = BTreeMap::new();
        results.insert(call_id, result);
        self.execute(peer, Vec::new(), results);
    }

    fn params(&self, peer: usize) -> RunParameters {
        RunParameters {
            init_peer_id: self.net.peers[self.header.init].id.clone(),
            current_peer_id: self.net.peers[peer].id.clone(),
            timestamp: self.header.timestamp,
            ttl: self.header.ttl,
            particle_id: self.header.id.clone(),
            secret_key: Some(self.net.peers[peer].key.secret()),
            check_signatures: true,
        }
    }

    /// Runs the VM on `peer` until it asks for nothing more, then sends the particle on.
    fn execute(&mut self, peer: usize, mut incoming: Vec<u8>, mut results: BTreeMap<u32, CallResult>) {
        let params = self.params(peer);
        let name = self.peer_name(peer).to_owned();
        let mut next: BTreeSet<String> = BTreeSet::new();
        loop {
            let started = self.tick();
            let out = invoke(&self.header.script, &self.stored[peer], &incoming, &params, &results);
            self.timings.vm_ns += self.tick().saturating_sub(started);
            if out.ret_code != 0 {
                self.report.events.push(Event::new(self.now, &name, "vm-error", format!("code {}: {}", out.ret_code, out.error_message)));
            }
            self.stored[peer] = out.data;
            next.extend(out.next_peers);
            incoming = Vec::new();
            results = BTreeMap::new();
            let started = self.tick();
            for (id, request) in out.call_requests {
                if let Some(result) = self.serve(peer, id, &request) {
                    results.insert(id, result);
                }
            }
            self.timings.services_ns += self.tick().saturating_sub(started);
            if results.is_empty() {
                break;
            }
        }
        let data = Rc::new(self.stored[peer].clone());
        for id in next {
            self.send(peer, &id, data.clone());
        }
    }

    fn send(&mut self, from: usize, to_id: &str, data: Rc<Vec<u8>>) {
        let from_name = self.peer_name(from).to_owned();
        let Some(to) = self.net.index_of_id(to_id) else {
            self.report.events.push(Event::new(self.now, &from_name, "unreachable", format!("{to_id} is not a peer of this network")));
            return;
        };
        let to_name = self.peer_name(to).to_owned();
        if !self.net.link(from, to) {
            self.report.events.push(Event::new(
                self.now,
                &from_name,
                "unreachable",
                format!("{to_name} cannot be reached directly from {from_name}"),
            ));
            return;
        }
        let mut latency = self.latency();
        let mut copies = 1;
        for f in &self.net.faults {
            if !f.active(self.now) {
                continue;
            }
            let touches = f.peers.contains(&from) || f.peers.contains(&to);
            match f.kind {
                FaultKind::Partition if f.peers.contains(&from) != f.peers.contains(&to) => copies = 0,
                FaultKind::Drop if touches && self.chance(f.probability) => copies = 0,
                FaultKind::Duplicate if touches && copies > 0 && self.chance(f.probability) => copies = 2,
                FaultKind::Delay if touches => latency += f.delay_ms,
                _ => {}
            }
        }
        if copies == 0 {
            self.report.events.push(Event::new(self.now, &from_name, "dropped", format!("particle to {to_name} lost (fault)")));
            self.report.hops.push(crate::report::Hop { time_ms: self.now, from: from_name, to: to_name, arrive_ms: None });
            return;
        }
        for i in 0..copies {
            let at = self.now + latency + i;
            self.report.events.push(Event::new(self.now, &from_name, "send", format!("to {to_name}, arrives at {at} ms")));
            self.report.hops.push(crate::report::Hop {
                time_ms: self.now,
                from: from_name.clone(),
                to: to_name.clone(),
                arrive_ms: Some(at),
            });
            self.schedule(at, Action::Deliver { to, from, data: data.clone() });
        }
    }

    fn latency(&mut self) -> u64 {
        let (lo, hi) = self.net.latency_ms;
        lo + self.rng.next_u64() % (hi - lo + 1)
    }

    fn chance(&mut self, p: f64) -> bool {
        p >= 1.0 || (self.rng.next_u64() as f64 / u64::MAX as f64) < p
    }

    /// Serves one call request; `None` when the answer comes later (a timer).
    fn serve(&mut self, peer: usize, call_id: u32, request: &CallRequest) -> Option<CallResult> {
        let (service, function) = (request.service_id.as_str(), request.function_name.as_str());
        let outcome = self.dispatch(peer, request);
        let (result, later) = match outcome {
            builtins::Outcome::Ok(v) => (CallResult::ok(v), None),
            builtins::Outcome::Err(e) => (CallResult::error(1, e), None),
            builtins::Outcome::After { after_ms, value } => (CallResult::ok(value), Some(after_ms)),
            builtins::Outcome::NotFound => {
                (CallResult::error(1, format!("Service with id '{service}' not found (function {function})")), None)
            }
        };
        let (ok, err) = if result.ret_code == 0 {
            (Some(result.result.clone()), None)
        } else {
            (None, Some(result.result.as_str().unwrap_or_default().to_owned()))
        };
        let args_text = serde_json::to_string(&request.arguments).unwrap_or_default();
        let answer = match (&ok, &err, later) {
            (Some(v), _, None) => format!("-> {v}"),
            (Some(v), _, Some(after)) => format!("-> {v} after {after} ms"),
            (_, Some(e), _) => format!("-> error: {e}"),
            _ => String::new(),
        };
        let name = self.peer_name(peer).to_owned();
        self.report.events.push(Event::new(self.now, &name, "call", format!("{service}.{function}{args_text} {answer}")));
        self.report.calls.push(Call {
            time_ms: self.now + later.unwrap_or(0),
            peer: self.peer_name(peer).to_owned(),
            service: service.to_owned(),
            function: function.to_owned(),
            args: request.arguments.clone(),
            result: ok,
            error: err,
        });
        match later {
            Some(after) => {
                self.schedule(self.now + after, Action::Answer { peer, call_id, result });
                None
            }
            None => Some(result),
        }
    }

    fn dispatch(&mut self, peer: usize, request: &CallRequest) -> builtins::Outcome {
        let (service, function, args) = (request.service_id.as_str(), request.function_name.as_str(), &request.arguments);
        // A service is reached by its id or one of its aliases, while it is registered;
        // one from the description replaces a builtin of the same id, `srv` included.
        let registered = self.registries[peer].resolve(service).and_then(|id| self.net.services[peer].get(id));
        if service == "srv" && registered.is_none() {
            let net = self.net;
            let caller = Caller {
                init_peer_id: &net.peers[self.header.init].id,
                host_id: &net.peers[peer].id,
                management_id: net.management.map(|m| net.peers[m].id.as_str()),
            };
            return match self.registries[peer].call(function, args, caller) {
                Some(result) => result.into(),
                None => builtins::Outcome::NotFound,
            };
        }
        match registered {
            Some(ServiceSpec::Mock(functions)) => {
                return match functions.get(function) {
                    Some(f) => mock(f, args),
                    None => builtins::Outcome::Err(format!("service '{service}' has no function '{function}'")),
                };
            }
            Some(ServiceSpec::Process { program, args: command_args }) => {
                let me = &self.net.peers[peer];
                let request = serde_json::json!({
                    "service": service,
                    "function": function,
                    "args": args,
                    "tetraplets": request.tetraplets,
                    "particle": {
                        "id": self.header.id,
                        "init_peer_id": self.net.peers[self.header.init].id,
                        "timestamp": self.header.timestamp,
                        "ttl": self.header.ttl,
                    },
                    "peer_id": me.id,
                });
                return self.external.call(me, (program, command_args), service, request).into();
            }
            None => {}
        }
        if peer == self.header.init
            && let Some(outcome) = self.calling_convention(service, function, args)
        {
            return outcome;
        }
        let net = self.net;
        let routing = net.routing_table(peer);
        let connected = |id: &str| net.index_of_id(id).is_some_and(|other| net.link(peer, other));
        let ctx = CallContext {
            peer_id: &net.peers[peer].id,
            init_peer_id: &net.peers[self.header.init].id,
            particle_id: &self.header.id,
            now_ms: self.header.timestamp + self.now,
            tetraplets: &request.tetraplets,
            routing_table: &routing,
            is_connected: &connected,
            key: &net.peers[peer].key,
            external_addresses: &[],
        };
        builtins::call(service, function, args, &ctx)
    }

    /// `getDataSrv`, `callbackSrv` (the response and arrow arguments) and
    /// `errorHandlingSrv.error` on the client.
    fn calling_convention(&mut self, service: &str, function: &str, args: &[Json]) -> Option<builtins::Outcome> {
        match (service, function) {
            ("getDataSrv", "-relay-") => {
                let relay = self.net.relay_of(self.header.init);
                Some(builtins::Outcome::Ok(Json::String(self.net.peers[relay].id.clone())))
            }
            ("getDataSrv", name) => Some(match self.data.get(name) {
                Some(v) => builtins::Outcome::Ok(v.clone()),
                None => builtins::Outcome::Err(format!("getDataSrv: no value named '{name}' was given (use --data)")),
            }),
            ("callbackSrv", "response") => {
                let value = match args {
                    [] => Json::Null,
                    [one] => one.clone(),
                    many => Json::Array(many.to_vec()),
                };
                self.report.result.get_or_insert(value);
                Some(builtins::Outcome::Ok(Json::String(String::new())))
            }
            // An arrow argument of the called function: the report records the call
            // (as every call); the function answers nothing. A `callbackSrv` service in
            // the network description answers instead when the arrow returns values.
            ("callbackSrv", _) => Some(builtins::Outcome::Ok(Json::Null)),
            ("errorHandlingSrv", "error") => {
                if self.report.error.is_none() {
                    self.report.error = Some(args.first().cloned().unwrap_or(Json::Null));
                }
                Some(builtins::Outcome::Ok(Json::String(String::new())))
            }
            _ => None,
        }
    }

    /// Every pair of peers must hold traces that merge without conflict.
    fn check_convergence(&mut self) {
        let mut merged = air_vm::trace::Trace::default();
        for (i, bytes) in self.stored.iter().enumerate() {
            let Ok(data) = air_vm::data::Data::from_bytes(bytes) else { continue };
            match air_vm::merge::merge_traces(&merged, &data.trace) {
                Ok(t) => merged = t,
                Err(e) => {
                    self.report.problems.push(format!("convergence check failed at {}: {e}", self.net.peers[i].name));
                    return;
                }
            }
        }
    }
}

fn mock(f: &MockFunction, args: &[Json]) -> builtins::Outcome {
    if let Some(e) = &f.error {
        return builtins::Outcome::Err(e.clone());
    }
    if f.echo {
        return builtins::Outcome::Ok(match args {
            [one] => one.clone(),
            many => Json::Array(many.to_vec()),
        });
    }
    builtins::Outcome::Ok(f.result.as_ref().and_then(|v| serde_json::to_value(v).ok()).unwrap_or(Json::Null))
}

/// The error object of a run whose `errorHandlingSrv.error` was called, if it is one.
pub fn error_object(v: &Json) -> Option<ErrorObject> {
    Some(ErrorObject {
        error_code: v.get("error_code")?.as_i64()?,
        message: v.get("message")?.as_str()?.to_owned(),
        instruction: v.get("instruction").and_then(Json::as_str).unwrap_or_default().to_owned(),
        peer_id: v.get("peer_id").and_then(Json::as_str).map(str::to_owned),
    })
}
