//! `/backend.ai/session…`: create, info, destroy, rename and logs, each
//! read in the reference's shape and done by the operation `/api/v1`
//! calls (`crate::sessions`); nothing here decides what a session may be.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use berth_shared::auth::UserInfo;
use berth_shared::bytes::ByteSize;
use berth_shared::compat::{
    self, CreateSession, Created, Logs, LogsResult, OwnerQuery, ServicePortInfo, SessionDetail,
};
use berth_shared::sessions::{
    ClusterMode, CreateSessionRequest, Mount, RenameRequest, ResourceRequest, SessionInfo,
    SessionStatus, SessionType, LOG_TAIL_DEFAULT,
};
use serde_json::Value;

use super::auth::KeyUser;
use super::body::Body;
use super::error::{FacadeError, FacadeResult};
use crate::services::Shared as ApiContext;
use crate::{accounts, sessions};

/// The longest a create waits for its session to start when the client
/// asks to wait without a limit (`maxWaitSeconds: 0`).
const WAIT_CAP: Duration = Duration::from_secs(600);

/// A number, or a number written as a string.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A size: bytes, or a string like `"4g"`.
fn size(v: &Value) -> Option<ByteSize> {
    match v {
        Value::Number(n) => n.as_u64().map(ByteSize),
        Value::String(s) => ByteSize::parse(s),
        _ => None,
    }
}

/// The `/api/v1` request a reference create body stands for.
fn to_request(
    body: &CreateSession,
    owner_email: Option<String>,
) -> FacadeResult<CreateSessionRequest> {
    let image = body
        .image
        .clone()
        .ok_or_else(|| FacadeError::invalid("image: required"))?;
    let session_type = match body.session_type.as_deref().unwrap_or("interactive") {
        "interactive" => SessionType::Interactive,
        "batch" => SessionType::Batch,
        other => {
            return Err(FacadeError::invalid(format!(
                "type: {other:?} sessions are not supported (interactive or batch)"
            )))
        }
    };
    let cfg = &body.config;
    let mut resources = ResourceRequest::default();
    for (slot, v) in cfg.resources.iter().flatten() {
        match slot.as_str() {
            "cpu" => {
                resources.cpu =
                    Some(number(v).ok_or_else(|| FacadeError::invalid("resources.cpu: a number"))?)
            }
            "mem" => {
                resources.mem = Some(
                    size(v)
                        .ok_or_else(|| FacadeError::invalid("resources.mem: a size like \"1g\""))?,
                )
            }
            other => {
                let n = number(v)
                    .ok_or_else(|| FacadeError::invalid(format!("resources.{other}: a number")))?;
                resources.accelerators.insert(other.to_string(), n);
            }
        }
    }
    if let Some(shmem) = cfg.resource_opts.as_ref().and_then(|o| o.get("shmem")) {
        resources.shmem = Some(
            size(shmem)
                .ok_or_else(|| FacadeError::invalid("resource_opts.shmem: a size like \"64m\""))?,
        );
    }
    let mut mounts = Vec::new();
    for name in cfg.mounts.iter().flatten() {
        let wanted = format!("/home/work/{name}");
        match cfg.mount_map.as_ref().and_then(|m| m.get(name)) {
            Some(path) if path.trim_end_matches('/') != wanted && path != name => {
                return Err(FacadeError::invalid(format!(
                    "mount_map.{name}: folders are mounted at {wanted} here"
                )))
            }
            _ => mounts.push(Mount {
                name: name.clone(),
                read_only: false,
            }),
        }
    }
    let agent = match cfg.agent_list.as_deref() {
        None | Some([]) => None,
        Some([one]) => Some(one.clone()),
        Some(_) => return Err(FacadeError::invalid("agent_list: one agent")),
    };
    let cluster_mode = match body.cluster_mode.as_deref().unwrap_or("single-node") {
        "single-node" => ClusterMode::SingleNode,
        "multi-node" => ClusterMode::MultiNode,
        other => return Err(FacadeError::invalid(format!("cluster_mode: {other:?}"))),
    };
    let starts_at = match body.starts_at.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => t.with_timezone(&chrono::Utc),
            Err(_) => {
                let secs = compat::duration_secs(s).ok_or_else(|| {
                    FacadeError::invalid("starts_at: ISO 8601 or a delay like 1h")
                })?;
                chrono::Utc::now() + chrono::Duration::seconds(secs.min(i64::MAX as u64) as i64)
            }
        }),
    };
    let batch_timeout = match &body.batch_timeout {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => Some(
            compat::duration_secs(s)
                .ok_or_else(|| FacadeError::invalid("batch_timeout: seconds or a delay like 1h"))?,
        ),
        Some(_) => return Err(FacadeError::invalid("batch_timeout: seconds")),
    };
    Ok(CreateSessionRequest {
        session_type,
        name: body.name.clone().unwrap_or_default(),
        image: Some(image),
        resource_group: cfg.scaling_group.clone(),
        resources,
        env: cfg.environ.clone().unwrap_or_default(),
        cluster_mode,
        cluster_size: body.cluster_size.or(cfg.cluster_size),
        agent,
        owner_email,
        project: body.group.clone().filter(|g| !g.is_empty()),
        startup_command: body.startup_command.clone(),
        starts_at,
        batch_timeout,
        mounts,
        preopen_ports: cfg.preopen_ports.clone().unwrap_or_default(),
        ..Default::default()
    })
}

/// The email of the user an access key names (an admin acting for them).
async fn owner_of(ctx: &ApiContext, access_key: &str) -> FacadeResult<String> {
    accounts::keypair_user(ctx.store(), access_key)
        .await?
        .map(|(u, _)| u.email)
        .ok_or_else(|| FacadeError::invalid("owner_access_key: no such access key"))
}

fn service_ports(s: &SessionInfo) -> Vec<ServicePortInfo> {
    s.preopen_ports
        .iter()
        .map(|p| ServicePortInfo {
            name: p.to_string(),
            protocol: "preopen".into(),
            container_ports: vec![*p],
        })
        .collect()
}

fn created(s: &SessionInfo, status: &str, created: bool) -> Created {
    Created {
        session_id: s.id.clone(),
        session_name: s.name.clone(),
        status: status.to_string(),
        service_ports: service_ports(s),
        created,
    }
}

/// Waits for `s` to run or end, up to `limit`; the status to answer with.
async fn wait_started(ctx: &ApiContext, user: &UserInfo, id: &str, limit: Duration) -> String {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match sessions::get(ctx, user, id).await {
            Ok(s) if s.status == SessionStatus::Running || s.status.is_finished() => {
                return s.status.as_str().to_string()
            }
            Ok(_) => {}
            Err(_) => return "TIMEOUT".into(),
        }
        if tokio::time::Instant::now() >= deadline {
            return "TIMEOUT".into();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `POST /session` (and `/session/_/create`).
pub async fn create(
    State(ctx): State<ApiContext>,
    KeyUser(user): KeyUser,
    Body(body): Body<CreateSession>,
) -> FacadeResult<(StatusCode, Json<Created>)> {
    let owner_email = match body
        .owner_access_key
        .as_deref()
        .filter(|k| *k != user.access_key)
    {
        Some(key) => Some(owner_of(&ctx, key).await?),
        None => None,
    };
    let req = to_request(&body, owner_email.clone())?;
    // a live session of that name and owner: reused, or refused
    if !req.name.is_empty() && owner_email.is_none() {
        if let Ok(id) = sessions::id_of(&ctx, &user, &req.name).await {
            let live = sessions::get(&ctx, &user, &id).await?;
            if !live.status.is_finished() {
                let same_image = req.image.as_deref() == Some(live.image.as_str());
                if body.reuse_if_exists.unwrap_or(true) && same_image {
                    let status = live.status.as_str().to_string();
                    return Ok((StatusCode::CREATED, Json(created(&live, &status, false))));
                }
                return Err(FacadeError::exists(&live.id));
            }
        }
    }
    let made = sessions::create(&ctx, &user, &req).await?;
    let first = made
        .first()
        .ok_or_else(|| FacadeError::invalid("nothing was created"))?;
    let status = if body.enqueue_only.unwrap_or(false) {
        first.status.as_str().to_string()
    } else {
        let limit = match body.max_wait_seconds.unwrap_or(0) {
            0 => WAIT_CAP,
            s => Duration::from_secs(s).min(WAIT_CAP),
        };
        wait_started(&ctx, &user, &first.id, limit).await
    };
    Ok((StatusCode::CREATED, Json(created(first, &status, true))))
}

/// What a session holds or asked for, by slot, as the reference writes
/// it (numbers as strings).
pub(super) fn slots(s: &SessionInfo) -> BTreeMap<String, String> {
    let mut out = BTreeMap::from([
        ("cpu".to_string(), s.resources.cpu.to_string()),
        ("mem".to_string(), s.resources.mem.0.to_string()),
    ]);
    for (k, v) in &s.resources.accelerators {
        out.insert(k.clone(), v.to_string());
    }
    out
}

fn detail(s: SessionInfo) -> SessionDetail {
    let now = chrono::Utc::now();
    let slots = slots(&s);
    SessionDetail {
        session_id: s.id.clone(),
        session_name: s.name.clone(),
        group_name: s.project.clone(),
        user_id: s.owner_email.clone(),
        image: s.image.clone(),
        architecture: std::env::consts::ARCH.to_string(),
        container_id: s.kernels.first().and_then(|k| k.container_id.clone()),
        occupying_slots: if s.status.is_finished() {
            BTreeMap::new()
        } else {
            slots.clone()
        },
        requested_slots: slots,
        environ: s.env.clone(),
        resource_opts: BTreeMap::from([("shmem".to_string(), s.resources.shmem.0.to_string())]),
        status: s.status.as_str().to_string(),
        status_info: s.status_info.clone(),
        status_data: serde_json::to_value(&s.status_data).unwrap_or(Value::Null),
        age: (now - s.created_at).num_milliseconds().max(0),
        creation_time: s.created_at.to_rfc3339(),
        termination_time: s.terminated_at.map(|t| t.to_rfc3339()),
        session_type: match s.session_type {
            SessionType::Interactive => "interactive".into(),
            SessionType::Batch => "batch".into(),
        },
        idle_checks: serde_json::to_value(&s.idle_checks).unwrap_or(Value::Null),
    }
}

/// `GET /session/{name}`.
pub async fn info(
    State(ctx): State<ApiContext>,
    KeyUser(user): KeyUser,
    Path(name): Path<String>,
) -> FacadeResult<Json<SessionDetail>> {
    let id = sessions::id_of(&ctx, &user, &name).await?;
    Ok(Json(detail(sessions::get(&ctx, &user, &id).await?)))
}

/// `DELETE /session/{name}` (`?forced=true` stops at once).
pub async fn destroy(
    State(ctx): State<ApiContext>,
    KeyUser(user): KeyUser,
    Path(name): Path<String>,
    Query(q): Query<OwnerQuery>,
) -> FacadeResult<Json<Value>> {
    let forced = q.forced.as_deref().is_some_and(|f| f == "true" || f == "1");
    let id = sessions::id_of(&ctx, &user, &name).await?;
    sessions::terminate(&ctx, &user, &id, forced).await?;
    Ok(Json(serde_json::json!({"stats": {}})))
}

/// `POST /session/{name}/rename?name=…`.
pub async fn rename(
    State(ctx): State<ApiContext>,
    KeyUser(user): KeyUser,
    Path(name): Path<String>,
    Query(q): Query<OwnerQuery>,
) -> FacadeResult<StatusCode> {
    let new = q
        .name
        .ok_or_else(|| FacadeError::invalid("name: required"))?;
    let id = sessions::id_of(&ctx, &user, &name).await?;
    let s = sessions::get(&ctx, &user, &id).await?;
    if s.status != SessionStatus::Running {
        return Err(FacadeError::invalid(
            "Only running sessions can be renamed.",
        ));
    }
    sessions::rename(&ctx, &user, &id, &RenameRequest { name: new }).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /session/{name}/logs`.
pub async fn logs(
    State(ctx): State<ApiContext>,
    KeyUser(user): KeyUser,
    Path(name): Path<String>,
) -> FacadeResult<Json<Logs>> {
    let id = sessions::id_of(&ctx, &user, &name).await?;
    let l = sessions::logs(&ctx, &user, &id, None, LOG_TAIL_DEFAULT).await?;
    Ok(Json(Logs {
        result: LogsResult { logs: l.logs },
    }))
}
