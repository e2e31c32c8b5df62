//! Customized images: saving a running interactive session as an image
//! (`docker commit` of its main container: its volumes — `/home/work` —
//! and bind mounts — storage folders — are not part of it), listing and
//! deleting its owner's. Each image is `customized/<owner>/<id>:latest`,
//! labelled with its owner and name; `environments` shows it to its owner
//! only. A commit in progress lives in memory. A normal terminate is
//! refused while it runs; a forced one marks it cancelled, and the stop
//! waits for the engine's commit to return, removes what it made (every
//! image with the job's label), and only then kills the container — so
//! nothing half-made, and nothing made late, remains.

pub mod commits;
pub mod prepull;
pub mod pulls;
pub mod transfer;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use berth_shared::auth::UserInfo;
use berth_shared::images::{
    CommitOutcome, CommitProgress, CommitRequest, CustomizedImage, CustomizedImageList,
};
use berth_shared::sessions::{SessionInfo, SessionStatus, SessionType};
use berth_shared::FieldError;

use self::commits::Job;
use crate::accounts::ms_to_time;
use crate::environments::{CUSTOMIZED_NAME, CUSTOMIZED_OWNER};
use crate::runtime::RuntimeError;
use crate::services::{Services, Shared};
use crate::sessions::{self, SessionError};
use crate::store::{now_ms, StoreError, MAIN_ROLE};

/// The image the session ran.
const CUSTOMIZED_FROM: &str = "berth.customized.from";
/// The session it was made from (name).
const CUSTOMIZED_SESSION: &str = "berth.customized.session";
/// When it was made (epoch ms).
const CUSTOMIZED_AT: &str = "berth.customized.at";
/// The commit job that made it (to sweep what a cancelled one made).
const COMMIT_JOB: &str = "berth.commit";
/// Repository prefix of customized images.
const REPO: &str = "customized";

/// Why an image operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The session (not found, not visible…).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Bad input (the name, the limit).
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// Not now (not running, already committing, in use).
    #[error("{0}")]
    Conflict(String),
    /// No such image of the caller's.
    #[error("no such image")]
    NotFound,
    /// No such resource group.
    #[error("no such resource group")]
    NoGroup,
}

impl From<RuntimeError> for ImageError {
    fn from(e: RuntimeError) -> Self {
        ImageError::Session(e.into())
    }
}

impl From<StoreError> for ImageError {
    fn from(e: StoreError) -> Self {
        ImageError::Session(e.into())
    }
}

/// The short form of a user id used in references.
fn owner_part(user_id: &str) -> String {
    user_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .collect::<String>()
        .to_lowercase()
}

/// The caller's customized images (the owner's, for the limit).
async fn images_of(svc: &Services, user_id: &str) -> Result<Vec<CustomizedImage>, ImageError> {
    let mut items: Vec<CustomizedImage> = svc
        .runtime()
        .images_labelled(CUSTOMIZED_OWNER)
        .await?
        .into_iter()
        .filter(|i| i.labels.get(CUSTOMIZED_OWNER).map(String::as_str) == Some(user_id))
        .filter_map(|i| {
            // (a registry's name of it, while it is being published, is not
            // what is listed)
            let reference = i
                .tags
                .iter()
                .find(|t| !crate::runtime::names_a_registry(t))?
                .clone();
            let id = reference
                .rsplit_once(':')
                .map_or(reference.as_str(), |(r, _)| r)
                .rsplit('/')
                .next()?
                .to_string();
            let label = |k: &str| i.labels.get(k).cloned().unwrap_or_default();
            Some(CustomizedImage {
                id,
                name: label(CUSTOMIZED_NAME),
                reference,
                from_image: label(CUSTOMIZED_FROM),
                from_session: label(CUSTOMIZED_SESSION),
                created_at: ms_to_time(label(CUSTOMIZED_AT).parse().unwrap_or(0)),
            })
        })
        .collect();
    items.sort_by_key(|i| std::cmp::Reverse(i.created_at));
    Ok(items)
}

/// The most customized images `user` may own (0 = no limit).
async fn limit_of(svc: &Services, user: &UserInfo) -> Result<u32, ImageError> {
    Ok(crate::resources::policies::of_user(svc.store(), user)
        .await?
        .map_or(berth_shared::images::DEFAULT_MAX_CUSTOMIZED_IMAGES, |p| {
            p.max_customized_images
        }))
}

/// `GET /customized-images`.
pub async fn list(svc: &Services, caller: &UserInfo) -> Result<CustomizedImageList, ImageError> {
    Ok(CustomizedImageList {
        items: images_of(svc, &caller.id).await?,
        max: limit_of(svc, caller).await?,
    })
}

/// `DELETE /customized-images/{id}`: one of the caller's, unless a live
/// session runs it.
pub async fn delete(svc: &Services, caller: &UserInfo, id: &str) -> Result<(), ImageError> {
    let image = images_of(svc, &caller.id)
        .await?
        .into_iter()
        .find(|i| i.id == id)
        .ok_or(ImageError::NotFound)?;
    let users = svc.store().sessions_in(&SessionStatus::LIVE).await?;
    if let Some(s) = users.iter().find(|s| s.image == image.reference) {
        return Err(ImageError::Conflict(format!(
            "Session {} runs this image; end it first.",
            s.name
        )));
    }
    svc.runtime().remove_image(&image.reference).await?;
    Ok(())
}

/// Removes every image a commit job made.
async fn sweep(svc: &Services, job_id: &str) {
    let made = match svc.runtime().images_labelled(COMMIT_JOB).await {
        Ok(images) => images,
        Err(e) => {
            tracing::error!(job = job_id, error = %e, "could not look for a cancelled commit's image");
            return;
        }
    };
    for image in made
        .into_iter()
        .filter(|i| i.labels.get(COMMIT_JOB).map(String::as_str) == Some(job_id))
    {
        if let Err(e) = svc.runtime().remove_image(&image.id).await {
            tracing::error!(image = %image.id, error = %e, "could not remove a cancelled commit's image");
        }
    }
}

/// The error of a commit a forced terminate cancelled.
pub const CANCELLED: &str = "cancelled";

/// Pushes a customized image from the engine that made it to the
/// registry and, when that is an agent's, pulls it onto the local engine
/// (the catalogue), removing it from the agent.
async fn publish(
    svc: &Services,
    engine: &crate::runtime::Runtime,
    reference: &str,
    registry: &str,
    remote_agent: bool,
) -> Result<(), crate::runtime::RuntimeError> {
    let remote = crate::runtime::in_registry(registry, reference);
    engine.tag(reference, &remote).await?;
    let pushed = engine.push(&remote).await;
    if !remote_agent {
        // the catalogue lists images by their tags: only their own names
        transfer::untag(engine, &remote).await;
    }
    pushed?;
    if remote_agent {
        let meter = svc.metrics().image_copy("commit");
        let sent = meter.sent();
        let pulled = svc
            .runtime()
            .pull(&remote, move |bytes, _| sent.set(bytes))
            .await;
        meter.finish(pulled.is_ok());
        pulled?;
        svc.runtime().tag(&remote, reference).await?;
        transfer::untag(svc.runtime(), &remote).await;
        for name in [reference, remote.as_str()] {
            if let Err(e) = engine.remove_image(name).await {
                tracing::warn!(image = %name, error = %e, "could not remove a pushed image from its agent");
            }
        }
    }
    Ok(())
}

/// A commit just started.
#[derive(Debug)]
pub struct Started {
    /// The session as it is now, with `commit` set.
    pub info: SessionInfo,
    /// The commit's task id (`Commits::task`).
    pub task_id: String,
}

/// `POST /sessions/{id}/commit`: starts saving a running interactive
/// session as a customized image of its owner. The outcome arrives as an
/// event.
pub async fn commit(
    svc: &Shared,
    caller: &UserInfo,
    session_id: &str,
    req: &CommitRequest,
) -> Result<Started, ImageError> {
    // 404 before 422: nobody learns about someone else's session from a bad name
    let row = sessions::visible_row(svc, caller, session_id).await?;
    req.validate().map_err(ImageError::Invalid)?;
    if row.status().ok() != Some(SessionStatus::Running)
        || row.session_type().ok() != Some(SessionType::Interactive)
    {
        return Err(ImageError::Conflict(
            "Only a running interactive session can be saved as an image.".into(),
        ));
    }
    let owner = crate::accounts::user_info(svc.store(), &row.owner_id)
        .await
        .map_err(|_| ImageError::NotFound)?;
    let max = limit_of(svc, &owner).await?;
    let have = images_of(svc, &owner.id).await?.len();
    if max > 0 && have >= max as usize {
        return Err(ImageError::Invalid(vec![FieldError::new(
            "name",
            "quota_exceeded",
            format!(
                "{} has {have} of {max} customized images; delete one (Data page) to save another.",
                owner.email
            ),
        )]));
    }
    let cid = svc
        .store()
        .kernels_of(&row.id)
        .await?
        .into_iter()
        .find(|k| k.role == MAIN_ROLE)
        .and_then(|k| k.container_id)
        .ok_or_else(|| ImageError::Conflict("The session has no container yet.".into()))?;
    // committed where it runs; customized images live on the local engine,
    // the catalogue every agent copies from
    let engine = svc.runtime_of(row.agent.as_deref());
    let mut labels = engine.inspect_image(&row.image).await?.labels;
    let now = now_ms();
    labels.extend([
        (CUSTOMIZED_OWNER.to_string(), owner.id.clone()),
        (CUSTOMIZED_NAME.to_string(), req.name.clone()),
        (CUSTOMIZED_FROM.to_string(), row.image.clone()),
        (CUSTOMIZED_SESSION.to_string(), row.name.clone()),
        (CUSTOMIZED_AT.to_string(), now.to_string()),
        // which server made it (as its containers are labelled)
        (
            crate::runtime::LABEL_INSTANCE.to_string(),
            svc.instance().to_string(),
        ),
    ]);
    let job_id = uuid::Uuid::new_v4().to_string();
    labels.insert(COMMIT_JOB.to_string(), job_id.clone());
    let job = Job {
        task_id: job_id.clone(),
        name: req.name.clone(),
        started_ms: now,
        cancelled: Arc::new(AtomicBool::new(false)),
        elsewhere: false,
    };
    if !svc.commits().start(&row.id, job.clone()) {
        return Err(ImageError::Conflict(
            "The session is already being saved as an image.".into(),
        ));
    }
    let repo = format!(
        "{REPO}/{}/{}",
        owner_part(&owner.id),
        uuid::Uuid::new_v4().simple().to_string()[..12].to_owned()
    );
    let task_id = job_id.clone();
    let task_svc = Shared::clone(svc);
    let task_row = row.clone();
    tokio::spawn(async move {
        let svc = task_svc;
        let reference = format!("{repo}:latest");
        let settle = std::time::Duration::from_secs(svc.config().exec_timeout_secs.max(1));
        svc.apps().warm_settled(&task_row.id, settle).await;
        let remote_agent = !std::ptr::eq(&*engine, svc.runtime());
        let made = match engine.commit(&cid, &repo, "latest", labels).await {
            // with a registry: pushed there from where it was made, so
            // every agent pulls it; the catalogue (the local engine) too
            Ok(id) if svc.config().registry.is_some() => {
                let registry = svc.config().registry.clone().unwrap_or_default();
                publish(&svc, &engine, &reference, &registry, remote_agent)
                    .await
                    .map(|()| id)
            }
            Ok(id) if remote_agent => {
                let meter = svc.metrics().image_copy("commit");
                let sent = meter.sent();
                let copied = engine
                    .copy_image_to(svc.runtime(), &reference, move |bytes| sent.set(bytes))
                    .await;
                meter.finish(copied.is_ok());
                if let Err(e) = engine.remove_image(&reference).await {
                    tracing::warn!(image = %reference, error = %e, "could not remove a copied image from its agent");
                }
                copied.map(|()| id)
            }
            other => other,
        };
        let cancelled = job.cancelled.load(Ordering::SeqCst);
        svc.metrics().committed(match &made {
            _ if cancelled => "cancelled",
            Ok(_) => "done",
            Err(_) => "failed",
        });
        let outcome = match made {
            Ok(_) if !cancelled => CommitOutcome {
                name: job.name.clone(),
                reference: Some(reference),
                error: None,
            },
            // cancelled (a forced terminate) or failed: nothing may remain
            result => {
                sweep(&svc, &job_id).await;
                CommitOutcome {
                    name: job.name.clone(),
                    reference: None,
                    error: Some(match result {
                        Err(e) => e.to_string(),
                        Ok(_) => CANCELLED.into(),
                    }),
                }
            }
        };
        svc.commits().finish(&task_row.id, &outcome);
        // as the session is now (a forced terminate may have ended it)
        let row = match svc.store().session(&task_row.id).await {
            Ok(Some(r)) => r,
            _ => task_row,
        };
        sessions::status::announce_commit(&svc, &row, outcome, now_ms());
    });
    // the commit just started (a small one may already be done by now)
    let mut info = sessions::get(svc, caller, session_id).await?;
    info.commit = Some(CommitProgress {
        name: req.name.clone(),
        started_at: ms_to_time(now),
    });
    Ok(Started { info, task_id })
}
