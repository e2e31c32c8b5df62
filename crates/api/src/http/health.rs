//! `GET /healthz`: cheap enough for a load balancer to poll. The database
//! is pinged; the engine's state is the reconciler's latest probe (every
//! 2 s). Anyone sees the verdicts; admins also see error texts and
//! versions, and may ask `?deep` to probe the engine now.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use berth_shared::health::{Health, HealthQuery};

use super::extract::credential_of;
use super::json::ApiJson;
use super::query::ApiQuery;
use super::ApiContext;
use crate::accounts;

/// 503 only when the database is down.
#[utoipa::path(get, path = "/healthz", tag = "meta", security(()), params(HealthQuery), responses((status = 200, description = "Healthy.", body = Health), (status = 503, description = "Not healthy: which part failed.", body = Health)))]
pub async fn healthz(
    State(ctx): State<ApiContext>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<HealthQuery>,
) -> (StatusCode, ApiJson<Health>) {
    let admin = match credential_of(&headers, ctx.config().secure_cookies) {
        Ok(c) => accounts::resolve(ctx.store(), c.as_credential())
            .await
            .is_ok_and(|u| u.role.is_admin()),
        Err(_) => false,
    };
    let health = ctx.health(admin && q.deep.is_some()).await;
    let code = if health.database.ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let health = if admin { health } else { health.public() };
    (code, ApiJson(health))
}
