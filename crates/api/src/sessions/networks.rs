//! Each session runs on a bridge network of its own, so sessions cannot
//! reach each other while the host (the app proxy) reaches them all.
//!
//! Making a bridge costs the engine ~0.1 s and removing one ~0.2 s, both
//! under a lock that also holds up other launches, so networks are kept
//! for reuse: a session's end hands its network (empty once the containers
//! are removed) back, and the next launch takes it. As many wait as were
//! lent at once on that agent in the last [`DEMAND_WINDOW`] (at least
//! [`KEEP_FREE`], at most [`KEEP_MOST`]), so a burst like the last one
//! finds its networks made; the reconciler's pass removes the ones beyond
//! that once demand falls ([`Networks::trim`]).
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

/// Networks kept waiting for the next launch, whatever the demand.
pub const KEEP_FREE: usize = 4;

/// The most networks kept waiting per agent.
pub const KEEP_MOST: usize = 64;

/// How long a peak of networks lent at once sizes what is kept.
pub const DEMAND_WINDOW: Duration = Duration::from_secs(600);

/// How long an engine's answer to "does your default bridge keep
/// containers apart" is trusted before it is asked again.
const ISOLATION_KNOWN_FOR: Duration = Duration::from_secs(30);

#[derive(Debug, Default)]
struct State {
    /// Empty networks waiting for a launch, with their agent (`None`: the
    /// local engine).
    free: Vec<(Option<String>, String)>,
    /// Networks a launch took, with the session they serve and their
    /// agent, until it ends.
    lent: HashMap<String, (String, Option<String>)>,
    /// Per agent: the most networks lent at once lately, and when.
    peaks: HashMap<Option<String>, (usize, Instant)>,
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
    /// With replicas: tells the others a network this one does not know
    /// came back (the replica that lent it keeps or removes it).
    others: std::sync::OnceLock<NetworkTeller>,
}

/// Tells the other replicas that `session` gave network `id` on `agent`
/// back.
pub struct NetworkTeller(pub Box<dyn Fn(Option<String>, String, String) + Send + Sync>);

impl std::fmt::Debug for NetworkTeller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NetworkTeller")
    }
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
    /// Not known here: from before a restart (removed), or lent by another
    /// replica (told to it).
    Unknown,
}

impl State {
    fn take_free(&mut self, agent: Option<&str>, session: &str, now: Instant) -> Option<String> {
        let at = self.free.iter().rposition(|(a, _)| a.as_deref() == agent)?;
        let (_, id) = self.free.remove(at);
        self.lend(id.clone(), agent, session, now);
        Some(id)
    }

    /// Records network `id` lent to `session`, and the agent's peak.
    fn lend(&mut self, id: String, agent: Option<&str>, session: &str, now: Instant) {
        let agent = agent.map(str::to_string);
        self.lent.insert(id, (session.to_string(), agent.clone()));
        let out = self.lent.values().filter(|(_, a)| *a == agent).count();
        let peak = self.peaks.entry(agent).or_insert((0, now));
        if out >= peak.0 || now.duration_since(peak.1) > DEMAND_WINDOW {
            *peak = (out, now);
        }
    }

    /// How many free networks `agent` keeps now.
    fn keep(&self, agent: Option<&str>, now: Instant) -> usize {
        let recent = self
            .peaks
            .get(&agent.map(str::to_string))
            .filter(|(_, at)| now.duration_since(*at) <= DEMAND_WINDOW)
            .map_or(0, |(n, _)| *n);
        recent.clamp(KEEP_FREE, KEEP_MOST)
    }

    /// The free networks beyond what each agent keeps now, taken out.
    fn beyond_keep(&mut self, now: Instant) -> Vec<(Option<String>, String)> {
        let mut seen: HashMap<Option<String>, usize> = HashMap::new();
        let mut out = Vec::new();
        // the newest-returned are taken first (`take_free`), so the oldest go
        for (agent, id) in std::mem::take(&mut self.free).into_iter().rev() {
            let n = seen.entry(agent.clone()).or_default();
            if *n < self.keep(agent.as_deref(), now) {
                *n += 1;
                self.free.push((agent, id));
            } else {
                out.push((agent, id));
            }
        }
        self.free.reverse();
        out
    }

    fn give_back(&mut self, agent: Option<&str>, id: &str, session: &str, now: Instant) -> Back {
        match self.lent.get(id) {
            Some((owner, _)) if owner == session => {
                self.lent.remove(id);
                let waiting = self.free.iter().filter(|(a, _)| a.as_deref() == agent);
                if waiting.count() < self.keep(agent, now) {
                    self.free.push((agent.map(str::to_string), id.to_string()));
                    Back::Kept
                } else {
                    Back::Remove
                }
            }
            Some(_) => Back::Ignored,
            None if self.free.iter().any(|(_, f)| f == id) => Back::Ignored,
            None => Back::Unknown,
        }
    }
}

/// Removes network `id` from `agent`'s engine; one that will not go now
/// is left to a later reconcile pass.
async fn remove(engines: &Engines, agent: Option<&str>, id: &str) {
    if let Err(e) = engines.of(agent).remove_network(id).await {
        tracing::warn!(network = %id, error = %e, "could not remove a network");
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
            others: std::sync::OnceLock::new(),
        }
    }

    /// Tells networks this replica does not know, given back, to the
    /// others from now on (set once).
    pub fn tell_others_through(&self, teller: NetworkTeller) {
        let _ = self.others.set(teller);
    }

    /// Another replica's session gave back a network: kept or removed if
    /// this replica lent it, else left alone.
    pub async fn heard_back(
        &self,
        engines: &Engines,
        agent: Option<&str>,
        id: String,
        session: &str,
    ) {
        let back = self.lock().give_back(agent, &id, session, Instant::now());
        if back == Back::Remove {
            remove(engines, agent, &id).await;
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
            if let Some(id) = st.take_free(agent, session, Instant::now()) {
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
            st.lend(id.clone(), agent, session, Instant::now());
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
        let back = self.lock().give_back(agent, &id, session, Instant::now());
        if back == Back::Unknown {
            if let Some(tell) = self.others.get() {
                (tell.0)(agent.map(str::to_string), id, session.to_string());
                return;
            }
        }
        if matches!(back, Back::Remove | Back::Unknown) {
            remove(engines, agent, &id).await;
        }
    }

    /// Drops a network a failed launch took (it may be what failed):
    /// removed, never lent again.
    pub async fn discard(&self, engines: &Engines, agent: Option<&str>, id: String) {
        self.lock().lent.remove(&id);
        remove(engines, agent, &id).await;
    }

    /// Removes the free networks beyond what recent demand keeps (the
    /// reconciler's pass calls it).
    pub async fn trim(&self, engines: &Engines) {
        let beyond = self.lock().beyond_keep(Instant::now());
        for (agent, id) in beyond {
            remove(engines, agent.as_deref(), &id).await;
        }
    }

    /// Removes the networks waiting for a launch (at shutdown).
    pub async fn remove_free(&self, engines: &Engines) {
        let free = std::mem::take(&mut self.lock().free);
        for (agent, id) in free {
            remove(engines, agent.as_deref(), &id).await;
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

    fn lent(st: &mut State, id: &str, session: &str, now: Instant) {
        st.lend(id.into(), None, session, now);
    }

    #[test]
    fn a_network_goes_back_to_the_pool_once_and_only_from_its_session() {
        let now = Instant::now();
        let mut st = State::default();
        lent(&mut st, "n1", "s1", now);
        // another session's end never touches it
        assert_eq!(st.give_back(None, "n1", "s2", now), Back::Ignored);
        assert_eq!(st.give_back(None, "n1", "s1", now), Back::Kept);
        // a second hand-back (two ends racing) changes nothing
        assert_eq!(st.give_back(None, "n1", "s1", now), Back::Ignored);
        // a launch on another agent cannot use it
        assert_eq!(st.take_free(Some("two"), "s3", now), None);
        // the next launch gets it; the old session's late hand-back cannot take it away
        assert_eq!(st.take_free(None, "s3", now).as_deref(), Some("n1"));
        assert_eq!(st.give_back(None, "n1", "s1", now), Back::Ignored);
        assert_eq!(st.lent.get("n1").map(|(s, _)| s.as_str()), Some("s3"));
        // one this process never lent (a previous run's) is removed
        assert_eq!(st.give_back(None, "n9", "s1", now), Back::Unknown);
    }

    #[test]
    fn at_most_keep_free_wait_without_demand() {
        let now = Instant::now();
        let mut st = State::default();
        let mut backs = Vec::new();
        for i in 0..KEEP_FREE + 2 {
            lent(&mut st, &format!("n{i}"), &format!("s{i}"), now);
            backs.push((i, format!("n{i}")));
        }
        // no recent demand to size the pool by (as after the window)
        st.peaks.clear();
        let backs: Vec<Back> = backs
            .iter()
            .map(|(i, n)| st.give_back(None, n, &format!("s{i}"), now))
            .collect();
        assert_eq!(
            backs.iter().filter(|b| **b == Back::Kept).count(),
            KEEP_FREE
        );
        assert_eq!(backs.iter().filter(|b| **b == Back::Remove).count(), 2);
        assert!(st.lent.is_empty());
    }

    #[test]
    fn a_burst_keeps_its_networks_for_the_next_burst_then_they_go() {
        let now = Instant::now();
        let mut st = State::default();
        let burst = 50;
        for i in 0..burst {
            lent(&mut st, &format!("n{i}"), &format!("s{i}"), now);
        }
        for i in 0..burst {
            assert_eq!(
                st.give_back(None, &format!("n{i}"), &format!("s{i}"), now),
                Back::Kept
            );
        }
        // the next burst finds every network made
        let second: Vec<String> = (0..burst)
            .map(|i| {
                st.take_free(None, &format!("t{i}"), now)
                    .expect("a made network")
            })
            .collect();
        assert!(st.take_free(None, "one-more", now).is_none());
        for (i, n) in second.iter().enumerate() {
            assert_eq!(st.give_back(None, n, &format!("t{i}"), now), Back::Kept);
        }
        // the same demand within the window: nothing beyond what is kept
        assert!(st.beyond_keep(now).is_empty());
        assert_eq!(st.free.len(), burst);
        // once the window has passed without such a burst, all but a few go
        let later = now + DEMAND_WINDOW + Duration::from_secs(1);
        assert_eq!(st.beyond_keep(later).len(), burst - KEEP_FREE);
        assert_eq!(st.free.len(), KEEP_FREE);
        // another agent's networks are counted apart
        st.lend("m1".into(), Some("two"), "u1", later);
        assert_eq!(st.give_back(Some("two"), "m1", "u1", later), Back::Kept);
        assert_eq!(st.free.len(), KEEP_FREE + 1);
        assert!(st.beyond_keep(later).is_empty());
    }

    #[test]
    fn no_more_than_keep_most_wait() {
        let now = Instant::now();
        let mut st = State::default();
        let n = KEEP_MOST + 10;
        for i in 0..n {
            lent(&mut st, &format!("n{i}"), &format!("s{i}"), now);
        }
        let kept = (0..n)
            .filter(|i| st.give_back(None, &format!("n{i}"), &format!("s{i}"), now) == Back::Kept)
            .count();
        assert_eq!(kept, KEEP_MOST);
    }
}
