//! `GET /metrics` (Prometheus, OpenMetrics text) for a scraper on the
//! server's own host (loopback, not through a trusted proxy) or one with
//! an admin's login or API token; and the layer that counts every request
//! by its route template.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::extract::{AdminUser, ClientAddr};
use super::ApiContext;
use crate::metrics::scrape::scrape;

/// The OpenMetrics text format's media type.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The metrics, for loopback or an admin.
#[utoipa::path(get, path = "/metrics", tag = "meta", security((), ("cookie" = []), ("bearer" = [])), responses((status = 200, description = "Prometheus metrics (OpenMetrics text); from the host itself, or an admin.", content_type = "application/openmetrics-text")))]
pub async fn metrics(
    State(ctx): State<ApiContext>,
    ClientAddr(from): ClientAddr,
    admin: Result<AdminUser, ApiError>,
) -> Result<Response, ApiError> {
    if !from.is_loopback() {
        admin?;
    }
    let text = scrape(&ctx).await?;
    Ok(([(header::CONTENT_TYPE, OPENMETRICS)], text).into_response())
}

/// Counts the request by its route template (`other` outside the routes:
/// the UI's files), method and status, with its latency.
pub async fn count_requests(State(ctx): State<ApiContext>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "other".into());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let res = next.run(req).await;
    ctx.metrics().http_request(
        &route,
        &method,
        res.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    res
}
