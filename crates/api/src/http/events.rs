//! `GET /api/v1/events`: Server-Sent Events of session status changes. A
//! user gets the events of the sessions they own or launched; admins may ask
//! for all (`?all=true`).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream};
use tokio::sync::broadcast::error::RecvError;

use super::error::{ApiError, ApiResult};
use super::extract::AuthUser;
use super::query::ApiQuery;
use super::ApiContext;
use berth_shared::sessions::EventsQuery;

/// The routes of this resource.
pub fn router() -> Router<ApiContext> {
    Router::new().route("/events", get(events))
}

async fn events(
    State(ctx): State<ApiContext>,
    AuthUser(user): AuthUser,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    if q.all && !user.role.is_admin() {
        return Err(ApiError::Forbidden(
            "Only admins can follow every user's sessions.",
        ));
    }
    let rx = ctx.events().subscribe();
    let shutdown = ctx.shutdown().clone();
    let stream = stream::unfold(
        (rx, user.id, q.all, shutdown),
        |(mut rx, uid, all, shutdown)| async move {
            loop {
                let next = tokio::select! {
                    _ = shutdown.cancelled() => return None,
                    n = rx.recv() => n,
                };
                match next {
                    Ok(ev) if all || ev.owner_id == uid || ev.creator_id == uid => {
                        let event = Event::default()
                            .event("session")
                            .json_data(&ev)
                            .unwrap_or_else(|_| Event::default().comment("unserializable event"));
                        return Some((Ok(event), (rx, uid, all, shutdown)));
                    }
                    Ok(_) => continue,
                    // Too slow: tell the client to refetch, then carry on.
                    Err(RecvError::Lagged(n)) => {
                        let event = Event::default().event("lagged").data(n.to_string());
                        return Some((Ok(event), (rx, uid, all, shutdown)));
                    }
                    Err(RecvError::Closed) => return None,
                }
            }
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
