//! Each session runs on a bridge network of its own, so sessions cannot
//! reach each other while the host (the app proxy) reaches them all.
//!
//! Making a bridge costs the engine ~0.1 s and removing one ~0.2 s, both
//! under a lock that also holds up other launches, so networks are kept
//! for reuse: a session's end hands its network (empty once the containers
//! are removed) back, and the next launch takes it. At most [`KEEP_FREE`]
//! wait; the rest are removed.
//!
//! Which networks are in use is known without the database: a network is
//! *lent* from the moment a launch takes it until its session's end gives
//! it back, and a container records its network in its `berth.network`
//! label, which also covers sessions a previous run of the server started.
//! The reconciler removes any other network of this instance
//! ([`Networks::is_known`]).
//!
//! An engine whose default bridge already keeps containers apart (`dockerd
//! --icc=false`) needs none of this for a one-kernel session: it runs on
//! that bridge, and starts as fast as a plain `docker run` (a container on
//! a user-defined bridge starts ~25% slower, measured with the CLI on
//! Docker 28). Cluster sessions, whose kernels must reach each other, and
//! every session under `--own-networks` still get a network of their own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::runtime::Engines;
use crate::runtime::RuntimeError;

/// Networks kept waiting for the next launch.
pub const KEEP_FREE: usize = 4;

/// How long an engine's answer to "does your default bridge keep
/// containers apart" is trusted before it is asked again.
const ISOLATION_KNOWN_FOR: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
struct State {
    /// Empty networks waiting for a launch, with their agent (`None`: the
    /// local engine).
    free: Vec<(Option<String>, String)>,
    /// Networks a launch took, with the session they serve, until it ends.
    lent: HashMap<String, String>,
    /// Creates under way (their id is not known yet).
    creating: usize,
}

/// The session networks of this server.
#[derive(Debug)]
pub struct Networks {
    state: Mutex<State>,
    /// This server's instance id (the networks' label).
    instance: String,
    /// The range session networks are carved from.
    subnets: ipnet::Ipv4Net,
    /// Per agent: whether its default bridge isolates, and when it said so.
    isolates: Mutex<HashMap<Option<String>, (bool, Instant)>>,
}

/// What a session's end does with its network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Back {
    /// Kept for the next launch.
    Kept,
    /// Not this session's (any more): nothing.
    Ignored,
    /// Removed from the engine.
    Remove,
}

impl State {
    fn take_free(&mut self, agent: Option<&str>, session: &str) -> Option<String> {
        let at = self.free.iter().rposition(|(a, _)| a.as_deref() == agent)?;
        let (_, id) = self.free.remove(at);
        self.lent.insert(id.clone(), session.to_string());
        Some(id)
    }

    fn give_back(&mut self, agent: Option<&str>, id: &str, session: &str) -> Back {
        match self.lent.get(id) {
            Some(owner) if owner == session => {
                self.lent.remove(id);
                let waiting = self.free.iter().filter(|(a, _)| a.as_deref() == agent);
                if waiting.count() < KEEP_FREE {
                    self.free.push((agent.map(str::to_string), id.to_string()));
                    Back::Kept
                } else {
                    Back::Remove
                }
            }
            Some(_) => Back::Ignored,
            None if self.free.iter().any(|(_, f)| f == id) => Back::Ignored,
            None => Back::Remove,
        }
    }
}

impl Networks {
    /// No networks yet; new ones are labelled `instance` and carved from
    /// `subnets`.
    pub fn new(instance: &str, subnets: ipnet::Ipv4Net) -> Self {
        Self {
            state: Mutex::default(),
            instance: instance.to_string(),
            subnets,
            isolates: Mutex::default(),
        }
    }

    /// The network for a launch of `session` with `kernels` kernels on
    /// `agent`: `None` (the engine's default bridge) for one kernel on an
    /// engine whose default bridge isolates, unless `own` asks for a
    /// network of its own anyway; otherwise one taken as [`Self::take`].
    pub async fn for_session(
        &self,
        engines: &Engines,
        agent: Option<&str>,
        session: &str,
        kernels: usize,
        own: bool,
    ) -> Result<Option<String>, RuntimeError> {
        if !own && kernels == 1 && self.default_isolates(engines, agent).await {
            return Ok(None);
        }
        self.take(engines, agent, session).await.map(Some)
    }

    /// Whether `agent`'s default bridge isolates its containers (an engine
    /// that cannot say is taken as not isolating).
    async fn default_isolates(&self, engines: &Engines, agent: Option<&str>) -> bool {
        let key = agent.map(str::to_string);
        let known = self
            .isolates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .copied();
        if let Some((isolates, at)) = known {
            if at.elapsed() < ISOLATION_KNOWN_FOR {
                return isolates;
            }
        }
        let isolates = engines
            .of(agent)
            .default_bridge_isolates()
            .await
            .unwrap_or(false);
        self.isolates
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (isolates, Instant::now()));
        isolates
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // the state stays consistent even if a holder panicked
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A network for `session`'s launch: a free one, or a new one.
    pub async fn take(
        &self,
        engines: &Engines,
        agent: Option<&str>,
        session: &str,
    ) -> Result<String, RuntimeError> {
        {
            let mut st = self.lock();
            if let Some(id) = st.take_free(agent, session) {
                return Ok(id);
            }
            st.creating += 1;
        }
        let made = engines
            .of(agent)
            .create_network(&self.instance, self.subnets)
            .await;
        let mut st = self.lock();
        st.creating -= 1;
        if let Ok(id) = &made {
            st.lent.insert(id.clone(), session.to_string());
        }
        made
    }

    /// `session` no longer uses network `id` (its containers are removed):
    /// kept for the next launch, or removed when enough wait already. A
    /// network lent to another session since, or already back, is left
    /// alone; one from before a restart is removed.
    pub async fn give_back(
        &self,
        engines: &Engines,
        agent: Option<&str>,
        id: String,
        session: &str,
    ) {
        let back = self.lock().give_back(agent, &id, session);
        if back == Back::Remove {
            // one that will not go now is removed by a later reconcile pass
            if let Err(e) = engines.of(agent).remove_network(&id).await {
                tracing::warn!(network = %id, error = %e, "could not remove a network");
            }
        }
    }

    /// Drops a network a failed launch took (it may be what failed):
    /// removed, never lent again.
    pub async fn discard(&self, engines: &Engines, agent: Option<&str>, id: String) {
        self.lock().lent.remove(&id);
        if let Err(e) = engines.of(agent).remove_network(&id).await {
            tracing::warn!(network = %id, error = %e, "could not remove a network");
        }
    }

    /// Removes the networks waiting for a launch (at shutdown).
    pub async fn remove_free(&self, engines: &Engines) {
        let free = std::mem::take(&mut self.lock().free);
        for (agent, id) in free {
            if let Err(e) = engines.of(agent.as_deref()).remove_network(&id).await {
                tracing::warn!(network = %id, error = %e, "could not remove a network");
            }
        }
    }

    /// Whether this process holds the network (free or lent), or may be
    /// about to (a create under way): the reconciler leaves those alone.
    pub fn is_known(&self, id: &str) -> bool {
        let st = self.lock();
        st.creating > 0 || st.lent.contains_key(id) || st.free.iter().any(|(_, f)| f == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_goes_back_to_the_pool_once_and_only_from_its_session() {
        let mut st = State::default();
        st.lent.insert("n1".into(), "s1".into());
        // another session's end never touches it
        assert_eq!(st.give_back(None, "n1", "s2"), Back::Ignored);
        assert_eq!(st.give_back(None, "n1", "s1"), Back::Kept);
        // a second hand-back (two ends racing) changes nothing
        assert_eq!(st.give_back(None, "n1", "s1"), Back::Ignored);
        // a launch on another agent cannot use it
        assert_eq!(st.take_free(Some("two"), "s3"), None);
        // the next launch gets it; the old session's late hand-back cannot take it away
        assert_eq!(st.take_free(None, "s3").as_deref(), Some("n1"));
        assert_eq!(st.give_back(None, "n1", "s1"), Back::Ignored);
        assert_eq!(st.lent.get("n1").map(String::as_str), Some("s3"));
        // one this process never lent (a previous run's) is removed
        assert_eq!(st.give_back(None, "n9", "s1"), Back::Remove);
    }

    #[test]
    fn at_most_keep_free_wait() {
        let mut st = State::default();
        for i in 0..KEEP_FREE + 2 {
            st.lent.insert(format!("n{i}"), format!("s{i}"));
        }
        let backs: Vec<Back> = (0..KEEP_FREE + 2)
            .map(|i| st.give_back(None, &format!("n{i}"), &format!("s{i}")))
            .collect();
        assert_eq!(
            backs.iter().filter(|b| **b == Back::Kept).count(),
            KEEP_FREE
        );
        assert_eq!(backs.iter().filter(|b| **b == Back::Remove).count(), 2);
        assert!(st.lent.is_empty());
    }
}
