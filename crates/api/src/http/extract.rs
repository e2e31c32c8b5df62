//! Who is calling. A handler that takes [`AuthUser`] needs a valid login
//! cookie or API token; [`AdminUser`] additionally needs an admin role. The
//! signature says who may call it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use berth_shared::auth::{UserInfo, SESSION_COOKIE};

use super::error::ApiError;
use super::ApiContext;
use crate::accounts::{self, AccountError, OwnedCredential};

/// An authenticated, active user.
#[derive(Debug, Clone)]
pub struct AuthUser(pub UserInfo);

/// An authenticated admin or superadmin.
#[derive(Debug, Clone)]
pub struct AdminUser(pub UserInfo);

/// The value of the login cookie, if the request carries one.
pub fn login_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_string())
}

/// The login a request carries: its bearer token, else its login cookie
/// (a malformed Authorization header counts as none).
pub fn credential_of(headers: &HeaderMap) -> Result<OwnedCredential, ApiError> {
    match headers.get(header::AUTHORIZATION) {
        Some(value) => {
            let value = value.to_str().map_err(|_| ApiError::Unauthorized)?;
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(|t| OwnedCredential::Bearer(t.to_string()))
                .ok_or(ApiError::Unauthorized)
        }
        None => login_cookie(headers)
            .map(OwnedCredential::Login)
            .ok_or(ApiError::Unauthorized),
    }
}

impl FromRequestParts<ApiContext> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &ApiContext) -> Result<Self, ApiError> {
        let credential = credential_of(&parts.headers)?;
        match accounts::resolve(ctx.store(), credential.as_credential()).await {
            Ok(user) => Ok(AuthUser(user)),
            Err(AccountError::Unauthenticated) => Err(ApiError::Unauthorized),
            Err(e) => Err(e.into()),
        }
    }
}

impl FromRequestParts<ApiContext> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &ApiContext) -> Result<Self, ApiError> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, ctx).await?;
        if user.role.is_admin() {
            Ok(AdminUser(user))
        } else {
            Err(ApiError::Forbidden("This needs an admin account."))
        }
    }
}
