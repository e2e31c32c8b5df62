//! Who may use a web app: anyone when it is public; else its session's
//! owner or an admin, proven by the app's own cookie (a *pass*, set when
//! the browser brings the one-time code of an open: `launch`) or by an
//! API token. The login behind it is checked again every [`super::registry::GRANT_TTL`]
//! (a page load is dozens of requests), and sockets through the proxy
//! close when that login ends, the app closes or the session ends.

use std::collections::HashMap;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::registry::OpenEntry;
use crate::accounts::{self, OwnedCredential};
use crate::services::Shared;

/// The app's own cookie (a pass), host-only on the app's host.
pub const APP_COOKIE: &str = "berth_app";
/// Its name over HTTPS.
pub const SECURE_APP_COOKIE: &str = "__Host-berth_app";

/// The name of a cookie as a `Cookie` or `Set-Cookie` piece spells it.
pub(super) fn cookie_name(piece: &[u8]) -> &[u8] {
    let end = piece.iter().position(|b| *b == b'=').unwrap_or(piece.len());
    piece[..end].trim_ascii()
}

/// `find()` now or, when replicas share the database, once this replica
/// has heard every note sent before: an app, code or pass another replica
/// made may still be on its way here (its note was sent before the caller
/// heard of it, and is read by this replica's listener a moment later).
pub(super) async fn soon<T>(ctx: &Shared, find: impl Fn() -> Option<T>) -> Option<T> {
    if let Some(found) = find() {
        return Some(found);
    }
    // returns at once with one process
    ctx.events().caught_up().await;
    find()
}

/// The pass cookie's name on this server.
fn app_cookie(secure: bool) -> &'static str {
    if secure {
        SECURE_APP_COOKIE
    } else {
        APP_COOKIE
    }
}

/// The values of every cookie named `name`.
fn cookie_values<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = String> + 'a {
    headers
        .get_all(header::COOKIE)
        .iter()
        .flat_map(|v| v.as_bytes().split(|b| *b == b';'))
        .map(<[u8]>::trim_ascii)
        .filter(move |p| cookie_name(p) == name.as_bytes())
        .filter_map(|p| {
            let i = p.iter().position(|b| *b == b'=')?;
            std::str::from_utf8(&p[i + 1..]).ok().map(str::to_string)
        })
}

/// A berth API token in `Authorization: Bearer …`.
pub(super) fn bearer(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer")
        && token.trim().starts_with(accounts::secrets::TOKEN_PREFIX))
    .then(|| token.trim().to_string())
}

pub(super) fn plain(status: StatusCode, text: impl Into<String>) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text.into(),
    )
        .into_response()
}

/// `GET <LAUNCH_PATH>?code=…[&next=/path]`: a one-time code for a host-only
/// cookie on this app's host, then on to `next` (a path of this host).
pub(super) async fn launch(ctx: &Shared, label: &str, query: &str) -> Response {
    let pairs: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let code = pairs.get("code");
    let Some(login) = soon(ctx, || code.and_then(|code| ctx.apps().redeem(code, label))).await
    else {
        return plain(
            StatusCode::UNAUTHORIZED,
            "This link was used already or has expired: open the app again from its session in berth.\n",
        );
    };
    let next = pairs
        .get("next")
        .filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
        .cloned()
        .unwrap_or_else(|| "/".into());
    let secure = ctx.config().secure_cookies;
    let pass = ctx.apps().new_pass(label, login);
    let cookie = format!(
        "{}={pass}; Path=/; HttpOnly; SameSite=Lax{}",
        app_cookie(secure),
        if secure { "; Secure" } else { "" }
    );
    let mut res = StatusCode::SEE_OTHER.into_response();
    let headers = res.headers_mut();
    if let (Ok(c), Ok(l)) = (HeaderValue::from_str(&cookie), HeaderValue::from_str(&next)) {
        headers.insert(header::SET_COOKIE, c);
        headers.insert(header::LOCATION, l);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// The login of a request to a non-public app, when it is the session's
/// owner's or an admin's: its pass for this app, else its API token. 401
/// without one that stands, 404 for anyone else.
pub(super) async fn authorize(
    ctx: &Shared,
    entry: &OpenEntry,
    label: &str,
    headers: &HeaderMap,
) -> Result<(OwnedCredential, String), Response> {
    let secure = ctx.config().secure_cookies;
    let passes: Vec<String> = cookie_values(headers, app_cookie(secure)).collect();
    let pass = if passes.is_empty() {
        None
    } else {
        soon(ctx, || {
            passes.iter().find_map(|pass| ctx.apps().pass(label, pass))
        })
        .await
    };
    let credential = pass
        .or_else(|| bearer(headers).map(OwnedCredential::Bearer))
        .ok_or_else(|| {
            plain(
                StatusCode::UNAUTHORIZED,
                "Open this app from its session in berth (it signs this browser in).\n",
            )
        })?;
    let key = credential.cache_key();
    if let Some(uid) = entry.grants.fresh(&key) {
        return Ok((credential, uid));
    }
    let user = accounts::resolve(ctx.store(), credential.as_credential())
        .await
        .map_err(|_| {
            plain(
                StatusCode::UNAUTHORIZED,
                "Your berth login has ended: sign in and open the app again.\n",
            )
        })?;
    if user.id == entry.owner_id || user.role.is_admin() {
        entry.grants.remember(key, user.id.clone());
        Ok((credential, user.id))
    } else {
        Err(plain(
            StatusCode::NOT_FOUND,
            "No app is open at this address.\n",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_berth_tokens_count_as_bearers() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer berth_abc"),
        );
        assert_eq!(bearer(&h).as_deref(), Some("berth_abc"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer someone-elses"),
        );
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("token abc"));
        assert_eq!(bearer(&h), None);
    }
}
