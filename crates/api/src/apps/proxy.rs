//! The app proxy: one listener per open app on a port of the pool. HTTP
//! apps are served by a reverse proxy (requests and WebSocket upgrades go
//! to the container's address; the caller must be the session's owner or
//! an admin unless the app is public); TCP apps (sshd) are forwarded as
//! they are. Every byte is counted as the session's traffic. Nothing of
//! the container is published on the host. A login that passed is trusted
//! for [`GRANT_TTL`] without asking the database again (a page load is
//! dozens of requests), so a logout reaches an open app within that time.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use berth_shared::auth::SESSION_COOKIE;
use futures_util::StreamExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::registry::TrafficCounter;
use crate::accounts;
use crate::http::error::ApiError;
use crate::http::extract::credential_of;
use crate::store::Store;

/// What one HTTP app's proxy needs.
#[derive(Clone)]
pub struct HttpTarget {
    /// The database (for logins).
    pub store: Store,
    /// The session's owner: may pass.
    pub owner_id: String,
    /// The container's service.
    pub upstream: SocketAddr,
    /// Anyone may pass.
    pub public: bool,
    /// Counts the bytes.
    pub traffic: Arc<TrafficCounter>,
    /// One client, reused.
    pub client: Client<HttpConnector, Body>,
    /// Logins that passed lately.
    pub grants: Grants,
}

/// How long a login that passed is trusted without asking again.
pub const GRANT_TTL: Duration = Duration::from_secs(5);
/// Most remembered logins per app (then all are forgotten).
const GRANTS_MAX: usize = 1024;

/// Logins (by token hash) that passed an app's check, and when.
#[derive(Clone, Default)]
pub struct Grants(Arc<Mutex<HashMap<String, Instant>>>);

impl Grants {
    fn fresh(&self, key: &str) -> bool {
        self.0
            .lock()
            .map(|g| g.get(key).is_some_and(|t| t.elapsed() < GRANT_TTL))
            .unwrap_or(false)
    }

    fn remember(&self, key: String) {
        if let Ok(mut g) = self.0.lock() {
            if g.len() >= GRANTS_MAX {
                g.clear();
            }
            g.insert(key, Instant::now());
        }
    }
}

/// A client for upstream requests.
pub fn client() -> Client<HttpConnector, Body> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

/// Serves an HTTP app on `listener` until `cancel`.
pub fn serve_http(listener: TcpListener, target: HttpTarget, cancel: CancellationToken) {
    let app = Router::new().fallback(forward).with_state(target);
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(cancel.cancelled_owned())
            .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "an app proxy stopped");
        }
    });
}

/// 401 without a valid login; 404 for anyone but the owner or an admin.
async fn authorize(t: &HttpTarget, headers: &HeaderMap) -> Result<(), ApiError> {
    let credential = credential_of(headers)?;
    let key = credential.cache_key();
    if t.grants.fresh(&key) {
        return Ok(());
    }
    let user = accounts::resolve(&t.store, credential.as_credential())
        .await
        .map_err(|_| ApiError::Unauthorized)?;
    if user.id == t.owner_id || user.role.is_admin() {
        t.grants.remember(key);
        Ok(())
    } else {
        Err(ApiError::NotFound("app"))
    }
}

/// The Cookie header without berth's login: the app never sees it.
fn without_login(cookies: &str) -> Option<String> {
    let kept: Vec<&str> = cookies
        .split(';')
        .map(str::trim)
        .filter(|c| !c.is_empty() && !c.starts_with(&format!("{SESSION_COOKIE}=")))
        .collect();
    (!kept.is_empty()).then(|| kept.join("; "))
}

/// Counts a body's bytes as they pass.
fn counted(body: Body, traffic: Arc<TrafficCounter>) -> Body {
    Body::from_stream(body.into_data_stream().map(move |chunk| {
        if let Ok(c) = &chunk {
            traffic.add(c.len());
        }
        chunk
    }))
}

async fn forward(State(t): State<HttpTarget>, mut req: Request) -> Response {
    if !t.public {
        if let Err(e) = authorize(&t, req.headers()).await {
            return e.into_response();
        }
    }
    let upgrade = req.headers().contains_key(header::UPGRADE);
    let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut req));
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let (mut parts, body) = req.into_parts();
    parts.uri = match format!("http://{}{path}", t.upstream).parse::<Uri>() {
        Ok(u) => u,
        Err(e) => return ApiError::BadRequest(e.to_string()).into_response(),
    };
    match parts
        .headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .map(without_login)
    {
        Some(Some(rest)) => {
            if let Ok(v) = HeaderValue::from_str(&rest) {
                parts.headers.insert(header::COOKIE, v);
            }
        }
        Some(None) => {
            parts.headers.remove(header::COOKIE);
        }
        None => {}
    }
    if !t.public {
        parts.headers.remove(header::AUTHORIZATION);
    }
    let upstream_req = Request::from_parts(parts, counted(body, t.traffic.clone()));
    let mut res = match t.client.request(upstream_req).await {
        Ok(r) => r,
        Err(e) => {
            return (
                StatusCode::BAD_GATEWAY,
                format!("The app does not answer: {e}"),
            )
                .into_response()
        }
    };
    if res.status() == StatusCode::SWITCHING_PROTOCOLS {
        if let Some(client_upgrade) = client_upgrade {
            let server_upgrade = hyper::upgrade::on(&mut res);
            let traffic = t.traffic.clone();
            tokio::spawn(async move {
                if let (Ok(a), Ok(b)) = (client_upgrade.await, server_upgrade.await) {
                    let mut a = Counted::new(TokioIo::new(a), traffic.clone());
                    let mut b = Counted::new(TokioIo::new(b), traffic);
                    let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
                }
            });
        }
    }
    let (parts, body) = res.into_parts();
    Response::from_parts(parts, counted(Body::new(body), t.traffic.clone()))
}

/// Forwards TCP connections on `listener` to `upstream` until `cancel`.
pub fn serve_tcp(
    listener: TcpListener,
    upstream: SocketAddr,
    traffic: Arc<TrafficCounter>,
    cancel: CancellationToken,
) {
    tokio::spawn(async move {
        loop {
            let conn = tokio::select! {
                _ = cancel.cancelled() => return,
                c = listener.accept() => c,
            };
            let Ok((inbound, _)) = conn else { continue };
            let (traffic, cancel) = (traffic.clone(), cancel.clone());
            tokio::spawn(async move {
                let Ok(outbound) = TcpStream::connect(upstream).await else {
                    return;
                };
                let mut a = Counted::new(inbound, traffic.clone());
                let mut b = Counted::new(outbound, traffic);
                tokio::select! {
                    _ = cancel.cancelled() => {}
                    _ = tokio::io::copy_bidirectional(&mut a, &mut b) => {}
                }
            });
        }
    });
}

/// A stream that counts the bytes read from it as traffic.
struct Counted<S> {
    inner: S,
    traffic: Arc<TrafficCounter>,
}

impl<S> Counted<S> {
    fn new(inner: S, traffic: Arc<TrafficCounter>) -> Self {
        Self { inner, traffic }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        let n = buf.filled().len() - before;
        if n > 0 {
            self.traffic.add(n);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_cookie_never_reaches_the_app() {
        assert_eq!(
            without_login("a=1; berth_session=secret; _xsrf=x"),
            Some("a=1; _xsrf=x".into())
        );
        assert_eq!(without_login("berth_session=secret"), None);
        assert_eq!(without_login("x=y"), Some("x=y".into()));
    }

    #[test]
    fn grants_are_per_login_and_bounded() {
        let g = Grants::default();
        assert!(!g.fresh("c1"));
        g.remember("c1".into());
        assert!(g.fresh("c1") && !g.fresh("b1"));
        for i in 0..GRANTS_MAX {
            g.remember(format!("x{i}"));
        }
        assert!(!g.fresh("c1"), "a full table starts over");
        assert!(g.0.lock().unwrap().len() <= GRANTS_MAX);
    }
}
