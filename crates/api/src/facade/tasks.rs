//! A session saved as an image, as the reference's background task:
//! `POST /session/{name}/commit` starts it and answers its task id,
//! `GET /session/{name}/commit` says whether one runs, and
//! `GET /events/background-task?task_id=` streams its progress
//! (`bgtask_updated`, then `bgtask_done`, `bgtask_failed` or
//! `bgtask_cancelled`, then `server_close`). The commit itself is the one
//! `/api/v1/sessions/{id}/commit` starts (`crate::images::commit`).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use berth_shared::compat::{
    commit_image_name, BackgroundTaskQuery, CommitStarted, CommitStatus, OwnerQuery, TaskEventData,
};
use berth_shared::images::{CommitOutcome, CommitRequest};
use berth_shared::sessions::SessionEvent;
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use super::auth::KeyUser;
use super::error::{FacadeError, FacadeResult};
use crate::held::{Kind, Slot};
use crate::images::commits::Task;
use crate::images::{self, CANCELLED};
use crate::services::Shared as ApiContext;
use crate::sessions;

/// `POST /session/{name}/commit`: saves the session as a customized
/// image of its owner, named `filename` or after the session and the time.
pub async fn commit(
    State(ctx): State<ApiContext>,
    KeyUser(user): KeyUser,
    Path(name): Path<String>,
    Query(q): Query<OwnerQuery>,
) -> FacadeResult<(StatusCode, Json<CommitStarted>)> {
    let id = sessions::id_of(&ctx, &user, &name).await?;
    let s = sessions::get(&ctx, &user, &id).await?;
    let name = q
        .filename
        .unwrap_or_else(|| commit_image_name(&s.name, chrono::Utc::now()));
    let started = images::commit(&ctx, &user, &id, &CommitRequest { name }).await?;
    Ok((
        StatusCode::CREATED,
        Json(CommitStarted {
            task_id: started.task_id,
        }),
    ))
}

/// `GET /session/{name}/commit`.
pub async fn status(
    State(ctx): State<ApiContext>,
    KeyUser(user): KeyUser,
    Path(name): Path<String>,
) -> FacadeResult<Json<CommitStatus>> {
    let id = sessions::id_of(&ctx, &user, &name).await?;
    let s = sessions::get(&ctx, &user, &id).await?;
    let ongoing = ctx.commits().progress(&id).is_some();
    Ok(Json(CommitStatus {
        status: if ongoing { "ongoing" } else { "ready" }.into(),
        kernel: s.kernels.first().map(|k| k.id.clone()).unwrap_or_default(),
    }))
}

fn frame(name: &'static str, data: &TaskEventData) -> Event {
    Event::default()
        .event(name)
        .json_data(data)
        .unwrap_or_else(|_| Event::default().comment("unserializable event"))
}

/// The frames that end a task, last first (they are popped).
fn ending(task_id: &str, outcome: &CommitOutcome) -> Vec<Event> {
    let data = |message: String, done: bool| TaskEventData {
        task_id: task_id.to_string(),
        message,
        current_progress: done.then_some(1),
        total_progress: done.then_some(1),
    };
    let mut out = match (&outcome.reference, outcome.error.as_deref()) {
        (Some(r), _) => vec![
            frame(
                "bgtask_updated",
                &data(format!("Committed image {r}"), true),
            ),
            frame("bgtask_done", &data(r.clone(), false)),
        ],
        (None, Some(CANCELLED)) => vec![frame(
            "bgtask_cancelled",
            &data(
                "The session was terminated during the commit.".into(),
                false,
            ),
        )],
        (None, e) => vec![frame(
            "bgtask_failed",
            &data(e.unwrap_or("The commit failed.").to_string(), false),
        )],
    };
    out.push(Event::default().event("server_close").data("{}"));
    out.reverse();
    out
}

/// What one stream follows.
struct Follow {
    rx: tokio::sync::broadcast::Receiver<SessionEvent>,
    task_id: String,
    session_id: String,
    ctx: ApiContext,
    queued: Vec<Event>,
    ended: bool,
    _slot: Slot,
}

/// `GET /events/background-task?task_id=…`: a commit's progress, to its
/// session's owner (or an admin). A task that already ended is told at
/// once (the last few hundred are remembered).
pub async fn events(
    State(ctx): State<ApiContext>,
    KeyUser(user): KeyUser,
    Query(q): Query<BackgroundTaskQuery>,
) -> FacadeResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let task_id = uuid::Uuid::parse_str(q.task_id.trim())
        .map_err(|_| FacadeError::invalid("task_id: a UUID is required"))?
        .to_string();
    let max = ctx.config().max_streams_per_user;
    let slot = ctx
        .held()
        .take(Kind::Stream, &user.id, max)
        .ok_or_else(|| FacadeError::too_many(format!("at most {max} event streams at once")))?;
    // subscribed before the task is read: its end cannot fall in between
    let rx = ctx.events().subscribe();
    let task = ctx
        .commits()
        .task(&task_id)
        .ok_or_else(|| FacadeError::not_found("No such background task."))?;
    let session_id = match &task {
        Task::Running { session_id } => session_id.clone(),
        Task::Ended(e) => e.session_id.clone(),
    };
    // someone else's task is as unknown as a missing one
    sessions::get(&ctx, &user, &session_id)
        .await
        .map_err(|_| FacadeError::not_found("No such background task."))?;
    let (queued, ended) = match &task {
        Task::Running { .. } => (
            vec![frame(
                "bgtask_updated",
                &TaskEventData {
                    task_id: task_id.clone(),
                    message: "Commit started".into(),
                    current_progress: Some(0),
                    total_progress: Some(1),
                },
            )],
            false,
        ),
        Task::Ended(e) => (ending(&task_id, &e.outcome), true),
    };
    let follow = Follow {
        rx,
        task_id,
        session_id,
        ctx: ctx.clone(),
        queued,
        ended,
        _slot: slot,
    };
    let stream = stream::unfold(follow, |mut f| async move {
        loop {
            if let Some(ev) = f.queued.pop() {
                return Some((Ok(ev), f));
            }
            if f.ended {
                return None;
            }
            let next = tokio::select! {
                _ = f.ctx.shutdown().cancelled() => return None,
                n = f.rx.recv() => n,
            };
            let outcome = match next {
                Ok(ev) if ev.session_id == f.session_id => ev.commit,
                Ok(_) => None,
                // events were missed: where the task is now says it
                Err(RecvError::Lagged(_)) => match f.ctx.commits().task(&f.task_id) {
                    Some(Task::Ended(e)) => Some(e.outcome),
                    _ => None,
                },
                Err(RecvError::Closed) => return None,
            };
            if let Some(outcome) = outcome {
                f.queued = ending(&f.task_id, &outcome);
                f.ended = true;
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
