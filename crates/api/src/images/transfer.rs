//! Bringing an image to an agent's engine that lacks it: pulled from the
//! image registry when one is set (the local engine, the catalogue,
//! pushes it there first), else copied from another engine that has it,
//! streamed through this process. A launch (the `pulling` phase) and an
//! admin's pre-pull to a resource group both come here.

use berth_shared::sessions::Pulling;
use tokio::sync::mpsc::UnboundedSender;

use crate::runtime::{Runtime, RuntimeError};
use crate::services::Shared;

/// How far a transfer got, sent at most every 5% (or MiB): where it goes,
/// where from, bytes so far and in all.
pub type Progress = UnboundedSender<Pulling>;

/// Makes sure `rt` (agent `target`'s engine) has `image`. `Ok(false)`: it
/// had it; `Ok(true)`: it was brought. Progress goes to `progress` (the
/// first message when the transfer starts).
pub async fn bring(
    svc: &Shared,
    image: &str,
    target: &str,
    rt: &Runtime,
    progress: Progress,
) -> Result<bool, RuntimeError> {
    match rt.inspect_image(image).await {
        Ok(_) => return Ok(false),
        Err(RuntimeError::ImageNotFound(_)) => {}
        Err(e) => return Err(e),
    }
    if let Some(registry) = svc.config().registry.clone() {
        pull_from(svc, image, target, rt, &registry, progress).await?;
        return Ok(true);
    }
    for (source, engine) in svc.engines().all() {
        if source == target {
            continue;
        }
        let Ok(found) = engine.inspect_image(image).await else {
            continue;
        };
        let total = found.size;
        let facts = {
            let (target, image) = (target.to_string(), image.to_string());
            move |bytes: u64| Pulling {
                agent: target.clone(),
                source: source.clone(),
                image: image.clone(),
                bytes,
                total,
            }
        };
        let _ = progress.send(facts(0));
        let step = (total / 20).max(1 << 20);
        let told = std::sync::atomic::AtomicU64::new(0);
        let meter = svc.metrics().image_copy("launch");
        let sent = meter.sent();
        let copied = engine
            .copy_image_to(rt, image, move |bytes| {
                use std::sync::atomic::Ordering::Relaxed;
                sent.set(bytes);
                if bytes >= told.load(Relaxed) + step {
                    told.store(bytes, Relaxed);
                    let _ = progress.send(facts(bytes));
                }
            })
            .await;
        meter.finish(copied.is_ok());
        return copied.map(|()| true);
    }
    Err(RuntimeError::ImageNotFound(image.to_string()))
}

/// Has `rt` pull `image` from the registry (the local engine, the
/// catalogue, pushes it there first when it has it: layers already there
/// are not sent again) and tag it with its own name.
async fn pull_from(
    svc: &Shared,
    image: &str,
    target: &str,
    rt: &Runtime,
    registry: &str,
    progress: Progress,
) -> Result<(), RuntimeError> {
    let remote = crate::runtime::in_registry(registry, image);
    let local = svc.runtime();
    if local.inspect_image(image).await.is_ok() {
        local.tag(image, &remote).await?;
        let pushed = local.push(&remote).await;
        untag(local, &remote).await;
        pushed?;
    }
    let facts = {
        let (agent, image) = (target.to_string(), image.to_string());
        move |bytes: u64, total: u64| Pulling {
            agent: agent.clone(),
            source: "registry".into(),
            image: image.clone(),
            bytes,
            total,
        }
    };
    let _ = progress.send(facts(0, 0));
    let told = std::sync::atomic::AtomicU64::new(0);
    rt.pull(&remote, move |bytes, total| {
        use std::sync::atomic::Ordering::Relaxed;
        if bytes >= told.load(Relaxed) + (total / 20).max(1 << 20) {
            told.store(bytes, Relaxed);
            let _ = progress.send(facts(bytes, total));
        }
    })
    .await?;
    rt.tag(&remote, image).await
}

/// Takes a registry's name off the catalogue's image (it lists images by
/// their tags: only their own names).
pub(super) async fn untag(rt: &Runtime, remote: &str) {
    if let Err(e) = rt.untag(remote).await {
        tracing::warn!(image = %remote, error = %e, "could not take a registry's name off an image");
    }
}
