//! A session's apps: the catalogue (the image's service ports, the
//! session's preopen ports, the built-in terminal), opening one — starting
//! its service in the container if the image says how
//! (`/etc/backend.ai/service-defs/<name>.json`, the reference product's
//! convention) and serving it through the proxy: a web app on a host name
//! of its own (`<label>.<--apps-domain>`), a TCP app on a port of the pool
//! (`--app-ports`, the preferred one when it is free) — and closing one.
//! Apps close when their session ends, and a disabled owner's close.

mod error;
pub mod pass;
pub mod proxy;
pub mod registry;
pub mod service;
pub mod ssh;
pub mod terminal;
pub mod warm;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use berth_shared::apps::{
    AppInfo, AppKind, AppList, AppOpened, AppProtocol, OpenAppRequest, OpenedApp, LAUNCH_PATH,
};
use berth_shared::auth::UserInfo;
use berth_shared::resources::ServicePort;
use berth_shared::sessions::SessionStatus;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use self::error::{AppError, AppResult};
use self::registry::{Address, NotRecorded, OpenEntry};
use self::service::{ensure_started, service_ports};
use crate::accounts::{self, OwnedCredential};
use crate::services::{Services, Shared};
use crate::sessions::{self, SessionError};
use crate::store::SessionRow;

/// The built-in terminal's app name.
pub const TERMINAL: &str = "terminal";
/// The apps a session offers, in the order the launcher shows them: the
/// image's services, the preopen ports (named by their number, served as
/// HTTP), the terminal.
fn catalogue(
    service_ports: &[ServicePort],
    preopen: &[u16],
) -> Vec<(String, AppProtocol, AppKind, Option<u16>)> {
    let mut out: Vec<_> = service_ports
        .iter()
        .filter_map(|s| {
            AppProtocol::parse(&s.protocol)
                .map(|p| (s.name.clone(), p, AppKind::Service, Some(s.port)))
        })
        .collect();
    out.extend(
        preopen
            .iter()
            .map(|p| (p.to_string(), AppProtocol::Http, AppKind::Preopen, Some(*p))),
    );
    out.push((TERMINAL.into(), AppProtocol::Pty, AppKind::Terminal, None));
    out
}

/// The session's apps as the catalogue lists them.
async fn apps_of(
    svc: &Services,
    row: &SessionRow,
) -> AppResult<Vec<(String, AppProtocol, AppKind, Option<u16>)>> {
    let ports = service_ports(svc, row).await?;
    let preopen = row.preopen_ports().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "showing no preopen ports");
        vec![]
    });
    Ok(catalogue(&ports, &preopen))
}

/// The proxy pool's range.
fn pool(svc: &Services) -> (u16, u16) {
    svc.config().app_ports
}

/// How the caller reached this server: what app addresses are built from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// `http` or `https`.
    pub scheme: &'static str,
    /// The host name the caller used, without its port (TCP apps and the
    /// SSH commands use it).
    pub host: String,
    /// The port the caller used, when it gave one.
    pub port: Option<u16>,
}

/// Where an open app is, for someone who reached the server by `reach`.
fn address_of(svc: &Services, entry: &OpenEntry, reach: &Reach) -> OpenedApp {
    let (url, port) = match &entry.address {
        Address::Host(label) => {
            let default = if reach.scheme == "https" { 443 } else { 80 };
            let port = reach.port.unwrap_or(default);
            let suffix = if port == default {
                String::new()
            } else {
                format!(":{port}")
            };
            (
                format!(
                    "{}://{label}.{}{suffix}/",
                    reach.scheme,
                    svc.config().apps_domain
                ),
                port,
            )
        }
        Address::Port(port) => (format!("{}:{port}", reach.host), *port),
    };
    OpenedApp {
        url,
        port,
        public: entry.public,
    }
}

/// Where the server reaches port `port` of container `cid` on `agent`:
/// on an agent on another host, the host port it was published on at
/// that host's address (the container's own address is routed nowhere
/// outside that host); else the container's own address.
pub(crate) async fn upstream_of(
    svc: &Services,
    agent: Option<&str>,
    rt: &crate::runtime::Runtime,
    cid: &str,
    port: u16,
) -> AppResult<SocketAddr> {
    let agent = agent.unwrap_or(crate::runtime::LOCAL);
    let remote = svc
        .store()
        .agents()
        .await
        .map_err(SessionError::from)?
        .into_iter()
        .find(|a| a.id == agent)
        .and_then(|a| berth_shared::agents::remote_address(&a.docker_host));
    let Some(host) = remote else {
        let ip: IpAddr = rt
            .container_address(cid)
            .await?
            .ok_or_else(|| AppError::Unavailable("The container has no address.".into()))?;
        return Ok(SocketAddr::new(ip, port));
    };
    let published = rt.published_port(cid, port).await?.ok_or_else(|| {
        AppError::Unavailable(format!(
            "Port {port} is not published on agent {agent}'s host (the session started before it was offered)."
        ))
    })?;
    tokio::net::lookup_host((host.as_str(), published))
        .await
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| {
            AppError::Unavailable(format!("Agent {agent}'s host {host} has no address."))
        })
}

/// Whether a TCP app is forwarded with nothing in front of it.
fn unauthenticated(name: &str, protocol: AppProtocol) -> bool {
    protocol == AppProtocol::Tcp && name != "sshd"
}

pub(crate) async fn running(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
) -> AppResult<(SessionRow, String)> {
    let row = sessions::visible_row(svc, caller, id).await?;
    if row.status().ok() != Some(SessionStatus::Running) {
        return Err(AppError::Conflict(
            "Apps open in a running session only.".into(),
        ));
    }
    let cid = main_container(svc, &row.id)
        .await?
        .ok_or_else(|| AppError::Conflict("The session has no container yet.".into()))?;
    Ok((row, cid))
}

/// The container of session `id`'s main kernel, once it has one.
async fn main_container(svc: &Services, id: &str) -> AppResult<Option<String>> {
    Ok(svc
        .store()
        .kernels_of(id)
        .await
        .map_err(SessionError::from)?
        .into_iter()
        .find_map(|k| k.container_id))
}

/// Fails unless the caller may use the session's apps and it runs.
pub async fn running_check(svc: &Services, caller: &UserInfo, id: &str) -> AppResult<()> {
    running(svc, caller, id).await.map(|_| ())
}

/// A session's apps (`reach`: how the caller reaches this server).
pub async fn list(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
    reach: &Reach,
) -> AppResult<AppList> {
    let row = sessions::visible_row(svc, caller, id).await?;
    let items = apps_of(svc, &row)
        .await?
        .into_iter()
        .map(|(name, protocol, kind, port)| AppInfo {
            open: svc
                .apps()
                .get(&row.id, &name)
                .map(|e| address_of(svc, &e, reach)),
            unauthenticated: unauthenticated(&name, protocol),
            name,
            protocol,
            kind,
            port,
        })
        .collect();
    Ok(AppList {
        items,
        open_to_public: svc.config().allow_public_apps,
        preferred_ports: svc.config().allow_preferred_port.then(|| pool(svc)),
        traffic: svc.apps().traffic(&row.id).read(),
    })
}

/// A listener on the preferred port when it is in the pool and free, else
/// on the first free port of the pool.
async fn bind_pool(svc: &Services, preferred: Option<u16>) -> AppResult<TcpListener> {
    let (lo, hi) = pool(svc);
    let ip = svc.config().app_host;
    if let Some(p) = preferred.filter(|p| (lo..=hi).contains(p)) {
        if !svc.apps().port_taken(p) {
            if let Ok(l) = TcpListener::bind((ip, p)).await {
                return Ok(l);
            }
        }
    }
    for p in lo..=hi {
        if svc.apps().port_taken(p) {
            continue;
        }
        if let Ok(l) = TcpListener::bind((ip, p)).await {
            return Ok(l);
        }
    }
    Err(AppError::Unavailable(format!(
        "Every port of the app pool {lo}-{hi} is in use."
    )))
}

/// The options the server turned off are refused, not ignored.
fn refuse_disabled_options(svc: &Services, req: &OpenAppRequest) -> AppResult<()> {
    let mut errors = vec![];
    if req.open_to_public && !svc.config().allow_public_apps {
        errors.push(berth_shared::FieldError::new(
            "open_to_public",
            "not_allowed",
            "This server does not open apps to public.",
        ));
    }
    if req.preferred_port.is_some() && !svc.config().allow_preferred_port {
        errors.push(berth_shared::FieldError::new(
            "preferred_port",
            "not_allowed",
            "This server chooses the app's port itself.",
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Opens an app: starts its service if needed and serves it through the
/// proxy. Opening an open app returns it as it is (with a fresh launch
/// code). `credential` is the caller's login, which the launch code stands
/// for.
pub async fn open(
    svc: &Services,
    caller: &UserInfo,
    credential: &OwnedCredential,
    id: &str,
    name: &str,
    req: &OpenAppRequest,
    reach: &Reach,
) -> AppResult<AppOpened> {
    refuse_disabled_options(svc, req)?;
    // before the check that it runs: an end from here on voids this open
    let _opening = svc.apps().opening(id);
    let (row, cid) = running(svc, caller, id).await?;
    let (protocol, kind, port) = apps_of(svc, &row)
        .await?
        .into_iter()
        .find(|(n, ..)| n == name)
        .map(|(_, p, k, port)| (p, k, port))
        .ok_or_else(|| AppError::NoApp(name.to_string()))?;
    let answer = |entry: &OpenEntry| {
        let opened = address_of(svc, entry, reach);
        let ssh = (name == "sshd").then(|| {
            (
                format!("ssh -i id_container -p {} work@{}", opened.port, reach.host),
                format!(
                    "sftp -i id_container -P {} work@{}",
                    opened.port, reach.host
                ),
            )
        });
        let launch_url = match (&entry.address, entry.public) {
            (Address::Host(label), false) => {
                let code = svc.apps().mint_code(label, credential.clone());
                Some(format!(
                    "{}{}?code={code}",
                    opened.url.trim_end_matches('/'),
                    LAUNCH_PATH
                ))
            }
            _ => None,
        };
        // a preferred port applies to TCP apps; a web app has a host name
        let preferred_port_used = match entry.address {
            Address::Port(p) => req.preferred_port.map(|want| want == p),
            Address::Host(_) => None,
        };
        AppOpened {
            app: AppInfo {
                name: name.to_string(),
                protocol,
                kind,
                port,
                unauthenticated: unauthenticated(name, protocol),
                open: Some(opened),
            },
            preferred_port_used,
            launch_url,
            ssh_command: ssh.as_ref().map(|s| s.0.clone()),
            sftp_command: ssh.map(|s| s.1),
        }
    };
    let Some(container_port) = port else {
        return Err(AppError::NoApp(format!(
            "{name} (the terminal opens from the session's terminal page)"
        )));
    };
    if let Some(existing) = svc.apps().get(&row.id, name) {
        return Ok(answer(&existing));
    }
    let rt = svc.runtime_of(row.agent.as_deref());
    let upstream = upstream_of(svc, row.agent.as_deref(), &rt, &cid, container_port).await?;
    let secret = (kind == AppKind::Service)
        .then(|| row.service_secret.clone())
        .flatten();
    // a preopen port is the user's to serve: it may open before anything listens
    if kind == AppKind::Service {
        let exec_timeout = Duration::from_secs(svc.config().exec_timeout_secs.max(1));
        // one started with the session is waited for, not started twice
        // (two starts on the session's CPU would each take twice as long)
        let warmed = svc.apps().warmed(&row.id, name, exec_timeout).await;
        let first = ensure_started(
            &rt,
            &cid,
            name,
            (upstream, container_port),
            secret.as_deref(),
            exec_timeout,
            warmed,
        )
        .await;
        if first.is_err() && warmed {
            // the early start never came up: start it now
            ensure_started(
                &rt,
                &cid,
                name,
                (upstream, container_port),
                secret.as_deref(),
                exec_timeout,
                false,
            )
            .await?;
        } else {
            first?;
        }
    }
    let (address, listener) = match protocol {
        AppProtocol::Tcp => {
            let listener = bind_pool(svc, req.preferred_port).await?;
            let port = listener.local_addr().map(|a| a.port()).unwrap_or_default();
            (Address::Port(port), Some(listener))
        }
        _ => (Address::Host(svc.apps().new_label()), None),
    };
    let entry = OpenEntry {
        session_id: row.id.clone(),
        owner_id: row.owner_id.clone(),
        upstream,
        port: container_port,
        address,
        public: req.open_to_public,
        secret,
        cancel: CancellationToken::new(),
        grants: Default::default(),
    };
    match svc.apps().insert(name, entry.clone()) {
        Ok(()) => {}
        // two opens at once: the first one's proxy stays
        Err(NotRecorded::Exists(existing)) => return Ok(answer(&existing)),
        // the session ended while its service started: nothing may stay
        // (the listener goes with this function; the address may soon be
        // another session's)
        Err(NotRecorded::Ended) => {
            return Err(AppError::Conflict(
                "The session ended while the app was opening.".into(),
            ))
        }
    }
    if let Some(listener) = listener {
        let traffic = svc.apps().traffic(&row.id);
        proxy::serve_tcp(
            listener,
            upstream,
            traffic,
            svc.metrics(),
            entry.cancel.clone(),
        );
    }
    Ok(answer(&entry))
}

/// Closes an open app: its address stops answering, its sockets close,
/// and a TCP app's port returns to the pool.
pub async fn close(svc: &Services, caller: &UserInfo, id: &str, name: &str) -> AppResult<()> {
    let row = sessions::visible_row(svc, caller, id).await?;
    if svc.apps().close(&row.id, name) {
        Ok(())
    } else {
        Err(AppError::Conflict(format!("{name} is not open.")))
    }
}

/// Resolves when the login behind `credential` no longer stands for
/// `user_id` (logged out, token revoked, account disabled or gone), or the
/// server stops. Sockets that must not outlive their login wait on it.
pub async fn until_login_ends(svc: &Shared, credential: &OwnedCredential, user_id: &str) {
    let mut changes = svc.watch_accounts();
    loop {
        tokio::select! {
            _ = svc.shutdown().cancelled() => return,
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
        match accounts::resolve(svc.store(), credential.as_credential()).await {
            Ok(user) if user.id == user_id => {}
            _ => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_lists_services_preopen_ports_then_the_terminal() {
        let ports = berth_shared::resources::parse_service_ports(
            "jupyter:http:8081,sshd:tcp:2200,odd:udp:1",
        );
        let names = catalogue(&ports, &[8000]);
        assert_eq!(
            names,
            [
                (
                    "jupyter".to_string(),
                    AppProtocol::Http,
                    AppKind::Service,
                    Some(8081)
                ),
                (
                    "sshd".to_string(),
                    AppProtocol::Tcp,
                    AppKind::Service,
                    Some(2200)
                ),
                (
                    "8000".to_string(),
                    AppProtocol::Http,
                    AppKind::Preopen,
                    Some(8000)
                ),
                (
                    "terminal".to_string(),
                    AppProtocol::Pty,
                    AppKind::Terminal,
                    None
                ),
            ]
        );
        assert!(unauthenticated("redis", AppProtocol::Tcp));
        assert!(!unauthenticated("sshd", AppProtocol::Tcp));
        assert!(!unauthenticated("jupyter", AppProtocol::Http));
    }
}
