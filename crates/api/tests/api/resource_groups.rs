//! Resource groups as admins manage them: create with a strategy and the
//! projects that may use them, list, refuse a group a project may not use,
//! and delete only what nothing uses (the local agent's group is in use).

use berth_testkit::{field_errors, problem, TestServer};
use reqwest::StatusCode;
use serde_json::json;

const IMAGE: &str = "berth/busybox:latest";

#[tokio::test]
async fn admins_create_edit_and_delete_groups_and_projects_see_only_theirs() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    srv.create_user(&admin, "gus@test.berth", "gus-password", "user")
        .await;
    let gus = srv.login("gus@test.berth", "gus-password").await;

    // a group for the default project, packing its sessions
    let res = admin
        .post(
            "/api/v1/resource-groups",
            &json!({"name": "batch-pool", "description": "Nightly jobs",
                    "strategy": "concentrated", "projects": ["default"]}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let g: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (&g["name"], &g["strategy"], &g["projects"], &g["agents"]),
        (
            &json!("batch-pool"),
            &json!("concentrated"),
            &json!(["default"]),
            &json!([])
        )
    );
    // a user of the project sees it (no project list for non-admins)
    let seen = gus.get_json("/api/v1/resource-groups").await;
    let names: Vec<_> = seen["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].clone())
        .collect();
    assert_eq!(names, [json!("batch-pool"), json!("default")]);
    assert!(seen["items"][0].get("projects").is_none(), "{seen}");
    // every group, with projects, is for admins only
    assert_eq!(
        gus.get("/api/v1/resource-groups?all=true").await.status(),
        StatusCode::FORBIDDEN
    );
    let every = admin.get_json("/api/v1/resource-groups?all=true").await;
    assert_eq!(every["items"][1]["projects"], json!(["default"]), "{every}");

    // without agents it holds no session: asking more than its agents have
    // (nothing) is refused up front
    let res = gus
        .post(
            "/api/v1/sessions",
            &json!({"image": IMAGE, "resource_group": "batch-pool",
                    "resources": {"cpu": 0.1, "mem": "32m"}}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(field_errors(&body)[0].0, "resources.cpu", "{body}");

    // edited: no project may use it any more, so asking for it is a 422
    let res = admin
        .post(
            "/api/v1/resource-groups",
            &json!({"name": "batch-pool", "projects": []}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = gus
        .post(
            "/api/v1/sessions",
            &json!({"image": IMAGE, "resource_group": "batch-pool"}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(field_errors(&body)[0].0, "resource_group", "{body}");

    // bad input names its field
    for (body, field) in [
        (json!({"name": "bad name"}), "name"),
        (json!({"name": "x", "strategy": "random"}), "strategy"),
        (json!({"name": "x", "projects": ["nope"]}), "projects[0]"),
    ] {
        let res = admin.post("/api/v1/resource-groups", &body).await;
        let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(field_errors(&p)[0].0, field, "{p}");
    }

    // the local agent's group cannot go; an unused one can, once
    problem(
        admin.delete("/api/v1/resource-groups/default").await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        admin
            .delete("/api/v1/resource-groups/batch-pool")
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    problem(
        admin.delete("/api/v1/resource-groups/batch-pool").await,
        StatusCode::NOT_FOUND,
    )
    .await;
}
