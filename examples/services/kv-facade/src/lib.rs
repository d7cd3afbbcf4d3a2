//! The facade of a two-module service: what Aqua calls. It links to the storage module
//! through the host; each module keeps its own memory.

wit_bindgen::generate!({ world: "example:kv-facade/kv-facade@0.1.0", path: ["../storage/wit", "wit"], generate_all });

use example::storage::kv;

struct Facade;

impl Guest for Facade {
    fn set(key: String, value: String) -> Result<String, String> {
        kv::put(&key, &value)?;
        Ok(key)
    }

    fn get(key: String) -> Option<String> {
        kv::get(&key)
    }
}

export!(Facade);
