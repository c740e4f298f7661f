//! The failover experiment (`authbench_compare::failover`) on real 3 + 3 Redis Clusters.
//!
//! `failover_experiment_accounts_for_every_logout` runs in every `cargo test`: the session
//! backend under logouts while a master dies; the accounting adds up and the cluster serves
//! again. `failover_evidence_quick_profile` is the experiment as `compare`'s scale section runs
//! it, for the evidence behind the deny-list's lost logouts without a whole `compare` run:
//!
//! ```text
//! cargo test -p authbench-compare --test failover -- --ignored --nocapture
//! ```
//!
//! Prints one JSON failover record per backend and durability (the run.json shape). Ignored
//! by default: four 3 + 3 clusters take a minute.

use authbench_compare::failover::{FailoverOptions, failover_experiment};
use authbench_compare::plan::Profile;
use authbench_compare::scale::{FAILOVER_DURABILITIES, failover_one, plan_for};
use authbench_core::ManualClock;
use authbench_services::RedisCluster;
use authbench_session::{RedisTarget, SessionBackend, SessionConfig};
use std::sync::Arc;
use std::time::Duration;

#[test]
#[ignore = "four Redis Cluster failovers: a minute; run on purpose"]
fn failover_evidence_quick_profile() {
    let plan = plan_for(Profile::Quick);
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

/// 3 masters + 3 replicas: logouts under way while a master dies; the accounting adds up and
/// the cluster serves again after the failover. (Lost revocations are possible, replication
/// being asynchronous, so they are counted, not forbidden.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_experiment_accounts_for_every_logout() {
    let mut cluster = RedisCluster::start_with_replicas().unwrap_or_else(|e| panic!("{e}"));
    let clock = ManualClock::at_system_time();
    let target = RedisTarget::cluster(&cluster.seeds()).expect("seed list");
    let sessions = Arc::new(
        SessionBackend::connect(SessionConfig::for_target(target), Arc::new(clock.clone()))
            .await
            .unwrap_or_else(|e| panic!("connecting to the cluster: {e}")),
    );
    let options = FailoverOptions {
        users: 32,
        credentials: 600,
        concurrency: 8,
        kill_after: 150,
        failover_timeout: Duration::from_secs(30),
        slot_key: Some(|subject| format!("{{{}}}", authbench_store::UserSlot::of(subject).tag())),
        restart_killed: true,
    };
    let report = failover_experiment(Arc::clone(&sessions), &mut cluster, &options)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    eprintln!("{report:?}");
    assert!(report.acknowledged >= options.kill_after, "{report:?}");
    assert!(
        report.acknowledged_before_kill >= options.kill_after
            && report.acknowledged_before_kill <= report.acknowledged,
        "{report:?}"
    );
    assert!(
        report.acknowledged <= options.credentials as u64,
        "{report:?}"
    );
    assert!(
        report.lost + report.unverified <= report.acknowledged,
        "{report:?}"
    );
    assert_eq!(
        report.other_errors, 0,
        "only Unavailable refusals: {report:?}"
    );
    assert!(
        report.attempted == report.acknowledged + report.refused + report.other_errors,
        "{report:?}"
    );
    assert!(report.failover > Duration::ZERO, "{report:?}");
    assert!(
        report.serves_after,
        "the cluster serves after the failover: {report:?}"
    );
}
