//! The engine going away and coming back under running sessions: the API
//! keeps serving, engine work answers 503, `/healthz` says degraded, and
//! when the engine answers again the state reconciles without a restart.

use berth_testkit::{docker, problem, Api, EngineProxy, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const IMAGE: &str = "berth/busybox:latest";

async fn launch(c: &Api, body: Value) -> (String, String) {
    let s = c.launch(body).await;
    let id = s["id"].as_str().unwrap().to_string();
    let running = c.wait_status(&id, "RUNNING").await;
    let cid = running["kernels"][0]["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    (id, cid)
}

/// Polls `/healthz` (the engine is probed every 2 s) until it says `status`.
async fn health_becomes(srv: &TestServer, status: &str) {
    let mut last = Value::Null;
    for _ in 0..100 {
        last = reqwest::get(srv.url("/healthz"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if last["status"] == status {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("/healthz never said {status}: {last}");
}

async fn cpu_used(c: &Api) -> f64 {
    c.get_json("/api/v1/agents").await["items"][0]["cpu_used"]
        .as_f64()
        .unwrap()
}

#[tokio::test]
async fn an_engine_outage_is_served_through_and_reconciled_when_it_returns() {
    let proxy = EngineProxy::start();
    let srv = TestServer::start_with(|c| c.docker_host = proxy.host()).await;
    let c = srv.admin().await;
    let small = json!({"cpu": 0.1, "mem": "32m"});
    let (a, a_cid) = launch(&c, json!({"image": IMAGE, "resources": small})).await;
    let (b, b_cid) = launch(
        &c,
        json!({"type": "batch", "image": IMAGE, "resources": small, "startup_command": "sleep 600"}),
    )
    .await;
    let (gone, gone_cid) = launch(&c, json!({"image": IMAGE, "resources": small})).await;

    proxy.cut();
    health_becomes(&srv, "degraded").await;
    assert_eq!(
        c.get("/api/v1/sessions").await.status(),
        200,
        "the API keeps serving"
    );
    problem(
        c.post(
            "/api/v1/sessions",
            &json!({"image": IMAGE, "resources": small}),
        )
        .await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    // terminating now cannot reach the container: it stays TERMINATING, capacity held
    assert_eq!(
        c.delete(&format!("/api/v1/sessions/{a}")).await.status(),
        202
    );
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let a_now = c.get_json(&format!("/api/v1/sessions/{a}")).await;
    assert_eq!(a_now["status"], "TERMINATING", "{a_now:#}");
    assert!(
        (cpu_used(&c).await - 0.3).abs() < 1e-9,
        "capacity stays held"
    );
    // a container disappears while the engine cannot be asked
    docker(&["rm", "-f", &gone_cid]).await;

    proxy.restore();
    let a_end = c.wait_status(&a, "TERMINATED").await;
    assert_eq!(a_end["status_info"], "user-requested");
    let lost = c
        .wait_for(&gone, "explained", |s| s["status"] == "ERROR")
        .await;
    assert_eq!(lost["status_info"], "container-lost", "{lost:#}");
    assert_eq!(
        c.get_json(&format!("/api/v1/sessions/{b}")).await["status"],
        "RUNNING"
    );
    health_becomes(&srv, "ok").await;
    let left = berth_testkit::containers_of(&srv.instance());
    assert_eq!(left.len(), 1, "only b's container: {left:?}");
    assert!(left[0].starts_with(&b_cid) || b_cid.starts_with(&left[0]));
    assert!(!left.iter().any(|l| l.starts_with(&a_cid)));
    assert!((cpu_used(&c).await - 0.1).abs() < 1e-9);

    // the server starts while the engine is away; it comes back later
    proxy.cut();
    let srv = srv.restart().await;
    let c = srv.admin().await;
    proxy.restore();
    // b is watched again: its end is noticed
    docker(&["kill", &b_cid]).await;
    let b_end = c.wait_status(&b, "TERMINATED").await;
    assert_eq!(b_end["status_info"], "failed", "{b_end:#}");
    assert_eq!(cpu_used(&c).await, 0.0);
    assert!(berth_testkit::containers_of(&srv.instance()).is_empty());
}
