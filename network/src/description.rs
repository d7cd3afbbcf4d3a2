//! The network description: a TOML file naming peers, services, latency and faults.
//!
//! Parsing checks the shape (serde, with line and column from `toml`); [`Network::from_description`]
//! then checks the meaning (unknown relay or peer names, duplicates), pointing at the
//! line of the offending name.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The description as written.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Description {
    pub seed: Option<u64>,
    pub ttl_ms: Option<u32>,
    /// Per-hop latency range, drawn from the seed.
    pub latency_ms: Option<Spanned<[u64; 2]>>,
    #[serde(default)]
    pub relay: Vec<RelayDesc>,
    #[serde(default)]
    pub client: Vec<ClientDesc>,
    #[serde(default)]
    pub service: Vec<ServiceDesc>,
    #[serde(default)]
    pub fault: Vec<FaultDesc>,
    #[serde(default)]
    pub spell: Vec<SpellDesc>,
    #[serde(default)]
    pub deployment: Vec<DeploymentDesc>,
    #[serde(default)]
    pub effector: Vec<EffectorDesc>,
    /// The peer allowed to manage services on every peer (`srv.add_alias`, `srv.remove`);
    /// default: the first client.
    pub management: Option<Spanned<String>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelayDesc {
    pub name: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientDesc {
    pub name: Spanned<String>,
    pub relay: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDesc {
    pub id: Spanned<String>,
    /// Peer names, or "relays", "clients", "all". Empty for a service that only a
    /// `[[deployment]]` places.
    #[serde(default)]
    pub peers: Vec<Spanned<String>>,
    #[serde(default)]
    pub functions: BTreeMap<String, MockFunction>,
    /// A host-native process speaking JSON lines (command and arguments).
    pub process: Option<Spanned<Vec<String>>>,
    /// WebAssembly components, facade last.
    pub blueprint: Option<Spanned<Vec<String>>>,
    /// For a blueprint: its limits, environment and mapped directories.
    pub sandbox: Option<Spanned<SandboxDesc>>,
}

/// How a WebAssembly service runs; absent keys keep the defaults.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SandboxDesc {
    /// Memory of all its components together, in MiB (default 64).
    pub memory_mb: Option<usize>,
    /// Fuel per call, about one unit per instruction (default 10 000 000 000).
    pub fuel: Option<u64>,
    /// Largest result, as JSON text (default 1 MiB).
    pub result_bytes: Option<usize>,
    /// Environment variables.
    #[serde(default)]
    pub envs: BTreeMap<String, String>,
    /// Guest path to host directory (relative to the description).
    #[serde(default)]
    pub mapped_dirs: BTreeMap<String, String>,
}

/// A mock function: a fixed result, an echo of the arguments, or a failure.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MockFunction {
    pub result: Option<toml::Value>,
    #[serde(default)]
    pub echo: bool,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultKind {
    /// Particles sent by or to the peers are lost.
    Drop,
    /// Particles sent by or to the peers arrive twice.
    Duplicate,
    /// Particles sent by or to the peers take `delay_ms` longer.
    Delay,
    /// The peers cannot reach the other peers, nor be reached.
    Partition,
    /// The peers are down: they receive nothing and lose their particle data.
    Crash,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultDesc {
    pub kind: FaultKind,
    pub peers: Vec<Spanned<String>>,
    #[serde(default)]
    pub from_ms: u64,
    pub until_ms: Option<u64>,
    /// For `drop` and `duplicate`: the share of particles affected (default all).
    pub probability: Option<f64>,
    /// For `delay`: the extra latency.
    pub delay_ms: Option<u64>,
}

/// A spell: a script a peer runs by itself when its trigger fires.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpellDesc {
    /// The spell's alias on each of its peers.
    pub name: Spanned<String>,
    pub peers: Vec<Spanned<String>>,
    /// An Aqua file (relative to the description) and the function to run, or an AIR file.
    pub aqua: Option<Spanned<String>>,
    pub function: Option<Spanned<String>>,
    pub air: Option<Spanned<String>>,
    /// Stored in the spell's key-value store before the first run; the function's
    /// arguments are read from it by name.
    pub init_args: Option<Spanned<toml::Table>>,
    pub clock: Option<Spanned<ClockDesc>>,
    pub connections: Option<ConnectionsDesc>,
}

/// A clock trigger, in virtual milliseconds since the run started.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockDesc {
    #[serde(default)]
    pub start_ms: u64,
    /// 0 (the default) fires once.
    #[serde(default)]
    pub period_ms: u64,
    /// No firing at or after this time; absent = no end.
    pub end_ms: Option<u64>,
}

/// Fire when a peer connects to or disconnects from the spell's peer.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionsDesc {
    #[serde(default)]
    pub connect: bool,
    #[serde(default)]
    pub disconnect: bool,
}

/// A whitelist entry: the peers allow these modules to use this effect.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EffectorDesc {
    /// The effect, e.g. "curl".
    pub effect: Spanned<String>,
    /// Component files (relative to the description), whose module ids are allowed.
    pub modules: Vec<Spanned<String>>,
    pub peers: Vec<Spanned<String>>,
}

/// A service replicated on several peers, placed by the network.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeploymentDesc {
    /// The deployment's id, which `subnet.resolve` takes.
    pub name: Spanned<String>,
    /// The `[[service]]` whose replicas are placed.
    pub service: Spanned<String>,
    pub replicas: Spanned<usize>,
    /// Where replicas may go (default: "relays").
    #[serde(default)]
    pub peers: Vec<Spanned<String>>,
}

/// A problem in a network description, with the line and column it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescriptionError {
    pub message: String,
    /// 1-based line and column, when known.
    pub line: Option<(usize, usize)>,
}

impl std::fmt::Display for DescriptionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some((l, c)) => write!(f, "line {l}, column {c}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for DescriptionError {}

/// Line and column (1-based) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let mut end = offset.min(source.len());
    while !source.is_char_boundary(end) {
        end -= 1;
    }
    let before = &source[..end];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl Description {
    /// Parses TOML text. Errors say what is wrong and where.
    pub fn parse(source: &str) -> Result<Description, DescriptionError> {
        toml::from_str(source)
            .map_err(|e| DescriptionError { message: e.message().to_owned(), line: e.span().map(|s| line_col(source, s.start)) })
    }

    /// The network used when none is given: relays `R0`…`R5` and a client `me` on `R0`.
    pub fn default_network() -> Description {
        let spanned = |s: &str| Spanned::new(0..0, s.to_owned());
        Description {
            relay: (0..6).map(|i| RelayDesc { name: spanned(&format!("R{i}")) }).collect(),
            client: vec![ClientDesc { name: spanned("me"), relay: spanned("R0") }],
            ..Description::default()
        }
    }
}
