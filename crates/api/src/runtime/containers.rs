//! Containers: create, start, stop, remove, wait, list ours; engine
//! capacity; images by label.

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, DeviceRequest, EndpointIpamConfig, EndpointSettings, HostConfig, Mount,
    MountType, NetworkingConfig, PortBinding,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, KillContainerOptionsBuilder, ListContainersOptionsBuilder,
    ListImagesOptionsBuilder, RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures_util::StreamExt;

use super::{ImageInfo, Runtime, RuntimeError};

/// Label: the session a container belongs to.
pub const LABEL_SESSION: &str = "berth.session";
/// Label: the kernel a container is.
pub const LABEL_KERNEL: &str = "berth.kernel";
/// Label: the server instance (database) that owns a container, so servers
/// sharing one engine never touch each other's containers.
pub const LABEL_INSTANCE: &str = "berth.instance";

/// Label: the network a container was created on (its id), so the network
/// is known to be in use even by a container that is not running.
pub const LABEL_NETWORK: &str = "berth.network";

/// A kernel's home and working directory: scratch, gone with the container.
pub const WORK_DIR: &str = "/home/work";

/// The user every process of a kernel runs as — the main process, the
/// terminal, Jupyter, sshd, every service the server starts — so they can
/// all change each other's files: `work`, uid and gid 1000. Images must
/// give it `/home/work`.
pub const KERNEL_USER: &str = "1000:1000";

/// How often, and how long apart, a name held by a container still being
/// created is looked up again.
const NAME_RESERVED_TRIES: u32 = 50;
const NAME_RESERVED_WAIT: std::time::Duration = std::time::Duration::from_millis(200);

/// What to run in one kernel container.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    /// Container name (unique on the engine).
    pub name: String,
    /// Hostname inside.
    pub hostname: String,
    /// Image reference.
    pub image: String,
    /// Main process.
    pub cmd: Vec<String>,
    /// `NAME=value` entries.
    pub env: Vec<String>,
    /// Labels.
    pub labels: HashMap<String, String>,
    /// CPU cores.
    pub cpu: f64,
    /// Memory bytes.
    pub mem: i64,
    /// /dev/shm bytes.
    pub shmem: i64,
    /// Most processes and threads inside (a fork bomb stops there).
    pub pids_limit: i64,
    /// Host directories bind-mounted inside.
    pub binds: Vec<Bind>,
    /// The network (id or name) it joins; `None`: the engine's default.
    pub network: Option<String>,
    /// Its fixed address on that network (a cluster's kernels know each
    /// other's before they start); `None`: the engine picks one.
    pub address: Option<std::net::Ipv4Addr>,
    /// `/etc/hosts` entries (`name:address`): its cluster's other kernels.
    pub hosts: Vec<String>,
    /// NVIDIA GPUs it is given (device indices), through the engine's
    /// `nvidia` runtime.
    pub gpus: Vec<String>,
    /// Ports published on the engine's host (a kernel on another host:
    /// the only way the server reaches its apps and SSH).
    pub publish: Option<Publish>,
}

/// Container ports published on the engine's host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// The host address they are published on (empty: every address).
    pub host_ip: String,
    /// The host ports the engine picks from, first and last.
    pub range: (u16, u16),
    /// Container ports (TCP).
    pub ports: Vec<u16>,
}

/// A host directory mounted into a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    /// Absolute path on the engine's host.
    pub source: String,
    /// Path inside the container.
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// How a container ended (or that it is gone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Its main process exited with this code.
    Code(i64),
    /// It no longer exists (removed behind our back).
    Vanished,
}

/// A container of ours as the engine lists it.
#[derive(Debug, Clone)]
pub struct OurContainer {
    /// Container id.
    pub id: String,
    /// `berth.session` label.
    pub session: Option<String>,
    /// `berth.kernel` label.
    pub kernel: Option<String>,
    /// Whether it runs.
    pub running: bool,
    /// Created but never started (a launch stopped between the two).
    pub created_only: bool,
    /// `berth.network` label: the network it was created on.
    pub network: Option<String>,
}

pub(super) fn is_404(e: &bollard::errors::Error) -> bool {
    matches!(
        e,
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

impl Runtime {
    /// Whether the engine has the `nvidia` runtime (GPUs can be handed to
    /// containers).
    pub async fn has_nvidia(&self) -> Result<bool, RuntimeError> {
        let info = self.client().await?.info().await?;
        Ok(info.runtimes.is_some_and(|r| r.contains_key("nvidia")))
    }

    /// CPU cores and memory bytes of the engine's machine.
    pub async fn capacity(&self) -> Result<(f64, i64), RuntimeError> {
        // a probe: an engine that hangs counts as not answering
        let info = tokio::time::timeout(super::PROBE_TIMEOUT, self.client().await?.info())
            .await
            .map_err(|_| self.unreachable("timed out"))??;
        Ok((info.ncpu.unwrap_or(1) as f64, info.mem_total.unwrap_or(0)))
    }

    /// Creates and starts a container; its id. A container that was created
    /// but failed to start is removed again; one of the same kernel already
    /// there is taken over (`same_kernel`).
    pub async fn run_container(&self, spec: &ContainerSpec) -> Result<String, RuntimeError> {
        let docker = self.client().await?;
        let mut labels = spec.labels.clone();
        if let Some(network) = &spec.network {
            labels.insert(LABEL_NETWORK.into(), network.clone());
        }
        let published = spec.publish.as_ref().filter(|p| !p.ports.is_empty());
        let body = ContainerCreateBody {
            exposed_ports: published
                .map(|p| p.ports.iter().map(|port| format!("{port}/tcp")).collect()),
            image: Some(spec.image.clone()),
            hostname: Some(spec.hostname.clone()),
            cmd: Some(spec.cmd.clone()),
            env: Some(spec.env.clone()),
            labels: Some(labels),
            working_dir: Some(WORK_DIR.into()),
            user: Some(KERNEL_USER.into()),
            host_config: Some(HostConfig {
                // the shared rule keeps cpu >= 0.01, so this is never 0 (= unlimited)
                nano_cpus: Some((spec.cpu * 1e9).round().max(1e7) as i64),
                memory: Some(spec.mem),
                // no swap on top of the memory limit
                memory_swap: Some(spec.mem),
                pids_limit: Some(spec.pids_limit),
                // nothing runs as root, and nothing can become root:
                // no capabilities, and setuid binaries raise nothing
                cap_drop: Some(vec!["ALL".into()]),
                security_opt: Some(vec!["no-new-privileges:true".into()]),
                shm_size: Some(spec.shmem),
                init: Some(true),
                network_mode: spec.network.clone(),
                // each port on a free host port of the range (the engine picks)
                port_bindings: published.map(|p| {
                    p.ports
                        .iter()
                        .map(|port| {
                            (
                                format!("{port}/tcp"),
                                Some(vec![PortBinding {
                                    host_ip: Some(p.host_ip.clone()),
                                    host_port: Some(format!("{}-{}", p.range.0, p.range.1)),
                                }]),
                            )
                        })
                        .collect()
                }),
                extra_hosts: (!spec.hosts.is_empty()).then(|| spec.hosts.clone()),
                device_requests: (!spec.gpus.is_empty()).then(|| {
                    vec![DeviceRequest {
                        driver: Some("nvidia".into()),
                        device_ids: Some(spec.gpus.clone()),
                        capabilities: Some(vec![vec!["gpu".into()]]),
                        ..Default::default()
                    }]
                }),
                // scratch: an anonymous volume, removed with the container;
                // storage folders are bind-mounted inside it
                mounts: Some(
                    std::iter::once(Mount {
                        target: Some(WORK_DIR.into()),
                        typ: Some(MountType::VOLUME),
                        ..Default::default()
                    })
                    .chain(spec.binds.iter().map(|b| Mount {
                        source: Some(b.source.clone()),
                        target: Some(b.target.clone()),
                        typ: Some(MountType::BIND),
                        read_only: Some(b.read_only),
                        ..Default::default()
                    }))
                    .collect(),
                ),
                ..Default::default()
            }),
            networking_config: match (&spec.network, spec.address) {
                (Some(network), Some(ip)) => Some(NetworkingConfig {
                    endpoints_config: Some(HashMap::from([(
                        network.clone(),
                        EndpointSettings {
                            ipam_config: Some(EndpointIpamConfig {
                                ipv4_address: Some(ip.to_string()),
                                ..Default::default()
                            }),
                            ..Default::default()
                        },
                    )])),
                }),
                _ => None,
            },
            ..Default::default()
        };
        let opts = CreateContainerOptionsBuilder::default()
            .name(&spec.name)
            .build();
        let id = match docker.create_container(Some(opts), body).await {
            Ok(c) => c.id,
            Err(e) if is_404(&e) => return Err(RuntimeError::ImageNotFound(spec.image.clone())),
            Err(
                e @ bollard::errors::Error::DockerResponseServerError {
                    status_code: 409, ..
                },
            ) => match self.same_kernel(spec).await? {
                Some(id) => id,
                None => return Err(e.into()),
            },
            Err(e) => return Err(e.into()),
        };
        match docker.start_container(&id, None).await {
            Ok(())
            // 304: it runs already (taken over)
            | Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(id),
            Err(e) => {
                let _ = self.remove(&id).await;
                Err(e.into())
            }
        }
    }

    /// The id of the container already holding `spec`'s name when it is
    /// the same kernel of the same instance: a create that a crash cut short
    /// finished in the engine after the restarted server looked, and the
    /// launch takes it over instead of failing on the name.
    async fn same_kernel(&self, spec: &ContainerSpec) -> Result<Option<String>, RuntimeError> {
        let docker = self.client().await?;
        let mut tries = 0;
        let found = loop {
            match docker.inspect_container(&spec.name, None).await {
                Ok(c) => break c,
                // the engine reserves the name before the container exists:
                // give a create still under way a moment to finish
                Err(e) if is_404(&e) && tries < NAME_RESERVED_TRIES => {
                    tries += 1;
                    tokio::time::sleep(NAME_RESERVED_WAIT).await;
                }
                Err(e) if is_404(&e) => return Ok(None),
                Err(e) => return Err(e.into()),
            }
        };
        let labels = found.config.and_then(|c| c.labels).unwrap_or_default();
        let same = [LABEL_KERNEL, LABEL_INSTANCE].iter().all(|l| {
            labels
                .get(*l)
                .is_some_and(|v| spec.labels.get(*l) == Some(v))
        });
        Ok(found.id.filter(|_| same))
    }

    /// Starts a created (or stopped) container.
    pub async fn start(&self, id: &str) -> Result<(), RuntimeError> {
        let docker = self.client().await?;
        match docker.start_container(id, None).await {
            Ok(()) => Ok(()),
            Err(e) if is_404(&e) => Err(RuntimeError::ContainerNotFound(id.to_string())),
            Err(e) => Err(e.into()),
        }
    }

    /// Asks the main process to stop (SIGTERM), killing it after `grace_secs`.
    pub async fn stop(&self, id: &str, grace_secs: i32) -> Result<(), RuntimeError> {
        let docker = self.client().await?;
        let opts = StopContainerOptionsBuilder::default().t(grace_secs).build();
        match docker.stop_container(id, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) if is_404(&e) => Ok(()),
            // 304: already stopped
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Kills the main process at once.
    pub async fn kill(&self, id: &str) -> Result<(), RuntimeError> {
        let docker = self.client().await?;
        let opts = KillContainerOptionsBuilder::default()
            .signal("SIGKILL")
            .build();
        match docker.kill_container(id, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404 | 409,
                ..
            }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Removes a container and its scratch volume (gone already is fine).
    pub async fn remove(&self, id: &str) -> Result<(), RuntimeError> {
        let docker = self.client().await?;
        let opts = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match docker.remove_container(id, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) if is_404(&e) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Waits until the container's main process exits.
    pub async fn wait(&self, id: &str) -> Result<Exit, RuntimeError> {
        let docker = self.client().await?;
        let mut stream = docker.wait_container(id, None);
        match stream.next().await {
            Some(Ok(r)) => Ok(Exit::Code(r.status_code)),
            Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => {
                Ok(Exit::Code(code))
            }
            Some(Err(e)) if is_404(&e) => Ok(Exit::Vanished),
            Some(Err(e)) => Err(e.into()),
            None => Ok(Exit::Vanished),
        }
    }

    /// Whether the container exists and runs, and its exit code if it ended.
    pub async fn state(&self, id: &str) -> Result<Option<(bool, Option<i64>)>, RuntimeError> {
        let docker = self.client().await?;
        match docker.inspect_container(id, None).await {
            Ok(c) => {
                let st = c.state.unwrap_or_default();
                Ok(Some((st.running.unwrap_or(false), st.exit_code)))
            }
            Err(e) if is_404(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The network a container was created on (its `berth.network` label);
    /// `None` for a container that is gone or has none.
    pub async fn network_of(&self, id: &str) -> Result<Option<String>, RuntimeError> {
        let docker = self.client().await?;
        match docker.inspect_container(id, None).await {
            Ok(c) => Ok(c
                .config
                .and_then(|c| c.labels)
                .and_then(|mut l| l.remove(LABEL_NETWORK))),
            Err(e) if is_404(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Every container (running or not) labelled with this server instance.
    pub async fn our_containers(&self, instance: &str) -> Result<Vec<OurContainer>, RuntimeError> {
        let docker = self.client().await?;
        let filters = HashMap::from([(
            "label".to_string(),
            vec![format!("{LABEL_INSTANCE}={instance}")],
        )]);
        let opts = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        Ok(docker
            .list_containers(Some(opts))
            .await?
            .into_iter()
            .map(|c| {
                let state = c.state.map(|s| s.to_string()).unwrap_or_default();
                let label = |name: &str| c.labels.as_ref().and_then(|l| l.get(name).cloned());
                OurContainer {
                    id: c.id.clone().unwrap_or_default(),
                    session: label(LABEL_SESSION),
                    kernel: label(LABEL_KERNEL),
                    running: state == "running",
                    created_only: state == "created",
                    network: label(LABEL_NETWORK),
                }
            })
            .collect())
    }

    /// Images that carry the label `label` (any value).
    pub async fn images_labelled(&self, label: &str) -> Result<Vec<ImageInfo>, RuntimeError> {
        let docker = self.client().await?;
        let filters = HashMap::from([("label".to_string(), vec![label.to_string()])]);
        let opts = ListImagesOptionsBuilder::default()
            .filters(&filters)
            .build();
        Ok(docker
            .list_images(Some(opts))
            .await?
            .into_iter()
            .map(|i| ImageInfo {
                id: i.id,
                tags: i
                    .repo_tags
                    .into_iter()
                    .filter(|t| t != "<none>:<none>")
                    .collect(),
                labels: i.labels,
                size: i.size.max(0) as u64,
            })
            .collect())
    }
}
