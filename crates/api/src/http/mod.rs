//! The HTTP layer: routers (one file per resource), extractors that say who
//! is calling, and the problem+json error type. Handlers parse, authorize
//! and call one operation; no SQL and no bollard types here.

pub mod apps;
pub mod assets;
pub mod auth;
pub mod environments;
pub mod error;
pub mod events;
pub mod extract;
pub mod folders;
pub mod headers;
pub mod health;
pub mod history;
pub mod images;
pub mod json;
pub mod metrics;
pub mod openapi;
pub mod query;
pub mod resources;
pub mod sessions;
pub mod users;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use tower_http::compression::predicate::{NotForContentType, Predicate};
use tower_http::compression::{CompressionLayer, DefaultPredicate};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Shared state of every handler: the server's services.
pub type ApiContext = crate::services::Shared;

/// Requests addressed to a web app's host (`<label>.<apps domain>`) go to
/// the app proxy before anything of the UI or the API sees them (and
/// without the UI's headers: the app is another origin with its own).
async fn apps_by_host(State(ctx): State<ApiContext>, req: Request, next: Next) -> Response {
    let host = crate::origin::host_of(req.headers(), req.uri());
    match crate::apps::proxy::label_of(&host, &ctx.config().apps_domain) {
        Some(label) => {
            let label = label.to_string();
            crate::apps::proxy::serve(ctx.clone(), &label, &host, req).await
        }
        None => next.run(req).await,
    }
}

/// A request that changes state must come from the UI's own pages when a
/// browser sends it (see `crate::origin`): a page elsewhere, an app on a
/// sibling host among them, cannot act with the user's login.
async fn same_origin_only(req: Request, next: Next) -> Response {
    if crate::origin::changes_state(req.method()) {
        let host = crate::origin::host_of(req.headers(), req.uri());
        if let Some(why) = crate::origin::foreign(req.headers(), &host) {
            tracing::info!(why, path = %req.uri().path(), "refused a request from another origin");
            return error::ApiError::Forbidden(
                "This request comes from another site or origin; berth takes changes from its own pages only.",
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// Replicas in step, for the caller: an API request (berth's or the
/// Backend.AI facade's) is served once this replica heard what the others
/// told before it came (`Events::caught_up`: a login's failures, a commit
/// running, streams held against the cap, a pre-pull), and answered once
/// the others were told what it did (`Events::flushed`), so the caller's
/// next request, whichever replica it reaches, finds it. Nothing to wait
/// for with one process.
async fn in_step_with_others(State(ctx): State<ApiContext>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.starts_with("/api/") || path.starts_with(crate::facade::PREFIX) {
        ctx.events().caught_up().await;
    }
    let res = next.run(req).await;
    ctx.events().flushed().await;
    res
}

/// The header that carries a request's id, in and out.
pub const REQUEST_ID: &str = "x-request-id";

/// A caller may name its request (`X-Request-Id`, e.g. to follow it
/// through a proxy's logs too) with up to 64 letters, digits, `-`, `_`,
/// `.`; anything else is dropped, and the server names it (a UUID), so a
/// log line never carries what a caller wrote at length.
async fn keep_fair_request_id(mut req: Request, next: Next) -> Response {
    let fair = req.headers().get(REQUEST_ID).is_some_and(|v| {
        let b = v.as_bytes();
        !b.is_empty()
            && b.len() <= 64
            && b.iter()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
    });
    if !fair {
        req.headers_mut().remove(REQUEST_ID);
    }
    next.run(req).await
}

/// Each request's span: every log line written while it is served carries
/// its method, path and id.
fn request_span(req: &Request) -> tracing::Span {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
}

/// `/api/v1`: the route table of the API.
fn api_router() -> Router<ApiContext> {
    Router::new()
        .merge(auth::router())
        .merge(users::router())
        .merge(sessions::router())
        .merge(apps::router())
        .merge(folders::router())
        .merge(environments::router())
        .merge(resources::router())
        .merge(events::router())
        .merge(history::router())
        .merge(images::router())
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/docs", get(openapi::docs))
        .fallback(error::api_not_found)
        .layer(middleware::from_fn(same_origin_only))
}

/// The whole application: API, health, and the web UI with SPA fallback.
pub fn router(ctx: ApiContext) -> Router {
    let static_dir = ctx.config().static_dir.clone();
    let spa = assets::service(&static_dir);
    let router = Router::new()
        .nest("/api/v1", api_router())
        .nest(crate::facade::PREFIX, crate::facade::router())
        .route("/api/{*rest}", any(error::api_not_found))
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::metrics))
        .fallback_service(spa)
        .layer(middleware::from_fn_with_state(
            ctx.clone(),
            in_step_with_others,
        ))
        .layer(middleware::from_fn_with_state(
            ctx.clone(),
            metrics::count_requests,
        ))
        .layer(DefaultBodyLimit::max(ctx.config().max_body_bytes))
        // downloads are streamed as they are: gzip would cost the CPU and
        // hide their length
        .layer(CompressionLayer::new().compress_when(
            DefaultPredicate::new().and(NotForContentType::const_new("application/octet-stream")),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_response(
                    tower_http::trace::DefaultOnResponse::new().level(tracing::Level::INFO),
                ),
        );
    let [csp, frame, sniff, referrer, opener] = headers::layers(&static_dir);
    router
        .layer(csp)
        .layer(frame)
        .layer(sniff)
        .layer(referrer)
        .layer(opener)
        .layer(middleware::from_fn_with_state(ctx.clone(), apps_by_host))
        // outermost: every answer, an app's too, carries the request's id
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(middleware::from_fn(keep_fair_request_id))
        .with_state(ctx)
}
