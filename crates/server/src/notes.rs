//! `GET /notes` and `POST /notes`: tenant-scoped rows, enforced by PostgreSQL Row Level
//! Security, mounted only when a database is configured.
//!
//! The handler verifies the credential first (the [`Authenticated`] extractor: a missing,
//! forged or expired credential is a 401 before any SQL), then hands the principal's subject
//! and tenant to [`authbench_tenancy`], which runs one transaction with them as
//! transaction-local claims. The database, not this code, decides which rows the caller sees.
//!
//! | route | answer |
//! |---|---|
//! | `GET /notes[?policy=claims\|membership]` | 200 `{"policy","tenant_id","notes":[{"id","tenant_id","body"}]}`, newest first, at most 100 |
//! | `POST /notes[?policy=…]` `{"body"}` | 201 the new note (`returning`); 400 blank, over 4096 bytes or NUL; 403 `not_a_member` when policy B refuses |
//!
//! `policy=claims` (the default) is variant A (table `notes`, trusts the credential's tenant),
//! `policy=membership` variant B (table `notes_m`, membership looked up live). Both answer
//! 401 without a valid credential, 503 when PostgreSQL is unreachable (fail closed).

use crate::error::ApiError;
use crate::extract::Authenticated;
use crate::routes::json_body;
use crate::{AppState, MAX_BODY_BYTES};
use authbench_core::{Authenticator, ErrorKind};
use authbench_tenancy::{Claims, Database, DbError, Note, Policy, Uuid, check_note_body};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The query string of both routes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NotesQuery {
    #[serde(default)]
    policy: Option<String>,
}

/// The body of `POST /notes`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewNote {
    body: String,
}

/// The answer of `GET /notes`.
#[derive(Serialize)]
pub(crate) struct NotesAnswer {
    policy: Policy,
    /// The tenant the credential names (under policy B the rows may belong to another one:
    /// the one the user is a member of now).
    tenant_id: Uuid,
    notes: Vec<Note>,
}

/// The router of the notes routes, for a configured database.
pub(crate) fn router<A: Authenticator>(state: AppState<A>) -> Router {
    Router::new()
        .route("/notes", get(list::<A>).post(create::<A>))
        .layer(crate::routes::no_store())
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// The database of the app; the routes are only mounted when there is one.
fn database<A>(state: &AppState<A>) -> Result<&Arc<Database>, ApiError> {
    state
        .db
        .as_ref()
        .ok_or_else(|| ApiError::Auth(ErrorKind::Unsupported.into()))
}

fn policy(query: Result<Query<NotesQuery>, QueryRejection>) -> Result<Policy, ApiError> {
    let Ok(Query(query)) = query else {
        return Err(ApiError::BadRequest("invalid_query"));
    };
    match query.policy.as_deref() {
        None => Ok(Policy::default()),
        Some(p) => p
            .parse()
            .map_err(|()| ApiError::BadRequest("unknown_policy")),
    }
}

/// From a database error to an answer: unreachable → 503 (fail closed), a policy refusal →
/// 403, anything else → 500 (logged; bad input is refused before any SQL).
pub(crate) fn db_error(e: DbError) -> ApiError {
    match e {
        DbError::Unavailable(_) => {
            tracing::warn!(error = %e, "database unavailable: failing closed");
            ApiError::Auth(ErrorKind::Unavailable.into())
        }
        DbError::PolicyViolation => ApiError::Forbidden,
        e => {
            tracing::error!(error = %e, "database error");
            ApiError::Auth(ErrorKind::Internal.into())
        }
    }
}

async fn list<A: Authenticator>(
    State(state): State<AppState<A>>,
    Authenticated(principal): Authenticated,
    query: Result<Query<NotesQuery>, QueryRejection>,
) -> Result<Json<NotesAnswer>, ApiError> {
    let policy = policy(query)?;
    let db = database(&state)?;
    let claims = Claims::for_user(&principal.subject, &principal.tenant);
    let notes = db.list_notes(&claims, policy).await.map_err(db_error)?;
    Ok(Json(NotesAnswer {
        policy,
        tenant_id: claims.tenant_id,
        notes,
    }))
}

async fn create<A: Authenticator>(
    State(state): State<AppState<A>>,
    Authenticated(principal): Authenticated,
    query: Result<Query<NotesQuery>, QueryRejection>,
    body: Result<Json<NewNote>, JsonRejection>,
) -> Result<Response, ApiError> {
    let policy = policy(query)?;
    let body = json_body(body, "invalid_note_body")?;
    check_note_body(&body.body).map_err(|e| ApiError::BadRequest(note_error_code(e)))?;
    let db = database(&state)?;
    let claims = Claims::for_user(&principal.subject, &principal.tenant);
    match db.insert_note(&claims, policy, &body.body).await {
        Ok(note) => Ok((StatusCode::CREATED, Json(note)).into_response()),
        Err(DbError::PolicyViolation) => Ok((
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({"error": "not_a_member"})),
        )
            .into_response()),
        Err(e) => Err(db_error(e)),
    }
}

fn note_error_code(e: authbench_tenancy::NoteBodyError) -> &'static str {
    use authbench_tenancy::NoteBodyError;
    match e {
        NoteBodyError::Empty => "empty_note",
        NoteBodyError::TooLong => "note_too_long",
        NoteBodyError::Nul => "invalid_note",
    }
}
