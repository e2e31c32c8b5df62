//! The in-process event bus: every session status change is published here
//! and fanned out to SSE subscribers (each filters what its caller may see).
//! When replicas share the database, what one replica must tell the
//! others (its session events, a changed login, a login's outcome) leaves
//! through [`Events::tell_others`] as a [`Note`] (`replicas` carries it).

use std::collections::HashMap;
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
    /// Marks sent and not yet back, and the next one's number.
    marks: Arc<std::sync::Mutex<HashMap<u64, oneshot::Sender<()>>>>,
    next_mark: Arc<AtomicU64>,
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
            next_mark: Arc::default(),
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
        let n = self.next_mark.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = oneshot::channel();
        self.lock_marks().insert(n, tx);
        self.tell_others(Note::Mark { n });
        if tokio::time::timeout(std::time::Duration::from_secs(2), rx)
            .await
            .is_err()
        {
            tracing::warn!("this replica's mark did not come back in time; going on");
        }
        self.lock_marks().remove(&n);
    }

    /// This replica's own mark came back (see [`Events::caught_up`]).
    pub fn mark_back(&self, n: u64) {
        if let Some(tx) = self.lock_marks().remove(&n) {
            let _ = tx.send(());
        }
    }

    fn lock_marks(&self) -> std::sync::MutexGuard<'_, HashMap<u64, oneshot::Sender<()>>> {
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
