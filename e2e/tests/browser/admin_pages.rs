//! The admin pages in real Chromium, with a second real engine: register
//! it as an agent (a wrong address is refused under its field), see both
//! agents with what they have free in the launcher's selector and the
//! prediction follow the choice, drain it, remove it; create, edit and
//! delete a resource group; pre-pull an environment to a group.

use berth_e2e::thirtyfour::prelude::*;
use berth_e2e::{Browser, Server, ADMIN_EMAIL, ADMIN_PASSWORD};
use berth_testkit::PrivateEngine;

async fn click(b: &Browser, css: &str) {
    b.el(css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_register_drain_and_remove_an_agent_and_the_launcher_sees_both() {
    let engine = PrivateEngine::start(&["berth/busybox:latest"]).await;
    let srv = Server::start_with_ui(|c| c.agent_cpu = Some(1.0)).await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    click(&b, "#nav-agents").await;
    b.wait_for_path("/agents").await;
    b.wait_contains("#agent-local", "ALIVE").await;

    click(&b, "#register-agent-button").await;
    b.fill("#agent-id", "two").await;
    b.fill("#agent-host", "unix:///tmp/no-engine-here.sock")
        .await;
    // where the agent's host sees the folder store: a path on that host
    b.fill("#agent-storage", "mnt/berth").await;
    click(&b, "#register-agent-submit").await;
    b.wait_contains("#agent-storage-error", "Give an absolute path")
        .await;
    b.wait_focus("agent-storage").await;
    b.fill("#agent-storage", "/mnt/berth-storage").await;
    click(&b, "#register-agent-submit").await;
    b.wait_contains("#agent-host-error", "No Docker engine answers")
        .await;
    // focus goes to the field in error
    b.wait_focus("agent-host").await;
    b.shot("50-admin-register-agent-error").await;
    b.fill("#agent-host", &engine.host()).await;
    b.fill("#agent-reserve-mem", "256m").await;
    click(&b, "#register-agent-submit").await;
    b.wait_gone("#register-agent-dialog").await;
    let row = b.wait_contains("#agent-two", "ALIVE").await;
    let text = row.text().await.unwrap();
    assert!(text.contains("256 MiB"), "the reserve shows: {text}");
    assert!(
        text.contains("Folders at /mnt/berth-storage"),
        "the storage path shows: {text}"
    );
    b.wait_contains("#agent-local", "Folders at /").await;
    b.shot("51-admin-agents").await;

    // the launcher lists both agents of the group with what each has free
    let cores = std::thread::available_parallelism().unwrap().get();
    b.driver.goto(srv.url("/launch")).await.unwrap();
    click(&b, "#step-environment").await;
    b.wait_contains("#agent", "local — free: 1 CPU").await;
    b.wait_contains("#agent", &format!("two — free: {cores} CPU"))
        .await;
    b.shot("52-launcher-two-agents").await;
    // automatic: spread out, so the freer agent
    click(&b, "#step-review").await;
    b.wait_contains("#prediction-text", "Starts now on agent two.")
        .await;
    // a chosen agent is honoured
    click(&b, "#step-environment").await;
    click(&b, "#agent option[value='local']").await;
    click(&b, "#step-review").await;
    b.wait_contains("#prediction-text", "Starts now on agent local.")
        .await;

    // a cluster: the agent is chosen automatically, the review says how
    click(&b, "#step-environment").await;
    click(&b, "#agent option[value='']").await;
    b.fill("#cluster-size", "2").await;
    click(&b, "#cluster-mode option[value='multi-node']").await;
    b.wait_prop("#agent", "disabled", "true").await;
    b.shot("57-launcher-cluster").await;
    click(&b, "#step-review").await;
    b.wait_contains("#review-environment", "Multi-node × 2")
        .await;
    b.wait_contains("#prediction-text", "Starts now on agent")
        .await;
    click(&b, "#step-environment").await;
    b.fill("#cluster-size", "1").await;
    click(&b, "#cluster-mode option[value='single-node']").await;

    // drained from the agents page: automatic now goes to local
    b.driver.goto(srv.url("/agents")).await.unwrap();
    click(&b, "#drain-two").await;
    b.wait_contains("#agent-two", "Drained").await;
    b.shot("53-admin-agent-drained").await;
    b.driver.goto(srv.url("/launch")).await.unwrap();
    click(&b, "#step-review").await;
    b.wait_contains("#prediction-text", "Starts now on agent local.")
        .await;

    // removed
    b.driver.goto(srv.url("/agents")).await.unwrap();
    click(&b, "#remove-two").await;
    b.wait_contains("#remove-agent-body", "Agent two").await;
    b.shot("54-admin-remove-agent").await;
    click(&b, "#remove-agent-confirm").await;
    b.wait_gone("#agent-two").await;
    // the local agent is the server's own engine: no Remove is offered, and
    // the page says what agents are and what Drain does
    b.wait_contains("#agent-local", "ALIVE").await;
    assert!(b
        .driver
        .find_all(By::Css("#remove-local"))
        .await
        .unwrap()
        .is_empty());
    b.wait_contains("#agents-intro", "Drain stops new sessions")
        .await;
    b.wait_contains("#agents-intro", "choose it when you register")
        .await;
    b.wait_contains("#agents-intro", "see the folder storage")
        .await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_create_edit_and_delete_a_resource_group_and_pre_pull_an_environment_to_one() {
    // a second engine without any image, in the default group
    let (engine, srv) = tokio::join!(PrivateEngine::start(&[]), Server::start_ui());
    let res = srv
        .admin()
        .await
        .post(
            "/api/v1/agents",
            &serde_json::json!({"id": "bare", "docker_host": engine.host(), "resource_group": "default"}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    click(&b, "#nav-groups").await;
    b.wait_for_path("/resource-groups").await;
    b.wait_contains("#group-default", "local").await;

    // pre-pull: a choice is asked for, then each agent's part shows; the
    // local agent (the catalogue) has it, the bare one gets a copy (no
    // registry is set)
    click(&b, "#prepull-group-default").await;
    b.wait_contains("#prepull-dialog-title", "default").await;
    click(&b, "#prepull-start").await;
    b.wait_contains("#prepull-image-error", "required").await;
    click(&b, "#prepull-image option[value='berth/busybox:latest']").await;
    click(&b, "#prepull-start").await;
    b.wait_contains("#prepull-agent-local", "Had it already")
        .await;
    b.wait_contains("#prepull-agent-bare", "Fetched").await;
    b.shot("57-admin-prepull").await;
    assert!(!berth_testkit::docker(&[
        "-H",
        &engine.host(),
        "image",
        "ls",
        "-q",
        "berth/busybox:latest"
    ])
    .await
    .is_empty());
    click(&b, "#prepull-close").await;
    b.wait_gone("#prepull-dialog").await;

    click(&b, "#new-group-button").await;
    b.fill("#group-name", "gpu").await;
    b.fill("#group-description", "GPU nodes").await;
    click(&b, "#group-strategy option[value='concentrated']").await;
    b.fill("#group-projects", "no-such-project").await;
    click(&b, "#group-save").await;
    // an unknown project is named under its field
    b.wait_contains(
        "#group-projects-error",
        "There is no project with this name.",
    )
    .await;
    b.fill("#group-projects", "default").await;
    click(&b, "#group-save").await;
    b.wait_gone("#group-dialog").await;
    let row = b.wait_contains("#group-gpu", "Concentrated").await;
    assert!(row.text().await.unwrap().contains("GPU nodes"));
    b.shot("55-admin-groups").await;

    click(&b, "#edit-group-gpu").await;
    b.wait_prop("#group-name", "value", "gpu").await;
    b.fill("#group-description", "Fast GPUs").await;
    b.shot("56-admin-edit-group").await;
    click(&b, "#group-save").await;
    b.wait_contains("#group-gpu", "Fast GPUs").await;

    // a group without agents says it is not usable yet
    b.wait_contains("#group-gpu", "Not usable yet: no agents")
        .await;
    b.wait_contains("#groups-intro", "usable once it has both")
        .await;
    // the default group has an agent: Delete is not offered, and why
    assert!(!b
        .el("#delete-group-default")
        .await
        .is_enabled()
        .await
        .unwrap());
    b.wait_contains("#group-default", "Has agents").await;
    click(&b, "#delete-group-gpu").await;
    click(&b, "#delete-group-confirm").await;
    b.wait_gone("#group-gpu").await;
    // the row is gone: focus goes to the page's heading, not the page
    b.wait_focus("groups-title").await;
    b.close().await;
}
