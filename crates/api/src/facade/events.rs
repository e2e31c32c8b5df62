//! `GET /backend.ai/events/session`: one session's lifecycle as the
//! reference streams it (SSE events named `session_started`,
//! `session_terminated`…, data in its shape), from the same bus
//! `/api/v1/events` reads. The stream ends with the session, with the
//! reference's `server_close` event so its client does not reconnect.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use berth_shared::compat::{session_event_names, SessionEventData, SessionEventsQuery};
use berth_shared::sessions::{SessionEvent, SessionType};
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use super::auth::KeyUser;
use super::error::{FacadeError, FacadeResult};
use crate::held::{Kind, Slot};
use crate::services::Shared as ApiContext;
use crate::sessions;

/// What one stream follows.
struct Follow {
    rx: tokio::sync::broadcast::Receiver<SessionEvent>,
    session_id: String,
    owner_access_key: String,
    batch: bool,
    ctx: ApiContext,
    /// Events read but not yet sent (a status can say two things).
    queued: Vec<Event>,
    ended: bool,
    _slot: Slot,
}

/// The events a status change stands for; after a session's end, the
/// reference's `server_close`, which tells its client not to reconnect.
fn frames(names: Vec<&'static str>, data: &SessionEventData, last: bool) -> Vec<Event> {
    let mut out: Vec<Event> = names
        .into_iter()
        .map(|name| {
            Event::default()
                .event(name)
                .json_data(data)
                .unwrap_or_else(|_| Event::default().comment("unserializable event"))
        })
        .collect();
    if last {
        out.push(Event::default().event("server_close").data("{}"));
    }
    out
}

/// `GET /events/session?sessionId=…|name=…`.
pub async fn session_events(
    State(ctx): State<ApiContext>,
    KeyUser(user): KeyUser,
    Query(q): Query<SessionEventsQuery>,
) -> FacadeResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let named = q
        .session_id
        .or(q.name)
        .ok_or_else(|| FacadeError::invalid("sessionId or name: required"))?;
    let max = ctx.config().max_streams_per_user;
    let slot = ctx
        .held()
        .take(Kind::Stream, &user.id, max)
        .ok_or_else(|| FacadeError::too_many(format!("at most {max} event streams at once")))?;
    // subscribed before the session is read: nothing falls in between
    let rx = ctx.events().subscribe();
    let id = sessions::id_of(&ctx, &user, &named).await?;
    let s = sessions::get(&ctx, &user, &id).await?;
    let batch = s.session_type == SessionType::Batch;
    let mut follow = Follow {
        rx,
        session_id: s.id.clone(),
        owner_access_key: user.access_key.clone(),
        batch,
        ctx: ctx.clone(),
        queued: Vec::new(),
        ended: false,
        _slot: slot,
    };
    // already over: its end, and nothing more
    if s.status.is_finished() {
        let exit = s.kernels.first().and_then(|k| k.exit_code);
        let data = SessionEventData {
            reason: s.status_info.clone().unwrap_or_default(),
            session_name: s.name.clone(),
            owner_access_key: follow.owner_access_key.clone(),
            session_id: s.id.clone(),
            exit_code: exit,
        };
        follow.queued = frames(
            session_event_names(s.status, exit.filter(|_| batch)),
            &data,
            true,
        );
        follow.queued.reverse();
        follow.ended = true;
    }
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
            match next {
                // a warning keeps the status: not a lifecycle event
                Ok(ev) if ev.session_id == f.session_id && ev.warning.is_none() => {
                    let exit = exit_code(&ev);
                    let data = SessionEventData {
                        reason: ev.status_info.clone().unwrap_or_default(),
                        session_name: ev.name.clone(),
                        owner_access_key: f.owner_access_key.clone(),
                        session_id: ev.session_id.clone(),
                        exit_code: exit,
                    };
                    let batch_exit = if f.batch { exit } else { None };
                    f.ended = ev.status.is_finished();
                    let names = session_event_names(ev.status, batch_exit);
                    f.queued = frames(names, &data, f.ended);
                    f.queued.reverse();
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// The exit code an ending event carries (in its status data).
fn exit_code(ev: &SessionEvent) -> Option<i64> {
    ev.status_data.as_ref().and_then(|d| d.exit_code)
}
