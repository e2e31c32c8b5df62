//! Cluster sessions on real engines: one main and N−1 sub kernels named
//! `main1`, `sub1`, …, told their role and peers, reaching each other by
//! name; single-node on one agent, multi-node over two engines (placed all
//! or nothing); per-kernel logs; every kernel's capacity held and given
//! back.

use std::time::Duration;

use berth_testkit::{docker, field_errors, problem, Api, PrivateEngine, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const BUSYBOX: &str = "berth/busybox:latest";

/// A batch cluster whose main kernel reaches every other kernel by name
/// (a closed port answers "refused": the peer was reached; kernels have no
/// raw sockets for ping), prints what it was told, then waits.
fn cluster(name: &str, size: u32, mode: &str) -> Value {
    let hosts: Vec<String> = (1..size).map(|i| format!("sub{i}")).collect();
    json!({
        "name": name,
        "type": "batch",
        "image": BUSYBOX,
        "resources": {"cpu": 0.25, "mem": "64m"},
        "cluster_mode": mode,
        "cluster_size": size,
        "startup_command": format!(
            "for h in {}; do nc -w3 $h 9 2>&1 | grep -q refused || exit 7; done; \
             echo \"cluster: $BACKENDAI_CLUSTER_HOST $BACKENDAI_CLUSTER_ROLE $BACKENDAI_CLUSTER_SIZE $BACKENDAI_CLUSTER_HOSTS\"; \
             sleep 600",
            hosts.join(" ")
        ),
    })
}

/// The main kernel's log once it holds `text` (a bound keeps a broken
/// build from hanging; not a timed assertion).
async fn log_with(c: &Api, id: &str, kernel: Option<&str>, text: &str) -> String {
    let path = match kernel {
        Some(k) => format!("/api/v1/sessions/{id}/logs?kernel={k}"),
        None => format!("/api/v1/sessions/{id}/logs"),
    };
    let mut last = String::new();
    for _ in 0..600 {
        let res = c.get(&path).await;
        assert_eq!(res.status(), StatusCode::OK);
        last = res.json::<Value>().await.unwrap()["logs"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if last.contains(text) {
            return last;
        }
        let s = c.get_json(&format!("/api/v1/sessions/{id}")).await;
        assert_ne!(s["status"], "TERMINATED", "ended early: {s:#}\n{last}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the log never said {text:?}: {last}");
}

fn kernel<'a>(s: &'a Value, hostname: &str) -> &'a Value {
    s["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["hostname"] == hostname)
        .unwrap_or_else(|| panic!("no kernel {hostname} in {s:#}"))
}

async fn cpu_used(c: &Api, agent: &str) -> f64 {
    c.get_json("/api/v1/agents").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == agent)
        .and_then(|a| a["cpu_used"].as_f64())
        .unwrap()
}

#[tokio::test]
async fn a_single_node_cluster_runs_its_kernels_side_by_side_reaching_each_other() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let s = c.launch(cluster("trio", 3, "single-node")).await;
    let id = s["id"].as_str().unwrap().to_string();
    assert_eq!(s["cluster_mode"], "single-node");
    assert_eq!(s["cluster_size"], 3);
    let s = c.wait_status(&id, "RUNNING").await;
    let names: Vec<&str> = s["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["hostname"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["main1", "sub1", "sub2"]);
    for k in s["kernels"].as_array().unwrap() {
        assert_eq!(k["agent"], "local");
        let role = if k["hostname"] == "main1" {
            "main"
        } else {
            "sub"
        };
        assert_eq!(k["role"], role);
    }
    // the main kernel reached every kernel by name and was told its place
    log_with(&c, &id, None, "cluster: main1 main 3 main1,sub1,sub2").await;
    // a sub reaches the others too, and knows who it is
    let sub2 = kernel(&s, "sub2")["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    for peer in ["main1", "sub1"] {
        let probe = format!("nc -w3 {peer} 9 2>&1 | grep -q refused");
        docker(&["exec", &sub2, "sh", "-c", &probe]).await;
    }
    let env = docker(&["inspect", "-f", "{{json .Config.Env}}", &sub2]).await;
    for want in [
        "BACKENDAI_CLUSTER_HOST=sub2",
        "BACKENDAI_CLUSTER_ROLE=sub",
        "BACKENDAI_CLUSTER_IDX=2",
        "BACKENDAI_CLUSTER_LOCAL_RANK=2",
        "BACKENDAI_CLUSTER_MODE=single-node",
    ] {
        assert!(env.contains(want), "{want} missing in {env}");
    }
    // each kernel has its own log
    let sub1 = kernel(&s, "sub1")["id"].as_str().unwrap().to_string();
    let res = c
        .get(&format!("/api/v1/sessions/{id}/logs?kernel={sub1}"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.json::<Value>().await.unwrap()["logs"]
        .as_str()
        .unwrap()
        .contains("cluster:"));
    // every kernel holds its share
    assert_eq!(cpu_used(&c, "local").await, 0.75);
    c.delete(&format!("/api/v1/sessions/{id}")).await;
    c.wait_status(&id, "TERMINATED").await;
    for k in s["kernels"].as_array().unwrap() {
        let cid = k["container_id"].as_str().unwrap();
        let left = docker(&["ps", "-aq", "--no-trunc", "--filter", &format!("id={cid}")]).await;
        assert_eq!(left, "", "{} stays", k["hostname"]);
    }
    assert_eq!(cpu_used(&c, "local").await, 0.0);
}

#[tokio::test]
async fn cluster_requests_are_checked_against_one_agent_or_each() {
    let srv = TestServer::start_with(|c| c.agent_cpu = Some(1.0)).await;
    let c = srv.admin().await;
    // single-node: 3 × 0.5 CPU on one agent of 1 CPU
    let mut req = cluster("too-big", 3, "single-node");
    req["resources"]["cpu"] = json!(0.5);
    let res = c.post("/api/v1/sessions", &req).await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&body),
        [("resources.cpu".to_string(), "exceeds_capacity".to_string())]
    );
    // an agent is chosen only for a single kernel; the size is bounded
    let mut req = cluster("pinned", 2, "single-node");
    req["agent"] = json!("local");
    let res = c.post("/api/v1/sessions", &req).await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&body),
        [("agent".to_string(), "agent_single_only".to_string())]
    );
    let res = c
        .post("/api/v1/sessions", &cluster("huge", 99, "multi-node"))
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&body),
        [("cluster_size".to_string(), "out_of_range".to_string())]
    );
    let res = c
        .post(
            "/api/v1/sessions",
            &json!({"image": BUSYBOX, "cluster_mode": "sideways"}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(field_errors(&body)[0].0, "cluster_mode");
}

#[tokio::test]
async fn a_multi_node_cluster_spreads_over_two_engines_all_or_nothing() {
    let engine = PrivateEngine::start(&[]).await;
    // the local agent is the freer one: the main kernel goes there
    let srv = TestServer::start_with(|c| c.agent_cpu = Some(4.0)).await;
    let c = srv.admin().await;
    let res = c
        .post(
            "/api/v1/agents",
            &json!({"id": "two", "docker_host": engine.host(), "resource_group": "default"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    // the premise of the first launch: both agents together hold fewer
    // than its 8 CPU
    let agents = c.get_json("/api/v1/agents").await;
    let total: f64 = agents["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["cpu_total"].as_f64().unwrap())
        .sum();
    assert!(total > 4.0 && total < 8.0, "both agents hold {total} CPU");

    // more kernels than both agents hold: it waits, holding nothing
    let mut big = cluster("too-many", 8, "multi-node");
    big["resources"]["cpu"] = json!(1.0);
    let big = c.launch(big).await;
    let big_id = big["id"].as_str().unwrap().to_string();
    let w = c
        .wait_for(&big_id, "explained", |s| {
            s["status_data"]["scheduler"]["failed_predicates"].is_array()
        })
        .await;
    assert_eq!(w["status"], "PENDING");
    assert_eq!(w["status_info"], "no-available-instances");
    assert_eq!(cpu_used(&c, "local").await, 0.0);
    assert_eq!(cpu_used(&c, "two").await, 0.0);
    c.delete(&format!("/api/v1/sessions/{big_id}")).await;

    let s = c.launch(cluster("pair", 2, "multi-node")).await;
    let id = s["id"].as_str().unwrap().to_string();
    let s = c.wait_status(&id, "RUNNING").await;
    assert_eq!(kernel(&s, "main1")["agent"], "local");
    assert_eq!(kernel(&s, "sub1")["agent"], "two");
    // the sub runs on the second engine (which got the image copied)
    let sub = kernel(&s, "sub1")["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        engine.docker(&["inspect", "-f", "{{.State.Running}}", &sub]),
        "true"
    );
    // the main kernel reached it by name across the engines
    log_with(&c, &id, None, "cluster: main1 main 2 main1,sub1").await;
    assert_eq!(cpu_used(&c, "local").await, 0.25);
    assert_eq!(cpu_used(&c, "two").await, 0.25);
    c.delete(&format!("/api/v1/sessions/{id}")).await;
    c.wait_status(&id, "TERMINATED").await;
    assert_eq!(engine.docker(&["ps", "-aq"]), "");
    assert_eq!(cpu_used(&c, "local").await, 0.0);
    assert_eq!(cpu_used(&c, "two").await, 0.0);
}
