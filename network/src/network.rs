//! The network a simulation runs on: peers with keys, who reaches whom, services, faults.

use crate::description::{Description, DescriptionError, FaultKind, MockFunction, line_col};
use air_vm::sign::KeyPair;
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
                (_, Some(b)) => {
                    return Err(at(
                        &b.span(),
                        format!("service `{}`: WebAssembly blueprints are not supported by this simulator yet", s.id.get_ref()),
                    ));
                }
                _ if s.functions.is_empty() => {
                    return Err(at(
                        &s.id.span(),
                        format!("service `{}` has no functions: give `functions.<name> = {{ result = ... }}`", s.id.get_ref()),
                    ));
                }
                _ => ServiceSpec::Mock(s.functions.clone()),
            };
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
