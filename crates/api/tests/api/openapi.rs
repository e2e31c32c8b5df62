//! The OpenAPI document: every route the source declares is in it (as the
//! authorization matrix has a row for each), and schemathesis, run against
//! a live server with an admin's token, finds no 5xx, no response that
//! breaks its schema and no undocumented status in any operation.

use std::collections::BTreeSet;
use std::process::Command;

use berth_testkit::{tools_dir, TestServer};
use serde_json::json;

use crate::authorization::declared_routes;

#[test]
fn every_declared_route_is_in_the_document_and_nothing_else() {
    let doc = berth_api::http::openapi::document();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let route = path
            .strip_prefix(berth_api::http::openapi::PREFIX)
            .unwrap_or(path);
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), route.to_string()));
        }
    }
    let declared: BTreeSet<(String, String)> = declared_routes()
        .into_iter()
        // the API's own 404 for unknown /api paths
        .filter(|(m, p)| !(m == "ANY" && p == "/api/{*rest}"))
        .collect();
    let missing: Vec<_> = declared.difference(&documented).collect();
    assert!(
        missing.is_empty(),
        "routes not in the document: {missing:?}"
    );
    let stale: Vec<_> = documented.difference(&declared).collect();
    assert!(stale.is_empty(), "documented but not routed: {stale:?}");
}

#[tokio::test]
async fn the_document_is_served_and_rendered() {
    let srv = TestServer::start_ui().await;
    let anon = srv.client();
    let doc = anon.get_json("/api/v1/openapi.json").await;
    assert_eq!(&doc, berth_api::http::openapi::document());
    let page = anon.get("/api/v1/docs").await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("/api-docs/swagger-ui-bundle.js"), "{html}");
    let bundle = anon.get("/api-docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status(), 200, "run make setup");
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_nor_a_response_off_the_document() {
    let st = tools_dir().join("schemathesis/bin/st");
    assert!(st.is_file(), "{} missing: run `make setup`", st.display());
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    let token = admin
        .post_json("/api/v1/auth/tokens", &json!({"name": "schemathesis"}))
        .await["token"]
        .as_str()
        .unwrap()
        .to_string();
    let base = srv.url("");
    let base = base.trim_end_matches('/');
    let report = tempfile::tempdir().unwrap();
    let out = tokio::task::spawn_blocking({
        let (st, base, token, dir) = (
            st.clone(),
            base.to_string(),
            token,
            report.path().to_owned(),
        );
        move || {
            Command::new(st)
                .current_dir(&dir)
                .args([
                    "run",
                    &format!("{base}/api/v1/openapi.json"),
                    "--url",
                    &base,
                ])
                .args(["-H", &format!("Authorization: Bearer {token}")])
                .args([
                    "--checks",
                    "not_a_server_error,status_code_conformance,\
                     content_type_conformance,response_schema_conformance",
                ])
                // an endless stream: its open is tested in `events`
                .args(["--exclude-path", "/api/v1/events"])
                .args(["--max-examples", "25", "--seed", "1", "--no-color"])
                .env("SCHEMATHESIS_HOOKS", "")
                .output()
        }
    })
    .await
    .unwrap()
    .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "schemathesis failed:\n{text}");
}
