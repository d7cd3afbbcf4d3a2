//! Feeds arbitrary bytes as the data a peer receives (see `scenario.rs`): no run may
//! panic, lose the previous data or write data that does not decode.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../scenario.rs"]
mod scenario;

fuzz_target!(|incoming: &[u8]| scenario::Scenario::get().check(incoming));
