//! Layout at a laptop width (1400 px) and a phone width (390 px): the
//! sessions list, the detail panel and the launcher's review never scroll
//! sideways, every control stays in sight, and values never break inside
//! a unit, an id or an image name.

use berth_e2e::{Browser, Server, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::json;

const IMAGE: &str = "berth/busybox:latest";

/// What is wrong with the page as shown: sideways scroll in any of
/// `boxes`, a control in `visible` outside the screen or its box, a value
/// in `whole` broken over lines. Empty when all is well.
async fn misfits(b: &Browser, boxes: &[&str], visible: &[&str], whole: &[&str]) -> String {
    b.driver
        .execute(
            "const [boxes, visible, whole] = arguments; const out = []; \
             const de = document.documentElement; \
             if (de.scrollWidth > de.clientWidth + 1) out.push('page scrolls ' + de.scrollWidth + ' > ' + de.clientWidth); \
             for (const sel of boxes) for (const el of document.querySelectorAll(sel)) { \
               if (el.scrollWidth > el.clientWidth + 1) out.push(sel + ' scrolls ' + el.scrollWidth + ' > ' + el.clientWidth); } \
             for (const sel of visible) { const els = document.querySelectorAll(sel); \
               if (!els.length) out.push(sel + ' missing'); \
               for (const el of els) { const r = el.getBoundingClientRect(); \
                 let p = el.parentElement, clip = null; \
                 while (p) { const s = getComputedStyle(p); if (s.overflowX !== 'visible') { clip = p; break; } p = p.parentElement; } \
                 const c = clip ? clip.getBoundingClientRect() : {left: 0, right: de.clientWidth}; \
                 if (r.width === 0 || r.left < Math.max(0, c.left) - 1 || r.right > Math.min(de.clientWidth, c.right) + 1) \
                   out.push(sel + ' out of sight (' + Math.round(r.left) + '..' + Math.round(r.right) + ')'); } } \
             for (const sel of whole) for (const el of document.querySelectorAll(sel)) { \
               const range = document.createRange(); range.selectNodeContents(el); \
               const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top))); \
               if (lines.size > 1) out.push(sel + ' breaks: ' + el.textContent); } \
             return out.join('; ');",
            vec![json!(boxes), json!(visible), json!(whole)],
        )
        .await
        .unwrap()
        .convert()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_scrolls_sideways_at_1400_and_390() {
    let srv = Server::start_ui().await;
    let admin = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    srv.create_user(
        &admin,
        "a-rather-long-address@example.com",
        "bob-password-1",
        "user",
    )
    .await;
    let bob = srv
        .login("a-rather-long-address@example.com", "bob-password-1")
        .await;
    let theirs = bob
        .launch(
            json!({"type": "interactive", "name": "a-long-session-name-for-layout", "image": IMAGE,
               "resources": {"cpu": 0.25, "mem": "64m"}}),
        )
        .await;
    let failed = admin
        .launch(
            json!({"type": "batch", "name": "fails-at-once", "image": IMAGE,
               "startup_command": "exit 3", "resources": {"cpu": 0.25, "mem": "64m"}}),
        )
        .await;
    let id = theirs["id"].as_str().unwrap().to_string();
    admin.wait_status(&id, "RUNNING").await;
    admin
        .wait_status(failed["id"].as_str().unwrap(), "TERMINATED")
        .await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut problems = Vec::new();
    for (width, height) in [(1400, 900), (390, 844)] {
        b.set_viewport(width, height).await;
        b.driver.goto(srv.url("/sessions")).await.unwrap();
        b.wait_session("a-long-session-name-for-layout", "RUNNING")
            .await;
        let found = misfits(
            &b,
            &["#sessions-panel"],
            &[
                "#sessions-table .control-power",
                ".app-header #notification-bell",
                "#user-menu-button",
            ],
            &[
                "#sessions-table td:not(.session-name):not(.owner-cell) > *",
                ".status",
            ],
        )
        .await;
        b.shot(&format!("70-layout-list-{width}")).await;
        if !found.is_empty() {
            problems.push(format!("the list at {width} px: {found}"));
        }
        b.driver
            .goto(srv.url("/sessions?tab=finished"))
            .await
            .unwrap();
        b.wait_session("fails-at-once", "TERMINATED").await;
        let found = misfits(&b, &["#sessions-panel"], &[], &[".status"]).await;
        b.shot(&format!("71-layout-finished-{width}")).await;
        if !found.is_empty() {
            problems.push(format!("the finished list at {width} px: {found}"));
        }

        b.driver
            .goto(srv.url(&format!("/sessions?session={id}")))
            .await
            .unwrap();
        b.wait_contains("#detail-status", "RUNNING").await;
        b.wait_contains("#usage-mem", "MiB").await;
        let found = misfits(
            &b,
            &["#session-detail", "#sessions-panel"],
            &["#detail-kernels .kernel-logs"],
            &[
                "#detail-id",
                "#detail-image",
                "#usage-mem",
                "#usage-net",
                "#usage-cpu",
                "#detail-elapsed",
                ".status",
            ],
        )
        .await;
        b.shot(&format!("72-layout-panel-{width}")).await;
        if !found.is_empty() {
            problems.push(format!("the panel at {width} px: {found}"));
        }

        // the header's links keep clear of the bell and the menu
        for link in ["#nav-sessions", "#nav-data", "#nav-agents", "#nav-groups"] {
            for button in ["#notification-bell", "#user-menu-button"] {
                if b.overlap(link, button).await {
                    problems.push(format!("{link} under {button} at {width} px"));
                }
            }
        }

        b.driver.goto(srv.url("/launch")).await.unwrap();
        // the owner search keeps its button inside its box
        b.el("#owner-toggle").await.click().await.unwrap();
        let out: bool = b
            .driver
            .execute(
                "const s = document.getElementById('owner-search').getBoundingClientRect(); \
                 const box = document.querySelector('.owner-fields').getBoundingClientRect(); \
                 return s.right > box.right || s.left < box.left;",
                vec![],
            )
            .await
            .unwrap()
            .convert()
            .unwrap();
        if out {
            problems.push(format!("the owner Search button sticks out at {width} px"));
        }
        b.el("#owner-toggle").await.click().await.unwrap();
        b.el("#wizard-skip").await.click().await.unwrap();
        b.wait_contains("#review-environment", "berth/busybox")
            .await;
        let found = misfits(
            &b,
            &[".wizard", ".review-grid"],
            &["#launch-button"],
            &["#review-environment dd:first-of-type"],
        )
        .await;
        b.shot(&format!("73-layout-review-{width}")).await;
        if !found.is_empty() {
            problems.push(format!("the review at {width} px: {found}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    b.close().await;
}
