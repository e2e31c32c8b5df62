//! The authorization matrix: every route × {anonymous, owner, another
//! user, admin, superadmin} against the owner's objects, with the status
//! class each must get. A route in the source without a row here fails the
//! test, so a new route cannot skip it.
//!
//! Bodies are well-formed but invalid where a route would change
//! something, so an allowed caller gets a 4xx of validation (not 401, 403
//! or 404) and nothing happens; routes that delete run last, refused
//! callers first.

use std::collections::BTreeSet;

use berth_testkit::{Api, TestServer, ADMIN_EMAIL};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const IMAGE: &str = "berth/busybox:latest";

/// What a caller must get: `o` allowed (any status but 401/403/404 and
/// never 5xx), `u` 401, `f` 403, `n` 404 (hidden: someone else's).
/// Columns: anonymous, owner, other user, admin, superadmin.
struct Row {
    method: Method,
    /// The route as the source declares it (checked for coverage).
    route: &'static str,
    /// The URL, with `{S}` session, `{F}` folder, `{T}` token, `{H}`
    /// history entry, `{U}` the owner's user id.
    url: &'static str,
    body: Option<Value>,
    want: &'static str,
}

fn row(
    method: Method,
    route: &'static str,
    url: &'static str,
    body: Option<Value>,
    want: &'static str,
) -> Row {
    Row {
        method,
        route,
        url,
        body,
        want,
    }
}

fn table() -> Vec<Row> {
    use Method as M;
    let bad_name = Some(json!({"name": ""}));
    vec![
        row(M::GET, "/healthz", "/healthz", None, "ooooo"),
        // (these callers are on the host itself; from elsewhere only an
        // admin may: `metrics::only_the_host_itself_or_an_admin_may_scrape`)
        row(M::GET, "/metrics", "/metrics", None, "ooooo"),
        row(
            M::GET,
            "/openapi.json",
            "/api/v1/openapi.json",
            None,
            "ooooo",
        ),
        row(M::GET, "/docs", "/api/v1/docs", None, "ooooo"),
        row(
            M::POST,
            "/auth/login",
            "/api/v1/auth/login",
            Some(json!({"email": "", "password": ""})),
            "ooooo",
        ),
        row(M::GET, "/auth/me", "/api/v1/auth/me", None, "uoooo"),
        row(
            M::PATCH,
            "/auth/me",
            "/api/v1/auth/me",
            Some(json!({"locale": "xx"})),
            "uoooo",
        ),
        row(M::GET, "/auth/tokens", "/api/v1/auth/tokens", None, "uoooo"),
        row(
            M::POST,
            "/auth/keypair",
            "/api/v1/auth/keypair",
            None,
            "uoooo",
        ),
        row(
            M::POST,
            "/auth/tokens",
            "/api/v1/auth/tokens",
            bad_name.clone(),
            "uoooo",
        ),
        row(M::GET, "/users", "/api/v1/users", None, "uffoo"),
        row(
            M::POST,
            "/users",
            "/api/v1/users",
            Some(json!({"email": "", "password": "", "full_name": ""})),
            "uffoo",
        ),
        row(M::GET, "/users/{id}", "/api/v1/users/{U}", None, "uffoo"),
        row(
            M::PATCH,
            "/users/{id}",
            "/api/v1/users/{U}",
            Some(json!({"full_name": ""})),
            "uffoo",
        ),
        row(
            M::GET,
            "/environments",
            "/api/v1/environments",
            None,
            "uoooo",
        ),
        row(
            M::GET,
            "/resource-groups",
            "/api/v1/resource-groups",
            None,
            "uoooo",
        ),
        row(
            M::POST,
            "/resource-groups",
            "/api/v1/resource-groups",
            Some(json!({"name": ""})),
            "uffoo",
        ),
        row(
            M::GET,
            "/resource-presets",
            "/api/v1/resource-presets",
            None,
            "uoooo",
        ),
        row(
            M::POST,
            "/resource-presets",
            "/api/v1/resource-presets",
            Some(json!({"name": "", "cpu": 1, "mem": "1g", "shmem": "64m"})),
            "uffoo",
        ),
        row(
            M::GET,
            "/resource-policies",
            "/api/v1/resource-policies",
            None,
            "uffoo",
        ),
        row(
            M::POST,
            "/resource-policies",
            "/api/v1/resource-policies",
            Some(
                json!({"name": "", "max_concurrent_sessions": 0, "max_total_cpu": 0, "max_total_mem": 0, "max_session_lifetime": 0}),
            ),
            "uffoo",
        ),
        row(
            M::GET,
            "/resource-policy",
            "/api/v1/resource-policy",
            None,
            "uoooo",
        ),
        row(M::GET, "/agents", "/api/v1/agents", None, "uoooo"),
        row(
            M::POST,
            "/agents",
            "/api/v1/agents",
            Some(json!({"id": "", "docker_host": "", "resource_group": ""})),
            "uffoo",
        ),
        row(
            M::PATCH,
            "/agents/{id}",
            "/api/v1/agents/local",
            Some(json!({"reserve_cpu": -1})),
            "uffoo",
        ),
        row(M::GET, "/events", "/api/v1/events", None, "uoooo"),
        row(M::GET, "/sessions", "/api/v1/sessions", None, "uoooo"),
        row(
            M::POST,
            "/sessions",
            "/api/v1/sessions",
            Some(json!({"image": IMAGE, "resources": {"cpu": 0}})),
            "uoooo",
        ),
        row(
            M::POST,
            "/sessions/dry-run",
            "/api/v1/sessions/dry-run",
            Some(json!({"image": IMAGE, "resources": {"cpu": 0}})),
            "uoooo",
        ),
        row(
            M::GET,
            "/sessions/{id}",
            "/api/v1/sessions/{S}",
            None,
            "uonoo",
        ),
        row(
            M::POST,
            "/sessions/{id}/rename",
            "/api/v1/sessions/{S}/rename",
            Some(json!({"name": "x"})),
            "uonoo",
        ),
        row(
            M::GET,
            "/sessions/{id}/logs",
            "/api/v1/sessions/{S}/logs",
            None,
            "uonoo",
        ),
        row(
            M::GET,
            "/sessions/{id}/logs/download",
            "/api/v1/sessions/{S}/logs/download",
            None,
            "uonoo",
        ),
        row(
            M::GET,
            "/sessions/{id}/usage",
            "/api/v1/sessions/{S}/usage",
            None,
            "uonoo",
        ),
        row(
            M::GET,
            "/sessions/{id}/apps",
            "/api/v1/sessions/{S}/apps",
            None,
            "uonoo",
        ),
        row(
            M::POST,
            "/sessions/{id}/apps/{app}",
            "/api/v1/sessions/{S}/apps/httpd",
            Some(json!({"preferred_port": 1})),
            "uonoo",
        ),
        row(
            M::GET,
            "/sessions/{id}/terminal",
            "/api/v1/sessions/{S}/terminal",
            None,
            "uonoo",
        ),
        // the key signs in as the session's user: its owner alone
        row(
            M::GET,
            "/sessions/{id}/ssh-key",
            "/api/v1/sessions/{S}/ssh-key",
            None,
            "uonff",
        ),
        row(
            M::POST,
            "/sessions/{id}/commit",
            "/api/v1/sessions/{S}/commit",
            bad_name.clone(),
            "uonoo",
        ),
        row(
            M::GET,
            "/customized-images",
            "/api/v1/customized-images",
            None,
            "uoooo",
        ),
        row(
            M::DELETE,
            "/customized-images/{id}",
            "/api/v1/customized-images/none-such",
            None,
            "unnnn",
        ),
        row(
            M::GET,
            "/launcher-history",
            "/api/v1/launcher-history",
            None,
            "uoooo",
        ),
        row(
            M::PATCH,
            "/launcher-history/{id}",
            "/api/v1/launcher-history/{H}",
            bad_name.clone(),
            "uonnn",
        ),
        row(M::GET, "/folders", "/api/v1/folders", None, "uoooo"),
        row(
            M::POST,
            "/folders",
            "/api/v1/folders",
            bad_name.clone(),
            "uoooo",
        ),
        row(
            M::GET,
            "/folders/{id}",
            "/api/v1/folders/{F}",
            None,
            "uonnn",
        ),
        row(
            M::PATCH,
            "/folders/{id}",
            "/api/v1/folders/{F}",
            bad_name.clone(),
            "uonnn",
        ),
        row(
            M::GET,
            "/folders/{id}/entries",
            "/api/v1/folders/{F}/entries",
            None,
            "uonnn",
        ),
        row(
            M::POST,
            "/folders/{id}/mkdir",
            "/api/v1/folders/{F}/mkdir",
            Some(json!({"path": "../x"})),
            "uonnn",
        ),
        row(
            M::POST,
            "/folders/{id}/move",
            "/api/v1/folders/{F}/move",
            Some(json!({"from": "../a", "to": "b"})),
            "uonnn",
        ),
        row(
            M::GET,
            "/folders/{id}/files",
            "/api/v1/folders/{F}/files?path=kept.txt",
            None,
            "uonnn",
        ),
        row(
            M::PUT,
            "/folders/{id}/files",
            "/api/v1/folders/{F}/files?path=../x",
            None,
            "uonnn",
        ),
        // deletions, refused callers first (see `ORDER`)
        row(
            M::DELETE,
            "/sessions/{id}/apps/{app}",
            "/api/v1/sessions/{S}/apps/httpd",
            None,
            "uonoo",
        ),
        row(
            M::DELETE,
            "/launcher-history/{id}",
            "/api/v1/launcher-history/{H}",
            None,
            "uonnn",
        ),
        row(
            M::DELETE,
            "/folders/{id}/files",
            "/api/v1/folders/{F}/files?path=kept.txt",
            None,
            "uonnn",
        ),
        row(
            M::DELETE,
            "/auth/tokens/{id}",
            "/api/v1/auth/tokens/{T}",
            None,
            "uonnn",
        ),
        // pre-pulls are the admins'
        row(
            M::GET,
            "/resource-groups/{name}/pre-pulls",
            "/api/v1/resource-groups/default/pre-pulls",
            None,
            "uffoo",
        ),
        row(
            M::POST,
            "/resource-groups/{name}/pre-pulls",
            "/api/v1/resource-groups/default/pre-pulls",
            Some(json!({"image": ""})),
            "uffoo",
        ),
        // admins pass and learn there is no such preset, policy or group
        row(
            M::DELETE,
            "/resource-groups/{name}",
            "/api/v1/resource-groups/none-such",
            None,
            "uffnn",
        ),
        row(
            M::DELETE,
            "/agents/{id}",
            "/api/v1/agents/none-such",
            None,
            "uffnn",
        ),
        row(
            M::DELETE,
            "/resource-presets/{name}",
            "/api/v1/resource-presets/none-such",
            None,
            "uffnn",
        ),
        row(
            M::DELETE,
            "/resource-policies/{name}",
            "/api/v1/resource-policies/none-such",
            None,
            "uffnn",
        ),
        row(
            M::DELETE,
            "/sessions/{id}",
            "/api/v1/sessions/{S}",
            None,
            "uonoo",
        ),
        row(
            M::DELETE,
            "/folders/{id}",
            "/api/v1/folders/{F}",
            None,
            "uonnn",
        ),
        row(
            M::POST,
            "/auth/logout",
            "/api/v1/auth/logout",
            None,
            "ooooo",
        ),
    ]
}

/// Callers in the order they ask: refused ones before the owner and the
/// admins, so a deletion happens after every refusal was checked.
const ORDER: [usize; 5] = [0, 2, 3, 4, 1];
const WHO: [&str; 5] = ["anonymous", "owner", "other user", "admin", "superadmin"];

/// `(method, route)` of every `.route(…)` in `crates/api/src/http`.
pub(crate) fn declared_routes() -> BTreeSet<(String, String)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http");
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let src = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let src: String = src.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut rest = src.as_str();
        while let Some(i) = rest.find(".route(") {
            rest = &rest[i + ".route(".len()..];
            let Some(path) = rest
                .trim_start()
                .strip_prefix('"')
                .and_then(|r| r.split('"').next())
            else {
                continue;
            };
            // the method chain up to the closing parenthesis of .route(
            let (mut depth, mut end) = (1, 0);
            for (j, c) in rest.char_indices() {
                match c {
                    '(' => depth += 1,
                    ')' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = j;
                    break;
                }
            }
            let chain = &rest[..end];
            for m in ["get", "post", "put", "patch", "delete", "any"] {
                let call = format!("{m}(");
                let calls = chain.match_indices(&call).filter(|(k, _)| {
                    *k == 0
                        || !chain[..*k]
                            .ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':')
                });
                if calls.count() > 0 {
                    out.insert((m.to_uppercase(), path.to_string()));
                }
            }
        }
    }
    out
}

#[test]
fn every_declared_route_has_a_row() {
    let rows: BTreeSet<(String, String)> = table()
        .iter()
        .map(|r| (r.method.to_string(), r.route.to_string()))
        .collect();
    let declared: BTreeSet<(String, String)> = declared_routes()
        .into_iter()
        // the API's own 404 for unknown /api paths
        .filter(|(m, p)| !(m == "ANY" && p == "/api/{*rest}"))
        .collect();
    let missing: Vec<_> = declared.difference(&rows).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the matrix: {missing:?}"
    );
    let stale: Vec<_> = rows.difference(&declared).collect();
    assert!(
        stale.is_empty(),
        "rows for routes that do not exist: {stale:?}"
    );
    assert!(
        declared.len() > 40,
        "the route scan found only {}",
        declared.len()
    );
}

async fn ask(c: &Api, method: &Method, url: &str, body: &Option<Value>) -> StatusCode {
    let mut req = c.http().request(method.clone(), c.url(url));
    if let Some(b) = body {
        req = req.json(b);
    } else if method == Method::PUT {
        req = req.body("x");
    }
    let res = req.send().await.unwrap();
    res.status()
}

#[tokio::test]
async fn every_route_answers_each_caller_as_the_matrix_says() {
    let srv = TestServer::start().await;
    let root = srv.admin().await;
    let (owner, owner_info) = srv.new_user("owner@test.berth", "user").await;
    let (other, _) = srv.new_user("other@test.berth", "user").await;
    let (admin, _) = srv.new_user("admin@test.berth", "admin").await;
    let anon = srv.client();
    assert_eq!(root.get_json("/api/v1/auth/me").await["email"], ADMIN_EMAIL);

    // the owner's objects
    let s = owner
        .launch(json!({"image": IMAGE, "resources": {"cpu": 0.1, "mem": "32m"}}))
        .await;
    let sid = s["id"].as_str().unwrap().to_string();
    owner.wait_status(&sid, "RUNNING").await;
    let folder = owner
        .post_json("/api/v1/folders", &json!({"name": "matrix"}))
        .await;
    let fid = folder["id"].as_str().unwrap().to_string();
    let put = owner
        .put_bytes(
            &format!("/api/v1/folders/{fid}/files?path=kept.txt"),
            "kept",
        )
        .await;
    assert!(put.status().is_success());
    let token = owner
        .post_json("/api/v1/auth/tokens", &json!({"name": "matrix"}))
        .await;
    let tid = token["id"].as_str().unwrap().to_string();
    let history = owner.get_json("/api/v1/launcher-history").await;
    let hid = history["items"][0]["id"].as_str().unwrap().to_string();
    let uid = owner_info["id"].as_str().unwrap().to_string();

    let callers = [&anon, &owner, &other, &admin, &root];
    let mut wrong = Vec::new();
    for r in table() {
        let url = r
            .url
            .replace("{S}", &sid)
            .replace("{F}", &fid)
            .replace("{T}", &tid)
            .replace("{H}", &hid)
            .replace("{U}", &uid);
        for who in ORDER {
            let want = r.want.as_bytes()[who];
            let got = ask(callers[who], &r.method, &url, &r.body).await;
            let ok = match want {
                b'o' => !matches!(got.as_u16(), 401 | 403 | 404) && !got.is_server_error(),
                b'u' => got == StatusCode::UNAUTHORIZED,
                b'f' => got == StatusCode::FORBIDDEN,
                b'n' => got == StatusCode::NOT_FOUND,
                _ => unreachable!(),
            };
            if !ok {
                wrong.push(format!(
                    "{} {} as {}: wanted {}, got {got}",
                    r.method, r.url, WHO[who], want as char
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} answers break the matrix:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
