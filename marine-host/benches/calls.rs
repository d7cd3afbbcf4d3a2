//! Calls through the host against a direct typed call of the same component, service
//! creation from a cached blueprint, and a call crossing two linked modules. The
//! components are the example services (built for wasm32-wasip2 on first use).

use criterion::{Criterion, criterion_group, criterion_main};
use marine_host::{CallParameters, Host, ServiceConfig};
use serde_json::json;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

fn services() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let target = root.join("target/services");
    marine_host::build::build_components(&root.join("examples/services"), Some(&target)).unwrap_or_else(|e| panic!("{e}"));
    target.join("wasm32-wasip2/release")
}

struct Plain {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Plain {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

fn calls(c: &mut Criterion) {
    let dir = services();
    let greeting = std::fs::read(dir.join("greeting.wasm")).expect("built");
    let work = std::env::temp_dir().join(format!("marine-host-bench-{}", std::process::id()));
    let mut host = Host::new().expect("an engine");
    let id = host.add_module(&greeting).expect("a component");
    let blueprint = host.add_blueprint(std::slice::from_ref(&id)).expect("expressible");
    let mut service = host.create_service(&blueprint, ServiceConfig::new("greeting", work.join("greeting"))).expect("created");
    let args = [json!("hello, world")];
    c.bench_function("echo through the host (JSON in, JSON out)", |b| {
        b.iter(|| service.call("echo", black_box(&args), CallParameters::default()).expect("echoed"))
    });

    // The same function called directly, typed, on a plain wasmtime instance: with fuel
    // metered as the host does (the host's own overhead), and without (fuel's cost).
    for fuel in [true, false] {
        let mut config = Config::new();
        config.wasm_component_model(true).consume_fuel(fuel);
        let engine = Engine::new(&config).expect("an engine");
        let component = Component::new(&engine, &greeting).expect("a component");
        let mut linker: Linker<Plain> = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).expect("wasi");
        linker.instance("aqua:host/logging@0.1.0").expect("an instance").func_new("log", |_, _, _, _| Ok(())).expect("defined");
        linker.instance("aqua:host/call-parameters@0.1.0").expect("an instance").func_new("get", |_, _, _, _| Ok(())).expect("defined");
        let mut store = Store::new(&engine, Plain { wasi: WasiCtx::builder().build(), table: ResourceTable::new() });
        if fuel {
            store.set_fuel(u64::MAX).expect("fuel");
        }
        let instance = linker.instantiate(&mut store, &component).expect("instantiated");
        let echo = instance.get_typed_func::<(String,), (String,)>(&mut store, "echo").expect("typed");
        let name =
            if fuel { "echo called directly (typed wasmtime, fuel metered)" } else { "echo called directly (typed wasmtime, no fuel)" };
        c.bench_function(name, |b| {
            b.iter(|| {
                if fuel {
                    store.set_fuel(1_000_000_000).expect("fuel");
                }
                echo.call(&mut store, (black_box("hello, world".to_owned()),)).expect("echoed").0
            })
        });
    }

    c.bench_function("create a service from a cached blueprint", |b| {
        b.iter(|| host.create_service(&blueprint, ServiceConfig::new("greeting", work.join("created"))).expect("created"))
    });

    let storage = host.add_module(&std::fs::read(dir.join("storage.wasm")).expect("built")).expect("a component");
    let facade = host.add_module(&std::fs::read(dir.join("kv_facade.wasm")).expect("built")).expect("a component");
    let kv = host.add_blueprint(&[storage, facade]).expect("expressible");
    let mut kv = host.create_service(&kv, ServiceConfig::new("kv", work.join("kv"))).expect("created");
    kv.call("set", &[json!("k"), json!("v")], CallParameters::default()).expect("stored");
    let key = [json!("k")];
    c.bench_function("a call crossing two linked modules (kv get)", |b| {
        b.iter(|| kv.call("get", black_box(&key), CallParameters::default()).expect("read"))
    });
    let _ = std::fs::remove_dir_all(&work);
}

criterion_group!(benches, calls);
criterion_main!(benches);
