//! End-to-end tests across crates live in `tests/`; conformance cases are data files
//! under `conformance/`. This library is empty on purpose: the tests are the crate.
