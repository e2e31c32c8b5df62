//! `GET /api/v1/events`: Server-Sent Events of session status changes. A
//! user gets the events of the sessions they own or launched; admins may ask
//! for all (`?all=true`). A stream ends when its caller's login ends
//! (logout, a revoked token, a disabled account) or no longer allows it (a
//! demoted admin's `?all=true`).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use super::error::{ApiError, ApiResult};
use super::extract::Caller;
use super::query::ApiQuery;
use super::ApiContext;
use berth_shared::sessions::{EventsQuery, SessionEvent};

use crate::accounts::{self, OwnedCredential};
use crate::held::{Kind, Slot};

/// The routes of this resource.
pub fn router() -> Router<ApiContext> {
    Router::new().route("/events", get(events))
}

#[utoipa::path(get, path = "/events", tag = "sessions", params(EventsQuery), responses((status = 200, description = "Server-sent events: each `data:` is a SessionEvent (JSON); a comment line keeps the stream alive.", body = SessionEvent, content_type = "text/event-stream")))]
pub(crate) async fn events(
    State(ctx): State<ApiContext>,
    Caller { user, credential }: Caller,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    if q.all && !user.role.is_admin() {
        return Err(ApiError::Forbidden(
            "Only admins can follow every user's sessions.",
        ));
    }
    let max = ctx.config().max_streams_per_user;
    let slot = ctx
        .held()
        .take(Kind::Stream, &user.id, max)
        .ok_or_else(|| ApiError::TooManyRequests {
            retry_after_secs: 5,
            detail: format!(
                "You already follow events in {max} streams at once, the most this server \
                 allows; close a tab or two."
            ),
        })?;
    let follow = Follow {
        rx: ctx.events().subscribe(),
        accounts: ctx.watch_accounts(),
        credential,
        uid: user.id,
        all: q.all,
        ctx: ctx.clone(),
        _slot: slot,
    };
    let stream = stream::unfold(follow, |mut f| async move {
        loop {
            let next = tokio::select! {
                _ = f.ctx.shutdown().cancelled() => return None,
                changed = f.accounts.changed() => {
                    if changed.is_err() || !f.still_allowed().await {
                        return None;
                    }
                    continue;
                }
                n = f.rx.recv() => n,
            };
            match next {
                Ok(ev) if f.all || ev.owner_id == f.uid || ev.creator_id == f.uid => {
                    let event = Event::default()
                        .event("session")
                        .json_data(&ev)
                        .unwrap_or_else(|_| Event::default().comment("unserializable event"));
                    return Some((Ok(event), f));
                }
                Ok(_) => continue,
                // Too slow: tell the client to refetch, then carry on.
                Err(RecvError::Lagged(n)) => {
                    let event = Event::default().event("lagged").data(n.to_string());
                    return Some((Ok(event), f));
                }
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// One open stream: what it follows and on whose behalf.
struct Follow {
    rx: tokio::sync::broadcast::Receiver<SessionEvent>,
    accounts: tokio::sync::watch::Receiver<u64>,
    credential: OwnedCredential,
    uid: String,
    all: bool,
    ctx: ApiContext,
    /// Its place among the user's streams, given back when it ends.
    _slot: Slot,
}

impl Follow {
    /// Whether the caller's login still stands (not logged out, revoked or
    /// disabled) and still allows what the stream shows (an `all` stream
    /// needs an admin).
    async fn still_allowed(&self) -> bool {
        match accounts::resolve(self.ctx.store(), self.credential.as_credential()).await {
            Ok(user) => user.id == self.uid && (!self.all || user.role.is_admin()),
            Err(_) => false,
        }
    }
}
