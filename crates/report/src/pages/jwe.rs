//! `jwe.md`: encrypted tokens (JWE) in-process, beside their floors and beside the signed JWTs.
//! Their sizes and HTTP rows are on the sizes and HTTP pages (configurations `jwe-…`).

use crate::data::Run;
use crate::format::{Align, MISSING, Table, caption, div, ratio, us_from_ns};
use authbench_spec::record::micro::MicroResult;

fn micro<'a>(run: &'a Run, op: &str, id: &str) -> Option<&'a MicroResult> {
    run.record.micro.iter().find(|m| m.op == op && m.id == id)
}

fn cell(m: Option<&MicroResult>) -> String {
    m.map_or_else(
        || MISSING.to_owned(),
        |m| {
            format!(
                "{} [{}–{}]",
                us_from_ns(m.median_ns),
                us_from_ns(m.p10_ns),
                us_from_ns(m.p90_ns)
            )
        },
    )
}

fn r(a: Option<&MicroResult>, b: Option<&MicroResult>) -> String {
    match (a, b) {
        (Some(a), Some(b)) => ratio(div(a.median_ns, b.median_ns)),
        _ => MISSING.to_owned(),
    }
}

/// JWE modes measured in-process, in the record's order (`jwe-dir-A256GCM` …).
fn modes(run: &Run) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for m in &run.record.micro {
        if m.id.starts_with("jwe-") && !out.contains(&m.id.as_str()) {
            out.push(&m.id);
        }
    }
    out
}

/// `jwe.md`.
pub fn md(run: &Run) -> String {
    let modes = modes(run);
    if modes.is_empty() {
        return caption("JWE: not measured in this run (it predates the JWE rows)");
    }
    let mut v = Table::new(&[
        ("mode", Align::Left),
        ("verify: decrypt + claims (µs)", Align::Right),
        ("AES-256-GCM open, same sizes (µs)", Align::Right),
        ("key management alone (µs)", Align::Right),
        ("verify ÷ AES-GCM open", Align::Right),
        ("verify ÷ key management", Align::Right),
        ("issue (µs)", Align::Right),
        ("AES-256-GCM seal (µs)", Align::Right),
    ]);
    for mode in &modes {
        let verify = micro(run, "verify", mode);
        let open = micro(run, "verify", &format!("floor-aes-gcm-open-{mode}"));
        let key = micro(run, "verify", &format!("floor-key-{mode}"));
        let issue = micro(run, "issue", mode);
        let seal = micro(run, "issue", &format!("floor-aes-gcm-seal-{mode}"));
        v.row(vec![
            format!("`{}`", mode.trim_start_matches("jwe-")),
            cell(verify),
            cell(open),
            cell(key),
            r(verify, open),
            r(verify, key),
            cell(issue),
            cell(seal),
        ]);
    }
    let mut s = caption(&format!(
        "In-process JWE verify and issue per mode, µs per call: median [p10–p90] of batch means ({} batches); verify = parse, checks before decryption, key management, AES-256-GCM open, claims; the floors are aws-lc-rs alone: AES-256-GCM over the same sizes, and for the public-key modes the key management step (RSA-OAEP-256 decrypt, or ECDH-ES on P-256 + Concat KDF + AES key unwrap) on the same token; a mode ending in `-ES256` is nested (signed, then encrypted)",
        run.record.plan.micro.batches
    ));
    s.push_str(&v.markdown());

    // The signed JWTs of the same run, for the side-by-side.
    let mut j = Table::new(&[
        ("signed (JWS)", Align::Left),
        ("verify (µs)", Align::Right),
        ("issue (µs)", Align::Right),
    ]);
    for alg in ["HS256", "ES256", "EdDSA", "RS256"] {
        let id = format!("jwt-{alg}");
        if micro(run, "verify", &id).is_some() {
            j.row(vec![
                alg.to_owned(),
                cell(micro(run, "verify", &id)),
                cell(micro(run, "issue", &id)),
            ]);
        }
    }
    if micro(run, "verify", "session").is_some() {
        j.row(vec![
            "session (one Redis round trip)".to_owned(),
            cell(micro(run, "verify", "session")),
            cell(micro(run, "issue", "session")),
        ]);
    }
    s.push('\n');
    s.push_str(&caption(
        "The same run's signed JWTs and session, for comparison (from the verify and issue pages)",
    ));
    s.push_str(&j.markdown());
    s
}
