//! Session IDs: size, alphabet, entropy, and that Redis never holds one.

mod common;

use authbench_core::Authenticator;
use common::{alice, fixture, raw};
use std::collections::HashSet;

const SAMPLES: usize = 10_000;
const BATCH: usize = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_are_long_random_base64url_and_unique() {
    let f = fixture().await;
    let mut seen = HashSet::with_capacity(SAMPLES);
    // Ones per bit position over all samples: each should be close to half.
    let mut ones = vec![0u32; 256];
    let mut tokens = Vec::with_capacity(SAMPLES);
    // In batches: 10,000 requests at once on one multiplexed connection queue long enough in
    // the client to hit the 500 ms response timeout (fail closed, but not what this test is
    // about; see the README's "Measured" section).
    for _ in 0..SAMPLES / BATCH {
        let mut tasks = Vec::with_capacity(BATCH);
        for _ in 0..BATCH {
            let b = f.backend.clone();
            tasks.push(tokio::spawn(async move { b.issue(&alice()).await }));
        }
        for t in tasks {
            tokens.push(t.await.expect("task").expect("issue").token);
        }
    }
    let alice_tag = tokens[0][..2].to_owned();
    for token in tokens {
        assert_eq!(
            token.len(),
            46,
            "tag (2) + '.' + 32 bytes → 43 base64url characters"
        );
        let (tag, secret) = token.split_once('.').expect("<tag>.<secret>");
        assert_eq!(tag, alice_tag, "one user, one slot tag");
        assert!(
            secret
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'),
            "base64url alphabet only, no padding"
        );
        let raw = base64_decode(secret);
        assert_eq!(raw.len(), 32, "≥ 128 bits: 256 here");
        for (i, byte) in raw.iter().enumerate() {
            for bit in 0..8 {
                ones[i * 8 + bit] += u32::from((byte >> bit) & 1);
            }
        }
        assert!(seen.insert(token), "duplicate session ID");
    }
    // Binomial(10 000, 1/2): σ = 50. ±6σ makes a false alarm essentially impossible while
    // still catching a stuck or biased bit.
    for (bit, &n) in ones.iter().enumerate() {
        assert!(
            (4_700..=5_300).contains(&n),
            "bit {bit} set {n} times in {SAMPLES}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_holds_no_session_id_in_keys_or_values() {
    let f = fixture().await;
    let mut tokens = Vec::new();
    for _ in 0..20 {
        let t = f.backend.issue(&alice()).await.expect("issue").token;
        f.backend.verify(&t).await.expect("verify");
        tokens.push(t);
    }
    let mut conn = raw(&f.redis).await;
    let keys: Vec<String> = common::keys(&mut conn, "*").await;
    assert_eq!(
        keys.len(),
        21,
        "20 session records + 1 user index: {keys:?}"
    );
    let mut everything = String::new();
    for key in &keys {
        everything.push_str(key);
        everything.push('\n');
        let kind: String = redis::cmd("TYPE")
            .arg(key)
            .query_async(&mut conn)
            .await
            .expect("type");
        let values: Vec<String> = match kind.as_str() {
            "string" => vec![
                redis::cmd("GET")
                    .arg(key)
                    .query_async(&mut conn)
                    .await
                    .expect("get"),
            ],
            "zset" => redis::cmd("ZRANGE")
                .arg(key)
                .arg(0)
                .arg(-1)
                .query_async(&mut conn)
                .await
                .expect("zrange"),
            other => panic!("unexpected key type {other} for {key}"),
        };
        everything.push_str(&values.join("\n"));
    }
    for t in &tokens {
        assert!(
            !everything.contains(t.as_str()),
            "a session ID is stored in Redis"
        );
        // Not even a recognisable piece of its secret (the 2-character tag is in every key
        // name on purpose).
        let secret = &t[3..];
        assert!(
            !everything.contains(&secret[..12]),
            "a prefix of a session ID's secret is stored in Redis"
        );
    }
    assert!(
        keys.iter()
            .all(|k| k.starts_with("authbench:session:") || k.starts_with("authbench:user:"))
    );
    assert!(
        keys.iter().all(|k| !k.contains("alice")),
        "subjects are hashed in key names"
    );
}

/// Standard-library-only base64url decoding for the test (the crate keeps its engine private).
fn base64_decode(s: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c).expect("alphabet") as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    out
}
