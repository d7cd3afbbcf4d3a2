//! The execution trace: what a script has done so far, as states.
//!
//! The trace is a tree kept in an arena of *subtraces* (sequences of states).
//! Subtrace 0 is the root; a `par` state owns two subtraces (its branches), and a
//! fold over a stream owns one subtrace per iterated value. Within a subtrace, the
//! states follow execution order, which is deterministic given the values, so two
//! peers' versions of a subtrace always agree on a common prefix and merging is
//! position by position (see `merge`).
//!
//! Fold iterations are keyed by the *address* of the state that put the value into
//! the stream ([`ValueKey`]); addresses are derived from tree positions, so they are
//! the same on every peer.

use crate::value::Cid;
use serde::{Deserialize, Serialize};

/// Index of a subtrace in [`Trace::subtraces`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SubtraceId(pub u32);

/// The stable, peer-independent address of a state in the trace tree (16 bytes of BLAKE3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
pub struct ValueKey(#[serde(with = "crate::value::fixed_bytes")] pub [u8; 16]);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trace {
    pub subtraces: Vec<Vec<State>>,
}

impl Default for Trace {
    fn default() -> Self {
        Trace { subtraces: vec![Vec::new()] }
    }
}

impl Trace {
    pub const ROOT: SubtraceId = SubtraceId(0);

    /// Appends an empty subtrace and returns its id.
    pub fn new_subtrace(&mut self) -> SubtraceId {
        self.subtraces.push(Vec::new());
        SubtraceId((self.subtraces.len() - 1) as u32)
    }

    pub fn subtrace(&self, id: SubtraceId) -> &[State] {
        self.subtraces.get(id.0 as usize).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Number of states in the whole tree.
    pub fn state_count(&self) -> usize {
        self.subtraces.iter().map(Vec::len).sum()
    }

    /// The same tree with fold iterations sorted by value and generations cleared: two
    /// peers that merged the same contributions in different orders hold traces with equal
    /// normalized forms (generations are each peer's own numbering).
    pub fn normalized(&self) -> Trace {
        let mut t = self.clone();
        for states in &mut t.subtraces {
            for s in states {
                if let State::Fold { iterations } = s {
                    iterations.sort_by_key(|it| it.value);
                }
                if let Some(generation) = s.generation_mut() {
                    *generation = Generation::Own(0);
                }
            }
        }
        t.canonicalize();
        t
    }

    /// Whether the subtraces are numbered as [`Trace::canonicalize`] numbers them, with
    /// none unreachable. Cheaper than renumbering: nothing is moved or allocated but a stack.
    pub fn is_canonical(&self) -> bool {
        let mut next = 1;
        let mut stack = vec![0];
        while let Some(id) = stack.pop() {
            let Some(states) = self.subtraces.get(id) else { return false };
            let first_child = stack.len();
            for child in states.iter().flat_map(State::children) {
                if child.0 as usize != next {
                    return false;
                }
                next += 1;
                stack.push(child.0 as usize);
            }
            // The first child is visited first, as `canonicalize` does.
            stack[first_child..].reverse();
        }
        next == self.subtraces.len()
    }

    /// Renumbers subtraces in depth-first order of the tree and drops unreachable ones,
    /// so equal trees have equal arenas (and equal bytes). A trace already in that order
    /// (as the VM writes them) is left as it is, after a check that moves nothing.
    pub fn canonicalize(&mut self) {
        if self.is_canonical() {
            return;
        }
        let old = std::mem::take(&mut self.subtraces);
        let mut new: Vec<Vec<State>> = Vec::with_capacity(old.len());
        let mut old = old.into_iter().map(Some).collect::<Vec<_>>();
        // Stack of (old id, new id) to fill; children are visited in order.
        new.push(Vec::new());
        let mut stack = vec![(0usize, 0usize)];
        while let Some((old_id, new_id)) = stack.pop() {
            let states = old.get_mut(old_id).and_then(Option::take).unwrap_or_default();
            let mut states = states;
            let mut children = Vec::new();
            for state in &mut states {
                for child in state.children_mut() {
                    let fresh = new.len();
                    new.push(Vec::new());
                    children.push((child.0 as usize, fresh));
                    *child = SubtraceId(fresh as u32);
                }
            }
            new[new_id] = states;
            // Reverse so the first child is processed first (ids are already assigned in order).
            stack.extend(children.into_iter().rev());
        }
        self.subtraces = new;
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum State {
    Call(CallState),
    Par {
        left: SubtraceId,
        right: SubtraceId,
    },
    /// A fold over a stream or stream map; iterations in the order this peer visited them.
    Fold {
        iterations: Vec<FoldIteration>,
    },
    /// A value was appended to a stream or stream map by `ap`.
    Ap(Generation),
    Canon(CanonState),
}

impl State {
    pub fn kind(&self) -> &'static str {
        match self {
            State::Call(_) => "call",
            State::Par { .. } => "par",
            State::Fold { .. } => "fold",
            State::Ap(_) => "ap",
            State::Canon(_) => "canon",
        }
    }

    /// The generation of the stream value this state wrote, if it wrote one.
    pub fn generation_mut(&mut self) -> Option<&mut Generation> {
        match self {
            State::Ap(generation) => Some(generation),
            State::Call(call) => call.generation_mut(),
            _ => None,
        }
    }

    /// The subtraces this state owns.
    pub fn children_mut(&mut self) -> Vec<&mut SubtraceId> {
        match self {
            State::Par { left, right } => vec![left, right],
            State::Fold { iterations } => iterations.iter_mut().map(|i| &mut i.subtrace).collect(),
            _ => Vec::new(),
        }
    }

    pub fn children(&self) -> impl Iterator<Item = SubtraceId> + '_ {
        let (branches, iterations) = match self {
            State::Par { left, right } => (Some([*left, *right]), &[][..]),
            State::Fold { iterations } => (None, iterations.as_slice()),
            _ => (None, &[][..]),
        };
        branches.into_iter().flatten().chain(iterations.iter().map(|i| i.subtrace))
    }
}

/// The generation of a stream value: which run put it into the stream, as a peer numbers
/// its runs (AquaVM's generations). Values of one generation are folded as one chain of
/// iterations, and a stream lists its values generation by generation.
///
/// The numbers are each peer's own: the same value can have generation 0 on one peer and
/// 2 on another, so merging ignores them and keeps the previous data's. On the wire a
/// generation is its number; which side of a merge it came from lives only in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    /// As this peer numbered it (its previous data, or what a run wrote).
    Own(u32),
    /// As the sender of the incoming data numbered it: a state only the incoming data had,
    /// in a merged trace before the run renumbers it.
    Incoming(u32),
}

impl Generation {
    pub fn number(self) -> u32 {
        match self {
            Generation::Own(n) | Generation::Incoming(n) => n,
        }
    }
}

impl Serialize for Generation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u32(self.number())
    }
}

impl<'de> Deserialize<'de> for Generation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u32::deserialize(d).map(Generation::Own)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FoldIteration {
    pub value: ValueKey,
    pub subtrace: SubtraceId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Output {
    Scalar,
    Stream(Generation),
    /// The call had no output variable.
    Unused,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallState {
    /// The call was handed on: to another peer, or (with `call_id`) to the host of `by`.
    RequestSent { by: String, call_id: Option<u32> },
    /// The service answered; `result` is the CID of a [`ServiceResult`].
    Executed { result: Cid, output: Output },
    /// The service failed; `result` is the CID of a [`ServiceResult`] whose value is
    /// `{"ret_code": n, "message": text}`.
    Failed { result: Cid },
}

impl CallState {
    /// The generation of the stream value this call wrote, if it wrote one.
    pub fn generation_mut(&mut self) -> Option<&mut Generation> {
        match self {
            CallState::Executed { output: Output::Stream(generation), .. } => Some(generation),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CanonState {
    RequestSent {
        by: String,
    },
    /// `result` is the CID of a [`CanonResult`].
    Executed {
        result: Cid,
    },
}

/// A service's answer to one call, as stored (content-addressed) in the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceResult {
    pub value: Cid,
    /// CID of the JSON array of the call's arguments.
    pub argument_hash: Cid,
    pub tetraplet: Cid,
}

/// The snapshot a `canon` took.
///
/// A snapshot may extend an earlier one (`base`, a canon result whose elements come
/// first): a join takes one snapshot of a growing stream per value it sees, and storing
/// each in full would make the data grow with the square of the stream's length.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonResult {
    pub tetraplet: Cid,
    /// A snapshot of a stream map: every element has a key (checked on arrival), and
    /// only a canon over a stream map may replay it.
    pub map: bool,
    pub base: Option<Cid>,
    /// The elements after the base's.
    pub elements: Vec<CanonElement>,
    /// The number of elements, the base's included (checked on arrival).
    pub len: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CanonElement {
    pub value: Cid,
    pub tetraplet: Cid,
    /// In a canon map, the CID of the entry's key (a JSON string or integer). The value
    /// is referred to by its own CID rather than copied into a `{"key", "value"}` object,
    /// so a value put into a map is stored once.
    pub key: Option<Cid>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn par(left: u32, right: u32) -> State {
        State::Par { left: SubtraceId(left), right: SubtraceId(right) }
    }

    fn fold(subtraces: &[u32]) -> State {
        let iterations =
            subtraces.iter().map(|&s| FoldIteration { value: ValueKey([u8::try_from(s).unwrap(); 16]), subtrace: SubtraceId(s) }).collect();
        State::Fold { iterations }
    }

    #[test]
    fn canonical_numbering_is_recognized() {
        // root: par(1, 2), fold(3, 4); subtrace 1: par(5, 6). Depth first, children of a
        // subtrace numbered together: 1 2 3 4, then 1's children 5 6.
        let canonical = Trace {
            subtraces: vec![
                vec![par(1, 2), fold(&[3, 4])],
                vec![par(5, 6)],
                vec![State::Ap(Generation::Own(0))],
                vec![],
                vec![],
                vec![],
                vec![],
            ],
        };
        assert!(canonical.is_canonical());
        let mut renumbered = canonical.clone();
        renumbered.canonicalize();
        assert_eq!(renumbered, canonical);

        // The same tree numbered otherwise, an unreachable subtrace, a dangling child.
        let swapped = Trace {
            subtraces: vec![
                vec![par(2, 1), fold(&[3, 4])],
                vec![State::Ap(Generation::Own(0))],
                vec![par(5, 6)],
                vec![],
                vec![],
                vec![],
                vec![],
            ],
        };
        let unreachable = Trace { subtraces: vec![vec![par(1, 2)], vec![], vec![], vec![State::Ap(Generation::Own(0))]] };
        let dangling = Trace { subtraces: vec![vec![par(1, 2)], vec![]] };
        let shared = Trace { subtraces: vec![vec![par(1, 1)], vec![]] };
        for trace in [&swapped, &unreachable, &dangling, &shared] {
            assert!(!trace.is_canonical(), "{trace:?}");
        }
        // Renumbering gives what the check accepts (a canonical trace is left as it is).
        for mut trace in [swapped, unreachable] {
            trace.canonicalize();
            assert!(trace.is_canonical(), "{trace:?}");
        }
        assert!(Trace::default().is_canonical());
    }
}
