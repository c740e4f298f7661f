//! Helpers shared by the integration tests: a strict verifier over a fresh key, a fixed
//! "now", and ways to craft tokens byte by byte.
#![allow(dead_code)]

use authbench_core::ErrorKind;
use authbench_jwt::{Alg, SigningKey, Verifier, VerifierOptions, dangerous};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The fixed "now" of the attack tests (2023-11-14T22:13:20Z).
pub const NOW: u64 = 1_700_000_000;
pub const ISS: &str = "authbench";
pub const AUD: &str = "authbench-api";
pub const TYP: &str = "at+jwt";

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(text)
        .expect("test input is base64url")
}

/// Splits a compact JWS into its three segments.
pub fn segments(token: &str) -> (String, String, String) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "test token has three segments");
    (
        parts[0].to_owned(),
        parts[1].to_owned(),
        parts[2].to_owned(),
    )
}

/// Reassembles a token from raw header and payload bytes and a raw signature.
pub fn craft(header: &[u8], payload: &[u8], signature: &[u8]) -> String {
    format!("{}.{}.{}", b64(header), b64(payload), b64(signature))
}

/// A key and a strict verifier for it: our issuer, audience and `typ`, fixed clock.
pub struct Fixture {
    pub key: SigningKey,
    pub verifier: Verifier,
}

pub fn options(alg: Alg) -> VerifierOptions {
    let mut o = VerifierOptions::new([alg]);
    o.issuer = Some(ISS.into());
    o.audience = Some(AUD.into());
    o.token_type = Some(TYP.into());
    o.now = Some(NOW);
    o
}

impl Fixture {
    pub fn new(alg: Alg) -> Self {
        let key = SigningKey::generate(alg).expect("key generation");
        let verifier =
            Verifier::from_keys(vec![key.verifying_key()], options(alg)).expect("verifier");
        Self { key, verifier }
    }

    /// The header we would write.
    pub fn header(&self) -> Value {
        json!({"alg": self.key.alg().as_str(), "typ": TYP, "kid": self.key.kid()})
    }

    /// Claims that pass every check at [`NOW`].
    pub fn claims(&self) -> Value {
        json!({
            "iss": ISS, "sub": "alice", "aud": AUD,
            "exp": NOW + 600, "nbf": NOW - 1, "iat": NOW - 1,
            "jti": "AAAAAAAAAAAAAAAAAAAAAA", "tenant": "acme", "roles": ["user"]
        })
    }

    /// Signs raw header and payload bytes with the fixture's key.
    pub fn sign_raw(&self, header: &[u8], payload: &[u8]) -> String {
        dangerous::sign_raw(header, payload, &self.key).expect("signing")
    }

    /// Signs JSON values with the fixture's key.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        self.sign_raw(header.to_string().as_bytes(), claims.to_string().as_bytes())
    }

    /// A token that verifies.
    pub fn good(&self) -> String {
        self.sign(&self.header(), &self.claims())
    }

    /// Claims with one member replaced (or removed, for `Value::Null`).
    pub fn claims_with(&self, name: &str, value: Value) -> Value {
        let mut c = self.claims();
        let obj = c.as_object_mut().expect("object");
        if value.is_null() {
            obj.remove(name);
        } else {
            obj.insert(name.into(), value);
        }
        c
    }

    /// Header with one member replaced (or removed, for `Value::Null`).
    pub fn header_with(&self, name: &str, value: Value) -> Value {
        let mut h = self.header();
        let obj = h.as_object_mut().expect("object");
        if value.is_null() {
            obj.remove(name);
        } else {
            obj.insert(name.into(), value);
        }
        h
    }

    /// The error kind `verify` gives, or `None` if it accepts.
    pub fn kind(&self, token: &str) -> Option<ErrorKind> {
        self.verifier.verify(token).err().map(|e| e.kind())
    }
}

/// The error kind, asserting the token was rejected.
#[track_caller]
pub fn assert_rejected(f: &Fixture, token: &str, expected: ErrorKind) {
    match f.verifier.verify(token) {
        Ok(_) => panic!("accepted a token that should be {expected:?}"),
        Err(e) => {
            assert_eq!(e.kind(), expected, "detail: {}", e.detail());
            if token.len() > 8 {
                assert!(
                    !e.to_string().contains(token),
                    "error message leaks the token"
                );
            }
        }
    }
}
