//! [`Database`]: the app's handle on PostgreSQL, and every query the app runs.

use crate::error::DbError;
use crate::ids::{tenant_id, user_id};
use crate::pool::{Checkout, Pool, PoolOptions};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, NoTls, Row};
use uuid::Uuid;

/// Longest note body, in bytes. Bigger notes are refused before any SQL.
pub const MAX_NOTE_BYTES: usize = 4096;

/// Which Row Level Security policy a request goes through (the crate README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// Variant A, table `notes`: trusts the `tenant_id` claim. For a JWT that claim is frozen
    /// at login; a tenant move reaches it only when the token is replaced.
    #[default]
    Claims,
    /// Variant B, table `notes_m`: identity (`sub`) from the credential, tenant membership
    /// looked up live in `memberships` on every statement.
    Membership,
}

impl Policy {
    /// `"claims"` or `"membership"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::Claims => "claims",
            Policy::Membership => "membership",
        }
    }

    /// The table the variant guards.
    pub fn table(self) -> &'static str {
        match self {
            Policy::Claims => "notes",
            Policy::Membership => "notes_m",
        }
    }
}

impl std::str::FromStr for Policy {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "claims" => Ok(Policy::Claims),
            "membership" => Ok(Policy::Membership),
            _ => Err(()),
        }
    }
}

/// What the policies read from `request.jwt.claims`: `{"sub": <user uuid>, "tenant_id":
/// <tenant uuid>}`, built from the verified credential (a JWT's claims or a session record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Claims {
    /// The user's id ([`user_id`] of the subject).
    pub sub: Uuid,
    /// The tenant's id ([`tenant_id`] of the tenant name).
    pub tenant_id: Uuid,
}

impl Claims {
    /// The claims of a user `subject` acting for tenant `tenant` (names, mapped to ids).
    pub fn for_user(subject: &str, tenant: &str) -> Self {
        Self {
            sub: user_id(subject),
            tenant_id: tenant_id(tenant),
        }
    }

    /// The JSON put in the `request.jwt.claims` setting.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"sub\":\"{}\",\"tenant_id\":\"{}\",\"role\":\"authenticated\"}}",
            self.sub, self.tenant_id
        )
    }
}

/// One note, as `GET /notes` and `POST /notes` return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// Row id.
    pub id: i64,
    /// The tenant the row belongs to.
    pub tenant_id: Uuid,
    /// The text.
    pub body: String,
}

impl Note {
    fn from_row(row: &Row) -> Self {
        Self {
            id: row.get(0),
            tenant_id: row.get(1),
            body: row.get(2),
        }
    }
}

/// A user to seed: name and tenant name (the server's user table is the source of truth).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedUser {
    /// Login name (`alice`).
    pub name: String,
    /// Tenant name (`acme`).
    pub tenant: String,
}

/// Counters, for tests and `compare` (all since [`Database::connect`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DbStats {
    /// Request transactions started (each `GET`/`POST /notes`, each [`Database::begin`]).
    pub transactions: u64,
}

/// Why a note body is refused before any SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NoteBodyError {
    /// Empty or only whitespace.
    #[error("empty_note")]
    Empty,
    /// Over [`MAX_NOTE_BYTES`].
    #[error("note_too_long")]
    TooLong,
    /// Contains a NUL character, which PostgreSQL `text` cannot store.
    #[error("invalid_note")]
    Nul,
}

/// Checks a note body: non-blank, at most [`MAX_NOTE_BYTES`], no NUL.
pub fn check_note_body(body: &str) -> Result<(), NoteBodyError> {
    if body.trim().is_empty() {
        Err(NoteBodyError::Empty)
    } else if body.len() > MAX_NOTE_BYTES {
        Err(NoteBodyError::TooLong)
    } else if body.contains('\0') {
        Err(NoteBodyError::Nul)
    } else {
        Ok(())
    }
}

/// The app's database: a pool of connections logged in as `authenticator`, checked by the
/// start-up guard. Cheap to share (`Arc` it).
pub struct Database {
    pool: Pool,
    transactions: AtomicU64,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("pool", self.pool.options())
            .field("transactions", &self.transactions.load(Ordering::Relaxed))
            .finish()
    }
}

/// Opens one plain connection (no pool), with a connect deadline.
pub(crate) async fn connect_one(
    url: &str,
    timeout: std::time::Duration,
) -> Result<Client, DbError> {
    let config: tokio_postgres::Config = url
        .parse()
        .map_err(|e| DbError::Schema(format!("bad database URL: {e}")))?;
    let (client, connection) = tokio::time::timeout(timeout, config.connect(NoTls))
        .await
        .map_err(|_| DbError::Unavailable(format!("connecting took longer than {timeout:?}")))?
        .map_err(DbError::from_pg)?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(client)
}

impl Database {
    /// Connects to `url` (the `authenticator` login, e.g.
    /// `postgres://authenticator:PASSWORD@127.0.0.1:5432/authbench`) and runs the start-up
    /// guard: superuser, `BYPASSRLS`, table owner, RLS not forced → [`DbError::Guard`].
    ///
    /// # Errors
    ///
    /// [`DbError::Guard`] when the guard refuses, [`DbError::Unavailable`] when the server
    /// cannot be reached.
    pub async fn connect(url: &str, options: PoolOptions) -> Result<Self, DbError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| DbError::Schema(format!("bad database URL: {e}")))?;
        let pool = Pool::new(config, options);
        let client = pool.open().await?;
        crate::guard::check(&client)
            .await
            .map_err(DbError::from_pg)??;
        // The guarded connection becomes the pool's first: a schema problem shows at start,
        // not on request 1.
        pool.adopt(client).await?;
        Ok(Self {
            pool,
            transactions: AtomicU64::new(0),
        })
    }

    /// Counters since connect.
    pub fn stats(&self) -> DbStats {
        DbStats {
            transactions: self.transactions.load(Ordering::Relaxed),
        }
    }

    async fn checkout(&self) -> Result<Checkout, DbError> {
        self.transactions.fetch_add(1, Ordering::Relaxed);
        self.pool.get().await
    }

    /// The caller's tenant's notes, newest first (at most [`LIST_LIMIT`](crate::LIST_LIMIT)).
    ///
    /// One pipelined round trip: `BEGIN`, `set_config` (claims and role, transaction-local),
    /// the `SELECT`, `COMMIT`, sent together and answered together.
    ///
    /// # Errors
    ///
    /// [`DbError::Unavailable`] when the database cannot answer in time.
    pub async fn list_notes(&self, claims: &Claims, policy: Policy) -> Result<Vec<Note>, DbError> {
        let checkout = self.checkout().await?;
        let conn = checkout.conn();
        let json = claims.to_json();
        let list = match policy {
            Policy::Claims => &conn.stmts.list_claims,
            Policy::Membership => &conn.stmts.list_membership,
        };
        let c = &conn.client;
        let set_params: [&(dyn ToSql + Sync); 1] = [&json];
        let run = async {
            let (_, _, rows, _) = tokio::try_join!(
                c.batch_execute("begin"),
                c.query(&conn.stmts.set_claims, &set_params),
                c.query(list, &[]),
                c.batch_execute("commit"),
            )?;
            Ok(rows)
        };
        let result = checkout.call(run).await;
        // Whatever happened, COMMIT (or the rollback PostgreSQL does for a failed transaction)
        // went out in the same pipeline: the connection is clean unless it broke.
        checkout.finish();
        Ok(result?.iter().map(Note::from_row).collect())
    }

    /// Inserts a note into the caller's tenant (the tenant comes from the claims, never from
    /// the request body) and returns the row (`returning`).
    ///
    /// # Errors
    ///
    /// [`DbError::PolicyViolation`] when the policy refuses the row (variant B after the user
    /// left the tenant their credential names), [`DbError::Unavailable`] as above. Check the
    /// body with [`check_note_body`] first.
    pub async fn insert_note(
        &self,
        claims: &Claims,
        policy: Policy,
        body: &str,
    ) -> Result<Note, DbError> {
        let checkout = self.checkout().await?;
        let conn = checkout.conn();
        let json = claims.to_json();
        let insert = match policy {
            Policy::Claims => &conn.stmts.insert_claims,
            Policy::Membership => &conn.stmts.insert_membership,
        };
        let c = &conn.client;
        let set_params: [&(dyn ToSql + Sync); 1] = [&json];
        let insert_params: [&(dyn ToSql + Sync); 1] = [&body];
        let run = async {
            let (_, _, row, _) = tokio::try_join!(
                c.batch_execute("begin"),
                c.query(&conn.stmts.set_claims, &set_params),
                c.query_one(insert, &insert_params),
                c.batch_execute("commit"),
            )?;
            Ok(row)
        };
        let result = checkout.call(run).await;
        checkout.finish();
        Ok(Note::from_row(&result?))
    }

    /// Starts a request transaction with `claims` set, as every request does; for tests and
    /// teaching (run your own SQL through [`RequestTx::client`]).
    ///
    /// # Errors
    ///
    /// [`DbError::Unavailable`].
    pub async fn begin(&self, claims: &Claims) -> Result<RequestTx, DbError> {
        self.begin_raw(&claims.to_json()).await
    }

    /// Like [`begin`](Self::begin) with any text as the claims setting (`""` = no claims).
    ///
    /// # Errors
    ///
    /// [`DbError::Unavailable`].
    pub async fn begin_raw(&self, claims_json: &str) -> Result<RequestTx, DbError> {
        let checkout = self.checkout().await?;
        let conn = checkout.conn();
        let c = &conn.client;
        let set_params: [&(dyn ToSql + Sync); 1] = [&claims_json];
        checkout
            .call(async {
                tokio::try_join!(
                    c.batch_execute("begin"),
                    c.query(&conn.stmts.set_claims, &set_params)
                )
            })
            .await?;
        Ok(RequestTx { checkout })
    }

    /// DANGEROUS, for the negative test only: a transaction as `authenticated` that **does not
    /// set the claims**, so it sees whatever a previous session-level `SET` left on the
    /// connection. This is the bug transaction-local settings prevent (test plan case 5).
    ///
    /// # Errors
    ///
    /// [`DbError::Unavailable`].
    pub async fn dangerous_begin_forgetting_claims(&self) -> Result<RequestTx, DbError> {
        let checkout = self.checkout().await?;
        let c = &checkout.conn().client;
        checkout
            .call(c.batch_execute("begin; set local role authenticated"))
            .await?;
        Ok(RequestTx { checkout })
    }

    /// Creates (or updates) users, tenants and memberships from the server's user table, then
    /// gives every tenant a welcome note in both `notes` and `notes_m` if it has none.
    /// Idempotent; a user's membership is replaced by the tenant given here.
    ///
    /// # Errors
    ///
    /// [`DbError::Unavailable`], [`DbError::Query`].
    pub async fn seed(&self, users: &[SeedUser]) -> Result<(), DbError> {
        let user_ids: Vec<Uuid> = users.iter().map(|u| user_id(&u.name)).collect();
        let emails: Vec<String> = users
            .iter()
            .map(|u| format!("{}@example.invalid", u.name))
            .collect();
        let member_tenants: Vec<Uuid> = users.iter().map(|u| tenant_id(&u.tenant)).collect();
        // First member of each tenant: the welcome notes are written in their name.
        let mut tenants: BTreeMap<&str, &str> = BTreeMap::new();
        for u in users {
            tenants.entry(&u.tenant).or_insert(&u.name);
        }
        let tenant_ids: Vec<Uuid> = tenants.keys().map(|t| tenant_id(t)).collect();
        let tenant_names: Vec<String> = tenants.keys().map(|t| (*t).to_owned()).collect();
        self.as_admin(&[
            (
                "insert into tenants (id, name) select * from unnest($1::uuid[], $2::text[]) \
                 on conflict (id) do nothing",
                &[&tenant_ids, &tenant_names],
            ),
            (
                "insert into users (id, email) select * from unnest($1::uuid[], $2::text[]) \
                 on conflict (id) do nothing",
                &[&user_ids, &emails],
            ),
            (
                "delete from memberships where user_id = any($1)",
                &[&user_ids],
            ),
            (
                "insert into memberships (user_id, tenant_id) \
                 select * from unnest($1::uuid[], $2::uuid[])",
                &[&user_ids, &member_tenants],
            ),
        ])
        .await?;
        for (tenant, first_user) in tenants {
            let claims = Claims::for_user(first_user, tenant);
            let tx = self.begin(&claims).await?;
            let welcome = format!("welcome to {tenant}");
            for table in ["notes", "notes_m"] {
                let sql = format!(
                    "insert into {table} (tenant_id, body) select auth.tenant_id(), $1 \
                     where not exists (select 1 from {table})"
                );
                tx.call(tx.client().execute(&sql, &[&welcome])).await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }

    /// Moves user `name` to tenant `tenant` in `memberships` (creating the tenant, and the
    /// user, if missing). Policy B sees it on the next statement; policy A only when the
    /// credential's `tenant_id` claim changes (a session at once, a JWT at its next login).
    ///
    /// # Errors
    ///
    /// [`DbError::Unavailable`], [`DbError::Query`].
    pub async fn move_user(&self, name: &str, tenant: &str) -> Result<(), DbError> {
        let (uid, tid) = (user_id(name), tenant_id(tenant));
        let email = format!("{name}@example.invalid");
        self.as_admin(&[
            (
                "insert into tenants (id, name) values ($1, $2) on conflict (id) do nothing",
                &[&tid, &tenant],
            ),
            (
                "insert into users (id, email) values ($1, $2) on conflict (id) do nothing",
                &[&uid, &email],
            ),
            ("delete from memberships where user_id = $1", &[&uid]),
            (
                "insert into memberships (user_id, tenant_id) values ($1, $2)",
                &[&uid, &tid],
            ),
        ])
        .await
    }

    /// Removes every membership of user `name` (a disabled account): policy B shows them
    /// nothing from the next statement on.
    ///
    /// # Errors
    ///
    /// [`DbError::Unavailable`], [`DbError::Query`].
    pub async fn remove_memberships(&self, name: &str) -> Result<(), DbError> {
        let uid = user_id(name);
        self.as_admin(&[("delete from memberships where user_id = $1", &[&uid])])
            .await
    }

    /// Deletes user `name` (memberships go with it, `on delete cascade`).
    ///
    /// # Errors
    ///
    /// [`DbError::Unavailable`], [`DbError::Query`].
    pub async fn delete_user(&self, name: &str) -> Result<(), DbError> {
        let uid = user_id(name);
        self.as_admin(&[("delete from users where id = $1", &[&uid])])
            .await
    }

    /// Runs `statements` in one transaction as `app_admin` (the role with write rights on
    /// users, tenants and memberships, and no policy on the notes tables).
    async fn as_admin(&self, statements: &[(&str, &[&(dyn ToSql + Sync)])]) -> Result<(), DbError> {
        let checkout = self.pool.get().await?;
        let c = &checkout.conn().client;
        checkout
            .call(c.batch_execute("begin; set local role app_admin"))
            .await?;
        for (sql, params) in statements {
            if let Err(e) = checkout.call(c.execute(*sql, params)).await {
                let _ = checkout.call(c.batch_execute("rollback")).await;
                checkout.finish();
                return Err(e);
            }
        }
        checkout.call(c.batch_execute("commit")).await?;
        checkout.finish();
        Ok(())
    }
}

/// An open request transaction (claims set, role `authenticated`). Commit it; dropping it
/// instead returns the connection dirty, and the pool rolls it back before anyone reuses it.
pub struct RequestTx {
    checkout: Checkout,
}

impl RequestTx {
    /// The connection, inside the transaction.
    pub fn client(&self) -> &Client {
        &self.checkout.conn().client
    }

    /// Runs one call under the pool's query deadline.
    ///
    /// # Errors
    ///
    /// [`DbError`] sorted as everywhere (42501 → [`DbError::PolicyViolation`]).
    pub async fn call<T>(
        &self,
        f: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, DbError> {
        self.checkout.call(f).await
    }

    /// Commits.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    pub async fn commit(self) -> Result<(), DbError> {
        self.checkout
            .call(self.client().batch_execute("commit"))
            .await?;
        self.checkout.finish();
        Ok(())
    }

    /// Rolls back.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    pub async fn rollback(self) -> Result<(), DbError> {
        self.checkout
            .call(self.client().batch_execute("rollback"))
            .await?;
        self.checkout.finish();
        Ok(())
    }
}
