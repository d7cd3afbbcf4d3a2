//! Real components (built from `examples/services`, Rust compiled to wasm32-wasip2)
//! loaded, linked and called by the host: values, two linked modules, the sandbox,
//! the limits, the effect whitelist, and interfaces Aqua cannot call.

use marine_host::{CallError, CallParameters, CreateError, Host, Service, ServiceConfig, Tetraplet};
use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Builds the example services once per test run; gives the directory of the `.wasm` files.
fn services() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let target = root.join("target/services");
        marine_host::build::build_components(&root.join("examples/services"), Some(&target)).unwrap_or_else(|e| panic!("{e}"));
        target.join("wasm32-wasip2/release")
    })
}

fn wasm(name: &str) -> Vec<u8> {
    std::fs::read(services().join(format!("{name}.wasm"))).expect("built")
}

thread_local! {
    /// The working areas of the running test, removed when its thread ends.
    static WORKDIRS: std::cell::RefCell<Vec<tempfile::TempDir>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// A fresh working area for a service.
fn workdir(name: &str) -> PathBuf {
    let dir = tempfile::Builder::new().prefix(&format!("marine-host-test-{name}-")).tempdir().expect("a temp dir");
    let path = dir.path().to_owned();
    WORKDIRS.with(|dirs| dirs.borrow_mut().push(dir));
    path
}

fn blueprint(host: &mut Host, modules: &[&str]) -> Result<String, CreateError> {
    let ids: Vec<String> = modules.iter().map(|m| host.add_module(&wasm(m)).expect("a component")).collect();
    host.add_blueprint(&ids)
}

fn service(modules: &[&str], config: impl FnOnce(&mut ServiceConfig)) -> Result<Service, CreateError> {
    let mut host = Host::new().expect("an engine");
    let id = blueprint(&mut host, modules)?;
    let mut c = ServiceConfig::new(modules.last().expect("a facade"), workdir(modules.last().expect("a facade")));
    config(&mut c);
    host.create_service(&id, c)
}

fn call(s: &mut Service, function: &str, args: Json) -> Result<Json, CallError> {
    let Json::Array(args) = args else { panic!("arguments are an array") };
    s.call(function, &args, CallParameters::default())
}

#[test]
fn a_facade_is_called_with_json_values() {
    let mut s = service(&["greeting"], |_| {}).expect("created");
    assert_eq!(call(&mut s, "greet", json!(["ann"])), Ok(json!("Hi, ann!")));
    assert_eq!(s.take_logs().iter().map(|l| (l.level.as_str(), l.message.as_str())).collect::<Vec<_>>(), [("info", "greeting ann")]);
    assert_eq!(call(&mut s, "older", json!([{"name": "bob", "age": 40}, 2])), Ok(json!({"name": "bob", "age": 42})));
    assert_eq!(call(&mut s, "first", json!([["x", "y"]])), Ok(json!(["x"])), "options are [] or [x]");
    assert_eq!(call(&mut s, "first", json!([[]])), Ok(json!([])));
}

#[test]
fn the_call_parameters_reach_the_component() {
    let mut s = service(&["greeting"], |_| {}).expect("created");
    let params = CallParameters {
        particle_id: "p1".into(),
        init_peer_id: "12D3KooWinit".into(),
        timestamp: 5,
        ttl: 1000,
        host_peer_id: "12D3KooWhost".into(),
        tetraplets: vec![vec![Tetraplet { peer_pk: "a".into(), service_id: "b".into(), function_name: "c".into(), lens: "".into() }]],
    };
    assert_eq!(s.call("caller", &[], params), Ok(json!({"_0": "12D3KooWinit", "_1": "12D3KooWhost"})), "a tuple is a record of _0, _1");
}

#[test]
fn bad_calls_say_what_is_wrong() {
    let mut s = service(&["greeting"], |_| {}).expect("created");
    let e = call(&mut s, "greeet", json!([])).unwrap_err().to_string();
    assert_eq!(e, "the service has no function `greeet` (it has: caller, echo, first, greet, older)");
    assert_eq!(call(&mut s, "greet", json!([])).unwrap_err().to_string(), "`greet` takes 1 argument(s), 0 given");
    // A function of strings is called typed; anything else gets the same checks.
    assert_eq!(call(&mut s, "greet", json!([5])).unwrap_err().to_string(), "`greet`: argument 1 (`name`) must be a string, not 5");
    let e = call(&mut s, "older", json!([{"name": "bob"}, 2])).unwrap_err().to_string();
    assert_eq!(e, "`older`: argument 1 (`who`) has no field `age`");
    let e = call(&mut s, "older", json!([{"name": "bob", "age": -1}, 2])).unwrap_err().to_string();
    assert_eq!(e, "`older`: argument 1 (`who`).age is -1, out of range for its type (0 to 4294967295)");
    assert_eq!(call(&mut s, "greet", json!(["still works"])), Ok(json!("Hi, still works!")));
}

#[test]
fn the_aqua_interface_of_a_facade() {
    let text = marine_host::interface::aqua_service("greeting", &wasm("greeting")).expect("expressible");
    let expected = "data Tuple1:\n    _0: string\n    _1: string\n\ndata Person:\n    name: string\n    age: u32\n\nservice Greeting:\n    caller() -> Tuple1\n    echo(text: string) -> string\n    first(names: []string) -> ?string\n    greet(name: string) -> string\n    older(who: Person, years: u32) -> Person\n";
    assert_eq!(text, expected);
    let text = marine_host::interface::aqua_service("kv", &wasm("kv_facade")).expect("expressible");
    assert_eq!(text, "service Kv:\n    get(key: string) -> ?string\n    set(key: string, value: string) -> string\n", "result<T, E> is T");
    let e = marine_host::interface::aqua_service("refused", &wasm("refused")).unwrap_err();
    assert_eq!(e, "`paint` uses a WIT enum in its result, which Aqua cannot express");
}

#[test]
fn two_modules_link_through_the_host_and_storage_persists() {
    let dir = workdir("kv");
    let config = |c: &mut ServiceConfig| {
        c.storage_dir = dir.join("storage");
        c.tmp_dir = dir.join("tmp");
    };
    let mut s = service(&["storage", "kv_facade"], config).expect("created");
    assert_eq!(call(&mut s, "get", json!(["k"])), Ok(json!([])));
    assert_eq!(call(&mut s, "set", json!(["k", "v1"])), Ok(json!("k")));
    assert_eq!(call(&mut s, "get", json!(["k"])), Ok(json!(["v1"])));
    // Only the facade's functions are callable.
    assert!(matches!(call(&mut s, "put", json!(["k", "v"])), Err(CallError::NoSuchFunction { .. })));
    drop(s);
    let mut again = service(&["storage", "kv_facade"], config).expect("created");
    assert_eq!(call(&mut again, "get", json!(["k"])), Ok(json!(["v1"])), "/storage outlives the service");
}

#[test]
fn an_import_no_earlier_module_exports_is_refused() {
    let e = service(&["kv_facade"], |_| {}).unwrap_err().to_string();
    assert!(e.contains("imports `example:storage/kv@0.1.0`, which no earlier module of the blueprint exports"), "{e}");
}

#[test]
fn running_out_of_fuel_fails_one_call_and_the_service_goes_on() {
    let mut s = service(&["faulty"], |c| c.fuel_per_call = 50_000_000).expect("created");
    assert_eq!(call(&mut s, "count", json!([])), Ok(json!(1)));
    assert_eq!(call(&mut s, "count", json!([])), Ok(json!(2)));
    let e = call(&mut s, "spin", json!([1_000_000_000u64])).unwrap_err();
    assert_eq!(e, CallError::OutOfFuel { function: "spin".into(), limit: 50_000_000 });
    // Started afresh: its memory is new.
    assert_eq!(call(&mut s, "count", json!([])), Ok(json!(1)));
    assert!(call(&mut s, "spin", json!([1000])).is_ok());
}

#[test]
fn memory_traps_and_results_have_limits() {
    let mut s = service(&["faulty"], |c| {
        c.memory_bytes = 16 << 20;
        c.max_result_bytes = 1000;
    })
    .expect("created");
    assert_eq!(call(&mut s, "grab", json!([64])), Err(CallError::OutOfMemory { function: "grab".into(), limit: 16 << 20 }));
    assert_eq!(call(&mut s, "grab", json!([1])), Ok(json!(1)));
    let e = call(&mut s, "crash", json!([])).unwrap_err();
    assert!(matches!(&e, CallError::Trap { function, .. } if function == "crash"), "{e}");
    assert_eq!(call(&mut s, "big", json!([2000])), Err(CallError::ResultTooBig { function: "big".into(), size: 2002, limit: 1000 }));
    assert_eq!(call(&mut s, "big", json!([10])), Ok(json!("xxxxxxxxxx")));
}

#[test]
fn the_sandbox_has_tmp_storage_mapped_dirs_and_envs_only() {
    let dir = workdir("sandbox");
    let shared = dir.join("shared");
    std::fs::create_dir_all(&shared).expect("a dir");
    std::fs::write(shared.join("note.txt"), "from the host").expect("written");
    let mut s = service(&["faulty"], |c| {
        c.mapped_dirs.push(("/data".into(), shared.clone()));
        c.envs.push(("MODE".into(), "test".into()));
    })
    .expect("created");
    assert_eq!(call(&mut s, "write_file", json!(["/tmp/a", "1"])), Ok(json!("/tmp/a")));
    assert_eq!(call(&mut s, "read_file", json!(["/tmp/a"])), Ok(json!("1")));
    assert_eq!(call(&mut s, "read_file", json!(["/data/note.txt"])), Ok(json!("from the host")));
    assert_eq!(call(&mut s, "get_env", json!(["MODE"])), Ok(json!(["test"])));
    assert_eq!(call(&mut s, "get_env", json!(["service_id"])), Ok(json!(["faulty"])));
    assert_eq!(call(&mut s, "get_env", json!(["HOME"])), Ok(json!([])), "the host's environment stays outside");
    let e = call(&mut s, "read_file", json!(["/etc/hostname"])).unwrap_err();
    assert!(matches!(&e, CallError::Failed { message, .. } if message.starts_with("/etc/hostname:")), "{e}");
    let e = call(&mut s, "read_file", json!(["/tmp/../../etc/hostname"])).unwrap_err();
    assert!(matches!(e, CallError::Failed { .. }), "no way out of /tmp");
    // No network, even to a server listening on the loopback address.
    let server = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let address = server.local_addr().expect("an address").to_string();
    let e = call(&mut s, "connect", json!([address])).unwrap_err();
    assert!(matches!(&e, CallError::Failed { message, .. } if message.starts_with(&address)), "{e}");
}

#[test]
fn an_effector_runs_only_when_whitelisted() {
    let mut host = Host::new().expect("an engine");
    let id = host.add_module(&wasm("curl_fetch")).expect("a component");
    let bp = host.add_blueprint(std::slice::from_ref(&id)).expect("expressible");
    let e = host.create_service(&bp, ServiceConfig::new("fetch", workdir("fetch"))).unwrap_err().to_string();
    assert_eq!(e, format!("module {id} uses the effect `curl`, which this peer's whitelist does not allow for that module"));
    let mut config = ServiceConfig::new("fetch", workdir("fetch"));
    config.effectors.insert("curl".into(), [id].into());
    let mut s = host.create_service(&bp, config).expect("whitelisted");
    let server = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("http://{}/hello", server.local_addr().expect("an address"));
    let serving = std::thread::spawn(move || {
        use std::io::{Read, Write};
        let (mut conn, _) = server.accept().expect("a request");
        let mut request = [0u8; 1024];
        let n = conn.read(&mut request).expect("read");
        let path = String::from_utf8_lossy(&request[..n]).lines().next().unwrap_or_default().to_owned();
        conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\nhello, effect").expect("written");
        path
    });
    assert_eq!(call(&mut s, "fetch", json!([url])), Ok(json!("hello, effect")));
    assert_eq!(serving.join().expect("served"), "GET /hello HTTP/1.1");
    let e = call(&mut s, "fetch", json!(["file:///etc/passwd"])).unwrap_err();
    assert!(matches!(&e, CallError::Failed { message, .. } if message.contains("only http and https")), "{e}");
}

#[test]
fn facades_aqua_cannot_call_and_non_components_are_refused() {
    let mut host = Host::new().expect("an engine");
    let e = blueprint(&mut host, &["refused"]).unwrap_err().to_string();
    assert_eq!(e, "the facade's function `paint` uses a WIT enum in its result, which Aqua cannot express");
    let e = host.add_module(b"\0asm\x01\0\0\0").unwrap_err().to_string();
    assert!(e.contains("not a WebAssembly component"), "{e}");
    let e = host.add_module(b"garbage").unwrap_err().to_string();
    assert!(e.contains("not a WebAssembly component"), "{e}");
    assert!(matches!(host.add_blueprint(&[]), Err(CreateError::EmptyBlueprint)));
    assert!(matches!(host.add_blueprint(&["nope".into()]), Err(CreateError::UnknownModule(_))));
}
