//! Environments: the images berth offers, grouped by name, and the services
//! an image declares (`ai.backend.service-ports`).

use serde::{Deserialize, Serialize};

use crate::bytes::ByteSize;

/// A service an image offers (from `ai.backend.service-ports`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServicePort {
    /// App name (`jupyter`, `httpd`).
    pub name: String,
    /// `http`, `tcp`, `pty`.
    pub protocol: String,
    /// Port inside the container.
    pub port: u16,
}

/// Parses `name:proto:port,name:proto:[p1,p2]`-style labels (single ports).
pub fn parse_service_ports(label: &str) -> Vec<ServicePort> {
    label
        .split(',')
        .filter_map(|item| {
            let mut parts = item.trim().split(':');
            let name = parts.next()?.trim();
            let protocol = parts.next()?.trim();
            let port = parts
                .next()?
                .trim()
                .trim_matches(|c| c == '[' || c == ']')
                .parse()
                .ok()?;
            (!name.is_empty()).then(|| ServicePort {
                name: name.to_string(),
                protocol: protocol.to_string(),
                port,
            })
        })
        .collect()
}

/// One version (tag) of an environment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnvironmentVersion {
    /// The tag.
    pub version: String,
    /// Full reference to launch (`name:tag`).
    pub image: String,
    /// Apps it serves.
    pub service_ports: Vec<ServicePort>,
    /// Least CPU it needs.
    pub min_cpu: f64,
    /// Least memory it needs.
    pub min_mem: ByteSize,
}

/// An environment: images grouped by name, versions = tags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Environment {
    /// Image name without tag (`berth/busybox`).
    pub name: String,
    /// Name for people (label `ai.backend.display-name`, else the name).
    pub display_name: String,
    /// Versions, newest tag name first.
    pub versions: Vec<EnvironmentVersion>,
}

/// `GET /api/v1/environments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnvironmentList {
    /// Environments by name.
    pub items: Vec<Environment>,
    /// Whether a session may name an image that is not listed.
    pub allow_manual_image: bool,
    /// Most preopen ports one session may ask for.
    pub max_preopen_ports: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_ports_label() {
        let p = parse_service_ports("jupyter:http:8081, ttyd:http:7681,bad,x:tcp:[9000]");
        let names: Vec<_> = p.iter().map(|s| (s.name.as_str(), s.port)).collect();
        assert_eq!(names, [("jupyter", 8081), ("ttyd", 7681), ("x", 9000)]);
        assert!(parse_service_ports("").is_empty());
    }
}
