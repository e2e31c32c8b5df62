//! The notification store: a notice for every status change of a session
//! the user launched (the bell's list, this browser session), the unread
//! count, and the toasts on screen (one per session, updated in place).
//!
//! The bell's list outlives a reload: the events behind it (the shared
//! `SessionEvent`, the newest [`KEPT`]) and the unread count are kept in
//! the tab's `sessionStorage`, and read back, without toasts, at start.

use berth_shared::images::CommitOutcome;
use berth_shared::sessions::{IdleWarning, SessionEvent, SessionStatus};
use chrono::{DateTime, Utc};
use leptos::prelude::*;

/// How long a toast stays (errors, failed batches and idle warnings stay
/// until closed, replaced, or lifted).
pub const TOAST_MS: u64 = 8_000;

/// The most notices kept (the oldest go first).
pub const KEPT: usize = 100;

/// `sessionStorage` keys.
const EVENTS_KEY: &str = "berth.notices";
const UNREAD_KEY: &str = "berth.notices.unread";
/// The sessions with a toast on screen (read back only after a link from
/// the other build, see `handoff`).
const TOASTS_KEY: &str = "berth.notices.toasts";

/// The tab's `sessionStorage`, when the browser offers one.
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// The kept events and unread count (none when nothing is kept or it is
/// unreadable: the bell then starts empty, as on a first visit).
fn load() -> (Vec<SessionEvent>, usize) {
    let Some(st) = storage() else {
        return (vec![], 0);
    };
    let events = st
        .get_item(EVENTS_KEY)
        .ok()
        .flatten()
        .and_then(|j| serde_json::from_str::<Vec<SessionEvent>>(&j).ok())
        .unwrap_or_default();
    let unread = st
        .get_item(UNREAD_KEY)
        .ok()
        .flatten()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    (events, unread)
}

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
    /// While its image is copied to its agent: bytes sent, and of how many.
    pub pulling: Option<(u64, u64)>,
    /// How its main process ended (a batch's exit code).
    pub exit_code: Option<i64>,
}

impl Notice {
    /// It ended in failure: an error, or a batch whose command failed.
    pub fn failed(&self) -> bool {
        self.status == SessionStatus::Error
            || (self.status == SessionStatus::Terminated
                && self.status_info.as_deref() == Some(berth_shared::sessions::reason::FAILED))
    }

    /// An idle warning that still holds.
    pub fn warns(&self) -> bool {
        self.warning.as_ref().is_some_and(|w| !w.lifted)
    }

    /// When the warned rule ends the session (its clock at the event).
    pub fn ends_at(&self) -> Option<DateTime<Utc>> {
        self.warning
            .as_ref()
            .filter(|w| !w.lifted)
            .map(|w| self.at + chrono::Duration::milliseconds((w.remaining * 1000.0) as i64))
    }
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
    /// The events behind `notices`, as kept in `sessionStorage`.
    events: StoredValue<Vec<SessionEvent>>,
    /// The time, every second (a warning's countdown).
    pub clock: RwSignal<DateTime<Utc>>,
}

impl Notices {
    /// Provides the store, with what this tab kept before a reload.
    pub fn provide() -> Self {
        let (events, unread) = load();
        let notices = Notices {
            notices: RwSignal::new(vec![]),
            unread: RwSignal::new(0),
            toasts: RwSignal::new(vec![]),
            last_seq: StoredValue::new(0),
            events: StoredValue::new(vec![]),
            clock: RwSignal::new(crate::format::now()),
        };
        let clock = notices.clock;
        if let Ok(h) = set_interval_with_handle(
            move || {
                clock.try_set(crate::format::now());
            },
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || h.clear());
        }
        for ev in &events {
            notices.record(ev);
        }
        notices.unread.set(unread.min(events.len()));
        // a link from the other build keeps the toasts on screen: each
        // session's latest notice again
        let path = window().location().pathname().unwrap_or_default();
        if crate::handoff::arrived(&path) {
            let kept = storage()
                .and_then(|st| st.get_item(TOASTS_KEY).ok().flatten())
                .unwrap_or_default();
            for id in kept.split(' ').filter(|id| !id.is_empty()) {
                let latest = notices
                    .notices
                    .with_untracked(|n| n.iter().rev().find(|x| x.session_id == id).cloned());
                if let Some(notice) = latest {
                    notices.show_toast(notice);
                }
            }
        }
        let toasts = notices.toasts;
        Effect::new(move || {
            let ids = toasts.with(|t| {
                t.iter()
                    .map(|x| x.session_id.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            });
            if let Some(st) = storage() {
                let _ = st.set_item(TOASTS_KEY, &ids);
            }
        });
        provide_context(notices);
        notices
    }

    /// Writes the kept events and the unread count to `sessionStorage`.
    fn save(&self) {
        let Some(st) = storage() else { return };
        let json = self
            .events
            .with_value(|e| serde_json::to_string(e).unwrap_or_default());
        // a full storage only costs the list after a reload
        let _ = st.set_item(EVENTS_KEY, &json);
        let _ = st.set_item(UNREAD_KEY, &self.unread.get_untracked().to_string());
    }

    /// Records a status change: a notice, and the session's toast.
    pub fn notify(&self, ev: &SessionEvent) {
        let notice = self.record(ev);
        self.unread.update(|u| *u += 1);
        self.save();
        if notice.warning.as_ref().is_some_and(|w| w.lifted) {
            // used again: its warning goes (the bell keeps both)
            self.toasts
                .update(|t| t.retain(|x| !(x.session_id == notice.session_id && x.warns())));
            return;
        }
        self.show_toast(notice);
    }

    /// The bell was opened: nothing is unread.
    pub fn mark_read(&self) {
        self.unread.set(0);
        self.save();
    }

    /// Adds the notice of an event to the list (bounded), no toast.
    fn record(&self, ev: &SessionEvent) -> Notice {
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
            pulling: ev
                .status_data
                .as_ref()
                .and_then(|d| d.pulling.as_ref())
                .map(|p| (p.bytes, p.total)),
            exit_code: ev.status_data.as_ref().and_then(|d| d.exit_code),
        };
        self.notices.update(|n| {
            n.push(notice.clone());
            let over = n.len().saturating_sub(KEPT);
            n.drain(..over);
        });
        self.events.update_value(|e| {
            e.push(ev.clone());
            let over = e.len().saturating_sub(KEPT);
            e.drain(..over);
        });
        notice
    }

    /// Shows (or updates) the toast of the notice's session.
    pub fn show_toast(&self, notice: Notice) {
        let (id, seq, sticky) = (
            notice.session_id.clone(),
            notice.seq,
            // errors, failures and idle warnings stay until closed
            notice.failed() || notice.warns(),
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
        self.events.set_value(vec![]);
        self.unread.set(0);
        self.save();
    }
}

/// The store (provided by the shell).
pub fn use_notices() -> Notices {
    expect_context::<Notices>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_shared::sessions::IdleRule;
    use chrono::TimeZone;

    fn notice(status: SessionStatus, info: Option<&str>) -> Notice {
        Notice {
            seq: 1,
            session_id: "s".into(),
            name: "n".into(),
            status,
            status_info: info.map(str::to_string),
            at: Utc.timestamp_opt(1_000, 0).unwrap(),
            warning: None,
            commit: None,
            pulling: None,
            exit_code: None,
        }
    }

    #[test]
    fn failures_and_warnings_stay_and_a_warning_knows_its_end() {
        assert!(notice(SessionStatus::Error, None).failed());
        assert!(notice(SessionStatus::Terminated, Some("failed")).failed());
        assert!(!notice(SessionStatus::Terminated, Some("user-requested")).failed());
        assert!(!notice(SessionStatus::Running, None).failed());
        let mut w = notice(SessionStatus::Running, None);
        w.warning = Some(IdleWarning {
            rule: IdleRule::Network,
            remaining: 90.5,
            lifted: false,
        });
        assert!(w.warns());
        assert_eq!(
            w.ends_at(),
            Some(Utc.timestamp_opt(1_090, 500_000_000).unwrap())
        );
        w.warning.as_mut().unwrap().lifted = true;
        assert!(!w.warns() && w.ends_at().is_none());
    }
}
