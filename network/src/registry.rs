//! The `srv` builtin: the services on one peer, their aliases, and who may change them.

use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
struct Entry {
    blueprint_id: String,
    owner_id: String,
}

/// The services of one peer, by id, and their aliases.
#[derive(Debug, Clone, Default)]
pub struct Registry {
    services: BTreeMap<String, Entry>,
    aliases: BTreeMap<String, String>,
}

/// Who is asking, for the permission rules.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub init_peer_id: &'a str,
    pub host_id: &'a str,
    pub management_id: Option<&'a str>,
}

impl Caller<'_> {
    /// The host itself and the management peer may manage the host's services.
    pub fn is_manager(&self) -> bool {
        self.init_peer_id == self.host_id || Some(self.init_peer_id) == self.management_id
    }
}

impl Registry {
    /// A registry holding `ids`, owned by the host.
    pub fn new(ids: impl IntoIterator<Item = String>, host_id: &str) -> Self {
        let services = ids.into_iter().map(|id| (id, Entry { blueprint_id: String::new(), owner_id: host_id.to_owned() })).collect();
        Registry { services, aliases: BTreeMap::new() }
    }

    /// Registers a service created at run time.
    pub fn register(&mut self, id: &str, blueprint_id: &str, owner_id: &str) {
        self.services.insert(id.to_owned(), Entry { blueprint_id: blueprint_id.to_owned(), owner_id: owner_id.to_owned() });
    }

    /// The service id an id or alias names, if any.
    pub fn resolve(&self, id_or_alias: &str) -> Option<&str> {
        match self.services.get_key_value(id_or_alias) {
            Some((id, _)) => Some(id.as_str()),
            None => self.aliases.get(id_or_alias).map(String::as_str),
        }
    }

    fn info(&self, id: &str, host_id: &str) -> Json {
        let entry = &self.services[id];
        let aliases: Vec<&String> = self.aliases.iter().filter(|(_, target)| *target == id).map(|(a, _)| a).collect();
        json!({
            "id": id,
            "blueprint_id": entry.blueprint_id,
            "service_type": "service",
            "owner_id": entry.owner_id,
            "aliases": aliases,
            "worker_id": host_id,
        })
    }

    /// Serves `srv.<function>`; `None` for a function `srv` does not have.
    pub fn call(&mut self, function: &str, args: &[Json], caller: Caller<'_>) -> Option<Result<Json, String>> {
        let arg =
            |i: usize| args.get(i).and_then(Json::as_str).ok_or_else(|| format!("srv.{function}: argument {} must be a string", i + 1));
        Some(match function {
            "list" => Ok(Json::Array(self.services.keys().map(|id| self.info(id, caller.host_id)).collect())),
            "resolve_alias" => arg(0).and_then(|a| {
                self.aliases.get(a).map(|id| json!(id)).ok_or_else(|| format!("srv.resolve_alias: alias '{a}' does not exist"))
            }),
            "resolve_alias_opt" => arg(0).map(|a| Json::Array(self.aliases.get(a).map(|id| json!(id)).into_iter().collect())),
            "info" => arg(0).and_then(|a| match self.resolve(a) {
                Some(id) => Ok(self.info(id, caller.host_id)),
                None => Err(format!("srv.info: no service with id or alias '{a}'")),
            }),
            "add_alias" => (|| {
                let (alias, id) = (arg(0)?, arg(1)?);
                if !caller.is_manager() {
                    return Err(format!(
                        "srv.add_alias: only the host or the management peer may add aliases, not {}",
                        caller.init_peer_id
                    ));
                }
                if matches!(alias, "spell" | "self") || self.services.contains_key(alias) {
                    return Err(format!("srv.add_alias: '{alias}' cannot be an alias (reserved or a service id)"));
                }
                if !self.services.contains_key(id) {
                    return Err(format!("srv.add_alias: no service with id '{id}'"));
                }
                // Re-aliasing moves the alias.
                self.aliases.insert(alias.to_owned(), id.to_owned());
                Ok(Json::String(String::new()))
            })(),
            "remove" => (|| {
                let a = arg(0)?;
                let id = self.resolve(a).map(str::to_owned).ok_or_else(|| format!("srv.remove: no service with id or alias '{a}'"))?;
                let owner = &self.services[&id].owner_id;
                if !caller.is_manager() && owner != caller.init_peer_id {
                    return Err(format!("srv.remove: only the service's owner, the host or the management peer may remove '{id}'"));
                }
                self.services.remove(&id);
                self.aliases.retain(|_, target| *target != id);
                Ok(Json::String(String::new()))
            })(),
            _ => return None,
        })
    }
}
