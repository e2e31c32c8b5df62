//! What a create, rename or list asks, and who may: 422s with fields, rename
//! rules, users kept apart, admins launching for a user, filters and pages.

use berth_testkit::{field_errors, problem, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::IMAGE;

#[tokio::test]
async fn invalid_requests_are_422_with_fields() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let cases = [
        (
            json!({"image": "berth/does-not-exist:1"}),
            vec![("image", "image_not_found")],
        ),
        (
            json!({"environment": "berth/busybox", "version": "nope"}),
            vec![("environment", "image_not_found")],
        ),
        (
            json!({"image": IMAGE, "name": "bad name"}),
            vec![("name", "invalid_session_name")],
        ),
        (
            json!({"image": IMAGE, "agent": "local", "count": 2}),
            vec![("agent", "agent_single_only")],
        ),
        (
            json!({"image": IMAGE, "resources": {"mem": "64m", "shmem": "128m"}}),
            vec![("resources.shmem", "shmem_exceeds_mem")],
        ),
        (
            json!({"image": IMAGE, "resources": {"mem": "2x"}}),
            vec![("resources.mem", "invalid_type")],
        ),
        (
            json!({"type": "batch", "image": IMAGE}),
            vec![("startup_command", "required")],
        ),
        (
            json!({"image": IMAGE, "env": {"1BAD": "x"}}),
            vec![("env.1BAD", "invalid_env_name")],
        ),
        (
            json!({"image": IMAGE, "resource_group": "gpu"}),
            vec![("resource_group", "not_allowed")],
        ),
        (
            json!({"image": IMAGE, "owner_email": "ghost@test.berth"}),
            vec![("owner_email", "unknown_user")],
        ),
    ];
    for (body, want) in cases {
        let res = c.post("/api/v1/sessions", &body).await;
        let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        let want: Vec<(String, String)> = want
            .into_iter()
            .map(|(f, c)| (f.into(), c.into()))
            .collect();
        assert_eq!(field_errors(&p), want, "{body}");
    }
    let list: Value = c.get_json("/api/v1/sessions").await;
    assert_eq!(list["total"], 0, "nothing is stored for a refused request");
}

#[tokio::test]
async fn rename_rules() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let a = c
        .launch(json!({"image": IMAGE, "name": "alpha", "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let b = c
        .launch(json!({"image": IMAGE, "name": "beta1", "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let a_id = a["id"].as_str().unwrap();
    let rename = |id: &str, name: &str| {
        let (c, path) = (c.clone(), format!("/api/v1/sessions/{id}/rename"));
        let body = json!({"name": name});
        async move { c.post(&path, &body).await }
    };
    let p = problem(
        rename(a_id, "no spaces").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        [("name".into(), "invalid_session_name".into())]
    );
    let p = problem(rename(a_id, "abc").await, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(field_errors(&p), [("name".into(), "too_short".into())]);
    let p = problem(
        rename(a_id, "beta1").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field_errors(&p), [("name".into(), "taken".into())]);
    let res = rename(a_id, "alpha.renamed_1").await;
    assert_eq!(res.status(), StatusCode::OK);
    let got: Value = res.json().await.unwrap();
    assert_eq!(got["name"], "alpha.renamed_1");

    // a finished session keeps its name
    let b_id = b["id"].as_str().unwrap();
    c.delete(&format!("/api/v1/sessions/{b_id}")).await;
    c.wait_for(b_id, "ended", |s| {
        ["TERMINATED", "CANCELLED"].contains(&s["status"].as_str().unwrap())
    })
    .await;
    problem(rename(b_id, "gamma").await, StatusCode::CONFLICT).await;
    // and its old name is free again
    let again = c
        .launch(json!({"image": IMAGE, "name": "beta1", "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    assert_eq!(again["name"], "beta1");
}

#[tokio::test]
async fn users_cannot_touch_each_others_sessions() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    srv.create_user(&admin, "ann@test.berth", "ann-password", "user")
        .await;
    srv.create_user(&admin, "bob@test.berth", "bob-password", "user")
        .await;
    let ann = srv.login("ann@test.berth", "ann-password").await;
    let bob = srv.login("bob@test.berth", "bob-password").await;
    let s = ann
        .launch(
            json!({"image": IMAGE, "name": "anns-work", "resources": {"cpu": 0.25, "mem": "64m"}}),
        )
        .await;
    let id = s["id"].as_str().unwrap();
    ann.wait_status(id, "RUNNING").await;

    let base = format!("/api/v1/sessions/{id}");
    for res in [
        bob.get(&base).await,
        bob.post(&format!("{base}/rename"), &json!({"name": "stolen"}))
            .await,
        bob.post(&format!("{base}/rename"), &json!({"name": "x"}))
            .await,
        bob.get(&format!("{base}/logs")).await,
        bob.get(&format!("{base}/usage")).await,
        bob.delete(&base).await,
    ] {
        problem(res, StatusCode::NOT_FOUND).await;
    }
    let list: Value = bob.get_json("/api/v1/sessions").await;
    assert_eq!(list["total"], 0);
    let res = bob.get("/api/v1/sessions?owner=ann@test.berth").await;
    problem(res, StatusCode::FORBIDDEN).await;
    let still = ann.get_json(&base).await;
    assert_eq!(still["status"], "RUNNING");
    assert_eq!(still["name"], "anns-work");
    // the superadmin sees everyone's
    let all: Value = admin.get_json("/api/v1/sessions").await;
    assert_eq!(all["total"], 1);
}

#[tokio::test]
async fn admin_launches_for_a_user_found_by_email() {
    let srv = TestServer::start().await;
    let root = srv.admin().await;
    srv.create_user(&root, "ops@test.berth", "ops-password", "admin")
        .await;
    srv.create_user(&root, "cara@test.berth", "cara-password", "user")
        .await;
    let ops = srv.login("ops@test.berth", "ops-password").await;
    let cara = srv.login("cara@test.berth", "cara-password").await;

    let s = ops.launch(json!({"image": IMAGE, "name": "for-cara", "owner_email": "CARA@test.berth", "project": "default",
               "resource_group": "default", "resources": {"cpu": 0.25, "mem": "64m"}}),
    )
    .await;
    assert_eq!(s["owner_email"], "cara@test.berth");
    assert_eq!(s["created_by"], "ops@test.berth");
    let id = s["id"].as_str().unwrap();
    cara.wait_status(id, "RUNNING").await;
    let mine: Value = cara.get_json("/api/v1/sessions").await;
    assert_eq!(mine["items"][0]["id"], id);
    let ops_own: Value = ops.get_json("/api/v1/sessions").await;
    assert_eq!(ops_own["total"], 0, "it is cara's session, not the admin's");
    let filtered: Value = ops.get_json("/api/v1/sessions?owner=cara@test.berth").await;
    assert_eq!(filtered["total"], 1);

    let res = cara
        .post(
            "/api/v1/sessions",
            &json!({"image": IMAGE, "owner_email": "ops@test.berth"}),
        )
        .await;
    problem(res, StatusCode::FORBIDDEN).await;
    let res = ops
        .post(
            "/api/v1/sessions",
            &json!({"image": IMAGE, "owner_email": "cara@test.berth", "project": "secret"}),
        )
        .await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&p),
        [("project".into(), "not_a_member".into())]
    );
}

#[tokio::test]
async fn lists_filter_and_paginate() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let res = c
        .post("/api/v1/sessions", &json!({"image": IMAGE, "name": "many", "count": 3, "resources": {"cpu": 0.1, "mem": "32m"}})).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let names: Vec<_> = created["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].clone())
        .collect();
    assert_eq!(names, [json!("many-1"), json!("many-2"), json!("many-3")]);
    let batch = c.launch(json!({"type": "batch", "image": IMAGE, "resources": {"cpu": 0.1, "mem": "32m"}, "startup_command": "true"}),
    )
    .await;
    c.wait_status(batch["id"].as_str().unwrap(), "TERMINATED")
        .await;

    let get = |q: &'static str| {
        let c = c.clone();
        async move { c.get_json(&format!("/api/v1/sessions?{q}")).await }
    };
    assert_eq!(get("status=running").await["total"], 3);
    assert_eq!(get("status=finished").await["total"], 1);
    assert_eq!(get("type=batch").await["total"], 1);
    assert_eq!(get("type=interactive&status=finished").await["total"], 0);
    let page = get("page=2&page_size=3").await;
    assert_eq!(page["total"], 4);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let res = c.get("/api/v1/sessions?status=sleeping").await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
}
