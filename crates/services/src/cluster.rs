//! A private, throwaway Redis Cluster: N masters (and optionally a replica each) from the system
//! `redis-server`, formed with `redis-cli --cluster create`, on free loopback ports in
//! temporary directories, stopped on drop.
//!
//! Like [`RedisServer`], everything here is synchronous (`std::process`): the cluster is driven
//! through `redis-cli`, whose text output is parsed, so this crate needs no Redis client. A
//! three-master cluster forms in about two seconds (`redis-cli` waits for the nodes to agree on
//! the configuration).
//!
//! [`RedisCluster::kill_master_of_slot`], [`RedisCluster::wait_for_failover`] and
//! [`parse_replication`] are what a failover test needs; the whole experiment ("how
//! many acknowledged logouts does a master failover lose?") is `authbench compare`'s
//! (`authbench_compare::failover`).

use crate::error::ServiceError;
use crate::redis::{RedisServer, RedisServerOptions, redis_cli_path};
pub use authbench_spec::record::scale::ReplicationSnapshot;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A cluster problem, as the crate's I/O error with context "Redis Cluster".
fn cluster_error(message: String) -> ServiceError {
    ServiceError::io("Redis Cluster", std::io::Error::other(message))
}

/// Pause between two polls of the cluster's state.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// How a [`RedisCluster`] is started.
#[derive(Debug, Clone)]
pub struct RedisClusterOptions {
    /// Masters (at least 3: Redis Cluster's minimum for a majority to agree on failures).
    ///
    /// Defaults to 3.
    pub masters: usize,
    /// Replicas per master (`--cluster-replicas`); at least 1 for a failover to be possible.
    ///
    /// Defaults to 0.
    pub replicas_per_master: usize,
    /// `cluster-node-timeout`: how long a node may be unreachable before it is suspected, and
    /// so the bulk of a failover's duration. Redis's default is 15 s; tests want a short one,
    /// but not so short that a busy CI machine triggers spurious failovers.
    ///
    /// Defaults to 1 s.
    pub node_timeout: Duration,
    /// How long to wait for every node to report `cluster_state:ok`.
    ///
    /// Defaults to 20 s.
    pub startup_timeout: Duration,
    /// Extra `--option value` arguments for every node, e.g.
    /// `["--cluster-require-full-coverage", "no"]` (let the other masters serve while one is
    /// down without a replica).
    ///
    /// Defaults to none.
    pub extra_args: Vec<String>,
}

impl Default for RedisClusterOptions {
    fn default() -> Self {
        Self {
            masters: 3,
            replicas_per_master: 0,
            node_timeout: Duration::from_secs(1),
            startup_timeout: Duration::from_secs(20),
            extra_args: Vec::new(),
        }
    }
}

/// A node's role, as `CLUSTER NODES` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeRole {
    /// Serves slots (or could).
    Master,
    /// Replicates a master.
    Replica,
}

/// One node of the cluster, as a live node sees it (`CLUSTER NODES`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNodeInfo {
    /// The node's 40-character ID.
    pub id: String,
    /// Loopback port.
    pub port: u16,
    /// Master or replica.
    pub role: NodeRole,
    /// For a replica, the ID of its master.
    pub master_id: Option<String>,
    /// Whether the cluster considers it failed (`fail` flag; `fail?` does not count).
    pub failed: bool,
    /// Slot ranges served (inclusive), masters only.
    pub slots: Vec<(u16, u16)>,
}

impl ClusterNodeInfo {
    /// Whether this node serves `slot`.
    pub fn serves(&self, slot: u16) -> bool {
        self.slots.iter().any(|&(a, b)| (a..=b).contains(&slot))
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, self.port))
    }
}

/// A Redis Cluster owned by the caller: every node a [`RedisServer`] with
/// `--cluster-enabled yes`, on loopback, in its own temporary directory; all killed on drop.
///
/// ```no_run
/// let cluster = authbench_services::RedisCluster::start()?;
/// println!("--redis-cluster {}", cluster.seeds());
/// # Ok::<(), authbench_services::ServiceError>(())
/// ```
#[derive(Debug)]
pub struct RedisCluster {
    /// The nodes, in creation order (the first `masters` were created as masters).
    nodes: Vec<RedisServer>,
    /// The `redis-cli` binary.
    cli: PathBuf,
    /// Options, as given.
    options: RedisClusterOptions,
}

impl RedisCluster {
    /// Three masters, no replicas. Blocks until the cluster is `ok`.
    ///
    /// # Errors
    ///
    /// [`ServiceError::BinaryNotFound`] (with install instructions) when `redis-server` or
    /// `redis-cli` is missing; [`ServiceError::Io`] (context "Redis Cluster") when the cluster does not form.
    pub fn start() -> Result<Self, ServiceError> {
        Self::start_with(RedisClusterOptions::default())
    }

    /// Three masters with one replica each: the shape a failover needs.
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub fn start_with_replicas() -> Result<Self, ServiceError> {
        Self::start_with(RedisClusterOptions {
            replicas_per_master: 1,
            ..RedisClusterOptions::default()
        })
    }

    /// Starts `masters × (1 + replicas_per_master)` nodes and forms the cluster.
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub fn start_with(options: RedisClusterOptions) -> Result<Self, ServiceError> {
        if options.masters < 3 {
            return Err(cluster_error(format!(
                "a Redis Cluster needs at least 3 masters, not {}",
                options.masters
            )));
        }
        let cli = redis_cli_path()?;
        let count = options.masters * (1 + options.replicas_per_master);
        let node_timeout_ms = options.node_timeout.as_millis().max(1).to_string();
        let mut args: Vec<String> = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            &node_timeout_ms,
            // A replica may always take over, however long it was cut off: on loopback the
            // data is at most milliseconds old, and a test must not wait for a manual
            // failover.
            "--cluster-replica-validity-factor",
            "0",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.extend(options.extra_args.iter().cloned());
        let mut nodes = Vec::with_capacity(count);
        for _ in 0..count {
            nodes.push(RedisServer::start_with(RedisServerOptions {
                extra_args: args.clone(),
                ..RedisServerOptions::default()
            })?);
        }
        let cluster = Self {
            nodes,
            cli,
            options,
        };
        cluster.create()?;
        cluster.wait_until_ok(cluster.options.startup_timeout)?;
        cluster.wait_for_roles(cluster.options.startup_timeout)?;
        Ok(cluster)
    }

    /// `redis-cli --cluster create … --cluster-replicas R --cluster-yes`.
    fn create(&self) -> Result<(), ServiceError> {
        let mut command = Command::new(&self.cli);
        command.arg("--cluster").arg("create");
        for node in &self.nodes {
            command.arg(node.addr().to_string());
        }
        command
            .arg("--cluster-replicas")
            .arg(self.options.replicas_per_master.to_string())
            .arg("--cluster-yes")
            .stdin(Stdio::null());
        let output = command.output().map_err(|source| ServiceError::Spawn {
            binary: self.cli.clone(),
            source,
        })?;
        let text = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() || !text.contains("[OK] All 16384 slots covered") {
            return Err(cluster_error(format!(
                "`redis-cli --cluster create` failed ({}):\n{text}\n{}",
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok(())
    }

    /// The seed list for `--redis-cluster`: `127.0.0.1:<port>,…`, every node.
    pub fn seeds(&self) -> String {
        self.nodes
            .iter()
            .map(|n| n.addr().to_string())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Every node's address, in creation order (running or not).
    pub fn addrs(&self) -> Vec<SocketAddr> {
        self.nodes.iter().map(RedisServer::addr).collect()
    }

    /// The ports of the nodes still running.
    pub fn live_ports(&mut self) -> Vec<u16> {
        self.nodes
            .iter_mut()
            .filter_map(|n| n.is_running().then(|| n.port()))
            .collect()
    }

    /// Runs `redis-cli -p <port> <args…>` and returns its stdout (raw, `--no-raw` off).
    ///
    /// # Errors
    ///
    /// [`ServiceError::Io`] (context "Redis Cluster") when `redis-cli` fails or prints an error reply.
    pub fn cli(&self, port: u16, args: &[&str]) -> Result<String, ServiceError> {
        let output = Command::new(&self.cli)
            .arg("-p")
            .arg(port.to_string())
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| ServiceError::Spawn {
                binary: self.cli.clone(),
                source,
            })?;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() || text.starts_with("ERR") || text.contains("Could not") {
            return Err(cluster_error(format!(
                "`redis-cli -p {port} {}` failed: {text}{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        Ok(text)
    }

    /// The node list as the first live node sees it (`CLUSTER NODES`).
    ///
    /// # Errors
    ///
    /// [`ServiceError::Io`] (context "Redis Cluster") when no node answers.
    pub fn nodes(&mut self) -> Result<Vec<ClusterNodeInfo>, ServiceError> {
        let mut last = None;
        for port in self.live_ports() {
            match self.cli(port, &["CLUSTER", "NODES"]) {
                Ok(text) => return Ok(parse_cluster_nodes(&text)),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| cluster_error("no node is running".into())))
    }

    /// The hash slot of `key`, as Redis computes it (`CLUSTER KEYSLOT`).
    ///
    /// # Errors
    ///
    /// [`ServiceError::Io`] (context "Redis Cluster") when no node answers.
    pub fn key_slot(&mut self, key: &str) -> Result<u16, ServiceError> {
        let port = *self
            .live_ports()
            .first()
            .ok_or_else(|| cluster_error("no node is running".into()))?;
        let text = self.cli(port, &["CLUSTER", "KEYSLOT", key])?;
        text.trim()
            .parse()
            .map_err(|_| cluster_error(format!("CLUSTER KEYSLOT answered {text:?}")))
    }

    /// The master serving `slot` now.
    ///
    /// # Errors
    ///
    /// [`ServiceError::Io`] (context "Redis Cluster") when no live master serves it.
    pub fn master_of_slot(&mut self, slot: u16) -> Result<ClusterNodeInfo, ServiceError> {
        self.nodes()?
            .into_iter()
            .find(|n| n.role == NodeRole::Master && !n.failed && n.serves(slot))
            .ok_or_else(|| cluster_error(format!("no live master serves slot {slot}")))
    }

    /// Kills (SIGKILL, like a crash) the node listening on `port`.
    ///
    /// # Errors
    ///
    /// [`ServiceError::Io`] (context "Redis Cluster") when no node of ours has that port.
    pub fn kill_node(&mut self, port: u16) -> Result<(), ServiceError> {
        let node = self
            .nodes
            .iter_mut()
            .find(|n| n.port() == port)
            .ok_or_else(|| cluster_error(format!("no node on port {port}")))?;
        node.stop();
        Ok(())
    }

    /// Kills the master serving `slot` and returns what it was.
    ///
    /// # Errors
    ///
    /// As [`master_of_slot`](Self::master_of_slot).
    pub fn kill_master_of_slot(&mut self, slot: u16) -> Result<ClusterNodeInfo, ServiceError> {
        let master = self.master_of_slot(slot)?;
        self.kill_node(master.port)?;
        Ok(master)
    }

    /// Restarts a killed node on its port (empty: persistence is off). It rejoins the cluster
    /// from its `nodes.conf`; a former master comes back as a replica of its successor.
    ///
    /// # Errors
    ///
    /// As [`RedisServer::restart`].
    pub fn restart_node(&mut self, port: u16) -> Result<(), ServiceError> {
        let node = self
            .nodes
            .iter_mut()
            .find(|n| n.port() == port)
            .ok_or_else(|| cluster_error(format!("no node on port {port}")))?;
        node.restart()
    }

    /// Waits until every running node reports `cluster_state:ok`; returns how long it took.
    ///
    /// # Errors
    ///
    /// [`ServiceError::Io`] (context "Redis Cluster") with the last `CLUSTER INFO` seen when `timeout` passes.
    pub fn wait_until_ok(&self, timeout: Duration) -> Result<Duration, ServiceError> {
        let started = Instant::now();
        loop {
            let mut last = String::new();
            let all_ok = self.nodes.iter().all(|n| {
                if n.pid().is_none() {
                    return true;
                }
                match self.cli(n.port(), &["CLUSTER", "INFO"]) {
                    Ok(text) if text.contains("cluster_state:ok") => true,
                    Ok(text) => {
                        last = text;
                        false
                    }
                    Err(e) => {
                        last = e.to_string();
                        false
                    }
                }
            });
            if all_ok {
                return Ok(started.elapsed());
            }
            if started.elapsed() > timeout {
                return Err(cluster_error(format!(
                    "cluster not ok within {timeout:?}; last CLUSTER INFO:\n{last}"
                )));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Waits until every node sees the roles `create` asked for: `masters` masters, each with
    /// its `replicas_per_master` replicas. `cluster_state:ok` comes first (the slots are
    /// covered as soon as the masters agree), while a replica's `CLUSTER REPLICATE` still
    /// travels by gossip; on a loaded machine a node can list a replica as a master for a
    /// moment after that.
    fn wait_for_roles(&self, timeout: Duration) -> Result<(), ServiceError> {
        let started = Instant::now();
        let masters = self.options.masters;
        let replicas = masters * self.options.replicas_per_master;
        loop {
            let mut last = String::new();
            let agreed = self.nodes.iter().filter(|n| n.pid().is_some()).all(|n| {
                match self.cli(n.port(), &["CLUSTER", "NODES"]) {
                    Ok(text) => {
                        let view = parse_cluster_nodes(&text);
                        let count = |role| view.iter().filter(|v| v.role == role).count();
                        let seen = (count(NodeRole::Master), count(NodeRole::Replica));
                        last = format!("node {} sees {seen:?} (masters, replicas)", n.port());
                        seen == (masters, replicas)
                    }
                    Err(e) => {
                        last = e.to_string();
                        false
                    }
                }
            });
            if agreed {
                return Ok(());
            }
            if started.elapsed() > timeout {
                return Err(cluster_error(format!(
                    "the nodes did not agree on {masters} masters and {replicas} replicas \
                     within {timeout:?}; {last}"
                )));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Waits until `slot` is served by a live master other than `dead` (its replica was
    /// promoted) and every running node reports `cluster_state:ok`. Returns how long it took.
    ///
    /// # Errors
    ///
    /// [`ServiceError::Io`] (context "Redis Cluster") when `timeout` passes first.
    pub fn wait_for_failover(
        &mut self,
        dead: &ClusterNodeInfo,
        slot: u16,
        timeout: Duration,
    ) -> Result<Duration, ServiceError> {
        let started = Instant::now();
        loop {
            if self.promoted(dead, slot) {
                let left = timeout.saturating_sub(started.elapsed());
                self.wait_until_ok(left)?;
                return Ok(started.elapsed());
            }
            if started.elapsed() > timeout {
                return Err(cluster_error(format!(
                    "no replica took over slot {slot} from port {} within {timeout:?}",
                    dead.port
                )));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Whether a live master other than `dead` serves `slot`, as every live node sees it.
    pub fn promoted(&mut self, dead: &ClusterNodeInfo, slot: u16) -> bool {
        let ports = self.live_ports();
        !ports.is_empty()
            && ports.iter().all(|&port| {
                self.cli(port, &["CLUSTER", "NODES"]).is_ok_and(|text| {
                    parse_cluster_nodes(&text).iter().any(|n| {
                        n.role == NodeRole::Master && !n.failed && n.id != dead.id && n.serves(slot)
                    })
                })
            })
    }
}

/// Parses `CLUSTER NODES` output:
/// `<id> <ip:port@cport> <flags> <master> <ping> <pong> <epoch> <link> <slot>…`.
fn parse_cluster_nodes(text: &str) -> Vec<ClusterNodeInfo> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 8 {
                return None;
            }
            let port = fields[1]
                .split('@')
                .next()?
                .rsplit_once(':')?
                .1
                .parse()
                .ok()?;
            let flags: Vec<&str> = fields[2].split(',').collect();
            let role = if flags.contains(&"master") {
                NodeRole::Master
            } else {
                NodeRole::Replica
            };
            let slots = fields[8..]
                .iter()
                .filter(|s| !s.starts_with('['))
                .filter_map(|s| match s.split_once('-') {
                    Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                    None => {
                        let n = s.parse().ok()?;
                        Some((n, n))
                    }
                })
                .collect();
            Some(ClusterNodeInfo {
                id: fields[0].to_owned(),
                port,
                role,
                master_id: (fields[3] != "-").then(|| fields[3].to_owned()),
                failed: flags.contains(&"fail"),
                slots,
            })
        })
        .collect()
}

/// Parses the node on `port`'s `INFO replication` text, stamped `at_ms` (the caller's clock,
/// e.g. ms relative to a kill). The snapshot is a `run.json` record type, so it lives in
/// `authbench-spec`.
pub fn parse_replication(port: u16, text: &str, at_ms: f64) -> ReplicationSnapshot {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(name)?.strip_prefix(':'))
            .map(str::to_owned)
    };
    let number = |name: &str| field(name).and_then(|v| v.parse::<u64>().ok());
    let replica_acked_offsets = text
        .lines()
        .filter(|l| l.starts_with("slave") && l.contains("offset="))
        .filter_map(|l| {
            let (_, rest) = l.split_once(':')?;
            let mut port = None;
            let mut offset = None;
            for kv in rest.trim().split(',') {
                match kv.split_once('=') {
                    Some(("port", v)) => port = v.parse().ok(),
                    Some(("offset", v)) => offset = v.parse().ok(),
                    _ => {}
                }
            }
            Some((port?, offset?))
        })
        .collect();
    ReplicationSnapshot {
        port,
        role: field("role").unwrap_or_default(),
        master_port: number("master_port").and_then(|p| u16::try_from(p).ok()),
        master_repl_offset: number("master_repl_offset").unwrap_or(0),
        slave_repl_offset: number("slave_repl_offset"),
        replica_acked_offsets,
        at_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_info_replication() {
        let master = "# Replication\r\nrole:master\r\nconnected_slaves:1\r\n\
slave0:ip=127.0.0.1,port=7003,state=online,offset=1180,lag=0\r\n\
master_repl_offset:1234\r\n";
        let m = parse_replication(7000, master, -2.0);
        assert_eq!(m.role, "master");
        assert_eq!(m.master_repl_offset, 1234);
        assert_eq!(m.replica_acked_offsets, vec![(7003, 1180)]);
        assert_eq!(m.slave_repl_offset, None);
        let replica = "role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:7000\r\n\
slave_read_repl_offset:0\r\nslave_repl_offset:0\r\nmaster_repl_offset:0\r\n";
        let r = parse_replication(7003, replica, 1.0);
        assert_eq!(r.master_port, Some(7000));
        assert_eq!(r.slave_repl_offset, Some(0));
        assert!(r.replica_acked_offsets.is_empty());
    }

    #[test]
    fn parses_cluster_nodes() {
        let text = "\
07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@40004 slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@40002 master - 0 1426238316232 2 connected 5461-10922
e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460 [5461->-67ed]
6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@40005 master,fail - 1426238316232 0 5 disconnected 10923-16383 7
";
        let nodes = parse_cluster_nodes(text);
        assert_eq!(nodes.len(), 4);
        assert_eq!(nodes[0].role, NodeRole::Replica);
        assert_eq!(nodes[0].port, 30004);
        assert!(nodes[0].master_id.as_deref().unwrap().starts_with("e7d1"));
        assert!(nodes[1].serves(5461) && !nodes[1].serves(5460));
        assert_eq!(nodes[2].slots, vec![(0, 5460)]);
        assert!(nodes[3].failed);
        assert!(nodes[3].serves(7) && nodes[3].serves(16383));
    }
}
