//! The one HTTP client of the UI: wraps gloo-net and returns `berth-shared`
//! types. The browser sends the HttpOnly login cookie by itself.

use berth_shared::agents::{RegisterAgent, UpdateAgent};
use berth_shared::apps::{AppList, AppOpened, OpenAppRequest};
use berth_shared::auth::{LoginRequest, UpdateMeRequest, UserInfo};
use berth_shared::folders::{
    CreateFolderRequest, FolderInfo, FolderList, FolderListing, MkdirRequest, MoveRequest,
};
use berth_shared::history::{HistoryEntry, HistoryList, UpdateHistoryRequest};
use berth_shared::images::{CommitRequest, CustomizedImageList};
use berth_shared::resources::{
    AgentInfo, AgentList, EnvironmentList, PutResourceGroup, ResourceGroup, ResourceGroupList,
    ResourcePolicy, ResourcePresetList,
};
pub use berth_shared::sessions::LOG_TAIL_DEFAULT;
use berth_shared::sessions::{
    CreateSessionRequest, CreatedSessions, DryRun, RenameRequest, SessionInfo, SessionList,
    SessionLogs, SessionQuery, SessionUsage,
};
use berth_shared::users::UserList;
use berth_shared::{FieldError, Problem};
use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a call failed, in the terms the UI acts on.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 401: not (or no longer) signed in.
    Unauthorized,
    /// 422: field errors to show under the fields.
    Invalid(Vec<FieldError>),
    /// Any other problem+json answer.
    Problem(Problem),
    /// The server could not be reached, or answered something unreadable.
    Network(String),
}

const BASE: &str = "/api/v1";

thread_local! {
    /// What a 401 does (set by the auth context: sign out here too).
    static ON_UNAUTHORIZED: std::cell::RefCell<Option<Box<dyn Fn()>>> =
        const { std::cell::RefCell::new(None) };
}

/// Sets what happens when any call answers 401 (the auth context registers
/// its sign-out, so this client needs no knowledge of it).
pub fn on_unauthorized(f: impl Fn() + 'static) {
    ON_UNAUTHORIZED.with(|h| *h.borrow_mut() = Some(Box::new(f)));
}

fn unauthorized() {
    ON_UNAUTHORIZED.with(|h| {
        if let Some(f) = h.borrow().as_ref() {
            f();
        }
    });
}

async fn read<T: DeserializeOwned>(res: Response) -> Result<T, ApiError> {
    if res.ok() {
        return res
            .json::<T>()
            .await
            .map_err(|e| ApiError::Network(e.to_string()));
    }
    let status = res.status();
    let problem = res.json::<Problem>().await.unwrap_or_else(|_| Problem {
        kind: "about:blank".into(),
        title: res.status_text(),
        status,
        detail: None,
        errors: vec![],
    });
    Err(match status {
        401 => {
            unauthorized();
            ApiError::Unauthorized
        }
        422 if !problem.errors.is_empty() => ApiError::Invalid(problem.errors),
        _ => ApiError::Problem(problem),
    })
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    let res = Request::get(&format!("{BASE}{path}"))
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    read(res).await
}

/// Sends `body` as JSON with the request `to` starts; the raw answer.
async fn send_json<B: Serialize>(
    to: gloo_net::http::RequestBuilder,
    body: &B,
) -> Result<gloo_net::http::Response, ApiError> {
    to.json(body)
        .map_err(|e| ApiError::Network(e.to_string()))?
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))
}

async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiError> {
    read(send_json(Request::post(&format!("{BASE}{path}")), body).await?).await
}

async fn patch<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiError> {
    read(send_json(Request::patch(&format!("{BASE}{path}")), body).await?).await
}

/// `POST /auth/login`.
pub async fn login(req: &LoginRequest) -> Result<UserInfo, ApiError> {
    post("/auth/login", req).await
}

/// `POST /auth/logout` (always ends the local login, whatever the answer).
pub async fn logout() -> Result<(), ApiError> {
    Request::post(&format!("{BASE}/auth/logout"))
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    Ok(())
}

/// `GET /auth/me`.
pub async fn me() -> Result<UserInfo, ApiError> {
    get("/auth/me").await
}

/// `PATCH /auth/me`: the caller's UI language.
pub async fn update_me(req: &UpdateMeRequest) -> Result<UserInfo, ApiError> {
    patch("/auth/me", req).await
}

/// `POST /auth/keypair`: a new secret key for the caller's keypair.
pub async fn regenerate_keypair() -> Result<berth_shared::auth::KeypairCreated, ApiError> {
    post("/auth/keypair", &()).await
}

/// `GET /environments`.
pub async fn environments() -> Result<EnvironmentList, ApiError> {
    get("/environments").await
}

/// `GET /resource-groups[?project=]`: the groups a project may use (the
/// caller's projects when `None`).
pub async fn resource_groups(project: Option<String>) -> Result<ResourceGroupList, ApiError> {
    match project {
        Some(p) => {
            let q: String = js_sys::encode_uri_component(&p).into();
            get(&format!("/resource-groups?project={q}")).await
        }
        None => get("/resource-groups").await,
    }
}

/// `GET /resource-groups?all=true` (admin): every group with its projects.
pub async fn all_resource_groups() -> Result<ResourceGroupList, ApiError> {
    get("/resource-groups?all=true").await
}

/// `POST /resource-groups` (admin): create or replace a group.
pub async fn put_resource_group(g: &PutResourceGroup) -> Result<ResourceGroup, ApiError> {
    post("/resource-groups", g).await
}

/// `POST /resource-groups/{name}/pre-pulls` (admin): every agent of the
/// group fetches the image.
pub async fn prepull(
    group: &str,
    req: &berth_shared::images::PrePullRequest,
) -> Result<berth_shared::images::PrePull, ApiError> {
    let n: String = js_sys::encode_uri_component(group).into();
    post(&format!("/resource-groups/{n}/pre-pulls"), req).await
}

/// `GET /resource-groups/{name}/pre-pulls` (admin): the group's recent
/// pre-pulls, newest first.
pub async fn prepulls(group: &str) -> Result<berth_shared::images::PrePullList, ApiError> {
    let n: String = js_sys::encode_uri_component(group).into();
    get(&format!("/resource-groups/{n}/pre-pulls")).await
}

/// `DELETE /resource-groups/{name}` (admin).
pub async fn delete_resource_group(name: &str) -> Result<(), ApiError> {
    let n: String = js_sys::encode_uri_component(name).into();
    send_empty(Request::delete(&format!("{BASE}/resource-groups/{n}")).build()).await
}

/// `POST /agents` (admin): register an engine.
pub async fn register_agent(req: &RegisterAgent) -> Result<AgentInfo, ApiError> {
    post("/agents", req).await
}

/// `PATCH /agents/{id}` (admin): drain, group, reserve, accelerators.
pub async fn update_agent(id: &str, req: &UpdateAgent) -> Result<AgentInfo, ApiError> {
    let i: String = js_sys::encode_uri_component(id).into();
    patch(&format!("/agents/{i}"), req).await
}

/// `DELETE /agents/{id}` (admin).
pub async fn delete_agent(id: &str) -> Result<(), ApiError> {
    let i: String = js_sys::encode_uri_component(id).into();
    send_empty(Request::delete(&format!("{BASE}/agents/{i}")).build()).await
}

/// `GET /resource-presets`.
pub async fn presets() -> Result<ResourcePresetList, ApiError> {
    get("/resource-presets").await
}

/// `POST /sessions`.
pub async fn create_session(req: &CreateSessionRequest) -> Result<CreatedSessions, ApiError> {
    post("/sessions", req).await
}

/// `POST /sessions/dry-run`: what the scheduler would do with `req` now.
pub async fn dry_run(req: &CreateSessionRequest) -> Result<DryRun, ApiError> {
    post("/sessions/dry-run", req).await
}

/// `GET /sessions` with the list's filters and page.
pub async fn sessions(q: &SessionQuery) -> Result<SessionList, ApiError> {
    let mut params = Vec::new();
    if let Some(v) = &q.status {
        params.push(format!("status={}", enc(v)));
    }
    if let Some(v) = &q.session_type {
        params.push(format!("type={}", enc(v)));
    }
    if let Some(v) = q.owner.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        params.push(format!("owner={}", enc(v)));
    }
    if q.all == Some(true) {
        params.push("all=true".into());
    }
    if let Some(v) = q.page {
        params.push(format!("page={v}"));
    }
    if let Some(v) = q.page_size {
        params.push(format!("page_size={v}"));
    }
    get(&format!("/sessions?{}", params.join("&"))).await
}

/// `GET /sessions/{id}`.
pub async fn session(id: &str) -> Result<SessionInfo, ApiError> {
    get(&format!("/sessions/{id}")).await
}

/// `POST /sessions/{id}/rename`.
pub async fn rename_session(id: &str, name: &str) -> Result<SessionInfo, ApiError> {
    post(
        &format!("/sessions/{id}/rename"),
        &RenameRequest { name: name.into() },
    )
    .await
}

/// `GET /sessions/{id}/apps`: what the app launcher offers.
pub async fn session_apps(id: &str) -> Result<AppList, ApiError> {
    get(&format!("/sessions/{id}/apps")).await
}

/// `POST /sessions/{id}/apps/{app}`: starts (if needed) and serves an app.
pub async fn open_app(id: &str, app: &str, req: &OpenAppRequest) -> Result<AppOpened, ApiError> {
    post(&format!("/sessions/{id}/apps/{app}"), req).await
}

/// `POST /sessions/{id}/commit`: starts saving the session as an image.
pub async fn commit_session(id: &str, name: &str) -> Result<SessionInfo, ApiError> {
    post(
        &format!("/sessions/{id}/commit"),
        &CommitRequest { name: name.into() },
    )
    .await
}

/// `GET /customized-images`: the caller's.
pub async fn customized_images() -> Result<CustomizedImageList, ApiError> {
    get("/customized-images").await
}

/// `DELETE /customized-images/{id}`.
pub async fn delete_customized_image(id: &str) -> Result<(), ApiError> {
    send_empty(Request::delete(&format!("{BASE}/customized-images/{id}")).build()).await
}

/// `DELETE /sessions/{id}`: asks the session to end.
pub async fn terminate_session(id: &str) -> Result<SessionInfo, ApiError> {
    let res = Request::delete(&format!("{BASE}/sessions/{id}"))
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    read(res).await
}

/// `GET /sessions/{id}/logs?tail=…[&kernel=]`: the last
/// [`LOG_TAIL_DEFAULT`] lines.
pub async fn session_logs(id: &str, kernel: Option<&str>) -> Result<SessionLogs, ApiError> {
    get(&format!(
        "/sessions/{id}/logs?tail={LOG_TAIL_DEFAULT}{}",
        kernel_param(kernel, '&')
    ))
    .await
}

/// Where the browser downloads a kernel's whole log (a plain link: the
/// server streams it with the login cookie).
pub fn session_log_download_url(id: &str, kernel: Option<&str>) -> String {
    format!(
        "{BASE}/sessions/{id}/logs/download{}",
        kernel_param(kernel, '?')
    )
}

fn kernel_param(kernel: Option<&str>, sep: char) -> String {
    kernel.map_or_else(String::new, |k| format!("{sep}kernel={k}"))
}

/// `GET /sessions/{id}/usage`.
pub async fn session_usage(id: &str) -> Result<SessionUsage, ApiError> {
    get(&format!("/sessions/{id}/usage")).await
}

/// `GET /agents`.
pub async fn agents() -> Result<AgentList, ApiError> {
    get("/agents").await
}

/// `GET /resource-policy`: the policy bounding the caller's sessions, or
/// (admins) those of `owner_email`.
pub async fn resource_policy(owner_email: Option<String>) -> Result<ResourcePolicy, ApiError> {
    match owner_email {
        Some(e) => {
            let q: String = js_sys::encode_uri_component(e.trim()).into();
            get(&format!("/resource-policy?owner_email={q}")).await
        }
        None => get("/resource-policy").await,
    }
}

/// `GET /launcher-history`.
pub async fn history() -> Result<HistoryList, ApiError> {
    get("/launcher-history").await
}

/// `PATCH /launcher-history/{id}`; `None` when the entry was forgotten.
pub async fn update_history(
    id: &str,
    req: &UpdateHistoryRequest,
) -> Result<Option<HistoryEntry>, ApiError> {
    let res = send_json(
        Request::patch(&format!("{BASE}/launcher-history/{id}")),
        req,
    )
    .await?;
    if res.status() == 204 {
        return Ok(None);
    }
    read(res).await.map(Some)
}

/// `DELETE /launcher-history/{id}`.
pub async fn delete_history(id: &str) -> Result<(), ApiError> {
    send_empty(Request::delete(&format!("{BASE}/launcher-history/{id}")).build()).await
}

/// `GET /users?email=` (admin): the user with this email, if any.
pub async fn find_user(email: &str) -> Result<UserList, ApiError> {
    let q: String = js_sys::encode_uri_component(email.trim()).into();
    get(&format!("/users?email={q}")).await
}

/// A value as a URL query component.
fn enc(v: &str) -> String {
    js_sys::encode_uri_component(v).into()
}

/// Sends a request whose answer has no body to read (201/204).
async fn send_empty(req: Result<Request, gloo_net::Error>) -> Result<(), ApiError> {
    let res = req
        .map_err(|e| ApiError::Network(e.to_string()))?
        .send()
        .await
        .map_err(|e| ApiError::Network(e.to_string()))?;
    if res.ok() {
        return Ok(());
    }
    read::<serde_json::Value>(res).await.map(|_| ())
}

/// `GET /folders`: the caller's folders.
pub async fn folders() -> Result<FolderList, ApiError> {
    get("/folders").await
}

/// `POST /folders`.
pub async fn create_folder(name: &str) -> Result<FolderInfo, ApiError> {
    post("/folders", &CreateFolderRequest { name: name.into() }).await
}

/// `PATCH /folders/{id}`: a new name.
pub async fn rename_folder(id: &str, name: &str) -> Result<FolderInfo, ApiError> {
    patch(
        &format!("/folders/{id}"),
        &CreateFolderRequest { name: name.into() },
    )
    .await
}

/// `DELETE /folders/{id}`: the folder and its files.
pub async fn delete_folder(id: &str) -> Result<(), ApiError> {
    send_empty(Request::delete(&format!("{BASE}/folders/{id}")).build()).await
}

/// `GET /folders/{id}/entries?path=`.
pub async fn folder_entries(id: &str, path: &str) -> Result<FolderListing, ApiError> {
    get(&format!("/folders/{id}/entries?path={}", enc(path))).await
}

/// `POST /folders/{id}/mkdir`.
pub async fn make_dir(id: &str, path: &str) -> Result<(), ApiError> {
    send_empty(
        Request::post(&format!("{BASE}/folders/{id}/mkdir"))
            .json(&MkdirRequest { path: path.into() }),
    )
    .await
}

/// `POST /folders/{id}/move`.
pub async fn move_entry(id: &str, from: &str, to: &str) -> Result<(), ApiError> {
    send_empty(
        Request::post(&format!("{BASE}/folders/{id}/move")).json(&MoveRequest {
            from: from.into(),
            to: to.into(),
        }),
    )
    .await
}

/// `DELETE /folders/{id}/files?path=`: a file, or a directory with its files.
pub async fn delete_entry(id: &str, path: &str) -> Result<(), ApiError> {
    send_empty(Request::delete(&format!("{BASE}/folders/{id}/files?path={}", enc(path))).build())
        .await
}

/// The URL that downloads a file of a folder (the browser streams it).
pub fn download_url(id: &str, path: &str) -> String {
    format!("{BASE}/folders/{id}/files?path={}", enc(path))
}

/// The URL an upload to `path` in folder `id` is sent to (`PUT`, the raw file).
pub fn upload_url(id: &str, path: &str) -> String {
    format!("{BASE}/folders/{id}/files?path={}", enc(path))
}
