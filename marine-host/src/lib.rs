//! `marine-host`: WebAssembly compute functions as services.
//!
//! This crate will host blueprints of WebAssembly components on wasmtime's Component
//! Model, sandboxed and linked shared-nothing (see ARCHITECTURE.md).
