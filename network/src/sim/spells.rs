//! Spells in the simulator: installing them, their clocks and connection triggers,
//! starting their runs, the `spell` builtin, the `Spell` service and the calling
//! convention of a spell's run.

use super::{Action, EPOCH_MS, Fired, Header, Origin, Particle, Serving, Simulation};
use crate::builtins;
use crate::description::FaultKind;
use crate::registry::Caller;
use crate::report::{Event, SpellReport};
use crate::spell::{Access, Spell, Trigger};
use serde_json::Value as Json;
use std::collections::BTreeMap;

impl Simulation<'_> {
    pub(super) fn spell_report(&self, s: &Spell) -> SpellReport {
        SpellReport {
            id: s.id.clone(),
            alias: s.alias.clone(),
            peer: self.peer_name(s.peer).to_owned(),
            runs: s.runs,
            removed: s.removed,
            kv: s.kv().clone(),
            logs: s.logs().cloned().collect(),
            errors: s.errors().cloned().collect(),
        }
    }

    /// The spell on the serving peer that `service` names: by id or alias, or as
    /// `spell`/`self` from a run of that spell (then only for `Spell` functions, so
    /// `spell.install` still reaches the builtin).
    pub(super) fn spell_named(&self, at: Serving, service: &str, function: &str) -> Option<usize> {
        let here = |i: &usize| self.spells[*i].peer == at.peer && !self.spells[*i].removed;
        if matches!(service, "spell" | "self") {
            return match self.particles[at.particle].origin {
                Origin::Spell(i) if here(&i) && crate::spell::FUNCTIONS.contains(&function) => Some(i),
                _ => None,
            };
        }
        (0..self.spells.len()).find(|i| here(i) && (self.spells[*i].id == service || self.spells[*i].alias.as_deref() == Some(service)))
    }

    pub(super) fn call_spell(&mut self, at: Serving, spell: usize, function: &str, args: &[Json]) -> builtins::Outcome {
        let net = self.net;
        let h = &self.particles[at.particle].header;
        let init_id = &net.peers[h.init].id;
        let access = Access {
            is_spell: self.particles[at.particle].origin == Origin::Spell(spell),
            is_host: h.init == at.peer,
            is_manager: h.init == at.peer || net.management == Some(h.init),
            init_peer_id: init_id,
            particle_id: &h.id,
            now_ms: self.now,
            epoch_ms: EPOCH_MS,
        };
        let generation = self.spells[spell].generation;
        let outcome = match self.spells[spell].call(function, args, &access) {
            Some(result) => result.into(),
            None => builtins::Outcome::Err(format!("the spell '{}' has no function '{function}'", self.spells[spell].label())),
        };
        if self.spells[spell].generation != generation {
            self.schedule_clock(spell);
        }
        outcome
    }

    /// The `spell` builtin (aqua: `PeerSpell`): install, remove, list, update_trigger_config.
    pub(super) fn peer_spell(&mut self, at: Serving, function: &str, args: &[Json], caller: Caller<'_>) -> builtins::Outcome {
        let a = builtins::args::Args::new("spell", function, args);
        let manager = caller.init_peer_id == caller.host_id || Some(caller.init_peer_id) == caller.management_id;
        let refuse = || format!("spell.{function}: only the host or the management peer may, not {}", caller.init_peer_id);
        let result = (|| -> Result<Json, String> {
            match function {
                "list" => {
                    a.exactly(0)?;
                    let ids = self.spells.iter().filter(|s| s.peer == at.peer && !s.removed).map(|s| Json::String(s.id.clone()));
                    Ok(Json::Array(ids.collect()))
                }
                "install" => {
                    a.exactly(4)?;
                    if !manager {
                        return Err(refuse());
                    }
                    let script = a.str(0)?;
                    air_vm::syntax::parse(script).map_err(|_| a.error("the script is not valid AIR"))?;
                    let init_args = a.object(1)?.clone();
                    let trigger = Trigger::from_config(a.get(2)?, EPOCH_MS, self.now).map_err(|e| a.error(e))?;
                    let alias = a.str(3)?;
                    let alias = (!alias.is_empty()).then(|| alias.to_owned());
                    if let Some(alias) = &alias {
                        let taken = self.registries[at.peer].resolve(alias).is_some()
                            || self.spells.iter().any(|s| s.peer == at.peer && !s.removed && s.alias.as_ref() == Some(alias));
                        if taken || matches!(alias.as_str(), "spell" | "self") {
                            return Err(a.error(format!("the name '{alias}' is taken on this peer")));
                        }
                    }
                    Ok(Json::String(self.install(at.peer, script.to_owned(), &init_args, trigger, alias)))
                }
                "remove" | "update_trigger_config" => {
                    a.exactly(if function == "remove" { 1 } else { 2 })?;
                    if !manager {
                        return Err(refuse());
                    }
                    let name = a.str(0)?;
                    let spell = (0..self.spells.len())
                        .find(|&i| {
                            let s = &self.spells[i];
                            s.peer == at.peer && !s.removed && (s.id == name || s.alias.as_deref() == Some(name))
                        })
                        .ok_or_else(|| a.error(format!("no spell '{name}' on this peer")))?;
                    if function == "remove" {
                        self.spells[spell].removed = true;
                    } else {
                        self.spells[spell].trigger = Trigger::from_config(a.get(1)?, EPOCH_MS, self.now).map_err(|e| a.error(e))?;
                        self.spells[spell].generation += 1;
                        self.schedule_clock(spell);
                    }
                    Ok(Json::String(String::new()))
                }
                _ => Err(String::new()),
            }
        })();
        match result {
            Err(e) if e.is_empty() => builtins::Outcome::NotFound,
            other => other.into(),
        }
    }

    /// The calling convention of a spell's run: arguments come from its store, the
    /// result's fields go to it, an uncaught error is stored with the spell's errors.
    pub(super) fn spell_convention(
        &mut self,
        at: Serving,
        spell: usize,
        service: &str,
        function: &str,
        args: &[Json],
    ) -> Option<builtins::Outcome> {
        let ok = || builtins::Outcome::Ok(Json::String(String::new()));
        Some(match (service, function) {
            ("getDataSrv", "-relay-") => builtins::Outcome::Ok(Json::String(self.net.peers[at.peer].id.clone())),
            ("getDataSrv", "spell_id") => builtins::Outcome::Ok(Json::String(self.spells[spell].id.clone())),
            ("getDataSrv", name) => self.spells[spell].argument(name).into(),
            ("callbackSrv", "response") => match args {
                [] => ok(),
                [Json::Object(fields)] => {
                    self.spells[spell].set_fields(fields);
                    ok()
                }
                _ => builtins::Outcome::Err("a spell's function must return nothing or one record, whose fields it stores".into()),
            },
            ("callbackSrv", name) => builtins::Outcome::Err(format!("a spell's function cannot take an arrow argument (`{name}`)")),
            ("errorHandlingSrv", "error") => {
                let error = args.first().cloned().unwrap_or(Json::Null);
                let index = args.get(1).and_then(Json::as_u64).and_then(|i| u32::try_from(i).ok()).unwrap_or(0);
                let message = error.get("message").and_then(Json::as_str).unwrap_or("an error").to_owned();
                let particle_id = self.particles[at.particle].header.id.clone();
                self.spells[spell].store_error(&particle_id, self.now, error, index);
                self.event(at.particle, at.peer, "spell-error", message);
                ok()
            }
            _ => return None,
        })
    }

    /// Installs the description's spells on their peers, in the description's order.
    pub(super) fn install_description_spells(&mut self) {
        let net = self.net;
        for spec in &net.spells {
            let Some(script) = &spec.script else {
                self.report.problems.push(format!("spell `{}` was not installed: its script was not loaded", spec.name));
                continue;
            };
            for &peer in &spec.peers {
                self.install(peer, script.clone(), &spec.init_args, spec.trigger, Some(spec.name.clone()));
            }
        }
    }

    /// Installs a spell on `peer` and sets its clock; gives its id.
    pub(super) fn install(
        &mut self,
        peer: usize,
        script: String,
        init_args: &serde_json::Map<String, Json>,
        trigger: Trigger,
        alias: Option<String>,
    ) -> String {
        let id = self.uuid();
        let mut spell = Spell::new(id.clone(), alias, peer, script, trigger);
        spell.set_fields(init_args);
        let detail = format!("spell {} installed as {id}", spell.label());
        self.report.events.push(Event::new(self.now, &self.net.peers[peer].name, "spell", detail));
        self.spells.push(spell);
        self.schedule_clock(self.spells.len() - 1);
        id
    }

    /// Sets a spell's clock for its current trigger (older timers are ignored).
    pub(super) fn schedule_clock(&mut self, spell: usize) {
        let s = &self.spells[spell];
        if let Some(at) = s.trigger.clock.and_then(|c| c.first(self.now)) {
            let generation = s.generation;
            self.schedule(at, Action::Timer { spell, generation });
        }
    }

    pub(super) fn timer(&mut self, spell: usize, generation: u64) {
        let s = &self.spells[spell];
        if s.removed || s.generation != generation {
            return;
        }
        if let Some(next) = s.trigger.clock.and_then(|c| c.after(self.now)) {
            self.schedule(next, Action::Timer { spell, generation });
        }
        let timer = serde_json::json!({"timer": [{"timestamp": (EPOCH_MS + self.now) / 1000}], "peer": []});
        self.fire(spell, Fired::Timer, timer);
    }

    /// Starts a run of the spell: a new particle from its peer, injected locally.
    pub(super) fn fire(&mut self, spell: usize, why: Fired, trigger_info: Json) {
        let net = self.net;
        let peer = self.spells[spell].peer;
        let what = match why {
            Fired::Timer => "timer".to_owned(),
            Fired::Peer { peer: other, connected: true } => format!("{} connected", net.peers[other].name),
            Fired::Peer { peer: other, connected: false } => format!("{} disconnected", net.peers[other].name),
        };
        if self.crashed(peer) {
            let detail = format!("spell {} did not fire ({what}): the peer is down", self.spells[spell].label());
            self.report.events.push(Event::new(self.now, &net.peers[peer].name, "spell", detail));
            return;
        }
        let s = &mut self.spells[spell];
        let run = s.start_run(&trigger_info);
        let id = format!("spell_{}_{run}", s.id);
        let label = format!("{}#{run}", s.label());
        let header = Header::new(id.clone(), peer, EPOCH_MS + self.now, crate::spell::SPELL_TTL_MS, s.script.clone(), &net.peers[peer].key);
        let detail = format!("spell {} fires ({what}): run {run}, particle {id}", s.label());
        self.particles.push(Particle { header, origin: Origin::Spell(spell), label: Some(label), stored: BTreeMap::new() });
        let particle = self.particles.len() - 1;
        self.event(particle, peer, "spell", detail);
        // Injected locally and at once, so the run reads the trigger it was started for.
        self.deliver(particle, peer, peer, &[]);
    }

    /// Connection events: clients connect to their relays at the start; crashes and
    /// partitions disconnect peers when they start and connect them when they end.
    pub(super) fn schedule_connection_changes(&mut self) {
        let net = self.net;
        self.schedule(0, Action::Connections { fault: None, starts: true });
        for (i, f) in net.faults.iter().enumerate() {
            if matches!(f.kind, FaultKind::Crash | FaultKind::Partition) {
                self.schedule(f.from_ms, Action::Connections { fault: Some(i), starts: true });
                if let Some(until) = f.until_ms {
                    self.schedule(until, Action::Connections { fault: Some(i), starts: false });
                }
            }
        }
    }

    pub(super) fn connections_changed(&mut self, fault: Option<usize>, starts: bool) {
        let net = self.net;
        let watching: Vec<usize> = (0..self.spells.len())
            .filter(|&i| !self.spells[i].removed && (self.spells[i].trigger.connect || self.spells[i].trigger.disconnect))
            .collect();
        for spell in watching {
            let host = self.spells[spell].peer;
            // The peers whose link with the spell's host comes or goes.
            let others: Vec<usize> = (0..net.peers.len())
                .filter(|&other| other != host && net.link(host, other))
                .filter(|&other| match fault.map(|f| &net.faults[f]) {
                    None => net.peers[other].kind != crate::network::PeerKind::Relay,
                    Some(f) if f.kind == FaultKind::Crash => f.peers.contains(&other) && !f.peers.contains(&host),
                    Some(f) => f.peers.contains(&other) != f.peers.contains(&host),
                })
                .collect();
            let connected = fault.is_none() || !starts;
            let trigger = self.spells[spell].trigger;
            if (connected && !trigger.connect) || (!connected && !trigger.disconnect) {
                continue;
            }
            for other in others {
                let info = serde_json::json!({"timer": [], "peer": [{"peer_id": net.peers[other].id, "connected": connected}]});
                self.fire(spell, Fired::Peer { peer: other, connected }, info);
            }
        }
    }
}
