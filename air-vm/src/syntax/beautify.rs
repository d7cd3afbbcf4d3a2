//! AIR as indented pseudo-code, in the style of AquaVM's `air beautify`.
//!
//! ```text
//! call %init_peer_id% ("svc" "f") [x] -> y     ; call with output
//! ap x -> $s                                   ; ap, and `ap (k v) -> %m`
//! canon "p" $s -> #c
//! par:                                         ; par: branches separated by `|`
//!     ...
//! |
//!     ...
//! try:                                         ; xor
//!     ...
//! catch:
//!     ...
//! match x y:                                   ; and `mismatch x y:`
//!     ...
//! for i <- $s:                                 ; fold, with an optional `last:` block
//!     ...
//!     next i
//! new $s:
//!     ...
//! ```
//!
//! A `seq` is just its children on consecutive lines.

use super::ast::{CallOutput, InstrId, InstrKind, Script};
use super::print::{MAX_INDENT_LEVELS, write_head, write_value};

const INDENT: &str = "    ";

/// Readable pseudo-code for `script`, one statement per line.
pub fn beautify(script: &Script) -> String {
    enum Item {
        Instr(InstrId, usize),
        Line(&'static str, usize),
    }
    let mut out = String::new();
    let mut stack = vec![Item::Instr(script.root, 0)];
    while let Some(item) = stack.pop() {
        let (id, depth) = match item {
            Item::Instr(id, depth) => (id, depth),
            Item::Line(text, depth) => {
                indent(&mut out, depth);
                out.push_str(text);
                out.push('\n');
                continue;
            }
        };
        let kind = &script.instr(id).kind;
        if let InstrKind::Seq(left, right) = kind {
            stack.push(Item::Instr(*right, depth));
            stack.push(Item::Instr(*left, depth));
            continue;
        }
        indent(&mut out, depth);
        match kind {
            InstrKind::Call(call) => {
                // The head text without the output, then `-> output`.
                let output = call.output;
                let mut head = String::new();
                write_head(&mut head, script, kind);
                match output {
                    CallOutput::None => out.push_str(head.trim_end()),
                    CallOutput::Scalar(var) | CallOutput::Stream(var) => {
                        let name = script.name(var.id);
                        out.push_str(head.strip_suffix(name).unwrap_or(&head));
                        out.push_str("-> ");
                        out.push_str(name);
                    }
                }
            }
            InstrKind::Ap(ap) => {
                out.push_str("ap ");
                write_value(&mut out, script, &ap.source);
                out.push_str(" -> ");
                out.push_str(script.name(ap.dest.id));
            }
            InstrKind::ApMap(ap) => {
                out.push_str("ap (");
                write_value(&mut out, script, &ap.key);
                out.push(' ');
                write_value(&mut out, script, &ap.value);
                out.push_str(") -> ");
                out.push_str(script.name(ap.map.id));
            }
            InstrKind::Canon(canon) => {
                out.push_str("canon ");
                write_value(&mut out, script, &canon.peer);
                out.push(' ');
                out.push_str(script.name(canon.source.id));
                out.push_str(" -> ");
                out.push_str(script.name(canon.dest.id));
            }
            InstrKind::Par(left, right) => {
                out.push_str("par:");
                stack.push(Item::Instr(*right, depth + 1));
                stack.push(Item::Line("|", depth));
                stack.push(Item::Instr(*left, depth + 1));
            }
            InstrKind::Xor(left, right) => {
                out.push_str("try:");
                stack.push(Item::Instr(*right, depth + 1));
                stack.push(Item::Line("catch:", depth));
                stack.push(Item::Instr(*left, depth + 1));
            }
            InstrKind::Match(m) | InstrKind::Mismatch(m) => {
                write_head(&mut out, script, kind);
                out.push(':');
                stack.push(Item::Instr(m.body, depth + 1));
            }
            InstrKind::Fold(fold) => {
                out.push_str("for ");
                out.push_str(script.name(fold.iterator.id));
                out.push_str(" <- ");
                write_value(&mut out, script, &fold.iterable);
                out.push(':');
                if let Some(last) = fold.last {
                    stack.push(Item::Instr(last, depth + 1));
                    stack.push(Item::Line("last:", depth));
                }
                stack.push(Item::Instr(fold.body, depth + 1));
            }
            InstrKind::New { body, .. } => {
                write_head(&mut out, script, kind);
                out.push(':');
                stack.push(Item::Instr(*body, depth + 1));
            }
            InstrKind::Seq(..) | InstrKind::Next(_) | InstrKind::Never | InstrKind::Null | InstrKind::Fail(_) => {
                write_head(&mut out, script, kind)
            }
        }
        out.push('\n');
    }
    out
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth.min(MAX_INDENT_LEVELS) {
        out.push_str(INDENT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    fn pretty(source: &str) -> String {
        beautify(&parse(source).expect("valid script"))
    }

    #[test]
    fn call_with_and_without_output() {
        assert_eq!(
            pretty(r#"(seq (call %init_peer_id% ("svc" "f") [] $x) (seq (canon "p" $x #c) (call "p" ("svc" "f") [#c.length])))"#),
            "call %init_peer_id% (\"svc\" \"f\") [] -> $x\ncanon \"p\" $x -> #c\ncall \"p\" (\"svc\" \"f\") [#c.length]\n"
        );
    }

    #[test]
    fn relay_pattern() {
        insta::assert_snapshot!(pretty(
            r#"
            (xor
              (seq
                (seq
                  (call %init_peer_id% ("getDataSrv" "-relay-") [] -relay-)
                  (call %init_peer_id% ("getDataSrv" "peers") [] peers))
                (par
                  (call -relay- ("op" "noop") [])
                  (seq
                    (call %init_peer_id% ("peer" "timestamp_ms") [] ts)
                    (call %init_peer_id% ("callbackSrv" "response") [ts peers.$.[0]!]))))
              (call %init_peer_id% ("errorHandlingSrv" "error") [%last_error% 1]))
            "#
        ));
    }

    #[test]
    fn stream_fold_and_canon() {
        insta::assert_snapshot!(pretty(
            r#"
            (seq
              (seq
                (call %init_peer_id% ("getDataSrv" "peers") [] peers)
                (new $results
                  (seq
                    (fold peers p
                      (par
                        (seq
                          (call p ("peer" "identify") [] $results)
                          (ap p $visited))
                        (next p))
                      (null))
                    (canon %init_peer_id% $results #results))))
              (fold #results r
                (seq
                  (match r.$.ok true
                    (call %init_peer_id% ("log" "ok") [r.length]))
                  (next r))))
            "#
        ));
    }

    #[test]
    fn maps_errors_and_leaves() {
        insta::assert_snapshot!(pretty(
            r#"
            (seq
              (seq
                (ap ("key" 42) %map)
                (canon %init_peer_id% %map #%canon))
              (xor
                (seq
                  (mismatch #%canon.$.key.[0] -1.5
                    (fail 7 "unexpected value"))
                  (fold %map kv
                    (seq
                      (call %init_peer_id% ("s" "f") [kv.$.key kv.$.value %timestamp% %ttl%])
                      (next kv))))
                (par
                  (fail :error:)
                  (never))))
            "#
        ));
    }
}
