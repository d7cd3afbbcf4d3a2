//! Aqua functions compiled to AIR and run on the AIR VM (one peer, services stubbed):
//! the results each construct must give.

use std::cell::RefCell;

use air_vm::local::LocalNetwork;
use air_vm::{CallRequest, CallResult};
use aqua_compiler::check::{CheckOptions, Def};
use aqua_compiler::lower::{LowerOptions, lower_function};
use aqua_compiler::modules::MemoryLoader;
use serde_json::{Value as Json, json};

/// Compiles the exported function `name` of `source` to AIR.
fn compile(source: &str, name: &str) -> String {
    let mut loader = MemoryLoader::default();
    loader.files.insert("main.aqua".into(), source.into());
    let result = aqua_compiler::check_files(&["main.aqua".into()], &[], &mut loader, &CheckOptions::default());
    assert!(!result.diagnostics.has_errors(), "{:?}", result.diagnostics);
    let root = result.program.roots[0];
    let Some((_, Def::Func(f))) = result.program.modules[&root].exports.iter().find(|(n, _)| n == name) else {
        panic!("{name} is not exported")
    };
    let air = lower_function(f, LowerOptions::default()).unwrap_or_else(|d| panic!("{d:?}"));
    air_vm::syntax::parse(&air).unwrap_or_else(|e| panic!("the AIR does not parse: {e:?}\n{air}"));
    air
}

/// What a run gave the client.
#[derive(Debug, Default)]
struct Outcome {
    response: Option<Json>,
    error: Option<Json>,
    /// Service calls other than the calling convention: `service.function(args)`.
    calls: Vec<String>,
}

/// Runs the exported function `name` with `args` (by name); `service` answers every
/// other call, given `service.function` and the arguments.
/// A stub for every service: `service.function` and the arguments to a result or an error.
type Stub<'a> = &'a dyn Fn(&str, &[Json]) -> Result<Json, String>;

fn run(source: &str, name: &str, args: Json, service: Stub<'_>) -> Outcome {
    let air = compile(source, name);
    let net = LocalNetwork::new(&["client"]);
    let outcome = RefCell::new(Outcome::default());
    let mut services = |_peer: &str, r: &CallRequest| -> CallResult {
        let mut o = outcome.borrow_mut();
        match (r.service_id.as_str(), r.function_name.as_str()) {
            ("getDataSrv", "-relay-") => CallResult::ok(json!(net.id("client"))),
            ("getDataSrv", arg) => CallResult::ok(args.get(arg).cloned().unwrap_or(Json::Null)),
            ("callbackSrv", "response") => {
                o.response = Some(if r.arguments.len() == 1 { r.arguments[0].clone() } else { Json::Array(r.arguments.clone()) });
                CallResult::ok(Json::Null)
            }
            ("errorHandlingSrv", "error") => {
                o.error = Some(r.arguments[0].clone());
                CallResult::ok(Json::Null)
            }
            (s, f) => {
                let key = format!("{s}.{f}");
                o.calls.push(format!("{key}({})", r.arguments.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")));
                match service(&key, &r.arguments) {
                    Ok(v) => CallResult::ok(v),
                    Err(e) => CallResult::error(1, e),
                }
            }
        }
    };
    let run = net.run(&air, "client", &mut services);
    assert!(run.errors.is_empty() || outcome.borrow().error.is_some(), "{:?}\n{air}", run.errors);
    outcome.into_inner()
}

fn no_services(key: &str, _: &[Json]) -> Result<Json, String> {
    Err(format!("unexpected call {key}"))
}

#[test]
fn a_service_call_and_its_result() {
    let source = r#"aqua Hello

export hello

service Greeting("greeting"):
    greet(name: string) -> string

func hello(name: string) -> string:
    res <- Greeting.greet(name)
    <- res
"#;
    let o = run(source, "hello", json!({"name": "world"}), &|key, args| {
        assert_eq!(key, "greeting.greet");
        Ok(json!(format!("hello, {}", args[0].as_str().unwrap())))
    });
    assert_eq!(o.response, Some(json!("hello, world")));
    assert_eq!(o.calls, vec![r#"greeting.greet("world")"#]);
}

#[test]
fn arithmetic_folds_literals_and_calls_math_for_the_rest() {
    let source = r#"aqua Calc

export calc

func calc(a: i64, b: i64) -> i64, i64, bool, bool:
    x = (a + b) * 2 - a / b % 3 ** 2
    y = 2 + 3 * 4
    <- x, y, a > b, a == b || b == 0
"#;
    let air = compile(source, "calc");
    assert!(air.contains(r#"("math" "rem") [div 9]"#), "3 ** 2 is folded:\n{air}");
    assert!(air.contains("14"), "2 + 3 * 4 is folded:\n{air}");
    let o = run(source, "calc", json!({"a": 7, "b": 2}), &|key, args| {
        let (x, y) = (args[0].as_i64().unwrap(), args[1].as_i64().unwrap());
        Ok(match key {
            "math.add" => json!(x + y),
            "math.sub" => json!(x - y),
            "math.mul" => json!(x * y),
            "math.div" => json!(x / y),
            "math.rem" => json!(x % y),
            "cmp.gt" => json!(x > y),
            other => return Err(format!("unexpected {other}")),
        })
    });
    // (7 + 2) * 2 - 7 / 2 % 9 = 18 - 3 = 15
    assert_eq!(o.response, Some(json!([15, 14, true, false])));
}

#[test]
fn streams_loops_and_returned_streams() {
    let source = r#"aqua Loop

export collect

service Srv("srv"):
    get(x: string) -> string

func collect(xs: []string) -> []string, u32:
    out: *string
    for x <- xs:
        r <- Srv.get(x)
        out <<- r
    for y <- xs par:
        out <- Srv.get(y)
    join out[3]
    <- out, xs.length
"#;
    let o = run(source, "collect", json!({"xs": ["a", "b"]}), &|_, args| Ok(json!(format!("got {}", args[0].as_str().unwrap()))));
    assert_eq!(o.response, Some(json!([["got a", "got b", "got a", "got b"], 2])));
}

#[test]
fn if_else_and_comparisons() {
    let source = r#"aqua Branch

export pick

func pick(a: string, n: u32) -> []string:
    r: *string
    if a == "x":
        r <<- "is x"
    else:
        r <<- "not x"
    if a != "x" && n > 3:
        r <<- "big"
    <- r
"#;
    let cmp = |key: &str, args: &[Json]| match key {
        "cmp.gt" => Ok(json!(args[0].as_i64() > args[1].as_i64())),
        other => Err(format!("unexpected {other}")),
    };
    assert_eq!(run(source, "pick", json!({"a": "x", "n": 5}), &cmp).response, Some(json!(["is x"])));
    assert_eq!(run(source, "pick", json!({"a": "y", "n": 5}), &cmp).response, Some(json!(["not x", "big"])));
    assert_eq!(run(source, "pick", json!({"a": "y", "n": 1}), &cmp).response, Some(json!(["not x"])));
}

#[test]
fn errors_are_caught_or_reach_the_client() {
    let source = r#"aqua Errors

export safe, unsafe

service Srv("srv"):
    fail(x: string) -> string

func safe(x: string) -> string, string:
    r: *string
    try:
        v <- Srv.fail(x)
        r <<- v
    catch e:
        r <<- e.message
    <- r!, "after"

func unsafe(x: string) -> string:
    v <- Srv.fail(x)
    <- v
"#;
    let failing = |_: &str, _: &[Json]| Err("broken".to_string());
    let o = run(source, "safe", json!({"x": "a"}), &failing);
    let response = o.response.expect("a response");
    assert!(response[0].as_str().unwrap().contains("broken"), "{response}");
    assert_eq!(response[1], json!("after"));
    let o = run(source, "unsafe", json!({"x": "a"}), &failing);
    assert_eq!(o.response, None);
    assert_eq!(o.error.expect("the error reached errorHandlingSrv")["error_code"], json!(10000));
}

#[test]
fn functions_closures_and_abilities_are_inlined() {
    let source = r#"aqua Inline

export greetAll

service Echo("echo"):
    echo(s: string) -> string

ability Greeter:
    prefix: string
    greet(name: string) -> string

func greetOne{Greeter}(name: string) -> string:
    hello <- Greeter.greet(name)
    <- hello

func twice(s: string) -> string, string:
    a <- Echo.echo(s)
    b <- Echo.echo(a)
    <- a, b

func greetAll(names: []string) -> []string:
    out: *string
    shout = (name: string) -> string:
        loud <- Echo.echo(name)
        <- loud
    G = Greeter(prefix = "hi", greet = shout)
    for n <- names:
        g <- greetOne{G}(n)
        out <<- g
        x, y <- twice(n)
        out <<- y
    out <<- G.prefix
    <- out
"#;
    let o = run(source, "greetAll", json!({"names": ["ann"]}), &|_, args| Ok(json!(format!("{}!", args[0].as_str().unwrap()))));
    assert_eq!(o.response, Some(json!(["ann!", "ann!!", "hi"])));
}

#[test]
fn data_values_collections_and_options() {
    let source = r#"aqua Data

export make

data User:
    name: string
    age: u32

func make(name: string, maybe: ?string) -> User, User, []u32, ?string, u32:
    u = User(name = name, age = 3)
    older = u.copy(age = 4)
    xs = [1, 2, 3]
    first = ?[maybe!, "fallback"]
    <- u, older, xs, first, u.age
"#;
    let o = run(source, "make", json!({"name": "ann", "maybe": []}), &no_services);
    assert_eq!(o.response, Some(json!([{"age": 3, "name": "ann"}, {"age": 4, "name": "ann"}, [1, 2, 3], ["fallback"], 3])));
    let o = run(source, "make", json!({"name": "ann", "maybe": ["given"]}), &no_services);
    assert_eq!(o.response.unwrap()[3], json!(["given"]), "only the first element that works");
}

#[test]
fn par_and_co_run_branches_in_parallel() {
    let source = r#"aqua Par

export both

service Srv("srv"):
    get(x: string) -> string

func both() -> string, string:
    a <- Srv.get("a")
    par b <- Srv.get("b")
    co Srv.get("c")
    join a, b
    <- a, b
"#;
    let o = run(source, "both", json!({}), &|_, args| Ok(args[0].clone()));
    assert_eq!(o.response, Some(json!(["a", "b"])));
    assert!(o.calls.contains(&r#"srv.get("c")"#.to_string()), "{:?}", o.calls);
}

#[test]
fn arrow_arguments_are_called_back_on_the_client() {
    let source = r#"aqua Callback

export notify

func notify(log: string, u32 -> (), n: u32) -> u32:
    log("seen", n)
    <- n
"#;
    let o = run(source, "notify", json!({"n": 5}), &|key, _| {
        assert_eq!(key, "callbackSrv.log");
        Ok(Json::Null)
    });
    assert_eq!(o.response, Some(json!(5)));
    assert_eq!(o.calls, vec![r#"callbackSrv.log("seen", 5)"#]);
}

#[test]
fn stream_map_methods_read_a_snapshot() {
    let source = r#"aqua Methods

export read

func read() -> []string, []string, bool, bool, []string:
    m: %string
    m <<- "k", "v1"
    m <<- "other", "x"
    m <<- "k", "v2"
    got = m.get("k")
    none = m.get("missing")
    has = m.contains("k")
    hasNot = m.contains("missing")
    keys = m.keys()
    <- got, none, has, hasNot, keys
"#;
    let o = run(source, "read", json!({}), &no_services);
    assert_eq!(o.response, Some(json!([["v1", "v2"], [], true, false, ["other", "k"]])));
}
#[test]
fn stream_maps_take_pairs_and_give_each_key_once() {
    let source = r#"aqua Maps

export tally

func vote(voter: string) -> string, string:
    <- voter, "yes"

func tally(voters: []string) -> []string:
    byVoter: %string
    for v <- voters:
        byVoter <- vote(v)
    byVoter <<- "ann", "no"
    seen: *string
    for voter, choice <- byVoter:
        seen <<- voter
        seen <<- choice
    <- seen
"#;
    let o = run(source, "tally", json!({"voters": ["ann", "bob"]}), &no_services);
    // Each key once, with its last value, in the order of those last values.
    assert_eq!(o.response, Some(json!(["bob", "yes", "ann", "no"])));
}
