//! The load generator's raw reports (`raw/**/*.json` of a run folder) read into
//! [`record::load::Report`] and written back as the generator writes them are the same bytes
//! (up to how serde_json reads some long floats): no field is lost, renamed, reordered or
//! reformatted by the types (the committed run folders
//! are the fixtures). With the `histogram` feature, every embedded histogram decodes to the
//! request count its report states.

use authbench_spec::record::load::{Report, SCHEMA_VERSION};
use std::path::{Path, PathBuf};

fn raw_reports() -> Vec<PathBuf> {
    let results = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../results");
    let mut out = Vec::new();
    let mut stack = vec![results];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable results folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json")
                && path.components().any(|c| c.as_os_str() == "raw")
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn committed_raw_reports_round_trip_byte_for_byte() {
    let mut checked = 0;
    let mut identical = 0;
    for path in raw_reports() {
        let text = std::fs::read_to_string(&path).expect("readable");
        let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        // `raw/` also holds other tools' output; a load report is one with our layout.
        if value.get("histogram").is_none() || value.get("latency_us").is_none() {
            continue;
        }
        let report: Report = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not a Report: {e}", path.display()));
        assert_eq!(report.schema_version, SCHEMA_VERSION, "{}", path.display());
        let again = serde_json::to_string_pretty(&report).expect("serializes") + "\n";
        assert_eq!(
            again.lines().count(),
            text.lines().count(),
            "{}",
            path.display()
        );
        for (was, is) in text.lines().zip(again.lines()) {
            if was != is {
                // serde_json reads a float's shortest form back to the same `f64`, but not
                // always a longer one (`0.42400000000000004` reads as `0.424` without its
                // `float_roundtrip` feature, whatever type it is read into): that line may
                // differ, by an ulp or two of the same number.
                let number = |line: &str| {
                    let (key, n) = line.split_once(": ")?;
                    Some((key.to_owned(), n.trim_end_matches(',').parse::<f64>().ok()?))
                };
                let close = match (number(was), number(is)) {
                    (Some((k1, a)), Some((k2, b))) => {
                        k1 == k2 && (a - b).abs() <= a.abs() * 4.0 * f64::EPSILON
                    }
                    _ => false,
                };
                assert!(close, "{}: {was:?} written back as {is:?}", path.display());
            }
        }
        if again == text {
            identical += 1;
        }
        #[cfg(feature = "histogram")]
        {
            let h = report.latency_histogram().expect("decodes");
            assert_eq!(h.len(), report.requests, "{}", path.display());
        }
        checked += 1;
    }
    assert!(checked > 100, "only {checked} raw reports found");
    assert!(identical > 0, "no raw report is written back byte for byte");
}
