//! An effector: fetches URLs by running the host's `curl`. A peer runs it only if its
//! whitelist names this module's id for the `curl` effect.

wit_bindgen::generate!({ world: "example:curl-fetch/curl-fetch@0.1.0", path: ["../../../marine-host/wit", "wit"], generate_all });

use aqua::host::curl;

struct Fetch;

impl Guest for Fetch {
    fn fetch(url: String) -> Result<String, String> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("only http and https URLs are fetched, not {url}"));
        }
        curl::run(&["--silent".into(), "--show-error".into(), "--fail".into(), "--max-time".into(), "10".into(), url])
    }
}

export!(Fetch);
