//! Commands run inside a running container (`docker exec`): in the
//! background (an app's service), for their output (reading a file of the
//! image, making the SSH key), and the container's address for the proxy.
//! A container is its user's: what it prints is read up to a cap and for a
//! bounded time ([`ExecLimits`]), so no container can make the server hold
//! its memory or a task.

use std::net::IpAddr;

use std::pin::Pin;

use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecOptions, StartExecResults};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWrite;

use super::containers::is_404;
use super::{Runtime, RuntimeError};

/// A command running with a TTY: its output, its input, and its id (to
/// resize it).
pub struct Tty {
    /// The exec's id.
    pub exec_id: String,
    /// What it prints (stdout and stderr together, as a TTY does).
    pub output: Pin<Box<dyn Stream<Item = Result<Bytes, RuntimeError>> + Send>>,
    /// Its keyboard.
    pub input: Pin<Box<dyn AsyncWrite + Send>>,
}

/// How much of a command's output the server reads, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecLimits {
    /// Most bytes read; past it the command fails with
    /// [`RuntimeError::ExecOutputTooLarge`].
    pub max_output: usize,
    /// Longest wait for its end; past it [`RuntimeError::ExecTimedOut`].
    pub timeout: std::time::Duration,
}

/// What a finished command printed, and how it exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// Its exit code (`None` when the engine did not say).
    pub code: Option<i64>,
    /// stdout and stderr, interleaved.
    pub output: String,
}

impl Runtime {
    fn missing(id: &str, e: bollard::errors::Error) -> RuntimeError {
        if is_404(&e) {
            RuntimeError::ContainerNotFound(id.to_string())
        } else {
            e.into()
        }
    }

    /// Starts `cmd` in the container with `env` added and returns at once
    /// (as the container's user).
    pub async fn exec_detached(
        &self,
        id: &str,
        cmd: &[String],
        env: &[String],
    ) -> Result<(), RuntimeError> {
        let docker = self.client().await?;
        let exec = docker
            .create_exec(
                id,
                CreateExecOptions {
                    cmd: Some(cmd.to_vec()),
                    env: (!env.is_empty()).then(|| env.to_vec()),
                    attach_stdout: Some(false),
                    attach_stderr: Some(false),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| Self::missing(id, e))?;
        docker
            .start_exec(
                &exec.id,
                Some(StartExecOptions {
                    detach: true,
                    ..Default::default()
                }),
            )
            .await?;
        Ok(())
    }

    /// Runs `cmd` to its end; what it printed and its exit code, within
    /// `limits` (the command itself may run on in the container: the
    /// engine has no way to stop one exec).
    pub async fn exec_output(
        &self,
        id: &str,
        cmd: &[String],
        limits: ExecLimits,
    ) -> Result<ExecOutput, RuntimeError> {
        tokio::time::timeout(
            limits.timeout,
            self.exec_output_unbounded_time(id, cmd, limits),
        )
        .await
        .map_err(|_| RuntimeError::ExecTimedOut(limits.timeout.as_secs()))?
    }

    async fn exec_output_unbounded_time(
        &self,
        id: &str,
        cmd: &[String],
        limits: ExecLimits,
    ) -> Result<ExecOutput, RuntimeError> {
        let docker = self.client().await?;
        let exec = docker
            .create_exec(
                id,
                CreateExecOptions {
                    cmd: Some(cmd.to_vec()),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| Self::missing(id, e))?;
        let mut out = Vec::new();
        if let StartExecResults::Attached { mut output, .. } =
            docker.start_exec(&exec.id, None).await?
        {
            while let Some(chunk) = output.next().await {
                // one frame of the engine's stream: the engine copies an
                // exec's output through a 32 KiB buffer, so a frame is never
                // larger; the total is capped here
                let chunk = chunk?.into_bytes();
                if out.len() + chunk.len() > limits.max_output {
                    return Err(RuntimeError::ExecOutputTooLarge(limits.max_output));
                }
                out.extend_from_slice(&chunk);
            }
        }
        let code = docker.inspect_exec(&exec.id).await?.exit_code;
        Ok(ExecOutput {
            code,
            output: String::from_utf8_lossy(&out).into_owned(),
        })
    }

    /// Starts `cmd` with a TTY of `cols`×`rows` and attaches to it.
    pub async fn exec_tty(
        &self,
        id: &str,
        cmd: &[String],
        env: &[String],
        cols: u16,
        rows: u16,
    ) -> Result<Tty, RuntimeError> {
        let docker = self.client().await?;
        let exec = docker
            .create_exec(
                id,
                CreateExecOptions {
                    cmd: Some(cmd.to_vec()),
                    env: Some(env.to_vec()),
                    tty: Some(true),
                    attach_stdin: Some(true),
                    attach_stdout: Some(true),
                    attach_stderr: Some(true),
                    working_dir: Some(super::WORK_DIR.to_string()),
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| Self::missing(id, e))?;
        let started = docker
            .start_exec(
                &exec.id,
                Some(StartExecOptions {
                    tty: true,
                    ..Default::default()
                }),
            )
            .await?;
        let StartExecResults::Attached { output, input } = started else {
            return Err(RuntimeError::ContainerNotFound(id.to_string()));
        };
        let _ = self.resize_tty(&exec.id, cols, rows).await;
        Ok(Tty {
            exec_id: exec.id,
            output: Box::pin(output.map(|r| r.map(|o| o.into_bytes()).map_err(RuntimeError::from))),
            input,
        })
    }

    /// Resizes a TTY started by [`Runtime::exec_tty`].
    pub async fn resize_tty(
        &self,
        exec_id: &str,
        cols: u16,
        rows: u16,
    ) -> Result<(), RuntimeError> {
        let docker = self.client().await?;
        docker
            .resize_exec(
                exec_id,
                ResizeExecOptions {
                    height: rows,
                    width: cols,
                },
            )
            .await?;
        Ok(())
    }

    /// The container's address on the engine's network (the proxy's
    /// upstream), when it has one.
    pub async fn container_address(&self, id: &str) -> Result<Option<IpAddr>, RuntimeError> {
        let docker = self.client().await?;
        let c = docker
            .inspect_container(id, None)
            .await
            .map_err(|e| Self::missing(id, e))?;
        let settings = c.network_settings.unwrap_or_default();
        let from_networks = settings
            .networks
            .unwrap_or_default()
            .into_values()
            .filter_map(|n| n.ip_address)
            .find(|ip| !ip.is_empty());
        Ok(from_networks.and_then(|ip| ip.parse().ok()))
    }

    /// The host port the engine published container port `port` (TCP)
    /// on, if it did.
    pub async fn published_port(&self, id: &str, port: u16) -> Result<Option<u16>, RuntimeError> {
        let docker = self.client().await?;
        let c = docker
            .inspect_container(id, None)
            .await
            .map_err(|e| Self::missing(id, e))?;
        Ok(c.network_settings
            .and_then(|n| n.ports)
            .and_then(|mut p| p.remove(&format!("{port}/tcp")))
            .flatten()
            .and_then(|b| b.into_iter().find_map(|b| b.host_port?.parse().ok())))
    }
}
