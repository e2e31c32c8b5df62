//! `/api/v1/sessions/{id}/apps`: a session's apps, opening one through the
//! proxy and closing it; the terminal's WebSocket.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use berth_shared::apps::{AppList, AppOpened, OpenAppRequest, TerminalQuery};

use super::error::{ApiError, ApiResult};
use super::extract::{AuthUser, Caller};
use super::json::ApiJson;
use super::query::ApiQuery;
use super::ApiContext;
use crate::apps::{self, Reach};
use crate::origin;

/// The routes of this resource.
pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/sessions/{id}/apps", get(list))
        .route("/sessions/{id}/apps/{app}", post(open).delete(close))
        .route("/sessions/{id}/terminal", get(terminal))
        .route("/sessions/{id}/ssh-key", get(ssh_key))
}

/// How the caller reached this server (app addresses are built from it):
/// the `Host` header's name and port, HTTPS when `--secure-cookies` says
/// users reach it so.
fn reach_of(headers: &HeaderMap, uri: &axum::http::Uri, ctx: &ApiContext) -> Reach {
    let authority = origin::host_of(headers, uri);
    let (host, port) = split_host(&authority, &ctx.config().app_host.to_string());
    Reach {
        scheme: if ctx.config().secure_cookies {
            "https"
        } else {
            "http"
        },
        host,
        port,
    }
}

/// `host[:port]` as its name and port (IPv6 names keep their brackets).
fn split_host(authority: &str, fallback: &str) -> (String, Option<u16>) {
    let authority = if authority.is_empty() {
        fallback
    } else {
        authority
    };
    if let Some(v6) = authority.strip_prefix('[') {
        let (name, rest) = v6.split_once(']').unwrap_or((v6, ""));
        let port = rest.strip_prefix(':').and_then(|p| p.parse().ok());
        return (format!("[{name}]"), port);
    }
    match authority.rsplit_once(':') {
        Some((name, port)) => (name.to_string(), port.parse().ok()),
        None => (authority.to_string(), None),
    }
}

#[utoipa::path(get, path = "/sessions/{id}/apps", tag = "apps", params(("id" = String, Path, description = "Session id or name")), responses((status = 200, description = "The session's apps and open ports.", body = AppList)))]
pub(crate) async fn list(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> ApiResult<ApiJson<AppList>> {
    let reach = reach_of(&headers, &uri, &ctx);
    Ok(ApiJson(apps::list(&ctx, &user, &id, &reach).await?))
}

#[utoipa::path(post, path = "/sessions/{id}/apps/{app}", tag = "apps", params(("id" = String, Path, description = "Session id or name"), ("app" = String, Path, description = "App name (`jupyter`, `ttyd`, a port…)")), request_body = OpenAppRequest, responses((status = 200, description = "The app's address.", body = AppOpened)))]
pub(crate) async fn open(
    State(ctx): State<ApiContext>,
    Caller { user, credential }: Caller,
    Path((id, app)): Path<(String, String)>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    ApiJson(req): ApiJson<OpenAppRequest>,
) -> ApiResult<ApiJson<AppOpened>> {
    let reach = reach_of(&headers, &uri, &ctx);
    Ok(ApiJson(
        apps::open(&ctx, &user, &credential, &id, &app, &req, &reach).await?,
    ))
}

/// `GET …/ssh-key`: the session's SSH private key, for its owner, as the
/// file the SSH tile's commands name (`id_container`).
#[utoipa::path(get, path = "/sessions/{id}/ssh-key", tag = "apps", params(("id" = String, Path, description = "Session id or name")), responses((status = 200, description = "The session's SSH private key (`id_container`).", content_type = "application/octet-stream")))]
pub(crate) async fn ssh_key(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let key = apps::ssh::ssh_key(&ctx, &user, &id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"id_container\"",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        key,
    )
        .into_response())
}

/// `DELETE …/apps/{app}`: closes and unpublishes an open app.
#[utoipa::path(delete, path = "/sessions/{id}/apps/{app}", tag = "apps", params(("id" = String, Path, description = "Session id or name"), ("app" = String, Path, description = "App name")), responses((status = 204, description = "Closed.")))]
pub(crate) async fn close(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path((id, app)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    apps::close(&ctx, &user, &id, &app).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The terminal: a WebSocket to a TTY in the session's container (the
/// session is checked before the upgrade, so refusals are problem+json).
/// Only the UI's own pages may open it.
#[utoipa::path(get, path = "/sessions/{id}/terminal", tag = "apps", params(("id" = String, Path, description = "Session id or name"), TerminalQuery), responses((status = 101, description = "A WebSocket to a shell in the main container (binary frames are the terminal; text frames resize it).")))]
pub(crate) async fn terminal(
    State(ctx): State<ApiContext>,
    Caller { user, credential }: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    ApiQuery(q): ApiQuery<TerminalQuery>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> ApiResult<Response> {
    if origin::foreign(&headers, &origin::host_of(&headers, &uri)).is_some() {
        return Err(ApiError::Forbidden(
            "The terminal opens from berth's own pages only.",
        ));
    }
    // who may, and whether it runs, before whether it is a WebSocket
    apps::running_check(&ctx, &user, &id).await?;
    let ws = ws.map_err(|e| ApiError::BadRequest(format!("The terminal is a WebSocket: {e}")))?;
    let terminal = apps::terminal::open(&ctx, &user, &id, q.cols, q.rows).await?;
    let svc = ctx.clone();
    Ok(ws.on_upgrade(move |socket| {
        apps::terminal::bridge(socket, terminal, svc, credential, user.id)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_is_split_from_its_port() {
        assert_eq!(
            split_host("127.0.0.1:8080", "f"),
            ("127.0.0.1".into(), Some(8080))
        );
        assert_eq!(
            split_host("berth.example.org", "f"),
            ("berth.example.org".into(), None)
        );
        assert_eq!(split_host("[::1]:8080", "f"), ("[::1]".into(), Some(8080)));
        assert_eq!(split_host("", "10.0.0.1"), ("10.0.0.1".into(), None));
    }
}
