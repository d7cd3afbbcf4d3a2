//! Lowering a checked function to AIR.
//!
//! AIR has no calls, so every function, closure and ability arrow is inlined where it
//! is called: its locals are bound to the values given (data by value, streams by
//! reference, arrows as closures carrying the scope they were defined in). Expressions
//! are unfolded into instructions that run before their consumer (`ap`, canon, calls
//! to the `math` and `cmp` builtins), and statements become `seq`, `par`, `xor`,
//! `fold`, `new` and `match`. The exported function is wrapped in the calling
//! convention of the design: arguments from `getDataSrv`, the result to
//! `callbackSrv.response`, an unhandled error to `errorHandlingSrv.error`.
//!
//! Topology: every instruction runs on the peer of the innermost `on` around it (the
//! client, reached through its relay, outside any `on`). Before an instruction that
//! runs somewhere else than where execution is, hops are inserted along the path
//! between the two `on` stacks, through their relays (`path`). Statements with
//! alternatives (`par`, `if`, `try`, loops) first move to where they are written,
//! and their branches come back there when they end (with a last explicit hop, so
//! that the data arrives): always for `if`, `try` and sequential loops; for branches
//! in parallel only when what they write is read elsewhere (`liveness.rs`), and for
//! the last branch of a `par` group when no other came back, so that the code after
//! it goes on; never for `co`. An error inside `on` travels back to where the `on` is
//! written and is thrown again there, up to the client's handler.
//!
//! Every construct the checker accepts is lowered; a construct that is not gets an
//! `unsupported` diagnostic rather than wrong AIR.

pub mod air;
mod liveness;

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use self::air::{Air, Id, Node, Value};
use crate::check::{ConstValue, FuncDef};
use crate::diagnostic::{Code, Diagnostic, Span};
use crate::hir::{self, Bind, Callee, ExprKind, LocalId, StmtKind};
use crate::syntax::ast::{BinOp, CollectionKind, ForMode, ParPrefix};
use crate::types::Type;

/// Inlining deeper than this is refused (functions call functions; there is no
/// recursion, but a long chain could still exhaust the stack).
pub const MAX_INLINE_DEPTH: usize = 64;

const INIT: &str = "%init_peer_id%";

/// Options of the calling convention.
#[derive(Debug, Clone, Copy, Default)]
pub struct LowerOptions {
    /// Do not fetch `-relay-`; `HOST_PEER_ID` is the init peer.
    pub no_relay: bool,
    /// Do not wrap the function in the `errorHandlingSrv` handler.
    pub no_xor: bool,
}

/// The AIR script of an exported function, or why it cannot be lowered.
pub fn lower_function(func: &Rc<FuncDef>, options: LowerOptions) -> Result<String, Vec<Diagnostic>> {
    let root = vec![OnFrame { peer: INIT.into(), via: if options.no_relay { vec![] } else { vec![Via::Peer("-relay-".into())] } }];
    let mut lower = Lower {
        air: Air::default(),
        used: BTreeSet::new(),
        diagnostics: Vec::new(),
        options,
        depth: 0,
        lexical: root.clone(),
        current: root,
    };
    let root = lower.entry(func);
    if lower.diagnostics.is_empty() { Ok(lower.air.print(root)) } else { Err(lower.diagnostics) }
}

/// What a local stands for while its body is lowered.
#[derive(Debug, Clone)]
enum Bound {
    /// A data value: an AIR variable, literal or lens.
    Value(Value),
    /// A stream or stream map, by its AIR name (`$s`, `%m`).
    Stream(Value),
    /// A closure, the scope it was defined in, and where it was defined (`None` for a
    /// detached `func` closure, which runs where it is called).
    Closure(Rc<hir::Closure>, Rc<FuncDef>, Env, Option<Vec<OnFrame>>),
    Func(Rc<FuncDef>),
    /// A service function: the id value and the function name.
    ServiceFunc(Value, String),
    /// A service used as an ability: its id value.
    Service(Value),
    /// An ability value: its fields.
    Ability(Rc<BTreeMap<String, Bound>>),
    /// An arrow argument of the exported function, served as `callbackSrv.<name>`.
    Callback(String),
    /// A value that failed to lower (already reported).
    Error,
}

type Env = BTreeMap<LocalId, Bound>;

/// A peer the particle goes through on the way to an `on` peer.
#[derive(Debug, Clone, PartialEq)]
enum Via {
    Peer(Value),
    /// A collection of peers (array, option or stream), gone through in order.
    Each(Value),
    /// The same, gone through backwards (on the way out).
    EachBackwards(Value),
}

/// One `on PEER via ...`: where code inside it runs and how the particle gets there.
#[derive(Debug, Clone, PartialEq)]
struct OnFrame {
    peer: Value,
    via: Vec<Via>,
}

/// A body being lowered: the function whose locals it uses and their bindings.
struct Scope {
    func: Rc<FuncDef>,
    env: Env,
    /// How often each local of the body is read, counted once when first needed.
    reads: std::cell::OnceCell<liveness::Uses>,
}

impl Scope {
    fn new(func: Rc<FuncDef>, env: Env) -> Scope {
        Scope { func, env, reads: std::cell::OnceCell::new() }
    }

    fn local(&self, id: LocalId) -> &hir::Local {
        self.func.body.local(id)
    }

    /// Whether a statement writes a local that is read outside it, or a parameter (a
    /// stream passed in is the caller's, who may read it).
    fn exports_used_elsewhere(&self, stmt: &hir::Stmt) -> bool {
        let all = self.reads.get_or_init(|| liveness::Uses::of_body(&self.func.body));
        let inside = liveness::Uses::of_stmt(stmt);
        inside.writes.iter().any(|w| {
            self.func.body.params.contains(w) || all.reads.get(w).copied().unwrap_or(0) > inside.reads.get(w).copied().unwrap_or(0)
        })
    }
}

struct Lower {
    air: Air,
    used: BTreeSet<String>,
    diagnostics: Vec<Diagnostic>,
    options: LowerOptions,
    depth: usize,
    /// The `on` stack of the code being lowered (outermost first).
    lexical: Vec<OnFrame>,
    /// The `on` stack where execution is after the instructions emitted so far.
    current: Vec<OnFrame>,
}

impl Lower {
    fn unsupported(&mut self, what: &str, span: Span) {
        self.diagnostics.push(
            Diagnostic::error(Code::Unsupported, format!("{what} cannot be compiled to AIR yet"))
                .with_primary(span, "not lowered yet")
                .with_hint("`aqua check` accepts it; lowering it to AIR is still being built"),
        );
    }

    /// A fresh AIR name: `base`, then `base-0`, `base-1`, ...
    fn fresh(&mut self, base: &str) -> String {
        let base = base.replace('.', "_");
        if self.used.insert(base.clone()) {
            return base;
        }
        (0..).map(|i| format!("{base}-{i}")).find(|n| self.used.insert(n.clone())).unwrap_or(base)
    }

    /// A fresh name that always carries a suffix (fold items: `x-0`).
    fn fresh_suffixed(&mut self, base: &str) -> String {
        let base = base.replace('.', "_");
        (0..).map(|i| format!("{base}-{i}")).find(|n| self.used.insert(n.clone())).unwrap_or(base)
    }

    fn call_node(&mut self, service: Value, function: &str, args: Vec<Value>, output: Option<Value>) -> Id {
        self.air.add(Node::Call { peer: INIT.into(), service, function: quote(function), args, output })
    }

    /// Moves execution to where the code being lowered is written; gives that peer.
    fn here(&mut self, out: &mut Vec<Id>) -> Value {
        let target = self.lexical.clone();
        self.move_to(&target, out);
        target.last().map_or_else(|| INIT.into(), |f| f.peer.clone())
    }

    /// Emits the hops from where execution is to `target`.
    fn move_to(&mut self, target: &[OnFrame], out: &mut Vec<Id>) {
        if self.current.as_slice() != target {
            let from = std::mem::replace(&mut self.current, target.to_vec());
            self.hops(&path(&from, target), out);
        }
    }

    /// Like [`Self::move_to`], ending with an explicit hop to the target peer, so that
    /// the data arrives there even when nothing runs there next (a branch ending).
    fn return_to(&mut self, target: &[OnFrame], out: &mut Vec<Id>) {
        if self.current.as_slice() == target {
            return;
        }
        self.move_to(target, out);
        if let Some(f) = target.last() {
            let peer = f.peer.clone();
            self.hops(&[Via::Peer(peer)], out);
        }
    }

    /// A hop makes the particle go to a peer without calling anything there: a
    /// snapshot of an empty stream taken on that peer. A collection of peers is gone
    /// through in a fold (backwards when leaving).
    fn hops(&mut self, route: &[Via], out: &mut Vec<Id>) {
        for via in route {
            match via {
                Via::Peer(p) => out.push(self.hop(p.clone())),
                Via::Each(collection) | Via::EachBackwards(collection) => {
                    let hop = self.hop("-via-peer-".into());
                    let next = self.air.add(Node::Next("-via-peer-".into()));
                    // Hopping after `next` makes the hops happen last element first.
                    let body =
                        if matches!(via, Via::EachBackwards(_)) { self.air.seq(vec![next, hop]) } else { self.air.seq(vec![hop, next]) };
                    let null = self.air.null();
                    out.push(self.air.add(Node::Fold { iterable: collection.clone(), item: "-via-peer-".into(), body, last: Some(null) }));
                }
            }
        }
    }

    fn hop(&mut self, peer: Value) -> Id {
        let canon = self.air.add(Node::Canon { peer, stream: "$-hop-".into(), dest: "#-hopc-".into() });
        let inner = self.air.new_scope("#-hopc-", canon);
        self.air.new_scope("$-hop-", inner)
    }

    /// The exported function with the calling convention around it.
    fn entry(&mut self, func: &Rc<FuncDef>) -> Id {
        let mut scope = Scope::new(func.clone(), Env::new());
        let mut items = Vec::new();
        if !self.options.no_relay {
            self.used.insert("-relay-".into());
            items.push(self.air.add(Node::Call {
                peer: INIT.into(),
                service: quote("getDataSrv"),
                function: quote("-relay-"),
                args: vec![],
                output: Some("-relay-".into()),
            }));
        }
        let body = &func.body;
        for &param in &body.params {
            let local = body.local(param).clone();
            let bound = match &local.ty {
                Type::Arrow(_) => Bound::Callback(local.name.clone()),
                Type::Stream(_) => {
                    // A stream argument arrives as an array and is pushed into a fresh stream.
                    let iter = self.fresh(&format!("{}-iter", local.name));
                    let item = self.fresh_suffixed(&format!("{}-item", local.name));
                    let stream = format!("${}", self.fresh(&format!("-{}-arg-", local.name)));
                    let get = self.call_node(quote("getDataSrv"), &local.name, vec![], Some(iter.clone()));
                    let ap = self.air.add(Node::Ap { value: item.clone(), dest: stream.clone() });
                    let next = self.air.add(Node::Next(item.clone()));
                    let body = self.air.seq(vec![ap, next]);
                    let null = self.air.null();
                    let fold = self.air.add(Node::Fold { iterable: iter, item, body, last: Some(null) });
                    items.push(self.air.seq(vec![get, fold]));
                    Bound::Stream(stream)
                }
                _ => {
                    let var = self.fresh(&format!("-{}-arg-", local.name));
                    items.push(self.call_node(quote("getDataSrv"), &local.name, vec![], Some(var.clone())));
                    Bound::Value(var)
                }
            };
            scope.env.insert(param, bound);
        }
        let (mut stmts, streams) = self.block_items(&mut scope, &body.block);
        items.append(&mut stmts);
        let mut results = Vec::new();
        for e in &body.results {
            let v = self.expr(&mut scope, e, &mut items);
            results.push(self.response_value(v, &e.ty, &mut items, e.span));
        }
        let root = self.root();
        self.move_to(&root, &mut items);
        if !func.ty.codomain.is_empty() {
            let response = self.call_node(quote("callbackSrv"), "response", results, None);
            items.push(response);
        }
        let mut root = self.air.seq(items);
        for s in streams.into_iter().rev() {
            root = self.air.new_scope(s, root);
        }
        if self.options.no_xor {
            return root;
        }
        let handler = self.call_node(quote("errorHandlingSrv"), "error", vec![":error:".into(), "0".into()], None);
        self.air.xor(root, handler)
    }

    /// Where code outside any `on` runs: the client, behind its relay.
    fn root(&self) -> Vec<OnFrame> {
        let via = if self.options.no_relay { vec![] } else { vec![Via::Peer("-relay-".into())] };
        vec![OnFrame { peer: INIT.into(), via }]
    }

    /// A result of the exported function as sent to the client: streams become arrays.
    fn response_value(&mut self, v: Bound, ty: &Type, out: &mut Vec<Id>, span: Span) -> Value {
        match v {
            Bound::Stream(s) if matches!(ty, Type::Stream(_)) => {
                let name = s.trim_start_matches('$');
                let fix = format!("#{}", self.fresh_suffixed(&format!("-{name}-fix")));
                let flat = self.fresh_suffixed(&format!("-{name}-flat"));
                let peer = self.here(out);
                out.push(self.air.add(Node::Canon { peer, stream: s.clone(), dest: fix.clone() }));
                out.push(self.air.add(Node::Ap { value: fix, dest: flat.clone() }));
                flat
            }
            other => self.value_of(other, span, out),
        }
    }

    /// A bound value that must be data, streams as a snapshot (`canon`): calls and
    /// most instructions cannot take a stream.
    fn value_of(&mut self, v: Bound, span: Span, out: &mut Vec<Id>) -> Value {
        match v {
            Bound::Stream(s) => {
                let peer = self.here(out);
                let name = s.trim_start_matches(['$', '%']).to_string();
                let canon = format!("#{}", self.fresh(&format!("{name}_canon")));
                out.push(self.air.add(Node::Canon { peer, stream: s, dest: canon.clone() }));
                canon
            }
            other => self.data(other, span),
        }
    }

    /// A bound value that must be data (a stream stays a stream).
    fn data(&mut self, v: Bound, span: Span) -> Value {
        match v {
            Bound::Value(v) | Bound::Stream(v) => v,
            Bound::Error => "[]".into(),
            _ => {
                self.unsupported("an arrow or an ability used as data", span);
                "[]".into()
            }
        }
    }

    /// The instructions of a block, and the streams declared in it (to be restricted
    /// with `new` around it).
    fn block_items(&mut self, scope: &mut Scope, block: &hir::Block) -> (Vec<Id>, Vec<Value>) {
        let mut streams = Vec::new();
        let items = self.block_items_into(scope, block, &mut streams);
        (items, streams)
    }

    fn block_items_into(&mut self, scope: &mut Scope, block: &hir::Block, streams: &mut Vec<Value>) -> Vec<Id> {
        let mut items: Vec<Id> = Vec::new();
        // Whether a branch of the current group of `par` statements came back.
        let mut group_came_back = false;
        for (i, stmt) in block.stmts.iter().enumerate() {
            let next_is_par = block.stmts.get(i + 1).is_some_and(|n| n.prefix == Some(ParPrefix::Par));
            let branch = stmt.prefix.is_some() || next_is_par;
            if stmt.prefix != Some(ParPrefix::Par) {
                group_came_back = false;
            }
            if branch && stmt.prefix != Some(ParPrefix::Par) {
                // Branches in parallel start where they are written.
                let mut pre = Vec::new();
                self.here(&mut pre);
                if !pre.is_empty() {
                    items.push(self.air.seq(pre));
                }
            }
            let start = self.current.clone();
            let mut ops = Vec::new();
            self.stmt(scope, stmt, &mut ops, streams);
            if branch {
                // A branch comes back (with its data) only when what it writes is read
                // elsewhere; `co` never does.
                // The last branch of a group comes back in any case when none did: the
                // code after the group continues only once a branch is complete there.
                let last_of_group = !next_is_par;
                let come_back =
                    stmt.prefix != Some(ParPrefix::Co) && (scope.exports_used_elsewhere(stmt) || (last_of_group && !group_came_back));
                if come_back {
                    self.return_to(&start, &mut ops);
                    group_came_back = true;
                }
                self.current = start;
            }
            // Declarations, assignments of known values and joins on scalars emit nothing.
            if ops.is_empty() && stmt.prefix.is_none() {
                continue;
            }
            let this = self.air.seq(ops);
            match stmt.prefix {
                Some(ParPrefix::Par) => {
                    let previous = items.pop().unwrap_or_else(|| self.air.null());
                    let par = self.air.par(previous, this);
                    items.push(par);
                }
                Some(ParPrefix::Co) => {
                    let null = self.air.null();
                    let par = self.air.par(this, null);
                    items.push(par);
                }
                None => items.push(this),
            }
        }
        items
    }

    /// A branch of a statement with alternatives: its instructions, then the way back
    /// to `start`, where the branch began.
    fn branch(&mut self, scope: &mut Scope, block: &hir::Block, start: &[OnFrame]) -> Id {
        let inner = self.block(scope, block);
        let mut ops = vec![inner];
        self.return_to(start, &mut ops);
        self.current = start.to_vec();
        self.air.seq(ops)
    }

    /// A nested block: its instructions with its streams restricted to it.
    fn block(&mut self, scope: &mut Scope, block: &hir::Block) -> Id {
        let (items, streams) = self.block_items(scope, block);
        let mut id = self.air.seq(items);
        for s in streams.into_iter().rev() {
            id = self.air.new_scope(s, id);
        }
        id
    }

    fn stmt(&mut self, scope: &mut Scope, stmt: &hir::Stmt, out: &mut Vec<Id>, streams: &mut Vec<Value>) {
        match &stmt.kind {
            StmtKind::Call { call, binds } => {
                let results = self.call(scope, call, out);
                for (bind, result) in binds.iter().zip(results) {
                    match bind {
                        Bind::New(local) => {
                            scope.env.insert(*local, result);
                        }
                        Bind::Push(stream) => {
                            let value = self.data(result, call.span);
                            if let Some(Bound::Stream(s)) = scope.env.get(stream).cloned() {
                                out.push(self.air.add(Node::Ap { value, dest: s }));
                            }
                        }
                    }
                }
            }
            StmtKind::CallToMap { call, map } => {
                let results = self.call(scope, call, out);
                if let ([k, v], Some(Bound::Stream(m))) = (results.as_slice(), scope.env.get(map).cloned()) {
                    let key = self.value_of(k.clone(), call.span, out);
                    let value = self.value_of(v.clone(), call.span, out);
                    out.push(self.air.add(Node::ApMap { key, value, map: m }));
                }
            }
            StmtKind::Assign { local, value } => {
                let v = self.expr(scope, value, out);
                scope.env.insert(*local, v);
            }
            StmtKind::Closure(c) => {
                let topology = if c.detached { None } else { Some(self.lexical.clone()) };
                let bound = Bound::Closure(c.clone(), scope.func.clone(), scope.env.clone(), topology);
                scope.env.insert(c.local, bound);
            }
            StmtKind::Declare(local) => {
                let l = scope.local(*local);
                let sigil = if matches!(l.ty, Type::StreamMap(_)) { "%" } else { "$" };
                let name = format!("{sigil}{}", self.fresh(&l.name));
                streams.push(name.clone());
                scope.env.insert(*local, Bound::Stream(name));
            }
            StmtKind::Push { stream, key, value } => {
                let v = self.expr(scope, value, out);
                let v = self.value_of(v, value.span, out);
                let Some(Bound::Stream(s)) = scope.env.get(stream).cloned() else { return };
                match key {
                    None => out.push(self.air.add(Node::Ap { value: v, dest: s })),
                    Some(k) => {
                        let kb = self.expr(scope, k, out);
                        let key = self.value_of(kb, k.span, out);
                        out.push(self.air.add(Node::ApMap { key, value: v, map: s }));
                    }
                }
            }
            StmtKind::On { peer, via, body } => self.on(scope, peer, via, body, out, streams),
            StmtKind::Parseq { item, iterable, peer, via, body } => self.parseq(scope, *item, iterable, peer, via, body, out),
            StmtKind::Join(values) => {
                for v in values {
                    // Reading a value waits for it; indexing a stream builds its gate.
                    self.expr(scope, v, out);
                }
            }
            StmtKind::For { key, item, iterable, mode, body } => {
                // Parallel iterations come back only when what they write is read
                // elsewhere; sequential ones always, for the next to start there.
                let parallel = matches!(mode, Some(ForMode::Par | ForMode::Rec));
                let come_back = !parallel || scope.exports_used_elsewhere(stmt);
                self.for_loop(scope, *key, *item, iterable, *mode, body, come_back, out);
            }
            StmtKind::If { cond, then, otherwise } => self.if_else(scope, cond, then, otherwise.as_ref(), out),
            StmtKind::Try { body, catch, otherwise } => {
                self.here(out);
                let start = self.current.clone();
                let body_id = self.branch(scope, body, &start);
                let mut recovery = Vec::new();
                if let Some((e, b)) = catch {
                    scope.env.insert(*e, Bound::Value(":error:".into()));
                    recovery.push(self.branch(scope, b, &start));
                }
                if let Some(b) = otherwise {
                    recovery.push(self.branch(scope, b, &start));
                }
                let recovery = match recovery.len() {
                    0 => self.air.null(),
                    1 => recovery[0],
                    _ => self.air.xor(recovery[0], recovery[1]),
                };
                out.push(self.air.xor(body_id, recovery));
            }
        }
    }

    /// `on PEER via ...`: the body runs there; an error inside comes back to where the
    /// `on` is written and is thrown again there.
    fn on(
        &mut self,
        scope: &mut Scope,
        peer: &hir::Expr,
        via: &[hir::Expr],
        body: &hir::Block,
        out: &mut Vec<Id>,
        streams: &mut Vec<Value>,
    ) {
        let pb = self.expr(scope, peer, out);
        let peer_value = self.value_of(pb, peer.span, out);
        let mut vias = Vec::new();
        for v in via {
            let b = self.expr(scope, v, out);
            // A stream of relays is gone through as a snapshot (a fold over a live
            // stream could not hop after `next` on the way back).
            let value = self.value_of(b, v.span, out);
            vias.push(if matches!(v.ty, Type::Array(_) | Type::Option(_) | Type::Stream(_)) { Via::Each(value) } else { Via::Peer(value) });
        }
        let parent = self.lexical.clone();
        self.lexical.push(OnFrame { peer: peer_value, via: vias });
        let inner = self.lexical.clone();
        let items = self.block_items_into(scope, body, streams);
        self.lexical = parent.clone();
        if items.is_empty() {
            return;
        }
        let body_id = self.air.seq(items);
        if self.options.no_xor {
            out.push(body_id);
            return;
        }
        let after = std::mem::replace(&mut self.current, inner);
        let mut error = Vec::new();
        self.return_to(&parent, &mut error);
        self.current = after;
        error.push(self.air.add(Node::Fail(":error:".into())));
        let error_id = self.air.seq(error);
        out.push(self.air.xor(body_id, error_id));
    }

    /// `parseq r <- rs on r via ...:`: every iteration runs in parallel on its peer and
    /// then goes back only as far as the client's relay.
    #[allow(clippy::too_many_arguments, reason = "the parts of a `parseq` statement")]
    fn parseq(
        &mut self,
        scope: &mut Scope,
        item: LocalId,
        iterable: &hir::Expr,
        peer: &hir::Expr,
        via: &[hir::Expr],
        body: &hir::Block,
        out: &mut Vec<Id>,
    ) {
        let it = self.expr(scope, iterable, out);
        let it = self.value_of(it, iterable.span, out);
        let name = scope.local(item).name.clone();
        let var = self.fresh_suffixed(&name);
        scope.env.insert(item, Bound::Value(var.clone()));
        self.here(out);
        let start = self.current.clone();
        let mut streams = Vec::new();
        let mut ops = Vec::new();
        self.on(scope, peer, via, body, &mut ops, &mut streams);
        let mut relay = self.root();
        let host = if self.options.no_relay { INIT } else { "-relay-" };
        relay.push(OnFrame { peer: host.into(), via: vec![] });
        self.return_to(&relay, &mut ops);
        self.current = start;
        let mut iteration = self.air.seq(ops);
        for s in streams.into_iter().rev() {
            iteration = self.air.new_scope(s, iteration);
        }
        let next = self.air.add(Node::Next(var.clone()));
        let b = self.air.par(iteration, next);
        let never = self.air.add(Node::Never);
        let fold = self.air.add(Node::Fold { iterable: it, item: var, body: b, last: Some(never) });
        let null = self.air.null();
        out.push(self.air.par(fold, null));
    }

    #[allow(clippy::too_many_arguments, reason = "the parts of a `for` statement")]
    fn for_loop(
        &mut self,
        scope: &mut Scope,
        key: Option<LocalId>,
        item: LocalId,
        iterable: &hir::Expr,
        mode: Option<ForMode>,
        body: &hir::Block,
        come_back: bool,
        out: &mut Vec<Id>,
    ) {
        let is_map = matches!(iterable.ty, Type::StreamMap(_));
        if is_map && mode == Some(ForMode::Rec) {
            self.unsupported("`for ... rec` over a stream map", iterable.span);
            return;
        }
        let it = self.expr(scope, iterable, out);
        let mut it = self.data(it, iterable.span);
        // A stream is iterated live only by `rec`; otherwise over a snapshot. A stream
        // map's snapshot gives each key once, with its last value, as `{key, value}`.
        if (it.starts_with('$') && mode != Some(ForMode::Rec)) || it.starts_with('%') {
            let sigil = if it.starts_with('%') { "#%" } else { "#" };
            let canon = format!("{sigil}{}", self.fresh(&format!("{}_canon", it.trim_start_matches(['$', '%']))));
            let peer = self.here(out);
            out.push(self.air.add(Node::Canon { peer, stream: it.clone(), dest: canon.clone() }));
            it = canon;
        }
        let name = scope.local(item).name.clone();
        let var = self.fresh_suffixed(&name);
        match key {
            Some(k) => {
                scope.env.insert(k, Bound::Value(format!("{var}.$.key")));
                scope.env.insert(item, Bound::Value(format!("{var}.$.value")));
            }
            None => {
                scope.env.insert(item, Bound::Value(var.clone()));
            }
        }
        // Every iteration starts where the loop is written and comes back there.
        self.here(out);
        let start = self.current.clone();
        let inner = if come_back {
            self.branch(scope, body, &start)
        } else {
            let inner = self.block(scope, body);
            self.current = start;
            inner
        };
        let next = self.air.add(Node::Next(var.clone()));
        match mode {
            None => {
                let b = self.air.seq(vec![inner, next]);
                let null = self.air.null();
                out.push(self.air.add(Node::Fold { iterable: it, item: var, body: b, last: Some(null) }));
            }
            Some(ForMode::Try) => {
                let b = self.air.xor(inner, next);
                let null = self.air.null();
                out.push(self.air.add(Node::Fold { iterable: it, item: var, body: b, last: Some(null) }));
            }
            Some(ForMode::Par | ForMode::Rec) => {
                let b = self.air.par(inner, next);
                let never = self.air.add(Node::Never);
                let fold = self.air.add(Node::Fold { iterable: it, item: var, body: b, last: Some(never) });
                let null = self.air.null();
                out.push(self.air.par(fold, null));
            }
        }
    }

    /// `if`: `match` on the condition; a failed match (10001) runs the else branch,
    /// and errors of either branch are re-thrown unchanged.
    fn if_else(&mut self, scope: &mut Scope, cond: &hir::Expr, then: &hir::Block, otherwise: Option<&hir::Block>, out: &mut Vec<Id>) {
        let (left, right, negate) = match &cond.kind {
            ExprKind::Binary(op @ (BinOp::Eq | BinOp::NotEq), a, b) => {
                let av = self.expr(scope, a, out);
                let l = self.value_of(av, a.span, out);
                let bv = self.expr(scope, b, out);
                let r = self.value_of(bv, b.span, out);
                (l, r, *op == BinOp::NotEq)
            }
            _ => {
                let c = self.expr(scope, cond, out);
                (self.value_of(c, cond.span, out), "true".into(), false)
            }
        };
        self.here(out);
        let start = self.current.clone();
        let then_id = self.branch(scope, then, &start);
        let matched = self.air.add(Node::Match { left, right, body: then_id, negate });
        let if_error = self.fresh("-if-error-");
        let save = self.air.add(Node::Ap { value: ":error:".into(), dest: if_error.clone() });
        match otherwise {
            None => {
                let null = self.air.null();
                let is_mismatch =
                    self.air.add(Node::Match { left: ":error:.$.error_code".into(), right: "10001".into(), body: null, negate: false });
                let rethrow = self.air.add(Node::Fail(if_error.clone()));
                let check = self.air.xor(is_mismatch, rethrow);
                let recovery = self.air.seq(vec![save, check]);
                let x = self.air.xor(matched, recovery);
                out.push(self.air.new_scope(if_error, x));
            }
            Some(else_block) => {
                let if_else_error = self.fresh("-if-else-error-");
                let else_error = self.fresh("-else-error-");
                let else_id = self.branch(scope, else_block, &start);
                let run_else =
                    self.air.add(Node::Match { left: ":error:.$.error_code".into(), right: "10001".into(), body: else_id, negate: false });
                // Which error to re-throw: the `if` branch's own error, or the else branch's.
                let save_else = self.air.add(Node::Ap { value: ":error:".into(), dest: else_error.clone() });
                let pick_if = self.air.add(Node::Ap { value: if_error.clone(), dest: if_else_error.clone() });
                let pick_if =
                    self.air.add(Node::Match { left: ":error:.$.error_code".into(), right: "10001".into(), body: pick_if, negate: false });
                let pick_else = self.air.add(Node::Ap { value: else_error.clone(), dest: if_else_error.clone() });
                let pick = self.air.xor(pick_if, pick_else);
                let picked = self.air.seq(vec![save_else, pick]);
                let fail = self.air.add(Node::Fail(if_else_error.clone()));
                let rethrow = self.air.seq(vec![picked, fail]);
                let else_or_rethrow = self.air.xor(run_else, rethrow);
                let recovery = self.air.seq(vec![save, else_or_rethrow]);
                let x = self.air.xor(matched, recovery);
                let n1 = self.air.new_scope(if_error, x);
                let n2 = self.air.new_scope(else_error, n1);
                out.push(self.air.new_scope(if_else_error, n2));
            }
        }
    }

    /// A call: service calls become `call`, functions and closures are inlined.
    fn call(&mut self, scope: &mut Scope, call: &hir::Call, out: &mut Vec<Id>) -> Vec<Bound> {
        let mut args = Vec::new();
        for a in &call.args {
            args.push(self.expr(scope, a, out));
        }
        match &call.callee {
            Callee::Service { id, function, .. } => {
                let idb = self.expr(scope, id, out);
                let id = self.value_of(idb, id.span, out);
                self.service_call(id, function, args, call, out)
            }
            Callee::Func { func, abilities } => {
                let abilities: Vec<Bound> = abilities.iter().map(|a| self.expr(scope, a, out)).collect();
                self.inline(func, args, abilities, call.span, out)
            }
            Callee::Arrow(e) => {
                let arrow = self.expr(scope, e, out);
                self.call_bound(arrow, args, call, out)
            }
            Callee::MapMethod { map, method } => {
                let m = self.expr(scope, map, out);
                let Bound::Stream(m) = m else { return vec![Bound::Error] };
                vec![self.map_method(&m, method, args, call.span, out)]
            }
        }
    }

    fn call_bound(&mut self, arrow: Bound, args: Vec<Bound>, call: &hir::Call, out: &mut Vec<Id>) -> Vec<Bound> {
        match arrow {
            Bound::Func(f) => self.inline(&f, args, vec![], call.span, out),
            Bound::ServiceFunc(id, function) => self.service_call(id, &function, args, call, out),
            Bound::Callback(name) => {
                // Arrow arguments are served on the client, wherever they are called from.
                let root = self.root();
                let lexical = std::mem::replace(&mut self.lexical, root);
                let service = quote("callbackSrv");
                let results = self.service_call(service, &name, args, call, out);
                self.lexical = lexical;
                results
            }
            Bound::Closure(c, func, env, topology) => {
                let lexical = self.lexical.clone();
                if let Some(t) = topology {
                    self.lexical = t;
                }
                let results = self.inline_closure(&c, &func, env, args, call.span, out);
                self.lexical = lexical;
                results
            }
            _ => call.results.iter().map(|_| Bound::Error).collect(),
        }
    }

    fn service_call(&mut self, service: Value, function: &str, args: Vec<Bound>, call: &hir::Call, out: &mut Vec<Id>) -> Vec<Bound> {
        let args: Vec<Value> = args.into_iter().map(|a| self.value_of(a, call.span, out)).collect();
        let output = if call.results.is_empty() { None } else { Some(self.fresh("ret")) };
        let peer = self.here(out);
        out.push(self.air.add(Node::Call { peer, service, function: quote(function), args, output: output.clone() }));
        output.map(|o| vec![Bound::Value(o)]).unwrap_or_default()
    }

    /// Inlines a top-level function: its parameters bound to the arguments.
    fn inline(&mut self, func: &Rc<FuncDef>, args: Vec<Bound>, abilities: Vec<Bound>, span: Span, out: &mut Vec<Id>) -> Vec<Bound> {
        let mut env = Env::new();
        for (p, a) in func.body.params.iter().zip(args) {
            env.insert(*p, a);
        }
        for (p, a) in func.body.abilities.iter().zip(abilities) {
            env.insert(*p, a);
        }
        let func = func.clone();
        self.inline_body(&func, env, &func.body.block, &func.body.results, span, out)
    }

    fn inline_closure(
        &mut self,
        c: &hir::Closure,
        func: &Rc<FuncDef>,
        mut env: Env,
        args: Vec<Bound>,
        span: Span,
        out: &mut Vec<Id>,
    ) -> Vec<Bound> {
        for (p, a) in c.params.iter().zip(args) {
            env.insert(*p, a);
        }
        self.inline_body(func, env, &c.block, &c.results, span, out)
    }

    fn inline_body(
        &mut self,
        func: &Rc<FuncDef>,
        env: Env,
        block: &hir::Block,
        results: &[hir::Expr],
        span: Span,
        out: &mut Vec<Id>,
    ) -> Vec<Bound> {
        if self.depth >= MAX_INLINE_DEPTH {
            self.diagnostics.push(
                Diagnostic::error(Code::Limit, format!("functions call each other more than {MAX_INLINE_DEPTH} levels deep"))
                    .with_primary(span, "too deep to inline"),
            );
            return results.iter().map(|_| Bound::Error).collect();
        }
        self.depth += 1;
        let mut scope = Scope::new(func.clone(), env);
        let (mut items, streams) = self.block_items(&mut scope, block);
        let mut values = Vec::new();
        for e in results {
            values.push(self.expr(&mut scope, e, &mut items));
        }
        // Streams the function returns stay visible to the caller; the others are
        // fresh for each call.
        let returned: BTreeSet<String> =
            values.iter().filter_map(|v| if let Bound::Stream(s) = v { Some(s.clone()) } else { None }).collect();
        if !items.is_empty() {
            let mut id = self.air.seq(items);
            for s in streams.into_iter().rev().filter(|s| !returned.contains(s)) {
                id = self.air.new_scope(s, id);
            }
            out.push(id);
        }
        self.depth -= 1;
        values
    }

    /// Lowers an expression: its instructions go to `out`, its value is returned.
    fn expr(&mut self, scope: &mut Scope, e: &hir::Expr, out: &mut Vec<Id>) -> Bound {
        match &e.kind {
            ExprKind::Literal(v) => Bound::Value(literal(v)),
            ExprKind::InitPeerId => Bound::Value(INIT.into()),
            ExprKind::Builtin(name) => Bound::Value(
                match *name {
                    "INIT_PEER_ID" => INIT,
                    "HOST_PEER_ID" if self.options.no_relay => INIT,
                    "HOST_PEER_ID" => "-relay-",
                    "PARTICLE_TTL" => "%ttl%",
                    "PARTICLE_TIMESTAMP" => "%timestamp%",
                    _ => ":error:",
                }
                .into(),
            ),
            ExprKind::Local(id) => scope.env.get(id).cloned().unwrap_or(Bound::Error),
            ExprKind::Field(base, field) => match self.expr(scope, base, out) {
                Bound::Ability(fields) => fields.get(field).cloned().unwrap_or(Bound::Error),
                Bound::Service(id) => Bound::ServiceFunc(id, field.clone()),
                Bound::Value(v) => Bound::Value(lens(&v, &format!(".{field}"))),
                Bound::Error => Bound::Error,
                _ => {
                    self.unsupported("this field access", e.span);
                    Bound::Error
                }
            },
            ExprKind::Index(base, index) => {
                let b = self.expr(scope, base, out);
                let i = self.expr(scope, index, out);
                let i = self.value_of(i, index.span, out);
                match b {
                    Bound::Stream(s) => self.gate(s, &i, index, out),
                    Bound::Value(v) => Bound::Value(lens(&v, &format!(".[{i}]"))),
                    _ => Bound::Error,
                }
            }
            ExprKind::Length(base) => {
                let b = self.expr(scope, base, out);
                let (functor, name) = match b {
                    Bound::Stream(s) => {
                        let name = s.trim_start_matches('$').to_string();
                        let c = format!("#{}", self.fresh(&format!("{name}_to_functor")));
                        let peer = self.here(out);
                        out.push(self.air.add(Node::Canon { peer, stream: s, dest: c.clone() }));
                        (c, name)
                    }
                    // `nil` (and any literal empty array) has no elements.
                    Bound::Value(v) if v == "[]" => return Bound::Value("0".into()),
                    Bound::Value(v) if v.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_') => {
                        let f = self.fresh(&format!("{v}_to_functor"));
                        out.push(self.air.add(Node::Ap { value: v.clone(), dest: f.clone() }));
                        (f, v)
                    }
                    Bound::Value(v) => {
                        let f = self.fresh("length_of");
                        out.push(self.air.add(Node::Ap { value: v, dest: f.clone() }));
                        (f.clone(), f)
                    }
                    _ => return Bound::Error,
                };
                let len = self.fresh(&format!("{name}_length"));
                out.push(self.air.add(Node::Ap { value: format!("{functor}.length"), dest: len.clone() }));
                Bound::Value(len)
            }
            ExprKind::Call(call) => self.call(scope, call, out).into_iter().next().unwrap_or(Bound::Error),
            ExprKind::Binary(op, a, b) => self.binary(scope, *op, a, b, out),
            ExprKind::Not(a) => {
                let v = self.expr(scope, a, out);
                let v = self.value_of(v, a.span, out);
                let not = self.fresh("not");
                let f = self.air.add(Node::Ap { value: "false".into(), dest: not.clone() });
                let m = self.air.add(Node::Match { left: v, right: "true".into(), body: f, negate: false });
                let t = self.air.add(Node::Ap { value: "true".into(), dest: not.clone() });
                out.push(self.air.xor(m, t));
                Bound::Value(not)
            }
            ExprKind::Collection(kind, items) => self.collection(scope, *kind, items, out),
            ExprKind::Construct(fields) => match &e.ty {
                Type::Ability(_) => {
                    let mut map = BTreeMap::new();
                    for (name, v) in fields {
                        let b = self.expr(scope, v, out);
                        map.insert(name.clone(), b);
                    }
                    Bound::Ability(Rc::new(map))
                }
                Type::Struct(s) => {
                    let name = s.name.clone();
                    self.object(scope, &name, None, fields, out)
                }
                _ => Bound::Error,
            },
            ExprKind::Copy(base, fields) => {
                let Type::Struct(s) = &e.ty else { return Bound::Error };
                let b = self.expr(scope, base, out);
                let b = self.value_of(b, base.span, out);
                let all: Vec<String> = s.fields.iter().map(|(n, _)| n.clone()).collect();
                let name = s.name.clone();
                self.object(scope, &name, Some((b, all)), fields, out)
            }
            ExprKind::Func(f) => Bound::Func(f.clone()),
            ExprKind::ServiceFunc { id, function, .. } => {
                let b = self.expr(scope, id, out);
                let id = self.value_of(b, id.span, out);
                Bound::ServiceFunc(id, function.clone())
            }
            ExprKind::Service { id, .. } => {
                let b = self.expr(scope, id, out);
                Bound::Service(self.data(b, id.span))
            }
            ExprKind::Error => Bound::Error,
        }
    }

    /// A method of a stream map, on a snapshot of it: `get(k)` and `getStream(k)` the
    /// values pushed under `k`, `contains(k)` whether there are any, `keys()` and
    /// `keysStream()` every key once.
    fn map_method(&mut self, map: &str, method: &str, args: Vec<Bound>, span: Span, out: &mut Vec<Id>) -> Bound {
        let name = map.trim_start_matches('%').to_string();
        let peer = self.here(out);
        let snapshot = format!("#%{}", self.fresh(&format!("{name}_canon")));
        out.push(self.air.add(Node::Canon { peer: peer.clone(), stream: map.to_string(), dest: snapshot.clone() }));
        let key = match args.into_iter().next() {
            Some(k) => {
                // A key is read through a variable: `#%m.$.[key]` takes any string.
                let k = self.value_of(k, span, out);
                let var = self.fresh(&format!("{name}_key"));
                out.push(self.air.add(Node::Ap { value: k, dest: var.clone() }));
                Some(var)
            }
            None => None,
        };
        let values = |lower: &mut Self, out: &mut Vec<Id>| {
            let v = lower.fresh(&format!("{name}_values"));
            out.push(lower.air.add(Node::Ap { value: format!("{snapshot}.$.[{}]", key.clone().unwrap_or_default()), dest: v.clone() }));
            v
        };
        match method {
            "get" => Bound::Value(values(self, out)),
            "contains" => {
                let v = values(self, out);
                let has = self.fresh(&format!("{name}_contains"));
                let no = self.air.add(Node::Ap { value: "false".into(), dest: has.clone() });
                let empty = self.air.add(Node::Match { left: format!("{v}.length"), right: "0".into(), body: no, negate: false });
                let yes = self.air.add(Node::Ap { value: "true".into(), dest: has.clone() });
                out.push(self.air.xor(empty, yes));
                Bound::Value(has)
            }
            "getStream" | "keys" | "keysStream" => {
                let stream = format!("${}", self.fresh(&format!("{name}_{}", if method == "getStream" { "values" } else { "keys" })));
                let item = self.fresh_suffixed(&format!("{name}_item"));
                let (iterable, pushed) =
                    if method == "getStream" { (values(self, out), item.clone()) } else { (snapshot.clone(), format!("{item}.$.key")) };
                let ap = self.air.add(Node::Ap { value: pushed, dest: stream.clone() });
                let next = self.air.add(Node::Next(item.clone()));
                let body = self.air.seq(vec![ap, next]);
                let null = self.air.null();
                let fold = self.air.add(Node::Fold { iterable, item, body, last: Some(null) });
                if method != "keys" {
                    out.push(fold);
                    return Bound::Stream(stream);
                }
                // The keys as an array: the stream they were gathered in stays local.
                let keys = format!("#{}", self.fresh(&format!("{name}_keys")));
                let canon = self.air.add(Node::Canon { peer, stream: stream.clone(), dest: keys.clone() });
                let both = self.air.seq(vec![fold, canon]);
                out.push(self.air.new_scope(stream, both));
                Bound::Value(keys)
            }
            _ => {
                self.unsupported(&format!("the stream map method `{method}`"), span);
                Bound::Error
            }
        }
    }

    /// A data value built field by field in a stream map, then canonicalised into an
    /// object; `copy` first takes the fields of `base` not given.
    fn object(
        &mut self,
        scope: &mut Scope,
        type_name: &str,
        base: Option<(Value, Vec<String>)>,
        fields: &[(String, hir::Expr)],
        out: &mut Vec<Id>,
    ) -> Bound {
        let suffix = if base.is_some() { "_obj_copy" } else { "_obj" };
        let map = format!("%{}", self.fresh(&format!("{type_name}{suffix}_map")));
        let obj = self.fresh(&format!("{type_name}{suffix}"));
        let mut values: BTreeMap<String, Value> = BTreeMap::new();
        if let Some((b, all)) = base {
            for f in all {
                values.insert(f.clone(), lens(&b, &format!(".{f}")));
            }
        }
        for (name, v) in fields {
            let bv = self.expr(scope, v, out);
            values.insert(name.clone(), self.value_of(bv, v.span, out));
        }
        let mut aps = Vec::new();
        for (k, v) in values {
            aps.push(self.air.add(Node::ApMap { key: quote(&k), value: v, map: map.clone() }));
        }
        let peer = self.here(&mut aps);
        aps.push(self.air.add(Node::Canon { peer, stream: map.clone(), dest: obj.clone() }));
        let body = self.air.seq(aps);
        out.push(self.air.new_scope(map, body));
        Bound::Value(obj)
    }

    /// `[a, b]`, `?[a, b]` (the first element that can be computed) and `*[a, b]`.
    fn collection(&mut self, scope: &mut Scope, kind: CollectionKind, items: &[hir::Expr], out: &mut Vec<Id>) -> Bound {
        if items.is_empty() && kind != CollectionKind::Stream {
            return Bound::Value("[]".into());
        }
        let base = match kind {
            CollectionKind::Array => "array-inline",
            CollectionKind::Option => "option-inline",
            CollectionKind::Stream => "stream-anon",
        };
        let stream = format!("${}", if kind == CollectionKind::Stream { self.fresh_suffixed(base) } else { self.fresh(base) });
        let mut ops = Vec::new();
        for item in items {
            let mut prefix = Vec::new();
            let v = self.expr(scope, item, &mut prefix);
            let v = self.value_of(v, item.span, &mut prefix);
            prefix.push(self.air.add(Node::Ap { value: v, dest: stream.clone() }));
            ops.push(self.air.seq(prefix));
        }
        if kind == CollectionKind::Option {
            // The first element that can be computed: each is tried only if the ones
            // before it failed.
            let mut chain = self.air.null();
            for one in ops.drain(..).rev() {
                chain = self.air.xor(one, chain);
            }
            ops.push(chain);
        }
        if kind == CollectionKind::Stream {
            out.append(&mut ops);
            return Bound::Stream(stream);
        }
        let canon = format!("#{}", self.fresh_suffixed(base));
        let peer = self.here(&mut ops);
        ops.push(self.air.add(Node::Canon { peer, stream: stream.clone(), dest: canon.clone() }));
        let body = self.air.seq(ops);
        out.push(self.air.new_scope(stream, body));
        Bound::Value(canon)
    }

    /// `stream[i]`: waits until the stream has `i + 1` elements (a fold over the stream
    /// that copies it into a fresh stream until its snapshot is long enough), then
    /// reads element `i` of that snapshot.
    fn gate(&mut self, stream: Value, index: &Value, index_expr: &hir::Expr, out: &mut Vec<Id>) -> Bound {
        let name = stream.trim_start_matches('$').to_string();
        let threshold = match &index_expr.kind {
            ExprKind::Literal(ConstValue::Int(i)) => (i + 1).to_string(),
            _ => {
                let incr = self.fresh(&format!("{name}_incr"));
                let peer = self.here(out);
                out.push(self.air.add(Node::Call {
                    peer,
                    service: quote("math"),
                    function: quote("add"),
                    args: vec![index.clone(), "1".into()],
                    output: Some(incr.clone()),
                }));
                incr
            }
        };
        let peer = self.here(out);
        let test = format!("${}", self.fresh(&format!("{name}_test")));
        let item = self.fresh(&format!("{name}_fold_var"));
        let iter_canon = format!("#{}", self.fresh(&format!("{name}_iter_canon")));
        let result_canon = format!("#{}", self.fresh(&format!("{name}_result_canon")));
        let gate = self.fresh(&format!("{name}_gate"));
        let ap = self.air.add(Node::Ap { value: item.clone(), dest: test.clone() });
        let canon = self.air.add(Node::Canon { peer: peer.clone(), stream: test.clone(), dest: iter_canon.clone() });
        let copy = self.air.seq(vec![ap, canon]);
        let null = self.air.null();
        let enough = self.air.add(Node::Match { left: format!("{iter_canon}.length"), right: threshold, body: null, negate: false });
        let next = self.air.add(Node::Next(item.clone()));
        let check = self.air.xor(enough, next);
        let body = self.air.seq(vec![copy, check]);
        let never = self.air.add(Node::Never);
        let fold = self.air.add(Node::Fold { iterable: stream, item, body, last: Some(never) });
        let result = self.air.add(Node::Canon { peer, stream: test.clone(), dest: result_canon.clone() });
        let keep = self.air.add(Node::Ap { value: result_canon, dest: gate.clone() });
        let all = self.air.seq(vec![fold, result, keep]);
        out.push(self.air.new_scope(test, all));
        Bound::Value(lens(&gate, &format!(".[{index}]")))
    }

    fn binary(&mut self, scope: &mut Scope, op: BinOp, a: &hir::Expr, b: &hir::Expr, out: &mut Vec<Id>) -> Bound {
        if let (Some(x), Some(y)) = (int_literal(a), int_literal(b))
            && let Some(v) = fold_constant(op, x, y)
        {
            return Bound::Value(v.to_string());
        }
        match op {
            BinOp::And | BinOp::Or => {
                // Short-circuit: the right side runs only when it decides the result.
                let av = self.expr(scope, a, out);
                let l = self.value_of(av, a.span, out);
                let name = self.fresh(if op == BinOp::And { "and" } else { "or" });
                let decided = if op == BinOp::And { "false" } else { "true" };
                let keep = self.air.add(Node::Ap { value: l.clone(), dest: name.clone() });
                let m = self.air.add(Node::Match { left: l, right: decided.into(), body: keep, negate: false });
                let mut right = Vec::new();
                let bv = self.expr(scope, b, &mut right);
                let r = self.value_of(bv, b.span, &mut right);
                right.push(self.air.add(Node::Ap { value: r, dest: name.clone() }));
                let rest = self.air.seq(right);
                out.push(self.air.xor(m, rest));
                Bound::Value(name)
            }
            BinOp::Eq | BinOp::NotEq => {
                let av = self.expr(scope, a, out);
                let l = self.value_of(av, a.span, out);
                let bv = self.expr(scope, b, out);
                let r = self.value_of(bv, b.span, out);
                let name = self.fresh(if op == BinOp::Eq { "eq" } else { "neq" });
                let t = self.air.add(Node::Ap { value: "true".into(), dest: name.clone() });
                let m = self.air.add(Node::Match { left: l, right: r, body: t, negate: op == BinOp::NotEq });
                let f = self.air.add(Node::Ap { value: "false".into(), dest: name.clone() });
                out.push(self.air.xor(m, f));
                Bound::Value(name)
            }
            _ => {
                let av = self.expr(scope, a, out);
                let l = self.value_of(av, a.span, out);
                let bv = self.expr(scope, b, out);
                let r = self.value_of(bv, b.span, out);
                let (service, function) = match op {
                    BinOp::Add => ("math", "add"),
                    BinOp::Sub => ("math", "sub"),
                    BinOp::Mul => ("math", "mul"),
                    BinOp::Div => ("math", "div"),
                    BinOp::Rem => ("math", "rem"),
                    BinOp::Pow => ("math", "pow"),
                    BinOp::Lt => ("cmp", "lt"),
                    BinOp::LtEq => ("cmp", "lte"),
                    BinOp::Gt => ("cmp", "gt"),
                    _ => ("cmp", "gte"),
                };
                let result = self.fresh(function);
                let peer = self.here(out);
                out.push(self.air.add(Node::Call {
                    peer,
                    service: quote(service),
                    function: quote(function),
                    args: vec![l, r],
                    output: Some(result.clone()),
                }));
                Bound::Value(result)
            }
        }
    }
}

fn quote(s: &str) -> Value {
    format!("\"{s}\"")
}

fn literal(v: &ConstValue) -> Value {
    match v {
        ConstValue::Bool(b) => b.to_string(),
        ConstValue::Int(i) => i.to_string(),
        ConstValue::Float(f) => format!("{f:?}"),
        ConstValue::Str(s) => quote(s),
        ConstValue::Nil => "[]".into(),
    }
}

/// Appends a lens step to a value: `x` + `.a` is `x.$.a`; `x.$.a` + `.b` is `x.$.a.b`.
fn lens(value: &str, step: &str) -> Value {
    if value.contains(".$") { format!("{value}{step}") } else { format!("{value}.${step}") }
}

/// The value of an integer expression made of literals only (`3 ** 2`, `2 + 3 * 4`).
fn int_literal(e: &hir::Expr) -> Option<i128> {
    match &e.kind {
        ExprKind::Literal(ConstValue::Int(i)) => Some(*i),
        ExprKind::Binary(op, a, b) => fold_constant(*op, int_literal(a)?, int_literal(b)?),
        _ => None,
    }
}

/// Integer arithmetic on literals, folded at compile time as the reference does
/// (64-bit, truncating division); `None` leaves it to the `math` builtin at run time
/// (division by zero, negative powers, overflow: the call fails there).
fn fold_constant(op: BinOp, a: i128, b: i128) -> Option<i128> {
    let (a, b) = (i64::try_from(a).ok()?, i64::try_from(b).ok()?);
    let v = match op {
        BinOp::Add => a.checked_add(b)?,
        BinOp::Sub => a.checked_sub(b)?,
        BinOp::Mul => a.checked_mul(b)?,
        BinOp::Div => a.checked_div(b)?,
        BinOp::Rem => a.checked_rem(b)?,
        BinOp::Pow => a.checked_pow(u32::try_from(b).ok()?)?,
        _ => return None,
    };
    Some(i128::from(v))
}

/// The peers to go through from `from` to `to` (two `on` stacks, outermost first): out
/// through the relays of the `on`s only `from` is in (innermost first, each `via` list
/// backwards), then in through the relays of those only `to` is in. A peer met twice
/// cuts the loop between; the two ends are left out.
fn path(from: &[OnFrame], to: &[OnFrame]) -> Vec<Via> {
    let (Some(from_last), Some(to_last)) = (from.last(), to.last()) else { return Vec::new() };
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    let mut from_rest: Vec<&OnFrame> = from[common..].iter().collect();
    let mut to_rest: Vec<&OnFrame> = to[common..].iter().collect();
    if from_rest.is_empty() && from_last.peer != to_last.peer {
        from_rest.push(from_last);
    }
    if to_rest.is_empty() && from_last.peer != to_last.peer {
        to_rest.push(to_last);
    }
    let route = from_rest
        .iter()
        .rev()
        .flat_map(|f| {
            f.via.iter().rev().map(|v| match v {
                Via::Each(c) => Via::EachBackwards(c.clone()),
                other => other.clone(),
            })
        })
        .chain(to_rest.iter().flat_map(|f| f.via.iter().cloned()))
        .chain([Via::Peer(to_last.peer.clone())]);
    let mut full = vec![Via::Peer(from_last.peer.clone())];
    for v in route {
        match full.iter().position(|x| *x == v) {
            Some(first) => full.truncate(first + 1),
            None => full.push(v),
        }
    }
    full.remove(0);
    if full.last() == Some(&Via::Peer(to_last.peer.clone())) {
        full.pop();
    }
    full
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(peer: &str, via: &[&str]) -> OnFrame {
        OnFrame { peer: peer.into(), via: via.iter().map(|v| Via::Peer((*v).into())).collect() }
    }

    fn names(route: Vec<Via>) -> Vec<String> {
        route
            .into_iter()
            .map(|v| match v {
                Via::Peer(p) | Via::Each(p) | Via::EachBackwards(p) => p,
            })
            .collect()
    }

    #[test]
    fn paths_go_out_through_the_relays_and_in_through_the_others() {
        let root = vec![on(INIT, &["-relay-"])];
        let mut remote = root.clone();
        remote.push(on("peer", &["relay"]));
        assert_eq!(names(path(&root, &remote)), ["-relay-", "relay"]);
        assert_eq!(names(path(&remote, &root)), ["relay", "-relay-"]);
        // The client's own relay needs no hop: the client reaches it directly.
        let mut host = root.clone();
        host.push(on("-relay-", &[]));
        assert!(path(&root, &host).is_empty());
        assert!(path(&root, &root).is_empty());
        // Nested `on`s: out of the inner one only.
        let mut nested = remote.clone();
        nested.push(on("p2", &["r2"]));
        assert_eq!(names(path(&remote, &nested)), ["relay", "r2"]);
        assert_eq!(names(path(&nested, &root)), ["r2", "relay", "-relay-"]);
        // A loop through the same relay is cut.
        let mut a = root.clone();
        a.push(on("a", &["-relay-"]));
        assert_eq!(names(path(&root, &a)), ["-relay-"]);
    }
}
