//! Scenarios kept as data: every `examples/**/*.scenario.toml` runs `aqua run` from its
//! own directory, as a user would, and compares what it prints. Adding a scenario needs
//! no Rust. Keys:
//!
//! - `about`: what the scenario shows (one line, printed when it fails);
//! - `network`: the network description, relative to the scenario;
//! - `aqua` (default `main.aqua`) and `call`, the `-f` argument; without `call`, only the
//!   network's spells run (give `until`);
//! - `seed`, `until`, `data` (the `--data` text): passed on when present; `trace = true`
//!   adds `--trace`, so `contains` can look at the timeline;
//! - what must come out: `result`, the exact JSON printed (compared as JSON, where
//!   `@NAME` in a string stands for the peer ID of peer NAME), or
//!   `error`, a piece of the error printed; and `contains`, pieces of the output.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    about: String,
    network: String,
    aqua: Option<String>,
    call: Option<String>,
    seed: Option<u64>,
    until: Option<u64>,
    data: Option<String>,
    #[serde(default)]
    trace: bool,
    result: Option<String>,
    error: Option<String>,
    #[serde(default)]
    contains: Vec<String>,
}

fn scenario_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).expect("readable").map(|e| e.expect("an entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            scenario_files(&path, out);
        } else if path.to_string_lossy().ends_with(".scenario.toml") {
            out.push(path);
        }
    }
}

/// Runs one scenario; `Err` says what differs.
fn check(path: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let s: Scenario = toml::from_str(&text).map_err(|e| format!("not a scenario: {e}"))?;
    let dir = path.parent().expect("a directory");
    let mut args: Vec<String> = vec!["run".into()];
    if let Some(call) = &s.call {
        args.extend([s.aqua.clone().unwrap_or_else(|| "main.aqua".into()), "-f".into(), call.clone()]);
    }
    args.extend(["--network".into(), s.network.clone()]);
    let options = [("--seed", s.seed.map(|n| n.to_string())), ("--until", s.until.map(|n| n.to_string())), ("--data", s.data.clone())];
    for (flag, value) in options {
        if let Some(v) = value {
            args.extend([flag.to_owned(), v]);
        }
    }
    if s.trace {
        args.push("--trace".into());
    }
    let report = std::env::temp_dir().join(format!("aqua-scenario-{}-{}.json", std::process::id(), path.display().to_string().len()));
    let report_arg = ["--report".to_owned(), report.display().to_string()];
    let out = Command::new(env!("CARGO_BIN_EXE_aqua")).args(&args).args(report_arg).current_dir(dir).output().map_err(|e| e.to_string())?;
    let peers: serde_json::Value = std::fs::read_to_string(&report)
        .ok()
        .and_then(|r| serde_json::from_str::<serde_json::Value>(&r).ok())
        .map(|r| r["peers"].clone())
        .unwrap_or_default();
    let _ = std::fs::remove_file(&report);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let context = || format!("({})\n`aqua {}`\nstdout:\n{stdout}\nstderr:\n{stderr}", s.about, args.join(" "));
    match (&s.result, &s.error) {
        (Some(expected), None) => {
            let expected = serde_json::from_str(expected).map_err(|e| format!("`result` is not JSON: {e}"))?;
            let expected = peer_ids(expected, &peers);
            let got: serde_json::Value =
                serde_json::from_str(&stdout).map_err(|_| format!("expected the result {expected}, got no JSON {}", context()))?;
            if got != expected || !out.status.success() {
                return Err(format!("expected the result {expected}, got {got} {}", context()));
            }
        }
        (None, Some(expected)) => {
            if out.status.success() || !stderr.contains(expected.as_str()) {
                return Err(format!("expected an error with `{expected}` {}", context()));
            }
        }
        (None, None) if !s.contains.is_empty() => {}
        _ => return Err("give exactly one of `result` and `error` (or only `contains`)".into()),
    }
    let all = format!("{stdout}{stderr}");
    if let Some(missing) = s.contains.iter().find(|c| !all.contains(c.as_str())) {
        return Err(format!("the output does not contain `{missing}` {}", context()));
    }
    Ok(())
}

/// `@NAME` in strings becomes the peer ID the run's report gives peer NAME.
fn peer_ids(v: serde_json::Value, peers: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::String(s) => {
            let mut names: Vec<(&String, &Value)> = peers.as_object().map(|m| m.iter().collect()).unwrap_or_default();
            // Longest names first, so `@R10` is not read as `@R1` and a `0`.
            names.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
            let replaced = names.iter().fold(s, |s, (name, id)| s.replace(&format!("@{name}"), id.as_str().unwrap_or_default()));
            Value::String(replaced)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(|x| peer_ids(x, peers)).collect()),
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, x)| (k, peer_ids(x, peers))).collect()),
        other => other,
    }
}

/// Builds the example compute functions (`examples/services`), which the compute
/// scenarios load from `target/services`.
fn build_services(root: &Path) {
    marine_host::build::build_components(&root.join("services"), Some(&root.join("../target/services"))).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn every_scenario_gives_what_it_says() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    build_services(&root);
    let mut files = Vec::new();
    scenario_files(&root, &mut files);
    assert!(files.len() >= 3, "the scenarios were not found under {}", root.display());
    let failures: Vec<String> =
        files.iter().filter_map(|f| check(f).err().map(|e| format!("{}: {e}", f.strip_prefix(&root).unwrap_or(f).display()))).collect();
    assert!(failures.is_empty(), "{} of {} scenarios failed:\n\n{}", failures.len(), files.len(), failures.join("\n\n"));
}
