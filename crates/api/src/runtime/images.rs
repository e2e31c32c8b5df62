//! Images made from containers: commit (a container's file system, minus
//! its volumes and bind mounts, as a new image) and removal; copying an
//! image from one engine to another (`docker save | docker load` through
//! this process, streamed); and an image registry's push, pull and tags.

use std::collections::HashMap;

use bollard::models::ContainerConfig;
use bollard::query_parameters::{
    CommitContainerOptionsBuilder, CreateImageOptionsBuilder, PushImageOptionsBuilder,
    RemoveImageOptionsBuilder, TagImageOptionsBuilder,
};
use futures_util::{StreamExt, TryStreamExt};

use super::{Runtime, RuntimeError};

impl Runtime {
    /// Commits a container as `repo:tag` with `labels` added (the
    /// container is paused meanwhile); the new image's id.
    pub async fn commit(
        &self,
        container: &str,
        repo: &str,
        tag: &str,
        labels: HashMap<String, String>,
    ) -> Result<String, RuntimeError> {
        let docker = self.client().await?;
        let opts = CommitContainerOptionsBuilder::default()
            .container(container)
            .repo(repo)
            .tag(tag)
            .pause(true)
            .build();
        let config = ContainerConfig {
            labels: Some(labels),
            ..Default::default()
        };
        match docker.commit_container(opts, config).await {
            Ok(r) => Ok(r.id),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Err(RuntimeError::ContainerNotFound(container.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes an image (gone already is fine).
    pub async fn remove_image(&self, reference: &str) -> Result<(), RuntimeError> {
        let docker = self.client().await?;
        let opts = RemoveImageOptionsBuilder::default().force(true).build();
        match docker.remove_image(reference, Some(opts), None).await {
            Ok(_) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Copies `reference` from this engine to `to`, streamed (never whole
    /// in memory); `progress` hears the bytes sent so far.
    pub async fn copy_image_to(
        &self,
        to: &Runtime,
        reference: &str,
        progress: impl Fn(u64) + Send + Sync + 'static,
    ) -> Result<(), RuntimeError> {
        let from = self.client().await?.clone();
        let into = to.client().await?;
        let mut sent = 0u64;
        let tar = from.export_image(reference).map_ok(move |chunk| {
            sent += chunk.len() as u64;
            progress(sent);
            chunk
        });
        let mut loading = into.import_image_stream(
            bollard::query_parameters::ImportImageOptionsBuilder::default()
                .quiet(true)
                .build(),
            tar,
            None,
        );
        while let Some(step) = loading.next().await {
            step?;
        }
        Ok(())
    }
}

/// The registry's name of an engine's image: `<registry>/<image>`.
pub fn in_registry(registry: &str, image: &str) -> String {
    format!("{}/{image}", registry.trim_end_matches('/'))
}

/// Whether a reference names its registry (`host:port/…`, `a.b/…`,
/// `localhost/…`, Docker's rule): a registry's copy of an image, not a
/// name berth gives (`berth/…`, `customized/…`).
pub fn names_a_registry(reference: &str) -> bool {
    reference.split_once('/').is_some_and(|(first, _)| {
        first.contains('.') || first.contains(':') || first == "localhost"
    })
}

/// `repo` and `tag` of `repo[:tag]` (a registry host's `:port` is no tag).
pub fn split_reference(reference: &str) -> (&str, &str) {
    match reference.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (reference, "latest"),
    }
}

impl Runtime {
    /// Tags `source` as `target` (`repo:tag`) on this engine.
    pub async fn tag(&self, source: &str, target: &str) -> Result<(), RuntimeError> {
        let (repo, tag) = split_reference(target);
        let opts = TagImageOptionsBuilder::default()
            .repo(repo)
            .tag(tag)
            .build();
        match self.client().await?.tag_image(source, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Err(RuntimeError::ImageNotFound(source.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    /// Takes the name `reference` off an image that has another (the
    /// image stays; unforced, so an image with no other name is kept).
    pub async fn untag(&self, reference: &str) -> Result<(), RuntimeError> {
        let opts = RemoveImageOptionsBuilder::default().noprune(true).build();
        match self
            .client()
            .await?
            .remove_image(reference, Some(opts), None)
            .await
        {
            Ok(_) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Pushes `reference` (named after its registry) from this engine.
    pub async fn push(&self, reference: &str) -> Result<(), RuntimeError> {
        let (repo, tag) = split_reference(reference);
        let opts = PushImageOptionsBuilder::default().tag(tag).build();
        let docker = self.client().await?;
        let mut steps = docker.push_image(repo, Some(opts), None);
        while let Some(step) = steps.next().await {
            // the engine answers 200 and tells a failure inside the stream
            if let Some(e) = step?.error_detail.and_then(|d| d.message) {
                return Err(RuntimeError::Registry(e));
            }
        }
        Ok(())
    }

    /// Pulls `reference` from its registry onto this engine; `progress`
    /// hears the bytes downloaded so far and the total known so far
    /// (layers announce their sizes as they start).
    pub async fn pull(
        &self,
        reference: &str,
        progress: impl Fn(u64, u64) + Send,
    ) -> Result<(), RuntimeError> {
        let (repo, tag) = split_reference(reference);
        let opts = CreateImageOptionsBuilder::default()
            .from_image(repo)
            .tag(tag)
            .build();
        let docker = self.client().await?;
        let mut steps = docker.create_image(Some(opts), None, None);
        let mut layers: HashMap<String, (u64, u64)> = HashMap::new();
        while let Some(step) = steps.next().await {
            let step = step?;
            if let Some(e) = step.error_detail.and_then(|d| d.message) {
                return Err(RuntimeError::Registry(e));
            }
            let (Some(id), Some(detail)) = (step.id, step.progress_detail) else {
                continue;
            };
            if step.status.as_deref() != Some("Downloading") {
                continue;
            }
            let got = detail.current.unwrap_or(0).max(0) as u64;
            let of = detail.total.unwrap_or(0).max(0) as u64;
            layers.insert(id, (got, of));
            let bytes = layers.values().map(|l| l.0).sum();
            let total = layers.values().map(|l| l.1).sum();
            progress(bytes, total);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_at_the_tag_not_at_a_registry_port() {
        assert_eq!(
            split_reference("berth/python:3.11"),
            ("berth/python", "3.11")
        );
        assert_eq!(
            split_reference("10.0.0.9:5000/berth/python:3.11"),
            ("10.0.0.9:5000/berth/python", "3.11")
        );
        assert_eq!(
            split_reference("10.0.0.9:5000/berth/python"),
            ("10.0.0.9:5000/berth/python", "latest")
        );
        assert_eq!(split_reference("busybox"), ("busybox", "latest"));
        assert!(names_a_registry("10.0.0.9:5000/berth/python:3.11"));
        assert!(names_a_registry("reg.lan/customized/u/a:latest"));
        assert!(names_a_registry("localhost/x:1"));
        assert!(!names_a_registry("berth/python:3.11"));
        assert!(!names_a_registry("customized/u/a:latest"));
        assert!(!names_a_registry("busybox:latest"));
        assert_eq!(
            in_registry("reg.lan:5000/", "customized/u/abc:latest"),
            "reg.lan:5000/customized/u/abc:latest"
        );
    }
}
