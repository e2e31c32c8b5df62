//! Environment images: images on the engine labelled in the `ai.backend.*`
//! convention, grouped by name with their tags as versions. The labels are
//! read here and nowhere else: the environment list and the session
//! launcher both ask [`ImageLabels`]. A customized image (a session saved
//! as an image) is an environment for its owner only: others neither see
//! it listed nor launch it.

use std::collections::{BTreeMap, HashMap};

use berth_shared::bytes::ByteSize;
use berth_shared::resources::{
    parse_service_ports, Environment, EnvironmentList, EnvironmentVersion, ServicePort,
};

use crate::runtime::{ImageInfo, RuntimeError};
use crate::services::Services;

/// The label that makes an image an environment.
pub const KERNELSPEC: &str = "ai.backend.kernelspec";
/// Its name for people.
const DISPLAY_NAME: &str = "ai.backend.display-name";
/// The apps it serves: `name:protocol:port,…`.
const SERVICE_PORTS: &str = "ai.backend.service-ports";
/// The least CPU it needs.
const MIN_CPU: &str = "ai.backend.resource.min.cpu";
/// The least memory it needs (`64m`, bytes…).
const MIN_MEM: &str = "ai.backend.resource.min.mem";
/// A customized image's owner (user id).
pub const CUSTOMIZED_OWNER: &str = "berth.customized.owner";
/// A customized image's name (as its owner gave it).
pub const CUSTOMIZED_NAME: &str = "berth.customized.name";

/// What an image's labels say about it as an environment. Unreadable
/// values read as absent (no minimum, no service).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageLabels {
    /// Carries [`KERNELSPEC`]: listed as an environment.
    pub is_environment: bool,
    /// Name for people, if labelled.
    pub display_name: Option<String>,
    /// Apps it serves.
    pub service_ports: Vec<ServicePort>,
    /// Least CPU a session of it needs.
    pub min_cpu: f64,
    /// Least memory a session of it needs.
    pub min_mem: ByteSize,
    /// For a customized image: its owner's user id.
    pub customized_owner: Option<String>,
    /// For a customized image: its name.
    pub customized_name: Option<String>,
}

impl ImageLabels {
    /// Whether `user_id` may see and launch it (everyone, unless it is
    /// someone else's customized image).
    pub fn usable_by(&self, user_id: &str) -> bool {
        self.customized_owner
            .as_deref()
            .is_none_or(|o| o == user_id)
    }
}

impl ImageLabels {
    /// Reads the `ai.backend.*` labels of an image.
    pub fn read(labels: &HashMap<String, String>) -> Self {
        let label = |k: &str| labels.get(k).map(String::as_str);
        ImageLabels {
            is_environment: labels.contains_key(KERNELSPEC),
            display_name: label(DISPLAY_NAME).map(str::to_string),
            service_ports: label(SERVICE_PORTS)
                .map(parse_service_ports)
                .unwrap_or_default(),
            min_cpu: label(MIN_CPU)
                .and_then(|v| v.trim().parse().ok())
                .filter(|c: &f64| c.is_finite() && *c >= 0.0)
                .unwrap_or(0.0),
            min_mem: label(MIN_MEM).and_then(ByteSize::parse).unwrap_or_default(),
            customized_owner: label(CUSTOMIZED_OWNER).map(str::to_string),
            customized_name: label(CUSTOMIZED_NAME).map(str::to_string),
        }
    }
}

/// Environment images `viewer` may use, grouped by name, versions newest
/// tag name first; a customized image reads `Customized<name>`.
pub fn group(images: Vec<ImageInfo>, viewer: &str) -> Vec<Environment> {
    let mut by_name: BTreeMap<String, Environment> = BTreeMap::new();
    for img in images {
        let labels = ImageLabels::read(&img.labels);
        if !labels.usable_by(viewer) {
            continue;
        }
        let display = match &labels.customized_name {
            Some(n) => Some(berth_shared::images::display_name(n)),
            None => labels.display_name.clone(),
        };
        // a registry's names of an image are its copies there, not more
        // environments
        for tag in img
            .tags
            .iter()
            .filter(|t| !crate::runtime::names_a_registry(t))
        {
            let Some((name, version)) = tag.rsplit_once(':') else {
                continue;
            };
            let env = by_name
                .entry(name.to_string())
                .or_insert_with(|| Environment {
                    name: name.to_string(),
                    display_name: display.clone().unwrap_or_else(|| name.to_string()),
                    versions: vec![],
                });
            env.versions.push(EnvironmentVersion {
                version: version.to_string(),
                image: tag.clone(),
                service_ports: labels.service_ports.clone(),
                min_cpu: labels.min_cpu,
                min_mem: labels.min_mem,
            });
        }
    }
    by_name
        .into_values()
        .map(|mut e| {
            e.versions.sort_by(|a, b| b.version.cmp(&a.version));
            e
        })
        .collect()
}

/// `GET /environments`: the environment images on the engine that
/// `viewer` may use.
pub async fn list(svc: &Services, viewer: &str) -> Result<EnvironmentList, RuntimeError> {
    let images = svc.runtime().images_labelled(KERNELSPEC).await?;
    Ok(EnvironmentList {
        items: group(images, viewer),
        allow_manual_image: svc.config().allow_manual_image,
        max_preopen_ports: svc.config().max_preopen_ports,
    })
}

/// The labels of one image on the engine (`ImageNotFound` when absent).
pub async fn labels_of(svc: &Services, reference: &str) -> Result<ImageLabels, RuntimeError> {
    let info = svc.runtime().inspect_image(reference).await?;
    Ok(ImageLabels::read(&info.labels))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(tags: &[&str], labels: &[(&str, &str)]) -> ImageInfo {
        ImageInfo {
            id: "sha256:x".into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            size: 0,
        }
    }

    #[test]
    fn labels_read_with_absent_or_broken_values_as_none() {
        let l = ImageLabels::read(
            &image(
                &[],
                &[
                    (KERNELSPEC, "1"),
                    (SERVICE_PORTS, "httpd:http:8000"),
                    (MIN_CPU, "0.5"),
                    (MIN_MEM, "64m"),
                ],
            )
            .labels,
        );
        assert!(l.is_environment);
        assert_eq!((l.min_cpu, l.min_mem), (0.5, ByteSize(64 << 20)));
        assert_eq!(l.service_ports[0].port, 8000);
        let broken = ImageLabels::read(&image(&[], &[(MIN_CPU, "lots"), (MIN_MEM, "-1")]).labels);
        assert_eq!(broken, ImageLabels::default());
    }

    #[test]
    fn images_group_by_name_with_tags_as_versions() {
        let envs = group(
            vec![
                image(
                    &["berth/py:3.10"],
                    &[(KERNELSPEC, "1"), (DISPLAY_NAME, "Python")],
                ),
                image(&["berth/py:3.11", "<none>"], &[(KERNELSPEC, "1")]),
                image(&["berth/busybox:latest"], &[(KERNELSPEC, "1")]),
            ],
            "u1",
        );
        let names: Vec<_> = envs.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["berth/busybox", "berth/py"]);
        let py = &envs[1];
        assert_eq!(py.display_name, "Python");
        let versions: Vec<_> = py.versions.iter().map(|v| v.version.as_str()).collect();
        assert_eq!(versions, ["3.11", "3.10"]);
        assert_eq!(py.versions[0].image, "berth/py:3.11");
    }

    #[test]
    fn customized_images_are_their_owners_only() {
        let mine = image(
            &["customized/u1/abcd:latest"],
            &[
                (KERNELSPEC, "1"),
                (CUSTOMIZED_OWNER, "u1"),
                (CUSTOMIZED_NAME, "torch"),
            ],
        );
        let envs = group(vec![mine.clone()], "u1");
        assert_eq!(envs[0].display_name, "Customized<torch>");
        assert!(group(vec![mine.clone()], "u2").is_empty());
        let l = ImageLabels::read(&mine.labels);
        assert!(l.usable_by("u1") && !l.usable_by("u2"));
        assert!(ImageLabels::default().usable_by("anyone"));
    }
}
