//! Saving a session as an image from the browser: the detail panel's
//! Commit opens the dialog (session information, the name rule as typed),
//! Save starts it, a toast says it is done; the launcher lists the image
//! as `Customized<name>` with a copy button for its reference, and the
//! Data page lists it.

use berth_e2e::thirtyfour::prelude::*;
use berth_e2e::{session_row, Browser, Server, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_dialog_toast_launcher_and_data_page() {
    let srv = Server::start_ui().await;
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let s = api
        .launch(json!({"name": "tooling", "image": "berth/busybox:latest",
                       "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    api.wait_status(&id, "RUNNING").await;

    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.wait_session("tooling", "RUNNING").await;
    b.driver
        .find(By::XPath(format!(
            "{}//button[contains(@class,'session-open')]",
            session_row("tooling")
        )))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.el("#detail-commit").await.click().await.unwrap();
    b.wait_contains("#commit-session", "tooling").await;
    b.fill("#commit-name", "my tools").await;
    b.wait_text("#commit-name-error", "Use letters, digits, - and _ only.")
        .await;
    assert!(!b.el("#commit-save").await.is_enabled().await.unwrap());
    b.fill("#commit-name", "my-tools").await;
    b.wait_text("#commit-name-error", "").await;
    b.shot("60-commit-dialog").await;
    b.el("#commit-save").await.click().await.unwrap();
    b.wait_gone("#commit-dialog").await;
    b.wait_contains(
        &format!("#toast-{id}"),
        "tooling was saved as Customized<my-tools>.",
    )
    .await;
    b.shot("61-commit-toast").await;
    b.el(&format!("#toast-{id} .toast-close"))
        .await
        .click()
        .await
        .unwrap();

    // the launcher offers it, with its reference to copy
    b.el("#start-button").await.click().await.unwrap();
    b.wait_for_path("/launch").await;
    b.el("#wizard-next").await.click().await.unwrap();
    b.wait_contains("#environment", "Customized<my-tools>")
        .await;
    let option = b
        .driver
        .find(By::XPath(
            "//select[@id='environment']/option[starts-with(normalize-space(), 'Customized<my-tools>')]",
        ))
        .await
        .unwrap();
    option.click().await.unwrap();
    b.wait_contains("#customized-reference", "customized/")
        .await;
    b.el("#customized-copy").await.click().await.unwrap();
    b.wait_text("#customized-copy", "Copied").await;
    b.shot("62-launcher-customized").await;
    // the review, the list and the panel call it by its name too, not by
    // its reference
    b.el("#step-type").await.click().await.unwrap();
    b.fill("#session-name", "from-my-tools").await;
    b.el("#wizard-skip").await.click().await.unwrap();
    b.wait_contains("#review-environment", "Customized<my-tools>")
        .await;
    b.launch_and_confirm().await;
    b.wait_for_path("/sessions").await;
    let row = b.wait_session("from-my-tools", "RUNNING").await;
    let text = row.text().await.unwrap();
    assert!(
        text.contains("Customized<my-tools>") && !text.contains("customized/"),
        "{text}"
    );
    row.find(By::Css(".session-open"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait_text("#detail-image", "Customized<my-tools>").await;

    // the Data page lists it
    b.driver.goto(srv.url("/data")).await.unwrap();
    b.wait_contains("#images-table", "Customized<my-tools>")
        .await;
    b.wait_contains("#images-table", "tooling").await;
    b.shot("63-data-customized-images").await;
    b.close().await;
}
