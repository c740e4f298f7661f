//! The private PostgreSQL: starts, answers on its port, survives a stop/restart with its data,
//! and leaves nothing behind when dropped.

use authbench_services::PostgresServer;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Sends a protocol-3 StartupMessage and reads the first byte of the answer: `R` is an
/// authentication request, which only a running, accepting PostgreSQL sends.
fn answers_startup(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut body = Vec::new();
    body.extend_from_slice(&196_608u32.to_be_bytes()); // protocol 3.0
    body.extend_from_slice(b"user\0postgres\0database\0postgres\0\0");
    let mut msg = ((body.len() + 4) as u32).to_be_bytes().to_vec();
    msg.extend_from_slice(&body);
    if stream.write_all(&msg).is_err() {
        return false;
    }
    let mut first = [0u8; 1];
    stream.read_exact(&mut first).is_ok() && first[0] == b'R'
}

#[test]
fn starts_restarts_and_cleans_up() {
    let mut pg = PostgresServer::start().expect("PostgreSQL (install: scripts/setup)");
    assert!(pg.is_running());
    assert!(answers_startup(pg.port()), "log: {}", pg.log_tail(20));
    assert!(pg.url().starts_with("postgres://postgres:"));
    assert!(pg.version().expect("version").starts_with(char::is_numeric));
    let dir = pg.dir().to_owned();
    assert!(dir.join("data/PG_VERSION").exists());

    pg.stop();
    assert!(!pg.is_running());
    assert!(!answers_startup(pg.port()), "stopped server still answers");
    assert!(dir.join("data/PG_VERSION").exists(), "stop keeps the data");
    pg.restart().expect("restart on the same port");
    assert!(answers_startup(pg.port()));

    drop(pg);
    assert!(!dir.exists(), "drop removes {}", dir.display());
}
