//! Errors of the AIR front end: lexing, parsing and static validation.

use std::fmt;

use super::ast::Span;

/// One problem found in an AIR script, phrased for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What is wrong, e.g. "unclosed `(`".
    pub message: String,
    /// Where in the source (byte offsets).
    pub span: Span,
    /// How it might be fixed, when there is something useful to say.
    pub hint: Option<String>,
}

impl ParseError {
    /// An error without a hint.
    pub fn new(message: impl Into<String>, span: Span) -> Self {
        ParseError { message: message.into(), span, hint: None }
    }

    /// Adds a hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at bytes {}..{})", self.message, self.span.start, self.span.end)?;
        if let Some(hint) = &self.hint {
            write!(f, "; hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

/// All problems found in a script: never empty, sorted by position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseErrors {
    errors: Vec<ParseError>,
}

impl ParseErrors {
    /// Wraps a single error.
    pub fn single(error: ParseError) -> Self {
        ParseErrors { errors: vec![error] }
    }

    /// Wraps several errors, sorted by position with exact duplicates removed;
    /// `None` when there are none.
    pub fn from_vec(mut errors: Vec<ParseError>) -> Option<Self> {
        errors.sort_by_key(|e| (e.span.start, e.span.end));
        errors.dedup();
        if errors.is_empty() { None } else { Some(ParseErrors { errors }) }
    }

    /// The errors, in source order.
    pub fn errors(&self) -> &[ParseError] {
        &self.errors
    }

    /// The first error in source order.
    pub fn first(&self) -> &ParseError {
        &self.errors[0]
    }

    /// The errors, in source order.
    pub fn into_vec(self) -> Vec<ParseError> {
        self.errors
    }
}

impl fmt::Display for ParseErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseErrors {}

impl From<ParseError> for ParseErrors {
    fn from(error: ParseError) -> Self {
        ParseErrors::single(error)
    }
}
