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
    let mut srv = ServerProcess::start(BIN, &["--shutdown-grace-secs", "3"]).await;
    let c = srv.admin().await;
    let s = c
        .launch(json!({"image": IMAGE, "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    c.wait_status(&id, "RUNNING").await;

    // two browser tabs following events
    let mut streams = Vec::new();
    for q in ["", "?all=true"] {
        let res = c.get(&format!("/api/v1/events{q}")).await;
        assert_eq!(res.status(), 200);
        streams.push(res.bytes_stream());
    }
    srv.signal("TERM").await;
    let status = srv
        .wait_exit(Duration::from_secs(30))
        .await
        .unwrap_or_else(|| panic!("still running 30 s after SIGTERM:\n{}", srv.output()));
    assert!(status.success(), "a clean exit: {status}\n{}", srv.output());
    for mut s in streams {
        // the stream ends (the server is gone); never hangs
        let end = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(Ok(_)) = s.next().await {}
        })
        .await;
        assert!(end.is_ok(), "an event stream outlived the server");
    }

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
