//! A stream during a run: its values by generation, as AquaVM keeps them.
//!
//! A stream's values come from three sources, kept apart: the previous data (this
//! peer's own runs), the incoming data (only what the previous data did not have), and
//! this run. Within a source, values are grouped by generation: the run that wrote them,
//! as whoever wrote the data numbered its runs. A stream lists its values previous
//! first, then incoming, then new, each generation by generation and, within one, in
//! the order this run replayed them. So values that reached this peer later come later,
//! whatever their place in the script.
//!
//! A fold over a stream iterates it one generation at a time (see [`Stream::cursor`]),
//! and at the end of the run (or of a `new` scope) the generations are numbered
//! again from 0, empty ones dropped, and written into the states that hold the values.

use crate::errors::Uncatchable;
use crate::limits::MAX_STREAM_LEN;
use crate::trace::{Generation, SubtraceId, ValueKey};
use crate::value::{Cid, Val};
use serde_json::Value as Json;
use std::cell::OnceCell;
use std::rc::Rc;

/// Where a stream value came from in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A state of the previous data, in its generation.
    Previous(u32),
    /// A state only the incoming data had, in the sender's generation.
    Incoming(u32),
    /// A state this run wrote: into the newest generation.
    New,
}

impl From<Generation> for Source {
    /// Where a replayed stream value comes from, by the generation its state holds.
    fn from(generation: Generation) -> Self {
        match generation {
            Generation::Own(n) => Source::Previous(n),
            Generation::Incoming(n) => Source::Incoming(n),
        }
    }
}

/// One value in a stream, with the state that put it there.
#[derive(Debug, Clone)]
pub struct StreamValue {
    pub val: Val,
    /// The address of the subtrace holding the state.
    subtrace_addr: [u8; 16],
    /// The state's address, hashed from the subtrace's and the state's index the first
    /// time a fold needs it (most streams are only canonicalized).
    key: OnceCell<ValueKey>,
    /// In a stream map, the entry's key.
    pub map_key: Option<Rc<Json>>,
    /// The state itself, whose generation is written when the stream is compacted.
    pub state: (SubtraceId, usize),
}

impl StreamValue {
    pub fn new(val: Val, subtrace_addr: [u8; 16], state: (SubtraceId, usize), map_key: Option<Rc<Json>>) -> Self {
        StreamValue { val, subtrace_addr, key: OnceCell::new(), map_key, state }
    }

    /// The address of the state that put the value here: what a fold keys it by.
    pub fn key(&self) -> ValueKey {
        *self.key.get_or_init(|| ValueKey(super::address(&[&self.subtrace_addr, &(self.state.1 as u64).to_le_bytes()])))
    }
}

/// The three sources in listing order.
const PREVIOUS: usize = 0;
const INCOMING: usize = 1;
const NEW: usize = 2;

/// Where a fold over a stream resumes: the number of generations each source had
/// (empty ones included) when the fold last looked.
pub type Cursor = [usize; 3];

/// One generation as a fold takes it: its values are those it had then.
#[derive(Debug, Clone, Copy)]
pub struct GenerationSlice {
    source: usize,
    generation: usize,
    len: usize,
}

#[derive(Debug, Default)]
pub struct Stream {
    /// Per source, per generation, the values in the order they were written.
    generations: [Vec<Vec<StreamValue>>; 3],
    len: usize,
    /// The last canon taken of this stream (executed or replayed): a new snapshot that
    /// extends it is stored as the elements after it.
    pub last_canon: Option<Cid>,
}

impl Stream {
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// All values in stream order.
    pub fn values(&self) -> impl Iterator<Item = &StreamValue> {
        self.generations.iter().flatten().flatten()
    }

    /// Adds a value; `name` is for errors.
    pub fn push(&mut self, value: StreamValue, source: Source, name: &str) -> Result<(), Uncatchable> {
        if self.len + 1 >= MAX_STREAM_LEN {
            return Err(Uncatchable::StreamSizeLimitExceeded(name.to_owned()));
        }
        let (matrix, generation) = match source {
            Source::Previous(g) => (PREVIOUS, g),
            Source::Incoming(g) => (INCOMING, g),
            Source::New => (NEW, self.generations[NEW].len().saturating_sub(1) as u32),
        };
        // Generations are numbered from 0 without gaps when written, so a stream of at
        // most MAX_STREAM_LEN values has no higher one: a bigger number is bad data, and
        // would make the matrix below as big.
        let generation = generation as usize;
        if generation >= MAX_STREAM_LEN {
            return Err(Uncatchable::StreamGeneration { stream: name.to_owned(), generation });
        }
        let generations = &mut self.generations[matrix];
        if generations.len() <= generation {
            generations.resize_with(generation + 1, Vec::new);
        }
        generations[generation].push(value);
        self.len += 1;
        Ok(())
    }

    /// A fold over the stream starts (AquaVM's `met_fold_start`): every generation there
    /// is now, in stream order, and the cursor after them. What the iterations write goes
    /// into a generation opened for them.
    pub fn begin_fold(&mut self) -> (Vec<GenerationSlice>, Cursor) {
        let round = self.generations_after([0; 3]);
        let cursor = self.cursor();
        self.open_generation();
        (round, cursor)
    }

    /// A fold's round ended (AquaVM's `met_iteration_end`): the generations written since
    /// `cursor`, which moves past them. The newest generation is closed if unused, and a
    /// new one opened for the next round's writes.
    pub fn next_round(&mut self, cursor: &mut Cursor) -> Vec<GenerationSlice> {
        let round = self.generations_after(*cursor);
        self.drop_empty_newest();
        *cursor = self.cursor();
        self.open_generation();
        round
    }

    /// The number of generations of each source, empty ones included.
    fn cursor(&self) -> Cursor {
        self.generations.each_ref().map(Vec::len)
    }

    /// The generations a fold has not taken yet, in stream order: per source, the
    /// non-empty generations after the first `cursor[source]` non-empty ones. (AquaVM
    /// counts the cursor over all generations but skips over the non-empty ones; the
    /// two agree but where a generation number was skipped, and so must this.)
    fn generations_after(&self, cursor: Cursor) -> Vec<GenerationSlice> {
        let mut slices = Vec::new();
        for (source, generations) in self.generations.iter().enumerate() {
            let non_empty = generations.iter().enumerate().filter(|(_, values)| !values.is_empty());
            for (generation, values) in non_empty.skip(cursor[source]) {
                slices.push(GenerationSlice { source, generation, len: values.len() });
            }
        }
        slices
    }

    /// The `index`-th value of a generation a fold took.
    pub fn value_in(&self, slice: GenerationSlice, index: usize) -> Option<&StreamValue> {
        if index >= slice.len {
            return None;
        }
        self.generations[slice.source].get(slice.generation)?.get(index)
    }

    /// Opens a new generation for the values this run writes from now on (a fold over
    /// the stream does, so what its iterations write forms generations of its own).
    fn open_generation(&mut self) {
        self.generations[NEW].push(Vec::new());
    }

    /// Closes the newest generation if nothing was written into it.
    fn drop_empty_newest(&mut self) {
        if self.generations[NEW].last().is_some_and(Vec::is_empty) {
            self.generations[NEW].pop();
        }
    }

    /// Drops empty generations and numbers the others from 0 in stream order: each
    /// value's state with its generation.
    pub fn compact(&mut self) -> impl Iterator<Item = ((SubtraceId, usize), u32)> + '_ {
        for generations in &mut self.generations {
            generations.retain(|values| !values.is_empty());
        }
        self.generations
            .iter()
            .flatten()
            .enumerate()
            .flat_map(|(generation, values)| values.iter().map(move |v| (v.state, generation as u32)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Tetraplet;

    fn value(n: usize) -> StreamValue {
        let val = Val::new(Rc::new(Json::from(n)), Rc::new(Tetraplet::literal("peer")));
        StreamValue::new(val, [0; 16], (SubtraceId(0), n), None)
    }

    fn listed(stream: &Stream) -> Vec<usize> {
        stream.values().map(|v| v.state.1).collect()
    }

    fn taken(stream: &Stream, slices: &[GenerationSlice]) -> Vec<Vec<usize>> {
        slices.iter().map(|s| (0..s.len).map(|i| stream.value_in(*s, i).unwrap().state.1).collect()).collect()
    }

    #[test]
    fn values_are_listed_previous_then_incoming_then_new_by_generation() {
        let mut s = Stream::default();
        s.push(value(1), Source::New, "$s").unwrap();
        s.push(value(2), Source::Incoming(0), "$s").unwrap();
        s.push(value(3), Source::Previous(1), "$s").unwrap();
        s.push(value(4), Source::Previous(0), "$s").unwrap();
        s.push(value(5), Source::Incoming(0), "$s").unwrap();
        assert_eq!(listed(&s), [4, 3, 2, 5, 1]);
        assert_eq!(s.len, 5);
        // Renumbered from 0 in that order.
        let numbers: Vec<_> = s.compact().map(|(state, g)| (state.1, g)).collect();
        assert_eq!(numbers, [(4, 0), (3, 1), (2, 2), (5, 2), (1, 3)]);
    }

    #[test]
    fn a_fold_takes_the_generations_written_since_it_last_looked() {
        let mut s = Stream::default();
        s.push(value(1), Source::Previous(0), "$s").unwrap();
        s.push(value(2), Source::Incoming(0), "$s").unwrap();
        let start = s.cursor();
        assert_eq!(taken(&s, &s.generations_after([0; 3])), [vec![1], vec![2]]);
        s.open_generation();
        // Written while folding: into the fold's own generation, or replayed into theirs.
        s.push(value(3), Source::New, "$s").unwrap();
        s.push(value(4), Source::Previous(1), "$s").unwrap();
        let round = s.generations_after(start);
        assert_eq!(taken(&s, &round), [vec![4], vec![3]]);
        // A value added to a generation after the fold took it is not in the slice.
        s.push(value(5), Source::New, "$s").unwrap();
        assert_eq!(taken(&s, &round), [vec![4], vec![3]]);
        // An unused generation is closed again.
        let end = s.cursor();
        s.open_generation();
        s.drop_empty_newest();
        assert_eq!(s.cursor(), end);
        assert!(s.generations_after(end).is_empty());
    }

    #[test]
    fn a_gap_in_generation_numbers_shifts_the_cursor_as_in_aquavm() {
        let mut s = Stream::default();
        s.push(value(1), Source::Previous(0), "$s").unwrap();
        s.push(value(2), Source::Previous(2), "$s").unwrap();
        // Three generations counted, two non-empty: nothing is after the cursor, and a
        // value in generation 3 is skipped as well (the cursor skips 3 non-empty ones).
        let cursor = s.cursor();
        assert_eq!(cursor, [3, 0, 0]);
        s.push(value(3), Source::Previous(3), "$s").unwrap();
        assert!(s.generations_after(cursor).is_empty());
        s.push(value(4), Source::Previous(5), "$s").unwrap();
        assert_eq!(taken(&s, &s.generations_after(cursor)), [vec![4]]);
    }

    #[test]
    fn bad_generations_and_long_streams_are_refused() {
        let mut s = Stream::default();
        let e = s.push(value(1), Source::Incoming(u32::MAX), "$s").unwrap_err();
        assert!(matches!(e, Uncatchable::StreamGeneration { generation, .. } if generation == u32::MAX as usize), "{e:?}");
        for n in 0..MAX_STREAM_LEN - 1 {
            s.push(value(n), Source::New, "$s").unwrap();
        }
        assert!(matches!(s.push(value(0), Source::New, "$s"), Err(Uncatchable::StreamSizeLimitExceeded(_))));
    }
}
