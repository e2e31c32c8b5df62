//! `ResourceBounds`: the one judgement of CPU and memory against the image's
//! minimums, the agents' capacity and the policy, shared by the launcher's
//! sliders and the server.

use super::*;
use crate::bytes::ByteSize;
use crate::FieldError;

/// The range one session's CPU and memory must stay in: the image's
/// minimums below; the biggest agent of the resource group and the owner's
/// resource policy above. The launcher bounds its sliders with it and the
/// server judges a request with the same [`ResourceBounds::check`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ResourceBounds {
    /// The image's minimum CPU.
    pub min_cpu: f64,
    /// The image's minimum memory.
    pub min_mem: ByteSize,
    /// CPU of the biggest agent (none = not known yet).
    pub capacity_cpu: Option<f64>,
    /// Memory of the biggest agent (none = not known yet).
    pub capacity_mem: Option<ByteSize>,
    /// The policy's CPU limit (none = no limit).
    pub policy_cpu: Option<f64>,
    /// The policy's memory limit (none = no limit).
    pub policy_mem: Option<ByteSize>,
}

impl ResourceBounds {
    /// These bounds under `policy` (its zeros mean "no limit").
    pub fn with_policy(self, policy: &ResourcePolicy) -> Self {
        Self {
            policy_cpu: (policy.max_total_cpu > 0.0).then_some(policy.max_total_cpu),
            policy_mem: (policy.max_total_mem.0 > 0).then_some(policy.max_total_mem),
            ..self
        }
    }

    /// These bounds for each kernel of a cluster of `kernels`: the
    /// policy's totals are shared by all kernels; an agent's capacity too
    /// when all are on one agent (single-node), while a multi-node kernel
    /// needs one agent's room for itself only.
    pub fn per_kernel(self, kernels: u32, single_node: bool) -> Self {
        let n = kernels.max(1);
        let nf = f64::from(n);
        let div = |b: ByteSize| ByteSize(b.0 / u64::from(n));
        Self {
            capacity_cpu: self
                .capacity_cpu
                .map(|c| if single_node { c / nf } else { c }),
            capacity_mem: self
                .capacity_mem
                .map(|m| if single_node { div(m) } else { m }),
            policy_cpu: self.policy_cpu.map(|c| c / nf),
            policy_mem: self.policy_mem.map(div),
            ..self
        }
    }

    /// The most CPU one session may ask for, if anything bounds it.
    pub fn max_cpu(&self) -> Option<f64> {
        match (self.capacity_cpu, self.policy_cpu) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The most memory one session may ask for, if anything bounds it.
    pub fn max_mem(&self) -> Option<ByteSize> {
        match (self.capacity_mem, self.policy_mem) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// What `cpu` and `mem` break, on `resources.cpu` / `resources.mem`,
    /// with codes `below_image_minimum`, `exceeds_policy`, `exceeds_capacity`.
    pub fn check(&self, cpu: f64, mem: ByteSize) -> Vec<FieldError> {
        const EPS: f64 = 1e-9;
        let mut errs = Vec::new();
        if cpu + EPS < self.min_cpu {
            errs.push(
                FieldError::new(
                    "resources.cpu",
                    "below_image_minimum",
                    format!("At least {} CPU: the image needs {0} CPU.", self.min_cpu),
                )
                .with("limit", format!("{} CPU", self.min_cpu)),
            );
        } else if let Some(most) = self.policy_cpu.filter(|m| cpu > m + EPS) {
            errs.push(
                FieldError::new(
                    "resources.cpu",
                    "exceeds_policy",
                    format!("At most {most} CPU: the resource policy allows {most} CPU in all."),
                )
                .with("limit", format!("{most} CPU")),
            );
        } else if let Some(most) = self.capacity_cpu.filter(|m| cpu > m + EPS) {
            errs.push(
                FieldError::new(
                    "resources.cpu",
                    "exceeds_capacity",
                    format!("At most {most} CPU: the largest agent of this group has {most} CPU."),
                )
                .with("limit", format!("{most} CPU")),
            );
        }
        if mem < self.min_mem {
            errs.push(
                FieldError::new(
                    "resources.mem",
                    "below_image_minimum",
                    format!("At least {}: the image needs {0} of memory.", self.min_mem),
                )
                .with("limit", self.min_mem),
            );
        } else if let Some(most) = self.policy_mem.filter(|m| mem > *m) {
            errs.push(
                FieldError::new(
                    "resources.mem",
                    "exceeds_policy",
                    format!("At most {most}: the resource policy allows {most} of memory in all."),
                )
                .with("limit", most),
            );
        } else if let Some(most) = self.capacity_mem.filter(|m| mem > *m) {
            errs.push(
                FieldError::new(
                    "resources.mem",
                    "exceeds_capacity",
                    format!(
                        "At most {most}: the largest agent of this group has {most} of memory."
                    ),
                )
                .with("limit", most),
            );
        }
        errs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gib(n: u64) -> ByteSize {
        ByteSize(n << 30)
    }

    #[test]
    fn a_cluster_shares_the_policy_and_one_agent_when_single_node() {
        let b = ResourceBounds {
            capacity_cpu: Some(8.0),
            capacity_mem: Some(gib(16)),
            policy_cpu: Some(4.0),
            policy_mem: Some(gib(8)),
            ..Default::default()
        };
        let single = b.per_kernel(4, true);
        assert_eq!(single.capacity_cpu, Some(2.0));
        assert_eq!(single.capacity_mem, Some(gib(4)));
        assert_eq!(single.max_cpu(), Some(1.0));
        let multi = b.per_kernel(4, false);
        assert_eq!(multi.capacity_cpu, Some(8.0));
        assert_eq!(multi.policy_mem, Some(gib(2)));
        assert_eq!(b.per_kernel(1, true), b);
    }

    fn codes(b: &ResourceBounds, cpu: f64, mem: ByteSize) -> Vec<(String, String)> {
        b.check(cpu, mem)
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    }

    #[test]
    fn bounds_take_the_tighter_limit_and_name_it() {
        let policy = ResourcePolicy {
            name: "small".into(),
            max_concurrent_sessions: 0,
            max_total_cpu: 2.0,
            max_total_mem: ByteSize(0),
            max_session_lifetime: 0,
            max_folders: 0,
            max_folder_bytes: Default::default(),
            idle_timeout: None,
            max_customized_images: 0,
            max_pending_sessions: 0,
        };
        let b = ResourceBounds {
            min_cpu: 0.5,
            min_mem: gib(1),
            capacity_cpu: Some(4.0),
            capacity_mem: Some(gib(8)),
            ..Default::default()
        }
        .with_policy(&policy);
        assert_eq!(b.max_cpu(), Some(2.0));
        assert_eq!(b.max_mem(), Some(gib(8)), "a 0 policy limit is no limit");
        assert!(codes(&b, 2.0, gib(8)).is_empty());
        assert_eq!(
            codes(&b, 3.0, gib(9)),
            vec![
                ("resources.cpu".into(), "exceeds_policy".into()),
                ("resources.mem".into(), "exceeds_capacity".into())
            ]
        );
        assert_eq!(
            codes(&b, 0.25, ByteSize(1 << 20)),
            vec![
                ("resources.cpu".into(), "below_image_minimum".into()),
                ("resources.mem".into(), "below_image_minimum".into())
            ]
        );
    }

    #[test]
    fn unknown_bounds_allow_anything_above_the_minimum() {
        let b = ResourceBounds::default();
        assert_eq!(b.max_cpu(), None);
        assert!(b.check(1000.0, gib(1000)).is_empty());
    }
}
