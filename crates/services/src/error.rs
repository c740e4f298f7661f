//! What can go wrong while starting a throwaway service.

use std::path::PathBuf;
use std::time::Duration;

/// How to get the `redis-server` binary, spelled out in every "not found" error.
///
/// A test that needs Redis fails with this text rather than skipping: a silently skipped test
/// looks exactly like a passing one.
pub const REDIS_INSTALL_HINT: &str = "install it with `sudo apt-get install redis-server` \
(Debian/Ubuntu), `brew install redis` (macOS), or run `scripts/setup` from the repository root; \
or set REDIS_SERVER=/path/to/redis-server";

/// An error from the service spawners.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The service binary is neither where the environment variable points nor on `PATH`.
    #[error("`{name}` not found ({looked}); {hint}")]
    BinaryNotFound {
        /// The binary we looked for, e.g. `redis-server`.
        name: &'static str,
        /// Where we looked.
        looked: String,
        /// How to install it.
        hint: &'static str,
    },

    /// The binary exists but could not be started.
    #[error("could not start `{binary}`: {source}")]
    Spawn {
        /// The binary we tried to run.
        binary: PathBuf,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },

    /// The server exited before it answered.
    #[error("`{binary}` exited during startup ({status}); last log lines:\n{log_tail}")]
    Exited {
        /// The binary that exited.
        binary: PathBuf,
        /// Its exit status.
        status: String,
        /// The end of its log, which usually says why.
        log_tail: String,
    },

    /// The port we picked was taken between picking and binding (another process raced us).
    #[error("port {port} was taken before the server could bind it")]
    PortInUse {
        /// The port.
        port: u16,
    },

    /// The server is running but did not answer in time.
    #[error(
        "server on port {port} did not answer PING within {waited:?}; last log lines:\n{log_tail}"
    )]
    NotReady {
        /// The port it should listen on.
        port: u16,
        /// How long we waited.
        waited: Duration,
        /// The end of its log.
        log_tail: String,
    },

    /// The binary's `--version` output did not look like a version.
    #[error("could not read a version from `{binary} --version`: {output:?}")]
    Version {
        /// The binary we asked.
        binary: PathBuf,
        /// What it printed.
        output: String,
    },

    /// Any other I/O failure (temporary directory, log file, local socket).
    #[error("{context}: {source}")]
    Io {
        /// What we were doing.
        context: String,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
}

impl ServiceError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}
