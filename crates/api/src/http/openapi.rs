//! The API's OpenAPI 3.1 document, generated from the handlers'
//! `#[utoipa::path]` entries and the shared types' schemas, served at
//! `GET /api/v1/openapi.json`; `GET /api/v1/docs` renders it (Swagger UI,
//! its files put in the UI's directory at setup, nothing from a CDN).
//!
//! Handlers write only what is theirs (path, parameters, body, success).
//! The errors every operation shares are added here by rule, all as
//! `application/problem+json`, so no entry can forget one: 401 and 403
//! where a login is needed, 404 where the path or query names an object,
//! 400/422 where a query or body is read, 413/415 with a body, 409 on
//! changes and on objects' own routes, and 429, 500, 503 anywhere.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};
use utoipa::OpenApi;

use super::{apps, auth, environments, events, folders, health, history, images};
use super::{metrics, resources, sessions, users};

/// The paths' prefix: handlers name their paths as routers do.
pub const PREFIX: &str = "/api/v1";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "berth",
        description = "Compute sessions on Docker engines: launch, watch, use and end them; \
            storage folders; resource groups, presets and policies; agents. \
            Sign in with `POST /api/v1/auth/login` (a cookie) or send \
            `Authorization: Bearer <token>` with a token from `POST /api/v1/auth/tokens`. \
            Errors are `application/problem+json` (RFC 9457) with field-level `errors`."
    ),
    paths(
        auth::login, auth::logout, auth::me, auth::update_me,
        auth::list_tokens, auth::create_token, auth::revoke_token, auth::regenerate_keypair,
        users::list, users::create, users::get_one, users::update,
        sessions::list, sessions::create, sessions::dry_run, sessions::get_one,
        sessions::terminate, sessions::rename, sessions::logs, sessions::download_logs,
        sessions::usage,
        apps::list, apps::open, apps::close, apps::terminal, apps::ssh_key,
        images::commit, images::list, images::remove, images::prepull, images::list_prepulls,
        folders::list, folders::create, folders::get_one, folders::rename, folders::remove,
        folders::entries, folders::mkdir, folders::move_entry, folders::download,
        folders::upload, folders::remove_entry,
        environments::list,
        resources::list_groups, resources::put_group, resources::delete_group,
        resources::list_presets, resources::put_preset, resources::delete_preset,
        resources::list_policies, resources::put_policy, resources::delete_policy,
        resources::policy_of_owner,
        resources::list_agents, resources::register_agent, resources::update_agent,
        resources::remove_agent,
        events::events,
        history::list, history::update, history::remove,
        docs, openapi_json,
    ),
    components(schemas(berth_shared::problem::Problem)),
    security(("cookie" = []), ("bearer" = [])),
)]
struct ApiDoc;

/// The routes outside `/api/v1` that are documented too (health and
/// metrics are for probes and scrapers, documented for them).
#[derive(OpenApi)]
#[openapi(paths(health::healthz, metrics::metrics))]
struct RootDoc;

/// The document, built once.
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

fn build() -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    let root = serde_json::to_value(RootDoc::openapi()).unwrap_or_default();
    let mut paths = Map::new();
    if let Some(api) = doc["paths"].as_object() {
        for (path, item) in api {
            paths.insert(format!("{PREFIX}{path}"), item.clone());
        }
    }
    if let Some(root) = root["paths"].as_object() {
        paths.extend(root.clone());
    }
    if let Some(schemas) = root["components"]["schemas"].as_object() {
        for (name, schema) in schemas {
            doc["components"]["schemas"][name] = schema.clone();
        }
    }
    for (path, item) in paths.iter_mut() {
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in ops.iter_mut() {
            add_errors(path, method, op);
        }
    }
    doc["paths"] = Value::Object(paths);
    doc["components"]["securitySchemes"] = json!({
        "cookie": {
            "type": "apiKey", "in": "cookie", "name": berth_shared::auth::SESSION_COOKIE,
            "description": "The login cookie `POST /api/v1/auth/login` sets (`__Host-berth_session` over HTTPS)."
        },
        "bearer": {
            "type": "http", "scheme": "bearer",
            "description": "An API token from `POST /api/v1/auth/tokens` (shown once)."
        }
    });
    doc
}

/// The shared error answers of one operation (see the module's comment).
fn add_errors(path: &str, method: &str, op: &mut Value) {
    let public = op["security"]
        .as_array()
        .is_some_and(|s| s.iter().any(|r| r.as_object().is_some_and(Map::is_empty)));
    let has_body = op.get("requestBody").is_some();
    let has_query = op["parameters"]
        .as_array()
        .is_some_and(|ps| ps.iter().any(|p| p["in"] == "query"));
    let mut statuses: Vec<(&str, &str)> = vec![
        (
            "429",
            "Too many requests or streams at once; retry after the `Retry-After` seconds.",
        ),
        ("500", "The server failed; nothing was changed."),
        (
            "503",
            "The server or a Docker engine cannot serve this now.",
        ),
    ];
    if !public {
        statuses.push(("401", "Not signed in: no valid login cookie or token."));
        statuses.push(("403", "Signed in, but not allowed (or from another site)."));
    } else if method != "get" {
        statuses.push(("403", "The request comes from another site."));
    }
    if path.contains('{') || has_query {
        statuses.push((
            "404",
            "No such object (named in the path or the query), or not yours.",
        ));
    }
    if has_body || has_query || path.contains('{') {
        statuses.push(("400", "The request could not be read."));
        statuses.push(("422", "Invalid input; `errors` names each field."));
    }
    if has_body {
        statuses.push(("413", "The body is larger than the server takes."));
        statuses.push(("415", "The body is not of the declared media type."));
    }
    if method != "get" || path.contains('{') {
        statuses.push(("409", "Conflicts with the object's current state."));
    }
    let responses = &mut op["responses"];
    for (status, description) in statuses {
        if responses.get(status).is_none() {
            responses[status] = json!({
                "description": description,
                "content": {
                    berth_shared::problem::PROBLEM_CONTENT_TYPE: {
                        "schema": {"$ref": "#/components/schemas/Problem"}
                    }
                }
            });
        }
    }
}

/// The document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "This OpenAPI 3.1 document.", content_type = "application/json")))]
pub async fn openapi_json() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        axum::Json(document()),
    )
        .into_response()
}

/// The page that renders the document (Swagger UI). The page is in the
/// binary; Swagger UI's script and style are files `make setup` puts in
/// the UI's directory (`/api-docs/`).
#[utoipa::path(get, path = "/docs", tag = "meta", security(()),
    responses((status = 200, description = "A page that renders this document.", content_type = "text/html")))]
pub async fn docs() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("../../api-docs/index.html"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_its_shared_errors_as_problems() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let get = &doc["paths"]["/api/v1/sessions/{id}"]["get"]["responses"];
        for status in ["200", "401", "403", "404", "500"] {
            assert!(get.get(status).is_some(), "{status}: {get}");
        }
        assert!(get.get("413").is_none(), "{get}");
        let login = &doc["paths"]["/api/v1/auth/login"]["post"]["responses"];
        assert!(login.get("401").is_some() && login.get("422").is_some());
        assert_eq!(
            login["422"]["content"]["application/problem+json"]["schema"]["$ref"],
            "#/components/schemas/Problem"
        );
    }
}
