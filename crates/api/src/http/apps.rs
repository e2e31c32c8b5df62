//! `/api/v1/sessions/{id}/apps`: a session's apps, and opening one through
//! the proxy.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use berth_shared::apps::{AppList, AppOpened, OpenAppRequest, TerminalQuery};

use super::error::{ApiError, ApiResult};
use super::extract::AuthUser;
use super::json::ApiJson;
use super::query::ApiQuery;
use super::ApiContext;
use crate::apps;

/// The routes of this resource.
pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/sessions/{id}/apps", get(list))
        .route("/sessions/{id}/apps/{app}", post(open))
        .route("/sessions/{id}/terminal", get(terminal))
}

/// The host name the caller reached this server by (app URLs use it).
fn host_of(headers: &HeaderMap, fallback: &str) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or(fallback);
    if let Some(v6) = host.strip_prefix('[') {
        return format!("[{}]", v6.split(']').next().unwrap_or(v6));
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h).to_string()
}

async fn list(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> ApiResult<ApiJson<AppList>> {
    let host = host_of(&headers, &ctx.config().app_host.to_string());
    Ok(ApiJson(apps::list(&ctx, &user, &id, &host).await?))
}

async fn open(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path((id, app)): Path<(String, String)>,
    headers: HeaderMap,
    ApiJson(req): ApiJson<OpenAppRequest>,
) -> ApiResult<ApiJson<AppOpened>> {
    let host = host_of(&headers, &ctx.config().app_host.to_string());
    Ok(ApiJson(
        apps::open(&ctx, &user, &id, &app, &req, &host).await?,
    ))
}

/// The terminal: a WebSocket to a TTY in the session's container (the
/// session is checked before the upgrade, so refusals are problem+json).
async fn terminal(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<TerminalQuery>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    // who may, and whether it runs, before whether it is a WebSocket
    apps::running_check(&ctx, &user, &id).await?;
    let ws = ws.map_err(|e| ApiError::BadRequest(format!("The terminal is a WebSocket: {e}")))?;
    let terminal = apps::terminal::open(&ctx, &user, &id, q.cols, q.rows).await?;
    Ok(ws.on_upgrade(move |socket| apps::terminal::bridge(socket, terminal)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_taken_from_the_request_without_its_port() {
        let h = |v: &str| {
            let mut m = HeaderMap::new();
            m.insert(header::HOST, v.parse().unwrap());
            host_of(&m, "fallback")
        };
        assert_eq!(h("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(h("berth.example.org"), "berth.example.org");
        assert_eq!(h("[::1]:8080"), "[::1]");
        assert_eq!(host_of(&HeaderMap::new(), "10.0.0.1"), "10.0.0.1");
    }
}
