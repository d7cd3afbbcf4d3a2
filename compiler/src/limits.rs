//! Limits on what the compiler accepts, each checked with a clear diagnostic.

/// Source files larger than this are refused before lexing (16 MiB).
pub const MAX_SOURCE_BYTES: usize = 16 * 1024 * 1024;

/// Blocks, brackets and expressions nest at most this deep. The checker and lowering
/// walk the syntax tree recursively, so this bound is what keeps them off the stack's end.
pub const MAX_NESTING: usize = 128;

/// At most this many modules take part in one compilation (imports included).
pub const MAX_MODULES: usize = 10_000;

/// Past this many diagnostics in one compilation, unknown names get no "did you mean"
/// hint: finding one compares the name with every name in scope, and a file with
/// thousands of unknown names must still be checked quickly.
pub const MAX_DIAGNOSTICS_WITH_SUGGESTIONS: usize = 200;
