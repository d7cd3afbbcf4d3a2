//! Peer identities and result signatures.
//!
//! Peer IDs are libp2p peer IDs of Ed25519 keys (`12D3KooW…`): the identity multihash
//! of the protobuf-encoded public key, in base58. So a peer ID carries its public key,
//! and anyone can check a signature made by the peer it names.
//!
//! Each peer signs the sorted list of CIDs of the results it produced (service results
//! and canon snapshots), salted with the particle ID, so nobody can attribute a result
//! to another peer and data cannot be replayed into another particle.

use crate::data::{Data, Signature, Store};
use crate::trace::{CallState, CanonState, State, Trace};
use crate::value::{Cid, CidMap, sort_by_cid};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Protobuf prefix of an Ed25519 public key (field 1 = key type 1, field 2 = 32 bytes),
/// preceded by the identity multihash header (code 0, length 36).
const PEER_ID_PREFIX: [u8; 6] = [0x00, 0x24, 0x08, 0x01, 0x12, 0x20];

/// An Ed25519 key pair of a peer. It is encoded as its 32-byte secret key; holding the
/// pair spares deriving the public key (a scalar multiplication) on every signature.
#[derive(Debug, Clone)]
pub struct KeyPair(SigningKey);

impl PartialEq for KeyPair {
    fn eq(&self, other: &Self) -> bool {
        self.secret() == other.secret()
    }
}

impl Eq for KeyPair {}

impl Serialize for KeyPair {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.secret().serialize(s)
    }
}

impl<'de> Deserialize<'de> for KeyPair {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <[u8; 32]>::deserialize(d).map(KeyPair::from_seed)
    }
}

impl KeyPair {
    /// The key pair whose secret key is `seed` (32 bytes).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        KeyPair(SigningKey::from_bytes(&seed))
    }

    /// A key pair derived from a name and a seed, for simulated peers and tests.
    pub fn derive(name: &str, seed: u64) -> Self {
        let mut h = blake3::Hasher::new_derive_key("aqua peer key v1");
        h.update(&seed.to_le_bytes());
        h.update(name.as_bytes());
        KeyPair::from_seed(*h.finalize().as_bytes())
    }

    pub fn secret(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    pub fn peer_id(&self) -> String {
        peer_id_of(&self.0.verifying_key())
    }

    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.0.sign(message).to_bytes()
    }
}

pub fn peer_id_of(key: &VerifyingKey) -> String {
    let mut bytes = PEER_ID_PREFIX.to_vec();
    bytes.extend_from_slice(key.as_bytes());
    bs58::encode(bytes).into_string()
}

/// The public key inside a peer ID, if it is an Ed25519 peer ID.
pub fn public_key_of(peer_id: &str) -> Option<VerifyingKey> {
    let bytes = bs58::decode(peer_id).into_vec().ok()?;
    let key = bytes.strip_prefix(PEER_ID_PREFIX.as_slice())?;
    VerifyingKey::from_bytes(key.try_into().ok()?).ok()
}

/// What each peer produced in a trace: its sorted result CIDs.
pub fn produced(data: &Data) -> BTreeMap<String, Vec<Cid>> {
    produced_in(&data.trace, &[&data.store])
}

/// Like [`produced`], for a trace whose records are spread over several stores.
pub fn produced_in(trace: &Trace, stores: &[&Store]) -> BTreeMap<String, Vec<Cid>> {
    // Grouped by producing tetraplet first (a CID is a cheap key, and most results share
    // a few tetraplets), then by the tetraplets' peers.
    let mut by_tetraplet: CidMap<Vec<Cid>> = CidMap::default();
    for states in &trace.subtraces {
        for s in states {
            let (cid, tetraplet) = match s {
                State::Call(CallState::Executed { result, .. } | CallState::Failed { result }) => {
                    (*result, stores.iter().find_map(|s| s.results.get(result)).map(|r| r.tetraplet))
                }
                State::Canon(CanonState::Executed { result }) => {
                    (*result, stores.iter().find_map(|s| s.canons.get(result)).map(|c| c.tetraplet))
                }
                _ => continue,
            };
            if let Some(tetraplet) = tetraplet {
                by_tetraplet.entry(tetraplet).or_default().push(cid);
            }
        }
    }
    let mut out: BTreeMap<String, Vec<Cid>> = BTreeMap::new();
    for (tetraplet, cids) in by_tetraplet {
        if let Some(t) = stores.iter().find_map(|s| s.tetraplets.get(&tetraplet)) {
            out.entry(t.peer_pk.to_string()).or_default().extend(cids);
        }
    }
    // Sorted, so the order the groups were visited in does not matter.
    for cids in out.values_mut() {
        sort_by_cid(cids, |c| c);
    }
    out
}

/// The bytes a peer signs: a digest of its sorted CIDs and the particle ID (signing a
/// 32-byte digest keeps the cost flat however many results there are).
fn message(cids: &[Cid], particle_id: &str) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key("aqua result signature v1");
    h.update(&(particle_id.len() as u64).to_le_bytes());
    h.update(particle_id.as_bytes());
    // In one piece: BLAKE3 hashes the chunks of a long input side by side with SIMD, but
    // an input fed 32 bytes at a time one block after another (three times the work).
    let mut listed = Vec::with_capacity(32 * cids.len());
    for c in cids {
        listed.extend_from_slice(&c.0);
    }
    *h.update(&listed).finalize().as_bytes()
}

pub fn sign(key: &KeyPair, cids: &[Cid], particle_id: &str) -> Signature {
    Signature(key.sign(&message(cids, particle_id)))
}

/// What each peer produced: its sorted result CIDs, by peer ID.
pub type Produced = BTreeMap<String, Vec<Cid>>;

/// Checks that every result in `data` (whose [`produced`] sets are `sets`) is signed by
/// the peer it is attributed to. Signatures that `trusted` (data this peer already
/// accepted, with its sets) holds for the same results are not checked again: most of
/// a particle's signatures arrive many times.
///
/// The signatures are checked together, as one batch (about twice as fast as one by
/// one); a batch of one checks the same equation, so every peer accepts the same
/// signatures however many arrive together.
pub fn verify(data: &Data, sets: &Produced, particle_id: &str, trusted: Option<(&Data, &Produced)>) -> Result<(), String> {
    // Per signature to check: its peer, key, signature and signed message.
    type Pending<'a> = (&'a String, VerifyingKey, ed25519_dalek::Signature, [u8; 32]);
    let mut batch: Vec<Pending> = Vec::new();
    for (peer, cids) in sets {
        let sig = data.signatures.get(peer).ok_or_else(|| format!("results attributed to peer {peer} carry no signature of that peer"))?;
        if let Some((t, t_sets)) = trusted
            && t.signatures.get(peer) == Some(sig)
            && t_sets.get(peer) == Some(cids)
        {
            continue;
        }
        let key = public_key_of(peer).ok_or_else(|| format!("{peer} is not an Ed25519 peer ID, so its results cannot be checked"))?;
        batch.push((peer, key, ed25519_dalek::Signature::from_bytes(&sig.0), message(cids, particle_id)));
    }
    let check = |entries: &[Pending]| {
        let messages: Vec<&[u8]> = entries.iter().map(|e| e.3.as_slice()).collect();
        let signatures: Vec<_> = entries.iter().map(|e| e.2).collect();
        let keys: Vec<_> = entries.iter().map(|e| e.1).collect();
        ed25519_dalek::verify_batch(&messages, &signatures, &keys).is_ok()
    };
    if batch.is_empty() || check(&batch) {
        return Ok(());
    }
    // Some signature is bad: find it, to name its peer.
    let bad = batch.iter().find(|e| !check(std::slice::from_ref(e))).map_or("?", |e| e.0.as_str());
    Err(format!("the signature of peer {bad} does not cover its results in this particle (forged or replayed data)"))
}

/// Picks, for each peer with results in the merged trace, the signature (from `prev` or
/// `incoming`, whose sets are given) that covers exactly those results. Gives the
/// signatures and what each peer produced in the merged trace.
pub fn merge_signatures(
    (prev, p): (&Data, &Produced),
    (incoming, i): (&Data, &Produced),
    merged: &Trace,
    skip_peer: &str,
) -> Result<(BTreeMap<String, Signature>, Produced), String> {
    // With nothing signed before, the merged results are the incoming ones.
    let merged_sets = if p.is_empty() { i.clone() } else { produced_in(merged, &[&prev.store, &incoming.store]) };
    let mut out = BTreeMap::new();
    for (peer, cids) in &merged_sets {
        if peer == skip_peer {
            continue;
        }
        let pick = if i.get(peer) == Some(cids) {
            incoming.signatures.get(peer)
        } else if p.get(peer) == Some(cids) {
            prev.signatures.get(peer)
        } else {
            return Err(format!("the results of peer {peer} in the previous and the incoming data are not one contained in the other"));
        };
        if let Some(sig) = pick {
            out.insert(peer.clone(), sig.clone());
        }
    }
    Ok((out, merged_sets))
}
