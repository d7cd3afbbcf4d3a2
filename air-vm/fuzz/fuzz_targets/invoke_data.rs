//! Feeds arbitrary bytes as the data a peer receives (see `scenario.rs`): no run may
//! panic, lose the previous data or write data that does not decode.
#![no_main]

use libfuzzer_sys::fuzz_target;

// The scenario's genuine seed (`from_a`) is read by the corpus test, not here.
#[allow(dead_code)]
#[path = "../scenario.rs"]
mod scenario;

fuzz_target!(|incoming: &[u8]| scenario::Scenario::get().check(incoming));
