//! `make bench` (cargo bench -p berth-api --bench list): figures, not
//! assertions. The release binary as a process with SQLite and 100 ended
//! sessions stored; 64 concurrent connections on
//! `GET /api/v1/sessions?status=finished&page_size=50` (goal ≥ 5,000 req/s,
//! p99 ≤ 20 ms), on `GET /auth/me` (a plain authenticated request, the
//! ratio's base) and on `GET /healthz`; the server's RSS idle, and with
//! 1,000 sessions stored and listed (goals ≤ 40 MB, ≤ 120 MB). With
//! `BERTH_TEST_POSTGRES`, also `GET /auth/me` and `GET /healthz` on two
//! replicas sharing one PostgreSQL database, half the connections to each
//! (an API request first waits until its replica heard the other's notes;
//! `/healthz` does not).

use std::time::{Duration, Instant};

use berth_testkit::ServerProcess;
use serde_json::json;

const CONNECTIONS: usize = 64;
const PER_CONNECTION: usize = 150;

struct Run {
    per_s: f64,
    p50: Duration,
    p99: Duration,
}

async fn load(client: &reqwest::Client, url: &str, token: &str) -> Run {
    load_spread(client, &[url], token).await
}

/// Like [`load`], the connections spread over `urls` in turn.
async fn load_spread(client: &reqwest::Client, urls: &[&str], token: &str) -> Run {
    let start = Instant::now();
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|i| {
            let (client, url, token) = (
                client.clone(),
                urls[i % urls.len()].to_string(),
                token.to_string(),
            );
            tokio::spawn(async move {
                let mut took = Vec::with_capacity(PER_CONNECTION);
                for _ in 0..PER_CONNECTION {
                    let t = Instant::now();
                    let res = client
                        .get(&url)
                        .bearer_auth(&token)
                        .send()
                        .await
                        .expect("request");
                    assert!(res.status().is_success(), "{url}: {}", res.status());
                    res.bytes().await.expect("body");
                    took.push(t.elapsed());
                }
                took
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("worker"));
    }
    let total = start.elapsed();
    all.sort();
    Run {
        per_s: all.len() as f64 / total.as_secs_f64(),
        p50: all[all.len() / 2],
        p99: all[all.len() * 99 / 100],
    }
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Stores `n` ended sessions (launched with a start time ahead, then
/// cancelled: real rows and history, no containers).
async fn ended_sessions(c: &berth_testkit::Api, n: usize) {
    let at = (chrono::Utc::now() + chrono::Duration::days(30))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    for _ in 0..n / 50 {
        let res = c
            .post(
                "/api/v1/sessions",
                &json!({"type": "batch", "image": "berth/busybox:latest", "count": 50,
                    "startup_command": "true", "starts_at": at, "env": {"A": "1", "B": "2"},
                    "resources": {"cpu": 0.1, "mem": "32m"}}),
            )
            .await;
        assert_eq!(
            res.status(),
            201,
            "{}",
            res.text().await.unwrap_or_default()
        );
        let body: serde_json::Value = res.json().await.unwrap();
        for s in body["items"].as_array().unwrap() {
            let id = s["id"].as_str().unwrap();
            c.delete(&format!("/api/v1/sessions/{id}")).await;
        }
    }
}

/// `/auth/me` and `/healthz` on a replica pair sharing a PostgreSQL
/// database, when `BERTH_TEST_POSTGRES` names a server.
async fn pair(client: &reqwest::Client) -> Option<(Run, Run)> {
    let database = berth_testkit::postgres_database().await?;
    let args = ["--log", "warn"];
    let bin = env!("CARGO_BIN_EXE_berth");
    let first = ServerProcess::start_on(bin, &args, &database).await;
    let second = ServerProcess::start_on(bin, &args, &database).await;
    let token = first
        .admin()
        .await
        .post_json("/api/v1/auth/tokens", &json!({"name": "bench"}))
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let me = [
        format!("{}/api/v1/auth/me", first.base),
        format!("{}/api/v1/auth/me", second.base),
    ];
    let me: Vec<&str> = me.iter().map(String::as_str).collect();
    let health = [
        format!("{}/healthz", first.base),
        format!("{}/healthz", second.base),
    ];
    let health: Vec<&str> = health.iter().map(String::as_str).collect();
    load_spread(client, &me, &token).await;
    Some((
        load_spread(client, &me, &token).await,
        load_spread(client, &health, &token).await,
    ))
}

#[tokio::main]
async fn main() {
    let srv = ServerProcess::start(env!("CARGO_BIN_EXE_berth"), &["--log", "warn"]).await;
    let pid = srv.pid();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = rss_mib(pid);
    let admin = srv.admin().await;
    // no cap on waiting sessions for the fill-up
    admin
        .post(
            "/api/v1/resource-policies",
            &json!({"name": "default", "max_concurrent_sessions": 0, "max_total_cpu": 0,
                "max_total_mem": 0, "max_session_lifetime": 0, "max_pending_sessions": 0}),
        )
        .await;
    let token = admin
        .post_json("/api/v1/auth/tokens", &json!({"name": "bench"}))
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    ended_sessions(&admin, 100).await;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap();
    let base = srv.base.clone();
    let list_url = format!("{base}/api/v1/sessions?status=finished&page_size=50");
    let page = client
        .get(&list_url)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    // warm-up
    load(&client, &format!("{base}/api/v1/auth/me"), &token).await;
    let me = load(&client, &format!("{base}/api/v1/auth/me"), &token).await;
    let list = load(&client, &list_url, &token).await;
    let health = load(&client, &format!("{base}/healthz"), &token).await;
    let after_load = rss_mib(pid);
    ended_sessions(&admin, 900).await;
    for p in 1..=20 {
        client
            .get(format!(
                "{base}/api/v1/sessions?status=finished&page_size=50&page={p}"
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
    }
    let thousand = rss_mib(pid);
    println!("list bench: 2 cores, SQLite, release build, {CONNECTIONS} connections × {PER_CONNECTION} requests");
    for (name, r) in [
        ("GET /api/v1/sessions?status=finished&page_size=50", &list),
        ("GET /api/v1/auth/me", &me),
        ("GET /healthz", &health),
    ] {
        println!(
            "  {name:<52} {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
            r.per_s,
            r.p50.as_secs_f64() * 1e3,
            r.p99.as_secs_f64() * 1e3
        );
    }
    println!(
        "  the list page is {} bytes; it costs {:.1}x a plain authenticated request",
        page.len(),
        me.per_s / list.per_s
    );
    println!("  RSS: idle {idle:.1} MiB, after the load {after_load:.1} MiB, with 1,000 sessions stored and listed {thousand:.1} MiB");
    drop(srv);
    if let Some((me, health)) = pair(&client).await {
        println!("  two replicas on one PostgreSQL database, half the connections to each:");
        for (name, r) in [("GET /api/v1/auth/me", &me), ("GET /healthz", &health)] {
            println!(
                "  {name:<52} {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms",
                r.per_s,
                r.p50.as_secs_f64() * 1e3,
                r.p99.as_secs_f64() * 1e3
            );
        }
    }
}
