//! Parsing (with validation), printing and beautifying a generated script of about
//! 10 000 instructions: a balanced tree of `seq`/`par` over calls with lenses.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

/// The allocator of the `aqua` binary, which runs the VM: the figures are what a peer gets.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Calls in the tree; with the `seq`/`par` nodes that join them, about 10 000 instructions.
const CALLS: usize = 5_000;

/// Writes a balanced tree over calls `lo..hi`. Recursion depth is log2(CALLS).
fn tree(lo: usize, hi: usize, out: &mut String) {
    if hi - lo == 1 {
        let output = if lo.is_multiple_of(2) { "$results".to_string() } else { format!("r{lo}") };
        out.push_str(&format!(
            "(call x.$.peers.[{}] (\"service\" \"fn_{}\") [x.$.a.[0].[k]! #c.length #c.$.[1].name \"literal\" {lo} -1.5] {output})\n",
            lo % 7,
            lo % 13
        ));
        return;
    }
    let mid = (lo + hi) / 2;
    out.push_str(if (hi - lo).is_multiple_of(3) { "(par\n" } else { "(seq\n" });
    tree(lo, mid, out);
    tree(mid, hi, out);
    out.push_str(")\n");
}

fn script() -> String {
    let mut out = String::from(
        "(seq (call %init_peer_id% (\"s\" \"x\") [] x)\n(seq (call %init_peer_id% (\"s\" \"k\") [] k)\n(seq (canon %init_peer_id% $s #c)\n",
    );
    tree(0, CALLS, &mut out);
    out.push_str(")))\n");
    out
}

/// 10 000 plain instructions: a chain of `seq` over calls with one literal argument.
fn simple_script() -> String {
    let mut s = String::new();
    for i in 0..4_999 {
        s.push_str(&format!("(seq (call \"peer_{}\" (\"service\" \"function\") [\"arg\"] out_{i})\n", i % 10));
    }
    s.push_str("(null)");
    s.push_str(&")".repeat(4_999));
    s
}

fn bench(c: &mut Criterion) {
    let simple = simple_script();
    assert!(air_vm::syntax::parse(&simple).expect("the simple script is valid").instrs.len() >= 9_999);
    c.bench_function("parse 10k plain instructions", |b| b.iter(|| air_vm::syntax::parse(black_box(&simple))));
    let source = script();
    let parsed = air_vm::syntax::parse(&source).expect("the generated script is valid");
    assert!(parsed.instrs.len() >= 10_000);
    c.bench_function("parse 10k instructions", |b| b.iter(|| air_vm::syntax::parse(black_box(&source))));
    c.bench_function("to_air 10k instructions", |b| b.iter(|| air_vm::syntax::to_air(black_box(&parsed))));
    c.bench_function("beautify 10k instructions", |b| b.iter(|| air_vm::syntax::beautify(black_box(&parsed))));
}

criterion_group!(benches, bench);
criterion_main!(benches);
