//! The UI's two builds: the first visit (sign-in, the session list) loads
//! the small one; a link to another page, the detail panel and the
//! dialogs the small one leaves out load the whole UI in its place, which
//! shows what was asked for, with Back returning to the list.

use std::time::Duration;

use berth_e2e::thirtyfour::prelude::*;
use berth_e2e::{session_row, Browser, Server, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::json;

const IMAGE: &str = "berth/busybox:latest";

/// Which build the page runs: `core` or `full`.
async fn build(b: &Browser) -> String {
    b.driver
        .execute(
            "const m = [...document.scripts].map(s => s.textContent).join(' ').match(/berth-(core|full)-/); \
             return m ? m[1] : '';",
            vec![],
        )
        .await
        .unwrap()
        .convert()
        .unwrap()
}

async fn wait_build(b: &Browser, want: &str) {
    let mut got = String::new();
    for _ in 0..200 {
        got = build(b).await;
        if got == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page should run the {want} build, it runs {got:?}");
}

/// Loads the list afresh (the small build) and clicks the button with
/// `class` in the row of the session "split".
async fn click_on_the_small_list(b: &Browser, srv: &Server, class: &str) {
    b.driver.goto(srv.url("/sessions")).await.unwrap();
    b.wait_session("split", "RUNNING").await;
    wait_build(b, "core").await;
    let button = format!(
        "{}//button[contains(@class,'{class}')]",
        session_row("split")
    );
    b.driver
        .query(By::XPath(button))
        .first()
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_visit_is_the_small_build_and_the_rest_loads_the_whole_ui() {
    let srv = Server::start_ui().await;
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let s = api
        .launch(json!({"type": "batch", "name": "split", "image": IMAGE,
                       "startup_command": "echo from-split; sleep 600",
                       "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    api.wait_status(&id, "RUNNING").await;

    let b = Browser::start().await;
    b.driver.goto(srv.url("/login")).await.unwrap();
    b.el("#login-email").await;
    wait_build(&b, "core").await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.wait_session("split", "RUNNING").await;
    wait_build(&b, "core").await;

    // a link to a page the small build lacks: the whole UI, its heading
    // focused as after any link; Back returns to the list
    b.el("#nav-data").await.click().await.unwrap();
    b.wait_for_path("/data").await;
    wait_build(&b, "full").await;
    b.wait_focus_css("#main h1").await;
    b.driver.back().await.unwrap();
    b.wait_for_path("/sessions").await;
    b.wait_session("split", "RUNNING").await;

    // the detail panel from the small build's list
    click_on_the_small_list(&b, &srv, "session-open").await;
    b.wait_text("#detail-image", IMAGE).await;
    wait_build(&b, "full").await;
    let url = b.driver.current_url().await.unwrap();
    assert_eq!(url.path(), "/sessions");
    assert_eq!(url.query(), Some(format!("session={id}").as_str()));

    // a dialog from the small build's Control column: over the list, with
    // the session's logs
    click_on_the_small_list(&b, &srv, "control-logs").await;
    b.wait_contains("#log-dialog", "from-split").await;
    wait_build(&b, "full").await;
    b.wait_for_path("/sessions").await;
    // and focus is in it, not behind it
    b.wait_focus_css("#log-dialog *").await;
    b.keys(Key::Escape).await;
    b.wait_gone("#log-dialog").await;
    b.wait_session("split", "RUNNING").await;

    // an address the small build serves never bounces: the server answers
    // the whole UI for every other path
    b.driver.goto(srv.url("/no-such-page")).await.unwrap();
    b.el("#main h1, main h1").await;
    wait_build(&b, "full").await;
    b.close().await;
}
