//! Agents on other hosts, simulated: each test makes a network namespace
//! with its own Docker engine (`RemoteHost`), reached only at the
//! namespace's address over TLS, with the folder store mounted there at a
//! path of its own, as an agent host mounts NFS.

use std::time::Duration;

use berth_testkit::{Api, RemoteHost, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const BUSYBOX: &str = "berth/busybox:latest";

async fn register(admin: &Api, id: &str, host: &RemoteHost, storage: Option<&str>) {
    let res = admin
        .post(
            "/api/v1/agents",
            &json!({
                "id": id,
                "docker_host": host.docker_host(),
                "tls_cert_dir": host.client_certs(),
                "resource_group": "default",
                "storage_path": storage,
            }),
        )
        .await;
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn a_namespaced_agent_runs_a_session_with_a_folder_from_its_own_view_of_the_store() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    let remote = RemoteHost::start(&[BUSYBOX]).await;
    let root = srv.ctx.storage().store_root().to_path_buf();
    let view = remote.mount_share(&root);
    register(&admin, "far", &remote, Some(&view.display().to_string())).await;

    admin
        .post_json("/api/v1/folders", &json!({"name": "shared"}))
        .await;
    let s = admin
        .launch(json!({
            "name": "far-one", "type": "batch", "image": BUSYBOX, "agent": "far",
            "resources": {"cpu": 0.5, "mem": "64m"}, "mounts": ["shared"],
            "startup_command": "echo from-far > /home/work/shared/far.txt; sleep 600",
        }))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    let r = admin.wait_status(&id, "RUNNING").await;
    assert_eq!(r["kernels"][0]["agent"], "far");
    // the kernel binds the folder from where that host sees the store
    let cid = r["kernels"][0]["container_id"].as_str().unwrap();
    let sources = remote.docker(&["inspect", "-f", "{{range .Mounts}}{{.Source}} {{end}}", cid]);
    assert!(
        sources
            .split_whitespace()
            .any(|m| m.starts_with(&view.display().to_string())),
        "{sources}"
    );
    let fid = admin.get_json("/api/v1/folders").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut text = String::new();
    for _ in 0..600 {
        let res = admin
            .get(&format!("/api/v1/folders/{fid}/files?path=far.txt"))
            .await;
        if res.status() == StatusCode::OK {
            text = res.text().await.unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(text.trim(), "from-far");
    admin.delete(&format!("/api/v1/sessions/{id}")).await;
    admin.wait_status(&id, "TERMINATED").await;
    assert_eq!(remote.docker(&["ps", "-aq"]), "");
}
