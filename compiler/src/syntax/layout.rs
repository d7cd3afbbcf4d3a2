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
    let mut indents: Vec<usize> = vec![0];
    let mut brackets = 0usize;
    let mut line_ended = false;
    for &(start, token, end) in tokens {
        if token == Token::LineBreak {
            line_ended = brackets == 0;
            continue;
        }
        if line_ended && !out.is_empty() {
            let at = out.last().map_or(start, |t| t.2);
            out.push((at, Token::Newline, at));
            let col = column(source, start);
            let top = *indents.last().unwrap_or(&0);
            if col > top {
                if indents.len() > MAX_NESTING {
                    errors.push(LayoutError {
                        start,
                        end,
                        message: format!("blocks are nested more than {MAX_NESTING} levels deep"),
                        hint: Some("move the inner part into a function of its own".into()),
                    });
                    return (Vec::new(), errors);
                }
                indents.push(col);
                out.push((start, Token::Indent, start));
            } else {
                while col < *indents.last().unwrap_or(&0) {
                    indents.pop();
                    out.push((start, Token::Dedent, start));
                }
                if col != *indents.last().unwrap_or(&0) {
                    errors.push(LayoutError {
                        start: start - col.min(start),
                        end: start,
                        message: "this line's indentation matches no enclosing block".into(),
                        hint: Some("indent every line of a block by the same amount".into()),
                    });
                }
            }
        }
        line_ended = false;
        let depth = bracket_depth(brackets, token);
        if depth > MAX_NESTING {
            errors.push(LayoutError {
                start,
                end,
                message: format!("brackets are nested more than {MAX_NESTING} levels deep"),
                hint: None,
            });
            return (Vec::new(), errors);
        }
        brackets = depth;
        out.push((start, token, end));
    }
    let at = out.last().map_or(0, |t| t.2);
    out.push((at, Token::Newline, at));
    for _ in 1..indents.len() {
        out.push((at, Token::Dedent, at));
    }
    (out, errors)
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
    fn inconsistent_dedent_is_reported() {
        let source = "func f():\n    on p:\n        x()\n  y()\n";
        let (tokens, _) = lex(source);
        let (_, errors) = layout(source, &split_items(source, &tokens)[0]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("indentation"));
    }
}
