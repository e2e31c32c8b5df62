//! `GET /healthz`: the database and the Docker engine, each probed. The
//! server keeps serving with the engine down and reports it here.

use axum::extract::State;
use axum::http::StatusCode;
use berth_shared::health::{ComponentHealth, Health};

use super::json::ApiJson;
use super::ApiContext;

/// Probes the dependencies; 503 only when the database is down.
pub async fn healthz(State(ctx): State<ApiContext>) -> (StatusCode, ApiJson<Health>) {
    let (db, docker) = tokio::join!(ctx.store().ping(), ctx.runtime().health());
    let database = match db {
        Ok(()) => ComponentHealth {
            ok: true,
            error: None,
        },
        Err(e) => ComponentHealth {
            ok: false,
            error: Some(e.to_string()),
        },
    };
    let (code, status) = match (database.ok, docker.ok) {
        (false, _) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        (true, false) => (StatusCode::OK, "degraded"),
        (true, true) => (StatusCode::OK, "ok"),
    };
    let health = Health {
        status: status.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        database,
        docker,
    };
    (code, ApiJson(health))
}
