//! Launch and end on the real engine: an interactive session with its limits,
//! batch exit codes and logs, the batch time limit, the event stream of a
//! launch, and a restart that keeps running sessions.

use std::process::Command;

use berth_testkit::{containers_of, problem, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{container_exists, inspect, statuses, IMAGE};

#[tokio::test]
async fn interactive_session_runs_with_its_limits_and_terminate_removes_it() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let s = c
        .launch(
            json!({"type": "interactive", "name": "limits-check", "image": IMAGE,
               "resources": {"cpu": 0.5, "mem": "96m", "shmem": "16m"},
               "env": {"FOO": "bar baz"}, "nthreads": 3}),
        )
        .await;
    assert_eq!(s["status"], "PENDING");
    assert_eq!(s["name"], "limits-check");
    let id = s["id"].as_str().unwrap();
    let running = c.wait_status(id, "RUNNING").await;
    let cid = running["kernels"][0]["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(running["kernels"][0]["hostname"], "main1");
    assert_eq!(running["agent"], "local");
    assert!(!running["started_at"].is_null());

    assert_eq!(
        inspect(&cid, "{{.HostConfig.Memory}}"),
        (96 * 1024 * 1024).to_string()
    );
    assert_eq!(inspect(&cid, "{{.HostConfig.NanoCpus}}"), "500000000");
    assert_eq!(
        inspect(&cid, "{{.HostConfig.ShmSize}}"),
        (16 * 1024 * 1024).to_string()
    );
    assert_eq!(inspect(&cid, "{{.State.Running}}"), "true");
    assert_eq!(
        inspect(&cid, "{{index .Config.Labels \"berth.session\"}}"),
        id
    );
    let env = inspect(&cid, "{{json .Config.Env}}");
    assert!(env.contains("\"FOO=bar baz\""), "{env}");
    assert!(env.contains("\"OMP_NUM_THREADS=3\""), "{env}");
    assert!(env.contains("\"OPENBLAS_NUM_THREADS=3\""), "{env}");
    assert_eq!(
        inspect(&cid, "{{range .Mounts}}{{.Destination}}{{end}}"),
        "/home/work"
    );
    // live usage comes from the engine's stats, bounded by the session's limit
    let usage = c.get_json(&format!("/api/v1/sessions/{id}/usage")).await;
    let k = &usage["kernels"][0];
    assert_eq!(k["kernel_id"], running["kernels"][0]["id"]);
    assert_eq!(k["mem_limit"], 96 * 1024 * 1024);
    let used = k["mem_used"].as_u64().unwrap();
    assert!(used > 0 && used < 96 * 1024 * 1024, "{usage}");
    assert!(k["cpu_percent"].as_f64().unwrap() >= 0.0);

    let res = c.delete(&format!("/api/v1/sessions/{id}")).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let body: Value = res.json().await.unwrap();
    assert!(["TERMINATING", "TERMINATED"].contains(&body["status"].as_str().unwrap()));
    let done = c.wait_status(id, "TERMINATED").await;
    assert_eq!(done["status_info"], "user-requested");
    assert!(!done["terminated_at"].is_null());
    assert!(!container_exists(&cid), "the container is removed");
    let usage = c.get_json(&format!("/api/v1/sessions/{id}/usage")).await;
    assert_eq!(usage["kernels"], json!([]), "an ended session uses nothing");
    assert_eq!(
        statuses(&done),
        [
            "PENDING",
            "SCHEDULED",
            "PREPARING",
            "RUNNING",
            "TERMINATING",
            "TERMINATED"
        ]
    );
    // ending it twice is a conflict, not a crash
    let res = c.delete(&format!("/api/v1/sessions/{id}")).await;
    problem(res, StatusCode::CONFLICT).await;
    // capacity is given back
    let agents: Value = c.get_json("/api/v1/agents").await;
    assert_eq!(agents["items"][0]["cpu_used"], 0.0);
}

#[tokio::test]
async fn batch_session_ends_with_its_exit_code_and_keeps_its_log() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let s = c
        .launch(
            json!({"type": "batch", "environment": "berth/busybox", "version": "latest",
               "resources": {"cpu": 0.25, "mem": "64m"}, "env": {"GREETING": "hello-env"},
               "startup_command": "echo hi; env | sort; exit 3"}),
        )
        .await;
    let id = s["id"].as_str().unwrap();
    let done = c
        .wait_for(id, "finished", |s| s["status"] == "TERMINATED")
        .await;
    assert_eq!(done["status_info"], "failed");
    assert_eq!(done["status_data"]["exit_code"], 3);
    assert_eq!(done["kernels"][0]["exit_code"], 3);
    assert!(
        containers_of(&srv.instance()).is_empty(),
        "batch containers are removed"
    );
    let logs: Value = c.get_json(&format!("/api/v1/sessions/{id}/logs")).await;
    let text = logs["logs"].as_str().unwrap();
    assert!(text.lines().any(|l| l == "hi"), "{text}");
    assert!(text.contains("GREETING=hello-env"), "{text}");
    assert!(text.contains("OMP_NUM_THREADS=1"), "{text}");

    let ok = c.launch(json!({"type": "batch", "image": IMAGE, "resources": {"cpu": 0.25, "mem": "64m"}, "startup_command": "true"}),
    )
    .await;
    let done = c
        .wait_status(ok["id"].as_str().unwrap(), "TERMINATED")
        .await;
    assert_eq!(done["status_info"], "self-terminated");
    assert_eq!(done["status_data"]["exit_code"], 0);
}

#[tokio::test]
async fn batch_max_run_time_kills_a_long_command() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let s = c
        .launch(
            json!({"type": "batch", "image": IMAGE, "resources": {"cpu": 0.25, "mem": "64m"},
               "startup_command": "sleep 600", "batch_timeout": 2}),
        )
        .await;
    let id = s["id"].as_str().unwrap();
    c.wait_status(id, "RUNNING").await;
    let done = c.wait_status(id, "TERMINATED").await;
    assert_eq!(done["status_info"], "batch-timeout");
    assert_eq!(done["status_data"]["batch_timeout"], 2);
    assert!(containers_of(&srv.instance()).is_empty());
}

#[tokio::test]
async fn server_sent_events_follow_a_launch() {
    use futures_util::StreamExt;
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let res = c.get("/api/v1/events").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut stream = res.bytes_stream();
    let s = c
        .launch(
            json!({"image": IMAGE, "name": "evented", "resources": {"cpu": 0.25, "mem": "64m"}}),
        )
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    let mut seen: Vec<String> = Vec::new();
    let mut buf = String::new();
    let mut terminated_asked = false;
    // one deadline for the whole wait: keep-alives must not extend it
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(120);
    while !seen.iter().any(|s| s == "TERMINATED") {
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("no TERMINATED event within the deadline: {seen:?}"))
            .expect("stream open")
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) {
                let ev: Value = serde_json::from_str(data).unwrap();
                if ev["session_id"] == id.as_str() {
                    assert_eq!(ev["name"], "evented");
                    let st = ev["status"].as_str().unwrap().to_string();
                    if seen.last() != Some(&st) {
                        seen.push(st);
                    }
                }
            }
        }
        if seen.iter().any(|s| s == "RUNNING") && !terminated_asked {
            terminated_asked = true;
            c.delete(&format!("/api/v1/sessions/{id}")).await;
        }
    }
    let pos = |s: &str| {
        seen.iter()
            .position(|x| x == s)
            .unwrap_or_else(|| panic!("{s} missing in {seen:?}"))
    };
    assert!(
        pos("PENDING") < pos("RUNNING") && pos("RUNNING") < pos("TERMINATED"),
        "{seen:?}"
    );

    // another user's stream does not carry it; and only admins may ask for all
    srv.create_user(&c, "dee@test.berth", "dee-password", "user")
        .await;
    let dee = srv.login("dee@test.berth", "dee-password").await;
    let res = dee.get("/api/v1/events?all=true").await;
    problem(res, StatusCode::FORBIDDEN).await;

    // an admin launching for dee follows that session too (they launched it)
    let s = c
        .launch(
            json!({"image": IMAGE, "name": "for-dee", "owner_email": "dee@test.berth",
               "resources": {"cpu": 0.25, "mem": "64m"}}),
        )
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    let creator_sees_it = async {
        loop {
            let chunk = stream.next().await.expect("stream open").unwrap();
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let frame: String = buf.drain(..end + 2).collect();
                if frame.contains(&id) {
                    return;
                }
            }
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(60), creator_sees_it)
        .await
        .expect("the launching admin gets the owner's session events");
}

#[tokio::test]
async fn restart_keeps_running_sessions_and_notices_vanished_containers() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let s = c
        .launch(
            json!({"image": IMAGE, "name": "survivor", "resources": {"cpu": 0.25, "mem": "64m"}}),
        )
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    let running = c.wait_status(&id, "RUNNING").await;
    let cid = running["kernels"][0]["container_id"]
        .as_str()
        .unwrap()
        .to_string();

    // a container labelled as this server's that no session owns
    let orphan = Command::new("docker")
        .args([
            "run",
            "-d",
            "--label",
            &format!("berth.instance={}", srv.instance()),
            "--label",
            "berth.kernel=nobody",
        ])
        .args([IMAGE, "sleep", "600"])
        .output()
        .unwrap();
    assert!(orphan.status.success());
    let orphan = String::from_utf8_lossy(&orphan.stdout).trim().to_string();

    let srv = srv.restart().await;
    let c = srv.admin().await;
    assert!(
        !container_exists(&orphan),
        "the orphan is removed at start-up"
    );
    let after: Value = c.get_json(&format!("/api/v1/sessions/{id}")).await;
    assert_eq!(after["status"], "RUNNING");
    assert_eq!(inspect(&cid, "{{.State.Running}}"), "true");

    // someone removes the container behind berth's back
    let out = Command::new("docker")
        .args(["rm", "-f", "-v", &cid])
        .output()
        .unwrap();
    assert!(out.status.success());
    let lost = c
        .wait_for(&id, "noticed", |s| s["status"] != "RUNNING")
        .await;
    assert_eq!(lost["status"], "ERROR");
    assert_eq!(lost["status_info"], "container-lost");
    let agents: Value = c.get_json("/api/v1/agents").await;
    assert_eq!(
        agents["items"][0]["cpu_used"], 0.0,
        "its capacity is given back"
    );
}
