//! The app proxy. A web app is served on a host name of its own,
//! `<label>.<apps domain>`, by this server's own listener ([`serve`]): the
//! browser keeps its cookies per host, so the UI's login never reaches an
//! app and nothing an app sets reaches the UI or another app. A TCP app
//! (sshd) gets a port of the pool and is forwarded as it is
//! ([`serve_tcp`]). Every byte is counted as the session's traffic, and
//! nothing of the container is published on the host. Who may use an app
//! is [`super::pass`]'s to say.
//!
//! What passes, both ways: berth's own cookies are cut from what goes to
//! the app (on bytes: a header that is not UTF-8 is no way around it), an
//! app's `Set-Cookie` for them is dropped, hop-by-hop headers go, and the
//! session's service secret is added for the image's services. A request
//! that changes state or opens a socket must come from the app's own
//! origin.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use berth_shared::apps::LAUNCH_PATH;
use berth_shared::auth::{SECURE_SESSION_COOKIE, SESSION_COOKIE};
use futures_util::StreamExt;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::pass::{
    authorize, bearer, cookie_name, launch, plain, soon, APP_COOKIE, SECURE_APP_COOKIE,
};
use super::registry::{OpenEntry, TrafficCounter};
use crate::accounts::OwnedCredential;
use crate::metrics::{Direction, Metrics};
use crate::origin;
use crate::services::Shared;

/// Cookies an app never sees and may never set.
const BERTH_COOKIES: [&str; 4] = [
    SESSION_COOKIE,
    SECURE_SESSION_COOKIE,
    APP_COOKIE,
    SECURE_APP_COOKIE,
];

/// Headers that belong to one connection, not to the message.
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
];

/// The upstream client, shared by every app.
fn client() -> &'static Client<HttpConnector, Body> {
    static CLIENT: OnceLock<Client<HttpConnector, Body>> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Client::builder(TokioExecutor::new()).build(connector)
    })
}

/// The app label of a request addressed to `host` (`Host` header, port
/// and all), when it is `<label>.<domain>`.
pub fn label_of<'a>(host: &'a str, domain: &str) -> Option<&'a str> {
    if !host.is_ascii() {
        return None;
    }
    let name = match host.rfind(':') {
        Some(i) if !host.ends_with(']') => &host[..i],
        _ => host,
    };
    let name = name.strip_suffix('.').unwrap_or(name);
    let cut = name.len().checked_sub(domain.len() + 1)?;
    let (label, rest) = name.split_at(cut);
    (rest[1..].eq_ignore_ascii_case(domain)
        && rest.starts_with('.')
        && !label.is_empty()
        && !label.contains('.'))
    .then_some(label)
}

fn is_berth_cookie(name: &[u8]) -> bool {
    BERTH_COOKIES
        .iter()
        .any(|c| name.eq_ignore_ascii_case(c.as_bytes()))
}

/// A `Cookie` header without berth's cookies, on its bytes; `None` when
/// nothing is left.
fn without_berth_cookies(value: &[u8]) -> Option<HeaderValue> {
    let kept: Vec<&[u8]> = value
        .split(|b| *b == b';')
        .map(<[u8]>::trim_ascii)
        .filter(|p| !p.is_empty() && !is_berth_cookie(cookie_name(p)))
        .collect();
    (!kept.is_empty())
        .then(|| HeaderValue::from_bytes(&kept.join(&b"; "[..])).ok())
        .flatten()
}

/// Removes berth's cookies from every `Cookie` header.
fn strip_cookies(headers: &mut HeaderMap) {
    let values: Vec<HeaderValue> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| without_berth_cookies(v.as_bytes()))
        .collect();
    headers.remove(header::COOKIE);
    for v in values {
        headers.append(header::COOKIE, v);
    }
}

/// Removes every `Set-Cookie` of an app's answer that names one of
/// berth's cookies.
fn drop_berth_set_cookies(headers: &mut HeaderMap) {
    let kept: Vec<HeaderValue> = headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter(|v| {
            let first = v.as_bytes().split(|b| *b == b';').next().unwrap_or(&[]);
            !is_berth_cookie(cookie_name(first))
        })
        .cloned()
        .collect();
    headers.remove(header::SET_COOKIE);
    for v in kept {
        headers.append(header::SET_COOKIE, v);
    }
}

/// Removes hop-by-hop headers (and those `Connection` names), keeping
/// `Connection: upgrade` and `Upgrade` on an upgrade.
fn strip_hop_by_hop(headers: &mut HeaderMap, upgrade: bool) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|n| HeaderName::from_bytes(n.trim().as_bytes()).ok())
        .filter(|n| *n != header::UPGRADE)
        .collect();
    for n in named {
        headers.remove(n);
    }
    for n in HOP_BY_HOP {
        headers.remove(n);
    }
    if upgrade {
        headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    } else {
        headers.remove(header::UPGRADE);
    }
}

/// Serves a request addressed to the web app on host label `label`
/// (`host`: the request's authority).
pub async fn serve(ctx: Shared, label: &str, host: &str, req: Request) -> Response {
    let Some(entry) = soon(&ctx, || ctx.apps().by_label(label)).await else {
        return plain(StatusCode::NOT_FOUND, "No app is open at this address.\n");
    };
    if req.uri().path() == LAUNCH_PATH {
        let query = req.uri().query().unwrap_or("").to_string();
        let res = launch(&ctx, label, &query).await;
        // the other replicas know the pass before the browser brings it
        ctx.events().flushed().await;
        return res;
    }
    let upgrade = origin::is_upgrade(req.headers());
    if upgrade || origin::changes_state(req.method()) {
        if let Some(why) = origin::foreign(req.headers(), host) {
            tracing::info!(app = %label, why, "refused a request from another origin");
            return plain(
                StatusCode::FORBIDDEN,
                "This app takes changes and sockets from its own pages only.\n",
            );
        }
    }
    let login = if entry.public {
        None
    } else {
        match authorize(&ctx, &entry, label, req.headers()).await {
            Ok(login) => Some(login),
            Err(res) => return res,
        }
    };
    forward(ctx, entry, login, req).await
}

/// Where a proxied byte counts: the session's traffic (which the idle
/// network rule reads) and the server's bytes one way (`/metrics`).
#[derive(Clone)]
struct Meter {
    traffic: Arc<TrafficCounter>,
    bytes: prometheus_client::metrics::counter::Counter,
}

impl Meter {
    fn new(traffic: &Arc<TrafficCounter>, metrics: &Metrics, direction: Direction) -> Self {
        Meter {
            traffic: traffic.clone(),
            bytes: metrics.proxy_bytes(direction),
        }
    }

    fn add(&self, n: usize) {
        self.traffic.add(n);
        self.bytes.inc_by(n as u64);
    }
}

/// Counts a body's bytes as they pass.
fn counted(body: Body, meter: Meter) -> Body {
    Body::from_stream(body.into_data_stream().map(move |chunk| {
        if let Ok(c) = &chunk {
            meter.add(c.len());
        }
        chunk
    }))
}

async fn forward(
    ctx: Shared,
    entry: OpenEntry,
    login: Option<(OwnedCredential, String)>,
    mut req: Request,
) -> Response {
    let traffic = ctx.apps().traffic(&entry.session_id);
    let upgrade = origin::is_upgrade(req.headers());
    let client_upgrade = upgrade.then(|| hyper::upgrade::on(&mut req));
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let (mut parts, body) = req.into_parts();
    parts.uri = match format!("http://{}{path}", entry.upstream).parse::<Uri>() {
        Ok(u) => u,
        Err(_) => return plain(StatusCode::BAD_REQUEST, "The request's path is unusable.\n"),
    };
    strip_cookies(&mut parts.headers);
    strip_hop_by_hop(&mut parts.headers, upgrade);
    if !entry.public || bearer(&parts.headers).is_some() {
        parts.headers.remove(header::AUTHORIZATION);
    }
    if let Some(secret) = &entry.secret {
        if let Ok(v) = HeaderValue::from_str(&format!("token {secret}")) {
            parts.headers.insert(header::AUTHORIZATION, v);
        }
    }
    let to_app = Meter::new(&traffic, ctx.metrics(), Direction::ToApp);
    let from_app = Meter::new(&traffic, ctx.metrics(), Direction::FromApp);
    let upstream_req = Request::from_parts(parts, counted(body, to_app.clone()));
    let mut res = match client().request(upstream_req).await {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(error = %e, "an app does not answer");
            // say what to do: most often nothing listens there yet
            let port = entry.port;
            return plain(
                StatusCode::BAD_GATEWAY,
                format!(
                    "Nothing answers on port {port} in the session yet.\n\n\
                     Start a server on port {port} inside the session (in its terminal, for example:\n\
                     python3 -m http.server {port} --bind 0.0.0.0), then reload this page.\n"
                ),
            );
        }
    };
    let switched = res.status() == StatusCode::SWITCHING_PROTOCOLS;
    if switched {
        if let Some(client_upgrade) = client_upgrade {
            let server_upgrade = hyper::upgrade::on(&mut res);
            let (to_app, from_app) = (to_app, from_app.clone());
            tokio::spawn(async move {
                let (Ok(a), Ok(b)) = (client_upgrade.await, server_upgrade.await) else {
                    return;
                };
                // what is read from the client goes to the app, and back
                let mut a = Counted::new(TokioIo::new(a), to_app);
                let mut b = Counted::new(TokioIo::new(b), from_app);
                let login_ended = async {
                    match &login {
                        Some((credential, uid)) => {
                            super::until_login_ends(&ctx, credential, uid).await
                        }
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = tokio::io::copy_bidirectional(&mut a, &mut b) => {}
                    _ = entry.cancel.cancelled() => {}
                    _ = ctx.shutdown().cancelled() => {}
                    _ = login_ended => {}
                }
            });
        }
    }
    let (mut parts, body) = res.into_parts();
    drop_berth_set_cookies(&mut parts.headers);
    strip_hop_by_hop(&mut parts.headers, switched);
    Response::from_parts(parts, counted(Body::new(body), from_app))
}

/// Forwards TCP connections on `listener` to `upstream` until `cancel`.
pub fn serve_tcp(
    listener: TcpListener,
    upstream: SocketAddr,
    traffic: Arc<TrafficCounter>,
    metrics: &Metrics,
    cancel: CancellationToken,
) {
    let to_app = Meter::new(&traffic, metrics, Direction::ToApp);
    let from_app = Meter::new(&traffic, metrics, Direction::FromApp);
    tokio::spawn(async move {
        loop {
            let conn = tokio::select! {
                _ = cancel.cancelled() => return,
                c = listener.accept() => c,
            };
            let Ok((inbound, _)) = conn else { continue };
            let (to_app, from_app, cancel) = (to_app.clone(), from_app.clone(), cancel.clone());
            tokio::spawn(async move {
                let Ok(outbound) = TcpStream::connect(upstream).await else {
                    return;
                };
                let mut a = Counted::new(inbound, to_app);
                let mut b = Counted::new(outbound, from_app);
                tokio::select! {
                    _ = cancel.cancelled() => {}
                    _ = tokio::io::copy_bidirectional(&mut a, &mut b) => {}
                }
            });
        }
    });
}

/// A stream that counts the bytes read from it.
struct Counted<S> {
    inner: S,
    meter: Meter,
}

impl<S> Counted<S> {
    fn new(inner: S, meter: Meter) -> Self {
        Self { inner, meter }
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
            self.meter.add(n);
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
    fn berth_cookies_never_reach_the_app_whatever_the_bytes() {
        let v = |b: &[u8]| without_berth_cookies(b).map(|h| h.as_bytes().to_vec());
        assert_eq!(
            v(b"a=1; berth_session=secret; _xsrf=x"),
            Some(b"a=1; _xsrf=x".to_vec())
        );
        assert_eq!(v(b"berth_session=secret"), None);
        // a byte >= 0x80 elsewhere in the header once let the whole header through
        assert_eq!(
            v(b"z=\xc3\xa9; berth_session=secret; berth_app=p"),
            Some(b"z=\xc3\xa9".to_vec())
        );
        assert_eq!(
            v(b"__Host-berth_session=s;BERTH_APP=p; x=y"),
            Some(b"x=y".to_vec())
        );
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("berth_session=a"));
        h.append(
            header::COOKIE,
            HeaderValue::from_bytes(b"k=\xff; berth_session=b").unwrap(),
        );
        strip_cookies(&mut h);
        let all: Vec<_> = h
            .get_all(header::COOKIE)
            .iter()
            .map(|v| v.as_bytes().to_vec())
            .collect();
        assert_eq!(all, vec![b"k=\xff".to_vec()]);
    }

    #[test]
    fn an_app_cannot_set_berth_cookies() {
        let mut h = HeaderMap::new();
        for c in [
            "berth_session=x; Path=/api",
            " Berth_Session =y",
            "__Host-berth_session=z; Secure; Path=/",
            "berth_app=w",
            "theirs=1; Path=/",
        ] {
            h.append(header::SET_COOKIE, HeaderValue::from_static(c));
        }
        drop_berth_set_cookies(&mut h);
        let left: Vec<_> = h.get_all(header::SET_COOKIE).iter().collect();
        assert_eq!(left, ["theirs=1; Path=/"]);
    }

    #[test]
    fn hop_by_hop_headers_go_but_an_upgrade_stays() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-secret, Upgrade"),
        );
        h.insert("x-secret", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert("x-kept", HeaderValue::from_static("1"));
        let mut plain_req = h.clone();
        strip_hop_by_hop(&mut h, true);
        assert!(h.get("x-secret").is_none() && h.get("keep-alive").is_none());
        assert_eq!(h.get(header::CONNECTION).unwrap(), "upgrade");
        assert_eq!(h.get(header::UPGRADE).unwrap(), "websocket");
        strip_hop_by_hop(&mut plain_req, false);
        assert!(
            plain_req.get(header::CONNECTION).is_none() && plain_req.get(header::UPGRADE).is_none()
        );
        assert!(plain_req.get("x-kept").is_some());
    }

    #[test]
    fn app_labels_are_read_from_the_host() {
        assert_eq!(
            label_of("abc123.localhost:8080", "localhost"),
            Some("abc123")
        );
        assert_eq!(
            label_of("ABC.apps.example.org", "apps.example.org"),
            Some("ABC")
        );
        assert_eq!(
            label_of("abc.apps.example.org.", "apps.example.org"),
            Some("abc")
        );
        assert_eq!(
            label_of("localhost:8080", "localhost"),
            None,
            "the domain itself"
        );
        assert_eq!(
            label_of("a.b.localhost", "localhost"),
            None,
            "one label only"
        );
        assert_eq!(label_of("127.0.0.1:8080", "localhost"), None);
        assert_eq!(label_of("evillocalhost:8080", "localhost"), None);
        assert_eq!(label_of("[::1]:8080", "localhost"), None);
        assert_eq!(label_of("\u{e9}\u{e9}.localhost", "localhost"), None);
        assert_eq!(label_of("\u{e9}localhost", "localhost"), None);
    }
}
