//! The decision calculator's model on the committed smoke run: the data file carries what the
//! formulas need, and the formulas behave as the calculator page says (linear in the rate and
//! the services, a revocation requirement that flips which designs meet it). The browser side is
//! checked against these same functions in `crates/cli/tests/book.rs`.

use authbench_report::calculator::{DESIGNS, Inputs, evaluate_json, json_of_js};
use std::path::Path;

fn data_json() -> String {
    let run = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/smoke-run");
    let files = authbench_report::render_files(&run).unwrap();
    let js = files
        .into_iter()
        .find(|f| f.name == "calculator-data.js")
        .expect("calculator-data.js is rendered")
        .contents;
    json_of_js(&js)
        .expect("the file assigns the data")
        .to_owned()
}

fn inputs() -> Inputs {
    Inputs {
        rate: 1000.0,
        rtt_ms: 0.5,
        alg: "HS256".into(),
        revoke_s: 60.0,
        services: 1.0,
        users: 10000.0,
        lifetime_s: 900.0,
        refresh_lifetime_s: 300.0,
    }
}

#[test]
fn every_output_is_computed_from_the_smoke_run() {
    let out = evaluate_json(&data_json(), &inputs()).unwrap();
    assert_eq!(out.len(), DESIGNS.len() * 8);
    for (k, v) in &out {
        assert!(v.is_finite(), "{k} is {v}");
    }
    // The session's p50 grows with the round trip; a JWT without Redis does not.
    let far = evaluate_json(
        &data_json(),
        &Inputs {
            rtt_ms: 5.0,
            ..inputs()
        },
    )
    .unwrap();
    assert!(far["session.p50_us"] > out["session.p50_us"]);
    assert_eq!(far["none.p50_us"], out["none.p50_us"]);
}

#[test]
fn cores_are_linear_in_the_rate_and_the_services() {
    let json = data_json();
    let one = evaluate_json(&json, &inputs()).unwrap();
    let six = evaluate_json(
        &json,
        &Inputs {
            rate: 3000.0,
            services: 2.0,
            ..inputs()
        },
    )
    .unwrap();
    for d in DESIGNS {
        let k = format!("{d}.total_cores");
        assert!(
            (six[&k] - 6.0 * one[&k]).abs() <= 1e-9 * six[&k].abs().max(1.0),
            "{k}"
        );
    }
}

#[test]
fn the_revocation_requirement_decides_which_designs_meet_it() {
    let json = data_json();
    let meets = |revoke_s: f64| {
        let out = evaluate_json(
            &json,
            &Inputs {
                revoke_s,
                ..inputs()
            },
        )
        .unwrap();
        DESIGNS
            .iter()
            .filter(|d| out[&format!("{d}.meets")] == 1.0)
            .copied()
            .collect::<Vec<_>>()
    };
    let strict = meets(1.0);
    assert!(strict.contains(&"session"), "{strict:?}");
    assert!(!strict.contains(&"none"), "{strict:?}");
    assert!(!strict.contains(&"refresh"), "{strict:?}");
    // Longer than every token lifetime: everything meets it.
    assert_eq!(meets(3600.0), DESIGNS.to_vec());
}
