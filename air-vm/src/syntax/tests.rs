//! Tests of the whole front end: every instruction and value form, round trips through
//! the printer, deep nesting, and property tests.

use proptest::prelude::*;

use super::ast::*;
use super::parser::parse_unvalidated;
use super::{beautify, parse, to_air};

/// Every script used in these tests; all valid. The round-trip test goes over them all.
const SCRIPTS: &[&str] = &[
    r#"(call %init_peer_id% ("svc" "f") [] x)"#,
    r#"(call "peer" ("svc" "f") [1 -2 3.5 -0.25 true false [] "s" %init_peer_id% %timestamp% %ttl% %last_error% :error:])"#,
    r#"(seq (call "p" ("s" "f") [] x) (call x.$.peer ("s" "f") [x x.length x.$.a.[0] x.$.[x]!] $out))"#,
    r#"(seq (canon "p" $s #c) (call #c.$.[0] (#c.$.[1] #c.$.[2]) [#c #c.length] y))"#,
    r#"(seq (canon "p" %m #%c) (call #%c.$.p (#%c.$.s.[0] "f") [#%c #%c.$.k] y))"#,
    r#"(seq (ap 1 x) (ap x $s))"#,
    r#"(seq (canon "p" %m #%c) (ap #%c.$.k.[0] y))"#,
    r#"(seq (ap "v" v) (ap ("key" v) %m))"#,
    r#"(seq (ap 1 k) (seq (canon "p" $s #c) (seq (ap (42 k.$.a) %m) (ap (#c.$.[0] -7) %m))))"#,
    r#"(seq (canon %init_peer_id% %m obj) (call "p" ("s" "f") [obj]))"#,
    r#"(par (xor (null) (never)) (seq (null) (null)))"#,
    r#"(seq (ap 1 x) (match x 1 (mismatch x "2" (null))))"#,
    r#"(fold [] i (seq (null) (next i)) (null))"#,
    r#"(seq (ap [] xs) (fold xs i (seq (next i) (call "p" ("s" "f") [i]))))"#,
    r#"(new $s (fold $s i (par (call "p" ("s" "f") [i]) (next i))))"#,
    r#"(new %m (fold %m kv (seq (call "p" ("s" "f") [kv.$.key kv.$.value]) (next kv)) (never)))"#,
    r#"(seq (canon "p" $s #c) (fold #c i (next i)))"#,
    r#"(seq (canon "p" %m #%c) (seq (fold #%c kv (next kv)) (fold #%c.$.k v (next v))))"#,
    r#"(new $s (seq (ap 1 $s) (new %m (new x (new #c (new #%c (null)))))))"#,
    r#"(fail 1 "message with ; and ( inside")"#,
    r#"(fail -20 "")"#,
    r#"(seq (ap 1 e) (seq (fail e) (fail e.$.error)))"#,
    r#"(seq (canon "p" $s #c) (fail #c.$.[0]))"#,
    r#"(xor (null) (seq (fail %last_error%) (fail :error:)))"#,
    r#"(xor (null) (call "p" ("s" "f") [%last_error%.$.message :error:.$.error_code]))"#,
    "; a comment\n(seq ; another\n  (call %init_peer_id% (\"getDataSrv\" \"-relay-\") [] -relay-) ; trailing\n  (call -relay- (\"op\" \"noop\") []))",
    r#"(call %init_peer_id% ("имя" "函数") ["ünïcödé"] значение)"#,
    r#"(seq (call "p" ("s" "f") [] $s) (seq (canon "p" $s #$s) (call "p" ("s" "f") [#$s.$.[0]])))"#,
];

/// A copy of `script` with every span zeroed, for comparisons "up to spans".
fn without_spans(script: &Script) -> Script {
    fn var(v: &mut Var) {
        v.span = Span::default();
    }
    fn lens(l: &mut Option<Box<Lens>>) {
        if let Some(l) = l {
            l.span = Span::default();
            if let LensKind::Path { accessors, .. } = &mut l.kind {
                for a in accessors {
                    match a {
                        Accessor::Scalar(v) => var(v),
                        Accessor::Field(span) => *span = Span::default(),
                        Accessor::Index(_) => {}
                    }
                }
            }
        }
    }
    fn value(v: &mut Value) {
        match v {
            Value::LastError(l) | Value::Error(l) => lens(l),
            Value::Scalar { var: v, lens: l } | Value::CanonStream { var: v, lens: l } | Value::CanonMap { var: v, lens: l } => {
                var(v);
                lens(l);
            }
            Value::Stream(v) | Value::StreamMap(v) => var(v),
            Value::String(span) => *span = Span::default(),
            _ => {}
        }
    }
    let mut script = script.clone();
    for instr in &mut script.instrs {
        instr.span = Span::default();
        match &mut instr.kind {
            InstrKind::Call(c) => {
                value(&mut c.peer);
                value(&mut c.service);
                value(&mut c.function);
                c.args.iter_mut().for_each(value);
                match &mut c.output {
                    CallOutput::Scalar(v) | CallOutput::Stream(v) => var(v),
                    CallOutput::None => {}
                }
            }
            InstrKind::Ap(ap) => {
                value(&mut ap.source);
                var(&mut ap.dest);
            }
            InstrKind::ApMap(ap) => {
                value(&mut ap.key);
                value(&mut ap.value);
                var(&mut ap.map);
            }
            InstrKind::Canon(c) => {
                value(&mut c.peer);
                var(&mut c.source);
                var(&mut c.dest);
            }
            InstrKind::Match(m) | InstrKind::Mismatch(m) => {
                value(&mut m.left);
                value(&mut m.right);
            }
            InstrKind::Fold(f) => {
                value(&mut f.iterable);
                var(&mut f.iterator);
            }
            InstrKind::Next(v) | InstrKind::New { var: v, .. } => var(v),
            InstrKind::Fail(f) => match &mut **f {
                Fail::Value(v) => value(v),
                Fail::Literal { message, .. } => *message = Span::default(),
                Fail::LastError | Fail::Error => {}
            },
            InstrKind::Seq(..) | InstrKind::Par(..) | InstrKind::Xor(..) | InstrKind::Never | InstrKind::Null => {}
        }
    }
    script
}

fn assert_same(a: &Script, b: &Script) {
    let (a, b) = (without_spans(a), without_spans(b));
    // String literals and lens fields are spans: `assert_round_trip` compares their text.
    assert!(a.names().eq(b.names()));
    assert_eq!(a.root, b.root);
    assert_eq!(a.instrs, b.instrs);
}

/// Prints and reparses, checking the result is the same script and the text is a fixpoint.
fn assert_round_trip(script: &Script) {
    let text = to_air(script);
    let reparsed = parse_unvalidated(&text).unwrap_or_else(|e| panic!("printed text does not parse: {e}\n{text}"));
    assert_same(script, &reparsed);
    assert_eq!(to_air(&reparsed), text);
}

#[test]
fn all_scripts_are_valid_and_round_trip() {
    for source in SCRIPTS {
        let script = parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_round_trip(&script);
        // Printed text is also valid.
        parse(&to_air(&script)).unwrap();
        assert!(!beautify(&script).is_empty());
    }
}

/// The text of a string literal value.
fn string<'a>(script: &'a Script, value: &Value) -> &'a str {
    match value {
        Value::String(span) => script.text(*span),
        other => panic!("not a string: {other:?}"),
    }
}

fn root(source: &str) -> (Script, InstrKind) {
    let script = parse(source).unwrap_or_else(|e| panic!("{source}: {e}"));
    let kind = script.instr(script.root).kind.clone();
    (script, kind)
}

fn last_child(source: &str) -> (Script, InstrKind) {
    // The right child of the root `seq`.
    let (script, kind) = root(source);
    let InstrKind::Seq(_, right) = kind else { panic!("not a seq: {kind:?}") };
    let kind = script.instr(right).kind.clone();
    (script, kind)
}

#[test]
fn call_form() {
    let source = r#"(call %init_peer_id% ("svc" "f") [1 "a" true] $out)"#;
    let (script, kind) = root(source);
    let InstrKind::Call(call) = kind else { panic!() };
    assert_eq!(call.peer, Value::InitPeerId);
    assert_eq!((string(&script, &call.service), string(&script, &call.function)), ("svc", "f"));
    assert_eq!(call.args.len(), 3);
    assert_eq!((&call.args[0], string(&script, &call.args[1]), &call.args[2]), (&Value::Number(Number::Int(1)), "a", &Value::Bool(true)));
    let CallOutput::Stream(out) = call.output else { panic!() };
    assert_eq!(script.name(out.id), "$out");
    assert_eq!(out.kind, VarKind::Stream);
    assert_eq!(script.instr(script.root).span, Span::new(0, source.len()));

    let (_, kind) = root(r#"(call "p" ("s" "f") [])"#);
    let InstrKind::Call(call) = kind else { panic!() };
    assert!(call.args.is_empty());
    assert_eq!(call.output, CallOutput::None);
}

#[test]
fn ap_forms() {
    let (script, kind) = last_child("(seq (ap 1 x) (ap x.$.a $s))");
    let InstrKind::Ap(ap) = kind else { panic!() };
    assert!(matches!(ap.source, Value::Scalar { lens: Some(_), .. }));
    assert_eq!(script.name(ap.dest.id), "$s");
    let (script, kind) = root(r#"(ap ("k" %init_peer_id%) %m)"#);
    let InstrKind::ApMap(ap) = kind else { panic!() };
    assert_eq!(string(&script, &ap.key), "k");
    assert_eq!(ap.value, Value::InitPeerId);
    assert_eq!(script.name(ap.map.id), "%m");
    assert_eq!(ap.map.kind, VarKind::StreamMap);
}

#[test]
fn canon_forms() {
    for (source, dest, kind) in [
        ("(canon \"p\" $s #c)", "#c", VarKind::CanonStream),
        ("(canon \"p\" $s #$c)", "#$c", VarKind::CanonStream),
        ("(canon \"p\" %m #%c)", "#%c", VarKind::CanonMap),
        ("(canon \"p\" %m scalar)", "scalar", VarKind::Scalar),
    ] {
        let (script, instr) = root(source);
        let InstrKind::Canon(canon) = instr else { panic!() };
        assert_eq!(script.name(canon.dest.id), dest);
        assert_eq!(canon.dest.kind, kind);
        assert_eq!(string(&script, &canon.peer), "p");
    }
}

#[test]
fn combinators_and_leaves() {
    let (script, kind) = root("(seq (par (null) (never)) (xor (null) (null)))");
    let InstrKind::Seq(l, r) = kind else { panic!() };
    assert!(l < script.root && r < script.root, "children come before parents");
    assert!(matches!(script.instr(l).kind, InstrKind::Par(..)));
    assert!(matches!(script.instr(r).kind, InstrKind::Xor(..)));
    assert_eq!(script.instr(l).span, Span::new(5, 25));
    assert_eq!(script.instrs.len(), 7);
}

#[test]
fn match_forms() {
    let (script, kind) = root("(match 1 \"1\" (null))");
    let InstrKind::Match(m) = kind else { panic!() };
    assert_eq!((&m.left, string(&script, &m.right)), (&Value::Number(Number::Int(1)), "1"));
    let (_, kind) = root("(mismatch %timestamp% %ttl% (null))");
    assert!(matches!(kind, InstrKind::Mismatch(_)));
}

#[test]
fn fold_next_new() {
    let (script, kind) = root("(new $s (fold $s i (next i) (null)))");
    let InstrKind::New { body, .. } = kind else { panic!() };
    let InstrKind::Fold(fold) = script.instr(body).kind.clone() else { panic!() };
    assert!(matches!(fold.iterable, Value::Stream(_)));
    assert_eq!(script.name(fold.iterator.id), "i");
    assert!(fold.last.is_some());
    let InstrKind::Next(var) = script.instr(fold.body).kind else { panic!() };
    assert_eq!(var.id, fold.iterator.id);
    let (script, kind) = root("(new %m (null))");
    let InstrKind::New { var, .. } = kind else { panic!() };
    assert_eq!(script.name(var.id), "%m");
}

#[test]
fn fail_forms() {
    let (script, kind) = root(r#"(fail 42 "boom")"#);
    let InstrKind::Fail(fail) = kind else { panic!("{kind:?}") };
    let Fail::Literal { code: 42, message } = *fail else { panic!("{fail:?}") };
    assert_eq!(script.text(message), "boom");
    assert_eq!(root("(fail %last_error%)").1, InstrKind::Fail(Box::new(Fail::LastError)));
    assert_eq!(root("(fail :error:)").1, InstrKind::Fail(Box::new(Fail::Error)));
    let (_, kind) = last_child("(seq (canon \"p\" $s #c) (fail #c.$.[0]))");
    let InstrKind::Fail(f) = kind else { panic!() };
    assert!(matches!(*f, Fail::Value(Value::CanonStream { lens: Some(_), .. })));
}

#[test]
fn value_forms_in_arguments() {
    let script =
        parse(r#"(seq (ap 1 x) (seq (ap 2 -relay-) (call "p" ("s" "f") [x.$.a.[0].[x]! x.length -relay- -5 +5 1.25 -1.5 "" []])))"#)
            .unwrap();
    let call = script.instrs.iter().find_map(|i| match &i.kind {
        InstrKind::Call(call) => Some(call.clone()),
        _ => None,
    });
    let call = call.unwrap();
    let Value::Scalar { var, lens: Some(lens) } = &call.args[0] else { panic!() };
    assert_eq!(script.name(var.id), "x");
    let LensKind::Path { accessors, flatten: true } = &lens.kind else { panic!() };
    let [Accessor::Field(field), Accessor::Index(0), ..] = accessors[..] else { panic!("{accessors:?}") };
    assert_eq!(script.text(field), "a");
    assert!(matches!(accessors[2], Accessor::Scalar(v) if script.name(v.id) == "x"));
    assert!(matches!(&call.args[1], Value::Scalar { lens: Some(l), .. } if l.kind == LensKind::Length));
    assert!(matches!(&call.args[2], Value::Scalar { var, lens: None } if script.name(var.id) == "-relay-"));
    assert_eq!(call.args[3], Value::Number(Number::Int(-5)));
    assert_eq!(call.args[4], Value::Number(Number::Int(5)));
    assert_eq!(call.args[5], Value::Number(Number::Float(1.25)));
    assert_eq!(call.args[6], Value::Number(Number::Float(-1.5)));
    assert_eq!(string(&script, &call.args[7]), "");
    assert_eq!(call.args[8], Value::EmptyArray);
}

#[test]
fn hash_dollar_and_hash_are_distinct_names() {
    let script = parse("(seq (canon \"p\" $s #s) (canon \"p\" $s #$s))").unwrap();
    assert!(script.names().eq(["$s", "#s", "#$s"]));
}

#[test]
fn string_literals_are_kept_whole() {
    // A long literal (the lexer's automaton reads it to its closing quote).
    let long = "é-x".repeat(100_000);
    let script = parse(&format!(r#"(call "p" ("s" "f") ["{long}" ""] r)"#)).unwrap();
    let InstrKind::Call(call) = &script.instr(script.root).kind else { panic!() };
    assert_eq!(call.args.len(), 2);
    assert_eq!(string(&script, &call.args[0]), long);
    assert_eq!(string(&script, &call.args[1]), "");
}

#[test]
fn errors_display() {
    let errors = parse("(seq (null)").unwrap_err();
    assert_eq!(errors.to_string(), "unclosed `(` (at bytes 0..1); hint: `seq` needs two instructions, then `)`");
    let _: &dyn std::error::Error = &errors;
}

const DEPTH: usize = 10_000;

/// Runs `f` on a thread with the default test stack size (2 MiB), to prove no recursion.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().stack_size(2 * 1024 * 1024).spawn(f).unwrap().join().unwrap();
}

#[test]
fn deeply_nested_script() {
    on_small_stack(|| {
        let mut source = String::new();
        for _ in 0..DEPTH {
            source.push_str("(seq (null) ");
        }
        source.push_str("(null)");
        source.push_str(&")".repeat(DEPTH));
        let script = parse(&source).unwrap();
        assert_eq!(script.instrs.len(), 2 * DEPTH + 1);
        let text = to_air(&script);
        assert!(text.len() < super::MAX_AIR_SIZE_BYTES);
        assert_round_trip(&script);
        assert_eq!(beautify(&script).lines().count(), DEPTH + 1);
        drop(script);
    });
}

#[test]
fn deeply_nested_mixed_script() {
    on_small_stack(|| {
        let mut source = String::from("(seq (call \"p\" (\"s\" \"f\") [] x) ");
        let opens = ["(par (null) ", "(xor (never) ", "(fold x i ", "(new $s ", "(match x 1 ", "(fold $s j "];
        for k in 0..DEPTH {
            source.push_str(opens[k % opens.len()]);
        }
        source.push_str("(null)");
        for k in (0..DEPTH).rev() {
            // Folds get a `last` instruction, to exercise that form too.
            source.push_str(if opens[k % opens.len()].starts_with("(fold") { " (null))" } else { ")" });
        }
        source.push(')');
        // Nested folds reuse `i` and `j`, which validation rejects, with one error each.
        let errors = parse(&source).unwrap_err();
        assert!(errors.errors().len() > 1000);
        let script = parse_unvalidated(&source).unwrap();
        assert_round_trip(&script);
        beautify(&script);
    });
}

#[test]
fn deeply_unclosed_script() {
    on_small_stack(|| {
        let source = "(seq (null) ".repeat(DEPTH);
        let errors = parse(&source).unwrap_err();
        assert_eq!(errors.first().message, "unclosed `(`");
        assert_eq!(errors.first().span, Span::new(12 * (DEPTH - 1), 12 * (DEPTH - 1) + 1));
    });
}

// ---- Property tests ----

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(items).prop_map(str::to_string)
}

fn lens() -> impl Strategy<Value = String> {
    pick(&[".length", ".$.a", ".$.[0]", ".$.a.[1].[x]!", ".$.[y].b-c", ".$.[4294967295]", ".$.поле"])
}

fn maybe_lens() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), lens()]
}

fn scalar() -> impl Strategy<Value = String> {
    pick(&["x", "y", "-relay-", "peer_1", "ключ"])
}

fn literal() -> impl Strategy<Value = String> {
    prop_oneof![
        pick(&["\"\"", "\"hello\"", "\"a b; (c)\"", "true", "false", "[]"]),
        any::<i64>().prop_map(|i| i.to_string()),
        (-9999i32..9999, 0u32..99999).prop_map(|(i, f)| format!("{i}.{f}")),
    ]
}

/// Values allowed as call arguments and `match` operands.
fn argument() -> impl Strategy<Value = String> {
    prop_oneof![
        literal(),
        pick(&["%init_peer_id%", "%timestamp%", "%ttl%", "%last_error%", ":error:", "%last_error%.$.message"]),
        (scalar(), maybe_lens()).prop_map(|(s, l)| s + &l),
        (pick(&["#c", "#$c", "#%m"]), maybe_lens()).prop_map(|(s, l)| s + &l),
    ]
}

fn ap_source() -> impl Strategy<Value = String> {
    argument().prop_map(|a| if a == "#%m" { "#%m.$.k".to_string() } else { a })
}

fn lensed_canon() -> impl Strategy<Value = String> {
    (pick(&["#c", "#%m"]), lens()).prop_map(|(s, l)| s + &l)
}

fn peer() -> impl Strategy<Value = String> {
    prop_oneof![pick(&["%init_peer_id%", "\"peer\""]), (scalar(), maybe_lens()).prop_map(|(s, l)| s + &l), lensed_canon()]
}

fn triplet_part() -> impl Strategy<Value = String> {
    prop_oneof![pick(&["\"svc\"", "\"f\""]), (scalar(), maybe_lens()).prop_map(|(s, l)| s + &l), lensed_canon()]
}

fn leaf() -> impl Strategy<Value = String> {
    prop_oneof![
        (peer(), triplet_part(), triplet_part(), proptest::collection::vec(argument(), 0..4), pick(&["", " out", " $s"]))
            .prop_map(|(p, s, f, args, out)| format!("(call {p} ({s} {f}) [{}]{out})", args.join(" "))),
        (ap_source(), pick(&["x", "$s"])).prop_map(|(s, d)| format!("(ap {s} {d})")),
        (prop_oneof![pick(&["\"k\"", "7", "-7", "x", "#c.$.[0]"]), (scalar(), lens()).prop_map(|(s, l)| s + &l)], ap_source())
            .prop_map(|(k, v)| format!("(ap ({k} {v}) %m)")),
        (peer(), pick(&["$s #c", "$s #$c", "%m #%m", "%m x"])).prop_map(|(p, sd)| format!("(canon {p} {sd})")),
        pick(&["(null)", "(never)", "(next i)", "(fail 3 \"msg\")", "(fail -1 \"\")", "(fail x)", "(fail x.$.e)"]),
        pick(&["(fail #c.$.[0])", "(fail %last_error%)", "(fail :error:)"]),
    ]
}

fn instruction() -> impl Strategy<Value = String> {
    leaf().prop_recursive(6, 48, 3, |inner| {
        prop_oneof![
            (pick(&["seq", "par", "xor"]), inner.clone(), inner.clone()).prop_map(|(k, a, b)| format!("({k} {a} {b})")),
            (pick(&["match", "mismatch"]), argument(), argument(), inner.clone()).prop_map(|(k, a, b, i)| format!("({k} {a} {b} {i})")),
            (
                prop_oneof![(scalar(), maybe_lens()).prop_map(|(s, l)| s + &l), pick(&["#c", "#%m", "#%m.$.k", "[]", "$s", "%m"])],
                pick(&["i", "j"]),
                inner.clone(),
                proptest::option::of(inner.clone())
            )
                .prop_map(|(it, i, body, last)| match last {
                    Some(last) => format!("(fold {it} {i} {body} {last})"),
                    None => format!("(fold {it} {i} {body})"),
                }),
            (pick(&["x", "$s", "%m", "#c", "#%m"]), inner).prop_map(|(v, i)| format!("(new {v} {i})")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn printed_scripts_reparse_identically(source in instruction()) {
        let script = parse_unvalidated(&source).unwrap_or_else(|e| panic!("generated {source}: {e}"));
        assert_round_trip(&script);
        // Validation sees the same script either way.
        prop_assert_eq!(parse(&source).is_ok(), parse(&to_air(&script)).is_ok());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        check_no_panic(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn token_soup_never_panics(tokens in proptest::collection::vec(pick(&[
        "(", ")", "[", "]", " ", "\n", "seq", "par", "call", "fold", "next", "new", "ap", "canon", "fail", "null",
        "match", "\"s\"", "\"", "x", "i", "$s", "%m", "#c", "#%m", "#$c", ".$", ".[", "]", ".length", "!", ".",
        "0", "-1", "1.5", "123456789.0", "%init_peer_id%", "%last_error%", ":error:", ";c\n", "-relay-", "é", "%",
    ]), 0..40)) {
        check_no_panic(&tokens.concat());
    }
}

/// Parses `source`, checking errors point inside it; printing any success.
fn check_no_panic(source: &str) {
    match parse(source) {
        Ok(script) => {
            to_air(&script);
            beautify(&script);
        }
        Err(errors) => {
            for e in errors.errors() {
                assert!(e.span.start <= e.span.end && e.span.end as usize <= source.len(), "{e} in {source:?}");
                assert!(!e.message.is_empty());
            }
        }
    }
}
