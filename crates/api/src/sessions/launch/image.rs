//! The session's image on the engine of its agent: pulled from the image
//! registry when one is set, else copied from another engine, when that
//! one lacks it (the `pulling` phase).

use super::*;
use berth_shared::sessions::Pulling;

/// Makes sure another agent's engine has the session's image (the local
/// engine is the catalogue creation checked): when it does not, copies it
/// from an engine that has it (the local one first),
/// streamed through this process, with the progress announced as the
/// `pulling` phase of PREPARING (stored and announced at most every 5%).
pub(super) async fn ensure_image(
    svc: &Shared,
    s: &SessionRow,
    agent: Option<&str>,
    rt: &Runtime,
) -> Result<(), RuntimeError> {
    let target = agent.unwrap_or(LOCAL).to_string();
    // the local engine is the catalogue: creating the session checked it
    // has the image (a launch there asks no more; one gone since fails it)
    if target == LOCAL {
        return Ok(());
    }
    match rt.inspect_image(&s.image).await {
        Ok(_) => return Ok(()),
        Err(RuntimeError::ImageNotFound(_)) => {}
        Err(e) => return Err(e),
    }
    if let Some(registry) = svc.config().registry.clone() {
        return pull_from(svc, s, &target, rt, &registry).await;
    }
    for (source, engine) in svc.engines().all() {
        if source == target {
            continue;
        }
        let Ok(found) = engine.inspect_image(&s.image).await else {
            continue;
        };
        let total = found.size;
        let image = found.tags.first().cloned().unwrap_or_default();
        let facts = move |bytes: u64| Pulling {
            agent: target.clone(),
            source: source.clone(),
            image: image.clone(),
            bytes,
            total,
        };
        status::note_pulling(svc, s, Some(facts(0))).await;
        // progress is written in order by one task; it ends with the copy
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
        let writer = {
            let (svc, row) = (svc.clone(), s.clone());
            tokio::spawn(async move {
                while let Some(bytes) = rx.recv().await {
                    status::note_pulling(&svc, &row, Some(facts(bytes))).await;
                }
            })
        };
        let step = (total / 20).max(1 << 20);
        let told = std::sync::atomic::AtomicU64::new(0);
        let meter = svc.metrics().image_copy("launch");
        let sent = meter.sent();
        let copied = engine
            .copy_image_to(rt, &s.image, move |bytes| {
                use std::sync::atomic::Ordering::Relaxed;
                sent.set(bytes);
                if bytes >= told.load(Relaxed) + step {
                    told.store(bytes, Relaxed);
                    let _ = tx.send(bytes);
                }
            })
            .await;
        meter.finish(copied.is_ok());
        let _ = writer.await;
        status::note_pulling(svc, s, None).await;
        return copied;
    }
    Err(RuntimeError::ImageNotFound(s.image.clone()))
}

/// Has `rt` pull the session's image from the registry (the local engine,
/// the catalogue, pushes it there first when it has it: layers already
/// there are not sent again) and tag it with its own name, with the
/// layers' progress as the `pulling` phase.
async fn pull_from(
    svc: &Shared,
    s: &SessionRow,
    target: &str,
    rt: &Runtime,
    registry: &str,
) -> Result<(), RuntimeError> {
    let remote = crate::runtime::in_registry(registry, &s.image);
    let local = svc.runtime();
    if local.inspect_image(&s.image).await.is_ok() {
        local.tag(&s.image, &remote).await?;
        let pushed = local.push(&remote).await;
        untag(local, &remote).await;
        pushed?;
    }
    let facts = {
        let (agent, image) = (target.to_string(), s.image.clone());
        move |bytes: u64, total: u64| Pulling {
            agent: agent.clone(),
            source: "registry".into(),
            image: image.clone(),
            bytes,
            total,
        }
    };
    status::note_pulling(svc, s, Some(facts(0, 0))).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u64, u64)>();
    let writer = {
        let (svc, row, facts) = (svc.clone(), s.clone(), facts.clone());
        tokio::spawn(async move {
            while let Some((bytes, total)) = rx.recv().await {
                status::note_pulling(&svc, &row, Some(facts(bytes, total))).await;
            }
        })
    };
    let told = std::sync::atomic::AtomicU64::new(0);
    let pulled = rt
        .pull(&remote, move |bytes, total| {
            use std::sync::atomic::Ordering::Relaxed;
            // stored and announced at most every 5% (or MiB)
            if bytes >= told.load(Relaxed) + (total / 20).max(1 << 20) {
                told.store(bytes, Relaxed);
                let _ = tx.send((bytes, total));
            }
        })
        .await;
    let _ = writer.await;
    status::note_pulling(svc, s, None).await;
    pulled?;
    rt.tag(&remote, &s.image).await
}

/// Takes a registry's name off the catalogue's image (it lists images by
/// their tags: only their own names).
async fn untag(rt: &Runtime, remote: &str) {
    if let Err(e) = rt.untag(remote).await {
        tracing::warn!(image = %remote, error = %e, "could not take a registry's name off an image");
    }
}
