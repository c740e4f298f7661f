//! A small connection pool of our own (about a hundred lines).
//!
//! Why not deadpool-postgres: we need three things a generic pool does not give us, and they
//! are the lesson of this crate, so they should be in plain sight:
//!
//! 1. **Prepared statements per connection**, prepared once at connect, so the hot path is
//!    one pipelined round trip (`BEGIN`, `set_config`, the query, `COMMIT`) with no `Parse`.
//! 2. **A dirty flag.** A request future dropped mid-transaction (client gone, timeout)
//!    returns its connection marked dirty; the next checkout sends `ROLLBACK` first, so no
//!    transaction, and no transaction-local claim, survives into someone else's request.
//! 3. **Fail closed, fast.** Connecting, waiting for a free connection and every database
//!    call have explicit deadlines; a miss is [`DbError::Unavailable`] (503), and a
//!    connection that timed out or broke is thrown away, never reused.
//!
//! Connections are opened lazily, up to `max_size`, and kept.

use crate::error::DbError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::{Client, NoTls, Statement};

/// How the pool behaves.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// Most connections open at once. Defaults to 8 (a few per core is plenty: a request
    /// holds a connection for one round trip).
    pub max_size: usize,
    /// Deadline for opening a connection (TCP + SCRAM + preparing statements). Defaults to 2 s.
    pub connect_timeout: Duration,
    /// Deadline for getting a connection when all are busy. Defaults to 2 s.
    pub checkout_timeout: Duration,
    /// Deadline for each database call. Defaults to 5 s; a hung server is then a 503, not a
    /// request that never ends.
    pub query_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_size: 8,
            connect_timeout: Duration::from_secs(2),
            checkout_timeout: Duration::from_secs(2),
            query_timeout: Duration::from_secs(5),
        }
    }
}

/// The statements every request uses, prepared once per connection.
pub(crate) struct Statements {
    /// `set_config('request.jwt.claims', $1, true), set_config('role', 'authenticated', true)`.
    pub set_claims: Statement,
    /// Variant A: `select … from notes`.
    pub list_claims: Statement,
    /// Variant B: `select … from notes_m`.
    pub list_membership: Statement,
    /// Variant A insert, tenant from the claim.
    pub insert_claims: Statement,
    /// Variant B insert, tenant from the claim, checked against the membership.
    pub insert_membership: Statement,
}

/// The per-request claim setter: both settings transaction-local (`true`), so `COMMIT` or
/// `ROLLBACK` ends them. A session-level `SET` here would leak into the next request that
/// gets this connection (case 5 of the test plan shows it).
pub(crate) const SET_CLAIMS_SQL: &str = "select set_config('request.jwt.claims', $1, true), \
     set_config('role', 'authenticated', true)";

/// Most notes one `GET /notes` returns (newest first): the answer stays small whatever the
/// table holds.
pub const LIST_LIMIT: i64 = 100;

pub(crate) struct Conn {
    pub client: Client,
    pub stmts: Statements,
    /// Returned by a request that did not finish: roll back before reuse.
    dirty: bool,
}

pub(crate) struct Inner {
    config: tokio_postgres::Config,
    idle: Mutex<Vec<Conn>>,
    permits: Arc<Semaphore>,
    pub options: PoolOptions,
}

/// The pool: cheap to clone.
#[derive(Clone)]
pub(crate) struct Pool(Arc<Inner>);

/// A connection on loan. Dropped without [`finish`](Self::finish): returned dirty; after
/// [`broken`](Self::broken): closed.
pub(crate) struct Checkout {
    pool: Arc<Inner>,
    conn: Option<Conn>,
    /// Atomics rather than `bool`s so [`call`](Self::call) takes `&self` while its future
    /// borrows the client.
    finished: AtomicBool,
    broken: AtomicBool,
    _permit: OwnedSemaphorePermit,
}

impl Pool {
    pub fn new(mut config: tokio_postgres::Config, options: PoolOptions) -> Self {
        // The server enforces the same deadline: a statement we gave up on (and whose
        // connection we closed) does not keep running, and a transaction left open by a
        // dropped request cannot hold locks for long. Options in the URL win.
        if config.get_options().is_none() {
            let ms = options.query_timeout.as_millis();
            config.options(format!(
                "-c statement_timeout={ms} -c idle_in_transaction_session_timeout={}",
                ms.saturating_mul(2)
            ));
        }
        Pool(Arc::new(Inner {
            config,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(options.max_size.max(1))),
            options,
        }))
    }

    pub fn options(&self) -> &PoolOptions {
        &self.0.options
    }

    /// A clean connection: an idle one (rolled back first if dirty), or a new one.
    pub async fn get(&self) -> Result<Checkout, DbError> {
        let options = &self.0.options;
        let permit = tokio::time::timeout(
            options.checkout_timeout,
            Arc::clone(&self.0.permits).acquire_owned(),
        )
        .await
        .map_err(|_| DbError::Unavailable("no free database connection in time".into()))?
        .map_err(|_| DbError::Unavailable("pool closed".into()))?;
        loop {
            let idle = self
                .0
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop();
            let Some(mut conn) = idle else {
                let conn = self.connect().await?;
                return Ok(self.checkout(conn, permit));
            };
            if conn.client.is_closed() {
                continue;
            }
            if conn.dirty {
                let rollback = conn.client.batch_execute("rollback");
                match tokio::time::timeout(options.query_timeout, rollback).await {
                    Ok(Ok(())) => conn.dirty = false,
                    _ => continue, // dropped: closes the connection
                }
            }
            return Ok(self.checkout(conn, permit));
        }
    }

    fn checkout(&self, conn: Conn, permit: OwnedSemaphorePermit) -> Checkout {
        Checkout {
            pool: Arc::clone(&self.0),
            conn: Some(conn),
            finished: AtomicBool::new(false),
            broken: AtomicBool::new(false),
            _permit: permit,
        }
    }

    /// Adds an already open connection (the one the start-up guard ran on: one SCRAM
    /// handshake fewer at start) to the idle list, after preparing its statements.
    pub async fn adopt(&self, client: Client) -> Result<(), DbError> {
        let conn = self.with_deadline(prepare(client)).await?;
        self.0
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(conn);
        Ok(())
    }

    /// Opens a connection with the pool's settings, without preparing anything (the start-up
    /// guard runs on it first; then [`adopt`](Self::adopt) it).
    pub async fn open(&self) -> Result<Client, DbError> {
        self.with_deadline(open(&self.0.config)).await
    }

    async fn connect(&self) -> Result<Conn, DbError> {
        let config = &self.0.config;
        self.with_deadline(async { prepare(open(config).await?).await })
            .await
    }

    /// Runs a connect step under the connect deadline and sorts its error.
    async fn with_deadline<T>(
        &self,
        step: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, DbError> {
        let timeout = self.0.options.connect_timeout;
        match tokio::time::timeout(timeout, step).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(match DbError::from_pg(e) {
                DbError::Query(e) => DbError::Schema(format!(
                    "preparing the request statements failed (is the schema applied?): {e}"
                )),
                other => other,
            }),
            Err(_) => Err(DbError::Unavailable(format!(
                "connecting to the database took longer than {timeout:?}"
            ))),
        }
    }
}

/// Connects, and drives the connection on a task of its own.
async fn open(config: &tokio_postgres::Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!(error = %e, "database connection ended");
        }
    });
    Ok(client)
}

/// Prepares the request statements on a fresh connection, as `authenticated` (the role they
/// run as).
async fn prepare(client: Client) -> Result<Conn, tokio_postgres::Error> {
    client
        .batch_execute("begin; set local role authenticated")
        .await?;
    let stmts = Statements {
        set_claims: client.prepare(SET_CLAIMS_SQL).await?,
        list_claims: client
            .prepare(&format!(
                "select id, tenant_id, body from notes order by id desc limit {LIST_LIMIT}"
            ))
            .await?,
        list_membership: client
            .prepare(&format!(
                "select id, tenant_id, body from notes_m order by id desc limit {LIST_LIMIT}"
            ))
            .await?,
        insert_claims: client
            .prepare(
                "insert into notes (tenant_id, body) values (auth.tenant_id(), $1) \
                 returning id, tenant_id, body",
            )
            .await?,
        insert_membership: client
            .prepare(
                "insert into notes_m (tenant_id, body) values (auth.tenant_id(), $1) \
                 returning id, tenant_id, body",
            )
            .await?,
    };
    client.batch_execute("commit").await?;
    Ok(Conn {
        client,
        stmts,
        dirty: false,
    })
}

impl Checkout {
    pub fn conn(&self) -> &Conn {
        self.conn
            .as_ref()
            .expect("a checkout holds its connection until drop")
    }

    /// Runs one database call under the query deadline; a timeout or a lost connection marks
    /// the connection broken (it will be closed, not reused).
    pub async fn call<T>(
        &self,
        f: impl Future<Output = Result<T, tokio_postgres::Error>>,
    ) -> Result<T, DbError> {
        match tokio::time::timeout(self.pool.options.query_timeout, f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                let e = DbError::from_pg(e);
                if e.is_unavailable() {
                    self.broken.store(true, Ordering::Relaxed);
                }
                Err(e)
            }
            Err(_) => {
                self.broken.store(true, Ordering::Relaxed);
                Err(DbError::Unavailable(format!(
                    "a database call took longer than {:?}",
                    self.pool.options.query_timeout
                )))
            }
        }
    }

    /// The transaction ended (committed or rolled back): the connection is clean.
    pub fn finish(&self) {
        self.finished.store(true, Ordering::Relaxed);
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        if let Some(mut conn) = self.conn.take() {
            if self.broken.load(Ordering::Relaxed) || conn.client.is_closed() {
                return;
            }
            conn.dirty = !self.finished.load(Ordering::Relaxed);
            self.pool
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(conn);
        }
    }
}
