//! `marine-host`: WebAssembly compute functions as services.
//!
//! A service is made from a *blueprint*: an ordered list of WebAssembly components, the
//! last one the *facade*, whose exported functions are what Aqua calls. Each component
//! keeps its own memory (shared-nothing); a component's imports are satisfied by the
//! exports of the components before it, the values travelling through the host. The
//! host also offers WASI preview 2 (a private `/tmp`, a persistent `/storage`, mapped
//! directories and environment variables; no network, no processes), the `aqua:host`
//! interfaces of `wit/host.wit` (call parameters, logging) and effects (`curl`) to the
//! components a whitelist allows.
//!
//! Every call runs with a fuel budget (deterministic) and the service under a memory
//! limit; a trap, running out of either, or a bad result fails that one call with a
//! message, and the service is instantiated afresh for the next call.
//!
//! - [`Host`]: compiled components by module id, blueprints, service creation.
//! - [`Service`]: one service's instances and its calls.
//! - [`values`]: JSON to component values and back; the Aqua form of WIT types.
//! - [`interface`]: the Aqua `service` declaration of a facade.
//! - [`build`]: building components with cargo.

pub mod build;
pub mod interface;
mod service;
pub mod values;

pub use service::{CallError, CallParameters, CreateError, EFFECTS, FunctionType, Host, LogLine, Service, ServiceConfig, Tetraplet};

use sha2::Digest;

/// The content id of a module: the hex SHA-256 of its bytes.
pub fn module_id(bytes: &[u8]) -> String {
    hex(&sha2::Sha256::digest(bytes))
}

/// The id of a blueprint: the hex SHA-256 of its modules' ids, in order.
pub fn blueprint_id(modules: &[String]) -> String {
    let mut hasher = sha2::Sha256::new();
    for m in modules {
        hasher.update(m.as_bytes());
        hasher.update(b"\n");
    }
    hex(&hasher.finalize())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
