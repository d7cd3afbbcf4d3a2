//! `aqua run`: run a script on a simulated network and print its result.

use aqua_network::sim::error_object;
use aqua_network::{Description, Network, ProcessServices, RunSpec, Simulation};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The AIR script to run (as `aqua compile` writes it).
    #[arg(long, value_name = "FILE.air")]
    pub air: PathBuf,
    /// Values for the script's `getDataSrv` calls: a JSON object, or @file.json.
    #[arg(long, value_name = "JSON|@FILE")]
    pub data: Option<String>,
    /// The network description (TOML); without it, relays R0…R5 and a client `me` on R0.
    #[arg(long, value_name = "NET.toml")]
    pub network: Option<PathBuf>,
    /// The peer the particle starts from (default: the first client).
    #[arg(long, value_name = "NAME")]
    pub on: Option<String>,
    /// Seed of latency and faults (overrides the description's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Particle time to live in milliseconds (overrides the description's).
    #[arg(long, value_name = "MS")]
    pub ttl: Option<u32>,
    /// Write the full report (JSON) to this file.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,
    /// Print one line per event of the run, on stderr.
    #[arg(long)]
    pub trace: bool,
    /// Draw the run as a sequence diagram (SVG) in this file.
    #[arg(long, value_name = "FILE.svg")]
    pub svg: Option<PathBuf>,
    /// Write wall-clock figures (vm_ns, services_ns, total_ns) as JSON to this file.
    #[arg(long, value_name = "FILE.json")]
    pub timings: Option<PathBuf>,
    /// Write the exact script the run sends to FILE, and the values its getDataSrv
    /// calls are served to FILE.data.json.
    #[arg(long, value_name = "FILE")]
    pub emit_air: Option<PathBuf>,
}

/// What the command prints: stdout text, stderr text, and whether it succeeded.
pub struct RunOutput {
    pub stdout: String,
    pub stderr: String,
    pub success: bool,
}

pub fn run(args: RunArgs) -> Result<RunOutput, String> {
    let script = std::fs::read_to_string(&args.air).map_err(|e| format!("cannot read {}: {e}", args.air.display()))?;
    if let Err(e) = air_vm::syntax::parse(&script) {
        return Err(crate::diagnostics::render_air_errors(&e, &args.air.display().to_string(), &script));
    }
    let (desc, source, net_name) = match &args.network {
        Some(path) => {
            let source = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let desc = Description::parse(&source).map_err(|e| format!("{}: {e}", path.display()))?;
            (desc, source, path.display().to_string())
        }
        None => (Description::default_network(), String::new(), "the default network".to_owned()),
    };
    let mut net = Network::from_description(&desc, &source, args.seed.unwrap_or(0)).map_err(|e| format!("{net_name}: {e}"))?;
    if let Some(seed) = args.seed {
        net.seed = seed;
    }
    let client = match &args.on {
        Some(name) => net.index_of_name(name).ok_or_else(|| format!("--on {name}: {net_name} has no peer named `{name}`"))?,
        None => net.peers.iter().position(|p| p.kind != aqua_network::network::PeerKind::Relay).unwrap_or(0),
    };
    let data = match &args.data {
        None => BTreeMap::new(),
        Some(text) => parse_data(text, &net)?,
    };
    let spec = RunSpec { script, client, data, ttl_ms: args.ttl.unwrap_or(net.ttl_ms), particle_id: format!("particle-{}", net.seed) };
    // Service processes run in the description's directory, so its relative paths work.
    let dir = args.network.as_ref().and_then(|p| p.parent()).map(PathBuf::from).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
    let mut processes = ProcessServices::new(dir);
    if let Some(path) = &args.emit_air {
        emit_air(path, &spec, &net)?;
    }
    let started = std::time::Instant::now();
    let clock = move || u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let (report, timings) = Simulation::new(&net, spec, &mut processes).with_clock(&clock).run_timed();
    drop(processes);
    if let Some(path) = &args.svg {
        write(path, &aqua_network::svg::render(&report))?;
    }
    if let Some(path) = &args.timings {
        write(path, &(serde_json::to_string_pretty(&timings).map_err(|e| e.to_string())? + "\n"))?;
    }
    if let Some(path) = &args.report {
        write(path, &(serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n"))?;
    }
    let mut stderr = String::new();
    if args.trace {
        stderr.push_str(aqua_network::report::TRACE_LEGEND);
        stderr.push('\n');
        for line in report.trace_lines() {
            stderr.push_str(&line);
            stderr.push('\n');
        }
    }
    for p in &report.problems {
        stderr.push_str(&format!("warning: {p}\n"));
    }
    let pretty = |v: &Json| serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
    Ok(match (&report.error, &report.result) {
        (Some(e), _) => {
            let described = error_object(e).map(|o| format!(" (error code {})", o.error_code)).unwrap_or_default();
            stderr.push_str(&format!("error: the function failed{described}:\n{}", pretty(e)));
            RunOutput { stdout: String::new(), stderr, success: false }
        }
        (None, Some(result)) => RunOutput { stdout: pretty(result), stderr, success: true },
        (None, None) => {
            let expired = report.events.iter().any(|e| e.kind == "expired");
            let why = if expired {
                "the particle expired before the client got a response"
            } else {
                "the run ended without a response to the client"
            };
            stderr.push_str(&format!("error: {why} (see --trace)\n"));
            RunOutput { stdout: String::new(), stderr, success: false }
        }
    })
}

fn write(path: &std::path::Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// `--emit-air`: the script as sent, and beside it the values `getDataSrv` serves.
fn emit_air(path: &std::path::Path, spec: &RunSpec, net: &Network) -> Result<(), String> {
    write(path, &spec.script)?;
    let mut data: serde_json::Map<String, Json> = spec.data.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    data.insert("-relay-".into(), Json::String(net.peers[net.relay_of(spec.client)].id.clone()));
    let mut data_path = path.as_os_str().to_owned();
    data_path.push(".data.json");
    write(std::path::Path::new(&data_path), &(serde_json::to_string_pretty(&Json::Object(data)).map_err(|e| e.to_string())? + "\n"))
}

/// `--data`: a JSON object, inline or `@file`; `"@name"` strings become peer IDs.
fn parse_data(text: &str, net: &Network) -> Result<BTreeMap<String, Json>, String> {
    let json_text = match text.strip_prefix('@') {
        Some(path) => std::fs::read_to_string(path).map_err(|e| format!("--data: cannot read {path}: {e}"))?,
        None => text.to_owned(),
    };
    let value: Json = serde_json::from_str(&json_text).map_err(|e| format!("--data is not valid JSON: {e}"))?;
    let Json::Object(map) = value else { return Err("--data must be a JSON object of names to values".into()) };
    Ok(map.into_iter().map(|(k, v)| (k, peer_refs(v, net))).collect())
}

fn peer_refs(v: Json, net: &Network) -> Json {
    match v {
        Json::String(s) => match s.strip_prefix('@').and_then(|n| net.index_of_name(n)) {
            Some(i) => Json::String(net.peers[i].id.clone()),
            None => Json::String(s),
        },
        Json::Array(a) => Json::Array(a.into_iter().map(|x| peer_refs(x, net)).collect()),
        Json::Object(m) => Json::Object(m.into_iter().map(|(k, x)| (k, peer_refs(x, net))).collect()),
        other => other,
    }
}
