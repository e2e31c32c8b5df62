//! The one way a session's status changes. Every change — from a request,
//! the scheduler, a watcher or recovery — comes here with the statuses it
//! expects the session to be in: the arrow is checked against the machine
//! (`SessionStatus::can_become`), then the new status, its reason
//! (`status_info` and `status_data`) and its history entry are written in
//! one guarded transaction, and the event goes out. If someone else moved
//! the session first, nothing is written and the caller hears `false`.

use berth_shared::images::CommitOutcome;
use berth_shared::sessions::{
    reason, AgentLost, IdleWarning, Pulling, SessionEvent, SessionStatus, StatusData,
};

use super::{SessionError, SessionResult};
use crate::accounts::ms_to_time;
use crate::services::Services;
use crate::store::json::encode;
use crate::store::{now_ms, NewSession, SessionRow, StatusWrite, StoreError};

/// Every session starts here.
pub const INITIAL: SessionStatus = SessionStatus::Pending;

/// A status change: from one of the expected statuses to a new one, with
/// its reason.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    from: &'a [SessionStatus],
    to: SessionStatus,
    info: Option<&'a str>,
    data: Option<StatusData>,
}

impl<'a> Change<'a> {
    /// `from` (any of) → `to`, with no reason yet.
    pub fn new(from: &'a [SessionStatus], to: SessionStatus) -> Self {
        Self {
            from,
            to,
            info: None,
            data: None,
        }
    }

    /// The reason code (`status_info`, one of [`reason`]).
    pub fn because(mut self, info: &'a str) -> Self {
        self.info = Some(info);
        self
    }

    /// The details (`status_data`).
    pub fn with_data(mut self, data: StatusData) -> Self {
        self.data = Some(data);
        self
    }

    /// The new status.
    pub fn to(&self) -> SessionStatus {
        self.to
    }

    /// The arrow is in the machine from every expected status.
    fn check(&self) -> SessionResult<()> {
        match self.from.iter().find(|f| !f.can_become(self.to)) {
            Some(&from) => Err(SessionError::IllegalTransition { from, to: self.to }),
            None => Ok(()),
        }
    }
}

/// Applies `change` to the session of `row`; false when it was in none of
/// the expected statuses (someone else moved it first).
pub async fn change(svc: &Services, row: &SessionRow, change: Change<'_>) -> SessionResult<bool> {
    write(svc, row, change, None).await
}

/// PENDING → SCHEDULED: the session now holds capacity on `agent` (its
/// main kernel's) and each kernel on its agent in `kernels` (main first;
/// the scheduler took it all first). False when it was no longer PENDING.
pub async fn place(
    svc: &Services,
    row: &SessionRow,
    agent: &str,
    kernels: &[String],
) -> SessionResult<bool> {
    let change =
        Change::new(&[SessionStatus::Pending], SessionStatus::Scheduled).because(reason::SCHEDULED);
    write(svc, row, change, Some((agent, kernels))).await
}

async fn write(
    svc: &Services,
    row: &SessionRow,
    change: Change<'_>,
    placed: Option<(&str, &[String])>,
) -> SessionResult<bool> {
    change.check()?;
    let now = now_ms();
    let w = StatusWrite {
        from: change.from,
        to: change.to,
        info: change.info,
        data: change.data.as_ref().map(encode),
        placed_on: placed.map(|p| p.0),
        kernel_agents: placed.map(|p| p.1).unwrap_or_default(),
    };
    if !svc.store().change_status(&row.id, &w, now).await? {
        return Ok(false);
    }
    svc.metrics().status_changed(
        &row.id,
        row.status().ok(),
        row.status_changed_at,
        change.to,
        now,
    );
    svc.events()
        .publish(event(row, change.to, change.info, change.data, now));
    Ok(true)
}

/// Stores new sessions in [`INITIAL`], with their kernels, mounts and
/// first history entry, and announces them. The rows carry their first
/// status.
pub async fn open(svc: &Services, sessions: &[NewSession]) -> Result<(), StoreError> {
    svc.store().insert_sessions(sessions).await?;
    for s in sessions {
        svc.events()
            .publish(event(&s.row, INITIAL, None, None, s.row.created_at));
    }
    Ok(())
}

/// Why a PENDING session waits (`info`, with the failed checks in `data`).
/// Written and announced only when the explanation changed.
pub async fn explain_wait(
    svc: &Services,
    row: &SessionRow,
    info: &str,
    data: StatusData,
) -> SessionResult<()> {
    let text = encode(&data);
    if row.status_data.as_deref() == Some(text.as_str()) {
        return Ok(());
    }
    if svc.store().explain_pending(&row.id, info, &text).await? {
        svc.events().publish(event(
            row,
            SessionStatus::Pending,
            Some(info),
            Some(data),
            now_ms(),
        ));
    }
    Ok(())
}

/// Tells each session on `agent` that still holds capacity there that its
/// agent stopped answering (`lost_since`: when) or answers again (`None`):
/// `status_data.agent_lost` is set or cleared, the status stays, and the
/// event goes out. Nothing ends here: the reconciler looks at them when
/// the agent answers. A session whose stored `status_data` is corrupt is
/// left as it is (logged): what is there is not overwritten by a guess.
pub async fn note_agent(svc: &Services, agent: &str, lost_since: Option<i64>) {
    let rows = match svc
        .store()
        .sessions_in(&SessionStatus::HOLDING_CAPACITY)
        .await
    {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(agent, error = %e, "could not tell sessions about their agent");
            return;
        }
    };
    for row in rows.iter().filter(|r| r.agent.as_deref() == Some(agent)) {
        let Ok(status) = row.status() else { continue };
        let mut data = match row.status_data() {
            Ok(d) => d.unwrap_or_default(),
            Err(e) => {
                tracing::error!(session = %row.id, error = %e, "not noting its agent");
                continue;
            }
        };
        match lost_since {
            Some(at) => {
                data.agent_lost = Some(AgentLost {
                    agent: agent.to_string(),
                    since: ms_to_time(at),
                });
            }
            None if data.agent_lost.take().is_none() => continue,
            None => {}
        }
        let value = (!data.is_empty()).then_some(data);
        let text = value.as_ref().map(encode);
        match svc
            .store()
            .note_status_data(&row.id, status, text.as_deref())
            .await
        {
            Ok(true) => svc.events().publish(event(
                row,
                status,
                row.status_info.as_deref(),
                value,
                now_ms(),
            )),
            Ok(false) => {}
            Err(e) => tracing::error!(session = %row.id, error = %e, "could not note its agent"),
        }
    }
}

/// Records that a PREPARING session's image is being copied to its agent
/// (`Some`: its progress), or that the copy is over (`None`), with the
/// event.
pub async fn note_pulling(svc: &Services, row: &SessionRow, progress: Option<Pulling>) {
    let (info, data) = match progress {
        Some(p) => (
            reason::PULLING,
            Some(StatusData {
                pulling: Some(p),
                ..Default::default()
            }),
        ),
        None => (reason::PREPARING, None),
    };
    let text = data.as_ref().map(encode);
    match svc
        .store()
        .note_status_data(&row.id, SessionStatus::Preparing, text.as_deref())
        .await
    {
        Ok(true) => svc.events().publish(event(
            row,
            SessionStatus::Preparing,
            Some(info),
            data,
            now_ms(),
        )),
        Ok(false) => {}
        Err(e) => tracing::error!(session = %row.id, error = %e, "could not note the image copy"),
    }
}

/// Tells the owner of a running session that an idle rule will end it
/// soon (the status is unchanged; the event carries the warning).
pub fn announce_idle_warning(svc: &Services, row: &SessionRow, warning: IdleWarning, at_ms: i64) {
    let mut ev = event(row, SessionStatus::Running, None, None, at_ms);
    ev.warning = Some(warning);
    svc.events().publish(ev);
}

/// Tells the owner of a session how saving it as an image ended (its
/// status as it is now, unchanged).
pub fn announce_commit(svc: &Services, row: &SessionRow, outcome: CommitOutcome, at_ms: i64) {
    let status = row.status().unwrap_or(SessionStatus::Running);
    let mut ev = event(row, status, None, None, at_ms);
    ev.commit = Some(outcome);
    svc.events().publish(ev);
}

/// The event that tells the owner and the launcher of `row` its status.
fn event(
    row: &SessionRow,
    status: SessionStatus,
    info: Option<&str>,
    data: Option<StatusData>,
    at_ms: i64,
) -> SessionEvent {
    SessionEvent {
        session_id: row.id.clone(),
        name: row.name.clone(),
        owner_id: row.owner_id.clone(),
        creator_id: row.created_by.clone(),
        status,
        status_info: info.map(str::to_string),
        status_data: data,
        at: ms_to_time(at_ms),
        warning: None,
        commit: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SessionStatus::*;

    #[test]
    fn only_arrows_of_the_machine_pass() {
        assert!(Change::new(&[Pending], Cancelled).check().is_ok());
        assert!(
            Change::new(&[Scheduled, Preparing, Running, Error], Terminating)
                .check()
                .is_ok()
        );
        match Change::new(&[Running, Terminated], Terminating).check() {
            Err(SessionError::IllegalTransition { from, to }) => {
                assert_eq!((from, to), (Terminated, Terminating))
            }
            other => panic!("{other:?}"),
        }
        assert!(Change::new(&[Running], Pending).check().is_err());
    }
}
