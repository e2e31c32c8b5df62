//! Live resource use of a container, from the engine's stats endpoint. The
//! arithmetic is the Docker CLI's (`docker stats`), kept pure for tests.

use bollard::models::ContainerStatsResponse;
use bollard::query_parameters::StatsOptionsBuilder;
use futures_util::StreamExt;

use super::{Runtime, RuntimeError};

/// What one container uses now.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Usage {
    /// Percent of one core.
    pub cpu_percent: f64,
    /// Bytes in use, page cache excluded.
    pub mem_used: u64,
    /// Bytes allowed.
    pub mem_limit: u64,
    /// Bytes received.
    pub net_rx: u64,
    /// Bytes sent.
    pub net_tx: u64,
}

/// Turns one stats sample (with its previous CPU sample) into [`Usage`].
pub fn usage_of(s: &ContainerStatsResponse) -> Usage {
    let total = |c: &Option<bollard::models::ContainerCpuStats>| {
        c.as_ref()
            .and_then(|c| c.cpu_usage.as_ref())
            .and_then(|u| u.total_usage)
            .unwrap_or(0)
    };
    let system = |c: &Option<bollard::models::ContainerCpuStats>| {
        c.as_ref().and_then(|c| c.system_cpu_usage).unwrap_or(0)
    };
    let cpu_delta = total(&s.cpu_stats).saturating_sub(total(&s.precpu_stats));
    let system_delta = system(&s.cpu_stats).saturating_sub(system(&s.precpu_stats));
    let cpus = s
        .cpu_stats
        .as_ref()
        .and_then(|c| {
            c.online_cpus.map(u64::from).or_else(|| {
                c.cpu_usage
                    .as_ref()
                    .and_then(|u| u.percpu_usage.as_ref())
                    .map(|p| p.len() as u64)
            })
        })
        .unwrap_or(1)
        .max(1);
    let cpu_percent = if system_delta > 0 {
        cpu_delta as f64 / system_delta as f64 * cpus as f64 * 100.0
    } else {
        0.0
    };
    let mem = s.memory_stats.as_ref();
    // cgroup v2 reports inactive_file, v1 total_inactive_file: both are cache
    let cache = mem
        .and_then(|m| m.stats.as_ref())
        .and_then(|st| {
            st.get("inactive_file")
                .or_else(|| st.get("total_inactive_file"))
                .copied()
        })
        .unwrap_or(0);
    let usage = mem.and_then(|m| m.usage).unwrap_or(0);
    let (net_rx, net_tx) = s
        .networks
        .as_ref()
        .map(|n| {
            n.values().fold((0, 0), |(rx, tx), i| {
                (rx + i.rx_bytes.unwrap_or(0), tx + i.tx_bytes.unwrap_or(0))
            })
        })
        .unwrap_or((0, 0));
    Usage {
        cpu_percent,
        mem_used: usage.saturating_sub(cache),
        mem_limit: mem.and_then(|m| m.limit).unwrap_or(0),
        net_rx,
        net_tx,
    }
}

impl Runtime {
    /// One stats sample of a running container (the engine waits about a
    /// second to have a previous CPU sample to compare with).
    pub async fn usage(&self, id: &str) -> Result<Usage, RuntimeError> {
        let docker = self.client().await?;
        let opts = StatsOptionsBuilder::default().stream(false).build();
        let mut stream = docker.stats(id, Some(opts));
        match stream.next().await {
            Some(Ok(s)) => Ok(usage_of(&s)),
            Some(Err(e)) if super::containers::is_404(&e) => {
                Err(RuntimeError::ContainerNotFound(id.to_string()))
            }
            Some(Err(e)) => Err(e.into()),
            None => Ok(Usage::default()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use bollard::models::{
        ContainerCpuStats, ContainerCpuUsage, ContainerMemoryStats, ContainerNetworkStats,
    };

    use super::*;

    fn cpu(total: u64, system: u64) -> Option<ContainerCpuStats> {
        Some(ContainerCpuStats {
            cpu_usage: Some(ContainerCpuUsage {
                total_usage: Some(total),
                ..Default::default()
            }),
            system_cpu_usage: Some(system),
            online_cpus: Some(2),
            ..Default::default()
        })
    }

    #[test]
    fn computes_like_docker_stats() {
        let s = ContainerStatsResponse {
            // half of the machine's two cores' time → one core busy = 100 %
            cpu_stats: cpu(1_500, 20_000),
            precpu_stats: cpu(1_000, 19_000),
            memory_stats: Some(ContainerMemoryStats {
                usage: Some(100 << 20),
                limit: Some(512 << 20),
                stats: Some(HashMap::from([("inactive_file".to_string(), 40 << 20)])),
                ..Default::default()
            }),
            networks: Some(HashMap::from([
                (
                    "eth0".to_string(),
                    ContainerNetworkStats {
                        rx_bytes: Some(1000),
                        tx_bytes: Some(10),
                        ..Default::default()
                    },
                ),
                (
                    "eth1".to_string(),
                    ContainerNetworkStats {
                        rx_bytes: Some(24),
                        tx_bytes: Some(5),
                        ..Default::default()
                    },
                ),
            ])),
            ..Default::default()
        };
        let u = usage_of(&s);
        assert!((u.cpu_percent - 100.0).abs() < 1e-9, "{}", u.cpu_percent);
        assert_eq!(u.mem_used, 60 << 20);
        assert_eq!(u.mem_limit, 512 << 20);
        assert_eq!((u.net_rx, u.net_tx), (1024, 15));
    }

    #[test]
    fn an_empty_sample_is_zero_not_a_panic() {
        assert_eq!(
            usage_of(&ContainerStatsResponse::default()),
            Usage::default()
        );
    }
}
