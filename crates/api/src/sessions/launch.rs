//! SCHEDULED → PREPARING → RUNNING: the session's own network, the
//! container a kernel runs in (joined to that network), and the
//! watcher that ends the session when its main process exits, its container
//! vanishes or its batch time limit passes.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use berth_shared::sessions::{is_device_slot, reason, SessionStatus, SessionType};
use serde_json::json;

use super::finish::finish;
use super::status::{self, error_data, Change};
use super::tasks::Task;
use crate::resources::agents::LOCAL;
use crate::runtime::{
    Bind, ContainerSpec, ExecLimits, Exit, Runtime, RuntimeError, LABEL_INSTANCE, LABEL_KERNEL,
    LABEL_SESSION, WORK_DIR,
};
use crate::services::{Services, Shared};
use crate::store::{KernelRow, SessionRow, StoreError, MAIN_ROLE};

use SessionStatus::{Preparing, Running, Scheduled, Terminating};

/// Environment variables that tell numeric libraries how many threads to use.
const THREAD_VARS: [&str; 5] = [
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
];

/// An interactive kernel's main process: sleeps until told to stop (the
/// image's CMD, often a shell, would exit at once without a TTY).
const KEEP_ALIVE: &str = "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done";

/// Makes the session's SSH key pair inside the container when the image
/// has an SSH server: the public key goes to `work`'s authorized keys, the
/// private key to `/home/work/id_container` (where the user finds it in
/// Jupyter or the explorer). Key material never leaves the container.
const SSH_KEYGEN: &str = "command -v ssh-keygen >/dev/null 2>&1 || exit 0; \
    [ -f /home/work/id_container ] && exit 0; \
    ssh-keygen -q -t ed25519 -N '' -C berth-session -f /home/work/id_container && \
    mkdir -p /home/work/.ssh && cat /home/work/id_container.pub >> /home/work/.ssh/authorized_keys && \
    rm -f /home/work/id_container.pub && \
    chmod 700 /home/work/.ssh && chmod 600 /home/work/.ssh/authorized_keys /home/work/id_container";

/// `NVIDIA_VISIBLE_DEVICES` of a kernel given no GPU: the nvidia runtime
/// then exposes none.
pub const NO_GPUS: &str = "void";

/// The most the SSH key step may print. It must also end within
/// `--exec-timeout-secs` before the session counts as RUNNING: an image
/// whose `ssh-keygen` hangs loses SSH, not its launch.
const SSH_KEYGEN_OUTPUT_MAX: usize = 16 * 1024;

/// How long a watcher waits before asking the engine again after a failure.
const WAIT_RETRY: Duration = Duration::from_secs(2);

/// What `k` of session `s` runs: image, command, env, labels, limits.
fn spec(
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
    }
}

/// The session's storage folders as bind mounts at `/home/work/<name>`.
async fn binds(svc: &Services, s: &SessionRow) -> Result<Vec<Bind>, StoreError> {
    Ok(svc
        .store()
        .mounts_of_many(std::slice::from_ref(&s.id))
        .await?
        .into_iter()
        .map(|m| Bind {
            source: svc
                .storage()
                .host_path(&s.owner_id, &m.folder_id)
                .to_string_lossy()
                .into_owned(),
            target: format!("{WORK_DIR}/{}", m.name),
            read_only: m.read_only != 0,
        })
        .collect())
}

/// Whether the session's image offers an SSH server (`sshd` service port).
async fn has_ssh(rt: &Runtime, s: &SessionRow) -> bool {
    rt.inspect_image(&s.image).await.is_ok_and(|i| {
        crate::environments::ImageLabels::read(&i.labels)
            .service_ports
            .iter()
            .any(|p| p.name == "sshd")
    })
}

/// Interactive or batch; an unreadable type runs as interactive (logged).
fn type_of(s: &SessionRow) -> SessionType {
    s.session_type().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "running a session of unknown type as interactive");
        SessionType::Interactive
    })
}

/// Ends a session that could not start, from PREPARING, with the reason.
pub(super) async fn failed_to_start(svc: &Services, s: &SessionRow, src: &str, repr: String) {
    let end = Change::new(&[Preparing], SessionStatus::Error)
        .because(reason::FAILED_TO_START)
        .with_data(error_data(src, repr));
    finish(svc, s, end).await;
}

/// Creates and starts the container, then watches it. Called by the
/// scheduler loop once the session holds capacity (SCHEDULED).
pub async fn launch(svc: Shared, session_id: String) {
    // the reconciler leaves a session alone while this runs
    let Some(_claim) = svc.tasks().claim(Task::Launching, &session_id) else {
        return;
    };
    let Ok(Some(s)) = svc.store().session(&session_id).await else {
        return;
    };
    // PREPARING already: a launch cut short by a crash, resumed by the reconciler
    let resumed = super::status_of(&s) == Preparing;
    if !resumed {
        let preparing = Change::new(&[Scheduled], Preparing).because(reason::PREPARING);
        if !matches!(status::change(&svc, &s, preparing).await, Ok(true)) {
            return;
        }
    }
    let kernels = svc.store().kernels_of(&s.id).await.unwrap_or_default();
    if kernels.is_empty() {
        return failed_to_start(&svc, &s, "other", "the session has no kernel".into()).await;
    }
    let env = match s.env() {
        Ok(env) => env,
        Err(e) => return failed_to_start(&svc, &s, "other", e.to_string()).await,
    };
    let binds = match binds(&svc, &s).await {
        Ok(b) => b,
        Err(e) => return failed_to_start(&svc, &s, "other", e.to_string()).await,
    };
    let session_type = type_of(&s);
    let pids = svc.config().pids_limit;
    let agent_of = |k: &KernelRow| k.agent.clone().or_else(|| s.agent.clone());
    // one network of the session on each agent its kernels are on, and the image there
    let mut nets = Nets::default();
    for k in &kernels {
        let agent = agent_of(k);
        if nets.of(&agent).is_some() {
            continue;
        }
        let rt = svc.runtime_of(agent.as_deref());
        let network = match svc.networks().take(&svc, agent.as_deref(), &s.id).await {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(session = %s.id, error = %e, "no network for the session");
                nets.discard_unused(&svc).await;
                return failed_to_start(&svc, &s, "agent", e.to_string()).await;
            }
        };
        nets.taken.push((agent.clone(), network, false));
        if let Err(e) = ensure_image(&svc, &s, agent.as_deref(), &rt).await {
            tracing::warn!(session = %s.id, error = %e, "the image could not be brought to the agent");
            nets.discard_unused(&svc).await;
            return failed_to_start(&svc, &s, "agent", e.to_string()).await;
        }
    }
    // a cluster's kernels get fixed addresses, so each is told the others'
    // (on one agent or across several) before any starts
    let mut addresses: HashMap<String, std::net::Ipv4Addr> = HashMap::new();
    if kernels.len() > 1 {
        for (agent, network, _) in &nets.taken {
            let subnet = match svc
                .runtime_of(agent.as_deref())
                .network_subnet(network)
                .await
            {
                Ok(Some(net)) => net,
                other => {
                    let why = other
                        .err()
                        .map_or("the session network has no subnet".into(), |e| {
                            e.to_string()
                        });
                    nets.discard_unused(&svc).await;
                    return failed_to_start(&svc, &s, "agent", why).await;
                }
            };
            for k in kernels.iter().filter(|k| agent_of(k) == *agent) {
                // .1 is the bridge's own; the main kernel gets .2
                if let Some(ip) = subnet.hosts().nth(k.index() + 1) {
                    addresses.insert(k.id.clone(), ip);
                }
            }
        }
    }
    let hosts: Vec<(String, String)> = kernels
        .iter()
        .filter_map(|k| {
            addresses
                .get(&k.id)
                .map(|ip| (k.id.clone(), format!("{}:{ip}", k.hostname)))
        })
        .collect();
    let cluster = cluster_env(&s, &kernels);
    let asked = s.accelerators().unwrap_or_default();
    // what each agent declares matters only to a session that asks for devices
    let declared: HashMap<String, BTreeMap<String, f64>> =
        if asked.keys().any(|k| is_device_slot(k)) {
            svc.store()
                .agents()
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|a| (a.id, a.accel_total))
                .collect()
        } else {
            HashMap::new()
        };
    // devices in kernel order (main first), before anything starts
    let mut devices: HashMap<String, (Vec<String>, Vec<String>)> = HashMap::new();
    for k in &kernels {
        let agent = agent_of(k).unwrap_or_else(|| LOCAL.to_string());
        let totals = declared.get(&agent).cloned().unwrap_or_default();
        let rt = svc.runtime_of(Some(&agent));
        match give_devices(&svc, &rt, k, &agent, &asked, &totals).await {
            Ok(given) => {
                devices.insert(k.id.clone(), given);
            }
            Err(why) => {
                nets.discard_unused(&svc).await;
                return failed_to_start(&svc, &s, "agent", why).await;
            }
        }
    }
    // the subs first: the main kernel's start makes the session RUNNING
    let main = &kernels[0];
    for k in kernels.iter().skip(1).chain(std::iter::once(main)) {
        let agent = agent_of(k);
        let rt = svc.runtime_of(agent.as_deref());
        let Some(network) = nets.of(&agent) else {
            continue;
        };
        let mut spec = spec(
            svc.instance(),
            pids,
            &s,
            session_type,
            &env,
            k,
            binds.clone(),
        );
        spec.network = Some(network.clone());
        spec.address = addresses.get(&k.id).copied();
        spec.hosts = hosts
            .iter()
            .filter(|(id, _)| *id != k.id)
            .map(|(_, h)| h.clone())
            .collect();
        spec.env.extend(cluster(k));
        if let Some((env, gpus)) = devices.remove(&k.id) {
            spec.env.extend(env);
            spec.gpus = gpus;
        }
        if spec.gpus.is_empty() {
            // an engine whose default runtime is nvidia would otherwise hand
            // every GPU to a kernel that was given none
            spec.env.push(format!("NVIDIA_VISIBLE_DEVICES={NO_GPUS}"));
        }
        let cid = match rt.run_container(&spec).await {
            Ok(cid) => cid,
            Err(e) => {
                tracing::warn!(session = %s.id, kernel = %k.hostname, error = %e, "session failed to start");
                // what started is removed by the end (its containers are recorded)
                nets.discard_unused(&svc).await;
                return failed_to_start(&svc, &s, "agent", e.to_string()).await;
            }
        };
        nets.used(&agent);
        if k.id != main.id {
            if let Err(e) = svc.store().set_kernel_container(&k.id, &cid).await {
                tracing::error!(error = %e, "could not record a container");
            }
            continue;
        }
        // a resumed launch may take over a container made on another network
        if resumed && !matches!(rt.network_of(&cid).await, Ok(Some(n)) if n == network) {
            svc.networks()
                .give_back(&svc, agent.as_deref(), network, &s.id)
                .await;
        }
        started(&svc, &s, k, cid).await;
    }
}

/// Gives kernel `k` the devices of each `*.device` slot it asks for (the
/// lowest free indices of its agent, recorded so no other kernel gets
/// them): NVIDIA GPUs (returned second) through the engine's `nvidia`
/// runtime when it has one, and for every other kind (a declared test kind
/// like `fake.device`) the indices in `<KIND>_VISIBLE_DEVICES` (returned
/// first, as env entries).
async fn give_devices(
    svc: &Services,
    rt: &Runtime,
    k: &KernelRow,
    agent: &str,
    asked: &BTreeMap<String, f64>,
    totals: &BTreeMap<String, f64>,
) -> Result<(Vec<String>, Vec<String>), String> {
    let (mut env, mut gpus) = (Vec::new(), Vec::new());
    for (slot, n) in asked
        .iter()
        .filter(|(slot, n)| is_device_slot(slot) && **n > 0.0)
    {
        let total = totals.get(slot).copied().unwrap_or(0.0).max(0.0) as u32;
        let picked = svc
            .store()
            .assign_devices(&k.id, agent, slot, *n as u32, total)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("agent {agent} has no {n} free {slot}"))?;
        let list: Vec<String> = picked.iter().map(u32::to_string).collect();
        if slot == "cuda.device" && rt.has_nvidia().await.unwrap_or(false) {
            gpus.extend(list);
        } else {
            let kind = slot.split('.').next().unwrap_or(slot).to_ascii_uppercase();
            env.push(format!("{kind}_VISIBLE_DEVICES={}", list.join(",")));
        }
    }
    Ok((env, gpus))
}

/// The session networks a launch took, per agent, and whether a container
/// of it joined each.
#[derive(Default)]
struct Nets {
    taken: Vec<(Option<String>, String, bool)>,
}

impl Nets {
    fn of(&self, agent: &Option<String>) -> Option<String> {
        self.taken
            .iter()
            .find(|(a, _, _)| a == agent)
            .map(|(_, n, _)| n.clone())
    }

    fn used(&mut self, agent: &Option<String>) {
        if let Some(t) = self.taken.iter_mut().find(|(a, _, _)| a == agent) {
            t.2 = true;
        }
    }

    /// Drops the networks no container joined (they may be what failed);
    /// the others go back when the session ends.
    async fn discard_unused(&mut self, svc: &Services) {
        for (agent, network, used) in std::mem::take(&mut self.taken) {
            if !used {
                svc.networks().discard(svc, agent.as_deref(), network).await;
            }
        }
    }
}

/// What each kernel is told about its cluster, with Backend.AI's names:
/// its hostname and role, its index (1-based within its role) and rank
/// (0-based overall), the cluster's size, mode and every hostname.
fn cluster_env<'a>(
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

/// Makes sure another agent's engine has the session's image (the local
/// engine is the catalogue creation checked): when it does not, copies it
/// from an engine that has it (the local one first),
/// streamed through this process, with the progress announced as the
/// `pulling` phase of PREPARING (stored and announced at most every 5%).
async fn ensure_image(
    svc: &Shared,
    s: &SessionRow,
    agent: Option<&str>,
    rt: &Runtime,
) -> Result<(), RuntimeError> {
    let target = agent.unwrap_or(LOCAL).to_string();
    // the local engine is the catalogue: creating the session checked it
    // has the image (a launch there asks no more; one gone since fails it)
    if target == LOCAL {
        return Ok(());
    }
    match rt.inspect_image(&s.image).await {
        Ok(_) => return Ok(()),
        Err(RuntimeError::ImageNotFound(_)) => {}
        Err(e) => return Err(e),
    }
    for (source, engine) in svc.engines().all() {
        if source == target {
            continue;
        }
        let Ok(found) = engine.inspect_image(&s.image).await else {
            continue;
        };
        let total = found.size;
        let facts = move |bytes: u64| json!({"agent": target, "source": source, "image": found.tags.first().cloned().unwrap_or_default(), "bytes": bytes, "total": total});
        status::note_pulling(svc, s, Some(facts(0))).await;
        // progress is written in order by one task; it ends with the copy
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
        let writer = {
            let (svc, row) = (svc.clone(), s.clone());
            tokio::spawn(async move {
                while let Some(bytes) = rx.recv().await {
                    status::note_pulling(&svc, &row, Some(facts(bytes))).await;
                }
            })
        };
        let step = (total / 20).max(1 << 20);
        let told = std::sync::atomic::AtomicU64::new(0);
        let copied = engine
            .copy_image_to(rt, &s.image, move |bytes| {
                use std::sync::atomic::Ordering::Relaxed;
                if bytes >= told.load(Relaxed) + step {
                    told.store(bytes, Relaxed);
                    let _ = tx.send(bytes);
                }
            })
            .await;
        let _ = writer.await;
        status::note_pulling(svc, s, None).await;
        return copied;
    }
    Err(RuntimeError::ImageNotFound(s.image.clone()))
}

/// A PREPARING session's container runs: record it, make the SSH key,
/// record RUNNING and watch it. Also how the reconciler adopts a container
/// a crashed launch had started.
pub(super) async fn started(svc: &Shared, s: &SessionRow, k: &KernelRow, cid: String) {
    if let Err(e) = svc.store().set_kernel_container(&k.id, &cid).await {
        tracing::error!(error = %e, "could not record a container");
    }
    let rt = super::engine_of(svc, s, k);
    if has_ssh(&rt, s).await {
        let keygen = ["/bin/sh".to_string(), "-c".into(), SSH_KEYGEN.into()];
        let limits = ExecLimits {
            max_output: SSH_KEYGEN_OUTPUT_MAX,
            timeout: Duration::from_secs(svc.config().exec_timeout_secs.max(1)),
        };
        match rt.exec_output(&cid, &keygen, limits).await {
            Ok(out) if out.code == Some(0) => {}
            // the session still works without SSH; the output may hold no key, but is not logged
            Ok(out) => {
                tracing::warn!(session = %s.id, code = ?out.code, "making the SSH key failed")
            }
            Err(e) => {
                tracing::warn!(session = %s.id, error = %e, "making the SSH key failed")
            }
        }
    }
    match status::change(svc, s, Change::new(&[Preparing], Running)).await {
        Ok(true) => {
            let timeout = s
                .batch_timeout
                .map(|t| Duration::from_secs(t.max(0) as u64));
            tokio::spawn(watch(svc.clone(), s.clone(), cid, timeout));
        }
        // terminated while starting: whoever ended it cleans up; make sure the container goes
        _ => {
            let network = rt.network_of(&cid).await.ok().flatten();
            if rt.remove(&cid).await.is_ok() {
                if let Some(n) = network {
                    let agent = k.agent.as_deref().or(s.agent.as_deref());
                    svc.networks().give_back(svc, agent, n, &s.id).await;
                }
            }
        }
    }
}

/// How a watched container ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The batch time limit passed.
    TimedOut,
    /// The container is gone (removed outside berth).
    Vanished,
    /// Its main process exited with this code.
    Exited(i64),
}

/// The end a main process's exit code means, by session type.
fn end_of_exit(session_type: SessionType, code: i64) -> (SessionStatus, &'static str) {
    match (session_type, code) {
        (_, 0) => (SessionStatus::Terminated, reason::SELF_TERMINATED),
        (SessionType::Batch, _) => (SessionStatus::Terminated, reason::FAILED),
        (SessionType::Interactive, _) => (SessionStatus::Error, reason::CONTAINER_EXITED),
    }
}

/// Waits until the container exits, vanishes, or `deadline` passes; `None`
/// when the server shuts down first.
async fn wait_for_end(
    svc: &Services,
    rt: &Runtime,
    cid: &str,
    deadline: Option<tokio::time::Instant>,
) -> Option<Outcome> {
    loop {
        let waited = async {
            match deadline {
                Some(d) => tokio::time::timeout_at(d, rt.wait(cid)).await.ok(),
                None => Some(rt.wait(cid).await),
            }
        };
        let outcome = tokio::select! {
            _ = svc.shutdown().cancelled() => return None,
            o = waited => o,
        };
        match outcome {
            None => return Some(Outcome::TimedOut),
            // `docker rm -f` also ends a wait, with the kill's exit code: tell the two apart
            Some(Ok(Exit::Code(code))) => {
                return Some(match rt.state(cid).await {
                    Ok(None) => Outcome::Vanished,
                    _ => Outcome::Exited(code),
                })
            }
            Some(Ok(Exit::Vanished)) => return Some(Outcome::Vanished),
            Some(Err(e)) => {
                tracing::warn!(container = %cid, error = %e, "waiting on a container failed; retrying");
                tokio::select! {
                    _ = svc.shutdown().cancelled() => return None,
                    _ = tokio::time::sleep(WAIT_RETRY) => {}
                }
            }
        }
    }
}

/// Waits for the main container to exit (or the batch time limit), then
/// ends the session with the reason.
pub(super) async fn watch(svc: Shared, s: SessionRow, cid: String, timeout: Option<Duration>) {
    let Some(_claim) = svc.tasks().claim(Task::Watching, &s.id) else {
        return;
    };
    // checked: a limit past the clock's range means no deadline, not a panic
    let deadline = timeout.and_then(|t| tokio::time::Instant::now().checked_add(t));
    // the main kernel's agent is the session's
    let rt = svc.runtime_of(s.agent.as_deref());
    let Some(outcome) = wait_for_end(&svc, &rt, &cid, deadline).await else {
        return;
    };
    match outcome {
        Outcome::TimedOut => {
            let secs = timeout.map(|t| t.as_secs()).unwrap_or(0);
            let stopping = Change::new(&[Running], Terminating).because(reason::BATCH_TIMEOUT);
            if matches!(status::change(&svc, &s, stopping).await, Ok(true)) {
                let _ = rt.kill(&cid).await;
                let end = Change::new(&[Terminating], SessionStatus::Terminated)
                    .because(reason::BATCH_TIMEOUT)
                    .with_data(json!({"batch_timeout": secs}));
                finish(&svc, &s, end).await;
            }
        }
        Outcome::Vanished => {
            let end = Change::new(&[Running], SessionStatus::Error)
                .because(reason::CONTAINER_LOST)
                .with_data(error_data(
                    "agent",
                    "the container was removed outside berth",
                ));
            finish(&svc, &s, end).await;
        }
        Outcome::Exited(code) => {
            let (to, info) = end_of_exit(type_of(&s), code);
            // Claim the end first, so a concurrent terminate does not also finish it.
            let stopping = Change::new(&[Running], Terminating).because(info);
            if matches!(status::change(&svc, &s, stopping).await, Ok(true)) {
                let kernels = svc.store().kernels_of(&s.id).await.unwrap_or_default();
                for k in kernels
                    .iter()
                    .filter(|k| k.container_id.as_deref() == Some(cid.as_str()))
                {
                    let _ = svc.store().set_kernel_exit(&k.id, Some(code), None).await;
                }
                let end = Change::new(&[Terminating], to)
                    .because(info)
                    .with_data(json!({"exit_code": code}));
                finish(&svc, &s, end).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exit_code_means_an_end_by_session_type() {
        use SessionType::*;
        assert_eq!(
            end_of_exit(Batch, 0),
            (SessionStatus::Terminated, reason::SELF_TERMINATED)
        );
        assert_eq!(
            end_of_exit(Batch, 3),
            (SessionStatus::Terminated, reason::FAILED)
        );
        assert_eq!(
            end_of_exit(Interactive, 0),
            (SessionStatus::Terminated, reason::SELF_TERMINATED)
        );
        assert_eq!(
            end_of_exit(Interactive, 137),
            (SessionStatus::Error, reason::CONTAINER_EXITED)
        );
    }
}
