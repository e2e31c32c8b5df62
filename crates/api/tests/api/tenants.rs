//! Step 12: one user can never reach another. Each test is one escape a
//! probe found, tried again against a real server and engine, and refused:
//! the login cookie through a public app, cookies an app sets, a service
//! definition that never ends, a FIFO in a folder, a parallel flood of
//! wrong passwords, device variables in env, foreign origins and sockets
//! that outlive their login, an app opened while its session ends, and the
//! smaller caps (tokens, streams, terminals, uploads, quota, listings,
//! insecure engines).

use std::time::Duration;

use berth_testkit::{docker, field_errors, problem, Api, ServerProcess, TestServer};
use futures_util::{SinkExt, StreamExt};
use reqwest::header::{HeaderValue, COOKIE, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const BUSYBOX: &str = "berth/busybox:latest";

async fn running(c: &Api, body: Value) -> (String, String) {
    let s = c.launch(body).await;
    let id = s["id"].as_str().unwrap().to_string();
    let r = c.wait_status(&id, "RUNNING").await;
    let cid = r["kernels"][0]["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    (id, cid)
}

fn busybox(name: &str) -> Value {
    json!({"name": name, "image": BUSYBOX, "resources": {"cpu": 0.25, "mem": "64m"}})
}

/// `sh -c script` in the container, as its user (work); its output.
async fn sh(cid: &str, script: &str) -> String {
    docker(&["exec", cid, "sh", "-c", script]).await
}

/// A login's cookie value, read from the answer to signing in.
async fn login_token(srv: &TestServer, email: &str, password: &str) -> String {
    let res = reqwest::Client::new()
        .post(srv.url("/api/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_string();
    cookie
        .strip_prefix("berth_session=")
        .and_then(|c| c.split(';').next())
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_public_app_never_receives_a_visitors_login_nor_sets_berth_cookies() {
    let srv = TestServer::start_with(|c| c.app_ports = (32000, 32009)).await;
    let (ana, _) = srv.new_user("ana@test.berth", "user").await;
    srv.new_user("bo@test.berth", "user").await;
    let mut body = busybox("hostile");
    body["preopen_ports"] = json!([8090]);
    let (id, cid) = running(&ana, body).await;
    // ana's app echoes the cookies it receives and tries to set berth's
    sh(
        &cid,
        r#"mkdir -p /home/work/www/cgi-bin && cat > /home/work/www/cgi-bin/echo <<'EOF'
#!/bin/sh
echo "Content-Type: text/plain"
echo "Set-Cookie: berth_session=planted; Path=/api"
echo "Set-Cookie: __Host-berth_session=planted; Path=/; Secure"
echo "Set-Cookie: berth_app=planted"
echo "Set-Cookie: theirs=1"
echo
echo "COOKIE=$HTTP_COOKIE"
EOF
chmod +x /home/work/www/cgi-bin/echo && httpd -p 8090 -h /home/work/www"#,
    )
    .await;
    let opened = ana
        .post_json(
            &format!("/api/v1/sessions/{id}/apps/8090"),
            &json!({"open_to_public": true}),
        )
        .await;
    let url = opened["app"]["open"]["url"].as_str().unwrap().to_string();
    // bo, signed in, visits it; a byte >= 0x80 once let the whole header through
    let bo_login = login_token(&srv, "bo@test.berth", berth_testkit::USER_PASSWORD).await;
    let header = format!("z=\u{e9}; berth_session={bo_login}; berth_app=x; kept=1");
    let res = srv
        .client()
        .http()
        .get(format!("{url}cgi-bin/echo"))
        .header(COOKIE, HeaderValue::from_bytes(header.as_bytes()).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let set: Vec<String> = res
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert_eq!(set, ["theirs=1"], "berth's cookies cannot be set by an app");
    let text = res.text().await.unwrap();
    assert!(
        text.contains("kept=1"),
        "the app's own cookies pass: {text}"
    );
    assert!(!text.contains(&bo_login), "the login leaked: {text}");
    assert!(
        !text.contains("berth_session") && !text.contains("berth_app"),
        "{text}"
    );
    // and bo's login still works: nothing was planted
    let bo = srv
        .login("bo@test.berth", berth_testkit::USER_PASSWORD)
        .await;
    assert_eq!(bo.get("/api/v1/auth/me").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_service_definition_that_never_ends_is_cut_and_memory_stays_bounded() {
    let srv = TestServer::start_with(|c| {
        c.app_ports = (32010, 32019);
        c.exec_timeout_secs = 3;
        // Jupyter starts on open, after the hostile `cat` is in place
        c.warm_apps = false;
    })
    .await;
    let c = srv.admin().await;
    let (id, cid) = running(
        &c,
        json!({"environment": "berth/python", "version": "3.11",
               "resources": {"cpu": 0.5, "mem": "256m"}}),
    )
    .await;
    // the user owns /opt/python/bin, first on PATH: their `cat` prints forever
    sh(
        &cid,
        "printf '#!/bin/sh\\nexec yes 0123456789abcdef0123456789abcdef\\n' > /opt/python/bin/cat \
         && chmod +x /opt/python/bin/cat",
    )
    .await;
    let rss = || {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
            .unwrap()
            * 1024
    };
    let before = rss();
    let p = problem(
        c.post(&format!("/api/v1/sessions/{id}/apps/jupyter"), &json!({}))
            .await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("more than 65536 bytes"),
        "{p}"
    );
    let grown = rss().saturating_sub(before);
    eprintln!("the test process (the server in it) grew by {grown} bytes reading an endless service definition");
    assert!(grown < 64 << 20, "the server grew by {grown} bytes");
    // a `cat` that never ends is given up on
    sh(
        &cid,
        "printf '#!/bin/sh\\nexec sleep 1000\\n' > /opt/python/bin/cat",
    )
    .await;
    let p = problem(
        c.post(&format!("/api/v1/sessions/{id}/apps/jupyter"), &json!({}))
            .await,
        StatusCode::SERVICE_UNAVAILABLE,
    )
    .await;
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("did not end within 3 s"),
        "{p}"
    );
    // what a user installs goes to /opt/python, theirs, which a commit keeps
    let pip = sh(
        &cid,
        "rm /opt/python/bin/cat; mkdir -p /home/work/probe/berthprobe && \
         echo 'ANSWER = 42' > /home/work/probe/berthprobe/__init__.py && \
         printf 'from setuptools import setup\\nsetup(name=\"berthprobe\", version=\"1\", packages=[\"berthprobe\"])\\n' \
           > /home/work/probe/setup.py && \
         pip install -q --no-index --no-build-isolation /home/work/probe >/dev/null 2>&1; \
         python3 -c 'import berthprobe, os; print(berthprobe.ANSWER, berthprobe.__file__, os.getuid())'",
    )
    .await;
    assert!(pip.starts_with("42 /opt/python/lib/"), "{pip}");
    assert!(pip.trim_end().ends_with(" 1000"), "{pip}");
}

#[tokio::test]
async fn an_ssh_key_step_that_hangs_costs_ssh_not_the_launch() {
    let srv = TestServer::start_with(|c| c.exec_timeout_secs = 2).await;
    let c = srv.admin().await;
    let (id, cid) = running(
        &c,
        json!({"environment": "berth/python", "version": "3.11",
               "resources": {"cpu": 0.5, "mem": "256m"}}),
    )
    .await;
    // a customized image whose ssh-keygen never exits
    sh(
        &cid,
        "printf '#!/bin/sh\\nexec sleep 100000\\n' > /opt/python/bin/ssh-keygen \
         && chmod +x /opt/python/bin/ssh-keygen",
    )
    .await;
    let res = c
        .post(
            &format!("/api/v1/sessions/{id}/commit"),
            &json!({"name": "hangs"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let reference = c.wait_customized_image("hangs").await["reference"]
        .as_str()
        .unwrap()
        .to_string();
    let (second, _) = running(
        &c,
        json!({"image": reference, "resources": {"cpu": 0.5, "mem": "256m"}}),
    )
    .await;
    let s = c.get_json(&format!("/api/v1/sessions/{second}")).await;
    assert_eq!(s["status"], "RUNNING");
    c.delete(&format!("/api/v1/sessions/{second}")).await;
    c.wait_status(&second, "TERMINATED").await;
    let _ = docker(&["rmi", "-f", &reference]).await;
}

#[tokio::test]
async fn a_fifo_in_a_folder_holds_no_thread_and_sigterm_still_exits() {
    let mut srv = ServerProcess::start(BIN, &["--shutdown-grace-secs", "2"]).await;
    let c = srv.admin().await;
    let folder = c.post_json("/api/v1/folders", &json!({"name": "f"})).await;
    let fid = folder["id"].as_str().unwrap();
    let me = c.get_json("/api/v1/auth/me").await;
    let dir = srv
        .dir
        .path()
        .join("folders")
        .join(me["id"].as_str().unwrap())
        .join(fid);
    // what a session's `mkfifo` leaves in a mounted folder
    let pipe = std::ffi::CString::new(dir.join("pipe").to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(pipe.as_ptr(), 0o644) }, 0);
    let downloads = (0..30).map(|_| {
        let http = c.http().clone();
        let url = c.url(&format!("/api/v1/folders/{fid}/files?path=pipe"));
        async move {
            // a client that gives up, as the probe's did
            http.get(url)
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .map(|r| r.status())
        }
    });
    for answer in futures_util::future::join_all(downloads).await {
        assert_eq!(
            answer.expect("every download is answered"),
            StatusCode::CONFLICT,
            "not a file"
        );
    }
    srv.signal("TERM").await;
    let status = srv
        .wait_exit(Duration::from_secs(30))
        .await
        .unwrap_or_else(|| panic!("still running 30 s after SIGTERM:\n{}", srv.output()));
    assert!(status.success(), "{status}\n{}", srv.output());
}

#[tokio::test]
async fn a_parallel_flood_of_wrong_passwords_is_throttled_like_a_sequential_one() {
    let srv = TestServer::start().await;
    srv.new_user("ana@test.berth", "user").await;
    let tries = (0..40).map(|_| {
        let c = srv.client();
        async move {
            c.try_login("ana@test.berth", "wrong-password")
                .await
                .status()
        }
    });
    let answers = futures_util::future::join_all(tries).await;
    let refused = answers
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    let checked = answers
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(refused + checked, 40, "{answers:?}");
    // each replica holds the attempts in flight itself: behind a pair, a
    // flood at one instant may try 5 on each (failures are shared, so a
    // sequential one stops at 5 in all)
    let most = 5 * berth_testkit::replicas();
    assert!(
        checked <= most,
        "only {most} passwords may be tried: {answers:?}"
    );
    // the right password from here waits too
    let res = srv
        .client()
        .try_login("ana@test.berth", berth_testkit::USER_PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_is_counted_apart() {
    let srv =
        TestServer::start_with(|c| c.trusted_proxy = vec!["127.0.0.1/32".parse().unwrap()]).await;
    srv.new_user("ana@test.berth", "user").await;
    let from = |addr: &str| srv.client_with(&[("x-forwarded-for", addr)]);
    let a = from("198.51.100.7");
    for _ in 0..5 {
        let res = a.try_login("ana@test.berth", "wrong").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = a.try_login("ana@test.berth", "wrong").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // another client behind the same proxy is not locked out
    let b = from("198.51.100.8");
    let res = b
        .try_login("ana@test.berth", berth_testkit::USER_PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    // the same /64 of IPv6 is one client
    let v6 = from("2001:db8:1:2::1");
    for _ in 0..5 {
        v6.try_login("ana@test.berth", "wrong").await;
    }
    let res = from("2001:db8:1:2::ff")
        .try_login("ana@test.berth", "wrong")
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn device_variables_are_refused_and_a_kernel_runs_as_work_on_nosuid_folders() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let mut body = busybox("env-probe");
    body["env"] = json!({"NVIDIA_VISIBLE_DEVICES": "all", "OK_NAME": "1"});
    let p = problem(
        c.post("/api/v1/sessions", &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        [(
            "env.NVIDIA_VISIBLE_DEVICES".to_string(),
            "reserved_env_name".to_string()
        )]
    );
    assert!(p["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("NVIDIA_VISIBLE_DEVICES"));
    for name in [
        "CUDA_VISIBLE_DEVICES",
        "BERTH_SESSION_ID",
        "BACKENDAI_CLUSTER_HOST",
    ] {
        body["env"] = json!({ name: "x" });
        let p = problem(
            c.post("/api/v1/sessions", &body).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["errors"][0]["code"], "reserved_env_name", "{name}");
    }
    c.post_json("/api/v1/folders", &json!({"name": "data"}))
        .await;
    body["env"] = json!({"OK_NAME": "1"});
    body["mounts"] = json!(["data"]);
    let (_, cid) = running(&c, body).await;
    let env = docker(&["inspect", "-f", "{{json .Config.Env}}", &cid]).await;
    assert!(env.contains("NVIDIA_VISIBLE_DEVICES=void"), "{env}");
    assert_eq!(
        sh(&cid, "id -u; id -g")
            .await
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["1000", "1000"]
    );
    let mount = sh(&cid, "grep ' /home/work/data ' /proc/mounts").await;
    assert!(
        mount.contains("nosuid") && mount.contains("nodev"),
        "{mount}"
    );
    // nothing in the session can make itself root: no capabilities at all
    let caps = sh(&cid, "grep CapEff /proc/self/status").await;
    assert!(caps.contains("0000000000000000"), "{caps}");
    // the server's files are its own: data dir 0700, database 0600
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    if srv.config().db.database_url.starts_with("sqlite") {
        assert_eq!(mode(&srv.dir.path().join("berth.db")), 0o600);
    }
    assert_eq!(mode(&srv.dir.path().join("folders")), 0o700);
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A terminal WebSocket of session `id` with these extra headers (a login
/// cookie, a token, an Origin); the HTTP answer when it is refused.
async fn terminal(
    srv: &TestServer,
    id: &str,
    headers: &[(&'static str, String)],
) -> Result<Ws, u16> {
    let url = srv
        .url(&format!("/api/v1/sessions/{id}/terminal?cols=80&rows=24"))
        .replace("http://", "ws://");
    let mut req = url.into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().insert(*k, v.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
        Err(e) => panic!("{e}"),
    }
}

/// Whether the socket ends (the server closes it) within a bound that
/// only a broken build reaches.
async fn closes(ws: &mut Ws) -> bool {
    tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn foreign_origins_are_refused_and_sockets_end_with_their_login() {
    let srv = TestServer::start_with(|c| c.app_ports = (32020, 32029)).await;
    let admin = srv.admin().await;
    let (ana, ana_user) = srv.new_user("ana@test.berth", "user").await;
    let own_origin = srv.base.clone();
    // a change from another origin or site, with the login cookie, is refused
    for (name, value) in [
        ("origin", "http://evil.example"),
        ("origin", "http://abc.localhost:1"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let res = ana
            .http()
            .post(ana.url("/api/v1/auth/tokens"))
            .header(name, value)
            .json(&json!({"name": "csrf"}))
            .send()
            .await
            .unwrap();
        problem(res, StatusCode::FORBIDDEN).await;
    }
    let res = ana
        .http()
        .post(ana.url("/api/v1/auth/tokens"))
        .header("origin", &own_origin)
        .header("sec-fetch-site", "same-origin")
        .json(&json!({"name": "mine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(ana.get_json("/api/v1/auth/tokens").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["name"] != "csrf"));

    let (id, _) = running(&ana, busybox("sockets")).await;
    let ana_login = login_token(&srv, "ana@test.berth", berth_testkit::USER_PASSWORD).await;
    let cookie = format!("berth_session={ana_login}");
    // the terminal refuses a foreign Origin before the upgrade
    let refused = terminal(
        &srv,
        &id,
        &[
            ("cookie", cookie.clone()),
            ("origin", "http://evil.example".into()),
        ],
    )
    .await;
    assert_eq!(refused.err(), Some(403));
    // from berth's own page it opens, and closes when that login ends
    let mut ws = terminal(
        &srv,
        &id,
        &[("cookie", cookie.clone()), ("origin", own_origin.clone())],
    )
    .await
    .expect("the terminal opens");
    let msg = json!({"type": "input", "data": "echo alive\r"}).to_string();
    ws.send(Message::Text(msg.into())).await.unwrap();
    let logout = reqwest::Client::new()
        .post(srv.url("/api/v1/auth/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert!(closes(&mut ws).await, "the terminal outlived its logout");
    // a token's terminal closes when the token is revoked
    let mut ws = terminal(&srv, &id, &[("authorization", format!("Bearer {token}"))])
        .await
        .expect("the terminal opens");
    let tid = ana.get_json("/api/v1/auth/tokens").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        ana.delete(&format!("/api/v1/auth/tokens/{tid}"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert!(closes(&mut ws).await, "the terminal outlived its token");
    // a disabled account's terminal closes, and its public app with it
    let opened = ana
        .post_json(
            &format!("/api/v1/sessions/{id}/apps/httpd"),
            &json!({"open_to_public": true}),
        )
        .await;
    let public_url = opened["app"]["open"]["url"].as_str().unwrap().to_string();
    assert_eq!(
        srv.client()
            .http()
            .get(&public_url)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let login = login_token(&srv, "ana@test.berth", berth_testkit::USER_PASSWORD).await;
    let mut ws = terminal(&srv, &id, &[("cookie", format!("berth_session={login}"))])
        .await
        .expect("the terminal opens");
    let uid = ana_user["id"].as_str().unwrap();
    let res = admin
        .patch(
            &format!("/api/v1/users/{uid}"),
            &json!({"is_active": false}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(closes(&mut ws).await, "the terminal outlived the account");
    assert_eq!(
        srv.client()
            .http()
            .get(&public_url)
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND,
        "a disabled account's public app closes"
    );
}

#[tokio::test]
async fn an_app_opened_while_its_session_ends_leaves_nothing_behind() {
    let srv = TestServer::start_with(|c| c.app_ports = (32030, 32039)).await;
    let c = srv.admin().await;
    for round in 0..6 {
        let mut body = busybox(&format!("race-{round}"));
        body["preopen_ports"] = json!([8090]);
        let (id, _) = running(&c, body).await;
        let (app_path, session_path, empty) = (
            format!("/api/v1/sessions/{id}/apps/8090"),
            format!("/api/v1/sessions/{id}"),
            json!({}),
        );
        let (opened, _) = tokio::join!(c.post(&app_path, &empty), c.delete(&session_path));
        let url = if opened.status() == StatusCode::OK {
            let v: Value = opened.json().await.unwrap();
            v["app"]["open"]["url"].as_str().map(str::to_string)
        } else {
            None
        };
        c.wait_status(&id, "TERMINATED").await;
        if let Some(url) = url {
            let res = c.http().get(&url).send().await.unwrap();
            assert_eq!(
                res.status(),
                StatusCode::NOT_FOUND,
                "round {round}: {url} answers"
            );
        }
        let apps = c.get_json(&format!("/api/v1/sessions/{id}/apps")).await;
        assert!(
            apps["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["open"].is_null()),
            "round {round}: {apps}"
        );
    }
}

#[tokio::test]
async fn tokens_streams_and_terminals_are_capped_per_user() {
    let srv = TestServer::start_with(|c| {
        c.max_tokens_per_user = 2;
        c.max_streams_per_user = 2;
        c.max_terminals_per_user = 1;
    })
    .await;
    let (ana, _) = srv.new_user("ana@test.berth", "user").await;
    let first = ana
        .post_json(
            "/api/v1/auth/tokens",
            &json!({"name": "ci", "expires_in_days": 30}),
        )
        .await;
    assert!(first["expires_at"].is_string(), "{first}");
    ana.post_json("/api/v1/auth/tokens", &json!({"name": "laptop"}))
        .await;
    let p = problem(
        ana.post("/api/v1/auth/tokens", &json!({"name": "third"}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "too_many");
    let p = problem(
        ana.post(
            "/api/v1/auth/tokens",
            &json!({"name": "x", "expires_in_days": 0}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["field"], "expires_in_days");
    // an expired token stops working and leaves the list (and the count)
    let script = srv.token_client(first["token"].as_str().unwrap());
    assert_eq!(script.get("/api/v1/auth/me").await.status(), StatusCode::OK);
    srv.execute_sql(
        "UPDATE api_tokens SET expires_at = 1 WHERE id = $1",
        &[first["id"].as_str().unwrap()],
    )
    .await;
    problem(
        script.get("/api/v1/auth/me").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(
        ana.get_json("/api/v1/auth/tokens").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let third = ana
        .post("/api/v1/auth/tokens", &json!({"name": "third"}))
        .await;
    assert_eq!(third.status(), StatusCode::CREATED);

    // two event streams; the third waits for one to end
    let s1 = ana.get("/api/v1/events").await;
    let s2 = ana.get("/api/v1/events").await;
    assert_eq!((s1.status(), s2.status()), (StatusCode::OK, StatusCode::OK));
    problem(
        ana.get("/api/v1/events").await,
        StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    drop(s1);
    let mut again = None;
    for _ in 0..100 {
        let res = ana.get("/api/v1/events").await;
        if res.status() == StatusCode::OK {
            again = Some(res);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(again.is_some(), "a closed stream gives its place back");

    // one terminal at a time
    let (id, _) = running(&ana, busybox("one-tty")).await;
    let login = login_token(&srv, "ana@test.berth", berth_testkit::USER_PASSWORD).await;
    let cookie = format!("berth_session={login}");
    let _held = terminal(&srv, &id, &[("cookie", cookie.clone())])
        .await
        .expect("the first terminal opens");
    let second = terminal(&srv, &id, &[("cookie", cookie)]).await;
    assert_eq!(second.err(), Some(429));
}

#[tokio::test]
async fn uploads_meet_the_quota_the_cap_and_the_stall_limit_and_listings_are_capped() {
    let srv = TestServer::start_with(|c| {
        c.max_parallel_uploads = 1;
        c.upload_stall_secs = 1;
        c.max_dir_entries = 3;
    })
    .await;
    let admin = srv.admin().await;
    let (ana, ana_user) = srv.new_user("ana@test.berth", "user").await;
    let res = admin
        .post(
            "/api/v1/resource-policies",
            &json!({"name": "small", "max_concurrent_sessions": 0, "max_total_cpu": 0,
                    "max_total_mem": 0, "max_session_lifetime": 0, "max_folder_bytes": 1000}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let uid = ana_user["id"].as_str().unwrap();
    let res = admin
        .patch(
            &format!("/api/v1/users/{uid}"),
            &json!({"resource_policy": "small"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let f = ana
        .post_json("/api/v1/folders", &json!({"name": "q"}))
        .await;
    let fid = f["id"].as_str().unwrap().to_string();
    let put = |path: &str, bytes: usize| {
        let url = format!("/api/v1/folders/{fid}/files?path={path}");
        let ana = ana.clone();
        async move { ana.put_bytes(&url, vec![7u8; bytes]).await }
    };
    assert!(put("a.bin", 600).await.status().is_success());
    let p = problem(put("b.bin", 600).await, StatusCode::PAYLOAD_TOO_LARGE).await;
    assert_eq!(p["type"], "/problems/quota-exceeded");
    let detail = p["detail"].as_str().unwrap();
    assert!(
        detail.contains("max_folder_bytes") && detail.contains("1000"),
        "{detail}"
    );
    assert!(
        put("c.bin", 300).await.status().is_success(),
        "what fits still fits"
    );
    // what the server wrote belongs to the sessions' user
    let on_disk = srv
        .dir
        .path()
        .join("folders")
        .join(uid)
        .join(&fid)
        .join("a.bin");
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(on_disk).unwrap();
    assert_eq!((meta.uid(), meta.gid()), (1000, 1000));

    // one upload at a time; a body that stops sending is cut off
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    tx.send(Ok(vec![1u8; 10])).await.unwrap();
    let body = reqwest::Body::wrap_stream(tokio_stream_of(rx));
    let slow = ana
        .http()
        .put(ana.url(&format!("/api/v1/folders/{fid}/files?path=slow.bin")))
        .body(body)
        .send();
    let slow = tokio::spawn(slow);
    // once the slow upload holds its place, a second one is refused
    let held = || srv.ctx.held().count(berth_api::held::Kind::Upload, uid);
    for _ in 0..200 {
        if held() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(held(), 1, "the slow upload started");
    let p = problem(put("d.bin", 1).await, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(p["detail"].as_str().unwrap().contains("uploads"), "{p}");
    // the stalled body is cut off: answered 400, or the connection dropped
    // while the client still meant to send
    if let Ok(slow) = slow.await.unwrap() {
        let p = problem(slow, StatusCode::BAD_REQUEST).await;
        assert!(
            p["detail"].as_str().unwrap().contains("no data came"),
            "{p}"
        );
    }
    drop(tx);
    // and its place came back
    let mut freed = false;
    for _ in 0..100 {
        if put("e.bin", 1).await.status().is_success() {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(freed, "the cut upload gave its place back");
    let listing = ana
        .get_json(&format!("/api/v1/folders/{fid}/entries?path="))
        .await;
    let names: Vec<_> = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    assert!(!names.contains(&"slow.bin".to_string()), "{names:?}");
    // listings stop at their cap and say so
    for n in 0..2 {
        assert!(put(&format!("n{n}"), 1).await.status().is_success());
    }
    let listing = ana
        .get_json(&format!("/api/v1/folders/{fid}/entries?path="))
        .await;
    assert_eq!(listing["items"].as_array().unwrap().len(), 3);
    assert_eq!(listing["truncated"], true);
}

/// A channel as a stream of body chunks.
fn tokio_stream_of(
    mut rx: tokio::sync::mpsc::Receiver<Result<Vec<u8>, std::io::Error>>,
) -> impl futures_util::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[tokio::test]
async fn plain_tcp_engines_off_this_host_are_refused_and_errors_say_nothing_of_the_network() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let p = problem(
        c.post(
            "/api/v1/agents",
            &json!({"id": "far", "docker_host": "tcp://192.0.2.10:2375", "resource_group": "default"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        [("docker_host".to_string(), "insecure_engine".to_string())]
    );
    // on this host nothing listens on port 1: a generic refusal
    let p = problem(
        c.post(
            "/api/v1/agents",
            &json!({"id": "near", "docker_host": "tcp://127.0.0.1:1", "resource_group": "default"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(p["errors"][0]["code"], "unreachable");
    let msg = p["errors"][0]["message"].as_str().unwrap().to_lowercase();
    assert!(
        !msg.contains("refused") && !msg.contains("os error") && !msg.contains("127.0.0.1"),
        "{msg}"
    );
}
