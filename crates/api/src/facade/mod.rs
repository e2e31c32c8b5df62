//! The reference platform's API (Backend.AI, as its official
//! `backend.ai-client` SDK and CLI use it) at `/backend.ai`, so scripts
//! written for it work against berth: point `BACKEND_ENDPOINT` at
//! `http://<host>/backend.ai`. A second router over the same operations
//! `/api/v1` calls — it translates names and shapes, and decides nothing
//! itself.
//!
//! - `sign.rs`: the HMAC-SHA256 request signature (pure);
//! - `auth.rs`: the extractor that checks it (`KeyUser`);
//! - `error.rs`: problems in the reference's shape; `body.rs` the JSON
//!   bodies, refused in that shape;
//! - `sessions.rs`, `folders.rs`: the routes; `events.rs` a session's
//!   lifecycle stream;
//! - `tasks.rs`: a commit as the reference's background task, and its
//!   progress stream;
//! - `gql.rs`: the GraphQL queries the client's `session info`/`list`
//!   and `vfolder list` send (async-graphql).

pub mod auth;
pub mod body;
pub mod error;
pub mod events;
pub mod folders;
pub mod gql;
pub mod sessions;
pub mod sign;
pub mod tasks;

use axum::routing::{get, post};
use axum::{Json, Router};
use berth_shared::compat::{VersionInfo, API_VERSION};

use self::error::FacadeError;
use crate::services::Shared as ApiContext;

/// Where the facade is mounted.
pub const PREFIX: &str = "/backend.ai";

/// The facade's routes (mounted at [`PREFIX`]).
pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/", get(version))
        .route("/session", post(sessions::create))
        .route("/session/_/create", post(sessions::create))
        // (code execution, restart: other methods here are not supported)
        .route(
            "/session/{name}",
            get(sessions::info)
                .delete(sessions::destroy)
                .fallback(unsupported),
        )
        .route("/session/{name}/rename", post(sessions::rename))
        .route("/session/{name}/logs", get(sessions::logs))
        .route(
            "/session/{name}/commit",
            get(tasks::status).post(tasks::commit),
        )
        .route("/folders", get(folders::list).post(folders::create))
        .route("/admin/gql", post(gql::gql))
        .route("/events/session", get(events::session_events))
        .route("/events/background-task", get(tasks::events))
        .fallback(unsupported)
}

/// `GET /backend.ai`: version negotiation (anyone may ask).
async fn version() -> Json<VersionInfo> {
    Json(VersionInfo {
        version: API_VERSION.to_string(),
        manager: env!("CARGO_PKG_VERSION").to_string(),
    })
}

/// Any other route of the reference: said plainly.
async fn unsupported(uri: axum::http::Uri) -> FacadeError {
    FacadeError::unsupported(&format!(
        "{} is not supported by berth's Backend.AI facade; see the README",
        uri.path()
    ))
}
