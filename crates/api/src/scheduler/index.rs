//! One group's agents ordered by free CPU, so a session finds the agent
//! its strategy wants near one end of the order instead of looking at every
//! agent. Checked against the scan by a property test in `core.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::fit::fits;
use super::snapshot::{Agent, Pending, Strategy};

/// An `f64` as an integer with the same order (`f64::total_cmp`'s), for
/// a sorted map's key.
fn order_key(x: f64) -> i64 {
    let bits = x.to_bits() as i64;
    bits ^ (((bits >> 63) as u64) >> 1) as i64
}

/// One group's agents by free CPU (then by their order in the snapshot):
/// the agent a strategy wants is found near one end instead of by looking
/// at every agent for every session.
#[derive(Debug, Default)]
pub(super) struct CpuIndex {
    by_cpu: BTreeMap<i64, BTreeSet<usize>>,
    /// Each agent's key now.
    key: HashMap<usize, i64>,
}

impl CpuIndex {
    pub(super) fn insert(&mut self, i: usize, cpu_free: f64) {
        let k = order_key(cpu_free);
        self.by_cpu.entry(k).or_default().insert(i);
        self.key.insert(i, k);
    }

    /// Files agent `i` again after its free CPU changed.
    pub(super) fn update(&mut self, i: usize, cpu_free: f64) {
        if let Some(old) = self.key.remove(&i) {
            if let Some(set) = self.by_cpu.get_mut(&old) {
                set.remove(&i);
                if set.is_empty() {
                    self.by_cpu.remove(&old);
                }
            }
        }
        self.insert(i, cpu_free);
    }

    /// The agent the strategy picks for `n` kernels of `p` (what `place`
    /// finds by looking at every agent): dispersed, the fitting agent with
    /// the most free CPU; concentrated, the one with the least; the first
    /// in the snapshot among equals.
    pub(super) fn pick(
        &self,
        p: &Pending,
        n: u32,
        agents: &[Agent],
        strategy: Strategy,
    ) -> Option<usize> {
        const EPS: f64 = 1e-6;
        // a little below the need: `fits` decides, this only skips what cannot
        let need = order_key(p.cpu * f64::from(n) - 2.0 * EPS);
        let first_fit = |(_, set): (&i64, &BTreeSet<usize>)| {
            set.iter().copied().find(|&i| fits(p, n, &agents[i]))
        };
        match strategy {
            // from the freest down, and no further than CPU can fit
            Strategy::Dispersed => self.by_cpu.range(need..).rev().find_map(first_fit),
            Strategy::Concentrated => self.by_cpu.range(need..).find_map(first_fit),
        }
    }

    /// The agent that explains a wait when nothing fits (what `place`
    /// finds by looking at every agent): the freest that answers, is not
    /// drained and sees the folder storage if `p` mounts folders, else
    /// `None` (then every agent is looked at).
    pub(super) fn closest(&self, p: &Pending, agents: &[Agent]) -> Option<usize> {
        self.by_cpu.values().rev().find_map(|set| {
            set.iter().copied().find(|&i| {
                let a = &agents[i];
                a.alive && a.schedulable && (a.sees_storage || !p.needs_storage)
            })
        })
    }
}
