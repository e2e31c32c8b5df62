//! A real berth server on a random port, with its own temporary data dir and
//! SQLite file, for one test. Dropped at the end of the test (also on panic).

#![allow(dead_code)]

use std::net::SocketAddr;

use berth_api::config::Config;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub const ADMIN_EMAIL: &str = "root@test.berth";
pub const ADMIN_PASSWORD: &str = "root-password-1";

pub struct TestServer {
    pub base: String,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// Starts a server after `tweak` adjusts its settings.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut config = Config::for_data_dir(dir.path(), addr);
        config.admin_email = ADMIN_EMAIL.into();
        config.admin_password = Some(ADMIN_PASSWORD.into());
        tweak(&mut config);
        let app = berth_api::server::build(config)
            .await
            .expect("server builds");
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(berth_api::server::serve(listener, app.router, async move {
            let _ = stopped.await;
        }));
        TestServer {
            base: format!("http://{addr}"),
            addr,
            dir,
            stop: Some(stop),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A client with its own cookie jar.
    pub fn client(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .build()
            .expect("client")
    }

    /// A client logged in as `email`.
    pub async fn login(&self, email: &str, password: &str) -> Client {
        let c = self.client();
        let res = c
            .post(self.url("/api/v1/auth/login"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .expect("login request");
        assert_eq!(res.status(), StatusCode::OK, "login of {email} failed");
        c
    }

    pub async fn admin(&self) -> Client {
        self.login(ADMIN_EMAIL, ADMIN_PASSWORD).await
    }

    /// Creates a user through the admin API; returns its JSON.
    pub async fn create_user(
        &self,
        admin: &Client,
        email: &str,
        password: &str,
        role: &str,
    ) -> Value {
        let res = admin
            .post(self.url("/api/v1/users"))
            .json(&serde_json::json!({"email": email, "password": password, "full_name": "Test User", "role": role}))
            .send()
            .await
            .expect("create user");
        assert_eq!(res.status(), StatusCode::CREATED, "creating {email}");
        res.json().await.expect("user json")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
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

/// `(field, code)` pairs of a 422 body.
pub fn field_errors(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .expect("errors list")
        .iter()
        .map(|e| {
            assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
            (
                e["field"].as_str().unwrap().to_string(),
                e["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
