//! The session's image on the engine of its agent, copied from another
//! engine when that one lacks it (the `pulling` phase).

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
