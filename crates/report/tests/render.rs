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
    "facts.md",
    "wire.md",
    "verify.md",
    "verify.svg",
    "issue.md",
    "http.md",
    "throughput.svg",
    "cpu.svg",
    "peers.md",
    "capacity.md",
    "latency.md",
    "latency-closed-c1.svg",
    "latency-closed-c8.svg",
    "latency-open-50pct.svg",
    "distance.md",
    "distance-closed-c1.svg",
    "distance-closed-c8.svg",
    "floors.md",
    "loadgen.md",
    "logins.md",
    "revocation.md",
    "revocation.svg",
    "anatomy.md",
    "tenancy.md",
    "scale-cluster.md",
    "scale-instances.md",
    "scale-rotation.md",
    "scale-failover.md",
    "jwe.md",
    "calculator-data.js",
    "verdict-sizes.md",
    "verdict-verify.md",
    "verdict-http.md",
    "verdict-distance.md",
    "verdict-revocation.md",
    "verdict-failure.md",
    "verdict-choosing.md",
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
            "distance-closed-c8.svg",
            &[
                "round trip added",
                "(ms",
                ", log scale)",
                "session p50",
                "session p99",
                "jwt-HS256 p50",
                "8 connections",
            ][..],
        ),
        (
            "revocation.svg",
            &[
                "Revocation window",
                "(ms, log scale",
                "strategy",
                "until exp",
                "not reflected within 0.5 s",
                "\n500\n</text>",
                "jwt-ES256-none",
                "logout-all",
                "role-change",
            ][..],
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
        // A white card with near-black text, readable in light and dark themes alike.
        assert!(svg.contains("fill=\"#FFFFFF\""), "{name} has no white card");
        assert!(svg.contains("#222222"), "{name} has no dark text");
        assert!(
            !svg.contains("#888888"),
            "{name} still has the old pale grey"
        );
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

/// The five strategies of the revocation experiment, in the record's order.
const STRATEGIES: [&str; 5] = [
    "session",
    "jwt-ES256-none",
    "jwt-ES256-denylist",
    "jwt-ES256-epoch",
    "jwt-ES256-refresh",
];

/// The markdown tables of a page, each as its lines (header, rule, rows).
fn tables(md: &str) -> Vec<Vec<&str>> {
    let mut out: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in md.lines() {
        if line.starts_with('|') {
            current.push(line);
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[test]
fn revocation_tables_list_the_five_strategies_with_units() {
    let out = tempfile::tempdir().unwrap();
    authbench_report::render(&fixture(), out.path()).unwrap();
    let md = read(out.path(), "revocation.md");
    let t = tables(&md);
    assert_eq!(
        t.len(),
        5,
        "windows, their continuation, cost, moving parts and outage tables:\n{md}"
    );
    let (windows, after, cost, parts, outage) = (&t[0], &t[1], &t[2], &t[3], &t[4]);
    for s in STRATEGIES {
        let row = format!("| {s} |");
        for (name, table) in [
            ("windows", windows),
            ("after", after),
            ("cost", cost),
            ("moving parts", parts),
            ("outage", outage),
        ] {
            assert!(
                table.iter().any(|l| l.starts_with(&row)),
                "the {name} table lacks {s}"
            );
        }
        // One windows row per phase.
        for phase in ["logout", "logout-all", "role-change"] {
            assert!(
                windows
                    .iter()
                    .any(|l| l.starts_with(&format!("| {s} | {phase} |"))),
                "no {s} {phase} row"
            );
        }
    }
    assert_eq!(windows.len(), 2 + 15);
    assert_eq!(after.len(), 2 + 15);
    assert_eq!(cost.len(), 2 + 5);
    assert_eq!(outage.len(), 2 + 5);
    for unit in ["window p50 (ms)", "not reflected (of targets)"] {
        assert!(windows[0].contains(unit), "windows header lacks {unit}");
    }
    for unit in [
        "probe period (ms)",
        "next login usable p50 (ms)",
        "next login refused (of rounds)",
    ] {
        assert!(after[0].contains(unit), "continuation header lacks {unit}");
    }
    // The next-login cells sit on the logout-all rows, and every strategy's is 0 of 50.
    for s in STRATEGIES {
        let row = after
            .iter()
            .find(|l| l.starts_with(&format!("| {s} | logout-all |")))
            .expect("logout-all row");
        assert!(row.ends_with("| 0 of 50 |"), "{row}");
        let logout = after
            .iter()
            .find(|l| l.starts_with(&format!("| {s} | logout |")))
            .expect("logout row");
        assert!(logout.ends_with("| — | — |"), "{logout}");
    }
    for unit in ["(MiB)", "bytes per revoked credential"] {
        assert!(cost[0].contains(unit), "cost header lacks {unit}");
    }
    assert!(parts[0].contains("round trips per request"));
    assert!(md.contains("linear extrapolation"));
    // The smoke run: a plain JWT never reflects a logout; the session does, at once.
    assert!(md.contains("| jwt-ES256-none | logout | not-revoked | — | — | — | 2 of 2 |"));
    assert!(md.contains("| session | logout | revoked | 2.24 |"));
    assert!(md.contains("| session | 392 | 2.04 | -200 | 3.74 | 37.4 |"));
    assert!(md.contains("| session | 1.00 | 3.25 |"));
    // Revoked credentials accepted while Redis was frozen: a plain 0 for every strategy.
    for row in &outage[2..] {
        let cells: Vec<&str> = row.split(" | ").collect();
        assert_eq!(cells[4], "0", "{row}");
    }
    assert!(md.contains("| jwt-ES256-none | 2.00 | 200: 3689 | 200: 1786 | 0 |"));
    for caption in md.lines().filter(|l| l.starts_with('*')) {
        assert!(
            caption.ends_with(".*"),
            "caption is not one italic sentence: {caption}"
        );
    }
}

#[test]
fn anatomy_explains_the_sample_token() {
    let out = tempfile::tempdir().unwrap();
    authbench_report::render(&fixture(), out.path()).unwrap();
    let md = read(out.path(), "anatomy.md");
    for part in ["HEADER", "PAYLOAD", "SIGNATURE"] {
        assert!(md.contains(part), "anatomy.md lacks {part}");
    }
    // The smoke run holds only an HS256 sample: the fallback, said so.
    assert!(md.contains("no `jwt-ES256` sample token; its `jwt-HS256` one instead"));
    assert!(md.contains("wrapped here at 80"));
    let record: serde_json::Value = serde_json::from_str(&read(&fixture(), "run.json")).unwrap();
    let token = record["sample_tokens"][0]["token"].as_str().unwrap();
    let block = md
        .split("```text\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    assert!(block.lines().all(|l| l.chars().count() <= 80));
    assert_eq!(
        block.replace('\n', ""),
        token,
        "the wrapped token is the token"
    );
    assert!(md.contains("| jwt-HS256 | `HS256` | 382 | 110 | 227 | 43 | 32 |"));
    assert!(!md.contains("{{#"));
}

/// An ES256 sample (signature bytes 0..64; nothing here verifies it) whose payload tries to
/// break the page: an mdBook include and a code fence.
const HOSTILE_ES256: &str = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJ1c2VyMSIsIm5vdGUiOiJ7eyNpbmNsdWRlIC4uLy4uL0NhcmdvLnRvbWx9fSBgYGAifQ.AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-Pw";

#[test]
fn anatomy_prefers_es256_and_cannot_be_broken_by_claims() {
    let run = tempfile::tempdir().unwrap();
    let mut record: serde_json::Value =
        serde_json::from_str(&read(&fixture(), "run.json")).unwrap();
    record["sample_tokens"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "configuration": "jwt-ES256",
            "token": HOSTILE_ES256,
            "collected_at": 1_795_695_922u64,
        }));
    std::fs::write(
        run.path().join("run.json"),
        serde_json::to_string(&record).unwrap(),
    )
    .unwrap();
    let md = authbench_report::render_files(run.path())
        .unwrap()
        .into_iter()
        .find(|f| f.name == "anatomy.md")
        .unwrap()
        .contents;
    assert!(md.contains("The run's sample `jwt-ES256` token"));
    assert!(md.contains("64 bytes of ES256"));
    assert!(md.contains("| jwt-HS256 | `HS256` |") && md.contains("| jwt-ES256 | `ES256` |"));
    // No mdBook directive survives, and the claim's backticks cannot close the block early.
    assert!(!md.contains("{{#") && md.contains("include ../../Cargo.toml"));
    assert!(md.contains("````text\n"));
}

#[test]
fn scale_tenancy_and_jwe_pages_show_their_rows() {
    let out = tempfile::tempdir().unwrap();
    authbench_report::render(&fixture(), out.path()).unwrap();
    let tenancy = read(out.path(), "tenancy.md");
    // Both backends × three routes × the smoke profile's two connection counts, and the four
    // staleness cases; a JWT under the claims policy never sees the move within the watch.
    assert_eq!(tenancy.lines().filter(|l| l.contains("`GET /")).count(), 12);
    assert!(
        tenancy.contains("| jwt-ES256 | A (claims) | unchanged-until-expiry | — | — | 2 of 2 |")
    );
    assert!(tenancy.contains("| session | A (claims) | updated |"));
    let cluster = read(out.path(), "scale-cluster.md");
    assert!(cluster.contains("| single node | 8 |") && cluster.contains("| cluster | 8 |"));
    let instances = read(out.path(), "scale-instances.md");
    assert!(
        instances.contains("| session | 2 | 8 |") && instances.contains("| jwt-ES256 | 2 | 8 |")
    );
    let rotation = read(out.path(), "scale-rotation.md");
    assert!(
        rotation.contains("| verifier1 | 4 of 4 | 4 of 4 | 200: 4 |"),
        "{rotation}"
    );
    // The key revocation after the rotation (fixture: added by hand, see its notes).
    assert!(rotation.contains("the revoked `kid` gone"), "{rotation}");
    assert!(
        rotation.contains("| issuer | 1.40 | 0 | yes |"),
        "{rotation}"
    );
    assert!(
        rotation.contains("| verifier1 | 71.0 | 1 | yes |"),
        "{rotation}"
    );
    let failover = read(out.path(), "scale-failover.md");
    assert!(failover.contains("| session |") && failover.contains("| yes |"));
    let jwe = read(out.path(), "jwe.md");
    for mode in [
        "dir-A256GCM",
        "RSA-OAEP-256-A256GCM",
        "ECDH-ES+A256KW-A256GCM",
    ] {
        assert!(
            jwe.contains(&format!("| `{mode}` |")),
            "jwe.md lacks {mode}"
        );
    }
    for page in [&tenancy, &cluster, &instances, &rotation, &failover, &jwe] {
        assert!(!page.contains("not measured"), "{page}");
    }
}

/// A schema-4 smoke run (`tests/data/smoke-run-v4`, regenerated the same way as the main
/// fixture): the open-loop capacity search and the HTTP/1.1-against-HTTP/2 table.
fn fixture_v4() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/smoke-run-v4")
}

#[test]
fn capacity_and_wire_tables_come_from_a_schema_4_run() {
    let out = tempfile::tempdir().unwrap();
    authbench_report::render(&fixture_v4(), out.path()).unwrap();
    let record: serde_json::Value = serde_json::from_str(&read(&fixture_v4(), "run.json")).unwrap();

    let capacity = read(out.path(), "capacity.md");
    for c in record["open_capacity"].as_array().unwrap() {
        let target = c["target"].as_str().unwrap();
        let row = capacity
            .lines()
            .find(|l| l.starts_with(&format!("| {target} |")))
            .unwrap_or_else(|| panic!("capacity.md lacks {target}: {capacity}"));
        let probes = c["probes"].as_array().unwrap();
        let sustained = probes.iter().filter(|p| p["sustained"] == true).count();
        assert!(
            row.ends_with(&format!("| {sustained} of {} |", probes.len())),
            "{row}"
        );
        assert_eq!(row.contains("none sustained"), sustained == 0, "{row}");
    }
    assert!(
        capacity.contains("open-loop capacity (req/s)"),
        "{capacity}"
    );
    // The latency pages call the open-loop rates fractions of that capacity.
    let latency = read(out.path(), "latency.md");
    assert!(latency.contains("% of each target's capacity"), "{latency}");
    let run = read(out.path(), "run.md");
    assert!(
        run.contains("open-loop capacity (found by a search"),
        "{run}"
    );

    let wire = read(out.path(), "wire.md");
    assert!(wire.contains("| (no credential) |"), "{wire}");
    for z in record["sizes"].as_array().unwrap() {
        let name = z["configuration"].as_str().unwrap();
        assert_eq!(
            wire.matches(&format!("| {name} |")).count(),
            2,
            "{name}: one row in each of the two tables: {wire}"
        );
    }
    // The HTTP/1.1 column is the credential-less request plus the header line, exactly.
    let none_h1: u64 = record["wire"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["protocol"] == "http/1.1" && w["form"] == "none")
        .unwrap()["same_credential_bytes"]
        .as_u64()
        .unwrap();
    let session = record["sizes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|z| z["configuration"] == "session")
        .unwrap();
    let expect = none_h1 + session["header_line_bytes"].as_u64().unwrap();
    assert!(
        wire.contains(&format!("| session | {expect} |")),
        "session over HTTP/1.1 should be {expect} B: {wire}"
    );
    let verdict = read(out.path(), "verdict-sizes.md");
    assert!(verdict.contains("**HTTP/2:**"), "{verdict}");
}

#[test]
fn a_schema_3_run_says_it_has_no_capacity_search_or_http2_table() {
    let out = tempfile::tempdir().unwrap();
    authbench_report::render(&fixture(), out.path()).unwrap();
    assert!(read(out.path(), "capacity.md").contains("no open-loop capacity search"));
    assert!(read(out.path(), "wire.md").contains("did not measure HTTP/2"));
    assert!(!read(out.path(), "verdict-sizes.md").contains("HTTP/2"));
}
