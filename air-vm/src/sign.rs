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
use curve25519_dalek::constants::ED25519_BASEPOINT_POINT;
use curve25519_dalek::edwards::{CompressedEdwardsY, EdwardsPoint};
use curve25519_dalek::scalar::Scalar;
use curve25519_dalek::traits::{IsIdentity, VartimeMultiscalarMul};
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha512};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

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

    /// Whether this is the key of the peer `peer_id` names (without encoding an ID).
    pub fn belongs_to(&self, peer_id: &str) -> bool {
        public_key_of(peer_id) == Some(self.0.verifying_key())
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

/// How many decoded peer keys a thread keeps (a key takes some 250 bytes).
const KNOWN_KEYS_CAPACITY: usize = 4096;

thread_local! {
    /// The keys of the peers this thread met lately, by peer ID.
    /// Decoding a peer ID and decompressing its key (a field exponentiation) cost
    /// about a fifth of checking one signature in a batch, and a peer meets the same
    /// peers in particle after particle. The key is a function of the ID, so keeping it
    /// changes no outcome.
    static KNOWN_KEYS: RefCell<HashMap<String, VerifyingKey>> = RefCell::default();
}

/// The public key inside a peer ID, if it is an Ed25519 peer ID.
pub fn public_key_of(peer_id: &str) -> Option<VerifyingKey> {
    if let Some(key) = KNOWN_KEYS.with_borrow(|keys| keys.get(peer_id).copied()) {
        return Some(key);
    }
    let bytes = bs58::decode(peer_id).into_vec().ok()?;
    let key = bytes.strip_prefix(PEER_ID_PREFIX.as_slice())?;
    let key = VerifyingKey::from_bytes(key.try_into().ok()?).ok()?;
    KNOWN_KEYS.with_borrow_mut(|keys| {
        // Forgetting them all at once is enough: peers seen often come back at once.
        if keys.len() >= KNOWN_KEYS_CAPACITY {
            keys.clear();
        }
        keys.insert(peer_id.to_owned(), key);
    });
    Some(key)
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
pub fn verify(data: &Data, sets: &Produced, particle_id: &str, trusted: Option<(&Data, &Produced)>) -> Result<(), String> {
    let mut claims = Vec::new();
    for (peer, cids) in sets {
        let sig = data.signatures.get(peer).ok_or_else(|| format!("results attributed to peer {peer} carry no signature of that peer"))?;
        if let Some((t, t_sets)) = trusted
            && t.signatures.get(peer) == Some(sig)
            && t_sets.get(peer) == Some(cids)
        {
            continue;
        }
        let key = public_key_of(peer).ok_or_else(|| format!("{peer} is not an Ed25519 peer ID, so its results cannot be checked"))?;
        claims.push(Claim { peer, key, signature: &sig.0, message: message(cids, particle_id) });
    }
    if claims.is_empty() || batch_holds(&claims) {
        return Ok(());
    }
    // Some signature is bad: find it, to name its peer.
    let bad = claims.iter().find(|c| !batch_holds(std::slice::from_ref(c))).map_or("?", |c| c.peer);
    Err(format!("the signature of peer {bad} does not cover its results in this particle (forged or replayed data)"))
}

/// An Ed25519 signature to check: who made it, with which key, over what.
struct Claim<'a> {
    peer: &'a str,
    key: VerifyingKey,
    signature: &'a [u8; 64],
    message: [u8; 32],
}

/// Whether every signature of `claims` holds, checked together (about twice as fast as
/// one by one) as one random linear combination of their equations:
/// `[8]·Σ zᵢ·(Rᵢ + kᵢ·Aᵢ − sᵢ·B) = 0`, where `(Rᵢ, sᵢ)` is the signature, `Aᵢ` the key,
/// `kᵢ = SHA-512(Rᵢ ‖ Aᵢ ‖ Mᵢ)`, and the 128-bit `zᵢ` are drawn from a hash of the
/// whole batch, so the batch depends on its inputs alone.
///
/// The equation is cofactored (the `[8]`) so that a signature holds in any batch exactly
/// when it holds alone (but with probability 2⁻¹²⁷): every peer accepts the same
/// signatures however they are grouped. ed25519-dalek's batch check is not cofactored:
/// a signature whose R has a small-order part passes some batches and fails others
/// (one in eight passes, for a part of order eight), so peers could disagree on it. Signatures made as RFC 8032 says hold under both.
fn batch_holds(claims: &[Claim]) -> bool {
    let mut ks = Vec::with_capacity(claims.len());
    let mut ss = Vec::with_capacity(claims.len());
    let mut rs = Vec::with_capacity(claims.len());
    let mut batch_hash = blake3::Hasher::new_derive_key("aqua signature batch v1");
    for claim in claims {
        let (r, s) = claim.signature.split_at(32);
        let r: [u8; 32] = r.try_into().expect("half of 64 bytes");
        let s: [u8; 32] = s.try_into().expect("half of 64 bytes");
        // s must be below the group order (else signatures would be malleable).
        let Some(s) = Option::<Scalar>::from(Scalar::from_canonical_bytes(s)) else { return false };
        let Some(r_point) = CompressedEdwardsY(r).decompress() else { return false };
        let k: [u8; 64] = Sha512::new().chain_update(r).chain_update(claim.key.as_bytes()).chain_update(claim.message).finalize().into();
        // k covers R, A and the message; with s, the whole claim.
        batch_hash.update(&k).update(s.as_bytes());
        ks.push(Scalar::from_bytes_mod_order_wide(&k));
        ss.push(s);
        rs.push(r_point);
    }
    let mut draws = batch_hash.finalize_xof();
    let zs: Vec<Scalar> = (0..claims.len())
        .map(|_| {
            let mut z = [0u8; 16];
            draws.fill(&mut z);
            // Never zero, which would drop its signature from the sum.
            Scalar::from(u128::from_le_bytes(z) | 1)
        })
        .collect();
    let b = -zs.iter().zip(&ss).map(|(z, s)| z * s).sum::<Scalar>();
    let scalars = std::iter::once(b).chain(zs.iter().copied()).chain(zs.iter().zip(&ks).map(|(z, k)| z * k));
    let points = std::iter::once(ED25519_BASEPOINT_POINT).chain(rs).chain(claims.iter().map(|c| c.key.to_edwards()));
    EdwardsPoint::vartime_multiscalar_mul(scalars, points).mul_by_cofactor().is_identity()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_id_gives_its_own_key_whether_kept_or_not() {
        // More peers than the thread keeps, twice: the second round meets forgotten
        // and kept keys alike.
        let pairs: Vec<KeyPair> = (0..KNOWN_KEYS_CAPACITY as u64 + 8).map(|i| KeyPair::derive("peer", i)).collect();
        for _ in 0..2 {
            for pair in &pairs {
                assert_eq!(public_key_of(&pair.peer_id()), Some(pair.0.verifying_key()));
            }
        }
        assert!(KNOWN_KEYS.with_borrow(|keys| keys.len()) <= KNOWN_KEYS_CAPACITY);
        assert_eq!(public_key_of("12D3KooWNotAPeerId"), None);
        assert_eq!(public_key_of("not base58: 0OIl"), None);
    }

    /// A key, a signature, and the message signed.
    type Signed = (VerifyingKey, [u8; 64], [u8; 32]);

    /// A peer's key and a signature over `message` made as RFC 8032 says, except that
    /// the nonce is `nonce` and `torsion` (a point of small order, or the identity) is
    /// added to R and to the key: signatures no honest signer makes, which hold under
    /// the cofactored equation and fail ed25519-dalek's one by one.
    fn crafted(secret: u64, nonce: u64, torsion: EdwardsPoint, message: [u8; 32]) -> (VerifyingKey, [u8; 64]) {
        let a = Scalar::from(secret);
        let r = Scalar::from(nonce);
        let key = (EdwardsPoint::mul_base(&a) + torsion).compress();
        let big_r = (EdwardsPoint::mul_base(&r) + torsion).compress();
        let k: [u8; 64] = Sha512::new().chain_update(big_r.as_bytes()).chain_update(key.as_bytes()).chain_update(message).finalize().into();
        let s = r + Scalar::from_bytes_mod_order_wide(&k) * a;
        let mut signature = [0u8; 64];
        signature[..32].copy_from_slice(big_r.as_bytes());
        signature[32..].copy_from_slice(s.as_bytes());
        (VerifyingKey::from_bytes(key.as_bytes()).unwrap(), signature)
    }

    fn claims<'a>(signed: &'a [Signed]) -> Vec<Claim<'a>> {
        signed.iter().map(|(key, signature, message)| Claim { peer: "p", key: *key, signature, message: *message }).collect()
    }

    /// Signatures of `n` peers made by ed25519-dalek, each over its own message.
    fn honest(n: u64, tag: u8) -> Vec<Signed> {
        (0..n)
            .map(|i| {
                let pair = KeyPair::derive("signer", i);
                let message = [tag.wrapping_add(i as u8); 32];
                (pair.0.verifying_key(), pair.sign(&message), message)
            })
            .collect()
    }

    #[test]
    fn honest_signatures_hold_alone_and_together() {
        let signed = honest(7, 0);
        assert!(batch_holds(&claims(&signed)));
        for one in &signed {
            assert!(batch_holds(&claims(std::slice::from_ref(one))));
        }
    }

    #[test]
    fn a_signature_over_something_else_fails_its_batch() {
        let signed = honest(5, 0);
        let tamperings: [fn(&mut Signed); 5] = [
            |e| e.2[0] ^= 1,                                         // another message
            |e| e.1[0] ^= 1,                                         // another R
            |e| e.1[40] ^= 1,                                        // another s
            |e| e.0 = KeyPair::derive("other", 0).0.verifying_key(), // another key
            |e| {
                // s + ℓ: the same equation modulo ℓ, but not a canonical scalar.
                const L: [u8; 32] = [
                    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0,
                    0, 0, 0, 0, 0, 0, 0, 0x10,
                ];
                let mut carry = 0u16;
                for (byte, l) in e.1[32..].iter_mut().zip(L) {
                    let sum = *byte as u16 + l as u16 + carry;
                    *byte = sum as u8;
                    carry = sum >> 8;
                }
            },
        ];
        for (t, tamper) in tamperings.iter().enumerate() {
            for victim in 0..signed.len() {
                let mut batch = signed.clone();
                tamper(&mut batch[victim]);
                assert!(!batch_holds(&claims(&batch)), "tampering {t} of signature {victim} passed in the batch");
                assert!(!batch_holds(&claims(&batch[victim..=victim])), "tampering {t} of signature {victim} passed alone");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_as_a_signature_get_one_answer_alone_and_in_a_batch(
            r in proptest::array::uniform32(0u8..),
            s in proptest::array::uniform32(0u8..),
            message in proptest::array::uniform32(0u8..),
        ) {
            let mut signature = [0u8; 64];
            signature[..32].copy_from_slice(&r);
            signature[32..].copy_from_slice(&s);
            let claim = (KeyPair::derive("signer", 0).0.verifying_key(), signature, message);
            let alone = batch_holds(&claims(&[claim]));
            let mut batch = honest(3, 7);
            batch.push(claim);
            proptest::prop_assert_eq!(batch_holds(&claims(&batch)), alone);
        }
    }

    #[test]
    fn a_signature_with_a_small_order_part_gets_one_answer_in_every_batch() {
        use curve25519_dalek::constants::EIGHT_TORSION;
        for (i, torsion) in EIGHT_TORSION.iter().enumerate() {
            let message = [i as u8; 32];
            let (key, signature) = crafted(1234 + i as u64, 98765, *torsion, message);
            // The cofactored equation holds for it, whatever the torsion.
            let alone = [(key, signature, message)];
            assert!(batch_holds(&claims(&alone)));
            // In batches of every size with honest signatures the answer stays (with
            // dalek's cofactorless batch it would pass about one batch in eight).
            for n in 1..=16 {
                let mut batch = honest(n, i as u8 * 16);
                batch.insert(n as usize / 2, alone[0]);
                assert!(batch_holds(&claims(&batch)), "torsion point {i} failed in a batch of {}", n + 1);
            }
            // And a bad signature next to it is still found.
            let mut bad = alone[0];
            bad.2[5] ^= 1;
            assert!(!batch_holds(&claims(&[alone[0], bad])));
        }
    }
}
