//! The Redis spawner against the real `redis-server`: start, answer, stop, restart, drop.

use authbench_services::{RedisServer, redis_cli_path, redis_server_version};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn start() -> RedisServer {
    RedisServer::start().unwrap_or_else(|e| panic!("{e}"))
}

/// Sends one inline command and returns the first reply line.
fn send(server: &RedisServer, command: &str) -> std::io::Result<String> {
    let mut s = TcpStream::connect_timeout(&server.addr(), Duration::from_millis(500))?;
    s.set_read_timeout(Some(Duration::from_millis(500)))?;
    s.write_all(format!("{command}\r\n").as_bytes())?;
    let mut buf = [0u8; 256];
    let n = s.read(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).trim_end().to_owned())
}

#[test]
fn starts_answers_and_is_private() {
    let a = start();
    let b = start();
    assert_ne!(a.port(), b.port(), "two servers, two ports");
    assert_eq!(a.url(), format!("redis://127.0.0.1:{}/", a.port()));
    assert_eq!(send(&a, "PING").expect("ping"), "+PONG");
    assert_eq!(send(&a, "SET k v").expect("set"), "+OK");
    // The other server does not see a's key.
    assert_eq!(send(&b, "EXISTS k").expect("exists"), ":0");
    // Persistence is off.
    assert_eq!(
        send(&a, "CONFIG GET save").expect("config"),
        "*2\r\n$4\r\nsave\r\n$0"
    );
}

#[test]
fn stop_and_restart_keep_the_port_and_forget_the_data() {
    let mut r = start();
    let port = r.port();
    send(&r, "SET k v").expect("set");
    r.stop();
    assert!(!r.is_running());
    assert!(
        send(&r, "PING").is_err(),
        "a stopped server refuses connections"
    );
    r.restart().unwrap_or_else(|e| panic!("{e}"));
    assert!(r.is_running());
    assert_eq!(r.port(), port);
    assert_eq!(
        send(&r, "EXISTS k").expect("exists"),
        ":0",
        "no persistence"
    );
}

#[test]
fn pause_freezes_and_resume_thaws() {
    let mut r = start();
    r.pause().expect("pause");
    assert!(send(&r, "PING").is_err(), "a paused server answers nothing");
    r.resume().expect("resume");
    assert_eq!(send(&r, "PING").expect("ping"), "+PONG");
}

#[test]
fn drop_kills_the_server_and_removes_its_directory() {
    let r = start();
    let addr = r.addr();
    let dir = r.dir().to_path_buf();
    assert!(dir.exists());
    drop(r);
    assert!(TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err());
    assert!(!dir.exists());
}

#[test]
fn reports_version_and_finds_redis_cli() {
    let v = redis_server_version().unwrap_or_else(|e| panic!("{e}"));
    assert!(
        v.split('.').count() == 3 && v.chars().next().is_some_and(|c| c.is_ascii_digit()),
        "{v}"
    );
    let cli = redis_cli_path().unwrap_or_else(|e| panic!("{e}"));
    assert!(cli.ends_with("redis-cli"));
}

#[test]
fn a_missing_binary_fails_with_install_instructions() {
    let err = RedisServer::start_with(authbench_services::RedisServerOptions {
        binary: Some("/nonexistent/redis-server".into()),
        ..Default::default()
    })
    .expect_err("no such binary");
    let msg = err.to_string();
    assert!(msg.contains("/nonexistent/redis-server"), "{msg}");
    assert!(msg.contains("apt-get install redis-server"), "{msg}");
}
