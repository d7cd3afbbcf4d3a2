//! A run drawn as a sequence diagram: one lifeline per peer that took part, time going
//! down, an arrow per particle hop (dashed and red when lost), a dot per service call
//! (red when it failed). Pure text, deterministic, viewable in any browser.

use crate::report::Report;
use std::collections::BTreeMap;
use std::fmt::Write;

const COLUMN_PX: u64 = 140;
const TOP_PX: u64 = 60;
const MARGIN_PX: u64 = 80;
/// Vertical pixels per virtual millisecond, chosen so the run fits in about 1 000 px.
fn scale(end_ms: u64) -> f64 {
    (1000.0 / end_ms.max(1) as f64).clamp(0.5, 40.0)
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The SVG text of `report`.
pub fn render(report: &Report) -> String {
    // Peers that appear in the run, in the report's (name) order.
    let mut involved: Vec<&str> = report.peers.keys().map(String::as_str).collect();
    involved.retain(|p| report.events.iter().any(|e| e.peer == *p) || report.hops.iter().any(|h| h.to == *p));
    let column: BTreeMap<&str, u64> = involved.iter().enumerate().map(|(i, p)| (*p, MARGIN_PX + i as u64 * COLUMN_PX)).collect();
    let k = scale(report.end_ms);
    let y = |t: u64| TOP_PX as f64 + t as f64 * k;
    // Room on the right for the last column's call labels.
    let width = MARGIN_PX + COLUMN_PX + involved.len().saturating_sub(1) as u64 * COLUMN_PX;
    let height = y(report.end_ms) + 60.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0}" font-family="monospace" font-size="11">"#
    );
    let _ = writeln!(
        out,
        r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>"#
    );
    let _ = writeln!(
        out,
        r#"<text x="8" y="16">particle {} · seed {} · {} ms</text>"#,
        escape(&report.particle_id),
        report.seed,
        report.end_ms
    );
    for (p, x) in &column {
        let _ = writeln!(out, r#"<text x="{x}" y="{}" text-anchor="middle" font-weight="bold">{}</text>"#, TOP_PX - 20, escape(p));
        let _ = writeln!(out, r##"<line x1="{x}" y1="{}" x2="{x}" y2="{:.1}" stroke="#999"/>"##, TOP_PX - 10, height - 30.0);
    }
    for h in &report.hops {
        let (Some(&x1), Some(&x2)) = (column.get(h.from.as_str()), column.get(h.to.as_str())) else { continue };
        match h.arrive_ms {
            Some(at) => {
                let _ = writeln!(
                    out,
                    r#"<line x1="{x1}" y1="{:.1}" x2="{x2}" y2="{:.1}" stroke="black" marker-end="url(#arrow)"/>"#,
                    y(h.time_ms),
                    y(at)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    r#"<line x1="{x1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="red" stroke-dasharray="4 3"/>"#,
                    y(h.time_ms),
                    (x1 + x2) as f64 / 2.0,
                    y(h.time_ms) + 8.0
                );
            }
        }
    }
    // Calls at the same peer and time are stacked so their labels stay readable.
    let mut stacked: BTreeMap<(&str, u64), u32> = BTreeMap::new();
    for c in &report.calls {
        let Some(&x) = column.get(c.peer.as_str()) else { continue };
        let n = stacked.entry((c.peer.as_str(), c.time_ms)).or_insert(0);
        let label_y = y(c.time_ms) + 4.0 + f64::from(*n) * 12.0;
        *n += 1;
        let colour = if c.error.is_some() { "red" } else { "#2a6" };
        let _ = writeln!(
            out,
            r#"<circle cx="{x}" cy="{:.1}" r="4" fill="{colour}"><title>{}</title></circle>"#,
            y(c.time_ms),
            escape(&format!("{}.{} at {} ms", c.service, c.function, c.time_ms))
        );
        let _ =
            writeln!(out, r#"<text x="{}" y="{label_y:.1}" fill="{colour}">{}.{}</text>"#, x + 7, escape(&c.service), escape(&c.function));
    }
    out.push_str("</svg>\n");
    out
}
