//! A session's apps through the proxy, on the real engine: the catalogue,
//! busybox httpd on a host name of its own for its owner (a one-time code
//! becomes the app's cookie; 401 without, 404 for anyone else), open to
//! public, closed by DELETE and when the session ends, traffic counted;
//! Jupyter in the Python image started on first open; sshd on a pool port
//! (the preferred one when free); the terminal; preopen ports.

use berth_testkit::{problem, Api, TestServer};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const BUSYBOX: &str = "berth/busybox:latest";

async fn running_busybox(c: &Api, name: &str) -> String {
    let s = c
        .launch(json!({"name": name, "image": BUSYBOX, "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    c.wait_status(&id, "RUNNING").await;
    id
}

async fn open(c: &Api, id: &str, app: &str, body: Value) -> Value {
    c.post_json(&format!("/api/v1/sessions/{id}/apps/{app}"), &body)
        .await
}

/// Follows an open's launch URL (the one-time code becomes the app's own
/// cookie in `c`'s jar); the app's URL.
async fn enter(c: &Api, opened: &Value) -> String {
    let launch = opened["launch_url"].as_str().expect("a launch URL");
    let res = c.http().get(launch).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{launch}");
    opened["app"]["open"]["url"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn httpd_on_a_host_of_its_own_for_its_owner_only() {
    let srv = TestServer::start_with(|c| c.app_ports = (31000, 31019)).await;
    let c = srv.admin().await;
    let (ana, _) = srv.new_user("ana@test.berth", "user").await;
    let (bo, _) = srv.new_user("bo@test.berth", "user").await;
    let id = running_busybox(&ana, "web-app").await;

    let apps = ana.get_json(&format!("/api/v1/sessions/{id}/apps")).await;
    let names: Vec<_> = apps["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].as_str().unwrap(), a["protocol"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("httpd", "http"), ("terminal", "pty")]);
    assert_eq!(apps["items"][0]["open"], Value::Null);
    assert_eq!(apps["items"][0]["unauthenticated"], false);
    assert_eq!(apps["preferred_ports"], json!([31000, 31019]));
    problem(
        bo.get(&format!("/api/v1/sessions/{id}/apps")).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // a web app gets a host name of its own on the server's port; a
    // preferred port is for TCP apps and is not said to be used
    let opened = open(&ana, &id, "httpd", json!({"preferred_port": 31007})).await;
    assert_eq!(opened["preferred_port_used"], Value::Null);
    let url = opened["app"]["open"]["url"].as_str().unwrap().to_string();
    let port = srv.config().listen.port();
    let label = url
        .strip_prefix("http://")
        .and_then(|u| u.strip_suffix(&format!(".localhost:{port}/")))
        .unwrap_or_else(|| panic!("{url}"));
    assert!(
        label.len() == 20 && label.chars().all(|c| c.is_ascii_alphanumeric()),
        "{label}"
    );
    assert_eq!(opened["app"]["open"]["port"], port);
    // nobody gets in without the launch code's cookie or a token
    problem_text(
        ana.http().get(&url).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let launch = opened["launch_url"].as_str().unwrap().to_string();
    assert!(
        launch.starts_with(&format!("{}.berth/launch?code=", &url)),
        "{launch}"
    );
    let page = ana.http().get(&launch).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        page.text().await.unwrap().contains("berth"),
        "busybox httpd's page, after the launch redirect"
    );
    assert_eq!(
        ana.http().get(&url).send().await.unwrap().status(),
        StatusCode::OK
    );
    // the code was good once: whoever copies it later gets nothing
    problem_text(
        bo.http().get(&launch).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    problem_text(
        bo.http().get(&url).send().await.unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    // opening again reuses the host, with a fresh code
    let again = open(&ana, &id, "httpd", json!({})).await;
    assert_eq!(again["app"]["open"]["url"], url.as_str());
    assert_ne!(again["launch_url"], opened["launch_url"]);
    // an admin may look; another user's token may not; nobody without one
    let admin_url = enter(&c, &open(&c, &id, "httpd", json!({})).await).await;
    assert_eq!(admin_url, url);
    assert_eq!(
        c.http().get(&url).send().await.unwrap().status(),
        StatusCode::OK
    );
    let bo_token = bo
        .post_json("/api/v1/auth/tokens", &json!({"name": "t"}))
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    problem_text(
        bo.http()
            .get(&url)
            .bearer_auth(&bo_token)
            .send()
            .await
            .unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    let ana_token = ana
        .post_json("/api/v1/auth/tokens", &json!({"name": "t"}))
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let scripted = srv
        .client()
        .http()
        .get(&url)
        .bearer_auth(&ana_token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        scripted.status(),
        StatusCode::OK,
        "a script with the owner's token"
    );
    // changes and sockets come from the app's own pages only
    let own = url.trim_end_matches('/').to_string();
    for (name, value) in [
        ("origin", "http://evil.example"),
        ("origin", srv.base.as_str()),
        ("sec-fetch-site", "same-site"),
    ] {
        let res = ana
            .http()
            .post(&url)
            .header(name, value)
            .send()
            .await
            .unwrap();
        problem_text(res, StatusCode::FORBIDDEN).await;
    }
    let upgrade = ana
        .http()
        .get(&url)
        .header("origin", "http://evil.example")
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .send()
        .await
        .unwrap();
    problem_text(upgrade, StatusCode::FORBIDDEN).await;
    let res = ana
        .http()
        .post(&url)
        .header("origin", &own)
        .send()
        .await
        .unwrap();
    assert_ne!(
        res.status(),
        StatusCode::FORBIDDEN,
        "the app's own page passes"
    );
    // the UI's API is not served on an app's host
    let api_there = ana
        .http()
        .get(format!("{url}api/v1/auth/me"))
        .send()
        .await
        .unwrap();
    assert_ne!(api_there.status(), StatusCode::OK);

    // traffic is counted per session
    let apps = ana.get_json(&format!("/api/v1/sessions/{id}/apps")).await;
    assert!(apps["traffic"]["bytes"].as_u64().unwrap() > 0, "{apps}");
    assert!(!apps["traffic"]["last_activity"].is_null());
    assert_eq!(apps["items"][0]["open"]["url"], url.as_str());

    // open to public: no code, no login
    let other = running_busybox(&ana, "web-two").await;
    let second = open(&ana, &other, "httpd", json!({"open_to_public": true})).await;
    assert_eq!(second["launch_url"], Value::Null);
    let public_url = second["app"]["open"]["url"].as_str().unwrap().to_string();
    assert_ne!(public_url, url);
    let anon = srv.client().http().get(&public_url).send().await.unwrap();
    assert_eq!(anon.status(), StatusCode::OK);

    // closing an app unpublishes it; it can be opened again elsewhere
    assert_eq!(
        ana.delete(&format!("/api/v1/sessions/{other}/apps/httpd"))
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    problem_text(
        srv.client().http().get(&public_url).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        ana.delete(&format!("/api/v1/sessions/{other}/apps/httpd"))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
    problem(
        bo.delete(&format!("/api/v1/sessions/{id}/apps/httpd"))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let reopened = open(&ana, &other, "httpd", json!({})).await;
    assert_ne!(
        reopened["app"]["open"]["url"],
        public_url.as_str(),
        "a new host"
    );

    // the app closes when the session ends
    ana.delete(&format!("/api/v1/sessions/{id}")).await;
    ana.wait_status(&id, "TERMINATED").await;
    problem_text(
        ana.http().get(&url).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;

    // unknown apps and sessions that do not run
    problem(
        ana.post(&format!("/api/v1/sessions/{other}/apps/nope"), &json!({}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        ana.post(&format!("/api/v1/sessions/{id}/apps/httpd"), &json!({}))
            .await,
        StatusCode::CONFLICT,
    )
    .await;
}

/// Who owns `name` in `folder` on the server's disk (uid, gid).
async fn owner_on_disk(srv: &TestServer, c: &Api, folder: &Value, name: &str) -> (u32, u32) {
    use std::os::unix::fs::MetadataExt;
    let me = c.get_json("/api/v1/auth/me").await;
    let path = srv
        .dir
        .path()
        .join("folders")
        .join(me["id"].as_str().unwrap())
        .join(folder["id"].as_str().unwrap())
        .join(name);
    let meta = std::fs::metadata(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (meta.uid(), meta.gid())
}

/// The app proxy's own refusals are short plain texts (the browser shows
/// them as they are).
async fn problem_text(res: reqwest::Response, status: StatusCode) -> String {
    assert_eq!(res.status(), status, "{}", res.url());
    res.text().await.unwrap()
}

#[tokio::test]
async fn jupyterlab_starts_with_a_python_session_and_carries_the_data_stack() {
    let srv = TestServer::start_with(|c| {
        c.app_ports = (31020, 31039);
        c.warm_apps = true;
    })
    .await;
    let c = srv.admin().await;
    let folder = c
        .post_json("/api/v1/folders", &json!({"name": "notes"}))
        .await;
    let s = c
        .launch(
            json!({"name": "notebook", "environment": "berth/python", "version": "3.11",
                       "resources": {"cpu": 1, "mem": "512m"}, "mounts": ["notes"]}),
        )
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    let running = c.wait_status(&id, "RUNNING").await;
    let cid = running["kernels"][0]["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    let apps = c.get_json(&format!("/api/v1/sessions/{id}/apps")).await;
    let names: Vec<_> = apps["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["jupyter", "jupyternotebook", "sshd", "terminal"]);
    // the data stack people expect is there
    let stack = tokio::process::Command::new("docker")
        .args([
            "exec",
            &cid,
            "python3",
            "-c",
            "import numpy, pandas, matplotlib, scipy, sklearn; print(numpy.arange(7).sum() * 2)",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&stack.stdout).trim(),
        "42",
        "{}",
        String::from_utf8_lossy(&stack.stderr)
    );
    // Jupyter starts with the session, before anyone opens it (its first
    // open then does not wait for it)
    let ip = berth_testkit::container_ip(&cid).await;
    let mut listening = false;
    for _ in 0..600 {
        if reqwest::get(format!("http://{ip}:8081/api/status"))
            .await
            .is_ok()
        {
            listening = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(listening, "Jupyter did not start with the session");
    let opened = open(&c, &id, "jupyter", json!({})).await;
    let url = enter(&c, &opened).await;
    let status = c
        .http()
        .get(format!("{url}api/status"))
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), StatusCode::OK);
    let body: Value = status.json().await.unwrap();
    assert!(body.get("kernels").is_some(), "{body}");
    // "Jupyter" is JupyterLab
    let lab = c.http().get(format!("{url}lab")).send().await.unwrap();
    assert_eq!(lab.status(), StatusCode::OK);
    assert!(lab.text().await.unwrap().contains("JupyterLab"));

    // what Jupyter writes into a mounted folder is work's
    let saved = c
        .http()
        .put(format!("{url}api/contents/notes/from-jupyter.txt"))
        .json(&json!({"type": "file", "format": "text", "content": "42"}))
        .send()
        .await
        .unwrap();
    assert!(saved.status().is_success(), "{}", saved.status());
    assert_eq!(
        owner_on_disk(&srv, &c, &folder, "from-jupyter.txt").await,
        (1000, 1000)
    );

    // a package installed with `pip install --user` into the mounted folder
    // is found by Python (the kernel's interpreter) in a later session
    let pip = "mkdir -p /tmp/probe/berthprobe && echo 'ANSWER = 42' > /tmp/probe/berthprobe/__init__.py && \
        printf 'from setuptools import setup\nsetup(name=\"berthprobe\", version=\"1.0\", packages=[\"berthprobe\"])\n' > /tmp/probe/setup.py && \
        PYTHONUSERBASE=/home/work/notes/.local pip install -q --user --no-index --no-build-isolation /tmp/probe";
    let installed = tokio::process::Command::new("docker")
        .args(["exec", &cid, "sh", "-c", pip])
        .output()
        .await
        .unwrap();
    assert!(
        installed.status.success(),
        "{}",
        String::from_utf8_lossy(&installed.stderr)
    );
    let later = c
        .launch(
            json!({"name": "later", "environment": "berth/python", "version": "3.11",
                       "resources": {"cpu": 0.5, "mem": "256m"}, "mounts": ["notes"]}),
        )
        .await;
    let later = c
        .wait_status(later["id"].as_str().unwrap(), "RUNNING")
        .await;
    let later_cid = later["kernels"][0]["container_id"].as_str().unwrap();
    let found = tokio::process::Command::new("docker")
        .args([
            "exec",
            later_cid,
            "python3",
            "-c",
            "import berthprobe; print(berthprobe.ANSWER)",
        ])
        .output()
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&found.stdout).trim(),
        "42",
        "{}",
        String::from_utf8_lossy(&found.stderr)
    );

    // from the host, straight to the container: Jupyter wants the secret
    // (its address, as above)
    let direct = reqwest::get(format!("http://{ip}:8081/api/kernels"))
        .await
        .unwrap();
    assert_eq!(
        direct.status(),
        StatusCode::FORBIDDEN,
        "no secret, no notebook"
    );
    let guessed = reqwest::Client::new()
        .get(format!("http://{ip}:8081/api/kernels"))
        .header("authorization", "token guessed")
        .send()
        .await
        .unwrap();
    assert_eq!(guessed.status(), StatusCode::FORBIDDEN);
    // and the secret is in no answer of the API
    let listed = c
        .get_json(&format!("/api/v1/sessions/{id}"))
        .await
        .to_string()
        + &c.get_json(&format!("/api/v1/sessions/{id}/apps"))
            .await
            .to_string();
    assert!(!listed.to_lowercase().contains("secret"), "{listed}");
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The terminal of session `id`, as a script with an API token would open it.
async fn terminal(srv: &TestServer, token: &str, id: &str) -> Ws {
    let url = srv
        .url(&format!("/api/v1/sessions/{id}/terminal?cols=80&rows=24"))
        .replace("http://", "ws://");
    let mut req = url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    tokio_tungstenite::connect_async(req)
        .await
        .expect("terminal websocket")
        .0
}

async fn type_keys(ws: &mut Ws, keys: &str) {
    let msg = json!({"type": "input", "data": keys}).to_string();
    ws.send(Message::Text(msg.into())).await.unwrap();
}

/// Reads the terminal until `done` holds for all that it printed.
async fn read_until(ws: &mut Ws, done: impl Fn(&str) -> bool) -> String {
    let mut seen = String::new();
    let read = async {
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Binary(b) = msg {
                seen.push_str(&String::from_utf8_lossy(&b));
                if done(&seen) {
                    return;
                }
            }
        }
    };
    // a bound so a broken build fails instead of hanging; not a timing assertion
    let _ = tokio::time::timeout(std::time::Duration::from_secs(60), read).await;
    seen
}

#[tokio::test]
async fn the_terminal_is_a_tty_in_the_container_and_resizes() {
    let srv = TestServer::start_with(|c| c.app_ports = (31040, 31049)).await;
    let (ana, _) = srv.new_user("ana@test.berth", "user").await;
    let (bo, _) = srv.new_user("bo@test.berth", "user").await;
    let id = running_busybox(&ana, "with-tty").await;
    let token = ana
        .post_json("/api/v1/auth/tokens", &json!({"name": "tty"}))
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    // refusals come before the upgrade, as problems
    problem(
        bo.get(&format!("/api/v1/sessions/{id}/terminal")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        srv.client()
            .get(&format!("/api/v1/sessions/{id}/terminal"))
            .await,
        StatusCode::UNAUTHORIZED,
    )
    .await;

    let mut ws = terminal(&srv, &token, &id).await;
    type_keys(&mut ws, "echo hi-from-$((6*7))\r").await;
    let out = read_until(&mut ws, |s| s.contains("hi-from-42")).await;
    assert!(out.contains("hi-from-42"), "{out:?}");
    let resize = json!({"type": "resize", "cols": 100, "rows": 40}).to_string();
    ws.send(Message::Text(resize.into())).await.unwrap();
    type_keys(&mut ws, "stty size\r").await;
    let out = read_until(&mut ws, |s| s.contains("40 100")).await;
    assert!(out.contains("40 100"), "{out:?}");
    // what is typed counts as traffic (on every replica within a second
    // or two: each tells the others what passed through it)
    let mut bytes = 0;
    for _ in 0..50 {
        let apps = ana.get_json(&format!("/api/v1/sessions/{id}/apps")).await;
        bytes = apps["traffic"]["bytes"].as_u64().unwrap();
        if bytes > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(bytes > 0, "the terminal's bytes are not counted");
}

#[tokio::test]
async fn ssh_and_sftp_reach_the_container_with_the_session_key() {
    let srv = TestServer::start_with(|c| c.app_ports = (31050, 31059)).await;
    let c = srv.admin().await;
    let folder = c
        .post_json("/api/v1/folders", &json!({"name": "shared"}))
        .await;
    let s = c
        .launch(
            json!({"name": "ssh-box", "environment": "berth/python", "version": "3.11",
                       "resources": {"cpu": 0.5, "mem": "256m"}, "mounts": ["shared"]}),
        )
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    let running = c.wait_status(&id, "RUNNING").await;
    let cid = running["kernels"][0]["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    // a TCP app takes the preferred port of the pool when it is free
    let opened = open(&c, &id, "sshd", json!({"preferred_port": 31055})).await;
    assert_eq!(opened["preferred_port_used"], true);
    assert_eq!(
        opened["launch_url"],
        Value::Null,
        "sshd checks its key itself"
    );
    let port = opened["app"]["open"]["port"].as_u64().unwrap();
    assert_eq!(port, 31055);
    assert_eq!(
        opened["ssh_command"],
        format!("ssh -i id_container -p {port} work@127.0.0.1").as_str()
    );
    assert_eq!(
        opened["sftp_command"],
        format!("sftp -i id_container -P {port} work@127.0.0.1").as_str()
    );
    // the owner downloads the key from the SSH tile, named as the commands
    // name it; nobody else may, not even a superadmin who sees the session
    srv.create_user(&c, "ana@example.com", "ana-password-1", "user")
        .await;
    let ana = srv.login("ana@example.com", "ana-password-1").await;
    let hers = c
        .launch(
            json!({"name": "anas-box", "image": BUSYBOX, "owner_email": "ana@example.com",
                       "resources": {"cpu": 0.25, "mem": "64m"}}),
        )
        .await;
    let hers = hers["id"].as_str().unwrap().to_string();
    c.wait_status(&hers, "RUNNING").await;
    let refused = c.get(&format!("/api/v1/sessions/{hers}/ssh-key")).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    // (her image has no SSH server: no key to give)
    let none = ana.get(&format!("/api/v1/sessions/{hers}/ssh-key")).await;
    assert_eq!(none.status(), StatusCode::CONFLICT);
    let res = c.get(&format!("/api/v1/sessions/{id}/ssh-key")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-disposition"],
        "attachment; filename=\"id_container\""
    );
    assert_eq!(res.headers()["cache-control"], "no-store");
    let key = res.bytes().await.unwrap();
    let in_container = tokio::process::Command::new("docker")
        .args(["exec", &cid, "cat", "/home/work/id_container"])
        .output()
        .await
        .unwrap();
    assert_eq!(key.as_ref(), in_container.stdout.as_slice());
    assert!(String::from_utf8_lossy(&key).contains("PRIVATE KEY"));
    let theirs = ana.get(&format!("/api/v1/sessions/{id}/ssh-key")).await;
    assert_eq!(theirs.status(), StatusCode::NOT_FOUND);
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("id_container");
    std::fs::write(&key_path, &key).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let opts = [
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "BatchMode=yes",
    ];
    let ssh = tokio::process::Command::new("ssh")
        .args(["-i", key_path.to_str().unwrap(), "-p", &port.to_string()])
        .args(opts)
        .args(["work@127.0.0.1", "echo ssh-$((6*7)) && whoami"])
        .output()
        .await
        .unwrap();
    let out = String::from_utf8_lossy(&ssh.stdout);
    assert!(
        ssh.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&ssh.stderr)
    );
    assert!(out.contains("ssh-42") && out.contains("work"), "{out}");
    // sftp puts a file; the terminal sees it
    std::fs::write(dir.path().join("hello.txt"), "from sftp").unwrap();
    let batch = dir.path().join("batch");
    std::fs::write(
        &batch,
        format!(
            "put {0} /home/work/hello.txt\nput {0} /home/work/shared/hello.txt\n",
            dir.path().join("hello.txt").display()
        ),
    )
    .unwrap();
    let sftp = tokio::process::Command::new("sftp")
        .args([
            "-i",
            key_path.to_str().unwrap(),
            "-P",
            &port.to_string(),
            "-b",
            batch.to_str().unwrap(),
        ])
        .args(opts)
        .arg("work@127.0.0.1")
        .output()
        .await
        .unwrap();
    assert!(
        sftp.status.success(),
        "{}",
        String::from_utf8_lossy(&sftp.stderr)
    );
    // the upload into the mounted folder is work's, on the server's disk too
    assert_eq!(
        owner_on_disk(&srv, &c, &folder, "hello.txt").await,
        (1000, 1000)
    );
    let token = c
        .post_json("/api/v1/auth/tokens", &json!({"name": "tty"}))
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let mut ws = terminal(&srv, &token, &id).await;
    type_keys(
        &mut ws,
        "cat /home/work/hello.txt; echo; tmux display -p '#S'\r",
    )
    .await;
    let out = read_until(&mut ws, |s| s.contains("from sftp") && s.contains("\nmain")).await;
    assert!(out.contains("from sftp"), "{out:?}");
    assert!(out.contains("main"), "the terminal runs tmux: {out:?}");
    // key material never shows in the API
    let listed = c
        .get_json(&format!("/api/v1/sessions/{id}/apps"))
        .await
        .to_string()
        + &c.get_json(&format!("/api/v1/sessions/{id}"))
            .await
            .to_string()
        + &c.get_json(&format!("/api/v1/sessions/{id}/logs"))
            .await
            .to_string();
    assert!(!listed.contains("PRIVATE KEY") && !listed.contains("ssh-ed25519"));
}

#[tokio::test]
async fn preopen_ports_follow_the_rules_and_reach_what_the_user_serves() {
    let srv = TestServer::start_with(|c| {
        c.app_ports = (31060, 31069);
        c.max_preopen_ports = 3;
    })
    .await;
    let c = srv.admin().await;
    let body = |ports: Value| {
        json!({"name": "ports-box", "image": BUSYBOX, "resources": {"cpu": 0.25, "mem": "64m"},
               "preopen_ports": ports})
    };
    // the shared rules, then the image's services and the server's limit
    for (ports, code) in [
        (json!([80]), "out_of_range"),
        (json!([8090, 8090]), "duplicate"),
        (json!([8000]), "service_port"),
        (json!([8090, 8091, 8092, 8093]), "too_many"),
    ] {
        let p = problem(
            c.post("/api/v1/sessions", &body(ports.clone())).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(p["errors"][0]["field"], "preopen_ports", "{ports}");
        assert_eq!(p["errors"][0]["code"], code, "{ports}");
        // the port the rule refused, and the bounds, for any client to say
        if code == "out_of_range" {
            assert_eq!(
                p["errors"][0]["params"],
                json!({"value": "80", "min": "1024", "max": "65535"})
            );
        }
    }
    let envs = c.get_json("/api/v1/environments").await;
    assert_eq!(envs["max_preopen_ports"], 3);

    let s = c.launch(body(json!([8090, 9000]))).await;
    let id = s["id"].as_str().unwrap().to_string();
    assert_eq!(s["preopen_ports"], json!([8090, 9000]));
    let running = c.wait_status(&id, "RUNNING").await;
    let cid = running["kernels"][0]["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    let apps = c.get_json(&format!("/api/v1/sessions/{id}/apps")).await;
    let listed: Vec<_> = apps["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["name"].as_str().unwrap(),
                a["kind"].as_str().unwrap(),
                a["protocol"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("httpd", "service", "http"),
            ("8090", "preopen", "http"),
            ("9000", "preopen", "http"),
            ("terminal", "terminal", "pty")
        ]
    );
    // it opens before anything listens (the guide's blank page) …
    let opened = open(&c, &id, "8090", json!({})).await;
    let url = enter_unchecked(&c, &opened).await;
    let nothing = c.http().get(&url).send().await.unwrap();
    assert_eq!(nothing.status(), StatusCode::BAD_GATEWAY);
    // saying what to do about it
    let said = nothing.text().await.unwrap();
    assert!(
        said.contains("Start a server on port 8090 inside the session"),
        "{said}"
    );
    // … and reaches the server the user starts on that port
    let started = tokio::process::Command::new("docker")
        .args(["exec", &cid, "httpd", "-p", "8090", "-h", "/var/www"])
        .status()
        .await
        .unwrap();
    assert!(started.success());
    let page = c.http().get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("berth"));
    // only the listed ports open
    problem(
        c.post(&format!("/api/v1/sessions/{id}/apps/8091"), &json!({}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    c.delete(&format!("/api/v1/sessions/{id}")).await;
    c.wait_status(&id, "TERMINATED").await;
    problem_text(
        c.http().get(&url).send().await.unwrap(),
        StatusCode::NOT_FOUND,
    )
    .await;
}

/// [`enter`] for an app that may not answer yet (the code still becomes
/// the cookie: the launch answers before the app is asked).
async fn enter_unchecked(c: &Api, opened: &Value) -> String {
    let launch = opened["launch_url"].as_str().expect("a launch URL");
    let res = c.http().get(launch).send().await.unwrap();
    // the redirect's target is the app itself, which may not listen yet
    assert!(
        [StatusCode::OK, StatusCode::BAD_GATEWAY].contains(&res.status()),
        "{}",
        res.status()
    );
    opened["app"]["open"]["url"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn options_the_server_turned_off_are_hidden_and_refused() {
    let srv = TestServer::start_with(|c| {
        c.app_ports = (31070, 31079);
        c.allow_public_apps = false;
        c.allow_preferred_port = false;
    })
    .await;
    let c = srv.admin().await;
    let id = running_busybox(&c, "no-options").await;
    let apps = c.get_json(&format!("/api/v1/sessions/{id}/apps")).await;
    assert_eq!(apps["open_to_public"], false);
    assert_eq!(apps["preferred_ports"], Value::Null);
    let p = problem(
        c.post(
            &format!("/api/v1/sessions/{id}/apps/httpd"),
            &json!({"open_to_public": true, "preferred_port": 31075}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        berth_testkit::field_errors(&p),
        [
            ("open_to_public".to_string(), "not_allowed".to_string()),
            ("preferred_port".to_string(), "not_allowed".to_string())
        ]
    );
    // without them the app opens as usual
    let opened = open(&c, &id, "httpd", json!({})).await;
    assert_eq!(opened["app"]["open"]["public"], false);
}

/// A WebSocket server for one connection at a time, in busybox sh: the
/// handshake (with the real `Sec-WebSocket-Accept`), a `hello` frame, then
/// `got` once the client's 8-byte text frame has arrived.
const WS_SERVER: &str = r#"#!/bin/sh
while read -r line; do
  line=$(printf '%s' "$line" | tr -d '\r')
  case "$line" in
    [Ss]ec-[Ww]eb[Ss]ocket-[Kk]ey:*) key=$(printf '%s' "${line#*:}" | tr -d ' ') ;;
    "") break ;;
  esac
done
accept=$(printf '%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11' "$key" | sha1sum | cut -d' ' -f1 | xxd -r -p | base64)
printf 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n' "$accept"
printf '\201\005hello'
dd bs=1 count=14 >/dev/null 2>&1
printf '\201\003got'
sleep 2
"#;

/// Opens a WebSocket to an app's `url` (its own host name, resolved to
/// this machine) with a bearer token; the handshake's refusal as an error.
async fn app_socket(
    url: &str,
    token: &str,
) -> Result<tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>, String> {
    let ws_url = url.replace("http://", "ws://");
    let port = reqwest::Url::parse(url).unwrap().port().unwrap();
    let mut req = ws_url.into_client_request().unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    tokio_tungstenite::client_async(req, tcp)
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn a_websocket_passes_the_app_proxy_for_its_owner_only() {
    let srv = TestServer::start_with(|c| c.app_ports = (31070, 31079)).await;
    let (ana, _) = srv.new_user("ana@test.berth", "user").await;
    let (bo, _) = srv.new_user("bo@test.berth", "user").await;
    let token = |c: Api| async move {
        c.post_json("/api/v1/auth/tokens", &json!({"name": "ws"}))
            .await["token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (ana_token, bo_token) = (token(ana.clone()).await, token(bo.clone()).await);
    let s = ana
        .launch(json!({"name": "ws-box", "image": BUSYBOX,
                       "resources": {"cpu": 0.25, "mem": "64m"}, "preopen_ports": [8090]}))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    let running = ana.wait_status(&id, "RUNNING").await;
    let cid = running["kernels"][0]["container_id"].as_str().unwrap();
    let script = format!(
        "printf '%s' '{}' > /tmp/ws.sh && chmod +x /tmp/ws.sh",
        WS_SERVER.replace('\'', r"'\''")
    );
    berth_testkit::docker(&["exec", cid, "sh", "-c", &script]).await;
    berth_testkit::docker(&[
        "exec",
        "-d",
        cid,
        "nc",
        "-ll",
        "-p",
        "8090",
        "-e",
        "/tmp/ws.sh",
    ])
    .await;
    let opened = open(&ana, &id, "8090", json!({})).await;
    let url = opened["app"]["open"]["url"].as_str().unwrap().to_string();

    // another user's token is refused before any upgrade
    let refused = app_socket(&url, &bo_token).await.unwrap_err();
    assert!(refused.contains("40"), "{refused}");

    // the owner's socket carries frames both ways (the server may still be
    // starting: it is retried until it answers)
    let mut ws = None;
    for _ in 0..100 {
        if let Ok(s) = app_socket(&url, &ana_token).await {
            ws = Some(s);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let mut ws = ws.expect("the owner's WebSocket opens");
    let first = ws.next().await.unwrap().unwrap();
    assert_eq!(first, Message::Text("hello".into()));
    ws.send(Message::Text("ping-123".into())).await.unwrap();
    let second = ws.next().await.unwrap().unwrap();
    assert_eq!(
        second,
        Message::Text("got".into()),
        "the server read the client's frame"
    );
    drop(ws);
    ana.delete(&format!("/api/v1/sessions/{id}")).await;
    ana.wait_status(&id, "TERMINATED").await;
}
