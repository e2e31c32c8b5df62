//! Saving a session as a customized image, on the real engine: what is in
//! it (a file in /opt) and what is not (/home/work, a mounted folder); only
//! its owner sees and launches it; the policy's limit; a normal terminate
//! is refused while it commits, a forced one cancels it and leaves no
//! image.

use std::time::Duration;

use berth_testkit::{field_errors, problem, Api, TestServer};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};

const BUSYBOX: &str = "berth/busybox:latest";

async fn running(c: &Api, name: &str, mounts: Value) -> (String, String) {
    let s = c
        .launch(json!({"name": name, "image": BUSYBOX, "mounts": mounts,
                       "resources": {"cpu": 0.25, "mem": "128m"}}))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    let r = c.wait_status(&id, "RUNNING").await;
    let cid = r["kernels"][0]["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    (id, cid)
}

async fn sh(cid: &str, script: &str) -> String {
    let out = tokio::process::Command::new("docker")
        .args(["exec", cid, "sh", "-c", script])
        .output()
        .await
        .unwrap();
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Waits until the caller's customized images hold `name`.
#[tokio::test]
async fn a_saved_session_launches_with_its_files_but_not_home_or_folders_and_only_for_its_owner() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    let (ana, ana_user) = srv.new_user("ana@test.berth", "user").await;
    let (bo, _) = srv.new_user("bo@test.berth", "user").await;
    ana.post_json("/api/v1/folders", &json!({"name": "data"}))
        .await;
    let (id, cid) = running(&ana, "to-save", json!(["data"])).await;
    sh(
        &cid,
        "mkdir -p /opt && echo opt > /opt/made.txt && echo home > /home/work/home.txt && echo folder > /home/work/data/f.txt",
    )
    .await;
    // the name rule first
    let p = problem(
        ana.post(
            &format!("/api/v1/sessions/{id}/commit"),
            &json!({"name": "not a name"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        [("name".to_string(), "invalid_image_name".to_string())]
    );
    let res = ana
        .post(
            &format!("/api/v1/sessions/{id}/commit"),
            &json!({"name": "my-env"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let started: Value = res.json().await.unwrap();
    assert_eq!(started["commit"]["name"], "my-env");
    let image = Api::wait_customized_image(&ana, "my-env").await;
    let reference = image["reference"].as_str().unwrap().to_string();
    assert_eq!(image["from_image"], BUSYBOX);
    assert_eq!(image["from_session"], "to-save");
    assert_eq!(
        ana.get_json(&format!("/api/v1/sessions/{id}")).await["commit"],
        Value::Null,
        "done"
    );

    // the owner sees it as an environment and launches it
    let envs = ana.get_json("/api/v1/environments").await;
    let (repo, tag) = reference.rsplit_once(':').unwrap();
    let listed = envs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == repo)
        .expect("listed for its owner");
    assert_eq!(listed["display_name"], "Customized<my-env>");
    let s = ana
        .launch(
            json!({"name": "from-image", "environment": repo, "version": tag,
                       "resources": {"cpu": 0.25, "mem": "64m"}}),
        )
        .await;
    let new_id = s["id"].as_str().unwrap().to_string();
    let r = ana.wait_status(&new_id, "RUNNING").await;
    let new_cid = r["kernels"][0]["container_id"].as_str().unwrap();
    let seen = sh(
        new_cid,
        "cat /opt/made.txt; ls /home/work; test -e /home/work/data || echo no-data",
    )
    .await;
    assert!(seen.contains("opt"), "{seen}");
    assert!(
        !seen.contains("home.txt"),
        "/home/work is not in the image: {seen}"
    );
    assert!(
        seen.contains("no-data"),
        "folders are not in the image: {seen}"
    );

    // another user neither sees nor launches nor deletes it
    let envs = bo.get_json("/api/v1/environments").await;
    assert!(!envs["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["name"] == repo));
    let p = problem(
        bo.post(
            "/api/v1/sessions",
            &json!({"environment": repo, "version": tag}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        [("environment".to_string(), "image_not_found".to_string())]
    );
    assert!(bo.get_json("/api/v1/customized-images").await["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let image_id = image["id"].as_str().unwrap();
    problem(
        bo.delete(&format!("/api/v1/customized-images/{image_id}"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // in use: not deleted; then deleted
    problem(
        ana.delete(&format!("/api/v1/customized-images/{image_id}"))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    for s in [&new_id, &id] {
        ana.delete(&format!("/api/v1/sessions/{s}")).await;
        ana.wait_status(s, "TERMINATED").await;
    }
    let res = ana
        .delete(&format!("/api/v1/customized-images/{image_id}"))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(ana.get_json("/api/v1/customized-images").await["items"]
        .as_array()
        .unwrap()
        .is_empty());

    // the policy's limit
    let res = admin
        .post(
            "/api/v1/resource-policies",
            &json!({"name": "one-image", "max_concurrent_sessions": 0, "max_total_cpu": 0,
                    "max_total_mem": 0, "max_session_lifetime": 0, "max_customized_images": 1}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    admin
        .patch(
            &format!("/api/v1/users/{}", ana_user["id"].as_str().unwrap()),
            &json!({"resource_policy": "one-image"}),
        )
        .await;
    let (id, _) = running(&ana, "limited", json!([])).await;
    ana.post(
        &format!("/api/v1/sessions/{id}/commit"),
        &json!({"name": "first"}),
    )
    .await;
    Api::wait_customized_image(&ana, "first").await;
    let p = problem(
        ana.post(
            &format!("/api/v1/sessions/{id}/commit"),
            &json!({"name": "second"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        [("name".to_string(), "quota_exceeded".to_string())]
    );
    assert!(p["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("delete one"));
}

#[tokio::test]
async fn terminating_waits_for_a_commit_and_forcing_cancels_it_cleanly() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let mut events = c.get("/api/v1/events").await.bytes_stream();
    let (id, cid) = running(&c, "big-save", json!([])).await;
    // enough data that the commit takes a while
    sh(
        &cid,
        "mkdir -p /opt && dd if=/dev/urandom of=/opt/big bs=1M count=400 2>/dev/null",
    )
    .await;
    let res = c
        .post(
            &format!("/api/v1/sessions/{id}/commit"),
            &json!({"name": "big-env"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let p = problem(
        c.delete(&format!("/api/v1/sessions/{id}")).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert!(p["detail"].as_str().unwrap().contains("force"), "{p}");
    assert_eq!(
        c.get_json(&format!("/api/v1/sessions/{id}")).await["status"],
        "RUNNING"
    );
    let res = c.delete(&format!("/api/v1/sessions/{id}?force=true")).await;
    assert!(res.status().is_success(), "{}", res.status());
    c.wait_status(&id, "TERMINATED").await;
    // the commit's end is announced; nothing of it remains
    let mut buf = String::new();
    let outcome = loop {
        let chunk = tokio::time::timeout(Duration::from_secs(120), events.next())
            .await
            .expect("events keep coming")
            .expect("stream open")
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        let mut found = None;
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) {
                let ev: Value = serde_json::from_str(data).unwrap();
                if ev["session_id"] == id.as_str() && ev["commit"].is_object() {
                    found = Some(ev["commit"].clone());
                }
            }
        }
        if let Some(f) = found {
            break f;
        }
    };
    assert_eq!(outcome["reference"], Value::Null, "{outcome}");
    assert!(outcome["error"].is_string(), "{outcome}");
    let m = crate::metrics::scrape(&srv).await;
    assert_eq!(
        crate::metrics::sample(&m, r#"berth_commits_total{outcome="cancelled"}"#),
        Some(1.0),
        "{m}"
    );
    assert!(c.get_json("/api/v1/customized-images").await["items"]
        .as_array()
        .unwrap()
        .is_empty());
    let left = std::process::Command::new("docker")
        .args([
            "images",
            "-q",
            "--filter",
            "label=berth.customized.name=big-env",
        ])
        .args([
            "--filter",
            &format!("label=berth.instance={}", srv.instance()),
        ])
        .output()
        .unwrap();
    assert!(left.status.success(), "docker images failed");
    assert!(String::from_utf8_lossy(&left.stdout).trim().is_empty());
}
