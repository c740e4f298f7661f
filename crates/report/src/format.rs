//! Fixed number formats and a markdown table builder.
//!
//! Every figure on every page goes through one of these functions, so the same quantity looks
//! the same everywhere and the output never depends on anything but the value: no locale, no
//! shortest-round-trip float printing (which would show `52.37700000001`).

use authbench_spec::record::stats::Spread;
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

/// About three significant figures, for measurements whose size varies by orders of magnitude
/// (milliseconds from a fraction to thousands, mebibytes): `0.938`, `4.98`, `52.9`, `529`,
/// `5292`; an exact zero is `0`.
pub fn sig3(x: f64) -> String {
    if !x.is_finite() {
        return MISSING.to_owned();
    }
    let x = clean(x);
    let a = x.abs();
    if a == 0.0 {
        "0".to_owned()
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// A fenced code block around `text` (which should end in a newline), with a fence longer
/// than any run of backticks inside it, so that no content can close it early.
pub fn fenced(lang: &str, text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat((longest + 1).max(3));
    let body = book_safe(text);
    let newline = if body.ends_with('\n') { "" } else { "\n" };
    format!("{fence}{lang}\n{body}{newline}{fence}\n")
}

/// `text` with every `{{` that mdBook's preprocessor could read as a directive (`{{#include …}}`,
/// `{{ #title …}}`: two braces, optional whitespace, `#`) broken by a zero-width space between
/// the braces. mdBook expands directives anywhere in an included file, code blocks included,
/// so text taken from a run (a token's claims) must not be able to contain one. Text without
/// such a sequence is returned unchanged.
pub fn book_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..=i]);
        let after = &rest[i + 2..];
        if after.trim_start().starts_with('#') {
            out.push('\u{200B}');
        }
        out.push('{');
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `text` cut into lines of at most `width` characters (for a long token in a code block).
pub fn wrap(text: &str, width: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len() + text.len() / width.max(1) + 1);
    for line in chars.chunks(width.max(1)) {
        out.extend(line);
        out.push('\n');
    }
    out
}

/// Seconds since the Unix epoch as an RFC 3339 UTC timestamp, `2026-11-26T09:12:02Z`
/// (proleptic Gregorian calendar; no clock or time zone is read).
pub fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
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

    #[test]
    fn three_figures() {
        assert_eq!(sig3(0.0), "0");
        assert_eq!(sig3(0.93842), "0.938");
        assert_eq!(sig3(4.977063), "4.98");
        assert_eq!(sig3(52.9), "52.9");
        assert_eq!(sig3(-544.0), "-544");
        assert_eq!(sig3(f64::NAN), MISSING);
    }

    #[test]
    fn code_blocks_cannot_be_closed_or_expanded_by_their_content() {
        assert_eq!(fenced("text", "a\n"), "```text\na\n```\n");
        assert_eq!(fenced("", "x ``` y"), "````\nx ``` y\n````\n");
        let broken = book_safe("{{#include /etc/passwd}} and {{ #title x}} but {{x}} stays");
        assert!(!broken.contains("{{#") && !broken.contains("{{ #"));
        assert!(broken.ends_with("but {{x}} stays"));
        assert_eq!(book_safe("{\"a\":{\"b\":1}}"), "{\"a\":{\"b\":1}}");
    }

    #[test]
    fn wrapping_and_dates() {
        assert_eq!(wrap("abcdefg", 3), "abc\ndef\ng\n");
        assert_eq!(wrap("abcdef", 3), "abc\ndef\n");
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_795_695_922), "2026-11-26T12:25:22Z");
    }
}
