//! The one error type of the crate.
//!
//! Only *setup* fails with an [`Error`]: a bad URL, a bad header, an unreadable credentials
//! file, no runtime. Once a run has started, nothing the server does is an `Error`: refused
//! connections, timeouts, resets and non-2xx statuses are *measurements*, counted by kind in
//! [`Report::errors`](crate::Report::errors). A load generator that stopped at the first 503
//! would hide exactly what a skeptic wants to see.

use std::{io, path::PathBuf};

/// Why a run could not be set up, or a report could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The target URL is not an `http://host[:port][/path]` URL.
    #[error("invalid URL {url:?}: {reason}")]
    Url {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A header is not `Name: value`, or is one the generator sets itself.
    #[error("invalid header {header:?}: {reason}")]
    Header {
        /// The header as given.
        header: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An option is out of range (zero connections, a negative rate, …).
    #[error("invalid options: {0}")]
    Options(String),
    /// The host name of the URL did not resolve.
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        /// The host name that did not resolve.
        host: String,
        /// The resolver's answer.
        source: io::Error,
    },
    /// The credentials file could not be read.
    #[error("cannot read credentials file {}: {source}", path.display())]
    Credentials {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The tokio runtime of [`run_blocking`](crate::run_blocking) could not be built.
    #[error("cannot build the tokio runtime: {0}")]
    Runtime(io::Error),
    /// A worker task panicked (a bug in this crate).
    #[error("a load worker failed: {0}")]
    Worker(String),
    /// A histogram could not be encoded or decoded.
    #[error("histogram: {0}")]
    Histogram(String),
}

impl From<crate::report::HistogramError> for Error {
    fn from(e: crate::report::HistogramError) -> Self {
        Self::Histogram(e.0)
    }
}
