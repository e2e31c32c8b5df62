//! `make bench` (cargo bench -p berth-api --bench apps): figures, not
//! assertions. Requests per second and latency (median, p99) of busybox
//! httpd reached through the app proxy on its own host name (the app's
//! cookie checked on every request, its login every 5 s)
//! against the same server reached straight at the container's address,
//! as ratios (goal: p99 ≤ 1.5× direct); the round trip of one key
//! through the web terminal's WebSocket (typed, echoed by the TTY); and
//! the first app: POST to Jupyter answering through the proxy, with the
//! service started as the session starts and on first open, against
//! `docker run` of the image with JupyterLab started directly
//! (`BERTH_BENCH=first-app` runs this part alone).

use std::time::{Duration, Instant};

use berth_testkit::TestServer;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// Concurrent clients.
const WORKERS: usize = 8;
/// Requests per client.
const PER_WORKER: usize = 250;
/// Keys typed through the terminal.
const KEYS: usize = 300;

struct Run {
    per_s: f64,
    p50: Duration,
    p99: Duration,
}

/// `WORKERS` clients each GET `url` `PER_WORKER` times.
async fn load(client: &reqwest::Client, url: &str) -> Run {
    let start = Instant::now();
    let tasks: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (client, url) = (client.clone(), url.to_string());
            tokio::spawn(async move {
                let mut took = Vec::with_capacity(PER_WORKER);
                for _ in 0..PER_WORKER {
                    let t = Instant::now();
                    let res = client.get(&url).send().await.expect("request");
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

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// POST → Jupyter answering `/api/status` through the proxy, `runs`
/// times, with the main web service started as the session starts (warm)
/// or only when first opened.
async fn first_app(warm: bool, ports: (u16, u16), runs: usize) -> Vec<Duration> {
    let srv = TestServer::start_with(|c| {
        c.app_ports = ports;
        c.warm_apps = warm;
    })
    .await;
    let c = srv.admin().await;
    let mut times = Vec::new();
    for i in 0..runs {
        let t0 = Instant::now();
        let s = c
            .launch(
                json!({"name": format!("first-app-{i}"), "environment": "berth/python",
                           "version": "3.11", "resources": {"cpu": 1, "mem": "1g"}}),
            )
            .await;
        let id = s["id"].as_str().expect("id").to_string();
        loop {
            let now = c.get_json(&format!("/api/v1/sessions/{id}")).await;
            if now["status"] == "RUNNING" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let opened = c
            .post_json(&format!("/api/v1/sessions/{id}/apps/jupyter"), &json!({}))
            .await;
        let url = opened["app"]["open"]["url"]
            .as_str()
            .expect("url")
            .to_string();
        c.http()
            .get(opened["launch_url"].as_str().expect("a launch URL"))
            .send()
            .await
            .expect("launch");
        loop {
            let r = c.http().get(format!("{url}api/status")).send().await;
            if r.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        times.push(t0.elapsed());
        c.delete(&format!("/api/v1/sessions/{id}")).await;
        c.wait_status(&id, "TERMINATED").await;
    }
    times
}

/// `docker run` of the Python image with JupyterLab started directly, to
/// its `/api/status` answering.
async fn first_app_raw(runs: usize) -> Vec<Duration> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let t0 = Instant::now();
        let out = tokio::process::Command::new("docker")
            .args([
                "run",
                "-d",
                "--rm",
                "--label",
                "berth.bench=first-app",
                "-e",
                "JUPYTER_TOKEN=bench",
                "berth/python:3.11",
                "/opt/python/bin/python3",
                "-m",
                "jupyterlab",
                "--ip=0.0.0.0",
                "--port=8081",
                "--no-browser",
                "--ServerApp.root_dir=/home/work",
            ])
            .output()
            .await
            .expect("docker run");
        let cid = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let ip = berth_testkit::container_ip(&cid).await;
        let http = reqwest::Client::new();
        loop {
            let r = http
                .get(format!("http://{ip}:8081/api/status"))
                .header("authorization", "token bench")
                .send()
                .await;
            if r.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        times.push(t0.elapsed());
        let _ = tokio::process::Command::new("docker")
            .args(["rm", "-f", &cid])
            .output()
            .await;
    }
    times
}

/// The three first-app figures from one run, and their ratios.
async fn first_app_figures() {
    const RUNS: usize = 5;
    let warm = first_app(true, (31220, 31229), RUNS).await;
    let cold = first_app(false, (31230, 31239), RUNS).await;
    let raw = first_app_raw(RUNS).await;
    let (w, c, r) = (median(warm), median(cold), median(raw));
    println!(
        "first app, POST -> Jupyter's /api/status through the proxy, median of {RUNS}:\n  \
         started with the session (--warm-apps):          {:7.0} ms  ratio {:.2}\n  \
         started on first open:                           {:7.0} ms  ratio {:.2}\n  \
         docker run + JupyterLab directly:                {:7.0} ms  (goal: ratio <= 1.2)",
        ms(w),
        w.as_secs_f64() / r.as_secs_f64(),
        ms(c),
        c.as_secs_f64() / r.as_secs_f64(),
        ms(r)
    );
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    // `BERTH_BENCH=first-app`: the first-app figures alone
    if std::env::var("BERTH_BENCH").as_deref() == Ok("first-app") {
        first_app_figures().await;
        return;
    }
    let srv = TestServer::start_with(|c| c.app_ports = (31200, 31219)).await;
    let c = srv.admin().await;
    let s = c
        .launch(json!({"name": "bench-web", "image": "berth/busybox:latest",
                       "resources": {"cpu": 1, "mem": "128m"}}))
        .await;
    let id = s["id"].as_str().expect("id").to_string();
    let running = c.wait_status(&id, "RUNNING").await;
    let cid = running["kernels"][0]["container_id"]
        .as_str()
        .expect("container")
        .to_string();
    let opened = c
        .post_json(&format!("/api/v1/sessions/{id}/apps/httpd"), &json!({}))
        .await;
    // the launch code becomes the app's cookie in this client
    let launched = c
        .http()
        .get(opened["launch_url"].as_str().expect("a launch URL"))
        .send()
        .await
        .expect("launch");
    assert!(launched.status().is_success());
    let proxied = opened["app"]["open"]["url"]
        .as_str()
        .expect("url")
        .to_string();
    let direct = format!("http://{}:8000/", berth_testkit::container_ip(&cid).await);

    // the same app open to public: the proxy without the login check
    let s2 = c
        .launch(
            json!({"name": "bench-public", "image": "berth/busybox:latest",
                       "resources": {"cpu": 1, "mem": "128m"}}),
        )
        .await;
    let id2 = s2["id"].as_str().expect("id").to_string();
    c.wait_status(&id2, "RUNNING").await;
    let public = c
        .post_json(
            &format!("/api/v1/sessions/{id2}/apps/httpd"),
            &json!({"open_to_public": true}),
        )
        .await["app"]["open"]["url"]
        .as_str()
        .expect("url")
        .to_string();

    // warm every path, then measure
    load(c.http(), &direct).await;
    load(c.http(), &proxied).await;
    load(c.http(), &public).await;
    let d = load(c.http(), &direct).await;
    let p = load(c.http(), &proxied).await;
    let o = load(c.http(), &public).await;
    println!(
        "app proxy, {WORKERS} clients x {PER_WORKER} GETs of busybox httpd's page:\n  \
         direct:  {:8.0} req/s  p50 {:6.2} ms  p99 {:6.2} ms\n  \
         proxied: {:8.0} req/s  p50 {:6.2} ms  p99 {:6.2} ms\n  \
         public:  {:8.0} req/s  p50 {:6.2} ms  p99 {:6.2} ms (proxied, no login check)\n  \
         ratio:   throughput {:.2}x  p50 {:.2}x  p99 {:.2}x (goal p99 <= 1.5x)",
        d.per_s,
        ms(d.p50),
        ms(d.p99),
        p.per_s,
        ms(p.p50),
        ms(p.p99),
        o.per_s,
        ms(o.p50),
        ms(o.p99),
        p.per_s / d.per_s,
        ms(p.p50) / ms(d.p50),
        ms(p.p99) / ms(d.p99),
    );

    // the terminal: one key typed, its echo read back
    let token = c
        .post_json("/api/v1/auth/tokens", &json!({"name": "bench"}))
        .await["token"]
        .as_str()
        .expect("token")
        .to_string();
    let url = srv
        .url(&format!("/api/v1/sessions/{id}/terminal?cols=80&rows=24"))
        .replace("http://", "ws://");
    let mut req = url.into_client_request().expect("request");
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("terminal");
    // the prompt first
    while let Some(Ok(m)) = ws.next().await {
        if matches!(m, Message::Binary(ref b) if !b.is_empty()) {
            break;
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut rtts = Vec::with_capacity(KEYS);
    for i in 0..KEYS {
        let key = char::from(b'a' + (i % 26) as u8).to_string();
        let t = Instant::now();
        ws.send(Message::Text(
            json!({"type": "input", "data": key}).to_string().into(),
        ))
        .await
        .expect("send");
        loop {
            match ws.next().await {
                Some(Ok(Message::Binary(b))) if String::from_utf8_lossy(&b).contains(&key) => break,
                Some(Ok(_)) => {}
                other => panic!("terminal closed: {other:?}"),
            }
        }
        rtts.push(t.elapsed());
        if i % 60 == 59 {
            // keep the line short: erase what was typed
            ws.send(Message::Text(
                json!({"type": "input", "data": "\u{15}"})
                    .to_string()
                    .into(),
            ))
            .await
            .expect("send");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    rtts.sort();
    println!(
        "web terminal, {KEYS} keys typed one at a time: echo round trip p50 {:.2} ms, p99 {:.2} ms",
        ms(rtts[KEYS / 2]),
        ms(rtts[KEYS * 99 / 100])
    );
    for id in [id, id2] {
        c.delete(&format!("/api/v1/sessions/{id}")).await;
        c.wait_status(&id, "TERMINATED").await;
    }
    first_app_figures().await;
}
