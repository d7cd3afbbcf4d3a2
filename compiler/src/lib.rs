//! `aqua-compiler`: Aqua source to AIR.
//!
//! This crate will hold the lexer, layout pass, parser, checker and lowering of the
//! Aqua language (see ARCHITECTURE.md). It is pure: no file system, clock or threads.
