//! `GET /api/v1/environments`: images on the engine labelled as
//! environments, grouped by name with their tags as versions.

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use berth_shared::resources::EnvironmentList;

use super::error::ApiResult;
use super::extract::AuthUser;
use super::json::ApiJson;
use super::ApiContext;
use crate::environments;

/// The routes of this resource.
pub fn router() -> Router<ApiContext> {
    Router::new().route("/environments", get(list))
}

#[utoipa::path(get, path = "/environments", tag = "resources", responses((status = 200, description = "The environment images one may launch.", body = EnvironmentList)))]
pub(crate) async fn list(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
) -> ApiResult<ApiJson<EnvironmentList>> {
    Ok(ApiJson(environments::list(&ctx, &user.id).await?))
}
