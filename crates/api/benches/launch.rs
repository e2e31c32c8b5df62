//! `make bench` (cargo bench -p berth-api --bench launch): figures, not
//! assertions.
//!
//! 1. Launch latency: 20 sessions, one at a time, from `POST /api/v1/sessions`
//!    to the RUNNING event on `/api/v1/events`, against a real server, real
//!    SQLite and the real engine; compared with raw bollard create+start of
//!    the same container in the same run, on the default bridge (where a
//!    one-kernel session runs when the engine isolates it) and on a
//!    user-defined bridge network like a cluster's. Target: median ratio
//!    ≤ 1.15 against the default bridge.
//! 2. A 4-kernel multi-node cluster (2 kernels on the local engine, 2 on a
//!    second `dockerd` registered as an agent): `POST` to the RUNNING
//!    event, against four raw create+start calls on one own bridge network.
//! 3. A burst: one `POST` of `count: 50` until all 50 are RUNNING, against
//!    50 raw create+start calls made at once on the default bridge; with
//!    the default networking (one-kernel sessions on an isolating default
//!    bridge) and with `--own-networks`. Target: ratio ≤ 1.3.
//! 4. The scheduler's pure core at three sizes.
//! 5. An agent on another host (a network namespace with its own engine,
//!    reached over TLS at its own address, the folder store mounted there
//!    at a path of its own): `POST` → RUNNING there against raw
//!    create+start on that engine, and a 1 GiB write into a folder from a
//!    session there against the same write from a session on the local
//!    agent (on this one machine both land on the same disk: the figure
//!    shows what the remote path itself adds).
//!
//! `BERTH_BENCH=scheduler` runs only 4, `BERTH_BENCH=start` only 1 and 3,
//! `BERTH_BENCH=remote` only 5 (root: it makes a network namespace).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use berth_api::config::Config;
use berth_api::runtime::{ContainerSpec, Runtime, LABEL_INSTANCE};
use berth_api::scheduler::core::{schedule, Agent, Pending, Snapshot, Strategy};
use futures_util::StreamExt;
use serde_json::{json, Value};

const RUNS: usize = 20;
const IMAGE: &str = "berth/busybox:latest";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    // `BERTH_BENCH=scheduler`: the scheduler core alone (no engine needed)
    if std::env::var("BERTH_BENCH").as_deref() == Ok("scheduler") {
        scheduler_core();
        return;
    }
    if std::env::var("BERTH_BENCH").as_deref() == Ok("remote") {
        remote_agent().await;
        return;
    }
    let only_start = std::env::var("BERTH_BENCH").as_deref() == Ok("start");
    let (ours, raw, raw_net) = launch_latency().await;
    let line = |what: &str, v: &[Duration]| {
        println!(
            "  {what}: median {:7.1} ms  (min {:.1}, max {:.1})",
            ms(median(v.to_vec())),
            ms(*v.iter().min().unwrap()),
            ms(*v.iter().max().unwrap())
        );
    };
    println!("launch latency over {RUNS} sessions, one at a time:");
    line("berth  POST -> RUNNING event", &ours);
    line("docker create + start (bollard), default bridge", &raw);
    line(
        "docker create + start (bollard), own bridge network",
        &raw_net,
    );
    let mo = median(ours).as_secs_f64();
    println!(
        "  ratio berth / raw on the default bridge = {:.3}  (target <= 1.15)",
        mo / median(raw).as_secs_f64()
    );
    println!(
        "  ratio berth / raw on an own bridge network (what a cluster or --own-networks session gets) = {:.3}",
        mo / median(raw_net).as_secs_f64()
    );
    burst_latency().await;
    if only_start {
        return;
    }
    cluster_latency().await;
    remote_agent().await;
    scheduler_core();
}

/// Launches measured on the remote agent (after one warm-up).
const REMOTE_RUNS: usize = 10;

/// Section 5: an agent on another host.
async fn remote_agent() {
    let remote = berth_testkit::RemoteHost::start(&[IMAGE]).await;
    let Bench { ctx, base, c, _dir } = start_server().await;
    let view = remote.mount_share(ctx.storage().store_root());
    let res = c
        .post(format!("{base}/api/v1/agents"))
        .json(&json!({"id": "far", "docker_host": remote.docker_host(),
                      "tls_cert_dir": remote.client_certs(), "resource_group": "default",
                      "storage_path": view}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let res = c
        .post(format!("{base}/api/v1/folders"))
        .json(&json!({"name": "bench-data"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    let mut events = Events::open(&c, &base).await;
    let launch = |agent: &str, mounts: Value| {
        json!({"image": IMAGE, "agent": agent, "mounts": mounts,
               "resources": {"cpu": 0.5, "mem": "256m", "shmem": "16m"}})
    };
    let mut ours = Vec::new();
    for i in 0..=REMOTE_RUNS {
        let t0 = Instant::now();
        let created: Value = c
            .post(format!("{base}/api/v1/sessions"))
            .json(&launch("far", json!([])))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["items"][0]["id"].as_str().unwrap().to_string();
        events.wait_for(&id, "RUNNING").await;
        if i > 0 {
            ours.push(t0.elapsed());
        }
        c.delete(format!("{base}/api/v1/sessions/{id}"))
            .send()
            .await
            .unwrap();
        events.wait_for(&id, "TERMINATED").await;
    }
    let rt = Runtime::with_tls(remote.docker_host(), remote.client_certs());
    let instance = format!("{}-rawfar", ctx.instance());
    let mut raw = Vec::new();
    for i in 0..=REMOTE_RUNS {
        let spec = raw_spec(&format!("berth-bench-far-{instance}-{i}"), &instance, None);
        let t0 = Instant::now();
        let id = rt.run_container(&spec).await.expect("raw create+start");
        if i > 0 {
            raw.push(t0.elapsed());
        }
        rt.remove(&id).await.expect("remove");
    }
    // 1 GiB into the folder, flushed, from a session on each agent
    let mut writes = Vec::new();
    for agent in ["far", "local"] {
        let created: Value = c
            .post(format!("{base}/api/v1/sessions"))
            .json(&launch(agent, json!(["bench-data"])))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["items"][0]["id"].as_str().unwrap().to_string();
        events.wait_for(&id, "RUNNING").await;
        let s: Value = c
            .get(format!("{base}/api/v1/sessions/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let cid = s["kernels"][0]["container_id"]
            .as_str()
            .unwrap()
            .to_string();
        let engine = if agent == "far" {
            Runtime::with_tls(remote.docker_host(), remote.client_certs())
        } else {
            Runtime::new("unix:///var/run/docker.sock")
        };
        let cmd: Vec<String> = [
            "sh",
            "-c",
            "dd if=/dev/zero of=/home/work/bench-data/big bs=1M count=1024 conv=fsync 2>/dev/null && rm /home/work/bench-data/big",
        ]
        .map(String::from)
        .to_vec();
        let limits = berth_api::runtime::ExecLimits {
            max_output: 4096,
            timeout: Duration::from_secs(600),
        };
        let t0 = Instant::now();
        let out = engine.exec_output(&cid, &cmd, limits).await.expect("dd");
        writes.push((agent, t0.elapsed()));
        assert_eq!(out.code, Some(0), "{}", out.output);
        c.delete(format!("{base}/api/v1/sessions/{id}"))
            .send()
            .await
            .unwrap();
        events.wait_for(&id, "TERMINATED").await;
    }
    ctx.networks().remove_free(ctx.engines()).await;
    let (mo, mr) = (median(ours), median(raw));
    println!("an agent on another host (network namespace, TLS), {REMOTE_RUNS} launches:");
    println!(
        "  berth  POST -> RUNNING event there: median {:7.1} ms",
        ms(mo)
    );
    println!(
        "  docker create + start (bollard over TLS) there, default bridge: median {:7.1} ms",
        ms(mr)
    );
    println!(
        "  ratio berth / raw = {:.3}",
        mo.as_secs_f64() / mr.as_secs_f64()
    );
    let secs = |a: &str| {
        writes
            .iter()
            .find(|(w, _)| *w == a)
            .map_or(f64::NAN, |(_, d)| d.as_secs_f64())
    };
    let (far, local) = (secs("far"), secs("local"));
    println!(
        "  1 GiB folder write (dd, fsync): remote session {far:.2} s ({:.0} MiB/s), local session {local:.2} s ({:.0} MiB/s), ratio {:.3}",
        1024.0 / far,
        1024.0 / local,
        far / local
    );
}

/// Sessions of the burst.
const BURST: usize = 50;
/// Bursts measured of each kind.
const BURST_RUNS: usize = 2;

/// `count: 50` until all RUNNING, against 50 raw starts made at once.
async fn burst_latency() {
    let rt = Runtime::new("unix:///var/run/docker.sock");
    let isolates = rt.default_bridge_isolates().await.unwrap_or(false);
    let mut raw = Vec::new();
    for run in 0..BURST_RUNS {
        raw.push(raw_burst(&rt, run).await);
    }
    // one server each, bursts one after another: with --own-networks the
    // first burst makes its networks, the next finds them kept
    let ours = berth_bursts(false).await;
    let own = berth_bursts(true).await;
    let show = |v: &[Duration]| {
        v.iter()
            .map(|d| format!("{:.2} s", d.as_secs_f64()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let sum = |v: &[Duration]| v.iter().map(Duration::as_secs_f64).sum::<f64>();
    println!(
        "{BURST} sessions at once (count: {BURST}) until all RUNNING, {BURST_RUNS} runs each \
         (engine's default bridge isolates: {isolates}):"
    );
    println!("  berth, default networking: {}", show(&ours));
    println!(
        "  berth, --own-networks:     {} (the first makes its networks, then they are kept)",
        show(&own)
    );
    println!(
        "  {BURST} x docker create + start at once, default bridge: {}",
        show(&raw)
    );
    let last = |v: &[Duration]| v.last().map_or(0.0, Duration::as_secs_f64);
    println!(
        "  ratio berth / raw on the default bridge = {:.3}  (target <= 1.3); with --own-networks: \
         first burst {:.3}, once its networks are kept {:.3}",
        sum(&ours) / sum(&raw),
        own.first().map_or(0.0, Duration::as_secs_f64) / (sum(&raw) / raw.len() as f64),
        last(&own) / (sum(&raw) / raw.len() as f64)
    );
}

/// `BURST_RUNS` bursts on one server, one after another.
async fn berth_bursts(own_networks: bool) -> Vec<Duration> {
    let Bench { ctx, base, c, _dir } = start_server_with(|config| {
        config.own_networks = own_networks;
        config.agent_cpu = Some(64.0);
        config.agent_mem = Some(berth_shared::bytes::ByteSize(64 << 30));
    })
    .await;
    let mut events = Events::open(&c, &base).await;
    let mut took = Vec::new();
    for _ in 0..BURST_RUNS {
        took.push(berth_burst(&c, &base, &mut events).await);
    }
    ctx.networks().remove_free(ctx.engines()).await;
    took
}

/// One `count: BURST` launch until every session is RUNNING; ends them.
async fn berth_burst(c: &reqwest::Client, base: &str, events: &mut Events) -> Duration {
    let body = json!({"image": IMAGE, "count": BURST,
                      "resources": {"cpu": 0.1, "mem": "32m", "shmem": "8m"}});
    let t0 = Instant::now();
    let res = c
        .post(format!("{base}/api/v1/sessions"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let created: Value = res.json().await.unwrap();
    let ids: Vec<String> = created["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), BURST);
    let mut running = std::collections::HashSet::new();
    while running.len() < BURST {
        let ev = events.next().await;
        if ev["status"] == "RUNNING" {
            running.insert(ev["session_id"].as_str().unwrap_or_default().to_string());
        }
        assert_ne!(ev["status"], "ERROR", "{ev}");
    }
    let took = t0.elapsed();
    for id in &ids {
        c.delete(format!("{base}/api/v1/sessions/{id}"))
            .send()
            .await
            .unwrap();
    }
    let mut ended = std::collections::HashSet::new();
    while ended.len() < BURST {
        let ev = events.next().await;
        if ev["status"] == "TERMINATED" {
            ended.insert(ev["session_id"].as_str().unwrap_or_default().to_string());
        }
    }
    took
}

/// `BURST` raw create+start calls made at once on the default bridge.
async fn raw_burst(rt: &Runtime, run: usize) -> Duration {
    let instance = format!("berth-bench-burst-{}-{run}", std::process::id());
    let t0 = Instant::now();
    let made = futures_util::future::join_all((0..BURST).map(|i| {
        let mut spec = raw_spec(&format!("{instance}-{i}"), &instance, None);
        spec.cpu = 0.1;
        spec.mem = 32 << 20;
        spec.shmem = 8 << 20;
        async move { rt.run_container(&spec).await.expect("raw create+start") }
    }))
    .await;
    let took = t0.elapsed();
    futures_util::future::join_all(made.iter().map(|id| rt.remove(id))).await;
    took
}

/// The server's event stream, read frame by frame.
struct Events {
    stream:
        std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

impl Events {
    async fn open(c: &reqwest::Client, base: &str) -> Self {
        let stream = c
            .get(format!("{base}/api/v1/events"))
            .send()
            .await
            .unwrap()
            .bytes_stream();
        Self {
            stream: Box::pin(stream),
            buf: String::new(),
        }
    }

    /// Reads events until session `id` reaches `status`.
    async fn wait_for(&mut self, id: &str, status: &str) {
        loop {
            let ev = self.next().await;
            if ev["session_id"] == id && ev["status"] == status {
                return;
            }
        }
    }

    async fn next(&mut self) -> Value {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let frame: String = self.buf.drain(..end + 2).collect();
                if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) {
                    return serde_json::from_str(data).unwrap();
                }
                continue;
            }
            let chunk = self.stream.next().await.expect("event stream").unwrap();
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

/// Kernels of the benchmarked cluster.
const KERNELS: usize = 4;
/// Cluster launches measured (after one warm-up).
const CLUSTER_RUNS: usize = 5;

/// POST → RUNNING of a 4-kernel multi-node session over two engines.
async fn cluster_latency() {
    let engine = berth_testkit::PrivateEngine::start(&[IMAGE]).await;
    let Bench { ctx, base, c, _dir } = start_server().await;
    let instance = ctx.instance().to_string();
    let res = c
        .post(format!("{base}/api/v1/agents"))
        .json(&json!({"id": "two", "docker_host": engine.host(), "resource_group": "default"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.text().await.unwrap());
    let mut events = Events::open(&c, &base).await;
    let body = json!({"image": IMAGE, "cluster_mode": "multi-node", "cluster_size": KERNELS,
                      "resources": {"cpu": 0.25, "mem": "64m", "shmem": "16m"}});
    let mut ours = Vec::new();
    let mut spread = String::new();
    for i in 0..=CLUSTER_RUNS {
        let t0 = Instant::now();
        let created: Value = c
            .post(format!("{base}/api/v1/sessions"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = created["items"][0]["id"].as_str().unwrap().to_string();
        events.wait_for(&id, "RUNNING").await;
        if i > 0 {
            ours.push(t0.elapsed());
        }
        let s: Value = c
            .get(format!("{base}/api/v1/sessions/{id}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        spread = s["kernels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| {
                format!(
                    "{}@{}",
                    k["hostname"].as_str().unwrap(),
                    k["agent"].as_str().unwrap()
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        c.delete(format!("{base}/api/v1/sessions/{id}"))
            .send()
            .await
            .unwrap();
        events.wait_for(&id, "TERMINATED").await;
    }
    // four raw create+start calls, one after the other, on an own network
    let rt = Runtime::new("unix:///var/run/docker.sock");
    let raw_instance = format!("{instance}-raw4");
    let pool = "10.217.0.0/24".parse().expect("pool");
    let net = rt
        .create_network(&raw_instance, pool)
        .await
        .expect("network");
    let mut raw = Vec::new();
    for run in 0..=CLUSTER_RUNS {
        let t0 = Instant::now();
        let mut made = Vec::new();
        for k in 0..KERNELS {
            let spec = raw_spec(
                &format!("berth-bench-raw4-{raw_instance}-{run}-{k}"),
                &raw_instance,
                Some(net.clone()),
            );
            made.push(rt.run_container(&spec).await.expect("raw start"));
        }
        if run > 0 {
            raw.push(t0.elapsed());
        }
        for id in made {
            rt.remove(&id).await.expect("remove");
        }
    }
    rt.remove_network(&net).await.expect("remove network");
    ctx.networks().remove_free(ctx.engines()).await;
    let (mo, mr) = (median(ours.clone()), median(raw.clone()));
    println!("a {KERNELS}-kernel multi-node cluster over two engines ({spread}), {CLUSTER_RUNS} launches:");
    println!("  berth  POST -> RUNNING event: median {:7.1} ms", ms(mo));
    println!(
        "  {KERNELS} x docker create + start (bollard), one engine, own network: median {:7.1} ms",
        ms(mr)
    );
    println!(
        "  ratio berth / raw = {:.3}",
        mo.as_secs_f64() / mr.as_secs_f64()
    );
}

/// A session-like container spec for the raw baselines.
fn raw_spec(name: &str, instance: &str, network: Option<String>) -> ContainerSpec {
    ContainerSpec {
        name: name.to_string(),
        hostname: "main1".into(),
        image: IMAGE.into(),
        cmd: vec![
            "/bin/sh".into(),
            "-c".into(),
            "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done".into(),
        ],
        env: vec!["OMP_NUM_THREADS=1".into()],
        labels: HashMap::from([(LABEL_INSTANCE.to_string(), instance.to_string())]),
        cpu: 0.25,
        mem: 64 << 20,
        shmem: 16 << 20,
        pids_limit: 2048,
        binds: vec![],
        network,
        address: None,
        hosts: vec![],
        gpus: vec![],
        publish: None,
    }
}

/// A benchmarked server: its state, its address and a signed-in client.
struct Bench {
    ctx: berth_api::services::Shared,
    base: String,
    c: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// Starts a real server (own data dir and SQLite, the real engine) and
/// signs in as its first superadmin.
async fn start_server() -> Bench {
    start_server_with(|_| {}).await
}

/// [`start_server`] with `tune` applied to its configuration.
async fn start_server_with(tune: impl FnOnce(&mut Config)) -> Bench {
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let mut config = Config::for_data_dir(dir.path(), addr);
    config.admin_email = "bench@berth.local".into();
    config.admin_password = Some("bench-password".into());
    config.stop_grace_secs = 1;
    tune(&mut config);
    let app = berth_api::server::build(config).await.expect("server");
    tokio::spawn(berth_api::server::serve(
        listener,
        app.router,
        std::future::pending(),
    ));
    let base = format!("http://{addr}");
    let c = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let res = c
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "bench@berth.local", "password": "bench-password"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success());
    Bench {
        ctx: app.ctx,
        base,
        c,
        _dir: dir,
    }
}

async fn launch_latency() -> (Vec<Duration>, Vec<Duration>, Vec<Duration>) {
    let Bench { ctx, base, c, _dir } = start_server().await;
    let instance = ctx.instance().to_string();
    let mut events = Events::open(&c, &base).await;

    let body = json!({"image": IMAGE, "resources": {"cpu": 0.25, "mem": "64m", "shmem": "16m"}});
    // warm-up (first container start on the engine is slower)
    let mut ours = Vec::new();
    for i in 0..=RUNS {
        let t0 = Instant::now();
        let res = c
            .post(format!("{base}/api/v1/sessions"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let created: Value = res.json().await.unwrap();
        let id = created["items"][0]["id"].as_str().unwrap().to_string();
        events.wait_for(&id, "RUNNING").await;
        if i > 0 {
            ours.push(t0.elapsed());
        }
        c.delete(format!("{base}/api/v1/sessions/{id}"))
            .send()
            .await
            .unwrap();
        events.wait_for(&id, "TERMINATED").await;
    }

    let rt = Runtime::new("unix:///var/run/docker.sock");
    // labelled apart, or the server's reconciler would take them for its orphans
    let instance = format!("{instance}-raw");
    let raw = raw_starts(&rt, &instance, None).await;
    // the same container on a user-defined bridge, as every session's is:
    // what the isolation itself costs the engine (its DNS and endpoint set-up)
    let pool = "10.216.0.0/24".parse().expect("pool");
    let net = rt.create_network(&instance, pool).await.expect("network");
    let raw_net = raw_starts(&rt, &instance, Some(net.clone())).await;
    rt.remove_network(&net).await.expect("remove network");
    // the networks the server kept for further launches
    ctx.networks().remove_free(ctx.engines()).await;
    (ours, raw, raw_net)
}

/// Raw bollard create+start of a session-like container, `RUNS` times
/// after one warm-up, on `network` (`None`: the engine's default bridge).
async fn raw_starts(rt: &Runtime, instance: &str, network: Option<String>) -> Vec<Duration> {
    let mut raw = Vec::new();
    for i in 0..=RUNS {
        let spec = raw_spec(
            &format!("berth-bench-raw-{instance}-{i}"),
            instance,
            network.clone(),
        );
        let t0 = Instant::now();
        let id = rt.run_container(&spec).await.expect("raw create+start");
        if i > 0 {
            raw.push(t0.elapsed());
        }
        rt.remove(&id).await.expect("remove");
    }
    raw
}

fn scheduler_core() {
    // how one round's cost grows with the queue and the fleet
    for (n_pending, n_agents, rounds) in [(1_000, 100, 5), (10_000, 1_000, 5), (100_000, 10_000, 3)]
    {
        let agents: Vec<Agent> = (0..n_agents)
            .map(|i| Agent {
                id: format!("agent-{i}"),
                resource_group: format!("group-{}", i % 4),
                alive: i % 50 != 0,
                schedulable: i % 70 != 0,
                cpu_free: 8.0 + (i % 7) as f64,
                mem_free: (32u64 + (i % 5) as u64) << 30,
                accel_free: BTreeMap::new(),
                sees_storage: true,
            })
            .collect();
        let pending: Vec<Pending> = (0..n_pending)
            .map(|i| Pending {
                id: format!("s-{i}"),
                resource_group: format!("group-{}", i % 4),
                access_key: format!("AK{}", i % 300),
                cpu: 0.5 + (i % 4) as f64,
                mem: (1u64 + (i % 8) as u64) << 30,
                accelerators: BTreeMap::new(),
                // a few clusters among them, some spread over agents
                kernels: if i % 50 == 0 { 4 } else { 1 },
                multi_node: i % 100 == 0,
                image: IMAGE.into(),
                agent: None,
                starts_at: None,
                // the oldest tenth has waited past the aging limit
                created_at: if i < n_pending / 10 { 0 } else { 600_000 },
                needs_storage: i % 3 == 0,
            })
            .collect();
        let snapshot = Snapshot {
            now: 900_000,
            pending,
            agents,
            keypairs: HashMap::new(),
            aging_ms: 300_000,
            strategies: HashMap::new(),
            missing_images: Default::default(),
        };
        for strategy in [Strategy::Dispersed, Strategy::Concentrated] {
            // the index by free CPU against looking at every agent, same run
            let timed =
                |f: fn(&Snapshot, Strategy) -> Vec<berth_api::scheduler::core::Decision>| {
                    let mut times = Vec::new();
                    let mut placed = 0;
                    for _ in 0..rounds {
                        let t0 = Instant::now();
                        let d = f(&snapshot, strategy);
                        times.push(t0.elapsed());
                        placed = d
                            .iter()
                            .filter(|d| {
                                matches!(d, berth_api::scheduler::core::Decision::Place { .. })
                            })
                            .count();
                    }
                    (median(times), placed)
                };
            let (indexed, placed) = timed(schedule);
            let (scan, placed_scan) = timed(berth_api::scheduler::core::schedule_by_scan);
            println!(
                "scheduler core, {n_pending} pending x {n_agents} agents, {strategy:?}: median {:.1} ms per round indexed, {:.1} ms scanning every agent ({placed} / {placed_scan} placed; goal at 100k x 10k <= 1000 ms)",
                ms(indexed),
                ms(scan)
            );
        }
    }
}
