//! The deterministic simulator: one event loop in virtual time over the run's particle
//! and the particles spells start.
//!
//! Each peer runs the AIR VM on every copy of a particle it receives, serves the call
//! requests addressed to it (services from the description, spells, the calling
//! convention on the particle's initiator, builtins), feeds the results back, and sends
//! the particle on. Latency and faults are drawn from one ChaCha RNG seeded by the
//! run's seed, so the same seed and inputs give the same report, byte for byte.

mod peer_services;
mod spells;

use crate::builtins::{self, CallContext};
use crate::description::{FaultKind, MockFunction};
use crate::network::{Network, ServiceSpec};
use crate::registry::{Caller, Registry};
use crate::report::{Call, Event, Report};
use crate::spell::Spell;
use air_vm::{CallRequest, CallResult, ErrorObject, RunParameters, invoke, invoke_parsed};
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
    /// Milliseconds since the epoch.
    timestamp: u64,
    ttl: u32,
    script: String,
    signature: [u8; 64],
    valid: std::cell::OnceCell<bool>,
    /// The script parsed, if it parses. Every peer would parse it for itself; parsing
    /// is pure, so the simulation does it once per particle (for a compiled Aqua
    /// function, parsing costs about as much as the rest of a hop).
    parsed: std::cell::OnceCell<Option<air_vm::syntax::Script>>,
}

impl Header {
    fn new(id: String, init: usize, timestamp: u64, ttl: u32, script: String, key: &air_vm::sign::KeyPair) -> Header {
        let signature = key.sign(&header_bytes(&id, timestamp, ttl, &script));
        Header { id, init, timestamp, ttl, script, signature, valid: std::cell::OnceCell::new(), parsed: std::cell::OnceCell::new() }
    }

    /// Runs the VM on this particle's script; a script that does not parse goes to
    /// `invoke` as text, which reports the error as a peer would.
    fn invoke(&self, prev: &[u8], incoming: &[u8], params: &RunParameters, results: BTreeMap<u32, CallResult>) -> air_vm::Outcome {
        match self.parsed.get_or_init(|| air_vm::syntax::parse(&self.script).ok()) {
            Some(script) => invoke_parsed(script, prev, incoming, params, results),
            None => invoke(&self.script, prev, incoming, params, results),
        }
    }
}

/// Who started a particle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The run's own particle, whose answer is the run's result.
    Run,
    /// A run of the spell with this index.
    Spell(usize),
}

/// A particle in flight and what each peer holds for it.
#[derive(Debug)]
struct Particle {
    header: Header,
    origin: Origin,
    /// How the timeline names a spell's particle (`alias#n`); `None` for the run's.
    label: Option<String>,
    /// Each peer's data for the particle.
    stored: BTreeMap<usize, Vec<u8>>,
}

/// What made a spell fire.
#[derive(Debug, Clone, Copy)]
enum Fired {
    Timer,
    /// `peer` connected to or disconnected from the spell's peer.
    Peer {
        peer: usize,
        connected: bool,
    },
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
        particle: usize,
        to: usize,
        from: usize,
        data: Rc<Vec<u8>>,
    },
    /// A delayed service answer (`peer.timeout`).
    Answer {
        particle: usize,
        peer: usize,
        call_id: u32,
        result: CallResult,
    },
    /// A spell's clock; `generation` is the trigger it was set for.
    Timer {
        spell: usize,
        generation: u64,
    },
    /// Clients connect to their relays (at the start), or a fault starts or ends:
    /// spells watching connections fire.
    Connections {
        fault: Option<usize>,
        starts: bool,
    },
}

impl Action {
    /// Whether the action is part of a particle's life (rather than a trigger). Without
    /// `--until`, a run ends when no such action is left.
    fn is_live(&self) -> bool {
        matches!(self, Action::Deliver { .. } | Action::Answer { .. })
    }
}

/// Host-native services, served outside the simulator's pure core (see `process.rs`).
pub trait ExternalServices {
    /// Serves one call of the process service `command` on `peer`. `request` is the
    /// JSON-lines request object; the answer is the result, or the failure message.
    fn call(&mut self, peer: &crate::network::Peer, command: (&str, &[String]), service: &str, request: Json) -> Result<Json, String>;

    /// The peers' WebAssembly services, if this run can run them.
    fn wasm(&mut self) -> Option<&mut crate::compute::WasmServices> {
        None
    }
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
    particles: Vec<Particle>,
    /// The run's own particle, if the run has one (a run of spells alone has none).
    main: Option<usize>,
    spells: Vec<Spell>,
    rng: ChaCha8Rng,
    now: u64,
    /// With `--until`: the virtual time the run goes on to, spells firing.
    until: Option<u64>,
    seq: u64,
    queue: BinaryHeap<Reverse<(u64, u64)>>,
    actions: BTreeMap<u64, Action>,
    /// Queued actions that belong to a particle's life (see [`Action::is_live`]).
    live: usize,
    /// Each peer's services and aliases (`srv`).
    registries: Vec<Registry>,
    data: BTreeMap<String, Json>,
    report: Report,
}

impl std::fmt::Debug for Simulation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulation").field("particles", &self.particles.len()).field("now", &self.now).finish_non_exhaustive()
    }
}

/// A peer's view of the particle it is serving a call for.
#[derive(Clone, Copy)]
struct Serving {
    particle: usize,
    peer: usize,
}

impl<'n> Simulation<'n> {
    /// A run of `spec`'s particle (and of the description's spells, while it lasts).
    pub fn new(net: &'n Network, spec: RunSpec, external: &'n mut dyn ExternalServices) -> Self {
        let mut sim = Simulation::spells_only(net, external);
        let header = Header::new(spec.particle_id, spec.client, EPOCH_MS, spec.ttl_ms, spec.script, &net.peers[spec.client].key);
        sim.report.particle_id = header.id.clone();
        sim.particles.push(Particle { header, origin: Origin::Run, label: None, stored: BTreeMap::new() });
        sim.main = Some(0);
        sim.data = spec.data;
        sim
    }

    /// A run with no particle of its own: only the description's spells fire (give
    /// [`Simulation::until`], or nothing happens).
    pub fn spells_only(net: &'n Network, external: &'n mut dyn ExternalServices) -> Self {
        Simulation {
            net,
            external,
            clock: None,
            timings: Timings::default(),
            particles: Vec::new(),
            main: None,
            spells: Vec::new(),
            rng: ChaCha8Rng::seed_from_u64(net.seed),
            now: 0,
            until: None,
            seq: 0,
            queue: BinaryHeap::new(),
            actions: BTreeMap::new(),
            live: 0,
            registries: net.services.iter().zip(&net.peers).map(|(services, p)| Registry::new(services.keys().cloned(), &p.id)).collect(),
            data: BTreeMap::new(),
            report: Report::new(net.seed, net.peers.iter().map(|p| (p.name.clone(), p.id.clone())).collect()),
        }
    }

    /// Goes on until virtual time `ms`, spells firing, even after the run's particle is
    /// done; events after it do not happen.
    pub fn until(mut self, ms: u64) -> Self {
        self.until = Some(ms);
        self
    }

    fn schedule(&mut self, at: u64, action: Action) {
        self.seq += 1;
        self.live += usize::from(action.is_live());
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

    /// Runs until nothing is left to do (or until [`Simulation::until`]), and returns the report.
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
        self.create_description_services();
        self.install_description_spells();
        if let Some(main) = self.main {
            let init = self.particles[main].header.init;
            let detail = format!("particle {} starts", self.particles[main].header.id);
            self.report.events.push(Event::new(0, &self.net.peers[init].name, "start", detail));
            self.schedule(0, Action::Deliver { particle: main, to: init, from: init, data: Rc::new(Vec::new()) });
        }
        self.schedule_connection_changes();
        let mut processed = 0;
        while let Some(&Reverse((at, seq))) = self.queue.peek() {
            match self.until {
                Some(until) if at > until => break,
                None if self.live == 0 => break,
                _ => {}
            }
            self.queue.pop();
            processed += 1;
            if processed > MAX_EVENTS {
                self.report.problems.push(format!("the simulation stopped after {MAX_EVENTS} events"));
                break;
            }
            self.now = at;
            let Some(action) = self.actions.remove(&seq) else { continue };
            self.live -= usize::from(action.is_live());
            match action {
                Action::Deliver { particle, to, from, data } => self.deliver(particle, to, from, &data),
                Action::Answer { particle, peer, call_id, result } => self.answer(particle, peer, call_id, result),
                Action::Timer { spell, generation } => self.timer(spell, generation),
                Action::Connections { fault, starts } => self.connections_changed(fault, starts),
            }
        }
        if let Some(until) = self.until {
            self.now = self.now.max(until);
            if self.live > 0 {
                let detail = format!("the run reached --until {until} ms with {} particle event(s) still to come", self.live);
                let peer = self.main.map_or(0, |m| self.particles[m].header.init);
                self.report.events.push(Event::new(until, &self.net.peers[peer].name, "stopped", detail));
            }
        }
        self.report.end_ms = self.now;
        self.check_convergence();
        self.report.spells = self.spells.iter().map(|s| self.spell_report(s)).collect();
        std::mem::replace(&mut self.report, Report::new(0, BTreeMap::new()))
    }

    fn peer_name(&self, p: usize) -> &str {
        &self.net.peers[p].name
    }

    /// Records an event of `particle` (labelled when it is a spell's).
    fn event(&mut self, particle: usize, peer: usize, kind: &'static str, detail: String) {
        let mut e = Event::new(self.now, &self.net.peers[peer].name, kind, detail);
        e.particle = self.particles[particle].label.clone();
        self.report.events.push(e);
    }

    fn expired(&self, particle: usize) -> bool {
        let h = &self.particles[particle].header;
        EPOCH_MS + self.now >= h.timestamp + u64::from(h.ttl)
    }

    fn crashed(&self, peer: usize) -> bool {
        self.net.faults.iter().any(|f| f.kind == FaultKind::Crash && f.active(self.now) && f.peers.contains(&peer))
    }

    fn deliver(&mut self, particle: usize, to: usize, from: usize, data: &[u8]) {
        if self.expired(particle) {
            let detail = format!("particle expired (ttl {} ms); dropped", self.particles[particle].header.ttl);
            self.event(particle, to, "expired", detail);
            return;
        }
        if self.crashed(to) {
            // A crashed peer loses what it held for the particle.
            self.particles[particle].stored.remove(&to);
            self.event(particle, to, "lost", "the peer is down; the particle is lost".into());
            return;
        }
        if !self.header_valid(particle) {
            self.event(particle, to, "rejected", "the particle's signature does not verify".into());
            return;
        }
        if from != to {
            let detail = format!("from {}", self.peer_name(from));
            self.event(particle, to, "receive", detail);
        }
        self.execute(particle, to, data.to_vec(), BTreeMap::new());
    }

    /// Whether the particle's header carries its initiator's valid signature. Every peer
    /// checks it on arrival; the header never changes, so the answer is computed once.
    fn header_valid(&self, particle: usize) -> bool {
        let h = &self.particles[particle].header;
        *h.valid.get_or_init(|| {
            let init_key = &self.net.peers[h.init].key;
            let message = header_bytes(&h.id, h.timestamp, h.ttl, &h.script);
            let signature = ed25519_dalek::Signature::from_bytes(&h.signature);
            air_vm::sign::public_key_of(&init_key.peer_id()).is_some_and(|pk| pk.verify_strict(&message, &signature).is_ok())
        })
    }

    fn answer(&mut self, particle: usize, peer: usize, call_id: u32, result: CallResult) {
        if self.expired(particle) || self.crashed(peer) {
            return;
        }
        let mut results = BTreeMap::new();
        results.insert(call_id, result);
        self.execute(particle, peer, Vec::new(), results);
    }

    fn params(&self, particle: usize, peer: usize) -> RunParameters {
        let h = &self.particles[particle].header;
        RunParameters {
            init_peer_id: self.net.peers[h.init].id.clone(),
            current_peer_id: self.net.peers[peer].id.clone(),
            timestamp: h.timestamp,
            ttl: h.ttl,
            particle_id: h.id.clone(),
            key: Some(self.net.peers[peer].key.clone()),
            check_signatures: true,
            size_limits: Default::default(),
        }
    }

    /// Runs the VM on `peer` until it asks for nothing more, then sends the particle on.
    fn execute(&mut self, particle: usize, peer: usize, mut incoming: Vec<u8>, mut results: BTreeMap<u32, CallResult>) {
        let params = self.params(particle, peer);
        let mut next: BTreeSet<String> = BTreeSet::new();
        loop {
            let started = self.tick();
            let p = &self.particles[particle];
            let previous = p.stored.get(&peer).map_or(&[][..], Vec::as_slice);
            let out = p.header.invoke(previous, &incoming, &params, std::mem::take(&mut results));
            self.timings.vm_ns += self.tick().saturating_sub(started);
            if out.ret_code != 0 {
                self.event(particle, peer, "vm-error", format!("code {}: {}", out.ret_code, out.error_message));
            }
            self.particles[particle].stored.insert(peer, out.data);
            next.extend(out.next_peers);
            incoming = Vec::new();
            let started = self.tick();
            for (id, request) in out.call_requests {
                if let Some(result) = self.serve(Serving { particle, peer }, id, &request) {
                    results.insert(id, result);
                }
            }
            self.timings.services_ns += self.tick().saturating_sub(started);
            if results.is_empty() {
                break;
            }
        }
        let data = Rc::new(self.particles[particle].stored.get(&peer).cloned().unwrap_or_default());
        for id in next {
            self.send(particle, peer, &id, data.clone());
        }
    }

    fn send(&mut self, particle: usize, from: usize, to_id: &str, data: Rc<Vec<u8>>) {
        let Some(to) = self.net.index_of_id(to_id) else {
            self.event(particle, from, "unreachable", format!("{to_id} is not a peer of this network"));
            return;
        };
        let (from_name, to_name) = (self.peer_name(from).to_owned(), self.peer_name(to).to_owned());
        if !self.net.link(from, to) {
            self.event(particle, from, "unreachable", format!("{to_name} cannot be reached directly from {from_name}"));
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
        let label = self.particles[particle].label.clone();
        if copies == 0 {
            self.event(particle, from, "dropped", format!("particle to {to_name} lost (fault)"));
            self.report.hops.push(crate::report::Hop { time_ms: self.now, from: from_name, to: to_name, arrive_ms: None, particle: label });
            return;
        }
        for i in 0..copies {
            let at = self.now + latency + i;
            self.event(particle, from, "send", format!("to {to_name}, arrives at {at} ms"));
            self.report.hops.push(crate::report::Hop {
                time_ms: self.now,
                from: from_name.clone(),
                to: to_name.clone(),
                arrive_ms: Some(at),
                particle: label.clone(),
            });
            self.schedule(at, Action::Deliver { particle, to, from, data: data.clone() });
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
    fn serve(&mut self, at: Serving, call_id: u32, request: &CallRequest) -> Option<CallResult> {
        let (service, function) = (request.service_id.as_str(), request.function_name.as_str());
        let outcome = self.dispatch(at, request);
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
        self.event(at.particle, at.peer, "call", format!("{service}.{function}{args_text} {answer}"));
        self.report.calls.push(Call {
            time_ms: self.now + later.unwrap_or(0),
            peer: self.peer_name(at.peer).to_owned(),
            service: service.to_owned(),
            function: function.to_owned(),
            args: request.arguments.clone(),
            result: ok,
            error: err,
            particle: self.particles[at.particle].label.clone(),
        });
        match later {
            Some(after) => {
                self.schedule(self.now + after, Action::Answer { particle: at.particle, peer: at.peer, call_id, result });
                None
            }
            None => Some(result),
        }
    }

    fn dispatch(&mut self, at: Serving, request: &CallRequest) -> builtins::Outcome {
        let (service, function, args) = (request.service_id.as_str(), request.function_name.as_str(), &request.arguments);
        let (peer, net) = (at.peer, self.net);
        let init = self.particles[at.particle].header.init;
        // A service is reached by its id or one of its aliases, while it is registered;
        // one from the description replaces a builtin of the same id, `srv` included.
        let resolved = self.registries[peer].resolve(service).map(str::to_owned);
        let registered = resolved.as_deref().and_then(|id| net.services[peer].get(id));
        match registered {
            Some(ServiceSpec::Mock(functions)) => {
                return match functions.get(function) {
                    Some(f) => mock(f, args),
                    None => builtins::Outcome::Err(format!("service '{service}' has no function '{function}'")),
                };
            }
            Some(ServiceSpec::Process { program, args: command_args }) => {
                let h = &self.particles[at.particle].header;
                let me = &net.peers[peer];
                let request = serde_json::json!({
                    "service": service,
                    "function": function,
                    "args": args,
                    "tetraplets": request.tetraplets,
                    "particle": {
                        "id": h.id,
                        "init_peer_id": net.peers[init].id,
                        "timestamp": h.timestamp,
                        "ttl": h.ttl,
                    },
                    "peer_id": me.id,
                });
                return self.external.call(me, (program, command_args), service, request).into();
            }
            Some(ServiceSpec::Blueprint { .. }) | None => {}
        }
        // A registered service that is neither a mock nor a process is a WebAssembly one
        // (from a blueprint in the description, or made by `srv.create`).
        if let Some(service_id) = resolved.as_deref() {
            let wasm_params = self.wasm_params(at, request);
            let peer_name = &net.peers[peer].name;
            if let Some(wasm) = self.external.wasm()
                && let Some((result, logs)) = wasm.call(peer_name, service_id, function, args, wasm_params)
            {
                for line in logs {
                    self.event(at.particle, peer, "log", format!("{service_id} {}: {}", line.level, line.message));
                }
                return result.into();
            }
        }
        if let Some(spell) = self.spell_named(at, resolved.as_deref().unwrap_or(service), function) {
            return self.call_spell(at, spell, function, args);
        }
        let caller = Caller {
            init_peer_id: &net.peers[init].id,
            host_id: &net.peers[peer].id,
            management_id: net.management.map(|m| net.peers[m].id.as_str()),
        };
        match service {
            "srv" => return self.srv(at, function, args, caller),
            "spell" => return self.peer_spell(at, function, args, caller),
            "subnet" => return self.subnet(function, args),
            "dist" => return self.dist(at, function, args, caller),
            _ => {}
        }
        if peer == init
            && let Some(outcome) = self.calling_convention(at, service, function, args)
        {
            return outcome;
        }
        let routing = net.routing_table(peer);
        let connected = |id: &str| net.index_of_id(id).is_some_and(|other| net.link(peer, other));
        let random = if service == "random" { self.rng.next_u64() } else { 0 };
        let h = &self.particles[at.particle].header;
        let ctx = CallContext {
            peer_id: &net.peers[peer].id,
            init_peer_id: &net.peers[init].id,
            particle_id: &h.id,
            now_ms: EPOCH_MS + self.now,
            tetraplets: &request.tetraplets,
            routing_table: &routing,
            is_connected: &connected,
            key: &net.peers[peer].key,
            external_addresses: &[],
            random,
        };
        builtins::call(service, function, args, &ctx)
    }

    /// A random (version 4) UUID from the run's seed.
    fn uuid(&mut self) -> String {
        let mut bytes = [0u8; 16];
        self.rng.fill_bytes(&mut bytes);
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
    }

    /// `getDataSrv`, `callbackSrv` (the response and arrow arguments) and
    /// `errorHandlingSrv.error` on the particle's initiator: the client of the run, or
    /// the peer of a spell, where they read and write the spell's store.
    fn calling_convention(&mut self, at: Serving, service: &str, function: &str, args: &[Json]) -> Option<builtins::Outcome> {
        if let Origin::Spell(spell) = self.particles[at.particle].origin {
            return self.spell_convention(at, spell, service, function, args);
        }
        match (service, function) {
            ("getDataSrv", "-relay-") => {
                let relay = self.net.relay_of(at.peer);
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

    /// Peers that took part in a particle must hold traces that merge without conflict.
    fn check_convergence(&mut self) {
        for particle in &self.particles {
            let mut merged = air_vm::trace::Trace::default();
            for (&peer, bytes) in &particle.stored {
                let Ok(data) = air_vm::data::Data::from_bytes(bytes) else { continue };
                match air_vm::merge::merge_traces(&merged, &data.trace) {
                    Ok(t) => merged = t,
                    Err(e) => {
                        self.report.problems.push(format!(
                            "convergence check failed for particle {} at {}: {e}",
                            particle.header.id, self.net.peers[peer].name
                        ));
                        break;
                    }
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
