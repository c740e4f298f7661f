//! The epoch key's TTL comes from the longest token lifetime the deployment accepts, not from
//! the revoking instance's own `ttl`: an issuer of 1-hour tokens and an instance with the
//! default 15 minutes that runs the logout-all. Before, the key expired after 15 minutes and
//! the issuer's revoked tokens verified again for the remaining 45; now it is kept for the hour
//! (plus leeway), and a token living longer than the bound is refused outright.

mod strategy;

use authbench_core::{Authenticator, ErrorKind, ManualClock};
use authbench_jwt::{Alg, JwtBackend, JwtConfig, Revocation, SigningKey};
use std::sync::Arc;
use strategy::{Fixture, kind, who};

const HOUR: u64 = 3_600;

async fn instance(f: &Fixture, config: JwtConfig, pem: &str) -> Arc<JwtBackend> {
    let key = SigningKey::from_pem(Alg::ES256, pem.as_bytes()).expect("key");
    Arc::new(
        JwtBackend::connect_with_key(config, key, Arc::new(f.clock.clone()), &f.redis.url())
            .await
            .expect("backend"),
    )
}

/// The TTL Redis holds on every epoch key.
async fn epoch_ttls(f: &Fixture) -> Vec<i64> {
    let mut conn = f.raw().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg("authbench:jwt:epoch:*")
        .query_async(&mut conn)
        .await
        .expect("KEYS");
    let mut ttls = Vec::new();
    for key in keys {
        let ttl: i64 = redis::cmd("TTL")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .expect("TTL");
        ttls.push(ttl);
    }
    ttls
}

async fn revoked_tokens_stay_revoked(revocation: Revocation) {
    let f = Fixture::new(revocation);
    let pem = SigningKey::generate(Alg::ES256)
        .expect("key")
        .private_key_pem()
        .expect("pem");
    let mut long = JwtConfig::new(Alg::ES256).with_revocation(revocation);
    long.policy.ttl_secs = HOUR;
    let issuer = instance(&f, long, &pem).await;
    // The other instance issues 15-minute tokens but knows the deployment's bound.
    let mut short = JwtConfig::new(Alg::ES256).with_revocation(revocation);
    short.max_token_lifetime_secs = Some(HOUR);
    assert_eq!(short.longest_token_lifetime(), HOUR);
    let other = instance(&f, short, &pem).await;

    let token = issuer.issue(&who("alice")).await.expect("issue").token;
    other
        .verify(&token)
        .await
        .expect("an hour-long token verifies here");
    other.revoke_all("alice").await.expect("revoke_all");
    let ttls = epoch_ttls(&f).await;
    assert!(!ttls.is_empty());
    for ttl in ttls {
        assert!(
            ttl > i64::try_from(HOUR).expect("fits"),
            "{revocation}: the epoch key lives {ttl} s, shorter than the tokens it revokes"
        );
    }
    // 50 minutes on (the old TTL, 15 min + leeway, long gone) the token is still revoked on both.
    f.clock.advance(50 * 60);
    assert_eq!(kind(issuer.verify(&token).await), ErrorKind::Revoked);
    assert_eq!(kind(other.verify(&token).await), ErrorKind::Revoked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epoch_key_outlives_the_longest_token_under_epoch() {
    revoked_tokens_stay_revoked(Revocation::Epoch).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn epoch_key_outlives_the_longest_token_under_denylist() {
    revoked_tokens_stay_revoked(Revocation::Denylist).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_longer_than_the_bound_is_refused() {
    let f = Fixture::new(Revocation::Epoch);
    let pem = SigningKey::generate(Alg::ES256)
        .expect("key")
        .private_key_pem()
        .expect("pem");
    let mut long = JwtConfig::new(Alg::ES256).with_revocation(Revocation::Epoch);
    long.policy.ttl_secs = HOUR;
    let issuer = instance(&f, long, &pem).await;
    // Default bound: this instance's own 15 minutes. The hour-long token could outlive the
    // epoch key this instance writes, so it is refused rather than trusted.
    let strict = instance(
        &f,
        JwtConfig::new(Alg::ES256).with_revocation(Revocation::Epoch),
        &pem,
    )
    .await;
    let token = issuer.issue(&who("bob")).await.expect("issue").token;
    issuer.verify(&token).await.expect("on its issuer");
    assert_eq!(kind(strict.verify(&token).await), ErrorKind::Expired);
    // Under `none` nothing is kept in Redis, and no bound is imposed.
    let clock = ManualClock::at_system_time();
    let none = JwtBackend::with_key(
        JwtConfig::new(Alg::ES256),
        SigningKey::from_pem(Alg::ES256, pem.as_bytes()).expect("key"),
        Arc::new(clock),
    )
    .expect("none");
    none.verify(&token).await.expect("`none` imposes no bound");
}
