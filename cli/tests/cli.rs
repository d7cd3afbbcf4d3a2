//! The `aqua` command as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn aqua(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aqua")).args(args).current_dir(repo()).output().expect("the aqua binary runs")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `aqua run` on the greeting example, with R1 as its target.
const GREETING: [&str; 7] =
    ["run", "--air", "examples/greeting.air", "--network", "examples/greeting.toml", "--data", r#"{"target": "@R1"}"#];

/// Runs the greeting example with `extra` options.
fn greeting(extra: &[&str]) -> Output {
    let mut args = GREETING.to_vec();
    args.extend_from_slice(extra);
    aqua(&args)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A test's own directory of files, removed when the test ends.
struct Scratch(tempfile::TempDir);

impl Scratch {
    fn new() -> Self {
        Scratch(tempfile::Builder::new().prefix("aqua-cli-test-").tempdir().expect("a temp dir"))
    }

    fn path(&self) -> &Path {
        self.0.path()
    }

    fn file(&self, name: &str, contents: &[u8]) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, contents).expect("temp file");
        path
    }
}

#[test]
fn help_lists_every_command_with_a_description() {
    let out = aqua(&["--help"]);
    assert!(out.status.success());
    let help = text(&out.stdout);
    assert!(help.contains("air") && help.contains("Inspect AIR scripts and particle data"), "{help}");
    assert!(help.contains("run") && help.contains("Run an Aqua function (or an AIR script) on a simulated network"), "{help}");
    assert!(help.contains("compile") && help.contains("one script per exported function"), "{help}");
    assert!(help.contains("check") && help.contains("report every syntax, name and type error"), "{help}");
    let out = aqua(&["air", "--help"]);
    let help = text(&out.stdout);
    for (cmd, about) in [("beautify", "readable, indented text"), ("fmt", "canonical form"), ("trace", "particle data")] {
        assert!(help.contains(cmd) && help.contains(about), "{cmd}: {help}");
    }
}

#[test]
fn version_and_unknown_commands() {
    let out = aqua(&["--version"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout).trim(), format!("aqua {}", env!("CARGO_PKG_VERSION")));
    let out = aqua(&["frobnicate"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unrecognized subcommand 'frobnicate'"), "{}", text(&out.stderr));
    let out = aqua(&["air", "beautify", "--no-such-flag", "x.air"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("unexpected argument '--no-such-flag'"));
}

#[test]
fn beautify_shows_the_shipped_example() {
    let out = aqua(&["air", "beautify", "examples/hello.air"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout));
}

#[test]
fn fmt_prints_canonical_air_that_reads_back_the_same() {
    let tmp = Scratch::new();
    let out = aqua(&["air", "fmt", "examples/hello.air"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let canonical = text(&out.stdout);
    let again = aqua(&["air", "fmt", tmp.file("canonical.air", canonical.as_bytes()).to_str().unwrap_or_default()]);
    assert_eq!(text(&again.stdout), canonical);
}

#[test]
fn a_malformed_script_gets_a_located_error_and_a_failing_exit() {
    let tmp = Scratch::new();
    let file = tmp.file("bad.air", b"(seq\n  (null)\n  (call %init_peer_id% (\"s\" \"f\") [x]))\n");
    let out = aqua(&["air", "fmt", file.to_str().unwrap_or_default()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("bad.air:3:"), "the error points at the line: {err}");
    assert!(!err.contains("error: error"), "{err}");
    let out = aqua(&["air", "fmt", "does/not/exist.air"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("cannot read does/not/exist.air"));
}

#[test]
fn trace_prints_particle_data_as_json() {
    let tmp = Scratch::new();
    let net = air_vm::local::LocalNetwork::new(&["init"]);
    let mut services = |_: &str, _: &air_vm::CallRequest| air_vm::CallResult::ok(serde_json::json!({"greeting": "hi"}));
    let run = net.run(r#"(call %init_peer_id% ("s" "greet") [] x)"#, "init", &mut services);
    let file = tmp.file("data.bin", &run.data["init"]);
    let out = aqua(&["air", "trace", file.to_str().unwrap_or_default()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(json["trace"][0]["states"][0]["call"]["result"], serde_json::json!({"greeting": "hi"}));
    assert_eq!(json["trace"][0]["states"][0]["call"]["tetraplet"]["service_id"], "s");
    let garbage = tmp.file("garbage.bin", b"definitely not data");
    let out = aqua(&["air", "trace", garbage.to_str().unwrap_or_default()]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("does not start with the data header"), "{}", text(&out.stderr));
}

#[test]
fn run_prints_the_result_of_the_shipped_example_on_the_default_network() {
    let out = aqua(&["run", "--air", "examples/hello.air"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON result");
    assert_eq!(result.as_array().map(Vec::len), Some(2), "{result}");
    assert!(result[0]["node_version"].as_str().unwrap_or_default().starts_with("aqua-network"));
}

#[test]
fn run_with_a_network_data_and_peer_references() {
    let out = greeting(&[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "\"hello from R1\"\n");
}

#[test]
fn run_reports_are_deterministic_and_name_every_peer() {
    let tmp = Scratch::new();
    let report = |name: &str| {
        let path = tmp.path().join(format!("{name}.json"));
        let p = path.to_str().unwrap_or_default().to_owned();
        let out = greeting(&["--report", &p]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        std::fs::read_to_string(&path).expect("report written")
    };
    let (a, b) = (report("a"), report("b"));
    assert_eq!(a, b);
    let json: serde_json::Value = serde_json::from_str(&a).expect("JSON report");
    assert_eq!(json["seed"], 7);
    assert!(json["peers"]["R1"].as_str().unwrap_or_default().starts_with("12D3KooW"));
    assert!(json["calls"].as_array().is_some_and(|c| c.iter().any(|c| c["function"] == "greet" && c["peer"] == "R1")));
}

#[test]
fn run_trace_prints_a_legend_and_one_line_per_event() {
    let out = greeting(&["--trace"]);
    assert!(out.status.success());
    let err = text(&out.stderr);
    assert!(err.starts_with("time(ms)  peer  event  detail"), "{err}");
    assert!(err.contains("R1  call  greeter.greet[\"world\"] -> \"hello from R1\""), "{err}");
}

#[test]
fn a_failing_run_prints_the_error_object_and_exits_1() {
    let tmp = Scratch::new();
    let air = std::fs::read_to_string(repo().join("examples/greeting.air")).unwrap_or_default().replace("\"greet\")", "\"fail\")");
    let file = tmp.file("fail.air", air.as_bytes());
    let out =
        aqua(&["run", "--air", file.to_str().unwrap_or_default(), "--network", "examples/greeting.toml", "--data", r#"{"target": "@R1"}"#]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("\"error_code\": 10000") && err.contains("the greeter is tired"), "{err}");
}

#[test]
fn a_bad_network_description_points_at_the_line() {
    let tmp = Scratch::new();
    let net = tmp.file("bad.toml", b"[[relay]]\nname = \"R0\"\n\n[[client]]\nname = \"me\"\nrelay = \"R01\"\n");
    let out = aqua(&["run", "--air", "examples/hello.air", "--network", net.to_str().unwrap_or_default()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("bad.toml: line 6, column 9: client `me` is attached to an unknown relay `R01`; did you mean `R0`?"), "{err}");
}

#[test]
fn a_particle_that_expires_is_reported_in_words() {
    let out = aqua(&["run", "--air", "examples/hello.air", "--ttl", "2"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("the particle expired before the client got a response"), "{}", text(&out.stderr));
}

#[test]
fn run_serves_a_host_native_python_service() {
    let out = aqua(&["run", "--air", "examples/calc/add.air", "--network", "examples/calc/network.toml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON result");
    assert_eq!(result, serde_json::json!([42, "R0"]));
}

#[test]
fn run_writes_a_picture_timings_and_the_script_it_sent() {
    let tmp = Scratch::new();
    let dir = tmp.path();
    let (svg, timings, air) = (dir.join("run.svg"), dir.join("t.json"), dir.join("sent.air"));
    let s = |p: &PathBuf| p.to_str().unwrap_or_default().to_owned();
    let out = greeting(&["--svg", &s(&svg), "--timings", &s(&timings), "--emit-air", &s(&air)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read_to_string(&svg).unwrap_or_default().contains(">greeter.greet</text>"));
    let t: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&timings).unwrap_or_default()).expect("timings JSON");
    assert!(t["vm_ns"].as_u64().is_some_and(|v| v > 0) && t["total_ns"].as_u64() >= t["vm_ns"].as_u64());
    assert_eq!(
        std::fs::read_to_string(&air).unwrap_or_default(),
        std::fs::read_to_string(repo().join("examples/greeting.air")).unwrap_or_default()
    );
    let data: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("sent.air.data.json")).unwrap_or_default()).expect("data JSON");
    assert!(data["target"].as_str().unwrap_or_default().starts_with("12D3KooW") && data["-relay-"].is_string());
}

#[test]
fn check_accepts_a_correct_program_with_imports() {
    let out = aqua(&["check", "compiler/tests/data/check/ok/30-use.aqua", "compiler/tests/data/check/ok/13-on.aqua"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "checked 2 file(s): no errors\n");
}

#[test]
fn check_takes_a_directory() {
    let out = aqua(&["check", "compiler/tests/data/check/ok"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).starts_with("checked 3"), "{}", text(&out.stdout));
    let out = aqua(&["check", "compiler/tests/data/check/err/lib"]);
    assert_eq!(out.status.code(), Some(1), "the import cycle is an error");
}

#[test]
fn check_reports_every_error_with_its_place_and_exits_1() {
    let tmp = Scratch::new();
    let source =
        b"aqua Broken\n\nservice Log(\"log\"):\n    log(msg: string)\n\nfunc f(count: u32):\n    Log.log(count)\n    Log.lgo(\"x\")\n";
    let path = tmp.file("broken.aqua", source);
    let out = aqua(&["check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("error[type-mismatch]: the argument `msg` of `Log.log` must be `string`, but this is `u32`"), "{stderr}");
    assert!(stderr.contains("broken.aqua:7:13"), "{stderr}");
    assert!(stderr.contains("error[unknown-function]: the service `Log` has no function `lgo`"), "{stderr}");
    assert!(stderr.contains("did you mean `log`?"), "{stderr}");
    assert!(stderr.ends_with("2 error(s), 0 warning(s)\n"), "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn check_prints_json_diagnostics_for_tools() {
    let tmp = Scratch::new();
    let path = tmp.file("typo.aqua", b"aqua Typo\n\nfunc f(name: string) -> string:\n    <- nmae\n");
    let out = aqua(&["check", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let d = &json[0];
    assert_eq!(d["severity"], "error");
    assert_eq!(d["code"], "unknown-name");
    assert_eq!(d["start"]["line"], 4);
    assert_eq!(d["start"]["col"], 8);
    assert_eq!(d["hint"], "did you mean `name`?");
}

#[test]
fn check_takes_constants_and_import_roots() {
    let tmp = Scratch::new();
    let dir = tmp.path().join("roots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("lib.aqua"), b"aqua Lib declares *\n\nconst GREETING ?= \"hi\"\n").unwrap();
    let main = tmp.file("uses-root.aqua", b"aqua Main\n\nimport \"lib.aqua\"\n\nfunc f() -> string:\n    <- GREETING\n");
    let out = aqua(&["check", main.to_str().unwrap(), "-I", dir.to_str().unwrap(), "--const", "GREETING=\"hello\""]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = aqua(&["check", main.to_str().unwrap(), "-I", dir.to_str().unwrap(), "--const", "GREETING=5"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("the value given for `GREETING` does not fit it"), "{}", text(&out.stderr));
    let out = aqua(&["check", main.to_str().unwrap()]);
    assert!(text(&out.stderr).contains("cannot find the imported file \"lib.aqua\""), "{}", text(&out.stderr));
    let out = aqua(&["check", main.to_str().unwrap(), "-I", "no/such/dir"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no/such/dir: no such directory (given with -I)"), "{}", text(&out.stderr));
}

#[test]
fn compile_writes_one_script_per_exported_function_and_the_signatures() {
    let tmp = Scratch::new();
    let source = b"aqua Hello\n\nexport hello, Greeting\n\nservice Greeting(\"greeting\"):\n    greet(name: string) -> string\n\nfunc hello(name: string) -> string:\n    res <- Greeting.greet(name)\n    <- res\n\nfunc hidden() -> string:\n    <- \"not exported\"\n";
    let path = tmp.file("hello.aqua", source);
    let out_dir = path.parent().unwrap().join("compiled");
    let out = aqua(&["compile", path.to_str().unwrap(), "-o", out_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("1 function(s) written"), "{}", text(&out.stdout));
    let air = std::fs::read_to_string(out_dir.join("hello.hello.air")).expect("the script");
    assert!(air.contains(r#"(call %init_peer_id% ("greeting" "greet") [-name-arg-] ret)"#), "{air}");
    assert!(!out_dir.join("hello.hidden.air").exists(), "only exported functions are compiled");
    let sigs: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(out_dir.join("hello.json")).unwrap()).unwrap();
    assert_eq!(sigs["functions"]["hello"]["arguments"][0], serde_json::json!({"name": "name", "type": "string"}));
    assert_eq!(sigs["services"]["Greeting"]["default_id"], "greeting");

    // The compiled script runs.
    let run = aqua(&["run", "--air", out_dir.join("hello.hello.air").to_str().unwrap(), "--data", r#"{"name": "world"}"#]);
    assert!(!run.status.success(), "no greeting service on the default network");
    assert!(text(&run.stderr).contains("Service with id 'greeting' not found"), "{}", text(&run.stderr));
}

#[test]
fn compile_refuses_errors_and_writes_nothing() {
    let tmp = Scratch::new();
    let path = tmp.file("broken-compile.aqua", b"aqua B\n\nexport f\n\nfunc f() -> u32:\n    <- \"x\"\n");
    let out_dir = path.parent().unwrap().join("compiled-broken");
    let out = aqua(&["compile", path.to_str().unwrap(), "-o", out_dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("error[return-mismatch]"), "{}", text(&out.stderr));
    assert!(!out_dir.exists());
}

#[test]
fn run_compiles_and_runs_an_aqua_function() {
    let tmp = Scratch::new();
    let source = b"aqua Calc\n\nimport \"@fluencelabs/aqua-lib/builtin.aqua\"\n\nfunc add(a: i64, b: i64) -> i64:\n    <- a + b\n\nfunc greet(name: string, log: string -> ()) -> string:\n    log(name)\n    r <- Op.concat_strings(\"hi, \", name)\n    <- r\n";
    let path = tmp.file("calc.aqua", source);
    let file = path.to_str().unwrap();
    let out = aqua(&["run", file, "-f", "add(2, x)", "--data", r#"{"x": 40}"#]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "42\n");
    // An arrow argument is served on the client and recorded in the report.
    let report = path.with_extension("report.json");
    let out = aqua(&["run", file, "-f", r#"greet("ann")"#, "--report", report.to_str().unwrap()]);
    assert_eq!(text(&out.stdout), "\"hi, ann\"\n", "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let calls = report["calls"].as_array().unwrap();
    assert!(
        calls.iter().any(|c| c["service"] == "callbackSrv" && c["function"] == "log" && c["args"] == serde_json::json!(["ann"])),
        "{calls:?}"
    );
    // Mistakes in -f are named.
    let out = aqua(&["run", file, "-f", "ad(1)"]);
    assert!(text(&out.stderr).contains("has no function `ad` (did you mean `add`?)"), "{}", text(&out.stderr));
    let out = aqua(&["run", file, "-f", "add(1)"]);
    assert!(text(&out.stderr).contains("`add` takes 2 argument(s) (a: i64, b: i64), 1 given"), "{}", text(&out.stderr));
    let out = aqua(&["run", file, "-f", "add(1, y)"]);
    assert!(text(&out.stderr).contains("`y` (the argument `b`) is not in --data"), "{}", text(&out.stderr));
}

#[test]
fn the_aqua_example_of_the_simulator_chapter_runs() {
    let out = aqua(&["run", "examples/hello.aqua", "-f", r#"hello(["ann", "bob"])"#]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let result: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(result, serde_json::json!(["Hello, ann", "Hello, bob"]));
}

#[test]
fn aqua_functions_move_between_peers_and_remote_errors_reach_the_catch() {
    let tmp = Scratch::new();
    let net = tmp.file(
        "topology.toml",
        b"[[relay]]\nname = \"R0\"\n\n[[relay]]\nname = \"R1\"\n\n[[relay]]\nname = \"R2\"\n\n[[client]]\nname = \"me\"\nrelay = \"R0\"\n\n[[service]]\nid = \"srv\"\npeers = [\"R2\"]\nfunctions.ok = { result = \"fine\" }\nfunctions.risky = { error = \"boom\" }\n",
    );
    let source = b"aqua Topology

import \"@fluencelabs/aqua-lib/builtin.aqua\"

service Srv(\"srv\"):
    ok() -> string
    risky() -> string

func remote(peer: string, relay: string) -> string:
    on peer via relay:
        x <- Srv.ok()
    <- x

func safe(peer: string) -> string:
    r: *string
    try:
        on peer:
            x <- Srv.risky()
            r <<- x
    catch e:
        r <<- e.message
    <- r!

func fan(peers: []string) -> []string:
    res: *string
    for p <- peers par:
        on p:
            res <- Op.concat_strings(\"at \", p)
    join res[2]
    <- res
";
    let file = tmp.file("topology.aqua", source);
    let (file, net) = (file.to_str().unwrap(), net.to_str().unwrap());
    let run = |call: &str| aqua(&["run", file, "-f", call, "--network", net]);
    let out = run(r#"remote("@R2", "@R1")"#);
    assert_eq!(text(&out.stdout), "\"fine\"\n", "{}", text(&out.stderr));
    let out = run(r#"safe("@R2")"#);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("boom"), "the remote error reached the catch: {}", text(&out.stdout));
    let out = run(r#"fan(["@R0", "@R1", "@R2"])"#);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let results: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.as_array().map(Vec::len), Some(3), "{results}");
}

#[test]
fn spells_alone_run_until_the_given_time_and_print_their_state() {
    let out = aqua(&["run", "--network", "examples/spells/network.toml", "--until", "2500"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let spells: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let runs: Vec<(&str, u64)> =
        spells.as_array().expect("a list").iter().map(|s| (s["alias"].as_str().unwrap_or(""), s["runs"].as_u64().unwrap_or(0))).collect();
    assert_eq!(runs, [("heartbeat", 3), ("broken", 2)]);
    // Without --until there is nothing to run.
    let out = aqua(&["run", "--network", "examples/spells/network.toml"]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("FILE.aqua"), "{}", text(&out.stderr));
}

#[test]
fn the_trace_labels_the_runs_of_spells() {
    let out = aqua(&["run", "examples/hello.aqua", "-f", r#"hello(["ann"])"#, "--network", "examples/spells/network.toml", "--trace"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let trace = text(&out.stderr);
    assert!(trace.contains("R0  spell  [heartbeat#1] spell heartbeat fires (timer)"), "{trace}");
    assert_eq!(text(&out.stdout), "[\n  \"Hello, ann\"\n]\n");
}

#[test]
fn a_spell_whose_script_is_missing_or_wrong_is_reported_where_it_is_declared() {
    let tmp = Scratch::new();
    let net = "[[relay]]\nname = \"R0\"\n\n[[spell]]\nname = \"tick\"\npeers = [\"R0\"]\naqua = \"tick.aqua\"\nfunction = \"tick\"\n";
    let path = tmp.file("spell-net.toml", net.as_bytes());
    let out = aqua(&["run", "--network", path.to_str().unwrap(), "--until", "10"]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("line 5, column 8: spell `tick`") && stderr.contains("tick.aqua"), "{stderr}");
    tmp.file("tick.aqua", b"aqua Tick\n\nfunc tock():\n    x = 1\n");
    let stderr = text(&aqua(&["run", "--network", path.to_str().unwrap(), "--until", "10"]).stderr);
    assert!(stderr.contains("has no function `tick`") && stderr.contains("did you mean `tock`"), "{stderr}");
}

#[test]
fn service_build_lists_components_and_interface_prints_their_aqua() {
    let out = aqua(&["service", "build", "examples/services"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    let greeting = listing.lines().find(|l| l.ends_with("/greeting.wasm")).expect("greeting was built").to_owned();
    assert!(listing.contains("module id "), "{listing}");
    let out = aqua(&["service", "interface", &greeting]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("service Greeting:\n    caller() -> Tuple1\n"), "{}", text(&out.stdout));
    let refused = greeting.replace("greeting.wasm", "refused.wasm");
    let out = aqua(&["service", "interface", &refused]);
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("`paint` uses a WIT enum in its result, which Aqua cannot express"), "{}", text(&out.stderr));
}

#[test]
fn a_new_service_crate_builds_as_it_is() {
    let tmp = Scratch::new();
    let dir = tmp.path().join("services");
    let out = aqua(&["service", "new", "hello-svc", "--dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = Command::new(env!("CARGO_BIN_EXE_aqua"))
        .args(["service", "build", "."])
        .current_dir(dir.join("hello-svc"))
        .env("CARGO_TARGET_DIR", repo().join("target/services"))
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let wasm = text(&out.stdout).lines().next().unwrap_or_default().to_owned();
    assert!(wasm.ends_with("hello_svc.wasm"), "{wasm}");
    let out = aqua(&["service", "interface", &wasm, "--name", "hello"]);
    assert_eq!(text(&out.stdout), "service Hello:\n    greet(name: string) -> string\n");
    let again = aqua(&["service", "new", "hello-svc", "--dir", dir.to_str().unwrap()]);
    assert!(text(&again.stderr).contains("already exists"));
    let bad = aqua(&["service", "new", "Bad_Name"]);
    assert!(text(&bad.stderr).contains("cannot name a service"));
}

/// Builds the example compute functions; gives the directory of the `.wasm` files.
fn services() -> PathBuf {
    let out = aqua(&["service", "build", "examples/services"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    repo().join("target/services/wasm32-wasip2/release")
}

#[test]
fn a_whitelisted_effector_fetches_from_a_local_server_and_others_are_refused() {
    let tmp = Scratch::new();
    services();
    let server = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}/data", server.local_addr().expect("an address"));
    let serving = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut conn, _) = server.accept().expect("a request");
        let mut request = [0u8; 1024];
        let _ = conn.read(&mut request).expect("read");
        conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nfetched").expect("written");
    });
    let call = format!(r#"fetch("@R3", "{url}")"#);
    let out = aqua(&["run", "examples/compute/main.aqua", "-f", &call, "--network", "examples/compute/network.toml"]);
    assert_eq!(text(&out.stdout), "\"fetched\"\n", "{}", text(&out.stderr));
    serving.join().expect("served");
    // Without the whitelist entry the service is not created, and says why.
    let source = std::fs::read_to_string(repo().join("examples/compute/network.toml")).expect("readable");
    let cut = source.split("[[effector]]").next().expect("a prefix").replace("../../target", repo().join("target").to_str().unwrap());
    let net = tmp.file("no-effectors.toml", cut.as_bytes());
    let out = aqua(&["run", "examples/compute/main.aqua", "-f", &call, "--network", net.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("service `fetch`") && stderr.contains("uses the effect `curl`, which this peer's whitelist does not allow"),
        "{stderr}"
    );
}

#[test]
fn services_are_created_at_run_time_from_added_modules() {
    let tmp = Scratch::new();
    let bytes = std::fs::read(services().join("greeting.wasm")).expect("built");
    let data = serde_json::json!({ "wasm": bytes });
    let data = tmp.file("greeting-bytes.json", data.to_string().as_bytes());
    let source = b"aqua Deploy

import \"@fluencelabs/aqua-lib/builtin.aqua\"

service Greeting:
    greet(name: string) -> string

func deploy(peer: PeerId, wasm: []u8) -> []string:
    out: *string
    on peer:
        config <- Dist.default_module_config(\"greeting\")
        module <- Dist.add_module(wasm, config)
        text <- Dist.make_blueprint(\"greeting\", [module])
        blueprint <- Dist.add_blueprint(text)
        id <- Srv.create(blueprint)
        Greeting id
        out <- Greeting.greet(\"dynamic\")
        interface <- Srv.get_interface(id)
        out <<- interface.function_signatures[3].name
        Srv.remove(id)
        listed <- Srv.list()
    out <- Op.concat_strings(\"services left: \", Debug.stringify(listed.length))
    <- out
";
    let file = tmp.file("deploy.aqua", source);
    let data_arg = format!("@{}", data.display());
    let net = tmp.file("two-clients.toml", b"[[relay]]\nname = \"R0\"\n\n[[relay]]\nname = \"R1\"\n\n[[client]]\nname = \"me\"\nrelay = \"R0\"\n\n[[client]]\nname = \"eve\"\nrelay = \"R0\"\n");
    let args = ["run", file.to_str().unwrap(), "-f", r#"deploy("@R1", wasm)"#, "--data", &data_arg, "--network", net.to_str().unwrap()];
    let out = aqua(&args);
    assert_eq!(text(&out.stdout), "[\n  \"Hi, dynamic!\",\n  \"greet\",\n  \"services left: 0\"\n]\n", "{}", text(&out.stderr));
    // Only the host or the management peer (the first client) may add modules.
    let mut as_eve = args.to_vec();
    as_eve.extend(["--on", "eve"]);
    let out = aqua(&as_eve);
    assert!(text(&out.stderr).contains("dist.add_module: only the host or the management peer may add modules"), "{}", text(&out.stderr));
}
