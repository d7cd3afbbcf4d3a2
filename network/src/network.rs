//! The network a simulation runs on: peers with keys, who reaches whom, services, faults.

use crate::description::{Description, DescriptionError, FaultKind, MockFunction, SpellDesc, line_col};
use crate::spell::{Clock, Trigger};
use air_vm::sign::KeyPair;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use toml::Spanned;

/// Default particle time to live.
pub const DEFAULT_TTL_MS: u32 = 20_000;
/// Default per-hop latency range.
pub const DEFAULT_LATENCY_MS: (u64, u64) = (1, 10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerKind {
    Relay,
    /// A client, reachable only through its relay (index into the peer list).
    Client {
        relay: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Peer {
    pub name: String,
    pub id: String,
    pub key: KeyPair,
    pub kind: PeerKind,
}

/// A service the description places on peers.
#[derive(Debug, Clone)]
pub enum ServiceSpec {
    Mock(BTreeMap<String, MockFunction>),
    /// A host-native process speaking JSON lines, started once per peer.
    Process {
        program: String,
        args: Vec<String>,
    },
    /// WebAssembly components, facade last: files (relative to the description) and,
    /// once loaded, their bytes.
    Blueprint {
        files: Vec<String>,
        modules: Vec<std::rc::Rc<Vec<u8>>>,
        sandbox: crate::description::SandboxDesc,
    },
}

/// Where a spell's script comes from. The network cannot compile Aqua; whoever runs the
/// simulation turns sources into AIR with [`Network::load_spell_scripts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpellSource {
    Aqua { file: String, function: String },
    Air { file: String },
}

/// A spell the description installs on its peers before the run starts.
#[derive(Debug, Clone)]
pub struct SpellSpec {
    pub name: String,
    pub peers: BTreeSet<usize>,
    pub source: SpellSource,
    /// The AIR script, once loaded.
    pub script: Option<String>,
    /// Stored as fields of the spell's key-value store before its first run.
    pub init_args: serde_json::Map<String, Json>,
    pub trigger: Trigger,
    /// Where the spell is written in the description (line, column).
    pub line: Option<(usize, usize)>,
}

/// A service the network replicated on `hosts`, which `subnet.resolve(name)` lists.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub name: String,
    pub service: String,
    pub hosts: Vec<usize>,
}

#[derive(Debug, Clone)]
pub struct Fault {
    pub kind: FaultKind,
    pub peers: BTreeSet<usize>,
    pub from_ms: u64,
    pub until_ms: Option<u64>,
    pub probability: f64,
    pub delay_ms: u64,
}

impl Fault {
    pub fn active(&self, now: u64) -> bool {
        now >= self.from_ms && self.until_ms.is_none_or(|u| now < u)
    }
}

#[derive(Debug, Clone)]
pub struct Network {
    pub peers: Vec<Peer>,
    by_name: BTreeMap<String, usize>,
    by_id: BTreeMap<String, usize>,
    /// Per peer: service id → service.
    pub services: Vec<BTreeMap<String, ServiceSpec>>,
    pub seed: u64,
    pub ttl_ms: u32,
    pub latency_ms: (u64, u64),
    pub faults: Vec<Fault>,
    /// The management peer (see `Description::management`).
    pub management: Option<usize>,
    pub spells: Vec<SpellSpec>,
    pub deployments: Vec<Deployment>,
    /// Per peer: effect to the module ids allowed to use it.
    pub effectors: Vec<BTreeMap<String, BTreeSet<String>>>,
    /// The whitelist as written: effect, component files, peers (ids once loaded).
    effector_files: Vec<(String, Vec<String>, BTreeSet<usize>)>,
}

impl Network {
    /// Builds the network; `source` is the description's text, for error positions.
    pub fn from_description(desc: &Description, source: &str, seed: u64) -> Result<Network, DescriptionError> {
        let seed = desc.seed.unwrap_or(seed);
        let at = |s: &std::ops::Range<usize>, message: String| DescriptionError {
            message,
            line: (s.end > 0).then(|| line_col(source, s.start)),
        };
        let mut net = Network {
            peers: Vec::new(),
            by_name: BTreeMap::new(),
            by_id: BTreeMap::new(),
            services: Vec::new(),
            seed,
            ttl_ms: desc.ttl_ms.unwrap_or(DEFAULT_TTL_MS),
            latency_ms: DEFAULT_LATENCY_MS,
            faults: Vec::new(),
            management: None,
            spells: Vec::new(),
            deployments: Vec::new(),
            effectors: Vec::new(),
            effector_files: Vec::new(),
        };
        if let Some(l) = &desc.latency_ms {
            let [lo, hi] = *l.get_ref();
            if lo > hi {
                return Err(at(&l.span(), format!("latency_ms = [{lo}, {hi}]: the first bound must not exceed the second")));
            }
            net.latency_ms = (lo, hi);
        }
        if desc.relay.is_empty() {
            return Err(DescriptionError {
                message: "the network has no relay: add at least one [[relay]] with a name".into(),
                line: None,
            });
        }
        for r in &desc.relay {
            net.add_peer(&r.name, PeerKind::Relay, &at)?;
        }
        for c in &desc.client {
            let relay = match net.by_name.get(c.relay.get_ref()) {
                Some(&i) if net.peers[i].kind == PeerKind::Relay => i,
                Some(_) => {
                    return Err(at(
                        &c.relay.span(),
                        format!("client `{}` is attached to `{}`, which is a client, not a relay", c.name.get_ref(), c.relay.get_ref()),
                    ));
                }
                None => {
                    return Err(at(
                        &c.relay.span(),
                        format!(
                            "client `{}` is attached to an unknown relay `{}`{}",
                            c.name.get_ref(),
                            c.relay.get_ref(),
                            net.suggest(c.relay.get_ref())
                        ),
                    ));
                }
            };
            net.add_peer(&c.name, PeerKind::Client { relay }, &at)?;
        }
        net.management = match &desc.management {
            Some(m) => Some(
                net.by_name
                    .get(m.get_ref())
                    .copied()
                    .ok_or_else(|| at(&m.span(), format!("unknown management peer `{}`{}", m.get_ref(), net.suggest(m.get_ref()))))?,
            ),
            None => net.peers.iter().position(|p| p.kind != PeerKind::Relay),
        };
        net.services = vec![BTreeMap::new(); net.peers.len()];
        // Services by id, for deployments (the first one declared with an id).
        let mut declared: BTreeMap<&str, (ServiceSpec, &Spanned<String>)> = BTreeMap::new();
        for s in &desc.service {
            let spec = match (&s.process, &s.blueprint) {
                (Some(p), None) if !s.functions.is_empty() => {
                    return Err(at(&p.span(), format!("service `{}` is a process: it cannot also have mock `functions`", s.id.get_ref())));
                }
                (Some(p), None) => match p.get_ref().split_first() {
                    Some((program, args)) => ServiceSpec::Process { program: program.clone(), args: args.to_vec() },
                    None => {
                        return Err(at(
                            &p.span(),
                            format!("service `{}`: `process` needs a command, e.g. [\"python3\", \"calc.py\"]", s.id.get_ref()),
                        ));
                    }
                },
                (Some(p), Some(_)) => {
                    return Err(at(&p.span(), format!("service `{}` has both `process` and `blueprint`; choose one", s.id.get_ref())));
                }
                (_, Some(b)) if !s.functions.is_empty() => {
                    return Err(at(
                        &b.span(),
                        format!("service `{}` is a blueprint: it cannot also have mock `functions`", s.id.get_ref()),
                    ));
                }
                (_, Some(b)) if b.get_ref().is_empty() => {
                    return Err(at(&b.span(), format!("service `{}`: `blueprint` needs its components, facade last", s.id.get_ref())));
                }
                (_, Some(b)) => ServiceSpec::Blueprint {
                    files: b.get_ref().clone(),
                    modules: Vec::new(),
                    sandbox: s.sandbox.as_ref().map(|x| x.get_ref().clone()).unwrap_or_default(),
                },
                _ if s.functions.is_empty() => {
                    return Err(at(
                        &s.id.span(),
                        format!("service `{}` has no functions: give `functions.<name> = {{ result = ... }}`", s.id.get_ref()),
                    ));
                }
                _ => ServiceSpec::Mock(s.functions.clone()),
            };
            if let (Some(sandbox), None) = (&s.sandbox, &s.blueprint) {
                return Err(at(&sandbox.span(), format!("service `{}`: only a blueprint has a `sandbox`", s.id.get_ref())));
            }
            for (name, f) in &s.functions {
                let kinds = usize::from(f.result.is_some()) + usize::from(f.echo) + usize::from(f.error.is_some());
                if kinds != 1 {
                    return Err(at(
                        &s.id.span(),
                        format!(
                            "service `{}` function `{name}` must have exactly one of `result`, `echo = true` or `error`",
                            s.id.get_ref()
                        ),
                    ));
                }
            }
            for p in net.resolve_peers(&s.peers, &at)? {
                net.services[p].insert(s.id.get_ref().clone(), spec.clone());
            }
            declared.entry(s.id.get_ref()).or_insert((spec, &s.id));
        }
        for d in &desc.deployment {
            let deployment = net.place(d, &declared, &at)?;
            for &host in &deployment.hosts {
                net.services[host].insert(deployment.service.clone(), declared[deployment.service.as_str()].0.clone());
            }
            net.deployments.push(deployment);
        }
        for s in &desc.service {
            let deployed = net.deployments.iter().any(|d| d.service == *s.id.get_ref());
            if s.peers.is_empty() && !deployed {
                return Err(at(
                    &s.id.span(),
                    format!("service `{}` is on no peer: give it `peers`, or place it with a [[deployment]]", s.id.get_ref()),
                ));
            }
        }
        net.effectors = vec![BTreeMap::new(); net.peers.len()];
        for e in &desc.effector {
            let effect = e.effect.get_ref();
            if !marine_host::EFFECTS.iter().any(|(name, _)| name == effect) {
                let known: Vec<&str> = marine_host::EFFECTS.iter().map(|(name, _)| *name).collect();
                return Err(at(&e.effect.span(), format!("unknown effect `{effect}` (known: {})", known.join(", "))));
            }
            let files = e.modules.iter().map(|m| m.get_ref().clone()).collect();
            net.effector_files.push((effect.clone(), files, net.resolve_peers(&e.peers, &at)?));
        }
        for sp in &desc.spell {
            let spell = net.spell(sp, &at, source)?;
            net.spells.push(spell);
        }
        for f in &desc.fault {
            let peers = net.resolve_peers(&f.peers, &at)?;
            let probability = f.probability.unwrap_or(1.0);
            if !(0.0..=1.0).contains(&probability) {
                return Err(DescriptionError {
                    message: format!("a {:?} fault has probability {probability}; it must be between 0 and 1", f.kind),
                    line: None,
                });
            }
            if f.until_ms.is_some_and(|u| u < f.from_ms) {
                return Err(DescriptionError {
                    message: format!("a {:?} fault ends (until_ms) before it starts (from_ms)", f.kind),
                    line: None,
                });
            }
            net.faults.push(Fault {
                kind: f.kind,
                peers,
                from_ms: f.from_ms,
                until_ms: f.until_ms,
                probability,
                delay_ms: f.delay_ms.unwrap_or(0),
            });
        }
        Ok(net)
    }

    /// Places a deployment's replicas on distinct peers, chosen from the seed.
    fn place(
        &self,
        d: &crate::description::DeploymentDesc,
        declared: &BTreeMap<&str, (ServiceSpec, &Spanned<String>)>,
        at: &dyn Fn(&std::ops::Range<usize>, String) -> DescriptionError,
    ) -> Result<Deployment, DescriptionError> {
        let name = d.name.get_ref();
        if name.is_empty() {
            return Err(at(&d.name.span(), "a deployment needs a non-empty `name`".into()));
        }
        if self.deployments.iter().any(|other| other.name == *name) {
            return Err(at(&d.name.span(), format!("two deployments are named `{name}`")));
        }
        let service = d.service.get_ref();
        if !declared.contains_key(service.as_str()) {
            let best = declared.keys().map(|k| (strsim::levenshtein(k, service), *k)).min();
            let hint = match best {
                Some((dist, k)) if dist <= 2 => format!("; did you mean `{k}`?"),
                _ => String::new(),
            };
            return Err(at(&d.service.span(), format!("deployment `{name}` deploys an unknown service `{service}`{hint}")));
        }
        let relays = [Spanned::new(0..0, "relays".to_owned())];
        let candidates: Vec<usize> = self.resolve_peers(if d.peers.is_empty() { &relays } else { &d.peers }, at)?.into_iter().collect();
        let replicas = *d.replicas.get_ref();
        if replicas == 0 || replicas > candidates.len() {
            let names: Vec<&str> = candidates.iter().map(|&i| self.peers[i].name.as_str()).collect();
            return Err(at(
                &d.replicas.span(),
                format!(
                    "deployment `{name}` asks for {replicas} replica(s), but {} peer(s) can host it ({}); it needs 1 to {}",
                    candidates.len(),
                    names.join(", "),
                    candidates.len()
                ),
            ));
        }
        // A partial Fisher-Yates shuffle, seeded by the run's seed and the deployment's name.
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed ^ stable_hash(name));
        let mut pool = candidates;
        for i in 0..replicas {
            let j = i + (rng.next_u64() % (pool.len() - i) as u64) as usize;
            pool.swap(i, j);
        }
        let mut hosts = pool[..replicas].to_vec();
        hosts.sort_unstable();
        Ok(Deployment { name: name.clone(), service: service.clone(), hosts })
    }

    fn spell(
        &self,
        sp: &SpellDesc,
        at: &dyn Fn(&std::ops::Range<usize>, String) -> DescriptionError,
        source: &str,
    ) -> Result<SpellSpec, DescriptionError> {
        let name = sp.name.get_ref();
        if name.is_empty() || matches!(name.as_str(), "spell" | "self") {
            return Err(at(&sp.name.span(), format!("`{name}` cannot be a spell's name")));
        }
        if self.spells.iter().any(|other| other.name == *name) {
            return Err(at(&sp.name.span(), format!("two spells are named `{name}`")));
        }
        let script = match (&sp.aqua, &sp.function, &sp.air) {
            (Some(file), Some(function), None) => SpellSource::Aqua { file: file.get_ref().clone(), function: function.get_ref().clone() },
            (None, None, Some(file)) => SpellSource::Air { file: file.get_ref().clone() },
            (Some(file), None, None) => {
                return Err(at(&file.span(), format!("spell `{name}`: `aqua` needs `function`, the function to run")));
            }
            _ => {
                return Err(at(
                    &sp.name.span(),
                    format!("spell `{name}` needs a script: `aqua = \"FILE.aqua\"` with `function = \"NAME\"`, or `air = \"FILE.air\"`"),
                ));
            }
        };
        let init_args = match &sp.init_args {
            Some(table) => match serde_json::to_value(table.get_ref()) {
                Ok(Json::Object(map)) => map.into_iter().map(|(k, v)| (k, self.peer_refs(v))).collect(),
                _ => return Err(at(&table.span(), format!("spell `{name}`: `init_args` cannot be turned into JSON"))),
            },
            None => serde_json::Map::new(),
        };
        let clock = match &sp.clock {
            Some(c) => {
                let clock = *c.get_ref();
                if clock.end_ms.is_some_and(|end| end <= clock.start_ms) {
                    return Err(at(&c.span(), format!("spell `{name}`: the clock ends (end_ms) before it starts (start_ms)")));
                }
                Some(Clock { start_ms: clock.start_ms, period_ms: clock.period_ms, end_ms: clock.end_ms })
            }
            None => None,
        };
        let connections = sp.connections.unwrap_or(crate::description::ConnectionsDesc { connect: false, disconnect: false });
        Ok(SpellSpec {
            name: name.clone(),
            peers: self.resolve_peers(&sp.peers, at)?,
            source: script,
            script: None,
            init_args,
            trigger: Trigger { clock, connect: connections.connect, disconnect: connections.disconnect },
            line: (sp.name.span().end > 0).then(|| line_col(source, sp.name.span().start)),
        })
    }

    /// Turns every spell's source into its AIR script with `load`; a failure names the
    /// spell and where it is written.
    pub fn load_spell_scripts(&mut self, load: &mut dyn FnMut(&SpellSource) -> Result<String, String>) -> Result<(), DescriptionError> {
        for spell in &mut self.spells {
            let script =
                load(&spell.source).map_err(|e| DescriptionError { message: format!("spell `{}`: {e}", spell.name), line: spell.line })?;
            spell.script = Some(script);
        }
        Ok(())
    }

    /// Reads the component files of blueprint services and of the effector whitelist
    /// with `read`; a failure names the file.
    pub fn load_components(&mut self, read: &mut dyn FnMut(&str) -> Result<Vec<u8>, String>) -> Result<(), DescriptionError> {
        let mut cache: BTreeMap<String, std::rc::Rc<Vec<u8>>> = BTreeMap::new();
        let mut load = |file: &str| -> Result<std::rc::Rc<Vec<u8>>, DescriptionError> {
            if let Some(bytes) = cache.get(file) {
                return Ok(bytes.clone());
            }
            let bytes = std::rc::Rc::new(read(file).map_err(|e| DescriptionError { message: format!("{file}: {e}"), line: None })?);
            cache.insert(file.to_owned(), bytes.clone());
            Ok(bytes)
        };
        for services in &mut self.services {
            for spec in services.values_mut() {
                if let ServiceSpec::Blueprint { files, modules, .. } = spec {
                    *modules = files.iter().map(|f| load(f)).collect::<Result<_, _>>()?;
                }
            }
        }
        for (effect, files, peers) in &self.effector_files {
            for file in files {
                let id = marine_host::module_id(&load(file)?);
                for &p in peers {
                    self.effectors[p].entry(effect.clone()).or_default().insert(id.clone());
                }
            }
        }
        Ok(())
    }

    /// `"@name"` strings become the peer IDs of the named peers.
    pub fn peer_refs(&self, v: Json) -> Json {
        match v {
            Json::String(s) => match s.strip_prefix('@').and_then(|n| self.index_of_name(n)) {
                Some(i) => Json::String(self.peers[i].id.clone()),
                None => Json::String(s),
            },
            Json::Array(a) => Json::Array(a.into_iter().map(|x| self.peer_refs(x)).collect()),
            Json::Object(m) => Json::Object(m.into_iter().map(|(k, x)| (k, self.peer_refs(x))).collect()),
            other => other,
        }
    }

    /// The deployment named `name`.
    pub fn deployment(&self, name: &str) -> Option<&Deployment> {
        self.deployments.iter().find(|d| d.name == name)
    }

    fn add_peer(
        &mut self,
        name: &Spanned<String>,
        kind: PeerKind,
        at: &dyn Fn(&std::ops::Range<usize>, String) -> DescriptionError,
    ) -> Result<(), DescriptionError> {
        let n = name.get_ref();
        if n.is_empty() || matches!(n.as_str(), "relays" | "clients" | "all") {
            return Err(at(&name.span(), format!("`{n}` cannot be a peer name")));
        }
        if self.by_name.contains_key(n) {
            return Err(at(&name.span(), format!("two peers are named `{n}`")));
        }
        let key = KeyPair::derive(n, self.seed);
        let id = key.peer_id();
        self.by_name.insert(n.clone(), self.peers.len());
        self.by_id.insert(id.clone(), self.peers.len());
        self.peers.push(Peer { name: n.clone(), id, key, kind });
        Ok(())
    }

    fn resolve_peers(
        &self,
        names: &[Spanned<String>],
        at: &dyn Fn(&std::ops::Range<usize>, String) -> DescriptionError,
    ) -> Result<BTreeSet<usize>, DescriptionError> {
        let mut out = BTreeSet::new();
        for n in names {
            match n.get_ref().as_str() {
                "all" => out.extend(0..self.peers.len()),
                "relays" => out.extend(self.peers.iter().enumerate().filter(|(_, p)| p.kind == PeerKind::Relay).map(|(i, _)| i)),
                "clients" => out.extend(self.peers.iter().enumerate().filter(|(_, p)| p.kind != PeerKind::Relay).map(|(i, _)| i)),
                name => match self.by_name.get(name) {
                    Some(&i) => {
                        out.insert(i);
                    }
                    None => return Err(at(&n.span(), format!("unknown peer `{name}`{}", self.suggest(name)))),
                },
            }
        }
        Ok(out)
    }

    /// "; did you mean `R1`?" for a name close to a known one.
    fn suggest(&self, name: &str) -> String {
        let best = self.by_name.keys().map(|k| (strsim::levenshtein(k, name), k)).min();
        match best {
            Some((d, k)) if d <= 2 => format!("; did you mean `{k}`?"),
            _ => String::new(),
        }
    }

    pub fn index_of_name(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub fn index_of_id(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// Whether `from` can send to `to` directly: relays reach each other and their own
    /// clients; a client reaches only its relay.
    pub fn link(&self, from: usize, to: usize) -> bool {
        match (self.peers[from].kind, self.peers[to].kind) {
            (PeerKind::Relay, PeerKind::Relay) => true,
            (PeerKind::Relay, PeerKind::Client { relay }) => relay == from,
            (PeerKind::Client { relay }, _) => relay == to,
        }
    }

    /// The relay a peer reaches the network through (a relay is its own).
    pub fn relay_of(&self, peer: usize) -> usize {
        match self.peers[peer].kind {
            PeerKind::Client { relay } => relay,
            PeerKind::Relay => peer,
        }
    }

    /// Peer IDs a peer knows: relays know all relays; clients know nobody.
    pub fn routing_table(&self, peer: usize) -> Vec<String> {
        match self.peers[peer].kind {
            PeerKind::Relay => self.peers.iter().filter(|p| p.kind == PeerKind::Relay).map(|p| p.id.clone()).collect(),
            PeerKind::Client { .. } => Vec::new(),
        }
    }
}

/// FNV-1a: a hash that stays the same across platforms and releases.
fn stable_hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}
