//! What the simulator serves itself, because it needs the network's state: `srv`,
//! `dist` and `subnet`, and the WebAssembly services (through `ExternalServices::wasm`).

use super::{Serving, Simulation};
use crate::builtins;
use crate::network::ServiceSpec;
use crate::registry::Caller;
use air_vm::CallRequest;
use serde_json::Value as Json;

impl Simulation<'_> {
    /// The parameters a WebAssembly service sees for a call.
    pub(super) fn wasm_params(&self, at: Serving, request: &CallRequest) -> marine_host::CallParameters {
        let h = &self.particles[at.particle].header;
        let tetraplets = request
            .tetraplets
            .iter()
            .map(|arg| {
                arg.iter()
                    .map(|t| marine_host::Tetraplet {
                        peer_pk: t.peer_pk.clone(),
                        service_id: t.service_id.clone(),
                        function_name: t.function_name.clone(),
                        lens: t.lens.clone(),
                    })
                    .collect()
            })
            .collect();
        marine_host::CallParameters {
            particle_id: h.id.clone(),
            init_peer_id: self.net.peers[h.init].id.clone(),
            timestamp: h.timestamp,
            ttl: h.ttl,
            host_peer_id: self.net.peers[at.peer].id.clone(),
            tetraplets,
        }
    }

    /// `srv`: the registry, plus the services made from blueprints at run time.
    pub(super) fn srv(&mut self, at: Serving, function: &str, args: &[Json], caller: Caller<'_>) -> builtins::Outcome {
        let net = self.net;
        let peer_name = &net.peers[at.peer].name;
        let a = builtins::args::Args::new("srv", function, args);
        match function {
            "create" => {
                let blueprint = match a.exactly(1).and_then(|()| a.str(0)) {
                    Ok(b) => b,
                    Err(e) => return builtins::Outcome::Err(e),
                };
                if !caller.is_manager() {
                    return builtins::Outcome::Err(format!(
                        "srv.create: only the host or the management peer may create services, not {}",
                        caller.init_peer_id
                    ));
                }
                let id = self.uuid();
                let effectors = &net.effectors[at.peer];
                let Some(wasm) = self.external.wasm() else {
                    return builtins::Outcome::Err("srv.create: this run cannot run WebAssembly services".into());
                };
                match wasm.create(peer_name, blueprint, &id, effectors, &Default::default()) {
                    Ok(()) => {
                        self.registries[at.peer].register(&id, blueprint, caller.init_peer_id);
                        builtins::Outcome::Ok(Json::String(id))
                    }
                    Err(e) => builtins::Outcome::Err(format!("srv.create: {e}")),
                }
            }
            "get_interface" => {
                let name = match a.exactly(1).and_then(|()| a.str(0)) {
                    Ok(n) => n,
                    Err(e) => return builtins::Outcome::Err(e),
                };
                let id = self.registries[at.peer].resolve(name).unwrap_or(name).to_owned();
                match self.external.wasm().and_then(|w| w.interface(peer_name, &id)) {
                    Some(interface) => builtins::Outcome::Ok(interface),
                    None => builtins::Outcome::Err(format!("srv.get_interface: no WebAssembly service '{name}' on this peer")),
                }
            }
            _ => {
                let removing =
                    (function == "remove").then(|| a.str(0).ok().and_then(|n| self.registries[at.peer].resolve(n)).map(str::to_owned));
                let outcome = match self.registries[at.peer].call(function, args, caller) {
                    Some(result) => result,
                    None => return builtins::Outcome::NotFound,
                };
                if let (Ok(_), Some(Some(id))) = (&outcome, removing)
                    && let Some(wasm) = self.external.wasm()
                {
                    wasm.remove(peer_name, &id);
                }
                outcome.into()
            }
        }
    }

    /// `dist`: modules and blueprints of the serving peer.
    pub(super) fn dist(&mut self, at: Serving, function: &str, args: &[Json], caller: Caller<'_>) -> builtins::Outcome {
        let peer_name = self.net.peers[at.peer].name.clone();
        let a = builtins::args::Args::new("dist", function, args);
        let config = |name: &str| serde_json::json!({"name": name, "mem_pages_count": [], "max_heap_size": [], "logger_enabled": [], "logging_mask": [], "wasi": []});
        let manager = caller.is_manager();
        let refuse = |what: &str| format!("dist.{function}: only the host or the management peer may {what}, not {}", caller.init_peer_id);
        let result = (|| -> Result<Json, String> {
            match function {
                "default_module_config" => Ok(config(a.str(0)?)),
                "make_module_config" => Ok(config(a.str(0)?)),
                "make_blueprint" => {
                    a.exactly(2)?;
                    let blueprint = serde_json::json!({"name": a.str(0)?, "dependencies": a.strings(1)?});
                    Ok(Json::String(blueprint.to_string()))
                }
                "add_module" => {
                    a.exactly(2)?;
                    if !manager {
                        return Err(refuse("add modules"));
                    }
                    let bytes = a.bytes(0)?;
                    let wasm = self.external.wasm().ok_or("dist.add_module: this run cannot run WebAssembly services")?;
                    wasm.add_module(&peer_name, &bytes).map(Json::String).map_err(|e| a.error(e))
                }
                "add_blueprint" => {
                    a.exactly(1)?;
                    if !manager {
                        return Err(refuse("add blueprints"));
                    }
                    let parsed: Json =
                        serde_json::from_str(a.str(0)?).map_err(|e| a.error(format!("not a blueprint (from make_blueprint): {e}")))?;
                    let name = parsed["name"].as_str().unwrap_or_default().to_owned();
                    let modules: Vec<String> = parsed["dependencies"]
                        .as_array()
                        .ok_or_else(|| a.error("the blueprint has no `dependencies`"))?
                        .iter()
                        .filter_map(Json::as_str)
                        .map(|d| d.strip_prefix("hash:").unwrap_or(d).to_owned())
                        .collect();
                    let wasm = self.external.wasm().ok_or("dist.add_blueprint: this run cannot run WebAssembly services")?;
                    wasm.add_blueprint(&peer_name, &name, &modules).map(Json::String).map_err(|e| a.error(e))
                }
                "list_modules" => {
                    let modules = self.external.wasm().map(|w| w.modules(&peer_name)).unwrap_or_default();
                    Ok(Json::Array(modules.iter().map(|m| serde_json::json!({"name": m, "hash": m, "config": config(m)})).collect()))
                }
                "list_blueprints" | "get_blueprint" => {
                    let blueprints = self.external.wasm().map(|w| w.blueprints(&peer_name)).unwrap_or_default();
                    let as_json =
                        |b: &crate::compute::Blueprint| serde_json::json!({"id": b.id, "name": b.name, "dependencies": b.modules});
                    if function == "list_blueprints" {
                        return Ok(Json::Array(blueprints.iter().map(as_json).collect()));
                    }
                    let id = a.str(0)?;
                    blueprints.iter().find(|b| b.id == id).map(as_json).ok_or_else(|| a.error(format!("no blueprint with id '{id}'")))
                }
                _ => Err(String::new()),
            }
        })();
        match result {
            Err(e) if e.is_empty() => builtins::Outcome::NotFound,
            other => other.into(),
        }
    }

    /// Creates the description's WebAssembly services on their peers.
    pub(super) fn create_description_services(&mut self) {
        let net = self.net;
        for (peer, services) in net.services.iter().enumerate() {
            for (id, spec) in services {
                let ServiceSpec::Blueprint { files, modules, sandbox } = spec else { continue };
                let name = &net.peers[peer].name;
                let outcome = match self.external.wasm() {
                    None => Err("this run cannot run WebAssembly services".to_owned()),
                    Some(wasm) => (|| {
                        let ids = modules.iter().map(|m| wasm.add_module(name, m)).collect::<Result<Vec<_>, _>>()?;
                        let blueprint = wasm.add_blueprint(name, id, &ids)?;
                        wasm.create(name, &blueprint, id, &net.effectors[peer], sandbox)
                    })(),
                };
                if let Err(e) = outcome {
                    self.report.problems.push(format!("service `{id}` ({}) was not created on {name}: {e}", files.join(", ")));
                }
            }
        }
    }

    /// `subnet.resolve(deployment)`: the peers holding a deployment's replicas, in the
    /// reference's `SubnetResolveResult` shape. A replica runs on its host here, so its
    /// worker id is the host's.
    pub(super) fn subnet(&self, function: &str, args: &[Json]) -> builtins::Outcome {
        let a = builtins::args::Args::new("subnet", function, args);
        if function != "resolve" {
            return builtins::Outcome::NotFound;
        }
        let name = match a.exactly(1).and_then(|()| a.str(0)) {
            Ok(name) => name,
            Err(e) => return builtins::Outcome::Err(e),
        };
        builtins::Outcome::Ok(match self.net.deployment(name) {
            Some(d) => {
                let workers: Vec<Json> = d
                    .hosts
                    .iter()
                    .enumerate()
                    .map(|(i, &host)| {
                        let id = &self.net.peers[host].id;
                        serde_json::json!({"pat_id": format!("{}-{i}", d.name), "host_id": id, "worker_id": [id]})
                    })
                    .collect();
                serde_json::json!({"success": true, "error": [], "workers": workers})
            }
            None => serde_json::json!({"success": false, "error": [format!("no deployment named '{name}'")], "workers": []}),
        })
    }
}
