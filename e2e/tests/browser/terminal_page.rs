//! The web terminal in real Chromium: xterm.js (served by berth, no CDN)
//! on the terminal WebSocket of a running session; typed keys run in the
//! container and the output shows.

use std::time::Duration;

use berth_e2e::thirtyfour::prelude::*;
use berth_e2e::{Browser, Server, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminal_page_runs_commands_in_the_session() {
    let srv = Server::start_ui().await;
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let s = api
        .launch(json!({"name": "term-box", "image": "berth/busybox:latest",
                       "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    api.wait_status(&id, "RUNNING").await;

    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.driver
        .goto(srv.url(&format!("/static/terminal.html?session={id}&name=term-box")))
        .await
        .unwrap();
    b.wait_contains("#title", "term-box").await;
    let input = b.el(".xterm-helper-textarea").await;
    let mut shown = String::new();
    for _ in 0..100 {
        shown = b.terminal_screen().await;
        if !shown.trim().is_empty() {
            break; // the shell's prompt arrived
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    input.send_keys("echo e2e-$((6*7))").await.unwrap();
    input.send_keys(Key::Enter).await.unwrap();
    for _ in 0..150 {
        shown = b.terminal_screen().await;
        if shown.lines().any(|l| l.trim() == "e2e-42") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(shown.lines().any(|l| l.trim() == "e2e-42"), "{shown}");
    b.shot("40-terminal").await;
    b.close().await;
}
