//! The load generator against tiny local servers. Each run is short (≤ 1 s of load): these run
//! in CI, on two shared cores, possibly in parallel, so thresholds are generous where timing is
//! involved and exact where it is not.

mod common;

use std::{
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use authbench_loadgen::{CredentialForm, Mode, Options, Report, run};
use common::{Behaviour, serve};
use hyper::StatusCode;

fn options(url: String, connections: usize, duration_ms: u64) -> Options {
    let mut o = Options::new(url);
    o.connections = connections;
    o.duration = Duration::from_millis(duration_ms);
    o.warmup = Duration::ZERO;
    o.timeout = Duration::from_secs(2);
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_loop_counts_requests_without_errors() {
    let server = serve(Behaviour::default()).await;
    let mut o = options(server.url("/healthz"), 4, 500);
    o.warmup = Duration::from_millis(100);
    let r = run(&o).await.unwrap();

    assert_eq!(r.mode, Mode::Closed);
    assert!(r.requests > 50, "only {} requests", r.requests);
    assert_eq!(r.responses_2xx, r.requests);
    assert_eq!(r.errors.total, 0, "{:?}", r.errors);
    assert_eq!(r.reconnects, 0);
    // Warm-up requests reached the server but are not in the report.
    let served = server.seen.requests.load(Ordering::Relaxed);
    assert!(
        served > r.requests,
        "served {served}, recorded {}",
        r.requests
    );
    assert!((r.throughput_rps - r.requests as f64 / 0.5).abs() < 1e-6);
    let h = r.latency_histogram().unwrap();
    assert_eq!(h.len(), r.requests);
    assert!(r.latency_us.p50 > 0 && r.latency_us.p50 <= r.latency_us.max);
    assert_eq!(r.late, None);
    assert_eq!(r.unsent, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_sends_rate_times_duration() {
    let server = serve(Behaviour::default()).await;
    let mut o = options(server.url("/healthz"), 4, 1000);
    o.rate = Some(400.0);
    let r = run(&o).await.unwrap();

    assert_eq!(r.mode, Mode::Open);
    assert_eq!(r.errors.total, 0, "{:?}", r.errors);
    // 400 intended; on a loaded CI core a few may be left unsent at the very end.
    assert!((380..=400).contains(&r.requests), "{} requests", r.requests);
    assert_eq!(r.requests + r.unsent.unwrap(), 400);
    assert_eq!(server.seen.requests.load(Ordering::Relaxed), r.requests);
    assert!((r.throughput_rps - 400.0).abs() <= 20.0);
    // A fast server at a low rate: the pacer keeps the schedule (loose bound: shared CI).
    let lag = r.send_lag_us.unwrap();
    assert!(lag.p50 < 5_000, "send lag {lag:?}");
}

/// The reason open loops exist. The server stalls once for 200 ms (every request waits). A
/// closed loop stops sending during the stall, so only its few in-flight requests see it and
/// its p99 stays small; the open loop keeps its schedule, so every request intended during the
/// stall is measured from when it *should* have left, and the p99 shows the stall.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_loop_shows_a_stall_that_closed_loop_hides() {
    let stall = Some((Duration::from_millis(300), Duration::from_millis(200)));

    let server = serve(Behaviour {
        stall,
        ..Behaviour::default()
    })
    .await;
    let mut o = options(server.url("/me"), 4, 1000);
    o.rate = Some(1000.0);
    let open = run(&o).await.unwrap();

    let server = serve(Behaviour {
        stall,
        ..Behaviour::default()
    })
    .await;
    let closed = run(&options(server.url("/me"), 4, 1000)).await.unwrap();

    eprintln!("open:\n{}\nclosed:\n{}", open.summary(), closed.summary());
    assert!(
        open.latency_us.max >= 195_000,
        "open max {}",
        open.latency_us.max
    );
    assert!(
        open.latency_us.p99 >= 100_000,
        "open p99 {}",
        open.latency_us.p99
    );
    assert!(open.late.unwrap() > 100, "late {:?}", open.late);
    // The closed loop did see the stall (its max) but it does not reach the p99.
    assert!(
        closed.latency_us.max >= 195_000,
        "closed max {}",
        closed.latency_us.max
    );
    assert!(
        closed.latency_us.p99 < 50_000,
        "closed p99 {}",
        closed.latency_us.p99
    );
    assert_eq!(open.errors.total + closed.errors.total, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_2xx_statuses_are_counted_by_code() {
    let server = serve(Behaviour {
        status: StatusCode::UNAUTHORIZED,
        ..Behaviour::default()
    })
    .await;
    let r = run(&options(server.url("/me"), 2, 200)).await.unwrap();
    assert!(r.requests > 0);
    assert_eq!(r.responses_2xx, 0);
    assert_eq!(r.errors.status.get(&401), Some(&r.requests));
    assert_eq!(r.errors.total, r.requests);
    assert_eq!(r.errors.connect + r.errors.io + r.errors.timeout, 0);
    assert!(r.summary().contains("HTTP 401"));
    // Non-2xx responses are still latencies.
    assert_eq!(r.latency_histogram().unwrap().len(), r.requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_refused_is_counted_and_does_not_hang() {
    let addr = common::dead_port().await;
    for rate in [None, Some(200.0)] {
        let mut o = options(format!("http://{addr}/"), 3, 300);
        o.rate = rate;
        let t = Instant::now();
        let r = run(&o).await.unwrap();
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "took {:?}",
            t.elapsed()
        );
        assert_eq!(r.requests, 0);
        assert!(r.errors.connect >= 3, "{:?}", r.errors);
        assert_eq!(r.errors.total, r.errors.connect);
        let sample = r.errors.sample.unwrap();
        assert!(sample.starts_with("connect:"), "{sample}");
        if rate.is_some() {
            assert_eq!(r.unsent, Some(60));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_are_counted_and_do_not_hang() {
    let server = serve(Behaviour {
        black_hole: true,
        ..Behaviour::default()
    })
    .await;
    let mut o = options(server.url("/"), 2, 300);
    o.timeout = Duration::from_millis(100);
    let t = Instant::now();
    let r = run(&o).await.unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(r.requests, 0);
    // 2 connections × 300 ms / 100 ms; the last ones may start just before the end.
    assert!((4..=8).contains(&r.errors.timeout), "{:?}", r.errors);
    assert!(r.reconnects >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_closing_keep_alive_is_a_reconnect_not_an_error() {
    let server = serve(Behaviour {
        keep_alive: false,
        ..Behaviour::default()
    })
    .await;
    for rate in [None, Some(300.0)] {
        let mut o = options(server.url("/"), 2, 300);
        o.rate = rate;
        let r = run(&o).await.unwrap();
        eprintln!("{}", r.summary());
        assert!(r.requests > 20, "{} requests", r.requests);
        assert_eq!(r.errors.total, 0, "{:?}", r.errors);
        assert!(
            r.reconnects + 2 >= r.requests,
            "{} reconnects",
            r.reconnects
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_pool_rotates() {
    let tokens: Vec<String> = (0..8).map(|i| format!("token-{i}")).collect();

    let server = serve(Behaviour::default()).await;
    let mut o = options(server.url("/me"), 2, 200);
    o.credentials = tokens.clone();
    let r = run(&o).await.unwrap();
    assert_eq!(r.credentials, 8);
    assert_eq!(r.credential_form, Some(CredentialForm::Bearer));
    let seen = server.seen.authorization.lock().unwrap().clone();
    let want: std::collections::HashSet<String> =
        tokens.iter().map(|t| format!("Bearer {t}")).collect();
    assert_eq!(seen, want);

    let server = serve(Behaviour::default()).await;
    o.url = server.url("/me");
    o.credential_form = CredentialForm::Cookie;
    let r = run(&o).await.unwrap();
    let seen = server.seen.cookie.lock().unwrap().clone();
    assert_eq!(seen.len(), 8);
    assert!(seen.contains("__Host-authbench=token-3"), "{seen:?}");
    // The cookie form costs 3 bytes more per request than the bearer form.
    assert!(r.request_bytes.head_min > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_bytes_match_the_wire_exactly() {
    let (addr, first) = common::capture().await;
    let mut o = options(format!("http://{addr}/login?x=1"), 1, 100);
    o.method = "POST".into();
    o.headers = vec![("Content-Type".into(), "application/json".into())];
    o.body = Some(r#"{"username":"alice","password":"correct horse battery staple"}"#.into());
    o.credentials = vec!["a-token-of-some-length".into()];
    let r = run(&o).await.unwrap();
    assert!(r.requests > 0);
    assert_eq!(r.errors.total, 0, "{:?}", r.errors);
    let wire = first.lock().unwrap().clone().unwrap();
    let text = String::from_utf8(wire.clone()).unwrap();
    assert!(text.starts_with("POST /login?x=1 HTTP/1.1\r\n"), "{text}");
    assert!(
        text.contains("authorization: Bearer a-token-of-some-length\r\n"),
        "{text}"
    );
    assert_eq!(r.request_bytes.head_min, r.request_bytes.head_max);
    assert_eq!(
        r.request_bytes.head_min + r.request_bytes.body,
        wire.len(),
        "{text:?}"
    );
    assert_eq!(r.request_bytes.body, o.body.unwrap().len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_and_histogram_round_trip_through_json() {
    let server = serve(Behaviour::default()).await;
    let mut o = options(server.url("/"), 2, 200);
    o.rate = Some(200.0);
    let r = run(&o).await.unwrap();
    let json = serde_json::to_string_pretty(&r).unwrap();
    let back: Report = serde_json::from_str(&json).unwrap();
    // serde_json parses floats to within an ulp (exact only with its `float_roundtrip`
    // feature), so compare the exact parts exactly and the floats closely.
    assert_eq!(
        (
            back.requests,
            back.latency_us.p99,
            &back.errors,
            &back.histogram
        ),
        (r.requests, r.latency_us.p99, &r.errors, &r.histogram)
    );
    assert!((back.latency_us.mean - r.latency_us.mean).abs() <= 1e-9 * r.latency_us.mean);
    let h = back.latency_histogram().unwrap();
    assert_eq!(h.len(), r.requests);
    assert_eq!(h.value_at_quantile(0.99), r.latency_us.p99);
    assert_eq!(h.max(), r.latency_us.max);
    // Field names carry their units.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for key in [
        "throughput_rps",
        "latency_us",
        "cpu_time_s",
        "duration_s",
        "late",
        "unsent",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
}

#[test]
fn run_blocking_shards_connections_over_its_own_threads() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(serve(Behaviour::default()));
    for (threads, rate) in [(1, None), (2, None), (2, Some(300.0))] {
        // 3 connections over 2 threads: uneven shards.
        let mut o = options(server.url("/"), 3, 200);
        o.threads = Some(threads);
        o.rate = rate;
        let r = authbench_loadgen::run_blocking(&o).unwrap();
        assert!(r.requests > 0, "{threads} threads, rate {rate:?}");
        assert_eq!(r.errors.total, 0, "{:?}", r.errors);
        if rate.is_some() {
            assert_eq!(r.requests + r.unsent.unwrap(), 60);
        }
    }
    drop(rt);
}

/// `spread_over`: connections go round robin over several servers, and keep to their server
/// when they reconnect, so each instance behind a would-be load balancer gets its share.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spread_over_several_servers_shares_the_connections() {
    let a = serve(Behaviour::default()).await;
    let b = serve(Behaviour::default()).await;
    let c = serve(Behaviour::default()).await;
    let mut o = options(a.url("/healthz"), 6, 400);
    o.spread_over = vec![b.url("/"), c.url("/ignored-path")];
    let r = run(&o).await.unwrap();

    assert_eq!(r.errors.total, 0, "{:?}", r.errors);
    assert_eq!(r.spread_over.len(), 2);
    let served: Vec<u64> = [&a, &b, &c]
        .iter()
        .map(|s| s.seen.requests.load(Ordering::Relaxed))
        .collect();
    assert_eq!(served.iter().sum::<u64>(), r.requests);
    // Two connections each: every server carries real load.
    for (i, n) in served.iter().enumerate() {
        assert!(
            *n > r.requests / 10,
            "server {i} served {n} of {}",
            r.requests
        );
    }

    let mut bad = options(a.url("/healthz"), 2, 100);
    bad.spread_over = vec!["ftp://127.0.0.1:1/".into()];
    assert!(run(&bad).await.is_err(), "a bad extra URL is a setup error");
}
