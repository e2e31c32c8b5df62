//! What sessions hold and what the server makes of stored data: accelerators
//! are taken and given back with CPU and memory (and recounted after a
//! restart), and unreadable stored configuration ends a session with the
//! reason instead of being silently replaced by defaults.

use berth_testkit::{Api, TestServer};
use serde_json::{json, Value};

const IMAGE: &str = "berth/busybox:latest";

async fn fake_gpus(c: &Api) -> (f64, f64) {
    let agents: Value = c.get_json("/api/v1/agents").await;
    let a = &agents["items"][0];
    (
        a["accelerators_total"]["fake.gpu"].as_f64().unwrap_or(0.0),
        a["accelerators_used"]["fake.gpu"].as_f64().unwrap_or(0.0),
    )
}

#[tokio::test]
async fn accelerators_are_held_like_cpu_and_memory() {
    let srv = TestServer::start_with(|c| {
        c.agent_accelerators.insert("fake.gpu".into(), 1.0);
    })
    .await;
    let c = srv.admin().await;
    let body = json!({"image": IMAGE,
        "resources": {"cpu": 0.25, "mem": "64m", "accelerators": {"fake.gpu": 1}}});
    let first = c.launch(body.clone()).await;
    let first = first["id"].as_str().unwrap().to_string();
    c.wait_status(&first, "RUNNING").await;
    assert_eq!(fake_gpus(&c).await, (1.0, 1.0));

    // the only one is taken: the next waits, and says why
    let second = c.launch(body).await;
    let second = second["id"].as_str().unwrap().to_string();
    let waiting = c
        .wait_for(&second, "explained", |s| {
            s["status_info"] == "no-available-instances"
        })
        .await;
    assert_eq!(waiting["status"], "PENDING");
    let msg = waiting["status_data"]["scheduler"]["failed_predicates"][0]["msg"]
        .as_str()
        .unwrap();
    assert_eq!(msg, "needs 1 fake.gpu, agent local has 0 free");

    // what is held survives a restart (recounted from the sessions)
    let srv = srv.restart().await;
    let c = srv.admin().await;
    assert_eq!(fake_gpus(&c).await, (1.0, 1.0));

    // ending the first gives it back, and the second starts
    let res = c.delete(&format!("/api/v1/sessions/{first}")).await;
    assert_eq!(res.status(), 202);
    c.wait_status(&first, "TERMINATED").await;
    c.wait_status(&second, "RUNNING").await;
    assert_eq!(fake_gpus(&c).await, (1.0, 1.0));
    c.delete(&format!("/api/v1/sessions/{second}")).await;
    c.wait_status(&second, "TERMINATED").await;
    assert_eq!(fake_gpus(&c).await, (1.0, 0.0));
}

/// The `FAKE_VISIBLE_DEVICES` a kernel's container was given.
async fn visible(s: &Value, hostname: &str) -> String {
    let k = s["kernels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["hostname"] == hostname)
        .unwrap();
    let cid = k["container_id"].as_str().unwrap();
    let env = berth_testkit::docker(&["inspect", "-f", "{{json .Config.Env}}", cid]).await;
    let env: Vec<String> = serde_json::from_str(&env).unwrap();
    env.into_iter()
        .find_map(|e| e.strip_prefix("FAKE_VISIBLE_DEVICES=").map(str::to_string))
        .unwrap_or_default()
}

#[tokio::test]
async fn device_indices_are_handed_out_per_kernel_and_never_shared() {
    let srv = TestServer::start_with(|c| {
        c.agent_accelerators.insert("fake.device".into(), 3.0);
    })
    .await;
    let c = srv.admin().await;
    let body = |name: &str, n: u32, size: u32| {
        json!({"name": name, "image": IMAGE, "cluster_size": size,
               "resources": {"cpu": 0.25, "mem": "64m", "accelerators": {"fake.device": n}}})
    };
    // devices are whole
    let res = c
        .post(
            "/api/v1/sessions",
            &json!({"image": IMAGE, "resources": {"accelerators": {"fake.device": 0.5}}}),
        )
        .await;
    let p = berth_testkit::problem(res, reqwest::StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        berth_testkit::field_errors(&p),
        [(
            "resources.accelerators.fake.device".to_string(),
            "whole_devices".to_string()
        )]
    );
    // a cluster of two kernels with one device each: two different devices
    let pair = c.launch(body("pair", 1, 2)).await;
    let pair = pair["id"].as_str().unwrap().to_string();
    let p = c.wait_status(&pair, "RUNNING").await;
    let main_dev = p["kernels"][0]["devices"]["fake.device"].clone();
    let sub_dev = p["kernels"][1]["devices"]["fake.device"].clone();
    assert_eq!(main_dev, json!([0]), "{p:#}");
    assert_eq!(sub_dev, json!([1]));
    assert_eq!(visible(&p, "main1").await, "0");
    assert_eq!(visible(&p, "sub1").await, "1");
    // the last device goes to the next session; then none is left
    let one = c.launch(body("single", 1, 1)).await;
    let one = one["id"].as_str().unwrap().to_string();
    let o = c.wait_status(&one, "RUNNING").await;
    assert_eq!(o["kernels"][0]["devices"]["fake.device"], json!([2]));
    assert_eq!(visible(&o, "main1").await, "2");
    let two = c.launch(body("double", 2, 1)).await;
    let two = two["id"].as_str().unwrap().to_string();
    c.wait_for(&two, "explained", |s| {
        s["status_info"] == "no-available-instances"
    })
    .await;
    // the pair ends: its two devices go to the waiting session
    c.delete(&format!("/api/v1/sessions/{pair}")).await;
    c.wait_status(&pair, "TERMINATED").await;
    let t = c.wait_status(&two, "RUNNING").await;
    assert_eq!(t["kernels"][0]["devices"]["fake.device"], json!([0, 1]));
    assert_eq!(visible(&t, "main1").await, "0,1");
    for id in [&one, &two] {
        c.delete(&format!("/api/v1/sessions/{id}")).await;
        c.wait_status(id, "TERMINATED").await;
    }
}

#[tokio::test]
async fn unreadable_stored_configuration_ends_the_session_with_the_reason() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    // both wait for a start time an hour ahead, so the data is broken
    // before they can run; then the start time is moved to now
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let launch = |name: &str| {
        json!({"type": "batch", "name": name, "image": IMAGE, "startup_command": "true",
               "starts_at": later, "resources": {"cpu": 0.25, "mem": "64m"}})
    };
    let bad_env = c.launch(launch("bad-env")).await;
    let bad_env = bad_env["id"].as_str().unwrap();
    let bad_accel = c.launch(launch("bad-accel")).await;
    let bad_accel = bad_accel["id"].as_str().unwrap();
    let sql = |column: &str| format!("UPDATE sessions SET {column} = '{{oops' WHERE id = $1");
    assert_eq!(srv.execute_sql(&sql("env"), &[bad_env]).await, 1);
    assert_eq!(srv.execute_sql(&sql("accelerators"), &[bad_accel]).await, 1);
    let now = "UPDATE sessions SET starts_at = 0 WHERE id = $1";
    assert_eq!(srv.execute_sql(now, &[bad_env]).await, 1);

    // unreadable accelerators: never placed, ended at once
    let done = c.wait_status(bad_accel, "ERROR").await;
    assert_eq!(done["status_info"], "failed-to-start");
    let why = done["status_data"]["error"]["repr"].as_str().unwrap();
    assert!(why.starts_with("sessions.accelerators of"), "{why}");
    assert_eq!(
        done["resources"]["accelerators"],
        json!({}),
        "views show none"
    );

    // unreadable environment variables: the launch fails instead of
    // starting without them
    let done = c.wait_status(bad_env, "ERROR").await;
    assert_eq!(done["status_info"], "failed-to-start");
    let why = done["status_data"]["error"]["repr"].as_str().unwrap();
    assert!(why.starts_with("sessions.env of"), "{why}");
    let history: Vec<&str> = done["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(history, ["PENDING", "SCHEDULED", "PREPARING", "ERROR"]);
    let agents: Value = c.get_json("/api/v1/agents").await;
    assert_eq!(agents["items"][0]["cpu_used"], 0.0, "capacity given back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_concurrent_creates_never_overcommit_and_all_end_cleanly() {
    let srv = TestServer::start_with(|c| {
        c.agent_cpu = Some(1.0);
        c.agent_mem = Some(berth_shared::bytes::ByteSize(1 << 30));
    })
    .await;
    let root = srv.admin().await;
    let mut clients = Vec::new();
    for i in 0..20 {
        clients.push(srv.new_user(&format!("load{i}@test.berth"), "user").await.0);
    }
    // While it runs, sample what the agent says it holds and, on the
    // engine, the CPU of the containers that really run: a capacity given
    // back twice would let the scheduler start more than fits, which the
    // engine shows even though the server's own count cannot go below 0.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (root, done) = (root.clone(), done.clone());
        let label = format!("label=berth.instance={}", srv.instance());
        tokio::spawn(async move {
            let (mut samples, mut most) = (0, 0i64);
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let a = root.get_json("/api/v1/agents").await["items"][0].clone();
                let (used, total) = (
                    a["cpu_used"].as_f64().unwrap(),
                    a["cpu_total"].as_f64().unwrap(),
                );
                assert!(
                    used <= total + 1e-9,
                    "agent over-committed: {used} of {total}"
                );
                let mem = (
                    a["mem_used"].as_u64().unwrap(),
                    a["mem_total"].as_u64().unwrap(),
                );
                assert!(mem.0 <= mem.1, "memory over-committed: {mem:?}");
                let running = berth_testkit::docker(&[
                    "ps",
                    "-q",
                    "--filter",
                    &label,
                    "--filter",
                    "status=running",
                ])
                .await;
                let ids: Vec<&str> = running.split_whitespace().collect();
                if !ids.is_empty() {
                    // a container may end between the two calls
                    let out = tokio::process::Command::new("docker")
                        .args([
                            "inspect",
                            "-f",
                            "{{.State.Running}} {{.HostConfig.NanoCpus}}",
                        ])
                        .args(&ids)
                        .output()
                        .await
                        .unwrap();
                    let nano: i64 = String::from_utf8_lossy(&out.stdout)
                        .lines()
                        .filter_map(|l| l.strip_prefix("true "))
                        .map(|n| n.trim().parse::<i64>().unwrap())
                        .sum();
                    assert!(
                        nano <= 1_000_000_000,
                        "the engine runs {nano} nano-CPUs of a 1-CPU agent"
                    );
                    most = most.max(nano);
                }
                samples += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            (samples, most)
        })
    };
    let creates: Vec<_> = clients
        .iter()
        .cloned()
        .flat_map(|c| (0..10).map(move |_| c.clone()))
        .map(|c| {
            tokio::spawn(async move {
                let res = c
                    .post(
                        "/api/v1/sessions",
                        &json!({"image": IMAGE, "resources": {"cpu": 0.1, "mem": "32m"}}),
                    )
                    .await;
                let status = res.status().as_u16();
                let body: Value = res.json().await.unwrap_or(Value::Null);
                (status, body["items"][0]["id"].as_str().map(String::from), c)
            })
        })
        .collect();
    let mut sessions = Vec::new();
    for t in creates {
        let (status, id, c) = t.await.unwrap();
        assert!(status < 500, "a create answered {status}");
        assert_eq!(status, 201);
        sessions.push((id.unwrap(), c));
    }
    // some run (never more than fit), the rest wait. Turn them over: end
    // one that runs, so a waiting one takes its place, until 40 have ended
    // that way; then end everything.
    let owner_of: std::collections::HashMap<String, Api> = sessions.iter().cloned().collect();
    let mut ran = std::collections::HashSet::new();
    for _ in 0..1200 {
        if ran.len() >= 40 {
            break;
        }
        let mut live = Vec::new();
        for page in [1, 2] {
            let list = root
                .get_json(&format!(
                    "/api/v1/sessions?all=true&status=running&page_size=100&page={page}"
                ))
                .await;
            live.extend(list["items"].as_array().unwrap().clone());
        }
        // one at a time, once the agent is full: what is given back is
        // taken again at once, so a double give-back shows as one too many
        let running: Vec<String> = live
            .iter()
            .filter(|s| s["status"] == "RUNNING")
            .map(|s| s["id"].as_str().unwrap().to_string())
            .filter(|id| !ran.contains(id))
            .collect();
        if running.len() >= 9 {
            let id = running[0].clone();
            ran.insert(id.clone());
            let res = owner_of[&id]
                .delete(&format!("/api/v1/sessions/{id}"))
                .await;
            assert_eq!(res.status(), 202, "ending {id}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        ran.len() >= 40,
        "only {} sessions were turned over",
        ran.len()
    );
    for (id, c) in &sessions {
        let res = c.delete(&format!("/api/v1/sessions/{id}")).await;
        assert!(
            res.status() == 202 || res.status() == 409,
            "terminate answered {}",
            res.status()
        );
    }
    for (id, c) in &sessions {
        c.wait_for(id, "ended", |s| {
            s["status"] == "TERMINATED" || s["status"] == "CANCELLED"
        })
        .await;
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let (samples, most) = sampler.await.unwrap();
    println!(
        "200 concurrent creates, 40 turned over: {samples} samples, none over; \
         at most {most} nano-CPUs ran at once"
    );
    assert!(most > 0, "the sampler saw containers run");
    let a = root.get_json("/api/v1/agents").await["items"][0].clone();
    assert_eq!(a["cpu_used"], 0.0);
    for _ in 0..100 {
        if berth_testkit::containers_of(&srv.instance()).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(berth_testkit::containers_of(&srv.instance()).is_empty());
}
