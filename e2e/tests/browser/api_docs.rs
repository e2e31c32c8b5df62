//! The API's docs page: Swagger UI renders the OpenAPI document in a real
//! browser under the server's Content-Security-Policy (its files come from
//! the server, none from a CDN), and an operation opens to show its
//! responses, the shared problem+json errors among them.

use berth_e2e::thirtyfour::prelude::*;
use berth_e2e::{Browser, Server};

#[tokio::test]
async fn the_docs_page_renders_every_tag_and_an_operation_opens() {
    let srv = Server::start_ui().await;
    let b = Browser::start().await;
    b.driver.goto(srv.url("/api/v1/docs")).await.unwrap();
    b.wait_contains("#api-docs", "berth").await;
    for tag in ["auth", "sessions", "folders", "resources", "apps"] {
        b.wait_contains("#api-docs", tag).await;
    }
    b.wait_contains("#api-docs", "/api/v1/sessions/{id}/rename")
        .await;
    let summary = b
        .driver
        .find(By::XPath(
            "//*[contains(@class,'opblock-summary')][.//*[@data-path='/api/v1/sessions/{id}/rename']]//button[1]",
        ))
        .await
        .unwrap();
    summary.click().await.unwrap();
    b.wait_contains(".opblock.is-open", "application/problem+json")
        .await;
    // Swagger UI's own markup (nested controls in an operation's summary,
    // its colours) is not berth's to change: not checked with axe-core
    b.shot_foreign("api-docs").await;
    b.close().await;
}
