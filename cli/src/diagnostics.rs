//! Rendering source errors for the terminal with codespan-reporting.

use air_vm::syntax::ParseErrors;
use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};

/// Renders AIR parse errors with source excerpts, as plain text.
pub fn render_air_errors(errors: &ParseErrors, file_name: &str, source: &str) -> String {
    let file = SimpleFile::new(file_name, source);
    let mut out = String::new();
    let config = Config::default();
    for e in errors.errors() {
        let mut d = Diagnostic::error().with_message(&e.message).with_labels(vec![Label::primary((), e.span.range())]);
        if let Some(hint) = &e.hint {
            d = d.with_notes(vec![format!("hint: {hint}")]);
        }
        let mut buf = String::new();
        if term::emit_to_string(&mut buf, &config, &file, &d).is_err() {
            buf = format!("error: {e}\n");
        }
        out.push_str(&buf);
    }
    out
}
