//! Defects found by the step 9 review, each proved fixed: bounded log
//! reads, query errors as problem+json, time limits that cannot overflow,
//! atomic user updates, image references, and the smaller items.

use berth_testkit::{docker, field_errors, problem, TestServer};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::json;

const IMAGE: &str = "berth/busybox:latest";
/// `LOG_BYTES_MAX` (1 MiB): the most a `GET …/logs` answer may carry.
const LOG_BYTES_MAX: usize = 1024 * 1024;

#[tokio::test]
async fn a_huge_log_is_read_as_a_bounded_tail_and_downloads_whole() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    // 20 MB of short lines, one 3 MB line, then a marker; then it waits
    let s = c
        .launch(
            json!({"type": "batch", "image": IMAGE, "resources": {"cpu": 0.5, "mem": "64m"},
            "startup_command": "yes 0123456789abcdefghijklmnopqrstuvwxyz | head -c 20000000; \
                head -c 3000000 /dev/zero | tr '\\0' x; echo; echo END-OF-LOG; sleep 600"}),
        )
        .await;
    let id = s["id"].as_str().unwrap();
    c.wait_status(id, "RUNNING").await;
    let mut logs = serde_json::Value::Null;
    for _ in 0..600 {
        logs = c.get_json(&format!("/api/v1/sessions/{id}/logs")).await;
        if logs["logs"].as_str().unwrap().ends_with("END-OF-LOG\n") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let text = logs["logs"].as_str().unwrap();
    assert!(
        text.ends_with("END-OF-LOG\n"),
        "the tail ends with the output's end"
    );
    assert!(
        text.len() <= LOG_BYTES_MAX,
        "a log answer is at most 1 MiB, got {} bytes",
        text.len()
    );
    assert_eq!(logs["truncated"], true, "older output is said to exist");

    // a small tail: exactly those lines
    let two = c
        .get_json(&format!("/api/v1/sessions/{id}/logs?tail=2"))
        .await;
    assert_eq!(two["logs"].as_str().unwrap().lines().count(), 2);
    assert!(two["logs"].as_str().unwrap().ends_with("END-OF-LOG\n"));
    // beyond the maximum, or not a number: 422 naming `tail`
    for q in ["tail=10001", "tail=0", "tail=lots"] {
        let body = problem(
            c.get(&format!("/api/v1/sessions/{id}/logs?{q}")).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(field_errors(&body)[0].0, "tail", "{q}: {body}");
    }

    // the download streams all of it
    let res = c.get(&format!("/api/v1/sessions/{id}/logs/download")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let disposition = res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename="),
        "{disposition}"
    );
    let mut stream = res.bytes_stream();
    let (mut total, mut tail) = (0usize, Vec::new());
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        total += chunk.len();
        tail.extend_from_slice(&chunk);
        let keep = tail.len().saturating_sub(64);
        tail.drain(..keep);
    }
    assert_eq!(total, 20_000_000 + 3_000_001 + "END-OF-LOG\n".len());
    assert!(tail.ends_with(b"END-OF-LOG\n"));
    let other = srv.new_user("other@test.berth", "user").await.0;
    problem(
        other
            .get(&format!("/api/v1/sessions/{id}/logs/download"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    c.delete(&format!("/api/v1/sessions/{id}")).await;
}

#[tokio::test]
async fn numbers_and_references_beyond_the_documented_bounds_are_422() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let batch = |extra: serde_json::Value| {
        let mut body = json!({"type": "batch", "image": IMAGE, "startup_command": "sleep 600",
            "resources": {"cpu": 0.25, "mem": "64m"}});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    for (extra, field) in [
        (json!({"batch_timeout": 1u64 << 62}), "batch_timeout"),
        (json!({"batch_timeout": u64::MAX}), "batch_timeout"),
        (json!({"starts_at": "9999-01-01T00:00:00Z"}), "starts_at"),
        (
            json!({"resources": {"cpu": 1e-10, "mem": "64m"}}),
            "resources.cpu",
        ),
        (
            json!({"resources": {"cpu": 1e9, "mem": "64m"}}),
            "resources.cpu",
        ),
        (
            json!({"resources": {"cpu": 1, "mem": "999999t"}}),
            "resources.mem",
        ),
        (json!({"image": "Not An Image!!"}), "image"),
        (json!({"image": "x:99999/y"}), "image"),
        (
            json!({"startup_command": "x".repeat(70_000)}),
            "startup_command",
        ),
    ] {
        let body = problem(
            c.post("/api/v1/sessions", &batch(extra.clone())).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let fields: Vec<String> = field_errors(&body).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, [field], "{extra}: {body}");
    }
    assert!(berth_testkit::containers_of(&srv.instance()).is_empty());

    // the longest limit allowed runs, and its watcher ends it on request
    let s = c
        .launch(batch(json!({"batch_timeout": 366 * 86_400})))
        .await;
    let id = s["id"].as_str().unwrap();
    c.wait_status(id, "RUNNING").await;
    assert_eq!(
        c.delete(&format!("/api/v1/sessions/{id}")).await.status(),
        202
    );
    let done = c.wait_status(id, "TERMINATED").await;
    assert_eq!(done["status_info"], "user-requested");
    let agents = c.get_json("/api/v1/agents").await;
    assert_eq!(agents["items"][0]["cpu_used"], 0.0, "its capacity is back");
}

#[tokio::test]
async fn a_stored_time_limit_past_the_clock_survives_a_restart() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let s = c
        .launch(
            json!({"type": "batch", "image": IMAGE, "startup_command": "sleep 600",
            "resources": {"cpu": 0.25, "mem": "64m"}, "batch_timeout": 60}),
        )
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    c.wait_status(&id, "RUNNING").await;
    // written by an older server without the bound
    let n = srv
        .execute_sql(
            "UPDATE sessions SET batch_timeout = 9223372036854775807 WHERE id = $1",
            &[&id],
        )
        .await;
    assert_eq!(n, 1);
    let srv = srv.restart().await;
    let c = srv.admin().await;
    let running = c.get_json(&format!("/api/v1/sessions/{id}")).await;
    assert_eq!(running["status"], "RUNNING");
    // its watcher is alive: the container's end is noticed
    let cid = running["kernels"][0]["container_id"].as_str().unwrap();
    docker(&["kill", cid]).await;
    let done = c.wait_status(&id, "TERMINATED").await;
    assert_eq!(done["status_info"], "failed", "{done:#}");
}

#[tokio::test]
async fn a_session_container_is_confined() {
    let srv = TestServer::start_with(|c| c.pids_limit = 64).await;
    let c = srv.admin().await;
    let s = c
        .launch(json!({"image": IMAGE, "resources": {"cpu": 0.1, "mem": "48m"}}))
        .await;
    let id = s["id"].as_str().unwrap();
    let running = c.wait_status(id, "RUNNING").await;
    let cid = running["kernels"][0]["container_id"].as_str().unwrap();
    let host = docker(&[
        "inspect",
        "--format",
        "{{.HostConfig.PidsLimit}} {{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.SecurityOpt}} {{.HostConfig.CapDrop}}",
        cid,
    ])
    .await;
    assert_eq!(
        host,
        format!(
            "64 {m} {m} 100000000 [no-new-privileges:true] [ALL]",
            m = 48 << 20
        )
    );
    // inside: no raw sockets or device nodes, no privilege gain, and a fork bomb stops at the limit
    let status = docker(&["exec", cid, "cat", "/proc/self/status"]).await;
    assert!(status.contains("NoNewPrivs:\t1"), "{status}");
    let cap_eff = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(|v| u64::from_str_radix(v.trim(), 16).unwrap())
        .unwrap();
    const NET_RAW: u64 = 1 << 13;
    const MKNOD: u64 = 1 << 27;
    assert_eq!(cap_eff & (NET_RAW | MKNOD), 0, "CapEff {cap_eff:x}");
    let bomb = tokio::process::Command::new("docker")
        .args([
            "exec",
            cid,
            "sh",
            "-c",
            "for i in $(seq 1 200); do sleep 30 & done; wait",
        ])
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&bomb.stderr);
    assert!(
        err.contains("Resource temporarily unavailable") || err.contains("can't fork"),
        "forks beyond the limit fail: {err}"
    );
    c.delete(&format!("/api/v1/sessions/{id}")).await;
}

#[tokio::test]
async fn a_waiting_session_keeps_its_reason_and_waiting_is_capped() {
    let srv = TestServer::start().await;
    let root = srv.admin().await;
    let res = root
        .post(
            "/api/v1/resource-policies",
            &json!({"name": "two-waiting", "max_concurrent_sessions": 0, "max_total_cpu": 0,
                    "max_total_mem": 0, "max_session_lifetime": 0, "max_pending_sessions": 2}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let (c, user) = srv.new_user("waiter@test.berth", "user").await;
    let uid = user["id"].as_str().unwrap();
    root.patch(
        &format!("/api/v1/users/{uid}"),
        &json!({"resource_policy": "two-waiting"}),
    )
    .await;
    let at = (chrono::Utc::now() + chrono::Duration::days(30))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let later = json!({"type": "batch", "image": IMAGE, "startup_command": "true",
        "resources": {"cpu": 0.1, "mem": "32m"}, "starts_at": at});
    let mut events = c.get("/api/v1/events").await.bytes_stream();
    let mut three = later.clone();
    three["count"] = json!(3);
    let body = problem(
        c.post("/api/v1/sessions", &three).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&body),
        [("count".into(), "quota_exceeded".into())]
    );
    let s = c.launch(later.clone()).await;
    let id = s["id"].as_str().unwrap();
    c.launch(later.clone()).await;
    let body = problem(
        c.post("/api/v1/sessions", &later).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 2"),
        "{body}"
    );

    // many scheduler ticks (200 ms) later, the reason and its events have not churned
    let first = c
        .wait_for(id, "explained", |s| s["status_info"].is_string())
        .await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let again = c.get_json(&format!("/api/v1/sessions/{id}")).await;
    assert_eq!(first["status_data"], again["status_data"]);
    assert!(again["status_data"].to_string().contains(&at), "{again}");
    let mut frames = 0;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(1);
    while let Ok(Some(Ok(chunk))) = tokio::time::timeout_at(deadline, events.next()).await {
        frames += String::from_utf8_lossy(&chunk)
            .matches("event: session")
            .count();
    }
    // 2 × (created + first explanation), none per tick; and the stream
    // did carry them (a dead stream would count 0)
    assert!(
        (2..=4).contains(&frames),
        "{frames} session events for two waiting sessions"
    );
}

#[tokio::test]
async fn smaller_items_security_headers_own_email_token_use_and_log_retention() {
    let srv = TestServer::start_with(|c| {
        let dist = c.db.data_dir.join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(
            dist.join("index.html"),
            "<html><script type=\"module\">start()</script></html>",
        )
        .unwrap();
    })
    .await;
    // headers on the UI and on the API
    for path in ["/", "/api/v1/auth/me"] {
        let res = reqwest::get(srv.url(path)).await.unwrap();
        let h = res.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{csp}"
        );
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["x-content-type-options"], "nosniff");
    }

    // a user naming their own email launches for themselves
    let (user, _) = srv.new_user("self@test.berth", "user").await;
    let s = user
        .launch(
            json!({"type": "batch", "image": IMAGE, "owner_email": "Self@Test.Berth",
            "startup_command": "echo kept-output", "resources": {"cpu": 0.1, "mem": "32m"}}),
        )
        .await;
    let id = s["id"].as_str().unwrap();
    user.wait_status(id, "TERMINATED").await;
    let logs = user.get_json(&format!("/api/v1/sessions/{id}/logs")).await;
    assert!(logs["logs"].as_str().unwrap().contains("kept-output"));

    // a token's last use is written at most once a minute
    let root = srv.admin().await;
    let token = root
        .post_json("/api/v1/auth/tokens", &json!({"name": "busy-script"}))
        .await;
    let script = srv.token_client(token["token"].as_str().unwrap());
    script.get_json("/api/v1/auth/me").await;
    let first = root.get_json("/api/v1/auth/tokens").await["items"][0]["last_used_at"].clone();
    assert!(first.is_string(), "the first use is recorded");
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    script.get_json("/api/v1/auth/me").await;
    let second = root.get_json("/api/v1/auth/tokens").await["items"][0]["last_used_at"].clone();
    assert_eq!(first, second, "not rewritten on every request");

    // kept logs of sessions that ended long ago are forgotten
    let n = srv
        .execute_sql(
            "UPDATE sessions SET terminated_at = terminated_at - 3456000000 WHERE id = $1",
            &[id],
        )
        .await;
    assert_eq!(n, 1);
    berth_api::server::sweep(&srv.ctx).await;
    let logs = user.get_json(&format!("/api/v1/sessions/{id}/logs")).await;
    assert_eq!(logs["logs"], "", "forgotten after the retention");
    assert_eq!(
        user.get_json(&format!("/api/v1/sessions/{id}")).await["status"],
        "TERMINATED"
    );
}

#[tokio::test]
async fn force_terminate_kills_a_container_that_ignores_its_stop() {
    // a stop would wait five minutes for this container
    let srv = TestServer::start_with(|c| c.stop_grace_secs = 300).await;
    let c = srv.admin().await;
    let s = c
        .launch(
            json!({"type": "batch", "image": IMAGE, "resources": {"cpu": 0.1, "mem": "32m"},
            "startup_command": "trap '' TERM; while :; do sleep 1; done"}),
        )
        .await;
    let id = s["id"].as_str().unwrap();
    c.wait_status(id, "RUNNING").await;
    assert_eq!(
        c.delete(&format!("/api/v1/sessions/{id}")).await.status(),
        202
    );
    let stuck = c.wait_status(id, "TERMINATING").await;
    assert_eq!(stuck["status_info"], "user-requested");
    // stuck stopping: force kills it now
    let res = c.delete(&format!("/api/v1/sessions/{id}?force=true")).await;
    assert_eq!(res.status(), 202);
    let done = c.wait_status(id, "TERMINATED").await;
    assert_eq!(done["status_info"], "user-requested");
    assert!(berth_testkit::containers_of(&srv.instance()).is_empty());
    let agents = c.get_json("/api/v1/agents").await;
    assert_eq!(agents["items"][0]["cpu_used"], 0.0);

    // and a running one ends at once by force
    let s = c
        .launch(
            json!({"type": "batch", "image": IMAGE, "resources": {"cpu": 0.1, "mem": "32m"},
            "startup_command": "trap '' TERM; while :; do sleep 1; done"}),
        )
        .await;
    let id = s["id"].as_str().unwrap();
    c.wait_status(id, "RUNNING").await;
    assert_eq!(
        c.delete(&format!("/api/v1/sessions/{id}?force=true"))
            .await
            .status(),
        202
    );
    c.wait_status(id, "TERMINATED").await;
}

#[tokio::test]
async fn a_kept_page_of_ended_sessions_follows_every_change() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let url = "/api/v1/sessions?status=finished&page_size=50";
    assert_eq!(c.get_json(url).await["total"], 0);
    assert_eq!(c.get_json(url).await["total"], 0, "kept");
    let s = c
        .launch(
            json!({"type": "batch", "image": IMAGE, "startup_command": "true",
            "resources": {"cpu": 0.1, "mem": "32m"}}),
        )
        .await;
    let id = s["id"].as_str().unwrap();
    c.wait_status(id, "TERMINATED").await;
    let page = c.get_json(url).await;
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["items"][0]["id"], id);
    assert_eq!(page["items"][0]["status"], "TERMINATED");
    // another user's kept page is theirs alone
    let (other, _) = srv.new_user("pages@test.berth", "user").await;
    assert_eq!(other.get_json(url).await["total"], 0);
}

/// `GET /` to `ip:port` over plain TCP from the host; the status line, or
/// `None` when nothing answers within 3 s.
async fn http_status_line(ip: &str, port: u16) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let talk = async {
        let mut s = tokio::net::TcpStream::connect((ip, port)).await.ok()?;
        s.write_all(b"GET / HTTP/1.0\r\n\r\n").await.ok()?;
        let mut buf = vec![0; 64];
        let n = s.read(&mut buf).await.ok()?;
        String::from_utf8_lossy(&buf[..n])
            .lines()
            .next()
            .map(String::from)
    };
    tokio::time::timeout(std::time::Duration::from_secs(3), talk)
        .await
        .ok()
        .flatten()
}

/// Starts busybox httpd on port 8001 in container `cid` (the image's httpd
/// service may already hold 8000) and waits until the host (the app
/// proxy's side) reaches it at `ip`.
async fn serve_on_8001(cid: &str, ip: &str) {
    docker(&["exec", cid, "httpd", "-p", "8001"]).await;
    let mut from_host = None;
    for _ in 0..20 {
        from_host = http_status_line(ip, 8001).await;
        if from_host.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        from_host.is_some_and(|l| l.starts_with("HTTP/1.")),
        "the host reaches the session at {ip}"
    );
}

/// The same request made from inside container `from` with busybox `nc`.
async fn http_from_container(from: &str, ip: &str, port: u16) -> String {
    let out = tokio::process::Command::new("docker")
        .args([
            "exec",
            from,
            "sh",
            "-c",
            &format!("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 {ip} {port} | head -1"),
        ])
        .output()
        .await
        .unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The networks container `cid` is on: (name, id, address).
async fn networks_of(cid: &str) -> Vec<(String, String, String)> {
    docker(&[
        "inspect",
        "--format",
        "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{$v.NetworkID}} {{$v.IPAddress}};{{end}}",
        cid,
    ])
    .await
    .split(';')
    .filter(|n| !n.is_empty())
    .map(|n| {
        let mut p = n.split(' ').map(String::from);
        (p.next().unwrap(), p.next().unwrap(), p.next().unwrap())
    })
    .collect()
}

/// Whether the shared engine's default bridge keeps its containers apart
/// (`dockerd --icc=false`, as `make test` starts it).
async fn default_bridge_isolates() -> bool {
    docker(&[
        "network",
        "inspect",
        "bridge",
        "--format",
        "{{index .Options \"com.docker.network.bridge.enable_icc\"}}",
    ])
    .await
        == "false"
}

#[tokio::test]
async fn one_kernel_sessions_use_an_isolating_default_bridge_and_still_cannot_reach_each_other() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let body = json!({"image": IMAGE, "resources": {"cpu": 0.1, "mem": "48m"}});
    let mut containers = Vec::new();
    for _ in 0..2 {
        let id = c.launch(body.clone()).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let s = c.wait_status(&id, "RUNNING").await;
        containers.push(
            s["kernels"][0]["container_id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let (ca, cb) = (&containers[0], &containers[1]);
    let (na, nb) = (networks_of(ca).await, networks_of(cb).await);
    assert_eq!((na.len(), nb.len()), (1, 1), "{na:?} {nb:?}");
    if default_bridge_isolates().await {
        assert_eq!((na[0].0.as_str(), nb[0].0.as_str()), ("bridge", "bridge"));
    } else {
        // an engine that lets its default bridge's containers talk: each
        // session gets a network of its own, as with --own-networks
        assert!(na[0].0.starts_with("berth-net-") && nb[0].0.starts_with("berth-net-"));
        assert_ne!(na[0].1, nb[0].1);
    }
    let ip_b = nb[0].2.clone();
    serve_on_8001(cb, &ip_b).await;
    assert_eq!(
        http_from_container(ca, &ip_b, 8001).await,
        "",
        "session A must not reach session B"
    );
    // (the apps suites reach sessions through the proxy on whichever network)
}

/// Whether the engine still has network `id`.
async fn network_exists(id: &str) -> bool {
    tokio::process::Command::new("docker")
        .args(["network", "inspect", id])
        .output()
        .await
        .unwrap()
        .status
        .success()
}

#[tokio::test]
async fn each_session_has_its_own_network_and_cannot_reach_another() {
    // a pool of its own with room for exactly two networks; networks of
    // their own even where the engine's default bridge isolates
    let srv = TestServer::start_with(|c| {
        c.session_subnets = "10.214.0.0/26".parse().unwrap();
        c.own_networks = true;
    })
    .await;
    let c = srv.admin().await;
    let body = json!({"image": IMAGE, "resources": {"cpu": 0.1, "mem": "48m"}});
    let launch = |c: berth_testkit::Api, body: serde_json::Value| async move {
        let id = c.launch(body).await["id"].as_str().unwrap().to_string();
        let s = c.wait_status(&id, "RUNNING").await;
        (
            id,
            s["kernels"][0]["container_id"]
                .as_str()
                .unwrap()
                .to_string(),
        )
    };
    let (a, ca) = launch(c.clone(), body.clone()).await;
    let (_b, cb) = launch(c.clone(), body.clone()).await;

    // each container is on one network of its own, not the default bridge, with a /27 of the pool
    let (na, nb) = (networks_of(&ca).await, networks_of(&cb).await);
    assert_eq!((na.len(), nb.len()), (1, 1), "{na:?} {nb:?}");
    let (na, nb) = (na[0].clone(), nb[0].clone());
    assert_ne!(na.1, nb.1, "two sessions never share a network");
    let mut subnets = Vec::new();
    for n in [&na, &nb] {
        assert!(n.0.starts_with("berth-net-"), "{n:?}");
        let subnet = docker(&[
            "network",
            "inspect",
            "--format",
            "{{range .IPAM.Config}}{{.Subnet}}{{end}}",
            &n.1,
        ])
        .await;
        assert!(
            subnet == "10.214.0.0/27" || subnet == "10.214.0.32/27",
            "{subnet}"
        );
        subnets.push(subnet);
    }
    assert_ne!(subnets[0], subnets[1]);
    let ip_b = nb.2.clone();

    // B serves HTTP (on a port of its own: the image's httpd service may
    // already hold 8000): its own network and the host (the app proxy's
    // side) reach it, A does not
    serve_on_8001(&cb, &ip_b).await;
    assert!(
        http_from_container(&cb, &ip_b, 8001)
            .await
            .starts_with("HTTP/1."),
        "B reaches itself"
    );
    assert_eq!(
        http_from_container(&ca, &ip_b, 8001).await,
        "",
        "session A must not reach session B"
    );

    // a third session finds the pool full: it fails to start, saying so
    let third = c.launch(body.clone()).await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let failed = c.wait_status(&third, "ERROR").await;
    assert_eq!(failed["status_info"], "failed-to-start", "{failed:#}");
    let says = failed.to_string();
    assert!(
        says.contains("no free subnet") && says.contains("10.214.0.0/26"),
        "{failed:#}"
    );

    // A's end hands its network back, emptied, and the next session gets it
    c.delete(&format!("/api/v1/sessions/{a}")).await;
    c.wait_status(&a, "TERMINATED").await;
    let (_d, cd) = launch(c.clone(), body.clone()).await;
    let nd = networks_of(&cd).await;
    assert_eq!(nd.len(), 1);
    assert_eq!(nd[0].1, na.1, "the next session reuses the network A left");
    let members = docker(&[
        "network",
        "inspect",
        "--format",
        "{{range .Containers}}{{.Name}} {{end}}",
        &na.1,
    ])
    .await;
    assert_eq!(
        members.split_whitespace().count(),
        1,
        "only D is on it: {members}"
    );

    // a network no session uses (made by a run that crashed) goes at the
    // next reconcile pass; B's and D's stay
    let instance = srv.instance();
    let orphan = docker(&[
        "network",
        "create",
        "--label",
        &format!("berth.instance={instance}"),
        &format!("berth-net-orphan-{instance}"),
    ])
    .await;
    let srv = srv.restart().await;
    let c = srv.admin().await;
    assert!(
        !network_exists(&orphan).await,
        "the orphan network is removed"
    );
    assert!(network_exists(&na.1).await && network_exists(&nb.1).await);
    // sessions from before the restart give their networks up at their end
    let list = c.get_json("/api/v1/sessions?status=RUNNING").await;
    for s in list["items"].as_array().unwrap() {
        let id = s["id"].as_str().unwrap();
        c.delete(&format!("/api/v1/sessions/{id}")).await;
        c.wait_status(id, "TERMINATED").await;
    }
    let ours = format!("berth.instance={instance}");
    let left = berth_testkit::networks_settle(&ours, 0).await;
    assert!(left.is_empty(), "{left:?}");
}
