//! Two `berth serve` processes on one PostgreSQL act as one system: 200
//! creates alternate between them while the capacity in use is sampled
//! against the real containers; the one holding the scheduler's lease is
//! killed with `kill -9` halfway; the other takes over. Nothing is lost,
//! nothing is placed twice, nothing is left behind. Prints the takeover
//! time. Runs in the PostgreSQL pass of `scripts/test.sh` (which sets
//! `BERTH_TEST_POSTGRES`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_testkit::{Api, ServerProcess};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const IMAGE: &str = "berth/busybox:latest";
/// What the local agent offers, and what each session asks: 10 at once.
const AGENT_CPU: f64 = 1.0;
const SESSION_CPU: f64 = 0.1;
const CREATES: usize = 200;

/// One batch session that ends at once; while the owner's queue is full
/// (100 waiting), asked again a moment later, as a script would.
async fn create(c: &Api, n: usize) -> Result<String, String> {
    for _ in 0..600 {
        match create_once(c, n).await {
            Err(e) if e.contains("quota_exceeded") => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
    Err("the queue never had room".into())
}

async fn create_once(c: &Api, n: usize) -> Result<String, String> {
    let res = c
        .http()
        .post(c.url("/api/v1/sessions"))
        .json(&json!({
            "type": "batch", "name": format!("run-{n}"), "image": IMAGE,
            "startup_command": "true",
            "resources": {"cpu": SESSION_CPU, "mem": "32m"},
        }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status();
    let body: Value = res.json().await.map_err(|e| e.to_string())?;
    match body["items"][0]["id"].as_str() {
        Some(id) if status == 201 => Ok(id.to_string()),
        _ => Err(format!("{status}: {body}")),
    }
}

/// The instance's containers running now.
async fn running(instance: &str) -> usize {
    berth_testkit::docker(&[
        "ps",
        "-q",
        "--filter",
        &format!("label=berth.instance={instance}"),
        "--filter",
        "status=running",
    ])
    .await
    .lines()
    .count()
}

#[tokio::test]
async fn two_replicas_take_200_creates_and_one_takes_over_from_a_killed_scheduler() {
    let Some(database) = berth_testkit::postgres_database().await else {
        panic!("this test needs BERTH_TEST_POSTGRES (scripts/test.sh sets it)");
    };
    let args = ["--agent-cpu", "1", "--agent-mem", "4g"];
    let mut first = ServerProcess::start_on(BIN, &args, &database).await;
    let second = ServerProcess::start_on(BIN, &args, &database).await;
    assert_eq!(first.instance(), second.instance(), "one system");
    assert_eq!(first.schedules().await, Some(true));
    assert_eq!(second.schedules().await, Some(false));
    let (a, b) = (first.admin().await, second.admin().await);
    // a login made on one is good on the other
    let token = {
        let res = a
            .post("/api/v1/auth/tokens", &json!({"name": "both"}))
            .await;
        let body: Value = res.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    };
    let res = second
        .client()
        .http()
        .get(format!("{}/api/v1/auth/me", second.base))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        200,
        "a token made on one replica works on the other"
    );

    // the capacity in use, sampled against the engine, never passes the
    // agent's
    let instance = first.instance();
    let mut watcher = tokio::process::Command::new("docker")
        .args([
            "events",
            "--filter",
            &format!("label=berth.instance={instance}"),
            "--filter",
            "event=create",
            "--format",
            "{{index .Actor.Attributes \"berth.session\"}}",
        ])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("docker events runs");
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (instance, sampling) = (instance.clone(), sampling.clone());
        tokio::spawn(async move {
            let mut most = 0usize;
            let mut samples = 0u32;
            while sampling.load(Ordering::SeqCst) {
                let n = running(&instance).await;
                most = most.max(n);
                samples += 1;
                assert!(
                    n as f64 * SESSION_CPU <= AGENT_CPU + 1e-9,
                    "{n} containers run at once: more than the agent's {AGENT_CPU} CPU holds"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (most, samples)
        })
    };

    // the first half alternates; the lease holder dies halfway
    let mut ids = Vec::new();
    for n in 0..CREATES / 2 {
        let c = if n % 2 == 0 { &a } else { &b };
        ids.push(create(c, n).await.expect("a create is taken"));
    }
    first.signal("KILL").await;
    let killed = Instant::now();
    first
        .wait_exit(Duration::from_secs(30))
        .await
        .expect("killed");
    // the other takes the lease over
    let mut took_over = None;
    for _ in 0..600 {
        if second.schedules().await == Some(true) {
            took_over = Some(killed.elapsed());
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took_over = took_over.expect("the other replica never took the scheduler's lease");
    println!(
        "bench replicas: scheduler takeover after kill -9: {} ms",
        took_over.as_millis()
    );
    // the second half goes to the survivor (a balancer stops sending to
    // the dead one)
    for n in CREATES / 2..CREATES {
        ids.push(create(&b, n).await.expect("a create is taken"));
    }

    // every session ends, exactly once, having run
    let mut sessions: Vec<Value> = Vec::new();
    for _ in 0..1200 {
        let mut all = Vec::new();
        let mut page = 1;
        loop {
            let list = b
                .get_json(&format!("/api/v1/sessions?page_size=100&page={page}"))
                .await;
            let items = list["items"].as_array().cloned().unwrap_or_default();
            let more = items.len() == 100;
            all.extend(items);
            if !more {
                break;
            }
            page += 1;
        }
        sessions = all;
        if sessions.len() == CREATES
            && sessions
                .iter()
                .all(|s| s["status"] == "TERMINATED" || s["status"] == "ERROR")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    sampling.store(false, Ordering::SeqCst);
    let (most, samples) = sampler.await.expect("the sampler held");
    println!("capacity sampled {samples} times; at most {most} sessions ran at once");
    assert_eq!(sessions.len(), CREATES, "nothing lost");
    let not_ok: Vec<_> = sessions
        .iter()
        .filter(|s| s["status"] != "TERMINATED" || s["status_info"] != "self-terminated")
        .map(|s| format!("{} {} {}", s["name"], s["status"], s["status_info"]))
        .collect();
    assert!(
        not_ok.is_empty(),
        "sessions that did not run to their end: {not_ok:?}"
    );
    for id in &ids {
        assert!(sessions.iter().any(|s| s["id"] == *id), "{id} is lost");
    }

    // each kernel's container was made once (the engine's own record,
    // followed from before the first create)
    let _ = watcher.start_kill();
    let out = watcher.wait_with_output().await.expect("docker events ran");
    let created = String::from_utf8_lossy(&out.stdout).to_string();
    let mut per_session: HashMap<&str, u32> = HashMap::new();
    for s in created.lines() {
        *per_session.entry(s).or_default() += 1;
    }
    for id in &ids {
        assert_eq!(
            per_session.get(id.as_str()).copied(),
            Some(1),
            "session {id}'s container was made {:?} times",
            per_session.get(id.as_str())
        );
    }
    // and nothing is left on the engine
    let mut left = String::new();
    for _ in 0..200 {
        left = berth_testkit::docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=berth.instance={instance}"),
        ])
        .await;
        if left.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(left.is_empty(), "orphan containers: {left}");
    drop(second);
}
