//! Values as the VM sees them: JSON with a tetraplet saying where it came from.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use std::borrow::Cow;
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

/// A tetraplet as particle data holds it: its text read in place from the decoded bytes,
/// or owned when a run made it. Encoded exactly as a [`Tetraplet`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTetraplet<'a> {
    #[serde(borrow)]
    pub peer_pk: Cow<'a, str>,
    #[serde(borrow)]
    pub service_id: Cow<'a, str>,
    #[serde(borrow)]
    pub function_name: Cow<'a, str>,
    #[serde(borrow)]
    pub lens: Cow<'a, str>,
}

impl StoredTetraplet<'_> {
    pub fn fields(&self) -> [&str; 4] {
        [&self.peer_pk, &self.service_id, &self.function_name, &self.lens]
    }

    pub fn to_tetraplet(&self) -> Tetraplet {
        let [peer_pk, service_id, function_name, lens] = self.fields().map(str::to_owned);
        Tetraplet { peer_pk, service_id, function_name, lens }
    }

    pub fn into_owned(self) -> StoredTetraplet<'static> {
        let owned = |text: Cow<'_, str>| Cow::Owned(text.into_owned());
        StoredTetraplet {
            peer_pk: owned(self.peer_pk),
            service_id: owned(self.service_id),
            function_name: owned(self.function_name),
            lens: owned(self.lens),
        }
    }
}

impl From<&Tetraplet> for StoredTetraplet<'static> {
    fn from(t: &Tetraplet) -> Self {
        let owned = |text: &String| Cow::Owned(text.clone());
        StoredTetraplet {
            peer_pk: owned(&t.peer_pk),
            service_id: owned(&t.service_id),
            function_name: owned(&t.function_name),
            lens: owned(&t.lens),
        }
    }
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
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Cid(#[serde(with = "fixed_bytes")] pub [u8; 32]);

/// Byte order, decided by the first eight bytes read as one big-endian number (hashes
/// rarely share them) instead of a byte-by-byte comparison: CIDs are sorted on every
/// encoding and are the keys of ordered maps.
impl Ord for Cid {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let prefix = |c: &Cid| u64::from_be_bytes([c.0[0], c.0[1], c.0[2], c.0[3], c.0[4], c.0[5], c.0[6], c.0[7]]);
        prefix(self).cmp(&prefix(other)).then_with(|| self.0[8..].cmp(&other.0[8..]))
    }
}

impl PartialOrd for Cid {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Sorts `items` by their CIDs, in [`Cid`]'s order, in a fraction of a comparison sort's
/// time: CIDs are hashes, so their first byte spreads them evenly over 256 buckets, and
/// each bucket, a handful of items, is then sorted by comparison. Every encoding sorts
/// its records this way, and every signature its CIDs.
pub fn sort_by_cid<T: Copy>(items: &mut [T], cid: impl Fn(&T) -> &Cid) {
    // Below this, the buckets would be mostly empty and a comparison sort is as quick.
    const BUCKETED: usize = 256;
    if items.len() < BUCKETED {
        items.sort_unstable_by(|a, b| cid(a).cmp(cid(b)));
        return;
    }
    let mut starts = [0usize; 257];
    for item in items.iter() {
        starts[usize::from(cid(item).0[0]) + 1] += 1;
    }
    for b in 1..257 {
        starts[b] += starts[b - 1];
    }
    let unsorted = items.to_vec();
    let mut next = starts;
    for item in unsorted {
        let b = usize::from(cid(&item).0[0]);
        items[next[b]] = item;
        next[b] += 1;
    }
    for b in 0..256 {
        items[starts[b]..starts[b + 1]].sort_unstable_by(|a, b| cid(a).cmp(cid(b)));
    }
}

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
        Cid(hash_concat(&[kind.as_bytes(), &[0], bytes]))
    }

    pub fn to_hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// BLAKE3 of `parts` concatenated.
pub(crate) fn hash_concat(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = SmallHasher::new();
    for p in parts {
        h.update(p);
    }
    h.finalize()
}

/// BLAKE3 over bytes fed in pieces. Most inputs (records, addresses, argument lists) are
/// small: gathered on the stack, they are hashed in one call, which skips the incremental
/// hasher's bookkeeping. Longer ones spill into an incremental hasher (boxed: it is almost
/// 2 KB, and this one is made and moved for every small record). The hash is the same
/// either way.
pub(crate) struct SmallHasher {
    buf: [u8; 256],
    len: usize,
    spilled: Option<Box<Spill>>,
}

/// The incremental hasher of a long input, fed in pieces of at least [`Spill::PIECE`]:
/// BLAKE3 hashes the chunks of one long piece in parallel with SIMD, but a piece shorter
/// than a chunk one 64-byte block at a time (a canon's 770 element CIDs, fed 32 bytes at
/// a time, took twice the instructions). A piece that long already is fed as it is, so a
/// big input is never copied.
struct Spill {
    hasher: blake3::Hasher,
    pending: Vec<u8>,
}

impl Spill {
    /// Sixteen BLAKE3 chunks: as many as the widest SIMD path hashes at once.
    const PIECE: usize = 16 * 1024;

    fn update(&mut self, bytes: &[u8]) {
        if bytes.len() >= Self::PIECE {
            self.hasher.update(&self.pending);
            self.pending.clear();
            self.hasher.update(bytes);
        } else {
            self.pending.extend_from_slice(bytes);
            if self.pending.len() >= Self::PIECE {
                self.hasher.update(&self.pending);
                self.pending.clear();
            }
        }
    }
}

impl SmallHasher {
    pub(crate) fn new() -> Self {
        SmallHasher { buf: [0; 256], len: 0, spilled: None }
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) -> &mut Self {
        if let Some(spill) = &mut self.spilled {
            spill.update(bytes);
        } else if let Some(room) = self.buf.get_mut(self.len..self.len + bytes.len()) {
            room.copy_from_slice(bytes);
            self.len += bytes.len();
        } else {
            let mut spill = Box::new(Spill { hasher: blake3::Hasher::new(), pending: Vec::with_capacity(Spill::PIECE) });
            spill.update(&self.buf[..self.len]);
            spill.update(bytes);
            self.spilled = Some(spill);
        }
        self
    }

    pub(crate) fn finalize(self) -> [u8; 32] {
        match self.spilled {
            None => *blake3::hash(&self.buf[..self.len]).as_bytes(),
            Some(mut spill) => *spill.hasher.update(&spill.pending).finalize().as_bytes(),
        }
    }
}

/// Writing into the hasher, for text produced by a serializer (it cannot fail).
impl std::io::Write for SmallHasher {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
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
    origin: Origin,
}

#[derive(Debug, Clone)]
enum Origin {
    /// The value's tetraplet.
    Whole(Rc<Tetraplet>),
    /// The value is element `index` of an array with this tetraplet, so its lens gains
    /// `.$.[index]`. Built only when looked at: a fold over an array binds every element,
    /// and most iterations never look at where it came from.
    Element(Rc<Tetraplet>, u32),
}

impl Val {
    pub fn new(json: Rc<Json>, tetraplet: Rc<Tetraplet>) -> Val {
        Val { json, origin: Origin::Whole(tetraplet) }
    }

    /// Element `index` (`json`) of an array whose tetraplet is `array`.
    pub fn element(json: Rc<Json>, array: Rc<Tetraplet>, index: u32) -> Val {
        Val { json, origin: Origin::Element(array, index) }
    }

    /// Another value with this one's origin (a stream map entry holding this value).
    pub fn with_json(&self, json: Rc<Json>) -> Val {
        Val { json, origin: self.origin.clone() }
    }

    pub fn tetraplet(&self) -> Rc<Tetraplet> {
        match &self.origin {
            Origin::Whole(t) => t.clone(),
            Origin::Element(array, index) => {
                let mut t = (**array).clone();
                t.lens.push_str(".$.[");
                t.lens.push_str(&index.to_string());
                t.lens.push(']');
                Rc::new(t)
            }
        }
    }

    /// The tetraplet when the value carries it whole, so that a cache keyed by its
    /// address can find it.
    pub fn shared_tetraplet(&self) -> Option<&Rc<Tetraplet>> {
        match &self.origin {
            Origin::Whole(t) => Some(t),
            Origin::Element(..) => None,
        }
    }
}

/// The compact JSON text of a value: the form that is hashed and stored.
pub fn json_text(v: &Json) -> String {
    // A string needing no escapes (the usual big value) is copied, not escaped byte by byte.
    if let Json::String(s) = v
        && !needs_escape(s)
    {
        let mut text = String::with_capacity(s.len() + 2);
        text.push('"');
        text.push_str(s);
        text.push('"');
        return text;
    }
    // Sized before writing: a big value is then held once, not in a buffer grown by doubling.
    let mut text = Vec::with_capacity(json_text_len(v));
    match serde_json::to_writer(&mut text, v) {
        // serde_json writes valid UTF-8.
        Ok(()) => String::from_utf8(text).unwrap_or_else(|_| "null".to_owned()),
        Err(_) => "null".to_owned(),
    }
}

/// The length of [`json_text`]`(v)`, counted without building the text.
pub fn json_text_len(v: &Json) -> usize {
    match v {
        Json::String(s) => string_text_len(s),
        Json::Array(items) => 2 + items.len().saturating_sub(1) + items.iter().map(json_text_len).sum::<usize>(),
        Json::Object(m) => 2 + m.len().saturating_sub(1) + m.iter().map(|(k, v)| string_text_len(k) + 1 + json_text_len(v)).sum::<usize>(),
        scalar => written_len(scalar),
    }
}

/// Whether serde_json escapes anything in `s` (control characters, quotes, backslashes).
fn needs_escape(s: &str) -> bool {
    // Chunks folded without early exit, so the scan is vectorized.
    s.as_bytes().chunks(4096).any(|c| c.iter().fold(false, |found, &b| found | (b < 0x20) | (b == b'"') | (b == b'\\')))
}

fn string_text_len(s: &str) -> usize {
    if needs_escape(s) { written_len(s) } else { s.len() + 2 }
}

/// The length of the compact JSON text of `v`, by writing it into a counter.
fn written_len<T: Serialize + ?Sized>(v: &T) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, v) {
        Ok(()) => counter.0,
        Err(_) => "null".len(),
    }
}

/// Compact JSON text with every object's keys in sorted order, as AquaVM writes a
/// thrown error object into its error message.
pub fn sorted_json_text(v: &Json) -> String {
    let mut out = String::new();
    write_sorted(v, &mut out, usize::MAX);
    out
}

/// A value as error messages show it: compact JSON with sorted keys, as AquaVM prints
/// values, cut after a kilobyte so that a message about a big value stays readable (and
/// cheap: a long string is cut before it is escaped).
pub fn message_text(v: &Json) -> String {
    const LIMIT: usize = 1024;
    let mut out = String::new();
    write_sorted(v, &mut out, LIMIT);
    if out.len() > LIMIT {
        let cut = (0..=LIMIT - 3).rev().find(|&i| out.is_char_boundary(i)).unwrap_or(0);
        out.truncate(cut);
        out.push_str("...");
    }
    out
}

/// Writes `v` as compact JSON with sorted keys, stopping soon after `out` passes `limit`
/// bytes.
fn write_sorted(v: &Json, out: &mut String, limit: usize) {
    if out.len() > limit {
        return;
    }
    match v {
        Json::Object(m) => {
            let mut entries: Vec<(&String, &Json)> = m.iter().collect();
            entries.sort_by_key(|(k, _)| *k);
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&json_text(&Json::String(k.clone())));
                out.push(':');
                write_sorted(v, out, limit);
                if out.len() > limit {
                    return;
                }
            }
            out.push('}');
        }
        Json::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(v, out, limit);
                if out.len() > limit {
                    return;
                }
            }
            out.push(']');
        }
        Json::String(s) if s.len() > limit => {
            let cut = (0..=limit).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
            out.push_str(&json_text(&Json::String(s[..cut].to_owned())));
        }
        scalar => out.push_str(&json_text(scalar)),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn any_json() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::from),
            any::<i64>().prop_map(Json::from),
            any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Json::from),
            // Quotes, backslashes, control characters and non-ASCII all take their own paths.
            "[a-z\"\\\\\u{0}-\u{1f}\u{7f}é🦀]{0,12}".prop_map(Json::from),
        ];
        leaf.prop_recursive(3, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
                prop::collection::vec(("[a-z\"\n]{0,4}", inner), 0..4).prop_map(|kv| Json::Object(kv.into_iter().collect())),
            ]
        })
    }

    /// Messages show values as AquaVM does (compact, keys sorted) and a big value cut to
    /// a kilobyte, on a character boundary.
    #[test]
    fn message_text_sorts_keys_and_cuts_big_values() {
        let v = serde_json::json!({"b": [1, {"z": null, "a": "x"}], "a": true});
        assert_eq!(message_text(&v), r#"{"a":true,"b":[1,{"a":"x","z":null}]}"#);
        let big = serde_json::json!({"k": "é".repeat(10_000)});
        let text = message_text(&big);
        assert!(text.starts_with(r#"{"k":"éé"#) && text.ends_with("..."), "{text}");
        assert!(text.len() <= 1024, "{}", text.len());
        let many = Json::Array((0..10_000).map(Json::from).collect());
        assert!(message_text(&many).starts_with("[0,1,2,") && message_text(&many).len() <= 1024);
    }

    proptest! {
        /// CIDs order as their bytes do.
        #[test]
        fn cids_order_as_their_bytes(a in any::<[u8; 32]>(), b in any::<[u8; 32]>(), shared in 0usize..32) {
            let mut b = b;
            b[..shared].copy_from_slice(&a[..shared]);
            prop_assert_eq!(Cid(a).cmp(&Cid(b)), a.cmp(&b));
        }

        /// Sorting by CID gives the order of a comparison sort, across the bucketed
        /// threshold, with CIDs that share their first bytes and CIDs that repeat.
        #[test]
        fn sorting_by_cid_orders_as_a_comparison_sort(
            drawn in prop::collection::vec((0u8..4, any::<[u8; 32]>()), 0..1200),
            repeated in 0usize..50,
        ) {
            let mut cids: Vec<Cid> = drawn.iter().map(|&(kind, mut bytes)| {
                // Some share their first nine bytes: the same bucket and the same prefix.
                if kind == 0 { bytes[..9].fill(7); }
                Cid(bytes)
            }).collect();
            cids.extend(cids.clone().iter().take(repeated));
            let mut expected = cids.clone();
            expected.sort_unstable_by_key(|c| c.0);
            sort_by_cid(&mut cids, |c| c);
            prop_assert_eq!(cids, expected);
        }

        /// The stored text is serde_json's compact text, and its length is counted exactly.
        #[test]
        fn json_text_is_the_compact_text_and_its_length_is_exact(v in any_json()) {
            let expected = serde_json::to_string(&v).unwrap();
            prop_assert_eq!(json_text_len(&v), expected.len());
            prop_assert_eq!(json_text(&v), expected);
        }

        /// Bytes fed in pieces hash as BLAKE3 of their concatenation, whether they fit the
        /// stack buffer or spill into the incremental hasher, in pieces shorter or longer
        /// than the ones it gathers.
        #[test]
        fn small_hasher_is_blake3_of_the_concatenation(
            pieces in prop::collection::vec(
                prop_oneof![
                    4 => prop::collection::vec(any::<u8>(), 0..300),
                    1 => prop::collection::vec(any::<u8>(), 5_000..40_000),
                ],
                0..12,
            )
        ) {
            let mut h = SmallHasher::new();
            for p in &pieces {
                h.update(p);
            }
            prop_assert_eq!(h.finalize(), *blake3::hash(&pieces.concat()).as_bytes());
        }
    }
}
