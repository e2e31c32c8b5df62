//! The notification store: a notice for every status change of a session
//! the user launched (the bell's list, this browser session), the unread
//! count, and the toasts on screen (one per session, updated in place).

use berth_shared::images::CommitOutcome;
use berth_shared::sessions::{IdleWarning, SessionEvent, SessionStatus};
use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// How long a toast stays (errors stay until closed).
pub const TOAST_MS: u64 = 8_000;

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
    /// Set when an idle rule will end the session soon.
    pub warning: Option<IdleWarning>,
    /// Set when saving the session as an image ended.
    pub commit: Option<CommitOutcome>,
}

/// The store, shared through the component tree.
#[derive(Debug, Clone, Copy)]
pub struct Notices {
    /// Every notice of this browser session, oldest first.
    pub notices: RwSignal<Vec<Notice>>,
    /// How many notices the bell has not shown yet.
    pub unread: RwSignal<usize>,
    /// Sessions with a toast on screen, newest last.
    pub toasts: RwSignal<Vec<Notice>>,
    /// The last notice number handed out (never reused, also after a clear).
    last_seq: StoredValue<u64>,
}

impl Notices {
    /// Provides an empty store.
    pub fn provide() -> Self {
        let notices = Notices {
            notices: RwSignal::new(vec![]),
            unread: RwSignal::new(0),
            toasts: RwSignal::new(vec![]),
            last_seq: StoredValue::new(0),
        };
        provide_context(notices);
        notices
    }

    /// Records a status change: a notice, and the session's toast.
    pub fn notify(&self, ev: &SessionEvent) {
        self.last_seq.update_value(|s| *s += 1);
        let notice = Notice {
            seq: self.last_seq.get_value(),
            session_id: ev.session_id.clone(),
            name: ev.name.clone(),
            status: ev.status,
            status_info: ev.status_info.clone(),
            at: ev.at,
            warning: ev.warning.clone(),
            commit: ev.commit.clone(),
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
            // errors and idle warnings stay until closed
            notice.status == SessionStatus::Error || notice.warning.is_some(),
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

    /// Forgets every notice (the bell's Clear all).
    pub fn clear(&self) {
        self.notices.set(vec![]);
        self.unread.set(0);
    }
}

/// The store (provided by the shell).
pub fn use_notices() -> Notices {
    expect_context::<Notices>()
}
