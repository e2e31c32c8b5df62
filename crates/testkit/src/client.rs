//! A client of one test server, and the answers tests check.

use std::time::Duration;

use reqwest::{Client, Response, StatusCode};
use serde::Serialize;
use serde_json::Value;

/// Resolves every `*.localhost` name to the loopback address, as browsers
/// and curl do (the system resolver here knows only `localhost`): the apps
/// of a test server live at `<label>.localhost:<port>`.
struct LocalhostNames;

impl reqwest::dns::Resolve for LocalhostNames {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let name = name.as_str().to_ascii_lowercase();
        Box::pin(async move {
            if name == "localhost" || name.ends_with(".localhost") {
                let addrs: reqwest::dns::Addrs =
                    Box::new(vec![std::net::SocketAddr::from(([127, 0, 0, 1], 0))].into_iter());
                return Ok(addrs);
            }
            let found: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let addrs: reqwest::dns::Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

/// An HTTP client of one test server with its own cookie jar (signed in
/// or not). Paths are relative to the server (`/api/v1/…`).
#[derive(Debug, Clone)]
pub struct Api {
    http: Client,
    base: String,
}

impl Api {
    pub(crate) fn new(base: &str) -> Self {
        Self::with_headers(base, &[])
    }

    /// A client that sends these headers with every request (and keeps no
    /// cookies of its own beyond what it is sent): `Authorization: Bearer
    /// …`, a forged cookie.
    pub(crate) fn with_headers(base: &str, headers: &[(&'static str, &str)]) -> Self {
        let mut map = reqwest::header::HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, value.parse().expect("a valid header value"));
        }
        Api {
            http: Client::builder()
                .cookie_store(true)
                // behind a replica pair's balancer, each request is a
                // connection of its own, so requests alternate replicas
                .pool_max_idle_per_host(if replicas() > 1 { 0 } else { usize::MAX })
                .default_headers(map)
                .dns_resolver(std::sync::Arc::new(LocalhostNames))
                .build()
                .expect("client"),
            base: base.to_string(),
        }
    }

    /// The underlying client, for requests these helpers do not cover
    /// (extra headers, bodies that are not JSON).
    pub fn http(&self) -> &Client {
        &self.http
    }

    /// An absolute URL on the server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }

    /// The text of `path` in folder `folder_id`, once it is there (a
    /// session writes it): through the folder API, as the explorer reads.
    pub async fn wait_file(&self, folder_id: &str, path: &str) -> String {
        for _ in 0..600 {
            let res = self
                .get(&format!("/api/v1/folders/{folder_id}/files?path={path}"))
                .await;
            if res.status() == reqwest::StatusCode::OK {
                return res.text().await.expect("file text");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{path} never appeared in folder {folder_id}");
    }

    /// The caller's customized image called `name`, once its commit has
    /// finished (polled; a bound against hangs, not a timed assertion).
    pub async fn wait_customized_image(&self, name: &str) -> Value {
        for _ in 0..600 {
            let list = self.get_json("/api/v1/customized-images").await;
            if let Some(i) = list["items"]
                .as_array()
                .expect("items")
                .iter()
                .find(|i| i["name"] == name)
            {
                return i.clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("image {name} never appeared");
    }

    /// `GET path` as JSON, asserting 200.
    pub async fn get_json(&self, path: &str) -> Value {
        let res = self.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "GET {path}");
        res.json().await.expect("json body")
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, body: &impl Serialize) -> Response {
        self.http
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("POST")
    }

    /// `POST path` without a body.
    pub async fn post_empty(&self, path: &str) -> Response {
        self.http.post(self.url(path)).send().await.expect("POST")
    }

    /// `POST path` with a JSON body, asserting success; the answer's JSON.
    pub async fn post_json(&self, path: &str, body: &impl Serialize) -> Value {
        let res = self.post(path, body).await;
        let status = res.status();
        let json: Value = res.json().await.expect("json body");
        assert!(status.is_success(), "POST {path}: {status} {json:#}");
        json
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch(&self, path: &str, body: &impl Serialize) -> Response {
        self.http
            .patch(self.url(path))
            .json(body)
            .send()
            .await
            .expect("PATCH")
    }

    /// `PUT path` with raw bytes (an upload).
    pub async fn put_bytes(&self, path: &str, body: impl Into<reqwest::Body>) -> Response {
        self.http
            .put(self.url(path))
            .header("content-type", "application/octet-stream")
            .body(body)
            .send()
            .await
            .expect("PUT")
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Response {
        self.http
            .delete(self.url(path))
            .send()
            .await
            .expect("DELETE")
    }

    /// `POST /api/v1/auth/login` (the answer, whatever it is; on success
    /// this client is signed in).
    pub async fn try_login(&self, email: &str, password: &str) -> Response {
        self.post(
            "/api/v1/auth/login",
            &serde_json::json!({"email": email, "password": password}),
        )
        .await
    }

    /// Creates sessions (asserting 201); the first created session's JSON.
    pub async fn launch(&self, body: Value) -> Value {
        let res = self.post("/api/v1/sessions", &body).await;
        let status = res.status();
        let json: Value = res.json().await.expect("create json");
        assert_eq!(status, StatusCode::CREATED, "create failed: {json:#}");
        json["items"][0].clone()
    }

    /// Polls a session until `done` holds for it (or gives up after a
    /// minute, naming the last state). Not a timed assertion: the bound
    /// only keeps a broken build from hanging.
    pub async fn wait_for(&self, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
        let mut last = Value::Null;
        for _ in 0..600 {
            last = self
                .get(&format!("/api/v1/sessions/{id}"))
                .await
                .json()
                .await
                .expect("session json");
            if done(&last) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("session {id} never became {what}; last: {last:#}");
    }

    /// Waits for a session's status.
    pub async fn wait_status(&self, id: &str, status: &str) -> Value {
        self.wait_for(id, status, |s| s["status"] == status).await
    }
}

/// Asserts a problem+json answer with `status`; returns the body.
pub async fn problem(res: Response, status: StatusCode) -> Value {
    assert_eq!(res.status(), status, "unexpected status");
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert_eq!(ct, "application/problem+json", "errors are problem+json");
    let body: Value = res.json().await.expect("problem body");
    assert_eq!(body["status"], status.as_u16());
    assert!(body["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("/problems/")));
    assert!(body["title"].is_string());
    body
}

/// `(field, code)` pairs of a 422 body (each with a message).
pub fn field_errors(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .expect("errors list")
        .iter()
        .map(|e| {
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
            (
                e["field"].as_str().expect("field").to_string(),
                e["code"].as_str().expect("code").to_string(),
            )
        })
        .collect()
}

/// Reads an event stream (`/api/v1/events`, as `bytes_stream()`) until
/// `done` holds for an event of session `id`; the events seen for it, in
/// order. A bound keeps a broken build from hanging (not a timed
/// assertion).
pub async fn events_until<B: AsRef<[u8]>, E: std::fmt::Debug>(
    stream: &mut (impl futures_util::Stream<Item = Result<B, E>> + Unpin),
    id: &str,
    done: impl Fn(&Value) -> bool,
) -> Vec<Value> {
    use futures_util::StreamExt;
    let mut buf = String::new();
    let mut seen = Vec::new();
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(120), stream.next())
            .await
            .expect("events keep coming")
            .expect("stream open")
            .expect("stream chunk");
        buf.push_str(&String::from_utf8_lossy(chunk.as_ref()));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) {
                let ev: Value = serde_json::from_str(data).expect("event json");
                if ev["session_id"] == id {
                    let stop = done(&ev);
                    seen.push(ev);
                    if stop {
                        return seen;
                    }
                }
            }
        }
    }
}

/// How many replicas each test server is (`BERTH_TEST_REPLICAS`, with
/// PostgreSQL: 2 runs the suite against a pair behind a balancer).
pub fn replicas() -> usize {
    std::env::var("BERTH_TEST_REPLICAS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
}
