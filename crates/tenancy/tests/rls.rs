//! The Row Level Security test plan (cases numbered as in this crate's README), at the SQL / crate level
//! (cases 1–7, 14, 15, 16, 17; the HTTP cases are in crates/server/tests/rls.rs), against one
//! real private PostgreSQL per test binary, one database per test.

use authbench_tenancy::tokio_postgres::{self, NoTls};
use authbench_tenancy::{
    Claims, Database, DatabaseUrls, DbError, GuardError, Policy, PoolOptions, PrivateCluster,
    SeedUser, Uuid, tenant_id, user_id,
};
use std::sync::LazyLock;
use std::time::Duration;

static CLUSTER: LazyLock<PrivateCluster> = LazyLock::new(|| {
    PrivateCluster::start().expect("a private PostgreSQL (install: scripts/setup)")
});

fn alice() -> Claims {
    Claims::for_user("alice", "acme")
}

fn bob() -> Claims {
    Claims::for_user("bob", "globex")
}

fn pool(max_size: usize) -> PoolOptions {
    PoolOptions {
        max_size,
        ..PoolOptions::default()
    }
}

/// A fresh database `name` with alice (acme), bob (globex), carol (globex) and a few notes per
/// tenant in both tables.
async fn setup(name: &str, max_size: usize) -> (DatabaseUrls, Database) {
    let urls = CLUSTER
        .create_database(name)
        .await
        .expect("create database");
    let db = Database::connect(&urls.app, pool(max_size))
        .await
        .expect("connect as authenticator");
    let users =
        [("alice", "acme"), ("bob", "globex"), ("carol", "globex")].map(|(name, tenant)| {
            SeedUser {
                name: name.into(),
                tenant: tenant.into(),
            }
        });
    db.seed(&users).await.expect("seed");
    for policy in [Policy::Claims, Policy::Membership] {
        for i in 0..3 {
            db.insert_note(&alice(), policy, &format!("acme secret {i}"))
                .await
                .expect("insert acme");
            db.insert_note(&bob(), policy, &format!("globex secret {i}"))
                .await
                .expect("insert globex");
        }
    }
    (urls, db)
}

/// A plain client (no pool, no claims) for `url`.
async fn raw(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connect");
    tokio::spawn(connection);
    client
}

async fn pid(tx: &authbench_tenancy::RequestTx) -> i32 {
    tx.client()
        .query_one("select pg_backend_pid()", &[])
        .await
        .expect("pid")
        .get(0)
}

fn sqlstate(e: &DbError) -> Option<String> {
    match e {
        DbError::Query(e) => e.code().map(|c| c.code().to_owned()),
        DbError::PolicyViolation => Some("42501".into()),
        _ => None,
    }
}

#[tokio::test]
async fn case_01_a_tenant_lists_only_its_rows() {
    let (_urls, db) = setup("case01", 2).await;
    for policy in [Policy::Claims, Policy::Membership] {
        let notes = db.list_notes(&alice(), policy).await.expect("list");
        assert_eq!(notes.len(), 4, "{policy:?}: welcome + 3 secrets");
        assert!(notes.iter().all(|n| n.tenant_id == tenant_id("acme")));
        assert!(notes.iter().any(|n| n.body == "welcome to acme"));
        let notes = db.list_notes(&bob(), policy).await.expect("list");
        assert!(notes.iter().all(|n| n.tenant_id == tenant_id("globex")));
        assert_eq!(notes.len(), 4);
    }
}

#[tokio::test]
async fn case_02_inserting_into_another_tenant_violates_the_policy() {
    let (_urls, db) = setup("case02", 2).await;
    for table in ["notes", "notes_m"] {
        let tx = db.begin(&alice()).await.expect("begin");
        let globex = tenant_id("globex");
        let err = tx
            .call(tx.client().query(
                &format!("insert into {table} (tenant_id, body) values ($1, 'x') returning id"),
                &[&globex],
            ))
            .await
            .expect_err("RLS must refuse");
        assert!(matches!(err, DbError::PolicyViolation), "{table}: {err:?}");
        drop(tx);
    }
    // The pool rolled the failed transactions back; nothing landed.
    let notes = db.list_notes(&bob(), Policy::Claims).await.expect("list");
    assert!(notes.iter().all(|n| n.body != "x"));
}

#[tokio::test]
async fn case_03_updates_and_deletes_of_another_tenant_touch_nothing() {
    let (_urls, db) = setup("case03", 2).await;
    let globex = tenant_id("globex");
    for table in ["notes", "notes_m"] {
        let tx = db.begin(&alice()).await.expect("begin");
        let updated = tx
            .call(tx.client().execute(
                &format!("update {table} set body = 'pwned' where tenant_id = $1"),
                &[&globex],
            ))
            .await
            .expect("update runs");
        let deleted = tx
            .call(tx.client().execute(
                &format!("delete from {table} where tenant_id = $1"),
                &[&globex],
            ))
            .await
            .expect("delete runs");
        assert_eq!((updated, deleted), (0, 0), "{table}");
        tx.commit().await.expect("commit");
    }
    for policy in [Policy::Claims, Policy::Membership] {
        let notes = db.list_notes(&bob(), policy).await.expect("list");
        assert_eq!(notes.len(), 4);
        assert!(notes.iter().all(|n| n.body != "pwned"));
    }
}

#[tokio::test]
async fn case_04_no_or_empty_claims_see_nothing_without_error() {
    let (_urls, db) = setup("case04", 2).await;
    for claims in ["", "{}", "{\"sub\":null}"] {
        let tx = db.begin_raw(claims).await.expect("begin");
        for table in ["notes", "notes_m"] {
            let n: i64 = tx
                .call(
                    tx.client()
                        .query_one(&format!("select count(*) from {table}"), &[]),
                )
                .await
                .expect("select works")
                .get(0);
            assert_eq!(n, 0, "claims {claims:?}, {table}");
        }
        tx.commit().await.expect("commit");
    }
}

#[tokio::test]
async fn case_05_a_session_level_set_leaks_into_the_next_request() {
    // Negative test: why the app only ever uses transaction-local settings.
    let (_urls, db) = setup("case05", 1).await;
    let tx = db.begin(&alice()).await.expect("begin");
    tx.call(tx.client().query(
        "select set_config('request.jwt.claims', $1, false)", // false: session-level!
        &[&alice().to_json()],
    ))
    .await
    .expect("set");
    tx.commit().await.expect("commit");

    // The next request on the (only) connection forgets to set claims: it is alice.
    let tx = db.dangerous_begin_forgetting_claims().await.expect("begin");
    let rows = tx
        .call(tx.client().query("select tenant_id from notes", &[]))
        .await
        .expect("select");
    assert!(
        !rows.is_empty(),
        "the leak: alice's rows without any claims set"
    );
    assert!(
        rows.iter()
            .all(|r| r.get::<_, Uuid>(0) == tenant_id("acme"))
    );
    tx.commit().await.expect("commit");

    // The app's way (transaction-local) overrides it for its own transaction…
    let notes = db.list_notes(&bob(), Policy::Claims).await.expect("list");
    assert!(notes.iter().all(|n| n.tenant_id == tenant_id("globex")));
    // …and leaves nothing of its own behind.
    let tx = db.dangerous_begin_forgetting_claims().await.expect("begin");
    let left: Option<String> = tx
        .call(
            tx.client()
                .query_one("select current_setting('request.jwt.claims', true)", &[]),
        )
        .await
        .expect("select")
        .get(0);
    assert_eq!(
        left.as_deref(),
        Some(alice().to_json().as_str()),
        "only the session-level SET survives"
    );
}

#[tokio::test]
async fn case_06_superuser_owner_and_bypassrls_see_everything_so_the_guard_refuses() {
    let (urls, db) = setup("case06", 1).await;
    drop(db);
    let total = |c: tokio_postgres::Client| async move {
        c.query_one("select count(*) from notes", &[])
            .await
            .expect("count")
            .get::<_, i64>(0)
    };
    // Superuser: RLS never applies.
    assert_eq!(
        total(raw(&urls.superuser).await).await,
        8,
        "superuser sees every tenant"
    );
    let err = Database::connect(&urls.superuser, pool(1))
        .await
        .expect_err("guard");
    assert!(
        matches!(err, DbError::Guard(GuardError::Superuser { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("superuser"), "{err}");

    // Owner without FORCE: sees everything.
    let su = raw(&urls.superuser).await;
    su.batch_execute("alter table notes no force row level security")
        .await
        .expect("alter");
    assert_eq!(
        total(raw(&urls.owner).await).await,
        8,
        "owner without FORCE sees all"
    );
    let err = Database::connect(&urls.owner, pool(1))
        .await
        .expect_err("guard");
    assert!(
        matches!(err, DbError::Guard(GuardError::OwnsTable { .. })),
        "{err}"
    );
    // …and the app's own role is refused too while FORCE is off.
    let err = Database::connect(&urls.app, pool(1))
        .await
        .expect_err("guard");
    assert_eq!(
        err.to_string(),
        DbError::Guard(GuardError::NotForced {
            table: "notes".into()
        })
        .to_string()
    );
    su.batch_execute("alter table notes force row level security")
        .await
        .expect("alter");
    assert_eq!(
        total(raw(&urls.owner).await).await,
        0,
        "owner with FORCE and no claims: nothing"
    );
    let err = Database::connect(&urls.owner, pool(1))
        .await
        .expect_err("guard");
    assert!(
        matches!(err, DbError::Guard(GuardError::OwnsTable { .. })),
        "owner refused anyway: {err}"
    );

    // BYPASSRLS.
    su.batch_execute(
        "create role sneaky_case06 login bypassrls password 'sneaky'; \
         grant authenticated to sneaky_case06",
    )
    .await
    .expect("create role");
    let sneaky = urls.app.replace(
        &urls.app[..urls.app.find('@').expect("@")],
        "postgres://sneaky_case06:sneaky",
    );
    assert_eq!(
        total(raw(&sneaky).await).await,
        8,
        "BYPASSRLS sees every tenant"
    );
    let err = Database::connect(&sneaky, pool(1))
        .await
        .expect_err("guard");
    assert!(
        matches!(err, DbError::Guard(GuardError::BypassRls { .. })),
        "{err}"
    );

    // And the right role passes.
    Database::connect(&urls.app, pool(1))
        .await
        .expect("authenticator passes the guard");
}

#[tokio::test]
async fn case_07_sql_level_forgery_works_so_the_trust_boundary_is_the_app() {
    let (_urls, db) = setup("case07", 1).await;
    let tx = db.begin(&alice()).await.expect("begin");
    tx.call(tx.client().query(
        "select set_config('request.jwt.claims', $1, true)",
        &[&bob().to_json()],
    ))
    .await
    .expect("authenticated may set its own claims");
    let rows = tx
        .call(tx.client().query("select tenant_id from notes", &[]))
        .await
        .expect("select");
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r.get::<_, Uuid>(0) == tenant_id("globex")),
        "whoever can run SQL as `authenticated` can be any tenant: never let a client send SQL"
    );
}

#[tokio::test]
async fn case_14_a_non_leakproof_function_in_where_sees_only_permitted_rows() {
    let (urls, db) = setup("case14", 1).await;
    raw(&urls.superuser)
        .await
        .batch_execute(
            "create function public.peek(t text) returns boolean language plpgsql cost 0.0000001 as $$ \
             begin perform set_config('test.seen', coalesce(current_setting('test.seen', true), '') || '|' || t, true); \
             return true; end $$",
        )
        .await
        .expect("create function");
    let tx = db.begin(&alice()).await.expect("begin");
    let rows = tx
        .call(
            tx.client()
                .query("select body from notes where peek(body)", &[]),
        )
        .await
        .expect("select");
    assert_eq!(rows.len(), 4);
    let seen: String = tx
        .call(
            tx.client()
                .query_one("select current_setting('test.seen', true)", &[]),
        )
        .await
        .expect("seen")
        .get(0);
    assert!(seen.contains("acme secret"), "{seen}");
    assert!(
        !seen.contains("globex"),
        "the function saw another tenant's row: {seen}"
    );
}

#[tokio::test]
async fn case_15_pool_reuse_under_concurrency_never_crosses_tenants() {
    let (_urls, db) = setup("case15", 2).await;
    let db = std::sync::Arc::new(db);
    let mut tasks = Vec::new();
    for i in 0..200 {
        let db = std::sync::Arc::clone(&db);
        tasks.push(tokio::spawn(async move {
            let (claims, tenant) = if i % 2 == 0 {
                (alice(), "acme")
            } else {
                (bob(), "globex")
            };
            let policy = if i % 4 < 2 {
                Policy::Claims
            } else {
                Policy::Membership
            };
            let notes = db.list_notes(&claims, policy).await.expect("list");
            assert_eq!(notes.len(), 4);
            assert!(
                notes.iter().all(|n| n.tenant_id == tenant_id(tenant)),
                "request {i} saw another tenant's row"
            );
        }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    assert!(db.stats().transactions >= 200);
}

#[tokio::test]
async fn case_16_a_request_dropped_mid_transaction_leaves_no_claims_behind() {
    let (_urls, db) = setup("case16", 1).await;
    // A request stuck in a slow statement, then abandoned (client gone, timeout).
    let first_pid = {
        let tx = db.begin(&alice()).await.expect("begin");
        let p = pid(&tx).await;
        let slow = tx.call(tx.client().query("select pg_sleep(0.3)", &[]));
        assert!(
            tokio::time::timeout(Duration::from_millis(50), slow)
                .await
                .is_err(),
            "still running when dropped"
        );
        p
    };
    // And a transaction simply dropped without commit.
    drop(db.begin(&alice()).await.expect("begin"));

    let tx = db
        .dangerous_begin_forgetting_claims()
        .await
        .expect("next request");
    assert_eq!(pid(&tx).await, first_pid, "same connection (pool of one)");
    let row = tx
        .call(tx.client().query_one(
            "select current_setting('request.jwt.claims', true), \
             (select count(*) from notes)",
            &[],
        ))
        .await
        .expect("select");
    let claims: Option<String> = row.get(0);
    assert!(
        claims.unwrap_or_default().is_empty(),
        "previous claims gone"
    );
    assert_eq!(row.get::<_, i64>(1), 0, "and with them every row");
    tx.commit().await.expect("commit");
    let notes = db.list_notes(&bob(), Policy::Claims).await.expect("bob");
    assert!(notes.iter().all(|n| n.tenant_id == tenant_id("globex")));
}

#[tokio::test]
async fn case_17_explain_shows_the_policy_as_initplan_and_index_condition() {
    let (urls, db) = setup("case17", 1).await;
    // Enough rows that an index scan is the right plan, then fresh statistics.
    raw(&urls.superuser)
        .await
        .batch_execute(
            "insert into tenants (id, name) select gen_random_uuid(), 't' || g from generate_series(1, 200) g; \
             insert into notes (tenant_id, body) select id, 'n' from tenants, generate_series(1, 100); \
             insert into notes_m (tenant_id, body) select id, 'n' from tenants, generate_series(1, 100); \
             analyze",
        )
        .await
        .expect("bulk load");
    let tx = db.begin(&alice()).await.expect("begin");
    let explain = |sql: &'static str| {
        let c = tx.client();
        async move {
            c.query(&format!("explain {sql}"), &[])
                .await
                .expect("explain")
                .iter()
                .map(|r| r.get::<_, String>(0))
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    let a = explain("select id, tenant_id, body from notes").await;
    assert!(a.contains("InitPlan"), "{a}");
    assert!(a.contains("Index Cond: (tenant_id = $0)"), "{a}");
    let b = explain("select id, tenant_id, body from notes_m").await;
    assert!(b.contains("InitPlan"), "{b}");
    assert!(b.contains("memberships"), "{b}");
    assert!(b.contains("Index Cond: (tenant_id = ANY ("), "{b}");
}

#[tokio::test]
async fn tenant_moves_reach_the_membership_policy_at_once() {
    let (_urls, db) = setup("moves", 2).await;
    db.move_user("alice", "globex").await.expect("move");
    // The old claims (tenant acme, as in a JWT issued before the move):
    let stale = alice();
    let a = db.list_notes(&stale, Policy::Claims).await.expect("A");
    assert!(
        a.iter().all(|n| n.tenant_id == tenant_id("acme")),
        "A trusts the frozen claim"
    );
    assert!(!a.is_empty());
    let b = db.list_notes(&stale, Policy::Membership).await.expect("B");
    assert!(!b.is_empty());
    assert!(
        b.iter().all(|n| n.tenant_id == tenant_id("globex")),
        "B follows the membership"
    );
    // Writing with the stale tenant claim under B is refused, never a 500.
    let err = db
        .insert_note(&stale, Policy::Membership, "late")
        .await
        .expect_err("not a member of acme any more");
    assert_eq!(sqlstate(&err).as_deref(), Some("42501"));
    // A user without membership sees nothing under B.
    db.delete_user("bob").await.expect("delete");
    assert!(
        db.list_notes(&bob(), Policy::Membership)
            .await
            .expect("B")
            .is_empty()
    );
    assert_eq!(
        db.list_notes(&bob(), Policy::Claims)
            .await
            .expect("A")
            .len(),
        4,
        "A still trusts bob's old claim"
    );
    assert_eq!(user_id("alice"), alice().sub);
}

#[tokio::test]
async fn an_unreachable_database_is_unavailable_fast() {
    let started = std::time::Instant::now();
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let err = Database::connect(
        &format!("postgres://authenticator:x@127.0.0.1:{port}/none"),
        pool(1),
    )
    .await
    .expect_err("nothing listens");
    assert!(err.is_unavailable(), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn pooled_connections_carry_server_side_deadlines() {
    let (_urls, db) = setup("deadlines", 1).await;
    let tx = db.begin(&alice()).await.expect("begin");
    let row = tx
        .call(tx.client().query_one(
            "select current_setting('statement_timeout'), \
             current_setting('idle_in_transaction_session_timeout'), current_user::text",
            &[],
        ))
        .await
        .expect("settings");
    assert_eq!(row.get::<_, String>(0), "5s", "PoolOptions::query_timeout");
    assert_eq!(row.get::<_, String>(1), "10s");
    assert_eq!(row.get::<_, String>(2), "authenticated");
}
