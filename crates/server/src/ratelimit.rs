//! Login abuse: failed-login budgets per client and per account, and a bounded pool for argon2.
//!
//! `/login` is the one route an anonymous client can make expensive: every attempt costs an
//! argon2id run (tens of milliseconds of a core and 19 MiB at OWASP cost). Two independent
//! defences live here:
//!
//! 1. **Failure budgets** ([`LoginLimiter::reserve`]): a token bucket per client IP and one per
//!    account. A login **takes** one token from each bucket *before* argon2 runs, atomically
//!    (check and spend under the bucket's lock), and is refused with 429 and `Retry-After`
//!    when either is empty. Taking the token first is what makes the budget hold under
//!    concurrency: if it were spent only after a failed hash, N guesses sent in parallel would
//!    all pass the check while the first were still hashing (N argon2 runs for a budget of B).
//!    Now at most B attempts can be hashing or spent per bucket, whatever the concurrency.
//!
//!    A login that turns out right gives its tokens back ([`Reservation::refund`]), and so does
//!    one shed by the hashing pool (no argon2 ran): so only **failed** guesses spend budget. A
//!    user who types the right password is not throttled by their own successes, and a load
//!    test that logs thousands of seeded users in from one address works. The refund cannot be
//!    abused to multiply guesses: it follows only a correct password, which a guesser does not
//!    have, and the token is held for the whole argon2 run. The price is that more than B
//!    logins *in flight at once* for one account (or one address) are refused even when the
//!    password is right; no human has ten logins of one account in flight, and behind a
//!    flood of guesses the account is throttled anyway. Password guessing (many failures from
//!    one client) and credential stuffing against one account (many failures from many
//!    clients) stop after the burst. The per-account bucket is a soft throttle, not a
//!    lockout: it refills, so an attacker can slow a victim's logins down but not lock them
//!    out for good (the usual trade-off, OWASP Authentication Cheat Sheet).
//! 2. **A bounded hashing pool** ([`LoginLimiter::hash`]): argon2 runs on tokio's blocking
//!    pool, which grows to 512 threads. Without a bound, a flood of logins would start hundreds
//!    of argon2 runs at once (gigabytes of memory, every core busy) and starve authenticated
//!    traffic, which needs only microseconds of CPU. A semaphore admits at most
//!    [`LoginLimits::hash_workers`] runs at a time; at most [`LoginLimits::max_waiting`] more
//!    wait for a permit, and anything beyond that is shed at once with 503 and `Retry-After`.
//!
//! Memory is bounded too: each bucket map holds at most [`LoginLimits::max_keys`] entries (a
//! 64-bit keyed hash and two numbers each, so tens of bytes). When a map is full, buckets that
//! have refilled completely are dropped (they hold no information), and a refund that fills a
//! bucket again drops it at once; if the map is still full, every new key shares one overflow
//! bucket, so an attacker rotating addresses or names gains one shared budget rather than a
//! fresh one each time, and the map does not grow.
//!
//! The client is the TCP peer address (axum's `ConnectInfo`, which
//! [`serve`](crate::serve) provides). An IPv6 client is keyed on its **/64** ([`ip_key`]): one
//! customer is routinely given a whole /64 (RFC 6177), so keying on the full address would
//! hand an attacker 2^64 fresh budgets; an IPv4-mapped IPv6 address counts as the IPv4 address
//! it maps. Behind a reverse proxy every client has the proxy's address, and the per-IP budget
//! must then key on the address the (trusted) proxy forwards: not done here, because this demo
//! serves clients directly. Without a peer address (a `Router` driven in-process by tests)
//! only the per-account budget applies.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// How fast a budget refills and how much it holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Failures allowed in a burst (the bucket's capacity).
    pub burst: u32,
    /// Time for one spent failure to come back.
    pub refill_every: Duration,
}

/// The login limits. Every field's doc says its default.
#[derive(Debug, Clone, PartialEq)]
pub struct LoginLimits {
    /// Failed logins per client IP. Generous, because offices and mobile carriers put many
    /// users behind one address. Defaults to a burst of 30, then one per second.
    /// `None` disables the per-IP budget.
    pub per_ip: Option<Rate>,
    /// Failed logins per account (username, known or not). Defaults to a burst of 10, then one
    /// every 10 s (six a minute). `None` disables the per-account budget.
    pub per_account: Option<Rate>,
    /// Most keys each bucket map tracks (see the module docs). Defaults to 100,000.
    pub max_keys: usize,
    /// argon2 runs at a time. Defaults to half the CPUs (at least one), so hashing can never
    /// take more than half the machine from authenticated traffic.
    pub hash_workers: usize,
    /// Logins that may wait for a hashing slot; more are shed with 503. Defaults to 64.
    pub max_waiting: usize,
}

impl Default for LoginLimits {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            per_ip: Some(Rate {
                burst: 30,
                refill_every: Duration::from_secs(1),
            }),
            per_account: Some(Rate {
                burst: 10,
                refill_every: Duration::from_secs(10),
            }),
            max_keys: 100_000,
            hash_workers: (cpus / 2).max(1),
            max_waiting: 64,
        }
    }
}

/// Why a login was not attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The client IP has no failure budget left: 429, retry after this long.
    Ip(Duration),
    /// The account has no failure budget left: 429, retry after this long.
    Account(Duration),
    /// Every hashing slot is busy and the waiting line is full: 503.
    Busy,
}

impl Refusal {
    /// A stable name for logs and the JSON body: `too_many_attempts` (either budget) or
    /// `login_busy`. Which budget ran out is not told: it would say whether an account is
    /// under attack.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Ip(_) | Refusal::Account(_) => "too_many_attempts",
            Refusal::Busy => "login_busy",
        }
    }
}

impl IntoResponse for Refusal {
    /// 429 with `Retry-After` (whole seconds, rounded up, at least 1) for a spent budget; 503
    /// with `Retry-After: 1` when the hashing pool sheds. Body `{"error":"<as_str>"}`.
    fn into_response(self) -> Response {
        let (status, wait) = match self {
            Refusal::Ip(wait) | Refusal::Account(wait) => (StatusCode::TOO_MANY_REQUESTS, wait),
            Refusal::Busy => (StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(1)),
        };
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        (
            status,
            [
                (header::RETRY_AFTER, HeaderValue::from(secs)),
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
            ],
            format!("{{\"error\":\"{}\"}}", self.as_str()),
        )
            .into_response()
    }
}

/// The failure budgets and the hashing pool of one app (see the module docs).
#[derive(Debug)]
pub struct LoginLimiter {
    limits: LoginLimits,
    per_ip: Buckets,
    per_account: Buckets,
    /// Keyed hash for bucket keys: fixed-size keys whatever the username's length, and an
    /// attacker cannot aim names at one hash-map slot without the random key.
    hasher: RandomState,
    /// Permits to run argon2.
    pool: Arc<Semaphore>,
    /// Logins waiting for a permit now.
    waiting: AtomicUsize,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new(LoginLimits::default())
    }
}

impl LoginLimiter {
    /// A limiter with `limits`.
    pub fn new(limits: LoginLimits) -> Self {
        Self {
            per_ip: Buckets::new(limits.per_ip, limits.max_keys),
            per_account: Buckets::new(limits.per_account, limits.max_keys),
            hasher: RandomState::new(),
            pool: Arc::new(Semaphore::new(limits.hash_workers.max(1))),
            waiting: AtomicUsize::new(0),
            limits,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> &LoginLimits {
        &self.limits
    }

    /// Takes one token from the budget of `ip` (its /64 for IPv6, see [`ip_key`]) and one
    /// from the budget of `username`, before any hashing: `Err` (and nothing taken) when
    /// either is empty. Keep the [`Reservation`] while argon2 runs; dropping it leaves the
    /// tokens spent (a failed guess, or a request cancelled mid-hash: argon2 still ran), and
    /// [`Reservation::refund`] gives them back (a right password, a login shed before
    /// hashing).
    pub fn reserve(&self, ip: Option<IpAddr>, username: &str) -> Result<Reservation<'_>, Refusal> {
        self.reserve_at(Instant::now(), ip, username)
    }

    /// [`reserve`](Self::reserve) at a given instant (tests).
    pub fn reserve_at(
        &self,
        now: Instant,
        ip: Option<IpAddr>,
        username: &str,
    ) -> Result<Reservation<'_>, Refusal> {
        let ip_taken = match ip {
            Some(ip) => {
                let key = self.hasher.hash_one(ip_key(ip));
                Some((key, self.per_ip.take(now, key).map_err(Refusal::Ip)?))
            }
            None => None,
        };
        let account_key = self.hasher.hash_one(username);
        let account_taken = match self.per_account.take(now, account_key) {
            Ok(slot) => slot,
            Err(wait) => {
                // All or nothing: the IP's token goes back, this attempt never ran.
                if let Some((key, slot)) = ip_taken {
                    self.per_ip.give_back(now, key, slot);
                }
                return Err(Refusal::Account(wait));
            }
        };
        Ok(Reservation {
            limiter: self,
            ip: ip_taken,
            account: (account_key, account_taken),
        })
    }

    /// Keys tracked now, per IP and per account (for tests and the soak: must stay bounded).
    pub fn tracked_keys(&self) -> (usize, usize) {
        (self.per_ip.len(), self.per_account.len())
    }

    /// Runs `work` (an argon2 check) on the blocking pool, at most
    /// [`LoginLimits::hash_workers`] at a time. `Err(Refusal::Busy)` when the waiting line is
    /// full; `Ok(None)` if the blocking task panicked.
    pub async fn hash<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<Option<T>, Refusal> {
        let permit = match Arc::clone(&self.pool).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let _waiting =
                    Waiting::enter(&self.waiting, self.limits.max_waiting).ok_or(Refusal::Busy)?;
                Arc::clone(&self.pool)
                    .acquire_owned()
                    .await
                    .map_err(|_| Refusal::Busy)?
            }
        };
        let joined = tokio::task::spawn_blocking(move || {
            let out = work();
            drop(permit);
            out
        })
        .await;
        Ok(joined.ok())
    }
}

/// The tokens a login took from its budgets ([`LoginLimiter::reserve`]). Dropped, they stay
/// spent; [`refund`](Self::refund) gives them back.
#[derive(Debug)]
#[must_use = "dropping a reservation spends it; refund it when the login succeeded"]
pub struct Reservation<'a> {
    limiter: &'a LoginLimiter,
    ip: Option<(u64, Slot)>,
    account: (u64, Slot),
}

impl Reservation<'_> {
    /// Gives both tokens back: for a login whose password was right, or that was shed before
    /// argon2 ran (see the module docs for why that cannot multiply guesses).
    pub fn refund(self) {
        self.refund_at(Instant::now());
    }

    /// [`refund`](Self::refund) at a given instant (tests).
    pub fn refund_at(self, now: Instant) {
        if let Some((key, slot)) = self.ip {
            self.limiter.per_ip.give_back(now, key, slot);
        }
        let (key, slot) = self.account;
        self.limiter.per_account.give_back(now, key, slot);
    }
}

/// Where a taken token came from, so a refund goes back to the same bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// The budget is disabled: nothing was taken.
    Unlimited,
    /// The key's own bucket in the map.
    Own,
    /// The shared overflow bucket (the map was full).
    Overflow,
}

/// A place in the waiting line, given back on drop (also when the request is cancelled).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(count: &'a AtomicUsize, max: usize) -> Option<Self> {
        count
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Self(count))
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One token bucket: tokens left as of `at`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets by key hash, bounded (see the module docs).
#[derive(Debug)]
struct Buckets {
    rate: Option<Rate>,
    max_keys: usize,
    inner: Mutex<BucketMap>,
}

#[derive(Debug)]
struct BucketMap {
    map: HashMap<u64, Bucket>,
    /// Shared by every key that arrives while the map is full.
    overflow: Option<Bucket>,
    /// Last time the full map was swept for refilled buckets: at most one O(n) sweep a
    /// second, so a full map under attack does not cost a sweep per request.
    last_sweep: Option<Instant>,
}

/// Pause between two sweeps of a full map.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

impl Buckets {
    fn new(rate: Option<Rate>, max_keys: usize) -> Self {
        Self {
            rate,
            max_keys: max_keys.max(1),
            inner: Mutex::new(BucketMap {
                map: HashMap::new(),
                overflow: None,
                last_sweep: None,
            }),
        }
    }

    fn len(&self) -> usize {
        self.lock().map.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BucketMap> {
        // Every critical section is a few arithmetic updates: a panic cannot leave a bucket
        // half written, so a poisoned lock is taken over.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes one token from the key's bucket, or `Err(wait)` (and nothing taken) when it
    /// has less than one. Check and spend happen under one lock: two concurrent logins can
    /// never both take the last token.
    fn take(&self, now: Instant, key: u64) -> Result<Slot, Duration> {
        let Some(rate) = self.rate else {
            return Ok(Slot::Unlimited);
        };
        let mut inner = self.lock();
        let full = Bucket {
            tokens: f64::from(rate.burst),
            at: now,
        };
        if !inner.map.contains_key(&key) && inner.map.len() >= self.max_keys {
            let sweep_due = inner
                .last_sweep
                .is_none_or(|t| now.saturating_duration_since(t) >= SWEEP_INTERVAL);
            if sweep_due {
                inner.last_sweep = Some(now);
                inner
                    .map
                    .retain(|_, b| refilled(*b, now, rate) < f64::from(rate.burst));
            }
        }
        let (bucket, slot) = if inner.map.contains_key(&key) || inner.map.len() < self.max_keys {
            (inner.map.entry(key).or_insert(full), Slot::Own)
        } else {
            (inner.overflow.get_or_insert(full), Slot::Overflow)
        };
        let tokens = refilled(*bucket, now, rate);
        if tokens < 1.0 {
            let secs = (1.0 - tokens) * rate.refill_every.as_secs_f64();
            return Err(Duration::from_secs_f64(secs));
        }
        *bucket = Bucket {
            tokens: tokens - 1.0,
            at: now,
        };
        Ok(slot)
    }

    /// `Err(wait)` when the key's bucket has less than one token; takes nothing.
    fn peek(&self, now: Instant, key: u64) -> Result<(), Duration> {
        let Some(rate) = self.rate else {
            return Ok(());
        };
        let inner = self.lock();
        let Some(bucket) = inner.map.get(&key).or(inner.overflow.as_ref()) else {
            return Ok(());
        };
        let tokens = refilled(*bucket, now, rate);
        if tokens < 1.0 {
            let secs = (1.0 - tokens) * rate.refill_every.as_secs_f64();
            return Err(Duration::from_secs_f64(secs));
        }
        Ok(())
    }

    /// Puts back a token [`take`](Self::take) took (up to the burst). A bucket that is full
    /// again holds no information and leaves the map, so successful logins do not fill it.
    fn give_back(&self, now: Instant, key: u64, slot: Slot) {
        let Some(rate) = self.rate else {
            return;
        };
        let burst = f64::from(rate.burst);
        let mut inner = self.lock();
        let bucket = match slot {
            Slot::Unlimited => return,
            Slot::Own => inner.map.get_mut(&key),
            Slot::Overflow => inner.overflow.as_mut(),
        };
        let Some(bucket) = bucket else {
            // Swept meanwhile: it had refilled, nothing to give back.
            return;
        };
        let tokens = (refilled(*bucket, now, rate) + 1.0).min(burst);
        *bucket = Bucket { tokens, at: now };
        if slot == Slot::Own && tokens >= burst {
            inner.map.remove(&key);
        }
    }
}

/// Default budget of rejected credentials per client (see [`FailureLimiter`]): a burst of
/// 100, then one every 50 ms (20 a second). An honest client fails a handful of times (an
/// expired cookie, then a login); an attacker spraying forged session IDs gets 20 store
/// lookups a second per address (per /64 for IPv6) instead of as many as it can send.
pub const DEFAULT_VERIFY_FAILURE_RATE: Rate = Rate {
    burst: 100,
    refill_every: Duration::from_millis(50),
};

/// Rejected credentials per client, counted before the backend is asked.
///
/// A well-formed but forged session ID (`XY.` + 43 random characters, any of the 4096 slot
/// tags: with enough users every tag belongs to someone, so the tag alone proves nothing
/// without a lookup) costs one Redis round trip on the node that owns its slot, and no
/// credential is needed to send one. So every request that presents a credential first asks
/// this limiter whether its client still has budget (no budget: 429 with `Retry-After`, and
/// the backend is never called); a credential the backend *rejects* spends one token. A
/// valid credential spends nothing, and while no client has failed recently the check is one
/// atomic load (no lock on the hot path).
///
/// The check and the spend are not one step (a success must not pay a lock), so `c`
/// concurrent failing requests from one client may overshoot the burst by up to `c`: bounded
/// by its connections, unlike the unbounded lookups without the limiter.
#[derive(Debug)]
pub struct FailureLimiter {
    buckets: Buckets,
    hasher: RandomState,
    /// Milliseconds since `epoch` of the last failure recorded (0: none yet).
    last_failure_ms: std::sync::atomic::AtomicU64,
    epoch: Instant,
    /// How long an empty bucket takes to fill: after that long without a failure, every bucket
    /// is full and [`admit`](Self::admit) need not look.
    refill_all: Duration,
}

impl Default for FailureLimiter {
    fn default() -> Self {
        Self::new(Some(DEFAULT_VERIFY_FAILURE_RATE))
    }
}

impl FailureLimiter {
    /// A limiter with `rate` per client (`None`: unlimited), tracking at most 100,000 clients.
    pub fn new(rate: Option<Rate>) -> Self {
        let refill_all = rate.map_or(Duration::ZERO, |r| {
            r.refill_every.saturating_mul(r.burst.saturating_add(1))
        });
        Self {
            buckets: Buckets::new(rate, 100_000),
            hasher: RandomState::new(),
            last_failure_ms: std::sync::atomic::AtomicU64::new(0),
            epoch: Instant::now(),
            refill_all,
        }
    }

    fn ms_since_epoch(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.epoch).as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    /// Whether `ip` may present a credential now: `Err(wait)` when its failures have used up
    /// the budget. Takes nothing. Clients without a known address are not limited.
    pub fn admit(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        let Some(ip) = ip else { return Ok(()) };
        let last = self.last_failure_ms.load(Ordering::Relaxed);
        if last == 0 || self.buckets.rate.is_none() {
            return Ok(());
        }
        let now = Instant::now();
        let since = Duration::from_millis(self.ms_since_epoch(now).saturating_sub(last));
        if since > self.refill_all {
            return Ok(());
        }
        self.buckets.peek(now, self.hasher.hash_one(ip_key(ip)))
    }

    /// Records one rejected credential from `ip`.
    pub fn failed(&self, ip: Option<IpAddr>) {
        let Some(ip) = ip else { return };
        if self.buckets.rate.is_none() {
            return;
        }
        let now = Instant::now();
        self.last_failure_ms
            .store(self.ms_since_epoch(now), Ordering::Relaxed);
        let _ = self.buckets.take(now, self.hasher.hash_one(ip_key(ip)));
    }
}

/// The key of `ip`'s budget: an IPv4 address as is; an IPv6 address cut to its /64 (the
/// smallest block one customer is given, RFC 6177: keying on the full address would give an
/// attacker with one /64 2^64 fresh budgets); an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`,
/// what a dual-stack socket reports for an IPv4 client) as the IPv4 address it maps.
pub fn ip_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(prefix))
            }
        },
    }
}

/// Tokens in `bucket` at `now`: what it had plus what came back since, up to the burst.
fn refilled(bucket: Bucket, now: Instant, rate: Rate) -> f64 {
    let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
    let per_sec = 1.0 / rate.refill_every.as_secs_f64().max(1e-9);
    (bucket.tokens + elapsed * per_sec).min(f64::from(rate.burst))
}

/// The client's IP address, when the server knows it (`ConnectInfo`), for the per-IP budget.
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(ip_burst: u32, account_burst: u32, max_keys: usize) -> LoginLimits {
        LoginLimits {
            per_ip: Some(Rate {
                burst: ip_burst,
                refill_every: Duration::from_secs(1),
            }),
            per_account: Some(Rate {
                burst: account_burst,
                refill_every: Duration::from_secs(10),
            }),
            max_keys,
            hash_workers: 1,
            max_waiting: 1,
        }
    }

    const IP: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 7)));

    /// A failed attempt: reserved, then dropped (spent).
    fn fail(l: &LoginLimiter, now: Instant, ip: Option<IpAddr>, user: &str) {
        drop(l.reserve_at(now, ip, user).expect("budget left"));
    }

    #[test]
    fn failures_spend_the_ip_budget_and_it_refills() {
        let l = LoginLimiter::new(limits(3, 100, 1000));
        let t0 = Instant::now();
        for i in 0..3 {
            fail(&l, t0, IP, &format!("u{i}"));
        }
        match l.reserve_at(t0, IP, "someone") {
            Err(Refusal::Ip(wait)) => assert!(wait > Duration::from_millis(900), "{wait:?}"),
            other => panic!("expected an IP refusal, got {other:?}"),
        }
        // Other clients are unaffected; after one refill period one more try is allowed.
        let other = Some(IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 1)));
        assert!(l.reserve_at(t0, other, "someone").is_ok());
        assert!(
            l.reserve_at(t0 + Duration::from_secs(1), IP, "someone")
                .is_ok()
        );
    }

    #[test]
    fn failures_spend_the_account_budget_from_any_ip() {
        let l = LoginLimiter::new(limits(100, 2, 1000));
        let t0 = Instant::now();
        for i in 0..2u8 {
            let ip = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, i)));
            fail(&l, t0, ip, "alice");
        }
        let ip9 = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 9)));
        assert!(matches!(
            l.reserve_at(t0, ip9, "alice"),
            Err(Refusal::Account(_))
        ));
        assert!(matches!(
            l.reserve_at(t0, None, "alice"),
            Err(Refusal::Account(_))
        ));
        assert!(l.reserve_at(t0, None, "bob").is_ok());
        assert!(
            l.reserve_at(t0 + Duration::from_secs(10), None, "alice")
                .is_ok()
        );
    }

    /// Reservations are taken, not merely checked: with a burst of 2, two attempts in flight
    /// (neither finished) leave nothing for a third; refunds give the tokens back.
    #[test]
    fn reservations_in_flight_count_and_refunds_give_them_back() {
        let l = LoginLimiter::new(limits(100, 2, 1000));
        let t0 = Instant::now();
        let first = l.reserve_at(t0, IP, "alice").expect("first");
        let second = l.reserve_at(t0, IP, "alice").expect("second");
        assert!(matches!(
            l.reserve_at(t0, IP, "alice"),
            Err(Refusal::Account(_))
        ));
        first.refund_at(t0);
        second.refund_at(t0);
        // Both back, and the refilled bucket left the map.
        assert_eq!(l.tracked_keys(), (0, 0));
        assert!(l.reserve_at(t0, IP, "alice").is_ok());
    }

    /// A refusal by the account budget takes nothing from the IP budget.
    #[test]
    fn a_refused_login_takes_nothing() {
        let l = LoginLimiter::new(limits(2, 1, 1000));
        let t0 = Instant::now();
        fail(&l, t0, IP, "alice");
        for _ in 0..10 {
            assert!(matches!(
                l.reserve_at(t0, IP, "alice"),
                Err(Refusal::Account(_))
            ));
        }
        // One IP token is left for another account.
        assert!(l.reserve_at(t0, IP, "bob").is_ok());
    }

    #[test]
    fn ipv6_clients_share_their_64_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:ffff:ffff:ffff:ffff".parse().expect("ip");
        let other: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(ip_key(a), ip_key(b));
        assert_eq!(ip_key(a), "2001:db8:1:2::".parse::<IpAddr>().expect("ip"));
        assert_ne!(ip_key(a), ip_key(other));
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().expect("ip");
        assert_eq!(ip_key(mapped), IP.expect("ip"));
        assert_eq!(ip_key(IP.expect("ip")), IP.expect("ip"));
    }

    #[test]
    fn memory_is_bounded_and_new_keys_share_an_overflow_budget() {
        let l = LoginLimiter::new(limits(2, 2, 10));
        let t0 = Instant::now();
        for i in 0..10_000 {
            let _ = l.reserve_at(t0, None, &format!("name{i}"));
        }
        assert_eq!(l.tracked_keys().1, 10);
        // The overflow bucket was spent by the names past the cap: a fresh name is refused.
        assert!(matches!(
            l.reserve_at(t0, None, "fresh name"),
            Err(Refusal::Account(_))
        ));
        // Much later every bucket has refilled: a sweep frees the map for new keys.
        let later = t0 + Duration::from_secs(60);
        fail(&l, later, None, "fresh name");
        assert_eq!(l.tracked_keys().1, 1);
    }

    #[test]
    fn disabled_budgets_never_refuse() {
        let l = LoginLimiter::new(LoginLimits {
            per_ip: None,
            per_account: None,
            ..limits(1, 1, 10)
        });
        let t0 = Instant::now();
        for _ in 0..100 {
            fail(&l, t0, IP, "alice");
        }
        assert!(l.reserve_at(t0, IP, "alice").is_ok());
        assert_eq!(l.tracked_keys(), (0, 0));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_hash_pool_runs_one_at_a_time_and_sheds_past_the_line() {
        let l = Arc::new(LoginLimiter::new(limits(1, 1, 10)));
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate));
        let running = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let (l, gate, running) = (Arc::clone(&l), Arc::clone(&gate), Arc::clone(&running));
            tasks.push(tokio::spawn(async move {
                l.hash(move || {
                    running.fetch_add(1, Ordering::SeqCst);
                    let _ = gate.lock().map(|g| g.recv());
                })
                .await
            }));
        }
        // One runs, one waits: wait until that is the state.
        let deadline = Instant::now() + Duration::from_secs(5);
        while l.waiting.load(Ordering::SeqCst) < 1 || running.load(Ordering::SeqCst) < 1 {
            assert!(Instant::now() < deadline, "pool never filled");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(running.load(Ordering::SeqCst), 1, "one argon2 at a time");
        // A third finds the line full.
        assert_eq!(l.hash(|| ()).await, Err(Refusal::Busy));
        release.send(()).expect("release first");
        release.send(()).expect("release second");
        for t in tasks {
            assert_eq!(t.await.expect("task"), Ok(Some(())));
        }
        assert_eq!(running.load(Ordering::SeqCst), 2);
        assert_eq!(l.waiting.load(Ordering::SeqCst), 0);
    }
}
