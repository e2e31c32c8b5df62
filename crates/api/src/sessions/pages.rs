//! Pages of ended sessions, kept serialized. An ended session's view never
//! changes (only live sessions are renamed; status changes are the only
//! other writes, and each is an event), so a page of a finished-only query
//! stays right until the next event: the cache keys on the event bus's
//! generation and serves the stored JSON without touching the database.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use berth_shared::sessions::{SessionStatus, SessionType};
use bytes::Bytes;

/// Most pages kept (they are dropped all at once past it).
const MAX_PAGES: usize = 256;

/// What a page is of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PageKey {
    /// Whose sessions (`None`: everyone's).
    pub owner_id: Option<String>,
    /// The statuses asked for (ended ones only).
    pub statuses: Vec<SessionStatus>,
    /// Interactive or batch only.
    pub session_type: Option<SessionType>,
    /// Page size.
    pub limit: i64,
    /// Rows skipped.
    pub offset: i64,
}

impl PageKey {
    /// Whether pages of this query may be kept: only ended statuses.
    pub fn cacheable(&self) -> bool {
        !self.statuses.is_empty()
            && self
                .statuses
                .iter()
                .all(|s| SessionStatus::FINISHED.contains(s))
    }
}

/// Serialized pages with the event generation they were read at.
#[derive(Debug, Default)]
pub struct Pages {
    pages: Mutex<HashMap<PageKey, (u64, Bytes)>>,
}

impl Pages {
    /// The page, if it was read at `generation`.
    pub fn get(&self, key: &PageKey, generation: u64) -> Option<Bytes> {
        let pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        pages
            .get(key)
            .filter(|(g, _)| *g == generation)
            .map(|(_, b)| b.clone())
    }

    /// Keeps a page read at `generation` (the generation before the read,
    /// so a change during the read makes it stale at once).
    pub fn put(&self, key: PageKey, generation: u64, page: Bytes) {
        let mut pages = self.pages.lock().unwrap_or_else(PoisonError::into_inner);
        if pages.len() >= MAX_PAGES {
            pages.clear();
        }
        pages.insert(key, (generation, page));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(statuses: Vec<SessionStatus>) -> PageKey {
        PageKey {
            owner_id: Some("u".into()),
            statuses,
            session_type: None,
            limit: 50,
            offset: 0,
        }
    }

    #[test]
    fn only_ended_queries_are_kept_and_a_new_generation_misses() {
        assert!(key(SessionStatus::FINISHED.to_vec()).cacheable());
        assert!(!key(SessionStatus::LIVE.to_vec()).cacheable());
        assert!(!key(vec![]).cacheable(), "all statuses include live ones");
        let pages = Pages::default();
        let k = key(SessionStatus::FINISHED.to_vec());
        pages.put(k.clone(), 7, Bytes::from_static(b"[]"));
        assert!(pages.get(&k, 7).is_some());
        assert!(pages.get(&k, 8).is_none());
    }
}
