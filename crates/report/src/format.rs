//! Fixed number formats and a markdown table builder.
//!
//! Every figure on every page goes through one of these functions, so the same quantity looks
//! the same everywhere and the output never depends on anything but the value: no locale, no
//! shortest-round-trip float printing (which would show `52.37700000001`).

use authbench_compare::stats::Spread;
use std::fmt::Write as _;

/// Shown where a figure is missing or not a number.
pub const MISSING: &str = "—";

/// `-0.0` prints as `-0`; adding `0.0` turns it into `+0.0`.
fn clean(x: f64) -> f64 {
    x + 0.0
}

/// Microseconds with about three significant figures: `0.61`, `5.77`, `52.4`, `118`, `5303`.
pub fn us(x: f64) -> String {
    if !x.is_finite() {
        return MISSING.to_owned();
    }
    let x = clean(x);
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// Nanoseconds shown as microseconds, [`us`].
pub fn us_from_ns(ns: f64) -> String {
    us(ns / 1e3)
}

/// A whole number (requests per second, bytes, counts): no decimals.
pub fn int(x: f64) -> String {
    if !x.is_finite() {
        return MISSING.to_owned();
    }
    format!("{:.0}", clean(x))
}

/// A ratio of two figures: two decimals.
pub fn ratio(x: f64) -> String {
    if !x.is_finite() {
        return MISSING.to_owned();
    }
    format!("{:.2}", clean(x))
}

/// A share in percent (`0.0146` → `1.5 %`).
pub fn percent(share: f64) -> String {
    if !share.is_finite() {
        return MISSING.to_owned();
    }
    format!("{:.1} %", clean(share * 100.0))
}

/// Milliseconds with three decimals (the proxy's delays are fractions of a millisecond).
pub fn ms(x: f64) -> String {
    if !x.is_finite() {
        return MISSING.to_owned();
    }
    format!("{:.3}", clean(x))
}

/// A plain number with as few decimals (0 to 3) as it needs: `5`, `0.3`, `0.005`. For
/// settings (durations, delays, tick labels), not for measurements.
pub fn short(v: f64) -> String {
    if !v.is_finite() {
        return MISSING.to_owned();
    }
    let v = clean(v);
    for d in 0..3 {
        let scale = 10f64.powi(d);
        if (v * scale - (v * scale).round()).abs() < 1e-9 {
            return format!("{v:.*}", d as usize);
        }
    }
    format!("{v:.3}")
}

/// A spread as `median [min–max]`, each with `f`; a single value (`n <= 1`) as the value alone,
/// and an empty spread as [`MISSING`].
pub fn spread(s: &Spread, f: fn(f64) -> String) -> String {
    match s.n {
        0 => MISSING.to_owned(),
        1 => f(s.median),
        _ => format!("{} [{}–{}]", f(s.median), f(s.min), f(s.max)),
    }
}

/// `a / b`, or NaN (printed as [`MISSING`]) when `b` is zero.
pub fn div(a: f64, b: f64) -> f64 {
    if b == 0.0 { f64::NAN } else { a / b }
}

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Words.
    Left,
    /// Figures.
    Right,
}

/// A markdown table: a header, then rows, each cell already formatted.
#[derive(Debug, Clone)]
pub struct Table {
    header: Vec<(String, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these columns.
    pub fn new(columns: &[(&str, Align)]) -> Self {
        Self {
            header: columns.iter().map(|(h, a)| ((*h).to_owned(), *a)).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row; missing cells are filled with [`MISSING`], extra ones dropped.
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells = cells;
        cells.resize(self.header.len(), MISSING.to_owned());
        self.rows.push(cells);
    }

    /// Whether no row was added.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The markdown, ending in a newline.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let cell = |c: &str| c.replace('|', "\\|").replace('\n', " ");
        s.push('|');
        for (h, _) in &self.header {
            let _ = write!(s, " {} |", cell(h));
        }
        s.push_str("\n|");
        for (_, a) in &self.header {
            s.push_str(match a {
                Align::Left => "---|",
                Align::Right => "---:|",
            });
        }
        s.push('\n');
        for r in &self.rows {
            s.push('|');
            for c in r {
                let _ = write!(s, " {} |", cell(c));
            }
            s.push('\n');
        }
        s
    }
}

/// A one-line caption above a table: italic, ending in a full stop.
pub fn caption(text: &str) -> String {
    format!("*{}*\n\n", text.trim_end_matches('.').to_owned() + ".")
}

/// Inline code, safe for text containing backticks.
pub fn code(text: &str) -> String {
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn microseconds_keep_about_three_figures() {
        assert_eq!(us(0.6135), "0.61");
        assert_eq!(us(5.771), "5.77");
        assert_eq!(us(52.377), "52.4");
        assert_eq!(us(118.557), "119");
        assert_eq!(us(-0.0), "0.00");
        assert_eq!(us(f64::NAN), MISSING);
        assert_eq!(us_from_ns(5771.2), "5.77");
    }

    #[test]
    fn other_units() {
        assert_eq!(int(17924.4), "17924");
        assert_eq!(ratio(0.81827), "0.82");
        assert_eq!(percent(0.0146484375), "1.5 %");
        assert_eq!(ms(1.0911790000000001), "1.091");
        assert_eq!(ratio(div(1.0, 0.0)), MISSING);
        assert_eq!(short(5.0), "5");
        assert_eq!(short(0.3), "0.3");
        assert_eq!(short(0.005), "0.005");
    }

    #[test]
    fn spreads() {
        let s = Spread::of([14905.3, 17924.0, 20262.7]);
        assert_eq!(spread(&s, int), "17924 [14905–20263]");
        assert_eq!(spread(&Spread::of([3.0]), int), "3");
        assert_eq!(spread(&Spread::of([]), int), MISSING);
    }

    #[test]
    fn tables_escape_pipes_and_pad_rows() {
        let mut t = Table::new(&[("a", Align::Left), ("b (µs)", Align::Right)]);
        t.row(vec!["x|y".into()]);
        assert_eq!(t.markdown(), "| a | b (µs) |\n|---|---:|\n| x\\|y | — |\n");
    }
}
