//! A private, throwaway `redis-server` per test (or per `authbench serve` run).
//!
//! Real Redis, never a mock: the session backend's behaviour (Lua scripts, TTLs, reconnects
//! after an outage) is exactly what we want to measure and test, and a mock would have to
//! re-implement it. Each [`RedisServer`] is its own process, on its own loopback port, in its
//! own temporary directory, with persistence off, so tests never see each other's keys and a
//! stopped server forgets everything (which is what an outage test wants).
//!
//! Everything here is synchronous (`std::process`, `std::net`): the CLI starts a server before
//! it builds a Tokio runtime, and async tests can call it too (startup blocks for a few tens of
//! milliseconds).

use crate::error::{REDIS_INSTALL_HINT, ServiceError};
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Environment variable that overrides where `redis-server` is found.
pub const REDIS_SERVER_ENV: &str = "REDIS_SERVER";

/// Environment variable that overrides where `redis-cli` is found.
pub const REDIS_CLI_ENV: &str = "REDIS_CLI";

/// How often a port race is retried with a fresh port before giving up. A race needs another
/// process to grab the very port we just released, so two in a row already means something
/// else is wrong.
const PORT_ATTEMPTS: usize = 5;

/// Pause between two readiness probes: short, because a local Redis is usually up in ~10 ms.
const PROBE_INTERVAL: Duration = Duration::from_millis(10);

/// How long one readiness probe may take on loopback before we call it a miss.
const PROBE_TIMEOUT: Duration = Duration::from_millis(200);

/// How many log lines an error message shows: enough for Redis's reason, short enough to read.
const LOG_TAIL_LINES: usize = 20;

/// How a [`RedisServer`] is started.
#[derive(Debug, Clone)]
pub struct RedisServerOptions {
    /// The `redis-server` binary to run.
    ///
    /// Defaults to `None`: the `REDIS_SERVER` environment variable if set, else `redis-server`
    /// from `PATH`.
    pub binary: Option<PathBuf>,
    /// How long to wait for the first `PONG` before giving up with the server's log.
    ///
    /// Defaults to 10 s (a cold start on a busy CI machine takes well under one).
    pub startup_timeout: Duration,
    /// Extra `--option value` arguments appended to the command line, e.g.
    /// `["--maxmemory", "16mb"]`.
    ///
    /// Defaults to none.
    pub extra_args: Vec<String>,
}

impl Default for RedisServerOptions {
    fn default() -> Self {
        Self {
            binary: None,
            startup_timeout: Duration::from_secs(10),
            extra_args: Vec::new(),
        }
    }
}

/// A `redis-server` process owned by the caller, listening on `127.0.0.1:<port>`.
///
/// Started by [`start`](Self::start); killed when dropped. [`stop`](Self::stop) and
/// [`restart`](Self::restart) simulate an outage on the *same* port, so a client that keeps its
/// URL can be seen to fail (closed) and then heal.
///
/// ```no_run
/// let redis = authbench_services::RedisServer::start()?;
/// println!("connect to {}", redis.url());
/// # Ok::<(), authbench_services::ServiceError>(())
/// ```
#[derive(Debug)]
pub struct RedisServer {
    /// Resolved binary, kept so `restart` runs the same one.
    binary: PathBuf,
    /// The port, fixed for the server's whole life (restarts reuse it).
    port: u16,
    /// Working directory (`--dir`) and log file; removed on drop.
    dir: tempfile::TempDir,
    /// The running process; `None` while stopped.
    child: Option<Child>,
    /// Options, kept for `restart`.
    options: RedisServerOptions,
}

impl RedisServer {
    /// Starts a server with default options. Blocks until it answers `PING`.
    ///
    /// # Errors
    ///
    /// [`ServiceError::BinaryNotFound`] (with install instructions) when `redis-server` is
    /// missing; [`ServiceError::Exited`] or [`ServiceError::NotReady`], with the server's log
    /// tail, when it does not come up.
    pub fn start() -> Result<Self, ServiceError> {
        Self::start_with(RedisServerOptions::default())
    }

    /// Starts a server with `options`. Blocks until it answers `PING`.
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub fn start_with(options: RedisServerOptions) -> Result<Self, ServiceError> {
        let binary = match &options.binary {
            Some(path) if is_executable(path) => path.clone(),
            Some(path) => {
                return Err(ServiceError::BinaryNotFound {
                    name: "redis-server",
                    looked: format!("{} is not an executable file", path.display()),
                    hint: REDIS_INSTALL_HINT,
                });
            }
            None => find_redis_server()?,
        };
        let mut dir = tempfile::Builder::new()
            .prefix("authbench-redis-")
            .tempdir()
            .map_err(|e| ServiceError::io("creating a temporary directory for redis-server", e))?;

        // Picking a free port and binding it are two steps, so another process can slip in
        // between. Redis then exits with "Address already in use"; we pick again.
        let mut last_error = None;
        for _ in 0..PORT_ATTEMPTS {
            let port = free_port()?;
            let mut server = Self {
                binary: binary.clone(),
                port,
                dir,
                child: None,
                options: options.clone(),
            };
            match server.spawn_and_wait() {
                Ok(()) => return Ok(server),
                Err(e @ ServiceError::PortInUse { .. }) => {
                    last_error = Some(e);
                    dir = server.take_dir()?;
                }
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or(ServiceError::PortInUse { port: 0 }))
    }

    /// `redis://127.0.0.1:<port>/`, ready for `redis::Client::open`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// The loopback port the server listens on (stable across [`restart`](Self::restart)).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.port))
    }

    /// The process ID while running (for CPU accounting from `/proc`), `None` when stopped.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The server's working directory (removed on drop).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Whether the process is currently running (not [`stop`](Self::stop)ped, not crashed).
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The last `lines` lines of the server's log (stdout and stderr).
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log_path(), lines)
    }

    /// Kills the server (SIGKILL, like a crash) and waits for it to exit. The port and the
    /// directory are kept, so [`restart`](Self::restart) comes back at the same address.
    /// Stopping a stopped server does nothing.
    ///
    /// Persistence is off, so every key is gone after a stop: exactly what happens to sessions
    /// when a Redis without persistence restarts.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Errors mean the process is already gone, which is what we want.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and waits until it answers.
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start); [`ServiceError::PortInUse`] if someone took the port while
    /// the server was down.
    pub fn restart(&mut self) -> Result<(), ServiceError> {
        self.stop();
        self.spawn_and_wait()
    }

    /// Freezes the server (SIGSTOP): the port stays open and connections stay up, but
    /// nothing is answered. This is the *hung* Redis (a long fork, a swapping host, a
    /// stalled VM) that only a response timeout can detect. Undo with [`resume`](Self::resume).
    ///
    /// # Errors
    ///
    /// [`ServiceError::Io`] if the server is not running or `kill` cannot be run.
    pub fn pause(&mut self) -> Result<(), ServiceError> {
        self.signal("-STOP")
    }

    /// Lets a [`pause`](Self::pause)d server run again (SIGCONT).
    ///
    /// # Errors
    ///
    /// As [`pause`](Self::pause).
    pub fn resume(&mut self) -> Result<(), ServiceError> {
        self.signal("-CONT")
    }

    /// Sends a signal with the system `kill` (std can only SIGKILL, and this crate forbids
    /// `unsafe`, so no `libc::kill`).
    fn signal(&mut self, signal: &str) -> Result<(), ServiceError> {
        let pid = match &self.child {
            Some(child) => child.id(),
            None => {
                return Err(ServiceError::io(
                    format!("sending {signal} to redis-server"),
                    std::io::Error::other("the server is not running"),
                ));
            }
        };
        let status = Command::new("kill")
            .arg(signal)
            .arg(pid.to_string())
            .status()
            .map_err(|e| ServiceError::io(format!("running `kill {signal} {pid}`"), e))?;
        if status.success() {
            Ok(())
        } else {
            Err(ServiceError::io(
                format!("`kill {signal} {pid}`"),
                std::io::Error::other(status.to_string()),
            ))
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("redis.log")
    }

    /// Moves the directory out of a server that failed to start, so the next attempt reuses it.
    fn take_dir(mut self) -> Result<tempfile::TempDir, ServiceError> {
        self.stop();
        let placeholder = tempfile::tempdir()
            .map_err(|e| ServiceError::io("creating a temporary directory", e))?;
        Ok(std::mem::replace(&mut self.dir, placeholder))
    }

    fn spawn_and_wait(&mut self) -> Result<(), ServiceError> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| ServiceError::io("opening the redis-server log file", e))?;
        let log_err = log
            .try_clone()
            .map_err(|e| ServiceError::io("duplicating the log file handle", e))?;

        let mut command = Command::new(&self.binary);
        command
            .arg("--port")
            .arg(self.port.to_string())
            .args(["--bind", "127.0.0.1"])
            // No RDB snapshots and no AOF: a test server must not write to disk, and a restart
            // must come back empty.
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            // We own the process; a daemon would escape Drop.
            .args(["--daemonize", "no"])
            .args(&self.options.extra_args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        let child = command.spawn().map_err(|source| ServiceError::Spawn {
            binary: self.binary.clone(),
            source,
        })?;
        self.child = Some(child);
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> Result<(), ServiceError> {
        let started = Instant::now();
        loop {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                let log_tail = self.log_tail(LOG_TAIL_LINES);
                if log_tail.contains("Address already in use") {
                    return Err(ServiceError::PortInUse { port: self.port });
                }
                return Err(ServiceError::Exited {
                    binary: self.binary.clone(),
                    status: status.to_string(),
                    log_tail,
                });
            }
            if ping(self.addr()) {
                return Ok(());
            }
            if started.elapsed() > self.options.startup_timeout {
                let log_tail = self.log_tail(LOG_TAIL_LINES);
                self.stop();
                return Err(ServiceError::NotReady {
                    port: self.port,
                    waited: self.options.startup_timeout,
                    log_tail,
                });
            }
            std::thread::sleep(PROBE_INTERVAL);
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Asks the OS for a free loopback port: bind port 0, read the port, close.
///
/// The port is free *now*; [`RedisServer::start_with`] retries if it is gone by the time Redis
/// binds it.
fn free_port() -> Result<u16, ServiceError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| ServiceError::io("binding 127.0.0.1:0 to find a free port", e))?;
    let port = listener
        .local_addr()
        .map_err(|e| ServiceError::io("reading the bound port", e))?
        .port();
    Ok(port)
}

/// One `PING` over a plain socket (RESP inline command), `true` on `+PONG`.
///
/// Written by hand so this crate needs no Redis client and stays synchronous.
fn ping(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, PROBE_TIMEOUT) else {
        return false;
    };
    if stream.set_read_timeout(Some(PROBE_TIMEOUT)).is_err()
        || stream.write_all(b"PING\r\n").is_err()
    {
        return false;
    }
    let mut reply = [0u8; 7];
    stream.read_exact(&mut reply).is_ok() && &reply == b"+PONG\r\n"
}

/// The last `lines` lines of the file at `path` (empty if unreadable).
fn tail(path: &Path, lines: usize) -> String {
    let mut text = String::new();
    if let Ok(mut file) = File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Finds `name` in the directories of `PATH`, as a shell would.
fn search_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        path.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// Resolves a binary from an environment variable (a path, or a name searched on `PATH`), else
/// from `PATH`.
fn find_binary(name: &'static str, env: &str) -> Result<PathBuf, ServiceError> {
    let from_env: Option<OsString> = std::env::var_os(env).filter(|v| !v.is_empty());
    let found = match &from_env {
        Some(value) => {
            let as_path = PathBuf::from(value);
            if as_path.components().count() > 1 {
                is_executable(&as_path).then_some(as_path)
            } else {
                search_path(&value.to_string_lossy())
            }
        }
        None => search_path(name),
    };
    found.ok_or_else(|| ServiceError::BinaryNotFound {
        name,
        looked: match from_env {
            Some(value) => format!(
                "{env}={} is not an executable file",
                value.to_string_lossy()
            ),
            None => format!("{env} is not set and it is not on PATH"),
        },
        hint: REDIS_INSTALL_HINT,
    })
}

/// The `redis-server` binary: `$REDIS_SERVER` if set, else the first one on `PATH`.
///
/// # Errors
///
/// [`ServiceError::BinaryNotFound`], whose message says how to install it.
pub fn find_redis_server() -> Result<PathBuf, ServiceError> {
    find_binary("redis-server", REDIS_SERVER_ENV)
}

/// The `redis-cli` binary: `$REDIS_CLI`, else next to `redis-server`, else on `PATH`.
///
/// # Errors
///
/// [`ServiceError::BinaryNotFound`]; Debian's `redis-server` package brings `redis-cli`
/// (through `redis-tools`).
pub fn redis_cli_path() -> Result<PathBuf, ServiceError> {
    if std::env::var_os(REDIS_CLI_ENV).is_none()
        && let Ok(server) = find_redis_server()
        && let Some(sibling) = server.parent().map(|d| d.join("redis-cli"))
        && is_executable(&sibling)
    {
        return Ok(sibling);
    }
    find_binary("redis-cli", REDIS_CLI_ENV)
}

/// The version of the `redis-server` [`RedisServer::start`] would run, e.g. `"7.0.15"`
/// (recorded in every results run).
///
/// # Errors
///
/// [`ServiceError::BinaryNotFound`] when missing, [`ServiceError::Version`] when its
/// `--version` output has no `v=` field.
pub fn redis_server_version() -> Result<String, ServiceError> {
    let binary = find_redis_server()?;
    let output = Command::new(&binary)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|source| ServiceError::Spawn {
            binary: binary.clone(),
            source,
        })?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    parse_version(&text).ok_or(ServiceError::Version {
        binary,
        output: text,
    })
}

/// `Redis server v=7.0.15 sha=00000000:0 …` → `7.0.15`.
fn parse_version(text: &str) -> Option<String> {
    text.split_whitespace()
        .find_map(|word| word.strip_prefix("v="))
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_redis_version_line() {
        let line = "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d";
        assert_eq!(parse_version(line).as_deref(), Some("7.0.15"));
        assert_eq!(parse_version("nonsense"), None);
    }

    #[test]
    fn missing_binaries_say_how_to_install() {
        let err = find_binary("authbench-no-such-binary", "AUTHBENCH_NO_SUCH_ENV_VAR")
            .expect_err("not installed");
        let msg = err.to_string();
        assert!(msg.contains("sudo apt-get install redis-server"), "{msg}");
        assert!(msg.contains("scripts/setup"), "{msg}");
        assert!(
            msg.contains("AUTHBENCH_NO_SUCH_ENV_VAR is not set"),
            "{msg}"
        );
    }

    #[test]
    fn tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("log");
        std::fs::write(&path, "a\nb\nc\n").expect("write");
        assert_eq!(tail(&path, 2), "b\nc");
        assert_eq!(tail(&path, 10), "a\nb\nc");
        assert_eq!(tail(&dir.path().join("missing"), 3), "");
    }
}
