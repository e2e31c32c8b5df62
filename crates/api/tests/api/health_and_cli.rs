//! /healthz with and without a Docker engine, the SPA fallback, and the
//! `berth user create` command.

use std::process::Command;

use berth_testkit::{problem, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn healthz_reports_database_and_engine() {
    let srv = TestServer::start().await;
    let res = reqwest::get(srv.url("/healthz")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let h: Value = res.json().await.unwrap();
    assert_eq!(h["database"]["ok"], true);
    assert_eq!(
        h["docker"]["ok"], true,
        "the test setup starts dockerd: {h}"
    );
    assert_eq!(h["status"], "ok");
    assert!(
        h["docker"].get("api_version").is_none(),
        "no details for anyone: {h}"
    );
    // an admin sees the details, and may probe now
    let admin = srv.admin().await;
    let deep = admin.get_json("/healthz?deep").await;
    assert!(deep["docker"]["api_version"]
        .as_str()
        .is_some_and(|v| v.starts_with("1.")));
    assert!(deep["docker"]["engine_version"].is_string());
}

#[tokio::test]
async fn engine_down_still_serves_and_says_so_to_admins_only() {
    let srv =
        TestServer::start_with(|c| c.docker_host = "unix:///nonexistent/docker.sock".into()).await;
    let res = reqwest::get(srv.url("/healthz")).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let h: Value = res.json().await.unwrap();
    assert_eq!(h["status"], "degraded");
    assert_eq!(h["database"]["ok"], true);
    assert_eq!(h["docker"]["ok"], false);
    assert!(
        !h.to_string().contains("nonexistent"),
        "anonymous callers learn no host or path: {h}"
    );
    // and the API keeps working; an admin sees why
    let admin = srv.admin().await;
    let h = admin.get_json("/healthz").await;
    assert!(h["docker"]["error"]
        .as_str()
        .unwrap()
        .contains("/nonexistent/docker.sock"));
}

#[tokio::test]
async fn spa_fallback_serves_index_for_client_routes() {
    let srv = TestServer::start_with(|c| {
        let dist = c.db.data_dir.join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(dist.join("index.html"), "<html>berth-ui</html>").unwrap();
        std::fs::write(dist.join("app.js"), "console.log(1)").unwrap();
    })
    .await;
    for path in ["/", "/sessions", "/login"] {
        let res = reqwest::get(srv.url(path)).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.text().await.unwrap(), "<html>berth-ui</html>", "{path}");
    }
    let js = reqwest::get(srv.url("/app.js"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(js, "console.log(1)");
    // unknown API routes never fall back to the UI
    let res = reqwest::get(srv.url("/api/v1/sessionz")).await.unwrap();
    problem(res, StatusCode::NOT_FOUND).await;
}

/// `berth user create ARGS` on the database in `dir` (no password in the
/// environment, so one is generated unless given).
fn user_create(dir: &std::path::Path, db: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["user", "create"])
        .args(args)
        .env("BERTH_DATABASE_URL", db)
        .env("BERTH_DATA_DIR", dir)
        .env_remove("BERTH_USER_PASSWORD")
        .output()
        .unwrap()
}

#[tokio::test]
async fn cli_creates_a_user_who_can_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("berth.db").display());
    let out = user_create(
        dir.path(),
        &db,
        &[
            "--email",
            "nora@test.berth",
            "--name",
            "Nora",
            "--role",
            "admin",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("generated password printed")
        .to_string();
    assert!(
        stdout.contains("created nora@test.berth (admin) access key AKIA"),
        "{stdout}"
    );

    let again = user_create(
        dir.path(),
        &db,
        &["--email", "nora@test.berth", "--password", "whatever-123"],
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let data_dir = dir.path().to_path_buf();
    let srv = TestServer::start_with(move |c| {
        c.db.database_url = db;
        c.db.data_dir = data_dir;
    })
    .await;
    let nora = srv.login("nora@test.berth", &password).await;
    let me: Value = nora.get_json("/api/v1/auth/me").await;
    assert_eq!(me["role"], "admin");
    assert_eq!(me["full_name"], "Nora");
    assert_eq!(me["projects"], json!(["default"]));
}
