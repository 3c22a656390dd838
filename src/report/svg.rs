//! A small SVG writer for the report's one chart: incidents per ISO week as bars. No script,
//! no external reference, every text escaped for XML; sized in user units so that it scales on
//! screen and in print.

use std::fmt::Write;

/// `text` escaped for XML text and attribute values.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A bar chart of `bars` (label, value), titled `title` (for screen readers).
pub fn bar_chart(title: &str, bars: &[(String, u64)]) -> String {
    const BAR: f64 = 28.0;
    const GAP: f64 = 8.0;
    const HEIGHT: f64 = 140.0;
    const LEFT: f64 = 32.0;
    const BOTTOM: f64 = 46.0;
    const TOP: f64 = 16.0;
    let max = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1);
    let width = LEFT + (bars.len().max(1) as f64) * (BAR + GAP) + GAP;
    let total_h = TOP + HEIGHT + BOTTOM;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {width:.0} {total_h:.0}" width="{width:.0}" height="{total_h:.0}" role="img" aria-label="{t}"><title>{t}</title>"#,
        t = xml_escape(title)
    );
    let base = TOP + HEIGHT;
    let _ = write!(
        s,
        r##"<line x1="{LEFT}" y1="{base}" x2="{width:.0}" y2="{base}" stroke="#555" stroke-width="1"/>"##
    );
    let _ = write!(
        s,
        r##"<text x="{x}" y="{y}" font-size="10" text-anchor="end" fill="#333">{max}</text><text x="{x}" y="{base}" font-size="10" text-anchor="end" fill="#333">0</text>"##,
        x = LEFT - 4.0,
        y = TOP + 8.0
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let x = LEFT + GAP + i as f64 * (BAR + GAP);
        let h = HEIGHT * (*value as f64) / (max as f64);
        let y = base - h;
        let _ = write!(
            s,
            r##"<rect x="{x:.1}" y="{y:.1}" width="{BAR}" height="{h:.1}" fill="#2b5d8a"><title>{l}: {value}</title></rect>"##,
            l = xml_escape(label)
        );
        if *value > 0 {
            let _ = write!(
                s,
                r##"<text x="{cx:.1}" y="{ty:.1}" font-size="10" text-anchor="middle" fill="#111">{value}</text>"##,
                cx = x + BAR / 2.0,
                ty = y - 3.0
            );
        }
        let _ = write!(
            s,
            r##"<text x="{cx:.1}" y="{ly:.1}" font-size="9" text-anchor="end" fill="#333" transform="rotate(-45 {cx:.1} {ly:.1})">{l}</text>"##,
            cx = x + BAR / 2.0,
            ly = base + 12.0,
            l = xml_escape(label)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_escapes_labels_and_scales_bars() {
        let svg = bar_chart(
            "Vecka <script>",
            &[("2024-W18".into(), 2), ("a\"&<b>".into(), 4)],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("a&quot;&amp;&lt;b&gt;"), "{svg}");
        // The larger bar is the full height, the other half of it.
        assert!(svg.contains(r#"height="140.0""#) && svg.contains(r#"height="70.0""#));
        assert!(!svg.contains("href"));
    }
}
