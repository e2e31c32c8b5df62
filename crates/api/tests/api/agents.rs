//! Agents on real engines: each test starts a private `dockerd` beside the
//! shared one and registers it as a second agent. Registering (unix socket,
//! and `tcp://` with TLS client certificates the test makes), placement by
//! strategy and by designation, the image copied to an agent that lacks it
//! (the `pulling` phase with its progress), drain, removal only when empty,
//! and LOST/ALIVE when the engine stops and comes back — its sessions kept.

use std::time::Duration;

use berth_testkit::{events_until, field_errors, problem, Api, PrivateEngine, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const BUSYBOX: &str = "berth/busybox:latest";

async fn agents(c: &Api) -> Vec<Value> {
    c.get_json("/api/v1/agents").await["items"]
        .as_array()
        .unwrap()
        .clone()
}

async fn agent(c: &Api, id: &str) -> Value {
    agents(c)
        .await
        .into_iter()
        .find(|a| a["id"] == id)
        .unwrap_or_else(|| panic!("no agent {id}"))
}

/// Polls the agent list until `done` holds for agent `id` (a bound keeps a
/// broken build from hanging; not a timed assertion).
async fn wait_agent(c: &Api, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut last = Value::Null;
    for _ in 0..600 {
        last = agent(c, id).await;
        if done(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("agent {id} never became {what}; last: {last:#}");
}

fn session(name: &str, agent: Option<&str>) -> Value {
    let mut s = json!({
        "name": name,
        "type": "batch",
        "image": BUSYBOX,
        "resources": {"cpu": 0.5, "mem": "64m"},
        "startup_command": "echo hello from $(hostname); sleep 600",
    });
    if let Some(a) = agent {
        s["agent"] = json!(a);
    }
    s
}

fn kernel_agent(s: &Value) -> String {
    s["kernels"][0]["agent"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The checks a PENDING session reports, as `kind`s.
fn failed_kinds(s: &Value) -> Vec<String> {
    s["status_data"]["scheduler"]["failed_predicates"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|c| c["kind"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn admins_register_drain_and_remove_a_second_engine_that_gets_the_image_copied() {
    let engine = PrivateEngine::start(&[]).await;
    let srv = TestServer::start_with(|c| c.agent_cpu = Some(1.0)).await;
    let admin = srv.admin().await;
    let (user, _) = srv.new_user("agent-user@test.berth", "user").await;
    let register = json!({"id": "two", "docker_host": engine.host(), "resource_group": "default"});

    // only admins register
    let res = user.post("/api/v1/agents", &register).await;
    problem(res, StatusCode::FORBIDDEN).await;
    // each bad field is named
    let res = admin
        .post(
            "/api/v1/agents",
            &json!({"id": "a b", "docker_host": "http://x", "resource_group": "nope"}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    let fields: Vec<String> = field_errors(&body).into_iter().map(|f| f.0).collect();
    assert_eq!(fields, ["id", "docker_host"]);
    let res = admin
        .post(
            "/api/v1/agents",
            &json!({"id": "x", "docker_host": engine.host(), "resource_group": "nope"}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&body),
        [("resource_group".to_string(), "not_found".to_string())]
    );
    // an engine must answer to be registered
    let res = admin
        .post(
            "/api/v1/agents",
            &json!({"id": "x", "docker_host": "unix:///tmp/no-engine-here.sock", "resource_group": "default"}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&body),
        [("docker_host".to_string(), "unreachable".to_string())]
    );

    let res = admin.post("/api/v1/agents", &register).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let two: Value = res.json().await.unwrap();
    assert_eq!(two["status"], "ALIVE");
    assert_eq!(two["schedulable"], true);
    assert_eq!(two["docker_host"], engine.host());
    let cores: f64 = std::thread::available_parallelism().unwrap().get() as f64;
    assert_eq!(two["cpu_total"].as_f64(), Some(cores), "{two}");
    let res = admin.post("/api/v1/agents", &register).await;
    problem(res, StatusCode::CONFLICT).await;
    // users see the agents of their groups, without the engines' addresses
    let seen = agents(&user).await;
    assert_eq!(seen.len(), 2);
    assert!(
        seen.iter().all(|a| a.get("docker_host").is_none()),
        "{seen:?}"
    );

    // dispersed: the freer agent (two) gets it, though it lacks the image:
    // the image is copied there first, and the copy is announced
    let mut stream = admin.get("/api/v1/events").await.bytes_stream();
    let s = admin.launch(session("on-two", None)).await;
    let id = s["id"].as_str().unwrap().to_string();
    let pulling = events_until(&mut stream, &id, |ev| ev["status"] == "RUNNING").await;
    let copy = pulling
        .iter()
        .find(|ev| ev["status_info"] == "pulling")
        .unwrap_or_else(|| panic!("no pulling phase in {pulling:#?}"));
    assert_eq!(copy["status"], "PREPARING");
    assert_eq!(copy["status_data"]["pulling"]["agent"], "two");
    assert_eq!(copy["status_data"]["pulling"]["source"], "local");
    assert!(copy["status_data"]["pulling"]["total"].as_u64().unwrap() > 0);
    let s = admin.wait_status(&id, "RUNNING").await;
    assert_eq!(kernel_agent(&s), "two");
    assert!(s["status_data"].get("pulling").is_none(), "{s}");
    assert!(engine.docker(&["images", "-q", BUSYBOX]).len() > 5);
    // /metrics counts the copy, its bytes and its time
    let m = crate::metrics::scrape(&srv).await;
    let at = |series: &str| crate::metrics::sample(&m, series).unwrap_or(0.0);
    assert_eq!(
        at(r#"berth_image_copies_total{why="launch",outcome="done"}"#),
        1.0,
        "{m}"
    );
    assert!(
        at(r#"berth_image_copy_bytes_total{why="launch"}"#) > 1e6,
        "{m}"
    );
    assert_eq!(
        at(r#"berth_image_copy_duration_seconds_count{why="launch"}"#),
        1.0,
        "{m}"
    );
    // its container is on the second engine, and its log is read from there
    let cid = s["kernels"][0]["container_id"].as_str().unwrap();
    assert_eq!(
        engine.docker(&["inspect", "-f", "{{.State.Running}}", cid]),
        "true"
    );
    let mut text = String::new();
    for _ in 0..100 {
        text = admin.get_json(&format!("/api/v1/sessions/{id}/logs")).await["logs"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if text.contains("hello from") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(text.contains("hello from"), "{text}");
    assert_eq!(agent(&admin, "two").await["cpu_used"].as_f64(), Some(0.5));

    // a designated agent is honoured
    let local = admin.launch(session("on-local", Some("local"))).await;
    let local_id = local["id"].as_str().unwrap().to_string();
    assert_eq!(
        kernel_agent(&admin.wait_status(&local_id, "RUNNING").await),
        "local"
    );

    // drained: nothing new goes there, what runs stays, and the reason says so
    let res = admin
        .patch("/api/v1/agents/two", &json!({"schedulable": false}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = user
        .patch("/api/v1/agents/two", &json!({"schedulable": true}))
        .await;
    problem(res, StatusCode::FORBIDDEN).await;
    let waiting = admin.launch(session("wants-two", Some("two"))).await;
    let waiting_id = waiting["id"].as_str().unwrap().to_string();
    let w = admin
        .wait_for(&waiting_id, "explained", |s| !failed_kinds(s).is_empty())
        .await;
    assert_eq!(w["status"], "PENDING");
    assert_eq!(failed_kinds(&w), ["agent_draining"]);
    assert_eq!(
        admin.get_json(&format!("/api/v1/sessions/{id}")).await["status"],
        "RUNNING"
    );
    // moving an agent that holds sessions to another group is refused
    admin
        .post("/api/v1/resource-groups", &json!({"name": "spare"}))
        .await;
    let res = admin
        .patch("/api/v1/agents/two", &json!({"resource_group": "spare"}))
        .await;
    problem(res, StatusCode::CONFLICT).await;
    // and so is removing it, or the local agent
    let res = admin.delete("/api/v1/agents/two").await;
    problem(res, StatusCode::CONFLICT).await;
    let res = admin.delete("/api/v1/agents/local").await;
    problem(res, StatusCode::CONFLICT).await;

    // undrained, the waiting session starts there
    let res = admin
        .patch(
            "/api/v1/agents/two",
            &json!({"schedulable": true, "reserve_cpu": 0.25}),
        )
        .await;
    let two: Value = res.json().await.unwrap();
    assert_eq!(two["reserve_cpu"].as_f64(), Some(0.25));
    assert_eq!(two["cpu_total"].as_f64(), Some(cores - 0.25));
    assert_eq!(
        kernel_agent(&admin.wait_status(&waiting_id, "RUNNING").await),
        "two"
    );

    for sid in [&id, &waiting_id, &local_id] {
        admin.delete(&format!("/api/v1/sessions/{sid}")).await;
        admin.wait_status(sid, "TERMINATED").await;
    }
    assert_eq!(engine.docker(&["ps", "-aq"]), "", "its containers are gone");
    let res = admin.delete("/api/v1/agents/two").await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let ids: Vec<Value> = agents(&admin)
        .await
        .into_iter()
        .map(|a| a["id"].clone())
        .collect();
    assert_eq!(ids, [json!("local")]);
    let res = admin.delete("/api/v1/agents/two").await;
    problem(res, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn an_agent_whose_engine_stops_is_lost_then_alive_with_its_sessions_kept() {
    let engine = PrivateEngine::start(&[BUSYBOX]).await;
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    let res = admin
        .post(
            "/api/v1/agents",
            &json!({"id": "far", "docker_host": engine.host(), "resource_group": "default"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let s = admin.launch(session("far-away", Some("far"))).await;
    let id = s["id"].as_str().unwrap().to_string();
    admin.wait_status(&id, "RUNNING").await;
    // a second one whose stored details are corrupt: they are not replaced
    // by a guess (invariant 10), only logged
    let odd = admin.launch(session("far-odd", Some("far"))).await;
    let odd_id = odd["id"].as_str().unwrap().to_string();
    admin.wait_status(&odd_id, "RUNNING").await;
    let store = srv.ctx.store();
    assert!(store
        .note_status_data(
            &odd_id,
            berth_shared::sessions::SessionStatus::Running,
            Some("{")
        )
        .await
        .unwrap());

    engine.stop().await;
    let far = wait_agent(&admin, "far", "LOST", |a| a["status"] == "LOST").await;
    assert!(far["lost_since"].is_string(), "{far}");
    // its session is not lost: it says why it cannot be reached
    let s = admin
        .wait_for(&id, "told", |s| s["status_data"]["agent_lost"].is_object())
        .await;
    assert_eq!(s["status"], "RUNNING");
    assert_eq!(s["status_data"]["agent_lost"]["agent"], "far");
    // nothing new is placed there meanwhile
    let later = admin.launch(session("meanwhile", Some("far"))).await;
    let later_id = later["id"].as_str().unwrap().to_string();
    let w = admin
        .wait_for(&later_id, "explained", |s| !failed_kinds(s).is_empty())
        .await;
    assert_eq!(failed_kinds(&w), ["agent_unreachable"]);

    engine.start_again().await;
    let far = wait_agent(&admin, "far", "ALIVE", |a| a["status"] == "ALIVE").await;
    assert!(far["lost_since"].is_null(), "{far}");
    let s = admin
        .wait_for(&id, "cleared", |s| {
            s["status_data"].get("agent_lost").is_none()
        })
        .await;
    assert_eq!(s["status"], "RUNNING", "reconciled, still running: {s}");
    // both notes (lost, then alive) have gone over every session there
    let odd = store.session(&odd_id).await.unwrap().unwrap();
    assert_eq!(odd.status_data.as_deref(), Some("{"), "left as it was");
    admin.wait_status(&later_id, "RUNNING").await;
    // and it is still driven: ending it removes its container there
    for sid in [&id, &later_id, &odd_id] {
        admin.delete(&format!("/api/v1/sessions/{sid}")).await;
        admin.wait_status(sid, "TERMINATED").await;
    }
    assert_eq!(engine.docker(&["ps", "-aq"]), "");
}

#[tokio::test]
async fn a_tls_engine_is_registered_with_client_certificates() {
    let engine = PrivateEngine::start_tls(&[BUSYBOX]).await;
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    let host = engine.tls_host().unwrap();
    let certs = engine.client_certs().display().to_string();
    // without certificates the engine refuses us
    let res = admin
        .post(
            "/api/v1/agents",
            &json!({"id": "tls", "docker_host": host, "resource_group": "default"}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&body),
        [("docker_host".to_string(), "unreachable".to_string())]
    );
    // a folder without the files is named
    let res = admin
        .post(
            "/api/v1/agents",
            &json!({"id": "tls", "docker_host": host, "tls_cert_dir": "/tmp", "resource_group": "default"}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&body),
        [("tls_cert_dir".to_string(), "missing_files".to_string())]
    );
    let res = admin
        .post(
            "/api/v1/agents",
            &json!({"id": "tls", "docker_host": host, "tls_cert_dir": certs, "resource_group": "default"}),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CREATED,
        "{}",
        res.text().await.unwrap()
    );
    let s = admin.launch(session("over-tls", Some("tls"))).await;
    let id = s["id"].as_str().unwrap().to_string();
    let s = admin.wait_status(&id, "RUNNING").await;
    assert_eq!(kernel_agent(&s), "tls");
    let cid = s["kernels"][0]["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        engine.docker(&["inspect", "-f", "{{.State.Running}}", &cid]),
        "true"
    );
    admin.delete(&format!("/api/v1/sessions/{id}")).await;
    admin.wait_status(&id, "TERMINATED").await;
    assert_eq!(engine.docker(&["ps", "-aq"]), "");
}

#[tokio::test]
async fn a_session_whose_image_is_on_no_agent_waits_and_says_so() {
    let srv = TestServer::start_with(|c| c.agent_cpu = Some(1.0)).await;
    let admin = srv.admin().await;
    // an image of its own, so removing it touches no other test
    let image = format!(
        "berth/gone-{}:latest",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    berth_testkit::docker(&["tag", BUSYBOX, &image]).await;
    // the agent is full: the session waits for room first
    let filler = admin.launch(session("filler", None)).await;
    let filler = filler["id"].as_str().unwrap().to_string();
    admin.wait_status(&filler, "RUNNING").await;
    let mut req = session("orphan", None);
    req["image"] = json!(image);
    req["resources"]["cpu"] = json!(1.0);
    let s = admin.launch(req).await;
    let id = s["id"].as_str().unwrap().to_string();
    admin
        .wait_for(&id, "waiting for room", |s| failed_kinds(s) == ["short"])
        .await;
    // its image goes from every engine: the reason says so
    berth_testkit::docker(&["rmi", &image]).await;
    let w = admin
        .wait_for(&id, "told the image is gone", |s| {
            failed_kinds(s).contains(&"image_missing".to_string())
        })
        .await;
    assert_eq!(w["status"], "PENDING");
    let check = &w["status_data"]["scheduler"]["failed_predicates"][0];
    assert_eq!(check["name"], "image");
    assert_eq!(check["image"], image.as_str());
    // it comes back, room frees: the session starts
    berth_testkit::docker(&["tag", BUSYBOX, &image]).await;
    admin
        .wait_for(&id, "image found again", |s| {
            !failed_kinds(s).contains(&"image_missing".to_string())
        })
        .await;
    admin.delete(&format!("/api/v1/sessions/{filler}")).await;
    admin.wait_status(&id, "RUNNING").await;
    admin.delete(&format!("/api/v1/sessions/{id}")).await;
    admin.wait_status(&id, "TERMINATED").await;
    berth_testkit::docker(&["rmi", &image]).await;
}

#[tokio::test]
async fn a_session_with_folders_runs_only_on_an_agent_that_sees_the_storage() {
    let engine = PrivateEngine::start(&[BUSYBOX]).await;
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    // the local agent sees the store where the server does
    let local = agent(&admin, "local").await;
    assert_eq!(local["sees_storage"], true, "{local}");
    let root = local["storage_path"].as_str().unwrap().to_string();
    let res = admin
        .post(
            "/api/v1/agents",
            &json!({"id": "far", "docker_host": engine.host(), "resource_group": "default"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let far = agent(&admin, "far").await;
    assert_eq!(far["sees_storage"], false, "{far}");
    assert!(far.get("storage_path").is_none(), "{far}");
    // a user sees whether an agent sees the store, not where
    let (ana, _) = srv.new_user("ana@test.berth", "user").await;
    let seen = agent(&ana, "local").await;
    assert_eq!(seen["sees_storage"], true);
    assert!(seen.get("storage_path").is_none(), "{seen}");

    let folder = admin
        .post_json("/api/v1/folders", &json!({"name": "shared"}))
        .await;
    let mut s = session("with-folder", Some("far"));
    s["mounts"] = json!(["shared"]);
    s["startup_command"] = json!("echo written-on-far > /home/work/shared/far.txt; sleep 600");
    // the dry run says so before anything is made
    let dry = admin.post_json("/api/v1/sessions/dry-run", &s).await;
    assert_eq!(
        dry["sessions"][0]["failed_predicates"][0]["kind"], "no_storage",
        "{dry}"
    );
    let made = admin.launch(s).await;
    let id = made["id"].as_str().unwrap().to_string();
    let w = admin
        .wait_for(&id, "explained", |s| !failed_kinds(s).is_empty())
        .await;
    assert_eq!(failed_kinds(&w), ["no_storage"], "{w}");
    assert_eq!(w["status"], "PENDING");
    // a session without folders still goes there
    let plain = admin.launch(session("plain", Some("far"))).await;
    let plain_id = plain["id"].as_str().unwrap().to_string();
    admin.wait_status(&plain_id, "RUNNING").await;

    // the agent's host sees the store (here, as NFS would give it, the
    // same directory): the session is placed, and what it writes is in
    // the explorer
    let bad = admin
        .patch(
            "/api/v1/agents/far",
            &json!({"storage_path": "relative/path"}),
        )
        .await;
    let errs = field_errors(&problem(bad, StatusCode::UNPROCESSABLE_ENTITY).await);
    assert_eq!(errs, [("storage_path".into(), "not_absolute".into())]);
    let res = admin
        .patch("/api/v1/agents/far", &json!({"storage_path": root}))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let r = admin.wait_status(&id, "RUNNING").await;
    assert_eq!(kernel_agent(&r), "far");
    let fid = folder["id"].as_str().unwrap();
    let text = admin.wait_file(fid, "far.txt").await;
    assert_eq!(text.trim(), "written-on-far");
    for sid in [&id, &plain_id] {
        admin.delete(&format!("/api/v1/sessions/{sid}")).await;
        admin.wait_status(sid, "TERMINATED").await;
    }
    assert_eq!(engine.docker(&["ps", "-aq"]), "");
}

#[tokio::test]
async fn the_local_engine_may_be_reached_over_tls_as_replicas_on_several_machines_share_it() {
    let engine = PrivateEngine::start_tls(&[BUSYBOX]).await;
    let host = engine.tls_host().unwrap();
    let certs = engine.client_certs();
    let srv = TestServer::start_with(|c| {
        c.docker_host = host.clone();
        c.docker_cert_dir = Some(certs.clone());
    })
    .await;
    let admin = srv.admin().await;
    // the catalogue is that engine's: its environments, and sessions run there
    let envs = admin.get_json("/api/v1/environments").await;
    assert!(
        envs["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "berth/busybox"),
        "{envs}"
    );
    let health = admin.get_json("/healthz").await;
    assert_eq!(health["docker"]["ok"], true, "{health}");
    let s = admin
        .launch(json!({"name": "over-tls", "image": BUSYBOX,
                       "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    let r = admin.wait_status(&id, "RUNNING").await;
    let cid = r["kernels"][0]["container_id"].as_str().unwrap();
    let on_engine = berth_testkit::docker(&[
        "-H",
        &engine.host(),
        "inspect",
        "-f",
        "{{.State.Running}}",
        cid,
    ])
    .await;
    assert_eq!(on_engine, "true");
    admin.delete(&format!("/api/v1/sessions/{id}")).await;
    admin.wait_status(&id, "TERMINATED").await;
}
