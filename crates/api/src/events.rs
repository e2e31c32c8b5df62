//! The in-process event bus: every session status change is published here
//! and fanned out to SSE subscribers (each filters what its caller may see).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use berth_shared::sessions::SessionEvent;
use tokio::sync::broadcast;

/// Events kept for slow subscribers before they miss some (they then refetch).
const CAPACITY: usize = 4096;

/// A broadcast channel of session events; cheap to clone.
#[derive(Debug, Clone)]
pub struct Events {
    tx: broadcast::Sender<SessionEvent>,
    /// Where this replica's own events also go (to the others), if
    /// replicas share the database.
    relay: Arc<std::sync::OnceLock<tokio::sync::mpsc::UnboundedSender<SessionEvent>>>,
    /// Events published so far: what was read before a change is stale.
    published: Arc<AtomicU64>,
}

impl Default for Events {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
            relay: Arc::default(),
            published: Arc::default(),
        }
    }
}

impl Events {
    /// Sends an event to every subscriber (none is fine), and to the other
    /// replicas when they share the database.
    pub fn publish(&self, event: SessionEvent) {
        if let Some(relay) = self.relay.get() {
            let _ = relay.send(event.clone());
        }
        self.publish_here(event);
    }

    /// Sends an event to this process's subscribers only (one another
    /// replica published).
    pub fn publish_here(&self, event: SessionEvent) {
        self.published.fetch_add(1, Ordering::SeqCst);
        let _ = self.tx.send(event);
    }

    /// From now on, every event published here also goes to `relay`
    /// (`replicas`: to the other replicas). Set once.
    pub fn relay_to(&self, relay: tokio::sync::mpsc::UnboundedSender<SessionEvent>) {
        let _ = self.relay.set(relay);
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
