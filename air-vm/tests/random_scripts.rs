//! Random AIR scripts on a network of honest peers, delivered in random orders.
//!
//! Whatever the script and the order, a peer never meets an error that only bad input
//! should cause (a preparation error or an uncatchable one), runs are reproducible, and
//! an observer merging every data the run produced, in any order, ends with one trace
//! (in the form in which peers must agree, see [`agreed`]).

use air_vm::data::Data;
use air_vm::local::{LocalNetwork, LocalRun};
use air_vm::trace::{CallState, State, Trace};
use air_vm::{CallRequest, CallResult, invoke};
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;

/// The shape of a script; [`Render`] turns it into valid AIR, choosing among the
/// variables defined so far by the numbers drawn here.
#[derive(Debug, Clone)]
enum Node {
    Seq(Box<Node>, Box<Node>),
    Par(Box<Node>, Box<Node>),
    Xor(Box<Node>, Box<Node>),
    Call { peer: u8, function: u8, argument: u8, output: u8 },
    Ap { argument: u8, stream: u8 },
    Canon { peer: u8, stream: u8 },
    ApMap { key: u8, argument: u8 },
    CanonMap { peer: u8 },
    New { stream: u8, body: Box<Node> },
    FoldCanon { canon: u8, body: Box<Node>, par: bool },
    FoldStream { body: Box<Node> },
    Match { argument: u8, body: Box<Node> },
    Fail,
    Null,
}

/// A script: a few random parts, in sequence or in parallel (a single random tree is
/// most often a leaf).
fn script() -> impl Strategy<Value = Node> {
    prop::collection::vec((node(), any::<bool>()), 1..8).prop_map(|parts| {
        let mut parts = parts.into_iter().rev();
        let (mut script, _) = parts.next().expect("at least one part");
        for (part, parallel) in parts {
            script = if parallel { Node::Par(Box::new(part), Box::new(script)) } else { Node::Seq(Box::new(part), Box::new(script)) };
        }
        script
    })
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        4 => (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>())
            .prop_map(|(peer, function, argument, output)| Node::Call { peer, function, argument, output }),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(argument, stream)| Node::Ap { argument, stream }),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(peer, stream)| Node::Canon { peer, stream }),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(key, argument)| Node::ApMap { key, argument }),
        1 => any::<u8>().prop_map(|peer| Node::CanonMap { peer }),
        1 => Just(Node::Fail),
        1 => Just(Node::Null),
    ];
    leaf.prop_recursive(5, 48, 3, |inner| {
        prop_oneof![
            3 => (inner.clone(), inner.clone()).prop_map(|(l, r)| Node::Seq(Box::new(l), Box::new(r))),
            3 => (inner.clone(), inner.clone()).prop_map(|(l, r)| Node::Par(Box::new(l), Box::new(r))),
            2 => (inner.clone(), inner.clone()).prop_map(|(l, r)| Node::Xor(Box::new(l), Box::new(r))),
            1 => (any::<u8>(), inner.clone(), any::<bool>()).prop_map(|(canon, b, par)| Node::FoldCanon { canon, body: Box::new(b), par }),
            1 => inner.clone().prop_map(|b| Node::FoldStream { body: Box::new(b) }),
            1 => (any::<u8>(), inner.clone()).prop_map(|(argument, b)| Node::Match { argument, body: Box::new(b) }),
            1 => (any::<u8>(), inner).prop_map(|(stream, b)| Node::New { stream, body: Box::new(b) }),
        ]
    })
}

const PEERS: [&str; 4] = ["%init_peer_id%", "@a", "@b", "@c"];
const STREAMS: [&str; 2] = ["$s", "$t"];

/// Writes a [`Node`] as AIR, keeping it valid: every variable read is defined earlier in
/// the text (a stream folded over included), every scalar is written once (fresh names),
/// a fold's iterator is seen only in its body, and no fold feeds the stream it goes over.
#[derive(Default)]
struct Render {
    scalars: Vec<String>,
    canons: Vec<String>,
    /// How many folds over `$s` enclose this position.
    folding: usize,
    /// Whether `$s` is written earlier in the text: a fold over it needs that.
    s_written: bool,
    fresh: usize,
}

impl Render {
    fn name(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    /// A call argument: a literal, or a scalar or canon defined so far.
    fn argument(&self, n: u8) -> String {
        self.pick(n, self.canons.iter())
    }

    /// A value for `ap` and `match`: as an argument, but a canon map only with a lens.
    fn value(&self, n: u8) -> String {
        self.pick(n, self.canons.iter().filter(|c| !c.starts_with("#%")))
    }

    /// A stream map key: a literal, or a scalar (which may hold an object, a catchable error).
    fn key(&self, n: u8) -> String {
        self.pick(n, [].iter())
    }

    fn pick<'s>(&'s self, n: u8, canons: impl Iterator<Item = &'s String>) -> String {
        let defined: Vec<&String> = self.scalars.iter().chain(canons).collect();
        if defined.is_empty() || n.is_multiple_of(3) { format!("\"lit{}\"", n % 4) } else { defined[n as usize % defined.len()].clone() }
    }

    /// A stream this position may write to. Folds go over `$s` only, and write only to
    /// `$t`: `$s` still grows while it is folded (from outside the fold), but no fold
    /// feeds one, which would never end.
    fn writable(&mut self, n: u8) -> &'static str {
        let stream = if self.folding > 0 { STREAMS[1] } else { STREAMS[n as usize % STREAMS.len()] };
        self.s_written |= stream == STREAMS[0];
        stream
    }

    fn air(&mut self, node: &Node) -> String {
        match node {
            Node::Seq(l, r) => format!("(seq {} {})", self.air(l), self.air(r)),
            Node::Par(l, r) => format!("(par {} {})", self.air(l), self.air(r)),
            Node::Xor(l, r) => format!("(xor {} {})", self.air(l), self.air(r)),
            Node::Call { peer, function, argument, output } => {
                let peer = PEERS[*peer as usize % PEERS.len()];
                let function = if function % 5 == 0 { "fail" } else { "ok" };
                let argument = self.argument(*argument);
                let output = match output % 3 {
                    0 => String::new(),
                    1 => {
                        let x = self.name("x");
                        self.scalars.push(x.clone());
                        x
                    }
                    _ => self.writable(*output).to_owned(),
                };
                format!("(call {peer} (\"s\" \"{function}\") [{argument}] {output})")
            }
            Node::Ap { argument, stream } => format!("(ap {} {})", self.value(*argument), self.writable(*stream)),
            Node::Canon { peer, stream } => {
                let canon = self.name("#c");
                let air = format!("(canon {} {} {canon})", PEERS[*peer as usize % PEERS.len()], STREAMS[*stream as usize % STREAMS.len()]);
                self.canons.push(canon);
                air
            }
            Node::ApMap { key, argument } => {
                let key = if key % 4 == 0 { self.key(*argument) } else { format!("\"k{}\"", key % 3) };
                format!("(ap ({key} {}) %m)", self.value(argument.wrapping_add(1)))
            }
            Node::CanonMap { peer } => {
                let canon = self.name("#%m");
                let air = format!("(canon {} %m {canon})", PEERS[*peer as usize % PEERS.len()]);
                self.canons.push(canon);
                air
            }
            Node::New { stream, body } => format!("(new {} {})", STREAMS[*stream as usize % STREAMS.len()], self.air(body)),
            Node::FoldCanon { canon, body, par } => {
                if self.canons.is_empty() {
                    return "(null)".into();
                }
                let iterable = self.canons[*canon as usize % self.canons.len()].clone();
                let i = self.name("i");
                let body = self.scoped(&i, false, body);
                let join = if *par { "par" } else { "seq" };
                format!("(fold {iterable} {i} ({join} {body} (next {i})))")
            }
            Node::FoldStream { body } => {
                if !self.s_written {
                    return "(null)".into();
                }
                let i = self.name("i");
                let body = self.scoped(&i, true, body);
                format!("(fold {} {i} (par {body} (next {i})))", STREAMS[0])
            }
            Node::Match { argument, body } => {
                let left = self.value(*argument);
                let right = self.value(argument.wrapping_add(1));
                format!("(match {left} {right} {})", self.air(body))
            }
            Node::Fail => "(fail 77 \"boom\")".into(),
            Node::Null => "(null)".into(),
        }
    }

    /// A fold body: its iterator and the scalars it defines are not seen after it.
    fn scoped(&mut self, iterator: &str, over_stream: bool, body: &Node) -> String {
        let (scalars, canons) = (self.scalars.len(), self.canons.len());
        self.scalars.push(iterator.to_owned());
        self.folding += usize::from(over_stream);
        let air = self.air(body);
        self.folding -= usize::from(over_stream);
        self.scalars.truncate(scalars);
        self.canons.truncate(canons);
        air
    }
}

fn services(peer: &str, r: &CallRequest) -> CallResult {
    match r.function_name.as_str() {
        "fail" => CallResult::error(1, format!("failed on {peer}")),
        _ => CallResult::ok(json!({"peer": peer, "got": r.arguments.len()})),
    }
}

/// A delivery order drawn from `seed` (0: first in, first out).
fn order(seed: u64) -> impl FnMut(usize) -> usize {
    let mut x = seed;
    move |n| {
        if seed == 0 {
            return 0;
        }
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((x >> 33) as usize) % n
    }
}

/// The trace in the form in which peers must agree: normalized (a fold over a stream
/// lists its iterations in the order their values reached the peer), and without who
/// sent each unanswered request (of two "request sent" states, merging keeps the one
/// already held, as AquaVM does). Nothing else may depend on the order data arrives in.
fn agreed(trace: &Trace) -> Trace {
    let mut trace = trace.normalized();
    for state in trace.subtraces.iter_mut().flatten() {
        if let State::Call(CallState::RequestSent { by, call_id }) = state {
            by.clear();
            *call_id = None;
        }
    }
    trace
}

/// Errors only bad input may cause: before the run (1..=10) or uncatchable (20000..).
fn input_errors(run: &LocalRun) -> Vec<&(String, i64, String)> {
    run.errors.iter().filter(|(_, code, _)| (1..=10).contains(code) || *code >= 20000).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn honest_peers_converge_on_any_script_in_any_order(shape in script(), seeds in prop::array::uniform3(1u64..u64::MAX)) {
        let mut net = LocalNetwork::new(&["init", "a", "b", "c", "observer"]);
        net.max_deliveries = 400;
        let air = net.expand(&Render::default().air(&shape));
        prop_assert!(air_vm::syntax::parse(&air).is_ok(), "the generator wrote invalid AIR: {air}");
        for seed in [0].into_iter().chain(seeds) {
            let run = net.run_ordered(&air, "init", &mut services, &mut order(seed));
            prop_assert!(input_errors(&run).is_empty(), "order {seed}: {:?}\n{air}", input_errors(&run));
            // Reproducible: the same order gives the same bytes.
            let again = net.run_ordered(&air, "init", &mut services, &mut order(seed));
            prop_assert_eq!(&run.data, &again.data, "order {} ran otherwise a second time\n{}", seed, air);

            // Every data of the run, merged by an observer in three orders.
            let mut blobs: Vec<&Vec<u8>> = run.delivered.iter().map(|(_, d)| d).collect();
            blobs.extend(run.data.values());
            let params = net.params("init", "observer");
            let observe = |order: &mut dyn Iterator<Item = usize>| -> Result<Data<'static>, String> {
                let mut data = Vec::new();
                for i in order {
                    let out = invoke(&air, &data, blobs[i], &params, BTreeMap::new());
                    if out.ret_code != 0 && (out.ret_code <= 10 || out.ret_code >= 20000) {
                        return Err(format!("{}: {}", out.ret_code, out.error_message));
                    }
                    data = out.data;
                }
                Ok(Data::from_bytes(&data).map_err(|e| e.to_string())?.into_owned())
            };
            let forward = observe(&mut (0..blobs.len()));
            let backward = observe(&mut (0..blobs.len()).rev());
            let mut pick = order(seed ^ 0x9e37_79b9);
            let mut left: Vec<usize> = (0..blobs.len()).collect();
            let mut shuffled = std::iter::from_fn(|| (!left.is_empty()).then(|| left.remove(pick(left.len()))));
            let shuffled = observe(&mut shuffled);
            let (forward, backward, shuffled) = match (forward, backward, shuffled) {
                (Ok(f), Ok(b), Ok(s)) => (f, b, s),
                (f, b, s) => return Err(TestCaseError::fail(format!("the observer rejected data: {:?} {:?} {:?}\n{air}", f.err(), b.err(), s.err()))),
            };
            let (forward_trace, backward_trace, shuffled_trace) =
                (agreed(&forward.trace), agreed(&backward.trace), agreed(&shuffled.trace));
            prop_assert_eq!(&forward_trace, &backward_trace, "order {}\n{}", seed, air);
            prop_assert_eq!(&forward_trace, &shuffled_trace, "order {}\n{}", seed, air);
            prop_assert_eq!(&forward.store, &shuffled.store);
        }
    }
}
