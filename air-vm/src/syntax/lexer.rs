//! The AIR lexer.
//!
//! A small logos DFA splits the source into parentheses, brackets, string literals and
//! "words" (maximal runs of other characters, like AquaVM's lexer); words that are
//! instruction names become keywords. The parser reads every other word and literal
//! with a [`ValueReader`], which classifies it by hand into a number, a special value or
//! a variable with an optional lens (giving precise, friendly error messages) and
//! interns variable names as spans of the source.

use logos::Logos;

use super::ast::{Accessor, Lens, LensKind, Number, Span, Value, Var, VarId, VarKind};
use super::error::ParseError;

/// AquaVM rejects float literals longer than this, so that every peer reads them alike.
const MAX_FLOAT_LITERAL_LEN: usize = 11;

/// The raw tokens found by logos; private to the syntax module.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
// Whitespace is Unicode's (`\s`). Runs of ASCII whitespace are skipped by one loop and
// any other whitespace character on its own: the automaton logos makes for `\s+` spends
// a sixth more instructions on the common case.
#[logos(skip r"[ \t\n\r\x0B\x0C]+")]
#[logos(skip r"[\s&&[^ \t\n\r\x0B\x0C]]")]
// A comment runs to the end of the line, so reading to the newline is intended.
#[logos(skip(r";[^\n]*", allow_greedy = true))]
enum Raw {
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    /// A string literal (AIR strings have no escapes). An opening quote without a closing
    /// one matches nothing, so it is the only lexical error. (A callback finding the quote
    /// with `memchr` is faster on literals of kilobytes, but costs a sixth of the lexing
    /// time of scripts whose literals are short, which is what scripts hold.)
    #[regex(r#""[^"]*""#)]
    Str,
    /// Anything else up to a delimiter. `[...]` groups are included so that lenses such as
    /// `x.$.[0]` stay one word (the callback takes them); the closing `]` is optional so
    /// that a missing one is reported inside the lens rather than as a stray bracket.
    #[regex(r#"[^\s()\[\]";]+"#, word_end)]
    Word,
}

/// Extends a word over the `[...]` groups that follow it, giving the pattern
/// `[^delimiters]+ ( \[ [^delimiters]* \]? [^delimiters]* )*` (as one regex it made
/// the lexer slower).
fn word_end(lex: &mut logos::Lexer<'_, Raw>) {
    let rest = lex.remainder();
    let mut end = 0;
    while rest[end..].starts_with('[') {
        end = word_run(rest, end + 1);
        if rest[end..].starts_with(']') {
            end = word_run(rest, end + 1);
        }
    }
    lex.bump(end);
}

/// The end of the run of non-delimiters in `text` from `from`.
fn word_run(text: &str, from: usize) -> usize {
    text[from..]
        .char_indices()
        .find(|&(_, c)| c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"' | ';'))
        .map_or(text.len(), |(n, _)| from + n)
}

/// Instruction names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Keyword {
    Call,
    Ap,
    Canon,
    Seq,
    Par,
    Xor,
    Match,
    Mismatch,
    Fold,
    Next,
    New,
    Never,
    Null,
    Fail,
}

impl Keyword {
    /// Every instruction name, for "did you mean" suggestions.
    pub(crate) const ALL: [Keyword; 14] = [
        Keyword::Call,
        Keyword::Ap,
        Keyword::Canon,
        Keyword::Seq,
        Keyword::Par,
        Keyword::Xor,
        Keyword::Match,
        Keyword::Mismatch,
        Keyword::Fold,
        Keyword::Next,
        Keyword::New,
        Keyword::Never,
        Keyword::Null,
        Keyword::Fail,
    ];

    /// The keyword as written in AIR.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Keyword::Call => "call",
            Keyword::Ap => "ap",
            Keyword::Canon => "canon",
            Keyword::Seq => "seq",
            Keyword::Par => "par",
            Keyword::Xor => "xor",
            Keyword::Match => "match",
            Keyword::Mismatch => "mismatch",
            Keyword::Fold => "fold",
            Keyword::Next => "next",
            Keyword::New => "new",
            Keyword::Never => "never",
            Keyword::Null => "null",
            Keyword::Fail => "fail",
        }
    }

    /// The keyword spelled `word`, if any.
    pub(crate) fn from_word(word: &str) -> Option<Keyword> {
        Some(match word {
            "call" => Keyword::Call,
            "ap" => Keyword::Ap,
            "canon" => Keyword::Canon,
            "seq" => Keyword::Seq,
            "par" => Keyword::Par,
            "xor" => Keyword::Xor,
            "match" => Keyword::Match,
            "mismatch" => Keyword::Mismatch,
            "fold" => Keyword::Fold,
            "next" => Keyword::Next,
            "new" => Keyword::New,
            "never" => Keyword::Never,
            "null" => Keyword::Null,
            "fail" => Keyword::Fail,
            _ => return None,
        })
    }
}

/// A token as the parser sees it. A value token carries no payload: the parser reads
/// the word or literal at the token's span (with [`ValueReader`]), which keeps tokens
/// and the parser's stack entries small.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Kw(Keyword),
    /// A single-token value: a string literal, or any word that is not a keyword.
    Val(ValKind),
}

/// Which kind of single-token value a [`Token::Val`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ValKind {
    /// A literal, number, boolean, special value or variable, lens included.
    Word,
    /// A string literal, quotes included.
    Str,
}

/// A token with its byte range, as lalrpop expects it. Offsets are 32-bit (scripts are
/// limited far below 4 GiB), which halves the parser's stack entries.
pub(crate) type Spanned = (u32, Token, u32);

/// The AIR lexer: an iterator of spanned tokens, stopping after the first error (an
/// unterminated string, the only error found at this level).
#[derive(Debug)]
pub(crate) struct Lexer<'a> {
    raw: logos::Lexer<'a, Raw>,
    failed: bool,
}

impl<'a> Lexer<'a> {
    pub(crate) fn new(source: &'a str) -> Self {
        Lexer { raw: Raw::lexer(source), failed: false }
    }
}

impl Iterator for Lexer<'_> {
    type Item = Result<Spanned, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let raw = self.raw.next()?;
        let range = self.raw.span();
        let token = match raw {
            Ok(Raw::LParen) => Token::LParen,
            Ok(Raw::RParen) => Token::RParen,
            Ok(Raw::LBracket) => Token::LBracket,
            Ok(Raw::RBracket) => Token::RBracket,
            Ok(Raw::Str) => Token::Val(ValKind::Str),
            Ok(Raw::Word) => Keyword::from_word(self.raw.slice()).map_or(Token::Val(ValKind::Word), Token::Kw),
            Err(()) => {
                self.failed = true;
                return Some(Err(unterminated_string(range.start)));
            }
        };
        let span = Span::new(range.start, range.end);
        Some(Ok((span.start, token, span.end)))
    }
}

fn unterminated_string(start: usize) -> ParseError {
    ParseError::new("unterminated string: no closing `\"`", Span::new(start, start + 1))
        .with_hint("AIR strings have no escapes and end at the next `\"`")
}

/// Interns texts of the source in order of first appearance, keeping the span of the
/// first occurrence (the text itself stays in the source).
#[derive(Debug, Default)]
struct Interner<'a> {
    ids: rustc_hash::FxHashMap<&'a str, u32>,
    spans: Vec<Span>,
}

impl<'a> Interner<'a> {
    fn intern(&mut self, text: &'a str, start: usize) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = u32::try_from(self.spans.len()).expect("interned texts are bounded by the script size");
        self.ids.insert(text, id);
        self.spans.push(Span::new(start, start + text.len()));
        id
    }
}

/// Reads what a value token means: classifies a word into a number, a special value or
/// a variable with an optional lens, and interns variable names. Doing this by hand
/// gives precise, friendly error messages.
#[derive(Debug)]
pub(crate) struct ValueReader<'a> {
    source: &'a str,
    /// Variable names, sigil included, by [`VarId`].
    names: Interner<'a>,
}

impl<'a> ValueReader<'a> {
    pub(crate) fn new(source: &'a str) -> Self {
        ValueReader { source, names: Interner::default() }
    }

    /// The spans of the interned names, by [`VarId`].
    pub(crate) fn into_names(self) -> Vec<Span> {
        self.names.spans
    }

    /// The value of the token of `kind` at `start..end`.
    pub(crate) fn read(&mut self, kind: ValKind, start: usize, end: usize) -> Result<Value, ParseError> {
        match kind {
            ValKind::Str => Ok(Self::string(start, end)),
            ValKind::Word => self.word(&self.source[start..end], start),
        }
    }

    /// The string literal at `start..end`, quotes included.
    pub(crate) fn string(start: usize, end: usize) -> Value {
        Value::String(Span::new(start + 1, end - 1))
    }

    /// The value of a word that is not a keyword.
    fn word(&mut self, word: &'a str, start: usize) -> Result<Value, ParseError> {
        let span = Span::new(start, start + word.len());
        Ok(match word {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "%init_peer_id%" => Value::InitPeerId,
            "%timestamp%" => Value::Timestamp,
            "%ttl%" => Value::Ttl,
            _ => {
                if let Some(rest) = word.strip_prefix("%last_error%") {
                    Value::LastError(self.optional_lens(rest, start + word.len() - rest.len())?)
                } else if let Some(rest) = word.strip_prefix(":error:") {
                    Value::Error(self.optional_lens(rest, start + word.len() - rest.len())?)
                } else if starts_like_number(word) {
                    Value::Number(number(word, span)?)
                } else {
                    self.variable(word, start)?
                }
            }
        })
    }

    fn variable(&mut self, word: &'a str, start: usize) -> Result<Value, ParseError> {
        let (kind, sigil_len) = if word.starts_with("#$") {
            (VarKind::CanonStream, 2)
        } else if word.starts_with("#%") {
            (VarKind::CanonMap, 2)
        } else if word.starts_with('#') {
            (VarKind::CanonStream, 1)
        } else if word.starts_with('$') {
            (VarKind::Stream, 1)
        } else if word.starts_with('%') {
            (VarKind::StreamMap, 1)
        } else {
            (VarKind::Scalar, 0)
        };
        let whole = Span::new(start, start + word.len());
        if word.len() > 2 && (word.starts_with('%') && word.ends_with('%') || word.starts_with(':')) {
            return Err(ParseError::new(format!("unknown special value `{word}`"), whole)
                .with_hint("the special values are %init_peer_id%, %last_error%, :error:, %timestamp% and %ttl%"));
        }
        let rest = &word[sigil_len..];
        let name_len = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
        let name_end = sigil_len + name_len;
        if name_len == 0 {
            let (msg, at) = match rest.chars().next() {
                None => (format!("`{word}` needs a name after the sigil"), whole),
                Some(c) => (invalid_char_message(c, word), char_span(start + sigil_len, c)),
            };
            return Err(ParseError::new(msg, at).with_hint("names are made of letters, digits, `_` and `-`, e.g. `$results` or `-relay-`"));
        }
        let after = &word[name_end..];
        if let Some(c) = after.chars().next()
            && c != '.'
        {
            return Err(ParseError::new(invalid_char_message(c, word), char_span(start + name_end, c))
                .with_hint("names are made of letters, digits, `_` and `-`; a lens starts with `.$` or is `.length`"));
        }
        let name = &word[..name_end];
        let var = Var { id: VarId(self.names.intern(name, start)), kind, span: Span::new(start, start + name_end) };
        let lens = self.optional_lens(after, start + name_end)?;
        Ok(match kind {
            VarKind::Scalar => Value::Scalar { var, lens },
            VarKind::CanonStream => Value::CanonStream { var, lens },
            VarKind::CanonMap => Value::CanonMap { var, lens },
            VarKind::Stream | VarKind::StreamMap => {
                if let Some(lens) = lens {
                    return Err(ParseError::new(format!("`{name}` is a {kind}; lenses cannot be applied to a {kind}"), lens.span)
                        .with_hint(format!(
                            "canonicalize it first, e.g. `(canon peer {name} #canon)`, then use `#canon{}`",
                            &word[name_end..]
                        )));
                }
                if kind == VarKind::Stream { Value::Stream(var) } else { Value::StreamMap(var) }
            }
        })
    }

    fn optional_lens(&mut self, text: &'a str, start: usize) -> Result<Option<Box<Lens>>, ParseError> {
        if text.is_empty() { Ok(None) } else { self.lens(text, start).map(|l| Some(Box::new(l))) }
    }

    /// Parses a lens: `.length`, or `.$` followed by accessors and an optional `!`.
    fn lens(&mut self, text: &'a str, start: usize) -> Result<Lens, ParseError> {
        let span = Span::new(start, start + text.len());
        let hint = "a lens is `.length`, or `.$` followed by accessors such as `.field`, `.[0]` or `.[x]`";
        if text == ".length" {
            return Ok(Lens { kind: LensKind::Length, span });
        }
        let Some(body) = text.strip_prefix(".$") else {
            return Err(ParseError::new(format!("invalid lens `{text}`"), span).with_hint(hint));
        };
        let mut accessors = Vec::new();
        let mut flatten = false;
        let mut i = 0;
        let at = |i: usize| start + 2 + i;
        while i < body.len() {
            let rest = &body[i..];
            if rest == "!" {
                flatten = true;
                break;
            }
            let dotted = rest.starts_with('.');
            let rest = if dotted { &rest[1..] } else { rest };
            let pos = i + usize::from(dotted);
            if let Some(inner) = rest.strip_prefix('[') {
                // AquaVM accepts `[0]` with or without the leading dot.
                let Some(close) = inner.find(']') else {
                    return Err(ParseError::new("unclosed `[` in lens", Span::new(at(pos), at(pos) + 1))
                        .with_hint("close it with `]`, as in `x.$.[0]`"));
                };
                let inner = &inner[..close];
                let inner_span = Span::new(at(pos + 1), at(pos + 1 + inner.len()));
                if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
                    let index = inner.parse::<u32>().map_err(|_| {
                        ParseError::new(format!("array index `{inner}` is too large"), inner_span).with_hint("indexes must fit in 32 bits")
                    })?;
                    accessors.push(Accessor::Index(index));
                } else if !inner.is_empty() && inner.chars().all(is_name_char) {
                    let var = Var { id: VarId(self.names.intern(inner, at(pos + 1))), kind: VarKind::Scalar, span: inner_span };
                    accessors.push(Accessor::Scalar(var));
                } else {
                    return Err(ParseError::new(format!("invalid lens accessor `[{inner}]`"), inner_span)
                        .with_hint("`[...]` in a lens holds an index such as `[0]` or a scalar name such as `[x]`"));
                }
                i = pos + 1 + close + 1;
            } else if dotted {
                let len = rest.find(|c: char| !is_name_char(c)).unwrap_or(rest.len());
                if len == 0 {
                    return Err(ParseError::new(
                        "expected a field name, `[index]` or `[scalar]` after `.` in lens",
                        Span::new(at(pos - 1), at(pos)),
                    )
                    .with_hint(hint));
                }
                accessors.push(Accessor::Field(Span::new(at(pos), at(pos) + len)));
                i = pos + len;
            } else {
                let c = rest.chars().next().unwrap_or('?');
                let message = if c == '!' { "`!` can only end a lens".to_string() } else { format!("unexpected `{c}` in lens") };
                return Err(ParseError::new(message, char_span(at(pos), c)).with_hint(hint));
            }
        }
        if accessors.is_empty() {
            return Err(ParseError::new("a lens `.$` needs at least one accessor", span)
                .with_hint("write e.g. `.$.field` or `.$.[0]`; use `.length` for the length"));
        }
        Ok(Lens { kind: LensKind::Path { accessors, flatten }, span })
    }
}

/// A coarse token for error reporting: no classification of words beyond keywords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coarse {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Keyword(Keyword),
    /// Any other word or a string literal.
    Atom,
}

/// Splits `source` into coarse tokens with their byte ranges, stopping at an unterminated
/// string. Used only to describe the context of a syntax error.
pub(crate) fn coarse_tokens(source: &str) -> impl Iterator<Item = (Coarse, std::ops::Range<usize>)> + '_ {
    let mut raw = Raw::lexer(source);
    std::iter::from_fn(move || {
        let token = raw.next()?.ok()?;
        let coarse = match token {
            Raw::LParen => Coarse::Open,
            Raw::RParen => Coarse::Close,
            Raw::LBracket => Coarse::OpenBracket,
            Raw::RBracket => Coarse::CloseBracket,
            Raw::Str => Coarse::Atom,
            Raw::Word => Keyword::from_word(raw.slice()).map_or(Coarse::Atom, Coarse::Keyword),
        };
        Some((coarse, raw.span()))
    })
}

/// Collects every lexical error of `source` (the parser stops at the first one).
pub(crate) fn all_lex_errors(source: &str, limit: usize) -> Vec<ParseError> {
    let mut errors = Vec::new();
    let mut raw = Raw::lexer(source);
    let mut values = ValueReader::new(source);
    while let Some(token) = raw.next() {
        let range = raw.span();
        let error = match token {
            Err(()) => Some(unterminated_string(range.start)),
            Ok(Raw::Word) if Keyword::from_word(raw.slice()).is_none() => values.read(ValKind::Word, range.start, range.end).err(),
            Ok(_) => None,
        };
        // An unterminated string runs to the end of the script: nothing after it is code.
        let unterminated = token.is_err();
        if let Some(e) = error {
            errors.push(e);
            if errors.len() >= limit || unterminated {
                break;
            }
        }
    }
    errors
}

/// Identifier characters: Unicode alphanumerics, `_` and `-`.
pub(crate) fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

fn starts_like_number(word: &str) -> bool {
    let digits = word.strip_prefix(['+', '-']).unwrap_or(word);
    digits.starts_with(|c: char| c.is_ascii_digit())
}

fn number(word: &str, span: Span) -> Result<Number, ParseError> {
    let digits = word.strip_prefix(['+', '-']).unwrap_or(word);
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || frac_part.is_some_and(|f| !all_digits(f)) {
        return Err(ParseError::new(format!("`{word}` is not a valid number"), span)
            .with_hint("numbers look like `42`, `-7` or `3.14`; variable names cannot start with a digit"));
    }
    if frac_part.is_none() {
        return word.parse::<i64>().map(Number::Int).map_err(|_| {
            ParseError::new(format!("integer `{word}` does not fit in 64 bits"), span)
                .with_hint("integers range from -9223372036854775808 to 9223372036854775807")
        });
    }
    if word.len() > MAX_FLOAT_LITERAL_LEN {
        return Err(ParseError::new(format!("float `{word}` is longer than {MAX_FLOAT_LITERAL_LEN} characters"), span)
            .with_hint("long floats are rejected for determinism, as in AquaVM; pass the number as a string instead"));
    }
    word.parse::<f64>().map(Number::Float).map_err(|_| ParseError::new(format!("`{word}` is not a valid number"), span))
}

fn invalid_char_message(c: char, word: &str) -> String {
    format!("`{}` cannot appear in a name (in `{word}`)", c.escape_debug())
}

fn char_span(start: usize, c: char) -> Span {
    Span::new(start, start + c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(source: &str) -> Result<Vec<Token>, ParseError> {
        Lexer::new(source).map(|t| t.map(|(_, t, _)| t)).collect()
    }

    /// Lexes `source` and reads every value token; gives the values and the name table.
    fn read_all(source: &str) -> Result<(Vec<Value>, Vec<&str>), ParseError> {
        let mut reader = ValueReader::new(source);
        let mut values = Vec::new();
        for token in Lexer::new(source) {
            if let (start, Token::Val(kind), end) = token? {
                values.push(reader.read(kind, start as usize, end as usize)?);
            }
        }
        let names = reader.into_names().into_iter().map(|span| &source[span.range()]).collect();
        Ok((values, names))
    }

    fn lex_err(source: &str) -> ParseError {
        read_all(source).expect_err("should fail")
    }

    fn one_value(source: &str) -> Value {
        match read_all(source).unwrap().0.as_slice() {
            [v] => v.clone(),
            other => panic!("expected one value, got {other:?}"),
        }
    }

    #[test]
    fn punctuation_keywords_and_comments() {
        let tokens = lex("(seq ; a comment (par)\n [ ] )").unwrap();
        assert_eq!(tokens, vec![Token::LParen, Token::Kw(Keyword::Seq), Token::LBracket, Token::RBracket, Token::RParen]);
        for kw in Keyword::ALL {
            assert_eq!(lex(kw.as_str()).unwrap(), vec![Token::Kw(kw)]);
        }
        let tokens = lex(r#"x "s" seqx"#).unwrap();
        assert_eq!(tokens, vec![Token::Val(ValKind::Word), Token::Val(ValKind::Str), Token::Val(ValKind::Word)]);
    }

    #[test]
    fn any_unicode_whitespace_separates_tokens() {
        // Tab, vertical tab, form feed, no-break space, ogham space, em space, line
        // separator, ideographic space; alone and in runs.
        let spaced = "(seq\t\x0B\x0C(null)\u{A0}\u{1680}(null)\u{2003}\u{2028}\u{3000})";
        assert_eq!(lex(spaced).unwrap(), lex("(seq (null) (null))").unwrap());
        let words = "a\u{A0}b\u{205F}\u{205F}c";
        let (_, names) = read_all(words).unwrap();
        assert_eq!(names, ["a", "b", "c"]);
        // Characters that are not whitespace stay inside a word.
        assert_eq!(lex("a\u{200B}b").unwrap(), vec![Token::Val(ValKind::Word)]);
    }

    #[test]
    fn literals() {
        for text in [r#""hello world""#, r#""no \escapes""#, r#""""#] {
            // A string literal is the span of its text, quotes excluded.
            assert_eq!(one_value(text), Value::String(Span::new(1, text.len() - 1)));
        }
        assert_eq!(one_value("42"), Value::Number(Number::Int(42)));
        assert_eq!(one_value("-42"), Value::Number(Number::Int(-42)));
        assert_eq!(one_value("+7"), Value::Number(Number::Int(7)));
        assert_eq!(one_value("-9223372036854775808"), Value::Number(Number::Int(i64::MIN)));
        assert_eq!(one_value("1.5"), Value::Number(Number::Float(1.5)));
        assert_eq!(one_value("-0.25"), Value::Number(Number::Float(-0.25)));
        assert_eq!(one_value("12345678.90"), Value::Number(Number::Float(12345678.9)));
        assert_eq!(one_value("true"), Value::Bool(true));
        assert_eq!(one_value("false"), Value::Bool(false));
        assert_eq!(one_value("%init_peer_id%"), Value::InitPeerId);
        assert_eq!(one_value("%timestamp%"), Value::Timestamp);
        assert_eq!(one_value("%ttl%"), Value::Ttl);
        assert_eq!(one_value("%last_error%"), Value::LastError(None));
        assert_eq!(one_value(":error:"), Value::Error(None));
    }

    #[test]
    fn number_errors() {
        let e = lex_err("123456789.12");
        assert!(e.message.contains("longer than 11 characters"), "{e}");
        assert_eq!(e.span, Span::new(0, 12));
        assert!(lex_err("99999999999999999999").message.contains("does not fit in 64 bits"));
        assert!(lex_err("1abc").message.contains("is not a valid number"));
        assert!(lex_err("1.").message.contains("is not a valid number"));
    }

    #[test]
    fn variables_with_sigils() {
        let (values, names) = read_all("x $s %m #c #$c #%m -relay- имя x").unwrap();
        assert_eq!(names, ["x", "$s", "%m", "#c", "#$c", "#%m", "-relay-", "имя"]);
        let kinds: Vec<VarKind> = values
            .iter()
            .map(|v| match v {
                Value::Scalar { var, .. }
                | Value::CanonStream { var, .. }
                | Value::CanonMap { var, .. }
                | Value::Stream(var)
                | Value::StreamMap(var) => var.kind,
                _ => panic!(),
            })
            .collect();
        use VarKind::*;
        assert_eq!(kinds, [Scalar, Stream, StreamMap, CanonStream, CanonStream, CanonMap, Scalar, Scalar, Scalar]);
        // The same name is interned once.
        let Value::Scalar { var: first, .. } = &values[0] else { panic!() };
        let Value::Scalar { var: last, .. } = &values[8] else { panic!() };
        assert_eq!(first.id, last.id);
        assert_eq!(last.span, Span::new(34, 35));
    }

    #[test]
    fn lenses() {
        let Value::Scalar { var, lens: Some(lens) } = one_value("x.$.a.[0].[y]!") else { panic!() };
        assert_eq!(var.span, Span::new(0, 1));
        assert_eq!(lens.span, Span::new(1, 14));
        let LensKind::Path { accessors, flatten } = lens.kind else { panic!() };
        assert!(flatten);
        assert_eq!(accessors.len(), 3);
        assert_eq!(accessors[0], Accessor::Field(Span::new(4, 5)));
        assert_eq!(accessors[1], Accessor::Index(0));
        let Accessor::Scalar(y) = &accessors[2] else { panic!() };
        assert_eq!(y.span, Span::new(11, 12));

        let Value::CanonStream { lens: Some(lens), .. } = one_value("#c.length") else { panic!() };
        assert_eq!(lens.kind, LensKind::Length);
        let Value::CanonMap { lens: Some(lens), .. } = one_value("#%m.$.k") else { panic!() };
        assert_eq!(lens.kind, LensKind::Path { accessors: vec![Accessor::Field(Span::new(6, 7))], flatten: false });
        let Value::LastError(Some(_)) = one_value("%last_error%.$.message") else { panic!() };
        let Value::Error(Some(_)) = one_value(":error:.$.error_code") else { panic!() };
        // AquaVM also accepts an index without the leading dot.
        let Value::Scalar { lens: Some(lens), .. } = one_value("x.$[1]") else { panic!() };
        assert_eq!(lens.kind, LensKind::Path { accessors: vec![Accessor::Index(1)], flatten: false });
    }

    #[test]
    fn lens_errors() {
        assert!(lex_err("x.$").message.contains("at least one accessor"));
        assert!(lex_err("x.foo").message.contains("invalid lens"));
        let e = lex_err("x.$.[0");
        assert_eq!(e.message, "unclosed `[` in lens");
        assert_eq!(e.span, Span::new(4, 5));
        assert!(lex_err("x.$.a!.b").message.contains("`!` can only end a lens"));
        assert!(lex_err("x.$.[4294967296]").message.contains("too large"));
        let e = lex_err("$s.$.a");
        assert_eq!(e.message, "`$s` is a stream; lenses cannot be applied to a stream");
        assert_eq!(e.span, Span::new(2, 6));
        assert!(lex_err("%m.length").message.contains("stream map"));
    }

    #[test]
    fn name_errors() {
        let e = lex_err("a@b");
        assert_eq!(e.message, "`@` cannot appear in a name (in `a@b`)");
        assert_eq!(e.span, Span::new(1, 2));
        assert!(lex_err("$").message.contains("needs a name"));
        assert!(lex_err("%foo%").message.contains("unknown special value"));
        assert!(lex_err(":err:").message.contains("unknown special value"));
    }

    #[test]
    fn unterminated_string() {
        let e = lex_err("(call \"peer");
        assert!(e.message.starts_with("unterminated string"));
        assert_eq!(e.span, Span::new(6, 7));
        assert_eq!(all_lex_errors("a@ \"ok\" b# \"open", 10).len(), 3);
        // What follows an unterminated string is inside it.
        assert_eq!(all_lex_errors("a@ \"open b# c@", 10).len(), 2);
    }
}
