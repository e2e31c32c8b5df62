//! The launcher wizard in real Chromium: through all five pages to a
//! RUNNING session; "Skip to review"; invalid settings block Launch; the
//! no-folder dialog; whole-number boxes never rewrite what is typed.

use berth_e2e::thirtyfour::prelude::*;
use berth_e2e::{Browser, Server, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_through_all_five_pages() {
    let srv = Server::start_ui().await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.el("#start-button").await.click().await.unwrap();
    b.wait_for_path("/launch").await;

    // 1. session type
    b.wait_text("#wizard-page-title", "Session type").await;
    assert_eq!(
        b.el("#step-type")
            .await
            .attr("aria-current")
            .await
            .unwrap()
            .as_deref(),
        Some("step")
    );
    // the launcher is where sessions start: the Sessions item stays marked
    assert_eq!(
        b.el("#nav-sessions")
            .await
            .attr("aria-current")
            .await
            .unwrap()
            .as_deref(),
        Some("page")
    );
    // the page says "Session type" once where a person reads it
    let shown: i64 = b
        .driver
        .execute(
            "return [...document.querySelectorAll('main *')].filter(e =>
                 e.children.length === 0 && e.textContent.trim() === 'Session type'
                 && e.getBoundingClientRect().width > 1 && e.getBoundingClientRect().height > 1).length;",
            vec![],
        )
        .await
        .unwrap()
        .convert()
        .unwrap();
    assert_eq!(shown, 1, "\"Session type\" is shown {shown} times");
    b.fill("#session-name", "e2e-wizard").await;
    b.shot("10-launcher-type").await;
    b.el("#wizard-next").await.click().await.unwrap();

    // 2. environment & resources
    b.wait_text("#wizard-page-title", "Environment & resources")
        .await;
    b.wait_contains("#environment", "berth/busybox").await;
    b.wait_contains("#version", "latest").await;
    b.fill("#cpu-number", "0.5").await;
    b.fill("#memory-number", "128").await;
    b.fill("#shmem-number", "32").await;
    // the slider follows the number
    assert_eq!(
        b.el("#memory-range")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("128")
    );
    b.fill("#env-0-name", "GREETING").await;
    b.fill("#env-0-value", "hello").await;
    // buttons say what they act on
    assert_eq!(
        b.el("#cpu-help-btn")
            .await
            .attr("aria-label")
            .await
            .unwrap()
            .as_deref(),
        Some("Help: CPU")
    );
    b.el("#cpu-help-btn").await.click().await.unwrap();
    b.wait_contains("#cpu-help", "CPU").await;
    b.shot("11-launcher-environment").await;
    b.el("#wizard-next").await.click().await.unwrap();

    // 3. data, 4. network: preopen ports follow the shared rules as typed
    b.wait_text("#wizard-page-title", "Data & folders").await;
    b.shot("12-launcher-data").await;
    b.el("#wizard-next").await.click().await.unwrap();
    b.wait_text("#wizard-page-title", "Network").await;
    // the busybox image's httpd uses 8000: taken
    b.fill("#preopen-ports", "8000").await;
    b.wait_text(
        "#preopen-ports-error",
        "This port is used by one of the environment's apps.",
    )
    .await;
    // a refused port is marked among the chips, with the bounds
    b.fill("#preopen-ports", "80 8888").await;
    b.wait_text("#preopen-ports-error", "80 is not from 1024 to 65535.")
        .await;
    b.el("#preopen-chips [data-port='80'].chip-bad").await;
    assert!(b
        .driver
        .find_all(By::Css("#preopen-chips [data-port='8888'].chip-bad"))
        .await
        .unwrap()
        .is_empty());
    b.fill("#preopen-ports", "8090 9000,9000").await;
    b.wait_text("#preopen-ports-error", "This is listed twice.")
        .await;
    b.fill("#preopen-ports", "8090 9000").await;
    b.press(Key::Enter).await;
    b.wait_prop("#preopen-ports", "value", "8090, 9000").await;
    b.wait_text("#preopen-ports-error", "").await;
    b.wait_contains("#preopen-chips", "9000").await;
    b.shot("13-launcher-network").await;
    // state survives moving back and forth
    b.el("#wizard-prev").await.click().await.unwrap();
    b.el("#wizard-prev").await.click().await.unwrap();
    assert_eq!(
        b.el("#env-0-name")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("GREETING")
    );
    b.el("#step-review").await.click().await.unwrap();

    // 5. review & launch
    b.wait_text("#wizard-page-title", "Review & launch").await;
    b.wait_contains("#review-type", "e2e-wizard").await;
    b.wait_contains("#review-environment", "berth/busybox:latest")
        .await;
    b.wait_contains("#review-environment", "0.5 CPU, 128 MiB")
        .await;
    b.wait_contains("#review-environment", "GREETING").await;
    b.wait_contains("#review-network", "8090, 9000").await;
    assert_eq!(
        b.el("#review-network-edit")
            .await
            .attr("aria-label")
            .await
            .unwrap()
            .as_deref(),
        Some("Edit: Network")
    );
    // the scheduler's own prediction for this launch
    b.wait_contains("#prediction-text", "Starts now on agent local.")
        .await;
    b.shot("14-launcher-review").await;
    let launch = b.el("#launch-button").await;
    assert!(launch.is_enabled().await.unwrap());
    launch.click().await.unwrap();
    let dialog = b.el("#no-folder-dialog").await;
    assert_eq!(
        dialog.attr("role").await.unwrap().as_deref(),
        Some("dialog")
    );
    b.wait_contains("#no-folder-dialog", "data in the session will be lost")
        .await;
    b.shot("15-launcher-no-folder-dialog").await;
    b.el("#no-folder-launch").await.click().await.unwrap();

    b.wait_for_path("/sessions").await;
    b.wait_session("e2e-wizard", "RUNNING").await;
    b.shot("16-sessions-after-launch").await;
    // what the wizard set is what the container got
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let list = api.get_json("/api/v1/sessions?page_size=100").await;
    let session = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "e2e-wizard")
        .expect("the launched session")
        .clone();
    let cid = session["kernels"][0]["container_id"].as_str().unwrap();
    let inspected = berth_e2e::docker(&[
        "inspect",
        "--format",
        "{{.HostConfig.NanoCpus}} {{.HostConfig.Memory}} {{.HostConfig.ShmSize}} {{json .Config.Env}}",
        cid,
    ])
    .await;
    assert!(
        inspected.starts_with(&format!("500000000 {} {} ", 128 << 20, 32 << 20)),
        "{inspected}"
    );
    assert!(inspected.contains("\"GREETING=hello\""), "{inspected}");

    // Recent history: the launch is there with its type; pin it, rename it
    // (its own control), relaunch it by clicking its name
    b.el("#start-button").await.click().await.unwrap();
    b.el("#history-button").await.click().await.unwrap();
    b.el("#history-dialog").await;
    b.wait_text("#history-0-name", "e2e-wizard").await;
    b.wait_text("#history-0-type", "Interactive").await;
    b.el("#history-0-pin").await.click().await.unwrap();
    // (a selector, not an element: the row re-renders as the pin lands)
    b.el("#history-0-pin[aria-pressed='true']").await;
    b.el("#history-0-rename").await.click().await.unwrap();
    b.wait_focus("history-0-name-input").await;
    // (typed over, not cleared: WebDriver's clear also leaves the box, which saves)
    b.press(Key::Control + "a").await;
    b.press("greeting config").await;
    b.press(Key::Enter).await;
    b.wait_text("#history-0-name", "greeting config").await;
    b.wait_focus("history-0-rename").await;
    b.shot("19-launcher-recent-history").await;
    b.el("#history-0-name").await.click().await.unwrap();
    b.wait_gone("#history-dialog").await;
    b.wait_text("#wizard-page-title", "Review & launch").await;
    b.wait_contains("#review-type", "e2e-wizard-").await;
    b.wait_contains("#review-environment", "0.5 CPU, 128 MiB")
        .await;
    b.wait_contains("#review-environment", "GREETING").await;
    b.shot("20-launcher-relaunch-review").await;
    b.launch_and_confirm().await;
    b.wait_for_path("/sessions").await;
    let relaunched =
        "//tr[td[@class='session-name']/button[starts-with(normalize-space(), 'e2e-wizard-')]]";
    b.wait_row_xpath(relaunched, "RUNNING").await;

    // the renamed, pinned entry is on the server (any browser sees it),
    // first; the relaunch is the second entry
    b.driver.goto(srv.url("/launch")).await.unwrap();
    b.el("#history-button").await.click().await.unwrap();
    b.el("#history-dialog").await;
    b.wait_text("#history-0-name", "greeting config").await;
    b.wait_contains("#history-1-name", "e2e-wizard-").await;
    // Pin by keyboard: the entry moves up and focus moves with it (a second
    // Space acts on the same entry), each Pin named with its entry
    b.driver
        .execute("document.getElementById('history-1-pin').focus()", vec![])
        .await
        .unwrap();
    b.keys(Key::Space).await;
    b.wait_contains("#history-0-name", "e2e-wizard-").await;
    b.wait_focus_css("#history-0-pin[aria-pressed='true'][aria-label^='Unpin: e2e-wizard-']")
        .await;
    b.keys(Key::Space).await;
    b.wait_text("#history-0-name", "greeting config").await;
    b.wait_focus_css("#history-1-pin[aria-pressed='false'][aria-label^='Pin: e2e-wizard-']")
        .await;
    // delete with undo: the row goes, Undo brings it back
    b.el("#history-1-delete").await.click().await.unwrap();
    b.wait_gone("#history-1").await;
    b.wait_contains("#history-undo", "Deleted").await;
    b.el("#history-undo-button").await.click().await.unwrap();
    b.wait_contains("#history-1-name", "e2e-wizard-").await;
    // deleted for good once the dialog closes
    b.el("#history-1-delete").await.click().await.unwrap();
    b.wait_gone("#history-1").await;
    b.el("#history-close").await.click().await.unwrap();
    b.wait_gone("#history-dialog").await;
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut n = 0;
    for _ in 0..100 {
        n = api.get_json("/api/v1/launcher-history").await["items"]
            .as_array()
            .unwrap()
            .len();
        if n == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(n, 1, "only the pinned entry is left");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skip_to_review_and_invalid_settings() {
    let srv = Server::start_ui().await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.driver.goto(srv.url("/launch")).await.unwrap();

    // a bad name is flagged under the field, live
    b.fill("#session-name", "bad name").await;
    b.wait_text(
        "#session-name-error",
        "Use letters, digits and _; - and . only between them; no spaces.",
    )
    .await;
    b.el("#wizard-next").await.click().await.unwrap();
    // shared memory above memory is flagged too
    b.wait_contains("#environment", "berth/busybox").await;
    b.fill("#memory-number", "64").await;
    b.fill("#shmem-number", "128").await;
    b.wait_text("#shmem-error", "Shared memory cannot be more than memory.")
        .await;
    b.shot("17-launcher-invalid-resources").await;
    b.el("#wizard-skip").await.click().await.unwrap();

    // review: error cards, Launch disabled
    b.wait_text("#wizard-page-title", "Review & launch").await;
    b.wait_contains("#review-type", "This page has settings to fix.")
        .await;
    b.wait_contains("#review-environment", "This page has settings to fix.")
        .await;
    assert!(!b.el("#launch-button").await.is_enabled().await.unwrap());
    b.shot("18-launcher-review-errors").await;

    // Edit goes back to the page; fix both
    b.el("#review-type-edit").await.click().await.unwrap();
    b.wait_text("#wizard-page-title", "Session type").await;
    b.fill("#session-name", "skipped").await;
    b.el("#step-environment").await.click().await.unwrap();
    b.fill("#shmem-number", "16").await;
    b.el("#wizard-skip").await.click().await.unwrap();
    let launch = b.el("#launch-button").await;
    assert!(launch.is_enabled().await.unwrap());

    // the dialog takes focus and keeps it: Tab cycles, Escape closes and
    // gives focus back to the button
    launch.click().await.unwrap();
    b.wait_focus("no-folder-launch").await;
    b.press(Key::Tab).await;
    b.wait_focus("no-folder-cancel").await;
    b.press(Key::Shift + Key::Tab).await;
    b.wait_focus("no-folder-launch").await;
    b.press(Key::Escape).await;
    b.wait_gone("#no-folder-dialog").await;
    b.wait_focus("launch-button").await;
    // the dialog can be cancelled, then confirmed
    b.el("#launch-button").await.click().await.unwrap();
    b.el("#no-folder-cancel").await.click().await.unwrap();
    b.wait_gone("#no-folder-dialog").await;
    b.launch_and_confirm().await;
    b.wait_for_path("/sessions").await;
    b.wait_session("skipped", "RUNNING").await;

    // the server's refusal (name taken by a live session) lands on the right page
    b.el("#start-button").await.click().await.unwrap();
    b.fill("#session-name", "skipped").await;
    b.el("#wizard-skip").await.click().await.unwrap();
    b.wait_contains("#review-environment", "berth/busybox")
        .await;
    b.launch_and_confirm().await;
    b.wait_text("#wizard-page-title", "Session type").await;
    b.wait_text("#session-name-error", "This name is already in use.")
        .await;
    b.shot("21-launcher-server-error").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_assigns_the_owner_by_email() {
    let srv = Server::start_ui().await;
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let user = api
        .post_json(
            "/api/v1/users",
            &serde_json::json!({"email": "owner@e2e.berth", "password": "owner-password",
                                "full_name": "Olive Owner"}),
        )
        .await;
    // Olive's policy allows half a CPU: the launcher's slider stops there
    let res = api
        .post(
            "/api/v1/resource-policies",
            &serde_json::json!({"name": "half", "max_concurrent_sessions": 0, "max_total_cpu": 0.5,
                                   "max_total_mem": 0, "max_session_lifetime": 0}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = api
        .patch(
            &format!("/api/v1/users/{}", user["id"].as_str().unwrap()),
            &serde_json::json!({"resource_policy": "half"}),
        )
        .await;
    assert_eq!(res.status(), 200);

    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.driver.goto(srv.url("/launch")).await.unwrap();
    b.el("#owner-toggle").await.click().await.unwrap();
    // the switch on with nobody found yet: Launch waits for a search
    b.wait_text(
        "#owner-email-error",
        "Find the owner by email first (Search).",
    )
    .await;
    b.fill("#owner-email", "nobody@e2e.berth").await;
    b.el("#owner-search").await.click().await.unwrap();
    b.wait_text("#owner-result", "No such user.").await;
    b.fill("#owner-email", "owner@e2e.berth").await;
    b.el("#owner-search").await.click().await.unwrap();
    let key = user["access_key"].as_str().unwrap();
    b.wait_text("#owner-result", &format!("Olive Owner — access key {key}"))
        .await;
    b.wait_contains("#owner-project", "default").await;
    b.wait_text("#owner-email-error", "").await;
    // editing the email after a search forgets who was found until searched again
    b.el("#owner-email").await.send_keys("x").await.unwrap();
    b.wait_text("#owner-result", "").await;
    b.wait_text(
        "#owner-email-error",
        "Find the owner by email first (Search).",
    )
    .await;
    b.el("#wizard-skip").await.click().await.unwrap();
    b.wait_contains("#review-type", "This page has settings to fix.")
        .await;
    assert!(!b.el("#launch-button").await.is_enabled().await.unwrap());
    b.el("#review-type-edit").await.click().await.unwrap();
    b.fill("#owner-email", "owner@e2e.berth").await;
    b.el("#owner-search").await.click().await.unwrap();
    b.wait_text("#owner-result", &format!("Olive Owner — access key {key}"))
        .await;
    b.fill("#session-name", "for-olive").await;
    b.shot("22-launcher-assign-owner").await;
    b.el("#step-environment").await.click().await.unwrap();
    b.wait_prop("#cpu-range", "max", "0.5").await;
    b.fill("#cpu-number", "1").await;
    // (WebDriver reads the no-break spaces that keep "0.5 CPU" whole as spaces)
    b.wait_text(
        "#cpu-error",
        "At most 0.5 CPU: your resource policy allows 0.5 CPU in all.",
    )
    .await;
    b.shot("23-launcher-policy-bound").await;
    b.fill("#cpu-number", "0.5").await;
    b.wait_text("#cpu-error", "").await;
    b.el("#wizard-skip").await.click().await.unwrap();
    b.wait_contains("#review-type", "owner@e2e.berth").await;
    b.launch_and_confirm().await;
    b.wait_for_path("/sessions").await;
    b.wait_session("for-olive", "RUNNING").await;

    // loaded from Recent history, the owner looks found: who, their access
    // key and their project, before the review's Launch
    b.el("#start-button").await.click().await.unwrap();
    b.el("#history-button").await.click().await.unwrap();
    b.wait_text("#history-0-name", "for-olive").await;
    b.el("#history-0-name").await.click().await.unwrap();
    b.wait_gone("#history-dialog").await;
    b.el("#step-type").await.click().await.unwrap();
    b.wait_text("#owner-result", &format!("Olive Owner — access key {key}"))
        .await;
    b.wait_prop("#owner-email", "value", "owner@e2e.berth")
        .await;
    b.wait_contains("#owner-project", "default").await;
    b.close().await;

    // it is the owner's session: it appears in their own list
    let owner = srv.login("owner@e2e.berth", "owner-password").await;
    let mine = owner.get_json("/api/v1/sessions").await;
    assert_eq!(mine["items"][0]["name"], "for-olive");
    assert_eq!(mine["items"][0]["created_by"], ADMIN_EMAIL);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accelerators_declared_by_the_agent_get_a_slider() {
    let srv = Server::start_with_ui(|c| {
        c.agent_accelerators.insert("fake.gpu".into(), 2.0);
    })
    .await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.driver.goto(srv.url("/launch")).await.unwrap();
    b.fill("#session-name", "with-gpu").await;
    b.el("#step-environment").await.click().await.unwrap();
    b.wait_contains(
        "label[for='accel-fake-gpu-number']",
        "AI accelerator (fake.gpu)",
    )
    .await;
    b.wait_prop("#accel-fake-gpu-range", "max", "2").await;
    b.fill("#accel-fake-gpu-number", "1").await;
    b.shot("24-launcher-accelerator").await;
    b.el("#wizard-skip").await.click().await.unwrap();
    b.launch_and_confirm().await;
    b.wait_for_path("/sessions").await;
    b.wait_session("with-gpu", "RUNNING").await;
    b.close().await;

    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let list = api.get_json("/api/v1/sessions").await;
    assert_eq!(
        list["items"][0]["resources"]["accelerators"]["fake.gpu"],
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_numbers_are_kept_and_the_preset_follows_the_values() {
    let srv = Server::start_ui().await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.driver.goto(srv.url("/launch")).await.unwrap();
    let whole = "Type a whole number, like 4 (no sign, no decimal point).";

    // batch: the untouched command box does not scold at once
    b.el("#type-batch").await.click().await.unwrap();
    b.el("#startup-command").await;
    b.wait_text("#startup-command-error", "").await;
    b.wait_prop("#startup-command", "ariaInvalid", "false")
        .await;
    // maximum run time, in minutes
    b.fill("#batch-timeout", "1.5").await;
    b.wait_prop("#batch-timeout", "value", "1.5").await;
    b.wait_text("#batch-timeout-error", whole).await;
    b.el("#type-interactive").await.click().await.unwrap();

    b.el("#wizard-next").await.click().await.unwrap();
    b.wait_contains("#environment", "berth/busybox").await;

    // the preset box says what the values are: a preset, or Custom once a
    // slider leaves it; choosing it again applies it again
    b.el("#preset option[value='small']")
        .await
        .click()
        .await
        .unwrap();
    b.wait_prop("#cpu-number", "value", "1").await;
    b.wait_prop("#preset", "value", "small").await;
    b.fill("#cpu-number", "1.5").await;
    b.wait_prop("#preset", "value", "").await;
    b.el("#preset option[value='small']")
        .await
        .click()
        .await
        .unwrap();
    b.wait_prop("#cpu-number", "value", "1").await;
    b.wait_prop("#preset", "value", "small").await;

    for (id, bad) in [
        ("#session-count", "12.5"),
        ("#session-count", "-5"),
        ("#nthreads", "2.5"),
    ] {
        b.fill(id, bad).await;
        // kept exactly as typed (before: "12.5" became 512, "-5" became 5)
        b.wait_prop(id, "value", bad).await;
        b.wait_text(&format!("{id}-error"), whole).await;
        b.wait_prop(id, "ariaInvalid", "true").await;
    }
    // typing goes on at the caret: "-5" then "0" reads "-50", still flagged
    b.el("#session-count").await.send_keys("0").await.unwrap();
    b.wait_prop("#session-count", "value", "-50").await;
    // a cluster size past the limit says the limit
    b.fill("#cluster-size", "9").await;
    b.wait_text("#cluster-size-error", "Use a number from 1 to 8.")
        .await;
    b.el("#wizard-skip").await.click().await.unwrap();
    b.wait_contains("#review-environment", "This page has settings to fix.")
        .await;
    // each line names its field
    b.wait_contains(
        "#review-environment",
        &format!("Number of sessions: {whole}"),
    )
    .await;
    b.wait_contains(
        "#review-environment",
        "Kernels (containers) per session: Use a number from 1 to 8.",
    )
    .await;
    assert!(!b.el("#launch-button").await.is_enabled().await.unwrap());

    // numbers clear the flags
    b.el("#review-environment-edit")
        .await
        .click()
        .await
        .unwrap();
    b.fill("#session-count", "2").await;
    b.fill("#nthreads", "3").await;
    b.fill("#cluster-size", "1").await;
    b.wait_text("#session-count-error", "").await;
    b.wait_text("#nthreads-error", "").await;
    b.wait_prop("#session-count", "ariaInvalid", "false").await;

    // the review shows every field that was set, and what an empty name means
    b.el("#step-type").await.click().await.unwrap();
    b.el("#type-batch").await.click().await.unwrap();
    b.fill("#startup-command", "echo hi").await;
    b.fill("#batch-timeout", "90").await;
    b.el("#wizard-skip").await.click().await.unwrap();
    for line in [
        "random name (e.g. k3j9x2ab-session)",
        "echo hi",
        "as soon as possible",
        "90 min",
    ] {
        b.wait_contains("#review-type", line).await;
    }
    b.wait_contains("#review-environment", "HPC threads").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_alone_launches_through_all_five_pages() {
    let srv = Server::start_ui().await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.driver.goto(srv.url("/launch")).await.unwrap();
    b.el("#session-name").await;

    b.tab_to("session-name").await;
    b.keys("kbd-only").await;
    b.tab_to("wizard-next").await;
    b.keys(Key::Enter).await;
    // each new page: focus on its heading, so Tab goes on from its top
    b.wait_focus("wizard-page-title").await;
    b.wait_text("#wizard-page-title", "Environment & resources")
        .await;
    b.wait_contains("#environment", "berth/busybox").await;

    // env rows: one blank row shows, its "−" has nothing to remove, and the
    // guide's "+" sits at its right; "+" adds a row and focus goes into it
    assert!(!b.el("#env-0-remove").await.is_enabled().await.unwrap());
    b.tab_to("env-add").await;
    b.keys(Key::Enter).await;
    b.wait_focus("env-1-name").await;
    b.keys("B").await;
    b.shift_tab().await;
    b.wait_focus("env-add").await;
    b.keys(Key::Enter).await;
    b.wait_focus("env-2-name").await;
    b.keys("C").await;
    // removing a row puts focus on the row that took its place (a second
    // Enter deletes nothing); removing the last one, on "+"
    b.shift_tab().await;
    b.wait_focus("env-1-remove").await;
    b.keys(Key::Enter).await;
    b.wait_focus("env-1-name").await;
    assert_eq!(
        b.el("#env-1-name").await.value().await.unwrap().as_deref(),
        Some("C")
    );
    b.wait_gone("#env-2-name").await;
    b.tab_to("env-1-remove").await;
    b.keys(Key::Enter).await;
    b.wait_focus("env-add").await;
    b.wait_gone("#env-1-name").await;
    b.shift_tab().await;
    b.wait_focus("env-0-remove").await;
    b.keys(Key::Enter).await;
    b.wait_focus("env-add").await;
    // the blank row stays, with nothing to remove
    assert!(!b.el("#env-0-remove").await.is_enabled().await.unwrap());

    for title in ["Data & folders", "Network", "Review & launch"] {
        b.tab_to("wizard-next").await;
        b.keys(Key::Enter).await;
        b.wait_focus("wizard-page-title").await;
        b.wait_text("#wizard-page-title", title).await;
    }
    b.wait_contains("#review-type", "kbd-only").await;
    // Edit goes to the page, focus on its heading; Skip comes back the same way
    b.tab_to("review-network-edit").await;
    b.keys(Key::Enter).await;
    b.wait_focus("wizard-page-title").await;
    b.wait_text("#wizard-page-title", "Network").await;
    b.tab_to("wizard-skip").await;
    b.keys(Key::Enter).await;
    b.wait_focus("wizard-page-title").await;
    b.wait_text("#wizard-page-title", "Review & launch").await;

    // Launch, then the no-folder dialog, by keyboard
    b.tab_to("launch-button").await;
    b.keys(Key::Enter).await;
    b.wait_focus("no-folder-launch").await;
    b.keys(Key::Enter).await;
    b.wait_for_path("/sessions").await;
    b.wait_session("kbd-only", "RUNNING").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_in_korean_and_the_choice_is_kept() {
    let srv = Server::start_ui().await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.el("#user-menu-button").await.click().await.unwrap();
    b.el("#lang-ko").await.click().await.unwrap();
    b.wait_text("#sessions-title", "세션").await;
    // kept for the user on the server: a reload is still Korean
    b.driver.refresh().await.unwrap();
    b.wait_text("#sessions-title", "세션").await;
    let lang: String = b
        .driver
        .execute("return document.documentElement.lang", vec![])
        .await
        .unwrap()
        .convert()
        .unwrap();
    assert_eq!(
        lang, "ko",
        "the page says its language (word breaking follows it)"
    );

    b.el("#start-button").await.click().await.unwrap();
    b.wait_text("#wizard-page-title", "세션 타입").await;
    b.fill("#session-name", "hangul").await;
    b.el("#wizard-next").await.click().await.unwrap();
    b.wait_text("#wizard-page-title", "실행 환경 & 자원 할당")
        .await;
    b.wait_contains("#environment", "berth/busybox").await;
    b.el("#wizard-skip").await.click().await.unwrap();
    b.wait_text("#wizard-page-title", "검토 및 시작").await;
    b.wait_contains("#review-environment", "berth/busybox")
        .await;
    b.shot("43-launcher-korean-review").await;
    b.launch_and_confirm().await;
    b.wait_for_path("/sessions").await;
    b.wait_session("hangul", "RUNNING").await;
    b.close().await;

    // another browser (English by default) signs in to Korean
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.wait_text("#sessions-title", "세션").await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_review_page_predicts_a_wait_and_follows_capacity_freeing() {
    let srv = Server::start_with_ui(|c| c.agent_cpu = Some(1.0)).await;
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let full = api
        .launch(
            serde_json::json!({"name": "takes-it-all", "image": "berth/busybox:latest",
               "resources": {"cpu": 1, "mem": "64m"}}),
        )
        .await;
    let full = full["id"].as_str().unwrap().to_string();
    api.wait_status(&full, "RUNNING").await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.driver.goto(srv.url("/launch")).await.unwrap();
    // the agent selector lists the group's agents with what they have free
    b.el("#step-environment").await.click().await.unwrap();
    b.wait_contains("#agent", "local — free: 0 CPU").await;
    b.el("#agent option[value='local']")
        .await
        .click()
        .await
        .unwrap();
    b.shot("26-launcher-agent-selector").await;
    b.el("#step-review").await.click().await.unwrap();
    b.wait_contains("#review-environment", "Agent").await;
    // the agent is full: it would wait, first in line, and says why
    let text = b
        .wait_contains(
            "#prediction-text",
            "Waits: number 1 in the queue of resource group default.",
        )
        .await;
    assert!(
        text.text()
            .await
            .unwrap()
            .contains("agent local has 0 free."),
        "the reason is missing"
    );
    b.shot("25-launcher-prediction-waits").await;
    // the running session ends: the prediction follows by itself
    api.delete(&format!("/api/v1/sessions/{full}")).await;
    b.wait_contains("#prediction-text", "Starts now on agent local.")
        .await;
    // nothing was launched by asking
    let list = api.get_json("/api/v1/sessions?status=running").await;
    assert_eq!(list["total"], 0, "{list}");
    // and the selector shows the freed CPU by itself
    b.el("#step-environment").await.click().await.unwrap();
    b.wait_contains("#agent", "local — free: 1 CPU").await;
    b.close().await;
}
