//! A TCP proxy that adds a fixed delay in each direction: "what if Redis were 1 ms away?"
//!
//! On loopback a Redis round trip costs tens of microseconds; in a real deployment Redis sits
//! across a network, often in another availability zone. [`LatencyProxy`] sits between a
//! client and a server and delays every chunk of bytes by the same amount in each direction, so
//! a run can show what distance does to the session backend (which pays one round trip per
//! request) and not to a JWT (which pays none).
//!
//! # How the delay is applied
//!
//! Each direction of each connection has a reader and a writer thread joined by a channel. The
//! reader stamps every chunk with `arrival + delay` and passes it on at once; the writer sleeps
//! until each chunk's deadline, then writes it. Reading never waits for writing, so pipelined
//! traffic (the multiplexed Redis connection sends many commands back to back) is delayed, not
//! serialised: ten commands sent together arrive together, `delay` later. This is propagation
//! delay, like a longer cable, not a slower link.
//!
//! Threads rather than tokio tasks because tokio's timer has millisecond resolution, too coarse
//! for a 0.2 ms delay. `std::thread::sleep` overshoots by the kernel's timer slack (about 50 µs
//! on Linux); the proxy measures the delay it actually applied, see [`LatencyProxy::stats`].

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

/// Size of one read. Redis replies to the commands we send are far smaller.
const CHUNK: usize = 16 * 1024;

/// Delay actually applied, summed over all chunks (for an honest report of what was injected).
#[derive(Debug, Default)]
struct Counters {
    chunks: AtomicU64,
    applied_ns: AtomicU64,
    max_overshoot_ns: AtomicU64,
}

/// What the proxy did so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyStats {
    /// Chunks forwarded (both directions).
    pub chunks: u64,
    /// Mean delay applied per chunk, from its arrival to the start of its write.
    pub mean_applied: Duration,
    /// Largest overshoot past the requested delay.
    pub max_overshoot: Duration,
}

/// A running latency-injecting proxy. Stops accepting on drop; open connections end when
/// either side closes.
#[derive(Debug)]
pub struct LatencyProxy {
    addr: SocketAddr,
    delay: Duration,
    stop: Arc<AtomicBool>,
    counters: Arc<Counters>,
}

impl LatencyProxy {
    /// Listens on a free loopback port and forwards every connection to `upstream`, adding
    /// `delay` in each direction (so a round trip gains `2 × delay`).
    pub fn start(upstream: SocketAddr, delay: Duration) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(Counters::default());
        let (stop2, counters2) = (Arc::clone(&stop), Arc::clone(&counters));
        thread::Builder::new()
            .name("latency-proxy-accept".into())
            .spawn(move || {
                for client in listener.incoming() {
                    if stop2.load(Ordering::Relaxed) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let counters = Arc::clone(&counters2);
                    // A connection that cannot reach upstream is simply closed, as a real
                    // network would do.
                    if let Ok(server) = TcpStream::connect(upstream) {
                        let _ = pipe_both(client, server, delay, counters);
                    }
                }
            })?;
        Ok(Self {
            addr,
            delay,
            stop,
            counters,
        })
    }

    /// The address clients connect to.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A `redis://` URL pointing at the proxy.
    pub fn redis_url(&self) -> String {
        format!("redis://{}/", self.addr)
    }

    /// The requested one-way delay.
    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// What the proxy has applied so far.
    pub fn stats(&self) -> ProxyStats {
        let chunks = self.counters.chunks.load(Ordering::Relaxed);
        let applied = self.counters.applied_ns.load(Ordering::Relaxed);
        ProxyStats {
            chunks,
            mean_applied: Duration::from_nanos(applied.checked_div(chunks).unwrap_or(0)),
            max_overshoot: Duration::from_nanos(
                self.counters.max_overshoot_ns.load(Ordering::Relaxed),
            ),
        }
    }
}

impl Drop for LatencyProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn pipe_both(
    client: TcpStream,
    server: TcpStream,
    delay: Duration,
    counters: Arc<Counters>,
) -> io::Result<()> {
    client.set_nodelay(true)?;
    server.set_nodelay(true)?;
    pipe(
        client.try_clone()?,
        server.try_clone()?,
        delay,
        Arc::clone(&counters),
    )?;
    pipe(server, client, delay, counters)
}

/// Forwards `from` → `to`, each chunk delayed by `delay` from its arrival.
fn pipe(
    mut from: TcpStream,
    mut to: TcpStream,
    delay: Duration,
    counters: Arc<Counters>,
) -> io::Result<()> {
    let (tx, rx) = mpsc::channel::<(Instant, Instant, Vec<u8>)>();
    thread::Builder::new()
        .name("latency-proxy-read".into())
        .spawn(move || {
            let mut buf = vec![0u8; CHUNK];
            loop {
                match from.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let arrived = Instant::now();
                        if tx
                            .send((arrived, arrived + delay, buf[..n].to_vec()))
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            }
            // Dropping `tx` tells the writer to finish and close its side.
        })?;
    thread::Builder::new()
        .name("latency-proxy-write".into())
        .spawn(move || {
            while let Ok((arrived, due, bytes)) = rx.recv() {
                let now = Instant::now();
                if due > now {
                    thread::sleep(due - now);
                }
                let started = Instant::now();
                counters.chunks.fetch_add(1, Ordering::Relaxed);
                let applied = started.duration_since(arrived);
                counters
                    .applied_ns
                    .fetch_add(applied.as_nanos() as u64, Ordering::Relaxed);
                let over = applied.saturating_sub(delay).as_nanos() as u64;
                counters.max_overshoot_ns.fetch_max(over, Ordering::Relaxed);
                if to.write_all(&bytes).is_err() {
                    break;
                }
            }
            let _ = to.shutdown(Shutdown::Write);
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server: what goes in comes back.
    fn echo() -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                thread::spawn(move || {
                    let mut conn = conn;
                    let mut buf = [0u8; 1024];
                    while let Ok(n) = conn.read(&mut buf) {
                        if n == 0 || conn.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    fn round_trip(stream: &mut TcpStream, msg: &[u8]) -> Duration {
        let start = Instant::now();
        stream.write_all(msg).expect("write");
        let mut got = vec![0u8; msg.len()];
        stream.read_exact(&mut got).expect("read");
        assert_eq!(got, msg);
        start.elapsed()
    }

    #[test]
    fn adds_the_delay_in_each_direction() {
        let delay = Duration::from_millis(5);
        let proxy = LatencyProxy::start(echo(), delay).expect("proxy");
        let mut stream = TcpStream::connect(proxy.addr()).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        for _ in 0..5 {
            let rtt = round_trip(&mut stream, b"ping");
            assert!(
                rtt >= 2 * delay,
                "round trip {rtt:?} shorter than 2 × {delay:?}"
            );
            assert!(
                rtt < 2 * delay + Duration::from_millis(50),
                "round trip {rtt:?}"
            );
        }
        let stats = proxy.stats();
        assert_eq!(stats.chunks, 10);
        assert!(stats.mean_applied >= delay);
    }

    #[test]
    fn pipelined_messages_are_delayed_not_serialised() {
        let delay = Duration::from_millis(20);
        let proxy = LatencyProxy::start(echo(), delay).expect("proxy");
        let mut stream = TcpStream::connect(proxy.addr()).expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        // Ten messages sent 1 ms apart must all be back after about one round trip (2 × delay,
        // plus the 10 ms of sending), not ten (serialised: at least 20 × delay). The upper bound
        // sits halfway, so a loaded CI machine's scheduling noise cannot fail it.
        let start = Instant::now();
        for i in 0..10u8 {
            stream.write_all(&[i; 8]).expect("write");
            thread::sleep(Duration::from_millis(1));
        }
        let mut got = vec![0u8; 80];
        stream.read_exact(&mut got).expect("read");
        let took = start.elapsed();
        assert!(took >= 2 * delay, "{took:?}");
        assert!(
            took < 10 * delay,
            "pipelined traffic was serialised: {took:?}"
        );
    }
}
