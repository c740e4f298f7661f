//! The start-up guard: refuse to serve when Row Level Security would not bite.
//!
//! RLS is silently skipped for superusers, for roles with `BYPASSRLS`, and for a table's owner
//! unless the table has `FORCE ROW LEVEL SECURITY` (and an owner can switch RLS off anyway).
//! Each of those mistakes turns "tenant-scoped" into "everyone sees everything" without a
//! single error (case 6 of the test plan shows it). So before the app serves a request it
//! checks, over its own pool connection:
//!
//! 1. neither the login role nor any role it can become is a superuser or has `BYPASSRLS`;
//! 2. it neither owns the RLS tables nor is a member of their owner;
//! 3. each RLS table has RLS enabled **and** forced;
//! 4. it can become `authenticated`, the role the policies name.

use tokio_postgres::Client;

/// The tables whose rows Row Level Security scopes to a tenant.
pub const RLS_TABLES: [&str; 2] = ["notes", "notes_m"];

/// Why the guard refused to start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GuardError {
    /// The role (or a role it can become) is a superuser: RLS never applies to it.
    #[error(
        "refusing to start: database role `{role}` (reachable from login `{login}`) is a superuser, \
         and superusers bypass Row Level Security; connect as `authenticator` \
         (crates/tenancy/README.md)"
    )]
    Superuser {
        /// The login role.
        login: String,
        /// The offending role.
        role: String,
    },
    /// The role (or a role it can become) has `BYPASSRLS`.
    #[error(
        "refusing to start: database role `{role}` (reachable from login `{login}`) has BYPASSRLS; \
         connect as a role without it (`authenticator`)"
    )]
    BypassRls {
        /// The login role.
        login: String,
        /// The offending role.
        role: String,
    },
    /// The role owns (or is a member of the owner of) an RLS table.
    #[error(
        "refusing to start: database role `{login}` owns table `{table}` (or is a member of its \
         owner), and an owner can turn Row Level Security off; connect as `authenticator`, \
         keep `app_owner` for migrations"
    )]
    OwnsTable {
        /// The login role.
        login: String,
        /// The table.
        table: String,
    },
    /// An RLS table lacks `ENABLE` or `FORCE ROW LEVEL SECURITY`.
    #[error(
        "refusing to start: table `{table}` does not have Row Level Security enabled and forced; \
         apply crates/tenancy/sql/schema.sql"
    )]
    NotForced {
        /// The table.
        table: String,
    },
    /// An RLS table or the `authenticated` role is missing.
    #[error(
        "refusing to start: {what} is missing; apply crates/tenancy/sql/roles.sql and schema.sql \
         (crates/tenancy/README.md)"
    )]
    SchemaMissing {
        /// What is missing.
        what: String,
    },
}

/// Runs the checks on `client`. `Ok(Err(_))`: a refusal; `Err(_)`: the checks could not run.
pub(crate) async fn check(
    client: &Client,
) -> Result<Result<(), GuardError>, tokio_postgres::Error> {
    let login: String = client
        .query_one("select current_user::text", &[])
        .await?
        .get(0);
    let rows = client
        .query(
            "select rolname::text, rolsuper, rolbypassrls from pg_roles \
             where pg_has_role(current_user, oid, 'MEMBER') order by rolname",
            &[],
        )
        .await?;
    for row in &rows {
        let role: String = row.get(0);
        if row.get::<_, bool>(1) {
            return Ok(Err(GuardError::Superuser { login, role }));
        }
        if row.get::<_, bool>(2) {
            return Ok(Err(GuardError::BypassRls { login, role }));
        }
    }
    for table in RLS_TABLES {
        let row = client
            .query_opt(
                "select c.relrowsecurity, c.relforcerowsecurity, \
                        pg_has_role(current_user, c.relowner, 'MEMBER') \
                 from pg_class c where c.oid = to_regclass($1)",
                &[&table],
            )
            .await?;
        let Some(row) = row else {
            return Ok(Err(GuardError::SchemaMissing {
                what: format!("table `{table}`"),
            }));
        };
        if row.get::<_, bool>(2) {
            return Ok(Err(GuardError::OwnsTable {
                login,
                table: table.to_owned(),
            }));
        }
        if !(row.get::<_, bool>(0) && row.get::<_, bool>(1)) {
            return Ok(Err(GuardError::NotForced {
                table: table.to_owned(),
            }));
        }
    }
    let can_become: Option<bool> = client
        .query_one(
            "select case when exists (select 1 from pg_roles where rolname = 'authenticated') \
             then pg_has_role(current_user, 'authenticated', 'MEMBER') end",
            &[],
        )
        .await?
        .get(0);
    if can_become != Some(true) {
        return Ok(Err(GuardError::SchemaMissing {
            what: format!("the role `authenticated` (or `{login}` cannot SET ROLE to it)"),
        }));
    }
    Ok(Ok(()))
}
