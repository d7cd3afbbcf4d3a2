//! Front-end speed: lexing, parsing and checking a generated 10 000-line module.
//! The aim is under 50 ms; the reference compiler needs about 130 ms for one
//! small file under node.

use std::fmt::Write;

use aqua_compiler::check::CheckOptions;
use aqua_compiler::check_files;
use aqua_compiler::diagnostic::SourceId;
use aqua_compiler::modules::MemoryLoader;
use aqua_compiler::syntax::parse_module;
use criterion::{Criterion, criterion_group, criterion_main};

/// A module of about `lines` lines in the style of real Aqua: a service, a data type,
/// and many functions with calls, `on`, `for`, `if`, streams and arithmetic. Each
/// function calls the one before it, so name resolution crosses the whole module.
fn generated_module(lines: usize) -> String {
    let mut s = String::from(
        "aqua Generated declares *\n\nimport \"@fluencelabs/aqua-lib/builtin.aqua\"\n\n\
         data Point:\n    x: u32\n    y: u32\n    label: string\n\n\
         service Store(\"store\"):\n    get(key: string) -> Point\n    put(key: string, p: Point) -> bool\n\n\
         func f0(peer: string, relay: string, keys: []string, n: u32) -> u32:\n    <- n\n\n",
    );
    let mut i = 1;
    while s.lines().count() < lines {
        let prev = i - 1;
        write!(
            s,
            "-- function {i}\n\
             func f{i}(peer: string, relay: string, keys: []string, n: u32) -> u32:\n    \
             results: *u32\n    \
             on peer via relay:\n        \
             for k <- keys par:\n            \
             p <- Store.get(k)\n            \
             moved = Point(x = p.x + n * 2, y = p.y, label = k)\n            \
             ok <- Store.put(k, moved)\n            \
             if ok && p.x > n:\n                \
             results <<- p.x\n            \
             else:\n                \
             results <<- p.y\n    \
             join results[0]\n    \
             first = results[0]\n    \
             total <- f{prev}(peer, relay, keys, first + n)\n    \
             <- total + keys.length\n\n"
        )
        .expect("write to a string");
        i += 1;
    }
    s
}

fn bench(c: &mut Criterion) {
    let source = generated_module(10_000);
    // The generated module must be valid, or the figure means nothing.
    let mut loader = MemoryLoader::default();
    loader.files.insert("gen.aqua".into(), source.clone());
    let result = check_files(&["gen.aqua".into()], &[], &mut loader, &CheckOptions::default());
    assert!(result.diagnostics.is_empty(), "{:?}", result.diagnostics.iter().take(3).collect::<Vec<_>>());

    let mut group = c.benchmark_group("front end, 10 000 lines");
    group.sample_size(20);
    group.bench_function("lex + layout + parse", |b| b.iter(|| parse_module(SourceId(0), &source)));
    group.bench_function("lex + parse + check", |b| {
        b.iter(|| {
            let mut loader = MemoryLoader::default();
            loader.files.insert("gen.aqua".into(), source.clone());
            check_files(&["gen.aqua".into()], &[], &mut loader, &CheckOptions::default())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
