//! Admin routes: create, list, look up by email, update; role checks.

use berth_testkit::{field_errors, problem, TestServer, ADMIN_EMAIL};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn admin_creates_and_looks_up_users_by_email() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    let created = srv
        .create_user(&admin, "Frank@Test.Berth", "frank-password", "user")
        .await;
    assert_eq!(created["email"], "frank@test.berth");
    assert_eq!(created["role"], "user");
    assert_eq!(created["projects"], json!(["default"]));

    let found = admin.get_json("/api/v1/users?email=FRANK@test.berth").await;
    let items = found["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let u = &items[0];
    assert_eq!(u["id"], created["id"]);
    assert_eq!(u["email"], "frank@test.berth");
    assert_eq!(u["full_name"], "Test User");
    assert_eq!(u["role"], "user");
    assert_eq!(u["access_key"], created["access_key"]);
    assert_eq!(u["projects"], json!(["default"]));

    let none: Value = admin.get_json("/api/v1/users?email=ghost@test.berth").await;
    assert_eq!(none["items"], json!([]));

    let all: Value = admin.get_json("/api/v1/users").await;
    let emails: Vec<_> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].clone())
        .collect();
    assert_eq!(emails, [json!(ADMIN_EMAIL), json!("frank@test.berth")]);

    let one: Value = admin
        .get_json(&format!(
            "/api/v1/users/{}",
            created["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(one["email"], "frank@test.berth");
    let res = admin.get("/api/v1/users/no-such-id").await;
    problem(res, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn duplicate_email_and_bad_fields_are_422() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    srv.create_user(&admin, "gina@test.berth", "gina-password", "user")
        .await;
    let res = admin
        .post(
            "/api/v1/users",
            &json!({"email": "GINA@test.berth", "password": "another-one"}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(field_errors(&body), [("email".into(), "taken".into())]);

    let res = admin
        .post(
            "/api/v1/users",
            &json!({"email": "x", "password": "short", "projects": ["nope"]}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&body),
        [
            ("email".into(), "invalid_email".into()),
            ("password".into(), "too_short".into())
        ]
    );

    let res = admin
        .post(
            "/api/v1/users",
            &json!({"email": "h@test.berth", "password": "long-enough", "projects": ["nope"]}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&body),
        [("projects[0]".into(), "unknown_project".into())]
    );

    let res = admin
        .post(
            "/api/v1/users",
            &json!({"email": "h@test.berth", "password": "long-enough", "role": "root"}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&body),
        [("role".into(), "invalid_type".into())]
    );
}

#[tokio::test]
async fn plain_users_get_403_on_admin_routes() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    let target = srv
        .create_user(&admin, "ivan@test.berth", "ivan-password", "user")
        .await;
    let ivan = srv.login("ivan@test.berth", "ivan-password").await;
    let id = target["id"].as_str().unwrap();
    for res in [
        ivan.get("/api/v1/users").await,
        ivan.get("/api/v1/users?email=root@test.berth").await,
        ivan.get(&format!("/api/v1/users/{id}")).await,
        ivan.post(
            "/api/v1/users",
            &json!({"email": "j@test.berth", "password": "long-enough"}),
        )
        .await,
        ivan.patch(
            &format!("/api/v1/users/{id}"),
            &json!({"role": "superadmin"}),
        )
        .await,
    ] {
        problem(res, StatusCode::FORBIDDEN).await;
    }
    // and without any login it is 401, not 403
    let res = srv.client().get("/api/v1/users").await;
    problem(res, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn admins_manage_users_but_not_admins() {
    let srv = TestServer::start().await;
    let root = srv.admin().await;
    let other_admin = srv
        .create_user(&root, "other-admin@test.berth", "admin-password", "admin")
        .await;
    srv.create_user(&root, "kim@test.berth", "admin-password", "admin")
        .await;
    let kim = srv.login("kim@test.berth", "admin-password").await;

    // an admin creates and looks up plain users
    let user = srv
        .create_user(&kim, "lee@test.berth", "lee-password", "user")
        .await;
    let found: Value = kim.get_json("/api/v1/users?email=lee@test.berth").await;
    assert_eq!(found["items"][0]["access_key"], user["access_key"]);

    // but cannot create, promote, or disable admins
    let res = kim
        .post(
            "/api/v1/users",
            &json!({"email": "m@test.berth", "password": "long-enough", "role": "admin"}),
        )
        .await;
    problem(res, StatusCode::FORBIDDEN).await;
    let res = kim
        .patch(
            &format!("/api/v1/users/{}", user["id"].as_str().unwrap()),
            &json!({"role": "admin"}),
        )
        .await;
    problem(res, StatusCode::FORBIDDEN).await;
    let res = kim
        .patch(
            &format!("/api/v1/users/{}", other_admin["id"].as_str().unwrap()),
            &json!({"is_active": false}),
        )
        .await;
    problem(res, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn a_rejected_update_changes_nothing() {
    let srv = TestServer::start().await;
    let root = srv.admin().await;
    let (_, user) = srv.new_user("atomic@test.berth", "user").await;
    let uid = user["id"].as_str().unwrap();
    let res = root
        .patch(
            &format!("/api/v1/users/{uid}"),
            &json!({"is_active": false, "full_name": "Changed", "resource_policy": "nope"}),
        )
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(field_errors(&body)[0].0, "resource_policy");
    let after = root.get_json(&format!("/api/v1/users/{uid}")).await;
    assert_eq!(after["is_active"], true, "not disabled: {after}");
    assert_eq!(after["full_name"], "Test User");
    srv.login("atomic@test.berth", berth_testkit::USER_PASSWORD)
        .await;
}
