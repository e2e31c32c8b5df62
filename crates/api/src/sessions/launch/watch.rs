//! The watcher: one task per running main container, which ends the
//! session when its process exits, its container vanishes or its batch
//! time limit passes.

use super::*;
use berth_shared::sessions::StatusData;

/// How long a watcher waits before asking the engine again after a failure.
pub(super) const WAIT_RETRY: Duration = Duration::from_secs(2);

/// The end a main process's exit code means, by session type.
pub(super) fn end_of_exit(session_type: SessionType, code: i64) -> (SessionStatus, &'static str) {
    match (session_type, code) {
        (_, 0) => (SessionStatus::Terminated, reason::SELF_TERMINATED),
        (SessionType::Batch, _) => (SessionStatus::Terminated, reason::FAILED),
        (SessionType::Interactive, _) => (SessionStatus::Error, reason::CONTAINER_EXITED),
    }
}

/// Waits until the container exits, vanishes, or `deadline` passes; `None`
/// when the server shuts down first.
pub(super) async fn wait_for_end(
    svc: &Services,
    rt: &Runtime,
    cid: &str,
    deadline: Option<tokio::time::Instant>,
) -> Option<Outcome> {
    loop {
        let waited = async {
            match deadline {
                Some(d) => tokio::time::timeout_at(d, rt.wait(cid)).await.ok(),
                None => Some(rt.wait(cid).await),
            }
        };
        let outcome = tokio::select! {
            _ = svc.shutdown().cancelled() => return None,
            o = waited => o,
        };
        match outcome {
            None => return Some(Outcome::TimedOut),
            // `docker rm -f` also ends a wait, with the kill's exit code: tell the two apart
            Some(Ok(Exit::Code(code))) => {
                return Some(match rt.state(cid).await {
                    Ok(None) => Outcome::Vanished,
                    _ => Outcome::Exited(code),
                })
            }
            Some(Ok(Exit::Vanished)) => return Some(Outcome::Vanished),
            Some(Err(e)) => {
                tracing::warn!(container = %cid, error = %e, "waiting on a container failed; retrying");
                tokio::select! {
                    _ = svc.shutdown().cancelled() => return None,
                    _ = tokio::time::sleep(WAIT_RETRY) => {}
                }
            }
        }
    }
}

/// Waits for the main container to exit (or the batch time limit), then
/// ends the session with the reason.
pub(in crate::sessions) async fn watch(
    svc: Shared,
    s: SessionRow,
    cid: String,
    timeout: Option<Duration>,
) {
    let Some(_claim) = svc.tasks().claim(Task::Watching, &s.id) else {
        return;
    };
    // checked: a limit past the clock's range means no deadline, not a panic
    let deadline = timeout.and_then(|t| tokio::time::Instant::now().checked_add(t));
    // the main kernel's agent is the session's
    let rt = svc.runtime_of(s.agent.as_deref());
    let Some(outcome) = wait_for_end(&svc, &rt, &cid, deadline).await else {
        return;
    };
    match outcome {
        Outcome::TimedOut => {
            let secs = timeout.map(|t| t.as_secs()).unwrap_or(0);
            let stopping = Change::new(&[Running], Terminating).because(reason::BATCH_TIMEOUT);
            if matches!(status::change(&svc, &s, stopping).await, Ok(true)) {
                let _ = rt.kill(&cid).await;
                let end = Change::new(&[Terminating], SessionStatus::Terminated)
                    .because(reason::BATCH_TIMEOUT)
                    .with_data(StatusData {
                        batch_timeout: Some(secs),
                        ..Default::default()
                    });
                finish(&svc, &s, end).await;
            }
        }
        Outcome::Vanished => {
            let end = Change::new(&[Running], SessionStatus::Error)
                .because(reason::CONTAINER_LOST)
                .with_data(StatusData::error(
                    "agent",
                    "the container was removed outside berth",
                ));
            finish(&svc, &s, end).await;
        }
        Outcome::Exited(code) => {
            let (to, info) = end_of_exit(type_of(&s), code);
            // Claim the end first, so a concurrent terminate does not also finish it.
            let stopping = Change::new(&[Running], Terminating).because(info);
            if matches!(status::change(&svc, &s, stopping).await, Ok(true)) {
                let kernels = svc.store().kernels_of(&s.id).await.unwrap_or_default();
                for k in kernels
                    .iter()
                    .filter(|k| k.container_id.as_deref() == Some(cid.as_str()))
                {
                    let _ = svc.store().set_kernel_exit(&k.id, Some(code), None).await;
                }
                let end = Change::new(&[Terminating], to)
                    .because(info)
                    .with_data(StatusData {
                        exit_code: Some(code),
                        ..Default::default()
                    });
                finish(&svc, &s, end).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exit_code_means_an_end_by_session_type() {
        use SessionType::*;
        assert_eq!(
            end_of_exit(Batch, 0),
            (SessionStatus::Terminated, reason::SELF_TERMINATED)
        );
        assert_eq!(
            end_of_exit(Batch, 3),
            (SessionStatus::Terminated, reason::FAILED)
        );
        assert_eq!(
            end_of_exit(Interactive, 0),
            (SessionStatus::Terminated, reason::SELF_TERMINATED)
        );
        assert_eq!(
            end_of_exit(Interactive, 137),
            (SessionStatus::Error, reason::CONTAINER_EXITED)
        );
    }
}
