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
    let text = admin.wait_file(&fid, "far.txt").await;
    assert_eq!(text.trim(), "from-far");
    admin.delete(&format!("/api/v1/sessions/{id}")).await;
    admin.wait_status(&id, "TERMINATED").await;
    assert_eq!(remote.docker(&["ps", "-aq"]), "");
}

#[tokio::test]
async fn jupyter_a_preopen_port_and_ssh_on_a_namespaced_agent_answer_through_its_published_ports() {
    let srv = TestServer::start_with(|c| c.app_ports = (31060, 31069)).await;
    let admin = srv.admin().await;
    let remote = RemoteHost::start(&[BUSYBOX, "berth/python:3.11"]).await;
    let view = remote.mount_share(srv.ctx.storage().store_root());
    register(&admin, "far", &remote, Some(&view.display().to_string())).await;
    let folder = admin
        .post_json("/api/v1/folders", &json!({"name": "notes"}))
        .await;
    let s = admin
        .launch(json!({
            "name": "far-lab", "environment": "berth/python", "version": "3.11",
            "agent": "far", "resources": {"cpu": 1, "mem": "512m"},
            "mounts": ["notes"], "preopen_ports": [8090],
        }))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    let r = admin.wait_status(&id, "RUNNING").await;
    assert_eq!(r["kernels"][0]["agent"], "far");
    let cid = r["kernels"][0]["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    // the container's own address is routed nowhere outside its host
    let ip = remote.docker(&[
        "inspect",
        "-f",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        &cid,
    ]);
    // (this machine's own network may accept any connection: what
    // matters is that Jupyter is not what answers)
    let direct = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap()
        .get(format!("http://{ip}:8081/api/status"))
        .send()
        .await;
    let reached = match direct {
        Ok(res) => res.text().await.unwrap_or_default().contains("\"started\""),
        Err(_) => false,
    };
    assert!(
        !reached,
        "Jupyter at {ip}:8081 answered from outside the agent's host"
    );
    // its ports are published on the agent's address, from its range
    let published = remote.docker(&["port", &cid]);
    assert!(
        published.contains(&format!("{}:40", remote.address())),
        "{published}"
    );

    // Jupyter through the proxy
    let opened = admin
        .post_json(&format!("/api/v1/sessions/{id}/apps/jupyter"), &json!({}))
        .await;
    let launch = opened["launch_url"].as_str().expect("a launch URL");
    let res = admin.http().get(launch).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{opened}");
    let url = opened["app"]["open"]["url"].as_str().unwrap();
    let status = admin
        .http()
        .get(format!("{url}api/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), StatusCode::OK);

    // a preopen port: the user's own server inside, through the proxy
    remote.docker(&[
        "exec",
        "-d",
        &cid,
        "sh",
        "-c",
        "cd /home/work && echo served-from-far > page.txt && python3 -m http.server 8090",
    ]);
    let opened = admin
        .post_json(&format!("/api/v1/sessions/{id}/apps/8090"), &json!({}))
        .await;
    let launch = opened["launch_url"].as_str().expect("a launch URL");
    admin.http().get(launch).send().await.unwrap();
    let url = opened["app"]["open"]["url"].as_str().unwrap().to_string();
    let mut page = String::new();
    for _ in 0..300 {
        let res = admin
            .http()
            .get(format!("{url}page.txt"))
            .send()
            .await
            .unwrap();
        if res.status() == StatusCode::OK {
            page = res.text().await.unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(page.trim(), "served-from-far");

    // a file written there is in the explorer
    remote.docker(&[
        "exec",
        &cid,
        "sh",
        "-c",
        "echo written-on-far > /home/work/notes/from-far.txt",
    ]);
    let fid = folder["id"].as_str().unwrap();
    let res = admin
        .get(&format!("/api/v1/folders/{fid}/files?path=from-far.txt"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap().trim(), "written-on-far");

    // SSH with the session's key, through the proxy's port
    let opened = admin
        .post_json(&format!("/api/v1/sessions/{id}/apps/sshd"), &json!({}))
        .await;
    let port = opened["app"]["open"]["port"].as_u64().expect("a port");
    let key = admin
        .get(&format!("/api/v1/sessions/{id}/ssh-key"))
        .await
        .bytes()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("id_container");
    std::fs::write(&key_path, &key).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let ssh = tokio::process::Command::new("ssh")
        .args(["-i", key_path.to_str().unwrap(), "-p", &port.to_string()])
        .args([
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
        ])
        .args([
            "work@127.0.0.1",
            "cat /home/work/notes/from-far.txt; hostname",
        ])
        .output()
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&ssh.stdout);
    assert!(
        ssh.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&ssh.stderr)
    );
    assert!(out.contains("written-on-far"), "{out}");

    // without the store there, a session with a folder waits, saying why
    let res = admin
        .patch("/api/v1/agents/far", &json!({"storage_path": ""}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let waiting = admin
        .launch(json!({
            "name": "far-blind", "image": BUSYBOX, "agent": "far",
            "resources": {"cpu": 0.25, "mem": "64m"}, "mounts": ["notes"],
        }))
        .await;
    let wid = waiting["id"].as_str().unwrap().to_string();
    let w = admin
        .wait_for(&wid, "explained", |s| {
            s["status_data"]["scheduler"]["failed_predicates"][0]["kind"] == "no_storage"
        })
        .await;
    assert_eq!(w["status"], "PENDING");
    for sid in [&id, &wid] {
        admin.delete(&format!("/api/v1/sessions/{sid}")).await;
        admin
            .wait_for(sid, "ended", |s| {
                s["status"] == "TERMINATED" || s["status"] == "CANCELLED"
            })
            .await;
    }
    assert_eq!(remote.docker(&["ps", "-aq"]), "");
}

#[tokio::test]
async fn a_commit_on_one_agent_runs_on_another_through_the_registry() {
    let registry = berth_testkit::Registry::start().await;
    let srv = TestServer::start_with(|c| c.registry = Some(registry.address())).await;
    let admin = srv.admin().await;
    let (one, two) = tokio::join!(RemoteHost::start(&[]), RemoteHost::start(&[]));
    register(&admin, "one", &one, None).await;
    register(&admin, "two", &two, None).await;
    // neither has the image: "one" pulls it from the registry (the
    // catalogue pushed it there first)
    let s = admin
        .launch(json!({
            "name": "to-save", "image": BUSYBOX, "agent": "one",
            "resources": {"cpu": 0.25, "mem": "64m"},
        }))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    let r = admin.wait_status(&id, "RUNNING").await;
    let pulled_by_one = format!("{}/{BUSYBOX}", registry.address());
    assert!(
        !one.docker(&["image", "inspect", "-f", "{{.Id}}", &pulled_by_one])
            .is_empty(),
        "{pulled_by_one} is not on one"
    );
    let cid = r["kernels"][0]["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    one.docker(&["exec", &cid, "sh", "-c", "echo made-on-one > /tmp/mark"]);
    let res = admin
        .post(
            &format!("/api/v1/sessions/{id}/commit"),
            &json!({"name": "on-one"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let image = Api::wait_customized_image(&admin, "on-one").await;
    let reference = image["reference"].as_str().unwrap().to_string();
    // it was pushed from "one" and is in the catalogue (the local engine)
    let in_registry = format!("{}/{reference}", registry.address());
    assert!(
        !berth_testkit::docker(&["image", "inspect", "-f", "{{.Id}}", &reference])
            .await
            .is_empty()
    );

    // launched on "two", which pulls it from the registry
    let s = admin
        .launch(json!({
            "name": "from-saved", "image": reference, "agent": "two",
            "resources": {"cpu": 0.25, "mem": "64m"},
        }))
        .await;
    let id2 = s["id"].as_str().unwrap().to_string();
    let r2 = admin.wait_status(&id2, "RUNNING").await;
    assert_eq!(r2["kernels"][0]["agent"], "two");
    assert!(!two
        .docker(&["image", "inspect", "-f", "{{.Id}}", &in_registry])
        .is_empty());
    let cid2 = r2["kernels"][0]["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        two.docker(&["exec", &cid2, "cat", "/tmp/mark"]),
        "made-on-one"
    );
    for sid in [&id, &id2] {
        admin.delete(&format!("/api/v1/sessions/{sid}")).await;
        admin.wait_status(sid, "TERMINATED").await;
    }
}

/// Polls the group's newest pre-pull until every agent's part is over.
async fn prepull_settled(admin: &Api, group: &str) -> Value {
    for _ in 0..600 {
        let list = admin
            .get_json(&format!("/api/v1/resource-groups/{group}/pre-pulls"))
            .await;
        let job = list["items"][0].clone();
        let states: Vec<&str> = job["agents"]
            .as_array()
            .map(|a| a.iter().filter_map(|x| x["state"].as_str()).collect())
            .unwrap_or_default();
        if !states.is_empty()
            && states
                .iter()
                .all(|s| ["present", "done", "failed"].contains(s))
        {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the pre-pull to {group} did not end");
}

#[tokio::test]
async fn an_admin_pre_pulls_an_environment_to_a_resource_groups_agents_from_the_registry() {
    let registry = berth_testkit::Registry::start().await;
    let srv = TestServer::start_with(|c| c.registry = Some(registry.address())).await;
    let admin = srv.admin().await;
    let remote = RemoteHost::start(&[]).await;
    admin
        .post_json(
            "/api/v1/resource-groups",
            &json!({"name": "far", "projects": ["default"]}),
        )
        .await;
    let res = admin
        .post(
            "/api/v1/agents",
            &json!({
                "id": "far-one", "docker_host": remote.docker_host(),
                "tls_cert_dir": remote.client_certs(), "resource_group": "far",
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (user, _) = srv.new_user("someone@example.com", "user").await;

    // refused: not an admin, no such group, no such environment
    let path = "/api/v1/resource-groups/far/pre-pulls";
    let res = user.post(path, &json!({"image": BUSYBOX})).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = admin
        .post(
            "/api/v1/resource-groups/nowhere/pre-pulls",
            &json!({"image": BUSYBOX}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = admin.post(path, &json!({"image": "berth/none:1"})).await;
    let problem = berth_testkit::problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(problem["errors"][0]["field"], "image");
    assert_eq!(problem["errors"][0]["code"], "image_not_found");

    // the agent lacks it; it pulls it from the registry
    let remote_name = format!("{}/{BUSYBOX}", registry.address());
    assert!(remote
        .docker(&["image", "ls", "-q", BUSYBOX])
        .trim()
        .is_empty());
    let res = admin.post(path, &json!({"image": BUSYBOX})).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let started: Value = res.json().await.unwrap();
    assert_eq!(started["image"], BUSYBOX);
    assert_eq!(started["agents"][0]["agent"], "far-one");
    let job = prepull_settled(&admin, "far").await;
    assert_eq!(job["id"], started["id"]);
    let part = &job["agents"][0];
    assert_eq!(part["state"], "done", "{job}");
    assert_eq!(part["source"], "registry");
    assert!(part["bytes"].as_u64().unwrap() > 0, "{job}");
    for name in [BUSYBOX, remote_name.as_str()] {
        assert!(
            !remote
                .docker(&["image", "ls", "-q", name])
                .trim()
                .is_empty(),
            "{name} is not on the agent"
        );
    }

    // a second one finds it there; a session in the group runs there
    admin.post(path, &json!({"image": BUSYBOX})).await;
    let again = prepull_settled(&admin, "far").await;
    assert_ne!(again["id"], job["id"]);
    assert_eq!(again["agents"][0]["state"], "present", "{again}");
    let s = admin
        .launch(json!({
            "name": "after-prepull", "image": BUSYBOX, "resource_group": "far",
            "resources": {"cpu": 0.25, "mem": "64m"},
        }))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    let r = admin.wait_status(&id, "RUNNING").await;
    assert_eq!(r["kernels"][0]["agent"], "far-one");
    admin.delete(&format!("/api/v1/sessions/{id}")).await;
    admin.wait_status(&id, "TERMINATED").await;
}
