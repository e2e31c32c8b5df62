//! What a kernel's container runs: its image, main process, environment,
//! labels, limits and the folders bound into it.

use super::*;

/// Environment variables that tell numeric libraries how many threads to use.
pub(super) const THREAD_VARS: [&str; 5] = [
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
];

/// An interactive kernel's main process: sleeps until told to stop (the
/// image's CMD, often a shell, would exit at once without a TTY).
pub(super) const KEEP_ALIVE: &str =
    "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done";

/// `NVIDIA_VISIBLE_DEVICES` of a kernel given no GPU: the nvidia runtime
/// then exposes none.
pub const NO_GPUS: &str = "void";

/// What `k` of session `s` runs: image, command, env, labels, limits.
pub(super) fn spec(
    instance: &str,
    pids_limit: u32,
    s: &SessionRow,
    session_type: SessionType,
    user_env: &BTreeMap<String, String>,
    k: &KernelRow,
    binds: Vec<Bind>,
) -> ContainerSpec {
    let mut env: Vec<String> = user_env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    for var in THREAD_VARS {
        env.push(format!("{var}={}", s.nthreads));
    }
    env.push(format!("BERTH_SESSION_ID={}", s.id));
    env.push(format!("BERTH_SESSION_NAME={}", s.name));
    // a batch command runs on the main kernel; a cluster's subs wait for it
    let cmd = match (session_type, &s.startup_command) {
        (SessionType::Batch, Some(c)) if k.role == MAIN_ROLE => c.clone(),
        _ => KEEP_ALIVE.to_string(),
    };
    ContainerSpec {
        name: format!("berth-{}", k.id),
        hostname: k.hostname.clone(),
        image: s.image.clone(),
        cmd: vec!["/bin/sh".into(), "-c".into(), cmd],
        env,
        labels: HashMap::from([
            (LABEL_SESSION.to_string(), s.id.clone()),
            (LABEL_KERNEL.to_string(), k.id.clone()),
            (LABEL_INSTANCE.to_string(), instance.to_string()),
        ]),
        cpu: s.cpu,
        mem: s.mem,
        shmem: s.shmem,
        pids_limit: pids_limit.into(),
        binds,
        // the launch joins it to the session's own network
        network: None,
        address: None,
        hosts: vec![],
        gpus: vec![],
        publish: None,
    }
}

/// What the main kernel publishes on its agent's host, when the agent is
/// on another host (its containers' own addresses are not reachable from
/// the server there): the image's services and the preopen ports, on the
/// agent's address, from its port range.
pub(super) async fn publish(svc: &Services, s: &SessionRow, agent: &str) -> Option<Publish> {
    let row = svc
        .store()
        .agents()
        .await
        .ok()?
        .into_iter()
        .find(|a| a.id == agent)?;
    let address = berth_shared::agents::remote_address(&row.docker_host)?;
    let range = row
        .port_range
        .as_deref()
        .and_then(|r| berth_shared::agents::port_range(r).ok())
        .unwrap_or(svc.config().agent_ports);
    // an image gone since it was checked has no services; the launch says so
    let mut ports: Vec<u16> = crate::environments::labels_of(svc, &s.image)
        .await
        .map(|l| l.service_ports.into_iter().map(|p| p.port).collect())
        .unwrap_or_default();
    ports.extend(s.preopen_ports().unwrap_or_default());
    ports.sort_unstable();
    ports.dedup();
    Some(Publish {
        // a name is no address to bind: then every address of that host
        host_ip: address
            .parse::<std::net::IpAddr>()
            .map(|ip| ip.to_string())
            .unwrap_or_default(),
        range,
        ports,
    })
}

/// The session's storage folders, and where each agent sees the folder
/// store: what each kernel bind-mounts at `/home/work/<name>`.
pub(super) struct Folders {
    owner_id: String,
    mounts: Vec<crate::store::MountRow>,
    /// Agent id → its view of the store (none: it has none).
    roots: HashMap<String, Option<String>>,
}

/// Reads the session's folders and the agents' views of the store.
pub(super) async fn folders(svc: &Services, s: &SessionRow) -> Result<Folders, StoreError> {
    let mounts = svc
        .store()
        .mounts_of_many(std::slice::from_ref(&s.id))
        .await?;
    let roots = if mounts.is_empty() {
        HashMap::new()
    } else {
        svc.store()
            .agents()
            .await?
            .into_iter()
            .map(|a| (a.id, a.storage_path))
            .collect()
    };
    Ok(Folders {
        owner_id: s.owner_id.clone(),
        mounts,
        roots,
    })
}

impl Folders {
    /// The bind mounts of a kernel on `agent` (none: the local one), from
    /// where that agent's host sees the store; why not, when it sees none
    /// (its storage path was taken away after the session was placed).
    pub(super) fn binds_on(&self, agent: Option<&str>) -> Result<Vec<Bind>, String> {
        if self.mounts.is_empty() {
            return Ok(Vec::new());
        }
        let agent = agent.unwrap_or(crate::runtime::LOCAL);
        let Some(Some(root)) = self.roots.get(agent) else {
            return Err(format!(
                "agent {agent} does not see the folder storage (no storage path is set for it)"
            ));
        };
        Ok(self
            .mounts
            .iter()
            .map(|m| Bind {
                source: crate::folders::fs::Storage::agent_path(root, &self.owner_id, &m.folder_id),
                target: format!("{WORK_DIR}/{}", m.name),
                read_only: m.read_only != 0,
            })
            .collect())
    }
}

/// What each kernel is told about its cluster, with Backend.AI's names:
/// its hostname and role, its index (1-based within its role) and rank
/// (0-based overall), the cluster's size, mode and every hostname.
pub(super) fn cluster_env<'a>(
    s: &'a SessionRow,
    kernels: &'a [KernelRow],
) -> impl Fn(&KernelRow) -> Vec<String> + 'a {
    let hostnames = kernels
        .iter()
        .map(|k| k.hostname.clone())
        .collect::<Vec<_>>()
        .join(",");
    move |k: &KernelRow| {
        let rank = k.index();
        let idx = if rank == 0 { 1 } else { rank };
        vec![
            format!("BACKENDAI_SESSION_ID={}", s.id),
            format!("BACKENDAI_KERNEL_ID={}", k.id),
            format!("BACKENDAI_CLUSTER_MODE={}", s.cluster_mode),
            format!("BACKENDAI_CLUSTER_SIZE={}", kernels.len()),
            format!("BACKENDAI_CLUSTER_HOSTS={hostnames}"),
            format!("BACKENDAI_CLUSTER_HOST={}", k.hostname),
            format!("BACKENDAI_CLUSTER_ROLE={}", k.role),
            format!("BACKENDAI_CLUSTER_IDX={idx}"),
            format!("BACKENDAI_CLUSTER_LOCAL_RANK={rank}"),
        ]
    }
}
