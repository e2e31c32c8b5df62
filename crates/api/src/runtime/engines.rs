//! The engines the server drives, one [`Runtime`] per agent id. The local
//! engine is always there; registered agents are added and removed as
//! admins change them. An id with no engine gets an absent runtime, so a
//! call about it fails as "unreachable" instead of panicking.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::Runtime;

/// The agent id of the local engine.
pub const LOCAL: &str = berth_shared::agents::LOCAL_AGENT;

/// Runtimes by agent id.
#[derive(Debug)]
pub struct Engines {
    local_id: String,
    local: Arc<Runtime>,
    others: RwLock<HashMap<String, Arc<Runtime>>>,
}

impl Engines {
    /// The registry with the local engine as agent `local_id`.
    pub fn new(local_id: impl Into<String>, local: Runtime) -> Self {
        Self {
            local_id: local_id.into(),
            local: Arc::new(local),
            others: RwLock::default(),
        }
    }

    /// The local engine.
    pub fn local(&self) -> &Arc<Runtime> {
        &self.local
    }

    /// The engine of `agent` (the local one for `None`: a session that was
    /// never placed has made nothing anywhere else).
    pub fn of(&self, agent: Option<&str>) -> Arc<Runtime> {
        let Some(agent) = agent.filter(|a| *a != self.local_id) else {
            return self.local.clone();
        };
        let found = self
            .others
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(agent)
            .cloned();
        found.unwrap_or_else(|| Arc::new(Runtime::absent(format!("agent {agent}"))))
    }

    /// Sets (or replaces) the engine of a registered agent.
    pub fn insert(&self, agent: &str, runtime: Runtime) {
        self.others
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(agent.to_string(), Arc::new(runtime));
    }

    /// Forgets an agent's engine.
    pub fn remove(&self, agent: &str) {
        self.others
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(agent);
    }

    /// Every agent with an engine (the local one first) and its runtime.
    pub fn all(&self) -> Vec<(String, Arc<Runtime>)> {
        let mut all = vec![(self.local_id.clone(), self.local.clone())];
        let others = self.others.read().unwrap_or_else(|e| e.into_inner());
        let mut rest: Vec<_> = others.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        rest.sort_by(|a, b| a.0.cmp(&b.0));
        all.extend(rest);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_agent_gets_an_absent_engine_and_none_the_local_one() {
        let e = Engines::new("local", Runtime::new("unix:///l.sock"));
        e.insert("two", Runtime::new("unix:///2.sock"));
        assert_eq!(e.of(None).host(), "unix:///l.sock");
        assert_eq!(e.of(Some("local")).host(), "unix:///l.sock");
        assert_eq!(e.of(Some("two")).host(), "unix:///2.sock");
        assert_eq!(e.of(Some("three")).host(), "agent three");
        e.remove("two");
        assert_eq!(e.of(Some("two")).host(), "agent two");
        let ids: Vec<String> = e.all().into_iter().map(|(id, _)| id).collect();
        assert_eq!(ids, ["local"]);
    }
}
