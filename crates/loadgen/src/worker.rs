//! One worker per connection: connect, send, read, record, repeat, reconnect on failure.
//!
//! A worker is a single tokio task that owns one TCP connection at a time and drives it with
//! the minimal HTTP/1.1 client of [`http1`](crate::http1): per request, one write of the
//! prepared bytes and the reads of the response, in the task that measures them (no other
//! task, no channel, no wake-up between tasks).
//!
//! The per-request timeout uses one timer per worker, re-armed lazily: it is set to some
//! earlier request's deadline, and when it fires before the current request's deadline it is
//! moved there. Requests finish in microseconds and the timeout is seconds, so the timer is
//! touched about once per timeout period instead of twice per request, and a request still
//! times out exactly `timeout` after it was sent.
//!
//! Everything a worker measures goes into its own [`Stats`] (its own HDR histogram, its own
//! counters): nothing is shared or locked on the hot path. [`Stats::merge`] adds them up once
//! the run is over.

use std::{
    collections::BTreeMap,
    future::{Future, poll_fn},
    io,
    net::SocketAddr,
    pin::{Pin, pin},
    sync::Arc,
    task::Poll,
    time::{Duration, Instant},
};

use hdrhistogram::Histogram;
use tokio::{net::TcpStream, time::Sleep};

use crate::{
    http1::{Buffer, Connection, Failure},
    request::Prepared,
    schedule::Schedule,
};

/// Latency histogram bounds (1 µs to 60 s) and significant digits (3), defined in
/// `authbench_spec` beside the [`EncodedHistogram`](crate::EncodedHistogram) that records them.
pub use authbench_spec::record::load::{HISTOGRAM_HIGHEST_US, HISTOGRAM_SIGFIG};
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

    fn record(&mut self, intent: Intent, sent: Instant, done: Instant, status: u16) {
        if !intent.measured {
            return;
        }
        self.requests += 1;
        let latency = done.saturating_duration_since(intent.intended);
        self.latency.saturating_record(micros(latency));
        if (200..300).contains(&status) {
            self.ok += 1;
        } else {
            *self.status.entry(status).or_default() += 1;
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

/// Polls `exchange` until it completes, or returns `None` once `deadline` has passed. `timer`
/// is the worker's one timer, set no later than `deadline` (see the module docs).
async fn within<F: Future>(
    mut timer: Pin<&mut Sleep>,
    deadline: Instant,
    exchange: F,
) -> Option<F::Output> {
    let mut exchange = pin!(exchange);
    poll_fn(|cx| {
        if let Poll::Ready(out) = exchange.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        while timer.as_mut().poll(cx).is_ready() {
            // The timer fired: for this request, or for an earlier one (then move it here).
            if Instant::now() >= deadline {
                return Poll::Ready(None);
            }
            timer.as_mut().reset(deadline.into());
        }
        Poll::Pending
    })
    .await
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
    let head_method = shared.prepared.head_method;
    let mut stats = Stats::new(open_loop);
    // Each connection starts at a different place in the pool: no hot key, even at start.
    let pool = shared.prepared.pool_len();
    let mut credential = if pool == 0 {
        0
    } else {
        id * pool / shared.connections
    };
    // Open loop: a claimed index whose connection turned out to be closed before it could
    // carry the request. It is sent on the next connection, still measured from its intended
    // instant.
    let mut pending: Option<Intent> = None;
    let mut connected_before = false;
    let mut buffer = Buffer::new();
    // No later than any request's deadline: every request is sent after this instant.
    let mut timer = pin!(tokio::time::sleep_until(
        (Instant::now() + shared.timeout).into()
    ));

    'connection: loop {
        let stream = match first.take() {
            Some(s) => s,
            None => {
                if Instant::now() >= shared.end {
                    break;
                }
                connect(shared.prepared.addr_for(id), shared.timeout).await
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
        let mut conn = Connection::new(stream, &mut buffer);

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
            let request = shared.prepared.request(credential);
            if pool > 0 {
                credential = (credential + 1) % pool;
            }

            // Closed loop: the request leaves now, at its "intended" instant.
            let sent = if open_loop {
                Instant::now()
            } else {
                intent.intended
            };
            let outcome = within(
                timer.as_mut(),
                sent + shared.timeout,
                conn.exchange(request, head_method),
            )
            .await;
            let done = Instant::now();

            match outcome {
                Some(Ok(response)) => {
                    stats.record(intent, sent, done, response.status);
                    if !response.keep_alive {
                        continue 'connection;
                    }
                }
                None => {
                    if intent.measured {
                        stats.timeout += 1;
                        stats.note(|| format!("timeout after {:?}", shared.timeout));
                    }
                    continue 'connection;
                }
                Some(Err(Failure::Stale)) => {
                    // Not a failed request: the server closed the idle connection as we sent,
                    // before answering anything. Reconnect; an open loop sends the same
                    // scheduled request on the new connection. (A fresh connection is never
                    // stale, so this cannot loop without counting.)
                    if open_loop {
                        pending = Some(intent);
                    }
                    continue 'connection;
                }
                Some(Err(e)) => {
                    if intent.measured {
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
