//! The conformance suite: the [`Authenticator`] contract in executable form.
//!
//! `authbench_core::Authenticator` writes down, method by method, what every backend MUST do.
//! Prose can be misread; this suite cannot. Every backend's integration tests call
//! [`conformance`] against a real store, and a violation panics with a message that names the
//! check, the input (described, never printed: it may be a live credential) and what came back.
//!
//! What is checked, in order (each name appears in [`ConformanceReport::passed`]):
//!
//! | check | the contract clause |
//! |---|---|
//! | `describe` | a name; a stateless backend costs 0 store round trips |
//! | `round_trip` | issue → verify gives back subject, tenant and roles; `issued_at` and `expires_at` come from the injected clock; `credential_id` is stable, loggable and not the credential |
//! | `fresh_credentials` | every login yields a credential never handed out before |
//! | `tampered` | a credential altered in any byte is rejected |
//! | `truncated_and_extended` | a credential cut short or lengthened is rejected |
//! | `hostile_input` | empty, whitespace, 64 KiB, binary, non-ASCII input: rejected, never a panic; oversized input is `TooLarge` |
//! | `foreign` | a credential from another instance of the same backend is rejected |
//! | `lifetime` | accepted one second before the lifetime ends, rejected (`Expired` / `UnknownSession`) after it plus the leeway |
//! | `revoke` / `revoke_all` | do what [`Description::revocation`] claims (see below) |
//! | `refresh` | `Unsupported` without refresh tokens; otherwise a working exchange |
//! | `concurrent_verify` | many simultaneous verifies of one credential all agree |
//! | `update_identity` | `Unsupported` leaves existing credentials as they were; `Ok` means an existing credential is rejected or shows the new facts (under refresh rotation: its refresh exchange carries them) |
//! | `list_credentials` | `Unsupported`, or: an empty list for an unknown subject, every live credential (by `credential_id`) oldest first, none that `verify` would reject (revoked, past its lifetime) |
//! | `fail_closed` | with the store stopped, no operation succeeds that needs it: a verify that costs a store round trip is `Unavailable` (never accepted, never "rejected"), `issue` and `revoke` are `Ok` or `Unavailable`, each within [`FAIL_CLOSED_WITHIN`]; once the store is back, a fresh credential works again (needs [`ConformanceOptions::with_store`]) |
//! | `published_keys` | `None`, or a JWK Set whose every key is public (no `d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`) |
//!
//! Revocation, by model: [`RevocationModel::None`] MUST answer `Unsupported` to both and leave
//! credentials working. [`RevocationModel::DeleteRecord`] MUST support both.
//! [`RevocationModel::Denylist`] MUST support `revoke`, [`RevocationModel::Epoch`] MUST support
//! `revoke_all`; the other operation may be `Unsupported` (reported as skipped, so the caller
//! can assert on it). Whatever succeeds takes effect at once (or within
//! [`ConformanceOptions::revocation_delay`]); under [`RevocationModel::RefreshRotation`] the
//! access token may live out its short life and the *refresh token* must stop working. In all
//! models, revoking twice is `Ok`, revoking `""` is rejected, a revocation leaves other users
//! (and for `revoke`, the user's other credentials) alone, and a user can log in again at once
//! after `revoke_all` (same second, clock untouched) and use that credential immediately.
//!
//! The suite moves the [`ManualClock`] it is given (the same clock the backend was built with)
//! and puts it back after each time-based check.

use authbench_core::{
    Authenticator, Clock, Credential, Description, Error, ErrorClass, ErrorKind, Identity,
    ManualClock, Principal, RevocationModel,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Size of the oversized input: far past any sane credential (browsers stop at 4 KiB cookies,
/// proxies at 8 KiB headers), so every backend must refuse it as `TooLarge` before parsing.
pub const HUGE_INPUT_BYTES: usize = 64 * 1024;

/// Up to this length every character of a credential is tampered with in turn; longer ones get
/// the first, middle and last characters plus an even sample.
const TAMPER_EVERY_POSITION_UP_TO: usize = 1024;

/// Positions sampled in credentials longer than [`TAMPER_EVERY_POSITION_UP_TO`].
const TAMPER_SAMPLES: usize = 256;

/// Concurrent logins in the `fresh_credentials` check.
const CONCURRENT_ISSUES: usize = 50;

/// The base64url alphabet, in index order. Tampering replaces a character by the one 32 places
/// further on, which flips the *most* significant of its six bits: a change that survives
/// decoding (flipping a low bit of a final character could land in the padding bits).
const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// What a backend tells the suite about itself.
///
/// Built with [`ConformanceOptions::new`] and the `with_*` methods, so a new backend adds only
/// what it needs.
#[derive(Debug)]
pub struct ConformanceOptions<A> {
    /// How long a credential that is never used stays valid, in seconds: a session's idle
    /// timeout (capped by the absolute one), a JWT's `exp - iat`. MUST equal the
    /// [`Credential::expires_in`] the backend reports at issue.
    pub lifetime_secs: u64,
    /// Clock-skew leeway the backend grants past `lifetime_secs`.
    ///
    /// Defaults to 0 (state in a store is judged without leeway).
    pub leeway_secs: u64,
    /// A second instance of the same backend with different secrets or a different store:
    /// its credentials must be rejected by the instance under test.
    ///
    /// Defaults to `None`, and the `foreign` check is then reported as skipped.
    pub foreign: Option<Arc<A>>,
    /// How many verifies of one credential run at once in `concurrent_verify`.
    ///
    /// Defaults to 1,000.
    pub concurrent_verifies: usize,
    /// How long a revocation may take to reach `verify` (polled), for models that propagate
    /// (a locally cached epoch, say).
    ///
    /// Defaults to zero: revocation takes effect at once, as [`RevocationModel::DeleteRecord`]
    /// and [`RevocationModel::Denylist`] promise.
    pub revocation_delay: Duration,
    /// How to stop and restart the store the backend depends on, for the `fail_closed` check.
    ///
    /// Defaults to `None`, and `fail_closed` is then reported as skipped.
    pub store: Option<StoreControl>,
}

/// Stops and restarts the store a backend depends on (a private Redis, say), so the suite can
/// check the contract's first clause against a store that is really gone.
pub struct StoreControl {
    /// Stops the store (kill the process, or freeze it).
    pub stop: Box<dyn Fn() + Send + Sync>,
    /// Brings it back on the same address; it may come back empty.
    pub restart: Box<dyn Fn() + Send + Sync>,
}

impl StoreControl {
    /// A control from two closures.
    pub fn new(
        stop: impl Fn() + Send + Sync + 'static,
        restart: impl Fn() + Send + Sync + 'static,
    ) -> Self {
        Self {
            stop: Box::new(stop),
            restart: Box::new(restart),
        }
    }

    /// Stops (kills) and restarts a private `redis-server`, which the control then owns: it
    /// comes back on the same port, empty.
    pub fn redis(server: authbench_services::RedisServer) -> Self {
        let server = Arc::new(std::sync::Mutex::new(server));
        let again = Arc::clone(&server);
        Self::new(
            move || {
                server
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .stop();
            },
            move || {
                let restarted = again
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .restart();
                if let Err(e) = restarted {
                    panic!("restarting the private redis-server: {e}");
                }
            },
        )
    }
}

impl std::fmt::Debug for StoreControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreControl { .. }")
    }
}

/// How long an operation may take to answer `Unavailable` once the store is gone: the
/// contract's "about a second" (connect plus response timeout), with room for a loaded CI
/// machine.
pub const FAIL_CLOSED_WITHIN: Duration = Duration::from_secs(5);

/// How long the backend may take to serve again once the store is back.
const HEAL_WITHIN: Duration = Duration::from_secs(15);

impl<A> ConformanceOptions<A> {
    /// Options for a backend whose unused credentials live `lifetime_secs` seconds.
    pub fn new(lifetime_secs: u64) -> Self {
        Self {
            lifetime_secs,
            leeway_secs: 0,
            foreign: None,
            concurrent_verifies: 1_000,
            revocation_delay: Duration::ZERO,
            store: None,
        }
    }

    /// Sets [`leeway_secs`](Self::leeway_secs).
    pub fn with_leeway(mut self, secs: u64) -> Self {
        self.leeway_secs = secs;
        self
    }

    /// Sets [`foreign`](Self::foreign).
    pub fn with_foreign(mut self, other: Arc<A>) -> Self {
        self.foreign = Some(other);
        self
    }

    /// Sets [`concurrent_verifies`](Self::concurrent_verifies).
    pub fn with_concurrent_verifies(mut self, n: usize) -> Self {
        self.concurrent_verifies = n;
        self
    }

    /// Sets [`store`](Self::store): how to stop and restart the store the backend uses.
    pub fn with_store(mut self, control: StoreControl) -> Self {
        self.store = Some(control);
        self
    }

    /// Sets [`revocation_delay`](Self::revocation_delay).
    pub fn with_revocation_delay(mut self, delay: Duration) -> Self {
        self.revocation_delay = delay;
        self
    }
}

/// What the suite did: the checks that passed and the ones it could not run (with why).
///
/// A violation never shows up here: it panics.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConformanceReport {
    /// Names of the checks that ran and passed, in order.
    pub passed: Vec<&'static str>,
    /// Checks not run, with the reason (e.g. no `foreign` instance was given).
    pub skipped: Vec<(&'static str, String)>,
}

impl ConformanceReport {
    /// The names of the skipped checks, in order: what a backend's test asserts against the
    /// capabilities it claims (e.g. `["list_credentials", "published_keys"]` for a JWT with a
    /// shared secret, which keeps no per-token state and publishes no key).
    pub fn skipped_names(&self) -> Vec<&'static str> {
        self.skipped.iter().map(|(name, _)| *name).collect()
    }
}

/// Runs the whole suite against `backend`; panics on the first violation.
///
/// `clock` MUST be the clock `backend` was built with. The suite uses fresh, run-unique subjects,
/// so it can share a store with other tests, and restores the clock after each time-based check.
///
/// ```ignore
/// let report = conformance(Arc::new(backend), &clock, ConformanceOptions::new(1800)).await;
/// assert!(report.skipped.is_empty(), "{report:?}");
/// ```
pub async fn conformance<A: Authenticator>(
    backend: Arc<A>,
    clock: &ManualClock,
    opts: ConformanceOptions<A>,
) -> ConformanceReport {
    let description = backend.describe();
    let suite = Suite {
        backend,
        clock,
        opts,
        name: description.name.clone(),
        run: RunIds::new(),
    };
    let mut report = ConformanceReport::default();

    suite.describe(&description);
    report.passed.push("describe");
    suite.round_trip().await;
    report.passed.push("round_trip");
    suite.fresh_credentials().await;
    report.passed.push("fresh_credentials");
    suite.tampered().await;
    report.passed.push("tampered");
    suite.truncated_and_extended().await;
    report.passed.push("truncated_and_extended");
    suite.hostile_input().await;
    report.passed.push("hostile_input");
    match &suite.opts.foreign {
        Some(foreign) => {
            suite.foreign(foreign).await;
            report.passed.push("foreign");
        }
        None => report.skipped.push((
            "foreign",
            "no second instance given (ConformanceOptions::with_foreign)".to_owned(),
        )),
    }
    suite.lifetime().await;
    report.passed.push("lifetime");
    match suite.revoke(description.revocation).await {
        Ok(()) => report.passed.push("revoke"),
        Err(why) => report.skipped.push(("revoke", why)),
    }
    match suite.revoke_all(description.revocation).await {
        Ok(()) => report.passed.push("revoke_all"),
        Err(why) => report.skipped.push(("revoke_all", why)),
    }
    suite.refresh().await;
    report.passed.push("refresh");
    suite.concurrent_verify().await;
    report.passed.push("concurrent_verify");
    match suite.update_identity(description.revocation).await {
        Ok(()) => report.passed.push("update_identity"),
        Err(why) => report.skipped.push(("update_identity", why)),
    }
    match suite.list_credentials(description.revocation).await {
        Ok(()) => report.passed.push("list_credentials"),
        Err(why) => report.skipped.push(("list_credentials", why)),
    }
    match suite.published_keys() {
        Ok(()) => report.passed.push("published_keys"),
        Err(why) => report.skipped.push(("published_keys", why)),
    }
    // Last: it takes the store away.
    match &suite.opts.store {
        Some(store) => {
            suite.fail_closed(&description, store).await;
            report.passed.push("fail_closed");
        }
        None => report.skipped.push((
            "fail_closed",
            "no store control given (ConformanceOptions::with_store)".to_owned(),
        )),
    }
    report
}

/// Run-unique subject names, so parallel tests sharing one Redis never revoke each other.
struct RunIds {
    nonce: String,
    counter: AtomicU64,
}

impl RunIds {
    fn new() -> Self {
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Self {
            nonce: format!(
                "{}-{}-{}",
                std::process::id(),
                RUNS.fetch_add(1, Ordering::Relaxed),
                nanos % 1_000_000_000
            ),
            counter: AtomicU64::new(0),
        }
    }

    /// A fresh identity; `who` names the role it plays in the check.
    fn identity(&self, who: &str) -> Identity {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        Identity {
            subject: format!("conformance-{who}-{}-{n}", self.nonce),
            tenant: "acme".to_owned(),
            roles: vec!["user".to_owned()],
        }
    }
}

struct Suite<'c, A> {
    backend: Arc<A>,
    clock: &'c ManualClock,
    opts: ConformanceOptions<A>,
    name: String,
    run: RunIds,
}

impl<A: Authenticator> Suite<'_, A> {
    // ----- helpers -------------------------------------------------------------------------

    async fn issue(&self, check: &str, who: &Identity) -> Credential {
        match self.backend.issue(who).await {
            Ok(c) => c,
            Err(e) => panic!(
                "[{}] {check}: issue({:?}) failed: {e} ({:?})",
                self.name, who.subject, e
            ),
        }
    }

    async fn verify_ok(&self, check: &str, what: &str, token: &str) -> Principal {
        match self.backend.verify(token).await {
            Ok(p) => p,
            Err(e) => panic!(
                "[{}] {check}: verify({what}) should succeed, got {} ({e})",
                self.name,
                e.kind()
            ),
        }
    }

    /// Verifies `input` in its own task, so a panic inside the backend is reported as a
    /// contract violation naming the input rather than as a bare crash.
    async fn verify_isolated(&self, input: String) -> Result<Principal, VerifyOutcome> {
        let backend = Arc::clone(&self.backend);
        match tokio::spawn(async move { backend.verify(&input).await }).await {
            Ok(Ok(p)) => Ok(p),
            Ok(Err(e)) => Err(VerifyOutcome::Error(e)),
            Err(join) if join.is_panic() => Err(VerifyOutcome::Panicked),
            Err(_) => Err(VerifyOutcome::Cancelled),
        }
    }

    /// `input` MUST be rejected; with `kinds` non-empty, with one of those kinds.
    async fn expect_rejected(&self, check: &str, what: &str, input: String, kinds: &[ErrorKind]) {
        match self.verify_isolated(input).await {
            Ok(p) => panic!(
                "[{}] {check}: verify({what}) was ACCEPTED (subject {:?}); it must be rejected",
                self.name, p.subject
            ),
            Err(VerifyOutcome::Panicked) => panic!(
                "[{}] {check}: verify({what}) PANICKED; bad input must be rejected, never panic",
                self.name
            ),
            Err(VerifyOutcome::Cancelled) => {
                panic!("[{}] {check}: verify({what}) was cancelled", self.name)
            }
            Err(VerifyOutcome::Error(e)) => {
                assert_eq!(
                    e.class(),
                    ErrorClass::Rejected,
                    "[{}] {check}: verify({what}) must be rejected, got {} ({e})",
                    self.name,
                    e.kind()
                );
                assert!(
                    kinds.is_empty() || kinds.contains(&e.kind()),
                    "[{}] {check}: verify({what}) must fail with one of {kinds:?}, got {} ({e})",
                    self.name,
                    e.kind()
                );
            }
        }
    }

    /// Polls `verify(token)` until it is rejected, for up to `opts.revocation_delay`.
    async fn expect_revoked(&self, check: &str, what: &str, token: &str) {
        let deadline = Instant::now() + self.opts.revocation_delay;
        loop {
            match self.backend.verify(token).await {
                Err(e) if e.class() == ErrorClass::Rejected => return,
                Err(e) => panic!(
                    "[{}] {check}: verify({what}) after revocation must be rejected, got {} ({e})",
                    self.name,
                    e.kind()
                ),
                Ok(_) if Instant::now() >= deadline => panic!(
                    "[{}] {check}: {what} still verifies after revocation (allowed delay {:?})",
                    self.name, self.opts.revocation_delay
                ),
                Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    }

    fn expect_unsupported<T>(&self, check: &str, what: &str, result: Result<T, Error>) {
        match result {
            Err(e) if e.kind() == ErrorKind::Unsupported => {}
            Err(e) => panic!(
                "[{}] {check}: {what} must return Unsupported, got {} ({e})",
                self.name,
                e.kind()
            ),
            Ok(_) => panic!(
                "[{}] {check}: {what} must return Unsupported, but it succeeded",
                self.name
            ),
        }
    }

    // ----- checks ----------------------------------------------------------------------------

    fn describe(&self, d: &Description) {
        assert!(!d.name.is_empty(), "describe(): empty name");
        if !d.stateful {
            assert_eq!(
                d.store_round_trips_per_verify, 0,
                "[{}] describe: a stateless backend cannot need store round trips",
                d.name
            );
        }
        if d.revocation == RevocationModel::DeleteRecord {
            assert!(
                d.stateful,
                "[{}] describe: DeleteRecord revocation needs server-side state",
                d.name
            );
        }
    }

    async fn round_trip(&self) {
        const C: &str = "round_trip";
        let now = self.clock.now();
        let mut identities = vec![self.run.identity("alice")];
        // Non-ASCII subject, several roles in a meaningful order, another tenant.
        let mut zoe = self.run.identity("zoë");
        zoe.tenant = "globex".to_owned();
        zoe.roles = vec!["user".to_owned(), "admin".to_owned(), "rôle:ünï".to_owned()];
        identities.push(zoe);
        let mut roleless = self.run.identity("nobody");
        roleless.roles.clear();
        identities.push(roleless);

        for who in &identities {
            let cred = self.issue(C, who).await;
            assert!(!cred.token.is_empty(), "[{}] {C}: empty token", self.name);
            assert!(
                cred.token.bytes().all(|b| b.is_ascii_graphic()),
                "[{}] {C}: a credential travels in a header and a cookie: it must be printable \
                 ASCII without spaces",
                self.name
            );
            assert_eq!(
                cred.expires_in, self.opts.lifetime_secs,
                "[{}] {C}: Credential::expires_in must equal the configured lifetime",
                self.name
            );
            let p = self.verify_ok(C, "a fresh credential", &cred.token).await;
            assert_eq!(p.subject, who.subject, "[{}] {C}: subject", self.name);
            assert_eq!(p.tenant, who.tenant, "[{}] {C}: tenant", self.name);
            assert_eq!(
                p.roles, who.roles,
                "[{}] {C}: roles (order kept)",
                self.name
            );
            assert_eq!(
                p.issued_at, now,
                "[{}] {C}: issued_at must come from the injected clock",
                self.name
            );
            if let Some(exp) = p.expires_at {
                let latest = now + self.opts.lifetime_secs + self.opts.leeway_secs;
                assert!(
                    exp > now && exp <= latest,
                    "[{}] {C}: expires_at {exp} must lie in ({now}, {latest}]",
                    self.name
                );
            }
            assert!(
                !p.credential_id.is_empty(),
                "[{}] {C}: empty credential_id",
                self.name
            );
            // Short ids could occur inside a token by chance; from 8 characters on, a match
            // means the id was cut from the credential.
            assert!(
                p.credential_id != cred.token
                    && (p.credential_id.len() < 8 || !cred.token.contains(&p.credential_id)),
                "[{}] {C}: credential_id must not be (part of) the credential: it gets logged",
                self.name
            );
            let again = self
                .verify_ok(C, "the same credential twice", &cred.token)
                .await;
            assert_eq!(
                again.credential_id, p.credential_id,
                "[{}] {C}: credential_id must be stable across verifies",
                self.name
            );
        }
    }

    async fn fresh_credentials(&self) {
        const C: &str = "fresh_credentials";
        let who = self.run.identity("fresh");
        let mut tasks = Vec::with_capacity(CONCURRENT_ISSUES);
        for _ in 0..CONCURRENT_ISSUES {
            let backend = Arc::clone(&self.backend);
            let who = who.clone();
            tasks.push(tokio::spawn(async move { backend.issue(&who).await }));
        }
        let mut tokens = std::collections::HashSet::new();
        let mut ids = std::collections::HashSet::new();
        for task in tasks {
            let cred = match task.await {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => panic!("[{}] {C}: concurrent issue failed: {e}", self.name),
                Err(e) => panic!("[{}] {C}: concurrent issue panicked: {e}", self.name),
            };
            let p = self.verify_ok(C, "a fresh credential", &cred.token).await;
            assert!(
                tokens.insert(cred.token),
                "[{}] {C}: two logins received the same credential",
                self.name
            );
            assert!(
                ids.insert(p.credential_id),
                "[{}] {C}: two credentials share a credential_id",
                self.name
            );
        }
    }

    async fn tampered(&self) {
        const C: &str = "tampered";
        let cred = self.issue(C, &self.run.identity("tamper")).await;
        let bytes = cred.token.as_bytes();
        let positions: Vec<usize> = if bytes.len() <= TAMPER_EVERY_POSITION_UP_TO {
            (0..bytes.len()).collect()
        } else {
            let mut p: Vec<usize> = (0..TAMPER_SAMPLES)
                .map(|i| i * bytes.len() / TAMPER_SAMPLES)
                .collect();
            p.extend([0, bytes.len() / 2, bytes.len() - 1]);
            p.sort_unstable();
            p.dedup();
            p
        };
        for pos in positions {
            let mut altered = bytes.to_vec();
            altered[pos] = flip(altered[pos]);
            let altered = String::from_utf8_lossy(&altered).into_owned();
            self.expect_rejected(
                C,
                &format!(
                    "the credential with character {pos} of {} changed",
                    bytes.len()
                ),
                altered,
                &[],
            )
            .await;
        }
        // The original still works: the checks above did not revoke it by accident.
        self.verify_ok(C, "the untampered original", &cred.token)
            .await;
    }

    async fn truncated_and_extended(&self) {
        const C: &str = "truncated_and_extended";
        let cred = self.issue(C, &self.run.identity("truncate")).await;
        let t = cred.token.as_str();
        let n = t.len();
        let mut cases: Vec<(String, String)> = vec![
            (
                "the credential minus its last character".into(),
                t[..n - 1].to_owned(),
            ),
            (
                "the credential minus its first character".into(),
                t[1..].to_owned(),
            ),
            (
                "the first half of the credential".into(),
                t[..n / 2].to_owned(),
            ),
            (
                "the credential with one character appended".into(),
                format!("{t}A"),
            ),
            ("the credential twice".into(), format!("{t}{t}")),
        ];
        if n > 4 {
            cases.push((
                "the credential minus 4 characters".into(),
                t[..n - 4].to_owned(),
            ));
        }
        for (what, input) in cases {
            self.expect_rejected(C, &what, input, &[]).await;
        }
    }

    async fn hostile_input(&self) {
        const C: &str = "hostile_input";
        let cred = self.issue(C, &self.run.identity("hostile")).await;
        let t = cred.token.as_str();
        let n = t.chars().count();
        let cases: Vec<(&str, String)> = vec![
            ("the empty string", String::new()),
            ("a single space", " ".into()),
            ("tabs and newlines", "\t\r\n".into()),
            ("the credential with a leading space", format!(" {t}")),
            ("the credential with a trailing space", format!("{t} ")),
            ("the credential with a trailing newline", format!("{t}\n")),
            ("`Bearer ` + the credential", format!("Bearer {t}")),
            ("NUL bytes of the credential's length", "\0".repeat(n)),
            ("`!` of the credential's length", "!".repeat(n)),
            ("`A` of the credential's length", "A".repeat(n)),
            ("non-ASCII of the credential's length", "é".repeat(n)),
            ("the credential with its first character made non-ASCII", {
                let mut s = String::from("é");
                s.extend(t.chars().skip(1));
                s
            }),
            ("an emoji", "🔑".into()),
            ("JSON null", "null".into()),
            ("an empty JSON object", "{}".into()),
            ("three empty dot-separated segments", "..".into()),
            ("`a.b.c`", "a.b.c".into()),
            (
                "a percent-encoded credential",
                t.replace('-', "%2D").replace('_', "%5F") + "%00",
            ),
        ];
        for (what, input) in cases {
            self.expect_rejected(C, what, input, &[]).await;
        }

        let huge_cases: Vec<(&str, String)> = vec![
            ("64 KiB of `A`", "A".repeat(HUGE_INPUT_BYTES)),
            ("64 KiB of the credential repeated", {
                let mut s = String::with_capacity(HUGE_INPUT_BYTES + t.len());
                while s.len() < HUGE_INPUT_BYTES {
                    s.push_str(t);
                }
                s
            }),
            ("64 KiB of mixed garbage", pseudo_garbage(HUGE_INPUT_BYTES)),
        ];
        for (what, input) in huge_cases {
            self.expect_rejected(C, what, input, &[ErrorKind::TooLarge])
                .await;
        }
        self.verify_ok(C, "the original after the hostile inputs", t)
            .await;
    }

    async fn foreign(&self, foreign: &Arc<A>) {
        const C: &str = "foreign";
        let who = self.run.identity("foreign");
        let theirs = match foreign.issue(&who).await {
            Ok(c) => c,
            Err(e) => panic!(
                "[{}] {C}: the foreign instance failed to issue: {e}",
                self.name
            ),
        };
        self.expect_rejected(
            C,
            "a credential issued by another instance",
            theirs.token,
            &[],
        )
        .await;
    }

    async fn lifetime(&self) {
        const C: &str = "lifetime";
        let start = self.clock.now();
        let life = self.opts.lifetime_secs;
        assert!(
            life >= 2,
            "[{}] {C}: lifetime_secs must be at least 2",
            self.name
        );

        // Still good one second before the end.
        let early = self.issue(C, &self.run.identity("lifetime-early")).await;
        self.clock.set(start + life - 1);
        self.verify_ok(C, "a credential 1 s before its lifetime ends", &early.token)
            .await;
        self.clock.set(start);

        // Dead once the lifetime (plus the leeway) is over.
        let late = self.issue(C, &self.run.identity("lifetime-late")).await;
        self.clock.set(start + life + self.opts.leeway_secs);
        self.expect_rejected(
            C,
            "a credential at the end of its lifetime (plus leeway)",
            late.token.clone(),
            &[ErrorKind::Expired, ErrorKind::UnknownSession],
        )
        .await;
        self.clock.set(start);
    }

    /// After a successful revocation of `cred`, what the model promises must hold: the
    /// credential is rejected (polled up to `revocation_delay`), except under
    /// [`RevocationModel::RefreshRotation`], where the short-lived access token may run out its
    /// life and it is the refresh token that must stop working.
    async fn expect_revocation_effect(
        &self,
        check: &str,
        what: &str,
        model: RevocationModel,
        cred: &Credential,
    ) {
        if model == RevocationModel::RefreshRotation {
            if let Some(rt) = &cred.refresh_token {
                match self.backend.refresh(rt).await {
                    Err(e) if e.class() == ErrorClass::Rejected => {}
                    other => panic!(
                        "[{}] {check}: the refresh token of {what} must be rejected after \
                         revocation, got {:?}",
                        self.name,
                        other.map(|_| "a new credential").map_err(|e| e.kind())
                    ),
                }
            }
            return;
        }
        self.expect_revoked(check, what, &cred.token).await;
    }

    /// `Ok(())` if the check ran, `Err(reason)` if the model allows `Unsupported` and got it.
    async fn revoke(&self, model: RevocationModel) -> Result<(), String> {
        const C: &str = "revoke";
        let cred = self.issue(C, &self.run.identity("revoke")).await;
        if model == RevocationModel::None {
            self.expect_unsupported(C, "revoke()", self.backend.revoke(&cred.token).await);
            self.verify_ok(C, "a credential after an unsupported revoke", &cred.token)
                .await;
            return Ok(());
        }
        // A deny-list and a deleted record end one credential by design; other models (a
        // per-user epoch, say) may only be able to end them all.
        let required = matches!(
            model,
            RevocationModel::DeleteRecord | RevocationModel::Denylist
        );
        match self.backend.revoke(&cred.token).await {
            Ok(()) => {}
            Err(e) if !required && e.kind() == ErrorKind::Unsupported => {
                return Err(format!("{model:?} does not revoke single credentials"));
            }
            Err(e) => panic!(
                "[{}] {C}: revoke(a live credential) failed under {model:?}: {} ({e})",
                self.name,
                e.kind()
            ),
        }
        self.expect_revocation_effect(C, "a revoked credential", model, &cred)
            .await;
        if let Err(e) = self.backend.revoke(&cred.token).await {
            panic!(
                "[{}] {C}: revoking an already revoked credential must be Ok (the goal state \
                 holds), got {} ({e})",
                self.name,
                e.kind()
            );
        }
        match self.backend.revoke("").await {
            Err(e) if e.class() == ErrorClass::Rejected => {}
            other => panic!(
                "[{}] {C}: revoke(\"\") must be rejected like verify(\"\"), got {:?}",
                self.name,
                other.map_err(|e| e.kind())
            ),
        }
        // Revoking one credential leaves the user's other credentials alone.
        let who = self.run.identity("revoke-one-of-two");
        let first = self.issue(C, &who).await;
        let second = self.issue(C, &who).await;
        if let Err(e) = self.backend.revoke(&first.token).await {
            panic!("[{}] {C}: revoke failed: {e}", self.name);
        }
        self.expect_revocation_effect(C, "the revoked one of two credentials", model, &first)
            .await;
        self.verify_ok(C, "the other credential of the same user", &second.token)
            .await;
        Ok(())
    }

    /// As [`revoke`](Self::revoke), for "log out everywhere".
    async fn revoke_all(&self, model: RevocationModel) -> Result<(), String> {
        const C: &str = "revoke_all";
        let target = self.run.identity("revoke-all-target");
        let bystander = self.run.identity("revoke-all-bystander");
        let mut theirs = Vec::new();
        for _ in 0..3 {
            theirs.push(self.issue(C, &target).await);
        }
        let other = self.issue(C, &bystander).await;

        if model == RevocationModel::None {
            self.expect_unsupported(
                C,
                "revoke_all()",
                self.backend.revoke_all(&target.subject).await,
            );
            for c in &theirs {
                self.verify_ok(C, "a credential after an unsupported revoke_all", &c.token)
                    .await;
            }
            return Ok(());
        }
        // A deleted record (through the user's index) and a per-user epoch end every
        // credential of a user by design; a plain deny-list needs to know them all.
        let required = matches!(
            model,
            RevocationModel::DeleteRecord | RevocationModel::Epoch
        );
        match self.backend.revoke_all(&target.subject).await {
            Ok(()) => {}
            Err(e) if !required && e.kind() == ErrorKind::Unsupported => {
                return Err(format!(
                    "{model:?} does not revoke all of a user's credentials"
                ));
            }
            Err(e) => panic!(
                "[{}] {C}: revoke_all failed under {model:?}: {} ({e})",
                self.name,
                e.kind()
            ),
        }
        for (i, c) in theirs.iter().enumerate() {
            self.expect_revocation_effect(
                C,
                &format!("credential {i} of a user logged out everywhere"),
                model,
                c,
            )
            .await;
        }
        self.verify_ok(
            C,
            "another user's credential after revoke_all",
            &other.token,
        )
        .await;
        if let Err(e) = self
            .backend
            .revoke_all(&self.run.identity("nobody").subject)
            .await
        {
            panic!(
                "[{}] {C}: revoke_all of a subject without credentials must be Ok, got {e}",
                self.name
            );
        }
        // The user can log in again **at once**: the clock does not move, so a backend that
        // orders logins against a logout-all by whole-second timestamps (a per-user "not
        // before" second) fails here, as its users would see a login dead on arrival. The
        // login must also be usable immediately (no `revocation_delay` grace).
        let again = self.issue(C, &target).await;
        self.verify_ok(
            C,
            "a login at once after revoke_all, in the same second",
            &again.token,
        )
        .await;
        Ok(())
    }

    async fn refresh(&self) {
        const C: &str = "refresh";
        let cred = self.issue(C, &self.run.identity("refresh")).await;
        let Some(refresh_token) = cred.refresh_token.clone() else {
            self.expect_unsupported(C, "refresh(\"\")", self.backend.refresh("").await);
            self.expect_unsupported(
                C,
                "refresh(an access credential)",
                self.backend.refresh(&cred.token).await,
            );
            return;
        };
        let new = match self.backend.refresh(&refresh_token).await {
            Ok(c) => c,
            Err(e) => panic!(
                "[{}] {C}: refresh(a fresh refresh token) failed: {e}",
                self.name
            ),
        };
        let p = self
            .verify_ok(C, "the credential a refresh returned", &new.token)
            .await;
        assert!(
            p.subject.starts_with("conformance-refresh-"),
            "[{}] {C}: refresh returned a credential for someone else",
            self.name
        );
        for (what, input) in [
            ("\"\"", String::new()),
            ("64 KiB of `A`", "A".repeat(HUGE_INPUT_BYTES)),
        ] {
            match self.backend.refresh(&input).await {
                Err(e) if e.class() == ErrorClass::Rejected => {}
                other => panic!(
                    "[{}] {C}: refresh({what}) must be rejected, got {:?}",
                    self.name,
                    other.map_err(|e| e.kind())
                ),
            }
        }
        match self.backend.refresh(&cred.token).await {
            Err(e) if e.class() == ErrorClass::Rejected => {}
            other => panic!(
                "[{}] {C}: refresh(an access credential) must be rejected: an access token is not a refresh token; got {:?}",
                self.name,
                other.map(|_| "a new credential").map_err(|e| e.kind())
            ),
        }
    }

    async fn concurrent_verify(&self) {
        const C: &str = "concurrent_verify";
        let who = self.run.identity("concurrent");
        let cred = self.issue(C, &who).await;
        let expected = self.verify_ok(C, "the credential once", &cred.token).await;
        let token: Arc<str> = Arc::from(cred.token.as_str());
        let mut tasks = Vec::with_capacity(self.opts.concurrent_verifies);
        for _ in 0..self.opts.concurrent_verifies {
            let backend = Arc::clone(&self.backend);
            let token = Arc::clone(&token);
            tasks.push(tokio::spawn(async move { backend.verify(&token).await }));
        }
        for (i, task) in tasks.into_iter().enumerate() {
            let p = match task.await {
                Ok(Ok(p)) => p,
                Ok(Err(e)) => panic!(
                    "[{}] {C}: verify {i} of {} failed: {} ({e})",
                    self.name,
                    self.opts.concurrent_verifies,
                    e.kind()
                ),
                Err(e) => panic!("[{}] {C}: verify {i} panicked: {e}", self.name),
            };
            assert!(
                p.subject == expected.subject
                    && p.tenant == expected.tenant
                    && p.roles == expected.roles
                    && p.issued_at == expected.issued_at
                    && p.credential_id == expected.credential_id,
                "[{}] {C}: verify {i} disagrees: {p:?} vs {expected:?}",
                self.name
            );
        }
    }

    /// `update_identity`: `Unsupported` changes nothing; `Ok` reaches the credentials already
    /// out there, or ends them. Err: the backend's design cannot (reported as skipped).
    async fn update_identity(&self, model: RevocationModel) -> Result<(), String> {
        const C: &str = "update_identity";
        let who = self.run.identity("update");
        let cred = self.issue(C, &who).await;
        let mut changed = who.clone();
        changed.roles = vec!["user".to_owned(), "auditor".to_owned()];
        changed.tenant = "globex".to_owned();
        match self.backend.update_identity(&changed).await {
            Err(e) if e.kind() == ErrorKind::Unsupported => {
                let p = self
                    .verify_ok(C, "a credential after an unsupported update", &cred.token)
                    .await;
                assert!(
                    p.roles == who.roles && p.tenant == who.tenant,
                    "[{}] {C}: an update that answered Unsupported changed the credential's facts",
                    self.name
                );
                Err(format!(
                    "{}: Unsupported (the design cannot reach issued credentials)",
                    self.name
                ))
            }
            Err(e) => panic!(
                "[{}] {C}: update_identity failed: {} ({e})",
                self.name,
                e.kind()
            ),
            Ok(()) if model == RevocationModel::RefreshRotation => {
                // The short-lived access token may keep its claims; the refresh token must not
                // hand out the old ones again.
                if let Some(rt) = &cred.refresh_token {
                    let next = match self.backend.refresh(rt).await {
                        Ok(c) => c,
                        Err(e) if e.class() == ErrorClass::Rejected => return Ok(()),
                        Err(e) => panic!(
                            "[{}] {C}: refresh after an update failed: {} ({e})",
                            self.name,
                            e.kind()
                        ),
                    };
                    let p = self
                        .verify_ok(
                            C,
                            "the credential a refresh gave after an update",
                            &next.token,
                        )
                        .await;
                    assert!(
                        p.roles == changed.roles && p.tenant == changed.tenant,
                        "[{}] {C}: a refresh after an update still carries the old facts",
                        self.name
                    );
                }
                Ok(())
            }
            Ok(()) => {
                let deadline = Instant::now() + self.opts.revocation_delay;
                loop {
                    match self.backend.verify(&cred.token).await {
                        Err(e) if e.class() == ErrorClass::Rejected => return Ok(()),
                        Err(e) => panic!(
                            "[{}] {C}: verify after an update must answer, got {} ({e})",
                            self.name,
                            e.kind()
                        ),
                        Ok(p) if p.roles == changed.roles && p.tenant == changed.tenant => {
                            return Ok(());
                        }
                        Ok(_) if Instant::now() >= deadline => panic!(
                            "[{}] {C}: update_identity answered Ok, yet an existing credential \
                             still shows the old facts (allowed delay {:?})",
                            self.name, self.opts.revocation_delay
                        ),
                        Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                    }
                }
            }
        }
    }

    /// `list_credentials`: live credentials only, each by its `credential_id`, oldest first.
    /// Err: the backend keeps no list (reported as skipped).
    async fn list_credentials(&self, model: RevocationModel) -> Result<(), String> {
        const C: &str = "list_credentials";
        let who = self.run.identity("list");
        match self.backend.list_credentials(&who.subject).await {
            Err(e) if e.kind() == ErrorKind::Unsupported => {
                return Err(format!(
                    "{}: Unsupported (no per-credential state)",
                    self.name
                ));
            }
            Err(e) => panic!(
                "[{}] {C}: list_credentials of an unknown subject failed: {} ({e})",
                self.name,
                e.kind()
            ),
            Ok(list) => assert!(
                list.is_empty(),
                "[{}] {C}: an unknown subject must have an empty list, got {} entries",
                self.name,
                list.len()
            ),
        }
        let start = self.clock.now();
        let first = self.issue(C, &who).await;
        self.clock.set(start + 1);
        let second = self.issue(C, &who).await;
        let ids = [
            self.verify_ok(C, "the first credential", &first.token)
                .await
                .credential_id,
            self.verify_ok(C, "the second credential", &second.token)
                .await
                .credential_id,
        ];
        let list = self.list(C, &who.subject).await;
        let listed: Vec<&str> = list.iter().map(|c| c.credential_id.as_str()).collect();
        assert_eq!(
            listed,
            ids.iter().map(String::as_str).collect::<Vec<_>>(),
            "[{}] {C}: both live credentials, oldest first, by credential_id",
            self.name
        );
        for info in &list {
            assert!(
                !info.credential_id.is_empty()
                    && info.credential_id != first.token
                    && info.credential_id != second.token,
                "[{}] {C}: an entry must name the credential by its loggable handle, never the credential",
                self.name
            );
        }
        // A revoked credential leaves the list.
        if model == RevocationModel::DeleteRecord {
            if let Err(e) = self.backend.revoke(&first.token).await {
                panic!("[{}] {C}: revoke failed: {} ({e})", self.name, e.kind());
            }
            let list = self.list(C, &who.subject).await;
            assert!(
                list.iter().all(|c| c.credential_id != ids[0]),
                "[{}] {C}: a revoked credential is still listed",
                self.name
            );
        }
        // A credential past its lifetime leaves the list: verify would reject it.
        self.clock
            .set(start + 1 + self.opts.lifetime_secs + self.opts.leeway_secs);
        let after = self.list(C, &who.subject).await;
        self.clock.set(start);
        assert!(
            after.is_empty(),
            "[{}] {C}: {} credential(s) listed past their lifetime, which verify rejects",
            self.name,
            after.len()
        );
        Ok(())
    }

    async fn list(&self, check: &str, subject: &str) -> Vec<authbench_core::CredentialInfo> {
        match self.backend.list_credentials(subject).await {
            Ok(list) => list,
            Err(e) => panic!(
                "[{}] {check}: list_credentials failed: {} ({e})",
                self.name,
                e.kind()
            ),
        }
    }

    /// `fail_closed`: the contract's first clause, against a store that is really gone.
    async fn fail_closed(&self, d: &Description, store: &StoreControl) {
        const C: &str = "fail_closed";
        let who = self.run.identity("fail-closed");
        let cred = self.issue(C, &who).await;
        self.verify_ok(C, "a credential before the store stops", &cred.token)
            .await;
        (store.stop)();
        let timed = |what: &'static str, started: Instant| {
            let took = started.elapsed();
            assert!(
                took <= FAIL_CLOSED_WITHIN,
                "[{}] {C}: {what} took {took:?} with the store gone (at most {FAIL_CLOSED_WITHIN:?})",
                self.name
            );
        };
        let unavailable_or = |what: &str, result: Result<(), Error>, ok_allowed: bool| match result
        {
            Ok(()) if ok_allowed => {}
            Ok(()) => panic!(
                "[{}] {C}: {what} SUCCEEDED with the store gone; it needs the store",
                self.name
            ),
            Err(e) if e.class() == ErrorClass::Unavailable => {}
            Err(e) if e.kind() == ErrorKind::Unsupported => {}
            Err(e) => panic!(
                "[{}] {C}: {what} with the store gone must be Unavailable, got {} ({e})",
                self.name,
                e.kind()
            ),
        };
        let started = Instant::now();
        let verified = self.backend.verify(&cred.token).await.map(|_| ());
        timed("verify", started);
        // A verify that needs no store (a JWT whose strategy keeps nothing per request) may
        // go on accepting; one that costs a round trip must not.
        unavailable_or(
            "verify of a valid credential",
            verified,
            d.store_round_trips_per_verify == 0,
        );
        let started = Instant::now();
        let issued = self.backend.issue(&who).await.map(|_| ());
        timed("issue", started);
        unavailable_or("issue", issued, !d.stateful);
        let started = Instant::now();
        let revoked = self.backend.revoke(&cred.token).await;
        timed("revoke", started);
        unavailable_or("revoke", revoked, !d.stateful);
        (store.restart)();
        // Heals: a fresh credential works once the store is back (the old one may be gone
        // with the store's data, which is fine: it fails closed).
        let deadline = Instant::now() + HEAL_WITHIN;
        loop {
            let healed = match self.backend.issue(&who).await {
                Ok(c) => self.backend.verify(&c.token).await.is_ok(),
                Err(_) => false,
            };
            if healed {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "[{}] {C}: no fresh credential worked within {HEAL_WITHIN:?} of the store's return",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `published_keys`: a JWK Set with public keys only. Err: the backend publishes none.
    fn published_keys(&self) -> Result<(), String> {
        const C: &str = "published_keys";
        /// JWK members that carry private or secret key material (RFC 7518 §6.2.2, §6.3.2,
        /// §6.4.1; `d` also for OKP, RFC 8037).
        const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
        let Some(jwks) = self.backend.published_keys() else {
            return Err(format!("{}: publishes no keys", self.name));
        };
        let doc: serde_json::Value = serde_json::from_str(&jwks).unwrap_or_else(|e| {
            panic!("[{}] {C}: the published keys are not JSON: {e}", self.name)
        });
        let keys = doc
            .get("keys")
            .and_then(serde_json::Value::as_array)
            .unwrap_or_else(|| panic!("[{}] {C}: not a JWK Set (no \"keys\" array)", self.name));
        assert!(
            !keys.is_empty(),
            "[{}] {C}: a published JWK Set must hold a key",
            self.name
        );
        for key in keys {
            let kid = key.get("kid").and_then(serde_json::Value::as_str);
            assert!(
                kid.is_some_and(|k| !k.is_empty()),
                "[{}] {C}: every published key needs a kid",
                self.name
            );
            for member in PRIVATE_MEMBERS {
                assert!(
                    key.get(member).is_none(),
                    "[{}] {C}: key {kid:?} publishes the private member {member:?}",
                    self.name
                );
            }
        }
        Ok(())
    }
}

enum VerifyOutcome {
    Error(Error),
    Panicked,
    Cancelled,
}

/// Changes one character so that the change is visible after any decoding: base64url
/// characters move 32 places along the alphabet (top bit of the sextet flips), anything else
/// (a `.` separator, say) becomes `A`.
fn flip(c: u8) -> u8 {
    match BASE64URL.iter().position(|&b| b == c) {
        Some(i) => BASE64URL[(i + 32) % 64],
        None => b'A',
    }
}

/// Deterministic, varied bytes (printable ASCII, separators, whitespace): a stand-in for an
/// attacker's garbage that is the same on every run.
fn pseudo_garbage(len: usize) -> String {
    let mut state: u32 = 0x9E37_79B9;
    (0..len)
        .map(|_| {
            // xorshift32: cheap, reproducible, good enough to mix characters.
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            char::from(b' ' + (state % 95) as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flip_changes_every_base64url_character_and_stays_in_the_alphabet() {
        for &c in BASE64URL {
            let f = flip(c);
            assert_ne!(f, c);
            assert!(BASE64URL.contains(&f));
        }
        assert_eq!(flip(b'.'), b'A');
    }

    #[test]
    fn garbage_is_printable_and_long() {
        let g = pseudo_garbage(HUGE_INPUT_BYTES);
        assert_eq!(g.len(), HUGE_INPUT_BYTES);
        assert!(g.bytes().all(|b| (b' '..=b'~').contains(&b)));
    }
}
