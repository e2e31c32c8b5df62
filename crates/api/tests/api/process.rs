//! The real binary as a process: SIGTERM with open event streams, the
//! printed first password, and kill -9 while sessions launch.

use std::time::Duration;

use berth_testkit::ServerProcess;
use futures_util::StreamExt;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const IMAGE: &str = "berth/busybox:latest";

#[tokio::test]
async fn sigterm_with_open_event_streams_exits_within_the_grace() {
    // a grace far longer than a clean stop takes: a stream that held the
    // shutdown would keep the process until the grace ends; networks of
    // their own, whose removal at the stop is checked too
    let mut srv =
        ServerProcess::start(BIN, &["--shutdown-grace-secs", "120", "--own-networks"]).await;
    let c = srv.admin().await;
    let s = c
        .launch(json!({"image": IMAGE, "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    c.wait_status(&id, "RUNNING").await;
    // a second session ends: its network waits, free, for the next launch
    let other = c
        .launch(json!({"image": IMAGE, "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let other = other["id"].as_str().unwrap().to_string();
    c.wait_status(&other, "RUNNING").await;
    c.delete(&format!("/api/v1/sessions/{other}")).await;
    c.wait_status(&other, "TERMINATED").await;
    let label = format!("berth.instance={}", srv.instance());
    assert_eq!(berth_testkit::networks_settle(&label, 2).await.len(), 2);

    // two browser tabs following events
    let mut streams = Vec::new();
    for q in ["", "?all=true"] {
        let res = c.get(&format!("/api/v1/events{q}")).await;
        assert_eq!(res.status(), 200);
        streams.push(res.bytes_stream());
    }
    srv.signal("TERM").await;
    let status = srv
        .wait_exit(Duration::from_secs(60))
        .await
        .unwrap_or_else(|| {
            panic!(
                "still running 60 s after SIGTERM (the grace is 120 s): \
             the open event streams hold the shutdown\n{}",
                srv.output()
            )
        });
    assert!(status.success(), "a clean exit: {status}\n{}", srv.output());
    for mut s in streams {
        // the stream ends (the server is gone); never hangs
        let end = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(Ok(_)) = s.next().await {}
        })
        .await;
        assert!(end.is_ok(), "an event stream outlived the server");
    }
    // the free network went with the server; the running session's stays
    let left = berth_testkit::networks_settle(&label, 1).await;
    assert_eq!(left.len(), 1, "{left:?}");

    // nothing half-done: the session is still RUNNING with its container
    srv.start_again().await;
    let c = srv.admin().await;
    let again = c.get_json(&format!("/api/v1/sessions/{id}")).await;
    assert_eq!(again["status"], "RUNNING", "{again:#}");
    assert_eq!(
        c.delete(&format!("/api/v1/sessions/{id}")).await.status(),
        202
    );
    c.wait_status(&id, "TERMINATED").await;
}

#[tokio::test]
async fn the_first_password_is_printed_once_and_works() {
    let mut srv = ServerProcess::start_with_env(BIN, &[], &[]).await;
    let out = srv.output();
    let pw = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("password:"))
        .unwrap_or_else(|| panic!("no password printed:\n{out}"))
        .trim()
        .to_string();
    assert!(pw.len() >= 16, "a strong generated password: {pw:?}");
    let c = srv.client();
    let res = c.try_login(berth_testkit::ADMIN_EMAIL, &pw).await;
    assert_eq!(res.status(), 200, "the printed password signs in");
    // a second start prints no password: the admin exists
    srv.signal("TERM").await;
    srv.wait_exit(Duration::from_secs(30)).await.expect("exits");
    srv.start_again().await;
    assert!(!srv.output().contains("password:"), "{}", srv.output());
}

/// Resident memory of a process, in MiB.
fn rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

#[tokio::test]
async fn a_login_flood_keeps_memory_bounded_and_health_answers() {
    let srv = ServerProcess::start(BIN, &[]).await;
    let admin = srv.admin().await;
    admin
        .post_json(
            "/api/v1/users",
            &json!({"email": "victim@test.berth", "password": "victim-password-1",
                    "full_name": "Victim", "role": "user"}),
        )
        .await;
    let pid = srv.pid();
    let before = rss_mib(pid);
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(before));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        tokio::spawn(async move {
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                peak.fetch_max(rss_mib(pid), std::sync::atomic::Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let health = {
        let (base, done) = (srv.base.clone(), done.clone());
        tokio::spawn(async move {
            let (mut ok, mut slowest) = (0u32, Duration::ZERO);
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let t = std::time::Instant::now();
                let res = reqwest::get(format!("{base}/healthz")).await.unwrap();
                assert_eq!(res.status(), 200);
                ok += 1;
                slowest = slowest.max(t.elapsed());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (ok, slowest)
        })
    };
    let flood: Vec<_> = (0..400)
        .map(|i| {
            let c = srv.client();
            tokio::spawn(async move {
                let res = c
                    .try_login("victim@test.berth", &format!("wrong-password-{i}"))
                    .await;
                let retry = res.headers().get("retry-after").is_some();
                (res.status().as_u16(), retry)
            })
        })
        .collect();
    let mut counts = std::collections::BTreeMap::new();
    for f in flood {
        let (status, retry) = f.await.unwrap();
        assert!(status == 401 || (status == 429 && retry), "status {status}");
        *counts.entry(status).or_insert(0u32) += 1;
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    sampler.await.unwrap();
    let (health_ok, slowest) = health.await.unwrap();
    let peak = peak.load(std::sync::atomic::Ordering::SeqCst);
    println!(
        "login flood: 400 wrong logins -> {counts:?}; RSS {before} MiB before, peak {peak} MiB; \
         /healthz answered {health_ok} times, slowest {slowest:?}"
    );
    assert!(
        counts.contains_key(&429),
        "the flood is throttled: {counts:?}"
    );
    assert!(health_ok > 0);
    assert!(
        peak < before + 100,
        "hashing is bounded: RSS went from {before} to {peak} MiB"
    );
    // the real user, from another address, still signs in
    let other = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    let res = other
        .post(format!("{}/api/v1/auth/login", srv.base))
        .json(&json!({"email": "victim@test.berth", "password": "victim-password-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "no lock-out from another address");
}

/// The sessions of a list page (admin: everyone's).
async fn all_sessions(c: &berth_testkit::Api) -> Vec<serde_json::Value> {
    let list = c.get_json("/api/v1/sessions?page_size=100").await;
    list["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn kill_9_while_twenty_sessions_launch_leaves_nothing_behind() {
    let mut srv = ServerProcess::start(BIN, &[]).await;
    let c = srv.admin().await;
    let res = c
        .post(
            "/api/v1/sessions",
            &json!({"image": IMAGE, "count": 20, "resources": {"cpu": 0.1, "mem": "32m"}}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    // Kill at a proven point: freeze the server mid-launch (creates it sent
    // still reach the engine, but it cannot record them) and kill it only
    // once a container exists whose kernel has no recorded container id;
    // else let it go on and look again.
    let label = format!("label=berth.instance={}", srv.instance());
    let mut proven = None;
    for _ in 0..300 {
        srv.signal("STOP").await;
        for _ in 0..10 {
            let made = berth_testkit::docker(&[
                "ps",
                "-a",
                "--filter",
                &label,
                "--format",
                "{{.Label \"berth.kernel\"}}",
            ])
            .await;
            let unrecorded = srv
                .sql_strings("SELECT id FROM kernels WHERE container_id IS NULL")
                .await;
            proven = made
                .lines()
                .find(|k| unrecorded.iter().any(|u| u == k))
                .map(String::from);
            if proven.is_some() || unrecorded.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if proven.is_some() {
            break;
        }
        srv.signal("CONT").await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let kernel = proven.expect("a launch caught between its container's create and its record");
    println!("killed with kernel {kernel}'s container made but not recorded");
    srv.signal("KILL").await;
    srv.wait_exit(Duration::from_secs(30))
        .await
        .expect("killed");
    srv.start_again().await;
    let c = srv.admin().await;

    // every session settles: RUNNING, or an explained ERROR
    let mut sessions = Vec::new();
    for _ in 0..600 {
        sessions = all_sessions(&c).await;
        let settled = sessions
            .iter()
            .all(|s| s["status"] == "RUNNING" || s["status"] == "ERROR");
        if settled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(sessions.len(), 20);
    let (mut running, mut errors) = (0, 0);
    let mut cpu = 0.0;
    for s in &sessions {
        match s["status"].as_str().unwrap() {
            "RUNNING" => {
                running += 1;
                cpu += s["resources"]["cpu"].as_f64().unwrap();
                let cid = s["kernels"][0]["container_id"]
                    .as_str()
                    .expect("its container");
                let running =
                    berth_testkit::docker(&["inspect", "--format", "{{.State.Running}}", cid])
                        .await;
                assert_eq!(running, "true");
            }
            "ERROR" => {
                errors += 1;
                println!("ERROR: {}", s["status_data"]);
                assert!(
                    s["status_data"]["error"]["repr"].is_string(),
                    "an ERROR says why: {s:#}"
                );
            }
            other => panic!("unsettled {other}: {s:#}"),
        }
    }
    println!("kill -9 during 20 launches: {running} RUNNING, {errors} ERROR after restart");
    // nothing had run yet: an interrupted launch resumes (taking over what
    // the engine finished after the kill) instead of failing
    assert_eq!(errors, 0, "every interrupted launch resumes");
    // no container without a live session
    let containers = berth_testkit::containers_of(&srv.instance());
    assert_eq!(
        containers.len(),
        running,
        "one container per RUNNING session"
    );
    // no capacity held by a session that is not live
    let agents = c.get_json("/api/v1/agents").await;
    let used = agents["items"][0]["cpu_used"].as_f64().unwrap();
    assert!(
        (used - cpu).abs() < 1e-6,
        "agent holds {used}, RUNNING sessions {cpu}"
    );

    for s in &sessions {
        if s["status"] == "RUNNING" {
            let id = s["id"].as_str().unwrap();
            assert_eq!(
                c.delete(&format!("/api/v1/sessions/{id}")).await.status(),
                202
            );
        }
    }
    let mut states = Vec::new();
    for _ in 0..600 {
        states = all_sessions(&c)
            .await
            .iter()
            .map(|s| format!("{} {}", s["status"], s["status_info"]))
            .collect();
        if !states.iter().any(|s| s.contains("TERMINATING")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let left = berth_testkit::containers_of(&srv.instance());
    assert!(left.is_empty(), "{left:?}\n{states:?}\n{}", srv.output());
    let agents = c.get_json("/api/v1/agents").await;
    assert_eq!(
        agents["items"][0]["cpu_used"],
        0.0,
        "{states:?}\n{}",
        srv.output()
    );
    let label = format!("berth.instance={}", srv.instance());
    // at most the few kept for the next launches are left
    let networks = berth_testkit::networks_settle(&label, 4).await;
    assert!(networks.len() <= 4, "networks left: {networks:?}");
}

#[tokio::test]
async fn json_logs_carry_each_request_id_that_the_answer_carries_too() {
    let srv = ServerProcess::start(BIN, &["--log-format", "json"]).await;
    let c = srv.admin().await;
    let res = c.get("/api/v1/sessions/no-such-session").await;
    assert_eq!(res.status(), 404);
    let id = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "a UUID when the caller named none: {id}");
    // a caller's own fair id is kept; one too long or odd is replaced
    let mine = c
        .http()
        .get(c.url("/api/v1/auth/me"))
        .header("x-request-id", "trace-42.a_b")
        .send()
        .await
        .unwrap();
    assert_eq!(mine.headers()["x-request-id"], "trace-42.a_b");
    let odd = c
        .http()
        .get(c.url("/api/v1/auth/me"))
        .header("x-request-id", "x".repeat(65))
        .send()
        .await
        .unwrap();
    let replaced = odd.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(replaced.len(), 36, "{replaced}");
    // the request's own log line, as JSON, names the same id
    let mut line = None;
    for _ in 0..100 {
        line = srv
            .output()
            .lines()
            .find(|l| l.contains(&id))
            .map(str::to_string);
        if line.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let line = line.unwrap_or_else(|| panic!("no log line with {id}:\n{}", srv.output()));
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["span"]["request_id"], id.as_str(), "{line}");
    assert_eq!(v["span"]["path"], "/api/v1/sessions/no-such-session");
    assert!(
        srv.output()
            .lines()
            .filter(|l| !l.trim().is_empty() && l.starts_with('{'))
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()),
        "every log line is one JSON object"
    );
}
