//! Feeds arbitrary UTF-8 to the AIR front end: it must never panic, and whatever
//! parses must print to text that parses back to the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|source: &str| {
    if let Ok(script) = air_vm::syntax::parse(source) {
        let text = air_vm::syntax::to_air(&script);
        let again = air_vm::syntax::parse(&text).expect("printed AIR must parse");
        assert_eq!(air_vm::syntax::to_air(&again), text);
        let _ = air_vm::syntax::beautify(&script);
    }
});
