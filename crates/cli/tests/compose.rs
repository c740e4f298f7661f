//! `docker-compose.yml` cannot run here (no Docker engine on CI), so this checks what can go
//! stale without anyone noticing: the services and ports the file declares, the commands the
//! README shows for them, and the `authbench` flags those commands use.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_serde::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn compose() -> Value {
    let path = root().join("docker-compose.yml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    yaml_serde::from_str(&text).unwrap_or_else(|e| panic!("docker-compose.yml is not YAML: {e}"))
}

fn service<'a>(c: &'a Value, name: &str) -> &'a Value {
    c["services"]
        .get(name)
        .unwrap_or_else(|| panic!("docker-compose.yml has no service {name:?}"))
}

/// A service's command as one string (list or scalar form).
fn command(s: &Value) -> String {
    match &s["command"] {
        Value::Sequence(parts) => parts
            .iter()
            .map(|p| p.as_str().expect("command parts are strings"))
            .collect::<Vec<_>>()
            .join(" "),
        Value::String(text) => text.clone(),
        other => panic!("unexpected command {other:?}"),
    }
}

/// `"127.0.0.1:6379:6379"` entries of a service's `ports`.
fn published(s: &Value) -> Vec<(String, u16, u16)> {
    s.get("ports")
        .and_then(Value::as_sequence)
        .map(|ports| {
            ports
                .iter()
                .map(|p| {
                    let p = p.as_str().expect("ports are strings");
                    let parts: Vec<&str> = p.split(':').collect();
                    assert_eq!(
                        parts.len(),
                        3,
                        "{p:?}: give HOST_IP:HOST_PORT:CONTAINER_PORT"
                    );
                    (
                        parts[0].to_owned(),
                        parts[1].parse().expect("host port"),
                        parts[2].parse().expect("container port"),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).expect("README.md")
}

fn help(sub: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_authbench"))
        .args([sub, "--help"])
        .output()
        .expect("run authbench");
    assert!(out.status.success(), "authbench {sub} --help failed");
    String::from_utf8(out.stdout).expect("utf-8 help")
}

#[test]
fn services_are_the_ones_the_design_names() {
    let c = compose();
    let names: BTreeSet<&str> = c["services"]
        .as_mapping()
        .expect("services")
        .keys()
        .map(|k| k.as_str().expect("service names are strings"))
        .collect();
    let expected: BTreeSet<&str> = [
        "redis",
        "redis-cluster-1",
        "redis-cluster-2",
        "redis-cluster-3",
        "redis-cluster-init",
        "postgres",
    ]
    .into();
    assert_eq!(names, expected);
    for name in &names {
        let image = service(&c, name)["image"].as_str().unwrap_or_default();
        assert!(
            image.starts_with("redis:7") || image.starts_with("postgres:15"),
            "{name}: image {image:?} (we test against Redis 7 and PostgreSQL 15)"
        );
    }
}

#[test]
fn published_ports_are_loopback_only_and_match_the_commands() {
    let c = compose();
    let redis = published(service(&c, "redis"));
    assert_eq!(redis, [("127.0.0.1".to_owned(), 6379, 6379)]);
    assert!(command(service(&c, "redis")).contains("--port 6379"));
    let pg = published(service(&c, "postgres"));
    assert_eq!(pg, [("127.0.0.1".to_owned(), 5432, 5432)]);

    // Cluster nodes announce their own addresses to clients: host networking, loopback bind,
    // and the init job creates the cluster from exactly these nodes.
    let init = command(service(&c, "redis-cluster-init"));
    for (i, port) in [7001u16, 7002, 7003].iter().enumerate() {
        let node = service(&c, &format!("redis-cluster-{}", i + 1));
        assert_eq!(node["network_mode"].as_str(), Some("host"));
        assert!(
            published(node).is_empty(),
            "host networking publishes nothing"
        );
        let cmd = command(node);
        for needle in [
            format!("--port {port}"),
            "--bind 127.0.0.1".to_owned(),
            "--cluster-enabled yes".to_owned(),
        ] {
            assert!(
                cmd.contains(&needle),
                "redis-cluster-{}: {cmd:?} lacks {needle:?}",
                i + 1
            );
        }
        assert!(
            init.contains(&format!("127.0.0.1:{port}")),
            "init misses {port}"
        );
    }
    assert!(init.contains("--cluster create"));
}

#[test]
fn postgres_gets_roles_then_schema_then_the_password_the_readme_uses() {
    let c = compose();
    let mounts: Vec<(String, String)> = service(&c, "postgres")["volumes"]
        .as_sequence()
        .expect("postgres volumes")
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|v| {
            let mut parts = v.split(':');
            let (host, inside) = (parts.next()?, parts.next()?);
            let name = inside.strip_prefix("/docker-entrypoint-initdb.d/")?;
            Some((name.to_owned(), host.to_owned()))
        })
        .collect();
    let sql = |host: &str| {
        std::fs::read_to_string(root().join(host)).unwrap_or_else(|e| panic!("{host}: {e}"))
    };
    // The entrypoint runs them in name order: roles before the schema that grants to them.
    let mut names: Vec<&str> = mounts.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    let hosts: Vec<&str> = names
        .iter()
        .map(|n| mounts.iter().find(|(m, _)| m == n).unwrap().1.as_str())
        .collect();
    assert_eq!(
        hosts,
        [
            "./crates/tenancy/sql/roles.sql",
            "./crates/tenancy/sql/schema.sql",
            "./compose/postgres/30-demo-password.sql",
        ],
        "the schema the app's guard expects, in order"
    );
    assert!(sql(hosts[0]).contains("'authenticator'"));
    assert!(
        sql(hosts[1])
            .to_lowercase()
            .contains("force row level security")
    );
    let password_sql = sql(hosts[2]);
    let password = password_sql
        .split("alter role authenticator password '")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("the demo password file sets authenticator's password");
    let db = service(&c, "postgres")["environment"]["POSTGRES_DB"]
        .as_str()
        .expect("POSTGRES_DB");

    // The README's URL logs in as that role, with that password, into that database, on the
    // published port.
    let expected = format!("postgres://authenticator:{password}@127.0.0.1:5432/{db}");
    assert!(
        readme().contains(&format!("--database-url {expected}")),
        "README lacks `--database-url {expected}`"
    );
}

#[test]
fn the_readme_shows_the_flags_that_reach_these_services_and_they_exist() {
    let readme = readme();
    let serve = help("serve");
    let compare = help("compare");
    for (flag, value) in [
        ("--redis-url", "redis://127.0.0.1:6379/"),
        (
            "--redis-cluster",
            "127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003",
        ),
    ] {
        let shown = format!("{flag} {value}");
        assert!(readme.contains(&shown), "README lacks `{shown}`");
        assert!(serve.contains(flag), "authbench serve has no {flag}");
        assert!(compare.contains(flag), "authbench compare has no {flag}");
    }
    assert!(readme.contains("docker compose up"));
    assert!(
        serve.contains("--database-url"),
        "authbench serve has no --database-url"
    );
    assert!(
        serve.contains("--postgres"),
        "authbench serve has no --postgres"
    );
}
