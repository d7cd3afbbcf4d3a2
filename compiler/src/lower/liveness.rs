//! Which locals a piece of a function writes, and how often each local is read: a
//! branch in parallel needs to come back only when something it writes is read
//! somewhere else.

use std::collections::BTreeMap;

use crate::hir::{self, Bind, Callee, ExprKind, LocalId, StmtKind};

/// Reads and writes of locals in some statements.
#[derive(Debug, Default)]
pub struct Uses {
    pub reads: BTreeMap<LocalId, usize>,
    pub writes: Vec<LocalId>,
}

impl Uses {
    /// The uses in a whole function body, its results included.
    pub fn of_body(body: &hir::Body) -> Uses {
        let mut u = Uses::default();
        u.block(&body.block);
        for e in &body.results {
            u.expr(e);
        }
        u
    }

    pub fn of_stmt(stmt: &hir::Stmt) -> Uses {
        let mut u = Uses::default();
        u.stmt(stmt);
        u
    }

    fn read(&mut self, id: LocalId) {
        *self.reads.entry(id).or_default() += 1;
    }

    fn block(&mut self, b: &hir::Block) {
        for s in &b.stmts {
            self.stmt(s);
        }
    }

    fn stmt(&mut self, s: &hir::Stmt) {
        match &s.kind {
            StmtKind::Call { call, binds } => {
                self.call(call);
                for b in binds {
                    match b {
                        Bind::New(id) | Bind::Push(id) => self.writes.push(*id),
                    }
                }
            }
            StmtKind::CallToMap { call, map } => {
                self.call(call);
                self.writes.push(*map);
            }
            StmtKind::Assign { local, value } => {
                self.expr(value);
                self.writes.push(*local);
            }
            StmtKind::Closure(c) => {
                self.block(&c.block);
                for e in &c.results {
                    self.expr(e);
                }
                self.writes.push(c.local);
            }
            StmtKind::Declare(_) => {}
            StmtKind::Push { stream, key, value } => {
                if let Some(k) = key {
                    self.expr(k);
                }
                self.expr(value);
                self.writes.push(*stream);
            }
            StmtKind::On { peer, via, body } => {
                self.expr(peer);
                via.iter().for_each(|v| self.expr(v));
                self.block(body);
            }
            StmtKind::Join(values) => values.iter().for_each(|v| self.expr(v)),
            StmtKind::For { iterable, body, .. } => {
                self.expr(iterable);
                self.block(body);
            }
            StmtKind::Parseq { iterable, peer, via, body, .. } => {
                self.expr(iterable);
                self.expr(peer);
                via.iter().for_each(|v| self.expr(v));
                self.block(body);
            }
            StmtKind::If { cond, then, otherwise } => {
                self.expr(cond);
                self.block(then);
                if let Some(b) = otherwise {
                    self.block(b);
                }
            }
            StmtKind::Try { body, catch, otherwise } => {
                self.block(body);
                if let Some((_, b)) = catch {
                    self.block(b);
                }
                if let Some(b) = otherwise {
                    self.block(b);
                }
            }
        }
    }

    fn call(&mut self, c: &hir::Call) {
        match &c.callee {
            Callee::Service { id, .. } => self.expr(id),
            Callee::Func { abilities, .. } => abilities.iter().for_each(|a| self.expr(a)),
            Callee::Arrow(e) => self.expr(e),
            Callee::MapMethod { map, .. } => self.expr(map),
        }
        c.args.iter().for_each(|a| self.expr(a));
    }

    fn expr(&mut self, e: &hir::Expr) {
        match &e.kind {
            ExprKind::Local(id) => self.read(*id),
            ExprKind::Field(b, _) | ExprKind::Length(b) | ExprKind::Not(b) => self.expr(b),
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Call(c) => self.call(c),
            ExprKind::Collection(_, items) => items.iter().for_each(|i| self.expr(i)),
            ExprKind::Construct(fields) => fields.iter().for_each(|(_, v)| self.expr(v)),
            ExprKind::Copy(b, fields) => {
                self.expr(b);
                fields.iter().for_each(|(_, v)| self.expr(v));
            }
            ExprKind::ServiceFunc { id, .. } | ExprKind::Service { id, .. } => self.expr(id),
            ExprKind::Literal(_) | ExprKind::InitPeerId | ExprKind::Builtin(_) | ExprKind::Func(_) | ExprKind::Error => {}
        }
    }
}
