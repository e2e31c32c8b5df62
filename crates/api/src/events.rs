//! The in-process event bus: every session status change is published here
//! and fanned out to SSE subscribers (each filters what its caller may see).

use berth_shared::sessions::SessionEvent;
use tokio::sync::broadcast;

/// Events kept for slow subscribers before they miss some (they then refetch).
const CAPACITY: usize = 4096;

/// A broadcast channel of session events; cheap to clone.
#[derive(Debug, Clone)]
pub struct Events {
    tx: broadcast::Sender<SessionEvent>,
}

impl Default for Events {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(CAPACITY).0,
        }
    }
}

impl Events {
    /// Sends an event to every subscriber (none is fine).
    pub fn publish(&self, event: SessionEvent) {
        let _ = self.tx.send(event);
    }

    /// A new subscription, starting now.
    pub fn subscribe(&self) -> broadcast::Receiver<SessionEvent> {
        self.tx.subscribe()
    }
}
