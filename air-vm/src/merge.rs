//! Merging two traces of the same script (what a peer had, and what just arrived).
//!
//! Both traces are trees of subtraces whose states follow execution order, so they are
//! merged position by position. At every position the two states must be of the same
//! kind and compatible: a "request sent" call may become a result, never the reverse;
//! two results must be the same result; `par` branches and fold iterations (matched by
//! value key) merge recursively. The walk uses an explicit worklist.
//!
//! On equal "request sent" states the previous one is kept, and fold iterations keep the
//! previous data's order with the incoming data's new ones after it. Stream generations
//! are each peer's own numbering, so they are not compared: the previous data's stay, and
//! a stream value only the incoming data has is marked as such ([`Generation::Incoming`]),
//! for the run to place it after this peer's own. This makes the merge idempotent and
//! associative (the leftmost operand wins ties), as AquaVM's is; two peers that merged the
//! same contributions in different orders hold the same trace up to the order of fold
//! iterations and generations (see [`Trace::normalized`]).

use crate::trace::{CallState, CanonState, FoldIteration, Generation, State, SubtraceId, Trace, ValueKey};
use std::fmt;

/// Where in the trace tree a merge failed, for people.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TracePath(pub String);

impl fmt::Display for TracePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    #[error("at {at}: the previous data has a {prev} state where the incoming data has a {incoming} state")]
    IncompatibleStates { at: TracePath, prev: &'static str, incoming: &'static str },
    #[error("at {at}: the call has different results in the previous and the incoming data")]
    CallResultsDiffer { at: TracePath },
    #[error("at {at}: the call succeeded in one data and failed in the other")]
    SucceededAndFailed { at: TracePath },
    #[error("at {at}: the canon has different snapshots in the previous and the incoming data")]
    CanonsDiffer { at: TracePath },
}

/// Where each output subtrace hangs in the tree: its parent subtrace, the state's index, and the branch.
struct Origin {
    parent: Option<(SubtraceId, usize)>,
    branch: &'static str,
}

struct Merger<'a> {
    prev: &'a Trace,
    incoming: &'a Trace,
    out: Trace,
    origins: Vec<Origin>,
    /// Subtraces still to merge: (previous side, incoming side, output).
    work: Vec<(Option<SubtraceId>, Option<SubtraceId>, SubtraceId)>,
}

/// Marks the generation of a stream value only the incoming data has: the run places it
/// after this peer's own values, in the sender's generations.
fn mark_incoming(generation: Option<&mut Generation>) {
    if let Some(generation) = generation {
        *generation = Generation::Incoming(generation.number());
    }
}

/// Merges `incoming` into `prev`; on error nothing is changed.
pub fn merge_traces(prev: &Trace, incoming: &Trace) -> Result<Trace, MergeError> {
    let mut m = Merger {
        prev,
        incoming,
        out: Trace { subtraces: vec![Vec::new()] },
        origins: vec![Origin { parent: None, branch: "" }],
        work: vec![(Some(Trace::ROOT), Some(Trace::ROOT), Trace::ROOT)],
    };
    while let Some((p, c, out)) = m.work.pop() {
        m.merge_subtrace(p, c, out)?;
    }
    m.out.canonicalize();
    Ok(m.out)
}

impl Merger<'_> {
    fn side(trace: &Trace, id: Option<SubtraceId>) -> &[State] {
        id.map(|id| trace.subtrace(id)).unwrap_or(&[])
    }

    fn child(&mut self, parent: SubtraceId, index: usize, branch: &'static str) -> SubtraceId {
        let id = self.out.new_subtrace();
        self.origins.push(Origin { parent: Some((parent, index)), branch });
        id
    }

    fn path(&self, sub: SubtraceId, index: usize) -> TracePath {
        let mut parts = vec![format!("[{index}]")];
        let mut cur = sub;
        while let Some(Origin { parent: Some((p, i)), branch }) = self.origins.get(cur.0 as usize) {
            parts.push(format!("[{i}].{branch}"));
            cur = *p;
        }
        parts.push("root".to_owned());
        parts.reverse();
        TracePath(parts.concat())
    }

    fn merge_subtrace(&mut self, p: Option<SubtraceId>, c: Option<SubtraceId>, out: SubtraceId) -> Result<(), MergeError> {
        let (ps, cs) = (Self::side(self.prev, p), Self::side(self.incoming, c));
        let len = ps.len().max(cs.len());
        let mut merged = Vec::with_capacity(len);
        for i in 0..len {
            let state = match (ps.get(i), cs.get(i)) {
                (Some(a), None) => self.adopt(a, true, out, i),
                (None, Some(b)) => self.adopt(b, false, out, i),
                (Some(a), Some(b)) => self.merge_state(a, b, out, i)?,
                (None, None) => break,
            };
            merged.push(state);
        }
        self.out.subtraces[out.0 as usize] = merged;
        Ok(())
    }

    /// Takes a state present on one side, scheduling its subtraces for copying.
    fn adopt(&mut self, s: &State, is_prev: bool, out: SubtraceId, i: usize) -> State {
        let wrap = |id: SubtraceId| if is_prev { (Some(id), None) } else { (None, Some(id)) };
        match s {
            State::Par { left, right } => {
                let (l, r) = (self.child(out, i, "left"), self.child(out, i, "right"));
                let (lp, lc) = wrap(*left);
                let (rp, rc) = wrap(*right);
                self.work.push((lp, lc, l));
                self.work.push((rp, rc, r));
                State::Par { left: l, right: r }
            }
            State::Fold { iterations } => {
                let iterations = iterations
                    .iter()
                    .map(|it| {
                        let sub = self.child(out, i, "fold");
                        let (a, b) = wrap(it.subtrace);
                        self.work.push((a, b, sub));
                        FoldIteration { value: it.value, subtrace: sub }
                    })
                    .collect();
                State::Fold { iterations }
            }
            other => {
                let mut state = other.clone();
                if !is_prev {
                    mark_incoming(state.generation_mut());
                }
                state
            }
        }
    }

    fn merge_state(&mut self, a: &State, b: &State, out: SubtraceId, i: usize) -> Result<State, MergeError> {
        Ok(match (a, b) {
            (State::Par { left: pl, right: pr }, State::Par { left: cl, right: cr }) => {
                let (l, r) = (self.child(out, i, "left"), self.child(out, i, "right"));
                self.work.push((Some(*pl), Some(*cl), l));
                self.work.push((Some(*pr), Some(*cr), r));
                State::Par { left: l, right: r }
            }
            (State::Fold { iterations: pi }, State::Fold { iterations: ci }) => {
                // The previous order, then what only the incoming data has, in its order.
                let incoming: std::collections::HashMap<ValueKey, SubtraceId> = ci.iter().map(|it| (it.value, it.subtrace)).collect();
                let mut iterations = Vec::with_capacity(pi.len().max(ci.len()));
                for it in pi {
                    let sub = self.child(out, i, "fold");
                    self.work.push((Some(it.subtrace), incoming.get(&it.value).copied(), sub));
                    iterations.push(FoldIteration { value: it.value, subtrace: sub });
                }
                let known: std::collections::HashSet<ValueKey> = pi.iter().map(|it| it.value).collect();
                for it in ci.iter().filter(|it| !known.contains(&it.value)) {
                    let sub = self.child(out, i, "fold");
                    self.work.push((None, Some(it.subtrace), sub));
                    iterations.push(FoldIteration { value: it.value, subtrace: sub });
                }
                State::Fold { iterations }
            }
            // Generations are each peer's own: the previous data's are kept.
            (State::Ap(_), State::Ap(_)) => a.clone(),
            (State::Call(p), State::Call(c)) => State::Call(self.merge_call(p, c, out, i)?),
            (State::Canon(p), State::Canon(c)) => State::Canon(match (p, c) {
                (CanonState::Executed { result: x }, CanonState::Executed { result: y }) => {
                    if x != y {
                        return Err(MergeError::CanonsDiffer { at: self.path(out, i) });
                    }
                    p.clone()
                }
                (CanonState::Executed { .. }, _) => p.clone(),
                (_, CanonState::Executed { .. }) => c.clone(),
                _ => p.clone(),
            }),
            _ => return Err(MergeError::IncompatibleStates { at: self.path(out, i), prev: a.kind(), incoming: b.kind() }),
        })
    }

    fn without_generation(call: &CallState) -> CallState {
        let mut call = call.clone();
        if let Some(generation) = call.generation_mut() {
            *generation = Generation::Own(0);
        }
        call
    }

    fn merge_call(&self, p: &CallState, c: &CallState, out: SubtraceId, i: usize) -> Result<CallState, MergeError> {
        use CallState::*;
        Ok(match (p, c) {
            (RequestSent { .. }, RequestSent { .. }) => p.clone(),
            (RequestSent { .. }, _) => {
                let mut call = c.clone();
                mark_incoming(call.generation_mut());
                call
            }
            (_, RequestSent { .. }) => p.clone(),
            (Executed { .. }, Executed { .. }) | (Failed { .. }, Failed { .. }) => {
                if Self::without_generation(p) != Self::without_generation(c) {
                    return Err(MergeError::CallResultsDiffer { at: self.path(out, i) });
                }
                p.clone()
            }
            (Executed { .. }, Failed { .. }) | (Failed { .. }, Executed { .. }) => {
                return Err(MergeError::SucceededAndFailed { at: self.path(out, i) });
            }
        })
    }
}
