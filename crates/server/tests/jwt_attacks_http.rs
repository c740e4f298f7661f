//! The JWT attack classes (the book's security chapter lists them), over HTTP, for every algorithm: each crafted
//! token is sent to `GET /me` of the real app and must get a 401 with `WWW-Authenticate`
//! (never a 200, a 500 or a panic). `crates/jwt/tests/attacks.rs` proves the same classes at
//! the library level with the precise `ErrorKind`; this file proves that nothing between the
//! socket and the verifier (extraction, routing, error mapping) lets one through.
//!
//! Every token is built from a real one the app issued (its header and claims, re-signed with
//! the app's own key by [`dangerous::sign_raw`]), and a control re-signs it unchanged and must
//! get a 200: so a 401 below means "rejected for the attack", not "we crafted garbage".

mod common;

use common::{PASSWORD, bearer, body_json, fresh_users, login_req, send};

use authbench_core::{ManualClock, SharedClock};
use authbench_jwt::{Alg, JwtBackend, JwtConfig, SigningKey, dangerous};
use authbench_server::{AppState, app};
use axum::Router;
use axum::http::{StatusCode, header};
use serde_json::{Value, json};
use std::sync::Arc;

const ALGS: [Alg; 6] = [
    Alg::HS256,
    Alg::RS256,
    Alg::PS256,
    Alg::ES256,
    Alg::ES384,
    Alg::EdDSA,
];

fn b64(bytes: impl AsRef<[u8]>) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let bytes = bytes.as_ref();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let v = (u32::from(chunk[0]) << 16)
            | (u32::from(*chunk.get(1).unwrap_or(&0)) << 8)
            | u32::from(*chunk.get(2).unwrap_or(&0));
        for i in 0..=n {
            out.push(char::from(T[((v >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

fn unb64(s: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => panic!("not base64url: {s}"),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

/// An app over `alg` with a key we keep a copy of, and a genuine token's parts.
struct Target {
    alg: Alg,
    app: Router,
    /// The app's own signing key (a copy).
    key: SigningKey,
    header: Value,
    claims: Value,
    now: u64,
}

impl Target {
    async fn new(alg: Alg) -> Self {
        let key = SigningKey::generate(alg).expect("key");
        let jwk = key.private_jwk().expect("export").to_string();
        let copy = SigningKey::from_jwk_json(alg, &jwk).expect("import");
        let clock = ManualClock::at_system_time();
        let now = authbench_core::Clock::now(&clock);
        let shared: SharedClock = Arc::new(clock);
        let backend = JwtBackend::with_key(JwtConfig::new(alg), key, shared).expect("backend");
        let app = app(AppState::new(Arc::new(backend), fresh_users()));
        let resp = send(&app, login_req("alice", PASSWORD)).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let token = body_json(resp).await["token"]
            .as_str()
            .expect("token")
            .to_owned();
        let mut parts = token.split('.');
        let header = serde_json::from_slice(&unb64(parts.next().expect("header"))).expect("json");
        let claims = serde_json::from_slice(&unb64(parts.next().expect("claims"))).expect("json");
        Self {
            alg,
            app,
            key: copy,
            header,
            claims,
            now,
        }
    }

    /// Signs `header` and `claims` with the app's own key.
    fn sign(&self, header: &Value, claims: &Value) -> String {
        self.sign_with(header, claims, &self.key)
    }

    fn sign_with(&self, header: &Value, claims: &Value, key: &SigningKey) -> String {
        dangerous::sign_raw(
            header.to_string().as_bytes(),
            claims.to_string().as_bytes(),
            key,
        )
        .expect("sign")
    }

    fn header_with(&self, name: &str, value: Value) -> Value {
        with(&self.header, name, value)
    }

    fn claims_with(&self, name: &str, value: Value) -> Value {
        with(&self.claims, name, value)
    }

    async fn status(&self, token: &str) -> (StatusCode, bool) {
        let resp = send(&self.app, bearer("GET", "/me", token)).await;
        let challenged = resp.headers().contains_key(header::WWW_AUTHENTICATE);
        (resp.status(), challenged)
    }

    async fn assert_rejected(&self, class: &str, token: &str) {
        let (status, challenged) = self.status(token).await;
        assert_eq!(
            status,
            StatusCode::UNAUTHORIZED,
            "{:?}: {class} was not a 401",
            self.alg
        );
        assert!(challenged, "{:?}: {class}: no WWW-Authenticate", self.alg);
    }
}

/// `value` with member `name` replaced (removed for `Null`).
fn with(value: &Value, name: &str, member: Value) -> Value {
    let mut v = value.clone();
    let obj = v.as_object_mut().expect("object");
    if member.is_null() {
        obj.remove(name);
    } else {
        obj.insert(name.to_owned(), member);
    }
    v
}

/// A key of the same algorithm the app has never seen.
fn attacker_key(alg: Alg) -> SigningKey {
    SigningKey::generate(alg).expect("attacker key")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_attack_class_is_a_401_for_every_algorithm() {
    for alg in ALGS {
        let t = Target::new(alg).await;
        let (h, c) = (&t.header, &t.claims);

        // Control: the genuine parts, re-signed with the app's key, are accepted.
        let good = t.sign(h, c);
        assert_eq!(t.status(&good).await.0, StatusCode::OK, "{alg:?}: control");
        let (gh, gp, gs) = {
            let mut p = good.split('.');
            (
                p.next().unwrap().to_owned(),
                p.next().unwrap().to_owned(),
                p.next().unwrap().to_owned(),
            )
        };

        // alg none, in any case, with an empty or a kept signature.
        for none in ["none", "None", "NONE", "nOnE"] {
            let hn = b64(t.header_with("alg", json!(none)).to_string());
            t.assert_rejected("alg none", &format!("{hn}.{gp}.")).await;
            t.assert_rejected("alg none, signature kept", &format!("{hn}.{gp}.{gs}"))
                .await;
        }
        // Null signature.
        t.assert_rejected("empty signature", &format!("{gh}.{gp}."))
            .await;

        // Algorithm confusion: HS256 keyed with the public key (PEM, DER); for HS256 itself,
        // a token claiming RS256 over an HMAC signature.
        if let (Some(pem), Some(der)) = (t.key.public_key_pem(), t.key.public_key_der()) {
            for secret in [pem.into_bytes(), der] {
                let forger = SigningKey::hmac(&secret).expect("long secret");
                let token = t.sign_with(&t.header_with("alg", json!("HS256")), c, &forger);
                t.assert_rejected("RS/HS key confusion", &token).await;
            }
        } else {
            let token = t.sign(&t.header_with("alg", json!("RS256")), c);
            t.assert_rejected("HS token relabelled RS256", &token).await;
        }
        // Another algorithm's token altogether (signed correctly by a key of that algorithm).
        let other = if alg == Alg::ES256 {
            Alg::EdDSA
        } else {
            Alg::ES256
        };
        let stranger = attacker_key(other);
        let hdr = json!({"alg": other.as_str(), "typ": h["typ"], "kid": stranger.kid()});
        t.assert_rejected("algorithm not allowed", &t.sign_with(&hdr, c, &stranger))
            .await;

        // kid tricks: traversal, injection, unknown; our kid over the attacker's signature.
        let attacker = attacker_key(alg);
        for kid in [
            "../../../../../../dev/null",
            "/dev/null",
            "' OR '1'='1",
            "x' UNION SELECT 'secret'--",
            "unknown-key",
            "",
        ] {
            let token = t.sign_with(&t.header_with("kid", json!(kid)), c, &attacker);
            t.assert_rejected("kid trick", &token).await;
        }
        t.assert_rejected(
            "our kid, attacker's signature",
            &t.sign_with(h, c, &attacker),
        )
        .await;
        // Keys the token brings along: jwk, jku, x5u, x5c (signed by the attacker).
        let with_attacker_kid = t.header_with("kid", json!(attacker.kid()));
        for (name, value) in [
            (
                "jwk",
                attacker
                    .public_jwk()
                    .unwrap_or(json!({"kty": "oct", "k": "AAAA"})),
            ),
            ("jku", json!("http://192.0.2.1/jwks.json")),
            ("x5u", json!("http://192.0.2.1/cert.pem")),
            (
                "x5c",
                json!([
                    "MIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3DQEBCwUAMBExDzANBgNVBAMMBnVudXNlZDAeFw0y"
                ]),
            ),
        ] {
            let token = t.sign_with(&with(&with_attacker_kid, name, value), c, &attacker);
            t.assert_rejected(name, &token).await;
        }

        // Time: expired, not yet valid, no exp, stringly typed times, iat far ahead.
        let now = t.now;
        for (class, claims) in [
            ("expired", t.claims_with("exp", json!(now - 3600))),
            ("nbf in the future", t.claims_with("nbf", json!(now + 3600))),
            ("no exp", t.claims_with("exp", Value::Null)),
            (
                "exp as a string",
                t.claims_with("exp", json!((now + 600).to_string())),
            ),
            (
                "nbf as a string",
                t.claims_with("nbf", json!((now + 3600).to_string())),
            ),
            (
                "iat far in the future",
                t.claims_with("iat", json!(now + 86_400)),
            ),
        ] {
            t.assert_rejected(class, &t.sign(h, &claims)).await;
        }
        // Audience and issuer.
        for (class, claims) in [
            ("wrong aud", t.claims_with("aud", json!("someone-else"))),
            (
                "aud array without ours",
                t.claims_with("aud", json!(["a", "b"])),
            ),
            ("no aud", t.claims_with("aud", Value::Null)),
            (
                "wrong iss",
                t.claims_with("iss", json!("https://evil.example")),
            ),
            ("no iss", t.claims_with("iss", Value::Null)),
        ] {
            t.assert_rejected(class, &t.sign(h, &claims)).await;
        }
        // crit naming an unknown extension; a typ we do not issue.
        let crit = with(
            &t.header_with("crit", json!(["x-unknown"])),
            "x-unknown",
            json!(1),
        );
        t.assert_rejected("crit", &t.sign(&crit, c)).await;
        t.assert_rejected(
            "typ",
            &t.sign(&t.header_with("typ", json!("at+jwt-not-ours")), c),
        )
        .await;
        // Oversized: a correctly signed token of 64 KiB.
        let big = t.claims_with("pad", json!("A".repeat(64 * 1024)));
        t.assert_rejected("oversized", &t.sign(h, &big)).await;
        // Tampered: one character changed in each part; a claim changed, signature kept.
        for (i, part) in [&gh, &gp, &gs].into_iter().enumerate() {
            let mut bytes = part.clone().into_bytes();
            let mid = bytes.len() / 2;
            bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
            let changed = String::from_utf8(bytes).expect("ascii");
            let mut parts = [gh.clone(), gp.clone(), gs.clone()];
            parts[i] = changed;
            t.assert_rejected("tampered", &parts.join(".")).await;
        }
        let admin = b64(t.claims_with("roles", json!(["user", "admin"])).to_string());
        t.assert_rejected(
            "claims changed, signature kept",
            &format!("{gh}.{admin}.{gs}"),
        )
        .await;
        // Shapes: 2 or 4 segments, padding, whitespace.
        for token in [
            format!("{gh}.{gp}"),
            format!("{gh}.{gp}.{gs}.{gs}"),
            format!("{gh}=.{gp}.{gs}"),
        ] {
            t.assert_rejected("bad shape", &token).await;
        }
        // And the genuine token still works after all that.
        assert_eq!(
            t.status(&good).await.0,
            StatusCode::OK,
            "{alg:?}: still fine"
        );
    }
}
