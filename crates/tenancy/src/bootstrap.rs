//! Creating roles and schema as a privileged role, and private servers for tests and
//! `serve --postgres`.
//!
//! The app itself never runs DDL: it logs in as `authenticator`, which can do nothing but
//! `SET ROLE` (the guard makes sure). Roles and tables are created here, over a separate
//! superuser connection, from the SQL shipped in `sql/` (also usable with `psql -f`).

use crate::db::connect_one;
use crate::error::DbError;
use authbench_services::{PostgresServer, ServiceError};
use std::time::Duration;

/// The cluster-wide roles (`app_owner`, `authenticator`, `authenticated`, `anon`,
/// `app_admin`): `crates/tenancy/sql/roles.sql`.
pub const ROLES_SQL: &str = include_str!("../sql/roles.sql");

/// Tables, functions and policies, per database: `crates/tenancy/sql/schema.sql`.
pub const SCHEMA_SQL: &str = include_str!("../sql/schema.sql");

/// Name of the database `serve --postgres` creates.
pub const DEFAULT_DATABASE: &str = "authbench";

/// The database every [`PrivateCluster::create_database`] copies: roles and schema applied
/// once per cluster.
const TEMPLATE_DATABASE: &str = "authbench_template";

/// How long bootstrap connections may take to open.
const BOOTSTRAP_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Applies [`ROLES_SQL`] and [`SCHEMA_SQL`] over `superuser_url` (a superuser, or a role
/// allowed to create roles and to grant on schema `public`). Idempotent.
///
/// # Errors
///
/// [`DbError::Schema`] with PostgreSQL's reason, [`DbError::Unavailable`].
pub async fn apply_schema(superuser_url: &str) -> Result<(), DbError> {
    let client = connect_one(superuser_url, BOOTSTRAP_CONNECT_TIMEOUT).await?;
    for (name, sql) in [("roles.sql", ROLES_SQL), ("schema.sql", SCHEMA_SQL)] {
        client
            .batch_execute(sql)
            .await
            .map_err(|e| DbError::Schema(format!("{name}: {}", pg_message(&e))))?;
    }
    Ok(())
}

/// The error text PostgreSQL sent, else the driver's.
fn pg_message(e: &tokio_postgres::Error) -> String {
    e.as_db_error().map_or_else(
        || e.to_string(),
        |db| format!("{} ({})", db.message(), db.code().code()),
    )
}

/// The connection strings of one database on a [`PrivateCluster`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrls {
    /// Database name.
    pub name: String,
    /// The app's login, `authenticator`: what [`Database::connect`](crate::Database::connect)
    /// takes.
    pub app: String,
    /// The tables' owner, `app_owner` (migrations; the guard refuses it for the app).
    pub owner: String,
    /// The superuser `postgres` over the private unix socket, as a key-value connection
    /// string (bootstrap and tests; the guard refuses it for the app).
    pub superuser: String,
}

/// A private PostgreSQL with the roles created and random passwords for the two login roles;
/// [`create_database`](Self::create_database) adds databases with the schema applied.
///
/// One per test binary is the intended use (a `static`): databases keep tests apart, and the
/// server starts only once.
#[derive(Debug)]
pub struct PrivateCluster {
    server: PostgresServer,
    app_password: String,
    owner_password: String,
    /// Roles are cluster-wide: created once. Database creation is serialized too
    /// (`CREATE DATABASE` copies `template1` and fails if two run at once).
    bootstrap: tokio::sync::Mutex<bool>,
}

impl PrivateCluster {
    /// The superuser's connection string for database `db`, over the private unix socket
    /// (trusted locally: no SCRAM handshake, which is slow in unoptimised test builds).
    pub fn superuser(&self, db: &str) -> String {
        format!(
            "host={} port={} user={} dbname={db}",
            self.server.dir().display(),
            self.server.port(),
            authbench_services::POSTGRES_SUPERUSER
        )
    }

    /// Starts the server (blocking, about a second; see
    /// [`PostgresServer`]). Roles are created by the first
    /// [`create_database`](Self::create_database).
    ///
    /// # Errors
    ///
    /// [`ServiceError`] from the server start, e.g. the binaries are missing (the message
    /// says how to install them).
    pub fn start() -> Result<Self, ServiceError> {
        let server = PostgresServer::start()?;
        Ok(Self {
            app_password: random_password("app")?,
            owner_password: random_password("owner")?,
            server,
            bootstrap: tokio::sync::Mutex::new(false),
        })
    }

    /// The server.
    pub fn server(&self) -> &PostgresServer {
        &self.server
    }

    /// The server, mutably (stop/restart for outage tests).
    pub fn server_mut(&mut self) -> &mut PostgresServer {
        &mut self.server
    }

    /// Creates database `name` (`[a-z0-9_]`, at most 63 bytes) with roles and schema
    /// applied, and returns its URLs.
    ///
    /// # Errors
    ///
    /// [`DbError::Schema`] for a bad name or a failed step, [`DbError::Unavailable`].
    pub async fn create_database(&self, name: &str) -> Result<DatabaseUrls, DbError> {
        if name.is_empty()
            || name.len() > 63
            || !name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(DbError::Schema(format!("bad database name {name:?}")));
        }
        let mut ready = self.bootstrap.lock().await;
        let admin = connect_one(&self.superuser("postgres"), BOOTSTRAP_CONNECT_TIMEOUT).await?;
        if !*ready {
            admin
                .batch_execute(ROLES_SQL)
                .await
                .map_err(|e| DbError::Schema(format!("roles.sql: {}", pg_message(&e))))?;
            for (role, password) in [
                ("authenticator", &self.app_password),
                ("app_owner", &self.owner_password),
            ] {
                admin
                    .batch_execute(&format!("alter role {role} password '{password}'"))
                    .await
                    .map_err(|e| DbError::Schema(pg_message(&e)))?;
            }
            admin
                .batch_execute(&format!("create database {TEMPLATE_DATABASE}"))
                .await
                .map_err(|e| DbError::Schema(format!("create database: {}", pg_message(&e))))?;
            let template = connect_one(
                &self.superuser(TEMPLATE_DATABASE),
                BOOTSTRAP_CONNECT_TIMEOUT,
            )
            .await?;
            template
                .batch_execute(SCHEMA_SQL)
                .await
                .map_err(|e| DbError::Schema(format!("schema.sql: {}", pg_message(&e))))?;
            drop(template);
            *ready = true;
        }
        // A copy of the template, schema included: much faster than applying it again.
        // (PostgreSQL waits a few seconds for the template's last backend to go away.)
        admin
            .batch_execute(&format!(
                "create database {name} template {TEMPLATE_DATABASE}"
            ))
            .await
            .map_err(|e| DbError::Schema(format!("create database: {}", pg_message(&e))))?;
        drop(admin);
        drop(ready);
        let superuser = self.superuser(name);
        let port = self.server.port();
        Ok(DatabaseUrls {
            name: name.to_owned(),
            app: format!(
                "postgres://authenticator:{}@127.0.0.1:{port}/{name}",
                self.app_password
            ),
            owner: format!(
                "postgres://app_owner:{}@127.0.0.1:{port}/{name}",
                self.owner_password
            ),
            superuser,
        })
    }
}

/// A fresh random password for a login role: 128 bits from the OS, hex, independent of the
/// superuser's (knowing the app's password must not reveal anything else).
fn random_password(role: &str) -> Result<String, ServiceError> {
    use std::io::Read;
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .map_err(|source| ServiceError::Io {
            context: "reading /dev/urandom for a database password".into(),
            source,
        })?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("{role}_{hex}"))
}
