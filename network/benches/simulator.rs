//! Simulator throughput: a fan-out over 100 relays where each answer travels back to
//! the client (about 400 particle deliveries per run), and the share of the run spent
//! outside the VM (scheduling, routing, service dispatch); then a fan-out over 1 000
//! relays joined at the client (3 000 deliveries; measured only under `cargo bench`,
//! since it takes seconds per run).

use aqua_network::{Description, Network, NoExternalServices, RunSpec, Simulation};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

const FAN_OUT: &str = r#"
(seq
  (seq
    (call %init_peer_id% ("getDataSrv" "-relay-") [] -relay-)
    (call %init_peer_id% ("getDataSrv" "peers") [] peers))
  (fold peers p
    (par
      (seq
        (call -relay- ("op" "noop") [])
        (seq
          (call p ("op" "identity") [p] answer)
          (seq
            (call -relay- ("op" "noop") [])
            (call %init_peer_id% ("callbackSrv" "response") [answer]))))
      (next p))))
"#;

/// The same fan-out, joined at the client on all the answers (the compiler's `join`
/// pattern: one snapshot of the growing stream per answer); the 1 000-peer test runs it too.
const FAN_OUT_JOIN: &str = include_str!("../tests/fan_out_join.air");

fn network(relays: usize) -> Network {
    let mut toml = String::new();
    for i in 0..relays {
        toml.push_str(&format!("[[relay]]\nname = \"R{i}\"\n"));
    }
    toml.push_str("[[client]]\nname = \"me\"\nrelay = \"R0\"\n");
    Network::from_description(&Description::parse(&toml).expect("valid"), &toml, 1).expect("valid")
}

fn spec(net: &Network, script: &str) -> RunSpec {
    let mut data = BTreeMap::new();
    data.insert("peers".to_owned(), Json::Array(net.peers.iter().filter(|p| p.name != "me").map(|p| json!(p.id)).collect()));
    RunSpec {
        script: script.to_owned(),
        client: net.index_of_name("me").expect("client"),
        data,
        ttl_ms: 600_000,
        particle_id: "bench".into(),
    }
}

/// Runs once with the clock on and prints the figures the book records.
fn figures(name: &str, net: &Network, script: &str) {
    let started = std::time::Instant::now();
    let clock = move || u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let (report, timings) = Simulation::new(net, spec(net, script), &mut NoExternalServices).with_clock(&clock).run_timed();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let deliveries = report.hops.len();
    #[allow(clippy::print_stderr, reason = "a figure for the book, printed once")]
    {
        eprintln!(
            "{name}: {deliveries} deliveries in {:.1} ms = {:.0} particles/s; outside the VM: {:.1} %",
            timings.total_ns as f64 / 1e6,
            deliveries as f64 / (timings.total_ns as f64 / 1e9),
            100.0 * (timings.total_ns - timings.vm_ns) as f64 / timings.total_ns as f64
        );
    }
}

fn bench(c: &mut Criterion) {
    let net = network(100);
    figures("fan-out over 100 relays", &net, FAN_OUT);
    let mut group = c.benchmark_group("simulator");
    group.sample_size(10);
    group.bench_function("fan-out over 100 relays", |b| {
        b.iter(|| Simulation::new(&net, spec(&net, FAN_OUT), &mut NoExternalServices).run())
    });
    // `cargo test` runs benchmarks once as tests; the 1 000-peer run is a test of its own.
    if std::env::args().any(|a| a == "--bench") {
        let big = network(1000);
        figures("fan-out over 1 000 relays with a join", &big, FAN_OUT_JOIN);
        group.bench_function("fan-out over 1 000 relays with a join", |b| {
            b.iter(|| Simulation::new(&big, spec(&big, FAN_OUT_JOIN), &mut NoExternalServices).run())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
