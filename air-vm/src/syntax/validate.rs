//! Static validation of a parsed script, with AquaVM's rules (`parser/validator.rs`):
//!
//! * every used scalar, canon stream and canon map has a definition (call output, `ap`
//!   target, `canon` target, `new`) textually to the left of the use, or is the iterator
//!   of an enclosing fold; streams and stream maps need none (`canon` and `fold` over a
//!   never-written stream are legal);
//! * `next i` is inside a fold over `i`, at most once per fold;
//! * a nested fold does not reuse an enclosing fold's iterator, and `new` does not
//!   restrict one;
//! * `(fail 0 "...")` is rejected (code 0 means "no error");
//! * a fold over a stream or stream map has no instructions after its `next`.
//!
//! The walk uses an explicit stack, so nesting depth is not limited by the thread stack.

use super::ast::{Accessor, CallOutput, Fail, InstrId, InstrKind, Lens, LensKind, Script, Value, Var, VarKind};
use super::error::{ParseError, ParseErrors};

/// Checks `script` against AquaVM's static rules; all problems are reported at once.
pub fn validate(script: &Script) -> Result<(), ParseErrors> {
    let mut v = Validator::new(script);
    v.run();
    match ParseErrors::from_vec(v.errors) {
        None => Ok(()),
        Some(errors) => Err(errors),
    }
}

/// A fold whose body is being walked.
#[derive(Debug)]
struct FoldFrame {
    iterator: Var,
    /// Over a stream or a stream map (`Some(kind)`), or over a value (`None`).
    stream: Option<VarKind>,
    nexts: u32,
    /// `seq_left` when the fold was entered: a larger value at `next` means an
    /// instruction follows the `next` inside this fold.
    seq_left_at_entry: u32,
}

#[derive(Debug)]
enum Step {
    Visit(InstrId),
    /// Leaving the left child of a `seq`.
    SeqLeftEnd,
    /// Leaving a fold's body and last instruction.
    FoldEnd,
}

#[derive(Debug)]
struct Validator<'a> {
    script: &'a Script,
    /// Start of the leftmost definition of each name (outside fold iterators).
    first_def: Vec<Option<u32>>,
    /// Whether each name is some fold's iterator, for hints.
    is_iterator: Vec<bool>,
    folds: Vec<FoldFrame>,
    /// How many `seq` left children the walk is currently inside.
    seq_left: u32,
    errors: Vec<ParseError>,
}

impl<'a> Validator<'a> {
    fn new(script: &'a Script) -> Self {
        let n = script.names().len();
        let mut v =
            Validator { script, first_def: vec![None; n], is_iterator: vec![false; n], folds: Vec::new(), seq_left: 0, errors: Vec::new() };
        v.collect_definitions();
        v
    }

    /// Pass 1: where each name is first defined. Order does not matter, so no tree walk.
    fn collect_definitions(&mut self) {
        let script = self.script;
        for instr in &script.instrs {
            let defined = match &instr.kind {
                InstrKind::Call(call) => match call.output {
                    CallOutput::Scalar(var) | CallOutput::Stream(var) => Some(var),
                    CallOutput::None => None,
                },
                InstrKind::Ap(ap) => Some(ap.dest),
                InstrKind::ApMap(ap) => Some(ap.map),
                InstrKind::Canon(canon) => Some(canon.dest),
                InstrKind::New { var, .. } => Some(*var),
                InstrKind::Fold(fold) => {
                    self.is_iterator[fold.iterator.id.0 as usize] = true;
                    None
                }
                _ => None,
            };
            if let Some(var) = defined {
                let slot = &mut self.first_def[var.id.0 as usize];
                *slot = Some(slot.map_or(var.span.start, |s| s.min(var.span.start)));
            }
        }
    }

    /// Pass 2: a depth-first walk in source order, tracking enclosing folds.
    fn run(&mut self) {
        let script = self.script;
        let mut stack = vec![Step::Visit(script.root)];
        while let Some(step) = stack.pop() {
            let id = match step {
                Step::Visit(id) => id,
                Step::SeqLeftEnd => {
                    self.seq_left -= 1;
                    continue;
                }
                Step::FoldEnd => {
                    self.folds.pop();
                    continue;
                }
            };
            let instr = script.instr(id);
            match &instr.kind {
                InstrKind::Call(call) => {
                    self.use_value(&call.peer);
                    self.use_value(&call.service);
                    self.use_value(&call.function);
                    call.args.iter().for_each(|a| self.use_value(a));
                }
                InstrKind::Ap(ap) => self.use_value(&ap.source),
                InstrKind::ApMap(ap) => {
                    self.use_value(&ap.key);
                    self.use_value(&ap.value);
                }
                InstrKind::Canon(canon) => self.use_value(&canon.peer),
                InstrKind::Seq(left, right) => {
                    stack.push(Step::Visit(*right));
                    stack.push(Step::SeqLeftEnd);
                    stack.push(Step::Visit(*left));
                    self.seq_left += 1;
                }
                InstrKind::Par(left, right) | InstrKind::Xor(left, right) => {
                    stack.push(Step::Visit(*right));
                    stack.push(Step::Visit(*left));
                }
                InstrKind::Match(m) | InstrKind::Mismatch(m) => {
                    self.use_value(&m.left);
                    self.use_value(&m.right);
                    stack.push(Step::Visit(m.body));
                }
                InstrKind::Fold(fold) => {
                    // The iterable is evaluated outside the fold's scope. A stream or map
                    // folded over must be written earlier in the text (AquaVM's rule), though
                    // a `canon` may snapshot one never written.
                    self.use_value(&fold.iterable);
                    if let Value::Stream(var) | Value::StreamMap(var) = fold.iterable {
                        self.use_var(var);
                    }
                    let iterator = fold.iterator;
                    if self.folds.iter().any(|f| f.iterator.id == iterator.id) {
                        let name = script.name(iterator.id);
                        self.errors.push(
                            ParseError::new(format!("fold iterator `{name}` is already the iterator of an enclosing fold"), iterator.span)
                                .with_hint("nested folds need distinct iterator names"),
                        );
                    }
                    let stream = match fold.iterable {
                        Value::Stream(_) => Some(VarKind::Stream),
                        Value::StreamMap(_) => Some(VarKind::StreamMap),
                        _ => None,
                    };
                    self.folds.push(FoldFrame { iterator, stream, nexts: 0, seq_left_at_entry: self.seq_left });
                    stack.push(Step::FoldEnd);
                    if let Some(last) = fold.last {
                        stack.push(Step::Visit(last));
                    }
                    stack.push(Step::Visit(fold.body));
                }
                InstrKind::Next(var) => self.next(*var),
                InstrKind::New { var, body } => {
                    if self.folds.iter().any(|f| f.iterator.id == var.id) {
                        let name = script.name(var.id);
                        self.errors.push(
                            ParseError::new(format!("`new` cannot restrict `{name}`: it is the iterator of an enclosing fold"), var.span)
                                .with_hint("use a different name"),
                        );
                    }
                    stack.push(Step::Visit(*body));
                }
                InstrKind::Fail(fail) => match &**fail {
                    Fail::Literal { code: 0, .. } => self.errors.push(
                        ParseError::new("`fail` with error code 0 is not allowed: 0 means \"no error\"", instr.span)
                            .with_hint("use a non-zero error code"),
                    ),
                    Fail::Value(value) => self.use_value(value),
                    Fail::Literal { .. } | Fail::LastError | Fail::Error => {}
                },
                InstrKind::Never | InstrKind::Null => {}
            }
        }
    }

    fn next(&mut self, var: Var) {
        let name = self.script.name(var.id);
        let Some(frame) = self.folds.iter_mut().rev().find(|f| f.iterator.id == var.id) else {
            let hint = if self.folds.is_empty() {
                format!("`next` can only be used inside `(fold iterable {name} ...)`")
            } else {
                "`next` takes the iterator of an enclosing fold".to_string()
            };
            self.errors.push(ParseError::new(format!("`next {name}` is not inside a fold over `{name}`"), var.span).with_hint(hint));
            return;
        };
        frame.nexts += 1;
        if frame.nexts > 1 {
            self.errors.push(
                ParseError::new(format!("a fold over `{name}` can have only one `next {name}`"), var.span)
                    .with_hint("remove the extra `next`"),
            );
        }
        if let Some(kind) = frame.stream
            && self.seq_left > frame.seq_left_at_entry
        {
            self.errors.push(
                ParseError::new(format!("fold over a {kind} can not have instructions after next"), var.span)
                    .with_hint("make `next` the last instruction of the fold body, e.g. `(par body (next i))`"),
            );
        }
    }

    /// Checks every variable a value reads.
    fn use_value(&mut self, value: &Value) {
        match value {
            Value::Scalar { var, lens } | Value::CanonStream { var, lens } | Value::CanonMap { var, lens } => {
                self.use_var(*var);
                self.use_lens(lens.as_deref());
            }
            Value::LastError(lens) | Value::Error(lens) => self.use_lens(lens.as_deref()),
            // A canon of a stream or map never written is empty: no definition needed.
            Value::Stream(_) | Value::StreamMap(_) => {}
            Value::InitPeerId
            | Value::Timestamp
            | Value::Ttl
            | Value::String(_)
            | Value::Number(_)
            | Value::Bool(_)
            | Value::EmptyArray => {}
        }
    }

    fn use_lens(&mut self, lens: Option<&Lens>) {
        if let Some(Lens { kind: LensKind::Path { accessors, .. }, .. }) = lens {
            for accessor in accessors {
                if let Accessor::Scalar(var) = accessor {
                    self.use_var(*var);
                }
            }
        }
    }

    fn use_var(&mut self, var: Var) {
        let i = var.id.0 as usize;
        if self.first_def[i].is_some_and(|def| def < var.span.start) {
            return;
        }
        if self.folds.iter().any(|f| f.iterator.id == var.id) {
            return;
        }
        let name = self.script.name(var.id);
        let hint = if self.first_def[i].is_some() {
            "it is defined only later; a definition must come textually before its uses".to_string()
        } else if self.is_iterator[i] {
            format!("`{name}` is a fold iterator, usable only inside its fold")
        } else {
            match var.kind {
                VarKind::CanonStream | VarKind::CanonMap => {
                    format!("define it with `canon` first, e.g. `(canon %init_peer_id% $stream {name})`")
                }
                VarKind::Stream => format!("write it earlier, with `ap` or as a call output, or declare it with `(new {name} ...)`"),
                VarKind::StreamMap => format!("write it earlier with `(ap (key value) {name})`, or declare it with `(new {name} ...)`"),
                _ => format!("define it first, e.g. as a call output `(call peer (\"service\" \"function\") [] {name})` or with `ap`"),
            }
        };
        self.errors.push(ParseError::new(format!("{} `{name}` is not defined before this use", var.kind), var.span).with_hint(hint));
    }
}

#[cfg(test)]
mod tests {
    use crate::syntax::ast::Span;
    use crate::syntax::parse;

    fn ok(source: &str) {
        if let Err(e) = parse(source) {
            panic!("{source} should be valid: {e}");
        }
    }

    fn fails(source: &str) -> Vec<(String, Span)> {
        parse(source).expect_err("should be invalid").into_vec().into_iter().map(|e| (e.message, e.span)).collect()
    }

    fn fails_with(source: &str, message: &str) -> Span {
        let errors = fails(source);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, message, "for {source}");
        errors[0].1
    }

    const CALL: &str = r#"(call %init_peer_id% ("s" "f")"#;

    #[test]
    fn definitions_must_come_first() {
        ok(&format!("(seq {CALL} [] x) {CALL} [x]))"));
        ok(&format!("(xor {CALL} [] x) {CALL} [x.$.a]))"));
        let span = fails_with(&format!("(seq {CALL} [x] x) (null))"), "scalar `x` is not defined before this use");
        assert_eq!(span, Span::new(37, 38));
        fails_with(&format!("(seq {CALL} [y]) {CALL} [] y))"), "scalar `y` is not defined before this use");
        fails_with(&format!("{CALL} [a.$.[0]] a)"), "scalar `a` is not defined before this use");
        // Lens accessors are uses too.
        let errors = fails(&format!("(seq {CALL} [] a) {CALL} [a.$.[b]]))"));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, "scalar `b` is not defined before this use");
        ok(&format!("(seq {CALL} [] a) (seq {CALL} [] b) {CALL} [a.$.[b]])))"));
        // Error objects read only the lens scalars.
        ok("(xor (null) (fail %last_error%))");
        fails_with(&format!("(xor (null) {CALL} [:error:.$.[k]]))"), "scalar `k` is not defined before this use");
    }

    #[test]
    fn definitions_by_each_instruction() {
        ok(&format!("(seq (ap 1 x) {CALL} [x]))"));
        ok(&format!("(seq (canon %init_peer_id% $s #c) {CALL} [#c #c.length]))"));
        ok(&format!("(seq (canon %init_peer_id% %m #%c) {CALL} [#%c #%c.$.k]))"));
        ok(&format!("(seq (canon %init_peer_id% %m obj) {CALL} [obj]))"));
        ok(&format!("(new x {CALL} [x]))"));
        ok(&format!("(fold [] i {CALL} [i]))"));
        fails_with(&format!("{CALL} [#c])"), "canon stream `#c` is not defined before this use");
        fails_with(&format!("{CALL} [#%c.$.a])"), "canon map `#%c` is not defined before this use");
        // `#$c` and `#c` are distinct names, as in AquaVM.
        fails_with(&format!("(seq (canon %init_peer_id% $s #c) {CALL} [#$c]))"), "canon stream `#$c` is not defined before this use");
        ok(&format!("(seq (canon %init_peer_id% $s #$c) {CALL} [#$c]))"));
    }

    #[test]
    fn a_canon_needs_no_definition_of_its_stream_but_a_fold_does() {
        ok("(canon %init_peer_id% $never_written #c)");
        ok("(canon %init_peer_id% %never_written #%c)");
        ok("(new $s (null))");
        ok("(new $s (fold $s i (next i)))");
        ok("(seq (ap 1 $s) (fold $s i (next i)))");
        ok(&format!("(seq {CALL} [] $s) (fold $s i (next i)))"));
        ok("(seq (ap (\"k\" 1) %m) (fold %m i (next i)))");
        ok("(seq (new $s (ap 1 $s)) (fold $s i (next i)))");
        fails_with("(fold $s i (next i))", "stream `$s` is not defined before this use");
        fails_with("(fold %m i (next i))", "stream map `%m` is not defined before this use");
        fails_with("(seq (fold $s i (next i)) (ap 1 $s))", "stream `$s` is not defined before this use");
        fails_with("(seq (canon %init_peer_id% $s #c) (fold $s i (next i)))", "stream `$s` is not defined before this use");
    }

    #[test]
    fn iterators_are_scoped_to_their_fold() {
        ok(&format!("(fold [] i (seq {CALL} [i]) (next i)))"));
        ok(&format!("(fold [] i (null) {CALL} [i]))"));
        let span = fails_with(&format!("(seq (fold [] i (next i)) {CALL} [i]))"), "scalar `i` is not defined before this use");
        assert_eq!(span, Span::new(58, 59));
        fails_with("(fold i i (next i))", "scalar `i` is not defined before this use");
    }

    #[test]
    fn next_must_be_in_its_fold() {
        let span = fails_with("(next i)", "`next i` is not inside a fold over `i`");
        assert_eq!(span, Span::new(6, 7));
        fails_with("(fold [] i (next j))", "`next j` is not inside a fold over `j`");
        fails_with("(seq (fold [] i (null)) (next i))", "`next i` is not inside a fold over `i`");
        ok("(fold [] i (fold [] j (seq (next j) (next i))))");
    }

    #[test]
    fn one_next_per_fold() {
        let span = fails_with("(fold [] i (par (next i) (next i)))", "a fold over `i` can have only one `next i`");
        assert_eq!(span, Span::new(31, 32));
        ok("(seq (fold [] i (next i)) (fold [] i (next i)))");
    }

    #[test]
    fn nested_folds_need_distinct_iterators() {
        let span = fails_with("(fold [] i (fold [] i (next i)))", "fold iterator `i` is already the iterator of an enclosing fold");
        assert_eq!(span, Span::new(20, 21));
        ok("(fold [] i (fold [] j (next j)))");
    }

    #[test]
    fn new_cannot_restrict_an_iterator() {
        let span = fails_with("(fold [] i (new i (next i)))", "`new` cannot restrict `i`: it is the iterator of an enclosing fold");
        assert_eq!(span, Span::new(16, 17));
        ok("(seq (fold [] i (next i)) (new i (null)))");
    }

    #[test]
    fn fail_code_zero() {
        let span = fails_with(r#"(fail 0 "ok")"#, "`fail` with error code 0 is not allowed: 0 means \"no error\"");
        assert_eq!(span, Span::new(0, 13));
        ok(r#"(fail 1 "boom")"#);
        ok(r#"(fail -1 "boom")"#);
    }

    #[test]
    fn nothing_after_next_in_stream_folds() {
        fails_with(&format!("(new $s (fold $s i (seq (next i) {CALL} [i]))))"), "fold over a stream can not have instructions after next");
        fails_with(
            &format!("(new %m (fold %m i (seq (par (next i) (null)) {CALL} [i]))))"),
            "fold over a stream map can not have instructions after next",
        );
        ok(&format!("(new $s (fold $s i (seq {CALL} [i]) (next i))))"));
        ok(&format!("(new $s (fold $s i (par {CALL} [i]) (next i))))"));
        ok(&format!("(new $s (seq (fold $s i (next i)) {CALL} [])))"));
        // Folds over values may run instructions on the way back.
        ok(&format!("(seq (ap [] xs) (fold xs i (seq (next i) {CALL} [i]))))"));
        ok(&format!("(fold [] i (seq (next i) {CALL} [i])))"));
    }

    #[test]
    fn several_errors_at_once() {
        let errors = fails(&format!("(seq (next i) (seq {CALL} [x]) (fail 0 \"\")))"));
        assert_eq!(errors.len(), 3, "{errors:?}");
    }
}
