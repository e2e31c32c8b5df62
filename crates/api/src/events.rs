//! The in-process event bus: every session status change is published here
//! and fanned out to SSE subscribers (each filters what its caller may see).
//! When replicas share the database, what one replica must tell the
//! others (its session events, a changed login, a login's outcome) leaves
//! through [`Events::tell_others`] as a [`Note`] (`replicas` carries it);
//! [`Events::flushed`] waits until this replica's notes left, and
//! [`Events::caught_up`] until it heard the notes the others sent before.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use berth_shared::sessions::SessionEvent;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, oneshot};

/// What one replica tells the others.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "note", rename_all = "snake_case")]
pub enum Note {
    /// A session event (published to their subscribers too).
    Session(Box<SessionEvent>),
    /// Some login, token or account changed: their event streams check
    /// their callers again.
    AccountsChanged,
    /// An open web app changed: they serve it too.
    App(AppNote),
    /// Bytes that passed a session's apps and terminals through the
    /// sender since it last said (the idle network rule counts them).
    Traffic {
        /// The session.
        session_id: String,
        /// How many.
        bytes: u64,
        /// When the last passed (ms).
        last_ms: i64,
    },
    /// A commit started, ended, or is to be cancelled.
    Commit(CommitNote),
    /// How many of a kind a user holds open on the sending replica.
    Held {
        /// The replica.
        replica: String,
        /// What.
        kind: crate::held::Kind,
        /// Whose.
        user: String,
        /// How many now.
        count: u32,
    },
    /// A utilization sample the lease holder's idle task took.
    IdleSample {
        /// The session.
        session_id: String,
        /// When.
        at_ms: i64,
        /// Percent per resource.
        values: std::collections::BTreeMap<String, f64>,
        /// The oldest sample its series keeps.
        oldest_ms: i64,
    },
    /// A session gave back a network the sender did not lend.
    NetworkBack {
        /// Its agent.
        agent: Option<String>,
        /// The network.
        id: String,
        /// The session.
        session: String,
    },
    /// A pre-pull's state (the replica running it sends each change).
    PrePull(berth_shared::images::PrePull),
    /// A login's outcome, for their throttles.
    Login {
        /// The address it came from.
        addr: std::net::IpAddr,
        /// The account it named.
        email: String,
        /// Wrong password or account (else: right).
        failed: bool,
    },
    /// A mark the sender sends itself: when it comes back, every note
    /// another replica sent before it has been heard here too.
    Mark {
        /// Its number.
        n: u64,
    },
}

/// Events kept for slow subscribers before they miss some (they then refetch).
const CAPACITY: usize = 4096;

/// A broadcast channel of session events; cheap to clone.
#[derive(Debug, Clone)]
pub struct Events {
    tx: broadcast::Sender<SessionEvent>,
    /// Where this replica's own events also go (to the others), if
    /// replicas share the database.
    relay: Arc<std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<Note>>>,
    /// Notes queued for the other replicas so far, and (its receiver side,
    /// moved by the relay) how many of them were sent.
    queued: Arc<AtomicU64>,
    sent: Arc<tokio::sync::watch::Sender<u64>>,
    /// Events published so far: what was read before a change is stale.
    published: Arc<AtomicU64>,
    /// Callers waiting for a mark (see [`Events::caught_up`]).
    marks: Arc<std::sync::Mutex<Marks>>,
}

/// The marks a replica sends itself, and who waits for each. Callers that
/// come while a mark waits in the queue share it: it leaves after they
/// came, which is all each needs (so a burst of requests costs one
/// `NOTIFY`, not one each).
#[derive(Debug, Default)]
struct Marks {
    /// Callers that came since the last mark left.
    unsent: Vec<oneshot::Sender<()>>,
    /// The mark queued for them, if one is.
    queued: Option<u64>,
    next: u64,
    /// Marks that left, and whom each answers.
    sent: BTreeMap<u64, Vec<oneshot::Sender<()>>>,
}

impl Marks {
    /// A caller comes: the mark to queue for it, if none is queued yet.
    fn wait(&mut self, tx: oneshot::Sender<()>) -> Option<u64> {
        self.unsent.push(tx);
        if self.queued.is_some() {
            return None;
        }
        let n = self.next;
        self.next += 1;
        self.queued = Some(n);
        Some(n)
    }

    /// Mark `n` leaves now: it answers everyone who came before.
    fn leaving(&mut self, n: u64) {
        if self.queued == Some(n) {
            self.queued = None;
        }
        let waiting = std::mem::take(&mut self.unsent);
        self.sent.entry(n).or_default().extend(waiting);
    }

    /// Mark `n` came back: it and every earlier one are answered (this
    /// replica's marks come back in the order they left, so an earlier one
    /// not back by now was lost, and `n` left after it anyway).
    fn back(&mut self, n: u64) {
        let later = self.sent.split_off(&(n + 1));
        for tx in std::mem::replace(&mut self.sent, later)
            .into_values()
            .flatten()
        {
            let _ = tx.send(());
        }
    }
}

impl Default for Events {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
            relay: Arc::default(),
            queued: Arc::default(),
            sent: Arc::new(tokio::sync::watch::channel(0).0),
            published: Arc::default(),
            marks: Arc::default(),
        }
    }
}

impl Events {
    /// Sends an event to every subscriber (none is fine), and to the other
    /// replicas when they share the database.
    pub fn publish(&self, event: SessionEvent) {
        if self.relay.get().is_some() {
            self.tell_others(Note::Session(Box::new(event.clone())));
        }
        self.publish_here(event);
    }

    /// Sends an event to this process's subscribers only (one another
    /// replica published).
    pub fn publish_here(&self, event: SessionEvent) {
        self.published.fetch_add(1, Ordering::SeqCst);
        let _ = self.tx.send(event);
    }

    /// From now on, every note for the other replicas goes to `relay`
    /// (`replicas` sends them). Set once.
    pub fn relay_to(&self, relay: tokio::sync::mpsc::UnboundedSender<Note>) {
        let _ = self.relay.set(relay);
    }

    /// Tells the other replicas, if any.
    pub fn tell_others(&self, note: Note) {
        if let Some(relay) = self.relay.get() {
            self.queued.fetch_add(1, Ordering::SeqCst);
            let _ = relay.send(note);
        }
    }

    /// The relay sent one more note (or gave up on it).
    pub fn note_sent(&self) {
        self.sent.send_modify(|n| *n += 1);
    }

    /// Waits (at most a second) until every note told so far has been
    /// sent to the other replicas: an answer that hands the caller
    /// something another replica must know (an app's code, its pass) is
    /// sent after it.
    pub async fn flushed(&self) {
        if self.relay.get().is_none() {
            return;
        }
        let queued = self.queued.load(Ordering::SeqCst);
        let mut sent = self.sent.subscribe();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(1),
            sent.wait_for(|n| *n >= queued),
        )
        .await;
    }

    /// Waits (at most two seconds) until this replica has heard every note
    /// the others sent before now: a check that counts what happened on
    /// any replica (a login's failures, streams held open) reads it after.
    /// PostgreSQL hands a listener notifications in the order they were
    /// committed, so when a mark this replica sends comes back, everything
    /// committed before it was heard first.
    pub async fn caught_up(&self) {
        if self.relay.get().is_none() {
            return;
        }
        let (tx, rx) = oneshot::channel();
        let queue = self.lock_marks().wait(tx);
        if let Some(n) = queue {
            self.tell_others(Note::Mark { n });
        }
        if tokio::time::timeout(std::time::Duration::from_secs(2), rx)
            .await
            .is_err()
        {
            tracing::warn!("this replica's mark did not come back in time; going on");
        }
    }

    /// The relay sends this replica's mark `n` now.
    pub fn mark_leaving(&self, n: u64) {
        self.lock_marks().leaving(n);
    }

    /// This replica's own mark came back (see [`Events::caught_up`]).
    pub fn mark_back(&self, n: u64) {
        self.lock_marks().back(n);
    }

    fn lock_marks(&self) -> std::sync::MutexGuard<'_, Marks> {
        self.marks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// How many events were published: unchanged means no session changed
    /// status (caches of session views key on it).
    pub fn generation(&self) -> u64 {
        self.published.load(Ordering::SeqCst)
    }

    /// A new subscription, starting now.
    pub fn subscribe(&self) -> broadcast::Receiver<SessionEvent> {
        self.tx.subscribe()
    }
}

/// What replicas tell each other about open web apps, so that any replica
/// behind the balancer serves an app another opened. A credential travels
/// as `(is_login, token)`: a login cookie's token or an API token.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum AppNote {
    /// A web app was opened on host label `label`.
    Opened {
        /// Its session.
        session_id: String,
        /// The app.
        name: String,
        /// The session's owner.
        owner_id: String,
        /// Where its service is reached.
        upstream: std::net::SocketAddr,
        /// The service's port in the container.
        port: u16,
        /// Its host label.
        label: String,
        /// No login needed.
        public: bool,
        /// The session's service secret.
        secret: Option<String>,
    },
    /// One app closed.
    Closed {
        /// Its session.
        session_id: String,
        /// The app.
        name: String,
    },
    /// Every app of a session closed (its end).
    SessionClosed {
        /// The session.
        session_id: String,
    },
    /// Every app of an owner's sessions closed (a disabled account).
    OwnerClosed {
        /// The owner.
        owner_id: String,
    },
    /// A one-time launch code was made.
    Code {
        /// The code.
        code: String,
        /// The app's host label.
        label: String,
        /// Whether the credential is a login (else an API token).
        is_login: bool,
        /// The credential's token.
        token: String,
    },
    /// A launch code was used: it is good nowhere any more.
    CodeUsed {
        /// The code.
        code: String,
    },
    /// A pass (an app's cookie) was made.
    Pass {
        /// The app's host label.
        label: String,
        /// The pass.
        pass: String,
        /// Whether the credential is a login (else an API token).
        is_login: bool,
        /// The credential's token.
        token: String,
    },
}

/// What replicas tell each other about commits (a session saved as an
/// image runs in the replica that was asked; the others know it runs).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "what", rename_all = "snake_case")]
pub enum CommitNote {
    /// A commit began.
    Started {
        /// The session.
        session_id: String,
        /// Its task id.
        task_id: String,
        /// The image's name.
        name: String,
        /// When (ms).
        started_ms: i64,
    },
    /// It ended.
    Ended {
        /// The session.
        session_id: String,
        /// How.
        outcome: berth_shared::images::CommitOutcome,
    },
    /// A forced stop elsewhere asks the replica running it to cancel it.
    Cancel {
        /// The session.
        session_id: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mark_answers_the_callers_that_came_before_it_left_and_no_later_one() {
        let mut m = Marks::default();
        let (a, mut a_rx) = oneshot::channel();
        let (b, mut b_rx) = oneshot::channel();
        let (c, mut c_rx) = oneshot::channel();
        // a and b share the queued mark 0
        assert_eq!(m.wait(a), Some(0));
        assert_eq!(m.wait(b), None);
        m.leaving(0);
        // c came after 0 left: it needs a mark of its own
        assert_eq!(m.wait(c), Some(1));
        m.back(0);
        assert!(a_rx.try_recv().is_ok() && b_rx.try_recv().is_ok());
        assert!(c_rx.try_recv().is_err(), "mark 0 left before c came");
        m.leaving(1);
        m.back(1);
        assert!(c_rx.try_recv().is_ok());
        assert!(m.sent.is_empty() && m.unsent.is_empty());
    }

    #[test]
    fn a_lost_mark_is_answered_by_a_later_one() {
        let mut m = Marks::default();
        let (a, mut a_rx) = oneshot::channel();
        let (b, mut b_rx) = oneshot::channel();
        assert_eq!(m.wait(a), Some(0));
        m.leaving(0);
        assert_eq!(m.wait(b), Some(1));
        m.leaving(1);
        // 0 never comes back; 1 left after it
        m.back(1);
        assert!(a_rx.try_recv().is_ok() && b_rx.try_recv().is_ok());
        assert!(m.sent.is_empty());
    }

    #[test]
    fn every_note_goes_through_json_and_comes_back_the_same() {
        let notes = vec![
            Note::AccountsChanged,
            Note::Mark { n: 7 },
            Note::Login {
                addr: std::net::IpAddr::from([127, 0, 0, 3]),
                email: "a@b.io".into(),
                failed: true,
            },
            Note::App(AppNote::Opened {
                session_id: "s".into(),
                name: "jupyter".into(),
                owner_id: "u".into(),
                upstream: "10.0.0.2:8888".parse().unwrap(),
                port: 8888,
                label: "abc".into(),
                public: false,
                secret: Some("x".into()),
            }),
            Note::App(AppNote::Code {
                code: "c".into(),
                label: "abc".into(),
                is_login: true,
                token: "t".into(),
            }),
            Note::Traffic {
                session_id: "s".into(),
                bytes: 10,
                last_ms: 5,
            },
            Note::Commit(CommitNote::Cancel {
                session_id: "s".into(),
            }),
            Note::Held {
                replica: "r".into(),
                kind: crate::held::Kind::Terminal,
                user: "u".into(),
                count: 2,
            },
        ];
        for note in notes {
            let json = serde_json::to_string(&note).unwrap();
            let back: Note = serde_json::from_str(&json).unwrap();
            assert_eq!(serde_json::to_string(&back).unwrap(), json);
        }
    }
}
