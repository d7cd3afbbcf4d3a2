//! `aqua run`: run a script on a simulated network and print its result.

use aqua_network::network::SpellSource;
use aqua_network::sim::error_object;
use aqua_network::{Description, Network, ProcessServices, RunSpec, Simulation};
use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The Aqua file whose function `-f` runs.
    #[arg(value_name = "FILE.aqua", required_unless_present_any = ["air", "until"], conflicts_with = "air", requires = "func")]
    pub file: Option<PathBuf>,
    /// The function to run and its arguments: `name(arg, ...)`, each argument a JSON
    /// literal or a name from `--data`.
    #[arg(short = 'f', long = "func", value_name = "CALL")]
    pub func: Option<String>,
    /// A directory to look for imports in (after the file's own directory).
    #[arg(short = 'I', long = "import", value_name = "DIR")]
    pub import_roots: Vec<PathBuf>,
    /// A value for a constant declared with `?=`: NAME=VALUE, the value a JSON literal.
    #[arg(long = "const", value_name = "NAME=VALUE")]
    pub constants: Vec<String>,
    /// The AIR script to run instead (as `aqua compile` writes it).
    #[arg(long, value_name = "FILE.air")]
    pub air: Option<PathBuf>,
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
    /// Go on until this virtual time (ms), spells firing, even after the function is
    /// done. Without a file or --air, only the network's spells run, and their state is
    /// printed.
    #[arg(long, value_name = "MS")]
    pub until: Option<u64>,
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
    let (mut desc, source, net_name) = match &args.network {
        Some(path) => {
            let source = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let desc = Description::parse(&source).map_err(|e| format!("{}: {e}", path.display()))?;
            (desc, source, path.display().to_string())
        }
        None => (Description::default_network(), String::new(), "the default network".to_owned()),
    };
    // --seed wins over the description's seed, for everything drawn from it: peer keys,
    // deployments' placement, latency, faults, spell ids.
    desc.seed = args.seed.or(desc.seed);
    let mut net = Network::from_description(&desc, &source, 0).map_err(|e| format!("{net_name}: {e}"))?;
    let client = match &args.on {
        Some(name) => net.index_of_name(name).ok_or_else(|| format!("--on {name}: {net_name} has no peer named `{name}`"))?,
        None => net.peers.iter().position(|p| p.kind != aqua_network::network::PeerKind::Relay).unwrap_or(0),
    };
    let mut data = match &args.data {
        None => BTreeMap::new(),
        Some(text) => parse_data(text, &net)?,
    };
    // Paths in the description (processes, spell scripts) are relative to its directory.
    let dir = args.network.as_ref().and_then(|p| p.parent()).map(PathBuf::from).unwrap_or_default();
    let dir = if dir.as_os_str().is_empty() { PathBuf::from(".") } else { dir };
    net.load_spell_scripts(&mut |source| load_spell(source, &dir, &args)).map_err(|e| format!("{net_name}: {e}"))?;
    net.load_components(&mut |file| std::fs::read(dir.join(file)).map_err(|e| e.to_string())).map_err(|e| format!("{net_name}: {e}"))?;
    let script = match (&args.file, &args.air) {
        (Some(file), _) => {
            let (script, args_data) = compile_call(&args, file, &data, &net)?;
            data.extend(args_data);
            Some(script)
        }
        (None, Some(air)) => Some(read_air(air)?),
        (None, None) if args.until.is_some() => None,
        (None, None) => return Err("give an Aqua file and `-f 'name(args)'`, or `--air FILE.air`".into()),
    };
    let mut processes = ProcessServices::new(dir);
    let started = std::time::Instant::now();
    let clock = move || u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let simulation = match script {
        Some(script) => {
            let spec =
                RunSpec { script, client, data, ttl_ms: args.ttl.unwrap_or(net.ttl_ms), particle_id: format!("particle-{}", net.seed) };
            if let Some(path) = &args.emit_air {
                emit_air(path, &spec, &net)?;
            }
            Simulation::new(&net, spec, &mut processes)
        }
        None => Simulation::spells_only(&net, &mut processes),
    };
    let simulation = match args.until {
        Some(ms) => simulation.until(ms),
        None => simulation,
    };
    let (report, timings) = simulation.with_clock(&clock).run_timed();
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
    if args.file.is_none() && args.air.is_none() {
        let spells = serde_json::to_value(&report.spells).map_err(|e| e.to_string())?;
        return Ok(RunOutput { stdout: pretty(&spells), stderr, success: true });
    }
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

fn read_air(path: &std::path::Path) -> Result<String, String> {
    let script = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    match air_vm::syntax::parse(&script) {
        Ok(_) => Ok(script),
        Err(e) => Err(crate::diagnostics::render_air_errors(&e, &path.display().to_string(), &script)),
    }
}

/// A spell's AIR: its AIR file, or its Aqua function compiled (paths relative to the
/// description's directory). A spell's arguments come from its store, so any
/// non-arrow parameters will do; arrows and abilities cannot be given.
fn load_spell(source: &SpellSource, dir: &std::path::Path, args: &RunArgs) -> Result<String, String> {
    match source {
        SpellSource::Air { file } => read_air(&dir.join(file)),
        SpellSource::Aqua { file, function } => {
            let path = dir.join(file);
            let (func, sources) = find_function(args, &path, function)?;
            if func.ty.domain.iter().any(|(_, t)| matches!(t, aqua_compiler::types::Type::Arrow(_))) || !func.ty.abilities.is_empty() {
                return Err(format!("`{function}` takes arrows or abilities, which a spell cannot be given"));
            }
            aqua_compiler::lower::lower_function(&func, aqua_compiler::lower::LowerOptions::default())
                .map_err(|errors| aqua_compiler::diagnostic::render(&errors, &sources, false))
        }
    }
}

/// Checks `file` and finds its function `name`, with the sources for diagnostics.
fn find_function(
    args: &RunArgs,
    file: &std::path::Path,
    name: &str,
) -> Result<(std::rc::Rc<aqua_compiler::check::FuncDef>, aqua_compiler::diagnostic::SourceMap), String> {
    use aqua_compiler::check::Def;
    let options = crate::check::parse_constants(&args.constants)?;
    let roots = vec![file.display().to_string()];
    let import_roots = crate::check::import_roots(&args.import_roots)?;
    let result = aqua_compiler::check_files(&roots, &import_roots, &mut crate::check::FsLoader, &options);
    if result.diagnostics.has_errors() {
        let (_, rendered) = crate::check::report(&result.diagnostics, &result.sources, crate::check::Format::Text)?;
        return Err(rendered);
    }
    let module = result.program.roots.first().and_then(|r| result.program.modules.get(r)).ok_or("nothing to run")?;
    match module.scope.defs.get(name) {
        Some(Def::Func(f)) => Ok((f.clone(), result.sources)),
        _ => {
            let funcs = module.scope.defs.iter().filter(|(_, d)| matches!(d, Def::Func(_))).map(|(n, _)| n.as_str());
            let hint = aqua_compiler::suggest::did_you_mean(name, funcs).map(|h| format!(" ({h})")).unwrap_or_default();
            Err(format!("{} has no function `{name}`{hint}", file.display()))
        }
    }
}

/// Compiles the function `-f` names and gives its script and its arguments by name.
fn compile_call(
    args: &RunArgs,
    file: &std::path::Path,
    data: &BTreeMap<String, Json>,
    net: &Network,
) -> Result<(String, BTreeMap<String, Json>), String> {
    use aqua_compiler::types::Type;
    let call = args.func.as_deref().ok_or("`-f 'name(args)'` names the function to run")?;
    let (name, raw_args) = parse_call(call)?;
    let (func, sources) = find_function(args, file, &name)?;
    if !func.ty.abilities.is_empty() || func.ty.codomain.iter().any(|t| matches!(t, Type::Arrow(_) | Type::Ability(_))) {
        return Err(format!("`{name}` takes abilities or returns arrows, so it cannot be run from outside; run a function that calls it"));
    }
    // Arrow parameters are not given: the client serves them as callbackSrv.<name>.
    let params: Vec<(&str, &Type)> =
        func.ty.domain.iter().filter(|(_, t)| !matches!(t, Type::Arrow(_))).map(|(n, t)| (n.as_deref().unwrap_or(""), t)).collect();
    if params.len() != raw_args.len() {
        let expected: Vec<String> = params.iter().map(|(n, t)| format!("{n}: {t}")).collect();
        return Err(format!("`{name}` takes {} argument(s) ({}), {} given", params.len(), expected.join(", "), raw_args.len()));
    }
    let mut values = BTreeMap::new();
    for ((param, _), raw) in params.iter().zip(&raw_args) {
        let value = if is_name(raw) {
            data.get(raw.as_str()).cloned().ok_or_else(|| format!("`{raw}` (the argument `{param}`) is not in --data"))?
        } else {
            let v: Json = serde_json::from_str(raw)
                .map_err(|e| format!("the argument `{param}` is neither a JSON literal nor a name: {raw} ({e})"))?;
            net.peer_refs(v)
        };
        values.insert((*param).to_string(), value);
    }
    let script = aqua_compiler::lower::lower_function(&func, aqua_compiler::lower::LowerOptions::default())
        .map_err(|errors| aqua_compiler::diagnostic::render(&errors, &sources, false))?;
    Ok((script, values))
}

/// `name(a, [1, 2], "x")`: the name and each argument's text (split at top-level commas).
fn parse_call(text: &str) -> Result<(String, Vec<String>), String> {
    let text = text.trim();
    let (name, rest) = text.split_once('(').ok_or_else(|| format!("-f: expected `name(args)`, got `{text}`"))?;
    let inner = rest.strip_suffix(')').ok_or_else(|| format!("-f: the call `{text}` does not end with `)`"))?;
    let name = name.trim();
    if !is_name(name) {
        return Err(format!("-f: `{name}` is not a function name"));
    }
    let mut args = Vec::new();
    let (mut depth, mut in_string, mut start) = (0i32, false, 0usize);
    for (i, c) in inner.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '[' | '{' if !in_string => depth += 1,
            ']' | '}' if !in_string => depth -= 1,
            ',' if !in_string && depth == 0 => {
                args.push(inner[start..i].trim().to_string());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = inner[start..].trim();
    if !last.is_empty() || !args.is_empty() {
        args.push(last.to_string());
    }
    if args.iter().any(String::is_empty) {
        return Err(format!("-f: an argument of `{text}` is empty"));
    }
    Ok((name.to_string(), args))
}

/// A bare name (looked up in `--data`) rather than a JSON literal.
fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !matches!(s, "true" | "false" | "null")
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
    Ok(map.into_iter().map(|(k, v)| (k, net.peer_refs(v))).collect())
}
