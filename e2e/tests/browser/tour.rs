//! A screenshot tour of the views people meet first, in English and Korean,
//! wide (1400×900) and phone-sized (390×844): `target/e2e-shots/tour-*.png`.
//! It uses only selectors every version of the UI has had since the
//! launcher and the detail panel landed, so the same tour run on an older
//! commit gives the "before" of each pair. Every shot is also checked with
//! axe-core, and the tour asserts what the shots are meant to show.

use berth_e2e::thirtyfour::prelude::*;
use berth_e2e::{Browser, Server, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::json;

const IMAGE: &str = "berth/busybox:latest";

/// Opens a session's panel by its name (the list redraws on every event:
/// a name found a moment ago may be gone, so try again).
async fn open(b: &Browser, id: &str) {
    let css = format!("tr[data-session-id='{id}'] .session-open");
    for _ in 0..50 {
        // mid-screen, clear of a toast at the bottom (a failed batch's stays)
        let _ = b
            .driver
            .execute(
                "const e = document.querySelector(arguments[0]); if (e) e.scrollIntoView({block: 'center'});",
                vec![json!(css)],
            )
            .await;
        if b.el(&css).await.click().await.is_ok() {
            b.el("#session-detail").await;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the name of {id} could not be clicked");
}

/// Switches the UI language from the user menu (the second choice is Korean).
async fn korean(b: &Browser) {
    b.el("#user-menu-button").await.click().await.unwrap();
    b.el("#user-menu [role='menuitemradio']:nth-of-type(2)")
        .await
        .click()
        .await
        .unwrap();
    b.wait_contains("h1", "세션").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tour_of_the_first_views_in_both_languages_and_sizes() {
    let srv = Server::start_ui().await;
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let b = Browser::start().await;
    b.driver.set_window_rect(0, 0, 1400, 900).await.unwrap();
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let running = api
        .launch(json!({"name": "tour-running", "image": IMAGE,
               "resources": {"cpu": 0.25, "mem": "512m", "shmem": "64m"}}))
        .await;
    let running = running["id"].as_str().unwrap().to_string();
    api.launch(
        json!({"type": "batch", "name": "tour-failed", "image": IMAGE,
           "startup_command": "exit 3", "resources": {"cpu": 0.1, "mem": "32m"}}),
    )
    .await;
    let at = chrono::Utc::now() + chrono::Duration::hours(1);
    let waiting = api
        .launch(
            json!({"type": "batch", "name": "tour-waiting", "image": IMAGE,
               "startup_command": "true", "starts_at": at.to_rfc3339(),
               "resources": {"cpu": 0.1, "mem": "32m"}}),
        )
        .await;
    let waiting = waiting["id"].as_str().unwrap().to_string();
    b.wait_session("tour-running", "RUNNING").await;
    b.wait_session("tour-waiting", "PENDING").await;

    // wide, the panel open beside the table, a toast showing
    open(&b, &running).await;
    b.shot("tour-01-wide-panel").await;
    let columns: String = b
        .driver
        .execute(
            "const p = document.getElementById('sessions-panel'); \
             return p.scrollWidth > p.clientWidth + 1 ? 'scrolls' : 'fits';",
            vec![],
        )
        .await
        .unwrap()
        .convert()
        .unwrap();
    assert_eq!(
        columns, "fits",
        "the table scrolls sideways beside the panel"
    );

    // why a session waits, in English, then in Korean
    open(&b, &waiting).await;
    b.el("#detail-info").await.click().await.unwrap();
    b.el("#detail-info-box").await;
    b.shot("tour-02-waiting-info-en").await;
    korean(&b).await;
    if b.driver.find(By::Css("#detail-info-box")).await.is_err() {
        open(&b, &waiting).await;
        b.el("#detail-info").await.click().await.unwrap();
    }
    let info = b.el("#detail-info-box").await.text().await.unwrap();
    b.shot("tour-03-waiting-info-ko").await;
    assert!(
        !info.contains("waits for") && !info.contains("reserved_time"),
        "English leaks into Korean: {info}"
    );

    // finished sessions, a failed batch among them
    b.el("#tab-finished").await.click().await.unwrap();
    b.wait_session("tour-failed", "TERMINATED").await;
    b.shot("tour-04-finished-ko").await;

    // the launcher in Korean: the environment page, then the review
    b.el("#start-button").await.click().await.unwrap();
    b.el("#wizard-next").await.click().await.unwrap();
    b.el("#environment").await;
    b.shot("tour-05-launcher-environment-ko").await;
    b.el("#step-review").await.click().await.unwrap();
    b.shot("tour-06-launcher-review-ko").await;
    let review = b.el("main").await.text().await.unwrap();
    assert!(
        !review.contains("기본값"),
        "an empty name reads as a random one"
    );

    // phone-sized
    b.set_viewport(390, 844).await;
    b.shot("tour-07-narrow-launcher").await;
    // back returns to the Finished tab and the panel it left (the URL
    // keeps them): close the panel, then back to Running
    b.driver.back().await.unwrap();
    b.el("#sessions-table").await;
    if b.driver.find(By::Css("#session-detail")).await.is_ok() {
        b.press(Key::Escape).await;
        b.wait_gone("#session-detail").await;
    }
    b.el("#tab-running").await.click().await.unwrap();
    b.wait_session("tour-running", "RUNNING").await;
    b.shot("tour-08-narrow-sessions").await;
    open(&b, &running).await;
    b.shot("tour-09-narrow-panel").await;
    let wide: bool = b
        .driver
        .execute(
            "return document.documentElement.scrollWidth > window.innerWidth + 1;",
            vec![],
        )
        .await
        .unwrap()
        .convert()
        .unwrap();
    assert!(!wide, "the phone-sized page scrolls sideways");
    b.close().await;
}
