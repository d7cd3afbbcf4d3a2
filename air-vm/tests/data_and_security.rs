//! Bad data never panics and never loses the previous data; signatures stop forgery and replay.

use air_vm::data::{Data, FORMAT_VERSION, MAGIC};
use air_vm::local::LocalNetwork;
use air_vm::trace::{CallState, Generation, State};
use air_vm::{CallRequest, CallResult, Outcome, invoke};
use serde_json::json;
use std::borrow::Cow;
use std::collections::BTreeMap;

// The fuzzer's scenario: a script touching every kind of state and record, and the
// genuine data its peers exchange. Its own checks serve the fuzzer and the corpus test.
#[allow(dead_code)]
#[path = "../fuzz/scenario.rs"]
mod scenario;

const AIR: &str = r#"
(seq
  (call @a ("s" "value") [] x)
  (call %init_peer_id% ("s" "report") [x]))
"#;

fn services(_: &str, r: &CallRequest) -> CallResult {
    match r.function_name.as_str() {
        "value" => CallResult::ok(json!("genuine")),
        _ => CallResult::ok(json!(null)),
    }
}

/// Runs the script and returns (network, script, the data `a` sent to `init`, init's data before it).
fn setup() -> (LocalNetwork, String, Vec<u8>, Vec<u8>) {
    let net = LocalNetwork::new(&["init", "a", "relay"]);
    let air = net.expand(AIR);
    let run = net.run(&air, "init", &mut services);
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    // The last particle init received is the one `a` sent back with its result.
    let from_a = run.delivered.iter().rev().find(|(to, _)| to == "init").map(|(_, d)| d.clone()).unwrap_or_default();
    assert!(!from_a.is_empty());
    // init's state before a's answer: its first invocation, with empty incoming data.
    let first = invoke(&air, &[], &[], &net.params("init", "init"), BTreeMap::new());
    (net, air, from_a, first.data)
}

#[test]
fn decoded_values_and_tetraplets_are_read_in_place_and_encode_to_the_same_bytes() {
    let (_, _, from_a, _) = setup();
    let data = Data::from_bytes(&from_a).unwrap();
    assert!(!data.store.values.is_empty());
    assert!(!data.store.tetraplets.is_empty());
    let texts =
        data.store.values.values().chain(data.store.tetraplets.values().flat_map(|t| [&t.peer_pk, &t.service_id, &t.function_name]));
    for text in texts {
        let Cow::Borrowed(text) = text else { panic!("a decoded text was copied: {text}") };
        // The text is a slice of the bytes it was read from.
        let range = from_a.as_ptr_range();
        assert!(range.contains(&text.as_ptr()), "{text} is not inside the data");
    }
    assert_eq!(data.to_bytes(), from_a);
    assert_eq!(data.clone().into_owned(), data);
}

/// `a`'s data with its answer swapped for another, in a consistent store: what a relay
/// forging a result in `a`'s name would send. Only the signature can tell.
fn forge(from_a: &[u8]) -> Vec<u8> {
    let mut data = Data::from_bytes(from_a).unwrap();
    let result_cid = data.trace.subtraces[0].iter().find_map(|s| match s {
        State::Call(CallState::Executed { result, .. }) => Some(*result),
        _ => None,
    });
    let mut record = data.store.results[&result_cid.unwrap()].clone();
    record.value = data.store.put_value("\"forged\"".into());
    let forged = data.store.put_result(record);
    for s in &mut data.trace.subtraces[0] {
        if let State::Call(CallState::Executed { result, .. }) = s {
            *result = forged;
        }
    }
    data.to_bytes()
}

fn deliver(net: &LocalNetwork, air: &str, prev: &[u8], incoming: &[u8], particle: &str) -> Outcome {
    let mut net = net.clone();
    net.particle_id = particle.to_owned();
    invoke(air, prev, incoming, &net.params("init", "init"), BTreeMap::new())
}

#[test]
fn genuine_data_is_accepted() {
    let (net, air, from_a, prev) = setup();
    let out = deliver(&net, &air, &prev, &from_a, "particle-1");
    assert_eq!(out.ret_code, 0, "{}", out.error_message);
    assert_eq!(out.call_requests.len(), 1);
    assert_eq!(out.call_requests.values().next().map(|r| r.arguments.clone()), Some(vec![json!("genuine")]));
}

#[test]
fn a_result_forged_in_another_peers_name_is_rejected_and_prev_data_kept() {
    let (net, air, from_a, prev) = setup();
    let out = deliver(&net, &air, &prev, &forge(&from_a), "particle-1");
    assert_eq!(out.ret_code, 9, "{}", out.error_message);
    assert!(out.error_message.contains(&net.id("a")), "{}", out.error_message);
    assert_eq!(out.data, prev);
    assert!(out.call_requests.is_empty() && out.next_peers.is_empty());
}

#[test]
fn a_result_without_its_producers_signature_is_rejected() {
    let (net, air, from_a, prev) = setup();
    let mut data = Data::from_bytes(&from_a).unwrap();
    data.signatures.clear();
    let out = deliver(&net, &air, &prev, &data.to_bytes(), "particle-1");
    assert_eq!(out.ret_code, 9);
    assert!(out.error_message.contains("carry no signature"), "{}", out.error_message);
}

#[test]
fn data_replayed_into_another_particle_is_rejected() {
    let (net, air, from_a, _) = setup();
    let out = deliver(&net, &air, &[], &from_a, "particle-2");
    assert_eq!(out.ret_code, 9, "{}", out.error_message);
    assert!(out.data.is_empty());
}

#[test]
fn signatures_can_be_switched_off_for_hand_built_traces() {
    let (mut net, air, from_a, prev) = setup();
    let mut data = Data::from_bytes(&from_a).unwrap();
    data.signatures.clear();
    net.signatures = false;
    let out = invoke(&air, &prev, &data.to_bytes(), &net.params("init", "init"), BTreeMap::new());
    assert_eq!(out.ret_code, 0, "{}", out.error_message);
}

#[test]
fn garbage_truncated_and_unknown_versions_are_clear_errors_and_keep_prev() {
    let (net, air, from_a, prev) = setup();
    let cases: Vec<(Vec<u8>, i64, &str)> = vec![
        (b"not particle data at all".to_vec(), 3, "does not start with the data header"),
        (from_a[..from_a.len() / 2].to_vec(), 3, "malformed"),
        (
            {
                let mut v = from_a.clone();
                v[MAGIC.len()] = 99;
                v
            },
            4,
            "format version 99",
        ),
        (
            {
                let mut v = from_a.clone();
                let n = v.len();
                v[n - 3] ^= 0xff;
                v
            },
            3,
            "",
        ),
    ];
    for (bytes, code, needle) in cases {
        let out = deliver(&net, &air, &prev, &bytes, "particle-1");
        assert!(
            out.ret_code == code || (needle.is_empty() && out.ret_code != 0),
            "code {} for {needle:?}: {}",
            out.ret_code,
            out.error_message
        );
        assert!(out.error_message.contains(needle), "{}", out.error_message);
        assert_eq!(out.data, prev, "the previous data must come back unchanged");
    }
}

#[test]
fn every_single_byte_corruption_is_handled_without_panic() {
    let (net, air, from_a, prev) = setup();
    for i in 0..from_a.len() {
        let mut v = from_a.clone();
        v[i] = v[i].wrapping_add(1 + (i % 200) as u8);
        let out = deliver(&net, &air, &prev, &v, "particle-1");
        if out.ret_code != 0 {
            assert_eq!(out.data, prev);
        }
    }
}

#[test]
fn malformed_air_is_a_preparation_error_with_prev_kept() {
    let (net, _, from_a, prev) = setup();
    let out = deliver(&net, "(seq (null)", &prev, &from_a, "particle-1");
    assert_eq!(out.ret_code, 1);
    assert!(out.error_message.starts_with("AIR parse error"), "{}", out.error_message);
    assert_eq!(out.data, prev);
}

#[test]
fn a_replayed_call_with_different_arguments_is_rejected() {
    let net = LocalNetwork::new(&["init"]);
    let mut services = |_: &str, _: &CallRequest| CallResult::ok(json!(1));
    let first = net.run(r#"(call %init_peer_id% ("s" "f") ["a"] x)"#, "init", &mut services);
    let data = first.data["init"].clone();
    let out = invoke(r#"(call %init_peer_id% ("s" "f") ["b"] x)"#, &data, &[], &net.params("init", "init"), BTreeMap::new());
    assert_eq!(out.ret_code, 20017, "{}", out.error_message);
    assert_eq!(out.data, data);
    let out = invoke(r#"(call %init_peer_id% ("s" "g") ["a"] x)"#, &data, &[], &net.params("init", "init"), BTreeMap::new());
    assert_eq!(out.ret_code, 20017, "{}", out.error_message);
}

#[test]
fn unconsumed_call_results_are_a_farewell_error_but_data_is_produced() {
    let net = LocalNetwork::new(&["init"]);
    let mut results = BTreeMap::new();
    results.insert(77, CallResult::ok(json!(1)));
    let out = invoke("(null)", &[], &[], &net.params("init", "init"), results);
    assert_eq!(out.ret_code, 30000);
    assert!(!out.data.is_empty());
}

#[test]
fn data_round_trips_through_bytes_and_has_a_json_view() {
    let (_, _, from_a, _) = setup();
    let data = Data::from_bytes(&from_a).unwrap();
    assert_eq!(Data::from_bytes(&data.to_bytes()).unwrap(), data);
    let view = data.to_json();
    assert_eq!(view["format_version"], json!(4));
    assert!(view["trace"][0]["states"][0]["call"]["result"] == json!("genuine"), "{view:#}");
}

/// One change to a byte string.
#[derive(Debug, Clone)]
enum Mutation {
    FlipBit(usize, u8),
    SetByte(usize, u8),
    Truncate(usize),
    Remove(usize, usize),
    Insert(usize, u8),
}

impl Mutation {
    fn apply(&self, bytes: &mut Vec<u8>) {
        let at = |i: usize, bytes: &Vec<u8>| i % bytes.len().max(1);
        match *self {
            Mutation::FlipBit(i, bit) if !bytes.is_empty() => {
                let i = at(i, bytes);
                bytes[i] ^= 1 << (bit % 8);
            }
            Mutation::SetByte(i, b) if !bytes.is_empty() => {
                let i = at(i, bytes);
                bytes[i] = b;
            }
            Mutation::Truncate(n) => bytes.truncate(at(n, bytes)),
            Mutation::Remove(i, n) if !bytes.is_empty() => {
                let i = at(i, bytes);
                let end = (i + n % 16).min(bytes.len());
                bytes.drain(i..end);
            }
            Mutation::Insert(i, b) => {
                let i = at(i, bytes);
                bytes.insert(i, b);
            }
            _ => {}
        }
    }
}

fn mutation() -> impl proptest::strategy::Strategy<Value = Mutation> {
    use proptest::prelude::*;
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::SetByte(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<usize>()).prop_map(|(i, n)| Mutation::Remove(i, n)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
    ]
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// Genuine data with a few bytes changed reaches every part of decoding, verification
    /// and merging: each either accepts it or rejects it keeping the previous data.
    #[test]
    fn mutated_data_is_accepted_or_rejected_with_prev_kept(mutations in proptest::collection::vec(mutation(), 1..4)) {
        let rich = scenario::Scenario::get();
        let (net, air, prev) = (&rich.net, rich.air.as_str(), &rich.prev);
        let mut bytes = rich.from_a.clone();
        for m in &mutations {
            m.apply(&mut bytes);
        }
        let _ = Data::from_bytes(&bytes);
        let out = invoke(air, prev, &bytes, &net.params("init", "init"), BTreeMap::new());
        proptest::prop_assert!(out.ret_code == 0 || out.data == *prev, "{}: {}", out.ret_code, out.error_message);
        // A host that parsed the script once gets the same outcome, errors included.
        proptest::prop_assert_eq!(air_vm::invoke_parsed(&rich.script, prev, &bytes, &net.params("init", "init"), BTreeMap::new()), out);
        let out = invoke(air, &[], &bytes, &net.params("init", "a"), BTreeMap::new());
        proptest::prop_assert!(out.ret_code == 0 || out.data.is_empty(), "{}: {}", out.ret_code, out.error_message);
    }

    /// Genuine data whose trace is reshaped (states dropped, repeated, swapped or turned
    /// into another kind) in a consistent envelope reaches merging and replay: they accept
    /// it or reject it keeping the previous data.
    #[test]
    fn reshaped_traces_are_accepted_or_rejected_with_prev_kept(edits in proptest::collection::vec((0usize..64, 0usize..64, 0u8..5), 1..4)) {
        let rich = scenario::Scenario::get();
        let (net, air, prev) = (&rich.net, rich.air.as_str(), &rich.prev);
        let mut data = Data::from_bytes(&rich.from_a).unwrap();
        for (sub, index, op) in edits {
            let n = data.trace.subtraces.len();
            let states = &mut data.trace.subtraces[sub % n];
            if states.is_empty() {
                continue;
            }
            let (len, i) = (states.len(), index % states.len());
            match op {
                0 => drop(states.remove(i)),
                1 => states.insert(i, states[i].clone()),
                2 => states.swap(i, (i + 1) % len),
                3 => states[i] = State::Ap(Generation::Own(0)),
                _ => {
                    if let State::Call(CallState::Executed { .. }) = states[i] {
                        states[i] = State::Call(CallState::RequestSent { by: net.id("a"), call_id: None });
                    }
                }
            }
        }
        let out = invoke(air, prev, &data.to_bytes(), &net.params("init", "init"), BTreeMap::new());
        proptest::prop_assert!(out.ret_code == 0 || out.data == *prev, "{}: {}", out.ret_code, out.error_message);
    }

    #[test]
    fn arbitrary_bytes_as_data_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
        let _ = Data::from_bytes(&bytes);
        let mut framed = MAGIC.to_vec();
        framed.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        framed.push(0);
        framed.extend_from_slice(&bytes);
        let _ = Data::from_bytes(&framed);
        let net = LocalNetwork::new(&["init"]);
        let out = invoke("(null)", &[], &framed, &net.params("init", "init"), BTreeMap::new());
        proptest::prop_assert!(out.ret_code == 0 || out.data.is_empty());
    }
}

#[test]
fn a_known_signature_does_not_cover_a_changed_result() {
    let (net, air, from_a, prev) = setup();
    // The peer has accepted a's genuine data: a's signature is now in its previous data.
    let accepted = deliver(&net, &air, &prev, &from_a, "particle-1");
    assert_eq!(accepted.ret_code, 0);
    let out = deliver(&net, &air, &accepted.data, &forge(&from_a), "particle-1");
    assert_eq!(out.ret_code, 9, "{}", out.error_message);
    assert_eq!(out.data, accepted.data);
}

/// A join snapshots its stream once per value; each snapshot is stored as the elements
/// after the previous one, so the data grows linearly, and every peer sees whole canons.
#[test]
fn growing_snapshots_of_a_stream_share_their_elements() {
    const JOIN: &str = r#"
(seq
  (call %init_peer_id% ("s" "items") [] xs)
  (new $seen
    (seq
      (fold xs x
        (seq
          (seq (ap x $seen) (canon %init_peer_id% $seen #seen))
          (next x)))
      (seq
        (canon %init_peer_id% $seen #all)
        (call @a ("s" "report") [#all #all.length])))))
"#;
    let net = LocalNetwork::new(&["init", "a"]);
    let air = net.expand(JOIN);
    let mut reported = Vec::new();
    let run = net.run(&air, "init", &mut |_: &str, r: &CallRequest| match r.function_name.as_str() {
        "items" => CallResult::ok(json!((0..30).collect::<Vec<u32>>())),
        _ => {
            reported = r.arguments.clone();
            CallResult::ok(json!(null))
        }
    });
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    assert_eq!(reported, [json!((0..30).collect::<Vec<u32>>()), json!(30)], "the peer that replays the snapshots sees them whole");
    let data = Data::from_bytes(&run.data["a"]).unwrap();
    assert_eq!(data.store.canons.len(), 31, "one snapshot per value and the final one");
    let stored: usize = data.store.canons.values().map(|c| c.elements.len()).sum();
    assert_eq!(stored, 30, "each element is stored once, not once per snapshot");
    let full = data.store.canons.values().find(|c| c.len == 30 && c.elements.is_empty()).expect("the final snapshot");
    assert_eq!(data.store.canon_elements(full).len(), 30);
}

/// A snapshot whose recorded length disagrees with its base and elements is refused on
/// arrival, with the previous data kept.
#[test]
fn a_snapshot_with_a_wrong_length_is_rejected() {
    let net = LocalNetwork::new(&["init", "a"]);
    let air = net.expand("(seq (seq (ap 1 $s) (canon %init_peer_id% $s #c)) (call @a (\"s\" \"f\") [#c]))");
    let run = net.run(&air, "init", &mut |_: &str, _: &CallRequest| CallResult::ok(json!(null)));
    let mut data = Data::from_bytes(&run.data["a"]).unwrap();
    let (old, record) = data.store.canons.iter().next().map(|(k, v)| (*k, (**v).clone())).unwrap();
    let mut record = record;
    record.len = 2;
    let tampered = data.store.put_canon(record);
    for states in &mut data.trace.subtraces {
        for s in states {
            if let State::Canon(air_vm::trace::CanonState::Executed { result }) = s
                && *result == old
            {
                *result = tampered;
            }
        }
    }
    let prev = invoke(&air, &[], &[], &net.params("init", "init"), BTreeMap::new()).data;
    let out = invoke(&air, &prev, &data.to_bytes(), &net.params("init", "init"), BTreeMap::new());
    assert_ne!(out.ret_code, 0);
    assert!(out.error_message.contains("says it has 2 elements but has 1"), "{}", out.error_message);
    assert_eq!(out.data, prev);
}

/// The CIDs are part of the data format: each is BLAKE3 over the layout the book gives,
/// for small records (hashed in one call) and big ones (hashed as a stream) alike.
#[test]
fn cids_are_blake3_over_the_documented_layouts() {
    use air_vm::data::{canon_cid, result_cid, tetraplet_cid};
    use air_vm::value::{Cid, Tetraplet};
    let blake3 = |bytes: &[u8]| Cid(*blake3::hash(bytes).as_bytes());

    for text in [r#"{"a":1}"#.to_owned(), format!("\"{}\"", "x".repeat(5000))] {
        assert_eq!(Cid::of("json", text.as_bytes()), blake3(&[b"json\0", text.as_bytes()].concat()));
    }
    for lens in [".$.a".to_owned(), format!(".$.{}", "k".repeat(3000))] {
        let t = Tetraplet { peer_pk: "12D3KooWpeer".into(), service_id: "srv".into(), function_name: "f".into(), lens };
        let mut layout = b"tetraplet\0".to_vec();
        for field in [&t.peer_pk, &t.service_id, &t.function_name, &t.lens] {
            layout.extend_from_slice(&(field.len() as u64).to_le_bytes());
            layout.extend_from_slice(field.as_bytes());
        }
        assert_eq!(tetraplet_cid(&t), blake3(&layout));
    }

    // A result names its value, the hash of its arguments' JSON array, and its tetraplet.
    let net = LocalNetwork::new(&["init"]);
    let air = r#"(call %init_peer_id% ("s" "f") [1 "two" [] true] x)"#;
    let big = "y".repeat(100_000);
    let run = net.run(&format!(r#"(seq {air} (call %init_peer_id% ("s" "g") ["{big}"]))"#), "init", &mut |_: &str, _: &CallRequest| {
        CallResult::ok(json!("r"))
    });
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let data = Data::from_bytes(&run.data["init"]).unwrap();
    let mut argument_hashes: Vec<Cid> = data.store.results.values().map(|r| r.argument_hash).collect();
    argument_hashes.sort();
    let mut expected = vec![blake3(b"arguments\0[1,\"two\",[],true]"), blake3(format!("arguments\0[\"{big}\"]").as_bytes())];
    expected.sort();
    assert_eq!(argument_hashes, expected);
    for (cid, r) in &data.store.results {
        let layout = [b"result\0".as_slice(), &r.value.0, &r.argument_hash.0, &r.tetraplet.0].concat();
        assert_eq!(result_cid(r), blake3(&layout));
        assert_eq!(*cid, result_cid(r));
    }

    // A canon names its tetraplet, its base, its length and each element's value and
    // tetraplet; an element of a canon map names its key too, stored as a JSON value.
    let air = r#"(seq (seq (ap ("k" 1) %m) (ap (2 "v") %m))
                      (seq (canon %init_peer_id% %m #%m) (seq (ap 3 $s) (canon %init_peer_id% $s #s))))"#;
    let run = net.run(air, "init", &mut |_: &str, _: &CallRequest| CallResult::ok(json!(null)));
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let data = Data::from_bytes(&run.data["init"]).unwrap();
    let mut keys = Vec::new();
    for (cid, c) in &data.store.canons {
        let mut layout = [b"canon\0".as_slice(), &c.tetraplet.0, &[u8::from(c.map)]].concat();
        match c.base {
            None => layout.push(0),
            Some(base) => layout.extend([&[1][..], &base.0].concat()),
        }
        layout.extend(c.len.to_le_bytes());
        layout.extend((c.elements.len() as u64).to_le_bytes());
        for e in &c.elements {
            layout.extend([e.value.0, e.tetraplet.0].concat());
            match e.key {
                None => layout.push(0),
                Some(key) => {
                    layout.push(1);
                    layout.extend(key.0);
                    keys.push(data.store.values[&key].clone());
                }
            }
        }
        assert_eq!(*cid, canon_cid(c));
        assert_eq!(canon_cid(c), blake3(&layout));
    }
    assert_eq!(data.store.canons.len(), 2);
    assert_eq!(data.store.canons.values().filter(|c| c.map).count(), 1);
    keys.sort();
    assert_eq!(keys, ["\"k\"", "2"]);
}

const MAP_CANON: &str = r#"(seq (seq (ap ("k" 1) %m) (ap ("j" 2) %m)) (seq (canon @a %m #%m) (call @a ("s" "f") [#%m])))"#;

/// A stream map's snapshot whose element lost its key is refused on arrival, with the
/// previous data kept.
#[test]
fn a_map_snapshot_without_its_keys_is_rejected() {
    let mut net = LocalNetwork::new(&["init", "a"]);
    net.signatures = false;
    let air = net.expand(MAP_CANON);
    let run = net.run(&air, "init", &mut services);
    let mut data = Data::from_bytes(&run.data["a"]).unwrap();
    let (cid, mut record) = data.store.canons.iter().next().map(|(c, r)| (*c, (**r).clone())).unwrap();
    assert!(record.map && record.elements.iter().all(|e| e.key.is_some()));
    record.elements[1].key = None;
    data.store.canons.remove(&cid);
    let stripped = data.store.put_canon(record);
    for s in &mut data.trace.subtraces[0] {
        if let State::Canon(air_vm::trace::CanonState::Executed { result }) = s {
            *result = stripped;
        }
    }
    let out = invoke(&air, &[], &data.to_bytes(), &net.params("init", "init"), BTreeMap::new());
    assert_ne!(out.ret_code, 0);
    assert!(out.error_message.contains("the snapshot of a stream map has an element without a key"), "{}", out.error_message);
    assert!(out.data.is_empty());
}

/// A snapshot of a stream map cannot be replayed by a `canon` over a stream.
#[test]
fn a_map_snapshot_replayed_as_a_stream_snapshot_is_rejected() {
    let net = LocalNetwork::new(&["init", "a"]);
    let run = net.run(&net.expand(MAP_CANON), "init", &mut services);
    let other = net.expand(r#"(seq (seq (ap 1 $m) (ap 2 $m)) (seq (canon @a $m #m) (call @a ("s" "f") [#m])))"#);
    let out = invoke(&other, &[], &run.data["a"], &net.params("init", "init"), BTreeMap::new());
    assert_eq!(out.ret_code, 20017, "{}", out.error_message);
    assert!(out.error_message.contains("replays the snapshot of a stream map as one of a stream"), "{}", out.error_message);
    assert!(out.data.is_empty());
}

/// Signatures arriving together are checked as a batch; one bad signature among good
/// ones is still found and its peer named.
#[test]
fn one_bad_signature_among_many_is_found_and_named() {
    let names: Vec<String> = std::iter::once("init".to_owned()).chain((1..=6).map(|i| format!("q{i}"))).collect();
    let net = LocalNetwork::new(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let producers: Vec<String> = (1..=6).map(|i| net.id(&format!("q{i}"))).collect();
    let air = r#"(seq (call %init_peer_id% ("s" "peers") [] ps)
                    (fold ps p (par (seq (call p ("s" "work") [p] $r) (call %init_peer_id% ("s" "collect") [])) (next p))))"#;
    let run = net.run(air, "init", &mut |_: &str, r: &CallRequest| {
        if r.function_name == "peers" { CallResult::ok(json!(producers)) } else { CallResult::ok(json!("done")) }
    });
    assert!(run.errors.is_empty(), "{:?}", run.errors);
    let full = run.data["init"].clone();
    let observer = net.params("init", "q1");
    let genuine = invoke(air, &[], &full, &observer, BTreeMap::new());
    assert_eq!(genuine.ret_code, 0, "{}", genuine.error_message);

    let bad_peer = net.id("q4");
    let mut data = Data::from_bytes(&full).unwrap();
    data.signatures.get_mut(&bad_peer).unwrap().0[10] ^= 1;
    let out = invoke(air, &[], &data.to_bytes(), &observer, BTreeMap::new());
    assert_eq!(out.ret_code, 9, "{}", out.error_message);
    assert!(out.error_message.contains(&format!("the signature of peer {bad_peer} does not cover")), "{}", out.error_message);
    for other in producers.iter().filter(|p| **p != bad_peer) {
        assert!(!out.error_message.contains(other.as_str()), "{}", out.error_message);
    }
}

/// A key pair that is not the current peer's signs nothing: the run is refused and the
/// previous data kept.
#[test]
fn another_peers_key_is_refused() {
    let net = LocalNetwork::new(&["init", "a"]);
    let air = r#"(call %init_peer_id% ("s" "f") [] x)"#;
    let mut params = net.params("init", "init");
    params.key = net.params("init", "a").key;
    let prev = invoke(air, &[], &[], &params, BTreeMap::new()).data;
    let out = invoke(air, &prev, &[], &params, BTreeMap::from([(1, CallResult::ok(json!(1)))]));
    assert_eq!(out.ret_code, 7, "{}", out.error_message);
    assert!(
        out.error_message.contains(&format!("belongs to {}, not to the current peer {}", net.id("a"), net.id("init"))),
        "{}",
        out.error_message
    );
    assert_eq!(out.data, prev);
}

/// Run parameters carry the key pair as its 32-byte secret key.
#[test]
fn run_parameters_encode_the_key_as_its_secret() {
    let net = LocalNetwork::new(&["init"]);
    let params = net.params("init", "init");
    let json = serde_json::to_value(&params).unwrap();
    assert_eq!(json["key"].as_array().map(Vec::len), Some(32));
    let back: air_vm::RunParameters = serde_json::from_value(json).unwrap();
    assert_eq!(back, params);
    assert_eq!(back.key.map(|k| k.peer_id()), Some(net.id("init")));
}
