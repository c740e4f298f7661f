//! [`RedisTarget`]: where Redis is, one server or a Redis Cluster.

use crate::StoreError;
use crate::redact_url;
use redis::IntoConnectionInfo;

/// Where the backends' Redis lives.
///
/// One [`Store`](crate::Store) type serves both; the backends do not know which they talk to,
/// because every key they use is laid out for a cluster anyway (see [`crate::slot`]).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RedisTarget {
    /// One Redis server (or a proxy in front of one), by URL, e.g. `redis://127.0.0.1:6379/`.
    Single(String),
    /// A Redis Cluster, by seed nodes (`redis://host:port/` URLs). The client asks the seeds
    /// for the slot map (`CLUSTER SLOTS`) and then talks to every master directly; any one
    /// live seed is enough to start.
    Cluster(Vec<String>),
}

impl RedisTarget {
    /// A single server at `url`.
    pub fn single(url: impl Into<String>) -> Self {
        RedisTarget::Single(url.into())
    }

    /// A cluster from a comma-separated seed list, as `--redis-cluster` takes it:
    /// `host:port[,host:port…]` (each item may also be a full `redis://…` URL, e.g. to carry a
    /// password).
    ///
    /// # Errors
    ///
    /// [`StoreError::Config`] for an empty list, an item without a port, or a port that is not
    /// a number (the message hides any password).
    pub fn cluster(seeds: &str) -> Result<Self, StoreError> {
        let mut urls = Vec::new();
        for item in seeds.split(',').map(str::trim) {
            if item.is_empty() {
                return Err(StoreError::Config(format!(
                    "empty item in the Redis Cluster seed list {:?}",
                    redact_url(seeds)
                )));
            }
            let url = if item.contains("://") {
                item.to_owned()
            } else {
                match item.rsplit_once(':') {
                    Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
                        format!("redis://{item}/")
                    }
                    _ => {
                        return Err(StoreError::Config(format!(
                            "Redis Cluster seed {item:?} is not HOST:PORT"
                        )));
                    }
                }
            };
            url.as_str().into_connection_info().map_err(|e| {
                StoreError::Config(format!(
                    "Redis Cluster seed {} is not a Redis address: {e}",
                    redact_url(&url)
                ))
            })?;
            urls.push(url);
        }
        Ok(RedisTarget::Cluster(urls))
    }

    /// Whether this is a cluster.
    pub fn is_cluster(&self) -> bool {
        matches!(self, RedisTarget::Cluster(_))
    }

    /// `host:port` of a single server, `cluster[host:port,…]` of a cluster's seeds: safe to
    /// print (no password), used in errors and logs.
    pub fn describe(&self) -> String {
        let host_port = |url: &str| match url.into_connection_info() {
            Ok(info) => info.addr().to_string(),
            Err(_) => redact_url(url),
        };
        match self {
            RedisTarget::Single(url) => host_port(url),
            RedisTarget::Cluster(seeds) => format!(
                "cluster[{}]",
                seeds
                    .iter()
                    .map(|s| host_port(s))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }
}

/// Never prints a password: only what [`describe`](RedisTarget::describe) shows.
impl std::fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl std::fmt::Display for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl From<&str> for RedisTarget {
    fn from(url: &str) -> Self {
        RedisTarget::Single(url.to_owned())
    }
}

impl From<&String> for RedisTarget {
    fn from(url: &String) -> Self {
        RedisTarget::Single(url.clone())
    }
}

impl From<&RedisTarget> for RedisTarget {
    fn from(target: &RedisTarget) -> Self {
        target.clone()
    }
}

impl From<String> for RedisTarget {
    fn from(url: String) -> Self {
        RedisTarget::Single(url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_seed_lists_parse() {
        let t = RedisTarget::cluster("127.0.0.1:7000, 127.0.0.1:7001").expect("valid");
        assert_eq!(
            t,
            RedisTarget::Cluster(vec![
                "redis://127.0.0.1:7000/".into(),
                "redis://127.0.0.1:7001/".into()
            ])
        );
        assert_eq!(t.describe(), "cluster[127.0.0.1:7000,127.0.0.1:7001]");
        assert!(t.is_cluster());
        let with_password = RedisTarget::cluster("redis://:s3cret@h:7000/").expect("url item");
        assert!(!format!("{with_password:?}").contains("s3cret"));
        for bad in ["", "h:7000,", "h", "h:x", ":7000", "h:70000"] {
            assert!(
                matches!(RedisTarget::cluster(bad), Err(StoreError::Config(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn single_targets_describe_host_and_port_only() {
        let t = RedisTarget::from("redis://user:pw@host:6379/0");
        assert_eq!(t.describe(), "host:6379");
        assert!(!t.is_cluster());
    }
}
