//! What sessions hold and what the server makes of stored data: accelerators
//! are taken and given back with CPU and memory (and recounted after a
//! restart), and unreadable stored configuration ends a session with the
//! reason instead of being silently replaced by defaults.

use berth_testkit::{Api, TestServer};
use serde_json::{json, Value};

const IMAGE: &str = "berth/busybox:latest";

async fn fake_gpus(c: &Api) -> (f64, f64) {
    let agents: Value = c.get_json("/api/v1/agents").await;
    let a = &agents["items"][0];
    (
        a["accelerators_total"]["fake.gpu"].as_f64().unwrap_or(0.0),
        a["accelerators_used"]["fake.gpu"].as_f64().unwrap_or(0.0),
    )
}

#[tokio::test]
async fn accelerators_are_held_like_cpu_and_memory() {
    let srv = TestServer::start_with(|c| {
        c.agent_accelerators.insert("fake.gpu".into(), 1.0);
    })
    .await;
    let c = srv.admin().await;
    let body = json!({"image": IMAGE,
        "resources": {"cpu": 0.25, "mem": "64m", "accelerators": {"fake.gpu": 1}}});
    let first = c.launch(body.clone()).await;
    let first = first["id"].as_str().unwrap().to_string();
    c.wait_status(&first, "RUNNING").await;
    assert_eq!(fake_gpus(&c).await, (1.0, 1.0));

    // the only one is taken: the next waits, and says why
    let second = c.launch(body).await;
    let second = second["id"].as_str().unwrap().to_string();
    let waiting = c
        .wait_for(&second, "explained", |s| {
            s["status_info"] == "no-available-instances"
        })
        .await;
    assert_eq!(waiting["status"], "PENDING");
    let msg = waiting["status_data"]["scheduler"]["failed_predicates"][0]["msg"]
        .as_str()
        .unwrap();
    assert_eq!(msg, "needs 1 fake.gpu, agent local has 0 free");

    // what is held survives a restart (recounted from the sessions)
    let srv = srv.restart().await;
    let c = srv.admin().await;
    assert_eq!(fake_gpus(&c).await, (1.0, 1.0));

    // ending the first gives it back, and the second starts
    let res = c.delete(&format!("/api/v1/sessions/{first}")).await;
    assert_eq!(res.status(), 202);
    c.wait_status(&first, "TERMINATED").await;
    c.wait_status(&second, "RUNNING").await;
    assert_eq!(fake_gpus(&c).await, (1.0, 1.0));
    c.delete(&format!("/api/v1/sessions/{second}")).await;
    c.wait_status(&second, "TERMINATED").await;
    assert_eq!(fake_gpus(&c).await, (1.0, 0.0));
}

#[tokio::test]
async fn unreadable_stored_configuration_ends_the_session_with_the_reason() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    // both wait for a start time, so the data is broken before they run
    let later = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    let launch = |name: &str| {
        json!({"type": "batch", "name": name, "image": IMAGE, "startup_command": "true",
               "starts_at": later, "resources": {"cpu": 0.25, "mem": "64m"}})
    };
    let bad_env = c.launch(launch("bad-env")).await;
    let bad_env = bad_env["id"].as_str().unwrap();
    let bad_accel = c.launch(launch("bad-accel")).await;
    let bad_accel = bad_accel["id"].as_str().unwrap();
    let sql = |column: &str| format!("UPDATE sessions SET {column} = '{{oops' WHERE id = $1");
    assert_eq!(srv.execute_sql(&sql("env"), &[bad_env]).await, 1);
    assert_eq!(srv.execute_sql(&sql("accelerators"), &[bad_accel]).await, 1);

    // unreadable accelerators: never placed, ended at once
    let done = c.wait_status(bad_accel, "ERROR").await;
    assert_eq!(done["status_info"], "failed-to-start");
    let why = done["status_data"]["error"]["repr"].as_str().unwrap();
    assert!(why.starts_with("sessions.accelerators of"), "{why}");
    assert_eq!(
        done["resources"]["accelerators"],
        json!({}),
        "views show none"
    );

    // unreadable environment variables: the launch fails instead of
    // starting without them
    let done = c.wait_status(bad_env, "ERROR").await;
    assert_eq!(done["status_info"], "failed-to-start");
    let why = done["status_data"]["error"]["repr"].as_str().unwrap();
    assert!(why.starts_with("sessions.env of"), "{why}");
    let history: Vec<&str> = done["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["PENDING", "SCHEDULED", "PREPARING", "ERROR"]);
    let agents: Value = c.get_json("/api/v1/agents").await;
    assert_eq!(agents["items"][0]["cpu_used"], 0.0, "capacity given back");
}
