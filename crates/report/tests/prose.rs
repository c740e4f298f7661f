//! The hand-written chapters agree with the generated pages they sit beside.
//!
//! `book/src/results/` is written by `authbench report` from a run; the chapters around it are
//! typed by people, and drift: a session ID called "43 characters" beside a table that measures
//! 46, a README that numbers chapters by an old `SUMMARY.md`, prose that points at a column no
//! table has. Each check here scans every chapter (`book/src/*.md`, generated pages excluded)
//! for one such class of error, and each has a test that plants the error and expects it found:
//!
//! - **Measured sizes typed by hand.** A number followed by "characters", "chars" or "bytes"
//!   that equals a measured credential size (the token column of `results/sizes.md`) must come
//!   from `results/facts.md` by include instead; and a sentence about the session ID that gives
//!   it a length in characters must give the measured one.
//! - **Chapter numbers.** A link whose text is `chapter N`, `chapters N` or a bare `N` must
//!   point at the page `SUMMARY.md` numbers N (mdBook's numbering: prefix chapters before the
//!   first list item are unnumbered, nested items are `N.M`).
//! - **Column names.** A name in code or quotes followed by "column" must be the header of a
//!   column in some generated table (headers compared without code marks and without a trailing
//!   unit in parentheses, so "ours, strict" names `ours, strict (µs)`).
//! - **Anchors.** Every `{{#include results/facts.md:anchor}}` names an anchor facts.md has.
//!
//! Plain string scanning, no regex dependency, as in the book test (`crates/cli/tests/book.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../book/src")
}

/// The hand-written chapters: `book/src/*.md` except `SUMMARY.md`, with their text.
fn chapters() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(src_dir()).expect("book/src") {
        let path = entry.expect("entry").path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.extension().is_some_and(|e| e == "md") && name != "SUMMARY.md" {
            out.insert(name, std::fs::read_to_string(&path).expect("read chapter"));
        }
    }
    out
}

/// The generated Markdown pages under `book/src/results/`, by file name.
fn generated() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let dir = src_dir().join("results");
    for entry in std::fs::read_dir(&dir).expect("book/src/results") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.insert(name, std::fs::read_to_string(&path).expect("read page"));
        }
    }
    out
}

/// What the generated pages measured and name, as the checks need it.
struct Run {
    /// Measured credential sizes (the token column of sizes.md), bytes = characters.
    token_sizes: BTreeSet<u64>,
    /// The session ID's length, from facts.md.
    session_id_chars: u64,
    /// facts.md's anchors.
    anchors: BTreeSet<String>,
    /// Every column header of every generated table, normalised (see [`normalise_header`]).
    headers: BTreeSet<String>,
}

fn anchor_value(facts: &str, anchor: &str) -> Option<String> {
    let start = format!("ANCHOR: {anchor}\n");
    let at = facts.find(&start)? + start.len();
    let end = facts[at..].find(&format!("ANCHOR_END: {anchor}"))?;
    Some(facts[at..at + end].trim().to_owned())
}

/// The cells of a Markdown table row (`| a | b |` → `["a", "b"]`).
fn cells(line: &str) -> Vec<String> {
    let t = line.trim();
    let t = t.strip_prefix('|').unwrap_or(t);
    let t = t.strip_suffix('|').unwrap_or(t);
    t.split('|').map(|c| c.trim().to_owned()).collect()
}

fn is_separator(line: &str) -> bool {
    let t = line.trim();
    t.starts_with('|') && t.chars().all(|c| matches!(c, '|' | '-' | ':' | ' '))
}

/// `` `ours, strict` (µs) `` → `ours, strict`: no code marks, no trailing parenthesised unit,
/// lower case, single spaces.
fn normalise_header(h: &str) -> String {
    let mut s: String = h.replace('`', "");
    if s.ends_with(')')
        && let Some(open) = s.rfind(" (")
    {
        s.truncate(open);
    }
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Every table's header row in `page`, as raw cells.
fn table_headers(page: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = page.lines().collect();
    let mut out = Vec::new();
    for w in lines.windows(2) {
        if w[0].trim_start().starts_with('|') && is_separator(w[1]) {
            out.push(cells(w[0]));
        }
    }
    out
}

fn run_from(pages: &BTreeMap<String, String>) -> Run {
    let sizes = pages.get("sizes.md").expect("results/sizes.md");
    let mut token_sizes = BTreeSet::new();
    let mut lines = sizes.lines().peekable();
    let mut token_col = None;
    while let Some(line) = lines.next() {
        if let Some(next) = lines.peek()
            && line.trim_start().starts_with('|')
            && is_separator(next)
        {
            token_col = cells(line)
                .iter()
                .position(|h| normalise_header(h) == "token");
            continue;
        }
        if let Some(col) = token_col
            && line.trim_start().starts_with('|')
            && !is_separator(line)
            && let Some(v) = cells(line).get(col)
            && let Ok(n) = v.parse::<u64>()
        {
            token_sizes.insert(n);
        }
    }
    let facts = pages.get("facts.md").expect("results/facts.md");
    let anchors = facts
        .lines()
        .filter_map(|l| l.strip_prefix("ANCHOR: "))
        .map(|a| a.trim().to_owned())
        .collect();
    let session_id_chars = anchor_value(facts, "session_id_chars")
        .and_then(|v| v.parse().ok())
        .expect("facts.md: session_id_chars");
    let headers = pages
        .values()
        .flat_map(|p| table_headers(p))
        .flatten()
        .map(|h| normalise_header(&h))
        .collect();
    Run {
        token_sizes,
        session_id_chars,
        anchors,
        headers,
    }
}

/// The text outside fenced code blocks, one paragraph per item, lines joined with spaces, with
/// the 1-based line number each paragraph starts on.
fn paragraphs(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = 0;
    let mut fenced = false;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            fenced = !fenced;
            if !current.is_empty() {
                out.push((start, std::mem::take(&mut current)));
            }
            continue;
        }
        if fenced {
            continue;
        }
        if t.is_empty() {
            if !current.is_empty() {
                out.push((start, std::mem::take(&mut current)));
            }
            continue;
        }
        if current.is_empty() {
            start = n + 1;
        } else {
            current.push(' ');
        }
        current.push_str(line.trim());
    }
    if !current.is_empty() {
        out.push((start, current));
    }
    out
}

/// `(number, the word after it)` for every number in `text` followed by a space and a word.
fn numbers_and_next_words(text: &str) -> Vec<(u64, String, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts = chars[i].is_ascii_digit()
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || matches!(chars[i - 1], '.' | '-')));
        if !starts {
            i += 1;
            continue;
        }
        let begin = i;
        let mut digits = String::new();
        while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == ',') {
            if chars[i] != ',' {
                digits.push(chars[i]);
            }
            i += 1;
        }
        if i < chars.len() && chars[i] == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)
        {
            // A decimal: not a count of characters or bytes.
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            continue;
        }
        if i < chars.len() && chars[i] == ' ' {
            let word: String = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_alphanumeric())
                .collect();
            if let Ok(n) = digits.parse() {
                out.push((n, word, begin));
            }
        }
    }
    out
}

fn sentences(paragraph: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = paragraph.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if matches!(b, b'.' | b'!' | b'?') && bytes.get(i + 1).is_none_or(|&c| c == b' ') {
            out.push(&paragraph[start..=i]);
            start = i + 1;
        }
    }
    if start < paragraph.len() {
        out.push(&paragraph[start..]);
    }
    out
}

/// Measured sizes typed by hand, and session ID lengths that are not the measured one.
fn check_sizes(name: &str, text: &str, run: &Run) -> Vec<String> {
    let mut failures = Vec::new();
    for (line, paragraph) in paragraphs(text) {
        for (n, word, _) in numbers_and_next_words(&paragraph) {
            let unit = matches!(word.as_str(), "characters" | "chars" | "bytes" | "B");
            if unit && run.token_sizes.contains(&n) {
                failures.push(format!(
                    "{name}:{line}: `{n} {word}` is a measured credential size: include it from results/facts.md"
                ));
            }
        }
        for sentence in sentences(&paragraph) {
            let lower = sentence.to_lowercase();
            let about_the_id = lower.contains("session id")
                || (lower.contains("session")
                    && (lower.contains(" id ") || lower.contains(" id,")));
            if about_the_id {
                failures.extend(wrong_id_lengths(name, line, sentence, run));
            }
        }
    }
    // A table with a `session` column: its cells describe the session's credential.
    let lines: Vec<&str> = text.lines().collect();
    let mut column = None;
    for (n, pair) in lines.windows(2).enumerate() {
        if pair[0].trim_start().starts_with('|') && is_separator(pair[1]) {
            column = cells(pair[0])
                .iter()
                .position(|h| normalise_header(h) == "session");
            continue;
        }
        if !pair[0].trim_start().starts_with('|') {
            column = None;
            continue;
        }
        if let Some(col) = column
            && !is_separator(pair[0])
            && let Some(cell) = cells(pair[0]).get(col)
        {
            failures.extend(wrong_id_lengths(name, n + 1, cell, run));
        }
    }
    failures
}

/// "N characters" in `text` (about the session ID) where N is not the measured length.
/// "43 base64url characters" describes the secret's encoding: its number is followed by
/// "base64url", not by "characters", and passes.
fn wrong_id_lengths(name: &str, line: usize, text: &str, run: &Run) -> Vec<String> {
    numbers_and_next_words(text)
        .into_iter()
        .filter(|(n, word, _)| word == "characters" && *n != run.session_id_chars)
        .map(|(n, _, _)| {
            format!(
                "{name}:{line}: the session ID is {} characters in this run, not {n}: include results/facts.md:session_id_chars",
                run.session_id_chars
            )
        })
        .collect()
}

/// mdBook's chapter numbers: file → "N" or "N.M", from SUMMARY.md.
fn chapter_numbers(summary: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut counters: Vec<u32> = Vec::new();
    for line in summary.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim_start();
        let Some(item) = t.strip_prefix("- ").or_else(|| t.strip_prefix("* ")) else {
            continue;
        };
        let depth = indent / 4;
        counters.truncate(depth + 1);
        while counters.len() < depth + 1 {
            counters.push(0);
        }
        counters[depth] += 1;
        if let Some(open) = item.find("](")
            && let Some(close) = item[open..].find(')')
        {
            let file = item[open + 2..open + close].to_owned();
            let number = counters
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(".");
            out.insert(file, number);
        }
    }
    out
}

/// Links `[text](target)` in `paragraph`: (text, target without `#anchor`).
fn links(paragraph: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = paragraph;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let Some(close) = after.find("](") else {
            break;
        };
        let text = &after[..close];
        let tail = &after[close + 2..];
        let Some(end) = tail.find(')') else {
            break;
        };
        if !text.contains('[') {
            let target = tail[..end].split('#').next().unwrap_or("").to_owned();
            out.push((text.to_owned(), target));
        }
        rest = &tail[end..];
    }
    out
}

fn check_chapters(name: &str, text: &str, numbers: &BTreeMap<String, String>) -> Vec<String> {
    let mut failures = Vec::new();
    for (line, paragraph) in paragraphs(text) {
        for (link_text, target) in links(&paragraph) {
            let t = link_text.trim();
            let claimed = t
                .strip_prefix("chapters ")
                .or_else(|| t.strip_prefix("chapter "))
                .or_else(|| t.strip_prefix("Chapters "))
                .or_else(|| t.strip_prefix("Chapter "))
                .unwrap_or(t);
            if claimed.is_empty() || !claimed.chars().all(|c| c.is_ascii_digit() || c == '.') {
                continue;
            }
            match numbers.get(&target) {
                Some(actual) if actual == claimed => {}
                Some(actual) => failures.push(format!(
                    "{name}:{line}: [{link_text}]({target}): SUMMARY.md makes {target} chapter {actual}"
                )),
                None => failures.push(format!(
                    "{name}:{line}: [{link_text}]({target}): {target} has no chapter number in SUMMARY.md"
                )),
            }
        }
    }
    failures
}

/// Names in code spans or quotes immediately followed by "column": `` `x` column``,
/// `"x" column`, `“x” column` (a quoted name may hold code spans itself).
fn referenced_columns(paragraph: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (open, close) in [("`", "`"), ("\"", "\""), ("“", "”")] {
        let marker = format!("{close} column");
        let mut from = 0;
        while let Some(at) = paragraph[from..].find(&marker) {
            let end = from + at;
            if let Some(start) = paragraph[..end].rfind(open) {
                out.push(paragraph[start + open.len()..end].to_owned());
            }
            from = end + marker.len();
        }
    }
    out
}

fn check_columns(name: &str, text: &str, run: &Run) -> Vec<String> {
    let mut failures = Vec::new();
    for (line, paragraph) in paragraphs(text) {
        for column in referenced_columns(&paragraph) {
            let wanted = normalise_header(&column);
            if wanted.is_empty() {
                continue;
            }
            if !run.headers.contains(&wanted) {
                failures.push(format!(
                    "{name}:{line}: no generated table has a column `{column}`"
                ));
            }
        }
    }
    failures
}

fn check_anchors(name: &str, text: &str, run: &Run) -> Vec<String> {
    let mut failures = Vec::new();
    let needle = "{{#include results/facts.md:";
    let mut rest = text;
    while let Some(at) = rest.find(needle) {
        let after = &rest[at + needle.len()..];
        let end = after.find("}}").unwrap_or(after.len());
        let anchor = after[..end].trim();
        if !run.anchors.contains(anchor) {
            failures.push(format!("{name}: facts.md has no anchor `{anchor}`"));
        }
        rest = &after[end..];
    }
    failures
}

fn all_failures(chapters: &BTreeMap<String, String>, run: &Run, summary: &str) -> Vec<String> {
    let numbers = chapter_numbers(summary);
    let mut failures = Vec::new();
    for (name, text) in chapters {
        failures.extend(check_sizes(name, text, run));
        failures.extend(check_chapters(name, text, &numbers));
        failures.extend(check_columns(name, text, run));
        failures.extend(check_anchors(name, text, run));
    }
    failures
}

fn summary() -> String {
    std::fs::read_to_string(src_dir().join("SUMMARY.md")).expect("SUMMARY.md")
}

#[test]
fn the_chapters_agree_with_the_generated_pages() {
    let run = run_from(&generated());
    let failures = all_failures(&chapters(), &run, &summary());
    assert!(
        failures.is_empty(),
        "prose that contradicts the run or the book's structure:\n{}",
        failures.join("\n")
    );
}

/// The book as it is, with one edit to one chapter.
fn planted(page: &str, edit: impl Fn(&str) -> String) -> Vec<String> {
    let run = run_from(&generated());
    let mut book = chapters();
    let text = book
        .get(page)
        .unwrap_or_else(|| panic!("no {page}"))
        .clone();
    let edited = edit(&text);
    assert_ne!(edited, text, "the planted edit changed nothing in {page}");
    book.insert(page.to_owned(), edited);
    all_failures(&book, &run, &summary())
}

#[test]
fn a_hand_typed_session_id_length_is_caught() {
    let id = run_from(&generated()).session_id_chars;
    let failures = planted("question.md", |t| {
        t.replace("{{#include results/facts.md:session_id_chars}}", "43")
    });
    assert!(
        failures
            .iter()
            .any(|f| f.starts_with("question.md") && f.contains(&format!("is {id} characters"))),
        "{failures:?}"
    );
}

#[test]
fn a_hand_typed_token_size_is_caught() {
    let run = run_from(&generated());
    let size = *run.token_sizes.iter().max().expect("a measured size");
    let failures = planted("results-sizes.md", |t| {
        format!("{t}\nAn RS256 token is {size} characters here.\n")
    });
    assert!(
        failures
            .iter()
            .any(|f| f.contains(&format!("`{size} characters` is a measured"))),
        "{failures:?}"
    );
}

#[test]
fn a_wrong_chapter_number_is_caught() {
    let failures = planted("README.md", |t| {
        t.replace("[chapters 8](security.md)", "[chapters 6](security.md)")
    });
    assert!(
        failures
            .iter()
            .any(|f| f.contains("[chapters 6](security.md)") && f.contains("chapter 8")),
        "{failures:?}"
    );
}

#[test]
fn a_column_no_table_has_is_caught() {
    let failures = planted("results-sizes.md", |t| {
        format!("{t}\nThe `cookie_limit_share` column shows the headroom.\n")
    });
    assert!(
        failures.iter().any(|f| f.contains("`cookie_limit_share`")),
        "{failures:?}"
    );
}

#[test]
fn a_missing_facts_anchor_is_caught() {
    let failures = planted("question.md", |t| {
        t.replace("facts.md:session_id_chars", "facts.md:session_id_length")
    });
    assert!(
        failures.iter().any(|f| f.contains("`session_id_length`")),
        "{failures:?}"
    );
}

#[test]
fn the_numbering_follows_mdbook() {
    let numbers = chapter_numbers(
        "# Summary\n\n[Intro](README.md)\n\n---\n\n- [A](a.md)\n- [B](b.md)\n    - [B1](b1.md)\n    - [B2](b2.md)\n- [C](c.md)\n",
    );
    assert_eq!(numbers.get("a.md").map(String::as_str), Some("1"));
    assert_eq!(numbers.get("b2.md").map(String::as_str), Some("2.2"));
    assert_eq!(numbers.get("c.md").map(String::as_str), Some("3"));
    assert!(!numbers.contains_key("README.md"));
}
