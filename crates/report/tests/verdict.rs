//! The generated verdict ("What this run shows") decides from the data: fixtures derived from
//! the committed smoke run, edited so that the verdict must flip, render different sentences,
//! and a sentence whose data is missing is not printed at all.

use serde_json::{Value, json};
use std::path::Path;

fn smoke() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/smoke-run/run.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Renders `record` (raw reports absent: the pages tolerate that) and returns `verdict-<page>.md`.
fn verdict(record: &Value, page: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("run.json"),
        serde_json::to_string(record).unwrap(),
    )
    .unwrap();
    let files = authbench_report::render_files(dir.path()).unwrap();
    let name = format!("verdict-{page}.md");
    files
        .into_iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
        .contents
}

fn spread(v: f64) -> Value {
    json!({ "median": v, "min": v, "max": v, "n": 3 })
}

/// The smoke run with its HS256 rows renamed ES256, and every closed-loop figure of the session
/// and ES256 set: CPU per request (server, Redis) and p50.
fn fixture(session_cpu: (f64, f64), es256_cpu: f64, session_p50: f64, es256_p50: f64) -> Value {
    let mut r = smoke();
    // Only the baseline, the session and ES256: the sentences below are about those two.
    r["http"]
        .as_array_mut()
        .unwrap()
        .retain(|h| h["target"] != "jwe-dir");
    for h in r["http"].as_array_mut().unwrap() {
        if h["target"] == "jwt-HS256" {
            h["target"] = json!("jwt-ES256");
        }
        match h["target"].as_str().unwrap() {
            "session" => {
                h["server_cpu_us"] = spread(session_cpu.0);
                h["redis_cpu_us"] = spread(session_cpu.1);
                h["p50_us"] = spread(session_p50);
            }
            "jwt-ES256" => {
                h["server_cpu_us"] = spread(es256_cpu);
                h["p50_us"] = spread(es256_p50);
            }
            _ => {}
        }
    }
    for r in r["http_runs"].as_array_mut().unwrap() {
        if r["target"] == "jwt-HS256" {
            r["target"] = json!("jwt-ES256");
        }
    }
    r
}

fn line<'a>(md: &'a str, start: &str) -> Vec<&'a str> {
    md.lines().filter(|l| l.starts_with(start)).collect()
}

#[test]
fn es256_beats_sessions_per_core_when_its_cpu_is_lower() {
    // Session: 100 µs server + 50 µs Redis = 150 µs per request; ES256: 100 µs.
    let md = verdict(&fixture((100.0, 50.0), 100.0, 200.0, 150.0), "http");
    let per_core = line(&md, "- **Per core, 1 connection:**");
    assert_eq!(per_core.len(), 1, "{md}");
    assert!(
        per_core[0].contains("the session served 6667 requests per CPU-second"),
        "{md}"
    );
    assert!(
        per_core[0].contains("jwt-ES256 (1.50×)") && per_core[0].contains("served more"),
        "{md}"
    );
    assert!(!per_core[0].contains("fewer"), "{md}");
    // The session server's own 100 µs is not more than ES256's 100 µs.
    let share = line(&md, "- **The session server's own share**, 1 connection");
    assert!(
        share[0].contains("less than any token's server spent"),
        "{md}"
    );
}

#[test]
fn es256_loses_to_sessions_per_core_when_its_cpu_is_higher() {
    // Session: 100 + 50 = 150 µs; ES256: 300 µs, half the requests per core.
    let md = verdict(&fixture((100.0, 50.0), 300.0, 200.0, 350.0), "http");
    let per_core = line(&md, "- **Per core, 1 connection:**");
    assert!(per_core[0].contains("jwt-ES256 (0.50×) fewer"), "{md}");
    assert!(!per_core[0].contains("served more"), "{md}");
    let md = verdict(&fixture((100.0, 50.0), 153.0, 200.0, 350.0), "http");
    let per_core = line(&md, "- **Per core, 1 connection:**");
    assert!(
        per_core[0].contains("jwt-ES256 (0.98×) about as many"),
        "{md}"
    );
}

#[test]
fn the_session_server_share_is_called_large_only_when_it_is() {
    // Session server 120 µs, ES256 100 µs: the session's own share exceeds the token's.
    let md = verdict(&fixture((120.0, 50.0), 100.0, 200.0, 150.0), "http");
    let share = line(&md, "- **The session server's own share**, 1 connection");
    assert!(
        share[0].contains("more than the whole server CPU of jwt-ES256 (100 µs)"),
        "{md}"
    );
}

#[test]
fn break_even_is_interpolated_or_declared_absent() {
    // The smoke run's distance rows at 1 connection: 653 µs direct, 3307 µs at 1 ms one-way
    // (applied 1.14 ms, so 2.28 ms round trip). An ES256 p50 of 1980 µs is half-way.
    let md = verdict(&fixture((100.0, 50.0), 100.0, 200.0, 1980.0), "distance");
    let be = line(&md, "- **Break-even Redis distance**, 1 connection");
    assert_eq!(be.len(), 1, "{md}");
    assert!(
        be[0].contains("jwt-ES256 (1980 µs) at about 1.14 ms"),
        "{md}"
    );
    // ES256 faster than the direct session: no break-even.
    let md = verdict(&fixture((100.0, 50.0), 100.0, 200.0, 500.0), "distance");
    let be = line(&md, "- **Break-even Redis distance**, 1 connection");
    assert!(
        be[0].contains("already above the p50 of jwt-ES256 (500 µs)")
            && !be[0].contains("at about"),
        "{md}"
    );
    // ES256 slower than the farthest session: the session wins at every distance measured.
    let md = verdict(&fixture((100.0, 50.0), 100.0, 200.0, 9000.0), "distance");
    let be = line(&md, "- **Break-even Redis distance**, 1 connection");
    assert!(
        be[0].contains("stayed below the p50 of jwt-ES256 (9000 µs) at every distance"),
        "{md}"
    );
}

#[test]
fn sentences_without_data_are_not_printed() {
    let mut r = fixture((100.0, 50.0), 100.0, 200.0, 150.0);
    r["redis_distance"] = json!([]);
    r["proxies"] = json!([]);
    let md = verdict(&r, "distance");
    assert!(!md.contains("Break-even"), "{md}");
    assert!(md.contains("no data for a verdict"), "{md}");
    let choosing = verdict(&r, "choosing");
    assert!(!choosing.contains("Break-even"), "{choosing}");
    assert!(
        choosing.contains("**Per core, 1 connection:**"),
        "{choosing}"
    );
}

#[test]
fn the_failover_sentence_follows_the_lost_count() {
    let mut r = smoke();
    let failover = r["scale"]["failover"].as_array_mut().unwrap();
    let mut denylist = failover[0].clone();
    denylist["backend"] = json!("jwt-denylist");
    failover.push(denylist);
    for f in failover.iter_mut() {
        f["acknowledged"] = json!(100);
        f["lost"] = json!(0);
    }
    let md = verdict(&r, "failure");
    assert!(md.contains("lost none of 100"), "{md}");
    assert!(!md.contains("come back to life"), "{md}");
    assert!(md.contains("jwt-denylist lost none of 100"), "{md}");
    for f in r["scale"]["failover"].as_array_mut().unwrap() {
        if f["backend"] == "jwt-denylist" {
            f["lost"] = json!(7);
        }
    }
    let md = verdict(&r, "failure");
    assert!(
        md.contains("jwt-denylist lost 7 of 100 acknowledged logouts (7.0 %)"),
        "{md}"
    );
    assert!(md.contains("come back to life"), "{md}");
}

#[test]
fn a_strategy_that_never_bites_is_named_and_excluded_from_the_strict_list() {
    let r = smoke();
    let md = verdict(&r, "revocation");
    assert!(md.contains("**jwt-ES256-none:**"), "{md}");
    assert!(md.contains("did not bite"), "{md}");
    let strict = line(&md, "- **Every phase bit for**");
    assert_eq!(strict.len(), 1, "{md}");
    assert!(
        strict[0].contains("session") && !strict[0].contains("jwt-ES256-none"),
        "{md}"
    );
}

/// The smoke run with a `baseline-tower-sessions` peer whose closed-loop throughput is
/// `peer_rps` against the session's `session_rps` (every closed-loop scenario).
fn with_peer(session_rps: f64, peer_rps: f64) -> Value {
    let mut r = smoke();
    let mut config = r["configurations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "session")
        .expect("a session configuration")
        .clone();
    config["name"] = json!("baseline-tower-sessions");
    config["baseline"] = json!("tower-sessions");
    r["configurations"].as_array_mut().unwrap().push(config);
    let mut peers = Vec::new();
    for h in r["http"].as_array_mut().unwrap() {
        if h["target"] == "session" && h["scenario"].as_str().unwrap().starts_with("closed-") {
            h["throughput_rps"] = spread(session_rps);
            let mut p = h.clone();
            p["target"] = json!("baseline-tower-sessions");
            p["throughput_rps"] = spread(peer_rps);
            peers.push(p);
        }
    }
    r["http"].as_array_mut().unwrap().extend(peers);
    r
}

#[test]
fn the_peer_sentence_says_more_or_fewer_from_the_data() {
    let ahead = verdict(&with_peer(2000.0, 1000.0), "http");
    let s = line(
        &ahead,
        "- **Against the stacks a team would install instead**",
    );
    assert_eq!(s.len(), 1, "{ahead}");
    assert!(
        s[0].contains(
            "`session` served more requests per second than `baseline-tower-sessions` (2.00×)"
        ),
        "{ahead}"
    );
    let behind = verdict(&with_peer(1000.0, 2000.0), "http");
    let s = line(
        &behind,
        "- **Against the stacks a team would install instead**",
    );
    assert!(
        s[0].contains(
            "`session` served fewer requests per second than `baseline-tower-sessions` (0.50×)"
        ),
        "{behind}"
    );
    // The choosing chapter carries the same sentence.
    assert!(verdict(&with_peer(1000.0, 2000.0), "choosing").contains("(0.50×)"));
    // No peer measured (runs before schema 3): no sentence at all.
    assert!(!verdict(&smoke(), "http").contains("install instead"));
}

/// The schema-4 smoke run (with its wire section).
fn smoke_v4() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/smoke-run-v4/run.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn the_http2_sentence_says_whether_the_encoder_indexed_the_credential() {
    // As measured: the h2 crate indexes no credential.
    let r = smoke_v4();
    let measured = verdict(&r, "sizes");
    assert!(measured.contains("indexed no credential"), "{measured}");

    // An encoder that indexed the session's token: its repeat costs a few bytes, another
    // user's the literal. The sentence must say so, and name it.
    let mut r = smoke_v4();
    for w in r["wire"]["rows"].as_array_mut().unwrap() {
        if w["configuration"] == "session" && w["protocol"] == "h2" && w["form"] == "authorization"
        {
            w["same_credential_bytes"] = json!(20);
        }
    }
    let indexed = verdict(&r, "sizes");
    assert!(
        indexed.contains("indexed the credential of session"),
        "{indexed}"
    );
    assert!(!indexed.contains("indexed no credential"), "{indexed}");

    // No wire section: no sentence at all.
    let mut r = smoke_v4();
    r.as_object_mut().unwrap().remove("wire");
    assert!(!verdict(&r, "sizes").contains("HTTP/2"));
}
