//! Images made from containers: commit (a container's file system, minus
//! its volumes and bind mounts, as a new image) and removal.

use std::collections::HashMap;

use bollard::models::ContainerConfig;
use bollard::query_parameters::{CommitContainerOptionsBuilder, RemoveImageOptionsBuilder};

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
}
