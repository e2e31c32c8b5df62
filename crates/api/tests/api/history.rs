//! Launcher history: five most recent kept, pinned kept beyond, rename,
//! delete, and nobody sees anyone else's.

use berth_testkit::{field_errors, problem, Api, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A launch that never needs a container: a batch job scheduled for later.
async fn launch_later(c: &Api, name: &str) {
    let later = (chrono::Utc::now() + chrono::Duration::hours(6)).to_rfc3339();
    c.launch(
        json!({"type": "batch", "name": name, "image": "berth/busybox:latest", "startup_command": "true",
               "starts_at": later, "resources": {"cpu": 0.25, "mem": "64m"}, "env": {"K": "v"}}),
    )
    .await;
}

async fn entries(c: &Api) -> Vec<Value> {
    let list: Value = c.get_json("/api/v1/launcher-history").await;
    list["items"].as_array().unwrap().clone()
}

fn names(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn keeps_five_recent_plus_pinned() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    for i in 1..=7 {
        launch_later(&c, &format!("job-{i}")).await;
    }
    let items = entries(&c).await;
    assert_eq!(names(&items), ["job-7", "job-6", "job-5", "job-4", "job-3"]);
    let cfg = &items[0]["config"];
    assert_eq!(cfg["type"], "batch");
    assert_eq!(cfg["image"], "berth/busybox:latest");
    assert_eq!(cfg["resources"]["mem"], 64 * 1024 * 1024);
    assert_eq!(cfg["env"]["K"], "v");
    assert_eq!(cfg["name"], "job-7");

    // pin the oldest kept one; two more launches do not push it out
    let job3 = items[4]["id"].as_str().unwrap().to_string();
    let res = c
        .patch(
            &format!("/api/v1/launcher-history/{job3}"),
            &json!({"pinned": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    launch_later(&c, "job-8").await;
    launch_later(&c, "job-9").await;
    let items = entries(&c).await;
    assert_eq!(
        names(&items),
        ["job-3", "job-9", "job-8", "job-7", "job-6", "job-5"]
    );
    assert_eq!(items[0]["pinned"], true);

    // rename, with the rules
    let res = c
        .patch(
            &format!("/api/v1/launcher-history/{job3}"),
            &json!({"name": "nightly training"}),
        )
        .await;
    let renamed: Value = res.json().await.unwrap();
    assert_eq!(renamed["name"], "nightly training");
    assert_eq!(renamed["pinned"], true);
    let res = c
        .patch(
            &format!("/api/v1/launcher-history/{job3}"),
            &json!({"name": "  "}),
        )
        .await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(field_errors(&p), [("name".into(), "required".into())]);

    // unpinning an entry older than the five most recent forgets it
    let res = c
        .patch(
            &format!("/api/v1/launcher-history/{job3}"),
            &json!({"pinned": false}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        names(&entries(&c).await),
        ["job-9", "job-8", "job-7", "job-6", "job-5"]
    );

    let newest = entries(&c).await[0]["id"].as_str().unwrap().to_string();
    let res = c
        .delete(&format!("/api/v1/launcher-history/{newest}"))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        names(&entries(&c).await),
        ["job-8", "job-7", "job-6", "job-5"]
    );
}

#[tokio::test]
async fn history_is_private_and_follows_the_user() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    srv.create_user(&admin, "hana@test.berth", "hana-password", "user")
        .await;
    srv.create_user(&admin, "ivo@test.berth", "ivo-password", "user")
        .await;
    let hana = srv.login("hana@test.berth", "hana-password").await;
    let ivo = srv.login("ivo@test.berth", "ivo-password").await;
    launch_later(&hana, "hanas-job").await;
    let items = entries(&hana).await;
    assert_eq!(names(&items), ["hanas-job"]);
    let id = items[0]["id"].as_str().unwrap().to_string();

    assert!(entries(&ivo).await.is_empty());
    let path = format!("/api/v1/launcher-history/{id}");
    let res = ivo.patch(&path, &json!({"name": "mine now"})).await;
    problem(res, StatusCode::NOT_FOUND).await;
    let res = ivo.delete(&path).await;
    problem(res, StatusCode::NOT_FOUND).await;

    // another browser (a fresh login) sees the same history
    let other_browser = srv.login("hana@test.berth", "hana-password").await;
    assert_eq!(names(&entries(&other_browser).await), ["hanas-job"]);
    // a refused launch is not remembered
    let res = hana
        .post("/api/v1/sessions", &json!({"image": "berth/nope:1"}))
        .await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(entries(&hana).await.len(), 1);
}
