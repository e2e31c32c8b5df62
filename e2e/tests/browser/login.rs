//! Log in with the superadmin, see the Sessions page, log out; a wrong
//! password shows an error. Real Chromium, real server, real database.

use berth_e2e::thirtyfour::prelude::*;
use berth_e2e::{Browser, Server, ADMIN_EMAIL, ADMIN_PASSWORD};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_see_sessions_logout() {
    let srv = Server::start_ui().await;
    let b = Browser::start().await;

    // Not signed in: the app sends us to the login page.
    b.driver.goto(srv.url("/")).await.unwrap();
    b.wait_for_path("/login").await;
    b.el("#login-title").await;
    b.shot("01-login").await;

    // The shared rules run in the browser before anything is sent.
    b.el("button[type=submit]").await.click().await.unwrap();
    b.wait_text("#login-email-error", "This field is required.")
        .await;
    b.el("#login-email")
        .await
        .send_keys("not-an-email")
        .await
        .unwrap();
    b.el("button[type=submit]").await.click().await.unwrap();
    b.wait_text(
        "#login-email-error",
        "Enter an email address like name@example.com.",
    )
    .await;

    // Wrong password: an error message, still on the login page.
    let email = b.el("#login-email").await;
    email.clear().await.unwrap();
    email.send_keys(ADMIN_EMAIL).await.unwrap();
    b.el("#login-password")
        .await
        .send_keys("wrong-password")
        .await
        .unwrap();
    b.el("button[type=submit]").await.click().await.unwrap();
    let alert = b
        .wait_text("#login-error", "Wrong email or password.")
        .await;
    assert_eq!(alert.attr("role").await.unwrap().as_deref(), Some("alert"));
    b.wait_for_path("/login").await;
    b.shot("02-login-wrong-password").await;

    // Right password: the Sessions page inside the app shell.
    let pw = b.el("#login-password").await;
    pw.clear().await.unwrap();
    pw.send_keys(ADMIN_PASSWORD).await.unwrap();
    pw.send_keys(Key::Enter).await.unwrap();
    b.wait_for_path("/sessions").await;
    b.wait_text("#sessions-title", "Sessions").await;
    b.wait_text(".app-header .brand", "berth").await;
    b.wait_text("#sessions-empty", "No running sessions.").await;
    b.wait_text(".user-email", ADMIN_EMAIL).await;
    let bell = b.el("#notification-bell").await;
    assert_eq!(
        bell.attr("aria-label").await.unwrap().as_deref(),
        Some("Notifications")
    );
    b.shot("03-sessions").await;

    // Finished tab.
    b.el("#tab-finished").await.click().await.unwrap();
    b.wait_text("#sessions-empty", "No finished sessions.")
        .await;

    // A reload keeps the login (HttpOnly cookie), the page survives.
    b.driver.refresh().await.unwrap();
    b.wait_text("#sessions-title", "Sessions").await;

    // Log out through the user menu.
    b.el("#user-menu-button").await.click().await.unwrap();
    b.el("#user-menu").await;
    b.shot("04-user-menu").await;
    b.el("#logout-button").await.click().await.unwrap();
    b.wait_for_path("/login").await;
    b.el("#login-title").await;
    b.shot("05-logged-out").await;

    // The login is really gone: the app page sends us back to login.
    b.driver.goto(srv.url("/sessions")).await.unwrap();
    b.wait_for_path("/login").await;

    b.close().await;
}
