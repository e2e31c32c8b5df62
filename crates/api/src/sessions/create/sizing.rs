//! A create's resources: the defaults filled in and the result judged as
//! the launcher's sliders judge it.

use super::*;

/// A session's resources with every default filled in.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Resolved {
    pub(super) cpu: f64,
    pub(super) mem: ByteSize,
    pub(super) shmem: ByteSize,
    pub(super) nthreads: u32,
}

/// Fills the defaults (never below the image's minimums) and judges the
/// result as the launcher's sliders do: image minimums, the biggest agent
/// of the group, the owner's policy; then accelerators and a designated
/// agent against the group's agents. Every failure is reported at once.
pub(super) fn resources_for(
    req: &CreateSessionRequest,
    image: &ImageLabels,
    agents: &[AgentRow],
    policy: Option<&ResourcePolicy>,
    group: &str,
) -> SessionResult<Resolved> {
    let r = &req.resources;
    let cpu = r.cpu.unwrap_or(DEFAULT_CPU.max(image.min_cpu));
    let mem = r.mem.unwrap_or(DEFAULT_MEM.max(image.min_mem));
    let shmem = r.shmem.unwrap_or(DEFAULT_SHMEM.min(mem));
    let mut errors = Vec::new();
    if shmem > mem {
        errors.push(FieldError::new(
            "resources.shmem",
            "shmem_exceeds_mem",
            format!("Shared memory ({shmem}) cannot be more than memory ({mem})."),
        ));
    }
    // a chosen agent bounds the session alone; else the group's biggest
    let pool: Vec<&AgentRow> = match &req.agent {
        Some(a) if agents.iter().any(|x| &x.id == a) => {
            agents.iter().filter(|x| &x.id == a).collect()
        }
        _ => agents.iter().collect(),
    };
    let mut bounds = ResourceBounds {
        min_cpu: image.min_cpu,
        min_mem: image.min_mem,
        capacity_cpu: Some(pool.iter().map(|a| a.cpu_total).fold(0.0, f64::max)),
        capacity_mem: Some(ByteSize(
            pool.iter().map(|a| a.mem_total).max().unwrap_or(0).max(0) as u64,
        )),
        ..Default::default()
    };
    if let Some(p) = policy {
        bounds = bounds.with_policy(p);
    }
    let bounds = bounds.per_kernel(
        req.cluster_size.unwrap_or(1),
        req.cluster_mode == ClusterMode::SingleNode,
    );
    errors.extend(bounds.check(cpu, mem));
    for (slot, want) in &r.accelerators {
        let most = agents
            .iter()
            .filter_map(|a| a.accel_total.get(slot).copied())
            .fold(0.0, f64::max);
        if *want > most + 1e-9 {
            errors.push(
                FieldError::new(
                    format!("resources.accelerators.{slot}"),
                    "exceeds_capacity",
                    format!("At most {most} {slot}: no agent in {group} has {want}."),
                )
                .with("limit", format!("{most} {slot}")),
            );
        }
    }
    if let Some(a) = &req.agent {
        if !agents.iter().any(|x| &x.id == a) {
            errors.push(FieldError::new(
                "agent",
                "unknown_agent",
                format!("There is no agent {a} in {group}."),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(SessionError::Invalid(errors));
    }
    Ok(Resolved {
        cpu,
        mem,
        shmem,
        nthreads: req.nthreads.unwrap_or_else(|| (cpu.ceil() as u32).max(1)),
    })
}
