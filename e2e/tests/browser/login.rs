//! Log in with the superadmin, see the Sessions page, log out; a wrong
//! password shows an error; the API keypair in the user menu. Real
//! Chromium, real server, real database.

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_ended_elsewhere_returns_to_sign_in_then_to_the_page() {
    let srv = Server::start_ui().await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.driver.goto(srv.url("/data")).await.unwrap();
    b.el("#data-title").await;
    // the login ends in another tab
    let status = b
        .driver
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/api/v1/auth/logout', {method: 'POST'}).then(r => done(r.status));",
            vec![],
        )
        .await
        .unwrap()
        .convert::<u16>()
        .unwrap();
    assert!(status < 300, "logout answered {status}");
    // the page's next call answers 401: back to the sign-in page, which
    // remembers the page. The event stream's reconnect may be that call
    // before a click is: then the page is gone by itself.
    for _ in 0..300 {
        let url = b.driver.current_url().await.unwrap();
        if url.path() == "/login" {
            break;
        }
        let find = |css: &'static str| b.driver.find(By::Css(css));
        if let Ok(confirm) = find("#folder-create-confirm").await {
            if let Ok(name) = find("#folder-name").await {
                if name
                    .prop("value")
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or_default()
                    .is_empty()
                {
                    let _ = name.send_keys("after-logout").await;
                    continue;
                }
            }
            let _ = confirm.click().await;
        } else if let Ok(open) = find("#new-folder-button").await {
            let _ = open.click().await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    b.wait_for_path("/login").await;
    let url = b.driver.current_url().await.unwrap();
    assert_eq!(url.query(), Some("next=%2Fdata"), "{url}");
    b.fill("#login-email", ADMIN_EMAIL).await;
    let pw = b.el("#login-password").await;
    pw.send_keys(ADMIN_PASSWORD).await.unwrap();
    pw.send_keys(Key::Enter).await.unwrap();
    b.wait_for_path("/data").await;
    b.el("#data-title").await;
    b.close().await;
}

/// The user menu's API keypair: the access key is shown, a new secret key
/// is made on request and shown once (gone when the dialog closes), by
/// keyboard too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_keypair_shows_a_new_secret_once() {
    let srv = Server::start_ui().await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let me = srv.admin().await.get_json("/api/v1/auth/me").await;
    let access_key = me["access_key"].as_str().unwrap().to_string();
    b.el("#user-menu-button").await.click().await.unwrap();
    b.el("#keypair-button").await.click().await.unwrap();
    b.wait_text("#keypair-access", &access_key).await;
    b.wait_contains("#keypair-intro", "/backend.ai").await;
    assert!(b.driver.find(By::Css("#keypair-secret")).await.is_err());
    b.el("#keypair-generate").await.click().await.unwrap();
    b.wait_focus("keypair-secret").await;
    let first = b
        .el("#keypair-secret")
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default();
    assert_eq!(first.len(), 40, "{first}");
    b.shot("keypair-dialog").await;
    // another replaces it
    b.el("#keypair-generate").await.click().await.unwrap();
    let mut second = first.clone();
    for _ in 0..100 {
        second = b
            .el("#keypair-secret")
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default();
        if second != first {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_ne!(second, first);
    // focus is back on the new secret (the button was disabled while it
    // was made), so Escape reaches the dialog
    b.wait_focus("keypair-secret").await;
    // Escape closes it, and the secret is not shown again
    b.keys(Key::Escape).await;
    b.wait_gone("#keypair-dialog").await;
    b.el("#user-menu-button").await.click().await.unwrap();
    b.el("#keypair-button").await.click().await.unwrap();
    b.wait_text("#keypair-access", &access_key).await;
    assert!(b.driver.find(By::Css("#keypair-secret")).await.is_err());
    b.close().await;
}
