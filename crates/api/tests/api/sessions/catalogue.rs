//! What a launch can choose from: environments, presets, groups and policies,
//! and typed image names only where allowed.

use std::process::Command;

use berth_testkit::{field_errors, problem, Api, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::IMAGE;

#[tokio::test]
async fn environments_presets_groups_policies() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    let envs: Value = admin.get_json("/api/v1/environments").await;
    let bb = envs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "berth/busybox")
        .expect("busybox environment listed")
        .clone();
    assert_eq!(bb["display_name"], "BusyBox");
    let latest = bb["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["version"] == "latest")
        .unwrap();
    assert_eq!(latest["image"], IMAGE);
    assert_eq!(
        latest["service_ports"],
        json!([{"name": "httpd", "protocol": "http", "port": 8000}])
    );
    assert_eq!(envs["allow_manual_image"], false);

    let groups: Value = admin.get_json("/api/v1/resource-groups").await;
    assert_eq!(
        groups["items"],
        json!([{"name": "default", "description": "The local agent", "agents": ["local"]}])
    );

    let res = admin
        .post(
            "/api/v1/resource-presets",
            &json!({"name": "tiny", "cpu": 0.5, "mem": "256m", "shmem": "64m"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = admin
        .post(
            "/api/v1/resource-presets",
            &json!({"name": "bad", "cpu": 1, "mem": "64m", "shmem": "1g"}),
        )
        .await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    srv.create_user(&admin, "eve@test.berth", "eve-password", "user")
        .await;
    let eve = srv.login("eve@test.berth", "eve-password").await;
    let presets: Value = eve.get_json("/api/v1/resource-presets").await;
    assert!(presets["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["name"] == "tiny" && p["mem"] == 256 * 1024 * 1024));
    let res = eve
        .post(
            "/api/v1/resource-presets",
            &json!({"name": "mine", "cpu": 1, "mem": "1g", "shmem": "64m"}),
        )
        .await;
    problem(res, StatusCode::FORBIDDEN).await;
    let res = admin.delete("/api/v1/resource-presets/tiny").await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);

    // a policy of one concurrent session keeps the second PENDING with the reason
    put_policy(&admin, "one-at-a-time", 1, 0.0).await;
    let eve_info = admin.get_json("/api/v1/users?email=eve@test.berth").await;
    let eve_id = eve_info["items"][0]["id"].as_str().unwrap();
    let res = admin
        .patch(
            &format!("/api/v1/users/{eve_id}"),
            &json!({"resource_policy": "one-at-a-time"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // the launcher reads the owner's policy: the caller's own, or (admins) anyone's
    for (client, query) in [(&eve, ""), (&admin, "?owner_email=EVE@test.berth")] {
        let mine = client
            .get_json(&format!("/api/v1/resource-policy{query}"))
            .await;
        assert_eq!(mine["name"], "one-at-a-time", "{query}");
        assert_eq!(mine["max_concurrent_sessions"], 1);
    }
    for (client, owner, status) in [
        (&eve, "root@test.berth", StatusCode::FORBIDDEN),
        (&admin, "nobody@test.berth", StatusCode::NOT_FOUND),
    ] {
        let path = format!("/api/v1/resource-policy?owner_email={owner}");
        problem(client.get(&path).await, status).await;
    }
    let first = eve
        .launch(json!({"image": IMAGE, "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    eve.wait_status(first["id"].as_str().unwrap(), "RUNNING")
        .await;
    let second = eve
        .launch(json!({"image": IMAGE, "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let w = eve
        .wait_for(second["id"].as_str().unwrap(), "explained", |s| {
            !s["status_data"].is_null()
        })
        .await;
    assert_eq!(
        w["status_data"]["scheduler"]["failed_predicates"][0]["name"],
        "concurrency"
    );
    // cancelling a PENDING session needs no container
    let res = eve
        .delete(&format!(
            "/api/v1/sessions/{}",
            second["id"].as_str().unwrap()
        ))
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "CANCELLED");
    assert_eq!(body["status_info"], "user-requested");

    // a CPU limit in the policy refuses a bigger session on the field, as the launcher does
    put_policy(&admin, "one-at-a-time", 1, 0.5).await;
    let res = eve
        .post(
            "/api/v1/sessions",
            &json!({"image": IMAGE, "resources": {"cpu": 1, "mem": "64m"}}),
        )
        .await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&p),
        [("resources.cpu".into(), "exceeds_policy".into())]
    );
}

/// Creates or replaces a resource policy (no memory or lifetime limit).
async fn put_policy(admin: &Api, name: &str, concurrent: u32, cpu: f64) {
    let res = admin
        .post(
            "/api/v1/resource-policies",
            &json!({"name": name, "max_concurrent_sessions": concurrent, "max_total_cpu": cpu,
                      "max_total_mem": 0, "max_session_lifetime": 0}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn manual_image_names_only_when_allowed() {
    let tag = format!("berth-test/plain:{}", uuid::Uuid::new_v4().simple());
    import_plain_image(&tag);
    let body = json!({"image": tag, "resources": {"cpu": 0.25, "mem": "64m"}});

    let strict = TestServer::start().await;
    let c = strict.admin().await;
    let res = c.post("/api/v1/sessions", &body).await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&p),
        [("image".into(), "not_an_environment".into())]
    );
    let envs: Value = c.get_json("/api/v1/environments").await;
    assert!(
        !envs.to_string().contains(&tag),
        "unlabelled images are not environments"
    );

    let open = TestServer::start_with(|c| c.allow_manual_image = true).await;
    let c = open.admin().await;
    let s = c.launch(body).await;
    let running = c.wait_status(s["id"].as_str().unwrap(), "RUNNING").await;
    assert_eq!(running["image"], tag.as_str());
    drop(open);
    drop(strict);
    let _ = Command::new("docker").args(["rmi", "-f", &tag]).output();
}

/// A tiny image without environment labels, imported from a tarball.
fn import_plain_image(tag: &str) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("bin")).unwrap();
    for name in ["busybox", "sh", "sleep"] {
        std::fs::copy("/bin/busybox", dir.path().join("bin").join(name)).unwrap();
    }
    let tar = Command::new("tar")
        .arg("-C")
        .arg(dir.path())
        .args(["-cf", "-", "bin"])
        .output()
        .unwrap();
    let mut import = Command::new("docker")
        .args(["import", "-", tag])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    import.stdin.take().unwrap().write_all(&tar.stdout).unwrap();
    assert!(import.wait().unwrap().success());
}
