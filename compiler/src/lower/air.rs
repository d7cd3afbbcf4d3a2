//! The AIR that lowering builds: an arena of instructions (so that long and deeply
//! nested scripts are built, printed and dropped without recursion) and a printer in
//! the reference compiler's layout: one instruction per line, one space of indent per
//! level, `seq`/`par`/`xor` nested to the left.

/// An index into [`Air::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Id(u32);

/// An AIR value as text: `x`, `$s`, `#c`, `"str"`, `42`, `x.$.field`, `:error:`.
pub type Value = String;

#[derive(Debug, Clone)]
pub enum Node {
    Call { peer: Value, service: Value, function: Value, args: Vec<Value>, output: Option<Value> },
    Ap { value: Value, dest: Value },
    ApMap { key: Value, value: Value, map: Value },
    Canon { peer: Value, stream: Value, dest: Value },
    Seq(Id, Id),
    Par(Id, Id),
    Xor(Id, Id),
    Match { left: Value, right: Value, body: Id, negate: bool },
    Fold { iterable: Value, item: Value, body: Id, last: Option<Id> },
    Next(Value),
    New { var: Value, body: Id },
    Fail(Value),
    Null,
    Never,
}

/// Instructions under construction.
#[derive(Debug, Default)]
pub struct Air {
    nodes: Vec<Node>,
}

impl Air {
    pub fn add(&mut self, node: Node) -> Id {
        self.nodes.push(node);
        Id(u32::try_from(self.nodes.len() - 1).unwrap_or(u32::MAX))
    }

    pub fn null(&mut self) -> Id {
        self.add(Node::Null)
    }

    /// The instructions in order, nested to the left; `null` for none.
    pub fn seq(&mut self, items: Vec<Id>) -> Id {
        let mut iter = items.into_iter();
        let Some(first) = iter.next() else { return self.null() };
        iter.fold(first, |acc, next| self.add(Node::Seq(acc, next)))
    }

    pub fn par(&mut self, a: Id, b: Id) -> Id {
        self.add(Node::Par(a, b))
    }

    pub fn xor(&mut self, a: Id, b: Id) -> Id {
        self.add(Node::Xor(a, b))
    }

    pub fn new_scope(&mut self, var: impl Into<Value>, body: Id) -> Id {
        self.add(Node::New { var: var.into(), body })
    }

    /// The script text rooted at `root`, ending with a newline.
    pub fn print(&self, root: Id) -> String {
        enum Step {
            Open(Id, usize),
            Close(usize),
        }
        let mut out = String::new();
        let mut stack = vec![Step::Open(root, 0)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Close(depth) => {
                    indent(&mut out, depth);
                    out.push_str(")\n");
                }
                Step::Open(id, depth) => {
                    indent(&mut out, depth);
                    let children: Vec<Id> = match &self.nodes[id.0 as usize] {
                        Node::Call { peer, service, function, args, output } => {
                            out.push_str(&format!("(call {peer} ({service} {function}) [{}]", args.join(" ")));
                            if let Some(o) = output {
                                out.push(' ');
                                out.push_str(o);
                            }
                            out.push_str(")\n");
                            continue;
                        }
                        Node::Ap { value, dest } => {
                            out.push_str(&format!("(ap {value} {dest})\n"));
                            continue;
                        }
                        Node::ApMap { key, value, map } => {
                            out.push_str(&format!("(ap ({key} {value}) {map})\n"));
                            continue;
                        }
                        Node::Canon { peer, stream, dest } => {
                            out.push_str(&format!("(canon {peer} {stream}  {dest})\n"));
                            continue;
                        }
                        Node::Next(item) => {
                            out.push_str(&format!("(next {item})\n"));
                            continue;
                        }
                        Node::Fail(v) => {
                            out.push_str(&format!("(fail {v})\n"));
                            continue;
                        }
                        Node::Null => {
                            out.push_str("(null)\n");
                            continue;
                        }
                        Node::Never => {
                            out.push_str("(never)\n");
                            continue;
                        }
                        Node::Seq(a, b) => {
                            out.push_str("(seq\n");
                            vec![*a, *b]
                        }
                        Node::Par(a, b) => {
                            out.push_str("(par\n");
                            vec![*a, *b]
                        }
                        Node::Xor(a, b) => {
                            out.push_str("(xor\n");
                            vec![*a, *b]
                        }
                        Node::Match { left, right, body, negate } => {
                            out.push_str(&format!("({} {left} {right}\n", if *negate { "mismatch" } else { "match" }));
                            vec![*body]
                        }
                        Node::Fold { iterable, item, body, last } => {
                            out.push_str(&format!("(fold {iterable} {item}\n"));
                            let mut c = vec![*body];
                            c.extend(last);
                            c
                        }
                        Node::New { var, body } => {
                            out.push_str(&format!("(new {var}\n"));
                            vec![*body]
                        }
                    };
                    stack.push(Step::Close(depth));
                    for child in children.into_iter().rev() {
                        stack.push(Step::Open(child, depth + 1));
                    }
                }
            }
        }
        out
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push(' ');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_in_the_reference_layout() {
        let mut air = Air::default();
        let a = air.add(Node::Call {
            peer: "%init_peer_id%".into(),
            service: "\"s\"".into(),
            function: "\"f\"".into(),
            args: vec!["x".into(), "1".into()],
            output: Some("ret".into()),
        });
        let b = air.add(Node::Canon { peer: "%init_peer_id%".into(), stream: "$r".into(), dest: "#r".into() });
        let c = air.add(Node::Ap { value: "ret".into(), dest: "$r".into() });
        let s = air.seq(vec![a, b, c]);
        let n = air.null();
        let x = air.xor(s, n);
        assert_eq!(
            air.print(x),
            "(xor\n (seq\n  (seq\n   (call %init_peer_id% (\"s\" \"f\") [x 1] ret)\n   (canon %init_peer_id% $r  #r)\n  )\n  (ap ret $r)\n )\n (null)\n)\n"
        );
    }

    #[test]
    fn long_sequences_print_without_recursion() {
        let mut air = Air::default();
        let items: Vec<Id> = (0..2_000).map(|_| air.null()).collect();
        let root = air.seq(items);
        let text = std::thread::Builder::new().stack_size(256 * 1024).spawn(move || air.print(root)).unwrap().join().unwrap();
        assert_eq!(text.matches("(null)").count(), 2_000);
    }
}
