//! The scheduler's decision core: a snapshot in, placements and reasons out.
//! No I/O and no clock of its own, so it is unit- and property-tested and
//! benchmarked on its own. The snapshot's types are in `snapshot.rs`, the
//! fit checks in `fit.rs`, the agents' order by free CPU in `index.rs`.
//!
//! Order: oldest pending session first within the whole snapshot (FIFO per
//! resource group). A session that cannot be placed does not block the ones
//! behind it (no head-of-line blocking: a small session starts when it fits,
//! even if a big one waits) — until it has waited `aging_ms` for room. From
//! then on no later session of its group is placed while it waits, so the
//! capacity that frees up collects for it and it cannot starve. Only a wait
//! for room counts: a session held by its start time, its owner's policy or
//! a designated agent never holds others back.
//!
//! The unit and property tests that pin it sit below the code.

use std::collections::HashMap;

use berth_shared::sessions::CheckFailure;

use super::fit::{fits, hold, open_for, shortfall};
use super::index::CpuIndex;
pub use super::snapshot::{Agent, Decision, Failed, Keypair, Pending, Snapshot, Strategy};

/// Places `p` among `candidates` (taking what it holds from `agents`): the
/// agent of each kernel, main first; or, when it does not fit, the agent
/// that came closest (to explain the wait), with nothing taken.
///
/// Single-node: all kernels on the best agent that has room for all.
/// Multi-node: kernel by kernel, each on the best agent that has room for
/// one, preferring agents that hold fewer of its kernels so far (so they
/// spread over agents); all or nothing.
fn place(
    p: &Pending,
    candidates: &[usize],
    agents: &mut [Agent],
    strategy: Strategy,
) -> Result<Vec<usize>, Option<usize>> {
    let (steps, per_step) = if p.multi_node {
        (p.kernels.max(1), 1)
    } else {
        (1, p.kernels.max(1))
    };
    let mut picked: Vec<usize> = Vec::with_capacity(steps as usize);
    for _ in 0..steps {
        let mut chosen: Option<usize> = None;
        let mut closest: Option<usize> = None;
        let used = |i: usize, picked: &[usize]| picked.iter().filter(|&&j| j == i).count();
        for &i in candidates {
            let a = &agents[i];
            if fits(p, per_step, a) {
                let better = chosen.is_none_or(|c| {
                    let (mine, theirs) = (used(i, &picked), used(c, &picked));
                    mine < theirs
                        || (mine == theirs
                            && match strategy {
                                Strategy::Dispersed => a.cpu_free > agents[c].cpu_free,
                                Strategy::Concentrated => a.cpu_free < agents[c].cpu_free,
                            })
                });
                if better {
                    chosen = Some(i);
                }
            } else if closest.is_none_or(|c| open_for(p, a) > open_for(p, &agents[c])) {
                closest = Some(i);
            }
        }
        match chosen {
            Some(i) => {
                hold(p, per_step, &mut agents[i], 1.0);
                picked.push(i);
            }
            None => {
                for &i in &picked {
                    hold(p, per_step, &mut agents[i], -1.0);
                }
                return Err(closest);
            }
        }
    }
    Ok(if p.multi_node {
        picked
    } else {
        vec![picked[0]; p.kernels.max(1) as usize]
    })
}

/// Decides a round: which pending sessions go where, and why the others
/// wait. A session of one agent that names none (most of them) finds its
/// agent through its group's index by free CPU; a multi-node cluster or a
/// designated agent looks at each candidate.
pub fn schedule(snapshot: &Snapshot, strategy: Strategy) -> Vec<Decision> {
    schedule_with(snapshot, strategy, true)
}

/// [`schedule`] looking at every agent of the group for every session:
/// the reference the index is checked against (same decisions), and
/// measured against by the bench.
pub fn schedule_by_scan(snapshot: &Snapshot, strategy: Strategy) -> Vec<Decision> {
    schedule_with(snapshot, strategy, false)
}

fn schedule_with(snapshot: &Snapshot, strategy: Strategy, indexed: bool) -> Vec<Decision> {
    let mut agents = snapshot.agents.clone();
    let mut by_group: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut index: HashMap<&str, CpuIndex> = HashMap::new();
    for (i, a) in snapshot.agents.iter().enumerate() {
        by_group
            .entry(a.resource_group.as_str())
            .or_default()
            .push(i);
        if indexed {
            index
                .entry(a.resource_group.as_str())
                .or_default()
                .insert(i, a.cpu_free);
        }
    }
    let mut keypairs = snapshot.keypairs.clone();
    let no_limits = Keypair::default();
    let mut out = Vec::with_capacity(snapshot.pending.len());
    // how many of each group wait so far, in creation order
    let mut waiting: HashMap<&str, u32> = HashMap::new();
    // groups whose line is held by a session that waited too long for room,
    // with how long it has waited (ms)
    let mut held: HashMap<&str, i64> = HashMap::new();
    for p in &snapshot.pending {
        let mut failed = Vec::new();
        if let Some(&waited) = held.get(p.resource_group.as_str()) {
            failed.push(Failed::new(
                "fifo",
                CheckFailure::BehindOlder {
                    waited_secs: (waited / 1000).max(0) as u64,
                },
            ));
        }
        if let Some(t) = p.starts_at {
            if t > snapshot.now {
                // the time itself, not "N s from now": the reason changes
                // only when its meaning does (no rewrite and event each tick)
                let at = chrono::DateTime::from_timestamp_millis(t).unwrap_or_default();
                failed.push(Failed::new("reserved_time", CheckFailure::StartTime { at }));
            }
        }
        // a cluster counts against its owner's policy with all its kernels
        let all = f64::from(p.kernels.max(1));
        let all_mem = p.mem.saturating_mul(u64::from(p.kernels.max(1)));
        if snapshot.missing_images.contains(&p.image) {
            failed.push(Failed::new(
                "image",
                CheckFailure::ImageMissing {
                    image: p.image.clone(),
                },
            ));
        }
        let kp = keypairs.get(&p.access_key).unwrap_or(&no_limits);
        if kp.max_sessions > 0 && kp.sessions >= kp.max_sessions {
            failed.push(Failed::new(
                "concurrency",
                CheckFailure::Concurrency {
                    max: kp.max_sessions,
                },
            ));
        }
        if kp.max_cpu > 0.0 && kp.cpu + p.cpu * all > kp.max_cpu + 1e-6 {
            failed.push(Failed::new(
                "keypair_resource_limit",
                CheckFailure::PolicyCpu {
                    max: kp.max_cpu,
                    held: kp.cpu,
                    asked: p.cpu * all,
                },
            ));
        }
        if kp.max_mem > 0 && kp.mem + all_mem > kp.max_mem {
            failed.push(Failed::new(
                "keypair_resource_limit",
                CheckFailure::PolicyMemory {
                    max: kp.max_mem,
                    held: kp.mem,
                    asked: all_mem,
                },
            ));
        }
        let group_agents: &[usize] = by_group
            .get(p.resource_group.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let designated: Vec<usize>;
        let candidates: &[usize] = match &p.agent {
            Some(d) => {
                designated = group_agents
                    .iter()
                    .copied()
                    .filter(|&i| agents[i].id == *d)
                    .collect();
                &designated
            }
            None => group_agents,
        };
        let strategy = snapshot
            .strategies
            .get(&p.resource_group)
            .copied()
            .unwrap_or(strategy);
        let per_step = if p.multi_node { 1 } else { p.kernels.max(1) };
        let mut placed = None;
        if candidates.is_empty() {
            let group = p.resource_group.clone();
            failed.push(match &p.agent {
                Some(d) => Failed::new(
                    "designated_agent",
                    CheckFailure::AgentNotInGroup {
                        agent: d.clone(),
                        group,
                    },
                ),
                None => Failed::new("capacity", CheckFailure::NoAgents { group }),
            });
        } else {
            let outcome = match index.get_mut(p.resource_group.as_str()) {
                Some(idx) if p.agent.is_none() && !p.multi_node => {
                    match idx.pick(p, per_step, &agents, strategy) {
                        Some(i) => {
                            hold(p, per_step, &mut agents[i], 1.0);
                            idx.update(i, agents[i].cpu_free);
                            Ok(vec![i; per_step as usize])
                        }
                        None => Err(idx.closest(p, &agents).or_else(|| {
                            candidates.iter().copied().reduce(|c, i| {
                                if open_for(p, &agents[i]) > open_for(p, &agents[c]) {
                                    i
                                } else {
                                    c
                                }
                            })
                        })),
                    }
                }
                _ => {
                    let r = place(p, candidates, &mut agents, strategy);
                    if let (Ok(kernels), Some(idx)) = (&r, index.get_mut(p.resource_group.as_str()))
                    {
                        for &i in kernels {
                            idx.update(i, agents[i].cpu_free);
                        }
                    }
                    r
                }
            };
            match outcome {
                Ok(kernels) if failed.is_empty() => placed = Some(kernels),
                // it would fit, but another check holds it: give it back
                Ok(kernels) => {
                    if p.multi_node {
                        for &i in &kernels {
                            hold(p, 1, &mut agents[i], -1.0);
                        }
                    } else {
                        hold(p, per_step, &mut agents[kernels[0]], -1.0);
                    }
                    if let Some(idx) = index.get_mut(p.resource_group.as_str()) {
                        for &i in &kernels {
                            idx.update(i, agents[i].cpu_free);
                        }
                    }
                }
                Err(closest) => {
                    let name = if p.agent.is_some() {
                        "designated_agent"
                    } else {
                        "capacity"
                    };
                    if let Some(c) = closest {
                        failed.push(Failed::new(name, shortfall(p, per_step, &agents[c])));
                    }
                }
            }
        }
        match placed {
            Some(kernels) => {
                let k = keypairs.entry(p.access_key.clone()).or_default();
                k.sessions += 1;
                k.cpu += p.cpu * all;
                k.mem += p.mem.saturating_mul(u64::from(p.kernels.max(1)));
                out.push(Decision::Place {
                    session: p.id.clone(),
                    agent: agents[kernels[0]].id.clone(),
                    kernels: kernels.iter().map(|&i| agents[i].id.clone()).collect(),
                });
            }
            _ => {
                let waited = snapshot.now.saturating_sub(p.created_at);
                let for_room_only = !failed.is_empty()
                    && failed
                        .iter()
                        .all(|f| f.name == "capacity" || f.name == "fifo");
                if snapshot.aging_ms > 0
                    && waited >= snapshot.aging_ms
                    && for_room_only
                    && p.agent.is_none()
                {
                    held.entry(p.resource_group.as_str()).or_insert(waited);
                }
                let line = waiting.entry(p.resource_group.as_str()).or_default();
                *line += 1;
                out.push(Decision::Wait {
                    session: p.id.clone(),
                    position: *line,
                    failed,
                })
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::Strategy;
    use super::*;
    use proptest::prelude::{any, prop, prop_assert, prop_assert_eq, proptest};
    use std::collections::{BTreeMap, HashSet};

    const GIB: u64 = 1 << 30;

    fn agent(id: &str, cpu: f64, mem_gib: u64) -> Agent {
        Agent {
            id: id.into(),
            resource_group: "default".into(),
            alive: true,
            schedulable: true,
            cpu_free: cpu,
            mem_free: mem_gib * GIB,
            accel_free: BTreeMap::new(),
            sees_storage: true,
        }
    }

    fn pending(id: &str, cpu: f64, mem_gib: u64) -> Pending {
        Pending {
            id: id.into(),
            resource_group: "default".into(),
            access_key: "AK".into(),
            cpu,
            mem: mem_gib * GIB,
            accelerators: BTreeMap::new(),
            kernels: 1,
            multi_node: false,
            image: "img".into(),
            agent: None,
            starts_at: None,
            created_at: 0,
            needs_storage: false,
        }
    }

    fn cluster(id: &str, cpu: f64, kernels: u32, multi_node: bool) -> Pending {
        Pending {
            kernels,
            multi_node,
            ..pending(id, cpu, 1)
        }
    }

    #[test]
    fn a_session_with_folders_goes_only_where_the_storage_is_seen_and_says_so_when_it_waits() {
        let blind = |id: &str, cpu: f64| Agent {
            sees_storage: false,
            ..agent(id, cpu, 8)
        };
        let with_folders = |id: &str, cpu: f64| Pending {
            needs_storage: true,
            ..pending(id, cpu, 1)
        };
        // the freest agent does not see the storage: the one that does
        // takes it, and a session without folders may still go anywhere
        let d = schedule(
            &snap(
                vec![with_folders("f", 1.0), pending("plain", 1.0, 1)],
                vec![blind("far", 8.0), agent("near", 2.0, 8)],
            ),
            Strategy::Dispersed,
        );
        assert!(
            matches!(&d[0], Decision::Place { agent, .. } if agent == "near"),
            "{d:?}"
        );
        assert!(
            matches!(&d[1], Decision::Place { agent, .. } if agent == "far"),
            "{d:?}"
        );
        // only blind agents: it waits, and says which and why
        let d = schedule(
            &snap(vec![with_folders("f", 1.0)], vec![blind("far", 8.0)]),
            Strategy::Dispersed,
        );
        match &d[0] {
            Decision::Wait { failed, .. } => assert_eq!(
                failed[0].why,
                Some(CheckFailure::NoStorage {
                    agent: "far".into()
                }),
                "{failed:?}"
            ),
            other => panic!("placed: {other:?}"),
        }
        // an agent that sees it but is full explains the wait before a
        // blind one with room
        let d = schedule(
            &snap(
                vec![with_folders("f", 4.0)],
                vec![blind("far", 8.0), agent("near", 2.0, 8)],
            ),
            Strategy::Dispersed,
        );
        match &d[0] {
            Decision::Wait { failed, .. } => assert!(
                matches!(&failed[0].why, Some(CheckFailure::Short { agent, .. }) if agent == "near"),
                "{failed:?}"
            ),
            other => panic!("placed: {other:?}"),
        }
    }

    fn kernels_of(d: &Decision) -> Vec<String> {
        match d {
            Decision::Place { kernels, .. } => kernels.clone(),
            other => panic!("not placed: {other:?}"),
        }
    }

    #[test]
    fn a_single_node_cluster_needs_room_for_all_its_kernels_on_one_agent() {
        let agents = vec![agent("a", 2.0, 8), agent("b", 2.0, 8)];
        // 3 × 1 CPU fits on neither agent alone
        let d = schedule(
            &snap(vec![cluster("c", 1.0, 3, false)], agents.clone()),
            Strategy::Dispersed,
        );
        assert_eq!(
            failed_of(&d[0]),
            [("capacity", "needs 3 CPU, agent a has 2 free".to_string())]
        );
        let d = schedule(
            &snap(vec![cluster("c", 1.0, 2, false)], agents),
            Strategy::Dispersed,
        );
        assert_eq!(kernels_of(&d[0]), ["a", "a"]);
    }

    #[test]
    fn a_multi_node_cluster_spreads_and_is_placed_all_or_nothing() {
        let agents = vec![agent("a", 2.0, 8), agent("b", 2.0, 8), agent("c", 1.0, 8)];
        // spread over agents, even when packing is the strategy
        let d = schedule(
            &snap(vec![cluster("m", 1.0, 3, true)], agents.clone()),
            Strategy::Concentrated,
        );
        let mut on = kernels_of(&d[0]);
        on.sort();
        assert_eq!(on, ["a", "b", "c"]);
        // 6 kernels of 1 CPU do not fit in 5 free: nothing is taken, so a
        // smaller session behind it gets the room
        let d = schedule(
            &snap(
                vec![cluster("big", 1.0, 6, true), pending("small", 2.0, 1)],
                agents,
            ),
            Strategy::Dispersed,
        );
        assert!(matches!(d[0], Decision::Wait { .. }), "{d:?}");
        assert_eq!(kernels_of(&d[1]), ["a"]);
    }

    fn snap(pending: Vec<Pending>, agents: Vec<Agent>) -> Snapshot {
        Snapshot {
            now: 1_000_000,
            pending,
            agents,
            keypairs: HashMap::new(),
            aging_ms: 0,
            strategies: HashMap::new(),
            missing_images: HashSet::new(),
        }
    }

    fn failed_of(d: &Decision) -> Vec<(&str, String)> {
        match d {
            Decision::Wait { failed, .. } => failed
                .iter()
                .map(|f| (f.name.as_str(), f.msg.clone()))
                .collect(),
            Decision::Place { .. } => vec![],
        }
    }

    #[test]
    fn each_group_queues_its_waiting_sessions_in_creation_order() {
        let mut other = pending("o1", 8.0, 1);
        other.resource_group = "gpu".into();
        let s = snap(
            vec![
                pending("w1", 4.0, 1),
                pending("fits", 1.0, 1),
                other,
                pending("w2", 4.0, 1),
            ],
            vec![agent("local", 2.0, 8)],
        );
        let lines: Vec<_> = schedule(&s, Strategy::Dispersed)
            .iter()
            .filter_map(|d| match d {
                Decision::Wait {
                    session, position, ..
                } => Some((session.clone(), *position)),
                Decision::Place { .. } => None,
            })
            .collect();
        // a placed one leaves the line; another group has its own line
        assert_eq!(
            lines,
            [("w1".into(), 1), ("o1".into(), 1), ("w2".into(), 2)]
        );
    }

    #[test]
    fn a_session_that_waited_too_long_for_room_is_no_longer_overtaken() {
        let mut big = pending("big", 4.0, 1);
        big.created_at = 0;
        let mut small = pending("small", 1.0, 1);
        small.created_at = 900_000;
        let mut s = snap(vec![big, small], vec![agent("local", 2.0, 8)]);
        s.now = 1_000_000;
        // young: the small one overtakes (no head-of-line blocking)
        s.aging_ms = 2_000_000;
        let d = schedule(&s, Strategy::Dispersed);
        assert!(matches!(d[1], Decision::Place { .. }), "{d:?}");
        // aged: the small one waits behind it, saying why
        s.aging_ms = 300_000;
        let d = schedule(&s, Strategy::Dispersed);
        assert_eq!(
            failed_of(&d[1]),
            [(
                "fifo",
                "an older session of its group has waited 1000 s for room and goes first"
                    .to_string()
            )]
        );
        // a session held by its start time or a chosen agent holds no one back
        let mut s2 = s.clone();
        s2.pending[0].starts_at = Some(2_000_000);
        assert!(matches!(
            schedule(&s2, Strategy::Dispersed)[1],
            Decision::Place { .. }
        ));
        let mut s3 = s.clone();
        s3.pending[0].agent = Some("local".into());
        assert!(matches!(
            schedule(&s3, Strategy::Dispersed)[1],
            Decision::Place { .. }
        ));
    }

    #[test]
    fn a_group_with_a_strategy_of_its_own_uses_it() {
        let mut s = snap(
            vec![pending("p", 1.0, 1)],
            vec![agent("roomy", 4.0, 8), agent("snug", 2.0, 8)],
        );
        let place = |s: &Snapshot| match &schedule(s, Strategy::Dispersed)[0] {
            Decision::Place { agent, .. } => agent.clone(),
            d => panic!("{d:?}"),
        };
        assert_eq!(place(&s), "roomy");
        s.strategies
            .insert("default".into(), Strategy::Concentrated);
        assert_eq!(place(&s), "snug");
    }

    #[test]
    fn places_what_fits_and_explains_the_rest() {
        let s = snap(
            vec![
                pending("a", 1.0, 1),
                pending("big", 4.0, 1),
                pending("b", 0.5, 1),
            ],
            vec![agent("local", 1.5, 8)],
        );
        let d = schedule(&s, Strategy::Dispersed);
        assert_eq!(
            d[0],
            Decision::Place {
                session: "a".into(),
                agent: "local".into(),
                kernels: vec!["local".into()],
            }
        );
        assert_eq!(
            failed_of(&d[1]),
            [(
                "capacity",
                "needs 4 CPU, agent local has 0.5 free".to_string()
            )]
        );
        // no head-of-line blocking
        assert_eq!(
            d[2],
            Decision::Place {
                session: "b".into(),
                agent: "local".into(),
                kernels: vec!["local".into()],
            }
        );
    }

    #[test]
    fn memory_and_accelerators() {
        let mut a = agent("gpu1", 8.0, 2);
        a.accel_free.insert("cuda.device".into(), 1.0);
        let mut p = pending("p", 1.0, 1);
        p.accelerators.insert("cuda.device".into(), 2.0);
        let d = schedule(
            &snap(vec![p, pending("m", 1.0, 4)], vec![a]),
            Strategy::Dispersed,
        );
        assert_eq!(
            failed_of(&d[0]),
            [(
                "capacity",
                "needs 2 cuda.device, agent gpu1 has 1 free".to_string()
            )]
        );
        assert_eq!(
            failed_of(&d[1]),
            [(
                "capacity",
                "needs 4 GiB memory, agent gpu1 has 2 GiB free".to_string()
            )]
        );
    }

    #[test]
    fn start_time_policy_and_designated_agent() {
        let mut later = pending("later", 1.0, 1);
        later.starts_at = Some(1_000_000 + 60_000);
        let mut pinned = pending("pinned", 1.0, 1);
        pinned.agent = Some("other".into());
        let mut s = snap(
            vec![later, pinned, pending("x", 1.0, 1), pending("y", 1.0, 1)],
            vec![agent("local", 8.0, 8)],
        );
        s.keypairs.insert(
            "AK".into(),
            Keypair {
                max_sessions: 1,
                ..Default::default()
            },
        );
        let d = schedule(&s, Strategy::Dispersed);
        assert_eq!(
            failed_of(&d[0])[0],
            (
                "reserved_time",
                "waits for its start time (1970-01-01T00:17:40Z)".to_string()
            )
        );
        assert_eq!(failed_of(&d[1])[0].0, "designated_agent");
        assert!(matches!(d[2], Decision::Place { .. }));
        assert_eq!(
            failed_of(&d[3]),
            [(
                "concurrency",
                "you cannot run more than 1 sessions at once".to_string()
            )]
        );
    }

    #[test]
    fn strategies_pick_different_agents() {
        let agents = vec![agent("small", 2.0, 8), agent("large", 8.0, 8)];
        let place = |st| match &schedule(&snap(vec![pending("p", 1.0, 1)], agents.clone()), st)[0] {
            Decision::Place { agent, .. } => agent.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(place(Strategy::Dispersed), "large");
        assert_eq!(place(Strategy::Concentrated), "small");
    }

    #[test]
    fn lost_agents_get_nothing() {
        let mut a = agent("local", 8.0, 8);
        a.alive = false;
        let d = schedule(
            &snap(vec![pending("p", 1.0, 1)], vec![a]),
            Strategy::Dispersed,
        );
        assert_eq!(
            failed_of(&d[0]),
            [("capacity", "agent local is not reachable".to_string())]
        );
    }

    #[test]
    fn a_session_whose_image_no_engine_has_waits_and_says_so() {
        let mut s = snap(
            vec![pending("gone", 1.0, 1), pending("here", 1.0, 1)],
            vec![agent("a", 8.0, 8)],
        );
        s.pending[0].image = "lost:1".into();
        s.missing_images.insert("lost:1".into());
        let d = schedule(&s, Strategy::Dispersed);
        assert_eq!(
            failed_of(&d[0]),
            [(
                "image",
                "image lost:1 is on no agent; it waits until one has it".to_string()
            )]
        );
        assert_eq!(kernels_of(&d[1]), ["a"]);
    }

    #[test]
    fn drained_agents_get_nothing_and_say_so() {
        let mut a = agent("big", 8.0, 8);
        a.schedulable = false;
        let d = schedule(
            &snap(vec![pending("p", 1.0, 1)], vec![a.clone()]),
            Strategy::Dispersed,
        );
        assert_eq!(
            failed_of(&d[0]),
            [(
                "capacity",
                "agent big is drained: it takes no new sessions".to_string()
            )]
        );
        // an open agent beside it takes the session, though it has less
        let d = schedule(
            &snap(vec![pending("p", 1.0, 1)], vec![a, agent("small", 2.0, 8)]),
            Strategy::Dispersed,
        );
        assert!(matches!(&d[0], Decision::Place { agent, .. } if agent == "small"));
    }

    proptest! {
        /// Whatever the input, no agent is given more than it has, nothing
        /// goes to a LOST or drained agent, and every pending session gets
        /// exactly one decision.
        #[test]
        fn never_overcommits(
            agents in prop::collection::vec((0.0f64..16.0, 0u64..64, 0u8..4), 1..6),
            pend in prop::collection::vec((0.1f64..8.0, 0u64..32, 1u32..4, any::<bool>()), 0..40),
            concentrated in any::<bool>(),
        ) {
            let agents: Vec<Agent> = agents.iter().enumerate().map(|(i, (c, m, state))| Agent {
                alive: *state != 1,
                schedulable: *state != 2,
                sees_storage: *state != 3,
                ..agent(&format!("a{i}"), *c, *m)
            }).collect();
            let pending: Vec<Pending> = pend.iter().enumerate().map(|(i, (c, m, k, multi))| Pending {
                kernels: *k,
                multi_node: *multi,
                needs_storage: i % 3 == 0,
                ..pending(&format!("p{i}"), *c, *m)
            }).collect();
            let s = snap(pending.clone(), agents.clone());
            let st = if concentrated { Strategy::Concentrated } else { Strategy::Dispersed };
            let d = schedule(&s, st);
            prop_assert_eq!(d.len(), pending.len());
            for a in &agents {
                let (mut c, mut m) = (0.0, 0u64);
                for (dec, p) in d.iter().zip(&pending) {
                    if let Decision::Place { agent, session, kernels } = dec {
                        prop_assert_eq!(session, &p.id);
                        prop_assert_eq!(kernels.len() as u32, p.kernels);
                        prop_assert_eq!(&kernels[0], agent);
                        if !p.multi_node {
                            prop_assert!(kernels.iter().all(|k| k == agent), "single-node on one agent");
                        }
                        for k in kernels {
                            if *k == a.id { c += p.cpu; m += p.mem; }
                            prop_assert!(
                                !(*k == a.id && p.needs_storage && !a.sees_storage),
                                "a session with folders on an agent without the storage"
                            );
                        }
                    }
                }
                prop_assert!(c <= a.cpu_free + 1e-6);
                prop_assert!(m <= a.mem_free);
                if !a.alive || !a.schedulable {
                    prop_assert_eq!(c, 0.0, "placed on a lost or drained agent");
                }
            }
            // the waiting ones are numbered 1, 2, … in creation order
            let positions: Vec<u32> = d.iter().filter_map(|x| match x {
                Decision::Wait { position, .. } => Some(*position),
                Decision::Place { .. } => None,
            }).collect();
            let expected: Vec<u32> = (1..=positions.len() as u32).collect();
            prop_assert_eq!(positions, expected);
        }

        /// The index by free CPU decides exactly what looking at every
        /// agent decides: the same agents, the same waits and reasons, with
        /// ties (agents with equal CPU, many with few values), groups, lost
        /// and drained agents, clusters and designated agents.
        #[test]
        fn the_index_decides_as_the_scan_does(
            agents in prop::collection::vec((0u8..6, 0u64..16, 0u8..4, 0u8..2), 1..12),
            pend in prop::collection::vec((1u8..8, 0u64..8, 1u32..3, any::<bool>(), 0u8..2, 0u8..6), 0..40),
            concentrated in any::<bool>(),
        ) {
            let agents: Vec<Agent> = agents.iter().enumerate().map(|(i, (c, m, state, g))| Agent {
                alive: *state != 1,
                schedulable: *state != 2,
                sees_storage: *state != 3,
                resource_group: format!("g{g}"),
                ..agent(&format!("a{i}"), f64::from(*c) * 0.5, *m)
            }).collect();
            let n = agents.len();
            let pending: Vec<Pending> = pend.iter().enumerate().map(|(i, (c, m, k, multi, g, named))| Pending {
                kernels: *k,
                multi_node: *multi,
                resource_group: format!("g{g}"),
                agent: (*named == 0).then(|| format!("a{}", i % n)),
                needs_storage: i % 3 == 0,
                ..pending(&format!("p{i}"), f64::from(*c) * 0.5, *m)
            }).collect();
            let s = snap(pending, agents);
            let st = if concentrated { Strategy::Concentrated } else { Strategy::Dispersed };
            prop_assert_eq!(schedule(&s, st), schedule_by_scan(&s, st));
        }

        /// Aging: once a session has waited `aging_ms` for room and still
        /// waits, nothing created after it (in its group) is placed; and
        /// while nobody has aged, the decisions are those of no aging at all.
        #[test]
        fn an_aged_session_is_never_overtaken(
            agents in prop::collection::vec((0.0f64..16.0, 0u64..64), 1..4),
            pend in prop::collection::vec((0.1f64..8.0, 0u64..32, 0i64..1_000_000), 0..30),
            aging in 1i64..1_000_000,
        ) {
            let agents: Vec<Agent> = agents.iter().enumerate().map(|(i, (c, m))| agent(&format!("a{i}"), *c, *m)).collect();
            let pending: Vec<Pending> = pend.iter().enumerate().map(|(i, (c, m, age))| {
                let mut p = pending(&format!("p{i}"), *c, *m);
                p.created_at = 1_000_000 - age;
                p
            }).collect();
            let mut s = snap(pending.clone(), agents);
            s.now = 1_000_000;
            s.aging_ms = aging;
            let d = schedule(&s, Strategy::Dispersed);
            let first_aged_wait = d.iter().zip(&pending).position(|(x, p)| {
                matches!(x, Decision::Wait { .. }) && s.now - p.created_at >= aging
            });
            if let Some(i) = first_aged_wait {
                for x in &d[i + 1..] {
                    prop_assert!(matches!(x, Decision::Wait { .. }), "{:?} overtook {:?}", x, d[i]);
                }
            } else {
                s.aging_ms = 0;
                prop_assert_eq!(schedule(&s, Strategy::Dispersed), d);
            }
        }
    }
}
