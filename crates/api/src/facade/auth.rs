//! Who signed a facade request: the `Authorization: BackendAI …` header,
//! checked against the keypair's secret (`sign.rs`), the date within 15
//! minutes, the API version one the facade speaks.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::header;
use axum::http::request::Parts;
use berth_shared::auth::UserInfo;
use berth_shared::compat::API_VERSIONS;

use super::error::FacadeError;
use super::sign::{self, SignError, Signed};
use crate::accounts;
use crate::services::Shared as ApiContext;

/// The user whose keypair signed the request.
#[derive(Debug, Clone)]
pub struct KeyUser(pub UserInfo);

fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

impl FromRequestParts<ApiContext> for KeyUser {
    type Rejection = FacadeError;

    async fn from_request_parts(
        parts: &mut Parts,
        ctx: &ApiContext,
    ) -> Result<Self, Self::Rejection> {
        let refused = |e: SignError| FacadeError::auth_params(&e.to_string());
        let auth =
            header(parts, header::AUTHORIZATION.as_str()).ok_or(refused(SignError::Malformed))?;
        let credential = sign::parse_authorization(auth).map_err(refused)?;
        let raw_date = header(parts, header::DATE.as_str())
            .or_else(|| header(parts, "x-backendai-date"))
            .ok_or(refused(SignError::BadDate))?;
        let date = sign::check_date(raw_date, chrono::Utc::now()).map_err(refused)?;
        let version = header(parts, "x-backendai-version").unwrap_or_default();
        if !API_VERSIONS.contains(&version) {
            return Err(FacadeError::invalid("Unsupported API version."));
        }
        let host = header(parts, header::HOST.as_str()).unwrap_or_default();
        // none is `application/octet-stream`, as the reference's server
        // (aiohttp) reads it, and as the client signs its event streams
        let content_type = header(parts, header::CONTENT_TYPE.as_str())
            .unwrap_or("application/octet-stream")
            .split(';')
            .next()
            .unwrap_or_default()
            .trim();
        // the path as sent, before the facade's prefix was taken off
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map(|o| o.0.clone())
            .unwrap_or_else(|| parts.uri.clone());
        let path_and_query = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let (user, secret) = accounts::keypair_user(ctx.store(), &credential.access_key)
            .await?
            .ok_or_else(|| FacadeError::auth("Access key not found"))?;
        let signed = Signed {
            method: parts.method.as_str(),
            path_and_query,
            raw_date,
            date,
            host,
            content_type,
            version,
        };
        if !sign::verify(&secret, &signed, &credential.signature) {
            return Err(FacadeError::auth("Signature mismatch"));
        }
        Ok(KeyUser(user))
    }
}
