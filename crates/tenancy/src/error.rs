//! What can go wrong between the app and PostgreSQL, sorted by what the caller should answer.

use crate::guard::GuardError;

/// An error from the database layer.
///
/// | variant | HTTP answer in the server |
/// |---|---|
/// | [`Unavailable`](Self::Unavailable) | 503: fail closed |
/// | [`PolicyViolation`](Self::PolicyViolation) | 403: the row is outside the caller's tenant |
/// | [`Guard`](Self::Guard) | refuses to start |
/// | [`Schema`](Self::Schema), [`Query`](Self::Query) | 500 / start-up error |
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DbError {
    /// PostgreSQL cannot be reached, timed out, or dropped the connection.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A write was refused by a Row Level Security policy (SQLSTATE 42501).
    #[error("row-level security policy refused the write")]
    PolicyViolation,
    /// The start-up guard refused the connection's role or the tables.
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// Applying the schema or bootstrapping a private server failed.
    #[error("schema: {0}")]
    Schema(String),
    /// Any other SQL error.
    #[error("query failed: {0}")]
    Query(#[source] tokio_postgres::Error),
}

impl DbError {
    /// Sorts a driver error: connection trouble and server shutdown are `Unavailable`,
    /// `42501` is a policy violation, the rest is a query error.
    pub(crate) fn from_pg(e: tokio_postgres::Error) -> Self {
        use tokio_postgres::error::SqlState;
        match e.code() {
            None => DbError::Unavailable(e.to_string()),
            Some(code) if code == &SqlState::INSUFFICIENT_PRIVILEGE => DbError::PolicyViolation,
            Some(code)
                if code.code().starts_with("08")
                    || [
                        SqlState::ADMIN_SHUTDOWN,
                        SqlState::CRASH_SHUTDOWN,
                        SqlState::CANNOT_CONNECT_NOW,
                        SqlState::TOO_MANY_CONNECTIONS,
                        SqlState::QUERY_CANCELED,
                    ]
                    .contains(code) =>
            {
                DbError::Unavailable(e.to_string())
            }
            Some(_) => DbError::Query(e),
        }
    }

    /// Whether the database could not be reached (answer 503, never a success).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, DbError::Unavailable(_))
    }
}
