//! `kad`: Kademlia distances over the peer's local routing table.
//!
//! Keys are compared as libp2p Kademlia compares them: each key is the SHA-256 of some
//! bytes, the distance of two keys is their XOR read as a big-endian number.
//! - A peer's key is the SHA-256 of its peer ID's bytes (the base58-decoded multihash).
//! - `neighborhood(key)`: the key's bytes are base58-decoded. If `already_hashed`, they
//!   must be a multihash and are used as they are; otherwise they are wrapped, unhashed,
//!   in a SHA-256 multihash header (`0x12`, varint length, bytes), as the reference peer
//!   does. Either way libp2p then takes the SHA-256 of the multihash bytes.
//! - `merge(target, ...)`: the target and every item are keyed by the SHA-256 of their
//!   base58-decoded bytes.
//!
//! Equal distances (only possible for equal bytes) are ordered by peer ID text, so the
//! order never depends on input order.

use super::args::Args;
use super::{CallContext, Outcome};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Kademlia's K: how many peers a lookup answers unless told otherwise.
pub(super) const DEFAULT_COUNT: u32 = 20;

/// Multihash code of SHA-256.
const SHA2_256: u8 = 0x12;

type Key = [u8; 32];

pub(super) fn call(function: &str, a: &Args<'_>, ctx: &CallContext<'_>) -> Outcome {
    match function {
        "neighborhood" => neighborhood(a, ctx).into(),
        "merge" => merge(a).into(),
        _ => Outcome::NotFound,
    }
}

/// `neighborhood(key, already_hashed?, count?)`: up to `count` peers of the routing
/// table, closest to `key` first, never the serving peer itself.
fn neighborhood(a: &Args<'_>, ctx: &CallContext<'_>) -> Result<Value, String> {
    a.between(1, 3)?;
    let bytes = decode_b58(a, a.str(0)?, "argument 1 (key)")?;
    let already_hashed = a.opt_bool(1)?.unwrap_or(false);
    let count = a.opt_u32(2)?.unwrap_or(DEFAULT_COUNT);
    let multihash = if already_hashed {
        if !is_multihash(&bytes) {
            return Err(a.error("argument 1 (key) is not a multihash, though already_hashed is true"));
        }
        bytes
    } else {
        wrap_sha256(&bytes)
    };
    let target = sha256(&multihash);
    // Entries that are not base58 cannot be peer IDs: they have no key and are skipped.
    let peers = ctx.routing_table.iter().filter(|p| p.as_str() != ctx.peer_id).filter_map(|p| Some((p.as_str(), peer_key(p)?)));
    Ok(closest(&target, peers, count))
}

/// `merge(target, left, right, count?)`: the union of two peer lists, without repeats,
/// closest to `target` first, at most `count` of them.
fn merge(a: &Args<'_>) -> Result<Value, String> {
    a.between(3, 4)?;
    let target = sha256(&decode_b58(a, a.str(0)?, "argument 1 (target)")?);
    let count = a.opt_u32(3)?.unwrap_or(DEFAULT_COUNT);
    let mut peers = Vec::new();
    for (i, side) in [(1, "left"), (2, "right")] {
        for (j, item) in a.strings(i)?.into_iter().enumerate() {
            let bytes = decode_b58(a, item, &format!("{side}[{j}]"))?;
            peers.push((item, sha256(&bytes)));
        }
    }
    Ok(closest(&target, peers.into_iter(), count))
}

/// The `count` peers closest to `target` (ties by peer ID), each once.
fn closest<'p>(target: &Key, peers: impl Iterator<Item = (&'p str, Key)>, count: u32) -> Value {
    let mut ranked: Vec<(Key, &str)> = peers.map(|(p, key)| (xor(target, &key), p)).collect();
    ranked.sort_unstable();
    ranked.dedup_by(|x, y| x.1 == y.1);
    ranked.into_iter().take(count as usize).map(|(_, p)| Value::from(p)).collect()
}

fn decode_b58(a: &Args<'_>, text: &str, what: &str) -> Result<Vec<u8>, String> {
    bs58::decode(text).into_vec().map_err(|e| a.error(format!("{what} is not base58: {e}")))
}

fn peer_key(peer_id: &str) -> Option<Key> {
    bs58::decode(peer_id).into_vec().ok().map(|bytes| sha256(&bytes))
}

pub(super) fn sha256(bytes: &[u8]) -> Key {
    Sha256::digest(bytes).into()
}

fn xor(a: &Key, b: &Key) -> Key {
    std::array::from_fn(|i| a[i] ^ b[i])
}

/// `bytes` under a SHA-256 multihash header, without hashing them.
fn wrap_sha256(bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![SHA2_256];
    push_varint(&mut out, bytes.len() as u64);
    out.extend_from_slice(bytes);
    out
}

fn push_varint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// An unsigned varint (at most 9 bytes, as multiformats allows) and the rest.
fn read_varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut n = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(9) {
        n |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((n, &bytes[i + 1..]));
        }
    }
    None
}

/// Whether `bytes` is one multihash: code, digest length, and exactly that many bytes.
fn is_multihash(bytes: &[u8]) -> bool {
    let Some((_code, rest)) = read_varint(bytes) else { return false };
    let Some((len, digest)) = read_varint(rest) else { return false };
    digest.len() as u64 == len
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;
    use air_vm::sign::KeyPair;
    use serde_json::json;

    fn peers(n: usize) -> Vec<String> {
        (0..n).map(|i| KeyPair::derive(&format!("R{i}"), 7).peer_id()).collect()
    }

    /// The expected order, computed the slow, obvious way.
    fn by_distance(target: Key, ids: &[String]) -> Vec<String> {
        let mut v: Vec<(Vec<u8>, String)> =
            ids.iter().map(|p| (xor(&target, &sha256(&bs58::decode(p).into_vec().unwrap())).to_vec(), p.clone())).collect();
        v.sort();
        v.into_iter().map(|(_, p)| p).collect()
    }

    fn strings(v: &Value) -> Vec<String> {
        v.as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_owned()).collect()
    }

    #[test]
    fn multihash_helpers() {
        assert_eq!(wrap_sha256(b"abc"), [0x12, 3, b'a', b'b', b'c']);
        let long = vec![1u8; 300];
        assert_eq!(&wrap_sha256(&long)[..3], [0x12, 0xac, 0x02]);
        assert_eq!(read_varint(&[0xac, 0x02, 9]), Some((300, &[9u8][..])));
        assert_eq!(read_varint(&[0x80; 12]), None);
        assert_eq!(read_varint(&[]), None);
        let peer = bs58::decode(KeyPair::derive("x", 1).peer_id()).into_vec().unwrap();
        assert!(is_multihash(&peer), "a peer ID is an identity multihash");
        assert!(is_multihash(&wrap_sha256(&[5; 32])));
        assert!(!is_multihash(b"hello"));
        assert!(!is_multihash(&[]));
        // Known SHA-256 of "abc".
        let hex: String = sha256(b"abc").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn neighborhood_sorts_the_routing_table_by_distance() {
        let mut f = Fixture::new();
        f.routing_table = peers(8);
        let key = bs58::encode("some-resource").into_string();
        let got = f.call("kad", "neighborhood", json!([key, null, null]));
        let Outcome::Ok(got) = got else { panic!("{got:?}") };
        let target = sha256(&wrap_sha256(b"some-resource"));
        assert_eq!(strings(&got), by_distance(target, &f.routing_table));
        assert_eq!(got.as_array().unwrap().len(), 8);
    }

    #[test]
    fn neighborhood_is_independent_of_table_order_and_repeats() {
        let mut f = Fixture::new();
        let table = peers(10);
        let key = json!(bs58::encode("k").into_string());
        f.routing_table = table.clone();
        let first = f.call("kad", "neighborhood", json!([key]));
        let mut shuffled: Vec<String> = table.iter().rev().cloned().collect();
        shuffled.extend(table.iter().take(3).cloned());
        f.routing_table = shuffled;
        assert_eq!(f.call("kad", "neighborhood", json!([key])), first);
    }

    #[test]
    fn neighborhood_excludes_self_and_non_peers_and_honours_count() {
        let mut f = Fixture::new();
        let mut table = peers(5);
        table.push(f.peer_id.clone());
        table.push("not base58: 0OIl".to_owned());
        f.routing_table = table;
        let key = bs58::encode("k").into_string();
        let Outcome::Ok(all) = f.call("kad", "neighborhood", json!([key])) else { panic!() };
        let all = strings(&all);
        assert_eq!(all.len(), 5);
        assert!(!all.contains(&f.peer_id));
        for count in [json!(2), json!([2])] {
            let Outcome::Ok(two) = f.call("kad", "neighborhood", json!([key, [], count])) else { panic!() };
            assert_eq!(strings(&two), all[..2]);
        }
        assert_eq!(f.call("kad", "neighborhood", json!([key, false, 0])), Outcome::Ok(json!([])));
    }

    #[test]
    fn neighborhood_defaults_to_twenty() {
        let mut f = Fixture::new();
        f.routing_table = peers(25);
        let key = bs58::encode("k").into_string();
        let Outcome::Ok(v) = f.call("kad", "neighborhood", json!([key])) else { panic!() };
        assert_eq!(v.as_array().unwrap().len(), 20);
        let Outcome::Ok(v) = f.call("kad", "neighborhood", json!([key, [], [100]])) else { panic!() };
        assert_eq!(v.as_array().unwrap().len(), 25);
    }

    #[test]
    fn neighborhood_of_an_already_hashed_peer_id_starts_with_that_peer() {
        let mut f = Fixture::new();
        f.routing_table = peers(6);
        let target = f.routing_table[3].clone();
        for hashed in [json!(true), json!([true])] {
            let Outcome::Ok(v) = f.call("kad", "neighborhood", json!([target, hashed])) else { panic!() };
            let v = strings(&v);
            assert_eq!(v[0], target, "distance 0 to itself");
            assert_eq!(v, by_distance(sha256(&bs58::decode(&target).into_vec().unwrap()), &f.routing_table));
        }
        // Not hashed: the same text keys differently.
        let Outcome::Ok(v) = f.call("kad", "neighborhood", json!([target, false])) else { panic!() };
        let key = sha256(&wrap_sha256(&bs58::decode(&target).into_vec().unwrap()));
        assert_eq!(strings(&v), by_distance(key, &f.routing_table));
    }

    #[test]
    fn neighborhood_errors() {
        assert_eq!(err("kad", "neighborhood", json!([])), "kad.neighborhood: expected 1 to 3 arguments, got 0 arguments");
        assert_eq!(err("kad", "neighborhood", json!(["a", [], [], 1])), "kad.neighborhood: expected 1 to 3 arguments, got 4 arguments");
        assert!(err("kad", "neighborhood", json!(["0OIl"])).starts_with("kad.neighborhood: argument 1 (key) is not base58: "));
        assert_eq!(err("kad", "neighborhood", json!([5])), "kad.neighborhood: argument 1 must be a string, got the number 5");
        let key = bs58::encode("hello").into_string();
        assert_eq!(
            err("kad", "neighborhood", json!([key, true])),
            "kad.neighborhood: argument 1 (key) is not a multihash, though already_hashed is true"
        );
        assert_eq!(
            err("kad", "neighborhood", json!([key, "yes"])),
            "kad.neighborhood: argument 2 must be an optional boolean, got a string"
        );
        assert!(err("kad", "neighborhood", json!([key, [], [-1]])).starts_with("kad.neighborhood: argument 3 must be an optional integer"));
        assert!(err("kad", "neighborhood", json!([key, [true, false]])).contains("is an option"));
    }

    #[test]
    fn an_empty_routing_table_has_no_neighbors() {
        let key = bs58::encode("k").into_string();
        assert_eq!(ok("kad", "neighborhood", json!([key])), json!([]));
    }

    #[test]
    fn merge_unites_sorts_and_truncates() {
        let ids = peers(8);
        let target = ids[0].clone();
        let left = &ids[..5];
        let right = &ids[3..];
        let v = strings(&ok("kad", "merge", json!([target, left, right])));
        let expected = by_distance(sha256(&bs58::decode(&target).into_vec().unwrap()), &ids);
        assert_eq!(v, expected);
        assert_eq!(v[0], target);
        // Order of the inputs does not matter.
        assert_eq!(strings(&ok("kad", "merge", json!([target, right, left]))), expected);
        // count, bare and as an option.
        assert_eq!(strings(&ok("kad", "merge", json!([target, left, right, 3]))), expected[..3]);
        assert_eq!(strings(&ok("kad", "merge", json!([target, left, right, [3]]))), expected[..3]);
        assert_eq!(strings(&ok("kad", "merge", json!([target, left, right, []]))), expected);
        assert_eq!(ok("kad", "merge", json!([target, [], []])), json!([]));
        assert_eq!(ok("kad", "merge", json!([target, [ids[1], ids[1]], [ids[1]]])), json!([ids[1]]));
    }

    #[test]
    fn merge_defaults_to_twenty() {
        let ids = peers(30);
        let v = ok("kad", "merge", json!([ids[0], ids[..15], ids[15..]]));
        assert_eq!(v.as_array().unwrap().len(), 20);
    }

    #[test]
    fn merge_errors() {
        let ids = peers(2);
        assert_eq!(err("kad", "merge", json!([ids[0], []])), "kad.merge: expected 3 to 4 arguments, got 2 arguments");
        assert!(err("kad", "merge", json!(["0", [], []])).starts_with("kad.merge: argument 1 (target) is not base58: "));
        assert!(err("kad", "merge", json!([ids[0], [ids[1]], [ids[1], "l0l"]])).starts_with("kad.merge: right[1] is not base58: "));
        assert_eq!(
            err("kad", "merge", json!([ids[0], [1], []])),
            "kad.merge: argument 2 must be an array of strings; element 0 is the number 1"
        );
        assert_eq!(err("kad", "merge", json!([ids[0], [], {}])), "kad.merge: argument 3 must be an array, got an object");
    }
}
