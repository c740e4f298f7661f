//! [`Durability`]: whether a write (a revocation) must reach a replica before it counts.
//!
//! # Why
//!
//! Redis replication is asynchronous: a master answers `OK` as soon as the write is in its own
//! memory and streams it to its replicas afterwards. When the master dies, the replica that
//! takes over has everything up to its replication offset and nothing after. A logout the
//! server acknowledged in that gap is gone: the credential works again. How big the gap is
//! depends on the load (on a busy machine, the replication stream runs tens of milliseconds
//! behind), so "it is tiny on loopback" is a hope, not a property.
//!
//! `WAIT <replicas> <timeout-ms>` blocks the calling connection until `replicas` replicas
//! have acknowledged everything that connection wrote, or the timeout passes, and answers how
//! many did. With [`Durability::Replica`] every revocation write is followed by `WAIT 1` on the
//! same connection to the same node (see [`Store::write`](crate::Store::write)): a replica has
//! the revocation before the server answers 204, so the replica a failover promotes has it too.
//! No replica in time (none configured, one down, one far behind) means the logout is **not
//! acknowledged** ([`StoreError::NotReplicated`](crate::StoreError::NotReplicated), 503): fail
//! closed, the client knows to try again.
//!
//! What it is not: `WAIT` does not make Redis strongly consistent (a replica that acknowledged
//! may still lose a later election to one that did not, with more than one replica per master;
//! with one replica per master, as our cluster runs, the one that acknowledged is the one
//! promoted), and it says nothing about disk (`WAITAOF`, Redis 7.2+, does).
//!
//! # Cost
//!
//! One more command in the same round trip, plus the time the replica takes to confirm (the
//! master asks at once, `REPLCONF GETACK`, rather than waiting for the once-a-second ack).
//! `WAIT` blocks its connection, so durable writes use a dedicated connection (one per node),
//! never the one every verify shares: a slow replica slows logouts, not requests.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Replicas that must confirm a durable write: 1 (our clusters run one replica per master).
pub const REPLICAS: u32 = 1;

/// How long a durable write waits for its replica by default: 250 ms. A replica on loopback or
/// in the same zone confirms in well under a millisecond; a quarter second absorbs a busy
/// machine, and stays under the 500 ms response timeout so the `WAIT` can answer.
pub const DEFAULT_REPLICA_WAIT: Duration = Duration::from_millis(250);

/// How a revocation write must be confirmed before the server acknowledges it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Durability {
    /// The master's `OK` is enough (Redis's default: asynchronous replication; a failover can
    /// lose the last acknowledged writes).
    #[default]
    None,
    /// A replica must confirm (`WAIT 1 <timeout>`) or the write is not acknowledged.
    Replica {
        /// How long to wait for the replica. Defaults to [`DEFAULT_REPLICA_WAIT`].
        timeout: Duration,
    },
}

impl Durability {
    /// `replica` with the default wait.
    pub const fn replica() -> Self {
        Durability::Replica {
            timeout: DEFAULT_REPLICA_WAIT,
        }
    }

    /// `none` or `replica`, as the CLI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Durability::None => "none",
            Durability::Replica { .. } => "replica",
        }
    }
}

impl fmt::Display for Durability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Durability {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Durability::None),
            "replica" => Ok(Durability::replica()),
            other => Err(format!(
                "unknown revocation durability {other:?} (expected none or replica)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in [Durability::None, Durability::replica()] {
            assert_eq!(d.as_str().parse::<Durability>(), Ok(d));
        }
        assert!("disk".parse::<Durability>().is_err());
        assert_eq!(Durability::default(), Durability::None);
    }
}
