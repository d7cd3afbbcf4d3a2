//! The AIR parser: the lalrpop grammar (`air.lalrpop`) plus the [`Builder`] its actions
//! call, which checks which value kinds are allowed where (AquaVM's grammar table) and
//! pushes instructions into the arena; and the translation of lalrpop's errors into
//! messages for people.

use lalrpop_util::ParseError as LalrpopError;

use super::MAX_AIR_SIZE_BYTES;
use super::ast::{
    Ap, ApMap, Call, CallOutput, Canon, Fail, Fold, Instr, InstrId, InstrKind, Match, Number, Script, Span, Value, Var, VarId, VarKind,
};
use super::error::{ParseError, ParseErrors};
use super::lexer::{self, Coarse, Keyword, Lexer, Token, ValKind, ValueReader};

lalrpop_util::lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused_qualifications, missing_debug_implementations, unused_imports)]
    grammar,
    "/syntax/air.rs"
);

/// At most this many lexical errors are reported at once.
const MAX_LEX_ERRORS: usize = 20;

/// Parses `source` into a [`Script`] without static validation.
pub(crate) fn parse_unvalidated(source: &str) -> Result<Script, ParseErrors> {
    if source.len() > MAX_AIR_SIZE_BYTES {
        return Err(ParseErrors::single(
            ParseError::new(
                format!("the script is {} bytes long, more than the limit of {MAX_AIR_SIZE_BYTES} bytes (16 MiB)", source.len()),
                Span::new(MAX_AIR_SIZE_BYTES, source.len()),
            )
            .with_hint("AIR scripts larger than 16 MiB are rejected before parsing"),
        ));
    }
    let mut builder = Builder::new(source);
    let result = grammar::ScriptParser::new().parse(&mut builder, Lexer::new(source));
    let Builder { instrs, reader, check, .. } = builder;
    let mut errors = check.errors;
    match result {
        Ok(root) if errors.is_empty() => Ok(Script::new(instrs, root, source.into(), reader.into_names())),
        Ok(_) => Err(ParseErrors::from_vec(errors).expect("errors is not empty")),
        Err(LalrpopError::User { error }) => {
            // The parser stops at the first lexical error; report all of them at once.
            errors.push(error);
            errors.extend(lexer::all_lex_errors(source, MAX_LEX_ERRORS));
            Err(ParseErrors::from_vec(errors).expect("errors is not empty"))
        }
        Err(e) => {
            errors.push(syntax_error(source, e));
            Err(ParseErrors::from_vec(errors).expect("errors is not empty"))
        }
    }
}

/// A value with the span of its whole token(s), lens included.
#[derive(Debug, Clone)]
struct SValue {
    value: Value,
    span: Span,
}

/// State shared by the grammar actions.
///
/// Operand values are read as the parser meets them and pushed onto `operands`; an
/// instruction's action takes its own from the top (those of nested instructions were
/// taken when those were reduced). So the parser's stack entries stay small, and a
/// value is never boxed or copied on its way into the tree.
#[derive(Debug)]
pub(crate) struct Builder<'s> {
    reader: ValueReader<'s>,
    operands: Vec<SValue>,
    /// The instruction arena.
    instrs: Vec<Instr>,
    check: Checker<'s>,
}

/// Placeholders returned after an error; they never reach a successful parse.
const BAD_VAR: Var = Var { id: VarId(0), kind: VarKind::Scalar, span: Span { start: 0, end: 0 } };
const BAD_STRING: Span = Span { start: 0, end: 0 };

/// "a peer, a `(service function)` pair, ..." and similar: what each role accepts.
const PEER_ALLOWED: &str = "`%init_peer_id%`, a string, a scalar, or a canon stream or canon map with a lens";
const TRIPLET_ALLOWED: &str = "a string, a scalar, or a canon stream or canon map with a lens";

type ActionResult = Result<(), LalrpopError<u32, Token, ParseError>>;

impl<'s> Builder<'s> {
    fn new(source: &'s str) -> Self {
        Builder {
            reader: ValueReader::new(source),
            operands: Vec::new(),
            instrs: Vec::new(),
            check: Checker { source, errors: Vec::new() },
        }
    }

    /// Reads the value token of `kind` at `start..end` as the next operand.
    ///
    /// A string literal (most operands) is written straight into the operand stack. A
    /// word is read apart: a value that comes back through a `Result` is stored in
    /// pieces and reloaded whole, which stalls the processor's store forwarding, and
    /// sharing that path made string literals a tenth of a parse slower.
    pub(crate) fn value(&mut self, kind: ValKind, start: u32, end: u32) -> ActionResult {
        match kind {
            ValKind::Str => {
                let value = ValueReader::string(start as usize, end as usize);
                self.operands.push(SValue { value, span: Span { start, end } });
                Ok(())
            }
            ValKind::Word => self.word(start, end),
        }
    }

    #[inline(never)]
    fn word(&mut self, start: u32, end: u32) -> ActionResult {
        let value = self.reader.read(ValKind::Word, start as usize, end as usize).map_err(|error| LalrpopError::User { error })?;
        self.operands.push(SValue { value, span: Span { start, end } });
        Ok(())
    }

    /// `[]` as the next operand.
    pub(crate) fn empty_array(&mut self, start: u32, end: u32) {
        self.operands.push(SValue { value: Value::EmptyArray, span: Span { start, end } });
    }

    /// The last `N` operands, in source order.
    fn take<const N: usize>(&mut self) -> [SValue; N] {
        let mut taken = self.operands.drain(self.operands.len() - N..);
        std::array::from_fn(|_| taken.next().expect("the grammar pushed every operand of the instruction"))
    }

    pub(crate) fn push(&mut self, kind: InstrKind, span: Span) -> InstrId {
        let id = InstrId(u32::try_from(self.instrs.len()).expect("instruction count is bounded by the script size"));
        self.instrs.push(Instr { kind, span });
        id
    }

    pub(crate) fn call(&mut self, arg_count: u32, has_output: bool, span: Span) -> InstrId {
        let output = match has_output.then(|| self.take::<1>()) {
            None => CallOutput::None,
            Some([SValue { value: Value::Stream(var), .. }]) => CallOutput::Stream(var),
            Some([SValue { value: Value::Scalar { var, lens: None }, .. }]) => CallOutput::Scalar(var),
            Some([other]) => {
                let hint = match other.value {
                    Value::Scalar { .. } => "remove the lens; results are stored whole",
                    Value::StreamMap(_) => "put the result in a scalar, then add it with `(ap (key result) %map)`",
                    _ => "the output is a scalar name or a stream, such as `result` or `$results`",
                };
                self.check.reject(&other, "the output of a `call`", hint);
                CallOutput::None
            }
        };
        let first_arg = self.operands.len() - arg_count as usize;
        let args = self.operands.drain(first_arg..).map(|a| self.check.argument(a, "call arguments", false)).collect();
        let [peer, service, function] = self.take();
        let peer = self.check.peer(peer, "the peer of a `call`");
        let service = self.check.triplet(service, "a service id");
        let function = self.check.triplet(function, "a function name");
        self.push(InstrKind::Call(Box::new(Call { peer, service, function, args, output })), span)
    }

    pub(crate) fn ap(&mut self, span: Span) -> InstrId {
        let [source, dest] = self.take();
        let source = self.check.ap_source(source, "the source of `ap`");
        let dest = match dest.value {
            Value::Scalar { var, lens: None } | Value::Stream(var) => var,
            Value::StreamMap(_) => {
                self.check.reject(&dest, "the destination of `(ap value ...)`", "to add to a stream map, write `(ap (key value) %map)`");
                BAD_VAR
            }
            _ => {
                self.check.reject(&dest, "the destination of `ap`", "it is a scalar name or a stream, such as `x` or `$s`");
                BAD_VAR
            }
        };
        self.push(InstrKind::Ap(Box::new(Ap { source, dest })), span)
    }

    pub(crate) fn ap_map(&mut self, span: Span) -> InstrId {
        let [key, value, map] = self.take();
        let key_ok = matches!(
            key.value,
            Value::String(_) | Value::Number(Number::Int(_)) | Value::Scalar { .. } | Value::CanonStream { lens: Some(_), .. }
        );
        if !key_ok {
            self.check.reject(&key, "a stream map key", "a key is a string, an integer, a scalar, or a canon stream with a lens");
        }
        let value = self.check.ap_source(value, "a stream map value");
        let map = match map.value {
            Value::StreamMap(var) => var,
            _ => {
                self.check.reject(&map, "the destination of `(ap (key value) ...)`", "it is a stream map, such as `%map`");
                BAD_VAR
            }
        };
        self.push(InstrKind::ApMap(Box::new(ApMap { key: key.value, value, map })), span)
    }

    pub(crate) fn canon(&mut self, span: Span) -> InstrId {
        let [peer, source, dest] = self.take();
        let peer = self.check.peer(peer, "the peer of `canon`");
        let (source_var, source_kind) = match source.value {
            Value::Stream(var) => (var, VarKind::Stream),
            Value::StreamMap(var) => (var, VarKind::StreamMap),
            _ => {
                self.check.reject(&source, "the source of `canon`", "`canon` takes a stream (`$s`) or a stream map (`%m`)");
                (BAD_VAR, VarKind::Scalar)
            }
        };
        let dest = match (source_kind, &dest.value) {
            (VarKind::Stream, Value::CanonStream { var, lens: None }) => *var,
            (VarKind::StreamMap, Value::CanonMap { var, lens: None } | Value::Scalar { var, lens: None }) => *var,
            (VarKind::Stream, _) => {
                self.check.reject(&dest, "the destination of `canon` over a stream", "it is a canon stream, such as `#canon`");
                BAD_VAR
            }
            (VarKind::StreamMap, _) => {
                self.check.reject(
                    &dest,
                    "the destination of `canon` over a stream map",
                    "it is a canon map such as `#%canon`, or a scalar name",
                );
                BAD_VAR
            }
            _ => BAD_VAR,
        };
        self.push(InstrKind::Canon(Box::new(Canon { peer, source: source_var, dest })), span)
    }

    pub(crate) fn matching(&mut self, mismatch: bool, body: InstrId, span: Span) -> InstrId {
        let [left, right] = self.take();
        let role = if mismatch { "`mismatch` operands" } else { "`match` operands" };
        let m = Match { left: self.check.argument(left, role, false), right: self.check.argument(right, role, false), body };
        let kind = if mismatch { InstrKind::Mismatch(Box::new(m)) } else { InstrKind::Match(Box::new(m)) };
        self.push(kind, span)
    }

    pub(crate) fn fold(&mut self, body: InstrId, last: Option<InstrId>, span: Span) -> InstrId {
        let [iterable, iterator] = self.take();
        let ok = matches!(
            iterable.value,
            Value::Scalar { .. }
                | Value::CanonStream { lens: None, .. }
                | Value::CanonMap { .. }
                | Value::EmptyArray
                | Value::Stream(_)
                | Value::StreamMap(_)
        );
        if !ok {
            let hint = if matches!(iterable.value, Value::CanonStream { .. }) {
                "fold over the whole canon stream, or `ap` the lens result to a scalar first"
            } else {
                "`fold` iterates over a scalar, a canon stream, a canon map, `[]`, a stream or a stream map"
            };
            self.check.reject(&iterable, "a fold iterable", hint);
        }
        let iterator = self.check.scalar_name(iterator, "a fold iterator", "the iterator is a scalar name, such as `i`");
        self.push(InstrKind::Fold(Box::new(Fold { iterable: iterable.value, iterator, body, last })), span)
    }

    pub(crate) fn next(&mut self, span: Span) -> InstrId {
        let [iterator] = self.take();
        let iterator = self.check.scalar_name(iterator, "the argument of `next`", "`next` takes the name of a fold iterator");
        self.push(InstrKind::Next(iterator), span)
    }

    pub(crate) fn new_scope(&mut self, body: InstrId, span: Span) -> InstrId {
        let [var] = self.take();
        let var = match var.value {
            Value::Scalar { var, lens: None }
            | Value::Stream(var)
            | Value::StreamMap(var)
            | Value::CanonStream { var, lens: None }
            | Value::CanonMap { var, lens: None } => var,
            _ => {
                self.check.reject(
                    &var,
                    "the argument of `new`",
                    "`new` takes a variable name without lens: a scalar, stream, stream map, canon stream or canon map",
                );
                BAD_VAR
            }
        };
        self.push(InstrKind::New { var, body }, span)
    }

    pub(crate) fn fail_literal(&mut self, span: Span) -> InstrId {
        let [code, message] = self.take();
        let code = match code.value {
            Value::Number(Number::Int(code)) => code,
            _ => {
                self.check.reject(&code, "an error code", "`(fail code \"message\")` takes an integer code first");
                0
            }
        };
        let message = match message.value {
            Value::String(message) => message,
            _ => {
                self.check.reject(&message, "an error message", "`(fail code \"message\")` takes a string literal message");
                BAD_STRING
            }
        };
        self.push(InstrKind::Fail(Box::new(Fail::Literal { code, message })), span)
    }

    pub(crate) fn fail_value(&mut self, span: Span) -> InstrId {
        let [value] = self.take();
        let fail = match value.value {
            Value::LastError(None) => Fail::LastError,
            Value::Error(None) => Fail::Error,
            Value::Scalar { .. } | Value::CanonStream { lens: Some(_), .. } => Fail::Value(value.value),
            Value::String(_) => {
                self.check.reject(&value, "the argument of `fail`", "give an error code too: `(fail 1 \"message\")`");
                Fail::Error
            }
            _ => {
                self.check.reject(
                    &value,
                    "the argument of `fail`",
                    "`fail` takes a code and a message, a scalar, a canon stream with a lens, `%last_error%` or `:error:`",
                );
                Fail::Error
            }
        };
        self.push(InstrKind::Fail(Box::new(fail)), span)
    }
}

/// Checks which value kinds are allowed in which role (AquaVM's grammar table),
/// collecting an error for each value that is not.
#[derive(Debug)]
struct Checker<'s> {
    source: &'s str,
    errors: Vec<ParseError>,
}

impl Checker<'_> {
    fn peer(&mut self, v: SValue, role: &str) -> Value {
        let ok = matches!(
            v.value,
            Value::InitPeerId
                | Value::String(_)
                | Value::Scalar { .. }
                | Value::CanonStream { lens: Some(_), .. }
                | Value::CanonMap { lens: Some(_), .. }
        );
        if !ok {
            self.reject(&v, role, format!("a peer is {PEER_ALLOWED}"));
        }
        v.value
    }

    fn triplet(&mut self, v: SValue, role: &str) -> Value {
        let ok = matches!(
            v.value,
            Value::String(_) | Value::Scalar { .. } | Value::CanonStream { lens: Some(_), .. } | Value::CanonMap { lens: Some(_), .. }
        );
        if !ok {
            self.reject(&v, role, format!("it is {TRIPLET_ALLOWED}"));
        }
        v.value
    }

    /// Call arguments, `match` operands and `ap` sources: anything but streams and maps.
    fn argument(&mut self, v: SValue, role_plural: &str, ap: bool) -> Value {
        match &v.value {
            Value::Stream(_) | Value::StreamMap(_) => {
                let kind = if matches!(v.value, Value::Stream(_)) { "stream" } else { "stream map" };
                let text = self.text(v.span);
                let canon = if kind == "stream" { "#canon" } else { "#%canon" };
                self.errors.push(
                    ParseError::new(
                        format!("`{text}` is a {kind}; {kind}s cannot be {role_plural}, canonicalize it first with `canon`"),
                        v.span,
                    )
                    .with_hint(format!("e.g. `(canon %init_peer_id% {text} {canon})`, then use `{canon}`")),
                );
            }
            Value::CanonMap { lens: None, .. } if ap => {
                self.reject(&v, role_plural, "`ap` needs a lens on a canon map, such as `#%m.$.key`");
            }
            _ => {}
        }
        v.value
    }

    fn ap_source(&mut self, v: SValue, role: &str) -> Value {
        self.argument(v, role, true)
    }

    fn scalar_name(&mut self, v: SValue, role: &str, hint: &str) -> Var {
        match v.value {
            Value::Scalar { var, lens: None } => var,
            _ => {
                self.reject(&v, role, hint);
                BAD_VAR
            }
        }
    }

    fn reject(&mut self, v: &SValue, role: &str, hint: impl Into<String>) {
        let text = self.text(v.span);
        let message = format!("`{text}` ({}) cannot be {role}", describe(&v.value));
        self.errors.push(ParseError::new(message, v.span).with_hint(hint));
    }

    fn text(&self, span: Span) -> String {
        shorten(self.source.get(span.range()).unwrap_or(""))
    }
}

/// What kind of value this is, for messages.
fn describe(v: &Value) -> &'static str {
    match v {
        Value::InitPeerId => "the initiator's peer id",
        Value::LastError(_) => "the last error",
        Value::Error(_) => "the current error",
        Value::Timestamp => "the particle timestamp",
        Value::Ttl => "the particle TTL",
        Value::String(_) => "a string",
        Value::Number(_) => "a number",
        Value::Bool(_) => "a boolean",
        Value::EmptyArray => "an empty array",
        Value::Scalar { lens: None, .. } => "a scalar",
        Value::Scalar { lens: Some(_), .. } => "a scalar with a lens",
        Value::CanonStream { lens: None, .. } => "a canon stream",
        Value::CanonStream { lens: Some(_), .. } => "a canon stream with a lens",
        Value::CanonMap { lens: None, .. } => "a canon map",
        Value::CanonMap { lens: Some(_), .. } => "a canon map with a lens",
        Value::Stream(_) => "a stream",
        Value::StreamMap(_) => "a stream map",
    }
}

/// Source text for a message, cut short if long.
fn shorten(text: &str) -> String {
    const MAX: usize = 40;
    match text.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}...", &text[..i]),
        None => text.to_string(),
    }
}

/// How many arguments an instruction takes, and what they are.
fn arity(kw: Keyword) -> (usize, usize, &'static str) {
    match kw {
        Keyword::Call => (3, 4, "a peer, a `(service function)` pair, an argument list `[...]` and an optional output"),
        Keyword::Ap => (2, 2, "a source and a destination"),
        Keyword::Canon => (3, 3, "a peer, a stream or stream map, and a destination"),
        Keyword::Seq | Keyword::Par | Keyword::Xor => (2, 2, "two instructions"),
        Keyword::Match | Keyword::Mismatch => (3, 3, "two values and an instruction"),
        Keyword::Fold => (3, 4, "an iterable, an iterator name, a body and an optional last instruction"),
        Keyword::Next => (1, 1, "an iterator name"),
        Keyword::New => (2, 2, "a variable and an instruction"),
        Keyword::Never | Keyword::Null => (0, 0, "no arguments"),
        Keyword::Fail => (1, 2, "an error code and a message, or an error value"),
    }
}

/// Whether operand `index` of `kw` is an instruction.
fn takes_instruction_at(kw: Keyword, index: usize) -> bool {
    match kw {
        Keyword::Seq | Keyword::Par | Keyword::Xor => index < 2,
        Keyword::Match | Keyword::Mismatch => index == 2,
        Keyword::Fold => index == 2 || index == 3,
        Keyword::New => index == 1,
        _ => false,
    }
}

const INSTRUCTION_LIST: &str =
    "the instructions are call, ap, canon, seq, par, xor, match, mismatch, fold, next, new, never, null and fail";

/// An open `(` or `[` before the error position.
#[derive(Debug)]
struct Frame {
    open: Span,
    bracket: bool,
    keyword: Option<Keyword>,
    operands: usize,
}

/// The open groups before byte `pos`, innermost last.
fn open_frames(source: &str, pos: usize) -> Vec<Frame> {
    let mut frames: Vec<Frame> = Vec::new();
    for (token, range) in lexer::coarse_tokens(source) {
        if range.start >= pos {
            break;
        }
        match token {
            Coarse::Open | Coarse::OpenBracket => frames.push(Frame {
                open: Span::new(range.start, range.end),
                bracket: token == Coarse::OpenBracket,
                keyword: None,
                operands: 0,
            }),
            Coarse::Close | Coarse::CloseBracket => {
                frames.pop();
                if let Some(top) = frames.last_mut() {
                    top.operands += 1;
                }
            }
            Coarse::Keyword(kw) => match frames.last_mut() {
                Some(top) if !top.bracket && top.keyword.is_none() && top.operands == 0 => top.keyword = Some(kw),
                Some(top) => top.operands += 1,
                None => {}
            },
            Coarse::Atom => {
                if let Some(top) = frames.last_mut() {
                    top.operands += 1;
                }
            }
        }
    }
    frames
}

/// Friendly names for lalrpop's expected terminals.
fn expected_text(expected: &[String]) -> String {
    let mut items: Vec<String> = Vec::new();
    let mut saw_keyword = false;
    for e in expected {
        let item = match e.as_str() {
            "Val" => "a value".to_string(),
            "\"(\"" => "`(`".to_string(),
            "\")\"" => "`)`".to_string(),
            "\"[\"" => "`[`".to_string(),
            "\"]\"" => "`]`".to_string(),
            other if Keyword::from_word(other.trim_matches('"')).is_some() => {
                saw_keyword = true;
                continue;
            }
            other => other.trim_matches('"').to_string(),
        };
        if !items.contains(&item) {
            items.push(item);
        }
    }
    // Words before punctuation: "a value, `[` or `]`".
    items.sort_by_key(|item| item.starts_with('`'));
    if saw_keyword {
        items.insert(0, "an instruction name".to_string());
    }
    match items.len() {
        0 => "nothing more".to_string(),
        1 => items.remove(0),
        n => format!("{} or {}", items[..n - 1].join(", "), items[n - 1]),
    }
}

fn found_text(source: &str, start: usize, token: &Token, end: usize) -> String {
    let text = shorten(source.get(start..end).unwrap_or(""));
    match token {
        Token::Kw(_) => format!("keyword `{text}`"),
        _ => format!("`{text}`"),
    }
}

fn suggest_keyword(word: &str) -> Option<Keyword> {
    let lower = word.to_lowercase();
    Keyword::ALL
        .into_iter()
        .map(|k| (strsim::levenshtein(&lower, k.as_str()), k))
        .filter(|&(d, k)| d <= 2 && d < k.as_str().len())
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

/// Turns a lalrpop syntax error into a message for people, using the open groups
/// before the error to say which instruction was being written.
fn syntax_error(source: &str, error: LalrpopError<u32, Token, ParseError>) -> ParseError {
    let error = error.map_location(|l| l as usize);
    match error {
        LalrpopError::UnrecognizedEof { location, .. } => {
            let frames = open_frames(source, location);
            match frames.last() {
                Some(frame) if frame.bracket => ParseError::new("unclosed `[`", frame.open).with_hint("close the list with `]`"),
                Some(frame) => {
                    let hint = match frame.keyword {
                        Some(kw) => {
                            let (min, _, what) = arity(kw);
                            if frame.operands < min {
                                format!("`{}` needs {what}, then `)`", kw.as_str())
                            } else {
                                format!("add `)` to close this `{}`", kw.as_str())
                            }
                        }
                        None => "add the missing `)`".to_string(),
                    };
                    ParseError::new("unclosed `(`", frame.open).with_hint(hint)
                }
                None => ParseError::new(
                    "expected an instruction such as `(seq ...)` or `(call ...)`, but the script is empty",
                    Span::new(location, location),
                ),
            }
        }
        LalrpopError::ExtraToken { token: (start, token, end) } => extra_token(source, start, token, end),
        LalrpopError::UnrecognizedToken { token: (start, token, end), expected } => {
            unrecognized_token(source, start, token, end, &expected)
        }
        LalrpopError::InvalidToken { location } => ParseError::new("invalid token", Span::new(location, location + 1)),
        LalrpopError::User { error } => error,
    }
}

/// A token after the complete script.
fn extra_token(source: &str, start: usize, token: Token, end: usize) -> ParseError {
    let span = Span::new(start, end);
    if token == Token::RParen {
        ParseError::new("unmatched `)`", span).with_hint("the script already ended; remove this `)`")
    } else {
        ParseError::new(format!("unexpected {} after the end of the script", found_text(source, start, &token, end)), span)
            .with_hint("a script is a single instruction; combine several with `(seq ...)` or `(par ...)`")
    }
}

fn unrecognized_token(source: &str, start: usize, token: Token, end: usize, expected: &[String]) -> ParseError {
    let span = Span::new(start, end);
    let found = found_text(source, start, &token, end);
    let frames = open_frames(source, start);
    let top = frames.last();
    if expected.is_empty() && frames.is_empty() {
        // The script is complete; lalrpop reports what follows it this way.
        return extra_token(source, start, token, end);
    }
    let expects = |t: &str| expected.iter().any(|e| e == t);
    let only_expects = |t: &str| expected.len() == 1 && expects(t);

    // Right after `(`: the instruction name.
    if let Some(frame) = top
        && !frame.bracket
        && frame.keyword.is_none()
        && frame.operands == 0
        && expects("\"seq\"")
    {
        if token == Token::RParen {
            return ParseError::new("empty instruction `()`", Span::new(frame.open.start as usize, end)).with_hint(INSTRUCTION_LIST);
        }
        if token == Token::Val(ValKind::Word)
            && let Ok(Value::Scalar { lens: None, .. }) = ValueReader::new(source).read(ValKind::Word, start, end)
        {
            let word = &source[start..end];
            let message = match suggest_keyword(word) {
                Some(k) => format!("unknown instruction `{word}`; did you mean `{}`?", k.as_str()),
                None => format!("unknown instruction `{word}`"),
            };
            return ParseError::new(message, span).with_hint(INSTRUCTION_LIST);
        }
        return ParseError::new(format!("expected an instruction name after `(`, found {found}"), span).with_hint(INSTRUCTION_LIST);
    }

    if token == Token::RParen {
        match top {
            None => return ParseError::new("unmatched `)`", span).with_hint("there is no `(` for it to close"),
            Some(frame) if frame.bracket => {
                return ParseError::new("unexpected `)`: the list opened by `[` is not closed", span)
                    .with_hint("close the list with `]` first");
            }
            Some(Frame { keyword: Some(kw), operands, .. }) => {
                let (min, max, what) = arity(*kw);
                if *operands < min {
                    let at_least = if min < max { "at least " } else { "" };
                    let plural = if min == 1 { "argument" } else { "arguments" };
                    return ParseError::new(
                        format!("unexpected `)`: `{}` needs {at_least}{min} {plural} ({what}), found {operands}", kw.as_str()),
                        span,
                    );
                }
            }
            Some(_) => {}
        }
    }

    if only_expects("\")\"")
        && let Some(Frame { keyword: Some(kw), operands, bracket: false, .. }) = top
    {
        let (_, max, what) = arity(*kw);
        if *operands >= max {
            let message = if max == 0 {
                format!("`{}` takes no arguments, found {found}", kw.as_str())
            } else if max > arity(*kw).0 {
                format!("`{}` takes at most {max} arguments ({what}); expected `)`, found {found}", kw.as_str())
            } else {
                format!("`{}` takes {max} arguments ({what}); expected `)`, found {found}", kw.as_str())
            };
            let mut err = ParseError::new(message, span);
            if matches!(kw, Keyword::Seq | Keyword::Par | Keyword::Xor) {
                err = err.with_hint(format!("nest them: `({0} a ({0} b c))`", kw.as_str()));
            }
            return err;
        }
    }

    // Inside `call`: the `(service function)` pair and the argument list.
    match top {
        Some(Frame { keyword: Some(Keyword::Call), operands: 1, .. }) => {
            return ParseError::new(format!("expected `(service function)` after the peer of `call`, found {found}"), span)
                .with_hint("e.g. `(call peer (\"service\" \"function\") [args] output)`");
        }
        Some(Frame { keyword: Some(Keyword::Call), operands: 2, .. }) => {
            return ParseError::new(format!("expected the argument list `[...]` of `call`, found {found}"), span)
                .with_hint("write `[]` when there are no arguments");
        }
        Some(Frame { keyword: None, bracket: false, operands, .. })
            if frames.len() >= 2 && matches!(frames[frames.len() - 2], Frame { keyword: Some(Keyword::Call), operands: 1, .. }) =>
        {
            if *operands >= 2 {
                return ParseError::new(format!("`(service function)` holds exactly two values; expected `)`, found {found}"), span);
            }
            if token == Token::RParen {
                return ParseError::new(format!("unexpected `)`: `(service function)` needs two values, found {operands}"), span)
                    .with_hint("give a service id and a function name, e.g. `(\"service\" \"function\")`");
            }
        }
        _ => {}
    }

    let instruction_slot = match top {
        None => true,
        Some(Frame { keyword: Some(kw), operands, bracket: false, .. }) => takes_instruction_at(*kw, *operands),
        Some(_) => false,
    };
    if instruction_slot && expects("\"(\"") {
        let mut err = ParseError::new(format!("expected an instruction such as `(seq ...)` or `(call ...)`, found {found}"), span);
        if let Token::Kw(kw) = token {
            err = err.with_hint(format!("instructions are wrapped in parentheses: `({} ...)`", kw.as_str()));
        }
        return err;
    }

    let mut err = ParseError::new(format!("unexpected {found}; expected {}", expected_text(expected)), span);
    if let Token::Kw(kw) = token {
        err = err.with_hint(format!("`{}` is an instruction name and cannot be used as a value or variable name", kw.as_str()));
    }
    err
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(source: &str) -> ParseError {
        parse_unvalidated(source).expect_err("should fail").first().clone()
    }

    fn errs(source: &str) -> Vec<ParseError> {
        parse_unvalidated(source).expect_err("should fail").into_vec()
    }

    #[test]
    fn suggest_keyword_works() {
        assert_eq!(suggest_keyword("sequ"), Some(Keyword::Seq));
        assert_eq!(suggest_keyword("SEQ"), Some(Keyword::Seq));
        assert_eq!(suggest_keyword("fodl"), Some(Keyword::Fold));
        // Distances count characters, not bytes (a Cyrillic `о` is one edit).
        assert_eq!(suggest_keyword("f\u{43e}ld"), Some(Keyword::Fold));
        assert_eq!(suggest_keyword("zzzzzz"), None);
    }

    #[test]
    fn empty_script() {
        let e = err("  ; nothing\n");
        assert_eq!(e.message, "expected an instruction such as `(seq ...)` or `(call ...)`, but the script is empty");
    }

    #[test]
    fn unknown_instruction() {
        let e = err("(sequ (null) (null))");
        assert_eq!(e.message, "unknown instruction `sequ`; did you mean `seq`?");
        assert_eq!(e.span, Span::new(1, 5));
        let e = err("(frobnicate)");
        assert_eq!(e.message, "unknown instruction `frobnicate`");
        let e = err("(\"x\")");
        assert_eq!(e.message, "expected an instruction name after `(`, found `\"x\"`");
        let e = err("()");
        assert_eq!(e.message, "empty instruction `()`");
        assert_eq!(e.span, Span::new(0, 2));
    }

    #[test]
    fn missing_arguments() {
        let e = err("(match x y)");
        assert_eq!(e.message, "unexpected `)`: `match` needs 3 arguments (two values and an instruction), found 2");
        assert_eq!(e.span, Span::new(10, 11));
        let e = err("(seq (null))");
        assert_eq!(e.message, "unexpected `)`: `seq` needs 2 arguments (two instructions), found 1");
        let e = err("(call %init_peer_id% (\"s\" \"f\"))");
        assert!(e.message.starts_with("unexpected `)`: `call` needs at least 3 arguments"), "{e}");
        let e = err("(next)");
        assert_eq!(e.message, "unexpected `)`: `next` needs 1 argument (an iterator name), found 0");
    }

    #[test]
    fn too_many_arguments() {
        let e = err("(seq (null) (null) (null))");
        assert_eq!(e.message, "`seq` takes 2 arguments (two instructions); expected `)`, found `(`");
        assert_eq!(e.span, Span::new(19, 20));
        assert!(e.hint.unwrap().contains("nest them"));
        let e = err("(null x)");
        assert_eq!(e.message, "`null` takes no arguments, found `x`");
    }

    #[test]
    fn unclosed_and_unmatched() {
        let e = err("(seq (null) (par (null) (never))");
        assert_eq!(e.message, "unclosed `(`");
        assert_eq!(e.span, Span::new(0, 1));
        let e = err("(seq\n  (null)\n  (seq (null)");
        assert_eq!(e.message, "unclosed `(`");
        assert_eq!(e.span, Span::new(16, 17));
        assert_eq!(e.hint.as_deref(), Some("`seq` needs two instructions, then `)`"));
        let e = err("(null))");
        assert_eq!(e.message, "unmatched `)`");
        assert_eq!(e.span, Span::new(6, 7));
        let e = err(")");
        assert_eq!(e.message, "unmatched `)`");
        let e = err("(call %init_peer_id% (\"s\" \"f\") [x");
        assert_eq!(e.message, "unclosed `[`");
        assert_eq!(e.span, Span::new(31, 32));
        let e = err("(null) (null)");
        assert_eq!(e.message, "unexpected `(` after the end of the script");
    }

    #[test]
    fn instruction_expected() {
        let e = err("(seq x (null))");
        assert_eq!(e.message, "expected an instruction such as `(seq ...)` or `(call ...)`, found `x`");
        assert_eq!(e.span, Span::new(5, 6));
        let e = err("(seq null (null))");
        assert_eq!(e.message, "expected an instruction such as `(seq ...)` or `(call ...)`, found keyword `null`");
        assert_eq!(e.hint.as_deref(), Some("instructions are wrapped in parentheses: `(null ...)`"));
        let e = err("x");
        assert!(e.message.starts_with("expected an instruction"), "{e}");
    }

    #[test]
    fn call_shape_errors() {
        let e = err(r#"(call "p" "s" "f" [] x)"#);
        assert_eq!(e.message, "expected `(service function)` after the peer of `call`, found `\"s\"`");
        assert_eq!(e.span, Span::new(10, 13));
        let e = err(r#"(call "p" ("s" "f") x)"#);
        assert_eq!(e.message, "expected the argument list `[...]` of `call`, found `x`");
        let e = err(r#"(call "p" ("s" "f" [] x)"#);
        assert_eq!(e.message, "`(service function)` holds exactly two values; expected `)`, found `[`");
        let e = err(r#"(call "p" ("s") [])"#);
        assert_eq!(e.message, "unexpected `)`: `(service function)` needs two values, found 1");
        let e = err("(fold [] i (null) (null) (null))");
        assert!(e.message.starts_with("`fold` takes at most 4 arguments"), "{e}");
        let e = err("(ap 1 x y)");
        assert_eq!(e.message, "`ap` takes 2 arguments (a source and a destination); expected `)`, found `y`");
    }

    #[test]
    fn keyword_as_value() {
        let e = err("(call %init_peer_id% (\"s\" \"f\") [seq])");
        assert_eq!(e.message, "unexpected keyword `seq`; expected a value, `[` or `]`");
    }

    #[test]
    fn streams_are_not_arguments() {
        let es = errs("(call %init_peer_id% (\"s\" \"f\") [$s %m] x)");
        assert_eq!(es.len(), 2);
        assert_eq!(es[0].message, "`$s` is a stream; streams cannot be call arguments, canonicalize it first with `canon`");
        assert_eq!(es[0].span, Span::new(32, 34));
        assert_eq!(es[1].message, "`%m` is a stream map; stream maps cannot be call arguments, canonicalize it first with `canon`");
        let e = err("(match $s 1 (null))");
        assert!(e.message.contains("streams cannot be `match` operands"), "{e}");
        let e = err("(ap $s x)");
        assert!(e.message.contains("cannot be the source of `ap`"), "{e}");
    }

    #[test]
    fn value_kind_errors() {
        let cases = [
            ("(call $s (\"s\" \"f\") [])", "`$s` (a stream) cannot be the peer of a `call`"),
            ("(call #c (\"s\" \"f\") [])", "`#c` (a canon stream) cannot be the peer of a `call`"),
            ("(call \"p\" (1 \"f\") [])", "`1` (a number) cannot be a service id"),
            ("(call \"p\" (\"s\" %init_peer_id%) [])", "`%init_peer_id%` (the initiator's peer id) cannot be a function name"),
            ("(call \"p\" (\"s\" \"f\") [] x.$.a)", "`x.$.a` (a scalar with a lens) cannot be the output of a `call`"),
            ("(call \"p\" (\"s\" \"f\") [] #c)", "`#c` (a canon stream) cannot be the output of a `call`"),
            ("(ap #%m x)", "`#%m` (a canon map) cannot be the source of `ap`"),
            ("(ap x #c)", "`#c` (a canon stream) cannot be the destination of `ap`"),
            ("(ap x %m)", "`%m` (a stream map) cannot be the destination of `(ap value ...)`"),
            ("(ap ($s 1) %m)", "`$s` (a stream) cannot be a stream map key"),
            ("(ap (1.5 1) %m)", "`1.5` (a number) cannot be a stream map key"),
            ("(ap (#c 1) %m)", "`#c` (a canon stream) cannot be a stream map key"),
            ("(ap (\"k\" 1) $s)", "`$s` (a stream) cannot be the destination of `(ap (key value) ...)`"),
            ("(canon \"p\" x #c)", "`x` (a scalar) cannot be the source of `canon`"),
            ("(canon \"p\" $s #%c)", "`#%c` (a canon map) cannot be the destination of `canon` over a stream"),
            ("(canon \"p\" %m #c)", "`#c` (a canon stream) cannot be the destination of `canon` over a stream map"),
            ("(canon %last_error% $s #c)", "`%last_error%` (the last error) cannot be the peer of `canon`"),
            ("(fold #c.$.[0] i (null))", "`#c.$.[0]` (a canon stream with a lens) cannot be a fold iterable"),
            ("(fold \"xs\" i (null))", "`\"xs\"` (a string) cannot be a fold iterable"),
            ("(fold xs $i (null))", "`$i` (a stream) cannot be a fold iterator"),
            ("(next i.$.a)", "`i.$.a` (a scalar with a lens) cannot be the argument of `next`"),
            ("(new 1 (null))", "`1` (a number) cannot be the argument of `new`"),
            ("(new #c.length (null))", "`#c.length` (a canon stream with a lens) cannot be the argument of `new`"),
            ("(fail \"oops\")", "`\"oops\"` (a string) cannot be the argument of `fail`"),
            ("(fail #c)", "`#c` (a canon stream) cannot be the argument of `fail`"),
            ("(fail %last_error%.$.message)", "`%last_error%.$.message` (the last error) cannot be the argument of `fail`"),
            ("(fail x \"m\")", "`x` (a scalar) cannot be an error code"),
            ("(fail 1 2)", "`2` (a number) cannot be an error message"),
        ];
        for (source, message) in cases {
            let e = err(source);
            assert_eq!(e.message, message, "for {source}");
            assert!(e.hint.is_some(), "for {source}");
        }
    }

    #[test]
    fn lexical_errors_are_all_reported() {
        let es = errs("(seq (call a@b (\"s\" \"f\") []) (call x (\"s\" \"f\") [1.23456789012]))");
        assert_eq!(es.len(), 2, "{es:?}");
        assert!(es[0].message.contains("`@` cannot appear in a name"));
        assert!(es[1].message.contains("longer than 11 characters"));
    }

    #[test]
    fn size_limit() {
        let big = format!("(null){}", " ".repeat(MAX_AIR_SIZE_BYTES));
        let e = err(&big);
        assert!(e.message.contains("more than the limit"), "{e}");
    }
}
