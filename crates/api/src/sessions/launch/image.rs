//! The session's image on the engine of its agent, brought there when
//! that engine lacks it (`images::transfer`), with the progress as the
//! `pulling` phase of PREPARING.

use super::*;
use berth_shared::sessions::Pulling;

/// Makes sure another agent's engine has the session's image (the local
/// engine is the catalogue creation checked): when it does not, brings it
/// from the registry or another engine, with the progress announced as
/// the `pulling` phase of PREPARING (stored and announced at most every
/// 5%).
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
    // progress is written in order by one task; it ends with the transfer
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Pulling>();
    let writer = {
        let (svc, row) = (svc.clone(), s.clone());
        tokio::spawn(async move {
            let mut noted = false;
            while let Some(p) = rx.recv().await {
                status::note_pulling(&svc, &row, Some(p)).await;
                noted = true;
            }
            noted
        })
    };
    let brought = crate::images::transfer::bring(svc, &s.image, &target, rt, tx).await;
    if writer.await.unwrap_or(true) {
        status::note_pulling(svc, s, None).await;
    }
    brought.map(|_| ())
}
