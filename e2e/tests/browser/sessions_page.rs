//! The Sessions page in real Chromium: the live list, the detail panel with
//! every field, logs, rename, terminate and its Info; toasts and the bell;
//! one user never sees another's sessions.

use berth_e2e::thirtyfour::prelude::*;
use berth_e2e::{Browser, Server, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::json;

const IMAGE: &str = "berth/busybox:latest";

async fn text(b: &Browser, css: &str) -> String {
    b.el(css).await.text().await.unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn detail_panel_logs_rename_and_terminate() {
    let srv = Server::start_ui().await;
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // launched elsewhere (the API), it shows up here by itself
    let s = api
        .launch(json!({"type": "batch", "name": "logs-demo", "image": IMAGE,
               "startup_command": "echo hello-from-berth; sleep 600",
               "resources": {"cpu": 0.5, "mem": "96m"}}))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    b.wait_session("logs-demo", "RUNNING").await;

    // the detail panel: every field
    b.el(&format!("tr[data-session-id='{id}'] .session-open"))
        .await
        .click()
        .await
        .unwrap();
    b.wait_focus("detail-title").await;
    b.wait_text("#detail-id", &id).await;
    b.wait_text("#detail-name", "logs-demo").await;
    b.wait_text("#detail-owner", ADMIN_EMAIL).await;
    b.wait_text("#detail-status", "RUNNING").await;
    b.wait_text("#detail-image", IMAGE).await;
    b.wait_text("#detail-mounts", "None").await;
    b.wait_contains("#detail-resources", "0.5 CPU · 96 MiB")
        .await;
    b.wait_text("#detail-agent", "local").await;
    b.wait_contains("#detail-cluster", "× 1").await;
    assert!(!text(&b, "#detail-created").await.is_empty());
    b.wait_contains("#detail-kernels", "main1").await;
    b.wait_contains("#detail-kernels", "main").await;
    // the elapsed time ticks
    let first = text(&b, "#detail-elapsed").await;
    assert!(
        first.len() == 8 && first.chars().nth(2) == Some(':'),
        "{first}"
    );
    for _ in 0..100 {
        if text(&b, "#detail-elapsed").await != first {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_ne!(
        text(&b, "#detail-elapsed").await,
        first,
        "elapsed should tick"
    );
    // live usage from the engine, within the 96 MiB limit
    b.wait_contains("#usage-mem", "/ 96 MiB").await;
    b.wait_contains("#usage-cpu", "%").await;
    b.wait_contains("#usage-net", "↓").await;
    b.shot("30-session-detail").await;

    // logs: the container's output; refresh and follow work, Escape closes
    b.el("#detail-logs").await.click().await.unwrap();
    b.wait_contains("#log-output", "hello-from-berth").await;
    b.el("#log-refresh").await.click().await.unwrap();
    b.el("#log-follow").await.click().await.unwrap();
    b.wait_contains("#log-output", "hello-from-berth").await;
    // Download saves the shown log as <session name>.log
    b.el("#log-download").await.click().await.unwrap();
    let saved = b.wait_download("logs-demo.log").await;
    assert!(
        saved.contains("hello-from-berth"),
        "downloaded log: {saved:?}"
    );
    b.shot("31-session-logs").await;
    b.press(Key::Escape).await;
    b.wait_gone("#log-dialog").await;
    // a toast closes by its ×: an ERROR toast never closes by itself, so
    // only the button can make this one go
    let broken = api
        .launch(json!({"name": "breaks", "image": IMAGE, "resources": {"cpu": 0.1, "mem": "32m"}}))
        .await;
    let broken_id = broken["id"].as_str().unwrap().to_string();
    let running = api.wait_status(&broken_id, "RUNNING").await;
    let cid = running["kernels"][0]["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    berth_e2e::docker(&["kill", &cid]).await;
    api.wait_status(&broken_id, "ERROR").await;
    let sticky = format!(".toast-error[id='toast-{broken_id}']");
    b.el(&sticky).await;
    for close in b.driver.find_all(By::Css(".toast-close")).await.unwrap() {
        let _ = close.click().await;
    }
    b.wait_gone(".toast").await;
    // then per-kernel logs from the kernels table
    b.el(".kernel-logs").await.click().await.unwrap();
    b.wait_contains("#log-output", "hello-from-berth").await;
    b.el("#log-close").await.click().await.unwrap();
    b.wait_gone("#log-dialog").await;

    // rename: the shared rule rejects a bad name inline, a good one sticks
    // (Escape closes the editor, not the panel, and gives focus back to Rename)
    b.el("#detail-rename").await.click().await.unwrap();
    b.wait_focus("rename-input").await;
    b.press(Key::Escape).await;
    b.wait_focus("detail-rename").await;
    b.el("#session-detail").await;
    b.el("#detail-rename").await.click().await.unwrap();
    b.fill("#rename-input", "bad name").await;
    b.wait_text(
        "#rename-error",
        "Use letters, digits and _; - and . only between them; no spaces.",
    )
    .await;
    assert!(!b.el("#rename-save").await.is_enabled().await.unwrap());
    // another session's events do not close the editor
    api.launch(
        json!({"name": "bystander", "image": IMAGE, "resources": {"cpu": 0.25, "mem": "64m"}}),
    )
    .await;
    b.wait_session("bystander", "RUNNING").await;
    let typed = b.el("#rename-input").await.prop("value").await.unwrap();
    assert_eq!(typed.as_deref(), Some("bad name"));
    b.fill("#rename-input", "renamed-demo").await;
    b.el("#rename-save").await.click().await.unwrap();
    b.wait_text("#detail-name", "renamed-demo").await;
    b.wait_focus("detail-rename").await;
    b.wait_session("renamed-demo", "RUNNING").await;

    // terminate: the red button, a dialog, then Finished with its reason
    b.el("#detail-terminate").await.click().await.unwrap();
    b.wait_focus("terminate-cancel").await;
    b.wait_contains("#terminate-body", "renamed-demo").await;
    b.shot("32-session-terminate-dialog").await;
    b.el("#terminate-confirm").await.click().await.unwrap();
    b.wait_gone("#terminate-dialog").await;
    b.wait_no_session("renamed-demo").await;
    b.el("#tab-finished").await.click().await.unwrap();
    b.wait_session("renamed-demo", "TERMINATED").await;
    b.el(&format!("tr[data-session-id='{id}'] .session-open"))
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("#detail-status", "TERMINATED").await;
    // the tab and the open panel are in the URL: a reload shows the same
    let url = b.driver.current_url().await.unwrap();
    assert_eq!(
        url.query(),
        Some(format!("tab=finished&session={id}").as_str()),
        "{url}"
    );
    b.driver.refresh().await.unwrap();
    b.wait_text("#detail-status", "TERMINATED").await;
    let selected = b
        .el("#tab-finished")
        .await
        .attr("aria-selected")
        .await
        .unwrap();
    assert_eq!(
        selected.as_deref(),
        Some("true"),
        "the Finished tab is still chosen"
    );
    b.el("#detail-info").await.click().await.unwrap();
    // said in plain words; the code for scripts waits behind a detail
    b.wait_text("#detail-status-text", "Ended at your request.")
        .await;
    assert!(!b
        .el("#detail-status-info")
        .await
        .is_displayed()
        .await
        .unwrap());
    b.el("#detail-reason-code summary")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("#detail-status-info", "user-requested").await;
    b.shot("33-session-finished-info").await;

    // the topmost layer closes first: Escape closes a popup, not the panel
    // beneath it, even with focus in the panel; a click outside closes a popup
    b.el("#notification-bell").await.click().await.unwrap();
    b.el("#notification-list").await;
    b.press(Key::Escape).await;
    b.wait_gone("#notification-list").await;
    b.el("#session-detail").await;
    b.el("#user-menu-button").await.click().await.unwrap();
    b.el("#user-menu").await;
    b.driver
        .execute("document.getElementById('detail-title').focus()", vec![])
        .await
        .unwrap();
    b.press(Key::Escape).await;
    b.wait_gone("#user-menu").await;
    b.el("#session-detail").await;
    b.el("#notification-bell").await.click().await.unwrap();
    b.el("#notification-list").await;
    b.el("h1").await.click().await.unwrap();
    b.wait_gone("#notification-list").await;
    b.el("#session-detail").await;
    // with nothing above it, Escape closes the panel
    b.driver
        .execute("document.getElementById('detail-title').focus()", vec![])
        .await
        .unwrap();
    b.press(Key::Escape).await;
    b.wait_gone("#session-detail").await;
    // and focus goes back to the name that opened it
    let mut on = String::new();
    for _ in 0..50 {
        on = b
            .driver
            .execute(
                "const a = document.activeElement; \
                 return a && a.classList.contains('session-open') ? a.closest('tr').dataset.sessionId : '';",
                vec![],
            )
            .await
            .unwrap()
            .convert()
            .unwrap();
        if on == id {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(on, id, "focus returns to the session's name");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_raises_toasts_and_fills_the_bell() {
    let srv = Server::start_ui().await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.el("#start-button").await.click().await.unwrap();
    // a new page puts focus on its heading, not the page
    b.wait_focus("launch-title").await;
    b.fill("#session-name", "toasty").await;
    b.el("#wizard-skip").await.click().await.unwrap();
    b.wait_contains("#review-environment", "berth/busybox")
        .await;
    b.launch_and_confirm().await;
    b.wait_for_path("/sessions").await;
    b.wait_focus("sessions-title").await;

    // one toast per session, turned from PENDING to RUNNING in place
    b.wait_contains(".toasts", "Session toasty is running.")
        .await;
    let toasts = b.driver.find_all(By::Css(".toast")).await.unwrap();
    assert_eq!(toasts.len(), 1, "one toast for the session");
    b.shot("34-toast-running").await;
    // at 1400×900 with the detail panel open, the toast covers neither the
    // panel nor the pager (before: it sat over the panel's Agent and Cluster)
    b.driver.set_window_rect(0, 0, 1400, 900).await.unwrap();
    // bottom right, as the guide says
    let corner: Vec<f64> = b
        .driver
        .execute(
            "const r = document.querySelector('.toast').getBoundingClientRect(); \
             return [innerWidth - r.right, innerHeight - r.bottom, r.left];",
            vec![],
        )
        .await
        .unwrap()
        .convert()
        .unwrap();
    assert!(
        corner[0] < 40.0 && corner[1] < 40.0 && corner[2] > 700.0,
        "the toast is not in the bottom-right corner: {corner:?}"
    );
    b.el(".session-open").await.click().await.unwrap();
    b.el("#session-detail").await;
    assert!(
        !b.overlap(".toasts", "#session-detail").await,
        "a toast covers the panel"
    );
    assert!(
        !b.overlap(".toasts", ".pager").await,
        "a toast covers the pager"
    );
    b.shot("34b-toast-beside-panel").await;
    // nor is the table squeezed by the panel: it never scrolls sideways,
    // names and owners keep to one line, and values keep their units
    // (before: a scrollbar, and Created, Idle and Control out of sight)
    let squeezed: String = b
        .driver
        .execute(
            "const out = []; const p = document.getElementById('sessions-panel'); \
             if (p.scrollWidth > p.clientWidth + 1) out.push('scrolls ' + p.scrollWidth + ' > ' + p.clientWidth); \
             for (const el of document.querySelectorAll('#sessions-table .session-open, #sessions-table .owner-cell span')) { \
               const r = document.createRange(); r.selectNodeContents(el); \
               const tops = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.bottom))); \
               if (tops.size > 1) out.push('wraps: ' + el.textContent); } \
             for (const c of ['.idle-cell', '.control-cell']) { \
               const el = document.querySelector('#sessions-table ' + c); \
               if (!el || el.getBoundingClientRect().right > p.getBoundingClientRect().right) out.push(c + ' out of sight'); } \
             const res = document.getElementById('detail-resources').textContent; \
             if (!res.includes('64\\u00a0MiB')) out.push('unit apart: ' + res); \
             return out.join('; ');",
            vec![],
        )
        .await
        .unwrap()
        .convert()
        .unwrap();
    assert_eq!(squeezed, "", "the panel squeezes the table");
    b.el("#detail-close").await.click().await.unwrap();
    // its terminate button works (through the dialog)
    b.el(".toast .toast-terminate").await.click().await.unwrap();
    b.el("#terminate-confirm").await.click().await.unwrap();
    b.wait_contains(".toasts", "Session toasty has ended.")
        .await;

    // the bell counts them and lists them newest first
    let count: usize = text(&b, "#notification-count").await.parse().unwrap();
    assert!(count >= 4, "PENDING … TERMINATED, got {count}");
    // a reload keeps them for this tab, the unread count too, without
    // showing their toasts again
    b.driver.refresh().await.unwrap();
    b.wait_text("#notification-count", &count.to_string()).await;
    // the bell's name says what it is, not only a number
    b.wait_prop(
        "#notification-bell",
        "ariaLabel",
        &format!("Notifications, {count} unread"),
    )
    .await;
    let toasts = b.driver.find_all(By::Css(".toast")).await.unwrap();
    assert!(toasts.is_empty(), "no toast comes back on a reload");
    b.el("#notification-bell").await.click().await.unwrap();
    let list = text(&b, "#notification-list").await;
    for st in ["PENDING", "RUNNING", "TERMINATED"] {
        assert!(list.contains(st), "{st} missing in {list}");
    }
    let first = text(&b, ".notice-item").await;
    assert!(first.contains("TERMINATED"), "newest first: {first}");
    b.wait_gone("#notification-count").await;
    b.shot("35-bell-list").await;
    // clicking one brings its toast back; clear all empties the list
    b.el(".notice-item").await.click().await.unwrap();
    b.wait_contains(".toasts", "toasty").await;
    // and focus follows to it
    b.wait_focus_css(".toast").await;
    b.el("#notification-bell").await.click().await.unwrap();
    b.el("#notifications-clear").await.click().await.unwrap();
    b.wait_text("#notification-list .empty", "No notifications yet.")
        .await;
    // cleared stays cleared
    b.driver.refresh().await.unwrap();
    b.el("#notification-bell").await.click().await.unwrap();
    b.wait_text("#notification-list .empty", "No notifications yet.")
        .await;
    b.keys(Key::Escape).await;

    // a failed batch's toast is an error: it gives the exit code and stays
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let failed = api
        .launch(json!({"type": "batch", "name": "fails", "image": IMAGE,
               "startup_command": "exit 3", "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let toast = format!("#toast-{}", failed["id"].as_str().unwrap());
    let el = b
        .wait_contains(&toast, "Session fails failed with exit code 3.")
        .await;
    assert_eq!(el.attr("role").await.unwrap().as_deref(), Some("alert"));
    assert!(el
        .attr("class")
        .await
        .unwrap()
        .unwrap()
        .contains("toast-error"));
    // on the launcher, Next can be scrolled clear of it
    b.el("#start-button").await.click().await.unwrap();
    b.el("#wizard-next").await;
    b.driver
        .execute(
            "window.scrollTo(0, document.documentElement.scrollHeight)",
            vec![],
        )
        .await
        .unwrap();
    b.el(&toast).await;
    assert!(
        !b.overlap(".toasts", "#wizard-next").await,
        "a toast covers Next"
    );
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_user_never_sees_the_first_users_sessions() {
    let srv = Server::start_ui().await;
    let admin = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for (email, pw) in [
        ("ann@e2e.berth", "ann-password"),
        ("ben@e2e.berth", "ben-password"),
    ] {
        srv.create_user(&admin, email, pw, "user").await;
    }
    let ann = srv.login("ann@e2e.berth", "ann-password").await;
    ann.launch(
        json!({"name": "anns-work", "image": IMAGE, "resources": {"cpu": 0.25, "mem": "64m"}}),
    )
    .await;

    let b = Browser::start().await;
    b.login(&srv, "ben@e2e.berth", "ben-password").await;
    b.wait_text("#sessions-empty", "No running sessions.").await;
    let ben = srv.login("ben@e2e.berth", "ben-password").await;
    ben.launch(
        json!({"name": "bens-work", "image": IMAGE, "resources": {"cpu": 0.25, "mem": "64m"}}),
    )
    .await;
    b.wait_session("bens-work", "RUNNING").await;
    b.wait_text("#page-info", "Page 1 of 1 · 1 in all").await;
    b.wait_text("#page-next", "Next").await;
    assert!(!b.el("#page-next").await.is_enabled().await.unwrap());
    let table = text(&b, "#sessions-table").await;
    assert!(!table.contains("anns-work"), "{table}");
    assert!(
        b.driver.find(By::Css("#filter-owner")).await.is_err(),
        "users get no owner filter"
    );
    b.el("#tab-finished").await.click().await.unwrap();
    b.wait_text("#sessions-empty", "No finished sessions.")
        .await;
    b.shot("36-second-user").await;
    b.close().await;

    // the superadmin sees both, with their owners, and can filter by owner
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.wait_session("anns-work", "RUNNING").await;
    b.wait_session("bens-work", "ben@e2e.berth").await;
    // an unknown owner: no sessions, and the message (never the unfiltered list)
    b.fill("#filter-owner", "nobody@e2e.berth").await;
    b.press(Key::Enter).await;
    b.wait_text("#filter-owner-error", "No user has this email.")
        .await;
    b.wait_no_session("bens-work").await;
    b.wait_no_session("anns-work").await;
    // typing applies once it pauses, no Enter needed
    b.fill("#filter-owner", "ann@e2e.berth").await;
    b.wait_no_session("bens-work").await;
    b.wait_session("anns-work", "ann@e2e.berth").await;
    b.wait_text("#filter-owner-error", "").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_reconnects_after_the_server_restarts() {
    let srv = Server::start_ui().await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.wait_text("#sessions-empty", "No running sessions.").await;

    // the stream breaks while the server is away; the page stays as it is
    let srv = srv.restart().await;
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    api.launch(
        json!({"name": "after-restart", "image": IMAGE, "resources": {"cpu": 0.25, "mem": "64m"}}),
    )
    .await;
    // no reload: the stream came back by itself and the list refetched
    b.wait_session("after-restart", "RUNNING").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leaving_the_page_gives_its_event_stream_back() {
    // Chromium allows six connections per host: streams of pages left
    // behind (back-forward cache) must not use them up
    let srv = Server::start_ui().await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    for _ in 0..8 {
        b.driver.goto("about:blank").await.unwrap();
        b.driver.goto(srv.url("/sessions")).await.unwrap();
        b.wait_text("#sessions-title", "Sessions").await;
    }
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_waiting_for_its_start_time_counts_down_without_new_notices() {
    let srv = Server::start_ui().await;
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let at = chrono::Utc::now() + chrono::Duration::hours(1);
    let s = api
        .launch(json!({"type": "batch", "name": "later", "image": IMAGE,
               "startup_command": "true", "starts_at": at.to_rfc3339(),
               "resources": {"cpu": 0.1, "mem": "32m"}}))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    b.wait_session("later", "PENDING").await;
    // PENDING, then once why it waits; many scheduler passes later (one
    // per 200 ms here) still the same: the server says the start time once
    // (before: an event, and a bell entry, every pass)
    api.wait_for(&id, "explained", |s| {
        s["status_data"]["scheduler"].is_object()
    })
    .await;
    // the explanation's event has been sent: wait for the bell to show it
    let mut settled = String::new();
    for _ in 0..100 {
        settled = text(&b, "#notification-count").await;
        if settled == "2" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(settled, "2", "created, then why it waits");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(text(&b, "#notification-count").await, settled);

    // the panel counts down by itself
    b.el(&format!("tr[data-session-id='{id}'] .session-open"))
        .await
        .click()
        .await
        .unwrap();
    let first = b.wait_contains("#detail-starts", "(in 00:5").await;
    let first = first.text().await.unwrap();
    let mut later = first.clone();
    for _ in 0..50 {
        later = text(&b, "#detail-starts").await;
        if later != first {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_ne!(later, first, "the countdown ticks");
    assert_eq!(text(&b, "#notification-count").await, settled);
    // why it waits, worded by the browser from the server's facts, in the
    // chosen language: no server English leaks into Korean
    b.el("#detail-info").await.click().await.unwrap();
    b.wait_contains("#detail-info-box", "It waits for its start time,")
        .await;
    choose_language(&b, "ko").await;
    // the panel is drawn anew in Korean (its Info closed again)
    b.wait_text("#detail-info", "정보").await;
    b.el("#detail-info").await.click().await.unwrap();
    b.wait_contains("#detail-info-box", "시작 시각(").await;
    let info = text(&b, "#detail-info-box").await;
    assert!(
        !info.contains("waits") && !info.contains("reserved_time"),
        "{info}"
    );
    b.shot("45-waiting-reason-in-korean").await;
    choose_language(&b, "en").await;
    b.wait_text("#detail-info", "Info").await;
    b.el("#detail-info").await.click().await.unwrap();
    b.wait_contains("#detail-info-box", "It waits").await;
    b.el("#detail-close").await.click().await.unwrap();

    // a batch command that failed looks apart from one that succeeded
    for (name, cmd) in [("went-well", "true"), ("went-wrong", "exit 3")] {
        api.launch(json!({"type": "batch", "name": name, "image": IMAGE,
               "startup_command": cmd, "resources": {"cpu": 0.1, "mem": "32m"}}))
            .await;
    }
    b.el("#tab-finished").await.click().await.unwrap();
    let wrong = b.wait_session("went-wrong", "failed").await;
    assert!(wrong.find(By::Css(".status-failed")).await.is_ok());
    let well = b.wait_session("went-well", "TERMINATED").await;
    assert!(!well.text().await.unwrap().contains("failed"));
    assert!(well.find(By::Css(".status-failed")).await.is_err());
    b.close().await;
}

/// Picks a UI language from the user menu (opened first unless it is).
async fn choose_language(b: &Browser, lang: &str) {
    if b.driver.find(By::Css("#user-menu")).await.is_err() {
        b.el("#user-menu-button").await.click().await.unwrap();
    }
    b.el(&format!("#lang-{lang}")).await.click().await.unwrap();
    b.el(&format!("html[lang='{lang}']")).await;
}

/// Whether the page is wider than the window (something overflows).
async fn overflows(b: &Browser) -> (bool, String) {
    let (wide, what): (bool, String) = b
        .driver
        .execute(
            "const w = window.innerWidth;
             const over = [...document.querySelectorAll('body *')]
               .filter(e => e.getBoundingClientRect().right > w + 1 && getComputedStyle(e).position !== 'fixed')
               .filter(e => !e.closest('#sessions-panel, .table-scroll'))
               .slice(0, 3).map(e => e.tagName + '#' + e.id + '.' + e.className).join(' ');
             return [document.documentElement.scrollWidth > w, over];",
            vec![],
        )
        .await
        .unwrap()
        .convert()
        .unwrap();
    (wide, what)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_sized_screen_never_scrolls_sideways() {
    let srv = Server::start_ui().await;
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let s = api
        .launch(json!({"name": "narrow-one", "image": IMAGE,
               "resources": {"cpu": 0.1, "mem": "32m"}}))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    let b = Browser::start().await;
    b.set_viewport(390, 844).await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.wait_session("narrow-one", "RUNNING").await;
    let (wide, what) = overflows(&b).await;
    assert!(!wide, "the sessions page is wider than 390 px: {what}");
    b.shot("40-narrow-sessions").await;

    // the panel takes the whole width
    b.el(&format!("tr[data-session-id='{id}'] .session-open"))
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("#detail-name", "narrow-one").await;
    let (wide, what) = overflows(&b).await;
    assert!(!wide, "the panel is wider than 390 px: {what}");
    let width: f64 = b
        .driver
        .execute(
            "return document.getElementById('session-detail').getBoundingClientRect().width / window.innerWidth;",
            vec![],
        )
        .await
        .unwrap()
        .convert()
        .unwrap();
    assert!(width > 0.95, "the panel takes the screen's width ({width})");
    b.shot("41-narrow-panel").await;
    b.el("#detail-close").await.click().await.unwrap();

    // the launcher
    b.el("#start-button").await.click().await.unwrap();
    b.el("#session-name").await;
    let (wide, what) = overflows(&b).await;
    assert!(!wide, "the launcher is wider than 390 px: {what}");
    b.el("#wizard-next").await.click().await.unwrap();
    b.wait_contains("#environment", "berth/busybox").await;
    let (wide, what) = overflows(&b).await;
    assert!(
        !wide,
        "the launcher's resources page is wider than 390 px: {what}"
    );
    b.shot("42-narrow-launcher").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_focus_stays_with_the_users_own_session() {
    let srv = Server::start_ui().await;
    let admin = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    srv.create_user(&admin, "bob@example.com", "bob-password-1", "user")
        .await;
    let bob = srv.login("bob@example.com", "bob-password-1").await;
    // ends at once on SIGTERM, so its row leaves the list soon
    let quick = "trap 'exit 0' TERM; sleep 600 & wait";
    let theirs = bob
        .launch(json!({"type": "batch", "name": "bobs", "image": IMAGE,
               "startup_command": quick, "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let theirs = theirs["id"].as_str().unwrap().to_string();
    let mine = admin
        .launch(json!({"type": "batch", "name": "mine", "image": IMAGE,
               "startup_command": quick, "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let mine = mine["id"].as_str().unwrap().to_string();
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.wait_session("bobs", "RUNNING").await;
    b.wait_session("mine", "RUNNING").await;

    // the tabs: one tab stop, the arrows move and choose
    b.driver
        .execute("document.getElementById('tab-running').focus()", vec![])
        .await
        .unwrap();
    b.keys(Key::Right).await;
    b.wait_focus("tab-finished").await;
    b.wait_prop("#tab-finished", "ariaSelected", "true").await;
    b.keys(Key::Left).await;
    b.wait_focus("tab-running").await;
    b.wait_session("mine", "RUNNING").await;

    // the user menu: opening puts focus on its first item, the arrows
    // move, Escape goes back to the button
    b.el("#user-menu-button").await.click().await.unwrap();
    b.wait_focus("lang-en").await;
    b.keys(Key::Down).await;
    b.wait_focus("lang-ko").await;
    b.keys(Key::Down).await;
    b.wait_focus("keypair-button").await;
    b.keys(Key::Down).await;
    b.wait_focus("logout-button").await;
    b.keys(Key::Down).await;
    b.wait_focus("lang-en").await;
    b.keys(Key::Escape).await;
    b.wait_gone("#user-menu").await;
    b.wait_focus("user-menu-button").await;

    // Terminate by keyboard from my row's power button
    let power = format!("tr[data-session-id='{mine}'] .control-power");
    b.driver
        .execute(
            "document.querySelector(arguments[0]).focus()",
            vec![json!(power)],
        )
        .await
        .unwrap();
    b.keys(Key::Enter).await;
    b.el("#terminate-dialog").await;
    b.tab_to("terminate-confirm").await;
    b.keys(Key::Enter).await;
    b.wait_gone("#terminate-dialog").await;
    // while my row changes and leaves, focus never lands in bob's row (the
    // next Enter would act on his session); it ends on the heading
    let mut seen = Vec::new();
    for _ in 0..600 {
        let at = b.focused().await;
        assert!(
            !at.starts_with(&theirs),
            "focus went to another user's session: {at}; before: {seen:?}"
        );
        if seen.last() != Some(&at) {
            seen.push(at.clone());
        }
        let gone = b
            .driver
            .find_all(By::Css(format!("tr[data-session-id='{mine}']")))
            .await
            .unwrap()
            .is_empty();
        if gone && at.starts_with("h1#sessions-title") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        seen.last()
            .is_some_and(|s| s.starts_with("h1#sessions-title")),
        "focus should end on the heading: {seen:?}"
    );
    assert!(
        !seen.iter().any(|s| s.starts_with("body")),
        "focus fell to the page: {seen:?}"
    );
    b.wait_session("bobs", "RUNNING").await;
    b.close().await;
}
