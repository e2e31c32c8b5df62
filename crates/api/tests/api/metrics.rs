//! `/metrics`: a scrape after a launch counts the session, both latency
//! histograms and the request by its route template; only the host itself
//! or an admin may scrape.

use berth_testkit::{TestServer, ADMIN_EMAIL, ADMIN_PASSWORD, USER_PASSWORD};
use reqwest::StatusCode;
use serde_json::json;

/// A scrape of `srv`'s `/metrics`, from its own host: of each replica,
/// the scheduler's first (each replica counts what it does, as Prometheus
/// scrapes each; [`sample`] reads the first line of a series).
pub(crate) async fn scrape(srv: &TestServer) -> String {
    let mut all = String::new();
    for base in srv.replica_bases() {
        let res = reqwest::get(format!("{base}/metrics")).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        all.push_str(&res.text().await.unwrap());
    }
    all
}

/// The value of the sample whose line starts with `series ` (its name and
/// labels as written), if the scrape has it. A counter's (`_total`,
/// `_count`) is the sum over the replicas' scrapes, as a query summing
/// them would read; a gauge's is the first (the scheduler's).
pub(crate) fn sample(text: &str, series: &str) -> Option<f64> {
    let mut values = text
        .lines()
        .filter_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .filter_map(|v| v.trim().parse::<f64>().ok());
    let name = series.split('{').next().unwrap_or(series);
    if name.ends_with("_total") || name.ends_with("_count") {
        values.clone().next()?;
        Some(values.sum())
    } else {
        values.next()
    }
}

#[tokio::test]
async fn a_launch_is_counted_with_its_latencies_and_its_requests_by_template() {
    let srv = TestServer::start().await;
    let api = srv.admin().await;
    let s = api
        .launch(json!({"name": "counted", "image": "berth/busybox:latest",
                       "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    api.wait_status(&id, "RUNNING").await;
    let _ = api.get_json(&format!("/api/v1/sessions/{id}")).await;

    let res = srv.client().get("/metrics").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = scrape(&srv).await;
    assert_eq!(
        sample(
            &text,
            r#"berth_sessions{status="RUNNING",resource_group="default"}"#
        ),
        Some(1.0),
        "{text}"
    );
    for histogram in [
        "berth_scheduling_latency_seconds_count",
        "berth_start_latency_seconds_count",
    ] {
        assert!(
            sample(&text, histogram).is_some_and(|n| n >= 1.0),
            "{histogram}: {text}"
        );
    }
    assert_eq!(
        sample(&text, r#"berth_agent_up{agent="local"}"#),
        Some(1.0),
        "{text}"
    );
    assert!(
        sample(&text, r#"berth_agent_cpu{agent="local",kind="used"}"#).is_some_and(|c| c >= 0.25),
        "{text}"
    );
    assert!(
        text.contains(
            r#"berth_http_requests_total{route="/api/v1/sessions/{id}",method="GET",status="200"}"#
        ),
        "{text}"
    );
    // a route template, never the path: no session id in any label
    assert!(!text.contains(&id), "{text}");
    assert!(sample(&text, "berth_process_resident_memory_bytes").is_some_and(|b| b > 0.0));
    let _ = api.delete(&format!("/api/v1/sessions/{id}")).await;
}

#[tokio::test]
async fn only_the_host_itself_or_an_admin_may_scrape() {
    // (a trusted proxy in front: the client is the forwarded address)
    let srv =
        TestServer::start_with(|c| c.trusted_proxy = vec!["127.0.0.1/32".parse().unwrap()]).await;
    srv.new_user("una@test.berth", "user").await;
    let far = |who: &str| srv.client_with(&[("x-forwarded-for", who)]);
    assert_eq!(
        far("203.0.113.9").get("/metrics").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let user = far("203.0.113.10");
    assert!(user
        .try_login("una@test.berth", USER_PASSWORD)
        .await
        .status()
        .is_success());
    assert_eq!(user.get("/metrics").await.status(), StatusCode::FORBIDDEN);
    let admin = far("203.0.113.11");
    assert!(admin
        .try_login(ADMIN_EMAIL, ADMIN_PASSWORD)
        .await
        .status()
        .is_success());
    assert_eq!(admin.get("/metrics").await.status(), StatusCode::OK);
    // the host itself, as it always may
    assert_eq!(srv.client().get("/metrics").await.status(), StatusCode::OK);
}
