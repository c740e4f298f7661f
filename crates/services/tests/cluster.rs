//! The Redis Cluster spawner against the real binaries: it forms, reports its nodes, routes
//! slots, fails a master over to its replica, and stops on drop.

use authbench_services::{NodeRole, RedisCluster};
use std::time::Duration;

#[test]
fn three_masters_form_a_cluster_covering_every_slot() {
    let mut cluster = RedisCluster::start().unwrap_or_else(|e| panic!("{e}"));
    let seeds = cluster.seeds();
    assert_eq!(seeds.split(',').count(), 3, "{seeds}");
    let nodes = cluster.nodes().expect("nodes");
    assert_eq!(nodes.len(), 3);
    assert!(
        nodes
            .iter()
            .all(|n| n.role == NodeRole::Master && !n.failed)
    );
    let covered: u32 = nodes
        .iter()
        .flat_map(|n| n.slots.iter())
        .map(|&(a, b)| u32::from(b - a) + 1)
        .sum();
    assert_eq!(covered, 16_384, "every slot served once");
    // Redis hashes only the tag: two keys with one tag share a slot.
    let a = cluster.key_slot("authbench:session:{Ab}:x").expect("slot");
    let b = cluster.key_slot("authbench:user:{Ab}:y").expect("slot");
    assert_eq!(a, b);
    let master = cluster.master_of_slot(a).expect("a master");
    assert!(master.serves(a));

    let pids: Vec<u16> = cluster.live_ports();
    drop(cluster);
    for port in pids {
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "node on {port} still running after drop"
        );
    }
}

#[test]
fn a_killed_master_is_replaced_by_its_replica() {
    let mut cluster = RedisCluster::start_with_replicas().unwrap_or_else(|e| panic!("{e}"));
    let nodes = cluster.nodes().expect("nodes");
    assert_eq!(nodes.len(), 6);
    let masters: Vec<_> = nodes
        .iter()
        .filter(|n| n.role == NodeRole::Master)
        .collect();
    let replicas: Vec<_> = nodes
        .iter()
        .filter(|n| n.role == NodeRole::Replica)
        .collect();
    assert_eq!((masters.len(), replicas.len()), (3, 3));
    assert!(
        masters.iter().all(|m| replicas
            .iter()
            .any(|r| r.master_id.as_deref() == Some(&m.id))),
        "every master has a replica"
    );

    let slot = 0;
    let dead = cluster.kill_master_of_slot(slot).expect("kill");
    let took = cluster
        .wait_for_failover(&dead, slot, Duration::from_secs(30))
        .expect("failover");
    let successor = cluster.master_of_slot(slot).expect("new master");
    assert_ne!(successor.id, dead.id);
    assert!(
        replicas.iter().any(|r| r.id == successor.id),
        "the successor was a replica"
    );
    assert!(took > Duration::ZERO);
    assert_eq!(cluster.live_ports().len(), 5);
}
