//! The interpreter: one walk over the script from the root, replaying the trace.
//!
//! The walk is a loop over an explicit stack of [`Frame`]s, so neither deep nesting
//! nor long folds (whose `next` nests one iteration inside the previous one) grow the
//! native stack. A catchable error unwinds frames until an `xor`, a `par` or a fold
//! over a stream handles it; an uncatchable one ends the run.
//!
//! The trace is replayed through a [`Cursor`]: each state-writing instruction takes
//! the state at the cursor if there is one (replaying it) or appends a new one.

mod env;
mod lens;
mod stream;

use crate::data::Store;
use crate::errors::{Catchable, Uncatchable};
use crate::syntax::ast::{self, CallOutput, Fail, InstrId, InstrKind, Script, Value, Var, VarKind};
use crate::syntax::print::{instruction_text, lens_text, value_text};
use crate::trace::{
    CallState, CanonElement, CanonResult, CanonState, FoldIteration, Generation, Output, ServiceResult, State, SubtraceId, Trace, ValueKey,
};
use crate::value::{Cid, CidMap, ErrorObject, SmallHasher, StoredTetraplet, Tetraplet, Val, json_text, message_text};
use crate::{CallRequest, CallResult, RunParameters};
pub use env::CanonValue;
use env::{Bound, Elements, Env};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::rc::Rc;
use stream::{GenerationSlice, Source, StreamValue};

/// A position in the trace tree: a subtrace, an index in it, and the subtrace's address.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    sub: SubtraceId,
    index: usize,
    addr: [u8; 16],
}

pub(super) fn address(parts: &[&[u8]]) -> [u8; 16] {
    address_hash(parts).first_chunk().copied().unwrap_or_default()
}

/// The addresses of a `par`'s left and right branches: the two halves of one hash.
fn branch_addresses(parent: &[u8; 16], index: usize) -> ([u8; 16], [u8; 16]) {
    let hash = address_hash(&[parent, &(index as u64).to_le_bytes(), b"P"]);
    let (left, right) = hash.split_at(16);
    (left.try_into().unwrap_or_default(), right.try_into().unwrap_or_default())
}

fn address_hash(parts: &[&[u8]]) -> [u8; 32] {
    // Addresses are made for every `par` and fold iteration replayed: hashed from the stack.
    let mut h = SmallHasher::new();
    for p in parts {
        h.update(&(p.len() as u32).to_le_bytes()).update(p);
    }
    h.finalize()
}

/// CIDs by the address of a cached value.
type AddressMap<T> = HashMap<*const T, Cid, std::hash::BuildHasherDefault<AddressHasher>>;

/// Hashes an address by one multiplication: addresses need no protection against
/// chosen collisions, and SipHash costs more than the lookup it serves.
#[derive(Default)]
struct AddressHasher(u64);

impl std::hash::Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        // The high half of the product, where every address bit has an effect.
        self.0 ^ (self.0 >> 32)
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// How a finished `par` branch ended.
#[derive(Debug, Clone)]
enum Branch {
    Done { complete: bool },
    Failed,
}

#[derive(Debug)]
enum Frame {
    Run(InstrId),
    /// After the left of a `seq`: run the right if the left completed.
    SeqRight(InstrId),
    /// After the left of a `par`.
    ParRight {
        right: InstrId,
        right_start: bool,
        right_cursor: Cursor,
        after: Cursor,
    },
    /// After the right of a `par`.
    ParEnd {
        left: Branch,
        after: Cursor,
    },
    /// Around the left of an `xor`: catches its error and runs the right.
    XorCatch(InstrId),
    /// Around the right of an `xor`: `:error:` is valid only inside it.
    XorEnd,
    NewEnd(Var),
    /// Around a whole fold.
    FoldEnd {
        fold: usize,
    },
    /// Around the iterations over one generation of a stream (see [`StreamItems`]).
    ChainEnd {
        fold: usize,
    },
    /// Around the iterations a `next` started.
    NextEnd {
        fold: usize,
        cursor: Cursor,
    },
}

/// The items a fold iterates over.
#[derive(Debug)]
enum Items {
    /// Elements of a JSON array; each is made into a value (with its lens) when visited.
    Array(Val),
    Canon(Rc<CanonValue>),
    Fixed(Rc<Vec<Val>>),
    /// A stream's visible instance; it may grow while folded.
    Stream(StreamItems),
}

/// A fold over a stream, as AquaVM folds one: generation by generation. The iterations
/// over one generation form a chain of their own (body, `next`, and at the end the last
/// instruction, or waiting for more values without one), so a chain can start while an
/// earlier one waits. The generations written while the fold runs (into the fresh
/// generation it opens, or replayed into theirs) are folded in further rounds, until a
/// round finds none. An error inside a chain ends that chain only, and the fold is
/// complete if any chain completed.
#[derive(Debug)]
struct StreamItems {
    var: ast::VarId,
    level: usize,
    fold_state: (SubtraceId, usize),
    fold_addr: [u8; 16],
    /// Where the fold looks for generations it has not taken.
    cursor: stream::Cursor,
    /// The generations of this round still to fold, the one being folded first.
    round: VecDeque<GenerationSlice>,
    /// Whether a chain completed.
    complete: bool,
    /// Subtraces of the iterations recorded in the fold state, by value.
    known: HashMap<ValueKey, SubtraceId>,
}

#[derive(Debug)]
struct FoldCtx {
    instr: InstrId,
    iterator: Var,
    items: Items,
    position: usize,
    /// Cursor after the fold's own state (stream folds), restored when the fold ends.
    after: Option<Cursor>,
}

/// The outcome of executing a script.
pub struct Executed<'a> {
    pub trace: Trace,
    pub store: Store<'a>,
    pub last_call_id: u32,
    pub next_peers: BTreeSet<String>,
    pub call_requests: BTreeMap<u32, CallRequest>,
    /// A catchable error that reached the root.
    pub error: Option<ErrorObject>,
    pub unused_results: Vec<u32>,
    /// CIDs of the results and canons this run made.
    pub produced: Vec<Cid>,
}

pub struct Interpreter<'a> {
    script: &'a Script,
    params: &'a RunParameters,
    trace: Trace,
    store: Store<'a>,
    cursor: Cursor,
    env: Env,
    complete: bool,
    stack: Vec<Frame>,
    folds: Vec<FoldCtx>,
    /// Results of this peer's calls not taken by a call yet.
    call_results: BTreeMap<u32, CallResult>,
    requests: BTreeMap<u32, CallRequest>,
    next_peers: BTreeSet<String>,
    last_call_id: u32,
    /// `%last_error%`: an error object, or the object a `fail` threw, as it was thrown.
    last_error: Rc<Json>,
    last_error_armed: bool,
    /// `:error:`, inside the right branch of an `xor`.
    error: Option<ErrorObject>,
    /// Whether the next error sets `:error:` (see `note_error`).
    error_armed: bool,
    /// The error an `xor` caught, until another error sets `:error:` or a handler clears
    /// it: `(fail :error:)` raises it again, even when `:error:` holds an earlier error
    /// (AquaVM).
    caught: Option<Rc<Catchable>>,
    /// The peer of a call whose arguments failed to resolve: the error names it.
    error_peer: Option<String>,
    current: InstrId,
    literal: Rc<Tetraplet>,
    /// `%init_peer_id%` as a value, made once.
    init_peer_id: Rc<Json>,
    /// Values and tetraplets already loaded from the store in this run.
    parsed: CidMap<Rc<Json>>,
    tetraplets: CidMap<Rc<Tetraplet>>,
    /// The tetraplet of the last call result this run stored, with its CID.
    last_result_tetraplet: Option<(Rc<Tetraplet>, Cid)>,
    /// The CIDs of the values and tetraplets above, by address: a value taken from the
    /// store (or put into it) is not serialized and hashed again when a canon records
    /// it. The caches keep every such value alive, so an address is never reused.
    value_cids: AddressMap<Json>,
    tetraplet_cids: AddressMap<Tetraplet>,
    /// Results and canons this run made (all this peer's).
    produced: Vec<Cid>,
    subtraces_at_start: usize,
}

type Step = Result<(), Flow>;

/// Why the normal flow stopped.
#[derive(Debug)]
enum Flow {
    Catchable(Catchable),
    Uncatchable(Uncatchable),
}

impl From<Catchable> for Flow {
    fn from(e: Catchable) -> Self {
        Flow::Catchable(e)
    }
}

impl From<Uncatchable> for Flow {
    fn from(e: Uncatchable) -> Self {
        Flow::Uncatchable(e)
    }
}

/// Resolution of a value that may not be available yet.
enum Got<T> {
    Ready(T),
    /// A variable is not set yet (the error says which): the instruction waits.
    Wait(Catchable),
}

macro_rules! ready {
    ($self:ident, $e:expr) => {
        match $e? {
            Got::Ready(v) => v,
            Got::Wait(_) => {
                $self.complete = false;
                return Ok(());
            }
        }
    };
}

/// A string part of a call or canon triplet, borrowed from the script or from a value.
enum Text<'s> {
    Script(&'s str),
    /// A JSON string.
    Value(Rc<Json>),
}

impl Text<'_> {
    fn as_str(&self) -> &str {
        match self {
            Text::Script(s) => s,
            Text::Value(json) => json.as_str().unwrap_or_default(),
        }
    }
}

/// A call's resolved arguments: most calls have a few, kept without an allocation.
type Args = smallvec::SmallVec<[Resolved; 3]>;

/// A resolved value: one JSON value, or a canon.
#[derive(Clone)]
enum Resolved {
    One(Val),
    Canon(Rc<CanonValue>),
}

impl Resolved {
    fn json(&self) -> Rc<Json> {
        match self {
            Resolved::One(v) => v.json.clone(),
            Resolved::Canon(c) => c.json(),
        }
    }

    fn tetraplets(&self) -> Vec<Tetraplet> {
        match self {
            Resolved::One(v) => vec![(*v.tetraplet()).clone()],
            Resolved::Canon(c) => c.loaded().iter().map(|e| (*e.tetraplet()).clone()).collect(),
        }
    }

    /// The value as owned JSON for a call request: a value made for this call (a lens
    /// result, a canon's JSON) is moved, not copied.
    fn into_json(self) -> Json {
        match self {
            Resolved::One(v) => Rc::try_unwrap(v.json).unwrap_or_else(|shared| (*shared).clone()),
            Resolved::Canon(c) => c.to_owned_json(),
        }
    }

    /// Writes the value's JSON text, building nothing.
    fn write_json(&self, w: impl std::io::Write) -> serde_json::Result<()> {
        match self {
            Resolved::One(v) => serde_json::to_writer(w, &*v.json),
            Resolved::Canon(c) => c.write_json(w),
        }
    }

    fn into_val(self) -> Val {
        match self {
            Resolved::One(v) => v,
            Resolved::Canon(c) => Val::new(c.json(), c.tetraplet.clone()),
        }
    }
}

impl<'a> Interpreter<'a> {
    pub fn new(
        script: &'a Script,
        params: &'a RunParameters,
        trace: Trace,
        store: Store<'a>,
        last_call_id: u32,
        call_results: BTreeMap<u32, CallResult>,
    ) -> Self {
        let subtraces_at_start = trace.subtraces.len();
        Interpreter {
            script,
            params,
            trace,
            store,
            cursor: Cursor { sub: Trace::ROOT, index: 0, addr: [0; 16] },
            env: Env::new(script.names().len()),
            complete: true,
            stack: Vec::new(),
            folds: Vec::new(),
            call_results,
            requests: BTreeMap::new(),
            next_peers: BTreeSet::new(),
            last_call_id,
            last_error: Rc::new(ErrorObject::none().to_json()),
            last_error_armed: true,
            error: None,
            error_armed: true,
            caught: None,
            error_peer: None,
            current: script.root,
            literal: Rc::new(Tetraplet::literal(&params.init_peer_id)),
            init_peer_id: Rc::new(Json::from(params.init_peer_id.clone())),
            parsed: CidMap::default(),
            tetraplets: CidMap::default(),
            last_result_tetraplet: None,
            value_cids: AddressMap::default(),
            tetraplet_cids: AddressMap::default(),
            produced: Vec::new(),
            subtraces_at_start,
        }
    }

    /// Runs the script to the end (or to an uncatchable error).
    pub fn run(mut self) -> Result<Executed<'a>, Uncatchable> {
        self.stack.push(Frame::Run(self.script.root));
        let mut root_error = None;
        while let Some(frame) = self.stack.pop() {
            let step = self.step(frame);
            if let Err(flow) = step {
                match flow {
                    Flow::Uncatchable(e) => return Err(e),
                    Flow::Catchable(e) => {
                        if let Some(e) = self.unwind(e)? {
                            root_error = Some(e);
                            break;
                        }
                    }
                }
            }
        }
        if self.trace.state_count() > crate::limits::MAX_TRACE_STATES {
            return Err(Uncatchable::TraceLimit(format!("the trace holds more than {} states", crate::limits::MAX_TRACE_STATES)));
        }
        let error = root_error.map(|e| self.error_object(&e, true));
        let unused_results = self.call_results.keys().copied().collect();
        for stream in self.env.streams_mut() {
            Self::write_generations(&mut self.trace, stream);
        }
        let mut trace = self.trace;
        // The merged trace arrives in canonical order; only new subtraces can upset it.
        if trace.subtraces.len() != self.subtraces_at_start {
            trace.canonicalize();
        }
        Ok(Executed {
            trace,
            store: self.store,
            last_call_id: self.last_call_id,
            next_peers: self.next_peers,
            call_requests: self.requests,
            error,
            unused_results,
            produced: self.produced,
        })
    }

    fn name(&self, var: Var) -> &str {
        self.script.name(var.id)
    }

    /// The variable a value reads, for messages (AquaVM names it without its lens).
    fn variable_text(&self, v: &Value) -> String {
        match v {
            Value::Scalar { var, .. } | Value::CanonStream { var, .. } | Value::CanonMap { var, .. } => self.name(*var).to_owned(),
            other => value_text(self.script, other),
        }
    }

    /// A fold iterable as AquaVM's message shows it: its lens alone if it has one.
    fn expression_text(&self, v: &Value) -> String {
        match v {
            Value::Scalar { lens: Some(lens), .. } => lens_text(self.script, lens),
            other => value_text(self.script, other),
        }
    }

    // ----- the trace -----

    fn state_at_cursor(&self) -> Option<&State> {
        self.trace.subtraces.get(self.cursor.sub.0 as usize).and_then(|s| s.get(self.cursor.index))
    }

    fn put_state(&mut self, state: State) {
        let sub = &mut self.trace.subtraces[self.cursor.sub.0 as usize];
        if self.cursor.index < sub.len() {
            sub[self.cursor.index] = state;
        } else {
            sub.push(state);
        }
    }

    fn trace_error(&self, expected: &str, found: &State) -> Flow {
        Flow::Uncatchable(Uncatchable::Trace(format!(
            "`{}` expected a {expected} state, but the trace holds a {} state there",
            instruction_text(self.script, self.current),
            found.kind()
        )))
    }

    // ----- errors -----

    /// Records a catchable error in `%last_error%` and `:error:` as AquaVM does.
    fn note_error(&mut self, e: &Catchable) {
        let is_match = matches!(e, Catchable::MatchValuesNotEqual | Catchable::MismatchValuesEqual);
        let thrown = matches!(e, Catchable::UserError(_) | Catchable::Rethrown { .. });
        // A `fail` sets it whatever came before (AquaVM); other errors only when armed.
        if (self.last_error_armed || thrown) && !is_match {
            self.last_error = self.last_error_of(e);
            self.last_error_armed = false;
        }
        // `:error:` is set by the first error after it was armed: at the start and when
        // an `xor` catches an error (AquaVM). An error raised again leaves it as it is.
        if self.error_armed {
            if !matches!(e, Catchable::Rethrown { .. }) {
                self.error = Some(self.error_object(e, false));
                self.caught = None;
            }
            self.error_armed = false;
        }
    }

    /// `:error:` as a value: the error object, or the "no error" one.
    fn error_json(&self) -> Rc<Json> {
        Rc::new(self.error.as_ref().map_or_else(|| ErrorObject::none().to_json(), ErrorObject::to_json))
    }

    /// `%last_error%` for `e`: the object a `fail` threw, as it was thrown, or the error
    /// object (always with a peer).
    fn last_error_of(&self, e: &Catchable) -> Rc<Json> {
        match e {
            Catchable::UserError(thrown) | Catchable::Rethrown { handled: thrown, .. } => thrown.clone(),
            other => Rc::new(self.error_object(other, true).to_json()),
        }
    }

    /// The object of `e` raised by the current instruction. Its peer (as AquaVM has it):
    /// the called peer for a service error or a call's arguments, else the current peer,
    /// which `:error:` names only for a call's or canon's own errors.
    fn error_object(&self, e: &Catchable, always_peer: bool) -> ErrorObject {
        let calls = || matches!(self.script.instr(self.current).kind, InstrKind::Call(_) | InstrKind::Canon(_));
        let peer_id = match e {
            Catchable::LocalServiceError { peer_id, .. } => Some(peer_id.clone()),
            _ if self.error_peer.is_some() => self.error_peer.clone(),
            _ if always_peer || calls() => Some(self.params.current_peer_id.clone()),
            _ => None,
        };
        ErrorObject { error_code: e.code(), message: e.to_string(), instruction: instruction_text(self.script, self.current), peer_id }
    }

    /// Pops frames until one handles `e`. Returns the error if it reached the root.
    fn unwind(&mut self, e: Catchable) -> Result<Option<Catchable>, Uncatchable> {
        self.note_error(&e);
        self.error_peer = None;
        while let Some(frame) = self.stack.pop() {
            match frame {
                Frame::Run(_) | Frame::SeqRight(_) => {}
                Frame::ParRight { right, right_start, right_cursor, after } => {
                    self.cursor = right_cursor;
                    self.complete = right_start;
                    self.stack.push(Frame::ParEnd { left: Branch::Failed, after });
                    self.stack.push(Frame::Run(right));
                    return Ok(None);
                }
                Frame::ParEnd { left, after } => {
                    self.cursor = after;
                    match left {
                        Branch::Failed => {} // both failed: the right one's error goes on
                        Branch::Done { complete } => {
                            self.complete = complete;
                            self.last_error_armed = true;
                            return Ok(None);
                        }
                    }
                }
                Frame::XorCatch(right) => {
                    self.caught = Some(match e {
                        Catchable::Rethrown { caught, .. } => caught,
                        other => Rc::new(other),
                    });
                    self.complete = true;
                    self.last_error_armed = true;
                    self.error_armed = true;
                    self.stack.push(Frame::XorEnd);
                    self.stack.push(Frame::Run(right));
                    return Ok(None);
                }
                Frame::XorEnd => {}
                Frame::NewEnd(var) => self.end_new(var),
                Frame::NextEnd { fold, cursor } => self.end_next(fold, cursor),
                Frame::FoldEnd { fold } => self.end_fold(fold),
                Frame::ChainEnd { fold } => {
                    // An error inside a fold over a stream ends the chain it came from; the
                    // chain is as complete as the iteration was when the error came (AquaVM:
                    // a `fail` has made it incomplete, a lens or `match` has not).
                    return match self.end_chain(fold) {
                        Ok(()) => Ok(None),
                        Err(Flow::Uncatchable(e)) => Err(e),
                        // Starting an iteration binds a scalar and finds a subtrace: what
                        // can fail there is the trace, not the script.
                        Err(Flow::Catchable(e)) => Err(Uncatchable::Trace(e.to_string())),
                    };
                }
            }
        }
        Ok(Some(e))
    }

    // ----- the loop -----

    fn step(&mut self, frame: Frame) -> Step {
        match frame {
            Frame::Run(id) => self.run_instr(id),
            Frame::SeqRight(right) => {
                if self.complete {
                    self.stack.push(Frame::Run(right));
                }
                Ok(())
            }
            Frame::ParRight { right, right_start, right_cursor, after } => {
                let left = Branch::Done { complete: self.complete };
                self.cursor = right_cursor;
                self.complete = right_start;
                self.stack.push(Frame::ParEnd { left, after });
                self.stack.push(Frame::Run(right));
                Ok(())
            }
            Frame::ParEnd { left, after } => {
                self.cursor = after;
                if let Branch::Done { complete } = left {
                    self.complete |= complete;
                }
                // A `par` that ends without an error re-arms `%last_error%` (AquaVM).
                self.last_error_armed = true;
                Ok(())
            }
            Frame::XorCatch(_) => Ok(()),
            // The handler ended: `:error:` is cleared, unless an error inside the handler
            // (one a `par` let pass) set it since; either way the next error sets it.
            Frame::XorEnd => {
                if self.error_armed {
                    self.error = None;
                    self.caught = None;
                }
                self.error_armed = true;
                Ok(())
            }
            Frame::NewEnd(var) => {
                self.end_new(var);
                Ok(())
            }
            Frame::NextEnd { fold, cursor } => {
                self.end_next(fold, cursor);
                Ok(())
            }
            Frame::FoldEnd { fold } => {
                self.end_fold(fold);
                Ok(())
            }
            Frame::ChainEnd { fold } => self.end_chain(fold),
        }
    }

    fn run_instr(&mut self, id: InstrId) -> Step {
        self.current = id;
        let script = self.script;
        match &script.instr(id).kind {
            InstrKind::Seq(a, b) => {
                self.stack.push(Frame::SeqRight(*b));
                self.stack.push(Frame::Run(*a));
                Ok(())
            }
            InstrKind::Par(a, b) => self.par(*a, *b),
            InstrKind::Xor(a, b) => {
                self.stack.push(Frame::XorCatch(*b));
                self.stack.push(Frame::Run(*a));
                Ok(())
            }
            InstrKind::Null => Ok(()),
            InstrKind::Never => {
                self.complete = false;
                Ok(())
            }
            InstrKind::New { var, body } => {
                match var.kind {
                    VarKind::Stream | VarKind::StreamMap => self.env.begin_new_stream(var.id),
                    _ => self.env.begin_new_scalar(var.id),
                }
                self.stack.push(Frame::NewEnd(*var));
                self.stack.push(Frame::Run(*body));
                Ok(())
            }
            InstrKind::Match(m) => self.match_(m, true),
            InstrKind::Mismatch(m) => self.match_(m, false),
            InstrKind::Fail(f) => self.fail(f),
            InstrKind::Call(c) => self.call(c),
            InstrKind::Ap(ap) => self.ap(ap),
            InstrKind::ApMap(ap) => self.ap_map(ap),
            InstrKind::Canon(c) => self.canon(c),
            InstrKind::Fold(f) => self.fold(id, f),
            InstrKind::Next(var) => self.next(*var),
        }
    }

    fn end_new(&mut self, var: Var) {
        match var.kind {
            VarKind::Stream | VarKind::StreamMap => {
                if let Some(mut stream) = self.env.end_new_stream(var.id) {
                    Self::write_generations(&mut self.trace, &mut stream);
                }
            }
            _ => self.env.end_new_scalar(var.id),
        }
    }

    /// Compacts a stream's generations (see [`stream::Stream::compact`]) and writes them
    /// into the states that hold its values.
    fn write_generations(trace: &mut Trace, stream: &mut stream::Stream) {
        for ((sub, index), number) in stream.compact() {
            if let Some(generation) = trace.subtraces.get_mut(sub.0 as usize).and_then(|s| s.get_mut(index)).and_then(State::generation_mut)
            {
                *generation = Generation::Own(number);
            }
        }
    }

    // ----- par -----

    fn par(&mut self, left: InstrId, right: InstrId) -> Step {
        let (l, r) = match self.state_at_cursor() {
            Some(State::Par { left, right }) => (*left, *right),
            Some(other) => return Err(self.trace_error("par", other)),
            None => {
                let (l, r) = (self.trace.new_subtrace(), self.trace.new_subtrace());
                self.put_state(State::Par { left: l, right: r });
                (l, r)
            }
        };
        let (left_addr, right_addr) = branch_addresses(&self.cursor.addr, self.cursor.index);
        let left_cursor = Cursor { sub: l, index: 0, addr: left_addr };
        let right_cursor = Cursor { sub: r, index: 0, addr: right_addr };
        let after = Cursor { index: self.cursor.index + 1, ..self.cursor };
        let starts = |id: InstrId| !matches!(self.script.instr(id).kind, InstrKind::Next(_));
        let right_start = starts(right);
        self.complete = starts(left);
        self.cursor = left_cursor;
        self.stack.push(Frame::ParRight { right, right_start, right_cursor, after });
        self.stack.push(Frame::Run(left));
        Ok(())
    }

    // ----- values -----

    fn resolve(&self, v: &Value) -> Result<Got<Resolved>, Flow> {
        let literal = |json: Json| Ok(Got::Ready(Resolved::One(Val::new(Rc::new(json), self.literal.clone()))));
        match v {
            Value::InitPeerId => Ok(Got::Ready(Resolved::One(Val::new(self.init_peer_id.clone(), self.literal.clone())))),
            Value::Timestamp => literal(Json::from(self.params.timestamp)),
            Value::Ttl => literal(Json::from(self.params.ttl)),
            Value::String(s) => literal(Json::from(self.script.text(*s))),
            Value::Number(ast::Number::Int(n)) => literal(Json::from(*n)),
            Value::Number(ast::Number::Float(f)) => literal(serde_json::Number::from_f64(*f).map(Json::Number).unwrap_or(Json::Null)),
            Value::Bool(b) => literal(Json::from(*b)),
            Value::EmptyArray => literal(Json::Array(Vec::new())),
            Value::LastError(lens) => {
                let base = Val::new(self.last_error.clone(), self.literal.clone());
                self.apply_lens(Resolved::One(base), lens.as_deref()).map(Got::Ready)
            }
            Value::Error(lens) => {
                let base = Val::new(self.error_json(), self.literal.clone());
                self.apply_lens(Resolved::One(base), lens.as_deref()).map(Got::Ready)
            }
            Value::Scalar { var, lens } | Value::CanonStream { var, lens } | Value::CanonMap { var, lens } => {
                let bound = match self.env.get(var.id, self.name(*var)) {
                    Ok(b) => b.clone(),
                    Err(e) if e.is_joinable() => return Ok(Got::Wait(e)),
                    Err(e) => return Err(e.into()),
                };
                let base = match bound {
                    Bound::Val(v) => Resolved::One(v),
                    Bound::Canon(c) => {
                        // Everything but the length of a canon stream needs its elements.
                        let length_only = matches!(lens.as_deref(), Some(ast::Lens { kind: ast::LensKind::Length, .. })) && !c.is_map;
                        if !length_only {
                            c.load(&|r| self.load_elements(r));
                        }
                        Resolved::Canon(c)
                    }
                };
                match self.apply_lens(base, lens.as_deref()) {
                    // An accessor naming a scalar that is not set yet: wait as well.
                    Err(Flow::Catchable(e)) if e.is_joinable() => Ok(Got::Wait(e)),
                    other => other.map(Got::Ready),
                }
            }
            Value::Stream(var) | Value::StreamMap(var) => {
                Err(Catchable::IncompatibleValueType(format!("{} `{}` cannot be used as a value", var.kind, self.name(*var))).into())
            }
        }
    }

    fn apply_lens(&self, base: Resolved, lens: Option<&ast::Lens>) -> Result<Resolved, Flow> {
        match lens {
            None => Ok(base),
            Some(lens) => lens::apply(self, base, lens),
        }
    }

    /// Resolves a triplet part (or a canon's peer) that must be a string.
    fn resolve_string(&self, v: &'a Value) -> Result<Got<Text<'a>>, Flow> {
        match v {
            Value::String(s) => Ok(Got::Ready(Text::Script(self.script.text(*s)))),
            Value::InitPeerId => Ok(Got::Ready(Text::Value(self.init_peer_id.clone()))),
            _ => Ok(match self.resolve(v)? {
                Got::Wait(e) => Got::Wait(e),
                Got::Ready(r) => match r.json() {
                    json if json.is_string() => Got::Ready(Text::Value(json)),
                    other => {
                        let variable = self.variable_text(v);
                        return Err(Catchable::NonStringInTriplet { variable, value: message_text(&other) }.into());
                    }
                },
            }),
        }
    }

    // ----- call -----

    fn call(&mut self, c: &'a ast::Call) -> Step {
        let peer = ready!(self, self.resolve_string(&c.peer));
        let service = ready!(self, self.resolve_string(&c.service));
        let function = ready!(self, self.resolve_string(&c.function));
        let triplet = [peer.as_str(), service.as_str(), function.as_str()];
        // Arguments are resolved before the trace is touched: a bad lens fails the call
        // without a state, and a missing variable makes a local call wait.
        let mut args = Args::new();
        let mut waiting = false;
        for a in &c.args {
            match self.resolve(a) {
                Ok(Got::Ready(r)) => args.push(r),
                Ok(Got::Wait(_)) => waiting = true,
                Err(e) => {
                    self.error_peer = Some(triplet[0].to_owned());
                    return Err(e);
                }
            }
        }
        let local = triplet[0] == self.params.current_peer_id;
        // What the trace holds here, copied out so the trace can be written.
        enum Recorded {
            Nothing,
            MyRequest(u32),
            Request,
            Executed(Cid, Output),
            Failed(Cid),
            Other(State),
        }
        let recorded = match self.state_at_cursor() {
            None => Recorded::Nothing,
            Some(State::Call(CallState::RequestSent { by, call_id: Some(id) })) if local && *by == self.params.current_peer_id => {
                Recorded::MyRequest(*id)
            }
            Some(State::Call(CallState::RequestSent { .. })) => Recorded::Request,
            Some(State::Call(CallState::Executed { result, output })) => Recorded::Executed(*result, *output),
            Some(State::Call(CallState::Failed { result })) => Recorded::Failed(*result),
            Some(other) => Recorded::Other(other.clone()),
        };
        match recorded {
            Recorded::Nothing => {
                if !local {
                    self.put_state(State::Call(CallState::RequestSent { by: self.params.current_peer_id.clone(), call_id: None }));
                    self.cursor.index += 1;
                    self.next_peers.insert(triplet[0].to_owned());
                } else if !waiting {
                    self.request(triplet[1].to_owned(), triplet[2].to_owned(), args);
                    self.cursor.index += 1;
                }
                self.complete = false;
                Ok(())
            }
            // A result answers its request once, and is moved into the run, not copied.
            Recorded::MyRequest(id) => match self.call_results.remove(&id) {
                Some(result) => self.handle_result(c, &args, triplet, result),
                None => {
                    self.cursor.index += 1;
                    self.complete = false;
                    Ok(())
                }
            },
            Recorded::Request => {
                if local && !waiting {
                    self.request(triplet[1].to_owned(), triplet[2].to_owned(), args);
                }
                self.cursor.index += 1;
                self.complete = false;
                Ok(())
            }
            Recorded::Executed(result, output) => {
                // A result nothing binds is replayed without comparing arguments, as in
                // AquaVM (whose trace keeps no arguments for it): the arguments may read
                // the error being handled, which peers that saw different parts of the
                // trace can hold differently.
                let compared = (output != Output::Unused).then_some(args.as_slice());
                if waiting && compared.is_some() {
                    return Err(Uncatchable::InstructionParametersMismatch(format!(
                        "`{}` has a result in the trace but its arguments are not available",
                        instruction_text(self.script, self.current)
                    ))
                    .into());
                }
                let stored = self.verify_replay(result, compared, triplet)?;
                let json = self.load_value(stored.value)?;
                let tetraplet = self.load_tetraplet(stored.tetraplet)?;
                let source = match output {
                    Output::Stream(generation) => Source::from(generation),
                    _ => Source::New,
                };
                self.set_output(c.output, output, Val::new(json, tetraplet), source)?;
                self.cursor.index += 1;
                Ok(())
            }
            Recorded::Failed(result) => {
                let stored = self.verify_replay(result, Some(&args), triplet)?;
                let value = self.load_value(stored.value)?;
                self.cursor.index += 1;
                Err(self.service_error(&value, triplet[0].to_owned()).into())
            }
            Recorded::Other(other) => Err(self.trace_error("call", &other)),
        }
    }

    fn request(&mut self, service_id: String, function_name: String, args: Args) {
        self.last_call_id += 1;
        let id = self.last_call_id;
        let tetraplets = args.iter().map(Resolved::tetraplets).collect();
        let arguments = args.into_iter().map(Resolved::into_json).collect();
        self.requests.insert(id, CallRequest { service_id, function_name, arguments, tetraplets });
        self.put_state(State::Call(CallState::RequestSent { by: self.params.current_peer_id.clone(), call_id: Some(id) }));
    }

    /// The CID of the JSON array of the arguments, hashed as it is written.
    fn argument_hash(args: &[Resolved]) -> Cid {
        let mut text = SmallHasher::new();
        text.update(b"arguments\0[");
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                text.update(b",");
            }
            // Writing into the hasher cannot fail.
            let _ = a.write_json(&mut text);
        }
        text.update(b"]");
        Cid(text.finalize())
    }

    fn handle_result(&mut self, c: &ast::Call, args: &[Resolved], [peer, service, function]: [&str; 3], result: CallResult) -> Step {
        let (tetraplet, tetraplet_cid) = self.result_tetraplet([peer, service, function]);
        let argument_hash = Self::argument_hash(args);
        if result.ret_code == 0 {
            let value = self.store.put_value(json_text(&result.result));
            let cid = self.store.put_result(ServiceResult { value, argument_hash, tetraplet: tetraplet_cid });
            self.produced.push(cid);
            let output = match c.output {
                CallOutput::None => Output::Unused,
                CallOutput::Scalar(_) => Output::Scalar,
                // Numbered when the stream is compacted.
                CallOutput::Stream(_) => Output::Stream(Generation::Own(0)),
            };
            self.put_state(State::Call(CallState::Executed { result: cid, output }));
            let json = self.remember_value(value, Rc::new(result.result));
            self.set_output(c.output, output, Val::new(json, tetraplet), Source::New)?;
            self.cursor.index += 1;
            Ok(())
        } else {
            let failure = serde_json::json!({ "ret_code": result.ret_code, "message": json_text(&result.result) });
            let value = self.store.put_value(json_text(&failure));
            let cid = self.store.put_result(ServiceResult { value, argument_hash, tetraplet: tetraplet_cid });
            self.produced.push(cid);
            self.put_state(State::Call(CallState::Failed { result: cid }));
            self.cursor.index += 1;
            Err(self.service_error(&failure, tetraplet.peer_pk.clone()).into())
        }
    }

    /// The tetraplet of a result of `peer`'s `service.function`, stored. The results fed
    /// back in one run usually all come from one function, so the last one is reused
    /// rather than built and hashed again.
    fn result_tetraplet(&mut self, [peer, service, function]: [&str; 3]) -> (Rc<Tetraplet>, Cid) {
        if let Some((t, cid)) = &self.last_result_tetraplet
            && (t.peer_pk.as_str(), t.service_id.as_str(), t.function_name.as_str()) == (peer, service, function)
        {
            return (t.clone(), *cid);
        }
        let t =
            Tetraplet { peer_pk: peer.to_owned(), service_id: service.to_owned(), function_name: function.to_owned(), lens: String::new() };
        let cid = self.store.put_tetraplet(&t);
        let t = self.remember_tetraplet(cid, Rc::new(t));
        self.last_result_tetraplet = Some((t.clone(), cid));
        (t, cid)
    }

    fn service_error(&self, failure: &Json, peer_id: String) -> Catchable {
        let ret_code = failure.get("ret_code").and_then(Json::as_i64).unwrap_or(i64::from(i32::MAX)) as i32;
        let message = failure.get("message").and_then(Json::as_str).unwrap_or_default().to_owned();
        Catchable::LocalServiceError { ret_code, message, peer_id }
    }

    /// A replayed call must have been made with the same arguments (when `args` are
    /// given) by the same service.
    fn verify_replay(&self, result: Cid, args: Option<&[Resolved]>, [peer, service, function]: [&str; 3]) -> Result<ServiceResult, Flow> {
        let stored = self.store.results.get(&result).cloned().ok_or_else(|| Uncatchable::ValueForCidNotFound(result.to_string()))?;
        let text = || instruction_text(self.script, self.current);
        if args.is_some_and(|args| stored.argument_hash != Self::argument_hash(args)) {
            return Err(Uncatchable::InstructionParametersMismatch(format!(
                "the arguments of `{}` differ from those of its recorded result",
                text()
            ))
            .into());
        }
        let recorded =
            self.store.tetraplets.get(&stored.tetraplet).ok_or_else(|| Uncatchable::ValueForCidNotFound(stored.tetraplet.to_string()))?;
        if recorded.fields() != [peer, service, function, ""] {
            return Err(Uncatchable::InstructionParametersMismatch(format!(
                "`{}` was recorded as a call to {}.{} on {}",
                text(),
                recorded.service_id,
                recorded.function_name,
                recorded.peer_pk
            ))
            .into());
        }
        Ok(stored)
    }

    /// A stored value, parsed once per run however often it is used.
    fn load_value(&mut self, cid: Cid) -> Result<Rc<Json>, Flow> {
        if let Some(v) = self.parsed.get(&cid) {
            return Ok(v.clone());
        }
        let text = self.store.values.get(&cid).ok_or_else(|| Uncatchable::ValueForCidNotFound(cid.to_string()))?;
        let value: Rc<Json> = Rc::new(serde_json::from_str(text).map_err(|e| Uncatchable::ValueForCidNotFound(format!("{cid}: {e}")))?);
        Ok(self.remember_value(cid, value))
    }

    fn load_tetraplet(&mut self, cid: Cid) -> Result<Rc<Tetraplet>, Flow> {
        if let Some(t) = self.tetraplets.get(&cid) {
            return Ok(t.clone());
        }
        let t = Rc::new(
            self.store
                .tetraplets
                .get(&cid)
                .map(StoredTetraplet::to_tetraplet)
                .ok_or_else(|| Uncatchable::ValueForCidNotFound(cid.to_string()))?,
        );
        Ok(self.remember_tetraplet(cid, t))
    }

    /// Caches a value with its CID; the first one cached for a CID stays (so no cached
    /// value is ever dropped during the run).
    fn remember_value(&mut self, cid: Cid, value: Rc<Json>) -> Rc<Json> {
        let kept = self.parsed.entry(cid).or_insert(value).clone();
        self.value_cids.insert(Rc::as_ptr(&kept), cid);
        kept
    }

    fn remember_tetraplet(&mut self, cid: Cid, tetraplet: Rc<Tetraplet>) -> Rc<Tetraplet> {
        let kept = self.tetraplets.entry(cid).or_insert(tetraplet).clone();
        self.tetraplet_cids.insert(Rc::as_ptr(&kept), cid);
        kept
    }

    /// Puts a value into the store, hashing it only if it did not come from there.
    fn put_val(&mut self, v: &Val) -> CanonElement {
        let value = self.put_json(&v.json);
        let tetraplet = match v.shared_tetraplet().and_then(|t| self.tetraplet_cids.get(&Rc::as_ptr(t))) {
            Some(cid) => *cid,
            None => self.store.put_tetraplet(&v.tetraplet()),
        };
        CanonElement { value, tetraplet, key: None }
    }

    /// Puts JSON into the store, hashing it only if it did not come from there.
    fn put_json(&mut self, json: &Rc<Json>) -> Cid {
        match self.value_cids.get(&Rc::as_ptr(json)) {
            Some(cid) => *cid,
            None => {
                let cid = self.store.put_value(json_text(json));
                // Cached, so a canon over this value uses it instead of parsing its text.
                self.remember_value(cid, json.clone());
                cid
            }
        }
    }

    fn set_output(&mut self, out: CallOutput, recorded: Output, val: Val, source: Source) -> Step {
        match (out, recorded) {
            (CallOutput::None, Output::Unused) => Ok(()),
            (CallOutput::Scalar(var), Output::Scalar) => self.set_scalar(var, Bound::Val(val)),
            (CallOutput::Stream(var), Output::Stream(_)) => self.push_entry(var, val, None, source),
            _ => Err(Uncatchable::CallResultNotCorrespond(format!(
                "`{}` has a result recorded for another kind of output",
                instruction_text(self.script, self.current)
            ))
            .into()),
        }
    }

    fn set_scalar(&mut self, var: Var, value: Bound) -> Step {
        let name = self.script.name(var.id);
        self.env.set(var.id, name, value).map_err(Flow::from)
    }

    /// Adds to a stream, or with `map_key` to a stream map, the value of the state at the cursor.
    fn push_entry(&mut self, var: Var, val: Val, map_key: Option<Rc<Json>>, source: Source) -> Step {
        let name = self.script.name(var.id);
        let value = StreamValue::new(val, self.cursor.addr, (self.cursor.sub, self.cursor.index), map_key);
        self.env.push_stream(var.id, name, value, source).map_err(Flow::from)
    }

    // ----- ap -----

    fn ap(&mut self, ap: &ast::Ap) -> Step {
        let value = ready!(self, self.resolve(&ap.source)).into_val();
        match ap.dest.kind {
            VarKind::Stream => self.ap_state(|this, source| this.push_entry(ap.dest, value, None, source)),
            _ => self.set_scalar(ap.dest, Bound::Val(value)),
        }
    }

    fn ap_map(&mut self, ap: &ast::ApMap) -> Step {
        let key = ready!(self, self.resolve(&ap.key)).json();
        let value = ready!(self, self.resolve(&ap.value)).into_val();
        let key = match &*key {
            Json::String(_) => (*key).clone(),
            Json::Number(n) if n.is_i64() || n.is_u64() => (*key).clone(),
            _ => return Err(Catchable::StreamMapKey(self.name(ap.map).to_owned()).into()),
        };
        self.ap_state(|this, source| this.push_entry(ap.map, value, Some(Rc::new(key)), source))
    }

    /// Takes or records the `Ap` state, then performs the append.
    fn ap_state(&mut self, append: impl FnOnce(&mut Self, Source) -> Step) -> Step {
        let source = match self.state_at_cursor() {
            Some(State::Ap(generation)) => Source::from(*generation),
            None => {
                // Numbered when the stream is compacted.
                self.put_state(State::Ap(Generation::Own(0)));
                Source::New
            }
            Some(other) => return Err(self.trace_error("ap", &other.clone())),
        };
        append(self, source)?;
        self.cursor.index += 1;
        Ok(())
    }

    // ----- canon -----

    fn canon(&mut self, c: &'a ast::Canon) -> Step {
        let peer = ready!(self, self.resolve_string(&c.peer));
        let peer = peer.as_str().to_owned();
        let me = self.params.current_peer_id.clone();
        let is_map = c.source.kind == VarKind::StreamMap;
        let result = match self.state_at_cursor().cloned() {
            Some(State::Canon(CanonState::Executed { result })) => result,
            // Another peer's canon: the particle goes there once, when the request is
            // first recorded (as AquaVM does; a request already recorded is not resent).
            Some(State::Canon(CanonState::RequestSent { .. })) | None if peer != me => {
                if self.state_at_cursor().is_none() {
                    self.put_state(State::Canon(CanonState::RequestSent { by: me }));
                    self.next_peers.insert(peer);
                }
                self.cursor.index += 1;
                self.complete = false;
                return Ok(());
            }
            Some(State::Canon(CanonState::RequestSent { .. })) | None => {
                let tetraplet = self.store.put_tetraplet(&Tetraplet {
                    peer_pk: peer.clone(),
                    service_id: String::new(),
                    function_name: String::new(),
                    lens: String::new(),
                });
                let stream = self.env.stream(c.source.id);
                let values: Vec<StreamValue> = stream.map(|s| s.values().cloned().collect()).unwrap_or_default();
                let last_canon = stream.and_then(|s| s.last_canon);
                let elements: Vec<CanonElement> = values
                    .iter()
                    .map(|v| CanonElement { key: v.map_key.as_ref().map(|k| self.put_json(k)), ..self.put_val(&v.val) })
                    .collect();
                let record = self.snapshot(tetraplet, is_map, last_canon, elements);
                let cid = self.store.put_canon(record);
                self.produced.push(cid);
                self.put_state(State::Canon(CanonState::Executed { result: cid }));
                cid
            }
            Some(other) => return Err(self.trace_error("canon", &other)),
        };
        self.env.note_canon(c.source.id, result);
        let canon = self.load_canon(result, &peer, is_map)?;
        self.cursor.index += 1;
        match c.dest.kind {
            VarKind::Scalar => {
                // The map-to-scalar form: an object with the first value of each key.
                let mut m = serde_json::Map::new();
                canon.load(&|r| self.load_elements(r));
                for (key, value) in canon.entries() {
                    m.entry(key).or_insert_with(|| (*value.json).clone());
                }
                self.set_scalar(c.dest, Bound::Val(Val::new(Rc::new(Json::Object(m)), canon.tetraplet.clone())))
            }
            _ => self.set_scalar(c.dest, Bound::Canon(Rc::new(canon))),
        }
    }

    /// A canon result for `elements`: the elements after `earlier`'s when that snapshot
    /// (of the same stream) is a prefix of them, so a growing stream's snapshots share.
    fn snapshot(&self, tetraplet: Cid, map: bool, earlier: Option<Cid>, elements: Vec<CanonElement>) -> CanonResult {
        let len = elements.len() as u64;
        if let Some((cid, base)) = earlier.and_then(|cid| self.store.canons.get(&cid).map(|b| (cid, b)))
            && base.len <= len
            && base.map == map
        {
            let prefix = self.store.canon_elements(base);
            if elements.starts_with(&prefix) {
                let elements = elements[prefix.len()..].to_vec();
                return CanonResult { tetraplet, map, base: Some(cid), elements, len };
            }
        }
        CanonResult { tetraplet, map, base: None, elements, len }
    }

    /// Loads a snapshot for a `canon` on `peer` over a stream map (`is_map`) or a stream.
    fn load_canon(&mut self, cid: Cid, peer: &str, is_map: bool) -> Result<CanonValue, Flow> {
        let record = self.store.canons.get(&cid).cloned().ok_or_else(|| Uncatchable::ValueForCidNotFound(cid.to_string()))?;
        // An Rc clone: the snapshot's elements are loaded only if used.
        let tetraplet = self.load_tetraplet(record.tetraplet)?;
        if tetraplet.peer_pk != peer {
            return Err(Uncatchable::InstructionParametersMismatch(format!(
                "`{}` was recorded as taken on {}, not {peer}",
                instruction_text(self.script, self.current),
                tetraplet.peer_pk
            ))
            .into());
        }
        if record.map != is_map {
            let (recorded, used) = if record.map { ("a stream map", "a stream") } else { ("a stream", "a stream map") };
            return Err(Uncatchable::InstructionParametersMismatch(format!(
                "`{}` replays the snapshot of {recorded} as one of {used}",
                instruction_text(self.script, self.current)
            ))
            .into());
        }
        Ok(CanonValue::lazy(record, tetraplet, is_map))
    }

    /// A stored canon's elements. The store was verified on arrival (every value is
    /// present and is JSON), so nothing here can fail.
    fn load_elements(&self, record: &CanonResult) -> Elements {
        let value = |cid: &Cid| {
            self.parsed.get(cid).cloned().unwrap_or_else(|| {
                Rc::new(self.store.values.get(cid).and_then(|text| serde_json::from_str(text).ok()).unwrap_or(Json::Null))
            })
        };
        let tetraplet = |cid: &Cid| {
            self.tetraplets.get(cid).cloned().unwrap_or_else(|| {
                Rc::new(self.store.tetraplets.get(cid).map_or_else(|| Tetraplet::literal(""), StoredTetraplet::to_tetraplet))
            })
        };
        let elements = self.store.canon_elements(record);
        Elements {
            values: elements.iter().map(|e| Val::new(value(&e.value), tetraplet(&e.tetraplet))).collect(),
            keys: elements.iter().filter_map(|e| e.key.as_ref().map(value)).collect(),
        }
    }

    // ----- match, fail -----

    fn match_(&mut self, m: &ast::Match, equal: bool) -> Step {
        let left = ready!(self, self.resolve(&m.left)).json();
        let right = ready!(self, self.resolve(&m.right)).json();
        if (left == right) == equal {
            self.stack.push(Frame::Run(m.body));
            Ok(())
        } else if equal {
            Err(Catchable::MatchValuesNotEqual.into())
        } else {
            Err(Catchable::MismatchValuesEqual.into())
        }
    }

    fn fail(&mut self, f: &Fail) -> Step {
        let raised = self.raised_by_fail(f);
        // A `fail` that throws makes its branch incomplete; one that cannot (an invalid
        // object, a variable not set) does not (AquaVM).
        if let Err(Flow::Catchable(Catchable::UserError(_) | Catchable::Rethrown { .. })) = &raised {
            self.complete = false;
        }
        raised
    }

    fn raised_by_fail(&mut self, f: &Fail) -> Step {
        match f {
            Fail::Literal { code, message } => {
                let thrown = ErrorObject {
                    error_code: *code,
                    message: self.script.text(*message).to_owned(),
                    instruction: instruction_text(self.script, self.current),
                    // The particle's initiator, whichever peer replays the `fail` (AquaVM).
                    peer_id: Some(self.params.init_peer_id.clone()),
                };
                Err(Catchable::UserError(Rc::new(thrown.to_json())).into())
            }
            Fail::LastError => Err(Self::thrown(self.last_error.clone()).into()),
            // After a catch, the caught error raised again (a service error keeps 10000);
            // otherwise `:error:` thrown as an object, as by `(fail x)`.
            Fail::Error => {
                let handled = self.error_json();
                match &self.caught {
                    Some(caught) => Err(Catchable::Rethrown { caught: caught.clone(), handled }.into()),
                    None => Err(Self::thrown(handled).into()),
                }
            }
            Fail::Value(v) => match self.resolve(v)? {
                Got::Ready(r) => Err(Self::thrown(r.json()).into()),
                // Unlike other instructions, `fail` does not wait for a value that is not
                // set: it fails with the reason (as AquaVM does).
                Got::Wait(e) => Err(e.into()),
            },
        }
    }

    /// What `fail` raises with an object: the object itself, if it is a valid error object
    /// (checked in AquaVM's order, with its messages).
    fn thrown(object: Rc<Json>) -> Catchable {
        let invalid = Catchable::InvalidErrorObject;
        let Some(fields) = object.as_object() else {
            let shown = message_text(&object);
            return invalid(format!("scalar should have an object type to be converted into error object, but '{shown}' doesn't have"));
        };
        let shown = || message_text(&object);
        match fields.get("error_code") {
            None => return invalid(format!("scalar '{}' must have field with name 'error_code'", shown())),
            Some(code) if !code.is_i64() => return invalid(format!("error_code of scalar '{}' must have integer type", shown())),
            Some(code) if code.as_i64() == Some(0) => return invalid("error code must be non-zero, but it is zero".into()),
            Some(_) => {}
        }
        match fields.get("message") {
            None => invalid(format!("scalar '{}' must have field with name 'message'", shown())),
            Some(message) if !message.is_string() => invalid(format!("message of scalar '{}' must have string type", shown())),
            Some(_) => Catchable::UserError(object),
        }
    }

    // ----- fold and next -----

    fn fold(&mut self, id: InstrId, f: &ast::Fold) -> Step {
        match &f.iterable {
            Value::Stream(var) | Value::StreamMap(var) => self.fold_stream(id, f, *var),
            other => {
                let items = match ready!(self, self.resolve(other)) {
                    Resolved::Canon(c) if c.is_map => Items::Fixed(Rc::new(lens::canon_map_entries(&c))),
                    Resolved::Canon(c) => Items::Canon(c),
                    // Its tetraplet taken whole once, not rebuilt for each element.
                    Resolved::One(v) if v.json.is_array() => Items::Array(Val::new(v.json.clone(), v.tetraplet())),
                    Resolved::One(v) => {
                        let expression = self.expression_text(other);
                        return Err(Catchable::FoldIteratesOverNonArray { expression, value: message_text(&v.json) }.into());
                    }
                };
                let empty = match &items {
                    Items::Fixed(v) => v.is_empty(),
                    Items::Canon(c) => c.len() == 0,
                    Items::Array(v) => v.json.as_array().is_none_or(Vec::is_empty),
                    Items::Stream(_) => false,
                };
                if empty {
                    return Ok(());
                }
                self.start_fold(id, f, items)
            }
        }
    }

    fn fold_stream(&mut self, id: InstrId, f: &ast::Fold, var: Var) -> Step {
        let Some(level) = self.env.stream_level(var.id) else {
            // A stream nobody wrote yet: wait for values.
            self.complete = false;
            return Ok(());
        };
        match self.state_at_cursor() {
            Some(State::Fold { .. }) => {}
            None => self.put_state(State::Fold { iterations: Vec::new() }),
            Some(other) => return Err(self.trace_error("fold", &other.clone())),
        }
        let fold_state = (self.cursor.sub, self.cursor.index);
        let fold_addr = address(&[&self.cursor.addr, &(self.cursor.index as u64).to_le_bytes(), b"F"]);
        let after = Cursor { index: self.cursor.index + 1, ..self.cursor };
        let known = match self.trace.subtraces[fold_state.0.0 as usize].get(fold_state.1) {
            Some(State::Fold { iterations }) => iterations.iter().map(|it| (it.value, it.subtrace)).collect(),
            _ => return Err(Uncatchable::FoldStateNotFound(self.name(var).to_owned()).into()),
        };
        let Some(stream) = self.env.stream_at_mut(var.id, level).filter(|s| !s.is_empty()) else {
            self.cursor = after;
            self.complete = false;
            return Ok(());
        };
        let (round, cursor) = stream.begin_fold();
        let items = StreamItems { var: var.id, level, fold_state, fold_addr, cursor, round: round.into(), complete: false, known };
        let fold = self.folds.len();
        self.folds.push(FoldCtx { instr: id, iterator: f.iterator, items: Items::Stream(items), position: 0, after: Some(after) });
        self.stack.push(Frame::FoldEnd { fold });
        self.start_chain(fold)
    }

    /// Starts the iterations over the generation a fold over a stream is at.
    fn start_chain(&mut self, fold: usize) -> Step {
        self.folds[fold].position = 0;
        self.stack.push(Frame::ChainEnd { fold });
        match self.item(fold) {
            Some(item) => self.begin_iteration(fold, item),
            None => Ok(()),
        }
    }

    /// The iterations over one generation ended (or an error ended them): the next
    /// generation's start, or the next round's, or the fold's end.
    fn end_chain(&mut self, fold: usize) -> Step {
        self.env.pop_scope();
        let complete = self.complete;
        let Items::Stream(items) = &mut self.folds[fold].items else { return Ok(()) };
        items.complete |= complete;
        items.round.pop_front();
        if items.round.is_empty() {
            // The round is over: the generations written since the last one make the next.
            let Some(stream) = self.env.stream_at_mut(items.var, items.level) else { return Ok(()) };
            items.round = stream.next_round(&mut items.cursor).into();
        }
        if items.round.is_empty() {
            self.complete = items.complete;
            Ok(())
        } else {
            self.start_chain(fold)
        }
    }

    fn start_fold(&mut self, id: InstrId, f: &ast::Fold, items: Items) -> Step {
        let fold = self.folds.len();
        self.folds.push(FoldCtx { instr: id, iterator: f.iterator, items, position: 0, after: None });
        self.stack.push(Frame::FoldEnd { fold });
        match self.item(fold) {
            Some(item) => self.begin_iteration(fold, item),
            None => Ok(()),
        }
    }

    /// The item at a fold's position, if any.
    fn item(&self, fold: usize) -> Option<(Val, Option<ValueKey>)> {
        let ctx = &self.folds[fold];
        match &ctx.items {
            Items::Fixed(v) => v.get(ctx.position).map(|v| (v.clone(), None)),
            Items::Canon(c) => c.loaded().get(ctx.position).map(|v| (v.clone(), None)),
            Items::Array(v) => {
                let x = v.json.as_array()?.get(ctx.position)?;
                Some((Val::element(Rc::new(x.clone()), v.tetraplet(), u32::try_from(ctx.position).ok()?), None))
            }
            Items::Stream(items) => {
                let v = self.env.stream_at(items.var, items.level)?.value_in(*items.round.front()?, ctx.position)?;
                let val = match &v.map_key {
                    None => v.val.clone(),
                    Some(key) => env::entry_object(key, &v.val),
                };
                Some((val, Some(v.key())))
            }
        }
    }

    /// Binds the iterator to the current item and runs the body (in the item's subtrace for streams).
    fn begin_iteration(&mut self, fold: usize, (val, key): (Val, Option<ValueKey>)) -> Step {
        if let (Some(key), Items::Stream(items)) = (key, &self.folds[fold].items) {
            let fold_addr = items.fold_addr;
            let sub = self.iteration_subtrace(fold, key)?;
            self.cursor = Cursor { sub, index: 0, addr: address(&[&fold_addr, &key.0]) };
        }
        self.env.push_scope();
        let iterator = self.folds[fold].iterator;
        self.set_scalar(iterator, Bound::Val(val))?;
        let body = match &self.script.instr(self.folds[fold].instr).kind {
            InstrKind::Fold(f) => f.body,
            _ => return Err(Uncatchable::FoldStateNotFound(self.name(iterator).to_owned()).into()),
        };
        self.complete = true;
        self.stack.push(Frame::Run(body));
        Ok(())
    }

    /// Finds or creates (at the end of the fold state) the subtrace of the iteration over `key`.
    fn iteration_subtrace(&mut self, fold: usize, key: ValueKey) -> Result<SubtraceId, Flow> {
        let Items::Stream(items) = &mut self.folds[fold].items else {
            return Err(Uncatchable::FoldStateNotFound("not a fold over a stream".into()).into());
        };
        if let Some(&sub) = items.known.get(&key) {
            return Ok(sub);
        }
        let (sub, index) = items.fold_state;
        let new = self.trace.new_subtrace();
        items.known.insert(key, new);
        match self.trace.subtraces.get_mut(sub.0 as usize).and_then(|s| s.get_mut(index)) {
            Some(State::Fold { iterations }) => iterations.push(FoldIteration { value: key, subtrace: new }),
            _ => return Err(Uncatchable::FoldStateNotFound(format!("at {index}")).into()),
        }
        Ok(new)
    }

    fn next(&mut self, var: Var) -> Step {
        let Some(fold) = self.folds.iter().rposition(|f| f.iterator.id == var.id) else {
            return Err(Uncatchable::FoldStateNotFound(self.name(var).to_owned()).into());
        };
        let saved = self.cursor;
        self.folds[fold].position += 1;
        if let Some(item) = self.item(fold) {
            self.stack.push(Frame::NextEnd { fold, cursor: saved });
            return self.begin_iteration(fold, item);
        }
        self.folds[fold].position -= 1;
        let last = match &self.script.instr(self.folds[fold].instr).kind {
            InstrKind::Fold(f) => f.last,
            _ => None,
        };
        match last {
            // The last instruction's completeness is its own, whatever the branch's was
            // (AquaVM), so `(par A (next i))` is complete once it has run.
            Some(last) => {
                self.complete = true;
                self.stack.push(Frame::Run(last));
            }
            // Without a last instruction a stream fold waits for more values.
            None if matches!(self.folds[fold].items, Items::Stream(_)) => self.complete = false,
            None => {}
        }
        Ok(())
    }

    fn end_next(&mut self, fold: usize, cursor: Cursor) {
        self.env.pop_scope();
        self.folds[fold].position -= 1;
        if matches!(self.folds[fold].items, Items::Stream(_)) {
            self.cursor = cursor;
        }
    }

    fn end_fold(&mut self, fold: usize) {
        // A fold over a stream ended its iterations' scopes with its chains.
        if !matches!(self.folds[fold].items, Items::Stream(_)) {
            self.env.pop_scope();
        }
        if let Some(after) = self.folds[fold].after {
            self.cursor = after;
        }
        self.folds.truncate(fold);
    }
}
