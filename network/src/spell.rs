//! Spells: scripts a peer runs by itself when a trigger fires, each with its own
//! key-value store, logs, errors and mailbox behind the reference peer's `Spell`
//! service API (`@fluencelabs/spell/spell_service.aqua`).
//!
//! Results are records with `success` and `error`, never failed calls, as in the
//! reference: only malformed arguments fail a call. Everyone may read; writing follows
//! the reference's roles (see [`Access`]).

use crate::builtins::args::Args;
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, VecDeque};

/// Logs a spell keeps (the oldest go first).
pub const MAX_LOGS: usize = 500;
/// Mailbox messages a spell keeps.
pub const MAX_MAILBOX: usize = 50;
/// Particles whose errors a spell keeps.
pub const MAX_ERROR_PARTICLES: usize = 50;
/// TTL of the particles a spell starts.
pub const SPELL_TTL_MS: u32 = 120_000;

/// A clock trigger, in virtual milliseconds since the run started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    pub start_ms: u64,
    /// 0 fires once.
    pub period_ms: u64,
    /// No firing at or after this time.
    pub end_ms: Option<u64>,
}

impl Clock {
    /// When the clock first fires, if a spell installed at `now` fires at all.
    pub fn first(&self, now: u64) -> Option<u64> {
        let at = self.start_ms.max(now);
        self.end_ms.is_none_or(|end| at < end).then_some(at)
    }

    /// When the clock fires after firing at `fired`, if it does.
    pub fn after(&self, fired: u64) -> Option<u64> {
        if self.period_ms == 0 {
            return None;
        }
        let at = fired + self.period_ms;
        self.end_ms.is_none_or(|end| at < end).then_some(at)
    }
}

/// What makes a spell run. All empty: installed, never run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Trigger {
    pub clock: Option<Clock>,
    pub connect: bool,
    pub disconnect: bool,
}

impl Trigger {
    /// The reference's `TriggerConfig` record (seconds since the epoch; 0 = unset).
    pub fn to_config(&self, epoch_ms: u64) -> Json {
        let sec = |ms: u64| (epoch_ms + ms) / 1000;
        let clock = match self.clock {
            Some(c) => json!({
                "start_sec": sec(c.start_ms),
                "end_sec": c.end_ms.map_or(0, sec),
                "period_sec": c.period_ms / 1000,
            }),
            None => json!({"start_sec": 0, "end_sec": 0, "period_sec": 0}),
        };
        json!({
            "clock": clock,
            "connections": {"connect": self.connect, "disconnect": self.disconnect},
            "blockchain": {"start_block": 0, "end_block": 0},
        })
    }

    /// Reads a `TriggerConfig` record given at virtual time `now_ms` (since the run
    /// started), with the reference's rules: `start_sec = 0` means no clock, a start in
    /// the past means now, `period_sec = 0` fires once, `end_sec = 0` never ends, and an
    /// end before the start or in the past is an error.
    pub fn from_config(config: &Json, epoch_ms: u64, now_ms: u64) -> Result<Trigger, String> {
        let field = |path: &[&str]| -> Result<&Json, String> {
            path.iter().try_fold(config, |v, k| v.get(k).ok_or_else(|| format!("the trigger config has no `{}`", path.join("."))))
        };
        let number = |path: &[&str]| -> Result<u64, String> {
            field(path)?.as_u64().ok_or_else(|| format!("`{}` in the trigger config must be a non-negative integer", path.join(".")))
        };
        let flag = |path: &[&str]| -> Result<bool, String> {
            field(path)?.as_bool().ok_or_else(|| format!("`{}` in the trigger config must be a boolean", path.join(".")))
        };
        let (start, end, period) = (number(&["clock", "start_sec"])?, number(&["clock", "end_sec"])?, number(&["clock", "period_sec"])?);
        const HUNDRED_YEARS_SEC: u64 = 100 * 365 * 24 * 3600;
        if period > HUNDRED_YEARS_SEC {
            return Err(format!("the clock's period ({period} s) is longer than 100 years"));
        }
        let now_abs = epoch_ms + now_ms;
        let clock = if start == 0 {
            None
        } else {
            let start_ms = (start * 1000).max(now_abs) - epoch_ms;
            let end_ms = match end {
                0 => None,
                end if end * 1000 <= now_abs => return Err(format!("the clock's end ({end} s) is in the past")),
                end if end < start => return Err(format!("the clock ends ({end} s) before it starts ({start} s)")),
                end => Some(end * 1000 - epoch_ms),
            };
            Some(Clock { start_ms, period_ms: period * 1000, end_ms })
        };
        Ok(Trigger { clock, connect: flag(&["connections", "connect"])?, disconnect: flag(&["connections", "disconnect"])? })
    }
}

/// A value in a spell's store.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(untagged)]
pub enum Stored {
    String(String),
    U32(u32),
    List(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Log {
    /// Virtual time of the run, ms since it started.
    pub time_ms: u64,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ParticleErrors {
    pub particle_id: String,
    /// Virtual time, ms since the run started, of the first error.
    pub time_ms: u64,
    /// `{last_error, error_idx}` entries, as `get_errors` answers them.
    pub errors: Vec<Json>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Mail {
    init_peer_id: String,
    timestamp: u64,
    message: String,
}

/// One installed spell.
#[derive(Debug, Clone)]
pub struct Spell {
    pub id: String,
    pub alias: Option<String>,
    pub peer: usize,
    pub script: String,
    pub trigger: Trigger,
    /// Bumped when the trigger changes, so timers set for an older trigger are ignored.
    pub generation: u64,
    /// Runs started so far (the reference's `hw_counter`).
    pub runs: u32,
    pub removed: bool,
    kv: BTreeMap<String, Stored>,
    logs: VecDeque<Log>,
    errors: VecDeque<ParticleErrors>,
    mailbox: VecDeque<Mail>,
}

/// Who is calling, for the write rules: the spell itself (a particle the spell started)
/// may write anything; its host may write keys starting `h_`, `w_` or `hw_` (the
/// reference's host and worker roles, one peer here); everyone else may only read and
/// push to the mailbox. The host and the management peer may change the script and trigger.
#[derive(Debug, Clone, Copy)]
pub struct Access<'a> {
    pub is_spell: bool,
    pub is_host: bool,
    pub is_manager: bool,
    pub init_peer_id: &'a str,
    pub particle_id: &'a str,
    /// Virtual time, ms since the run started, and the epoch it started at.
    pub now_ms: u64,
    pub epoch_ms: u64,
}

impl Access<'_> {
    fn may_write(&self, key: &str) -> bool {
        self.is_spell || (self.is_host && ["h_", "w_", "hw_"].iter().any(|p| key.starts_with(p)))
    }
}

fn unit(result: Result<(), String>) -> Json {
    match result {
        Ok(()) => json!({"success": true, "error": ""}),
        Err(e) => json!({"success": false, "error": e}),
    }
}

fn denied(function: &str, key: &str, access: &Access<'_>) -> String {
    format!("{}: {} may not write '{key}'", function, access.init_peer_id)
}

impl Spell {
    pub fn new(id: String, alias: Option<String>, peer: usize, script: String, trigger: Trigger) -> Spell {
        Spell {
            id,
            alias,
            peer,
            script,
            trigger,
            generation: 0,
            runs: 0,
            removed: false,
            kv: BTreeMap::new(),
            logs: VecDeque::new(),
            errors: VecDeque::new(),
            mailbox: VecDeque::new(),
        }
    }

    /// The label used in the timeline: the alias, or the id.
    pub fn label(&self) -> &str {
        self.alias.as_deref().unwrap_or(&self.id)
    }

    /// Stores each top-level field of `fields` as its JSON text (not recursively), as
    /// `set_json_fields` does; what the spell's function then reads as arguments.
    pub fn set_fields(&mut self, fields: &serde_json::Map<String, Json>) {
        for (k, v) in fields {
            self.kv.insert(k.clone(), Stored::String(v.to_string()));
        }
    }

    /// Counts a new run and stores what started it (the reference's `hw_counter` and
    /// `hw_trigger`); gives the run's number.
    pub fn start_run(&mut self, trigger: &Json) -> u32 {
        self.runs += 1;
        self.kv.insert("hw_counter".into(), Stored::U32(self.runs));
        self.kv.insert("hw_trigger".into(), Stored::String(trigger.to_string()));
        self.runs
    }

    /// The value a spell's function argument `name` gets (`getDataSrv.<name>`).
    pub fn argument(&self, name: &str) -> Result<Json, String> {
        match self.kv.get(name) {
            Some(Stored::String(text)) => serde_json::from_str(text)
                .map_err(|e| format!("the spell's key '{name}' does not hold JSON, so it cannot be an argument: {e}")),
            Some(_) => Err(format!("the spell's key '{name}' does not hold a string, so it cannot be an argument")),
            None => Err(format!("the spell has no key '{name}' for the argument of that name (give it in init_args)")),
        }
    }

    /// Records the error a run of the spell did not catch (`errorHandlingSrv.error`).
    pub fn store_error(&mut self, particle_id: &str, time_ms: u64, error: Json, index: u32) {
        let entry = json!({"last_error": error, "error_idx": index});
        match self.errors.iter_mut().find(|p| p.particle_id == particle_id) {
            Some(p) => p.errors.push(entry),
            None => {
                self.errors.push_back(ParticleErrors { particle_id: particle_id.to_owned(), time_ms, errors: vec![entry] });
                if self.errors.len() > MAX_ERROR_PARTICLES {
                    self.errors.pop_front();
                }
            }
        }
    }

    pub fn kv(&self) -> &BTreeMap<String, Stored> {
        &self.kv
    }

    pub fn logs(&self) -> impl Iterator<Item = &Log> {
        self.logs.iter()
    }

    pub fn errors(&self) -> impl Iterator<Item = &ParticleErrors> {
        self.errors.iter()
    }

    /// Serves `Spell.<function>`; `None` when the service has no such function. Only bad
    /// arguments are errors; refusals are in the result record.
    pub fn call(&mut self, function: &str, args: &[Json], access: &Access<'_>) -> Option<Result<Json, String>> {
        FUNCTIONS.contains(&function).then(|| self.serve(function, args, access))
    }

    fn serve(&mut self, function: &str, args: &[Json], access: &Access<'_>) -> Result<Json, String> {
        let a = Args::new("Spell", function, args);
        let key = |i: usize| a.str(i);
        Ok(match function {
            "exists" => {
                a.exactly(1)?;
                json!({"value": self.kv.contains_key(key(0)?), "success": true, "error": ""})
            }
            "get_string" => {
                a.exactly(1)?;
                match self.kv.get(key(0)?) {
                    Some(Stored::String(s)) => json!({"value": s, "success": true, "error": "", "absent": false}),
                    Some(_) => {
                        json!({"value": "", "success": false, "error": format!("'{}' does not hold a string", key(0)?), "absent": false})
                    }
                    None => json!({"value": "", "success": true, "error": "", "absent": true}),
                }
            }
            "get_u32" => {
                a.exactly(1)?;
                match self.kv.get(key(0)?) {
                    Some(Stored::U32(n)) => json!({"value": n, "success": true, "error": "", "absent": false}),
                    Some(_) => {
                        json!({"value": 0, "success": false, "error": format!("'{}' does not hold a u32", key(0)?), "absent": false})
                    }
                    None => json!({"value": 0, "success": true, "error": "", "absent": true}),
                }
            }
            "set_string" | "set_u32" | "remove_key" | "list_push_string" | "list_remove_string" => {
                a.exactly(if function == "remove_key" { 1 } else { 2 })?;
                let k = key(0)?;
                if !access.may_write(k) {
                    return Ok(unit(Err(denied(function, k, access))));
                }
                let k = k.to_owned();
                match function {
                    "set_string" => {
                        self.kv.insert(k, Stored::String(a.str(1)?.to_owned()));
                    }
                    "set_u32" => {
                        self.kv.insert(k, Stored::U32(a.u32(1)?));
                    }
                    "remove_key" => {
                        self.kv.remove(&k);
                    }
                    "list_push_string" => {
                        let value = a.str(1)?.to_owned();
                        match self.kv.entry(k) {
                            std::collections::btree_map::Entry::Occupied(mut e) => match e.get_mut() {
                                Stored::List(list) => list.push(value),
                                _ => return Ok(unit(Err(format!("'{}' does not hold a list", e.key())))),
                            },
                            std::collections::btree_map::Entry::Vacant(e) => {
                                e.insert(Stored::List(vec![value]));
                            }
                        }
                    }
                    _ => {
                        let value = a.str(1)?;
                        if let Some(Stored::List(list)) = self.kv.get_mut(&k) {
                            list.retain(|s| s != value);
                        }
                    }
                }
                unit(Ok(()))
            }
            "list_pop_string" => {
                a.exactly(1)?;
                let k = key(0)?;
                if !access.may_write(k) {
                    return Ok(json!({"value": "", "success": false, "error": denied(function, k, access), "absent": false}));
                }
                match self.kv.get_mut(k) {
                    Some(Stored::List(list)) => match list.pop() {
                        Some(v) => json!({"value": v, "success": true, "error": "", "absent": false}),
                        None => json!({"value": "", "success": true, "error": "", "absent": true}),
                    },
                    Some(_) => json!({"value": "", "success": false, "error": format!("'{k}' does not hold a list"), "absent": false}),
                    None => json!({"value": "", "success": true, "error": "", "absent": true}),
                }
            }
            "list_get_strings" => {
                a.exactly(1)?;
                match self.kv.get(key(0)?) {
                    Some(Stored::List(list)) => json!({"value": list, "success": true, "error": ""}),
                    Some(_) => json!({"value": [], "success": false, "error": format!("'{}' does not hold a list", key(0)?)}),
                    None => json!({"value": [], "success": true, "error": ""}),
                }
            }
            "set_json_fields" => {
                a.exactly(1)?;
                let fields = match serde_json::from_str::<Json>(a.str(0)?) {
                    Ok(Json::Object(fields)) => fields,
                    Ok(_) => return Ok(unit(Err("set_json_fields: the JSON must be an object".into()))),
                    Err(e) => return Ok(unit(Err(format!("set_json_fields: not JSON: {e}")))),
                };
                if let Some(k) = fields.keys().find(|k| !access.may_write(k)) {
                    return Ok(unit(Err(denied(function, k, access))));
                }
                self.set_fields(&fields);
                unit(Ok(()))
            }
            "get_script" => {
                a.exactly(0)?;
                json!({"value": self.script, "success": true, "error": ""})
            }
            "script_cid" => {
                a.exactly(0)?;
                json!({"value": cid_v1_raw(self.script.as_bytes()), "success": true, "error": ""})
            }
            "set_script" => {
                a.exactly(1)?;
                if !access.is_manager {
                    return Ok(unit(Err(format!("set_script: only the host or the management peer may, not {}", access.init_peer_id))));
                }
                air_vm::syntax::parse(a.str(0)?).map_err(|_| a.error("the script is not valid AIR"))?;
                self.script = a.str(0)?.to_owned();
                unit(Ok(()))
            }
            "get_trigger_config" => {
                a.exactly(0)?;
                json!({"config": self.trigger.to_config(access.epoch_ms), "success": true, "error": ""})
            }
            "set_trigger_config" => {
                a.exactly(1)?;
                if !access.is_manager {
                    return Ok(unit(Err(format!(
                        "set_trigger_config: only the host or the management peer may, not {}",
                        access.init_peer_id
                    ))));
                }
                match Trigger::from_config(a.get(0)?, access.epoch_ms, access.now_ms) {
                    Ok(trigger) => {
                        self.trigger = trigger;
                        self.generation += 1;
                        unit(Ok(()))
                    }
                    Err(e) => unit(Err(format!("set_trigger_config: {e}"))),
                }
            }
            "store_log" => {
                a.exactly(1)?;
                if !access.is_spell {
                    return Ok(unit(Err(format!("store_log: only the spell itself may log, not {}", access.init_peer_id))));
                }
                self.logs.push_back(Log { time_ms: access.now_ms, message: a.str(0)?.to_owned() });
                if self.logs.len() > MAX_LOGS {
                    self.logs.pop_front();
                }
                unit(Ok(()))
            }
            "get_logs" => {
                a.exactly(0)?;
                let logs: Vec<Json> =
                    self.logs.iter().map(|l| json!({"timestamp": (access.epoch_ms + l.time_ms) / 1000, "message": l.message})).collect();
                json!({"logs": logs, "success": true, "error": ""})
            }
            "push_mailbox" => {
                a.exactly(1)?;
                self.mailbox.push_back(Mail {
                    init_peer_id: access.init_peer_id.to_owned(),
                    timestamp: (access.epoch_ms + access.now_ms) / 1000,
                    message: a.str(0)?.to_owned(),
                });
                if self.mailbox.len() > MAX_MAILBOX {
                    self.mailbox.pop_front();
                }
                unit(Ok(()))
            }
            "get_mailbox" => {
                a.exactly(0)?;
                let messages: Vec<Json> = self.mailbox.iter().rev().map(mail_json).collect();
                json!({"messages": messages, "success": true, "error": ""})
            }
            "pop_mailbox" => {
                a.exactly(0)?;
                if !access.is_spell {
                    let e = format!("pop_mailbox: only the spell itself may, not {}", access.init_peer_id);
                    return Ok(json!({"message": [], "success": false, "absent": false, "error": e}));
                }
                match self.mailbox.pop_back() {
                    Some(m) => json!({"message": [mail_json(&m)], "success": true, "absent": false, "error": ""}),
                    None => json!({"message": [], "success": true, "absent": true, "error": ""}),
                }
            }
            "store_error" => {
                a.exactly(3)?;
                if !access.is_spell {
                    return Ok(unit(Err(format!("store_error: only the spell itself may, not {}", access.init_peer_id))));
                }
                self.store_error(access.particle_id, access.now_ms, a.get(0)?.clone(), a.u32(1)?);
                unit(Ok(()))
            }
            "get_errors" => {
                a.exactly(1)?;
                let id = a.str(0)?;
                Json::Array(self.errors.iter().find(|p| p.particle_id == id).map(|p| p.errors.clone()).unwrap_or_default())
            }
            "get_all_errors" => {
                a.exactly(0)?;
                let all: Vec<Json> = self.errors.iter().map(|p| json!({"particle_id": p.particle_id, "errors": p.errors})).collect();
                json!({"particle_errors": all, "success": true, "error": ""})
            }
            _ => return Err(a.error("no such function")),
        })
    }
}

/// The functions of the `Spell` service.
pub const FUNCTIONS: &[&str] = &[
    "exists",
    "get_string",
    "get_u32",
    "set_string",
    "set_u32",
    "remove_key",
    "list_push_string",
    "list_remove_string",
    "list_pop_string",
    "list_get_strings",
    "set_json_fields",
    "get_script",
    "script_cid",
    "set_script",
    "get_trigger_config",
    "set_trigger_config",
    "store_log",
    "get_logs",
    "push_mailbox",
    "get_mailbox",
    "pop_mailbox",
    "store_error",
    "get_errors",
    "get_all_errors",
];

fn mail_json(m: &Mail) -> Json {
    json!({"init_peer_id": m.init_peer_id, "timestamp": m.timestamp, "message": m.message})
}

/// The CIDv1 of `bytes` as a raw block (codec 0x55) with a SHA-256 multihash, in
/// base32 (lower case, no padding, multibase prefix `b`), as IPFS writes it.
pub fn cid_v1_raw(bytes: &[u8]) -> String {
    use sha2::Digest;
    let mut cid = vec![0x01, 0x55, 0x12, 0x20];
    cid.extend_from_slice(&sha2::Sha256::digest(bytes));
    let alphabet = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::from("b");
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in cid {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(alphabet[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(alphabet[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(is_spell: bool, is_host: bool) -> Access<'static> {
        Access { is_spell, is_host, is_manager: is_host, init_peer_id: "someone", particle_id: "p", now_ms: 1500, epoch_ms: 1_000_000 }
    }

    fn spell() -> Spell {
        Spell::new("id".into(), Some("s".into()), 0, "(null)".into(), Trigger::default())
    }

    fn call(s: &mut Spell, f: &str, args: Json, a: &Access<'_>) -> Json {
        let Json::Array(args) = args else { panic!("args must be an array") };
        s.call(f, &args, a).expect("a Spell function").expect("well-formed arguments")
    }

    #[test]
    fn strings_numbers_and_lists() {
        let (mut s, me) = (spell(), access(true, true));
        assert_eq!(call(&mut s, "get_string", json!(["k"]), &me)["absent"], json!(true));
        call(&mut s, "set_string", json!(["k", "v"]), &me);
        assert_eq!(call(&mut s, "get_string", json!(["k"]), &me)["value"], json!("v"));
        call(&mut s, "set_u32", json!(["n", 7]), &me);
        assert_eq!(call(&mut s, "get_u32", json!(["n"]), &me)["value"], json!(7));
        assert_eq!(call(&mut s, "get_string", json!(["n"]), &me)["success"], json!(false));
        for v in ["a", "b", "a"] {
            call(&mut s, "list_push_string", json!(["l", v]), &me);
        }
        assert_eq!(call(&mut s, "list_pop_string", json!(["l"]), &me)["value"], json!("a"));
        call(&mut s, "list_remove_string", json!(["l", "a"]), &me);
        assert_eq!(call(&mut s, "list_get_strings", json!(["l"]), &me)["value"], json!(["b"]));
        assert_eq!(call(&mut s, "exists", json!(["l"]), &me)["value"], json!(true));
        call(&mut s, "remove_key", json!(["l"]), &me);
        assert_eq!(call(&mut s, "exists", json!(["l"]), &me)["value"], json!(false));
    }

    #[test]
    fn json_fields_become_arguments() {
        let (mut s, me) = (spell(), access(true, true));
        call(&mut s, "set_json_fields", json!([r#"{"target": "R1", "n": [1, 2]}"#]), &me);
        assert_eq!(call(&mut s, "get_string", json!(["target"]), &me)["value"], json!("\"R1\""));
        assert_eq!(s.argument("n"), Ok(json!([1, 2])));
        assert!(s.argument("missing").unwrap_err().contains("init_args"));
        let bad = call(&mut s, "set_json_fields", json!(["[1]"]), &me);
        assert_eq!(bad["success"], json!(false));
    }

    #[test]
    fn writes_follow_the_roles() {
        let mut s = spell();
        let (stranger, host) = (access(false, false), access(false, true));
        let refused = call(&mut s, "set_string", json!(["k", "v"]), &stranger);
        assert_eq!(refused["success"], json!(false));
        assert!(refused["error"].as_str().unwrap().contains("may not write 'k'"));
        assert_eq!(call(&mut s, "set_string", json!(["k", "v"]), &host)["success"], json!(false));
        assert_eq!(call(&mut s, "set_string", json!(["h_k", "v"]), &host)["success"], json!(true));
        assert_eq!(call(&mut s, "store_log", json!(["hi"]), &host)["success"], json!(false));
        assert_eq!(call(&mut s, "push_mailbox", json!(["hello"]), &stranger)["success"], json!(true));
        assert_eq!(call(&mut s, "pop_mailbox", json!([]), &stranger)["success"], json!(false));
        assert!(s.call("set_string", &[json!(1)], &host).unwrap().is_err(), "bad arguments fail the call");
        assert!(s.call("no_such", &[], &host).is_none());
    }

    #[test]
    fn logs_mailbox_and_errors_keep_their_limits() {
        let (mut s, me) = (spell(), access(true, true));
        for i in 0..MAX_LOGS + 3 {
            call(&mut s, "store_log", json!([format!("log {i}")]), &me);
        }
        let logs = call(&mut s, "get_logs", json!([]), &me)["logs"].as_array().unwrap().clone();
        assert_eq!((logs.len(), logs[0]["message"].clone()), (MAX_LOGS, json!("log 3")));
        assert_eq!(logs[0]["timestamp"], json!(1001));
        call(&mut s, "push_mailbox", json!(["first"]), &me);
        call(&mut s, "push_mailbox", json!(["second"]), &me);
        assert_eq!(call(&mut s, "get_mailbox", json!([]), &me)["messages"][0]["message"], json!("second"));
        assert_eq!(call(&mut s, "pop_mailbox", json!([]), &me)["message"][0]["message"], json!("second"));
        for i in 0..MAX_ERROR_PARTICLES + 1 {
            s.store_error(&format!("p{i}"), 0, json!({"message": "boom"}), 1);
        }
        assert_eq!(call(&mut s, "get_errors", json!(["p0"]), &me), json!([]));
        assert_eq!(call(&mut s, "get_errors", json!(["p1"]), &me)[0]["error_idx"], json!(1));
    }

    #[test]
    fn trigger_configs_follow_the_reference_rules() {
        let epoch = 1_000_000_000;
        let config = |start: u64, end: u64, period: u64| {
            json!({"clock": {"start_sec": start, "end_sec": end, "period_sec": period},
                   "connections": {"connect": false, "disconnect": true},
                   "blockchain": {"start_block": 0, "end_block": 0}})
        };
        let t = Trigger::from_config(&config(0, 0, 5), epoch, 0).unwrap();
        assert_eq!((t.clock, t.disconnect), (None, true));
        // A start in the past means now.
        let t = Trigger::from_config(&config(1, 0, 5), epoch, 2000).unwrap();
        assert_eq!(t.clock, Some(Clock { start_ms: 2000, period_ms: 5000, end_ms: None }));
        let t = Trigger::from_config(&config(1_000_010, 1_000_020, 1), epoch, 0).unwrap();
        assert_eq!(t.clock, Some(Clock { start_ms: 10_000, period_ms: 1000, end_ms: Some(20_000) }));
        assert_eq!(Trigger::from_config(&t.to_config(epoch), epoch, 0), Ok(t));
        assert!(Trigger::from_config(&config(1_000_010, 1_000_005, 1), epoch, 0).unwrap_err().contains("before it starts"));
        assert!(Trigger::from_config(&config(1_000_010, 999_000, 1), epoch, 0).unwrap_err().contains("in the past"));
        assert!(Trigger::from_config(&json!({}), epoch, 0).unwrap_err().contains("clock.start_sec"));
    }

    #[test]
    fn clocks_fire_from_start_to_end() {
        let c = Clock { start_ms: 100, period_ms: 50, end_ms: Some(200) };
        assert_eq!((c.first(0), c.after(100), c.after(150)), (Some(100), Some(150), None));
        assert_eq!(c.first(300), None);
        assert_eq!(Clock { start_ms: 0, period_ms: 0, end_ms: None }.after(0), None);
    }

    #[test]
    fn cid_of_empty_bytes_matches_ipfs() {
        // `ipfs add --raw-leaves --cid-version 1` of an empty file.
        assert_eq!(cid_v1_raw(b""), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    }
}
