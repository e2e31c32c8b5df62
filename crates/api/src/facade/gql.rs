//! `POST /backend.ai/admin/gql`: the GraphQL queries the reference client
//! sends for `session info` (`compute_session`), `session list` / `ps`
//! (`compute_session_list`) and `vfolder list` / `list-own`
//! (`vfolder_list`, `vfolder_own_list`), with the fields and filters it asks for
//! (async-graphql; fields in snake_case and JSON values as JSON strings,
//! as the reference's graphene schema writes them). Reads through the
//! same operations `/api/v1/sessions` uses.

use std::collections::HashSet;

use async_graphql::{Context, EmptyMutation, EmptySubscription, Object, Schema, SimpleObject};
use axum::extract::State;
use axum::Json;
use berth_shared::auth::UserInfo;
use berth_shared::sessions::{SessionInfo, SessionQuery, SessionStatus, SessionType};
use serde::Deserialize;
use serde_json::Value;

use super::auth::KeyUser;
use super::body::Body;
use crate::services::Shared as ApiContext;
use crate::sessions;

/// The most sessions a list reads before paging (the reference pages at
/// 100 too).
const MAX_READ: u32 = 1_000;

/// A kernel (container) of a session.
#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
struct Container {
    id: String,
    cluster_role: String,
    cluster_idx: i32,
    cluster_hostname: String,
    session_id: String,
    image: String,
    registry: Option<String>,
    status: String,
    status_info: Option<String>,
    status_data: Option<String>,
    status_changed: Option<String>,
    agent: Option<String>,
    container_id: Option<String>,
    resource_opts: Option<String>,
    occupied_slots: Option<String>,
    preopen_ports: Vec<i32>,
    live_stat: Option<String>,
    last_stat: Option<String>,
}

/// A session the current one depends on (berth has none).
#[derive(SimpleObject)]
struct Dependency {
    name: String,
    id: String,
}

/// A session, with the fields of the reference's `ComputeSession`.
#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
struct ComputeSession {
    id: String,
    main_kernel_id: Option<String>,
    tag: Option<String>,
    name: String,
    #[graphql(name = "type")]
    session_type: String,
    image: String,
    registry: Option<String>,
    cluster_template: Option<String>,
    cluster_mode: String,
    cluster_size: i32,
    domain_name: String,
    group_name: String,
    group_id: Option<String>,
    agent_ids: Vec<String>,
    user_email: String,
    user_id: Option<String>,
    access_key: Option<String>,
    created_user_email: String,
    created_user_id: Option<String>,
    status: String,
    status_info: Option<String>,
    status_data: Option<String>,
    status_changed: Option<String>,
    created_at: String,
    terminated_at: Option<String>,
    starts_at: Option<String>,
    scheduled_at: Option<String>,
    startup_command: Option<String>,
    result: String,
    resource_opts: Option<String>,
    scaling_group: String,
    service_ports: Option<String>,
    mounts: Vec<String>,
    occupying_slots: String,
    containers: Vec<Container>,
    dependencies: Vec<Dependency>,
    abusing_reports: Vec<String>,
    idle_checks: Option<String>,
}

/// A page of sessions.
#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
struct ComputeSessionList {
    items: Vec<ComputeSession>,
    total_count: i32,
}

fn json_string(v: &impl serde::Serialize) -> Option<String> {
    serde_json::to_string(v).ok()
}

/// What a session holds, as the JSON string the reference writes.
fn slots(s: &SessionInfo) -> String {
    json_string(&super::sessions::slots(s)).unwrap_or_default()
}

fn compute_session(s: SessionInfo, owner_access_key: Option<String>) -> ComputeSession {
    let at = |status: SessionStatus| {
        s.status_history
            .iter()
            .rev()
            .find(|c| c.status == status)
            .map(|c| c.at.to_rfc3339())
    };
    let result = match (s.status, s.kernels.first().and_then(|k| k.exit_code)) {
        (SessionStatus::Terminated, Some(0)) => "SUCCESS",
        (SessionStatus::Terminated, Some(_)) | (SessionStatus::Error, _) => "FAILURE",
        _ => "UNDEFINED",
    };
    // an ended session holds nothing: `{}` (the client reads it as JSON)
    let occupying = if s.status.is_finished() {
        "{}".to_string()
    } else {
        slots(&s)
    };
    // the same for the session and each of its kernels
    let status_changed = s.status_history.last().map(|c| c.at.to_rfc3339());
    let status_data = json_string(&s.status_data);
    let resource_opts = json_string(&serde_json::json!({"shmem": s.resources.shmem.0}));
    let containers = s
        .kernels
        .iter()
        .enumerate()
        .map(|(i, k)| Container {
            id: k.id.clone(),
            cluster_role: k.role.clone(),
            cluster_idx: i as i32 + 1,
            cluster_hostname: k.hostname.clone(),
            session_id: s.id.clone(),
            image: s.image.clone(),
            registry: None,
            status: k.status.as_str().to_string(),
            status_info: s.status_info.clone(),
            status_data: status_data.clone(),
            status_changed: status_changed.clone(),
            agent: k.agent.clone(),
            container_id: k.container_id.clone(),
            resource_opts: resource_opts.clone(),
            occupied_slots: Some(slots(&s)),
            preopen_ports: s.preopen_ports.iter().map(|p| i32::from(*p)).collect(),
            live_stat: None,
            last_stat: None,
        })
        .collect();
    ComputeSession {
        main_kernel_id: s.kernels.first().map(|k| k.id.clone()),
        tag: None,
        name: s.name.clone(),
        session_type: match s.session_type {
            SessionType::Interactive => "INTERACTIVE".into(),
            SessionType::Batch => "BATCH".into(),
        },
        image: s.image.clone(),
        registry: None,
        cluster_template: None,
        cluster_mode: s.cluster_mode.clone(),
        cluster_size: s.cluster_size as i32,
        domain_name: "default".into(),
        group_name: s.project.clone(),
        group_id: None,
        agent_ids: s.kernels.iter().filter_map(|k| k.agent.clone()).collect(),
        user_email: s.owner_email.clone(),
        user_id: None,
        access_key: owner_access_key,
        created_user_email: s.created_by.clone(),
        created_user_id: None,
        status: s.status.as_str().to_string(),
        status_info: s.status_info.clone(),
        status_data,
        status_changed,
        created_at: s.created_at.to_rfc3339(),
        terminated_at: s.terminated_at.map(|t| t.to_rfc3339()),
        starts_at: s.starts_at.map(|t| t.to_rfc3339()),
        scheduled_at: at(SessionStatus::Scheduled),
        startup_command: s.startup_command.clone(),
        result: result.into(),
        resource_opts,
        scaling_group: s.resource_group.clone(),
        service_ports: json_string(&Vec::<Value>::new()),
        mounts: s.mounts.iter().map(|m| m.name.clone()).collect(),
        occupying_slots: occupying,
        containers,
        dependencies: Vec::new(),
        abusing_reports: Vec::new(),
        idle_checks: json_string(&s.idle_checks),
        id: s.id,
    }
}

/// A storage folder, with the fields of the reference's `VirtualFolder`
/// (berth has one host, `local`, and user folders only).
#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
struct VirtualFolder {
    id: String,
    host: String,
    name: String,
    user: Option<String>,
    user_email: Option<String>,
    group: Option<String>,
    group_name: Option<String>,
    creator: String,
    status: String,
    unmanaged_path: Option<String>,
    usage_mode: String,
    permission: String,
    ownership_type: String,
    max_files: i32,
    max_size: Option<i64>,
    created_at: String,
    last_used: Option<String>,
    num_files: i32,
    cur_size: i64,
    cloneable: bool,
}

/// A page of folders.
#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
struct VirtualFolderList {
    items: Vec<VirtualFolder>,
    total_count: i32,
}

/// The caller's keypair (`session list` asks whether it is an admin's).
#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
struct KeyPair {
    /// The owner's email.
    user_id: String,
    access_key: String,
    /// Never given again: it is shown once, when made.
    secret_key: Option<String>,
    is_active: bool,
    is_admin: bool,
    user_info: UserInfoRef,
}

/// A keypair's user.
#[derive(SimpleObject)]
#[graphql(rename_fields = "snake_case")]
struct UserInfoRef {
    full_name: String,
}

/// The root of the queries.
pub struct Query;

fn caller<'a>(ctx: &Context<'a>) -> async_graphql::Result<(&'a ApiContext, &'a UserInfo)> {
    Ok((ctx.data::<ApiContext>()?, ctx.data::<UserInfo>()?))
}

#[Object(rename_fields = "snake_case", rename_args = "snake_case")]
impl Query {
    /// The caller's own keypair.
    async fn keypair(&self, ctx: &Context<'_>) -> async_graphql::Result<KeyPair> {
        let (_, user) = caller(ctx)?;
        Ok(KeyPair {
            user_id: user.email.clone(),
            access_key: user.access_key.clone(),
            secret_key: None,
            is_active: user.is_active,
            is_admin: user.role.is_admin(),
            user_info: UserInfoRef {
                full_name: user.full_name.clone(),
            },
        })
    }

    /// A page of the caller's folders (a group's: berth has no group
    /// folders, so none).
    #[allow(clippy::too_many_arguments)]
    async fn vfolder_list(
        &self,
        ctx: &Context<'_>,
        limit: i32,
        offset: i32,
        group_id: Option<uuid::Uuid>,
        filter: Option<String>,
        order: Option<String>,
        domain_name: Option<String>,
        access_key: Option<String>,
    ) -> async_graphql::Result<VirtualFolderList> {
        let _ = domain_name;
        if access_key.is_some() {
            return Err(async_graphql::Error::new(
                "listing another user's folders is not supported by berth",
            ));
        }
        if group_id.is_some() {
            return Ok(VirtualFolderList {
                items: Vec::new(),
                total_count: 0,
            });
        }
        folder_page(ctx, limit, offset, filter, order).await
    }

    /// A page of the caller's own folders.
    async fn vfolder_own_list(
        &self,
        ctx: &Context<'_>,
        limit: i32,
        offset: i32,
        filter: Option<String>,
        order: Option<String>,
    ) -> async_graphql::Result<VirtualFolderList> {
        folder_page(ctx, limit, offset, filter, order).await
    }

    /// One session by id (none when it is not there or not the caller's).
    async fn compute_session(
        &self,
        ctx: &Context<'_>,
        id: uuid::Uuid,
    ) -> async_graphql::Result<Option<ComputeSession>> {
        let (svc, user) = caller(ctx)?;
        match sessions::get(svc, user, &id.to_string()).await {
            Ok(s) => {
                let key = access_key_of(svc, user, &s).await;
                Ok(Some(compute_session(s, key)))
            }
            Err(crate::sessions::SessionError::NotFound) => Ok(None),
            Err(e) => Err(async_graphql::Error::new(e.to_string())),
        }
    }

    /// A page of the caller's sessions (an admin's: `access_key` names
    /// whose), in the statuses asked (comma-separated), newest first.
    #[allow(clippy::too_many_arguments)]
    async fn compute_session_list(
        &self,
        ctx: &Context<'_>,
        limit: i32,
        offset: i32,
        status: Option<String>,
        access_key: Option<String>,
        group_id: Option<String>,
        filter: Option<String>,
        order: Option<String>,
    ) -> async_graphql::Result<ComputeSessionList> {
        let _ = group_id;
        if filter.is_some() || order.is_some() {
            return Err(async_graphql::Error::new(
                "filter and order expressions are not supported by berth",
            ));
        }
        let (svc, user) = caller(ctx)?;
        let wanted: Option<HashSet<SessionStatus>> = match status.as_deref() {
            None | Some("") => None,
            // the reference's statuses berth never has (PULLING,
            // RESTARTING…) match nothing
            Some(list) => Some(
                list.split(',')
                    .filter_map(|s| SessionStatus::parse(s.trim()))
                    .collect(),
            ),
        };
        let owner = match access_key.as_deref().filter(|k| *k != user.access_key) {
            Some(key) => Some(
                crate::accounts::keypair_user(svc.store(), key)
                    .await?
                    .map(|(u, _)| u.email)
                    .ok_or_else(|| async_graphql::Error::new("no such access key"))?,
            ),
            None => None,
        };
        // read the caller's sessions (live or ended when the statuses are
        // all of one kind), then take the statuses and the page asked
        let kind = wanted.as_ref().and_then(|w| {
            if w.iter().all(|s| !s.is_finished()) {
                Some("running".to_string())
            } else if w.iter().all(|s| s.is_finished()) {
                Some("finished".to_string())
            } else {
                None
            }
        });
        let mut found = Vec::new();
        let mut page = 1;
        loop {
            let q = SessionQuery {
                status: kind.clone(),
                owner: owner.clone(),
                page: Some(page),
                page_size: Some(100),
                ..Default::default()
            };
            let list = sessions::list(svc, user, &q).await?;
            let n = list.items.len();
            found.extend(
                list.items
                    .into_iter()
                    .filter(|s| wanted.as_ref().is_none_or(|w| w.contains(&s.status))),
            );
            if n < 100 || page * 100 >= MAX_READ {
                break;
            }
            page += 1;
        }
        let total = found.len() as i32;
        let key = match &owner {
            Some(_) => access_key.clone(),
            None => Some(user.access_key.clone()),
        };
        let items = found
            .into_iter()
            .skip(offset.max(0) as usize)
            .take(limit.clamp(0, 100) as usize)
            .map(|s| compute_session(s, key.clone()))
            .collect();
        Ok(ComputeSessionList {
            items,
            total_count: total,
        })
    }
}

/// A page of the caller's folders, by name.
async fn folder_page(
    ctx: &Context<'_>,
    limit: i32,
    offset: i32,
    filter: Option<String>,
    order: Option<String>,
) -> async_graphql::Result<VirtualFolderList> {
    if filter.is_some() || order.is_some() {
        return Err(async_graphql::Error::new(
            "filter and order expressions are not supported by berth",
        ));
    }
    let (svc, user) = caller(ctx)?;
    let all = crate::folders::list(svc, user)
        .await
        .map_err(|e| async_graphql::Error::new(e.to_string()))?;
    let total = all.items.len() as i32;
    let items = all
        .items
        .into_iter()
        .skip(offset.max(0) as usize)
        .take(limit.clamp(0, 100) as usize)
        .map(|f| VirtualFolder {
            id: f.id,
            host: super::folders::HOST.into(),
            name: f.name,
            user: Some(user.id.clone()),
            user_email: Some(user.email.clone()),
            group: None,
            group_name: None,
            creator: user.email.clone(),
            status: "ready".into(),
            unmanaged_path: None,
            usage_mode: "general".into(),
            permission: "rw".into(),
            ownership_type: "user".into(),
            max_files: 0,
            max_size: None,
            created_at: f.created_at.to_rfc3339(),
            last_used: None,
            num_files: 0,
            cur_size: 0,
            cloneable: false,
        })
        .collect();
    Ok(VirtualFolderList {
        items,
        total_count: total,
    })
}

/// The owner's access key (the caller's own when it is theirs).
async fn access_key_of(svc: &ApiContext, caller: &UserInfo, s: &SessionInfo) -> Option<String> {
    if s.owner_email == caller.email {
        return Some(caller.access_key.clone());
    }
    crate::accounts::user_by_email(svc.store(), &s.owner_email)
        .await
        .ok()
        .flatten()
        .map(|u| u.access_key)
}

/// The schema (built once per server would do; it is cheap).
pub type GqlSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// A GraphQL request.
#[derive(Debug, Deserialize)]
pub struct GqlRequest {
    query: String,
    #[serde(default)]
    variables: Option<Value>,
}

/// `POST /admin/gql`.
pub async fn gql(
    State(ctx): State<ApiContext>,
    KeyUser(user): KeyUser,
    Body(body): Body<GqlRequest>,
) -> Json<Value> {
    let schema = Schema::build(Query, EmptyMutation, EmptySubscription)
        .limit_depth(8)
        .limit_complexity(2_000)
        .finish();
    let mut req = async_graphql::Request::new(body.query).data(ctx).data(user);
    if let Some(v) = body.variables {
        req = req.variables(async_graphql::Variables::from_json(v));
    }
    let res = schema.execute(req).await;
    Json(serde_json::to_value(&res).unwrap_or(Value::Null))
}
