//! The AIR front end: lexing, parsing, static validation, printing and beautifying.
//!
//! ```
//! let script = air_vm::syntax::parse(r#"(call %init_peer_id% ("svc" "f") [] x)"#).unwrap();
//! assert_eq!(air_vm::syntax::to_air(&script), "(call %init_peer_id% (\"svc\" \"f\") [] x)\n");
//! ```
//!
//! Nothing here recurses over the script's nesting: the parser is a table-driven LR
//! parser and everything else walks the instruction arena with explicit stacks, so
//! deeply nested scripts cannot overflow the stack.

pub mod ast;
pub mod beautify;
pub mod error;
mod lexer;
mod parser;
pub mod print;
pub mod validate;

#[cfg(test)]
mod tests;

pub use ast::Script;
pub use beautify::beautify;
pub use error::{ParseError, ParseErrors};
pub use print::{instruction_text, to_air, value_text};

pub use crate::limits::MAX_AIR_SIZE_BYTES;

/// Parses and statically validates an AIR script, as AquaVM does before running it.
pub fn parse(source: &str) -> Result<Script, ParseErrors> {
    let script = parser::parse_unvalidated(source)?;
    validate::validate(&script)?;
    Ok(script)
}
