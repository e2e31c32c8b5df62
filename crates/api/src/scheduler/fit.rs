//! Whether a session's kernels fit on an agent, taking and giving back
//! what they hold, and what is missing when they do not (the reason a
//! session waits). Pure.

use berth_shared::sessions::CheckFailure;

use super::snapshot::{Agent, Pending};

/// Whether `n` kernels of `p` fit on `a`. Cheap: a message is only
/// written (by `shortfall`) for the one agent that ends up explaining a
/// wait.
pub(super) fn fits(p: &Pending, n: u32, a: &Agent) -> bool {
    const EPS: f64 = 1e-6;
    let n64 = u64::from(n);
    let nf = f64::from(n);
    a.alive
        && a.schedulable
        && (a.sees_storage || !p.needs_storage)
        && p.cpu * nf <= a.cpu_free + EPS
        && p.mem.saturating_mul(n64) <= a.mem_free
        && p.accelerators
            .iter()
            .all(|(slot, want)| want * nf <= a.accel_free.get(slot).copied().unwrap_or(0.0) + EPS)
}

/// Takes (`sign` 1) or gives back (`sign` -1) `n` kernels of `p` on `a`.
pub(super) fn hold(p: &Pending, n: u32, a: &mut Agent, sign: f64) {
    let nf = f64::from(n) * sign;
    a.cpu_free -= p.cpu * nf;
    let mem = p.mem.saturating_mul(u64::from(n));
    a.mem_free = if sign > 0.0 {
        a.mem_free.saturating_sub(mem)
    } else {
        a.mem_free.saturating_add(mem)
    };
    for (slot, v) in &p.accelerators {
        *a.accel_free.entry(slot.clone()).or_default() -= v * nf;
    }
}

/// How open an agent is to `p`, for choosing which one explains its
/// wait: one that answers, is not drained and (when `p` mounts folders)
/// sees the folder storage first, then the freest.
pub(super) fn open_for(p: &Pending, a: &Agent) -> (bool, bool, bool, f64) {
    (
        a.alive,
        a.schedulable,
        a.sees_storage || !p.needs_storage,
        a.cpu_free,
    )
}

/// What is missing on `a` for `n` kernels of `p`. Only written for the
/// one agent that ends up explaining a wait.
pub(super) fn shortfall(p: &Pending, n: u32, a: &Agent) -> CheckFailure {
    const EPS: f64 = 1e-6;
    let nf = f64::from(n);
    let short = |resource: &str, needs: f64, free: f64| CheckFailure::Short {
        agent: a.id.clone(),
        resource: resource.to_string(),
        needs,
        free: free.max(0.0),
    };
    if !a.alive {
        return CheckFailure::AgentUnreachable {
            agent: a.id.clone(),
        };
    }
    if !a.schedulable {
        return CheckFailure::AgentDraining {
            agent: a.id.clone(),
        };
    }
    if p.needs_storage && !a.sees_storage {
        return CheckFailure::NoStorage {
            agent: a.id.clone(),
        };
    }
    if p.cpu * nf > a.cpu_free + EPS {
        return short("cpu", p.cpu * nf, a.cpu_free);
    }
    let mem = p.mem.saturating_mul(u64::from(n));
    if mem > a.mem_free {
        return short("mem", mem as f64, a.mem_free as f64);
    }
    for (slot, want) in &p.accelerators {
        let free = a.accel_free.get(slot).copied().unwrap_or(0.0);
        if want * nf > free + EPS {
            return short(slot, want * nf, free);
        }
    }
    // `fits` said no within EPS: report the CPU it came closest on
    short("cpu", p.cpu * nf, a.cpu_free)
}
