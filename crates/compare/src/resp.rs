//! A few lines of RESP (the Redis protocol), enough to ask Redis what a strategy costs it:
//! `INFO stats` (commands processed), `SCAN` and `MEMORY USAGE` (bytes per key).
//!
//! The measured backends use redis-rs; this inspector is deliberately separate so that
//! measuring cannot change what is measured.

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `+OK`, or a bulk string.
    Text(String),
    /// `:n`.
    Int(i64),
    /// `*n`.
    Array(Vec<Reply>),
    /// `$-1` / `*-1`.
    Nil,
}

/// A blocking connection to one Redis.
pub struct Inspector {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl Inspector {
    /// Connects to `addr`.
    pub fn connect(addr: SocketAddr) -> Result<Self> {
        let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .with_context(|| format!("connecting to Redis at {addr}"))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        Ok(Self {
            reader: BufReader::new(stream.try_clone()?),
            writer: stream,
        })
    }

    /// Sends one command and reads its reply.
    pub fn command(&mut self, args: &[&str]) -> Result<Reply> {
        let mut out = format!("*{}\r\n", args.len());
        for a in args {
            out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        self.writer.write_all(out.as_bytes())?;
        self.read_reply()
    }

    fn read_reply(&mut self) -> Result<Reply> {
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let line = line.trim_end_matches("\r\n");
        let (kind, rest) = line.split_at(1.min(line.len()));
        match kind {
            "+" => Ok(Reply::Text(rest.to_owned())),
            "-" => bail!("Redis error: {rest}"),
            ":" => Ok(Reply::Int(rest.parse()?)),
            "$" => {
                let n: i64 = rest.parse()?;
                if n < 0 {
                    return Ok(Reply::Nil);
                }
                let mut buf = vec![0u8; n as usize + 2];
                self.reader.read_exact(&mut buf)?;
                buf.truncate(n as usize);
                Ok(Reply::Text(String::from_utf8_lossy(&buf).into_owned()))
            }
            "*" => {
                let n: i64 = rest.parse()?;
                if n < 0 {
                    return Ok(Reply::Nil);
                }
                (0..n)
                    .map(|_| self.read_reply())
                    .collect::<Result<_>>()
                    .map(Reply::Array)
            }
            _ => bail!("unexpected RESP line {line:?}"),
        }
    }

    /// A field of `INFO <section>` as a number.
    pub fn info_field(&mut self, section: &str, field: &str) -> Result<f64> {
        let Reply::Text(text) = self.command(&["INFO", section])? else {
            bail!("INFO returned no text");
        };
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .and_then(|v| v.trim().parse().ok())
            .with_context(|| format!("no {field} in INFO {section}"))
    }

    /// Calls per command from `INFO commandstats` (`cmdstat_get:calls=…`), lower-case names.
    pub fn command_calls(&mut self) -> Result<std::collections::BTreeMap<String, u64>> {
        let Reply::Text(text) = self.command(&["INFO", "commandstats"])? else {
            bail!("INFO returned no text");
        };
        Ok(text
            .lines()
            .filter_map(|l| {
                let rest = l.strip_prefix("cmdstat_")?;
                let (name, stats) = rest.split_once(':')?;
                let calls = stats.split(',').find_map(|kv| kv.strip_prefix("calls="))?;
                Some((name.to_owned(), calls.parse().ok()?))
            })
            .collect())
    }

    /// Every key, with `MEMORY USAGE` of each (bytes, including Redis's own overhead).
    pub fn key_sizes(&mut self) -> Result<Vec<(String, u64)>> {
        let mut cursor = "0".to_owned();
        let mut keys = Vec::new();
        loop {
            let Reply::Array(reply) = self.command(&["SCAN", &cursor, "COUNT", "1000"])? else {
                bail!("SCAN returned no array");
            };
            let (Some(Reply::Text(next)), Some(Reply::Array(batch))) =
                (reply.first(), reply.get(1))
            else {
                bail!("unexpected SCAN reply");
            };
            for k in batch {
                if let Reply::Text(k) = k {
                    keys.push(k.clone());
                }
            }
            cursor = next.clone();
            if cursor == "0" {
                break;
            }
        }
        keys.sort();
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            if let Reply::Int(n) = self.command(&["MEMORY", "USAGE", &k, "SAMPLES", "0"])? {
                out.push((k, n.max(0) as u64));
            }
        }
        Ok(out)
    }
}
