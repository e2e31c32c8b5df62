//! Who is calling. A handler that takes [`AuthUser`] needs a valid login
//! cookie or API token; [`AdminUser`] additionally needs an admin role. The
//! signature says who may call it.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use berth_shared::auth::{session_cookie_name, UserInfo};

use super::error::ApiError;
use super::ApiContext;
use crate::accounts::{self, AccountError, OwnedCredential};

/// An authenticated, active user.
#[derive(Debug, Clone)]
pub struct AuthUser(pub UserInfo);

/// An authenticated admin or superadmin.
#[derive(Debug, Clone)]
pub struct AdminUser(pub UserInfo);

/// The value of the login cookie (named for `--secure-cookies`), if the
/// request carries exactly one. Two mean someone planted a second one (a
/// sibling host can set a cookie for a parent domain, with a longer path
/// to be sent first): neither is trusted.
pub fn login_cookie(headers: &HeaderMap, secure: bool) -> Option<String> {
    let name = session_cookie_name(secure);
    let mut found = headers
        .get_all(header::COOKIE)
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .flat_map(|v| {
            cookie::Cookie::split_parse(v)
                .filter_map(Result::ok)
                .filter(|c| c.name() == name)
                .map(|c| c.value().to_string())
                .collect::<Vec<_>>()
        });
    match (found.next(), found.next()) {
        (Some(one), None) => Some(one),
        _ => None,
    }
}

/// The login a request carries: its bearer token, else its login cookie
/// (a malformed Authorization header counts as none).
pub fn credential_of(headers: &HeaderMap, secure: bool) -> Result<OwnedCredential, ApiError> {
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
        None => login_cookie(headers, secure)
            .map(OwnedCredential::Login)
            .ok_or(ApiError::Unauthorized),
    }
}

/// An authenticated, active user and the credential that proved it (for
/// what outlives the request: a socket that must close when the login
/// ends, an app's launch code).
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who.
    pub user: UserInfo,
    /// How.
    pub credential: OwnedCredential,
}

impl FromRequestParts<ApiContext> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &ApiContext) -> Result<Self, ApiError> {
        let credential = credential_of(&parts.headers, ctx.config().secure_cookies)?;
        match accounts::resolve(ctx.store(), credential.as_credential()).await {
            Ok(user) => Ok(Caller { user, credential }),
            Err(AccountError::Unauthenticated) => Err(ApiError::Unauthorized),
            Err(e) => Err(e.into()),
        }
    }
}

impl FromRequestParts<ApiContext> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &ApiContext) -> Result<Self, ApiError> {
        Caller::from_request_parts(parts, ctx)
            .await
            .map(|c| AuthUser(c.user))
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

/// The client a request comes from: its peer, unless the peer is a trusted
/// proxy (`--trusted-proxy`); then the nearest address in
/// `X-Forwarded-For` that is not one (each proxy appends the address it
/// saw, so addresses left of the last untrusted one could be forged).
pub fn client_addr(peer: IpAddr, headers: &HeaderMap, trusted: &[ipnet::IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .map(|a| a.parse::<IpAddr>().ok())
        .collect::<Option<Vec<_>>>()
        .unwrap_or_default();
    forwarded
        .into_iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .unwrap_or(peer)
}

/// The client address of a request (see [`client_addr`]).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<ApiContext> for ClientAddr {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, ctx: &ApiContext) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        Ok(ClientAddr(client_addr(
            peer,
            &parts.headers,
            &ctx.config().trusted_proxy,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn the_client_is_read_from_trusted_proxies_only() {
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted = vec!["10.0.0.0/24".parse().unwrap()];
        let stranger: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(
            client_addr(stranger, &xff("203.0.113.1"), &trusted),
            stranger,
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            client_addr(proxy, &xff("198.51.100.9, 203.0.113.1, 10.0.0.4"), &trusted),
            "203.0.113.1".parse::<IpAddr>().unwrap(),
            "the nearest address no trusted proxy holds"
        );
        assert_eq!(client_addr(proxy, &HeaderMap::new(), &trusted), proxy);
        assert_eq!(client_addr(proxy, &xff("nonsense"), &trusted), proxy);
        assert_eq!(client_addr(proxy, &xff("203.0.113.1"), &[]), proxy);
    }
}
