//! The one diagnostic type of the compiler, shared by every phase (lexer, layout,
//! parser, module resolution, checker), and its two renderings: text for a terminal
//! (codespan-reporting) and JSON for tools (`--format json`).
//!
//! A [`Diagnostic`] is data: a [`Severity`], a stable [`Code`], a message, labelled
//! [`Span`]s and an optional hint. Spans are byte offsets into a source registered in
//! a [`SourceMap`]. Nothing here panics on a bad span: offsets past the end of a text
//! are clamped to its end and offsets inside a multi-byte character are moved to a
//! character boundary, so a wrong span in a phase gives a wrong underline, never a
//! crash.
//!
//! # Codes
//!
//! Every kind of diagnostic has a [`Code`], shown as a short kebab-case name
//! (`error[unknown-name]: ...`, `"code": "unknown-name"` in JSON). The names are a
//! contract: tests and tools match on them, so a name never changes meaning and is
//! never reused. Names were chosen over numbers (`E0001`) because they read without a
//! table. Adding a code is one line in the `codes!` invocation below.

use std::fmt;
use std::ops::Range;

use codespan_reporting::diagnostic as cs;
use codespan_reporting::files::{self as cs_files, Files};
use codespan_reporting::term::{self, Config, termcolor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Value, json};

/// Which source a span points into; an index into a [`SourceMap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId(pub u32);

/// A byte range `start..end` in one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub source: SourceId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub const fn new(source: SourceId, start: u32, end: u32) -> Span {
        Span { source, start, end }
    }

    /// A span from a `usize` range (as lexers produce); offsets beyond `u32::MAX`
    /// saturate.
    pub fn from_range(source: SourceId, range: Range<usize>) -> Span {
        let cut = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Span { source, start: cut(range.start), end: cut(range.end) }
    }

    /// An empty span at `offset`, e.g. for "expected `)` here".
    pub const fn point(source: SourceId, offset: u32) -> Span {
        Span { source, start: offset, end: offset }
    }

    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    pub const fn len(self) -> u32 {
        self.end.saturating_sub(self.start)
    }

    pub const fn is_empty(self) -> bool {
        self.end <= self.start
    }

    /// The smallest span covering both (taken in `self`'s source).
    pub fn to(self, other: Span) -> Span {
        Span { source: self.source, start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

/// One source text with its line starts, computed once.
#[derive(Clone, Debug)]
struct Source {
    name: String,
    text: String,
    /// Byte offset of the start of every line; the first is 0.
    line_starts: Vec<usize>,
}

/// The sources diagnostics point into. Sources are added, never removed, so a
/// [`SourceId`] stays valid for the life of the map.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    sources: Vec<Source>,
}

/// The name reported for a [`SourceId`] that is not in the map.
const UNKNOWN_SOURCE: &str = "<unknown>";

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    /// Registers a source; `name` is what diagnostics show (usually a path).
    pub fn add(&mut self, name: String, text: String) -> SourceId {
        let id = SourceId(u32::try_from(self.sources.len()).unwrap_or(u32::MAX));
        let line_starts = cs_files::line_starts(&text).collect();
        self.sources.push(Source { name, text, line_starts });
        id
    }

    fn get(&self, id: SourceId) -> Option<&Source> {
        self.sources.get(id.0 as usize)
    }

    pub fn contains(&self, id: SourceId) -> bool {
        self.get(id).is_some()
    }

    /// The source's name, or `<unknown>` for an id not in this map.
    pub fn name(&self, id: SourceId) -> &str {
        self.get(id).map_or(UNKNOWN_SOURCE, |s| s.name.as_str())
    }

    /// The source's text, or `""` for an id not in this map.
    pub fn text(&self, id: SourceId) -> &str {
        self.get(id).map_or("", |s| s.text.as_str())
    }

    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Ids, names and texts in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (SourceId, &str, &str)> {
        self.sources.iter().enumerate().map(|(i, s)| (SourceId(i as u32), s.name.as_str(), s.text.as_str()))
    }

    /// 1-based line and column of a byte offset; the column counts characters. Any
    /// offset is accepted: it is clamped to the text and moved back to the start of
    /// the character it falls in. An unknown source gives `(1, 1)`.
    pub fn line_col(&self, id: SourceId, offset: u32) -> (u32, u32) {
        let Some(source) = self.get(id) else { return (1, 1) };
        let offset = floor_char_boundary(&source.text, offset as usize);
        let line = source.line_starts.partition_point(|&start| start <= offset).saturating_sub(1);
        let line_start = source.line_starts.get(line).copied().unwrap_or(0);
        let col = source.text.get(line_start..offset).map_or(0, |s| s.chars().count());
        (saturate(line + 1), saturate(col + 1))
    }

    /// The span with its offsets clamped to the text and to character boundaries:
    /// the start moves back and the end forward to the enclosing characters, and a
    /// reversed span is put in order. Spans into unknown sources become `0..0`.
    pub fn clamp(&self, span: Span) -> Span {
        let text = self.text(span.source);
        let (lo, hi) = if span.start <= span.end { (span.start, span.end) } else { (span.end, span.start) };
        let start = floor_char_boundary(text, lo as usize);
        let end = ceil_char_boundary(text, hi as usize).max(start);
        Span { source: span.source, start: saturate(start), end: saturate(end) }
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The largest character boundary `<= offset`, at most `text.len()`.
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut i = offset.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The smallest character boundary `>= offset`, at most `text.len()`.
fn ceil_char_boundary(text: &str, offset: usize) -> usize {
    let mut i = offset.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// How bad a diagnostic is. Any error fails the compilation; warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Declares [`Code`]: one line per code, `Variant = "stable-name" (DefaultSeverity)`.
macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal ($severity:ident), )*) => {
        /// The stable code of a kind of diagnostic; see the module documentation.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $( $(#[$doc])* $variant, )*
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable name, e.g. `unknown-name`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Code::$variant => $name, )*
                }
            }

            /// The severity this kind of diagnostic normally has (used by
            /// [`Diagnostic::new`]).
            pub const fn default_severity(self) -> Severity {
                match self {
                    $( Code::$variant => Severity::$severity, )*
                }
            }

            /// The code with this stable name.
            pub fn from_name(name: &str) -> Option<Code> {
                match name {
                    $( $name => Some(Code::$variant), )*
                    _ => None,
                }
            }
        }
    };
}

codes! {
    /// The source does not follow the grammar (lexer or parser).
    Syntax = "syntax" (Error),
    /// A line is indented where no block may start, or dedented to no open level.
    UnexpectedIndent = "unexpected-indent" (Error),
    /// The file does not start with its `aqua Name` header.
    MissingHeader = "missing-header" (Error),
    /// The header uses the old `module` keyword instead of `aqua`.
    DeprecatedModuleKeyword = "deprecated-module-keyword" (Warning),
    /// An `import`/`use` names a file that is not found in any import root.
    UnresolvedImport = "unresolved-import" (Error),
    /// Modules import each other in a cycle.
    ImportCycle = "import-cycle" (Error),
    /// A name is imported from a module that does not declare or export it.
    UndeclaredImport = "undeclared-import" (Error),
    /// A value (variable, argument, constant) is not defined.
    UnknownName = "unknown-name" (Error),
    /// A type is not defined.
    UnknownType = "unknown-type" (Error),
    /// A structure or ability has no field of that name.
    UnknownField = "unknown-field" (Error),
    /// A function or service function is not defined.
    UnknownFunction = "unknown-function" (Error),
    /// A value's type does not fit where it is used.
    TypeMismatch = "type-mismatch" (Error),
    /// A call has the wrong number of arguments.
    ArgumentCount = "argument-count" (Error),
    /// A name is defined twice in the same scope.
    Redefinition = "redefinition" (Error),
    /// A function calls itself, directly or through others.
    Recursion = "recursion" (Error),
    /// What a function returns does not match its declared result.
    ReturnMismatch = "return-mismatch" (Error),
    /// A function that declares a result does not return one.
    MissingReturn = "missing-return" (Error),
    /// An exported function or service uses a type that cannot cross the boundary.
    NotExportable = "not-exportable" (Error),
    /// A service has no id where it is called.
    UnresolvedService = "unresolved-service" (Error),
    /// A constant is not a literal, or a `--const` value does not fit its constant.
    InvalidConstant = "invalid-constant" (Error),
    /// `[]` is assigned where its element type cannot be known.
    EmptyArrayAssignment = "empty-array-assignment" (Error),
    /// A call's result is computed and never used.
    ResultIgnored = "result-ignored" (Warning),
    /// A result's type cannot be determined, so it is not checked.
    UnknownResultType = "unknown-result-type" (Warning),
    /// An index into a collection is not a number or is out of range.
    InvalidIndex = "invalid-index" (Error),
    /// The program exceeds a compiler limit (size, nesting, count).
    Limit = "limit" (Error),
    /// A declaration the language does not allow (a stream in a data type, a service
    /// function with several results, ...).
    InvalidDeclaration = "invalid-declaration" (Error),
    /// A statement in a place or form the language does not allow (a return that is
    /// not last, a push to something that is not a stream, ...).
    InvalidStatement = "invalid-statement" (Error),
    /// The program checks, but lowering it to AIR is not built for a construct it uses.
    Unsupported = "unsupported" (Error),
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Code {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Code, D::Error> {
        let name = String::deserialize(deserializer)?;
        Code::from_name(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown diagnostic code `{name}`")))
    }
}

/// A span with a message. The primary label says where the problem is; secondary
/// labels point at related places ("first defined here").
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label {
    pub span: Span,
    pub message: String,
    pub primary: bool,
}

/// One problem found in the sources.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    pub labels: Vec<Label>,
    pub hint: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity.
    pub fn new(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: code.default_severity(), code, message: message.into(), labels: Vec::new(), hint: None }
    }

    pub fn error(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Error, ..Diagnostic::new(code, message) }
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic { severity: Severity::Warning, ..Diagnostic::new(code, message) }
    }

    #[must_use]
    pub fn with_primary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: message.into(), primary: true });
        self
    }

    #[must_use]
    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { span, message: message.into(), primary: false });
        self
    }

    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// Where the diagnostic is: its first primary label, else its first label.
    pub fn primary_span(&self) -> Option<Span> {
        self.labels.iter().find(|l| l.primary).or_else(|| self.labels.first()).map(|l| l.span)
    }

    /// The total order used by [`Diagnostics::sort`]: position (source, start),
    /// severity (errors first), then everything else so that the order never depends
    /// on the order diagnostics were pushed.
    fn sort_key(&self) -> impl Ord + '_ {
        let span = self.primary_span();
        (span.map(|s| (s.source, s.start)), self.severity, span.map(|s| s.end), self.code.as_str(), &self.message, &self.labels, &self.hint)
    }
}

/// `error[code]: message`, without source excerpts.
impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]: {}", self.severity, self.code, self.message)
    }
}

/// The diagnostics of a compilation, in the order they were found until sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics::default()
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.0.push(diagnostic);
    }

    /// Drops the diagnostics after the first `len` (to take back a tentative check).
    pub fn truncate(&mut self, len: usize) {
        self.0.truncate(len);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.0.len() - self.error_count()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    pub fn as_slice(&self) -> &[Diagnostic] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.0
    }

    /// Puts the diagnostics in their output order, by source, start offset and
    /// severity (errors first, ties broken by the rest of the diagnostic), and
    /// removes identical duplicates. The result depends only on the set of
    /// diagnostics, not on the order they were pushed.
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        self.0.dedup();
    }
}

impl From<Vec<Diagnostic>> for Diagnostics {
    fn from(v: Vec<Diagnostic>) -> Diagnostics {
        Diagnostics(v)
    }
}

impl FromIterator<Diagnostic> for Diagnostics {
    fn from_iter<I: IntoIterator<Item = Diagnostic>>(iter: I) -> Diagnostics {
        Diagnostics(iter.into_iter().collect())
    }
}

impl Extend<Diagnostic> for Diagnostics {
    fn extend<I: IntoIterator<Item = Diagnostic>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl std::ops::Deref for Diagnostics {
    type Target = [Diagnostic];
    fn deref(&self) -> &[Diagnostic] {
        &self.0
    }
}

// ---------------------------------------------------------------------------------
// Terminal rendering.

/// codespan-reporting's view of a [`SourceMap`]; file ids are `SourceId.0`.
impl<'a> Files<'a> for SourceMap {
    type FileId = u32;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: u32) -> Result<&'a str, cs_files::Error> {
        self.get(SourceId(id)).map(|s| s.name.as_str()).ok_or(cs_files::Error::FileMissing)
    }

    fn source(&'a self, id: u32) -> Result<&'a str, cs_files::Error> {
        self.get(SourceId(id)).map(|s| s.text.as_str()).ok_or(cs_files::Error::FileMissing)
    }

    fn line_index(&'a self, id: u32, byte_index: usize) -> Result<usize, cs_files::Error> {
        let source = self.get(SourceId(id)).ok_or(cs_files::Error::FileMissing)?;
        Ok(source.line_starts.partition_point(|&start| start <= byte_index).saturating_sub(1))
    }

    fn line_range(&'a self, id: u32, line_index: usize) -> Result<Range<usize>, cs_files::Error> {
        let source = self.get(SourceId(id)).ok_or(cs_files::Error::FileMissing)?;
        let line_start = |i: usize| match i.cmp(&source.line_starts.len()) {
            std::cmp::Ordering::Less => Ok(source.line_starts[i]),
            std::cmp::Ordering::Equal => Ok(source.text.len()),
            std::cmp::Ordering::Greater => Err(cs_files::Error::LineTooLarge { given: i, max: source.line_starts.len().saturating_sub(1) }),
        };
        Ok(line_start(line_index)?..line_start(line_index + 1)?)
    }
}

/// The codespan diagnostic for one of ours, with spans clamped and labels into
/// unknown sources dropped.
fn to_codespan(d: &Diagnostic, sources: &SourceMap) -> cs::Diagnostic<u32> {
    let severity = match d.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    };
    let labels = d
        .labels
        .iter()
        .filter(|l| sources.contains(l.span.source))
        .map(|l| {
            let span = sources.clamp(l.span);
            let style = if l.primary { cs::LabelStyle::Primary } else { cs::LabelStyle::Secondary };
            cs::Label::new(style, span.source.0, span.range()).with_message(&l.message)
        })
        .collect();
    let notes = d.hint.iter().map(|h| format!("hint: {h}")).collect();
    cs::Diagnostic::new(severity).with_code(d.code.as_str()).with_message(&d.message).with_labels(labels).with_notes(notes)
}

/// Renders diagnostics for a terminal: header `error[code]: message`, source
/// excerpts with underlined labels, and `= hint: ...`. With `color`, the text
/// carries ANSI escapes (codespan's default styles). Never panics; a diagnostic
/// codespan cannot render is printed as its one-line [`Display`](fmt::Display) form.
pub fn render(diags: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let config = Config::default();
    let mut out = String::new();
    for d in diags {
        let cs_diag = to_codespan(d, sources);
        let rendered = if color {
            let mut ansi = termcolor::Ansi::new(Vec::new());
            term::emit_to_write_style(&mut ansi, &config, sources, &cs_diag).ok().and_then(|()| String::from_utf8(ansi.into_inner()).ok())
        } else {
            let mut buf = String::new();
            term::emit_to_string(&mut buf, &config, sources, &cs_diag).ok().map(|()| buf)
        };
        match rendered {
            Some(text) => out.push_str(&text),
            None => {
                out.push_str(&d.to_string());
                out.push('\n');
                if let Some(hint) = &d.hint {
                    out.push_str(&format!("  = hint: {hint}\n"));
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// JSON.

fn position_json(sources: &SourceMap, source: SourceId, offset: u32) -> Value {
    let (line, col) = sources.line_col(source, offset);
    json!({ "line": line, "col": col, "offset": offset })
}

/// Diagnostics as JSON for `--format json`: an array of
/// `{severity, code, message, file, start, end, labels, hint}` where `file`, `start`
/// and `end` are those of the primary span (`null` without labels), positions are
/// `{line, col, offset}` (1-based line and character column, byte offset, clamped as
/// in [`SourceMap::clamp`]), each label is `{file, start, end, message, primary}` and
/// `hint` is a string or `null`. Keys are always present and in this order.
pub fn to_json(diags: &[Diagnostic], sources: &SourceMap) -> Value {
    let span_json = |span: Option<Span>| match span {
        Some(span) => {
            let span = sources.clamp(span);
            (
                Value::from(sources.name(span.source)),
                position_json(sources, span.source, span.start),
                position_json(sources, span.source, span.end),
            )
        }
        None => (Value::Null, Value::Null, Value::Null),
    };
    let items = diags
        .iter()
        .map(|d| {
            let (file, start, end) = span_json(d.primary_span());
            let labels: Vec<Value> = d
                .labels
                .iter()
                .map(|l| {
                    let (file, start, end) = span_json(Some(l.span));
                    json!({ "file": file, "start": start, "end": end, "message": l.message, "primary": l.primary })
                })
                .collect();
            json!({
                "severity": d.severity.as_str(),
                "code": d.code.as_str(),
                "message": d.message,
                "file": file,
                "start": start,
                "end": end,
                "labels": labels,
                "hint": d.hint,
            })
        })
        .collect();
    Value::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_source(text: &str) -> (SourceMap, SourceId) {
        let mut map = SourceMap::new();
        let id = map.add("main.aqua".into(), text.into());
        (map, id)
    }

    const TEXT: &str = "aqua Main\n\nfunc greet(name: string) -> string:\n    <- nmae\n";

    fn two_label_error(id: SourceId) -> Diagnostic {
        let usage = TEXT.find("nmae").unwrap() as u32;
        let decl = TEXT.find("name").unwrap() as u32;
        Diagnostic::error(Code::UnknownName, "unknown name `nmae`")
            .with_primary(Span::new(id, usage, usage + 4), "not defined")
            .with_secondary(Span::new(id, decl, decl + 4), "a similar name is defined here")
            .with_hint("did you mean `name`?")
    }

    #[test]
    fn renders_excerpt_labels_and_hint() {
        let (map, id) = one_source(TEXT);
        let text = render(&[two_label_error(id)], &map, false);
        assert!(text.contains("error[unknown-name]: unknown name `nmae`"), "{text}");
        assert!(text.contains("main.aqua:4:8"), "{text}");
        assert!(text.contains("<- nmae"), "{text}");
        assert!(text.contains("func greet(name: string) -> string:"), "{text}");
        assert!(text.contains("^^^^ not defined"), "{text}");
        assert!(text.contains("---- a similar name is defined here"), "{text}");
        assert!(text.contains("= hint: did you mean `name`?"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");

        let colored = render(&[two_label_error(id)], &map, true);
        assert!(colored.contains('\u{1b}'), "{colored}");
        assert!(colored.contains("unknown-name"), "{colored}");
    }

    #[test]
    fn renders_warning_and_diagnostic_without_labels() {
        let (map, _) = one_source(TEXT);
        let diags = [
            Diagnostic::new(Code::Limit, "the program has more than 65536 functions"),
            Diagnostic::new(Code::ResultIgnored, "result ignored"),
        ];
        let text = render(&diags, &map, false);
        assert!(text.contains("error[limit]: the program has more than 65536 functions"), "{text}");
        assert!(text.contains("warning[result-ignored]: result ignored"), "{text}");
    }

    #[test]
    fn json_shape() {
        let (map, id) = one_source(TEXT);
        let value = to_json(&[two_label_error(id)], &map);
        let expected = json!([{
            "severity": "error",
            "code": "unknown-name",
            "message": "unknown name `nmae`",
            "file": "main.aqua",
            "start": {"line": 4, "col": 8, "offset": 54},
            "end": {"line": 4, "col": 12, "offset": 58},
            "labels": [
                {
                    "file": "main.aqua",
                    "start": {"line": 4, "col": 8, "offset": 54},
                    "end": {"line": 4, "col": 12, "offset": 58},
                    "message": "not defined",
                    "primary": true
                },
                {
                    "file": "main.aqua",
                    "start": {"line": 3, "col": 12, "offset": 22},
                    "end": {"line": 3, "col": 16, "offset": 26},
                    "message": "a similar name is defined here",
                    "primary": false
                }
            ],
            "hint": "did you mean `name`?"
        }]);
        assert_eq!(value, expected);
        // Key order is part of the contract.
        let keys: Vec<&str> = value[0].as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["severity", "code", "message", "file", "start", "end", "labels", "hint"]);

        let bare = to_json(&[Diagnostic::warning(Code::ResultIgnored, "x")], &map);
        assert_eq!(bare[0]["file"], Value::Null);
        assert_eq!(bare[0]["start"], Value::Null);
        assert_eq!(bare[0]["hint"], Value::Null);
        assert_eq!(bare[0]["labels"], json!([]));
    }

    #[test]
    fn line_col_on_multibyte_text() {
        // "é" is 2 bytes, "日" 3 bytes, "🦀" 4 bytes.
        let (map, id) = one_source("é日\n🦀x\n");
        assert_eq!(map.line_col(id, 0), (1, 1));
        assert_eq!(map.line_col(id, 2), (1, 2));
        assert_eq!(map.line_col(id, 5), (1, 3)); // the newline
        assert_eq!(map.line_col(id, 6), (2, 1));
        assert_eq!(map.line_col(id, 10), (2, 2));
        assert_eq!(map.line_col(id, 12), (3, 1)); // end of text
        // Inside a character: the character's start.
        assert_eq!(map.line_col(id, 1), (1, 1));
        assert_eq!(map.line_col(id, 4), (1, 2));
        assert_eq!(map.line_col(id, 8), (2, 1));
        // Past the end, and unknown sources.
        assert_eq!(map.line_col(id, 1000), (3, 1));
        assert_eq!(map.line_col(id, u32::MAX), (3, 1));
        assert_eq!(map.line_col(SourceId(7), 3), (1, 1));
        assert_eq!(map.name(SourceId(7)), "<unknown>");
        assert_eq!(map.text(SourceId(7)), "");
    }

    #[test]
    fn clamp_moves_to_char_boundaries() {
        let (map, id) = one_source("é日\n");
        assert_eq!(map.clamp(Span::new(id, 1, 4)), Span::new(id, 0, 5));
        assert_eq!(map.clamp(Span::new(id, 4, 1)), Span::new(id, 0, 5));
        assert_eq!(map.clamp(Span::new(id, 90, 100)), Span::new(id, 6, 6));
        assert_eq!(map.clamp(Span::new(SourceId(3), 5, 9)), Span::new(SourceId(3), 0, 0));
    }

    #[test]
    fn bad_spans_never_panic() {
        let texts = ["", "x", "é日\n🦀x\n", "a\n\nb", "\n\n\n", "no newline at end 🦀"];
        for text in texts {
            let (map, id) = one_source(text);
            let len = text.len() as u32;
            let offsets = (0..len + 3).chain([u32::MAX - 1, u32::MAX]);
            for start in offsets.clone() {
                for end in offsets.clone() {
                    let d = Diagnostic::error(Code::Syntax, "bad")
                        .with_primary(Span::new(id, start, end), "here")
                        .with_secondary(Span::new(id, end, start), "and here")
                        .with_secondary(Span::new(SourceId(9), start, end), "nowhere")
                        .with_hint("h");
                    let text = render(std::slice::from_ref(&d), &map, false);
                    assert!(text.contains("error[syntax]: bad"), "{text}");
                    let _ = render(std::slice::from_ref(&d), &map, true);
                    let json = to_json(&[d], &map);
                    assert_eq!(json[0]["labels"][2]["file"], "<unknown>");
                }
            }
        }
    }

    #[test]
    fn sort_orders_and_dedups() {
        let mut map = SourceMap::new();
        let a = map.add("a.aqua".into(), "x".repeat(100));
        let b = map.add("b.aqua".into(), "y".repeat(100));
        let at = |src, start| Span::new(src, start, start + 1);
        let d1 = Diagnostic::error(Code::UnknownName, "b at 5").with_primary(at(b, 5), "");
        let d2 = Diagnostic::warning(Code::ResultIgnored, "a at 10 warning").with_primary(at(a, 10), "");
        let d3 = Diagnostic::error(Code::TypeMismatch, "a at 10 error").with_primary(at(a, 10), "");
        let d4 = Diagnostic::error(Code::Syntax, "a at 2").with_primary(at(a, 2), "");
        let d5 = Diagnostic::error(Code::Limit, "no span");
        // The secondary label comes first but the primary one decides the position.
        let d6 = Diagnostic::error(Code::Redefinition, "a at 50").with_secondary(at(a, 1), "").with_primary(at(a, 50), "");

        let mut diags: Diagnostics = [&d1, &d2, &d3, &d1, &d4, &d5, &d6, &d3, &d2].into_iter().cloned().collect();
        assert_eq!(diags.len(), 9);
        assert!(diags.has_errors());
        diags.sort();
        let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(messages, ["no span", "a at 2", "a at 10 error", "a at 10 warning", "a at 50", "b at 5"]);
        assert_eq!(diags.error_count(), 5);
        assert_eq!(diags.warning_count(), 1);

        // Same set pushed in another order: same result.
        let mut reversed: Diagnostics = diags.iter().rev().cloned().collect();
        reversed.sort();
        assert_eq!(reversed, diags);

        let mut warnings = Diagnostics::new();
        warnings.push(d2.clone());
        assert!(!warnings.has_errors());
    }

    #[test]
    fn codes_are_stable_names() {
        assert_eq!(Code::UnknownName.to_string(), "unknown-name");
        assert_eq!(Code::ResultIgnored.default_severity(), Severity::Warning);
        assert_eq!(Code::UnknownResultType.default_severity(), Severity::Warning);
        assert_eq!(Code::Syntax.default_severity(), Severity::Error);
        assert_eq!(serde_json::to_value(Code::ImportCycle).unwrap(), json!("import-cycle"));
        assert_eq!(serde_json::from_value::<Code>(json!("limit")).unwrap(), Code::Limit);
        assert!(serde_json::from_value::<Code>(json!("nope")).is_err());
        let mut names = std::collections::BTreeSet::new();
        for &code in Code::ALL {
            let name = code.as_str();
            assert!(names.insert(name), "duplicate code name {name}");
            assert!(name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{name}");
            assert_eq!(Code::from_name(name), Some(code));
        }
    }
}
