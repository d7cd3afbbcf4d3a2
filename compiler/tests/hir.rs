//! The checked program (HIR) that lowering works from: names resolved to locals and
//! definitions, service ids attached to calls, constants folded, values typed.

use std::rc::Rc;

use aqua_compiler::check::{CheckOptions, ConstValue, Def, FuncDef};
use aqua_compiler::hir::{Bind, Body, Callee, ExprKind, StmtKind};
use aqua_compiler::modules::MemoryLoader;
use aqua_compiler::types::{ScalarType, Type};

/// Checks `source` (which must be valid) and gives the function `name`.
fn func(source: &str, name: &str) -> Rc<FuncDef> {
    let mut loader = MemoryLoader::default();
    loader.files.insert("main.aqua".into(), source.into());
    let result = aqua_compiler::check_files(&["main.aqua".into()], &[], &mut loader, &CheckOptions::default());
    assert!(result.diagnostics.is_empty(), "{:?}", result.diagnostics);
    let root = result.program.roots[0];
    match result.program.modules[&root].scope.defs.get(name) {
        Some(Def::Func(f)) => f.clone(),
        other => panic!("no function {name}: {other:?}"),
    }
}

fn literal_str(e: &aqua_compiler::hir::Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Literal(ConstValue::Str(s)) => Some(s),
        _ => None,
    }
}

fn local_name<'a>(body: &'a Body, e: &aqua_compiler::hir::Expr) -> &'a str {
    match e.kind {
        ExprKind::Local(id) => &body.local(id).name,
        _ => panic!("not a local: {e:?}"),
    }
}

#[test]
fn service_calls_carry_the_id_in_force() {
    let f = func(
        r#"aqua M

const OTHER = "other-id"

service Srv("default-id"):
    get() -> string

func f(dynamic: string) -> string, string, string, string:
    a <- Srv.get()
    Srv "set-id"
    b <- Srv.get()
    on dynamic:
        Srv dynamic
        c <- Srv.get()
    Srv OTHER
    d <- Srv.get()
    <- a, b, c, d
"#,
        "f",
    );
    let mut ids = Vec::new();
    let collect = |stmts: &[aqua_compiler::hir::Stmt], ids: &mut Vec<String>| {
        for s in stmts {
            if let StmtKind::Call { call, .. } = &s.kind
                && let Callee::Service { id, function, .. } = &call.callee
            {
                assert_eq!(function, "get");
                ids.push(literal_str(id).map_or_else(|| format!("local {}", local_name(&f.body, id)), str::to_string));
            }
        }
    };
    collect(&f.body.block.stmts, &mut ids);
    for s in &f.body.block.stmts {
        if let StmtKind::On { body, .. } = &s.kind {
            collect(&body.stmts, &mut ids);
        }
    }
    // The `on` block's call is collected last.
    assert_eq!(ids, vec!["default-id", "set-id", "other-id", "local dynamic"]);
}

#[test]
fn bindings_make_locals_or_push_to_streams() {
    let f = func(
        r#"aqua M

service Srv("s"):
    get() -> string

func f() -> []string:
    out: *string
    x <- Srv.get()
    out <- Srv.get()
    out <<- x
    <- out
"#,
        "f",
    );
    let stmts = &f.body.block.stmts;
    let StmtKind::Declare(out) = stmts[0].kind else { panic!("{:?}", stmts[0]) };
    assert_eq!(f.body.local(out).ty, Type::Stream(Box::new(Type::Scalar(ScalarType::String))));
    let StmtKind::Call { binds, .. } = &stmts[1].kind else { panic!() };
    let [Bind::New(x)] = binds.as_slice() else { panic!("{binds:?}") };
    assert_eq!(f.body.local(*x).name, "x");
    let StmtKind::Call { binds, .. } = &stmts[2].kind else { panic!() };
    assert_eq!(binds.as_slice(), [Bind::Push(out)]);
    let StmtKind::Push { stream, key: None, value } = &stmts[3].kind else { panic!() };
    assert_eq!(*stream, out);
    assert_eq!(local_name(&f.body, value), "x");
    assert_eq!(f.body.results.len(), 1);
    assert_eq!(local_name(&f.body, &f.body.results[0]), "out");
}

#[test]
fn constants_are_folded_and_builtins_named() {
    let f = func(
        r#"aqua M

const N = 5

func f() -> u32, string, u32:
    <- N, HOST_PEER_ID, PARTICLE_TTL
"#,
        "f",
    );
    assert!(matches!(f.body.results[0].kind, ExprKind::Literal(ConstValue::Int(5))));
    assert!(matches!(f.body.results[1].kind, ExprKind::Builtin("HOST_PEER_ID")));
    assert_eq!(f.body.results[2].ty, Type::Scalar(ScalarType::U32));
}

#[test]
fn data_values_copies_lengths_and_map_methods() {
    let f = func(
        r#"aqua M

data User:
    name: string
    age: u32

func f(name: string, xs: []string) -> User, User, u32, []u32:
    u = User(name, age = 3)
    older = u.copy(age = 4)
    m: %u32
    m <<- "k", 1
    got = m.get("k")
    <- u, older, xs.length, got
"#,
        "f",
    );
    let stmts = &f.body.block.stmts;
    let StmtKind::Assign { value, .. } = &stmts[0].kind else { panic!() };
    let ExprKind::Construct(fields) = &value.kind else { panic!("{value:?}") };
    assert_eq!(fields.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["name", "age"]);
    let StmtKind::Assign { value, .. } = &stmts[1].kind else { panic!() };
    assert!(matches!(&value.kind, ExprKind::Copy(_, fields) if fields.len() == 1));
    assert!(matches!(f.body.results[2].kind, ExprKind::Length(_)));
    let StmtKind::Assign { value, .. } = &stmts[4].kind else { panic!() };
    let ExprKind::Call(call) = &value.kind else { panic!() };
    assert!(matches!(&call.callee, Callee::MapMethod { method, .. } if method == "get"));
}

#[test]
fn functions_get_their_abilities_and_closures_their_own_locals() {
    let f = func(
        r#"aqua M

ability Greeter:
    greet(name: string) -> string

func hello{Greeter}(name: string) -> string:
    g <- Greeter.greet(name)
    <- g

func f(name: string) -> string:
    shout = (s: string) -> string:
        <- s
    G = Greeter(greet = shout)
    r <- hello{G}(name)
    <- r
"#,
        "f",
    );
    let stmts = &f.body.block.stmts;
    let StmtKind::Closure(closure) = &stmts[0].kind else { panic!() };
    assert_eq!(f.body.local(closure.params[0]).name, "s");
    assert_eq!(closure.results.len(), 1);
    let StmtKind::Call { call, .. } = &stmts[2].kind else { panic!() };
    let Callee::Func { func, abilities } = &call.callee else { panic!() };
    assert_eq!(func.name, "hello");
    assert_eq!(local_name(&f.body, &abilities[0]), "G");
    let hello = func;
    let StmtKind::Call { call, .. } = &hello.body.block.stmts[0].kind else { panic!() };
    let Callee::Arrow(arrow) = &call.callee else { panic!("{:?}", call.callee) };
    assert!(matches!(&arrow.kind, ExprKind::Field(base, name) if name == "greet" && local_name(&hello.body, base) == "Greeter"));
}
