//! Variables during a run: scalars and canons (bound once per scope) and streams.
//!
//! Scopes come from fold iterations (each iteration is one level deeper) and from
//! `new`. A scalar set outside any fold cannot be set again; inside a fold iteration it
//! shadows the outer binding until the iteration ends.

use crate::errors::{Catchable, Uncatchable};
use crate::syntax::ast::VarId;
use crate::trace::{CanonResult, ValueKey};
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
    elements: OnceCell<Vec<Val>>,
    pub tetraplet: Rc<Tetraplet>,
    /// True for a canon map: elements are `{"key", "value"}` objects.
    pub is_map: bool,
    /// The JSON the canon stands for, built when first needed.
    json: OnceCell<Rc<Json>>,
}

impl CanonValue {
    /// A canon whose elements are at hand.
    pub fn new(elements: Vec<Val>, tetraplet: Rc<Tetraplet>, is_map: bool) -> Self {
        CanonValue { record: None, elements: OnceCell::from(elements), tetraplet, is_map, json: OnceCell::new() }
    }

    /// A canon whose elements are loaded from `record` when first used.
    pub fn lazy(record: Rc<CanonResult>, tetraplet: Rc<Tetraplet>, is_map: bool) -> Self {
        CanonValue { record: Some(record), elements: OnceCell::new(), tetraplet, is_map, json: OnceCell::new() }
    }

    pub fn len(&self) -> usize {
        match (self.elements.get(), &self.record) {
            (Some(e), _) => e.len(),
            (None, Some(r)) => r.len as usize,
            (None, None) => 0,
        }
    }

    /// Loads the elements with `load`, once.
    pub fn load(&self, load: &dyn Fn(&CanonResult) -> Vec<Val>) -> &[Val] {
        self.elements.get_or_init(|| self.record.as_deref().map(load).unwrap_or_default())
    }

    /// The elements; the interpreter loads them (see `Interpreter::resolve`) before any
    /// use but `.length`.
    pub fn loaded(&self) -> &[Val] {
        self.elements.get().map_or(&[], Vec::as_slice)
    }

    /// As an argument: an array of values, or for a map an object from each key to
    /// the array of its values.
    pub fn json(&self) -> Rc<Json> {
        self.json
            .get_or_init(|| {
                let elements = self.loaded();
                Rc::new(if self.is_map {
                    let mut m = serde_json::Map::new();
                    for e in elements {
                        let key = map_key_string(e.json.get("key").unwrap_or(&Json::Null));
                        let value = e.json.get("value").cloned().unwrap_or(Json::Null);
                        if let Json::Array(a) = m.entry(key).or_insert_with(|| Json::Array(Vec::new())) {
                            a.push(value);
                        }
                    }
                    Json::Object(m)
                } else {
                    Json::Array(elements.iter().map(|e| (*e.json).clone()).collect())
                })
            })
            .clone()
    }

    /// Number of distinct keys of a canon map.
    pub fn key_count(&self) -> usize {
        let mut keys: Vec<String> = self.loaded().iter().map(|e| map_key_string(e.json.get("key").unwrap_or(&Json::Null))).collect();
        keys.sort_unstable();
        keys.dedup();
        keys.len()
    }

    /// For a canon map: the values of `key`, as a canon stream.
    pub fn map_values(&self, key: &str) -> CanonValue {
        let elements = self
            .loaded()
            .iter()
            .filter(|e| map_key_string(e.json.get("key").unwrap_or(&Json::Null)) == key)
            .map(|e| Val::new(Rc::new(e.json.get("value").cloned().unwrap_or(Json::Null)), e.tetraplet()))
            .collect();
        CanonValue::new(elements, self.tetraplet.clone(), false)
    }
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

/// One value in a stream, with the address of the state that put it there.
#[derive(Debug, Clone)]
pub struct StreamValue {
    pub val: Val,
    pub key: ValueKey,
}

#[derive(Debug, Default)]
pub struct StreamInstance {
    pub values: Vec<StreamValue>,
    /// The last canon taken of this instance (executed or replayed): a new snapshot
    /// that extends it is stored as the elements after it.
    pub last_canon: Option<Cid>,
}

#[derive(Debug)]
pub struct Env {
    bindings: Vec<Vec<Binding>>,
    /// Per fold-iteration depth, the variables bound at that depth (popped at its end).
    scopes: Vec<Vec<VarId>>,
    streams: Vec<Vec<StreamInstance>>,
}

impl Env {
    pub fn new(var_count: usize) -> Self {
        Env { bindings: vec![Vec::new(); var_count], scopes: vec![Vec::new()], streams: (0..var_count).map(|_| Vec::new()).collect() }
    }

    pub fn depth(&self) -> u32 {
        (self.scopes.len() - 1) as u32
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
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(var);
        }
        Ok(())
    }

    /// Enters a fold iteration.
    pub fn push_scope(&mut self) {
        self.scopes.push(Vec::new());
    }

    /// Leaves a fold iteration, dropping what it bound.
    pub fn pop_scope(&mut self) {
        if self.scopes.len() <= 1 {
            return;
        }
        let depth = self.depth();
        for var in self.scopes.pop().unwrap_or_default() {
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
        self.streams[var.0 as usize].push(StreamInstance::default());
    }

    pub fn end_new_stream(&mut self, var: VarId) {
        self.streams[var.0 as usize].pop();
    }

    /// The visible instance of a stream, if it exists (was written or declared by `new`).
    pub fn stream(&self, var: VarId) -> Option<&StreamInstance> {
        self.streams[var.0 as usize].last()
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

    pub fn stream_at(&self, var: VarId, level: usize) -> Option<&StreamInstance> {
        self.streams[var.0 as usize].get(level)
    }

    /// Appends to the visible instance, creating the global one on first write.
    pub fn push_stream(&mut self, var: VarId, name: &str, value: StreamValue) -> Result<(), Uncatchable> {
        let stack = &mut self.streams[var.0 as usize];
        if stack.is_empty() {
            stack.push(StreamInstance::default());
        }
        let inst = stack.last_mut().ok_or_else(|| Uncatchable::Trace("stream instance missing".into()))?;
        if inst.values.len() >= crate::limits::MAX_STREAM_LEN {
            return Err(Uncatchable::StreamSizeLimitExceeded(name.to_owned()));
        }
        inst.values.push(value);
        Ok(())
    }
}
