//! Creating sessions: every check that needs server state, then PENDING
//! rows and a scheduler wake-up. `create` reads as the rules it applies,
//! in order: whose session it is, its project and resource group, its
//! image and that image's minimums, its resources against the agents and
//! the owner's policy, its names, the owner's folders it mounts; then the
//! rows. The steps that need no
//! I/O are plain functions, tested below.
//!
//! The image a create names is `image.rs`; its resources, `sizing.rs`.
//! Over 500 lines only because its unit tests sit below the code (about
//! 415 lines of code, the rest tests).
//!
//! The file is long for its tests: the code is the first part, and the
//! unit (and property) tests that pin it take the rest, beside it.

mod image;
mod sizing;

use self::image::{image_labels, image_reference};
use self::sizing::{resources_for, Resolved};

use berth_shared::auth::UserInfo;
use berth_shared::bytes::ByteSize;
use berth_shared::resources::{ResourceBounds, ResourcePolicy};
use berth_shared::sessions::{
    kernel_hostname, limits, preopen_ports_allowed, session_name, ClusterMode,
    CreateSessionRequest, DryRun, Mount, PortRules, Prediction, SessionInfo, SessionType,
    DEFAULT_CPU, DEFAULT_MEM, DEFAULT_SHMEM,
};
use berth_shared::FieldError;
use rand::distributions::{Alphanumeric, DistString};

use super::{invalid, status, view, SessionError, SessionResult};
use crate::accounts::{self, DEFAULT_PROJECT};
use crate::environments::{self, ImageLabels};
use crate::folders::{self, FolderError};
use crate::resources;
use crate::runtime::RuntimeError;
use crate::scheduler::core::Decision;
use crate::services::Services;
use crate::store::json::encode;
use crate::store::{
    now_ms, AgentRow, FolderRow, KernelRow, MountRow, NewSession, SessionRow, StoreError,
    MAIN_ROLE, SUB_ROLE,
};

/// Creates `count` sessions (PENDING) and wakes the scheduler.
pub async fn create(
    svc: &Services,
    caller: &UserInfo,
    req: &CreateSessionRequest,
) -> SessionResult<Vec<SessionInfo>> {
    let (base, rows) = checked_rows(svc, caller, req).await?;
    let store = svc.store();
    match status::open(svc, &rows).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            return Err(invalid(
                "name",
                "taken",
                "A live session already has this name.",
            ))
        }
        Err(e) => return Err(e.into()),
    }
    svc.wake_scheduler();
    let mut remembered = req.clone();
    remembered.name = base.clone();
    if let Err(e) = crate::history::record(store, &caller.id, &base, &remembered).await {
        tracing::warn!(error = %e, "could not remember the launch in the history");
    }
    Ok(view::infos(store, rows.into_iter().map(|s| s.row).collect()).await?)
}

/// What the scheduler would do now with the sessions `req` would create:
/// the same checks as `create` (the same 422s), then the scheduler's own
/// core on the current state with them queued last. Nothing is stored.
pub async fn dry_run(
    svc: &Services,
    caller: &UserInfo,
    req: &CreateSessionRequest,
) -> SessionResult<DryRun> {
    let (_, rows) = checked_rows(svc, caller, req).await?;
    let mut asked = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut p = crate::scheduler::as_pending(&r.row)
            .map_err(|e| SessionError::Internal(e.to_string()))?;
        p.needs_storage = !req.mounts.is_empty();
        asked.push(p);
    }
    let decisions = crate::scheduler::predict(svc, asked).await?;
    let sessions = rows
        .iter()
        .filter_map(|r| {
            let d = decisions.iter().find(|d| d.session() == r.row.id)?;
            Some((r, d))
        })
        .map(|(r, d)| match d {
            Decision::Place { agent, .. } => Prediction::StartsNow {
                agent: agent.clone(),
            },
            Decision::Wait {
                position, failed, ..
            } => Prediction::Waits {
                resource_group: r.row.resource_group.clone(),
                position: *position,
                status_info: crate::scheduler::wait_reason(failed).to_string(),
                failed_predicates: failed.clone(),
            },
        })
        .collect();
    Ok(DryRun { sessions })
}

/// Every rule `create` applies, in order, and the rows it would write (the
/// base name, for the launcher history, and one row set per session).
async fn checked_rows(
    svc: &Services,
    caller: &UserInfo,
    req: &CreateSessionRequest,
) -> SessionResult<(String, Vec<NewSession>)> {
    req.validate().map_err(SessionError::Invalid)?;
    if let Some(at) = req.starts_at {
        limits::starts_at(at, chrono::Utc::now())
            .map_err(|e| SessionError::Invalid(vec![e.at("starts_at")]))?;
    }
    let store = svc.store();
    let owner = owner(svc, caller, req.owner_email.as_deref()).await?;
    let project = project_of(&owner, req.project.as_deref())?;
    let project_id = store.project_id(&project).await?.ok_or_else(|| {
        invalid(
            "project",
            "unknown_project",
            format!("There is no project {project}."),
        )
    })?;
    let groups = resources::groups::of_project(store, &project_id).await?;
    let group = resource_group_of(&groups, req.resource_group.as_deref(), &project)?;
    let image = image_reference(req)?;
    let labels = image_labels(svc, &image, &owner.id).await?;
    preopen_ports_for(svc, req, &labels)?;
    let agents = resources::agents::in_group(store, &group).await?;
    let policy = resources::policies::of_user(store, &owner).await?;
    let resolved = resources_for(req, &labels, &agents, policy.as_ref(), &group)?;
    if let Some(max) = policy
        .as_ref()
        .map(|p| p.max_pending_sessions)
        .filter(|m| *m > 0)
    {
        let waiting = store.pending_of(&owner.id).await?;
        let asked = req.count.unwrap_or(1);
        if waiting.saturating_add(asked) > max {
            return Err(invalid(
                "count",
                "quota_exceeded",
                format!(
                    "{} has {waiting} sessions waiting to start and may have at most {max}; wait for them or cancel some.",
                    owner.email
                ),
            ));
        }
    }
    let (base, names) = names_for(req, &random_base())?;
    for n in &names {
        if store.live_name_taken(&owner.id, n, None).await? {
            return Err(invalid(
                "name",
                "taken",
                format!("{} already has a live session named {n}.", owner.email),
            ));
        }
    }
    let mounts = folders::for_mounts(svc, &owner, &req.mounts)
        .await
        .map_err(|e| match e {
            FolderError::Invalid(errs) => SessionError::Invalid(errs),
            FolderError::Store(e) => SessionError::Store(e),
            other => SessionError::Conflict(other.to_string()),
        })?;
    let plan = Plan {
        req,
        owner: &owner,
        creator_id: &caller.id,
        project_id,
        group,
        image: image.reference,
        image_name: labels
            .customized_name
            .as_deref()
            .map(berth_shared::images::display_name),
        resources: resolved,
        mounts,
    };
    let rows = plan.rows(&names, now_ms(), || uuid::Uuid::new_v4().to_string());
    Ok((base, rows))
}

/// Whose session it is: the caller's own, or (admins only) the active
/// user named by `owner_email`.
async fn owner(svc: &Services, caller: &UserInfo, email: Option<&str>) -> SessionResult<UserInfo> {
    let Some(email) = email.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(caller.clone());
    };
    // naming oneself is no launch on behalf of anyone
    if email.eq_ignore_ascii_case(&caller.email) {
        return Ok(caller.clone());
    }
    if !caller.role.is_admin() {
        return Err(SessionError::Forbidden(
            "Only admins can launch sessions for other users.",
        ));
    }
    let found = accounts::user_by_email(svc.store(), email)
        .await
        .map_err(|e| match e {
            accounts::AccountError::Store(s) => SessionError::Store(s),
            other => SessionError::Conflict(other.to_string()),
        })?;
    match found {
        Some(u) if u.is_active => Ok(u),
        _ => Err(invalid(
            "owner_email",
            "unknown_user",
            format!("There is no active user {email}."),
        )),
    }
}

/// The project: the one asked for, if the owner is in it; else the
/// owner's `default` project, else their first.
fn project_of(owner: &UserInfo, asked: Option<&str>) -> SessionResult<String> {
    match asked.map(str::trim).filter(|p| !p.is_empty()) {
        Some(p) if owner.projects.iter().any(|m| m == p) => Ok(p.to_string()),
        Some(p) => Err(invalid(
            "project",
            "not_a_member",
            format!("{} is not in project {p}.", owner.email),
        )),
        None if owner.projects.iter().any(|m| m == DEFAULT_PROJECT) => {
            Ok(DEFAULT_PROJECT.to_string())
        }
        None => owner.projects.first().cloned().ok_or_else(|| {
            invalid(
                "project",
                "required",
                format!("{} is in no project.", owner.email),
            )
        }),
    }
}

/// The resource group: the one asked for, if the project may use it; else
/// the first the project may use.
fn resource_group_of(
    allowed: &[String],
    asked: Option<&str>,
    project: &str,
) -> SessionResult<String> {
    match asked.map(str::trim).filter(|g| !g.is_empty()) {
        Some(g) if allowed.iter().any(|n| n == g) => Ok(g.to_string()),
        Some(g) => Err(invalid(
            "resource_group",
            "not_allowed",
            format!("Project {project} may not use resource group {g}."),
        )),
        None => allowed.first().cloned().ok_or_else(|| {
            invalid(
                "resource_group",
                "required",
                format!("Project {project} may use no resource group."),
            )
        }),
    }
}

/// The preopen ports against the image's service ports and the server's
/// limit.
fn preopen_ports_for(
    svc: &Services,
    req: &CreateSessionRequest,
    labels: &ImageLabels,
) -> SessionResult<()> {
    let rules = PortRules {
        taken: labels.service_ports.iter().map(|p| p.port).collect(),
        max: Some(svc.config().max_preopen_ports),
    };
    preopen_ports_allowed(&req.preopen_ports, &rules)
        .map_err(|e| SessionError::Invalid(vec![e.at("preopen_ports")]))
}

/// A random name base: eight letters and digits, then `-session`.
fn random_base() -> String {
    format!(
        "{}-session",
        Alphanumeric
            .sample_string(&mut rand::thread_rng(), 8)
            .to_lowercase()
    )
}

/// The sessions' names: the given name (or `random`) as the base, suffixed
/// `-1`…`-N` when several are asked for; each must pass the name rule.
/// The base is what the launcher history remembers.
fn names_for(req: &CreateSessionRequest, random: &str) -> SessionResult<(String, Vec<String>)> {
    let base = if req.name.is_empty() {
        random.to_string()
    } else {
        req.name.clone()
    };
    let names: Vec<String> = match req.count.unwrap_or(1) {
        1 => vec![base.clone()],
        count => (1..=count).map(|i| format!("{base}-{i}")).collect(),
    };
    for n in &names {
        session_name(n).map_err(|e| SessionError::Invalid(vec![e.at("name")]))?;
    }
    Ok((base, names))
}

/// Everything decided about the sessions to create.
struct Plan<'a> {
    req: &'a CreateSessionRequest,
    owner: &'a UserInfo,
    creator_id: &'a str,
    project_id: String,
    group: String,
    image: String,
    /// `Customized<name>` for a customized image.
    image_name: Option<String>,
    resources: Resolved,
    /// The folders to mount, each with how.
    mounts: Vec<(FolderRow, Mount)>,
}

impl Plan<'_> {
    /// One session row (in its first status), its main kernel and its
    /// mounts per name.
    fn rows(
        &self,
        names: &[String],
        now: i64,
        mut new_id: impl FnMut() -> String,
    ) -> Vec<NewSession> {
        let req = self.req;
        let first = status::INITIAL.as_str();
        let env = encode(&req.env);
        let accelerators = encode(&req.resources.accelerators);
        let preopen_ports = encode(&req.preopen_ports);
        names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                // one launch's sessions queue in their names' order (1, 2,
                // …): each is a millisecond younger than the one before, so
                // the scheduler's oldest-first order is the prediction's
                let now = now + i as i64;
                let id = new_id();
                let size = req.cluster_size.unwrap_or(1).max(1);
                let kernels: Vec<KernelRow> = (0..size as usize)
                    .map(|i| KernelRow {
                        id: new_id(),
                        session_id: id.clone(),
                        role: if i == 0 { MAIN_ROLE } else { SUB_ROLE }.into(),
                        hostname: kernel_hostname(i),
                        agent: None,
                        container_id: None,
                        status: first.into(),
                        exit_code: None,
                        logs: None,
                        created_at: now,
                        devices: Default::default(),
                    })
                    .collect();
                let row = SessionRow {
                    id,
                    name: name.clone(),
                    owner_id: self.owner.id.clone(),
                    created_by: self.creator_id.to_string(),
                    project_id: self.project_id.clone(),
                    access_key: self.owner.access_key.clone(),
                    resource_group: self.group.clone(),
                    session_type: req.session_type.as_str().into(),
                    image: self.image.clone(),
                    cpu: self.resources.cpu,
                    mem: self.resources.mem.0.min(i64::MAX as u64) as i64,
                    shmem: self.resources.shmem.0.min(i64::MAX as u64) as i64,
                    accelerators: accelerators.clone(),
                    env: env.clone(),
                    nthreads: i64::from(self.resources.nthreads),
                    startup_command: match req.session_type {
                        SessionType::Batch => req.startup_command.clone(),
                        SessionType::Interactive => None,
                    },
                    starts_at: req.starts_at.map(|t| t.timestamp_millis()),
                    // bounded by the shared rule (a year); min() only keeps the cast honest
                    batch_timeout: req.batch_timeout.map(|t| t.min(i64::MAX as u64) as i64),
                    designated_agent: req.agent.clone(),
                    agent: None,
                    cluster_mode: req.cluster_mode.as_str().into(),
                    cluster_size: i64::from(size),
                    status: first.into(),
                    status_info: None,
                    status_data: None,
                    status_changed_at: now,
                    created_at: now,
                    started_at: None,
                    terminated_at: None,
                    allocated: 0,
                    preopen_ports: preopen_ports.clone(),
                    service_secret: Some(crate::accounts::secrets::service_secret()),
                    image_name: self.image_name.clone(),
                };
                let mounts = self
                    .mounts
                    .iter()
                    .map(|(f, m)| MountRow {
                        session_id: row.id.clone(),
                        folder_id: f.id.clone(),
                        name: f.name.clone(),
                        read_only: i64::from(m.read_only),
                    })
                    .collect();
                NewSession {
                    row,
                    kernels,
                    mounts,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use berth_shared::auth::Role;
    use berth_shared::resources::AgentStatus;
    use berth_shared::sessions::SessionStatus;

    use super::image::ImageRef;
    use super::*;

    fn user(projects: &[&str]) -> UserInfo {
        UserInfo {
            id: "u1".into(),
            email: "ana@x.io".into(),
            full_name: String::new(),
            role: Role::User,
            is_active: true,
            access_key: "AK".into(),
            projects: projects.iter().map(|p| p.to_string()).collect(),
            created_at: Default::default(),
            locale: None,
        }
    }

    fn codes(r: SessionResult<impl std::fmt::Debug>) -> Vec<(String, String)> {
        match r {
            Err(SessionError::Invalid(errs)) => {
                errs.into_iter().map(|e| (e.field, e.code)).collect()
            }
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    fn agent(cpu: f64, mem_gib: i64, accel: &[(&str, f64)]) -> AgentRow {
        AgentRow {
            id: "local".into(),
            resource_group: "default".into(),
            docker_host: String::new(),
            status: AgentStatus::Alive.as_str().into(),
            cpu_total: cpu,
            mem_total: mem_gib << 30,
            cpu_used: 0.0,
            mem_used: 0,
            schedulable: 1,
            tls_cert_dir: None,
            reserve_cpu: 0.0,
            reserve_mem: 0,
            lost_at: None,
            storage_path: Some("/srv/berth".into()),
            port_range: None,
            accel_total: accel.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            accel_used: BTreeMap::new(),
        }
    }

    #[test]
    fn the_project_is_asked_default_or_first() {
        assert_eq!(
            project_of(&user(&["a", "default"]), None).unwrap(),
            "default"
        );
        assert_eq!(project_of(&user(&["b", "a"]), None).unwrap(), "b");
        assert_eq!(project_of(&user(&["a"]), Some(" a ")).unwrap(), "a");
        assert_eq!(
            codes(project_of(&user(&["a"]), Some("z"))),
            [("project".into(), "not_a_member".into())]
        );
        assert_eq!(
            codes(project_of(&user(&[]), None)),
            [("project".into(), "required".into())]
        );
    }

    #[test]
    fn the_group_must_be_one_the_project_may_use() {
        let allowed = vec!["default".to_string(), "gpu".to_string()];
        assert_eq!(resource_group_of(&allowed, None, "p").unwrap(), "default");
        assert_eq!(
            resource_group_of(&allowed, Some("gpu"), "p").unwrap(),
            "gpu"
        );
        assert_eq!(
            codes(resource_group_of(&allowed, Some("other"), "p")),
            [("resource_group".into(), "not_allowed".into())]
        );
        assert_eq!(
            codes(resource_group_of(&[], None, "p")),
            [("resource_group".into(), "required".into())]
        );
    }

    #[test]
    fn an_environment_without_version_means_latest() {
        let req = CreateSessionRequest {
            environment: Some(" berth/busybox ".into()),
            ..Default::default()
        };
        assert_eq!(
            image_reference(&req).unwrap(),
            ImageRef {
                reference: "berth/busybox:latest".into(),
                field: "environment"
            }
        );
        let req = CreateSessionRequest {
            image: Some("x:1".into()),
            ..Default::default()
        };
        assert_eq!(image_reference(&req).unwrap().field, "image");
    }

    #[test]
    fn defaults_follow_the_image_and_limits_are_judged_together() {
        let labels = ImageLabels {
            min_cpu: 2.0,
            min_mem: ByteSize(1 << 30),
            ..Default::default()
        };
        let agents = [agent(4.0, 8, &[("cuda.device", 1.0)])];
        let r = resources_for(
            &CreateSessionRequest::default(),
            &labels,
            &agents,
            None,
            "default",
        )
        .unwrap();
        assert_eq!((r.cpu, r.mem, r.nthreads), (2.0, ByteSize(1 << 30), 2));
        assert_eq!(r.shmem, DEFAULT_SHMEM);

        let mut req = CreateSessionRequest::default();
        req.resources.cpu = Some(8.0);
        req.resources.accelerators.insert("cuda.device".into(), 2.0);
        req.agent = Some("elsewhere".into());
        let policy = ResourcePolicy {
            name: "p".into(),
            max_concurrent_sessions: 0,
            max_total_cpu: 0.0,
            max_total_mem: ByteSize(512 << 20),
            max_session_lifetime: 0,
            max_folders: 0,
            max_folder_bytes: Default::default(),
            idle_timeout: None,
            max_customized_images: 0,
            max_pending_sessions: 0,
        };
        let got = codes(resources_for(
            &req,
            &labels,
            &agents,
            Some(&policy),
            "default",
        ));
        assert_eq!(
            got,
            [
                ("resources.cpu".into(), "exceeds_capacity".into()),
                ("resources.mem".into(), "exceeds_policy".into()),
                (
                    "resources.accelerators.cuda.device".into(),
                    "exceeds_capacity".into()
                ),
                ("agent".into(), "unknown_agent".into()),
            ]
        );
    }

    #[test]
    fn several_sessions_get_numbered_names() {
        let mut req = CreateSessionRequest {
            name: "job".into(),
            count: Some(3),
            ..Default::default()
        };
        let (base, names) = names_for(&req, "rand-session").unwrap();
        assert_eq!(
            (base.as_str(), names),
            (
                "job",
                vec!["job-1".to_string(), "job-2".into(), "job-3".into()]
            )
        );
        req.name.clear();
        req.count = None;
        let (base, names) = names_for(&req, "abcd1234-session").unwrap();
        assert_eq!(
            (base.as_str(), names),
            ("abcd1234-session", vec!["abcd1234-session".to_string()])
        );
        req.name = "abc".into();
        assert_eq!(
            codes(names_for(&req, "x")),
            [("name".into(), "too_short".into())]
        );
    }

    #[test]
    fn rows_start_pending_with_a_main_kernel() {
        let owner = user(&["default"]);
        let req = CreateSessionRequest {
            session_type: SessionType::Interactive,
            startup_command: Some("ignored".into()),
            ..Default::default()
        };
        let plan = Plan {
            req: &req,
            owner: &owner,
            creator_id: "admin",
            project_id: "p1".into(),
            group: "default".into(),
            image: "berth/busybox:latest".into(),
            image_name: None,
            resources: Resolved {
                cpu: 0.5,
                mem: ByteSize(64 << 20),
                shmem: ByteSize(16 << 20),
                nthreads: 1,
            },
            mounts: vec![(
                FolderRow {
                    id: "f1".into(),
                    owner_id: "u1".into(),
                    name: "data".into(),
                    created_at: 0,
                },
                Mount {
                    name: "data".into(),
                    read_only: true,
                },
            )],
        };
        let mut n = 0;
        let rows = plan.rows(&["a-1".into(), "a-2".into()], 7, || {
            n += 1;
            format!("id{n}")
        });
        assert_eq!(rows.len(), 2);
        let NewSession {
            row: s,
            kernels: k,
            mounts,
        } = &rows[1];
        assert_eq!(
            (
                mounts[0].session_id.as_str(),
                mounts[0].name.as_str(),
                mounts[0].read_only
            ),
            ("id3", "data", 1)
        );
        assert_eq!((s.id.as_str(), s.name.as_str()), ("id3", "a-2"));
        assert_eq!(s.status(), Ok(SessionStatus::Pending));
        assert_eq!(
            (s.owner_id.as_str(), s.created_by.as_str()),
            ("u1", "admin")
        );
        assert_eq!(
            s.startup_command, None,
            "only batch sessions keep a command"
        );
        assert_eq!(s.mem, 64 << 20);
        assert_eq!(k[0].session_id, "id3");
        assert_eq!(
            (k[0].role.as_str(), k[0].hostname.as_str()),
            ("main", "main1")
        );
    }
}
