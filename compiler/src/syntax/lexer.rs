//! The Aqua lexer: source text to flat tokens with byte ranges.
//!
//! Spaces, tabs and `--` comments are skipped; line breaks are kept as [`Token::LineBreak`]
//! so that the layout pass (`layout.rs`) can see where lines start and how deep they are
//! indented. Keywords are tokens of their own; the grammar lets the ones that aqua-lib
//! uses as parameter names (`data`, `alias`, ...) also serve as names.

use logos::Logos;

/// One token. Names and literals borrow from the source.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
#[logos(skip r"[ \t\r\f]+")]
pub enum Token<'s> {
    /// A comment, to the end of the line; dropped by [`lex`]. Comments and strings
    /// are scanned by callbacks rather than by the generated automaton, which recurses
    /// once per byte of a run of non-ASCII characters and would overflow the stack on
    /// a long one.
    #[token("--", comment_end)]
    Comment,
    #[token("\n")]
    LineBreak,
    /// Produced by the layout pass, never by logos.
    Newline,
    /// Produced by the layout pass, never by logos.
    Indent,
    /// Produced by the layout pass, never by logos.
    Dedent,

    /// `lowerCase` names: variables, functions, fields, arrows.
    #[regex(r"[a-z_][A-Za-z0-9_]*", priority = 1)]
    Name(&'s str),
    /// `UpperCase` names: types, services, abilities, modules, constants.
    #[regex(r"[A-Z][A-Za-z0-9_]*")]
    Upper(&'s str),
    #[regex(r"[0-9]+")]
    Int(&'s str),
    #[regex(r"[0-9]+\.[0-9]+")]
    Float(&'s str),
    /// A string literal with its quotes; Aqua strings have no escapes. Without a
    /// closing quote on its line it has none, and [`lex`] reports it.
    #[token("\"", string_end)]
    Str(&'s str),
    #[token("%init_peer_id%")]
    InitPeerId,

    #[token("aqua")]
    Aqua,
    #[token("module")]
    Module,
    #[token("declares")]
    Declares,
    #[token("import")]
    Import,
    #[token("use")]
    Use,
    #[token("from")]
    From,
    #[token("as")]
    As,
    #[token("export")]
    Export,
    #[token("service")]
    Service,
    #[token("func")]
    Func,
    #[token("data")]
    Data,
    #[token("alias")]
    Alias,
    #[token("ability")]
    Ability,
    #[token("const")]
    Const,
    #[token("on")]
    On,
    #[token("via")]
    Via,
    #[token("par")]
    Par,
    #[token("co")]
    Co,
    #[token("join")]
    Join,
    #[token("for")]
    For,
    #[token("parseq")]
    Parseq,
    #[token("if")]
    If,
    #[token("else")]
    Else,
    #[token("try")]
    Try,
    #[token("catch")]
    Catch,
    #[token("otherwise")]
    Otherwise,
    #[token("rec")]
    Rec,
    #[token("true")]
    True,
    #[token("false")]
    False,
    #[token("nil")]
    Nil,

    #[token("<-")]
    LeftArrow,
    #[token("<<-")]
    Push,
    #[token("->")]
    RightArrow,
    #[token("=")]
    Assign,
    #[token("?=")]
    AssignDefault,
    #[token("==")]
    Eq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    LtEq,
    #[token(">")]
    Gt,
    #[token(">=")]
    GtEq,
    #[token("&&")]
    And,
    #[token("||")]
    Or,
    #[token("!")]
    Bang,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("**")]
    Power,
    #[token(".")]
    Dot,
    #[token(",")]
    Comma,
    #[token(":")]
    Colon,
    #[token("?")]
    Question,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("⊤")]
    Top,
    #[token("⊥")]
    Bottom,
}

impl Token<'_> {
    /// How a token is named in messages for people.
    pub fn describe(&self) -> String {
        match self {
            Token::LineBreak | Token::Newline => "the end of the line".into(),
            Token::Comment => "a comment".into(),
            Token::Indent => "an indented line".into(),
            Token::Dedent => "the end of the block".into(),
            Token::Name(n) | Token::Upper(n) => format!("`{n}`"),
            Token::Int(n) | Token::Float(n) => format!("the number `{n}`"),
            Token::Str(s) => format!("the string {s}"),
            other => format!("`{}`", other.text().unwrap_or("?")),
        }
    }

    /// The fixed text of keywords and punctuation.
    pub fn text(&self) -> Option<&'static str> {
        Some(match self {
            Token::InitPeerId => "%init_peer_id%",
            Token::Aqua => "aqua",
            Token::Module => "module",
            Token::Declares => "declares",
            Token::Import => "import",
            Token::Use => "use",
            Token::From => "from",
            Token::As => "as",
            Token::Export => "export",
            Token::Service => "service",
            Token::Func => "func",
            Token::Data => "data",
            Token::Alias => "alias",
            Token::Ability => "ability",
            Token::Const => "const",
            Token::On => "on",
            Token::Via => "via",
            Token::Par => "par",
            Token::Co => "co",
            Token::Join => "join",
            Token::For => "for",
            Token::Parseq => "parseq",
            Token::If => "if",
            Token::Else => "else",
            Token::Try => "try",
            Token::Catch => "catch",
            Token::Otherwise => "otherwise",
            Token::Rec => "rec",
            Token::True => "true",
            Token::False => "false",
            Token::Nil => "nil",
            Token::LeftArrow => "<-",
            Token::Push => "<<-",
            Token::RightArrow => "->",
            Token::Assign => "=",
            Token::AssignDefault => "?=",
            Token::Eq => "==",
            Token::NotEq => "!=",
            Token::Lt => "<",
            Token::LtEq => "<=",
            Token::Gt => ">",
            Token::GtEq => ">=",
            Token::And => "&&",
            Token::Or => "||",
            Token::Bang => "!",
            Token::Plus => "+",
            Token::Minus => "-",
            Token::Star => "*",
            Token::Slash => "/",
            Token::Percent => "%",
            Token::Power => "**",
            Token::Dot => ".",
            Token::Comma => ",",
            Token::Colon => ":",
            Token::Question => "?",
            Token::LParen => "(",
            Token::RParen => ")",
            Token::LBracket => "[",
            Token::RBracket => "]",
            Token::LBrace => "{",
            Token::RBrace => "}",
            Token::Top => "⊤",
            Token::Bottom => "⊥",
            _ => return None,
        })
    }

    /// Keywords that start a top-level declaration: a line at column 0 starting with one
    /// of these begins a new item even if the previous one left a bracket open.
    pub fn starts_item(&self) -> bool {
        matches!(
            self,
            Token::Aqua
                | Token::Module
                | Token::Import
                | Token::Use
                | Token::Export
                | Token::Service
                | Token::Func
                | Token::Data
                | Token::Alias
                | Token::Ability
                | Token::Const
        )
    }
}

/// Consumes a comment's text up to (not including) the end of the line.
fn comment_end<'s>(lex: &mut logos::Lexer<'s, Token<'s>>) {
    let rest = lex.remainder();
    lex.bump(rest.find('\n').unwrap_or(rest.len()));
}

/// Consumes a string literal up to its closing quote, or up to the end of the line
/// when it has none (the token then has no closing quote; [`lex`] reports it).
fn string_end<'s>(lex: &mut logos::Lexer<'s, Token<'s>>) -> &'s str {
    let rest = lex.remainder();
    match rest.find(['"', '\n']) {
        Some(i) if rest.as_bytes()[i] == b'"' => lex.bump(i + 1),
        Some(i) => lex.bump(i),
        None => lex.bump(rest.len()),
    }
    lex.slice()
}

/// A token with its byte range in the source.
pub type Spanned<'s> = (usize, Token<'s>, usize);

/// A character the lexer does not know, or an unclosed string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LexError {
    pub start: usize,
    pub end: usize,
    pub message: String,
    pub hint: Option<String>,
}

/// Splits `source` into tokens; unknown characters become errors and are skipped.
pub fn lex(source: &str) -> (Vec<Spanned<'_>>, Vec<LexError>) {
    let mut tokens = Vec::new();
    let mut errors = Vec::new();
    let mut lexer = Token::lexer(source);
    while let Some(token) = lexer.next() {
        let range = lexer.span();
        match token {
            Ok(Token::Comment) => {}
            Ok(Token::Str(text)) if text.len() < 2 || !text.ends_with('"') => {
                errors.push(LexError {
                    start: range.start,
                    end: range.end,
                    message: "this string is not closed on its line".into(),
                    hint: Some("add the closing `\"`; Aqua strings cannot span lines".into()),
                });
                // Keep a string token so the parser does not report a second error here.
                tokens.push((range.start, Token::Str(&source[range.clone()]), range.end));
            }
            Ok(token) => tokens.push((range.start, token, range.end)),
            Err(()) => {
                let text = &source[range.clone()];
                let hint = match text {
                    "'" => Some("strings use double quotes: \"...\"".to_string()),
                    ";" => Some("statements end at the end of the line; no `;` is needed".to_string()),
                    "#" => Some("comments start with `--`".to_string()),
                    _ => None,
                };
                errors.push(LexError { start: range.start, end: range.end, message: format!("unexpected character `{text}`"), hint });
            }
        }
    }
    (tokens, errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(source: &str) -> Vec<Token<'_>> {
        let (tokens, errors) = lex(source);
        assert!(errors.is_empty(), "{errors:?}");
        tokens.into_iter().map(|(_, t, _)| t).collect()
    }

    #[test]
    fn names_numbers_and_operators() {
        assert_eq!(
            kinds("x <- Srv.get(a, 1, -2.5) -- comment\n"),
            vec![
                Token::Name("x"),
                Token::LeftArrow,
                Token::Upper("Srv"),
                Token::Dot,
                Token::Name("get"),
                Token::LParen,
                Token::Name("a"),
                Token::Comma,
                Token::Int("1"),
                Token::Comma,
                Token::Minus,
                Token::Float("2.5"),
                Token::RParen,
                Token::LineBreak,
            ]
        );
        assert_eq!(
            kinds("a<<-b<=c!=d**e"),
            vec![
                Token::Name("a"),
                Token::Push,
                Token::Name("b"),
                Token::LtEq,
                Token::Name("c"),
                Token::NotEq,
                Token::Name("d"),
                Token::Power,
                Token::Name("e")
            ]
        );
    }

    #[test]
    fn keywords_are_whole_words() {
        assert_eq!(kinds("on one data database"), vec![Token::On, Token::Name("one"), Token::Data, Token::Name("database")]);
        assert_eq!(kinds("%init_peer_id% ⊤ ⊥"), vec![Token::InitPeerId, Token::Top, Token::Bottom]);
    }

    #[test]
    fn bad_characters_and_unclosed_strings_are_errors() {
        let (tokens, errors) = lex("x = 'a'\ny = \"open\nz");
        assert_eq!(errors.len(), 3);
        assert!(errors[0].hint.as_deref().unwrap().contains("double quotes"));
        assert_eq!(errors[2].message, "this string is not closed on its line");
        assert!(tokens.iter().any(|(_, t, _)| *t == Token::Name("z")));
    }
}
