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
    pub ctx: berth_api::services::Shared,
    config: Config,
    keep_containers: bool,
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
        config.scheduler_tick_ms = 200;
        config.stop_grace_secs = 2;
        if let Some(url) = postgres_database().await {
            config.db.database_url = url;
            // many servers run at once against one PostgreSQL (max_connections 100)
            config.db.db_max_connections = Some(4);
        }
        tweak(&mut config);
        Self::boot(dir, listener, config).await
    }

    async fn boot(dir: tempfile::TempDir, listener: TcpListener, config: Config) -> Self {
        let addr = listener.local_addr().expect("addr");
        let app = berth_api::server::build(config.clone())
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
            ctx: app.ctx,
            config,
            keep_containers: false,
            stop: Some(stop),
        }
    }

    /// Stops this server (its containers stay) and starts a new one on the
    /// same port, data dir and database, as after a crash or an upgrade.
    pub async fn restart(mut self) -> Self {
        self.halt();
        let dir = tempfile::tempdir().expect("placeholder");
        let data = std::mem::replace(&mut self.dir, dir);
        let config = self.config.clone();
        let mut listener = None;
        for _ in 0..50 {
            match TcpListener::bind(self.addr).await {
                Ok(l) => {
                    listener = Some(l);
                    break;
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            }
        }
        let listener = listener.expect("rebind the same port");
        // the old server must not clean up the containers the new one takes over
        self.keep_containers = true;
        Self::boot(data, listener, config).await
    }

    fn halt(&mut self) {
        self.ctx.shutdown().cancel();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// The instance id labelling this server's containers.
    pub fn instance(&self) -> String {
        self.ctx.instance().to_string()
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
        self.halt();
        if !self.keep_containers {
            remove_containers(&self.instance());
        }
    }
}

/// With `BERTH_TEST_POSTGRES=postgres://user:pw@host:port` set, each test
/// server gets a fresh PostgreSQL database there (the same suite as on
/// SQLite). `scripts/test.sh` drops them all after the run: dropping one
/// while another test's connection is mid-handshake stalls for a minute.
async fn postgres_database() -> Option<String> {
    use sqlx::Connection;
    let base = std::env::var("BERTH_TEST_POSTGRES").ok()?;
    let name = format!("berth_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&format!("{base}/postgres"))
        .await
        .expect("BERTH_TEST_POSTGRES reachable");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .expect("create test database");
    Some(format!("{base}/{name}"))
}

/// Removes every container labelled with this server instance (tests share
/// one engine; each cleans up only its own, also when it failed). A launch
/// still in flight when the test ends can create its container just after
/// the first look (the test runtime then drops the task before it starts
/// it), so a second look follows shortly.
pub fn remove_containers(instance: &str) {
    remove_containers_once(instance);
    std::thread::sleep(std::time::Duration::from_secs(1));
    remove_containers_once(instance);
}

fn remove_containers_once(instance: &str) {
    let out = std::process::Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=berth.instance={instance}"),
        ])
        .output();
    if let Ok(out) = out {
        let ids: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(String::from)
            .collect();
        if !ids.is_empty() {
            let _ = std::process::Command::new("docker")
                .args(["rm", "-f", "-v"])
                .args(&ids)
                .output();
        }
    }
}

/// Containers of this server instance, as `docker ps` sees them.
pub fn containers_of(instance: &str) -> Vec<String> {
    let out = std::process::Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--no-trunc",
            "--filter",
            &format!("label=berth.instance={instance}"),
        ])
        .output()
        .expect("docker ps");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// Polls a session until `done` holds for it (or gives up after a minute,
/// naming the last state). Not a timed assertion: the wait bound only keeps
/// a broken build from hanging.
pub async fn wait_for(
    c: &Client,
    srv: &TestServer,
    id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let mut last = Value::Null;
    for _ in 0..600 {
        let res = c
            .get(srv.url(&format!("/api/v1/sessions/{id}")))
            .send()
            .await
            .expect("get session");
        last = res.json().await.expect("session json");
        if done(&last) {
            return last;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("session {id} never became {what}; last: {last:#}");
}

/// Waits for a status.
pub async fn wait_status(c: &Client, srv: &TestServer, id: &str, status: &str) -> Value {
    wait_for(c, srv, id, status, |s| s["status"] == status).await
}

/// Creates sessions; returns the first created session's JSON.
pub async fn launch(c: &Client, srv: &TestServer, body: Value) -> Value {
    let res = c
        .post(srv.url("/api/v1/sessions"))
        .json(&body)
        .send()
        .await
        .expect("create");
    let status = res.status();
    let json: Value = res.json().await.expect("create json");
    assert_eq!(status, StatusCode::CREATED, "create failed: {json:#}");
    json["items"][0].clone()
}

/// `GET path` as JSON, asserting 200.
pub async fn get_json(c: &Client, srv: &TestServer, path: &str) -> Value {
    let res = c.get(srv.url(path)).send().await.expect("request");
    assert_eq!(res.status(), StatusCode::OK, "GET {path}");
    res.json().await.expect("json body")
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
