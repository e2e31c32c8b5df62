//! Sessions on the real Docker engine with the busybox environment: launch,
//! limits, batch exit codes and logs, time limits, start times, queueing,
//! rename, isolation between users, admin-owned launches, SSE, recovery.

use std::process::Command;

use berth_testkit::{containers_of, field_errors, problem, Api, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const IMAGE: &str = "berth/busybox:latest";

fn inspect(container: &str, format: &str) -> String {
    let out = Command::new("docker")
        .args(["inspect", "--format", format, container])
        .output()
        .expect("docker inspect");
    assert!(
        out.status.success(),
        "docker inspect {container}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Whether the engine has the container; a failing docker fails the test.
fn container_exists(container: &str) -> bool {
    let out = Command::new("docker")
        .args(["inspect", "--format", "{{.Id}}", container])
        .output()
        .expect("docker inspect");
    if out.status.success() {
        return true;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("No such"), "docker inspect failed: {err}");
    false
}

fn statuses(s: &Value) -> Vec<String> {
    s["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap().to_string())
        .collect()
}

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
