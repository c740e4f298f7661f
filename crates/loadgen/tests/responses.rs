//! The generator's HTTP/1.1 client against responses shaped by hand: chunked bodies, interim
//! responses, bodies delimited by close, `Connection: close`, responses trickling in a few
//! bytes at a time, large bodies, garbage. A framing bug shows up here as `io` errors (the
//! next response would not parse), as timeouts (waiting for bytes that never come), or as a
//! mismatch between requests recorded and requests the server read.

mod common;

use std::time::{Duration, Instant};

use authbench_loadgen::{Options, Report, run};
use common::{Script, chunked_response, scripted};

fn options(addr: std::net::SocketAddr, connections: usize, duration_ms: u64) -> Options {
    let mut o = Options::new(format!("http://{addr}/"));
    o.connections = connections;
    o.duration = Duration::from_millis(duration_ms);
    o.warmup = Duration::ZERO;
    o.timeout = Duration::from_secs(2);
    o
}

/// Runs against a scripted server; returns the report and how many requests the server read.
async fn against(script: Script, connections: usize, duration_ms: u64) -> (Report, u64) {
    let (addr, served) = scripted(script);
    let r = run(&options(addr, connections, duration_ms)).await.unwrap();
    (r, served.load(std::sync::atomic::Ordering::Relaxed))
}

/// Every request the server read was answered, read to its end and recorded, with no error.
#[track_caller]
fn all_answered(r: &Report, served: u64) {
    assert!(r.requests > 0, "no requests");
    assert_eq!(r.errors.total, 0, "{:?}", r.errors);
    assert_eq!(r.requests, served, "recorded vs read by the server");
    assert_eq!(r.responses_2xx, r.requests);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_bodies_with_extensions_and_trailers() {
    let big = vec![b'x'; 70_000];
    for parts in [
        vec![&b"hello"[..], b", ", b"world"],
        vec![&b"a"[..]],
        vec![&big[..], b"tail", &big[..1000]],
    ] {
        let script = Script {
            response: chunked_response(&parts),
            ..Script::default()
        };
        let (r, served) = against(script, 2, 200).await;
        all_answered(&r, served);
        assert_eq!(r.reconnects, 0, "chunked responses keep the connection");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chunked_bodies_from_a_real_encoder() {
    // hyper's server (under axum) chunks a body of unknown length.
    let server = common::serve(common::Behaviour {
        chunked: true,
        ..common::Behaviour::default()
    })
    .await;
    let mut o = Options::new(server.url("/"));
    o.connections = 2;
    o.duration = Duration::from_millis(200);
    o.warmup = Duration::ZERO;
    let r = run(&o).await.unwrap();
    all_answered(
        &r,
        server
            .seen
            .requests
            .load(std::sync::atomic::Ordering::Relaxed),
    );
    assert_eq!(r.reconnects, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_split_over_many_small_reads() {
    // Each response arrives a few bytes at a time (200 µs apart), cut across the status line,
    // the header names, the CRLFs, the chunk sizes and the body.
    for (response, piece) in [
        (
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 12\r\nX-Other: a\r\n\r\nno such page"
                .to_vec(),
            1,
        ),
        (chunked_response(&[b"hello", b"world, chunk by chunk"]), 3),
    ] {
        let status = if response.starts_with(b"HTTP/1.1 404") {
            Some(404)
        } else {
            None
        };
        let script = Script {
            response,
            piece,
            ..Script::default()
        };
        let (r, served) = against(script, 2, 300).await;
        assert!(r.requests > 5, "{} requests", r.requests);
        assert_eq!(r.requests, served);
        assert_eq!(
            r.errors.connect + r.errors.io + r.errors.timeout,
            0,
            "{:?}",
            r.errors
        );
        assert_eq!(r.reconnects, 0);
        match status {
            Some(code) => assert_eq!(r.errors.status.get(&code), Some(&r.requests)),
            None => assert_eq!(r.responses_2xx, r.requests),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_bodies_are_read_to_the_last_byte() {
    let body = vec![b'b'; 3 << 20];
    let mut with_length =
        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
    with_length.extend_from_slice(&body);
    let pieces: Vec<&[u8]> = body.chunks(100_000).collect();
    for response in [with_length, chunked_response(&pieces)] {
        let (r, served) = against(
            Script {
                response,
                ..Script::default()
            },
            2,
            300,
        )
        .await;
        all_answered(&r, served);
        assert_eq!(r.reconnects, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interim_responses_are_skipped() {
    let response = b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n\
                     HTTP/1.1 100 Continue\r\n\r\n\
                     HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok"
        .to_vec();
    let (r, served) = against(
        Script {
            response,
            ..Script::default()
        },
        2,
        200,
    )
    .await;
    all_answered(&r, served);
    assert_eq!(r.reconnects, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_close_and_bodies_delimited_by_close() {
    // `server_closes: false`: the server would happily read another request on the same
    // connection, so only a client that honours the response's framing reconnects.
    for (response, server_closes) in [
        // Told to close, with a length.
        (
            &b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"[..],
            false,
        ),
        // HTTP/1.0 without keep-alive.
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", false),
        // Chunked, then close.
        (
            b"HTTP/1.1 200 OK\r\nconnection: keep-alive, Close\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            false,
        ),
        // No length at all: the body ends when the connection does.
        (b"HTTP/1.1 200 OK\r\n\r\nthe body runs until the server closes", true),
    ] {
        let script = Script {
            response: response.to_vec(),
            close: server_closes,
            ..Script::default()
        };
        let (r, served) = against(script, 2, 300).await;
        all_answered(&r, served);
        assert!(
            r.reconnects + 2 >= r.requests,
            "{} reconnects for {} requests",
            r.reconnects,
            r.requests
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_closing_idle_connections_silently_is_a_reconnect() {
    // The response promises keep-alive, then the server closes anyway: the next request on that
    // connection meets a closed socket before any answer. It is sent again on a new connection;
    // nothing is lost or counted as an error.
    let script = Script {
        response: b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok".to_vec(),
        close: true,
        ..Script::default()
    };
    let (addr, served) = scripted(script);
    for rate in [None, Some(300.0)] {
        let mut o = options(addr, 2, 300);
        o.rate = rate;
        let r = run(&o).await.unwrap();
        assert!(r.requests > 20, "{} requests", r.requests);
        assert_eq!(r.errors.total, 0, "{:?}", r.errors);
        assert!(r.reconnects + 2 >= r.requests);
        if rate.is_some() {
            assert_eq!(r.requests + r.unsent.unwrap(), 90, "resent, not dropped");
        }
    }
    assert!(served.load(std::sync::atomic::Ordering::Relaxed) > 40);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_responses_are_io_errors_without_hanging() {
    for response in [
        // A bad status line, connection left open: must not wait for the timeout.
        &b"HTTP/1.1 OK\r\n\r\n"[..],
        // Not HTTP at all, and no line end ever.
        b"<html>hello",
        // A header without a colon.
        b"HTTP/1.1 200 OK\r\nbroken header\r\n\r\n",
        // Conflicting lengths.
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nok",
        // A chunk longer than its size.
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nokk\r\n0\r\n\r\n",
        // Two responses for one request: the second is unsolicited.
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok",
    ] {
        let (addr, _) = scripted(Script {
            response: response.to_vec(),
            ..Script::default()
        });
        let started = Instant::now();
        let mut o = options(addr, 2, 300);
        o.timeout = Duration::from_secs(5);
        let r = run(&o).await.unwrap();
        let text = String::from_utf8_lossy(response);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{text:?}: took {:?}",
            started.elapsed()
        );
        assert!(r.errors.io > 0, "{text:?}: {:?}", r.errors);
        assert_eq!(r.errors.timeout, 0, "{text:?}");
        let sample = r.errors.sample.unwrap();
        assert!(sample.starts_with("io: malformed response"), "{text:?}: {sample}");
        // The unsolicited second response only shows on the next request.
        if !text.contains("okHTTP") {
            assert_eq!(r.requests, 0, "{text:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_before_answering_is_an_io_error_not_a_retry_loop() {
    // Every connection is closed right after the request is read: a fresh connection that
    // fails is a failed request (only a reused one may be "closed while idle").
    let (r, served) = against(
        Script {
            close: true,
            ..Script::default()
        },
        2,
        200,
    )
    .await;
    assert_eq!(r.requests, 0);
    assert!(r.errors.io > 0, "{:?}", r.errors);
    assert_eq!(
        r.errors.io, served,
        "one error per request the server dropped"
    );
    assert!(
        r.errors
            .sample
            .unwrap()
            .contains("closed before the response was complete")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_responses_have_no_body() {
    let (addr, served) = scripted(Script {
        response: b"HTTP/1.1 200 OK\r\ncontent-length: 1234\r\n\r\n".to_vec(),
        ..Script::default()
    });
    let mut o = options(addr, 2, 200);
    o.method = "HEAD".into();
    let r = run(&o).await.unwrap();
    all_answered(&r, served.load(std::sync::atomic::Ordering::Relaxed));
    assert_eq!(r.reconnects, 0);
}
