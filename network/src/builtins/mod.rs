//! Builtin services: the services every peer offers without deploying anything.
//!
//! They follow the Fluence peer (nox) builtins in names, arguments and results, so AIR
//! compiled against `aqua-lib` finds what it expects. The module is pure: whatever a
//! builtin may know (the serving peer, the particle, virtual time, the routing table,
//! the connections, the peer's key) comes in a [`CallContext`], and [`call`] only
//! computes an [`Outcome`]. No clock, I/O or threads; same inputs, same outcome.
//!
//! | service | functions |
//! |---|---|
//! | `peer` | `identify`, `timestamp_ms`, `timestamp_sec`, `timeout`, `is_connected`, `get_contact` |
//! | `kad` | `neighborhood`, `merge` |
//! | `op` | `noop`, `identity`, `array`, `array_length`, `concat`, `concat_strings`, `string_to_b58`, `string_from_b58`, `bytes_to_b58`, `bytes_from_b58`, `sha256_string` |
//! | `math` | `add`, `sub`, `mul`, `div`, `rem`, `pow`, `fmul`, `log` |
//! | `cmp` | `gt`, `gte`, `lt`, `lte`, `cmp` |
//! | `array` | `sum`, `dedup`, `intersect`, `diff`, `sdiff`, `slice`, `length` |
//! | `debug` | `stringify` |
//! | `json` | `obj`, `put`, `puts`, `parse`, `stringify`, `obj_pairs`, `puts_pairs` |
//! | `sig` | `get_peer_id`, `sign`, `verify` |
//! | `run-console` | `print` |
//! | `random` | `next_u32` |
//!
//! The simulator itself serves `srv`, `spell` and `subnet`, which need the network's
//! state (see `sim.rs`).
//!
//! Conventions shared by all of them:
//! - Arguments are checked (count and JSON type) and a failure names the function and
//!   what was wrong: `math.div: division by zero`.
//! - An optional argument (an Aqua `?T`) may be absent, `null`, `[]`, `[x]` or a bare `x`.
//! - "Nothing" results (`op.noop`, `op.identity()`, `run-console.print`) are `""`, as
//!   the reference peer answers an empty outcome.
//! - Optional fields of records (`sig.sign`'s `error` and `signature`) use Aqua's option
//!   encoding: `[]` or `[x]`.

pub(crate) mod args;
mod array;
mod json;
mod kad;
mod math;
mod op;
mod peer;
mod sig;

use serde_json::Value;
use std::fmt;

/// The service ids this module implements, so the network knows which ids are builtin.
pub const SERVICES: &[&str] = &["peer", "kad", "op", "math", "cmp", "array", "debug", "json", "sig", "run-console", "random"];

/// What a builtin may know about the call and the peer serving it.
pub struct CallContext<'a> {
    /// The serving peer's ID.
    pub peer_id: &'a str,
    pub init_peer_id: &'a str,
    pub particle_id: &'a str,
    /// Virtual time of the simulation, milliseconds.
    pub now_ms: u64,
    /// Where each argument came from (one tetraplet per value; several for a canon).
    pub tetraplets: &'a [Vec<air_vm::Tetraplet>],
    /// Peer IDs this peer knows: relays know each other; clients know nobody but their relay.
    pub routing_table: &'a [String],
    /// Whether this peer has a direct connection to a peer.
    pub is_connected: &'a dyn Fn(&str) -> bool,
    /// The serving peer's key (for `sig.*`).
    pub key: &'a air_vm::sign::KeyPair,
    pub external_addresses: &'a [String],
    /// A fresh draw from the run's seeded generator, for `random` (0 for other services).
    pub random: u64,
}

impl fmt::Debug for CallContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallContext")
            .field("peer_id", &self.peer_id)
            .field("init_peer_id", &self.init_peer_id)
            .field("particle_id", &self.particle_id)
            .field("now_ms", &self.now_ms)
            .field("tetraplets", &self.tetraplets)
            .field("routing_table", &self.routing_table)
            .field("external_addresses", &self.external_addresses)
            .field("random", &self.random)
            .finish_non_exhaustive()
    }
}

/// What a builtin call comes to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The call succeeded with this value.
    Ok(Value),
    /// The call failed with this message (the VM sees ret_code 1 and the message as a JSON string).
    Err(String),
    /// `peer.timeout`: answer with `value` after `after_ms` of virtual time.
    After { after_ms: u64, value: Value },
    /// No such builtin service or function (the caller decides the message).
    NotFound,
}

impl From<Result<Value, String>> for Outcome {
    fn from(r: Result<Value, String>) -> Self {
        match r {
            Ok(v) => Outcome::Ok(v),
            Err(e) => Outcome::Err(e),
        }
    }
}

/// Calls `service.function(args)` as the peer described by `ctx`.
pub fn call(service: &str, function: &str, args: &[Value], ctx: &CallContext<'_>) -> Outcome {
    let a = args::Args::new(service, function, args);
    match service {
        "peer" => peer::call(function, &a, ctx),
        "kad" => kad::call(function, &a, ctx),
        "op" => op::call(function, &a),
        "math" => math::call_math(function, &a),
        "cmp" => math::call_cmp(function, &a),
        "array" => array::call(function, &a),
        "debug" => json::call_debug(function, &a),
        "json" => json::call_json(function, &a),
        "sig" => sig::call(function, &a, ctx),
        "run-console" => console(function),
        "random" => random(function, &a, ctx.random),
        _ => Outcome::NotFound,
    }
}

/// `run-console.print(...)` accepts anything and answers `""`. A pure module has nowhere
/// to print; the network records every call with its arguments, which is where the
/// printed values show.
fn console(function: &str) -> Outcome {
    match function {
        "print" => Outcome::Ok(Value::from("")),
        _ => Outcome::NotFound,
    }
}

/// `random.next_u32(bound)`: a uniform integer in `[0, bound)`, from the run's seed, so
/// the same run makes the same choices (the bias of `%` on 64 random bits is below 2^-32).
fn random(function: &str, a: &args::Args<'_>, draw: u64) -> Outcome {
    match function {
        "next_u32" => (|| {
            a.exactly(1)?;
            match a.u32(0)? {
                0 => Err(a.error("the bound must be at least 1")),
                bound => Ok(Value::from(draw % u64::from(bound))),
            }
        })()
        .into(),
        _ => Outcome::NotFound,
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A context for tests: peer `me` (derived key) serving its own particle.

    use super::*;
    use air_vm::sign::KeyPair;

    pub struct Fixture {
        pub key: KeyPair,
        pub peer_id: String,
        pub init_peer_id: String,
        pub routing_table: Vec<String>,
        pub connected: Vec<String>,
        pub now_ms: u64,
        pub external_addresses: Vec<String>,
    }

    impl Fixture {
        pub fn new() -> Self {
            let key = KeyPair::derive("me", 1);
            let peer_id = key.peer_id();
            Fixture {
                key,
                init_peer_id: peer_id.clone(),
                peer_id,
                routing_table: Vec::new(),
                connected: Vec::new(),
                now_ms: 1_700_000_123_456,
                external_addresses: vec!["/ip4/127.0.0.1/tcp/7777".to_owned()],
            }
        }

        pub fn call(&self, service: &str, function: &str, args: Value) -> Outcome {
            let Value::Array(args) = args else { panic!("test arguments must be a JSON array") };
            let is_connected = |p: &str| self.connected.iter().any(|c| c == p);
            let ctx = CallContext {
                peer_id: &self.peer_id,
                init_peer_id: &self.init_peer_id,
                particle_id: "particle-1",
                now_ms: self.now_ms,
                tetraplets: &[],
                routing_table: &self.routing_table,
                is_connected: &is_connected,
                key: &self.key,
                external_addresses: &self.external_addresses,
                random: 0x1234_5678_9abc,
            };
            call(service, function, &args, &ctx)
        }
    }

    /// Calls with the default fixture.
    pub fn run(service: &str, function: &str, args: Value) -> Outcome {
        Fixture::new().call(service, function, args)
    }

    /// Calls with the default fixture and expects success.
    #[track_caller]
    pub fn ok(service: &str, function: &str, args: Value) -> Value {
        match run(service, function, args) {
            Outcome::Ok(v) => v,
            other => panic!("{service}.{function}: expected success, got {other:?}"),
        }
    }

    /// Calls with the default fixture and expects a failure; returns its message.
    #[track_caller]
    pub fn err(service: &str, function: &str, args: Value) -> String {
        match run(service, function, args) {
            Outcome::Err(e) => e,
            other => panic!("{service}.{function}: expected an error, got {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_service_and_function_are_not_found() {
        assert_eq!(run("nope", "noop", json!([])), Outcome::NotFound);
        assert_eq!(run("getDataSrv", "-relay-", json!([])), Outcome::NotFound);
        for service in SERVICES {
            assert_eq!(run(service, "no_such_function", json!([])), Outcome::NotFound, "{service}");
        }
    }

    #[test]
    fn every_listed_service_is_served() {
        // One known function per service, to catch a SERVICES entry without a dispatch arm.
        let probes = [
            ("peer", "timestamp_ms"),
            ("kad", "merge"),
            ("op", "noop"),
            ("math", "add"),
            ("cmp", "cmp"),
            ("array", "length"),
            ("debug", "stringify"),
            ("json", "obj"),
            ("sig", "get_peer_id"),
            ("run-console", "print"),
            ("random", "next_u32"),
        ];
        assert_eq!(probes.len(), SERVICES.len());
        for (service, function) in probes {
            assert!(SERVICES.contains(&service));
            assert_ne!(run(service, function, json!([])), Outcome::NotFound, "{service}.{function}");
        }
    }

    #[test]
    fn console_print_accepts_anything() {
        assert_eq!(ok("run-console", "print", json!([])), json!(""));
        assert_eq!(ok("run-console", "print", json!(["hello", 1, {"a": [null]}])), json!(""));
    }

    #[test]
    fn context_debug_omits_the_closure_and_key() {
        let f = Fixture::new();
        let is_connected = |_: &str| false;
        let ctx = CallContext {
            peer_id: &f.peer_id,
            init_peer_id: &f.init_peer_id,
            particle_id: "p",
            now_ms: 5,
            tetraplets: &[],
            routing_table: &[],
            is_connected: &is_connected,
            key: &f.key,
            external_addresses: &[],
            random: 0,
        };
        let text = format!("{ctx:?}");
        assert!(text.contains("now_ms: 5") && text.contains(".."), "{text}");
        assert!(!text.contains("secret"));
    }

    #[test]
    fn random_draws_below_the_bound() {
        assert_eq!(ok("random", "next_u32", json!([10])), json!(0x1234_5678_9abc_u64 % 10));
        assert!(err("random", "next_u32", json!([0])).contains("at least 1"));
        assert!(err("random", "next_u32", json!([])).contains("random.next_u32"));
    }

    #[test]
    fn result_converts_to_outcome() {
        assert_eq!(Outcome::from(Ok(json!(1))), Outcome::Ok(json!(1)));
        assert_eq!(Outcome::from(Err("x".to_owned())), Outcome::Err("x".to_owned()));
    }
}
