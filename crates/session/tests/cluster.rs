//! The session backend on a real Redis Cluster (3 masters from the system binaries): the
//! conformance suite, the key layout (a user's keys in one slot, users spread over the
//! masters), "log out everywhere", and a dead master failing closed. (The failover experiment
//! on 3 masters + 3 replicas is `authbench-compare`'s, tested there.)

mod common;

use authbench_core::{Authenticator, ErrorClass, ErrorKind, Identity, ManualClock};
use authbench_services::{RedisCluster, RedisClusterOptions};
use authbench_session::{RedisTarget, SessionBackend, SessionConfig};
use authbench_store::UserSlot;
use authbench_testkit::{ConformanceOptions, conformance};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The contract's "about a second" (connect + response timeout), with room for a loaded CI
/// machine.
const FAIL_FAST: Duration = Duration::from_millis(2_000);

async fn backend(cluster: &RedisCluster, clock: &ManualClock, prefix: &str) -> SessionBackend {
    let target = RedisTarget::cluster(&cluster.seeds()).expect("seed list");
    let mut config = SessionConfig::for_target(target);
    config.key_prefix = prefix.into();
    SessionBackend::connect(config, Arc::new(clock.clone()))
        .await
        .unwrap_or_else(|e| panic!("connecting to the cluster: {e}"))
}

fn user(i: usize) -> Identity {
    Identity {
        subject: format!("user{i}"),
        tenant: "acme".into(),
        roles: vec!["user".into()],
    }
}

/// One 3-master cluster for the whole story, the destructive part last.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_on_a_cluster_keep_the_contract_and_fail_closed_per_master() {
    let mut cluster = RedisCluster::start_with(RedisClusterOptions {
        // The other masters keep serving their slots while one is down (no replica here).
        extra_args: vec!["--cluster-require-full-coverage".into(), "no".into()],
        ..RedisClusterOptions::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let clock = ManualClock::at_system_time();
    let sessions = Arc::new(backend(&cluster, &clock, "authbench").await);
    assert!(sessions.redis_addr().starts_with("cluster["));

    // 1. The conformance suite, with a foreign instance (own key prefix) on the same cluster.
    let foreign = backend(&cluster, &clock, "someone-else").await;
    let report = conformance(
        Arc::clone(&sessions),
        &clock,
        ConformanceOptions::new(sessions.config().initial_lifetime_secs())
            .with_foreign(Arc::new(foreign)),
    )
    .await;
    // The dead-master case below is this backend's fail-closed check on a cluster.
    assert_eq!(
        report.skipped_names(),
        ["published_keys", "fail_closed"],
        "{report:?}"
    );
    assert_eq!(report.passed.len(), 14, "{report:?}");

    // 2. Layout: each user's session and index share a slot (one node); users spread.
    let users = 120;
    let mut tokens = Vec::new();
    for i in 0..users {
        let t = sessions.issue(&user(i)).await.expect("issue").token;
        assert_eq!(&t[..2], UserSlot::of(&user(i).subject).tag());
        tokens.push(t);
    }
    let mut node_of_tag: HashMap<String, u16> = HashMap::new();
    for port in cluster.live_ports() {
        let keys = cluster.cli(port, &["KEYS", "authbench:*"]).expect("KEYS");
        for key in keys.lines().filter(|k| !k.is_empty()) {
            let tag = key
                .split_once('{')
                .and_then(|(_, rest)| rest.split_once('}'))
                .map(|(tag, _)| tag.to_owned())
                .unwrap_or_else(|| panic!("key without a slot tag: {key}"));
            let first = *node_of_tag.entry(tag.clone()).or_insert(port);
            assert_eq!(first, port, "keys of tag {tag} on two nodes");
        }
    }
    let nodes_used: HashSet<u16> = node_of_tag.values().copied().collect();
    assert!(
        nodes_used.len() >= 2,
        "{users} users all on one master: {nodes_used:?}"
    );
    let sample = UserSlot::of("user7");
    let record_slot = cluster
        .key_slot(&format!("authbench:session:{{{}}}:x", sample.tag()))
        .expect("slot");
    let index_slot = cluster
        .key_slot(&format!(
            "authbench:user:{{{}}}:{}",
            sample.tag(),
            sample.hash()
        ))
        .expect("slot");
    assert_eq!(record_slot, index_slot, "record and index in one slot");

    // 3. Log out everywhere: one user, many sessions, on a cluster.
    let mut alices = Vec::new();
    for _ in 0..5 {
        alices.push(sessions.issue(&user(1_000)).await.expect("issue").token);
    }
    assert_eq!(
        sessions
            .list_sessions("user1000")
            .await
            .expect("list")
            .len(),
        5
    );
    sessions.revoke_all("user1000").await.expect("revoke_all");
    for t in &alices {
        let e = sessions.verify(t).await.expect_err("logged out everywhere");
        assert_eq!(e.kind(), ErrorKind::UnknownSession);
    }
    assert!(
        sessions
            .list_sessions("user1000")
            .await
            .expect("list")
            .is_empty()
    );
    sessions.verify(&tokens[3]).await.expect("others untouched");

    // 4. Kill the master of user0's slot: user0 fails closed, promptly, every time; a user
    //    on another master is still served.
    let victim_slot = cluster
        .key_slot(&format!(
            "authbench:session:{{{}}}:x",
            UserSlot::of("user0").tag()
        ))
        .expect("slot");
    let dead = cluster.kill_master_of_slot(victim_slot).expect("kill");
    let survivor = (1..users)
        .find(|&i| {
            let slot = cluster
                .key_slot(&format!(
                    "authbench:session:{{{}}}:x",
                    UserSlot::of(&user(i).subject).tag()
                ))
                .expect("slot");
            !dead.serves(slot)
        })
        .expect("a user on another master");
    for attempt in 0..3 {
        let started = Instant::now();
        let e = sessions
            .verify(&tokens[0])
            .await
            .expect_err("the master of this session is dead");
        let took = started.elapsed();
        assert_eq!(e.class(), ErrorClass::Unavailable, "attempt {attempt}: {e}");
        assert!(took < FAIL_FAST, "attempt {attempt} took {took:?}");
        let e = sessions
            .revoke_all("user0")
            .await
            .expect_err("cannot log out on a dead master");
        assert_eq!(e.class(), ErrorClass::Unavailable, "{e}");
        sessions
            .verify(&tokens[survivor])
            .await
            .unwrap_or_else(|e| panic!("user{survivor} lives on a live master: {e}"));
    }
}
