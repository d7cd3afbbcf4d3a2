//! Errors of a run, with AquaVM's error codes.
//!
//! Codes: preparation 1..=10 (the previous data is kept), catchable 10000.. (AIR code
//! can handle them with `xor`), uncatchable 20000.. (the run is abandoned and the
//! previous data kept), farewell 30000.. (the run finished but something was left over).

/// Errors before execution starts; the previous data is returned unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreparationError {
    #[error("AIR parse error: {0}")]
    AirParse(String),
    #[error("previous data is invalid: {0}")]
    PrevData(String),
    #[error("incoming data is invalid: {0}")]
    IncomingData(String),
    #[error("{0}")]
    UnsupportedVersion(String),
    #[error("incoming data's content store is inconsistent: {0}")]
    CidStore(String),
    #[error("secret key is malformed: {0}")]
    MalformedKey(String),
    #[error("incoming data's signatures do not verify: {0}")]
    Signature(String),
    #[error("size limit exceeded: {0}")]
    SizeLimit(String),
}

impl PreparationError {
    pub fn code(&self) -> i64 {
        match self {
            PreparationError::AirParse(_) => 1,
            PreparationError::PrevData(_) => 2,
            PreparationError::IncomingData(_) => 3,
            PreparationError::UnsupportedVersion(_) => 4,
            PreparationError::MalformedKey(_) => 7,
            PreparationError::CidStore(_) => 8,
            PreparationError::Signature(_) => 9,
            PreparationError::SizeLimit(_) => 10,
        }
    }
}

/// Errors AIR code can catch with `xor`. Their messages are AquaVM's word for word, since
/// AIR code reads them in `%last_error%` and `:error:` (and passes them on to services).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Catchable {
    #[error("Local service error, ret_code is {ret_code}, error message is '{message}'")]
    LocalServiceError { ret_code: i32, message: String, peer_id: String },
    #[error("compared values do not match")]
    MatchValuesNotEqual,
    #[error("compared values do not mismatch")]
    MismatchValuesEqual,
    #[error("variable with name '{0}' wasn't defined during script execution")]
    VariableNotFound(String),
    #[error("{0}")]
    IncompatibleValueType(String),
    #[error("expression '{expression}' returned non-array value '{value}' for fold iterable")]
    FoldIteratesOverNonArray { expression: String, value: String },
    /// `fail` with an error object: `(fail code "message")`, a value, or `%last_error%`.
    /// The object becomes `%last_error%` as it is; the error itself has code 10006, as
    /// in AquaVM, and so has `:error:` and the outcome when nothing catches it.
    #[error("fail with '{}' is used without corresponding xor", crate::value::sorted_json_text(.0))]
    UserError(std::rc::Rc<serde_json::Value>),
    #[error("{0}")]
    LensError(String),
    #[error("{0}")]
    InvalidErrorObject(String),
    #[error("variable with name '{0}' was cleared by new and then wasn't set")]
    NotInitializedAfterNew(String),
    #[error("the length functor could applied only to an array-like value, but it's applied to '{0}'")]
    LengthOfNotArray(String),
    #[error("call cannot resolve non-String triplet variable part `{variable}` with value '{value}'")]
    NonStringInTriplet { variable: String, value: String },
    /// A stream map key that is neither a string nor an integer; the map's name.
    #[error("unsupported type for {0} map's key")]
    StreamMapKey(String),
    /// `(fail :error:)` in a handler: the error its `xor` caught, raised again (its code and
    /// message are the outcome's if nothing catches it), while `handled`, the value of
    /// `:error:` at the `fail`, becomes `%last_error%`.
    #[error("{caught}")]
    Rethrown { caught: std::rc::Rc<Catchable>, handled: std::rc::Rc<serde_json::Value> },
}

impl Catchable {
    pub fn code(&self) -> i64 {
        match self {
            Catchable::LocalServiceError { .. } => 10000,
            Catchable::MatchValuesNotEqual => 10001,
            Catchable::MismatchValuesEqual => 10002,
            Catchable::VariableNotFound(_) => 10003,
            Catchable::IncompatibleValueType(_) => 10004,
            Catchable::FoldIteratesOverNonArray { .. } => 10005,
            Catchable::UserError(_) => 10006,
            Catchable::LensError(_) => 10007,
            Catchable::InvalidErrorObject(_) => 10008,
            Catchable::NotInitializedAfterNew(_) => 10009,
            Catchable::LengthOfNotArray(_) => 10010,
            Catchable::NonStringInTriplet { .. } => 10011,
            Catchable::StreamMapKey(_) => 10012,
            Catchable::Rethrown { caught, .. } => caught.code(),
        }
    }

    /// Joinable errors mean "a value is not here yet": the instruction waits instead of failing.
    pub fn is_joinable(&self) -> bool {
        matches!(self, Catchable::VariableNotFound(_) | Catchable::NotInitializedAfterNew(_))
    }
}

/// Errors that abandon the run; the previous data is kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Uncatchable {
    #[error("trace error: {0}")]
    Trace(String),
    #[error("the fold over '{0}' has no state in the trace where one is required")]
    FoldStateNotFound(String),
    #[error("call result does not correspond to the instruction: {0}")]
    CallResultNotCorrespond(String),
    #[error("scalar '{0}' is already set; a scalar can be set only once outside folds and `new`")]
    ShadowingIsNotAllowed(String),
    #[error("value for CID {0} is not found in the data")]
    ValueForCidNotFound(String),
    #[error("stream '{0}' reached the limit of {limit} values", limit = crate::limits::MAX_STREAM_LEN)]
    StreamSizeLimitExceeded(String),
    #[error("the trace puts a value of stream '{stream}' in generation {generation}, which no stream of at most {limit} values has", limit = crate::limits::MAX_STREAM_LEN)]
    StreamGeneration { stream: String, generation: usize },
    #[error("the replayed call does not match the trace: {0}")]
    InstructionParametersMismatch(String),
    #[error("trace limit exceeded: {0}")]
    TraceLimit(String),
    #[error("merging the incoming data failed: {0}")]
    Merge(String),
}

impl Uncatchable {
    pub fn code(&self) -> i64 {
        match self {
            Uncatchable::Trace(_) | Uncatchable::Merge(_) => 20000,
            Uncatchable::FoldStateNotFound(_) => 20003,
            Uncatchable::CallResultNotCorrespond(_) => 20006,
            Uncatchable::ShadowingIsNotAllowed(_) => 20007,
            Uncatchable::ValueForCidNotFound(_) => 20010,
            Uncatchable::StreamGeneration { .. } => 20011,
            Uncatchable::StreamSizeLimitExceeded(_) => 20013,
            Uncatchable::InstructionParametersMismatch(_) => 20017,
            Uncatchable::TraceLimit(_) => 20021,
        }
    }
}

/// Code of the farewell error for call results that no `call` consumed.
pub const UNPROCESSED_CALL_RESULT: i64 = 30000;
