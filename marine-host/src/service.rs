//! The host (compiled components, blueprints) and services (instances and calls).

use crate::values::{self, Unsupported};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use wasmtime::component::types::ComponentItem;
use wasmtime::component::{Component, Func, Linker, ResourceTable, Type, TypedFunc, Val};
use wasmtime::{Config, Engine, ResourceLimiter, Store};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

/// Interfaces the host itself offers, by import name.
const CALL_PARAMETERS: &str = "aqua:host/call-parameters@0.1.0";
const LOGGING: &str = "aqua:host/logging@0.1.0";
/// Effects: interfaces a component may import only if the peer's whitelist allows it.
pub const EFFECTS: &[(&str, &str)] = &[("curl", "aqua:host/curl@0.1.0")];

/// How one service runs.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub service_id: String,
    /// Memory of all the service's components together.
    pub memory_bytes: usize,
    /// Fuel for one call (and for instantiating): about one unit per instruction.
    pub fuel_per_call: u64,
    /// Largest result, as JSON text.
    pub max_result_bytes: usize,
    /// The service's `/tmp`: emptied when the service is created.
    pub tmp_dir: PathBuf,
    /// The service's `/storage`: kept across calls and restarts.
    pub storage_dir: PathBuf,
    /// More directories: guest path, host path.
    pub mapped_dirs: Vec<(String, PathBuf)>,
    pub envs: Vec<(String, String)>,
    /// Per effect (`curl`), the module ids allowed to use it.
    pub effectors: BTreeMap<String, BTreeSet<String>>,
    /// The binary the `curl` effect runs.
    pub curl_binary: PathBuf,
}

impl ServiceConfig {
    /// Defaults for a service whose working area is `dir` (`dir/tmp`, `dir/storage`).
    pub fn new(service_id: &str, dir: PathBuf) -> ServiceConfig {
        ServiceConfig {
            service_id: service_id.to_owned(),
            memory_bytes: 64 << 20,
            fuel_per_call: 10_000_000_000,
            max_result_bytes: 1 << 20,
            tmp_dir: dir.join("tmp"),
            storage_dir: dir.join("storage"),
            mapped_dirs: Vec::new(),
            envs: Vec::new(),
            effectors: BTreeMap::new(),
            curl_binary: PathBuf::from("curl"),
        }
    }
}

/// Where an argument came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tetraplet {
    pub peer_pk: String,
    pub service_id: String,
    pub function_name: String,
    pub lens: String,
}

/// What a service may know about the call it serves (`aqua:host/call-parameters`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallParameters {
    pub particle_id: String,
    pub init_peer_id: String,
    pub timestamp: u64,
    pub ttl: u32,
    pub host_peer_id: String,
    pub tetraplets: Vec<Vec<Tetraplet>>,
}

/// A line a component logged (`aqua:host/logging`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub level: String,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("module {id}: not a WebAssembly component: {reason}")]
    NotAComponent { id: String, reason: String },
    #[error("no module with id {0} was added")]
    UnknownModule(String),
    #[error("no blueprint with id {0} was added")]
    UnknownBlueprint(String),
    #[error("a blueprint needs at least one module (the facade, last)")]
    EmptyBlueprint,
    #[error("the facade's function `{function}` uses a WIT {kind} in {place}, which Aqua cannot express")]
    Unsupported { function: String, kind: String, place: String },
    #[error("module {module} imports `{import}`, which no earlier module of the blueprint exports and the host does not offer")]
    Unresolved { module: String, import: String },
    #[error("module {module} uses the effect `{effect}`, which this peer's whitelist does not allow for that module")]
    EffectNotAllowed { module: String, effect: String },
    #[error("module {module} cannot be instantiated: {reason}")]
    Instantiate { module: String, reason: String },
    #[error("cannot prepare the service's directory {path}: {reason}")]
    Io { path: String, reason: String },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CallError {
    #[error("the service has no function `{function}` (it has: {known})")]
    NoSuchFunction { function: String, known: String },
    #[error("`{function}` takes {expected} argument(s), {given} given")]
    Arity { function: String, expected: usize, given: usize },
    #[error("`{function}`: {message}")]
    BadArgument { function: String, message: String },
    #[error("`{function}` ran out of fuel (the limit is {limit} per call)")]
    OutOfFuel { function: String, limit: u64 },
    #[error("`{function}` went over the service's memory limit ({limit} bytes)")]
    OutOfMemory { function: String, limit: usize },
    #[error("`{function}` trapped: {message}")]
    Trap { function: String, message: String },
    #[error("`{function}` returned {size} bytes, more than the limit of {limit}")]
    ResultTooBig { function: String, size: usize, limit: usize },
    #[error("`{function}` returned a value Aqua cannot read: {message}")]
    BadResult { function: String, message: String },
    #[error("`{function}` failed: {message}")]
    Failed { function: String, message: String },
    #[error("the service could not be started again after a failed call: {0}")]
    Restart(String),
}

/// The engine and the compiled components, by module id.
pub struct Host {
    engine: Engine,
    modules: BTreeMap<String, Component>,
    blueprints: BTreeMap<String, Vec<String>>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Host").field("modules", &self.modules.keys()).field("blueprints", &self.blueprints).finish_non_exhaustive()
    }
}

impl Host {
    pub fn new() -> Result<Host, String> {
        let mut config = Config::new();
        config.wasm_component_model(true).consume_fuel(true);
        let engine = Engine::new(&config).map_err(|e| format!("cannot start the WebAssembly engine: {e}"))?;
        Ok(Host { engine, modules: BTreeMap::new(), blueprints: BTreeMap::new() })
    }

    /// Compiles a component (once per content) and gives its module id.
    pub fn add_module(&mut self, bytes: &[u8]) -> Result<String, CreateError> {
        let id = crate::module_id(bytes);
        if !self.modules.contains_key(&id) {
            let component =
                Component::new(&self.engine, bytes).map_err(|e| CreateError::NotAComponent { id: id.clone(), reason: e.to_string() })?;
            self.modules.insert(id.clone(), component);
        }
        Ok(id)
    }

    /// Registers a blueprint (modules in order, facade last) and gives its id. The
    /// facade's functions must be expressible in Aqua.
    pub fn add_blueprint(&mut self, modules: &[String]) -> Result<String, CreateError> {
        let facade = modules.last().ok_or(CreateError::EmptyBlueprint)?;
        for m in modules {
            if !self.modules.contains_key(m) {
                return Err(CreateError::UnknownModule(m.clone()));
            }
        }
        self.facade_functions(facade)?;
        let id = crate::blueprint_id(modules);
        self.blueprints.insert(id.clone(), modules.to_vec());
        Ok(id)
    }

    pub fn blueprint(&self, id: &str) -> Option<&[String]> {
        self.blueprints.get(id).map(Vec::as_slice)
    }

    /// The exported functions of a module, with their parameter and result types;
    /// refused if one uses a type Aqua cannot express.
    pub fn facade_functions(&self, module: &str) -> Result<Vec<FunctionType>, CreateError> {
        let component = self.modules.get(module).ok_or_else(|| CreateError::UnknownModule(module.to_owned()))?;
        facade_functions(&self.engine, component)
    }

    /// The engine the components are compiled for.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Creates a service from a blueprint: checks the effects against the whitelist,
    /// prepares its directories, links and instantiates its components.
    pub fn create_service(&self, blueprint: &str, config: ServiceConfig) -> Result<Service, CreateError> {
        let modules = self.blueprints.get(blueprint).ok_or_else(|| CreateError::UnknownBlueprint(blueprint.to_owned()))?;
        let components: Vec<(String, Component)> = modules.iter().map(|m| (m.clone(), self.modules[m].clone())).collect();
        for (id, component) in &components {
            for (import, _) in component.component_type().imports(&self.engine) {
                if let Some((effect, _)) = EFFECTS.iter().find(|(_, name)| *name == import)
                    && !config.effectors.get(*effect).is_some_and(|allowed| allowed.contains(id))
                {
                    return Err(CreateError::EffectNotAllowed { module: id.clone(), effect: (*effect).to_owned() });
                }
            }
        }
        let _ = std::fs::remove_dir_all(&config.tmp_dir);
        for dir in [&config.tmp_dir, &config.storage_dir] {
            std::fs::create_dir_all(dir).map_err(|e| CreateError::Io { path: dir.display().to_string(), reason: e.to_string() })?;
        }
        let functions = facade_functions(&self.engine, &components.last().expect("a blueprint has a facade").1)?;
        let mut service = Service { engine: self.engine.clone(), components, config, functions, live: None, logs: Vec::new() };
        service.live = Some(service.instantiate()?);
        Ok(service)
    }
}

/// A function of a facade: its name, parameters and result.
#[derive(Debug, Clone)]
pub struct FunctionType {
    /// The WIT name (kebab-case).
    pub name: String,
    /// The name Aqua calls it by (snake_case).
    pub aqua_name: String,
    pub params: Vec<(String, Type)>,
    /// The result Aqua sees.
    pub result: Option<Type>,
    /// The function returns `result<T, E>`: Aqua sees `T`, and an `E` fails the call
    /// with `E` as its message.
    pub fallible: bool,
}

fn facade_functions(engine: &Engine, component: &Component) -> Result<Vec<FunctionType>, CreateError> {
    let mut out = Vec::new();
    for (name, export) in component.component_type().exports(engine) {
        let ComponentItem::ComponentFunc(f) = export.ty else { continue };
        let params: Vec<(String, Type)> = f.params().map(|(n, t)| (n.to_owned(), t)).collect();
        let (result, fallible) = match f.results().next() {
            Some(Type::Result(r)) => (r.ok(), true),
            other => (other, false),
        };
        for (param, ty) in &params {
            values::check_aqua(ty).map_err(|Unsupported(kind)| CreateError::Unsupported {
                function: name.to_owned(),
                kind,
                place: format!("its argument `{param}`"),
            })?;
        }
        if let Some(ty) = &result {
            values::check_aqua(ty).map_err(|Unsupported(kind)| CreateError::Unsupported {
                function: name.to_owned(),
                kind,
                place: "its result".into(),
            })?;
        }
        out.push(FunctionType { name: name.to_owned(), aqua_name: values::field_name(name), params, result, fallible });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// What a service's store holds.
struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimit,
    call: CallParameters,
    service_id: String,
    logs: Vec<LogLine>,
    curl_binary: PathBuf,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

/// The service-wide memory limit, over all its components' memories; remembers that
/// it refused, to say so.
struct MemoryLimit {
    limit: usize,
    total: usize,
    refused: bool,
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(&mut self, current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        // `total` includes `current`: every memory was announced here when created (from 0).
        let total = self.total - current.min(self.total) + desired;
        if total > self.limit {
            self.refused = true;
            return Err(wasmtime::Error::msg(format!("the memory limit of {} bytes is reached", self.limit)));
        }
        self.total = total;
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// A service: its components, instantiated in one store.
pub struct Service {
    engine: Engine,
    components: Vec<(String, Component)>,
    config: ServiceConfig,
    functions: Vec<FunctionType>,
    /// `None` after a failed call: the next call instantiates afresh.
    live: Option<Live>,
    logs: Vec<LogLine>,
}

struct Live {
    store: Store<State>,
    /// The facade's functions, in the order of `Service::functions`.
    funcs: Vec<Func>,
    /// For each, a typed call when it takes strings and gives a string.
    typed: Vec<Option<StringsToString>>,
}

/// A typed call for the most common shape of service function, strings in and a
/// string out: it skips converting to dynamic values and checking them on each call.
#[derive(Clone, Copy)]
enum StringsToString {
    Zero(TypedFunc<(), (String,)>),
    One(TypedFunc<(String,), (String,)>),
    Two(TypedFunc<(String, String), (String,)>),
    Three(TypedFunc<(String, String, String), (String,)>),
}

impl StringsToString {
    /// The typed form of `func`, if its type is strings to a string.
    fn of(func: Func, ty: &FunctionType, store: &Store<State>) -> Option<StringsToString> {
        let strings = ty.params.iter().all(|(_, t)| matches!(t, Type::String));
        if ty.fallible || !matches!(ty.result, Some(Type::String)) || !strings {
            return None;
        }
        Some(match ty.params.len() {
            0 => StringsToString::Zero(func.typed(store).ok()?),
            1 => StringsToString::One(func.typed(store).ok()?),
            2 => StringsToString::Two(func.typed(store).ok()?),
            3 => StringsToString::Three(func.typed(store).ok()?),
            _ => return None,
        })
    }

    /// Calls with `args`, which are JSON strings.
    fn call(self, store: &mut Store<State>, args: &[Json]) -> wasmtime::Result<String> {
        let arg = |i: usize| args.get(i).and_then(Json::as_str).unwrap_or_default().to_owned();
        Ok(match self {
            StringsToString::Zero(f) => f.call(store, ())?.0,
            StringsToString::One(f) => f.call(store, (arg(0),))?.0,
            StringsToString::Two(f) => f.call(store, (arg(0), arg(1)))?.0,
            StringsToString::Three(f) => f.call(store, (arg(0), arg(1), arg(2)))?.0,
        })
    }
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let modules: Vec<&String> = self.components.iter().map(|(id, _)| id).collect();
        f.debug_struct("Service").field("id", &self.config.service_id).field("modules", &modules).finish_non_exhaustive()
    }
}

impl Service {
    /// The facade's functions.
    pub fn functions(&self) -> &[FunctionType] {
        &self.functions
    }

    /// The module ids of the blueprint, facade last.
    pub fn modules(&self) -> Vec<String> {
        self.components.iter().map(|(id, _)| id.clone()).collect()
    }

    /// Lines logged so far (taken).
    pub fn take_logs(&mut self) -> Vec<LogLine> {
        std::mem::take(&mut self.logs)
    }

    fn instantiate(&self) -> Result<Live, CreateError> {
        let c = &self.config;
        let io = |path: &PathBuf, e: wasmtime::Error| CreateError::Io { path: path.display().to_string(), reason: e.to_string() };
        let mut wasi = WasiCtxBuilder::new();
        wasi.preopened_dir(&c.tmp_dir, "/tmp", FsPerms::ReadWrite).map_err(|e| io(&c.tmp_dir, e))?;
        wasi.preopened_dir(&c.storage_dir, "/storage", FsPerms::ReadWrite).map_err(|e| io(&c.storage_dir, e))?;
        for (guest, host) in &c.mapped_dirs {
            wasi.preopened_dir(host, guest, FsPerms::ReadWrite).map_err(|e| io(host, e))?;
        }
        wasi.env("service_id", &c.service_id);
        for (k, v) in &c.envs {
            wasi.env(k, v);
        }
        let state = State {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: MemoryLimit { limit: c.memory_bytes, total: 0, refused: false },
            call: CallParameters::default(),
            service_id: c.service_id.clone(),
            logs: Vec::new(),
            curl_binary: c.curl_binary.clone(),
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        let mut linker: Linker<State> = Linker::new(&self.engine);
        linker.allow_shadowing(true);
        let setup = |e: wasmtime::Error| CreateError::Instantiate { module: "host".into(), reason: e.to_string() };
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(setup)?;
        add_host_interfaces(&mut linker).map_err(setup)?;
        let mut exported: BTreeSet<String> = BTreeSet::new();
        let mut facade = None;
        for (i, (id, component)) in self.components.iter().enumerate() {
            for (import, _) in component.component_type().imports(&self.engine) {
                let offered = import.starts_with("wasi:") || import.starts_with("aqua:host/") || exported.contains(import);
                if !offered {
                    return Err(CreateError::Unresolved { module: id.clone(), import: import.to_owned() });
                }
            }
            store.set_fuel(c.fuel_per_call).map_err(setup)?;
            let instance = linker
                .instantiate(&mut store, component)
                .map_err(|e| CreateError::Instantiate { module: id.clone(), reason: format!("{e:#}") })?;
            if i + 1 == self.components.len() {
                facade = Some(instance);
                break;
            }
            // The instance's exported interfaces become imports for the modules after it.
            for (name, export) in component.component_type().exports(&self.engine) {
                let ComponentItem::ComponentInstance(interface) = export.ty else { continue };
                let Some(index) = instance.get_export_index(&mut store, None, name) else { continue };
                let mut root = linker.instance(name).map_err(setup)?;
                for (function, item) in interface.exports(&self.engine) {
                    if !matches!(item.ty, ComponentItem::ComponentFunc(_)) {
                        continue;
                    }
                    let func = instance
                        .get_export_index(&mut store, Some(&index), function)
                        .and_then(|f| instance.get_func(&mut store, f))
                        .ok_or_else(|| CreateError::Instantiate { module: id.clone(), reason: format!("no function {name}#{function}") })?;
                    root.func_new(function, move |mut store, _ty, params, results| func.call(&mut store, params, results))
                        .map_err(setup)?;
                }
                exported.insert(name.to_owned());
            }
        }
        let facade = facade.ok_or(CreateError::EmptyBlueprint)?;
        let mut funcs = Vec::new();
        for f in &self.functions {
            let func = facade.get_func(&mut store, f.name.as_str()).ok_or_else(|| CreateError::Instantiate {
                module: self.components.last().map(|(id, _)| id.clone()).unwrap_or_default(),
                reason: format!("the facade does not export `{}`", f.name),
            })?;
            funcs.push(func);
        }
        let typed = funcs.iter().zip(&self.functions).map(|(func, ty)| StringsToString::of(*func, ty, &store)).collect();
        Ok(Live { store, funcs, typed })
    }

    /// Calls a facade function with JSON arguments (positional).
    pub fn call(&mut self, function: &str, args: &[Json], params: CallParameters) -> Result<Json, CallError> {
        // Aqua names functions in snake_case; WIT in kebab-case.
        let Some(index) = self.functions.iter().position(|f| f.aqua_name == function) else {
            let known: Vec<&str> = self.functions.iter().map(|f| f.aqua_name.as_str()).collect();
            return Err(CallError::NoSuchFunction { function: function.to_owned(), known: known.join(", ") });
        };
        let ty = &self.functions[index];
        if ty.params.len() != args.len() {
            return Err(CallError::Arity { function: function.to_owned(), expected: ty.params.len(), given: args.len() });
        }
        if self.live.is_none() {
            self.live = Some(self.instantiate().map_err(|e| CallError::Restart(e.to_string()))?);
        }
        let live = self.live.as_mut().expect("instantiated above");
        // Strings in, a string out: the typed call; otherwise dynamic values.
        let typed = live.typed[index].filter(|_| args.iter().all(Json::is_string));
        let vals = match typed {
            Some(_) => Vec::new(),
            None => ty
                .params
                .iter()
                .zip(args)
                .enumerate()
                .map(|(i, ((name, t), a))| values::from_json(a, t, &values::At::Argument(i + 1, name)))
                .collect::<Result<Vec<Val>, String>>()
                .map_err(|message| CallError::BadArgument { function: function.to_owned(), message })?,
        };
        let func = live.funcs[index];
        live.store.data_mut().call = params;
        live.store.data_mut().limiter.refused = false;
        live.store
            .set_fuel(self.config.fuel_per_call)
            .map_err(|e| CallError::Trap { function: function.into(), message: e.to_string() })?;
        let outcome = match typed {
            Some(typed) => typed.call(&mut live.store, args).map(|text| Some(Val::String(text))),
            None => {
                let mut results = vec![Val::Bool(false); usize::from(ty.result.is_some() || ty.fallible)];
                func.call(&mut live.store, &vals, &mut results).map(|()| results.pop())
            }
        };
        self.logs.append(&mut live.store.data_mut().logs);
        let returned = match outcome {
            Ok(returned) => returned,
            Err(e) => {
                let out_of_fuel = e.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::OutOfFuel);
                let out_of_memory = live.store.data().limiter.refused;
                // A component that trapped may be left in any state: start afresh next time.
                self.live = None;
                let function = function.to_owned();
                return Err(if out_of_fuel {
                    CallError::OutOfFuel { function, limit: self.config.fuel_per_call }
                } else if out_of_memory {
                    CallError::OutOfMemory { function, limit: self.config.memory_bytes }
                } else {
                    CallError::Trap { function, message: format!("{e:#}") }
                });
            }
        };
        let returned = match returned {
            Some(Val::Result(Err(e))) if ty.fallible => {
                let message = match e.map(|e| values::into_json(*e)) {
                    Some(Ok(Json::String(s))) => s,
                    Some(Ok(other)) => other.to_string(),
                    _ => "an error".to_owned(),
                };
                return Err(CallError::Failed { function: function.to_owned(), message });
            }
            Some(Val::Result(Ok(v))) if ty.fallible => v.map(|v| *v),
            other => other,
        };
        let value = match returned {
            Some(v) => values::into_json(v).map_err(|message| CallError::BadResult { function: function.to_owned(), message })?,
            None => Json::String(String::new()),
        };
        let size = json_size(&value);
        if size > self.config.max_result_bytes {
            return Err(CallError::ResultTooBig { function: function.to_owned(), size, limit: self.config.max_result_bytes });
        }
        Ok(value)
    }
}

/// The length of a value's JSON text, without building the text.
fn json_size(value: &Json) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// `aqua:host/call-parameters`, `aqua:host/logging` and the `curl` effect.
fn add_host_interfaces(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    linker.instance(CALL_PARAMETERS)?.func_new("get", |store, _ty, _params, results| {
        let state = store.data();
        let c = &state.call;
        let s = |v: &str| Val::String(v.to_owned());
        let tetraplets = c
            .tetraplets
            .iter()
            .map(|arg| {
                Val::List(
                    arg.iter()
                        .map(|t| {
                            Val::Record(vec![
                                ("peer-pk".into(), s(&t.peer_pk)),
                                ("service-id".into(), s(&t.service_id)),
                                ("function-name".into(), s(&t.function_name)),
                                ("lens".into(), s(&t.lens)),
                            ])
                        })
                        .collect(),
                )
            })
            .collect();
        results[0] = Val::Record(vec![
            (
                "particle".into(),
                Val::Record(vec![
                    ("id".into(), s(&c.particle_id)),
                    ("init-peer-id".into(), s(&c.init_peer_id)),
                    ("timestamp".into(), Val::U64(c.timestamp)),
                    ("ttl".into(), Val::U32(c.ttl)),
                ]),
            ),
            ("host-peer-id".into(), s(&c.host_peer_id)),
            ("service-id".into(), s(&state.service_id)),
            ("tetraplets".into(), Val::List(tetraplets)),
        ]);
        Ok(())
    })?;
    linker.instance(LOGGING)?.func_new("log", |mut store, _ty, params, _results| {
        let (Some(Val::Enum(level)), Some(Val::String(message))) = (params.first(), params.get(1)) else {
            return Err(wasmtime::Error::msg("logging.log: unexpected arguments"));
        };
        store.data_mut().logs.push(LogLine { level: level.clone(), message: message.clone() });
        Ok(())
    })?;
    linker.instance(EFFECTS[0].1)?.func_new("run", |store, _ty, params, results| {
        let Some(Val::List(args)) = params.first() else { return Err(wasmtime::Error::msg("curl.run: unexpected arguments")) };
        let args: Vec<String> = args.iter().filter_map(|a| if let Val::String(s) = a { Some(s.clone()) } else { None }).collect();
        let outcome = std::process::Command::new(&store.data().curl_binary).args(&args).output();
        results[0] = Val::Result(match outcome {
            Ok(out) if out.status.success() => Ok(Some(Box::new(Val::String(String::from_utf8_lossy(&out.stdout).into_owned())))),
            Ok(out) => Err(Some(Box::new(Val::String(format!(
                "curl exited with {}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ))))),
            Err(e) => Err(Some(Box::new(Val::String(format!("cannot run curl: {e}"))))),
        });
        Ok(())
    })?;
    Ok(())
}
