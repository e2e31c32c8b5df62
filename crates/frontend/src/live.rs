//! Live session events for the whole UI: one `EventSource` on
//! `/api/v1/events` per signed-in tab. Every event (and every
//! (re)connection) moves `version`, so lists refetch; the events of
//! sessions the user launched go to the notification store
//! (`crate::notices`). A hidden or left page gives its stream back.

use berth_shared::sessions::SessionEvent;
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent};

use crate::notices::Notices;

/// How long after a stream closed for good a new one is tried.
const RECONNECT_MS: u64 = 3_000;

/// What the shell shares with every page.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    /// Moves on every event and on every (re)connection: refetch then.
    pub version: RwSignal<u64>,
}

impl Live {
    /// Provides the context and connects for the user `me` (user id);
    /// their own launches' events go to `notices`.
    pub fn provide(me: Signal<Option<String>>, notices: Notices) -> Self {
        let live = Live {
            version: RwSignal::new(0),
        };
        provide_context(live);
        let source: Source = StoredValue::new_local(None);
        let target = Target { live, me, notices };
        connect(target, source);
        // A browser allows six HTTP/1.1 connections per host: a page that is
        // hidden or left (and kept in the back-forward cache) gives its
        // stream back, and fetches what it missed when it is shown again.
        let sync = move || {
            if document().hidden() {
                disconnect(source);
            } else if source.try_with_value(Option::is_none) == Some(true) {
                connect(target, source);
            }
        };
        let hidden = window_event_listener(leptos::ev::visibilitychange, move |_| sync());
        let left = window_event_listener(leptos::ev::pagehide, move |_| disconnect(source));
        let back = window_event_listener(leptos::ev::pageshow, move |_| sync());
        on_cleanup(move || {
            hidden.remove();
            left.remove();
            back.remove();
            disconnect(source);
        });
        live
    }
}

/// Where a stream's events go.
#[derive(Clone, Copy)]
struct Target {
    live: Live,
    me: Signal<Option<String>>,
    notices: Notices,
}

/// The context (provided by the shell).
pub fn use_live() -> Live {
    expect_context::<Live>()
}

/// One open stream and its handlers (dropped with it).
struct Conn {
    es: EventSource,
    _handlers: (Handler, Closure<dyn FnMut(MessageEvent)>, Handler, Handler),
}

type Handler = Closure<dyn FnMut()>;

type Source = StoredValue<Option<Conn>, LocalStorage>;

fn disconnect(source: Source) {
    if let Some(Some(conn)) = source.try_update_value(Option::take) {
        conn.es.close();
    }
}

fn connect(target: Target, source: Source) {
    let Target { live, me, notices } = target;
    disconnect(source);
    let Ok(es) = EventSource::new("/api/v1/events") else {
        return;
    };
    let on_open = Closure::<dyn FnMut()>::new(move || {
        // after a gap, what changed meanwhile is fetched again
        live.version.update(|v| *v += 1);
    });
    let on_session = Closure::<dyn FnMut(MessageEvent)>::new(move |m: MessageEvent| {
        let Some(data) = m.data().as_string() else {
            return;
        };
        let Ok(ev) = serde_json::from_str::<SessionEvent>(&data) else {
            return;
        };
        live.version.update(|v| *v += 1);
        // status changes go to who launched it; idle warnings and commit
        // outcomes to its owner
        let who = if ev.warning.is_some() || ev.commit.is_some() {
            ev.owner_id.as_str()
        } else {
            ev.creator_id.as_str()
        };
        let mine = me.with_untracked(|m| m.as_deref() == Some(who));
        if mine {
            notices.notify(&ev);
        }
    });
    let on_lagged = Closure::<dyn FnMut()>::new(move || live.version.update(|v| *v += 1));
    let es2 = es.clone();
    let on_error = Closure::<dyn FnMut()>::new(move || {
        // The browser retries by itself unless the stream is closed for
        // good (e.g. the server was down): then start a new one shortly.
        let current =
            source.try_with_value(|s| s.as_ref().map(|c| &c.es) == Some(&es2)) == Some(true);
        if current && es2.ready_state() == EventSource::CLOSED {
            set_timeout(
                move || {
                    let still = source.try_with_value(|s| {
                        s.as_ref()
                            .is_some_and(|c| c.es.ready_state() == EventSource::CLOSED)
                    });
                    if still == Some(true) && !document().hidden() {
                        connect(target, source);
                    }
                },
                std::time::Duration::from_millis(RECONNECT_MS),
            );
        }
    });
    es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    let _ = es.add_event_listener_with_callback("session", on_session.as_ref().unchecked_ref());
    let _ = es.add_event_listener_with_callback("lagged", on_lagged.as_ref().unchecked_ref());
    es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    source.set_value(Some(Conn {
        es,
        _handlers: (on_open, on_session, on_lagged, on_error),
    }));
}
