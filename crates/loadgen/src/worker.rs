//! One worker per connection: connect, send, read, record, repeat, reconnect on failure.
//!
//! A worker is a single tokio task that owns one TCP connection and drives *both* halves of
//! hyper's low-level client: the `SendRequest` handle and the `Connection` future that does the
//! I/O. Polling them together in one `select!` (instead of spawning the connection) saves a
//! cross-task wake-up per request, and it is what "one task per connection" means here.
//!
//! Everything a worker measures goes into its own [`Stats`] (its own HDR histogram, its own
//! counters): nothing is shared or locked on the hot path. [`Stats::merge`] adds them up once
//! the run is over.

use std::{
    collections::BTreeMap,
    io,
    net::SocketAddr,
    pin::pin,
    sync::Arc,
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use http_body_util::BodyExt;
use hyper::{StatusCode, client::conn::http1};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::{request::Prepared, schedule::Schedule};

/// Latency histogram bounds: 1 µs to 60 s, 3 significant digits (0.1 % relative error).
/// Latencies above 60 s are clamped to 60 s (and a 60 s latency is a failed run anyway).
pub const HISTOGRAM_HIGHEST_US: u64 = 60_000_000;
/// Significant decimal digits kept by the latency histogram.
pub const HISTOGRAM_SIGFIG: u8 = 3;
/// An open-loop request counts as *late* when it leaves more than this after its intended
/// instant: the generator (all connections busy, or the machine overloaded) could not keep the
/// schedule. 1 ms is ten times the pacer's normal wake-up slack, and still small next to the
/// stalls that matter. Late requests are still measured from their intended instant.
pub const LATE_THRESHOLD: Duration = Duration::from_millis(1);
/// Pause after a failed connect before trying again, so a dead server costs a few hundred
/// attempts per second per connection instead of a busy loop (and the count of connect errors
/// stays readable).
pub const RECONNECT_BACKOFF: Duration = Duration::from_millis(10);

/// What every worker reads: the prepared request and the clock of the run.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) prepared: Prepared,
    pub(crate) timeout: Duration,
    pub(crate) connections: usize,
    /// Requests that *leave* (closed loop) or are *intended* (open loop) before this instant are
    /// warm-up: sent, not recorded.
    pub(crate) measure_start: Instant,
    /// No request leaves (closed loop) or is intended (open loop) at or after this instant.
    pub(crate) end: Instant,
    /// `Some` for an open loop.
    pub(crate) schedule: Option<Arc<Schedule>>,
}

/// A request about to leave: when it was meant to, and whether it counts.
#[derive(Debug, Clone, Copy)]
struct Intent {
    intended: Instant,
    measured: bool,
}

/// What one worker saw. Field meanings match [`Report`](crate::Report).
#[derive(Debug)]
pub(crate) struct Stats {
    pub(crate) latency: Histogram<u64>,
    /// `sent − intended`, open loop only.
    pub(crate) lag: Option<Histogram<u64>>,
    pub(crate) requests: u64,
    pub(crate) ok: u64,
    pub(crate) status: BTreeMap<u16, u64>,
    pub(crate) connect: u64,
    pub(crate) timeout: u64,
    pub(crate) io: u64,
    pub(crate) sample: Option<String>,
    pub(crate) reconnects: u64,
    pub(crate) late: u64,
    /// Open-loop requests claimed but never sent (their connection could not be restored
    /// before the end).
    pub(crate) dropped: u64,
}

fn new_histogram(sigfig: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1, HISTOGRAM_HIGHEST_US, sigfig)
        .unwrap_or_else(|e| unreachable!("constant histogram bounds are valid: {e}"))
}

impl Stats {
    pub(crate) fn new(open_loop: bool) -> Self {
        Self {
            latency: new_histogram(HISTOGRAM_SIGFIG),
            // Two digits are plenty for the lag summary and keep the histogram small.
            lag: open_loop.then(|| new_histogram(2)),
            requests: 0,
            ok: 0,
            status: BTreeMap::new(),
            connect: 0,
            timeout: 0,
            io: 0,
            sample: None,
            reconnects: 0,
            late: 0,
            dropped: 0,
        }
    }

    /// Adds `other` into `self`.
    pub(crate) fn merge(&mut self, other: Self) {
        // Same bounds on both sides, so `add` cannot fail; saturate rather than panic anyway.
        let _ = self.latency.add(&other.latency);
        if let (Some(a), Some(b)) = (self.lag.as_mut(), other.lag.as_ref()) {
            let _ = a.add(b);
        }
        self.requests += other.requests;
        self.ok += other.ok;
        for (code, n) in other.status {
            *self.status.entry(code).or_default() += n;
        }
        self.connect += other.connect;
        self.timeout += other.timeout;
        self.io += other.io;
        self.sample = self.sample.take().or(other.sample);
        self.reconnects += other.reconnects;
        self.late += other.late;
        self.dropped += other.dropped;
    }

    fn note(&mut self, what: impl FnOnce() -> String) {
        if self.sample.is_none() {
            self.sample = Some(what());
        }
    }

    fn record(&mut self, intent: Intent, sent: Instant, done: Instant, status: StatusCode) {
        if !intent.measured {
            return;
        }
        self.requests += 1;
        let latency = done.saturating_duration_since(intent.intended);
        self.latency.saturating_record(micros(latency));
        if status.is_success() {
            self.ok += 1;
        } else {
            *self.status.entry(status.as_u16()).or_default() += 1;
        }
        if let Some(lag_hist) = self.lag.as_mut() {
            let lag = sent.saturating_duration_since(intent.intended);
            lag_hist.saturating_record(micros(lag));
            if lag > LATE_THRESHOLD {
                self.late += 1;
            }
        }
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Opens one connection with Nagle off: small requests must leave now, not after an ACK.
pub(crate) async fn connect(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let stream = tokio::time::timeout(timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// The worker loop. `first` is the connection opened before the clock started (or its error),
/// detached from the runtime that opened it; the worker adopts it into its own.
pub(crate) async fn run(
    shared: Arc<Shared>,
    id: usize,
    first: Option<io::Result<std::net::TcpStream>>,
) -> Stats {
    let mut first = first.map(|s| s.and_then(TcpStream::from_std));
    let open_loop = shared.schedule.is_some();
    let mut stats = Stats::new(open_loop);
    // Each connection starts at a different place in the pool: no hot key, even at start.
    let pool = shared.prepared.pool_len();
    let mut credential = if pool == 0 {
        0
    } else {
        id * pool / shared.connections
    };
    // Open loop: a claimed index whose connection broke before hyper took the request. It is
    // sent on the next connection, still measured from its intended instant.
    let mut pending: Option<Intent> = None;
    let mut connected_before = false;

    'connection: loop {
        let stream = match first.take() {
            Some(s) => s,
            None => {
                if Instant::now() >= shared.end {
                    break;
                }
                connect(shared.prepared.addr, shared.timeout).await
            }
        };
        let stream = match stream {
            Ok(s) => s,
            Err(e) => {
                stats.connect += 1;
                stats.note(|| format!("connect: {e}"));
                let left = shared.end.saturating_duration_since(Instant::now());
                tokio::time::sleep(RECONNECT_BACKOFF.min(left)).await;
                continue;
            }
        };
        if connected_before {
            stats.reconnects += 1;
        }
        connected_before = true;
        let (mut sender, conn) = match http1::handshake(TokioIo::new(stream)).await {
            Ok(pair) => pair,
            Err(e) => {
                stats.io += 1;
                stats.note(|| format!("handshake: {e}"));
                continue;
            }
        };
        // Boxed (once per connection) so it can be dropped as soon as it finishes: dropping
        // it is what tells a waiting `SendRequest` that this connection is gone.
        let mut conn = Some(Box::pin(conn));

        loop {
            let intent = match pending.take() {
                Some(intent) => intent,
                None => match &shared.schedule {
                    Some(schedule) => match schedule.next_due().await {
                        Some(intended) => Intent {
                            intended,
                            measured: intended >= shared.measure_start,
                        },
                        None => break 'connection,
                    },
                    None => {
                        let now = Instant::now();
                        if now >= shared.end {
                            break 'connection;
                        }
                        Intent {
                            intended: now,
                            measured: now >= shared.measure_start,
                        }
                    }
                },
            };
            let req = shared.prepared.request(credential);
            if pool > 0 {
                credential = (credential + 1) % pool;
            }

            // Set once hyper has accepted the request: before that, a closed connection (the
            // server's keep-alive ended) is not a failed request, just a reason to reconnect.
            let mut handed_over = false;
            let sent = Instant::now();
            let exchange = async {
                sender.ready().await?;
                handed_over = true;
                let response = sender.send_request(req).await?;
                let status = response.status();
                let mut body = response.into_body();
                while let Some(frame) = body.frame().await {
                    frame?;
                }
                Ok::<_, hyper::Error>(status)
            };
            let outcome = tokio::time::timeout(shared.timeout, async {
                let mut exchange = pin!(exchange);
                let Some(driver) = conn.as_mut() else {
                    return exchange.await;
                };
                tokio::select! {
                    biased;
                    result = exchange.as_mut() => result,
                    _ = driver.as_mut() => {
                        // The connection finished (the server closed it, or an I/O error).
                        // It may have delivered our whole response first (a server that
                        // closes after each answer does exactly that), so let the exchange
                        // finish from what was already read; with the connection dropped it
                        // fails fast if it cannot.
                        conn = None;
                        exchange.await
                    }
                }
            })
            .await;
            let done = Instant::now();

            match outcome {
                Ok(Ok(status)) => {
                    stats.record(intent, sent, done, status);
                    if conn.is_none() {
                        continue 'connection;
                    }
                }
                Err(_elapsed) => {
                    if intent.measured {
                        stats.timeout += 1;
                        stats.note(|| format!("timeout after {:?}", shared.timeout));
                    }
                    continue 'connection;
                }
                Ok(Err(e)) => {
                    if !handed_over {
                        // Not a failed request: the connection closed while idle. Reconnect;
                        // an open loop sends the same scheduled request on the new connection.
                        if open_loop {
                            pending = Some(intent);
                        }
                    } else if intent.measured {
                        stats.io += 1;
                        stats.note(|| format!("io: {e}"));
                    }
                    continue 'connection;
                }
            }
        }
    }
    if pending.is_some() {
        stats.dropped += 1;
    }
    stats
}
