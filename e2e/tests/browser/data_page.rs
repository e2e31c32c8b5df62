//! Storage folders in real Chromium: a folder made from the launcher's "+"
//! is selected; a file uploaded in the explorer shows its progress bar
//! reach 100 %; a batch session with the folder mounted lists the file in
//! its log; the Data page shows the folder as mounted while it runs; no
//! no-folder dialog on the way.

use std::time::Duration;

use berth_e2e::thirtyfour::prelude::*;
use berth_e2e::{Browser, Server, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_from_the_launcher_carries_an_upload_into_a_session() {
    let srv = Server::start_ui().await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.driver.goto(srv.url("/launch")).await.unwrap();

    // 1. a batch session that lists the folder, then stays a while
    b.el("#type-batch").await.click().await.unwrap();
    b.fill("#session-name", "reads-inputs").await;
    b.fill("#startup-command", "ls /home/work/inputs && sleep 30")
        .await;
    b.el("#step-data").await.click().await.unwrap();
    b.wait_text("#wizard-page-title", "Data & folders").await;
    b.wait_contains("#no-folders", "You have no folders yet")
        .await;

    // "+" creates a folder, which is then selected
    b.el("#folder-add").await.click().await.unwrap();
    b.wait_focus("folder-name").await;
    b.fill("#folder-name", ".bad").await;
    b.wait_contains("#folder-name-error", "not starting with a dot")
        .await;
    b.shot("29-create-folder-dialog").await;
    b.fill("#folder-name", "inputs").await;
    b.el("#folder-create-confirm").await.click().await.unwrap();
    b.wait_gone("#create-folder-dialog").await;
    b.wait_prop("#mount-inputs", "checked", "true").await;
    b.shot("30-launcher-data-page").await;

    // the explorer uploads a file with a progress bar
    b.el("[data-folder='inputs'] .folder-open")
        .await
        .click()
        .await
        .unwrap();
    b.wait_text("#explorer-title", "Folder inputs").await;
    b.wait_contains("#explorer-empty", "empty").await;
    let file = tempfile::Builder::new()
        .prefix("payload-")
        .suffix(".bin")
        .tempfile()
        .unwrap();
    std::fs::write(file.path(), vec![7u8; 8 << 20]).unwrap();
    let file_name = file
        .path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    b.el("#explorer-file")
        .await
        .send_keys(file.path().to_string_lossy().to_string())
        .await
        .unwrap();
    b.wait_contains("#explorer-uploads .upload-state", "Uploaded")
        .await;
    b.wait_text("#explorer-uploads .upload-percent", "100 %")
        .await;
    b.wait_prop("#explorer-uploads progress", "value", "100")
        .await;
    b.wait_contains("#explorer-entries", &file_name).await;
    b.shot("31-explorer").await;
    // New directory: the name field takes focus; Enter makes it, and
    // focus goes back to the button
    b.el("#explorer-new-dir").await.click().await.unwrap();
    b.wait_focus("explorer-dir-name").await;
    b.keys("sub").await;
    b.keys(Key::Enter).await;
    b.wait_focus("explorer-new-dir").await;
    b.wait_contains("[data-row='entry-sub']", "sub").await;
    // Rename: its field takes focus, with Save and Cancel; Escape gives up
    b.el("[data-row='entry-sub'] .entry-rename")
        .await
        .click()
        .await
        .unwrap();
    b.wait_focus_css("[data-row='entry-sub'] .entry-rename-input")
        .await;
    b.el("[data-row='entry-sub'] .entry-rename-save").await;
    b.keys(Key::Escape).await;
    b.wait_focus_css("[data-row='entry-sub'] .entry-rename")
        .await;
    b.el("#explorer-dialog").await;
    b.el("[data-row='entry-sub'] .entry-rename")
        .await
        .click()
        .await
        .unwrap();
    b.wait_focus_css("[data-row='entry-sub'] .entry-rename-input")
        .await;
    b.keys("2").await;
    b.el("[data-row='entry-sub'] .entry-rename-save")
        .await
        .click()
        .await
        .unwrap();
    b.wait_focus_css("[data-row='entry-sub2'] .entry-rename")
        .await;
    // another directory starts without the finished uploads of this one
    b.el("[data-row='entry-sub2'] .entry-open")
        .await
        .click()
        .await
        .unwrap();
    b.wait_gone("#explorer-uploads").await;
    b.el("#explorer-breadcrumb .crumb")
        .await
        .click()
        .await
        .unwrap();
    b.wait_contains("#explorer-entries", &file_name).await;
    b.el("#explorer-close").await.click().await.unwrap();
    b.wait_gone("#explorer-dialog").await;

    // the review lists the mount; Launch goes without the no-folder dialog
    b.el("#wizard-skip").await.click().await.unwrap();
    b.wait_contains("#review-data", "inputs").await;
    b.el("#launch-button").await.click().await.unwrap();
    b.wait_for_path("/sessions").await;
    assert!(
        b.driver.find(By::Css("#no-folder-dialog")).await.is_err(),
        "no no-folder dialog with a folder mounted"
    );

    // the session lists the uploaded file in its log
    b.wait_session("reads-inputs", "RUNNING").await;
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let list = api.get_json("/api/v1/sessions").await;
    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    let mut logs = String::new();
    for _ in 0..100 {
        logs = api.get_json(&format!("/api/v1/sessions/{id}/logs")).await["logs"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if logs.contains(&file_name) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(logs.contains(&file_name), "{logs}");

    // the Data page shows it mounted while the session runs
    b.el("#nav-data").await.click().await.unwrap();
    b.wait_for_path("/data").await;
    b.wait_contains("[data-folder='inputs'] .folder-mounts", "reads-inputs")
        .await;
    b.wait_contains("#folder-quota", "1 of 10 folders").await;
    b.shot("32-data-page").await;
    // and refuses to delete it, saying why
    b.el("[data-folder='inputs'] .folder-delete")
        .await
        .click()
        .await
        .unwrap();
    b.el("#delete-folder-confirm").await.click().await.unwrap();
    b.wait_contains("#delete-folder-error", "reads-inputs")
        .await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_entry_whose_folder_is_gone_says_so_instead_of_failing() {
    let srv = Server::start_ui().await;
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let kept = api
        .post_json("/api/v1/folders", &serde_json::json!({"name": "kept"}))
        .await;
    let temp = api
        .post_json("/api/v1/folders", &serde_json::json!({"name": "temp"}))
        .await;
    // a launch that mounted both is remembered (it waits for a later start)
    let later = (chrono::Utc::now() + chrono::Duration::hours(6)).to_rfc3339();
    api.launch(serde_json::json!({
        "type": "batch", "name": "nightly", "image": "berth/busybox:latest",
        "startup_command": "true", "starts_at": later,
        "resources": {"cpu": 0.25, "mem": "64m"},
        "mounts": ["kept", {"name": "temp", "read_only": true}]}))
        .await;
    let list = api.get_json("/api/v1/sessions").await;
    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    api.delete(&format!("/api/v1/sessions/{id}")).await;
    let res = api
        .delete(&format!("/api/v1/folders/{}", temp["id"].as_str().unwrap()))
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(kept["name"], "kept");

    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.driver.goto(srv.url("/launch")).await.unwrap();
    b.el("#history-button").await.click().await.unwrap();
    b.el("#history-0-name").await.click().await.unwrap();
    b.wait_gone("#history-dialog").await;
    b.wait_text("#wizard-page-title", "Review & launch").await;
    b.wait_contains("#review-data", "kept").await;
    b.wait_contains("#review-data", "Left out").await;
    b.el("#step-data").await.click().await.unwrap();
    b.wait_contains("#missing-folders", "temp").await;
    b.wait_prop("#mount-kept", "checked", "true").await;
    b.el("#step-review").await.click().await.unwrap();
    // the start time of the entry is in the future; launch goes through
    b.el("#launch-button").await.click().await.unwrap();
    b.wait_for_path("/sessions").await;
    b.close().await;
}
