//! No network description, however malformed, makes the parser or the checks panic.

use aqua_network::description::line_col;
use aqua_network::{Description, Network};
use proptest::prelude::*;

/// Fragments of real descriptions, so generated inputs get past the TOML syntax often.
const PIECES: &[&str] = &[
    "[[relay]]\n",
    "name = \"R0\"\n",
    "name = \"R1\"\n",
    "[[client]]\n",
    "relay = \"R0\"\n",
    "relay = \"R9\"\n",
    "[[service]]\n",
    "id = \"s\"\n",
    "peers = [\"all\"]\n",
    "peers = [\"R7\"]\n",
    "functions.f = { result = 1 }\n",
    "functions.g = { echo = true, error = \"x\" }\n",
    "process = []\n",
    "[[fault]]\n",
    "kind = \"crash\"\n",
    "kind = \"melt\"\n",
    "until_ms = 1\n",
    "probability = 2.0\n",
    "seed = 1\n",
    "latency_ms = [9, 1]\n",
    "management = \"nobody\"\n",
    "ttl_ms = -1\n",
    "é\n",
    "= = =\n",
];

proptest! {
    #[test]
    fn descriptions_never_panic(picks in proptest::collection::vec(0..PIECES.len(), 0..24), noise in ".{0,20}") {
        let mut text: String = picks.iter().map(|&i| PIECES[i]).collect();
        text.push_str(&noise);
        if let Ok(d) = Description::parse(&text) {
            let _ = Network::from_description(&d, &text, 0);
        }
    }

    #[test]
    fn line_col_accepts_any_offset(text in ".{0,40}", offset in 0usize..64) {
        let (line, col) = line_col(&text, offset);
        prop_assert!(line >= 1 && col >= 1);
    }
}
