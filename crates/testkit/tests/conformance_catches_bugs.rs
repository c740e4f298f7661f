//! The suite itself under test: a correct toy backend passes, and each deliberately planted bug
//! is caught by the check that should catch it. A conformance suite that never fails proves
//! nothing.

use authbench_core::{
    Authenticator, Credential, CredentialInfo, Description, Error, ErrorKind, Identity,
    ManualClock, Principal, RevocationModel, SharedClock,
};
use authbench_testkit::{ConformanceOptions, ConformanceReport, StoreControl, conformance};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const LIFETIME: u64 = 600;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bug {
    None,
    /// Compares only the first 20 characters of a token.
    PrefixMatch,
    /// Never looks at the clock.
    NoExpiry,
    /// `revoke` says Ok and does nothing.
    RevokeNoop,
    /// `revoke_all` ends everyone's credentials, not just the subject's.
    RevokeAllTooMuch,
    /// Panics on non-ASCII input.
    PanicsOnNonAscii,
    /// No size cap: 64 KiB is just "unknown".
    NoSizeCap,
    /// `revoke_all` also records a whole-second "not before" and rejects every credential
    /// issued at or before it: a login in the logout's second is dead on arrival.
    SameSecondNotBefore,
    /// `update_identity` says Ok and changes nothing.
    UpdateNoop,
    /// `list_credentials` keeps listing credentials past their lifetime.
    ListsExpired,
    /// The published JWK Set carries the private key (`d`).
    PublishesPrivateKey,
    /// With the store gone, `verify` answers from nothing and accepts (fails open).
    FailsOpen,
}

/// The toy's published keys: a public P-256 key (RFC 7517 A.1's example, trimmed).
const PUBLIC_JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"toy-1","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}"#;

/// The same with the private scalar `d` left in.
const LEAKY_JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"toy-1","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","d":"870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE"}]}"#;

struct Record {
    who: Identity,
    issued_at: u64,
    id: String,
}

/// An in-memory "session store" with an optional planted bug.
struct Toy {
    bug: Bug,
    clock: SharedClock,
    salt: u64,
    next: AtomicU64,
    records: Mutex<HashMap<String, Record>>,
    /// subject → the second of its last `revoke_all` (only under `SameSecondNotBefore`).
    not_before: Mutex<HashMap<String, u64>>,
    /// Whether the "store" answers (the suite's store control flips it).
    up: Arc<AtomicBool>,
}

impl Toy {
    fn new(bug: Bug, clock: SharedClock, salt: u64) -> Self {
        Self {
            bug,
            clock,
            salt,
            next: AtomicU64::new(1),
            records: Mutex::new(HashMap::new()),
            not_before: Mutex::new(HashMap::new()),
            up: Arc::new(AtomicBool::new(true)),
        }
    }

    /// `Unavailable` while the store is down.
    fn store(&self) -> Result<(), Error> {
        if self.up.load(Ordering::Relaxed) {
            Ok(())
        } else {
            Err(ErrorKind::Unavailable.into())
        }
    }

    fn lookup(&self, token: &str) -> Result<Principal, Error> {
        if self.bug == Bug::PanicsOnNonAscii && !token.is_ascii() {
            panic!("planted bug: non-ASCII");
        }
        if token.is_empty() {
            return Err(ErrorKind::Missing.into());
        }
        if self.bug != Bug::NoSizeCap && token.len() > 4096 {
            return Err(ErrorKind::TooLarge.into());
        }
        if self.bug != Bug::FailsOpen {
            self.store()?;
        }
        let records = self.records.lock().expect("lock");
        let found = if self.bug == Bug::PrefixMatch {
            records
                .iter()
                .find(|(k, _)| token.len() >= 20 && k.starts_with(&token[..20]))
                .map(|(_, r)| r)
        } else {
            records.get(token)
        };
        let Some(r) = found else {
            return Err(ErrorKind::UnknownSession.into());
        };
        let not_before = self.not_before.lock().expect("lock");
        if not_before
            .get(&r.who.subject)
            .is_some_and(|&second| r.issued_at <= second)
        {
            return Err(ErrorKind::Revoked.into());
        }
        let expires_at = r.issued_at + LIFETIME;
        if self.bug != Bug::NoExpiry && self.clock.now() >= expires_at {
            return Err(ErrorKind::Expired.into());
        }
        Ok(Principal {
            subject: r.who.subject.clone(),
            tenant: r.who.tenant.clone(),
            roles: r.who.roles.clone(),
            issued_at: r.issued_at,
            expires_at: Some(expires_at),
            credential_id: r.id.clone(),
        })
    }
}

impl Authenticator for Toy {
    fn describe(&self) -> Description {
        Description {
            name: format!("toy-{:?}", self.bug),
            stateful: true,
            revocation: RevocationModel::DeleteRecord,
            store_round_trips_per_verify: 1,
        }
    }

    async fn issue(&self, who: &Identity) -> Result<Credential, Error> {
        self.store()?;
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        // Not a secure token (a toy); 40 hex digits of a mixed counter.
        let mixed = (u128::from(n) ^ u128::from(self.salt))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
        let token = format!("{:08x}{mixed:032x}", self.salt as u32);
        let record = Record {
            who: who.clone(),
            issued_at: self.clock.now(),
            id: format!("cid-{:x}-{n:06}", self.salt),
        };
        self.records
            .lock()
            .expect("lock")
            .insert(token.clone(), record);
        Ok(Credential {
            token,
            expires_in: LIFETIME,
            refresh_token: None,
        })
    }

    async fn verify(&self, token: &str) -> Result<Principal, Error> {
        self.lookup(token)
    }

    async fn revoke(&self, token: &str) -> Result<(), Error> {
        if token.is_empty() {
            return Err(ErrorKind::Missing.into());
        }
        self.store()?;
        if self.bug != Bug::RevokeNoop {
            self.records.lock().expect("lock").remove(token);
        }
        Ok(())
    }

    async fn revoke_all(&self, subject: &str) -> Result<(), Error> {
        if self.bug == Bug::SameSecondNotBefore {
            self.not_before
                .lock()
                .expect("lock")
                .insert(subject.to_owned(), self.clock.now());
        }
        let mut records = self.records.lock().expect("lock");
        if self.bug == Bug::RevokeAllTooMuch {
            records.clear();
        } else {
            records.retain(|_, r| r.who.subject != subject);
        }
        Ok(())
    }

    async fn refresh(&self, _: &str) -> Result<Credential, Error> {
        Err(Error::unsupported("toy", "refresh"))
    }

    async fn update_identity(&self, who: &Identity) -> Result<(), Error> {
        if self.bug != Bug::UpdateNoop {
            for r in self.records.lock().expect("lock").values_mut() {
                if r.who.subject == who.subject {
                    r.who = who.clone();
                }
            }
        }
        Ok(())
    }

    async fn list_credentials(&self, subject: &str) -> Result<Vec<CredentialInfo>, Error> {
        let now = self.clock.now();
        let records = self.records.lock().expect("lock");
        let mut live: Vec<CredentialInfo> = records
            .values()
            .filter(|r| r.who.subject == subject)
            .filter(|r| self.bug == Bug::ListsExpired || now < r.issued_at + LIFETIME)
            .map(|r| CredentialInfo {
                credential_id: r.id.clone(),
                issued_at: r.issued_at,
                last_used: None,
                expires_at: Some(r.issued_at + LIFETIME),
            })
            .collect();
        live.sort_by(|a, b| (a.issued_at, &a.credential_id).cmp(&(b.issued_at, &b.credential_id)));
        Ok(live)
    }

    fn published_keys(&self) -> Option<Arc<str>> {
        Some(Arc::from(if self.bug == Bug::PublishesPrivateKey {
            LEAKY_JWKS
        } else {
            PUBLIC_JWKS
        }))
    }
}

/// Runs the suite on a toy with `bug` in its own task; returns the report or the panic text.
async fn run(bug: Bug) -> Result<ConformanceReport, String> {
    let clock = ManualClock::new(1_700_000_000);
    let backend = Toy::new(bug, Arc::new(clock.clone()), 0xA5A5);
    let (down, up) = (Arc::clone(&backend.up), Arc::clone(&backend.up));
    let backend = Arc::new(backend);
    let foreign = Arc::new(Toy::new(Bug::None, Arc::new(clock.clone()), 0x5A5A));
    let task = tokio::spawn(async move {
        conformance(
            backend,
            &clock,
            ConformanceOptions::new(LIFETIME)
                .with_foreign(foreign)
                .with_store(StoreControl::new(
                    move || down.store(false, Ordering::Relaxed),
                    move || up.store(true, Ordering::Relaxed),
                )),
        )
        .await
    });
    match task.await {
        Ok(report) => Ok(report),
        Err(e) => {
            let payload = e.into_panic();
            Err(payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default())
        }
    }
}

#[tokio::test]
async fn a_correct_backend_passes_every_check() {
    let report = run(Bug::None).await.unwrap_or_else(|e| panic!("{e}"));
    assert!(report.skipped.is_empty(), "{report:?}");
    assert_eq!(report.passed.len(), 16, "{report:?}");
}

#[tokio::test]
async fn each_planted_bug_is_caught_by_the_right_check() {
    for (bug, expected) in [
        (Bug::PrefixMatch, "tampered"),
        (Bug::NoExpiry, "lifetime"),
        (Bug::RevokeNoop, "revoke"),
        (Bug::RevokeAllTooMuch, "revoke_all"),
        (Bug::SameSecondNotBefore, "a login at once after revoke_all"),
        (Bug::PanicsOnNonAscii, "PANICKED"),
        (Bug::NoSizeCap, "TooLarge"),
        (Bug::UpdateNoop, "update_identity"),
        (Bug::ListsExpired, "list_credentials"),
        (Bug::PublishesPrivateKey, "published_keys"),
        (Bug::FailsOpen, "fail_closed"),
    ] {
        let message = match run(bug).await {
            Ok(report) => panic!("{bug:?} went unnoticed: {report:?}"),
            Err(message) => message,
        };
        assert!(
            message.contains(expected),
            "{bug:?} should be caught mentioning {expected:?}, got: {message}"
        );
    }
}
