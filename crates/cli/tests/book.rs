//! The book (`book/`) builds with mdBook 0.5, every internal link, anchor, image and include
//! resolves, and no hand-written page carries a hand-typed measurement.
//!
//! Measured figures live only in `book/src/results/`, which `authbench report` generates from a
//! run folder; the prose around them must not type numbers that a different machine would
//! contradict. The checks here are deliberately plain string scanning (no regex dependency) and
//! deliberately strict: code blocks are scanned too.
//!
//! mdBook is required, never skipped: `scripts/setup` installs it
//! (`cargo install mdbook --locked --version ^0.5`). Set `MDBOOK` to use a binary outside
//! `PATH`.
//!
//! The decision calculator (`book/src/calculator.md`, `book/calculator.js`) is run in headless
//! Chromium (a fresh profile, background networking off) on the built book, and every output it
//! shows is checked against `authbench_report::calculator::evaluate` on the same data file.
//! Chromium is required too (`scripts/setup` installs Debian's `chromium`); set `CHROMIUM` to
//! use another binary.

use std::collections::{BTreeSet, HashMap};
use std::path::{Component, Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// How to get mdBook, printed whenever it is missing or too old.
const INSTALL_HINT: &str = "install mdBook 0.5 with `scripts/setup` or \
     `cargo install mdbook --locked --version ^0.5` (about two minutes), or point MDBOOK at it";

/// Units that mark a measured figure when they follow a number. `µ` appears in two code points
/// (micro sign U+00B5 and Greek mu U+03BC); both are listed. Longer units first, so `ops/s` is
/// not read as `s`.
const MEASUREMENT_UNITS: &[&str] = &[
    "req/s", "ops/s", "rps", "\u{b5}s", "\u{3bc}s", "us", "ms", "ns",
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

fn book_dir() -> PathBuf {
    workspace_root().join("book")
}

fn src_dir() -> PathBuf {
    book_dir().join("src")
}

/// Every file under `dir`, recursively, sorted.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display())) {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `a/./b/../c` → `a/c`, without touching the file system (the target may not exist).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The mdBook binary: `$MDBOOK`, else `mdbook` on `PATH`, else `$CARGO_HOME/bin/mdbook`.
fn mdbook() -> PathBuf {
    let candidates = std::env::var_os("MDBOOK")
        .map(PathBuf::from)
        .into_iter()
        .chain(Some(PathBuf::from("mdbook")))
        .chain(
            std::env::var_os("CARGO_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
                .map(|c| c.join("bin/mdbook")),
        );
    for candidate in candidates {
        let Ok(out) = Command::new(&candidate).arg("--version").output() else {
            continue;
        };
        if !out.status.success() {
            continue;
        }
        let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        // "mdbook v0.5.1"
        let numbers: Vec<u64> = version
            .rsplit(' ')
            .next()
            .unwrap_or("")
            .trim_start_matches('v')
            .split('.')
            .map_while(|n| n.parse().ok())
            .collect();
        match numbers.as_slice() {
            [0, minor, ..] if *minor >= 5 => return candidate,
            [major, ..] if *major >= 1 => return candidate,
            _ => panic!(
                "{} is `{version}`, older than 0.5: {INSTALL_HINT}",
                candidate.display()
            ),
        }
    }
    panic!("mdbook not found: {INSTALL_HINT}");
}

/// The book, built once per test binary into a scratch directory under `target/` (cargo's
/// `CARGO_TARGET_TMPDIR`), emptied first so nothing stale is checked.
fn built_book() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("book-test");
            if out.exists() {
                std::fs::remove_dir_all(&out).expect("clear the previous build");
            }
            let result = Command::new(mdbook())
                .arg("build")
                .arg(book_dir())
                .arg("-d")
                .arg(&out)
                .output()
                .expect("run mdbook");
            let stderr = String::from_utf8_lossy(&result.stderr);
            assert!(result.status.success(), "mdbook build failed:\n{stderr}");
            // mdBook logs a failed {{#include}} or a broken SUMMARY entry and still succeeds.
            for line in stderr.lines() {
                assert!(
                    !(line.contains("ERROR") || line.contains("WARN")),
                    "mdbook build complained:\n{stderr}"
                );
            }
            out
        })
        .as_path()
}

/// The Markdown text outside fenced code blocks, with inline code spans blanked, line by line.
fn prose_lines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fence: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim_start();
        let marker: String = trimmed
            .chars()
            .take_while(|&c| c == '`' || c == '~')
            .collect();
        if marker.len() >= 3 && marker.chars().all(|c| c == marker.chars().next().unwrap()) {
            match &fence {
                None => fence = Some(marker),
                Some(open) if marker.starts_with(open.as_str()) => fence = None,
                Some(_) => {}
            }
            out.push(String::new());
            continue;
        }
        if fence.is_some() {
            out.push(String::new());
            continue;
        }
        out.push(blank_code_spans(line));
    }
    out
}

/// `a `b` c` → `a     c`: inline code may show link syntax that is not a link.
fn blank_code_spans(line: &str) -> String {
    let chars: Vec<char> = line.chars().collect();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '`' {
            let run = chars[i..].iter().take_while(|&&c| c == '`').count();
            // Find the closing run of the same length.
            let mut j = i + run;
            let mut close = None;
            while j < chars.len() {
                if chars[j] == '`' {
                    let r = chars[j..].iter().take_while(|&&c| c == '`').count();
                    if r == run {
                        close = Some(j);
                        break;
                    }
                    j += r;
                } else {
                    j += 1;
                }
            }
            if let Some(end) = close {
                out.extend(std::iter::repeat_n(' ', end + run - i));
                i = end + run;
                continue;
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The targets of inline links and images, reference definitions and `src="…"` attributes.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets = Vec::new();
    for line in prose_lines(text) {
        let mut rest = line.as_str();
        while let Some(at) = rest.find("](") {
            let after = &rest[at + 2..];
            let end = after.find(')').unwrap_or(after.len());
            targets.push(after[..end].to_owned());
            rest = &after[end..];
        }
        let t = line.trim_start();
        if t.starts_with('[')
            && let Some(close) = t.find("]:")
            && !t[..close].contains("](")
        {
            targets.push(t[close + 2..].to_owned());
        }
        let mut rest = line.as_str();
        while let Some(at) = rest.find("src=\"") {
            let after = &rest[at + 5..];
            let end = after.find('"').unwrap_or(after.len());
            targets.push(after[..end].to_owned());
            rest = &after[end..];
        }
    }
    targets
        .into_iter()
        .map(|t| {
            let t = t.trim();
            let t = t.strip_prefix('<').unwrap_or(t);
            let t = t.split_whitespace().next().unwrap_or("");
            t.trim_end_matches('>').to_owned()
        })
        .filter(|t| !t.is_empty())
        .collect()
}

/// The paths of `{{#include …}}` directives (anchors and line ranges after `:` dropped).
fn includes(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("{{#include") {
        let after = &rest[at + "{{#include".len()..];
        let end = after.find("}}").expect("unclosed {{#include");
        let arg = after[..end].trim();
        out.push(arg.split(':').next().unwrap_or(arg).to_owned());
        rest = &after[end..];
    }
    out
}

/// `page`'s text with its includes expanded, as mdBook renders it: an included file's links are
/// resolved relative to the including page.
fn expanded(page: &Path, depth: usize) -> String {
    let text =
        std::fs::read_to_string(page).unwrap_or_else(|e| panic!("read {}: {e}", page.display()));
    if depth > 8 {
        return text;
    }
    let mut out = text.clone();
    for inc in includes(&text) {
        let path = normalize(&page.parent().unwrap().join(&inc));
        assert!(
            path.is_file(),
            "{}: {{{{#include {inc}}}}} names a missing file",
            page.display()
        );
        out.push('\n');
        out.push_str(&expanded(&path, depth + 1));
    }
    out
}

/// The chapter files SUMMARY.md lists, relative to `src`.
fn summary_pages() -> Vec<PathBuf> {
    let summary = std::fs::read_to_string(src_dir().join("SUMMARY.md")).expect("SUMMARY.md");
    link_targets(&summary)
        .into_iter()
        .filter(|t| !t.is_empty())
        .map(PathBuf::from)
        .collect()
}

#[test]
fn the_book_builds_with_mdbook() {
    let out = built_book();
    for page in summary_pages() {
        let html = out.join(page.with_extension("html"));
        let html = if page.file_name().is_some_and(|n| n == "README.md") {
            out.join(page.with_file_name("index.html"))
        } else {
            html
        };
        let text = std::fs::read_to_string(&html)
            .unwrap_or_else(|e| panic!("{} was not rendered: {e}", html.display()));
        assert!(
            !text.contains("{{#include"),
            "{}: an include was left unexpanded",
            html.display()
        );
    }
}

#[test]
fn every_page_is_in_the_summary_and_every_summary_entry_exists() {
    let src = src_dir();
    let listed: BTreeSet<PathBuf> = summary_pages().into_iter().collect();
    for page in &listed {
        assert!(
            src.join(page).is_file(),
            "SUMMARY.md lists missing {}",
            page.display()
        );
    }
    for file in walk(&src) {
        let rel = file.strip_prefix(&src).unwrap().to_path_buf();
        if rel.extension().is_some_and(|e| e == "md")
            && rel != Path::new("SUMMARY.md")
            && !rel.starts_with("results")
        {
            assert!(
                listed.contains(&rel),
                "{} is not in SUMMARY.md, so mdBook never renders it",
                rel.display()
            );
        }
    }
}

#[test]
fn every_internal_link_image_and_anchor_resolves() {
    let src = src_dir();
    let out = built_book();
    let mut html_cache: HashMap<PathBuf, String> = HashMap::new();
    let mut pages: Vec<PathBuf> = summary_pages();
    pages.push(PathBuf::from("SUMMARY.md"));
    let mut failures = Vec::new();
    for page in pages {
        let text = expanded(&src.join(&page), 0);
        let dir = page.parent().unwrap_or(Path::new("")).to_path_buf();
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let rel = if path.is_empty() {
                page.clone()
            } else {
                normalize(&dir.join(path))
            };
            if !src.join(&rel).is_file() {
                failures.push(format!("{}: `{target}` does not exist", page.display()));
                continue;
            }
            let Some(anchor) = anchor.filter(|a| !a.is_empty()) else {
                continue;
            };
            if rel.extension().is_none_or(|e| e != "md") || rel == Path::new("SUMMARY.md") {
                continue;
            }
            let html_path = if rel.file_name().is_some_and(|n| n == "README.md") {
                rel.with_file_name("index.html")
            } else {
                rel.with_extension("html")
            };
            let html = html_cache.entry(html_path.clone()).or_insert_with(|| {
                std::fs::read_to_string(out.join(&html_path)).unwrap_or_default()
            });
            if !html.contains(&format!("id=\"{anchor}\"")) {
                failures.push(format!(
                    "{}: `{target}`: no heading with id `{anchor}` in {}",
                    page.display(),
                    html_path.display()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "broken links:\n{}",
        failures.join("\n")
    );
}

/// The first measured-looking figure in `line` ("12 µs", "3.5ms", "40k req/s"), if any.
fn measurement_in(line: &str) -> Option<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts_number = chars[i].is_ascii_digit()
            && (i == 0 || !(chars[i - 1].is_ascii_digit() || chars[i - 1] == '.'));
        if !starts_number {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() {
            i += 1;
        }
        if i + 1 < chars.len() && chars[i] == '.' && chars[i + 1].is_ascii_digit() {
            i += 1;
            while i < chars.len() && chars[i].is_ascii_digit() {
                i += 1;
            }
        }
        let mut j = i;
        if j < chars.len() && matches!(chars[j], 'k' | 'K' | 'M') {
            j += 1;
        }
        if j < chars.len() && matches!(chars[j], ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}') {
            j += 1;
        }
        let tail: String = chars[j..].iter().collect();
        for unit in MEASUREMENT_UNITS {
            if let Some(after) = tail.strip_prefix(unit) {
                let boundary = after
                    .chars()
                    .next()
                    .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                if boundary {
                    let end = j + unit.chars().count();
                    return Some(chars[start..end].iter().collect());
                }
            }
        }
    }
    None
}

#[test]
fn the_measurement_checker_catches_what_it_must() {
    for hit in [
        "12 µs",
        "12µs",
        "0.3 \u{3bc}s",
        "47 us.",
        "3.5ms",
        "100k req/s",
        "20 000 rps",
        "1.7M ops/s",
        "(210 ns)",
    ] {
        assert!(measurement_in(hit).is_some(), "missed {hit:?}");
    }
    for miss in [
        "HS256 uses",
        "RFC 7519 §4.1.4",
        "8 KiB",
        "500 milliseconds",
        "256 bits",
        "15 minutes",
        "2 msgs",
        "v0.5 usage",
    ] {
        assert!(measurement_in(miss).is_none(), "false alarm on {miss:?}");
    }
}

#[test]
fn no_hand_typed_measurements_outside_results() {
    let src = src_dir();
    let mut failures = Vec::new();
    for file in walk(&src) {
        let rel = file.strip_prefix(&src).unwrap();
        if rel.starts_with("results") {
            continue;
        }
        // Every text file counts, code blocks included: a figure in an example is still a
        // figure a reader will quote.
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            if let Some(found) = measurement_in(line) {
                failures.push(format!("{}:{}: `{found}`", rel.display(), n + 1));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "measured figures belong in generated pages under book/src/results/ \
         (written by `authbench report`), not in prose:\n{}",
        failures.join("\n")
    );
}

#[test]
fn results_placeholders_or_pages_exist_for_every_include() {
    // Each page the prose includes must exist even before the first `authbench report`, so the
    // book builds from a fresh clone.
    let src = src_dir();
    for page in summary_pages() {
        let text = std::fs::read_to_string(src.join(&page)).expect("page");
        for inc in includes(&text) {
            let path = normalize(&src.join(page.parent().unwrap_or(Path::new(""))).join(inc));
            assert!(
                path.is_file(),
                "{}: missing {}",
                page.display(),
                path.display()
            );
        }
    }
}

/// How to get Chromium, printed whenever it is missing.
const CHROMIUM_HINT: &str = "install Chromium with `scripts/setup` (Debian package `chromium`), \
     or point CHROMIUM at a Chromium or Chrome binary";

/// Chromium: `$CHROMIUM`, else `chromium`, `chromium-browser` or `google-chrome` on `PATH`.
fn chromium() -> PathBuf {
    let candidates = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(["chromium", "chromium-browser", "google-chrome"].map(PathBuf::from));
    for candidate in candidates {
        if Command::new(&candidate)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return candidate;
        }
    }
    panic!("Chromium not found: {CHROMIUM_HINT}");
}

/// The DOM of `page` (a file of the built book) after its scripts ran, with `query` as the
/// URL's query string: headless Chromium, a fresh profile, nothing reaching the network.
fn dump_dom(page: &Path, query: &str) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let url = format!("file://{}?{query}", page.display());
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed on {url}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("DOM is UTF-8")
}

/// `data-output="k" data-value="v"` pairs of a DOM dump.
fn outputs_in(dom: &str) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut rest = dom;
    while let Some(at) = rest.find("data-output=\"") {
        let after = &rest[at + "data-output=\"".len()..];
        let key_end = after.find('"').expect("closing quote");
        let key = after[..key_end].to_owned();
        let tail = &after[key_end..];
        let v = tail
            .find("data-value=\"")
            .expect("data-value after data-output")
            + 12;
        let v_end = tail[v..].find('"').expect("closing quote") + v;
        out.insert(key, tail[v..v_end].to_owned());
        rest = &tail[v_end..];
    }
    out
}

/// JavaScript's `String(x)` of a double parsed back ("NaN" included).
fn js_number(s: &str) -> f64 {
    if s == "NaN" {
        f64::NAN
    } else {
        s.parse()
            .unwrap_or_else(|e| panic!("`{s}` is not a number: {e}"))
    }
}

#[test]
fn the_calculator_computes_in_chromium_what_the_model_computes_in_rust() {
    use authbench_report::calculator::{Inputs, evaluate_json, json_of_js};
    let out = built_book();
    let page = out.join("calculator.html");
    let js = std::fs::read_to_string(out.join("results/calculator-data.js"))
        .expect("the built book carries results/calculator-data.js");
    let json = json_of_js(&js).expect("calculator-data.js assigns the data");
    // Two readers: one whose requirement only the stateful designs meet, one for whom every
    // design with a short enough lifetime does, with several services and another algorithm.
    let cases = [
        (
            "rate=5000&rtt=1&alg=ES256&revoke=1&services=3&users=250000&lifetime=900&refresh_lifetime=300",
            Inputs {
                rate: 5000.0,
                rtt_ms: 1.0,
                alg: "ES256".into(),
                revoke_s: 1.0,
                services: 3.0,
                users: 250000.0,
                lifetime_s: 900.0,
                refresh_lifetime_s: 300.0,
            },
        ),
        (
            "rate=120&rtt=0.25&alg=HS256&revoke=600&services=1&users=1000&lifetime=300&refresh_lifetime=60",
            Inputs {
                rate: 120.0,
                rtt_ms: 0.25,
                alg: "HS256".into(),
                revoke_s: 600.0,
                services: 1.0,
                users: 1000.0,
                lifetime_s: 300.0,
                refresh_lifetime_s: 60.0,
            },
        ),
    ];
    let mut meets_seen = std::collections::BTreeSet::new();
    for (query, inputs) in cases {
        let dom = dump_dom(&page, query);
        assert!(
            dom.contains("data-computed=\"yes\""),
            "the calculator did not run for ?{query}"
        );
        let shown = outputs_in(&dom);
        let expected = evaluate_json(json, &inputs).expect("the data parses");
        assert_eq!(
            shown.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "the page and the model have different outputs for ?{query}"
        );
        for (key, want) in &expected {
            let got = js_number(&shown[key]);
            let same = (got.is_nan() && want.is_nan())
                || (got - want).abs() <= 1e-9 * want.abs().max(1e-9);
            assert!(same, "?{query}: {key} is {got} in Chromium, {want} in Rust");
            assert!(
                !want.is_nan(),
                "?{query}: {key} is not computed from this run's data"
            );
        }
        meets_seen.insert(
            ["session", "none", "denylist", "epoch", "refresh"]
                .map(|d| expected[&format!("{d}.meets")] as u8),
        );
    }
    assert_eq!(
        meets_seen.len(),
        2,
        "the two readers should get different verdicts on revocation"
    );
}
