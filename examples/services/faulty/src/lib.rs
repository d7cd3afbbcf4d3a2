//! Misbehaves on request: runs too long, takes too much memory, traps, answers too
//! much, and touches files, so the host's limits and sandbox can be tested.

wit_bindgen::generate!({ world: "faulty", path: "wit" });

use std::sync::atomic::{AtomicU32, Ordering};

static CALLS: AtomicU32 = AtomicU32::new(0);

struct Faulty;

impl Guest for Faulty {
    fn spin(rounds: u64) -> u64 {
        let mut x: u64 = 0;
        for i in 0..rounds {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        x
    }

    fn grab(mib: u32) -> u32 {
        let v = vec![1u8; mib as usize * (1 << 20)];
        std::hint::black_box(&v);
        v.iter().map(|&b| u32::from(b)).sum::<u32>() / (1 << 20)
    }

    fn crash() -> String {
        panic!("asked to crash")
    }

    fn big(bytes: u32) -> String {
        "x".repeat(bytes as usize)
    }

    fn read_file(path: String) -> Result<String, String> {
        std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))
    }

    fn write_file(path: String, text: String) -> Result<String, String> {
        std::fs::write(&path, &text).map(|()| path.clone()).map_err(|e| format!("{path}: {e}"))
    }

    fn get_env(name: String) -> Option<String> {
        std::env::var(name).ok()
    }

    fn connect(address: String) -> Result<String, String> {
        std::net::TcpStream::connect(&address).map(|_| format!("connected to {address}")).map_err(|e| format!("{address}: {e}"))
    }

    fn count() -> u32 {
        CALLS.fetch_add(1, Ordering::Relaxed) + 1
    }
}

export!(Faulty);
