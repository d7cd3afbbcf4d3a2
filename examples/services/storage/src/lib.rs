//! The storage module of a two-module service: keeps values as files in /storage,
//! which persists across calls. Its `kv` interface is for the facade, not for Aqua.

wit_bindgen::generate!({ world: "storage", path: "wit" });

use exports::example::storage::kv::Guest;

struct Storage;

fn path(key: &str) -> String {
    // Keys become file names: keep them to a safe alphabet.
    let safe: String = key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
    format!("/storage/{safe}.value")
}

impl Guest for Storage {
    fn put(key: String, value: String) -> Result<(), String> {
        std::fs::write(path(&key), value).map_err(|e| format!("cannot store {key}: {e}"))
    }

    fn get(key: String) -> Option<String> {
        std::fs::read_to_string(path(&key)).ok()
    }
}

export!(Storage);
