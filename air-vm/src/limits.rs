//! Every resource a run can consume has a limit here, with its unit in its name.

use serde::{Deserialize, Serialize};

/// Largest AIR script accepted.
pub const MAX_AIR_SIZE_BYTES: usize = 16 * 1024 * 1024;
/// Default for the largest particle data (previous or incoming) accepted.
pub const MAX_DATA_SIZE_BYTES: usize = 64 * 1024 * 1024;
/// Default for the largest single call result (its JSON text) accepted.
pub const MAX_CALL_RESULT_SIZE_BYTES: usize = 32 * 1024 * 1024;
/// A stream or stream map reaching this many values is an error (AquaVM's limit, checked
/// as AquaVM does after adding, so a stream holds at most one value fewer).
pub const MAX_STREAM_LEN: usize = 1024;
/// Most states a trace may hold.
pub const MAX_TRACE_STATES: usize = 1_000_000;

/// The payload limits of one run. The defaults are AquaVM's; a host that moves bigger
/// values (and has the memory for them) raises them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeLimits {
    /// Largest incoming particle data, in bytes.
    pub data_bytes: usize,
    /// Largest call result, in bytes of its compact JSON text.
    pub call_result_bytes: usize,
}

impl Default for SizeLimits {
    fn default() -> Self {
        SizeLimits { data_bytes: MAX_DATA_SIZE_BYTES, call_result_bytes: MAX_CALL_RESULT_SIZE_BYTES }
    }
}
