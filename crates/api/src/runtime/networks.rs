//! Bridge networks for sessions, each on a subnet of a configured pool:
//! containers on different bridge networks cannot reach each other (Docker
//! drops the traffic) while the host — and so the app proxy — reaches
//! every one. Docker's own address pools hold only a few dozen networks,
//! hence the explicit pool; a random starting slot makes concurrent
//! servers seldom race for one.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest};
use bollard::query_parameters::{ListNetworksOptions, ListNetworksOptionsBuilder};
use ipnet::{IpNet, Ipv4Net};

use super::containers::{is_404, LABEL_INSTANCE};
use super::{Runtime, RuntimeError};

/// Prefix length of one session's subnet: 30 addresses, room for a
/// cluster session's kernels.
pub const SESSION_PREFIX: u8 = 27;

/// How many times a create that lost a race for a subnet (another server
/// on the engine took it between the listing and the create) is retried.
const CREATE_ATTEMPTS: usize = 8;

/// A new network's name: `berth-net-<nonce>`. Docker 20.10 lets two
/// networks share a name and then refuses containers that name it
/// ("ambiguous"), so names are unique and callers keep ids.
pub fn network_name(nonce: u32) -> String {
    format!("berth-net-{nonce:08x}")
}

/// The first `SESSION_PREFIX` subnet of `pool`, counting from `start`
/// (wrapping round), that overlaps none of `used`; `None` when the pool
/// is full (or smaller than one session's subnet).
pub fn free_subnet(pool: Ipv4Net, used: &[IpNet], start: u32) -> Option<Ipv4Net> {
    let slots: Vec<Ipv4Net> = pool.subnets(SESSION_PREFIX).ok()?.collect();
    if slots.is_empty() {
        return None;
    }
    let n = slots.len();
    let first = start as usize % n;
    (0..n).map(|i| slots[(first + i) % n]).find(|slot| {
        let slot = IpNet::V4(*slot);
        !used
            .iter()
            .any(|u| u.contains(&slot.network()) || slot.contains(&u.network()))
    })
}

/// The engine's default network, which every container joins unless told
/// otherwise.
pub const DEFAULT_BRIDGE: &str = "bridge";

/// The default bridge's option that lets its containers reach each other
/// (`dockerd --icc`).
const ICC_OPTION: &str = "com.docker.network.bridge.enable_icc";

impl Runtime {
    /// Whether the engine's default bridge keeps its containers from
    /// reaching each other (`dockerd --icc=false`, which Docker enforces
    /// with its own firewall rules), so a session needs no network of its
    /// own to be out of the others' reach.
    pub async fn default_bridge_isolates(&self) -> Result<bool, RuntimeError> {
        let docker = self.client().await?;
        let n = docker
            .inspect_network(
                DEFAULT_BRIDGE,
                None::<bollard::query_parameters::InspectNetworkOptions>,
            )
            .await?;
        Ok(n.options
            .unwrap_or_default()
            .get(ICC_OPTION)
            .is_some_and(|v| v == "false"))
    }

    /// Makes a bridge network labelled with this server instance, on a
    /// free subnet of `pool`; its id.
    pub async fn create_network(
        &self,
        instance: &str,
        pool: Ipv4Net,
    ) -> Result<String, RuntimeError> {
        let docker = self.client().await?;
        let mut last = None;
        for _ in 0..CREATE_ATTEMPTS {
            let used: Vec<IpNet> = docker
                .list_networks(None::<ListNetworksOptions>)
                .await?
                .into_iter()
                .filter_map(|n| n.ipam.and_then(|i| i.config))
                .flatten()
                .filter_map(|c| c.subnet.and_then(|s| s.parse().ok()))
                // another engine on this host (a second agent) has bridges
                // too; the app proxy must reach every session by address
                .chain(host_subnets())
                .collect();
            let Some(subnet) = free_subnet(pool, &used, rand::random()) else {
                return Err(RuntimeError::NoSubnet {
                    pool: pool.to_string(),
                    in_use: used
                        .iter()
                        .filter(|u| IpNet::V4(pool).contains(&u.network()))
                        .count(),
                });
            };
            let request = NetworkCreateRequest {
                name: network_name(rand::random()),
                driver: Some("bridge".into()),
                ipam: Some(Ipam {
                    config: Some(vec![IpamConfig {
                        subnet: Some(subnet.to_string()),
                        gateway: Some(gateway(subnet).to_string()),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
                labels: Some(HashMap::from([(
                    LABEL_INSTANCE.to_string(),
                    instance.to_string(),
                )])),
                ..Default::default()
            };
            match docker.create_network(request).await {
                Ok(created) => return Ok(created.id),
                // "Pool overlaps": another server took the subnet meanwhile
                Err(e @ bollard::errors::Error::DockerResponseServerError { .. }) => {
                    tracing::debug!(%subnet, error = %e, "subnet taken; trying another");
                    last = Some(e);
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(last.map_or_else(
            || RuntimeError::NoSubnet {
                pool: pool.to_string(),
                in_use: 0,
            },
            RuntimeError::from,
        ))
    }

    /// The IPv4 subnet of a network, if it has one.
    pub async fn network_subnet(&self, id: &str) -> Result<Option<Ipv4Net>, RuntimeError> {
        let docker = self.client().await?;
        let n = docker
            .inspect_network(id, None::<bollard::query_parameters::InspectNetworkOptions>)
            .await?;
        Ok(n.ipam
            .and_then(|i| i.config)
            .unwrap_or_default()
            .into_iter()
            .find_map(|c| c.subnet.and_then(|s| s.parse().ok())))
    }

    /// Removes a network by id (gone already is fine). The engine refuses
    /// while a running container is attached.
    pub async fn remove_network(&self, id: &str) -> Result<(), RuntimeError> {
        let docker = self.client().await?;
        match docker.remove_network(id).await {
            Ok(()) => Ok(()),
            Err(e) if is_404(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Ids of every network labelled with this server instance.
    pub async fn our_networks(&self, instance: &str) -> Result<Vec<String>, RuntimeError> {
        let docker = self.client().await?;
        let filters = HashMap::from([(
            "label".to_string(),
            vec![format!("{LABEL_INSTANCE}={instance}")],
        )]);
        let opts = ListNetworksOptionsBuilder::default()
            .filters(&filters)
            .build();
        Ok(docker
            .list_networks(Some(opts))
            .await?
            .into_iter()
            .filter_map(|n| n.id)
            .collect())
    }
}

/// The subnets this host reaches directly (its interfaces' routes), from
/// `/proc/net/route`; none where that cannot be read.
fn host_subnets() -> Vec<IpNet> {
    std::fs::read_to_string("/proc/net/route")
        .map(|t| connected_routes(&t))
        .unwrap_or_default()
}

/// The directly connected (no gateway), non-default routes of a
/// `/proc/net/route` table. Its addresses are little-endian hex.
fn connected_routes(table: &str) -> Vec<IpNet> {
    let hex = |s: &str| u32::from_str_radix(s, 16).ok().map(u32::from_be);
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let (dest, gateway, mask) = (hex(f.get(1)?)?, hex(f.get(2)?)?, hex(f.get(7)?)?);
            if gateway != 0 || mask == 0 {
                return None;
            }
            let prefix = mask.leading_ones() as u8;
            Ipv4Net::new(Ipv4Addr::from(dest), prefix)
                .ok()
                .map(IpNet::V4)
        })
        .collect()
}

/// The subnet's first host address, the bridge's own.
fn gateway(subnet: Ipv4Net) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(subnet.network()) + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn picks_the_first_free_slot_from_the_start_and_wraps() {
        let pool = net("10.213.0.0/25"); // four /27 slots
        assert_eq!(free_subnet(pool, &[], 0), Some(net("10.213.0.0/27")));
        assert_eq!(free_subnet(pool, &[], 2), Some(net("10.213.0.64/27")));
        assert_eq!(free_subnet(pool, &[], 6), Some(net("10.213.0.64/27")));
        let used = [
            IpNet::V4(net("10.213.0.64/27")),
            IpNet::V4(net("10.213.0.96/27")),
        ];
        assert_eq!(free_subnet(pool, &used, 2), Some(net("10.213.0.0/27")));
        assert_eq!(
            gateway(net("10.213.0.64/27")),
            Ipv4Addr::new(10, 213, 0, 65)
        );
    }

    #[test]
    fn a_wider_network_in_use_blocks_every_slot_inside_it() {
        let pool = net("10.213.0.0/25");
        let used = [IpNet::V4(net("10.213.0.0/26"))];
        assert_eq!(free_subnet(pool, &used, 0), Some(net("10.213.0.64/27")));
        let all = [IpNet::V4(net("10.0.0.0/8"))];
        assert_eq!(free_subnet(pool, &all, 0), None);
    }

    #[test]
    fn only_directly_connected_routes_are_host_subnets() {
        let table =
            "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
            eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
            docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n\
            br1\t00D5000A\t00000000\t0001\t0\t0\t0\tE0FFFFFF\t0\t0\t0\n";
        let nets: Vec<String> = connected_routes(table)
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(nets, ["172.17.0.0/16", "10.0.213.0/27"]);
    }

    #[test]
    fn a_pool_smaller_than_one_slot_has_none() {
        assert_eq!(free_subnet(net("10.213.0.0/28"), &[], 0), None);
    }

    proptest! {
        /// Whatever is in use, a picked subnet lies in the pool, has the
        /// session prefix and overlaps nothing in use; and none is picked
        /// only when every slot is taken.
        #[test]
        fn a_picked_subnet_is_free_and_in_the_pool(
            used in proptest::collection::vec((0u32..64, 20u8..30), 0..40),
            start in any::<u32>(),
        ) {
            let pool = net("10.213.0.0/24");
            let used: Vec<IpNet> = used
                .into_iter()
                .map(|(i, p)| {
                    let addr = Ipv4Addr::from(u32::from(Ipv4Addr::new(10, 213, 0, 0)) + i * 8);
                    IpNet::V4(Ipv4Net::new(addr, p).unwrap().trunc())
                })
                .collect();
            let overlaps = |s: &Ipv4Net| {
                let s = IpNet::V4(*s);
                used.iter().any(|u| u.contains(&s.network()) || s.contains(&u.network()))
            };
            match free_subnet(pool, &used, start) {
                Some(s) => {
                    prop_assert!(pool.contains(&s));
                    prop_assert_eq!(s.prefix_len(), SESSION_PREFIX);
                    prop_assert!(!overlaps(&s));
                }
                None => {
                    prop_assert!(pool.subnets(SESSION_PREFIX).unwrap().all(|s| overlaps(&s)));
                }
            }
        }
    }
}
