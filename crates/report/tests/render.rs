//! Renders the committed smoke run (`tests/data/smoke-run`, a real `authbench compare --smoke`
//! folder: its figures are noise, its shape is the real one) and checks the output.

use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/smoke-run")
}

/// The files every run produces, plus one latency chart per scenario of the smoke profile.
const EXPECTED: &[&str] = &[
    "run.md",
    "targets.md",
    "sizes.md",
    "sizes.svg",
    "verify.md",
    "verify.svg",
    "issue.md",
    "http.md",
    "throughput.svg",
    "cpu.svg",
    "latency.md",
    "latency-closed-c1.svg",
    "latency-closed-c8.svg",
    "latency-open-50pct.svg",
    "distance.md",
    "distance.svg",
    "floors.md",
    "loadgen.md",
    "logins.md",
];

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_expected_file_is_produced_in_order() {
    let out = tempfile::tempdir().unwrap();
    let paths = authbench_report::render(&fixture(), out.path()).unwrap();
    let names: Vec<String> = paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, EXPECTED);
    for p in &paths {
        assert!(p.starts_with(out.path()));
        assert!(std::fs::metadata(p).unwrap().len() > 0, "{}", p.display());
    }
}

#[test]
fn rendering_twice_is_byte_identical() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    authbench_report::render(&fixture(), a.path()).unwrap();
    authbench_report::render(&fixture(), b.path()).unwrap();
    // And again over the first output: nothing changes, nothing is rewritten.
    let before: Vec<_> = EXPECTED
        .iter()
        .map(|n| {
            std::fs::metadata(a.path().join(n))
                .unwrap()
                .modified()
                .unwrap()
        })
        .collect();
    authbench_report::render(&fixture(), a.path()).unwrap();
    for (i, name) in EXPECTED.iter().enumerate() {
        assert_eq!(
            std::fs::read(a.path().join(name)).unwrap(),
            std::fs::read(b.path().join(name)).unwrap(),
            "{name} differs between two renderings"
        );
        let after = std::fs::metadata(a.path().join(name))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(before[i], after, "{name} was rewritten without a change");
    }
}

#[test]
fn charts_are_svg_with_titles_axis_labels_and_legends() {
    let out = tempfile::tempdir().unwrap();
    authbench_report::render(&fixture(), out.path()).unwrap();
    let expect = [
        (
            "sizes.svg",
            &["bytes", "configuration", "4096", "8 KiB", "jwt-HS256"][..],
        ),
        (
            "verify.svg",
            &["µs per verify", "JWT HS256", "floor", "p10–p90"][..],
        ),
        (
            "throughput.svg",
            &["requests per second", "target", "healthz", "min–max"][..],
        ),
        (
            "cpu.svg",
            &[
                "CPU time per request (µs)",
                "server",
                "Redis",
                "load generator",
            ][..],
        ),
        (
            "latency-closed-c8.svg",
            &[
                "latency (µs",
                "percentile",
                "50%",
                "99.99%",
                "session",
                "jwt-HS256",
            ][..],
        ),
        (
            "distance.svg",
            &["one-way delay", "(ms", "latency (µs)", "p50", "p99"][..],
        ),
    ];
    for (name, needles) in expect {
        let svg = read(out.path(), name);
        assert!(svg.starts_with("<svg"), "{name} does not start with <svg");
        assert!(svg.trim_end().ends_with("</svg>"), "{name} is not closed");
        assert_eq!(
            svg.matches("<text").count(),
            svg.matches("</text>").count(),
            "{name}: unbalanced text elements"
        );
        // Transparent background (no full-size fill), grey text for light and dark themes.
        assert!(!svg.contains("fill=\"#FFFFFF\""), "{name} has a white fill");
        assert!(svg.contains("#888888"), "{name} has no grey text");
        for n in needles {
            assert!(svg.contains(n), "{name} lacks {n:?}");
        }
    }
}

#[test]
fn tables_list_every_configuration_with_units() {
    let out = tempfile::tempdir().unwrap();
    authbench_report::render(&fixture(), out.path()).unwrap();
    let record: serde_json::Value = serde_json::from_str(&read(&fixture(), "run.json")).unwrap();
    let sizes = read(out.path(), "sizes.md");
    let logins = read(out.path(), "logins.md");
    let run = read(out.path(), "run.md");
    for c in record["configurations"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        assert!(run.contains(&format!("| {name} |")), "run.md lacks {name}");
        if !name.contains("redis+") {
            assert!(
                sizes.contains(&format!("| {name} |")),
                "sizes.md lacks {name}"
            );
            assert!(
                logins.contains(&format!("| {name} |")),
                "logins.md lacks {name}"
            );
        }
    }
    let http = read(out.path(), "http.md");
    let latency = read(out.path(), "latency.md");
    for t in ["healthz", "session", "jwt-HS256"] {
        assert!(http.contains(&format!("| {t} |")), "http.md lacks {t}");
        assert!(
            latency.contains(&format!("| {t} |")),
            "latency.md lacks {t}"
        );
    }
    assert!(sizes.contains("(bytes)"));
    assert!(http.contains("req/s") && http.contains("µs/req"));
    assert!(latency.contains("p99 (µs)"));
    assert!(read(out.path(), "verify.md").contains("(µs)"));
    assert!(read(out.path(), "distance.md").contains("(ms)"));
    assert!(run.contains(record["command"].as_str().unwrap()));
    let targets = read(out.path(), "targets.md");
    assert_eq!(
        targets.matches("\n| ").count() - 1,
        record["targets"].as_array().unwrap().len(),
        "targets.md should have one row per target"
    );
}

#[test]
fn a_missing_raw_report_leaves_a_line_out_and_says_so() {
    let run = tempfile::tempdir().unwrap();
    std::fs::copy(fixture().join("run.json"), run.path().join("run.json")).unwrap();
    let raw = run.path().join("raw/http");
    std::fs::create_dir_all(&raw).unwrap();
    for e in std::fs::read_dir(fixture().join("raw/http")).unwrap() {
        let e = e.unwrap();
        if e.file_name() != "session-closed-c8-rep0.json" {
            std::fs::copy(e.path(), raw.join(e.file_name())).unwrap();
        }
    }
    let out = tempfile::tempdir().unwrap();
    authbench_report::render(run.path(), out.path()).unwrap();
    let latency = read(out.path(), "latency.md");
    assert!(latency.contains("No raw histogram in the run folder for: session."));
    let svg = read(out.path(), "latency-closed-c8.svg");
    assert!(svg.contains("jwt-HS256") && !svg.contains(">session<"));
}

#[test]
fn newest_run_picks_the_latest_start() {
    let results = tempfile::tempdir().unwrap();
    for (dir, started) in [
        ("2026-01-02-b", "2026-01-02T10:00:00Z"),
        ("2026-01-03-a", "2026-01-03T09:00:00Z"),
        ("2026-01-01-c", "2026-01-01T23:00:00Z"),
    ] {
        std::fs::create_dir(results.path().join(dir)).unwrap();
        std::fs::write(
            results.path().join(dir).join("run.json"),
            format!("{{\"started_at\": \"{started}\"}}"),
        )
        .unwrap();
    }
    std::fs::create_dir(results.path().join("2099-empty")).unwrap();
    assert_eq!(
        authbench_report::newest_run(results.path()).unwrap(),
        results.path().join("2026-01-03-a")
    );
    let empty = tempfile::tempdir().unwrap();
    assert!(authbench_report::newest_run(empty.path()).is_err());
}
