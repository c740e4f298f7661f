//! The raw report of one load-generator run: [`Report`], its JSON schema (documented field by
//! field in `crates/loadgen/schema.md`), and a one-screen text [`summary`](Report::summary).
//!
//! Units are in the field names (`_us`, `_s`, `_rps`, `_bytes`) so a JSON reader never guesses.
//! The full latency histogram is embedded (`histogram.data`, HdrHistogram V2 + DEFLATE, base64),
//! so a run folder keeps the raw distribution and any percentile can be recomputed later.
//!
//! The types live here so that a reader of a run folder's `raw/` (`authbench report`) needs
//! neither the load generator nor its HTTP client; `authbench-loadgen` fills them in and
//! re-exports them at their old paths. Encoding and decoding the histogram (and summarizing
//! one) need `hdrhistogram`: the `histogram` feature.

use std::{collections::BTreeMap, fmt, fmt::Write as _};

#[cfg(feature = "histogram")]
use base64::Engine as _;
#[cfg(feature = "histogram")]
use hdrhistogram::{
    Histogram,
    serialization::{Deserializer, Serializer as _, V2DeflateSerializer},
};
use serde::{Deserialize, Serialize};

/// Version of the [`Report`] JSON layout. Bumped on any incompatible change; additions of new
/// fields do not bump it.
pub const SCHEMA_VERSION: u32 = 1;

/// The `histogram.format` string: HdrHistogram's V2 format, DEFLATE-compressed (its "V2
/// compressed" cookie), then standard base64 with padding. Readable by every HdrHistogram
/// implementation (Java, Rust, Python `hdrh`, JS `hdr-histogram-js`).
pub const HISTOGRAM_FORMAT: &str = "hdrhistogram-v2-deflate-base64";

/// Latency histogram bounds: 1 µs to 60 s, 3 significant digits (0.1 % relative error).
/// Latencies above 60 s are clamped to 60 s (and a 60 s latency is a failed run anyway).
pub const HISTOGRAM_HIGHEST_US: u64 = 60_000_000;
/// Significant decimal digits kept by the latency histogram.
pub const HISTOGRAM_SIGFIG: u8 = 3;

/// How a credential from the pool travels on the wire.
///
/// Both forms exist because this project measures bytes on the wire: the same token costs
/// `Authorization: Bearer ` (22 bytes + token) as a header, `Cookie: __Host-authbench=`
/// (25 bytes + token) as a cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialForm {
    /// `Authorization: Bearer <token>` (RFC 6750). The default.
    #[default]
    Bearer,
    /// `Cookie: __Host-authbench=<token>`, as a browser would send it.
    Cookie,
}

/// A histogram that could not be encoded or decoded. Displayed as `histogram: <why>`, as the
/// load generator's `Error::Histogram` (which it converts into) displays it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistogramError(pub String);

impl fmt::Display for HistogramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "histogram: {}", self.0)
    }
}

impl std::error::Error for HistogramError {}

/// Closed or open loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// N connections, each sending its next request as soon as the answer to the previous one
    /// is read. Measures capacity; hides stalls (coordinated omission).
    Closed,
    /// Requests on a fixed schedule, latency from the intended send time. Measures the
    /// latency users would see at that arrival rate, stalls included.
    Open,
}

/// Everything a run measured. See `crates/loadgen/schema.md` for the JSON schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Layout version, [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Closed or open loop.
    pub mode: Mode,
    /// Request method.
    pub method: String,
    /// Target URL as given.
    pub url: String,
    /// The other servers the connections were spread over (empty: `url` alone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spread_over: Vec<String>,
    /// Number of connections (= maximum requests in flight).
    pub connections: usize,
    /// Target rate of the open loop, requests per second; `None` for a closed loop.
    pub rate_rps: Option<f64>,
    /// Warm-up before the measured window, seconds (not recorded).
    pub warmup_s: f64,
    /// Length of the measured window, seconds.
    pub duration_s: f64,
    /// Size of the credential pool (0: no credential sent).
    pub credentials: usize,
    /// How the credentials travelled; `None` when the pool is empty.
    pub credential_form: Option<CredentialForm>,
    /// Requests of the measured window that received a complete response, any status.
    pub requests: u64,
    /// Of [`requests`](Self::requests), those with a 2xx status.
    pub responses_2xx: u64,
    /// `requests / duration_s`.
    pub throughput_rps: f64,
    /// Latency of the recorded requests, microseconds.
    pub latency_us: LatencySummary,
    /// Failures by kind.
    pub errors: Errors,
    /// Connections re-opened after the first one of each worker (after an error, a timeout,
    /// or the server closing a keep-alive connection).
    pub reconnects: u64,
    /// Open loop: recorded requests sent more than [`late_threshold_us`](Self::late_threshold_us)
    /// after their intended instant. `None` for a closed loop.
    pub late: Option<u64>,
    /// The lateness threshold, microseconds (`authbench_loadgen::LATE_THRESHOLD`).
    pub late_threshold_us: u64,
    /// Open loop: requests the schedule intended before the end that were never sent (all
    /// connections busy or down until the end). `None` for a closed loop.
    pub unsent: Option<u64>,
    /// Open loop: how late requests left, `sent − intended`, microseconds. `None` for a closed
    /// loop.
    pub send_lag_us: Option<LagSummary>,
    /// Bytes each request puts on the wire.
    pub request_bytes: RequestBytes,
    /// CPU time (user + system) of the load generator's whole process during the measured
    /// window, seconds. 10 ms resolution. Includes anything else the process runs (a server
    /// started in the same process, in tests).
    pub cpu_time_s: f64,
    /// `cpu_time_s / duration_s`: CPU cores the generator kept busy.
    pub cpu_cores: f64,
    /// `cpu_time_s / requests`, microseconds: the generator's own cost per request.
    pub cpu_per_request_us: f64,
    /// The raw latency distribution.
    pub histogram: EncodedHistogram,
}

/// Latency percentiles, microseconds. Values are HDR bucket values (within 0.1 %).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencySummary {
    /// Smallest.
    pub min: u64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Standard deviation.
    pub stdev: f64,
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p99_9: u64,
    /// Largest.
    pub max: u64,
}

/// Lag summary of an open loop, microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LagSummary {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest.
    pub max: u64,
}

/// Failures by kind. Errors during warm-up are not counted, except `connect`, which counts
/// every failed connection attempt of the run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Errors {
    /// `status + connect + timeout + io`.
    pub total: u64,
    /// Complete responses with a non-2xx status, by status code (JSON keys are the codes as
    /// strings). These requests are also in `requests` and in the latency histogram.
    pub status: BTreeMap<u16, u64>,
    /// Failed connection attempts (refused, unreachable, connect timeout).
    pub connect: u64,
    /// Requests without a complete response within the timeout.
    pub timeout: u64,
    /// Requests that failed on the connection (reset, closed mid-response, bad HTTP).
    pub io: u64,
    /// The first failure's message, to tell "connection refused" from "reset" at a glance.
    pub sample: Option<String>,
}

/// Request size on the wire, bytes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RequestBytes {
    /// Smallest head (request line + headers + blank line) over the credential pool.
    pub head_min: usize,
    /// Largest head over the pool.
    pub head_max: usize,
    /// Mean head over the pool (= mean sent: the pool is visited round robin).
    pub head_mean: f64,
    /// Body.
    pub body: usize,
}

/// A serialized HDR histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncodedHistogram {
    /// [`HISTOGRAM_FORMAT`].
    pub format: String,
    /// Unit of the recorded values: `"us"`.
    pub unit: String,
    /// Lowest discernible value (1).
    pub lowest: u64,
    /// Highest trackable value ([`HISTOGRAM_HIGHEST_US`]).
    pub highest: u64,
    /// Significant decimal digits (3).
    pub significant_figures: u8,
    /// The histogram bytes, base64.
    pub data: String,
}

#[cfg(feature = "histogram")]
impl EncodedHistogram {
    /// Encodes `h` (V2 + DEFLATE, base64).
    pub fn encode(h: &Histogram<u64>) -> Result<Self, HistogramError> {
        let mut bytes = Vec::new();
        V2DeflateSerializer::new()
            .serialize(h, &mut bytes)
            .map_err(|e| HistogramError(format!("{e:?}")))?;
        Ok(Self {
            format: HISTOGRAM_FORMAT.to_owned(),
            unit: "us".to_owned(),
            lowest: 1,
            highest: HISTOGRAM_HIGHEST_US,
            significant_figures: HISTOGRAM_SIGFIG,
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
        })
    }

    /// Decodes the histogram back.
    pub fn decode(&self) -> Result<Histogram<u64>, HistogramError> {
        if self.format != HISTOGRAM_FORMAT {
            return Err(HistogramError(format!("unknown format {:?}", self.format)));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&self.data)
            .map_err(|e| HistogramError(e.to_string()))?;
        Deserializer::new()
            .deserialize(&mut bytes.as_slice())
            .map_err(|e| HistogramError(format!("{e:?}")))
    }
}

#[cfg(feature = "histogram")]
impl LatencySummary {
    /// Summarizes a histogram of microseconds.
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self {
                min: 0,
                mean: 0.0,
                stdev: 0.0,
                p50: 0,
                p90: 0,
                p99: 0,
                p99_9: 0,
                max: 0,
            };
        }
        Self {
            min: h.min(),
            mean: h.mean(),
            stdev: h.stdev(),
            p50: h.value_at_quantile(0.50),
            p90: h.value_at_quantile(0.90),
            p99: h.value_at_quantile(0.99),
            p99_9: h.value_at_quantile(0.999),
            max: h.max(),
        }
    }
}

#[cfg(feature = "histogram")]
impl LagSummary {
    /// Summarizes a histogram of microseconds.
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Self {
                p50: 0,
                p99: 0,
                max: 0,
            };
        }
        Self {
            p50: h.value_at_quantile(0.50),
            p99: h.value_at_quantile(0.99),
            max: h.max(),
        }
    }
}

#[cfg(feature = "histogram")]
impl Report {
    /// The latency histogram, decoded from [`histogram`](Self::histogram).
    pub fn latency_histogram(&self) -> Result<Histogram<u64>, HistogramError> {
        self.histogram.decode()
    }
}

impl Report {
    /// A one-screen, human summary for the terminal (the CLI prints it without `--json`).
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let mode = match (self.mode, self.rate_rps) {
            (Mode::Open, Some(rate)) => {
                format!("open loop at {} req/s", group(rate.round() as u64))
            }
            _ => "closed loop".to_owned(),
        };
        let _ = writeln!(s, "{} {}", self.method, self.url);
        let _ = writeln!(
            s,
            "  {mode}, {} connections, {:.1} s measured after {:.1} s warm-up",
            self.connections, self.duration_s, self.warmup_s
        );
        if let Some(form) = self.credential_form {
            let form = match form {
                CredentialForm::Bearer => "Authorization: Bearer",
                CredentialForm::Cookie => "Cookie",
            };
            let _ = writeln!(s, "  {} credentials, sent as {form}", self.credentials);
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "  requests    {:>12}   ({} 2xx)",
            group(self.requests),
            group(self.responses_2xx)
        );
        let _ = writeln!(s, "  throughput  {:>12.1} req/s", self.throughput_rps);
        let l = &self.latency_us;
        let _ = writeln!(
            s,
            "  latency     p50 {}  p90 {}  p99 {}  p99.9 {}  max {}   (mean {}, stdev {})",
            us(l.p50),
            us(l.p90),
            us(l.p99),
            us(l.p99_9),
            us(l.max),
            us(l.mean.round() as u64),
            us(l.stdev.round() as u64),
        );
        if let (Some(late), Some(unsent)) = (self.late, self.unsent) {
            let lag = self
                .send_lag_us
                .map(|g| {
                    format!(
                        ", send lag p50 {} p99 {} max {}",
                        us(g.p50),
                        us(g.p99),
                        us(g.max)
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  schedule    {} late (> {}), {} unsent{lag}",
                group(late),
                us(self.late_threshold_us),
                group(unsent)
            );
        }
        let e = &self.errors;
        if e.total == 0 {
            let _ = writeln!(s, "  errors      none");
        } else {
            let mut parts: Vec<String> = e
                .status
                .iter()
                .map(|(code, n)| format!("HTTP {code}: {}", group(*n)))
                .collect();
            for (kind, n) in [("connect", e.connect), ("timeout", e.timeout), ("io", e.io)] {
                if n > 0 {
                    parts.push(format!("{kind}: {}", group(n)));
                }
            }
            let _ = writeln!(
                s,
                "  errors      {}  ({})",
                group(e.total),
                parts.join(", ")
            );
            if let Some(sample) = &e.sample {
                let _ = writeln!(s, "              first: {sample}");
            }
        }
        if self.reconnects > 0 {
            let _ = writeln!(s, "  reconnects  {}", group(self.reconnects));
        }
        let b = &self.request_bytes;
        let head = if b.head_min == b.head_max {
            format!("{} B", b.head_min)
        } else {
            format!("{}–{} B (mean {:.1})", b.head_min, b.head_max, b.head_mean)
        };
        let _ = writeln!(s, "  request     head {head}, body {} B", b.body);
        let _ = writeln!(
            s,
            "  loadgen CPU {:.2} s = {:.2} cores, {:.1} µs/request",
            self.cpu_time_s, self.cpu_cores, self.cpu_per_request_us
        );
        s
    }
}

/// `1234567` → `1 234 567` (thin groups read well in any locale).
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Microseconds, printed in the unit that keeps 3–4 significant digits.
fn us(v: u64) -> String {
    match v {
        0..1_000 => format!("{v} µs"),
        1_000..1_000_000 => format!("{:.2} ms", v as f64 / 1e3),
        _ => format!("{:.2} s", v as f64 / 1e6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_and_units() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1 000");
        assert_eq!(group(1234567), "1 234 567");
        assert_eq!(us(999), "999 µs");
        assert_eq!(us(1500), "1.50 ms");
        assert_eq!(us(2_500_000), "2.50 s");
    }

    #[cfg(feature = "histogram")]
    #[test]
    fn histogram_round_trips() {
        let mut h = Histogram::<u64>::new_with_bounds(1, HISTOGRAM_HIGHEST_US, 3).unwrap();
        for v in [1, 50, 51, 999, 123_456, 59_000_000] {
            h.record(v).unwrap();
        }
        let enc = EncodedHistogram::encode(&h).unwrap();
        // The V2-compressed cookie, as documented in schema.md.
        assert!(enc.data.starts_with("HISTF"), "{}", &enc.data[..8]);
        let back = enc.decode().unwrap();
        assert_eq!(back, h);
        assert_eq!(back.value_at_quantile(0.5), h.value_at_quantile(0.5));
    }
}
