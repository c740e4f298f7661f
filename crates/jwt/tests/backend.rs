//! The backend through the `Authenticator` trait: round trips per algorithm, expiry on an
//! injected clock, `Unsupported` revocation, the JWKS, key files, and concurrency.

mod common;

use std::sync::Arc;

use authbench_core::{Authenticator, ErrorKind, Identity, ManualClock, RevocationModel};
use authbench_jwt::{
    Alg, JwtBackend, JwtConfig, KeySource, SigningKey, Verifier, VerifierOptions, anatomy,
};
use serde_json::Value;

const START: u64 = 1_700_000_000;

fn alice() -> Identity {
    Identity {
        subject: "alice".into(),
        tenant: "acme".into(),
        roles: vec!["user".into(), "admin".into()],
    }
}

fn backend(alg: Alg) -> (JwtBackend, ManualClock) {
    let clock = ManualClock::new(START);
    let b = JwtBackend::new(JwtConfig::new(alg), Arc::new(clock.clone())).expect("backend");
    (b, clock)
}

#[tokio::test]
async fn round_trip_per_algorithm_and_expiry_on_the_injected_clock() {
    for alg in Alg::ALL {
        let (b, clock) = backend(alg);
        let cred = b.issue(&alice()).await.expect("issue");
        assert_eq!(cred.expires_in, 900);
        assert!(cred.refresh_token.is_none());
        let p = b.verify(&cred.token).await.expect("verify");
        assert_eq!(
            (p.subject.as_str(), p.tenant.as_str()),
            ("alice", "acme"),
            "{alg}"
        );
        assert_eq!(p.roles, vec!["user", "admin"]);
        assert_eq!(p.issued_at, START);
        assert_eq!(p.expires_at, Some(START + 900));
        assert_eq!(p.credential_id.len(), 22, "128-bit jti, base64url");

        let again = b.issue(&alice()).await.expect("issue");
        let q = b.verify(&again.token).await.expect("verify");
        assert_ne!(p.credential_id, q.credential_id, "a fresh jti per token");

        // The leeway (5 s) past exp still works; one more second does not.
        clock.advance(900 + 4);
        assert!(b.verify(&cred.token).await.is_ok(), "{alg} inside leeway");
        clock.advance(1);
        let err = b.verify(&cred.token).await.expect_err("expired");
        assert_eq!(err.kind(), ErrorKind::Expired, "{alg}");

        // Turn the clock back an hour: the token is not valid yet (`nbf`, checked before `iat`).
        clock.set(START - 3600);
        assert_eq!(
            b.verify(&cred.token).await.map_err(|e| e.kind()).err(),
            Some(ErrorKind::NotYetValid)
        );
    }
}

#[tokio::test]
async fn tokens_from_another_key_or_altered_are_rejected() {
    let (a, _) = backend(Alg::ES256);
    let (b, _) = backend(Alg::ES256);
    let token = a.issue(&alice()).await.expect("issue").token;
    assert_eq!(
        b.verify(&token).await.map_err(|e| e.kind()).err(),
        Some(ErrorKind::UnknownKey)
    );
    let mut bytes = token.into_bytes();
    let mid = bytes.len() / 2;
    bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(bytes).expect("ascii");
    let kind = a.verify(&altered).await.expect_err("altered").kind();
    assert!(
        matches!(kind, ErrorKind::BadSignature | ErrorKind::Malformed),
        "{kind:?}"
    );
}

#[tokio::test]
async fn revocation_none_is_unsupported_and_described() {
    let (b, _) = backend(Alg::ES256);
    let token = b.issue(&alice()).await.expect("issue").token;
    assert_eq!(
        b.revoke(&token).await.map_err(|e| e.kind()).err(),
        Some(ErrorKind::Unsupported)
    );
    assert_eq!(
        b.revoke_all("alice").await.map_err(|e| e.kind()).err(),
        Some(ErrorKind::Unsupported)
    );
    assert_eq!(
        b.refresh(&token).await.map_err(|e| e.kind()).err(),
        Some(ErrorKind::Unsupported)
    );
    // The lesson: after "logout" the token still works.
    assert!(b.verify(&token).await.is_ok());
    let d = b.describe();
    assert_eq!(d.name, "jwt-ES256-none");
    assert!(!d.stateful);
    assert_eq!(d.revocation, RevocationModel::None);
    assert_eq!(d.store_round_trips_per_verify, 0);
}

#[tokio::test]
async fn jwks_lists_public_keys_only_and_verifies_backend_tokens() {
    for alg in Alg::ALL {
        let (b, _) = backend(alg);
        let Some(jwks) = b.published_keys() else {
            assert_eq!(alg, Alg::HS256, "only HS256 publishes nothing");
            continue;
        };
        let set: Value = serde_json::from_str(&jwks).expect("JWKS is JSON");
        let keys = set["keys"].as_array().expect("keys array");
        assert_eq!(keys.len(), 1);
        let k = &keys[0];
        assert_eq!(k["kid"], b.kid());
        assert_eq!(k["alg"], alg.as_str());
        assert_eq!(k["use"], "sig");
        for private in ["d", "p", "q", "dp", "dq", "qi", "k", "oth"] {
            assert!(k.get(private).is_none(), "{alg}: JWKS leaks `{private}`");
        }
        // Anyone holding the JWKS can verify our tokens with the same rules.
        let token = b.issue(&alice()).await.expect("issue").token;
        let mut o = VerifierOptions::new(Alg::ALL);
        o.issuer = Some("authbench".into());
        o.audience = Some("authbench-api".into());
        o.token_type = Some("at+jwt".into());
        o.now = Some(START);
        let v = Verifier::from_jwk_json(&jwks, o).expect("JWKS imports");
        let claims = v.verify(&token).expect("verifies");
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["tenant"], "acme");
    }
}

#[tokio::test]
async fn keys_from_pem_and_jwk_files_survive_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    for alg in Alg::ALL {
        let key = SigningKey::generate(alg).expect("key");
        let jwk_path = dir.path().join(format!("{alg}.jwk"));
        std::fs::write(&jwk_path, key.private_jwk().expect("jwk").to_string()).expect("write");
        let pem_path = dir.path().join(format!("{alg}.pem"));
        if alg.is_asymmetric() {
            std::fs::write(&pem_path, key.private_key_pem().expect("pem")).expect("write");
        } else {
            // HS256's "PEM" is the raw secret; a trailing newline is not part of it.
            std::fs::write(&pem_path, b"0123456789abcdef0123456789abcdef-shared\n").expect("write");
        }
        for source in [
            KeySource::PemFile(pem_path.clone()),
            KeySource::JwkFile(jwk_path.clone()),
        ] {
            let config = || JwtConfig {
                keys: source.clone(),
                ..JwtConfig::new(alg)
            };
            let clock = Arc::new(ManualClock::new(START));
            let first = JwtBackend::new(config(), clock.clone()).expect("from file");
            let second = JwtBackend::new(config(), clock).expect("from file again");
            assert_eq!(first.kid(), second.kid(), "{alg} {source:?}: stable kid");
            let token = first.issue(&alice()).await.expect("issue").token;
            assert_eq!(
                second.verify(&token).await.expect("restart").subject,
                "alice"
            );
            if matches!(source, KeySource::JwkFile(_)) {
                assert_eq!(first.kid(), key.kid());
            }
        }
    }
    let missing = JwtConfig {
        keys: KeySource::PemFile(dir.path().join("nope.pem")),
        ..JwtConfig::new(Alg::ES256)
    };
    assert!(JwtBackend::new(missing, Arc::new(ManualClock::new(START))).is_err());
    // A P-256 key is not an ES384 key.
    let p256 = dir.path().join("ES256.pem");
    let wrong = JwtConfig {
        keys: KeySource::PemFile(p256),
        ..JwtConfig::new(Alg::ES384)
    };
    assert!(JwtBackend::new(wrong, Arc::new(ManualClock::new(START))).is_err());
}

#[test]
fn a_thousand_concurrent_verifies_agree() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (b, _) = backend(Alg::ES256);
        let b = Arc::new(b);
        let good = b.issue(&alice()).await.expect("issue").token;
        let (h, p, s) = common::segments(&good);
        let mut sig = common::unb64(&s);
        sig[10] ^= 1;
        let bad = format!("{h}.{p}.{}", common::b64(sig));
        let tasks: Vec<_> = (0..1000)
            .map(|i| {
                let b = Arc::clone(&b);
                let token = if i % 3 == 0 {
                    bad.clone()
                } else {
                    good.clone()
                };
                tokio::spawn(async move { (i, b.verify(&token).await) })
            })
            .collect();
        for t in tasks {
            let (i, result) = t.await.expect("task");
            if i % 3 == 0 {
                assert_eq!(
                    result.map_err(|e| e.kind()).err(),
                    Some(ErrorKind::BadSignature)
                );
            } else {
                assert_eq!(result.expect("good token").subject, "alice");
            }
        }
    });
}

#[tokio::test]
async fn anatomy_shows_every_part_and_its_size() {
    for (alg, sig_len) in [
        (Alg::HS256, 32),
        (Alg::RS256, 256),
        (Alg::PS256, 256),
        (Alg::ES256, 64),
        (Alg::ES384, 96),
        (Alg::EdDSA, 64),
    ] {
        let (b, _) = backend(alg);
        let token = b.issue(&alice()).await.expect("issue").token;
        let a = anatomy::inspect(&token).expect("inspect");
        assert_eq!(a.total_len, token.len());
        assert_eq!(a.header.json.as_ref().expect("json")["typ"], "at+jwt");
        assert_eq!(a.header.json.as_ref().expect("json")["kid"], b.kid());
        assert_eq!(a.payload.json.as_ref().expect("json")["tenant"], "acme");
        assert_eq!(a.signature.decoded_len, sig_len, "{alg}");
        assert_eq!(
            a.header.encoded_len + a.payload.encoded_len + a.signature.encoded_len + 2,
            token.len()
        );
    }
    let eddsa = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
    let a = anatomy::inspect(eddsa).expect("inspect");
    assert_eq!(
        a.payload.text.as_deref(),
        Some("Example of Ed25519 signing")
    );
    assert!(a.payload.json.is_none());
    for bad in ["", "a.b", "a.b.c.d", "e30.e30.=", "WyJ4Il0.e30.AA"] {
        assert_eq!(
            anatomy::inspect(bad).map_err(|e| e.kind()).err(),
            Some(ErrorKind::Malformed),
            "{bad}"
        );
    }
    assert_eq!(
        anatomy::inspect(&"a".repeat(anatomy::MAX_INSPECT_BYTES + 1))
            .map_err(|e| e.kind())
            .err(),
        Some(ErrorKind::TooLarge)
    );
}
