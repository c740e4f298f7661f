//! An HTTP/1.1 load generator that is not the bottleneck and does not hide the tail.
//!
//! session-vs-jwt compares a Redis lookup against a signature check: differences of tens of
//! microseconds. A load generator that adds a millisecond of its own, saturates the CPU before
//! the server does, or stops sending while the server stalls (and so never records the stall)
//! would measure itself instead. This crate is built against those three failures:
//!
//! - **Lean hot path.** A minimal hand-written HTTP/1.1 client over keep-alive connections
//!   with `TCP_NODELAY` (not hyper: its generality was most of the CPU per request this
//!   generator spent beyond `wrk`'s, on cores the server needs). The complete request bytes
//!   are built once per credential; per request, one write of a prebuilt slice, reads into a
//!   buffer kept for the worker's life, a head parse that allocates nothing, the body skipped
//!   to its last byte.
//!   Each worker records into its own HDR histogram; nothing is locked while measuring. The
//!   report carries the generator's own CPU time per request so you can check it.
//! - **Open loop without coordinated omission.** With [`Options::rate`], requests follow a
//!   fixed schedule on absolute instants and latency is measured from the *intended* send
//!   time, so a 200 ms server stall shows up as 200 ms in the tail. See [`schedule`] and the
//!   README.
//! - **Errors are data.** Non-2xx statuses (by code), refused connections, timeouts and I/O
//!   failures are counted by kind; a dead server makes a report full of `connect` errors, not
//!   a hang.
//!
//! ```no_run
//! use std::time::Duration;
//! let mut opts = authbench_loadgen::Options::new("http://127.0.0.1:8080/me");
//! opts.credentials = authbench_loadgen::read_credentials("tokens.txt".as_ref())?;
//! opts.connections = 32;
//! opts.duration = Duration::from_secs(10);
//! opts.rate = Some(5_000.0); // open loop; None = closed loop
//! let report = authbench_loadgen::run_blocking(&opts)?;
//! println!("{}", report.summary());
//! # Ok::<(), authbench_loadgen::Error>(())
//! ```
//!
//! # Layout
//!
//! - [`options`]: [`Options`] (serde, documented defaults) and the CLI helpers
//!   [`parse_header`], [`parse_credentials`], [`read_credentials`].
//! - `request`: the prepared request bytes and their exact size on the wire.
//! - `http1`: the HTTP/1.1 client connection: write a request, read and frame its response.
//! - [`schedule`]: the open-loop schedule and its pacer thread.
//! - `worker`: one task per connection: send, read, record, reconnect.
//! - [`report`]: [`Report`] (JSON, schema in `crates/loadgen/schema.md`) and its text summary.
//! - [`procstat`]: CPU time of any process from `/proc`, to charge CPU per request.
//! - this file: [`run`] (on the caller's runtime) and [`run_blocking`] (wrk-style: one
//!   single-threaded runtime per thread, connections sharded over them), which share one setup:
//!   validate, prepare, open every connection, start the clock and the pacer.

mod error;
mod http1;
pub mod options;
pub mod procstat;
pub mod report;
mod request;
pub mod schedule;
mod worker;

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::task::JoinSet;

pub use error::Error;
pub use options::{
    COOKIE_NAME, CredentialForm, Options, parse_credentials, parse_header, read_credentials,
};
pub use report::{
    EncodedHistogram, Errors, LagSummary, LatencySummary, Mode, Report, RequestBytes,
    SCHEMA_VERSION,
};
pub use worker::{HISTOGRAM_HIGHEST_US, HISTOGRAM_SIGFIG, LATE_THRESHOLD, RECONNECT_BACKOFF};

use crate::{
    request::Prepared,
    schedule::Schedule,
    worker::{Shared, Stats},
};

/// Runs the load described by `opts` on the caller's tokio runtime and reports.
///
/// Use a multi-threaded runtime with the `time` and `net` drivers enabled: one task per
/// connection is spawned, and on a current-thread runtime they all share one core. The run
/// takes `warmup + duration`, plus at most `timeout` for requests still in flight at the end.
/// Connections are opened before the clock starts. Fails only on setup errors (see [`Error`]);
/// everything the server does is counted in the report. Dropping the future stops the run.
///
/// [`run_blocking`] is cheaper per request (no work stealing between threads); prefer it
/// when the caller is not already async.
pub async fn run(opts: &Options) -> Result<Report, Error> {
    let setup = Setup::new(opts).await?;
    let shared = Arc::clone(&setup.shared);
    let mut workers = JoinSet::new();
    for (id, stream) in setup.streams.into_iter().enumerate() {
        workers.spawn(worker::run(Arc::clone(&shared), id, Some(stream)));
    }

    tokio::time::sleep_until(shared.measure_start.into()).await;
    let cpu_before = procstat::self_cpu_time().ok();
    let mut stats = Stats::new(shared.schedule.is_some());
    while let Some(joined) = workers.join_next().await {
        stats.merge(joined.map_err(|e| Error::Worker(e.to_string()))?);
    }
    let cpu = cpu_since(cpu_before);
    let pacer = setup.pacer;
    tokio::task::spawn_blocking(move || join_pacer(pacer))
        .await
        .map_err(|e| Error::Worker(e.to_string()))??;
    build_report(opts, &shared, stats, cpu)
}

/// Runs the load on threads of its own and reports; for callers that are not async.
///
/// Like `wrk`, it starts [`Options::threads`] OS threads (default: one per CPU, at most one per
/// connection), each with its own single-threaded tokio runtime and its share of the
/// connections. Threads never exchange tasks, so there is no work stealing and no cross-thread
/// wake-up on the hot path: on a 2-core machine this costs about half the CPU per request of
/// [`run`] on a 2-thread runtime. Otherwise identical to [`run`].
pub fn run_blocking(opts: &Options) -> Result<Report, Error> {
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(Error::Runtime)
    };
    let setup = runtime()?.block_on(Setup::new(opts))?;
    let shared = Arc::clone(&setup.shared);
    let threads = opts
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, opts.connections);

    let mut shards: Vec<Vec<(usize, ConnectResult)>> = (0..threads).map(|_| Vec::new()).collect();
    for (id, stream) in setup.streams.into_iter().enumerate() {
        shards[id % threads].push((id, stream));
    }
    let mut handles = Vec::with_capacity(threads);
    for (i, shard) in shards.into_iter().enumerate() {
        let shared = Arc::clone(&shared);
        let rt = runtime()?;
        let handle = std::thread::Builder::new()
            .name(format!("loadgen-{i}"))
            .spawn(move || {
                rt.block_on(async move {
                    let mut workers = JoinSet::new();
                    for (id, stream) in shard {
                        workers.spawn(worker::run(Arc::clone(&shared), id, Some(stream)));
                    }
                    let mut stats = Stats::new(shared.schedule.is_some());
                    while let Some(joined) = workers.join_next().await {
                        stats.merge(joined.map_err(|e| Error::Worker(e.to_string()))?);
                    }
                    Ok::<_, Error>(stats)
                })
            })
            .map_err(Error::Runtime)?;
        handles.push(handle);
    }

    std::thread::sleep(
        shared
            .measure_start
            .saturating_duration_since(Instant::now()),
    );
    let cpu_before = procstat::self_cpu_time().ok();
    let mut stats = Stats::new(shared.schedule.is_some());
    for handle in handles {
        let shard = handle
            .join()
            .map_err(|_| Error::Worker("a load thread panicked".into()))??;
        stats.merge(shard);
    }
    let cpu = cpu_since(cpu_before);
    join_pacer(setup.pacer)?;
    build_report(opts, &shared, stats, cpu)
}

/// A connection opened before the clock starts, detached from the runtime that opened it so
/// that any runtime (the caller's, or one thread's) can adopt it.
type ConnectResult = std::io::Result<std::net::TcpStream>;

/// Everything that happens before the first request: checks, the prepared request, the
/// pre-opened connections, the clock, the pacer.
struct Setup {
    shared: Arc<Shared>,
    streams: Vec<ConnectResult>,
    pacer: Option<std::thread::JoinHandle<()>>,
    /// Stops the pacer if the run is abandoned half-way.
    _stop: StopOnDrop,
}

impl Setup {
    async fn new(opts: &Options) -> Result<Self, Error> {
        opts.validate()?;
        let prepared = Prepared::new(opts).await?;

        // Open every connection first, so the first measured requests do not pay for the
        // handshake and an open loop does not start behind schedule.
        let mut connecting = JoinSet::new();
        for id in 0..opts.connections {
            let (addr, timeout) = (prepared.addr_for(id), opts.timeout);
            connecting.spawn(async move {
                (
                    id,
                    async { worker::connect(addr, timeout).await?.into_std() }.await,
                )
            });
        }
        // In connection order: connection `id` keeps talking to `addr_for(id)` when it
        // reconnects, so the spread over several servers stays even.
        let mut streams: Vec<Option<ConnectResult>> = (0..opts.connections).map(|_| None).collect();
        while let Some(joined) = connecting.join_next().await {
            let (id, stream) = joined.map_err(|e| Error::Worker(e.to_string()))?;
            streams[id] = Some(stream);
        }
        let streams: Vec<ConnectResult> = streams.into_iter().flatten().collect();

        let start = Instant::now();
        let measure_start = start + opts.warmup;
        let end = measure_start + opts.duration;
        let schedule = opts
            .rate
            .map(|rate| Arc::new(Schedule::new(start, end, rate)));
        let stop = StopOnDrop(schedule.clone());
        let pacer = match &schedule {
            Some(s) => Some(s.spawn_pacer().map_err(Error::Runtime)?),
            None => None,
        };
        let shared = Arc::new(Shared {
            prepared,
            timeout: opts.timeout,
            connections: opts.connections,
            measure_start,
            end,
            schedule,
        });
        Ok(Self {
            shared,
            streams,
            pacer,
            _stop: stop,
        })
    }
}

/// CPU time of this process since `before` (zero if `/proc` is unreadable).
fn cpu_since(before: Option<Duration>) -> Duration {
    match (before, procstat::self_cpu_time().ok()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    }
}

/// Waits for the pacer, which closes the schedule at the end of the run (so by the time every
/// worker is done, it has finished or is about to).
fn join_pacer(pacer: Option<std::thread::JoinHandle<()>>) -> Result<(), Error> {
    match pacer {
        Some(p) => p
            .join()
            .map_err(|_| Error::Worker("the pacer thread panicked".into())),
        None => Ok(()),
    }
}

/// Stops the pacer if [`run`] is dropped half-way.
struct StopOnDrop(Option<Arc<Schedule>>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(s) = &self.0 {
            s.stop();
        }
    }
}

fn build_report(
    opts: &Options,
    shared: &Shared,
    stats: Stats,
    cpu: Duration,
) -> Result<Report, Error> {
    let pool = shared.prepared.pool_len();
    let wire = shared.prepared.wire_size();
    let schedule = shared.schedule.as_deref();
    let duration_s = opts.duration.as_secs_f64();
    let requests = stats.requests;
    let status_errors: u64 = stats.status.values().sum();
    let cpu_time_s = cpu.as_secs_f64();
    Ok(Report {
        schema_version: SCHEMA_VERSION,
        mode: if schedule.is_some() {
            Mode::Open
        } else {
            Mode::Closed
        },
        method: opts.method.clone(),
        url: opts.url.clone(),
        spread_over: opts.spread_over.clone(),
        connections: opts.connections,
        rate_rps: opts.rate,
        warmup_s: opts.warmup.as_secs_f64(),
        duration_s,
        credentials: pool,
        credential_form: (pool > 0).then_some(opts.credential_form),
        requests,
        responses_2xx: stats.ok,
        throughput_rps: requests as f64 / duration_s,
        latency_us: LatencySummary::of(&stats.latency),
        errors: Errors {
            total: status_errors + stats.connect + stats.timeout + stats.io,
            status: stats.status,
            connect: stats.connect,
            timeout: stats.timeout,
            io: stats.io,
            sample: stats.sample,
        },
        reconnects: stats.reconnects,
        late: schedule.map(|_| stats.late),
        late_threshold_us: LATE_THRESHOLD.as_micros() as u64,
        unsent: schedule.map(|s| s.total().saturating_sub(s.claimed()) + stats.dropped),
        send_lag_us: stats.lag.as_ref().map(LagSummary::of),
        request_bytes: RequestBytes {
            head_min: wire.head_min,
            head_max: wire.head_max,
            head_mean: wire.head_mean,
            body: wire.body,
        },
        cpu_time_s,
        cpu_cores: cpu_time_s / duration_s,
        cpu_per_request_us: if requests == 0 {
            0.0
        } else {
            cpu_time_s * 1e6 / requests as f64
        },
        histogram: EncodedHistogram::encode(&stats.latency)?,
    })
}
