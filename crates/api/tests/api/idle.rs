//! The idle rules on the real engine, with timeouts of seconds: the
//! network rule ends an idle session (after warning its owner) and spares
//! one kept busy through the proxy; a lifetime from the owner's policy ends
//! interactive and batch sessions; the utilization rule ends an idle
//! session after its grace period and spares one running `yes`; a batch
//! session obeys only the lifetime and its own run time; each session
//! reports its rules.

use std::time::Duration;

use berth_testkit::{events_until, Api, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const BUSYBOX: &str = "berth/busybox:latest";

async fn launch(c: &Api, name: &str) -> String {
    let s = c
        .launch(json!({"name": name, "image": BUSYBOX, "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    c.wait_status(&id, "RUNNING").await;
    id
}

async fn status(c: &Api, id: &str) -> Value {
    c.get_json(&format!("/api/v1/sessions/{id}")).await
}

/// The session once the idle task has reported on it.
async fn reported(c: &Api, id: &str) -> Value {
    c.wait_for(id, "an idle report", |s| s["idle_checks"].is_object())
        .await
}

#[tokio::test]
async fn the_network_rule_warns_then_ends_an_idle_session_and_spares_a_used_one() {
    let srv = TestServer::start_with(|c| {
        c.app_ports = (31300, 31309);
        c.idle_check_interval_ms = 250;
        // long against what it races: the first report (one check, 250 ms
        // after RUNNING) and opening the other session's app
        c.idle_network_timeout_secs = 8;
        c.idle_warn_before_secs = 2;
    })
    .await;
    let c = srv.admin().await;
    let mut stream = c.get("/api/v1/events").await.bytes_stream();
    let idle = launch(&c, "left-alone").await;
    // the report, read first: the network rule with its threshold and time left
    let checks = reported(&c, &idle).await["idle_checks"].clone();
    assert_eq!(checks["network_timeout"]["threshold"], 8);
    assert_eq!(
        checks["network_timeout"]["remaining_time_type"],
        "expire_after"
    );
    assert!(checks.get("utilization").is_none() && checks.get("session_lifetime").is_none());
    let used = launch(&c, "kept-busy").await;
    let opened = c
        .post_json(&format!("/api/v1/sessions/{used}/apps/httpd"), &json!({}))
        .await;
    // the launch code becomes the app's cookie in this client
    let launched = c
        .http()
        .get(opened["launch_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(launched.status().is_success());
    let url = opened["app"]["open"]["url"].as_str().unwrap().to_string();

    // traffic through the proxy keeps one alive while the other is left alone
    let keep = {
        let http = c.http().clone();
        tokio::spawn(async move {
            loop {
                let _ = http.get(&url).send().await;
                // a body, so bytes go to the app too (`/metrics` below)
                let _ = http.post(&url).body("x".repeat(1000)).send().await;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        })
    };
    let seen = events_until(&mut stream, &idle, |e| e["status"] == "TERMINATED").await;
    let warning = seen
        .iter()
        .position(|e| e["warning"]["rule"] == "network_timeout")
        .expect("a warning before the end");
    let terminating = seen
        .iter()
        .position(|e| e["status"] == "TERMINATING")
        .expect("TERMINATING");
    assert!(warning < terminating, "{seen:?}");
    assert_eq!(
        seen.iter().filter(|e| e["warning"].is_object()).count(),
        1,
        "warned once per approach"
    );
    let ended = c.wait_status(&idle, "TERMINATED").await;
    assert_eq!(ended["status_info"], "idle-timeout");
    assert_eq!(ended["status_data"]["idle"]["rule"], "network_timeout");
    assert_eq!(ended["status_data"]["idle"]["threshold"], 8);
    assert_eq!(
        ended["idle_checks"],
        Value::Null,
        "ended sessions report nothing"
    );
    // /metrics counts the reclaim by its rule, the open app, and the
    // proxy's bytes each way
    let m = crate::metrics::scrape(&srv).await;
    let at = |series: &str| crate::metrics::sample(&m, series).unwrap_or(0.0);
    assert_eq!(
        at(r#"berth_idle_reclaims_total{rule="network_timeout"}"#),
        1.0,
        "{m}"
    );
    assert_eq!(at("berth_open_apps"), 1.0, "{m}");
    assert!(
        at(r#"berth_proxy_bytes_total{direction="to_app"}"#) > 0.0,
        "{m}"
    );
    assert!(
        at(r#"berth_proxy_bytes_total{direction="from_app"}"#) > 0.0,
        "{m}"
    );

    // the used one has outlived the idle one by one more timeout
    tokio::time::sleep(Duration::from_secs(8)).await;
    assert_eq!(status(&c, &used).await["status"], "RUNNING");
    keep.abort();
    c.delete(&format!("/api/v1/sessions/{used}")).await;
    c.wait_status(&used, "TERMINATED").await;
}

#[tokio::test]
async fn reports_count_from_each_read_and_a_warning_is_lifted_when_the_session_is_used() {
    let srv = TestServer::start_with(|c| {
        c.app_ports = (31310, 31319);
        c.idle_check_interval_ms = 250;
        c.idle_network_timeout_secs = 30;
        // warned after 4 s without traffic
        c.idle_warn_before_secs = 26;
    })
    .await;
    let c = srv.admin().await;
    let mut stream = c.get("/api/v1/events").await.bytes_stream();
    let id = launch(&c, "comes-back").await;
    // the first read after RUNNING has the timers (not after a round)
    let first = status(&c, &id).await;
    let at = |s: &Value| {
        chrono::DateTime::parse_from_rfc3339(s["idle_checks"]["at"].as_str().unwrap())
            .unwrap()
            .timestamp_millis() as f64
            / 1000.0
    };
    let left = |s: &Value| {
        s["idle_checks"]["network_timeout"]["remaining"]
            .as_f64()
            .unwrap()
    };
    assert!(
        first["idle_checks"]["network_timeout"].is_object(),
        "{first}"
    );
    // one clock: each read is judged at its own moment, so the end it
    // implies (when + what is left) is the same for every read
    let later = c.get_json("/api/v1/sessions?status=running").await["items"][0].clone();
    let usage = c.get_json(&format!("/api/v1/sessions/{id}/usage")).await;
    for other in [&later, &usage] {
        assert!(at(other) >= at(&first));
        let drift = (at(other) + left(other)) - (at(&first) + left(&first));
        assert!(
            drift.abs() < 0.002,
            "the end moved by {drift} s: {first} / {other}"
        );
    }

    // warned once it has been left alone; used again, the warning is lifted
    let seen = events_until(&mut stream, &id, |e| e["warning"].is_object()).await;
    let warned = seen.last().unwrap();
    assert_eq!(warned["warning"]["rule"], "network_timeout");
    assert!(warned["warning"].get("lifted").is_none(), "{warned}");
    let opened = c
        .post_json(&format!("/api/v1/sessions/{id}/apps/httpd"), &json!({}))
        .await;
    let launched = c
        .http()
        .get(opened["launch_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(launched.status().is_success());
    let url = opened["app"]["open"]["url"].as_str().unwrap();
    let _ = c.http().get(url).send().await.unwrap();
    let seen = events_until(&mut stream, &id, |e| e["warning"]["lifted"] == true).await;
    let lifted = seen.last().unwrap();
    assert_eq!(lifted["status"], "RUNNING");
    assert_eq!(lifted["warning"]["rule"], "network_timeout");
    assert!(
        lifted["warning"]["remaining"].as_f64().unwrap() > 26.0,
        "{lifted}"
    );
    // and left alone again, it is warned again (once per approach)
    let seen = events_until(&mut stream, &id, |e| e["warning"].is_object()).await;
    assert!(seen.last().unwrap()["warning"].get("lifted").is_none());
    c.delete(&format!("/api/v1/sessions/{id}")).await;
    c.wait_status(&id, "TERMINATED").await;
}

#[tokio::test]
async fn the_owners_policy_sets_a_lifetime_for_interactive_and_batch_sessions() {
    let srv = TestServer::start_with(|c| {
        c.idle_check_interval_ms = 250;
        c.idle_network_timeout_secs = 1;
        c.idle_warn_before_secs = 3;
    })
    .await;
    let admin = srv.admin().await;
    let (ana, user) = srv.new_user("ana@test.berth", "user").await;
    let mut stream = ana.get("/api/v1/events").await.bytes_stream();
    let res = admin
        .post(
            "/api/v1/resource-policies",
            &json!({"name": "short", "max_concurrent_sessions": 0, "max_total_cpu": 0,
                    "max_total_mem": 0, "max_session_lifetime": 8, "idle_timeout": 0}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = admin
        .patch(
            &format!("/api/v1/users/{}", user["id"].as_str().unwrap()),
            &json!({"resource_policy": "short"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // idle_timeout 0 turns the server's network rule off for this policy
    let interactive = launch(&ana, "short-lived").await;
    let checks = reported(&ana, &interactive).await["idle_checks"].clone();
    assert_eq!(checks["session_lifetime"]["threshold"], 8);
    assert!(checks.get("network_timeout").is_none(), "{checks}");
    let batch = ana
        .launch(
            json!({"type": "batch", "name": "long-batch", "image": BUSYBOX,
                       "startup_command": "sleep 600", "resources": {"cpu": 0.25, "mem": "64m"}}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    // the owner is warned before the lifetime ends it
    let seen = events_until(&mut stream, &interactive, |e| e["status"] == "TERMINATED").await;
    let warning = seen
        .iter()
        .position(|e| e["warning"]["rule"] == "session_lifetime")
        .unwrap_or_else(|| panic!("a lifetime warning: {seen:?}"));
    let terminating = seen
        .iter()
        .position(|e| e["status"] == "TERMINATING")
        .expect("TERMINATING");
    assert!(warning < terminating, "{seen:?}");
    for id in [&interactive, &batch] {
        let ended = ana.wait_status(id, "TERMINATED").await;
        assert_eq!(ended["status_info"], "max-lifetime-exceeded", "{ended}");
        assert_eq!(ended["status_data"]["idle"]["threshold"], 8);
        assert!(
            ended["status_data"]["idle"]["age"].as_i64().unwrap() >= 8,
            "{ended}"
        );
    }
}

#[tokio::test]
async fn a_batch_session_ignores_the_network_and_utilization_rules() {
    let srv = TestServer::start_with(|c| {
        c.idle_check_interval_ms = 250;
        c.idle_network_timeout_secs = 1;
        c.idle_utilization = [("cpu_util".to_string(), 50.0)].into();
        c.idle_utilization_window_secs = 1;
        c.idle_grace_period_secs = 0;
    })
    .await;
    let c = srv.admin().await;
    let id = c
        .launch(
            json!({"type": "batch", "name": "quiet-batch", "image": BUSYBOX,
                       "startup_command": "sleep 5", "resources": {"cpu": 0.25, "mem": "64m"}}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let ended = c.wait_status(&id, "TERMINATED").await;
    assert_ne!(ended["status_info"], "idle-timeout");
    assert_ne!(ended["status_info"], "idle-utilization");
    assert_eq!(ended["kernels"][0]["exit_code"], 0, "{ended}");
}

#[tokio::test]
async fn the_utilization_rule_ends_an_idle_session_after_grace_and_spares_a_busy_one() {
    let srv = TestServer::start_with(|c| {
        c.idle_check_interval_ms = 250;
        c.idle_utilization = [("cpu_util".to_string(), 10.0)].into();
        c.idle_utilization_window_secs = 3;
        // long against its first report (one check, 250 ms after RUNNING)
        c.idle_grace_period_secs = 6;
        c.idle_warn_before_secs = 2;
    })
    .await;
    let c = srv.admin().await;
    let mut stream = c.get("/api/v1/events").await.bytes_stream();
    let busy = launch(&c, "spinning").await;
    let cid = status(&c, &busy).await["kernels"][0]["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    let spun = tokio::process::Command::new("docker")
        .args(["exec", "-d", &cid, "sh", "-c", "yes > /dev/null"])
        .status()
        .await
        .unwrap();
    assert!(spun.success());
    let idle = launch(&c, "sleeping").await;
    let first = reported(&c, &idle).await["idle_checks"]["utilization"].clone();
    assert_eq!(first["operator"], "and");
    assert_eq!(first["window"], 3);
    assert_eq!(first["resources"]["cpu_util"]["threshold"], 10.0);
    // the owner is warned before the rule ends it
    let seen = events_until(&mut stream, &idle, |e| e["status"] == "TERMINATED").await;
    let warning = seen
        .iter()
        .position(|e| e["warning"]["rule"] == "utilization")
        .unwrap_or_else(|| panic!("a utilization warning: {seen:?}"));
    let terminating = seen
        .iter()
        .position(|e| e["status"] == "TERMINATING")
        .expect("TERMINATING");
    assert!(warning < terminating, "{seen:?}");
    let ended = c.wait_status(&idle, "TERMINATED").await;
    assert_eq!(ended["status_info"], "idle-utilization");
    let decided = &ended["status_data"]["idle"];
    assert_eq!(decided["rule"], "utilization");
    let avg = decided["resources"]["cpu_util"]["average"]
        .as_f64()
        .unwrap();
    assert!(avg < 10.0, "{decided}");
    // the busy one was judged as long and more: it runs on
    tokio::time::sleep(Duration::from_secs(4)).await;
    let still = status(&c, &busy).await;
    assert_eq!(still["status"], "RUNNING");
    let avg = still["idle_checks"]["utilization"]["resources"]["cpu_util"]["average"]
        .as_f64()
        .unwrap();
    assert!(avg > 10.0, "{still}");
    c.delete(&format!("/api/v1/sessions/{busy}")).await;
    c.wait_status(&busy, "TERMINATED").await;
}
