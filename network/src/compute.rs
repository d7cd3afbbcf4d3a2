//! WebAssembly services on the simulated peers, through `marine-host`: each peer's
//! modules, blueprints and services. Like `process.rs`, an edge of the crate: the
//! simulator core reaches it through [`crate::ExternalServices::wasm`].
//!
//! Components are compiled once per content for the whole network (one engine); each
//! peer keeps its own repository (what `dist.add_module` put there) and services, each
//! service with its working area under `<dir>/<peer>/<service id>` (`tmp`, `storage`).

use crate::description::SandboxDesc;
use marine_host::{CallParameters, Host, Service, ServiceConfig};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// A blueprint as a peer knows it.
#[derive(Debug, Clone)]
pub struct Blueprint {
    pub id: String,
    pub name: String,
    pub modules: Vec<String>,
}

#[derive(Debug, Default)]
struct PeerWasm {
    modules: BTreeSet<String>,
    blueprints: BTreeMap<String, Blueprint>,
    services: BTreeMap<String, Service>,
}

/// The WebAssembly side of every peer.
#[derive(Debug)]
pub struct WasmServices {
    host: Host,
    dir: PathBuf,
    /// Where relative mapped directories are (the network description's directory).
    base: PathBuf,
    peers: BTreeMap<String, PeerWasm>,
}

impl WasmServices {
    /// Services keep their files under `dir`; relative mapped directories are under `base`.
    pub fn new(dir: PathBuf, base: PathBuf) -> Result<WasmServices, String> {
        Ok(WasmServices { host: Host::new()?, dir, base, peers: BTreeMap::new() })
    }

    fn peer(&mut self, peer: &str) -> &mut PeerWasm {
        self.peers.entry(peer.to_owned()).or_default()
    }

    /// Adds a module to a peer's repository; gives its id.
    pub fn add_module(&mut self, peer: &str, bytes: &[u8]) -> Result<String, String> {
        let id = self.host.add_module(bytes).map_err(|e| e.to_string())?;
        self.peer(peer).modules.insert(id.clone());
        Ok(id)
    }

    /// Adds a blueprint of modules already on the peer; gives its id.
    pub fn add_blueprint(&mut self, peer: &str, name: &str, modules: &[String]) -> Result<String, String> {
        if let Some(missing) = modules.iter().find(|m| !self.peer(peer).modules.contains(*m)) {
            return Err(format!("module {missing} was not added to this peer (dist.add_module)"));
        }
        let id = self.host.add_blueprint(modules).map_err(|e| e.to_string())?;
        let blueprint = Blueprint { id: id.clone(), name: name.to_owned(), modules: modules.to_vec() };
        self.peer(peer).blueprints.insert(id.clone(), blueprint);
        Ok(id)
    }

    pub fn modules(&self, peer: &str) -> Vec<String> {
        self.peers.get(peer).map(|p| p.modules.iter().cloned().collect()).unwrap_or_default()
    }

    pub fn blueprints(&self, peer: &str) -> Vec<Blueprint> {
        self.peers.get(peer).map(|p| p.blueprints.values().cloned().collect()).unwrap_or_default()
    }

    /// Creates a service from a blueprint on the peer; `effectors` is the peer's
    /// whitelist (effect to module ids).
    pub fn create(
        &mut self,
        peer: &str,
        blueprint: &str,
        service_id: &str,
        effectors: &BTreeMap<String, BTreeSet<String>>,
        sandbox: &SandboxDesc,
    ) -> Result<(), String> {
        if !self.peer(peer).blueprints.contains_key(blueprint) {
            return Err(format!("no blueprint with id '{blueprint}' on this peer"));
        }
        let mut config = ServiceConfig::new(service_id, self.dir.join(peer).join(service_id));
        config.effectors = effectors.clone();
        if let Some(mb) = sandbox.memory_mb {
            config.memory_bytes = mb << 20;
        }
        if let Some(fuel) = sandbox.fuel {
            config.fuel_per_call = fuel;
        }
        if let Some(bytes) = sandbox.result_bytes {
            config.max_result_bytes = bytes;
        }
        config.envs = sandbox.envs.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        config.mapped_dirs = sandbox.mapped_dirs.iter().map(|(guest, host)| (guest.clone(), self.base.join(host))).collect();
        let service = self.host.create_service(blueprint, config).map_err(|e| e.to_string())?;
        self.peer(peer).services.insert(service_id.to_owned(), service);
        Ok(())
    }

    pub fn has(&self, peer: &str, service_id: &str) -> bool {
        self.peers.get(peer).is_some_and(|p| p.services.contains_key(service_id))
    }

    pub fn remove(&mut self, peer: &str, service_id: &str) -> bool {
        self.peer(peer).services.remove(service_id).is_some()
    }

    /// Calls a service's function; `None` when the peer has no such service. Gives the
    /// lines the service logged during the call too.
    pub fn call(
        &mut self,
        peer: &str,
        service_id: &str,
        function: &str,
        args: &[Json],
        params: CallParameters,
    ) -> Option<(Result<Json, String>, Vec<marine_host::LogLine>)> {
        let service = self.peers.get_mut(peer)?.services.get_mut(service_id)?;
        let result = service.call(function, args, params).map_err(|e| e.to_string());
        Some((result, service.take_logs()))
    }

    /// `srv.get_interface`: the facade's functions, with Aqua types as text.
    pub fn interface(&self, peer: &str, service_id: &str) -> Option<Json> {
        let service = self.peers.get(peer)?.services.get(service_id)?;
        let signatures: Vec<Json> = service
            .functions()
            .iter()
            .map(|f| {
                let arguments: Vec<Json> =
                    f.params.iter().map(|(n, t)| json!([marine_host::values::field_name(n), marine_host::values::brief(t)])).collect();
                let outputs: Vec<Json> = f.result.iter().map(|t| json!(marine_host::values::brief(t))).collect();
                json!({"name": f.aqua_name, "arguments": arguments, "output_types": outputs})
            })
            .collect();
        Some(json!({"function_signatures": signatures, "record_types": []}))
    }
}
