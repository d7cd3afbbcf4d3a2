//! Every resource a run can consume has a limit here, with its unit in its name.

/// Largest AIR script accepted.
pub const MAX_AIR_SIZE_BYTES: usize = 16 * 1024 * 1024;
/// Largest particle data (previous or incoming) accepted.
pub const MAX_DATA_SIZE_BYTES: usize = 64 * 1024 * 1024;
/// Largest single call result (its JSON text) accepted.
pub const MAX_CALL_RESULT_SIZE_BYTES: usize = 32 * 1024 * 1024;
/// Most values a stream or stream map may hold (AquaVM's limit).
pub const MAX_STREAM_LEN: usize = 1024;
/// Most states a trace may hold.
pub const MAX_TRACE_STATES: usize = 1_000_000;
