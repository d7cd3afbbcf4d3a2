//! Printing AIR: canonical source text, and AquaVM's one-line instruction and value
//! texts used inside error objects.
//!
//! Strings are printed between quotes as they are: AIR strings have no escapes, so a
//! string containing `"` (which the parser never produces) would not reparse.

use std::fmt::Write as _;

use super::ast::{Accessor, CallOutput, Fail, InstrId, InstrKind, Lens, LensKind, Number, Script, Value};

/// Indentation stops growing after this many levels, so that the text of a deeply
/// nested script stays linear in its size (and under the size limit when reparsed).
pub const MAX_INDENT_LEVELS: usize = 40;

/// Canonical AIR text: one instruction per line, two spaces of indentation per level,
/// closing parentheses at the end of the last child's line. `parse(to_air(s))` gives
/// back `s` up to spans.
pub fn to_air(script: &Script) -> String {
    enum Item {
        Instr(InstrId, usize),
        Close,
    }
    let mut out = String::new();
    let mut stack = vec![Item::Instr(script.root, 0)];
    while let Some(item) = stack.pop() {
        let (id, depth) = match item {
            Item::Instr(id, depth) => (id, depth),
            Item::Close => {
                out.push(')');
                continue;
            }
        };
        if !out.is_empty() {
            out.push('\n');
        }
        for _ in 0..depth.min(MAX_INDENT_LEVELS) {
            out.push_str("  ");
        }
        out.push('(');
        let kind = &script.instr(id).kind;
        write_head(&mut out, script, kind);
        // A call without output has a trailing space in AquaVM's head text; not here.
        if out.ends_with(' ') {
            out.pop();
        }
        let mut children = kind.children().peekable();
        if children.peek().is_none() {
            out.push(')');
        } else {
            stack.push(Item::Close);
            stack.extend(children.rev().map(|child| Item::Instr(child, depth + 1)));
        }
    }
    out.push('\n');
    out
}

/// AquaVM's one-line text of an instruction's head, as used in error objects:
/// `call "p" ("s" "f") [x y] out` (with a trailing space when there is no output),
/// `match 1 2`, `fold $s i`, `fail 1 "msg"`, `seq`, ...
pub fn instruction_text(script: &Script, id: InstrId) -> String {
    let mut out = String::new();
    write_head(&mut out, script, &script.instr(id).kind);
    out
}

/// A value as written in AIR, e.g. `"text"`, `x.$.a.[0]`, `#c.length`, `%init_peer_id%`.
pub fn value_text(script: &Script, value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, script, value);
    out
}

/// A lens as written in AIR, e.g. `.$.a.[0]` or `.length`.
pub fn lens_text(script: &Script, lens: &Lens) -> String {
    let mut out = String::new();
    write_lens(&mut out, script, Some(lens));
    out
}

pub(crate) fn write_head(out: &mut String, script: &Script, kind: &InstrKind) {
    match kind {
        InstrKind::Call(call) => {
            out.push_str("call ");
            write_value(out, script, &call.peer);
            out.push_str(" (");
            write_value(out, script, &call.service);
            out.push(' ');
            write_value(out, script, &call.function);
            out.push_str(") [");
            for (i, arg) in call.args.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_value(out, script, arg);
            }
            out.push_str("] ");
            match call.output {
                CallOutput::None => {}
                CallOutput::Scalar(var) | CallOutput::Stream(var) => out.push_str(script.name(var.id)),
            }
        }
        InstrKind::Ap(ap) => {
            out.push_str("ap ");
            write_value(out, script, &ap.source);
            out.push(' ');
            out.push_str(script.name(ap.dest.id));
        }
        InstrKind::ApMap(ap) => {
            out.push_str("ap (");
            write_value(out, script, &ap.key);
            out.push(' ');
            write_value(out, script, &ap.value);
            out.push_str(") ");
            out.push_str(script.name(ap.map.id));
        }
        InstrKind::Canon(canon) => {
            out.push_str("canon ");
            write_value(out, script, &canon.peer);
            let _ = write!(out, " {} {}", script.name(canon.source.id), script.name(canon.dest.id));
        }
        InstrKind::Seq(..) => out.push_str("seq"),
        InstrKind::Par(..) => out.push_str("par"),
        InstrKind::Xor(..) => out.push_str("xor"),
        InstrKind::Match(m) | InstrKind::Mismatch(m) => {
            out.push_str(if matches!(kind, InstrKind::Match(_)) { "match " } else { "mismatch " });
            write_value(out, script, &m.left);
            out.push(' ');
            write_value(out, script, &m.right);
        }
        InstrKind::Fold(fold) => {
            out.push_str("fold ");
            write_value(out, script, &fold.iterable);
            out.push(' ');
            out.push_str(script.name(fold.iterator.id));
        }
        InstrKind::Next(var) => {
            out.push_str("next ");
            out.push_str(script.name(var.id));
        }
        InstrKind::New { var, .. } => {
            out.push_str("new ");
            out.push_str(script.name(var.id));
        }
        InstrKind::Never => out.push_str("never"),
        InstrKind::Null => out.push_str("null"),
        InstrKind::Fail(fail) => {
            out.push_str("fail ");
            match &**fail {
                Fail::Literal { code, message } => {
                    let _ = write!(out, "{code} \"{}\"", script.text(*message));
                }
                Fail::Value(value) => write_value(out, script, value),
                Fail::LastError => out.push_str("%last_error%"),
                Fail::Error => out.push_str(":error:"),
            }
        }
    }
}

pub(crate) fn write_value(out: &mut String, script: &Script, value: &Value) {
    match value {
        Value::InitPeerId => out.push_str("%init_peer_id%"),
        Value::LastError(lens) => {
            out.push_str("%last_error%");
            write_lens(out, script, lens.as_deref());
        }
        Value::Error(lens) => {
            out.push_str(":error:");
            write_lens(out, script, lens.as_deref());
        }
        Value::Timestamp => out.push_str("%timestamp%"),
        Value::Ttl => out.push_str("%ttl%"),
        Value::String(s) => {
            out.push('"');
            out.push_str(script.text(*s));
            out.push('"');
        }
        Value::Number(Number::Int(i)) => {
            let _ = write!(out, "{i}");
        }
        Value::Number(Number::Float(f)) => write_float(out, *f),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::EmptyArray => out.push_str("[]"),
        Value::Scalar { var, lens } | Value::CanonStream { var, lens } | Value::CanonMap { var, lens } => {
            out.push_str(script.name(var.id));
            write_lens(out, script, lens.as_deref());
        }
        Value::Stream(var) | Value::StreamMap(var) => out.push_str(script.name(var.id)),
    }
}

/// Shortest text that reads back as the same float, always with a `.` so that it
/// reparses as a float (Rust's `Display` never uses exponents).
fn write_float(out: &mut String, f: f64) {
    let start = out.len();
    let _ = write!(out, "{f}");
    if f.is_finite() && !out[start..].contains('.') {
        out.push_str(".0");
    }
}

fn write_lens(out: &mut String, script: &Script, lens: Option<&Lens>) {
    let Some(lens) = lens else { return };
    match &lens.kind {
        LensKind::Length => out.push_str(".length"),
        LensKind::Path { accessors, flatten } => {
            out.push_str(".$");
            for accessor in accessors {
                match accessor {
                    Accessor::Field(name) => {
                        out.push('.');
                        out.push_str(script.text(*name));
                    }
                    Accessor::Index(i) => {
                        let _ = write!(out, ".[{i}]");
                    }
                    Accessor::Scalar(var) => {
                        let _ = write!(out, ".[{}]", script.name(var.id));
                    }
                }
            }
            if *flatten {
                out.push('!');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse;

    fn head(source: &str) -> String {
        let script = crate::syntax::parser::parse_unvalidated(source).unwrap();
        instruction_text(&script, script.root)
    }

    #[test]
    fn instruction_heads_match_aquavm() {
        assert_eq!(head(r#"(call "p" ("s" "f") [""])"#), r#"call "p" ("s" "f") [""] "#);
        assert_eq!(head(r#"(seq (ap 1 x) (call "p" ("s" "f") [x 1.5 -2 true []] out))"#), "seq");
        let script = parse(r#"(seq (ap 1 x) (call x.$.a ("s" "f") [x 1.5 -2 true [] %ttl%] $out))"#).unwrap();
        let InstrKind::Seq(left, right) = script.instr(script.root).kind else { panic!() };
        assert_eq!(instruction_text(&script, left), "ap 1 x");
        assert_eq!(instruction_text(&script, right), r#"call x.$.a ("s" "f") [x 1.5 -2 true [] %ttl%] $out"#);
        assert_eq!(head("(match 1 2 (null))"), "match 1 2");
        assert_eq!(head("(seq (ap 1 x) (mismatch x %init_peer_id% (null)))"), "seq");
        assert_eq!(head(r#"(fail 1 "msg")"#), r#"fail 1 "msg""#);
        assert_eq!(head("(new x (fail x))"), "new x");
        assert_eq!(head("(xor (null) (fail %last_error%))"), "xor");
        assert_eq!(head("(fold $s i (next i))"), "fold $s i");
        assert_eq!(head("(canon \"p\" $s #c)"), "canon \"p\" $s #c");
        assert_eq!(head("(ap (\"k\" %timestamp%) %m)"), "ap (\"k\" %timestamp%) %m");
        assert_eq!(head("(par (never) (null))"), "par");
        assert_eq!(head("(never)"), "never");
        assert_eq!(head("(null)"), "null");
    }

    #[test]
    fn values() {
        let script = parse("(seq (ap 1 x) (ap x.$.a.[0].[x]! y))").unwrap();
        let InstrKind::Seq(_, right) = script.instr(script.root).kind else { panic!() };
        let InstrKind::Ap(ap) = &script.instr(right).kind else { panic!() };
        assert_eq!(value_text(&script, &ap.source), "x.$.a.[0].[x]!");
    }

    #[test]
    fn floats_keep_a_point() {
        let mut s = String::new();
        write_float(&mut s, 1.0);
        s.push(' ');
        write_float(&mut s, -0.25);
        s.push(' ');
        write_float(&mut s, 0.000000001);
        assert_eq!(s, "1.0 -0.25 0.000000001");
    }

    #[test]
    fn canonical_layout() {
        let script = parse("(seq (null) (par (never) (fold [] i (null) (null))))").unwrap();
        assert_eq!(to_air(&script), "(seq\n  (null)\n  (par\n    (never)\n    (fold [] i\n      (null)\n      (null))))\n");
    }
}
