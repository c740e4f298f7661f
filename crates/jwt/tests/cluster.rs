//! The Redis-backed revocation strategies (denylist, epoch, refresh) on a real Redis Cluster
//! (3 masters from the system binaries): the conformance suite, the epoch's pub/sub across
//! nodes (and moving to another seed when its node dies), and a dead master failing closed.

mod capabilities;

use authbench_core::{Authenticator, DEFAULT_LEEWAY_SECS, ErrorClass, Identity, ManualClock};
use authbench_jwt::{Alg, JwtBackend, JwtConfig, Revocation, SigningKey, propagation_delay};
use authbench_services::{RedisCluster, RedisClusterOptions};
use authbench_store::{RedisTarget, UserSlot};
use authbench_testkit::{ConformanceOptions, conformance};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The contract's "about a second", with room for a loaded CI machine.
const FAIL_FAST: Duration = Duration::from_millis(2_000);

fn who(subject: &str) -> Identity {
    Identity {
        subject: subject.into(),
        tenant: "acme".into(),
        roles: vec!["user".into()],
    }
}

/// Two instances with one key (two servers of one deployment) on the cluster.
async fn pair(
    cluster: &RedisCluster,
    config: &JwtConfig,
    clock: &ManualClock,
) -> (Arc<JwtBackend>, Arc<JwtBackend>) {
    let pem = SigningKey::generate(config.alg)
        .expect("key")
        .private_key_pem()
        .expect("pem");
    let target = RedisTarget::cluster(&cluster.seeds()).expect("seeds");
    let mut two = Vec::new();
    for _ in 0..2 {
        let key = SigningKey::from_pem(config.alg, pem.as_bytes()).expect("same key");
        two.push(Arc::new(
            JwtBackend::connect_with_key(config.clone(), key, Arc::new(clock.clone()), &target)
                .await
                .unwrap_or_else(|e| panic!("connecting to the cluster: {e}")),
        ));
    }
    let b = two.pop().expect("two");
    (two.pop().expect("two"), b)
}

/// The slot of `subject`'s keys.
fn slot_of(cluster: &mut RedisCluster, subject: &str) -> u16 {
    cluster
        .key_slot(&format!("x{{{}}}", UserSlot::of(subject).tag()))
        .expect("slot")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_strategies_on_a_cluster() {
    let mut cluster = RedisCluster::start_with(RedisClusterOptions {
        extra_args: vec!["--cluster-require-full-coverage".into(), "no".into()],
        ..RedisClusterOptions::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let clock = ManualClock::at_system_time();

    // 1. The conformance suite for each strategy, a foreign instance on the same cluster.
    for revocation in [Revocation::Denylist, Revocation::Epoch, Revocation::Refresh] {
        let config = JwtConfig::new(Alg::ES256).with_revocation(revocation);
        let target = RedisTarget::cluster(&cluster.seeds()).expect("seeds");
        let backend = JwtBackend::connect(config.clone(), Arc::new(clock.clone()), &target)
            .await
            .unwrap_or_else(|e| panic!("{revocation}: {e}"));
        let foreign = JwtBackend::connect(config.clone(), Arc::new(clock.clone()), &target)
            .await
            .unwrap_or_else(|e| panic!("{revocation}: {e}"));
        assert!(
            backend
                .redis_addr()
                .is_some_and(|a| a.starts_with("cluster["))
        );
        let report = conformance(
            Arc::new(backend),
            &clock,
            ConformanceOptions::new(config.policy.ttl_secs)
                .with_leeway(DEFAULT_LEEWAY_SECS)
                .with_foreign(Arc::new(foreign)),
        )
        .await;
        let expected = capabilities::expected_skips(Alg::ES256, revocation, false);
        assert_eq!(report.skipped_names(), expected, "{revocation}: {report:?}");
        assert_eq!(
            report.passed.len(),
            16 - expected.len(),
            "{revocation}: {report:?}"
        );
    }

    // 2. Epoch: a revocation published on one master reaches a subscriber on another node.
    //    Both instances subscribe on the first seed; pick a user whose slot lives elsewhere.
    let config = JwtConfig::new(Alg::ES256).with_revocation(Revocation::Epoch);
    let (a, b) = pair(&cluster, &config, &clock).await;
    let seeds = cluster.seeds();
    let first_seed: u16 = seeds
        .split(',')
        .next()
        .and_then(|s| s.rsplit_once(':'))
        .and_then(|(_, port)| port.parse().ok())
        .expect("a seed port");
    let far = (0..)
        .map(|i| format!("far{i}"))
        .find(|s| {
            let slot = slot_of(&mut cluster, s);
            cluster.master_of_slot(slot).expect("master").port != first_seed
        })
        .expect("a user on another master");
    let token = a.issue(&who(&far)).await.expect("issue").token;
    b.verify(&token)
        .await
        .expect("verifies, and b caches the epoch");
    clock.advance(1);
    let delay = propagation_delay(&*a, &*b, &far, &token, Duration::from_secs(2))
        .await
        .expect("revocation propagates across nodes");
    assert!(delay < Duration::from_secs(1), "{delay:?}");
    let stats = b.epoch_stats().expect("epoch");
    assert!(stats.messages >= 1, "{stats:?}");

    // 3. Denylist: kill the master of one user's slot; that user's checks fail closed,
    //    promptly; a user on another master is still served.
    let deny = JwtConfig::new(Alg::ES256).with_revocation(Revocation::Denylist);
    let (d, _) = pair(&cluster, &deny, &clock).await;
    let victim = "victim";
    let victim_token = d.issue(&who(victim)).await.expect("issue").token;
    let victim_slot = slot_of(&mut cluster, victim);
    let dead = {
        let master = cluster.master_of_slot(victim_slot).expect("master");
        master.port
    };
    let other = (0..)
        .map(|i| format!("other{i}"))
        .find(|s| {
            let slot = slot_of(&mut cluster, s);
            cluster.master_of_slot(slot).expect("master").port != dead
        })
        .expect("a user elsewhere");
    let other_token = d.issue(&who(&other)).await.expect("issue").token;
    d.verify(&victim_token).await.expect("fine before");
    cluster.kill_node(dead).expect("kill");
    for attempt in 0..3 {
        let started = Instant::now();
        let e = d
            .verify(&victim_token)
            .await
            .expect_err("the deny-list of this user is on a dead master");
        assert_eq!(e.class(), ErrorClass::Unavailable, "attempt {attempt}: {e}");
        assert!(started.elapsed() < FAIL_FAST, "{:?}", started.elapsed());
        d.verify(&other_token)
            .await
            .unwrap_or_else(|e| panic!("{other} lives on a live master: {e}"));
    }

    // 4. Epoch: if the dead node was the subscribers' node, they move to the next seed; either
    //    way a revocation on a live master still propagates.
    let other_epoch_token = a.issue(&who(&other)).await.expect("issue").token;
    b.verify(&other_epoch_token).await.expect("verifies");
    assert!(
        b.wait_until_subscribed(Duration::from_secs(5)).await,
        "resubscribed on a live seed"
    );
    clock.advance(1);
    propagation_delay(&*a, &*b, &other, &other_epoch_token, Duration::from_secs(3))
        .await
        .expect("propagates after losing a node");
}
