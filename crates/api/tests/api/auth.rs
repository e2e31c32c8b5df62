//! Logins, logout, me, API tokens: against a real server and SQLite file.

use berth_testkit::{field_errors, problem, TestServer, ADMIN_EMAIL, ADMIN_PASSWORD};
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn login_me_logout() {
    let srv = TestServer::start().await;
    let c = srv.client();

    let res = c.get("/api/v1/auth/me").await;
    problem(res, StatusCode::UNAUTHORIZED).await;

    let res = c.try_login("ROOT@test.berth ", ADMIN_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("berth_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP by default: {cookie}"
    );
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["email"], ADMIN_EMAIL);
    assert_eq!(user["role"], "superadmin");
    assert_eq!(user["projects"], json!(["default"]));
    assert!(user["access_key"].as_str().unwrap().starts_with("AKIA"));
    assert!(user.get("password_hash").is_none());

    let me: Value = c.get_json("/api/v1/auth/me").await;
    assert_eq!(me["id"], user["id"]);

    let res = c.post_empty("/api/v1/auth/logout").await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let cleared = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    let res = c.get("/api/v1/auth/me").await;
    problem(res, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn stolen_cookie_is_dead_after_logout() {
    let srv = TestServer::start().await;
    let c = srv.client();
    let res = c.try_login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookie = res.headers().get("set-cookie").unwrap().to_str().unwrap();
    let pair = cookie.split(';').next().unwrap().to_string();
    c.post_empty("/api/v1/auth/logout").await;
    let res = srv
        .client_with(&[("cookie", &pair)])
        .get("/api/v1/auth/me")
        .await;
    problem(res, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let srv = TestServer::start().await;
    let c = srv.client();
    let wrong_pw = c.try_login(ADMIN_EMAIL, "not-the-password").await;
    let a = problem(wrong_pw, StatusCode::UNAUTHORIZED).await;
    let unknown = c.try_login("nobody@test.berth", "not-the-password").await;
    let b = problem(unknown, StatusCode::UNAUTHORIZED).await;
    assert_eq!(a, b, "the answer must not reveal whether the email exists");
    let detail = a["detail"].as_str().unwrap().to_lowercase();
    assert!(
        !detail.contains("exist") && !detail.contains("unknown"),
        "{detail}"
    );
}

#[tokio::test]
async fn disabled_user_cannot_login_and_loses_sessions_and_tokens() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    let user = srv
        .create_user(&admin, "dana@test.berth", "dana-password", "user")
        .await;
    let dana = srv.login("dana@test.berth", "dana-password").await;
    let token: Value = dana
        .post_json("/api/v1/auth/tokens", &json!({"name": "script"}))
        .await;
    let token = token["token"].as_str().unwrap().to_string();

    let res = admin
        .patch(
            &format!("/api/v1/users/{}", user["id"].as_str().unwrap()),
            &json!({"is_active": false}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let updated: Value = res.json().await.unwrap();
    assert_eq!(updated["is_active"], false);

    let res = srv
        .client()
        .try_login("dana@test.berth", "dana-password")
        .await;
    problem(res, StatusCode::UNAUTHORIZED).await;
    let res = dana.get("/api/v1/auth/me").await;
    problem(res, StatusCode::UNAUTHORIZED).await;
    let res = srv.token_client(&token).get("/api/v1/auth/me").await;
    problem(res, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn api_tokens_create_use_list_revoke() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    srv.create_user(&admin, "erin@test.berth", "erin-password", "user")
        .await;
    let erin = srv.login("erin@test.berth", "erin-password").await;

    let res = erin
        .post("/api/v1/auth/tokens", &json!({"name": "ci"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let token = created["token"].as_str().unwrap().to_string();
    assert!(token.starts_with("berth_"));
    assert!(token.starts_with(created["prefix"].as_str().unwrap()));

    let script = srv.token_client(&token);
    let me = script.get_json("/api/v1/auth/me").await;
    assert_eq!(me["email"], "erin@test.berth");

    let list: Value = erin.get_json("/api/v1/auth/tokens").await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["name"], "ci");
    assert!(
        items[0].get("token").is_none(),
        "the secret is shown only once"
    );
    assert!(!items[0]["last_used_at"].is_null(), "use is recorded");

    // someone else's token id is not found
    let res = admin
        .delete(&format!(
            "/api/v1/auth/tokens/{}",
            created["id"].as_str().unwrap()
        ))
        .await;
    problem(res, StatusCode::NOT_FOUND).await;

    let res = erin
        .delete(&format!(
            "/api/v1/auth/tokens/{}",
            created["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = script.get("/api/v1/auth/me").await;
    problem(res, StatusCode::UNAUTHORIZED).await;
    let list: Value = erin.get_json("/api/v1/auth/tokens").await;
    assert_eq!(list["items"], json!([]));
}

#[tokio::test]
async fn missing_or_garbage_credentials_are_401() {
    let srv = TestServer::start().await;
    for auth in [
        None,
        Some("Bearer garbage"),
        Some("Bearer "),
        Some("Basic dXNlcjpwdw=="),
        Some("berth_x"),
    ] {
        let c = match auth {
            Some(a) => srv.client_with(&[("authorization", a)]),
            None => srv.client(),
        };
        let res = c.get("/api/v1/auth/me").await;
        assert_eq!(
            res.headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok()),
            Some("Bearer")
        );
        problem(res, StatusCode::UNAUTHORIZED).await;
    }
    let res = srv
        .client_with(&[("cookie", "berth_session=forged")])
        .get("/api/v1/auth/me")
        .await;
    problem(res, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn malformed_and_invalid_bodies() {
    let srv = TestServer::start().await;
    let c = srv.client();
    let login = "/api/v1/auth/login";

    let res = c
        .http()
        .post(c.url(login))
        .header("content-type", "application/json")
        .body("{\"email\": ")
        .send()
        .await
        .unwrap();
    let body = problem(res, StatusCode::BAD_REQUEST).await;
    assert!(body["detail"].as_str().unwrap().contains("not valid JSON"));

    let res = c
        .post(login, &json!({"email": "nope", "password": ""}))
        .await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&body),
        [
            ("email".into(), "invalid_email".into()),
            ("password".into(), "required".into())
        ]
    );

    let res = c.post(login, &json!({"email": 42, "password": "x"})).await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&body),
        [("email".into(), "invalid_type".into())]
    );

    let res = c
        .http()
        .post(c.url(login))
        .header("content-type", "text/plain")
        .body("email=a")
        .send()
        .await
        .unwrap();
    problem(res, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;

    let huge = json!({"email": "a@b.io", "password": "x".repeat(2 * 1024 * 1024)});
    let res = c.post(login, &huge).await;
    problem(res, StatusCode::PAYLOAD_TOO_LARGE).await;

    let res = c.get("/api/v1/no-such-thing").await;
    problem(res, StatusCode::NOT_FOUND).await;
    let res = c.get("/api/v2/anything").await;
    problem(res, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn the_cookie_is_secure_behind_https() {
    let srv = TestServer::start_with(|c| c.secure_cookies = true).await;
    let res = srv.client().try_login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

#[tokio::test]
async fn failed_logins_are_throttled_per_account_and_address() {
    let srv = TestServer::start().await;
    let (_, _) = srv.new_user("alice@test.berth", "user").await;
    let c = srv.client();
    for _ in 0..5 {
        let res = c.try_login("alice@test.berth", "wrong-password").await;
        problem(res, StatusCode::UNAUTHORIZED).await;
    }
    // the sixth, even with the right password, waits
    let res = c
        .try_login("Alice@test.berth", berth_testkit::USER_PASSWORD)
        .await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=300).contains(&retry), "Retry-After {retry}");
    let body = problem(res, StatusCode::TOO_MANY_REQUESTS).await;
    assert!(
        body["detail"].as_str().unwrap().contains("try again"),
        "{body}"
    );
    // other accounts from this address, and alice from another, are not locked
    assert_eq!(c.try_login(ADMIN_EMAIL, ADMIN_PASSWORD).await.status(), 200);
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 3]))
        .build()
        .unwrap();
    let res = elsewhere
        .post(srv.url("/api/v1/auth/login"))
        .json(&json!({"email": "alice@test.berth", "password": berth_testkit::USER_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the real user is not locked out");
}

#[tokio::test]
async fn the_ui_language_is_kept_for_the_user() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let me = c.get_json("/api/v1/auth/me").await;
    assert!(me.get("locale").is_none(), "none chosen yet: {me}");

    let res = c.patch("/api/v1/auth/me", &json!({"locale": "ko"})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["locale"], "ko");
    // kept: a new sign-in (another browser) gets it with the user
    let other = srv.client();
    let res = other.try_login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["locale"], "ko");
    assert_eq!(other.get_json("/api/v1/auth/me").await["locale"], "ko");

    // only languages the UI speaks; nothing else is writable here
    let res = c.patch("/api/v1/auth/me", &json!({"locale": "fr"})).await;
    let body = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&body),
        [("locale".into(), "unsupported_locale".into())]
    );
    let res = c
        .patch(
            "/api/v1/auth/me",
            &json!({"locale": "en", "role": "superadmin"}),
        )
        .await;
    assert!(res.status().is_client_error());
    assert_eq!(c.get_json("/api/v1/auth/me").await["locale"], "ko");
    let res = srv
        .client()
        .patch("/api/v1/auth/me", &json!({"locale": "en"}))
        .await;
    problem(res, StatusCode::UNAUTHORIZED).await;
}
