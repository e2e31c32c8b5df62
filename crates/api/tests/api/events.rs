//! The event stream: one user's stream never carries another user's
//! events, and a stream ends when its caller's login ends or no longer
//! allows it.

use std::time::Duration;

use berth_testkit::{Api, TestServer, USER_PASSWORD};
use futures_util::{Stream, StreamExt};
use serde_json::{json, Value};

const IMAGE: &str = "berth/busybox:latest";

type Bytes = Box<dyn Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin + Send>;

async fn open(c: &Api, query: &str) -> Bytes {
    let res = c.get(&format!("/api/v1/events{query}")).await;
    assert_eq!(res.status(), 200);
    Box::new(res.bytes_stream())
}

/// Every event frame's data until the stream ends or `quiet` passes with
/// nothing but keep-alives; `ended` says which.
async fn drain(stream: &mut Bytes, quiet: Duration) -> (Vec<Value>, bool) {
    let mut buf = String::new();
    let mut events = Vec::new();
    loop {
        match tokio::time::timeout(quiet, stream.next()).await {
            Err(_) => return (events, false),
            Ok(None) | Ok(Some(Err(_))) => return (events, true),
            Ok(Some(Ok(chunk))) => {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let frame: String = buf.drain(..end + 2).collect();
                    if let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) {
                        if let Ok(v) = serde_json::from_str(data) {
                            events.push(v);
                        }
                    }
                }
            }
        }
    }
}

/// Waits (bounded) for the stream to end.
async fn ends(stream: &mut Bytes) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => return false,
            Ok(None) | Ok(Some(Err(_))) => return true,
            Ok(Some(Ok(_))) => {}
        }
    }
}

#[tokio::test]
async fn a_stream_never_carries_another_users_events() {
    let srv = TestServer::start().await;
    let (alice, _) = srv.new_user("alice@test.berth", "user").await;
    let (bob, _) = srv.new_user("bob@test.berth", "user").await;
    let mut alice_stream = open(&alice, "").await;
    let mut bob_stream = open(&bob, "").await;
    let s = alice
        .launch(json!({"image": IMAGE, "resources": {"cpu": 0.1, "mem": "32m"}}))
        .await;
    let id = s["id"].as_str().unwrap();
    alice.wait_status(id, "RUNNING").await;
    alice.delete(&format!("/api/v1/sessions/{id}")).await;
    alice.wait_status(id, "TERMINATED").await;
    let (seen, _) = drain(&mut alice_stream, Duration::from_secs(2)).await;
    assert!(
        seen.iter()
            .any(|e| e["session_id"] == id && e["status"] == "TERMINATED"),
        "alice sees her session: {seen:?}"
    );
    let (leaked, ended) = drain(&mut bob_stream, Duration::from_secs(2)).await;
    assert!(leaked.is_empty(), "bob's stream carried {leaked:?}");
    assert!(
        !ended,
        "bob's stream is still open (it saw nothing, not nothing at all)"
    );
}

#[tokio::test]
async fn streams_end_when_their_login_ends_or_stops_allowing_them() {
    let srv = TestServer::start().await;
    let root = srv.admin().await;
    // a demoted admin's everyone-stream ends
    let (admin, admin_info) = srv.new_user("adm@test.berth", "admin").await;
    let mut all = open(&admin, "?all=true").await;
    let mut own = open(&admin, "").await;
    let uid = admin_info["id"].as_str().unwrap();
    let res = root
        .patch(&format!("/api/v1/users/{uid}"), &json!({"role": "user"}))
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        ends(&mut all).await,
        "the ?all=true stream of a demoted admin ends"
    );
    let (_, own_ended) = drain(&mut own, Duration::from_secs(1)).await;
    assert!(!own_ended, "their own stream is still allowed");

    // logout ends the cookie's streams
    let (user, user_info) = srv.new_user("u@test.berth", "user").await;
    let mut s = open(&user, "").await;
    user.post_empty("/api/v1/auth/logout").await;
    assert!(ends(&mut s).await, "logout ends the stream");

    // disabling ends every stream of the account
    let again = srv.login("u@test.berth", USER_PASSWORD).await;
    let mut s = open(&again, "").await;
    let uid = user_info["id"].as_str().unwrap();
    root.patch(
        &format!("/api/v1/users/{uid}"),
        &json!({"is_active": false}),
    )
    .await;
    assert!(ends(&mut s).await, "disabling ends the stream");

    // a revoked token's stream ends
    let token = root
        .post_json("/api/v1/auth/tokens", &json!({"name": "stream-token"}))
        .await;
    let bearer = srv.token_client(token["token"].as_str().unwrap());
    let mut s = open(&bearer, "").await;
    let tid = token["id"].as_str().unwrap();
    assert_eq!(
        root.delete(&format!("/api/v1/auth/tokens/{tid}"))
            .await
            .status(),
        204
    );
    assert!(ends(&mut s).await, "revoking ends the token's stream");
}
