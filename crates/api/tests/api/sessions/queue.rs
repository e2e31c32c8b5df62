//! Waiting and the queue: a start time ahead, a session that does not fit
//! (and its place in the queue), and the dry run that predicts with the
//! scheduler's own decision.

use berth_testkit::{field_errors, problem, TestServer};
use reqwest::StatusCode;
use serde_json::json;

use super::IMAGE;

#[tokio::test]
async fn start_time_in_the_future_waits_then_runs() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let starts_at = chrono::Utc::now() + chrono::Duration::seconds(3);
    // the wait is read from its event, not polled: however slow the
    // machine, the explanation was announced while it waited
    let mut stream = c.get("/api/v1/events").await.bytes_stream();
    let s = c
        .launch(
            json!({"type": "batch", "image": IMAGE, "resources": {"cpu": 0.25, "mem": "64m"},
               "startup_command": "echo on-time", "starts_at": starts_at.to_rfc3339()}),
        )
        .await;
    let id = s["id"].as_str().unwrap();
    let seen = berth_testkit::events_until(&mut stream, id, |e| {
        e["status_data"]["scheduler"].is_object()
    })
    .await;
    let waiting = seen.last().unwrap();
    assert_eq!(waiting["status"], "PENDING");
    assert_eq!(waiting["status_info"], "predicate-checks-failed");
    let failed = &waiting["status_data"]["scheduler"]["failed_predicates"][0];
    assert_eq!(failed["name"], "reserved_time");
    assert!(failed["msg"].as_str().unwrap().contains("start time"));
    // the facts beside the English, for the browser to word in any language
    assert_eq!(failed["kind"], "start_time");
    let at: chrono::DateTime<chrono::Utc> = failed["at"].as_str().unwrap().parse().unwrap();
    assert_eq!(at.timestamp(), starts_at.timestamp());
    let done = c.wait_status(id, "TERMINATED").await;
    let started: chrono::DateTime<chrono::Utc> =
        done["started_at"].as_str().unwrap().parse().unwrap();
    assert!(
        started >= starts_at - chrono::Duration::milliseconds(5),
        "started {started}, asked {starts_at}"
    );
}

#[tokio::test]
async fn a_session_that_does_not_fit_waits_and_starts_when_capacity_frees() {
    let srv = TestServer::start_with(|c| c.agent_cpu = Some(1.0)).await;
    let c = srv.admin().await;
    let first = c
        .launch(json!({"image": IMAGE, "resources": {"cpu": 1, "mem": "64m"}}))
        .await;
    let first_id = first["id"].as_str().unwrap();
    c.wait_status(first_id, "RUNNING").await;
    let second = c
        .launch(json!({"image": IMAGE, "resources": {"cpu": 1, "mem": "64m"}}))
        .await;
    let second_id = second["id"].as_str().unwrap();
    let waiting = c
        .wait_for(second_id, "explained", |s| !s["status_data"].is_null())
        .await;
    assert_eq!(waiting["status"], "PENDING");
    assert_eq!(waiting["status_info"], "no-available-instances");
    let failed = &waiting["status_data"]["scheduler"]["failed_predicates"][0];
    assert_eq!(failed["name"], "capacity");
    assert_eq!(failed["msg"], "needs 1 CPU, agent local has 0 free");
    assert_eq!(
        (&failed["kind"], &failed["agent"], &failed["resource"]),
        (&json!("short"), &json!("local"), &json!("cpu"))
    );
    assert_eq!(
        (failed["needs"].as_f64(), failed["free"].as_f64()),
        (Some(1.0), Some(0.0))
    );

    // asking more than any agent has is refused up front
    let res = c
        .post(
            "/api/v1/sessions",
            &json!({"image": IMAGE, "resources": {"cpu": 4}}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&body),
        [("resources.cpu".into(), "exceeds_capacity".into())]
    );

    // a third waits behind it: its place in the queue moves up as the
    // queue moves
    let third = c
        .launch(json!({"image": IMAGE, "resources": {"cpu": 1, "mem": "64m"}}))
        .await;
    let third_id = third["id"].as_str().unwrap();
    let position = |s: &serde_json::Value| s["status_data"]["scheduler"]["position"].as_u64();
    let behind = c
        .wait_for(third_id, "second in the queue", |s| position(s) == Some(2))
        .await;
    assert_eq!(
        behind["status_data"]["scheduler"]["resource_group"],
        "default"
    );
    assert_eq!(
        position(&c.get_json(&format!("/api/v1/sessions/{second_id}")).await),
        Some(1)
    );

    c.delete(&format!("/api/v1/sessions/{first_id}")).await;
    c.wait_status(first_id, "TERMINATED").await;
    let started = c.wait_status(second_id, "RUNNING").await;
    assert!(started["status_data"].is_null());
    c.wait_for(third_id, "next in the queue", |s| position(s) == Some(1))
        .await;
    c.delete(&format!("/api/v1/sessions/{third_id}")).await;
    c.wait_status(third_id, "CANCELLED").await;
}

#[tokio::test]
async fn a_dry_run_predicts_with_the_schedulers_own_decision_and_stores_nothing() {
    let srv = TestServer::start_with(|c| c.agent_cpu = Some(1.0)).await;
    let c = srv.admin().await;
    let small = json!({"image": IMAGE, "resources": {"cpu": 0.5, "mem": "64m"}});
    let whole = json!({"image": IMAGE, "resources": {"cpu": 1, "mem": "64m"}});
    let dry = |body: &serde_json::Value| {
        let body = body.clone();
        let c = &c;
        async move {
            let res = c.post("/api/v1/sessions/dry-run", &body).await;
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<serde_json::Value>().await.unwrap()
        }
    };
    // an empty agent: starts now, there
    assert_eq!(
        dry(&small).await,
        json!({"sessions": [{"outcome": "starts_now", "agent": "local"}]})
    );
    // nothing was stored: no session, no history entry, no container
    let list = c.get_json("/api/v1/sessions").await;
    assert_eq!(list["total"], 0, "{list}");
    let history = c.get_json("/api/v1/launcher-history").await;
    assert_eq!(
        history["items"].as_array().map(Vec::len),
        Some(0),
        "{history}"
    );

    // the agent full: waits, first in line, for the reason the scheduler gives
    let first = c.launch(whole.clone()).await;
    let first_id = first["id"].as_str().unwrap();
    c.wait_status(first_id, "RUNNING").await;
    let p = dry(&whole).await;
    let s = &p["sessions"][0];
    assert_eq!(s["outcome"], "waits", "{p}");
    assert_eq!(
        (&s["resource_group"], &s["position"], &s["status_info"]),
        (
            &json!("default"),
            &json!(1),
            &json!("no-available-instances")
        )
    );
    let why = &s["failed_predicates"][0];
    assert_eq!(
        (&why["name"], &why["kind"], &why["agent"], &why["resource"]),
        (
            &json!("capacity"),
            &json!("short"),
            &json!("local"),
            &json!("cpu")
        )
    );
    assert_eq!(why["msg"], "needs 1 CPU, agent local has 0 free");

    // one really waiting: it is first in its group's queue, and a dry run of
    // two more would come second and third
    let second = c.launch(whole.clone()).await;
    let second_id = second["id"].as_str().unwrap();
    let waiting = c
        .wait_for(second_id, "explained", |s| !s["status_data"].is_null())
        .await;
    let queue = &waiting["status_data"]["scheduler"];
    assert_eq!(
        (&queue["resource_group"], &queue["position"]),
        (&json!("default"), &json!(1))
    );
    let mut two = whole.clone();
    two["count"] = json!(2);
    let p = dry(&two).await;
    let positions: Vec<_> = p["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["outcome"].clone(), s["position"].clone()))
        .collect();
    assert_eq!(
        positions,
        [(json!("waits"), json!(2)), (json!("waits"), json!(3))]
    );

    // what create refuses, the dry run refuses the same way
    let res = c
        .post(
            "/api/v1/sessions/dry-run",
            &json!({"image": IMAGE, "resources": {"cpu": 4}}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&body),
        [("resources.cpu".into(), "exceeds_capacity".into())]
    );
    c.delete(&format!("/api/v1/sessions/{second_id}")).await;
    c.delete(&format!("/api/v1/sessions/{first_id}")).await;
    c.wait_status(first_id, "TERMINATED").await;
}

#[tokio::test]
async fn one_launchs_sessions_start_in_the_order_the_dry_run_predicts() {
    let srv = TestServer::start_with(|c| c.agent_cpu = Some(1.0)).await;
    let c = srv.admin().await;
    let body = json!({"name": "trio", "count": 3, "image": IMAGE,
                      "resources": {"cpu": 1, "mem": "64m"}});
    let res = c.post("/api/v1/sessions/dry-run", &body).await;
    assert_eq!(res.status(), StatusCode::OK);
    let p: serde_json::Value = res.json().await.unwrap();
    let outcomes: Vec<_> = p["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["outcome"].clone())
        .collect();
    assert_eq!(
        outcomes,
        [json!("starts_now"), json!("waits"), json!("waits")]
    );
    // the sessions are created at one moment; the first by name is the one
    // that starts (before: whichever id sorted first)
    let made = c.post_json("/api/v1/sessions", &body).await;
    let ids: Vec<(String, String)> = made["items"]
        .as_array()
        .unwrap_or_else(|| made.as_array().unwrap())
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let id_of = |n: &str| ids.iter().find(|(name, _)| name == n).unwrap().1.clone();
    c.wait_status(&id_of("trio-1"), "RUNNING").await;
    for n in ["trio-2", "trio-3"] {
        let s = c
            .wait_for(&id_of(n), "explained", |s| !s["status_data"].is_null())
            .await;
        assert_eq!(s["status"], "PENDING", "{n}: {s}");
    }
    for (_, id) in &ids {
        c.delete(&format!("/api/v1/sessions/{id}")).await;
    }
    c.wait_status(&id_of("trio-1"), "TERMINATED").await;
}
