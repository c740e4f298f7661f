//! The failover experiment on its own (`compare`'s scale section runs it too), for the
//! evidence behind the deny-list's lost logouts without a whole `compare` run:
//!
//! ```text
//! cargo test -p authbench-compare --test failover -- --ignored --nocapture
//! ```
//!
//! Prints one JSON failover record per backend and durability (the run.json shape). Ignored
//! by default: four 3 + 3 clusters take a minute.

use authbench_compare::plan::Profile;
use authbench_compare::scale::{FAILOVER_DURABILITIES, ScalePlan, failover_one};

#[test]
#[ignore = "four Redis Cluster failovers: a minute; run on purpose"]
fn failover_evidence_quick_profile() {
    let plan = ScalePlan::for_profile(Profile::Quick);
    for backend in ["session", "jwt-denylist"] {
        for durability in FAILOVER_DURABILITIES {
            let record = failover_one(backend, durability, &plan)
                .unwrap_or_else(|e| panic!("{backend} {durability}: {e:#}"));
            println!(
                "FAILOVER {}",
                serde_json::to_string(&record).expect("serialisable")
            );
            if durability == "replica" {
                assert_eq!(record.lost, 0, "{backend}: durable mode lost a logout");
            }
        }
    }
}
