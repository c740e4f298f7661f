//! `authbench compare --smoke`: the whole pipeline in seconds, and a complete run folder.
//!
//! The figures of a smoke run are noise (debug build, fractions of a second per run); what is
//! checked is that every measurement ran and was recorded where the schema says.

use authbench_compare::RunRecord;
use std::process::Command;

#[test]
fn smoke_run_writes_a_complete_run_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("run");
    let output = Command::new(env!("CARGO_BIN_EXE_authbench"))
        .args(["compare", "--smoke", "--out"])
        .arg(&out)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("run authbench compare");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "compare --smoke failed: {}\n{stderr}",
        output.status
    );
    // Off a terminal, progress is one line per step, `compare: [done/total …]`: the plan's
    // count of steps must be the number the run takes, or the bar lies about the time left.
    let last = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("compare: ["))
        .filter_map(|l| l.split_once(' ')?.0.split_once('/'))
        .next_back()
        .expect("progress lines on stderr");
    assert_eq!(last.0, last.1, "the last step is not the planned total");

    // run.json parses into the typed record (which denies unknown fields) …
    let text = std::fs::read_to_string(out.join("run.json")).expect("run.json");
    let record: RunRecord = serde_json::from_str(&text).expect("run.json matches the schema");
    assert_eq!(
        record.schema_version,
        authbench_compare::record::SCHEMA_VERSION
    );
    assert!(
        record.command.contains("compare --smoke"),
        "{}",
        record.command
    );
    for key in ["cpu_model", "cores", "memory_bytes", "kernel"] {
        assert!(!record.machine[key].is_null(), "machine.{key} missing");
    }
    assert!(
        record.versions["crates"]
            .as_array()
            .is_some_and(|c| !c.is_empty())
    );
    assert!(
        !record.versions["redis_server"]
            .as_str()
            .unwrap_or("")
            .is_empty()
    );

    // … and holds every section.
    let names: Vec<&str> = record
        .configurations
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert!(
        names.contains(&"session") && names.contains(&"jwt-HS256"),
        "{names:?}"
    );
    assert_eq!(record.sizes.len(), 3, "session, one JWT and one JWE");
    assert!(names.contains(&"jwe-dir"), "{names:?}");
    // The sections of the scale-out and multi-tenancy issue ran, with figures in them.
    let tenancy = record.tenancy.as_ref().expect("tenancy section");
    assert_eq!(tenancy.staleness.len(), 4, "2 backends x 2 policies");
    assert!(
        tenancy.http.iter().all(|h| h.errors == 0),
        "{:?}",
        tenancy.http
    );
    let scale = record.scale.as_ref().expect("scale section");
    assert!(scale.http.iter().any(|h| h.target == "session-cluster"));
    assert!(scale.rotation.new_tokens_carry_new_kid);
    assert!(
        scale
            .rotation
            .old_accepted
            .iter()
            .all(|(_, n)| *n == scale.rotation.old_tokens),
        "old tokens keep working after a rotation: {:?}",
        scale.rotation
    );
    assert!(
        scale
            .rotation
            .new_accepted
            .iter()
            .all(|(_, n)| *n == scale.rotation.new_tokens),
        "new tokens work on every instance: {:?}",
        scale.rotation
    );
    let failover = scale.failover.first().expect("a failover experiment");
    assert!(failover.serves_after && failover.lost <= failover.acknowledged);
    assert_eq!(failover.other_errors, 0);
    let session = record
        .sizes
        .iter()
        .find(|s| s.configuration == "session")
        .unwrap();
    assert_eq!(
        session.token_bytes, 46,
        "slot tag, dot, 256-bit session secret in base64url"
    );
    assert!(
        record
            .logins
            .iter()
            .filter(|l| l.password_hash == "insecure-fast")
            .all(|l| l.logins == record.plan.users)
    );
    assert!(
        record
            .logins
            .iter()
            .any(|l| l.password_hash == "argon2id-owasp" && l.logins > 0),
        "the real login cost is measured"
    );
    for alg in ["HS256", "RS256", "PS256", "ES256", "ES384", "EdDSA"] {
        for id in [
            format!("jwt-{alg}"),
            format!("jsonwebtoken-default-{alg}"),
            format!("floor-raw-{alg}"),
        ] {
            assert!(
                record
                    .micro
                    .iter()
                    .any(|m| m.op == "verify" && m.id == id && m.median_ns > 0.0),
                "micro verify {id} missing"
            );
        }
    }
    assert!(
        record
            .micro
            .iter()
            .any(|m| m.id == "session" && m.op == "verify")
    );
    assert!(record.session_verify_c1_us.p50 > 0.0);
    assert!(
        !record.redis_benchmark.is_empty(),
        "redis-benchmark floor (install redis-tools)"
    );

    // Every (target, scenario) ran, answered 2xx, and kept its raw report.
    let expected_runs = record.plan.reps
        // healthz, session, every JWT algorithm and every JWE mode; the peer stacks in the
        // closed loop only.
        * ((2 + record.plan.http_algs.len() + record.plan.http_jwe.len())
            * (record.plan.closed_connections.len() + record.plan.open_fractions.len())
            + record.plan.baselines.len() * record.plan.closed_connections.len()
            + record.plan.redis_delays_ms.len() * record.plan.closed_connections.len());
    assert_eq!(record.http_runs.len(), expected_runs);
    for run in &record.http_runs {
        assert!(
            run.requests > 0,
            "{} {} sent nothing",
            run.target,
            run.scenario
        );
        assert_eq!(run.errors, 0, "{} {} had errors", run.target, run.scenario);
        assert!(
            out.join(&run.raw).is_file(),
            "raw report {} missing",
            run.raw
        );
    }
    let scenarios: Vec<&str> = record.http.iter().map(|h| h.scenario.as_str()).collect();
    assert!(scenarios.contains(&"open-50pct"), "{scenarios:?}");

    // Every open-loop target's rates come from its own capacity search, and its open-loop
    // runs went out at the planned fractions of that capacity.
    let open_targets = 2 + record.plan.http_algs.len() + record.plan.http_jwe.len();
    assert_eq!(record.open_capacity.len(), open_targets);
    for c in &record.open_capacity {
        assert!(!c.probes.is_empty() && c.rate_rps > 0.0, "{c:?}");
        assert!(c.rate_rps <= c.closed_max_rps.max(10.0) * 1.0001, "{c:?}");
        for run in record
            .http_runs
            .iter()
            .filter(|r| r.target == c.target && r.scenario == "open-50pct")
        {
            let raw: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(out.join(&run.raw)).unwrap())
                    .unwrap();
            let rate = raw["rate_rps"]
                .as_f64()
                .expect("open-loop report has its rate");
            assert!(
                (rate - (c.rate_rps * 0.5).max(10.0)).abs() < 1.0,
                "{}: open-50pct at {rate} req/s, capacity {}",
                c.target,
                c.rate_rps
            );
        }
    }

    // Bytes on the wire: both protocols, every credential, and HTTP/1.1 carries the token whole.
    let wire = record.wire.as_ref().expect("wire section");
    for size in &record.sizes {
        let h1 = wire
            .rows
            .iter()
            .find(|w| {
                w.configuration == size.configuration
                    && w.protocol == authbench_compare::wire::Protocol::Http1
                    && w.form == authbench_compare::wire::Form::Authorization
            })
            .unwrap_or_else(|| panic!("{} has no HTTP/1.1 wire row", size.configuration));
        assert!(
            h1.same_credential_bytes as usize > size.token_bytes,
            "{h1:?}"
        );
        assert!(
            wire.rows
                .iter()
                .any(|w| w.configuration == size.configuration
                    && w.protocol == authbench_compare::wire::Protocol::Http2),
            "{} has no HTTP/2 wire row",
            size.configuration
        );
    }
    assert_eq!(
        record.redis_distance.len(),
        record.plan.redis_delays_ms.len() * record.plan.closed_connections.len()
    );
    assert!(
        record.loadgen_vs_wrk.is_some(),
        "wrk cross-check (install wrk)"
    );
    assert!(!record.targets.is_empty());

    // The revocation experiment: every strategy, and the rules that must hold even in a smoke run.
    let strategies: Vec<&str> = record
        .revocation
        .strategies
        .iter()
        .map(|s| s.strategy.as_str())
        .collect();
    assert_eq!(
        strategies,
        [
            "session",
            "jwt-ES256-none",
            "jwt-ES256-denylist",
            "jwt-ES256-epoch",
            "jwt-ES256-refresh"
        ]
    );
    for st in &record.revocation.strategies {
        assert_eq!(st.phases.len(), 3, "{}", st.strategy);
        assert_eq!(
            st.outage.accepted_revoked, 0,
            "{} accepted a revoked credential while Redis was frozen",
            st.strategy
        );
    }
    let session = &record.revocation.strategies[0];
    let logout = &session.phases[0];
    assert_eq!(logout.server_answer, "revoked");
    assert_eq!(logout.not_reflected, 0, "a session logout bites at once");
    assert!(session.redis_bytes_per_user > 0.0);
    assert!(
        session.redis_commands_per_request >= 1.0,
        "a session verify reads Redis"
    );
    let none = &record.revocation.strategies[1];
    assert_eq!(
        none.phases[0].server_answer, "not-revoked",
        "a plain JWT cannot be logged out"
    );
    assert_eq!(none.phases[0].not_reflected, none.phases[0].targets);
    assert!(
        none.outage.during.get("200").copied().unwrap_or(0) > 0,
        "jwt-none keeps working without Redis"
    );
    assert!(
        session.outage.during.get("503").copied().unwrap_or(0) > 0,
        "sessions fail closed while Redis is frozen"
    );

    let summary = std::fs::read_to_string(out.join("summary.md")).expect("summary.md");
    for heading in [
        "## Targets",
        "## Credential size",
        "## HTTP",
        "## Redis distance",
    ] {
        assert!(summary.contains(heading), "summary.md lacks {heading}");
    }
}
