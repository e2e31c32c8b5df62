//! Live session events for the whole UI: one `EventSource` on
//! `/api/v1/events` per signed-in tab. Lists refetch when `version` moves;
//! sessions the user launched raise toasts and fill the bell's list; the
//! log viewer and the terminate dialog are opened from anywhere through the
//! same context.

use berth_shared::sessions::{SessionEvent, SessionStatus};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{EventSource, MessageEvent};

/// A status change of a session the user launched.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// Increasing id (this browser session).
    pub seq: u64,
    /// Session id.
    pub session_id: String,
    /// Session name.
    pub name: String,
    /// New status.
    pub status: SessionStatus,
    /// Reason code.
    pub status_info: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A session the log viewer shows.
#[derive(Debug, Clone, PartialEq)]
pub struct LogTarget {
    /// Session id.
    pub session_id: String,
    /// Session name (the title and the file name).
    pub name: String,
    /// Kernel id; the main kernel when `None`.
    pub kernel: Option<String>,
}

/// What the shell shares with every page.
#[derive(Debug, Clone, Copy)]
pub struct Live {
    /// Moves on every event and on every (re)connection: refetch then.
    pub version: RwSignal<u64>,
    /// Every notice of this browser session, oldest first.
    pub notices: RwSignal<Vec<Notice>>,
    /// How many notices the bell has not shown yet.
    pub unread: RwSignal<usize>,
    /// Sessions with a toast on screen, newest last (one toast per session,
    /// updated in place as its status changes).
    pub toasts: RwSignal<Vec<Notice>>,
    /// The log viewer's session, when open.
    pub logs: RwSignal<Option<LogTarget>>,
    /// The session the terminate dialog asks about (id, name), when open.
    pub terminate: RwSignal<Option<(String, String)>>,
    /// The last notice number handed out (never reused, also after a clear).
    last_seq: StoredValue<u64>,
}

/// How long a toast stays (errors stay until closed).
pub const TOAST_MS: u64 = 8_000;

impl Live {
    /// Provides the context and connects for the user `me` (user id).
    pub fn provide(me: Signal<Option<String>>) -> Self {
        let live = Live {
            version: RwSignal::new(0),
            notices: RwSignal::new(vec![]),
            unread: RwSignal::new(0),
            toasts: RwSignal::new(vec![]),
            logs: RwSignal::new(None),
            terminate: RwSignal::new(None),
            last_seq: StoredValue::new(0),
        };
        provide_context(live);
        let source: Source = StoredValue::new_local(None);
        connect(live, me, source);
        // A browser allows six HTTP/1.1 connections per host: a page that is
        // hidden or left (and kept in the back-forward cache) gives its
        // stream back, and fetches what it missed when it is shown again.
        let sync = move || {
            if document().hidden() {
                disconnect(source);
            } else if source.try_with_value(Option::is_none) == Some(true) {
                connect(live, me, source);
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

    /// Records a status change: a notice, and the session's toast.
    pub fn notify(&self, ev: &SessionEvent) {
        self.last_seq.update_value(|s| *s += 1);
        let seq = self.last_seq.get_value();
        let notice = Notice {
            seq,
            session_id: ev.session_id.clone(),
            name: ev.name.clone(),
            status: ev.status,
            status_info: ev.status_info.clone(),
            at: ev.at,
        };
        self.notices.update(|n| n.push(notice.clone()));
        self.unread.update(|u| *u += 1);
        self.show_toast(notice);
    }

    /// Shows (or updates) the toast of the notice's session.
    pub fn show_toast(&self, notice: Notice) {
        let (id, seq, sticky) = (
            notice.session_id.clone(),
            notice.seq,
            notice.status == SessionStatus::Error,
        );
        self.toasts.update(|t| {
            t.retain(|x| x.session_id != notice.session_id);
            t.push(notice);
        });
        if !sticky {
            let toasts = self.toasts;
            // closes only if no newer status replaced this one meanwhile
            set_timeout(
                move || {
                    toasts.try_update(|t| t.retain(|x| !(x.session_id == id && x.seq == seq)));
                },
                std::time::Duration::from_millis(TOAST_MS),
            );
        }
    }

    /// Closes a session's toast.
    pub fn close_toast(&self, session_id: &str) {
        self.toasts
            .update(|t| t.retain(|x| x.session_id != session_id));
    }
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

fn connect(live: Live, me: Signal<Option<String>>, source: Source) {
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
        let mine = me.with_untracked(|m| m.as_deref() == Some(ev.creator_id.as_str()));
        if mine {
            live.notify(&ev);
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
                        connect(live, me, source);
                    }
                },
                std::time::Duration::from_secs(3),
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
