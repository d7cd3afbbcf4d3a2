//! Values as the VM sees them: JSON with a tetraplet saying where it came from.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::fmt;
use std::rc::Rc;

/// Where a value came from: the peer and service function that produced it, and the
/// lens applied to that result. Literals come from `(init_peer_id, "", "", "")`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Tetraplet {
    pub peer_pk: String,
    pub service_id: String,
    pub function_name: String,
    pub lens: String,
}

impl Tetraplet {
    pub fn literal(init_peer_id: &str) -> Self {
        Tetraplet { peer_pk: init_peer_id.to_owned(), service_id: String::new(), function_name: String::new(), lens: String::new() }
    }

    /// The same origin with `suffix` appended to the lens.
    pub fn with_lens(&self, suffix: &str) -> Self {
        let mut t = self.clone();
        t.lens.push_str(suffix);
        t
    }
}

/// A content identifier: the BLAKE3 hash of a record's canonical bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Cid(#[serde(with = "fixed_bytes")] pub [u8; 32]);

/// Hashes a [`Cid`] by taking its first bytes: CIDs are already uniformly distributed,
/// so hashing them again (as the default SipHash would) is wasted work.
#[derive(Debug, Default, Clone, Copy)]
pub struct CidHasher(u64);

impl std::hash::Hasher for CidHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Cid hashes as its 32-byte array: length prefix first, then the bytes.
        for (i, b) in bytes.iter().take(8).enumerate() {
            self.0 ^= u64::from(*b) << (8 * i);
        }
    }

    fn write_usize(&mut self, _: usize) {}
}

/// A map keyed by CID. Never iterated into an output unsorted (see `data::sorted`).
pub type CidMap<V> = std::collections::HashMap<Cid, V, std::hash::BuildHasherDefault<CidHasher>>;

/// Fixed-size byte arrays as one byte string (compact and fast in binary formats,
/// unlike serde's default of a tuple of numbers).
pub(crate) mod fixed_bytes {
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub fn serialize<S: Serializer, const N: usize>(v: &[u8; N], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>, const N: usize>(d: D) -> Result<[u8; N], D::Error> {
        struct V<const N: usize>;
        impl<const N: usize> serde::de::Visitor<'_> for V<N> {
            type Value = [u8; N];
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{N} bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<[u8; N], E> {
                v.try_into().map_err(|_| E::invalid_length(v.len(), &self))
            }
        }
        d.deserialize_bytes(V::<N>)
    }
}

impl Cid {
    /// Hash `bytes` in the domain `kind`, so records of different kinds never share a CID.
    pub fn of(kind: &str, bytes: &[u8]) -> Cid {
        let mut h = blake3::Hasher::new();
        h.update(kind.as_bytes());
        h.update(&[0]);
        h.update(bytes);
        Cid(*h.finalize().as_bytes())
    }

    pub fn to_hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cid({})", &self.to_hex()[..12])
    }
}

impl fmt::Display for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// A JSON value with its origin, as bound to a scalar or stored in a stream.
#[derive(Debug, Clone)]
pub struct Val {
    pub json: Rc<Json>,
    pub tetraplet: Rc<Tetraplet>,
}

/// The compact JSON text of a value: the form that is hashed and stored.
pub fn json_text(v: &Json) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".to_owned())
}

/// The error object AIR code sees in `%last_error%` and `:error:`.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorObject {
    pub error_code: i64,
    pub message: String,
    pub instruction: String,
    pub peer_id: Option<String>,
}

impl ErrorObject {
    /// The "no error" object.
    pub fn none() -> Self {
        ErrorObject { error_code: 0, message: String::new(), instruction: String::new(), peer_id: None }
    }

    pub fn to_json(&self) -> Json {
        let mut m = serde_json::Map::new();
        m.insert("error_code".into(), Json::from(self.error_code));
        m.insert("message".into(), Json::from(self.message.clone()));
        if self.error_code != 0 || !self.instruction.is_empty() {
            m.insert("instruction".into(), Json::from(self.instruction.clone()));
        }
        if let Some(p) = &self.peer_id {
            m.insert("peer_id".into(), Json::from(p.clone()));
        }
        Json::Object(m)
    }
}
