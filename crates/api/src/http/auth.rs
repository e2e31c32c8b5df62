//! `/api/v1/auth/*`: login, logout, me (and the UI language), personal API
//! tokens.

use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use berth_shared::auth::{
    session_cookie_name, CreateTokenRequest, LoginRequest, TokenCreated, TokenList,
    UpdateMeRequest, UserInfo,
};
use cookie::{Cookie, SameSite};

use super::error::{ApiError, ApiResult};
use super::extract::{login_cookie, AuthUser, ClientAddr};
use super::json::ApiJson;
use super::ApiContext;
use crate::accounts::{self, AccountError};

/// The routes of this resource.
pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me).patch(update_me))
        .route("/auth/tokens", get(list_tokens).post(create_token))
        .route("/auth/tokens/{id}", delete(revoke_token))
        .route("/auth/keypair", post(regenerate_keypair))
}

/// The login cookie; `Secure` and `__Host-` prefixed when the server is
/// reached over HTTPS (`--secure-cookies`, behind a TLS proxy).
fn session_cookie(value: String, max_age_secs: i64, secure: bool) -> HeaderValue {
    let cookie = Cookie::build((session_cookie_name(secure), value))
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build();
    // A cookie built from our own alphanumeric token is always a valid header.
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[utoipa::path(post, path = "/auth/login", tag = "auth", security(()), request_body = LoginRequest, responses((status = 200, description = "Signed in: the user, and the login cookie set.", body = UserInfo), (status = 401, description = "Wrong email or password, or an inactive account.", body = berth_shared::problem::Problem, content_type = "application/problem+json")))]
pub(crate) async fn login(
    State(ctx): State<ApiContext>,
    ClientAddr(client): ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    req.validate().map_err(ApiError::Invalid)?;
    let outcome = accounts::authenticate_throttled(
        ctx.store(),
        ctx.login_throttle(),
        client,
        &req.email,
        &req.password,
    )
    .await;
    // the other replicas' throttles count it too
    if let Ok(_) | Err(AccountError::Unauthenticated) = &outcome {
        ctx.events().tell_others(crate::events::Note::Login {
            addr: client,
            email: accounts::normalise_email(&req.email),
            failed: outcome.is_err(),
        });
    }
    let user = match outcome {
        Ok(user) => user,
        Err(AccountError::Unauthenticated) => return Err(ApiError::LoginFailed),
        Err(e) => return Err(e.into()),
    };
    let ttl_hours = ctx.config().login_ttl_hours;
    let token = accounts::start_login(ctx.store(), &user.id, ttl_hours).await?;
    let mut res = ApiJson(user).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(
            token,
            i64::from(ttl_hours) * 3600,
            ctx.config().secure_cookies,
        ),
    );
    Ok(res)
}

#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(()), responses((status = 204, description = "Signed out: the login ended and its cookie cleared.")))]
pub(crate) async fn logout(State(ctx): State<ApiContext>, parts: Parts) -> ApiResult<Response> {
    if let Some(token) = login_cookie(&parts.headers, ctx.config().secure_cookies) {
        accounts::end_login(ctx.store(), &token).await?;
        ctx.accounts_changed();
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        session_cookie(String::new(), 0, ctx.config().secure_cookies),
    );
    Ok(res)
}

#[utoipa::path(get, path = "/auth/me", tag = "auth", responses((status = 200, description = "The signed-in user.", body = UserInfo)))]
pub(crate) async fn me(AuthUser(user): AuthUser) -> ApiJson<UserInfo> {
    ApiJson(user)
}

/// `PATCH /auth/me`: the caller's own settings (the UI language).
#[utoipa::path(patch, path = "/auth/me", tag = "auth", request_body = UpdateMeRequest, responses((status = 200, description = "The user, updated (language, password, SSH key…).", body = UserInfo)))]
pub(crate) async fn update_me(
    State(ctx): State<ApiContext>,
    AuthUser(mut user): AuthUser,
    ApiJson(req): ApiJson<UpdateMeRequest>,
) -> ApiResult<ApiJson<UserInfo>> {
    req.validate().map_err(ApiError::Invalid)?;
    accounts::set_locale(ctx.store(), &user.id, &req.locale).await?;
    user.locale = Some(req.locale);
    Ok(ApiJson(user))
}

#[utoipa::path(post, path = "/auth/tokens", tag = "auth", request_body = CreateTokenRequest, responses((status = 201, description = "The new token; its secret is shown this once.", body = TokenCreated)))]
pub(crate) async fn create_token(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    ApiJson(req): ApiJson<CreateTokenRequest>,
) -> ApiResult<(StatusCode, ApiJson<TokenCreated>)> {
    let max = ctx.config().max_tokens_per_user;
    let created = accounts::create_token(ctx.store(), &user.id, &req, max).await?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}

/// A new secret key for the caller's API keypair (the one the reference
/// platform's client signs with, at `/backend.ai`); the old one stops
/// working.
#[utoipa::path(post, path = "/auth/keypair", tag = "auth", responses((status = 201, description = "The access key and its new secret key, shown this once.", body = berth_shared::auth::KeypairCreated)))]
pub(crate) async fn regenerate_keypair(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
) -> ApiResult<(StatusCode, ApiJson<berth_shared::auth::KeypairCreated>)> {
    let created = accounts::regenerate_secret(ctx.store(), &user.id).await?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}

#[utoipa::path(get, path = "/auth/tokens", tag = "auth", responses((status = 200, description = "The caller's API tokens (never their secrets).", body = TokenList)))]
pub(crate) async fn list_tokens(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
) -> ApiResult<ApiJson<TokenList>> {
    let items = accounts::list_tokens(ctx.store(), &user.id).await?;
    Ok(ApiJson(TokenList { items }))
}

#[utoipa::path(delete, path = "/auth/tokens/{id}", tag = "auth", params(("id" = String, Path, description = "Token id")), responses((status = 204, description = "Revoked.")))]
pub(crate) async fn revoke_token(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    accounts::revoke_token(ctx.store(), &user.id, &id).await?;
    ctx.accounts_changed();
    Ok(StatusCode::NO_CONTENT)
}
