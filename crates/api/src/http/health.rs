//! `GET /healthz`: the database and the Docker engine, each probed. The
//! server keeps serving with the engine down and reports it here.

use axum::extract::State;
use axum::http::StatusCode;
use berth_shared::health::Health;

use super::json::ApiJson;
use super::ApiContext;

/// Probes the dependencies; 503 only when the database is down.
pub async fn healthz(State(ctx): State<ApiContext>) -> (StatusCode, ApiJson<Health>) {
    let health = ctx.health().await;
    let code = if health.database.ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, ApiJson(health))
}
