//! SCHEDULED → PREPARING → RUNNING: the session's own network, the
//! container a kernel runs in (joined to that network), and the
//! watcher that ends the session when its main process exits, its container
//! vanishes or its batch time limit passes.

mod devices;
mod image;
mod spec;
mod watch;

use self::devices::give_devices;
use self::image::ensure_image;
pub use self::spec::NO_GPUS;
use self::spec::{cluster_env, folders, publish, spec};
pub(super) use self::watch::watch;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use berth_shared::sessions::{is_device_slot, reason, SessionStatus, SessionType, StatusData};

use super::finish::finish;
use super::status::{self, Change};
use super::tasks::Task;
use crate::resources::agents::LOCAL;
use crate::runtime::{
    Bind, ContainerSpec, ExecLimits, Exit, Publish, Runtime, RuntimeError, LABEL_INSTANCE,
    LABEL_KERNEL, LABEL_SESSION, WORK_DIR,
};
use crate::services::{Services, Shared};
use crate::store::{KernelRow, SessionRow, StoreError, MAIN_ROLE};

use SessionStatus::{Preparing, Running, Scheduled, Terminating};

/// Makes the session's SSH key pair inside the container when the image
/// has an SSH server: the public key goes to `work`'s authorized keys, the
/// private key to `/home/work/id_container` (where the user finds it in
/// Jupyter or the explorer). Key material leaves the container only as
/// the owner's download (`apps::ssh::ssh_key`).
const SSH_KEYGEN: &str = "command -v ssh-keygen >/dev/null 2>&1 || exit 0; \
    [ -f /home/work/id_container ] && exit 0; \
    ssh-keygen -q -t ed25519 -N '' -C berth-session -f /home/work/id_container && \
    mkdir -p /home/work/.ssh && cat /home/work/id_container.pub >> /home/work/.ssh/authorized_keys && \
    rm -f /home/work/id_container.pub && \
    chmod 700 /home/work/.ssh && chmod 600 /home/work/.ssh/authorized_keys /home/work/id_container";

/// The most the SSH key step may print. It must also end within
/// `--exec-timeout-secs` before the session counts as RUNNING: an image
/// whose `ssh-keygen` hangs loses SSH, not its launch.
const SSH_KEYGEN_OUTPUT_MAX: usize = 16 * 1024;

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
        .with_data(StatusData::error(src, repr));
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
    let folders = match folders(&svc, &s).await {
        Ok(f) => f,
        Err(e) => return failed_to_start(&svc, &s, "other", e.to_string()).await,
    };
    let session_type = type_of(&s);
    let pids = svc.config().pids_limit;
    let agent_of = |k: &KernelRow| k.agent.clone().or_else(|| s.agent.clone());
    // one network of the session on each agent its kernels are on (or
    // that engine's isolating default bridge), and the image there
    let mut nets = Nets::default();
    let own = svc.config().own_networks;
    for k in &kernels {
        let agent = agent_of(k);
        if nets.of(&agent).is_some() {
            continue;
        }
        let rt = svc.runtime_of(agent.as_deref());
        let network = match svc
            .networks()
            .for_session(svc.engines(), agent.as_deref(), &s.id, kernels.len(), own)
            .await
        {
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
            // a cluster always has networks of its own
            let Some(network) = network else { continue };
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
    // each kernel's folders, from where its agent sees the store
    let mut binds = HashMap::new();
    for k in &kernels {
        match folders.binds_on(agent_of(k).as_deref()) {
            Ok(b) => {
                binds.insert(k.id.clone(), b);
            }
            Err(why) => {
                nets.discard_unused(&svc).await;
                return failed_to_start(&svc, &s, "agent", why).await;
            }
        }
    }
    // the subs first: the main kernel's start makes the session RUNNING
    let main = &kernels[0];
    let main_publishes = publish(&svc, &s, agent_of(main).as_deref().unwrap_or(LOCAL)).await;
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
            binds.remove(&k.id).unwrap_or_default(),
        );
        if k.id == main.id {
            spec.publish = main_publishes.clone();
        }
        spec.network = network.clone();
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
        if let Some(network) = network.filter(|_| resumed) {
            if !matches!(rt.network_of(&cid).await, Ok(Some(n)) if n == network) {
                svc.networks()
                    .give_back(svc.engines(), agent.as_deref(), network, &s.id)
                    .await;
            }
        }
        started(&svc, &s, k, cid).await;
    }
}

/// The session networks a launch took, per agent (`None`: the engine's
/// default bridge), and whether a container of it joined each.
#[derive(Default)]
struct Nets {
    taken: Vec<(Option<String>, Option<String>, bool)>,
}

impl Nets {
    fn of(&self, agent: &Option<String>) -> Option<Option<String>> {
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
            if let Some(network) = network.filter(|_| !used) {
                svc.networks()
                    .discard(svc.engines(), agent.as_deref(), network)
                    .await;
            }
        }
    }
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
                    svc.networks()
                        .give_back(svc.engines(), agent, n, &s.id)
                        .await;
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
