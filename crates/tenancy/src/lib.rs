//! Multi-tenant PostgreSQL with Row Level Security, driven by JWT claims or by a session
//! record: the database side of session-vs-jwt.
//!
//! The same database serves both auth styles; only where the user and tenant come from
//! changes. Every request runs one transaction:
//!
//! ```sql
//! begin;
//! select set_config('request.jwt.claims', '{"sub":"<user uuid>","tenant_id":"<tenant uuid>"}', true),
//!        set_config('role', 'authenticated', true);
//! select id, tenant_id, body from notes order by id desc limit 100;   -- or the insert
//! commit;
//! ```
//!
//! with the claims taken from the verified credential ([`Claims::for_user`] of the
//! principal's subject and tenant). Both settings are transaction-local (`true`), so nothing
//! survives into the next request on the same pooled connection. The four statements are
//! pipelined: one round trip per request.
//!
//! Two policies ([`Policy`]):
//!
//! - **A, `claims`** (table `notes`): trusts the `tenant_id` claim. Cheap, but a JWT's claim
//!   is frozen until the token is replaced: after a tenant move the old token still reads
//!   the old tenant's rows.
//! - **B, `membership`** (table `notes_m`): takes only `sub` from the credential and looks
//!   the tenant membership up live; a move or a removal bites on the next statement.
//!
//! The app logs in as `authenticator` (NOINHERIT, no rights of its own), and
//! [`Database::connect`] refuses to start when that role is a superuser, has BYPASSRLS, owns
//! the tables, or the tables lack FORCE RLS ([`GuardError`]).
//!
//! # Layout
//!
//! - `ids`: [`user_id`], [`tenant_id`]: demo names → stable UUID v5.
//! - `db`: [`Database`] (connect + guard, notes, seed, admin writes, [`RequestTx`]),
//!   [`Claims`], [`Policy`], [`Note`].
//! - `pool`: the small pool ([`PoolOptions`]): prepared statements per connection, dirty
//!   connections rolled back before reuse, deadlines everywhere.
//! - `guard`: the start-up guard ([`GuardError`]).
//! - `bootstrap`: the shipped SQL ([`ROLES_SQL`], [`SCHEMA_SQL`]), [`apply_schema`], and
//!   [`PrivateCluster`] / [`PrivateDatabase`] for tests, `serve --postgres` and `compare`.
//! - `error`: [`DbError`].

mod bootstrap;
mod db;
mod error;
mod guard;
mod ids;
mod pool;

pub use bootstrap::{
    DEFAULT_DATABASE, DatabaseUrls, PrivateCluster, ROLES_SQL, SCHEMA_SQL, apply_schema,
};
pub use db::{
    Claims, Database, DbStats, MAX_NOTE_BYTES, Note, NoteBodyError, Policy, RequestTx, SeedUser,
    check_note_body,
};
pub use error::DbError;
pub use guard::{GuardError, RLS_TABLES};
pub use ids::{tenant_id, user_id};
pub use pool::{LIST_LIMIT, PoolOptions};
pub use tokio_postgres;
pub use uuid::Uuid;

/// A private PostgreSQL with database [`DEFAULT_DATABASE`] ready, and the app connected:
/// what `authbench serve --postgres` and `compare` use.
#[derive(Debug)]
pub struct PrivateDatabase {
    /// The server (dropping it stops PostgreSQL and removes its files).
    pub cluster: PrivateCluster,
    /// Connection strings.
    pub urls: DatabaseUrls,
}

impl PrivateDatabase {
    /// Starts a private server (as the `postgres` user when we are root) and creates the
    /// database with roles and schema.
    ///
    /// # Errors
    ///
    /// [`DbError::Schema`] carrying the server's start error (binaries missing: the message
    /// says to run `scripts/setup` or `apt install postgresql`), or a bootstrap error.
    pub async fn start() -> Result<Self, DbError> {
        let cluster = tokio::task::spawn_blocking(PrivateCluster::start)
            .await
            .map_err(|e| DbError::Schema(format!("starting PostgreSQL: {e}")))?
            .map_err(|e| DbError::Schema(format!("starting PostgreSQL: {e}")))?;
        let urls = cluster.create_database(DEFAULT_DATABASE).await?;
        Ok(Self { cluster, urls })
    }

    /// Connects the app (as `authenticator`, guard included).
    ///
    /// # Errors
    ///
    /// As [`Database::connect`].
    pub async fn connect(&self, options: PoolOptions) -> Result<Database, DbError> {
        Database::connect(&self.urls.app, options).await
    }
}
