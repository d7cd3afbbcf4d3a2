//! The Aqua front end's syntax half: lexer, layout pass, grammar and syntax tree.
//!
//! ```
//! use aqua_compiler::diagnostic::SourceId;
//! let (module, errors) = aqua_compiler::syntax::parse_module(SourceId(0), "aqua M\n\nfunc f() -> u32:\n    <- 1\n");
//! assert!(errors.is_empty());
//! assert_eq!(module.items.len(), 1);
//! ```

pub mod ast;
mod layout;
mod lexer;
mod parser;

#[cfg(test)]
mod tests;

pub use parser::parse_module;
