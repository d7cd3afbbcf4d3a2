//! Variables during a run: scalars and canons (bound once per scope) and streams.
//!
//! Scopes come from fold iterations (each iteration is one level deeper) and from
//! `new`. A scalar set outside any fold cannot be set again; inside a fold iteration it
//! shadows the outer binding until the iteration ends.

use super::stream::{Source, Stream, StreamValue};
use crate::errors::{Catchable, Uncatchable};
use crate::syntax::ast::VarId;
use crate::trace::CanonResult;
use crate::value::{Cid, Tetraplet, Val};
use serde_json::Value as Json;
use std::cell::OnceCell;
use std::rc::Rc;

/// What a scalar-like variable (`x`, `#c`, `#%m`) is bound to.
#[derive(Debug, Clone)]
pub enum Bound {
    Val(Val),
    Canon(Rc<CanonValue>),
}

/// A canon stream or canon map: a fixed snapshot of a stream's values.
///
/// A replayed canon loads its elements only when they are used: joins replay one canon
/// per value seen and mostly ask for `.length`, which the record answers alone.
#[derive(Debug)]
pub struct CanonValue {
    /// The stored snapshot, when the elements are still to be loaded from it.
    record: Option<Rc<CanonResult>>,
    elements: OnceCell<Elements>,
    pub tetraplet: Rc<Tetraplet>,
    /// True for a canon map: every element has a key.
    pub is_map: bool,
    /// The JSON the canon stands for, built when first needed.
    json: OnceCell<Rc<Json>>,
}

/// A canon's elements; for a canon map, each element's key at the same index.
#[derive(Debug, Default)]
pub struct Elements {
    pub values: Vec<Val>,
    pub keys: Vec<Rc<Json>>,
}

impl CanonValue {
    /// A canon whose elements are at hand.
    pub fn new(elements: Elements, tetraplet: Rc<Tetraplet>, is_map: bool) -> Self {
        CanonValue { record: None, elements: OnceCell::from(elements), tetraplet, is_map, json: OnceCell::new() }
    }

    /// A canon whose elements are loaded from `record` when first used.
    pub fn lazy(record: Rc<CanonResult>, tetraplet: Rc<Tetraplet>, is_map: bool) -> Self {
        CanonValue { record: Some(record), elements: OnceCell::new(), tetraplet, is_map, json: OnceCell::new() }
    }

    pub fn len(&self) -> usize {
        match (self.elements.get(), &self.record) {
            (Some(e), _) => e.values.len(),
            (None, Some(r)) => r.len as usize,
            (None, None) => 0,
        }
    }

    /// Loads the elements with `load`, once.
    pub fn load(&self, load: &dyn Fn(&CanonResult) -> Elements) -> &[Val] {
        &self.elements.get_or_init(|| self.record.as_deref().map(load).unwrap_or_default()).values
    }

    /// The elements; the interpreter loads them (see `Interpreter::resolve`) before any
    /// use but `.length`.
    pub fn loaded(&self) -> &[Val] {
        self.elements.get().map_or(&[], |e| e.values.as_slice())
    }

    /// A canon map's loaded elements with their keys (as strings: keys are compared so).
    pub fn entries(&self) -> impl Iterator<Item = (String, &Val)> {
        let (values, keys) = self.elements.get().map_or((&[][..], &[][..]), |e| (e.values.as_slice(), e.keys.as_slice()));
        keys.iter().map(|k| map_key_string(k)).zip(values)
    }

    /// A canon map's element `i` as the `{"key", "value"}` object a fold visits.
    pub fn entry_object(&self, i: usize) -> Option<Val> {
        let e = self.elements.get()?;
        Some(entry_object(e.keys.get(i)?, e.values.get(i)?))
    }

    /// As an argument: an array of values, or for a map an object from each key to
    /// the array of its values (keys in order of first appearance).
    pub fn json(&self) -> Rc<Json> {
        self.json.get_or_init(|| Rc::new(self.build_json())).clone()
    }

    /// The JSON as an owned value for a call request; built afresh unless already built,
    /// so the request holds the only copy.
    pub fn to_owned_json(&self) -> Json {
        self.json.get().map_or_else(|| self.build_json(), |j| (**j).clone())
    }

    fn build_json(&self) -> Json {
        if self.is_map {
            let groups = self.groups().into_iter();
            Json::Object(groups.map(|(key, values)| (key, Json::Array(values.into_iter().cloned().collect()))).collect())
        } else {
            Json::Array(self.loaded().iter().map(|e| (*e.json).clone()).collect())
        }
    }

    /// Writes the text of [`CanonValue::json`] without building it, for hashing.
    pub fn write_json(&self, w: impl std::io::Write) -> serde_json::Result<()> {
        if let Some(json) = self.json.get() {
            return serde_json::to_writer(w, &**json);
        }
        if !self.is_map {
            return serde_json::to_writer(w, &self.loaded().iter().map(|e| &*e.json).collect::<Vec<&Json>>());
        }
        serde_json::to_writer(w, &MapText(&self.groups()))
    }

    /// A canon map's values grouped by key, keys in order of first appearance: the
    /// object a map stands for, borrowed.
    fn groups(&self) -> Vec<(String, Vec<&Json>)> {
        let mut groups: Vec<(String, Vec<&Json>)> = Vec::new();
        let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for (key, value) in self.entries() {
            let i = *index.entry(key.clone()).or_insert_with(|| {
                groups.push((key, Vec::new()));
                groups.len() - 1
            });
            groups[i].1.push(&value.json);
        }
        groups
    }

    /// Number of distinct keys of a canon map.
    pub fn key_count(&self) -> usize {
        let mut keys: Vec<String> = self.entries().map(|(k, _)| k).collect();
        keys.sort_unstable();
        keys.dedup();
        keys.len()
    }

    /// For a canon map: the values of `key`, as a canon stream.
    pub fn map_values(&self, key: &str) -> CanonValue {
        let values = self.entries().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect();
        CanonValue::new(Elements { values, keys: Vec::new() }, self.tetraplet.clone(), false)
    }
}

/// A canon map's groups, serialized as the object [`CanonValue::json`] builds.
struct MapText<'a>(&'a [(String, Vec<&'a Json>)]);

impl serde::Serialize for MapText<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

/// A map entry as the `{"key", "value"}` object folds and iterators see; it keeps the
/// value's origin. Built only when visited, so a map does not hold a copy of each value.
pub fn entry_object(key: &Rc<Json>, value: &Val) -> Val {
    let mut object = serde_json::Map::new();
    object.insert("key".into(), (**key).clone());
    object.insert("value".into(), (*value.json).clone());
    value.with_json(Rc::new(Json::Object(object)))
}

/// Map keys are strings or integers; both are compared as their string form.
pub fn map_key_string(k: &Json) -> String {
    match k {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Debug, Clone)]
struct Binding {
    /// `None`: declared by `new`, not set yet.
    value: Option<Bound>,
    depth: u32,
    from_new: bool,
}

#[derive(Debug)]
pub struct Env {
    bindings: Vec<Vec<Binding>>,
    /// The variables bound in open fold iterations, outermost first; they are unbound
    /// when their iteration ends.
    scoped: Vec<VarId>,
    /// Where each open fold iteration's variables start in `scoped`; the length is the depth.
    scope_starts: Vec<usize>,
    /// Per stream variable, its instances: the global one, then one per open `new`.
    streams: Vec<Vec<Stream>>,
}

impl Env {
    pub fn new(var_count: usize) -> Self {
        Env {
            bindings: vec![Vec::new(); var_count],
            scoped: Vec::new(),
            scope_starts: Vec::new(),
            streams: (0..var_count).map(|_| Vec::new()).collect(),
        }
    }

    pub fn depth(&self) -> u32 {
        self.scope_starts.len() as u32
    }

    pub fn get(&self, var: VarId, name: &str) -> Result<&Bound, Catchable> {
        match self.bindings[var.0 as usize].last() {
            Some(Binding { value: Some(v), .. }) => Ok(v),
            Some(Binding { value: None, .. }) => Err(Catchable::NotInitializedAfterNew(name.to_owned())),
            None => Err(Catchable::VariableNotFound(name.to_owned())),
        }
    }

    pub fn set(&mut self, var: VarId, name: &str, value: Bound) -> Result<(), Uncatchable> {
        let depth = self.depth();
        let stack = &mut self.bindings[var.0 as usize];
        match stack.last_mut() {
            Some(b) if b.depth == depth && (b.value.is_none() || depth > 0) => {
                b.value = Some(value);
                return Ok(());
            }
            Some(b) if b.depth == depth => return Err(Uncatchable::ShadowingIsNotAllowed(name.to_owned())),
            _ => {}
        }
        stack.push(Binding { value: Some(value), depth, from_new: false });
        if depth > 0 {
            self.scoped.push(var);
        }
        Ok(())
    }

    /// Enters a fold iteration.
    pub fn push_scope(&mut self) {
        self.scope_starts.push(self.scoped.len());
    }

    /// Leaves a fold iteration, dropping what it bound.
    pub fn pop_scope(&mut self) {
        let depth = self.depth();
        let Some(start) = self.scope_starts.pop() else { return };
        for var in self.scoped.drain(start..) {
            let stack = &mut self.bindings[var.0 as usize];
            if stack.last().is_some_and(|b| b.depth == depth && !b.from_new) {
                stack.pop();
            }
        }
    }

    /// `new` over a scalar or canon: hides the outer binding until [`Env::end_new_scalar`].
    pub fn begin_new_scalar(&mut self, var: VarId) {
        let depth = self.depth();
        self.bindings[var.0 as usize].push(Binding { value: None, depth, from_new: true });
    }

    pub fn end_new_scalar(&mut self, var: VarId) {
        let stack = &mut self.bindings[var.0 as usize];
        while let Some(b) = stack.pop() {
            if b.from_new {
                break;
            }
        }
    }

    /// `new` over a stream or map: a fresh, existing, empty instance.
    pub fn begin_new_stream(&mut self, var: VarId) {
        self.streams[var.0 as usize].push(Stream::default());
    }

    /// Ends a `new` over a stream or map, giving back the instance it declared.
    pub fn end_new_stream(&mut self, var: VarId) -> Option<Stream> {
        self.streams[var.0 as usize].pop()
    }

    /// The visible instance of a stream, if it exists (was written or declared by `new`).
    pub fn stream(&self, var: VarId) -> Option<&Stream> {
        self.streams[var.0 as usize].last()
    }

    /// Every stream instance still open (at the end of a run, the global ones).
    pub fn streams_mut(&mut self) -> impl Iterator<Item = &mut Stream> {
        self.streams.iter_mut().flatten()
    }

    /// Notes that the visible instance was just snapshotted as `canon`.
    pub fn note_canon(&mut self, var: VarId, canon: Cid) {
        if let Some(inst) = self.streams[var.0 as usize].last_mut() {
            inst.last_canon = Some(canon);
        }
    }

    /// Index of the visible instance, to find it again while folding.
    pub fn stream_level(&self, var: VarId) -> Option<usize> {
        self.streams[var.0 as usize].len().checked_sub(1)
    }

    pub fn stream_at(&self, var: VarId, level: usize) -> Option<&Stream> {
        self.streams[var.0 as usize].get(level)
    }

    pub fn stream_at_mut(&mut self, var: VarId, level: usize) -> Option<&mut Stream> {
        self.streams[var.0 as usize].get_mut(level)
    }

    /// Adds to the visible instance, creating the global one on first write.
    pub fn push_stream(&mut self, var: VarId, name: &str, value: StreamValue, source: Source) -> Result<(), Uncatchable> {
        let stack = &mut self.streams[var.0 as usize];
        if stack.is_empty() {
            stack.push(Stream::default());
        }
        let stream = stack.last_mut().ok_or_else(|| Uncatchable::Trace("stream instance missing".into()))?;
        stream.push(value, source, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canon(keys: &[Json], values: &[Json]) -> CanonValue {
        let tetraplet = Rc::new(Tetraplet::literal("peer"));
        let values = values.iter().map(|v| Val::new(Rc::new(v.clone()), tetraplet.clone())).collect();
        let keys: Vec<Rc<Json>> = keys.iter().cloned().map(Rc::new).collect();
        let is_map = !keys.is_empty();
        CanonValue::new(Elements { values, keys }, tetraplet, is_map)
    }

    fn written(c: &CanonValue) -> String {
        let mut text = Vec::new();
        c.write_json(&mut text).unwrap();
        String::from_utf8(text).unwrap()
    }

    /// Argument hashes are taken over the written text, and must not depend on whether the
    /// canon's JSON was built before.
    fn number(env: &Env, var: u32) -> Option<i64> {
        match env.get(VarId(var), "v") {
            Ok(Bound::Val(v)) => v.json.as_i64(),
            _ => None,
        }
    }

    fn bind(env: &mut Env, var: u32, n: i64) -> Result<(), Uncatchable> {
        env.set(VarId(var), "v", Bound::Val(Val::new(Rc::new(json!(n)), Rc::new(Tetraplet::literal("peer")))))
    }

    /// What a fold iteration binds is unbound when it ends, nested iterations included,
    /// and outer bindings show through again; outside folds a scalar is set once.
    #[test]
    fn fold_iterations_unbind_what_they_bound() {
        let mut env = Env::new(3);
        bind(&mut env, 0, 1).unwrap();
        assert!(matches!(bind(&mut env, 0, 2), Err(Uncatchable::ShadowingIsNotAllowed(_))));
        env.push_scope();
        bind(&mut env, 0, 10).unwrap(); // shadows the outer value
        bind(&mut env, 1, 11).unwrap();
        bind(&mut env, 1, 12).unwrap(); // inside an iteration, a scalar may be set again
        env.push_scope();
        bind(&mut env, 2, 20).unwrap();
        assert_eq!((number(&env, 0), number(&env, 1), number(&env, 2)), (Some(10), Some(12), Some(20)));
        env.pop_scope();
        assert_eq!((number(&env, 0), number(&env, 1), number(&env, 2)), (Some(10), Some(12), None));
        env.pop_scope();
        assert_eq!((number(&env, 0), number(&env, 1), number(&env, 2)), (Some(1), None, None));
        // The next iteration starts afresh; popping the outermost level changes nothing.
        env.push_scope();
        bind(&mut env, 1, 13).unwrap();
        env.pop_scope();
        env.pop_scope();
        assert_eq!((number(&env, 0), number(&env, 1)), (Some(1), None));
    }

    #[test]
    fn a_canon_is_written_as_the_text_of_its_json() {
        let keys = [json!("b"), json!(1), json!("a"), json!("b"), json!("1")];
        let values = [json!({"x": [1, 2]}), json!("one"), json!(null), json!(2.5), json!("\"quoted\"")];
        for c in [canon(&keys, &values), canon(&[], &values), canon(&[], &[])] {
            let before = written(&c);
            let json = c.json();
            assert_eq!(before, serde_json::to_string(&*json).unwrap());
            assert_eq!(written(&c), before);
            assert_eq!(c.to_owned_json(), *json);
        }
        // Keys in order of first appearance, integer and string forms of a key merged.
        assert_eq!(written(&canon(&keys, &values)), r#"{"b":[{"x":[1,2]},2.5],"1":["one","\"quoted\""],"a":[null]}"#);
    }

    #[test]
    fn a_fold_over_a_canon_map_sees_key_value_objects_with_the_values_origin() {
        let c = canon(&[json!("k"), json!(7)], &[json!([1]), json!("v")]);
        let entry = c.entry_object(1).unwrap();
        assert_eq!(*entry.json, json!({"key": 7, "value": "v"}));
        assert_eq!(entry.tetraplet(), c.loaded()[1].tetraplet());
        assert_eq!(c.key_count(), 2);
        assert_eq!(*c.map_values("7").json(), json!(["v"]));
    }
}
