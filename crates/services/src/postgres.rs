//! A private, throwaway PostgreSQL per test binary (or per `authbench serve --postgres` run).
//!
//! Real PostgreSQL, never a mock: Row Level Security *is* the database's behaviour, so only
//! the database can test it. [`PostgresServer::start`] runs `initdb` into a temporary
//! directory, then `postgres` on a free loopback port with its unix socket in the same
//! directory, and waits until the log says it accepts connections.
//!
//! # Running as root
//!
//! `initdb` and `postgres` refuse to run as root. When we are root (CI, containers), both run
//! as the `postgres` system user through `setpriv` (util-linux), and the temporary directory is
//! handed to that user first. As any other user they run as that user.
//!
//! # Stopping, even when nobody calls `drop`
//!
//! `postgres` forks a process per connection, so killing one PID is not enough, and a server
//! kept in a `static` (one per test binary) is never dropped. So `postgres` runs under a tiny
//! `sh` watchdog in its own process group: the watchdog holds a pipe from us on its stdin, and
//! when that pipe closes (we drop the server, or our process exits for any reason) it stops
//! the postmaster (immediate shutdown) and removes the directory. [`Drop`] closes the pipe,
//! waits for the watchdog, and kills the whole process group if anything is left.
//!
//! # Fast, not durable
//!
//! `fsync`, `synchronous_commit` and `full_page_writes` are off and `shared_buffers` is small:
//! a test database that loses everything on a crash is exactly what we want, and it starts in
//! about a second.

use crate::error::ServiceError;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

/// Environment variable naming the directory that holds `initdb` and `postgres`.
pub const PG_BIN_ENV: &str = "PG_BIN";

/// How to get PostgreSQL's server binaries, spelled out in every "not found" error.
pub const POSTGRES_INSTALL_HINT: &str = "install them with `sudo apt-get install postgresql` \
(Debian/Ubuntu; the binaries land in /usr/lib/postgresql/<version>/bin), or run `scripts/setup` \
from the repository root; or set PG_BIN=/path/to/postgresql/bin";

/// Where Debian and Ubuntu install the server binaries (one directory per major version).
const DEBIAN_PG_ROOT: &str = "/usr/lib/postgresql";

/// The superuser `initdb` creates.
pub const POSTGRES_SUPERUSER: &str = "postgres";

/// The system user PostgreSQL runs as when we are root.
const POSTGRES_SYSTEM_USER: &str = "postgres";

/// How often a port race is retried with a fresh port (see the Redis spawner for why).
const PORT_ATTEMPTS: usize = 5;

/// Pause between two looks at the log while waiting for readiness.
const PROBE_INTERVAL: Duration = Duration::from_millis(20);

/// How many log lines an error message shows.
const LOG_TAIL_LINES: usize = 20;

/// The line PostgreSQL logs when it accepts connections.
const READY_LINE: &str = "database system is ready to accept connections";

/// How long [`Drop`] waits for an orderly (immediate) shutdown before `SIGKILL`.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// The watchdog: starts `postgres` ($0 and its arguments) in the background; a reader waits
/// for EOF on the watchdog's stdin (saved as fd 3: an asynchronous list gets `/dev/null` as
/// stdin) and then stops the postmaster (SIGQUIT: immediate shutdown). When the postmaster is
/// gone, for whatever reason, the directory is removed and the watchdog exits, so a crashed
/// server is noticed by `try_wait` too.
const WATCHDOG: &str = r#"
exec 3<&0
"$0" "$@" &
pid=$!
( read -r _ <&3; kill -QUIT "$pid" 2>/dev/null ) &
wait "$pid"
status=$?
rm -rf "$AUTHBENCH_PG_DIR"
exit "$status"
"#;

/// How a [`PostgresServer`] is started.
#[derive(Debug, Clone)]
pub struct PostgresServerOptions {
    /// Directory holding `initdb` and `postgres`.
    ///
    /// Defaults to `None`: `$PG_BIN` if set, else the newest `/usr/lib/postgresql/<ver>/bin`,
    /// else the directory of `postgres` or `initdb` on `PATH`.
    pub bin_dir: Option<PathBuf>,
    /// How long to wait for readiness (after `initdb`).
    ///
    /// Defaults to 30 s.
    pub startup_timeout: Duration,
    /// Extra `-c name=value` settings, e.g. `("max_connections", "20")`.
    ///
    /// Defaults to none.
    pub settings: Vec<(String, String)>,
}

impl Default for PostgresServerOptions {
    fn default() -> Self {
        Self {
            bin_dir: None,
            startup_timeout: Duration::from_secs(30),
            settings: Vec::new(),
        }
    }
}

/// A private PostgreSQL owned by the caller, on `127.0.0.1:<port>`.
///
/// The superuser is [`POSTGRES_SUPERUSER`] with a random password ([`url`](Self::url) carries
/// it); TCP logins use SCRAM-SHA-256, the unix socket (in the temporary directory, readable
/// only by its owner) trusts the local user.
#[derive(Debug)]
pub struct PostgresServer {
    bin_dir: PathBuf,
    port: u16,
    /// Holds `data/`, the socket and the log; removed on drop.
    dir: tempfile::TempDir,
    /// The watchdog `sh`; `None` while stopped.
    child: Option<Child>,
    /// Our end of the watchdog's stdin: dropping it stops the server.
    stdin: Option<ChildStdin>,
    password: String,
    /// `Some((uid, gid))` when the server runs as the `postgres` system user.
    run_as: Option<(u32, u32)>,
    options: PostgresServerOptions,
}

impl PostgresServer {
    /// Starts a server with default options; blocks until it accepts connections.
    ///
    /// # Errors
    ///
    /// [`ServiceError::BinaryNotFound`] (naming `scripts/setup` and `apt install postgresql`)
    /// when the binaries are missing; [`ServiceError::Exited`] with the log tail when
    /// `initdb` or `postgres` fails.
    pub fn start() -> Result<Self, ServiceError> {
        Self::start_with(PostgresServerOptions::default())
    }

    /// Starts a server with `options`.
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub fn start_with(options: PostgresServerOptions) -> Result<Self, ServiceError> {
        let bin_dir = match &options.bin_dir {
            Some(dir) => check_bin_dir(dir)?,
            None => find_postgres_bin_dir()?,
        };
        let run_as = if running_as_root() {
            Some(system_user_ids(POSTGRES_SYSTEM_USER)?)
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("authbench-pg-")
            .tempdir()
            .map_err(|e| ServiceError::io("creating a temporary directory for PostgreSQL", e))?;
        let password = random_hex(16)?;
        let mut server = Self {
            bin_dir,
            port: 0,
            dir,
            child: None,
            stdin: None,
            password,
            run_as,
            options,
        };
        server.initdb()?;
        let mut last_error = None;
        for _ in 0..PORT_ATTEMPTS {
            server.port = free_port()?;
            match server.spawn_and_wait() {
                Ok(()) => return Ok(server),
                Err(e @ ServiceError::PortInUse { .. }) => last_error = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last_error.unwrap_or(ServiceError::PortInUse { port: 0 }))
    }

    /// `postgres://postgres:<password>@127.0.0.1:<port>/postgres`: the superuser.
    pub fn url(&self) -> String {
        self.url_for_db("postgres")
    }

    /// The superuser URL of database `db` on this server.
    pub fn url_for_db(&self, db: &str) -> String {
        format!(
            "postgres://{POSTGRES_SUPERUSER}:{}@127.0.0.1:{}/{db}",
            self.password, self.port
        )
    }

    /// The superuser's password (random per server).
    pub fn superuser_password(&self) -> &str {
        &self.password
    }

    /// The loopback port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory that holds the data directory, the unix socket and the log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The last `lines` lines of the server log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log_path(), lines)
    }

    /// Whether the server process is running.
    pub fn is_running(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// The `postgres --version` of the binaries in use, e.g. `"15.18"`.
    ///
    /// # Errors
    ///
    /// [`ServiceError::Spawn`] or [`ServiceError::Version`].
    pub fn version(&self) -> Result<String, ServiceError> {
        postgres_version_in(&self.bin_dir)
    }

    /// Stops the server (immediate shutdown) and keeps the port and the data directory, so
    /// [`restart`](Self::restart) brings the same databases back at the same address: an
    /// outage, for fail-closed tests. Stopping a stopped server does nothing.
    pub fn stop(&mut self) {
        self.shut_down(false);
    }

    /// Stops the server. `remove`: close the watchdog's stdin, so it stops the postmaster and
    /// removes the directory (drop); otherwise `SIGQUIT` the whole process group (the watchdog
    /// dies at once, the postmaster does an immediate shutdown) and keep the data.
    fn shut_down(&mut self, remove: bool) {
        let stdin = self.stdin.take();
        if let Some(mut child) = self.child.take() {
            let group = format!("-{}", child.id());
            if remove {
                drop(stdin);
            } else {
                let _ = Command::new("kill")
                    .args(["-QUIT", "--", &group])
                    .stderr(Stdio::null())
                    .status();
            }
            let pid_file = self.data_dir().join("postmaster.pid");
            let started = Instant::now();
            loop {
                let exited = !matches!(child.try_wait(), Ok(None));
                if (exited && !pid_file.exists()) || started.elapsed() > STOP_GRACE {
                    break;
                }
                std::thread::sleep(PROBE_INTERVAL);
            }
            // Whatever is left of the process group (a stuck backend) goes now.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &group])
                .stderr(Stdio::null())
                .status();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port with the same data.
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start); [`ServiceError::PortInUse`] if the port was taken meanwhile.
    pub fn restart(&mut self) -> Result<(), ServiceError> {
        self.stop();
        self.spawn_and_wait()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    /// A command for `binary` in our bin dir, as the `postgres` user when we are root.
    fn command(&self, binary: &str) -> Command {
        let program = self.bin_dir.join(binary);
        let mut command = match self.run_as {
            Some((uid, gid)) => {
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .arg("--clear-groups")
                    .arg("--");
                c.arg(program);
                c
            }
            None => Command::new(program),
        };
        // The postgres user may not be allowed into our working directory.
        command.current_dir(self.dir.path());
        command
    }

    /// `initdb` into `data/`: UTF-8, C locale, SCRAM over TCP, trust on the private socket.
    fn initdb(&mut self) -> Result<(), ServiceError> {
        let pwfile = self.dir.path().join("pwfile");
        std::fs::write(&pwfile, format!("{}\n", self.password))
            .map_err(|e| ServiceError::io("writing the initdb password file", e))?;
        if let Some((uid, gid)) = self.run_as {
            for path in [self.dir.path(), pwfile.as_path()] {
                std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|e| {
                    ServiceError::io(
                        format!("handing {} to the postgres user", path.display()),
                        e,
                    )
                })?;
            }
        }
        let log = self.log_path();
        let output = self
            .command("initdb")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-U", POSTGRES_SUPERUSER])
            .args(["--auth-host=scram-sha-256", "--auth-local=trust"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .args(["-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"])
            .stdin(Stdio::null())
            .output()
            .map_err(|source| ServiceError::Spawn {
                binary: self.bin_dir.join("initdb"),
                source,
            })?;
        let _ = std::fs::remove_file(&pwfile);
        let _ = std::fs::write(&log, [&output.stdout[..], &output.stderr[..]].concat());
        if output.status.success() {
            Ok(())
        } else {
            Err(ServiceError::Exited {
                binary: self.bin_dir.join("initdb"),
                status: output.status.to_string(),
                log_tail: self.log_tail(LOG_TAIL_LINES),
            })
        }
    }

    fn spawn_and_wait(&mut self) -> Result<(), ServiceError> {
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .map_err(|e| ServiceError::io("opening the PostgreSQL log file", e))?;
        let log_len = log.metadata().map(|m| m.len()).unwrap_or(0);
        let log_err = log
            .try_clone()
            .map_err(|e| ServiceError::io("duplicating the log file handle", e))?;
        let mut command = match self.run_as {
            Some((uid, gid)) => {
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={uid}"))
                    .arg(format!("--regid={gid}"))
                    .args(["--clear-groups", "--", "sh"]);
                c
            }
            None => Command::new("sh"),
        };
        command
            .current_dir(self.dir.path())
            .env("AUTHBENCH_PG_DIR", self.dir.path())
            .args(["-c", WATCHDOG])
            .arg(self.bin_dir.join("postgres"))
            .arg("-D")
            .arg(self.data_dir())
            .args(["-p", &self.port.to_string()])
            .arg("-k")
            .arg(self.dir.path());
        let mut settings: Vec<(String, String)> = [
            ("listen_addresses", "127.0.0.1"),
            ("fsync", "off"),
            ("synchronous_commit", "off"),
            ("full_page_writes", "off"),
            ("shared_buffers", "16MB"),
            ("max_connections", "60"),
            ("logging_collector", "off"),
            ("log_min_messages", "warning"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        settings.extend(self.options.settings.iter().cloned());
        for (name, value) in &settings {
            command.arg("-c").arg(format!("{name}={value}"));
        }
        command
            .process_group(0)
            .stdin(Stdio::piped())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        let mut child = command.spawn().map_err(|source| ServiceError::Spawn {
            binary: self.bin_dir.join("postgres"),
            source,
        })?;
        self.stdin = child.stdin.take();
        self.child = Some(child);
        self.wait_ready(log_len)
    }

    /// Waits for the ready line in the part of the log written since `from`.
    fn wait_ready(&mut self, from: u64) -> Result<(), ServiceError> {
        let started = Instant::now();
        loop {
            let fresh = log_since(&self.log_path(), from);
            if fresh.contains(READY_LINE) {
                return Ok(());
            }
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                self.stdin = None;
                if fresh.contains("Address already in use") {
                    return Err(ServiceError::PortInUse { port: self.port });
                }
                return Err(ServiceError::Exited {
                    binary: self.bin_dir.join("postgres"),
                    status: status.to_string(),
                    log_tail: self.log_tail(LOG_TAIL_LINES),
                });
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

impl Drop for PostgresServer {
    fn drop(&mut self) {
        self.shut_down(true);
    }
}

/// The directory of PostgreSQL's server binaries: `$PG_BIN`, else the newest
/// `/usr/lib/postgresql/<major>/bin`, else where `postgres` or `initdb` is on `PATH`.
///
/// # Errors
///
/// [`ServiceError::BinaryNotFound`] with [`POSTGRES_INSTALL_HINT`].
pub fn find_postgres_bin_dir() -> Result<PathBuf, ServiceError> {
    if let Some(dir) = std::env::var_os(PG_BIN_ENV).filter(|v| !v.is_empty()) {
        return check_bin_dir(Path::new(&dir)).map_err(|_| ServiceError::BinaryNotFound {
            name: "postgres",
            looked: format!(
                "{PG_BIN_ENV}={} has no executable initdb and postgres",
                dir.to_string_lossy()
            ),
            hint: POSTGRES_INSTALL_HINT,
        });
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(DEBIAN_PG_ROOT)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((major, entry.path().join("bin")))
        })
        .collect();
    versions.sort();
    if let Some((_, dir)) = versions
        .into_iter()
        .rev()
        .find(|(_, dir)| check_bin_dir(dir).is_ok())
    {
        return Ok(dir);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if let Ok(dir) = check_bin_dir(&dir) {
                return Ok(dir);
            }
        }
    }
    Err(ServiceError::BinaryNotFound {
        name: "postgres",
        looked: format!(
            "{PG_BIN_ENV} is not set, no {DEBIAN_PG_ROOT}/<version>/bin, no initdb and postgres on PATH"
        ),
        hint: POSTGRES_INSTALL_HINT,
    })
}

/// The version of the PostgreSQL [`PostgresServer::start`] would run, e.g. `"15.18"`.
///
/// # Errors
///
/// As [`find_postgres_bin_dir`], or [`ServiceError::Version`].
pub fn postgres_version() -> Result<String, ServiceError> {
    postgres_version_in(&find_postgres_bin_dir()?)
}

fn postgres_version_in(bin_dir: &Path) -> Result<String, ServiceError> {
    let binary = bin_dir.join("postgres");
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

/// `postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → `15.18`.
fn parse_version(text: &str) -> Option<String> {
    let rest = text.split_once("(PostgreSQL)")?.1;
    rest.split_whitespace().next().map(str::to_owned)
}

fn check_bin_dir(dir: &Path) -> Result<PathBuf, ServiceError> {
    if is_executable(&dir.join("initdb")) && is_executable(&dir.join("postgres")) {
        Ok(dir.to_owned())
    } else {
        Err(ServiceError::BinaryNotFound {
            name: "postgres",
            looked: format!("{} has no executable initdb and postgres", dir.display()),
            hint: POSTGRES_INSTALL_HINT,
        })
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether we run as root: `/proc/self` belongs to our effective user (no `libc`: this crate
/// forbids `unsafe`).
fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `(uid, gid)` of a system user, from `/etc/passwd`.
fn system_user_ids(name: &str) -> Result<(u32, u32), ServiceError> {
    let passwd = std::fs::read_to_string("/etc/passwd")
        .map_err(|e| ServiceError::io("reading /etc/passwd", e))?;
    passwd
        .lines()
        .find_map(|line| {
            let mut fields = line.split(':');
            (fields.next()? == name).then_some(())?;
            let _password = fields.next()?;
            let uid = fields.next()?.parse().ok()?;
            let gid = fields.next()?.parse().ok()?;
            Some((uid, gid))
        })
        .ok_or_else(|| ServiceError::BinaryNotFound {
            name: "postgres",
            looked: format!(
                "running as root, and there is no `{name}` system user to run PostgreSQL as"
            ),
            hint: POSTGRES_INSTALL_HINT,
        })
}

/// `bytes` random bytes from the OS, hex-encoded.
fn random_hex(bytes: usize) -> Result<String, ServiceError> {
    let mut buf = vec![0u8; bytes];
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .map_err(|e| ServiceError::io("reading /dev/urandom", e))?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

fn free_port() -> Result<u16, ServiceError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| ServiceError::io("binding 127.0.0.1:0 to find a free port", e))?;
    Ok(listener
        .local_addr()
        .map_err(|e| ServiceError::io("reading the bound port", e))?
        .port())
}

fn log_since(path: &Path, from: u64) -> String {
    let mut text = Vec::new();
    if let Ok(mut file) = File::open(path) {
        let _ = file.read_to_end(&mut text);
    }
    let from = usize::try_from(from).unwrap_or(0).min(text.len());
    String::from_utf8_lossy(&text[from..]).into_owned()
}

fn tail(path: &Path, lines: usize) -> String {
    let text = log_since(path, 0);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_postgres_version_line() {
        assert_eq!(
            parse_version("postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n").as_deref(),
            Some("15.18")
        );
        assert_eq!(parse_version("nonsense"), None);
    }

    #[test]
    fn a_bad_bin_dir_says_how_to_install() {
        let err = check_bin_dir(Path::new("/nonexistent-authbench")).expect_err("missing");
        let msg = err.to_string();
        assert!(msg.contains("scripts/setup"), "{msg}");
        assert!(msg.contains("apt-get install postgresql"), "{msg}");
    }
}
