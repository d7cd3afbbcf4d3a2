//! Particle data: the trace, a content-addressed store, signatures, in a versioned envelope.
//!
//! Bytes on the wire: `AQUADATA` magic, the format version (u16, little endian), the
//! interpreter version (a length byte and UTF-8), then the body encoded with postcard.
//! The header is readable whatever the body's format, so an unknown version is
//! reported with both versions instead of as garbage.

use crate::trace::{CallState, CanonElement, CanonResult, CanonState, ServiceResult, State, Trace};
use crate::value::{Cid, CidMap, SmallHasher, StoredTetraplet, Tetraplet, hash_concat, sort_by_cid};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::rc::Rc;

pub const MAGIC: &[u8; 8] = b"AQUADATA";
/// Version of the data format this VM writes and reads.
pub const FORMAT_VERSION: u16 = 4;
/// Version of this interpreter, recorded in the data it writes.
pub const INTERPRETER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything a peer keeps and sends for one particle. Decoded data borrows its values'
/// and tetraplets' text from the bytes it was read from (`'a`), so a big value is not
/// copied to be read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Data<'a> {
    pub trace: Trace,
    pub store: Store<'a>,
    /// Per producing peer (its peer ID), its signature over the CIDs it produced.
    pub signatures: BTreeMap<String, Signature>,
    /// The last call request id this peer handed to its host (meaningful only locally).
    pub last_call_id: u32,
    pub interpreter_version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature(#[serde(with = "crate::value::fixed_bytes")] pub [u8; 64]);

/// Content-addressed records referenced by the trace; each is stored once.
/// Encoded in CID order, so equal stores give equal bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Store<'a> {
    /// Compact JSON text of values: borrowed from the data they were decoded from, or
    /// owned when this run made them.
    #[serde(serialize_with = "sorted", deserialize_with = "borrowed_texts", borrow)]
    pub values: CidMap<Cow<'a, str>>,
    /// Read in place from decoded data, like the values.
    #[serde(serialize_with = "sorted", borrow)]
    pub tetraplets: CidMap<StoredTetraplet<'a>>,
    #[serde(serialize_with = "sorted")]
    pub results: CidMap<ServiceResult>,
    #[serde(serialize_with = "sorted")]
    pub canons: CidMap<Rc<CanonResult>>,
}

/// Adds `other`'s entries to `map`, inserting the smaller map into the larger (a CID's
/// content is the same on both sides, so either copy may stay).
fn union<V>(map: &mut CidMap<V>, mut other: CidMap<V>) {
    if other.len() > map.len() {
        std::mem::swap(map, &mut other);
    }
    for (k, v) in other {
        map.entry(k).or_insert(v);
    }
}

/// Reads the values' texts as slices of the bytes being decoded (serde would copy each
/// into a `Cow::Owned`).
fn borrowed_texts<'de: 'a, 'a, D: serde::Deserializer<'de>>(d: D) -> Result<CidMap<Cow<'a, str>>, D::Error> {
    let texts: CidMap<&'de str> = CidMap::deserialize(d)?;
    Ok(texts.into_iter().map(|(cid, text)| (cid, Cow::Borrowed(text))).collect())
}

/// Serializes a CID map in CID order.
fn sorted<V: Serialize, S: serde::Serializer>(map: &CidMap<V>, s: S) -> Result<S::Ok, S::Error> {
    let mut entries: Vec<(&Cid, &V)> = map.iter().collect();
    sort_by_cid(&mut entries, |&(cid, _)| cid);
    s.collect_map(entries)
}

impl<'a> Store<'a> {
    pub fn put_value(&mut self, json_text: String) -> Cid {
        let cid = Cid::of("json", json_text.as_bytes());
        self.values.entry(cid).or_insert(Cow::Owned(json_text));
        cid
    }

    pub fn put_tetraplet(&mut self, t: &Tetraplet) -> Cid {
        let cid = tetraplet_cid(t);
        self.tetraplets.entry(cid).or_insert_with(|| t.into());
        cid
    }

    pub fn put_result(&mut self, r: ServiceResult) -> Cid {
        let cid = result_cid(&r);
        self.results.entry(cid).or_insert(r);
        cid
    }

    pub fn put_canon(&mut self, c: CanonResult) -> Cid {
        let cid = canon_cid(&c);
        self.canons.entry(cid).or_insert_with(|| Rc::new(c));
        cid
    }

    /// The same records, owning their text.
    pub fn into_owned(self) -> Store<'static> {
        let values = self.values.into_iter().map(|(cid, text)| (cid, Cow::Owned(text.into_owned()))).collect();
        let tetraplets = self.tetraplets.into_iter().map(|(cid, t)| (cid, t.into_owned())).collect();
        Store { values, tetraplets, results: self.results, canons: self.canons }
    }

    /// Adds every record of `other` (records are immutable, so a union is enough).
    pub fn absorb(&mut self, other: Store<'a>) {
        union(&mut self.values, other.values);
        union(&mut self.tetraplets, other.tetraplets);
        union(&mut self.results, other.results);
        union(&mut self.canons, other.canons);
    }

    /// Checks that every record hashes to its CID and every reference resolves.
    pub fn verify(&self) -> Result<(), String> {
        self.verify_new(&Store::default())
    }

    /// Like [`Store::verify`], skipping the hash of records `known` holds with the same
    /// content (comparing is much cheaper than hashing).
    pub fn verify_new(&self, known: &Store<'_>) -> Result<(), String> {
        for (cid, text) in &self.values {
            if known.values.get(cid) == Some(text) {
                continue;
            }
            if Cid::of("json", text.as_bytes()) != *cid {
                return Err(format!("value {cid} does not match its content"));
            }
            // Checked here so that loading a value later cannot fail.
            if serde_json::from_str::<serde::de::IgnoredAny>(text).is_err() {
                return Err(format!("value {cid} is not valid JSON"));
            }
        }
        for (cid, t) in &self.tetraplets {
            if known.tetraplets.get(cid) != Some(t) && tetraplet_fields_cid(t.fields()) != *cid {
                return Err(format!("tetraplet {cid} does not match its content"));
            }
        }
        for (cid, r) in &self.results {
            if known.results.get(cid) != Some(r) && result_cid(r) != *cid {
                return Err(format!("service result {cid} does not match its content"));
            }
            // The argument hash is a digest, not a stored record.
            self.need_value(r.value)?;
            self.need_tetraplet(r.tetraplet)?;
        }
        for (cid, c) in &self.canons {
            if known.canons.get(cid) != Some(c) && canon_cid(c) != *cid {
                return Err(format!("canon result {cid} does not match its content"));
            }
            self.need_tetraplet(c.tetraplet)?;
            let base_len = match c.base {
                None => 0,
                Some(base) => {
                    let base = self.canons.get(&base).ok_or_else(|| format!("canon result {base} is referenced but missing"))?;
                    if base.map != c.map {
                        return Err(format!("canon result {cid} extends a snapshot of another kind of stream"));
                    }
                    base.len
                }
            };
            if c.elements.iter().any(|e| e.key.is_some() != c.map) {
                let what = if c.map { "a stream map has an element without a key" } else { "a stream has an element with a key" };
                return Err(format!("canon result {cid}: the snapshot of {what}"));
            }
            if base_len.checked_add(c.elements.len() as u64) != Some(c.len) {
                return Err(format!("canon result {cid} says it has {} elements but has {}", c.len, base_len + c.elements.len() as u64));
            }
            for e in &c.elements {
                self.need_value(e.value)?;
                self.need_tetraplet(e.tetraplet)?;
                if let Some(key) = e.key {
                    self.need_value(key)?;
                }
            }
        }
        Ok(())
    }

    /// All elements of a canon result, its bases' first. The store was verified (every
    /// base is present and lengths add up), so only a missing record can stop the walk.
    pub fn canon_elements(&self, record: &CanonResult) -> Vec<CanonElement> {
        // The chain is walked iteratively, bounded by the number of records.
        let mut chain = vec![record];
        while let Some(base) = chain.last().and_then(|c| c.base).and_then(|b| self.canons.get(&b)) {
            if chain.len() > self.canons.len() {
                break;
            }
            chain.push(base);
        }
        let mut out = Vec::with_capacity(record.len as usize);
        for c in chain.iter().rev() {
            out.extend_from_slice(&c.elements);
        }
        out
    }

    fn need_value(&self, cid: Cid) -> Result<(), String> {
        self.values.contains_key(&cid).then_some(()).ok_or_else(|| format!("value {cid} is referenced but missing"))
    }

    fn need_tetraplet(&self, cid: Cid) -> Result<(), String> {
        self.tetraplets.contains_key(&cid).then_some(()).ok_or_else(|| format!("tetraplet {cid} is referenced but missing"))
    }
}

// CIDs of records: BLAKE3 over their kind and a length-prefixed encoding of their fields
// (hashing is on the hot path of every replayed call and every record received).

pub fn tetraplet_cid(t: &Tetraplet) -> Cid {
    tetraplet_fields_cid([&t.peer_pk, &t.service_id, &t.function_name, &t.lens])
}

/// The CID of a tetraplet given as its four fields: peer, service, function, lens.
pub fn tetraplet_fields_cid(fields: [&str; 4]) -> Cid {
    let fields = fields.map(str::as_bytes);
    let lens = fields.map(|f| (f.len() as u64).to_le_bytes());
    Cid(hash_concat(&[b"tetraplet\0", &lens[0], fields[0], &lens[1], fields[1], &lens[2], fields[2], &lens[3], fields[3]]))
}

pub fn result_cid(r: &ServiceResult) -> Cid {
    Cid(hash_concat(&[b"result\0", &r.value.0, &r.argument_hash.0, &r.tetraplet.0]))
}

pub fn canon_cid(c: &CanonResult) -> Cid {
    let mut h = SmallHasher::new();
    h.update(b"canon\0").update(&c.tetraplet.0).update(&[u8::from(c.map)]);
    match c.base {
        None => h.update(&[0]),
        Some(base) => h.update(&[1]).update(&base.0),
    };
    h.update(&c.len.to_le_bytes()).update(&(c.elements.len() as u64).to_le_bytes());
    for e in &c.elements {
        h.update(&e.value.0).update(&e.tetraplet.0);
        match e.key {
            None => h.update(&[0]),
            Some(key) => h.update(&[1]).update(&key.0),
        };
    }
    Cid(h.finalize())
}

/// Why bytes could not be read as particle data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    #[error("particle data is too short or does not start with the data header")]
    NoEnvelope,
    #[error(
        "particle data has format version {found} (written by interpreter {interpreter}); this interpreter reads version {FORMAT_VERSION}"
    )]
    UnsupportedVersion { found: u16, interpreter: String },
    #[error("particle data (format version {FORMAT_VERSION}) is malformed: {0}")]
    Malformed(String),
    #[error("particle data fails verification: {0}")]
    Verification(String),
}

impl<'a> Data<'a> {
    /// Encodes the data with its envelope.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Encoded in place into a buffer sized for the values (the bulk of big data) and
        // a generous allowance for the rest, so big values are not copied while it grows.
        let store = &self.store;
        let records = store.values.len() + store.tetraplets.len() + store.results.len() + store.canons.len();
        let estimate = store.values.values().map(|v| v.len() + 48).sum::<usize>()
            + 96 * (records + self.trace.state_count() + self.signatures.len())
            + 256;
        let mut out = Vec::with_capacity(estimate);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        let v = INTERPRETER_VERSION.as_bytes();
        out.push(v.len().min(255) as u8);
        out.extend_from_slice(&v[..v.len().min(255)]);
        let body = BodyRef { trace: &self.trace, store: &self.store, signatures: &self.signatures, last_call_id: self.last_call_id };
        // Writing into a Vec cannot fail, and every field serializes.
        postcard::to_extend(&body, out).unwrap_or_default()
    }

    /// The same data owning all its text, independent of the bytes it was read from.
    pub fn into_owned(self) -> Data<'static> {
        Data {
            trace: self.trace,
            store: self.store.into_owned(),
            signatures: self.signatures,
            last_call_id: self.last_call_id,
            interpreter_version: self.interpreter_version,
        }
    }

    /// Decodes data; empty bytes are empty data. Checks that the store is consistent
    /// and that every CID the trace references is present.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Data<'a>, DataError> {
        Self::from_bytes_trusting(bytes, &Store::default())
    }

    /// Like [`Data::from_bytes`], but records that `known` (a store this peer already
    /// checked) holds with the same content are not hashed again.
    pub fn from_bytes_trusting(bytes: &'a [u8], known: &Store<'_>) -> Result<Data<'a>, DataError> {
        let data = Self::decode(bytes)?;
        data.store.verify_new(known).map_err(DataError::Verification)?;
        Ok(data)
    }

    /// Decodes data this peer wrote itself (its stored previous data): the shape is
    /// checked, the hashes are not.
    pub fn decode_own(bytes: &'a [u8]) -> Result<Data<'a>, DataError> {
        Self::decode(bytes)
    }

    fn decode(bytes: &'a [u8]) -> Result<Data<'a>, DataError> {
        if bytes.is_empty() {
            return Ok(Data::default());
        }
        let rest = bytes.strip_prefix(MAGIC.as_slice()).ok_or(DataError::NoEnvelope)?;
        let (version, rest) = rest.split_first_chunk::<2>().ok_or(DataError::NoEnvelope)?;
        let version = u16::from_le_bytes(*version);
        let (&len, rest) = rest.split_first().ok_or(DataError::NoEnvelope)?;
        let interpreter = rest.get(..len as usize).ok_or(DataError::NoEnvelope)?;
        let interpreter = String::from_utf8_lossy(interpreter).into_owned();
        if version != FORMAT_VERSION {
            return Err(DataError::UnsupportedVersion { found: version, interpreter });
        }
        let body: Body<'a> = postcard::from_bytes(&rest[len as usize..]).map_err(|e| DataError::Malformed(e.to_string()))?;
        let data = Data {
            trace: body.trace,
            store: body.store,
            signatures: body.signatures,
            last_call_id: body.last_call_id,
            interpreter_version: interpreter,
        };
        data.check_shape()?;
        Ok(data)
    }

    /// Checks the trace tree: child ids in range, each subtrace owned once, the root owned
    /// by nobody, fold iterations sorted and unique, and every CID present in the store.
    fn check_shape(&self) -> Result<(), DataError> {
        let n = self.trace.subtraces.len();
        if n == 0 {
            return Err(DataError::Malformed("the trace has no root".into()));
        }
        let mut owned = vec![false; n];
        owned[0] = true;
        for states in &self.trace.subtraces {
            for s in states {
                for c in s.children() {
                    let slot = owned
                        .get_mut(c.0 as usize)
                        .ok_or_else(|| DataError::Malformed(format!("a {} state refers to subtrace {} of {n}", s.kind(), c.0)))?;
                    if *slot {
                        return Err(DataError::Malformed(format!("subtrace {} is owned twice", c.0)));
                    }
                    *slot = true;
                }
                if let State::Fold { iterations } = s {
                    let mut values: Vec<_> = iterations.iter().map(|it| it.value).collect();
                    values.sort_unstable();
                    if values.windows(2).any(|w| w[0] == w[1]) {
                        return Err(DataError::Malformed("a fold visits the same value twice".into()));
                    }
                }
                let missing =
                    |what: &str, cid: &Cid| DataError::Verification(format!("the trace refers to {what} {cid}, which is not in the data"));
                match s {
                    State::Call(CallState::Executed { result, .. } | CallState::Failed { result })
                        if !self.store.results.contains_key(result) =>
                    {
                        return Err(missing("service result", result));
                    }
                    State::Canon(CanonState::Executed { result }) if !self.store.canons.contains_key(result) => {
                        return Err(missing("canon result", result));
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// A JSON view for people (`aqua air trace`).
    pub fn to_json(&self) -> serde_json::Value {
        crate::data_view::data_to_json(self)
    }
}

/// The encoded part of [`Data`] (the interpreter version lives in the envelope).
#[derive(Deserialize)]
struct Body<'a> {
    trace: Trace,
    #[serde(borrow)]
    store: Store<'a>,
    signatures: BTreeMap<String, Signature>,
    last_call_id: u32,
}

/// [`Body`] borrowed, for encoding without copying (same field order, same bytes).
#[derive(Serialize)]
struct BodyRef<'a> {
    trace: &'a Trace,
    store: &'a Store<'a>,
    signatures: &'a BTreeMap<String, Signature>,
    last_call_id: u32,
}
