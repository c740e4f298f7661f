//! `epoch`: a per-user epoch in Redis, cached in each verifier and kept fresh by pub/sub, so the
//! common verify makes **no** round trip.
//!
//! # How it works
//!
//! - `revoke_all(sub)` raises the user's epoch in Redis and publishes `"<epoch> <sub>"` on the
//!   channel `<prefix>:jwt:epoch`, atomically (one script, one round trip).
//! - `issue` reads the epoch **from Redis**, never from the cache (one script, one round
//!   trip), and signs it into the token. The cache may lag a raise made elsewhere; a token
//!   signed from a lagging cache would carry a lower epoch than Redis, and every verifier that
//!   has heard of the raise would reject it on arrival.
//! - Every backend instance runs a **subscriber task** on its own connection. Each message
//!   raises the cached epoch of that subject.
//! - `verify` looks the subject up in the local cache. A hit (an epoch, or a remembered "no
//!   epoch": negative caching) decides with no I/O. A miss asks Redis once (`GET`) and
//!   remembers the answer.
//!
//! # On a Redis Cluster
//!
//! The epoch key lives in the user's slot (like every key, see the parent module), and
//! `revoke_all` publishes from inside the raise script, on that slot's master. Classic
//! `PUBLISH` is broadcast over the cluster bus to every node, so the subscriber listens on any
//! one node: the store's seeds, in turn (`Store::subscribe`). If that node dies, the
//! subscription ends like a lost connection below, and the next attempt goes to the next
//! seed. A message published while no node carried it to us is covered by the flush on
//! resubscription.
//!
//! # When the cache must not be trusted
//!
//! The cache is only as good as the subscription: a message missed is a revocation missed.
//! So the cache is used only while the subscription is **live**. When the connection drops
//! (Redis stopped, network cut) or a health `PING` goes unanswered (Redis frozen), the
//! subscriber marks it down and flushes the cache; verify then asks Redis every time, and if
//! Redis cannot answer, the answer is `Unavailable` (fail closed). The subscriber reconnects by
//! itself (back-off 50 ms doubling to 1 s), **flushes the cache again once resubscribed** (a
//! revocation published while we were away was never delivered), and only then marks it live.
//!
//! # Races, and why the cache cannot go stale
//!
//! - A cached epoch is a value Redis held at some moment, so it is never above Redis's
//!   current one. A token issued after a raise carries at least Redis's epoch, so a lagging
//!   cache still accepts it: the lag can only let an *old* token through for the propagation
//!   window, never refuse a new one. (A value Redis has since forgotten is below the floor
//!   every later epoch starts from; see the parent module.)
//! - A verify that asked Redis "no epoch" may store that answer *after* a message raised the
//!   same subject's epoch. Entries are therefore merged by maximum (`Some(e)` beats "none" and
//!   smaller epochs; epochs only grow), so the late answer cannot undo the message.
//! - A verify that asked Redis before a disconnect must not fill the cache after it: each
//!   flush bumps a generation counter, and an answer is cached only if the generation is the
//!   one seen before the question.
//!
//! # What it costs
//!
//! One `RwLock` read and a hash lookup per verify; memory for up to
//! [`JwtConfig::epoch_cache_capacity`](crate::JwtConfig::epoch_cache_capacity) subjects (when
//! full, the cache is flushed and refilled: simple, and rare). The window: between
//! `revoke_all` returning and another instance rejecting lies one pub/sub delivery (measured
//! in the tests: well under a millisecond on loopback). Single tokens cannot be revoked
//! (`revoke` is `Unsupported`): an epoch has no way to name one token; use `denylist` for that.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use authbench_core::Error;
use authbench_store::{Store, StoreError};
use futures_util::StreamExt as _;
use tokio::sync::watch;

use super::{UserEpoch, on_store_failure, parse_epoch, revoked_by_epoch};

/// First pause before resubscribing after a lost subscription; doubled on each failure.
const RESUBSCRIBE_MIN_BACKOFF: Duration = Duration::from_millis(50);

/// Longest pause between resubscription attempts: a restarted Redis is picked up within about
/// a second.
const RESUBSCRIBE_MAX_BACKOFF: Duration = Duration::from_secs(1);

/// How often the subscriber pings Redis on its connection. A killed Redis closes the socket
/// and is noticed at once; a *frozen* one (SIGSTOP, a hung host) is noticed only by a ping that
/// goes unanswered within the response timeout. Until then no revocation can be published
/// either, so the cache is no staler than Redis itself.
const HEALTH_PING_INTERVAL: Duration = Duration::from_millis(500);

/// Counters of one backend's epoch cache, for tests and for `compare`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EpochStats {
    /// Whether the subscription is live right now (the cache is trusted).
    pub subscribed: bool,
    /// Successful (re)subscriptions since start: 1 means it never dropped.
    pub subscriptions: u64,
    /// Revocation messages received.
    pub messages: u64,
    /// Verifies that had to ask Redis (cache miss, or subscription down).
    pub redis_lookups: u64,
    /// Subjects currently cached (with an epoch or a remembered "none").
    pub cached_subjects: usize,
}

/// The cache and the subscription's state, shared by the backend and its subscriber task.
#[derive(Debug)]
struct Cache {
    /// subject → its epoch, or `None` for "Redis has no epoch for it" (negative caching).
    entries: RwLock<HashMap<String, Option<u64>>>,
    /// Whether the subscription is live; the cache is consulted only when it is.
    live: AtomicBool,
    /// Bumped by every flush; an answer from Redis is cached only within one generation.
    generation: AtomicU64,
    /// Most subjects kept before the cache is flushed.
    capacity: usize,
    /// Tells `connect` and [`Epoch::wait_until_subscribed`] when the subscription is live.
    live_tx: watch::Sender<bool>,
    subscriptions: AtomicU64,
    messages: AtomicU64,
    redis_lookups: AtomicU64,
}

impl Cache {
    fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    fn get(&self, subject: &str) -> Option<Option<u64>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries.get(subject).copied()
    }

    /// Merges `epoch` into the entry for `subject`, keeping the larger (epochs only grow, and
    /// any epoch beats "none").
    fn merge(&self, subject: &str, epoch: Option<u64>) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(subject) {
            entries.clear();
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        let slot = entries.entry(subject.to_owned()).or_insert(None);
        *slot = (*slot).max(epoch);
    }

    /// Forgets everything and starts a new generation.
    fn flush(&self) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        entries.clear();
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// The subscription is down: stop trusting the cache, then forget it.
    fn set_down(&self) {
        self.live.store(false, Ordering::Release);
        self.flush();
        self.live_tx.send_replace(false);
    }

    /// The subscription is (again) live: forget what may have been missed, then trust.
    fn set_live(&self) {
        self.flush();
        self.subscriptions.fetch_add(1, Ordering::Relaxed);
        self.live.store(true, Ordering::Release);
        self.live_tx.send_replace(true);
    }

    /// Applies one published `"<epoch> <subject>"`.
    fn apply(&self, payload: &str) {
        self.messages.fetch_add(1, Ordering::Relaxed);
        match payload
            .split_once(' ')
            .and_then(|(e, s)| Some((e.parse::<u64>().ok()?, s)))
        {
            Some((epoch, subject)) => self.merge(subject, Some(epoch)),
            None => {
                // Not ours or corrupt: we cannot tell whom it concerns, so trust nothing.
                tracing::warn!("unreadable epoch message; flushing the epoch cache");
                self.flush();
            }
        }
    }
}

/// The epoch strategy's Redis side: the store, the cache, and the subscriber task.
#[derive(Debug)]
pub(crate) struct Epoch {
    store: Store,
    user_epoch: UserEpoch,
    /// `<prefix>:jwt:epoch`: where `revoke_all` publishes.
    channel: String,
    cache: Arc<Cache>,
    /// The subscriber task; aborted when the backend is dropped.
    subscriber: tokio::task::JoinHandle<()>,
    fail_open: bool,
}

impl Drop for Epoch {
    fn drop(&mut self) {
        self.subscriber.abort();
    }
}

impl Epoch {
    /// Loads the script, starts the subscriber and waits (up to the store's deadline) for the
    /// first subscription.
    pub(crate) async fn new(
        store: Store,
        prefix: &str,
        token_ttl_secs: u64,
        leeway_secs: u64,
        capacity: usize,
        fail_open: bool,
    ) -> Result<Self, StoreError> {
        authbench_store::check_key_prefix(prefix)?;
        let user_epoch = UserEpoch::new(prefix, token_ttl_secs, leeway_secs);
        store.load_scripts(&user_epoch.scripts()).await?;
        let channel = format!("{prefix}:jwt:epoch");
        let (live_tx, mut live_rx) = watch::channel(false);
        let cache = Arc::new(Cache {
            entries: RwLock::new(HashMap::new()),
            live: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            capacity: capacity.max(1),
            live_tx,
            subscriptions: AtomicU64::new(0),
            messages: AtomicU64::new(0),
            redis_lookups: AtomicU64::new(0),
        });
        let subscriber = tokio::spawn(subscribe_forever(
            store.clone(),
            channel.clone(),
            Arc::clone(&cache),
        ));
        let epoch = Self {
            store,
            user_epoch,
            channel,
            cache,
            subscriber,
            fail_open,
        };
        let deadline = epoch.store.deadline();
        if tokio::time::timeout(deadline, live_rx.wait_for(|live| *live))
            .await
            .is_err()
        {
            return Err(StoreError::TimedOut {
                addr: epoch.store.addr().to_owned(),
                after: deadline,
            });
        }
        Ok(epoch)
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// Rejects a token of `subject` that carries `token_epoch` if the user's epoch is now
    /// higher: from the cache while the subscription is live, from Redis otherwise.
    pub(crate) async fn check(&self, subject: &str, token_epoch: u64) -> Result<(), Error> {
        let trusted = self.cache.is_live();
        let epoch = match trusted.then(|| self.cache.get(subject)).flatten() {
            Some(cached) => cached,
            None => {
                let generation = self.cache.generation.load(Ordering::Acquire);
                self.cache.redis_lookups.fetch_add(1, Ordering::Relaxed);
                let mut cmd = redis::cmd("GET");
                cmd.arg(self.user_epoch.key(subject));
                let stored = match self.store.query::<Option<String>>(&cmd).await {
                    Ok(stored) => stored,
                    Err(e) => return on_store_failure(e, self.fail_open, "epoch"),
                };
                let epoch = parse_epoch(stored.as_deref())?;
                self.remember(subject, epoch, trusted, generation);
                epoch
            }
        };
        match revoked_by_epoch(token_epoch, epoch) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Caches an answer from Redis, but only one given within one live generation (see the
    /// module docs): an answer from before a flush may predate a message we missed.
    fn remember(&self, subject: &str, epoch: Option<u64>, trusted: bool, generation: u64) {
        if trusted
            && self.cache.is_live()
            && self.cache.generation.load(Ordering::Acquire) == generation
        {
            self.cache.merge(subject, epoch);
        }
    }

    /// The epoch a token of `subject` issued now carries, read from Redis (one round trip; see
    /// the module docs for why never from the cache). The answer warms the cache.
    pub(crate) async fn epoch_for_issue(&self, subject: &str, now: u64) -> Result<u64, Error> {
        let trusted = self.cache.is_live();
        let generation = self.cache.generation.load(Ordering::Acquire);
        let epoch = self.user_epoch.read(&self.store, subject, now).await?;
        self.remember(subject, Some(epoch), trusted, generation);
        Ok(epoch)
    }

    /// Raises `subject`'s epoch and publishes it: one round trip.
    pub(crate) async fn revoke_all(&self, subject: &str, now: u64) -> Result<(), Error> {
        let epoch = self
            .user_epoch
            .raise(&self.store, subject, now, Some(&self.channel))
            .await?;
        // Our own subscriber will hear the message too; merging now saves this instance the
        // delivery delay.
        if self.cache.is_live() {
            self.cache.merge(subject, Some(epoch));
        }
        Ok(())
    }

    pub(crate) fn stats(&self) -> EpochStats {
        let cached_subjects = self
            .cache
            .entries
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .len();
        EpochStats {
            subscribed: self.cache.is_live(),
            subscriptions: self.cache.subscriptions.load(Ordering::Relaxed),
            messages: self.cache.messages.load(Ordering::Relaxed),
            redis_lookups: self.cache.redis_lookups.load(Ordering::Relaxed),
            cached_subjects,
        }
    }

    /// Waits until the subscription is live, up to `timeout`; whether it is.
    pub(crate) async fn wait_until_subscribed(&self, timeout: Duration) -> bool {
        let mut rx = self.cache.live_tx.subscribe();
        tokio::time::timeout(timeout, rx.wait_for(|live| *live))
            .await
            .is_ok()
    }
}

/// The subscriber task: subscribe, apply messages until the connection is lost, mark the cache
/// down, back off, repeat. Runs until the backend drops it.
async fn subscribe_forever(store: Store, channel: String, cache: Arc<Cache>) {
    let mut backoff = RESUBSCRIBE_MIN_BACKOFF;
    loop {
        let outcome = subscribe_once(&store, &channel, &cache).await;
        let was_live = cache.is_live();
        cache.set_down();
        match outcome {
            Err(e) if was_live => {
                tracing::warn!(error = %e, "epoch subscription lost; verifies go to Redis");
            }
            Err(e) => tracing::debug!(error = %e, "epoch resubscription failed"),
            Ok(()) => {}
        }
        if was_live {
            backoff = RESUBSCRIBE_MIN_BACKOFF;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(RESUBSCRIBE_MAX_BACKOFF);
    }
}

/// One subscription's life. Returns when it ends (never `Ok` while it is healthy).
async fn subscribe_once(store: &Store, channel: &str, cache: &Cache) -> Result<(), StoreError> {
    let timed_out = || StoreError::TimedOut {
        addr: store.addr().to_owned(),
        after: store.response_timeout(),
    };
    let (mut sink, mut stream) = store.subscribe().await?.split();
    tokio::time::timeout(store.response_timeout(), sink.subscribe(channel))
        .await
        .map_err(|_| timed_out())?
        .map_err(|e| StoreError::from_redis(e, store.addr()))?;
    // The shared connection may still hold the socket of the Redis that went away; one PING
    // makes the manager replace it now rather than on the first verify after the outage. Its
    // answer does not matter: a failure here only means that verify will retry the connection.
    let _ = store.query::<redis::Value>(&redis::cmd("PING")).await;
    // Subscribed (Redis confirmed): from here on no message can be missed, so flush what might
    // have been, and trust the cache again.
    cache.set_live();
    tracing::debug!(channel, "epoch subscription live");
    let mut health = tokio::time::interval(HEALTH_PING_INTERVAL);
    health.tick().await; // the first tick is immediate
    loop {
        tokio::select! {
            message = stream.next() => match message {
                Some(message) => match message.get_payload::<String>() {
                    Ok(payload) => cache.apply(&payload),
                    Err(_) => cache.apply(""),
                },
                None => {
                    return Err(StoreError::Unavailable {
                        addr: store.addr().to_owned(),
                        source: redis::RedisError::from(std::io::Error::from(
                            std::io::ErrorKind::ConnectionReset,
                        )),
                    });
                }
            },
            _ = health.tick() => {
                tokio::time::timeout(store.response_timeout(), sink.ping::<redis::Value>())
                    .await
                    .map_err(|_| timed_out())?
                    .map_err(|e| StoreError::from_redis(e, store.addr()))?;
            }
        }
    }
}
