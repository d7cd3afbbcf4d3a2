//! Lenses: `.length` and paths like `.$.a.[0].[x]` applied to values and canons.

use super::env::{Bound, CanonValue};
use super::{Flow, Interpreter, Resolved};
use crate::errors::Catchable;
use crate::syntax::ast::{Accessor, Lens, LensKind};
use crate::value::{Val, message_text};
use serde_json::Value as Json;
use std::rc::Rc;

/// An accessor with its scalar resolved.
enum Step {
    Field(String),
    Index(usize),
}

impl Step {
    fn text(&self) -> String {
        match self {
            Step::Field(f) => format!(".{f}"),
            Step::Index(i) => format!(".[{i}]"),
        }
    }
}

pub(super) fn apply(interp: &Interpreter<'_>, base: Resolved, lens: &Lens) -> Result<Resolved, Flow> {
    let accessors = match &lens.kind {
        LensKind::Length => return length(base),
        LensKind::Path { accessors, .. } => accessors,
    };
    let mut steps = Vec::with_capacity(accessors.len());
    for a in accessors {
        steps.push(match a {
            Accessor::Field(f) => Step::Field(interp.script.text(*f).to_owned()),
            Accessor::Index(i) => Step::Index(*i as usize),
            Accessor::Scalar(var) => {
                let name = interp.script.name(var.id);
                let json = match interp.env.get(var.id, name)? {
                    Bound::Val(v) => v.json.clone(),
                    Bound::Canon(c) => {
                        c.load(&|r| interp.load_elements(r));
                        c.json()
                    }
                };
                match &*json {
                    Json::String(s) => Step::Field(s.clone()),
                    Json::Number(n) => match n.as_u64().and_then(|i| u32::try_from(i).ok()) {
                        Some(i) => Step::Index(i as usize),
                        None => return Err(Catchable::LensError(format!("index accessor `{n} can't be converted to u32`")).into()),
                    },
                    other => {
                        let shown = message_text(other);
                        return Err(Catchable::LensError(format!("scalar accessor `{shown}` should has number or string type")).into());
                    }
                }
            }
        });
    }
    let mut current = base;
    let mut rest = &steps[..];
    // Canons are entered element-wise, so the element's own tetraplet is kept.
    while let (Resolved::Canon(c), Some(first)) = (&current, rest.first()) {
        current = match (c.is_map, first) {
            (true, Step::Field(k)) => Resolved::Canon(Rc::new(c.map_values(k))),
            (true, Step::Index(i)) => Resolved::Canon(Rc::new(c.map_values(&i.to_string()))),
            (false, Step::Index(i)) => match c.loaded().get(*i) {
                Some(e) => Resolved::One(e.clone()),
                None => {
                    let n = c.len();
                    return Err(Catchable::LensError(format!(
                        "lambda is applied to a stream that have only '{n}' elements, but '{i}' requested"
                    ))
                    .into());
                }
            },
            (false, Step::Field(f)) => {
                return Err(Catchable::LensError(format!("field accessor (with field name = '{f}') can't be applied to a stream")).into());
            }
        };
        rest = &rest[1..];
    }
    if rest.is_empty() {
        return Ok(current);
    }
    let val = current.into_val();
    let mut json: &Json = &val.json;
    let mut lens_text = String::from(".$");
    for step in rest {
        json = match (step, json) {
            (Step::Field(f), Json::Object(m)) => m.get(f).ok_or_else(|| {
                Catchable::LensError(format!("value '{}' does not contain element with field name = '{f}'", message_text(json)))
            })?,
            (Step::Index(i), Json::Array(a)) => a
                .get(*i)
                .ok_or_else(|| Catchable::LensError(format!("value '{}' does not contain element for idx = '{i}'", message_text(json))))?,
            (Step::Field(f), other) => {
                let shown = message_text(other);
                return Err(Catchable::LensError(format!(
                    "value '{shown}' is not an map-type to match field accessor with field_name = '{f}'"
                ))
                .into());
            }
            (Step::Index(i), other) => {
                let shown = message_text(other);
                return Err(
                    Catchable::LensError(format!("value '{shown}' is not an array-type to match array accessor with idx = '{i}'")).into()
                );
            }
        };
        lens_text.push_str(&step.text());
    }
    Ok(Resolved::One(Val::new(Rc::new(json.clone()), Rc::new(val.tetraplet().with_lens(&lens_text)))))
}

fn length(base: Resolved) -> Result<Resolved, Flow> {
    let (n, tetraplet) = match base {
        Resolved::Canon(c) if c.is_map => (c.key_count(), c.tetraplet.clone()),
        Resolved::Canon(c) => (c.len(), c.tetraplet.clone()),
        Resolved::One(v) => match &*v.json {
            Json::Array(a) => (a.len(), v.tetraplet()),
            other => return Err(Catchable::LengthOfNotArray(message_text(other)).into()),
        },
    };
    Ok(Resolved::One(Val::new(Rc::new(Json::from(n)), Rc::new(tetraplet.with_lens(".length")))))
}

/// The entries a fold over a canon map visits: each key once, with its last value,
/// ordered by the position of that last value.
pub(super) fn canon_map_entries(c: &CanonValue) -> Vec<Val> {
    let keys: Vec<String> = c.entries().map(|(k, _)| k).collect();
    let mut seen = std::collections::HashSet::new();
    // Walking back, the first time a key is seen is its last value.
    let mut last: Vec<usize> = (0..keys.len()).rev().filter(|&i| seen.insert(&keys[i])).collect();
    last.reverse();
    last.into_iter().filter_map(|i| c.entry_object(i)).collect()
}
