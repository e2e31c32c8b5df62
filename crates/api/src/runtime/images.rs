//! Images made from containers: commit (a container's file system, minus
//! its volumes and bind mounts, as a new image) and removal; and copying
//! an image from one engine to another (`docker save | docker load`
//! through this process, streamed).

use std::collections::HashMap;

use bollard::models::ContainerConfig;
use bollard::query_parameters::{CommitContainerOptionsBuilder, RemoveImageOptionsBuilder};
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
