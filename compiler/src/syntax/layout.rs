//! The layout pass: turns Aqua's significant indentation into explicit tokens.
//!
//! The file is first cut into top-level items (a line starting at column 0). Within an
//! item, a line break outside brackets ends a logical line (`Newline`); a deeper line
//! opens a block (`Indent`) and a shallower one closes blocks (`Dedent`), as in Python.
//! Inside `(...)`, `[...]` and `{...}` line breaks are ignored, so argument lists,
//! collection literals and struct constructors may span lines.

use super::lexer::{Spanned, Token};
use crate::limits::MAX_NESTING;

/// A layout problem, with the byte range it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutError {
    pub start: usize,
    pub end: usize,
    pub message: String,
    pub hint: Option<String>,
    /// A nesting limit was exceeded (rather than an indentation mistake).
    pub limit: bool,
}

/// Cuts the file's tokens into top-level items. A line at column 0 starts a new item;
/// it does so even inside an unclosed bracket when it starts with a declaration keyword,
/// so that one missing `)` does not swallow the rest of the file.
pub fn split_items<'s>(source: &str, tokens: &[Spanned<'s>]) -> Vec<Vec<Spanned<'s>>> {
    let mut items: Vec<Vec<Spanned<'s>>> = Vec::new();
    let mut current: Vec<Spanned<'s>> = Vec::new();
    let mut depth = 0usize;
    let mut at_line_start = true;
    for &(start, token, end) in tokens {
        if token == Token::LineBreak {
            at_line_start = true;
            current.push((start, token, end));
            continue;
        }
        let new_item = at_line_start && column(source, start) == 0 && (depth == 0 || token.starts_item());
        if new_item && current.iter().any(|(_, t, _)| *t != Token::LineBreak) {
            items.push(std::mem::take(&mut current));
            depth = 0;
        }
        at_line_start = false;
        depth = bracket_depth(depth, token);
        current.push((start, token, end));
    }
    if current.iter().any(|(_, t, _)| *t != Token::LineBreak) {
        items.push(current);
    }
    items
}

/// Adds `Newline`, `Indent` and `Dedent` to one item's tokens and drops line breaks.
pub fn layout<'s>(source: &str, tokens: &[Spanned<'s>]) -> (Vec<Spanned<'s>>, Vec<LayoutError>) {
    let mut out: Vec<Spanned<'s>> = Vec::with_capacity(tokens.len() + 8);
    let mut errors = Vec::new();
    // Indentation levels; a level opened by a line that does not follow a `:` is
    // reported once and kept as a "phantom" level that emits no tokens, so the lines
    // below it are not reported again.
    let mut indents: Vec<(usize, bool)> = vec![(0, false)];
    let mut brackets = 0usize;
    let mut line_ended = false;
    // Where the current line's tokens start in `out`.
    let mut line_start = 0usize;
    for &(start, token, end) in tokens {
        if token == Token::LineBreak {
            line_ended = brackets == 0;
            continue;
        }
        if line_ended && !out.is_empty() {
            // A line opens a block when it ends with `:`, or when it starts like a block
            // does (`if`, `on`, ...): then a missing `:` is one error, reported by the
            // parser, rather than one more for every indented line below it.
            let opens_block = out.last().is_some_and(|t| t.1 == Token::Colon) || starts_block(&out[line_start..]);
            let at = out.last().map_or(start, |t| t.2);
            out.push((at, Token::Newline, at));
            let col = column(source, start);
            let top = indents.last().map_or(0, |l| l.0);
            if col > top {
                if indents.len() > MAX_NESTING {
                    errors.push(LayoutError {
                        start,
                        end,
                        message: format!("blocks are nested more than {MAX_NESTING} levels deep"),
                        hint: Some("move the inner part into a function of its own".into()),
                        limit: true,
                    });
                    return (Vec::new(), errors);
                }
                if opens_block {
                    indents.push((col, false));
                    out.push((start, Token::Indent, start));
                } else {
                    errors.push(LayoutError {
                        start: start - (col - top).min(start),
                        end: start,
                        message: "this line is indented, but the line before does not open a block".into(),
                        hint: Some("a block starts after a line ending with `:`; otherwise keep the indentation of the line before".into()),
                        limit: false,
                    });
                    indents.push((col, true));
                }
            } else {
                while col < indents.last().map_or(0, |l| l.0) {
                    if let Some((_, false)) = indents.pop() {
                        out.push((start, Token::Dedent, start));
                    }
                }
                if col != indents.last().map_or(0, |l| l.0) {
                    errors.push(LayoutError {
                        start: start - col.min(start),
                        end: start,
                        message: "this line's indentation matches no enclosing block".into(),
                        hint: Some("indent every line of a block by the same amount".into()),
                        limit: false,
                    });
                }
            }
        }
        if line_ended || out.is_empty() {
            line_start = out.len();
        }
        line_ended = false;
        let depth = bracket_depth(brackets, token);
        if depth > MAX_NESTING {
            errors.push(LayoutError {
                start,
                end,
                message: format!("brackets are nested more than {MAX_NESTING} levels deep"),
                hint: None,
                limit: true,
            });
            return (Vec::new(), errors);
        }
        brackets = depth;
        out.push((start, token, end));
    }
    let at = out.last().map_or(0, |t| t.2);
    out.push((at, Token::Newline, at));
    for _ in indents.iter().skip(1).filter(|l| !l.1) {
        out.push((at, Token::Dedent, at));
    }
    (out, errors)
}

/// Whether a line's tokens start a statement or declaration that takes a block.
fn starts_block(line: &[Spanned<'_>]) -> bool {
    let first = match line {
        [(_, Token::Par | Token::Co, _), (_, t, _), ..] => *t,
        [(_, t, _), ..] => *t,
        [] => return false,
    };
    matches!(
        first,
        Token::If
            | Token::Else
            | Token::On
            | Token::For
            | Token::Parseq
            | Token::Try
            | Token::Catch
            | Token::Otherwise
            | Token::Func
            | Token::Service
            | Token::Data
            | Token::Ability
    )
}

fn bracket_depth(depth: usize, token: Token<'_>) -> usize {
    match token {
        Token::LParen | Token::LBracket | Token::LBrace => depth + 1,
        Token::RParen | Token::RBracket | Token::RBrace => depth.saturating_sub(1),
        _ => depth,
    }
}

/// The column of a byte offset: the number of bytes since the line's start. Indentation
/// is spaces and tabs only, so bytes and characters agree where it matters.
fn column(source: &str, offset: usize) -> usize {
    let before = &source.as_bytes()[..offset.min(source.len())];
    offset - before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::super::lexer::lex;
    use super::*;

    fn shape(source: &str) -> Vec<String> {
        let (tokens, _) = lex(source);
        split_items(source, &tokens)
            .iter()
            .map(|item| {
                let (out, errors) = layout(source, item);
                assert!(errors.is_empty(), "{errors:?}");
                out.iter()
                    .map(|(_, t, _)| match t {
                        Token::Newline => ";".to_string(),
                        Token::Indent => "{".to_string(),
                        Token::Dedent => "}".to_string(),
                        other => other.text().map_or_else(|| format!("{other:?}"), str::to_string),
                    })
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    #[test]
    fn blocks_become_indent_and_dedent() {
        let source = "func f():\n    on p:\n        x()\n    -- comment\n\n    y()\nfunc g():\n  z()\n";
        assert_eq!(
            shape(source),
            vec![
                r#"func Name("f") ( ) : ; { on Name("p") : ; { Name("x") ( ) ; } Name("y") ( ) ; }"#,
                r#"func Name("g") ( ) : ; { Name("z") ( ) ; }"#,
            ]
        );
    }

    #[test]
    fn line_breaks_inside_brackets_are_ignored() {
        let source = "func f():\n    x <- g(a,\n  b, -- why\n         c)\n";
        assert_eq!(shape(source), vec![r#"func Name("f") ( ) : ; { Name("x") <- Name("g") ( Name("a") , Name("b") , Name("c") ) ; }"#]);
    }

    #[test]
    fn an_unclosed_bracket_does_not_swallow_the_next_declaration() {
        let source = "func f(:\n    x()\nfunc g():\n    y()\n";
        let (tokens, _) = lex(source);
        assert_eq!(split_items(source, &tokens).len(), 2);
    }

    #[test]
    fn an_unexpected_indent_is_reported_once() {
        let source = "func f():\n    x()\n      y()\n      z()\n    w()\n";
        let (tokens, _) = lex(source);
        let (out, errors) = layout(source, &split_items(source, &tokens)[0]);
        assert_eq!(errors.len(), 1);
        assert_eq!(out.iter().filter(|t| t.1 == Token::Indent).count(), 1);
        assert_eq!(out.iter().filter(|t| t.1 == Token::Dedent).count(), 1);
    }

    #[test]
    fn inconsistent_dedent_is_reported() {
        let source = "func f():\n    on p:\n        x()\n  y()\n";
        let (tokens, _) = lex(source);
        let (_, errors) = layout(source, &split_items(source, &tokens)[0]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("indentation"));
    }
}
