//! Pre-pulls: an admin has every agent of a resource group fetch an
//! environment image before a session needs it, side by side, each
//! agent's progress noted in `images::pulls` for the page that follows
//! it.

use berth_shared::agents::AgentStatus;
use berth_shared::images::{PrePull, PrePullAgent, PrePullRequest, PrePullState};
use berth_shared::validate::Invalid;
use berth_shared::FieldError;

use super::{transfer, ImageError};
use crate::runtime::{RuntimeError, LOCAL};
use crate::services::Shared;

/// Starts a pre-pull of `req.image` to every agent of `group` and answers
/// it as it starts. The image must be an environment in the catalogue;
/// a LOST agent fails its part at once; the local agent is the catalogue
/// and has it.
pub async fn start(svc: &Shared, group: &str, req: &PrePullRequest) -> Result<PrePull, ImageError> {
    req.validate().map_err(ImageError::Invalid)?;
    let image = req.image.trim().to_string();
    let groups = svc.store().resource_groups().await?;
    if !groups.iter().any(|(name, _, _)| name == group) {
        return Err(ImageError::NoGroup);
    }
    match crate::environments::labels_of(svc, &image).await {
        Ok(labels) if labels.is_environment => {}
        Ok(_) | Err(RuntimeError::ImageNotFound(_)) => {
            return Err(ImageError::Invalid(vec![unknown_image()]));
        }
        Err(e) => return Err(e.into()),
    }
    let rows = svc.store().agents().await?;
    // one another replica registered has its engine here too
    crate::resources::agents::sync_engines(svc, &rows);
    let agents: Vec<_> = rows
        .into_iter()
        .filter(|a| a.resource_group == group)
        .collect();
    let job = PrePull {
        id: uuid::Uuid::new_v4().to_string(),
        group: group.to_string(),
        image: image.clone(),
        started_at: chrono::Utc::now(),
        agents: agents
            .iter()
            .map(|a| {
                let (state, error) = if a.id == LOCAL {
                    (PrePullState::Present, None)
                } else if a.status() == AgentStatus::Lost {
                    (
                        PrePullState::Failed,
                        Some("The agent's engine does not answer.".to_string()),
                    )
                } else {
                    (PrePullState::Waiting, None)
                };
                PrePullAgent {
                    agent: a.id.clone(),
                    state,
                    source: None,
                    bytes: 0,
                    total: 0,
                    error,
                }
            })
            .collect(),
    };
    svc.prepulls().add(job.clone());
    for part in job.agents.iter().filter(|a| !a.state.is_over()) {
        tokio::spawn(run(
            svc.clone(),
            job.id.clone(),
            part.agent.clone(),
            image.clone(),
        ));
    }
    Ok(job)
}

/// One agent's part: brings the image there, its progress noted as it
/// comes.
async fn run(svc: Shared, id: String, agent: String, image: String) {
    let rt = svc.runtime_of(Some(&agent));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let noter = {
        let (svc, id, agent) = (svc.clone(), id.clone(), agent.clone());
        tokio::spawn(async move {
            while let Some(p) = rx.recv().await {
                let p: berth_shared::sessions::Pulling = p;
                svc.prepulls().update(&id, &agent, |a| {
                    a.state = PrePullState::Pulling;
                    a.source = Some(p.source);
                    a.bytes = p.bytes;
                    a.total = p.total;
                });
            }
        })
    };
    let brought = transfer::bring(&svc, &image, &agent, &rt, tx).await;
    let _ = noter.await;
    if let Err(e) = &brought {
        tracing::warn!(%agent, %image, error = %e, "a pre-pull failed");
    }
    // the last progress may be short of the end (a small image sends none)
    let size = match brought {
        Ok(true) => rt.inspect_image(&image).await.map(|i| i.size).ok(),
        _ => None,
    };
    svc.prepulls().update(&id, &agent, |a| match brought {
        Ok(false) => a.state = PrePullState::Present,
        Ok(true) => {
            a.state = PrePullState::Done;
            let end = size.unwrap_or(a.total).max(a.bytes);
            (a.bytes, a.total) = (end, end);
        }
        Err(e) => {
            a.state = PrePullState::Failed;
            a.error = Some(e.to_string());
        }
    });
}

fn unknown_image() -> FieldError {
    Invalid::new("image_not_found", "No environment has this image.").at("image")
}
