//! A session's apps: the catalogue (the image's service ports, the
//! session's preopen ports, the built-in terminal) and opening one —
//! starting its service in the container if the image says how
//! (`/etc/backend.ai/service-defs/<name>.json`, the reference product's
//! convention) and serving it on a port of the proxy pool
//! (`--app-ports`): the preferred port when it is free, else the first
//! free one. Apps close, and their ports return, when the session ends.

pub mod proxy;
pub mod registry;
pub mod terminal;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use berth_shared::apps::{
    AppInfo, AppKind, AppList, AppOpened, AppProtocol, OpenAppRequest, OpenedApp,
};
use berth_shared::auth::UserInfo;
use berth_shared::resources::ServicePort;
use berth_shared::sessions::SessionStatus;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use self::registry::OpenEntry;
use crate::environments;
use crate::runtime::{Runtime, RuntimeError};
use crate::services::Services;
use crate::sessions::{self, SessionError};
use crate::store::SessionRow;

/// The built-in terminal's app name.
pub const TERMINAL: &str = "terminal";
/// Where an image describes how to start a service.
const SERVICE_DEFS: &str = "/etc/backend.ai/service-defs";
/// How long a service gets to start listening.
const START_WAIT: Duration = Duration::from_secs(60);
/// How often a starting service is tried.
const START_POLL: Duration = Duration::from_millis(200);

/// Why an app operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The session (not found, not visible…).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// No such app in this session.
    #[error("no app {0}")]
    NoApp(String),
    /// The session does not run.
    #[error("{0}")]
    Conflict(String),
    /// The app did not start or cannot be served.
    #[error("{0}")]
    Unavailable(String),
    /// An option the server turned off.
    #[error("options this server turned off")]
    Invalid(Vec<berth_shared::FieldError>),
}

impl From<RuntimeError> for AppError {
    fn from(e: RuntimeError) -> Self {
        AppError::Session(e.into())
    }
}

/// Result of an app operation.
pub type AppResult<T> = Result<T, AppError>;

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

/// The URL of an open app as `host` sees it.
fn url_of(protocol: AppProtocol, host: &str, port: u16) -> String {
    match protocol {
        AppProtocol::Tcp => format!("{host}:{port}"),
        _ => format!("http://{host}:{port}/"),
    }
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
    let cid = svc
        .store()
        .kernels_of(&row.id)
        .await
        .map_err(SessionError::from)?
        .into_iter()
        .find_map(|k| k.container_id)
        .ok_or_else(|| AppError::Conflict("The session has no container yet.".into()))?;
    Ok((row, cid))
}

/// Fails unless the caller may use the session's apps and it runs.
pub async fn running_check(svc: &Services, caller: &UserInfo, id: &str) -> AppResult<()> {
    running(svc, caller, id).await.map(|_| ())
}

async fn service_ports(svc: &Services, row: &SessionRow) -> AppResult<Vec<ServicePort>> {
    Ok(environments::labels_of(svc, &row.image)
        .await
        .map(|l| l.service_ports)
        .or_else(|e| match e {
            // an image removed since launch: no services, the terminal stays
            RuntimeError::ImageNotFound(_) => Ok(vec![]),
            e => Err(e),
        })?)
}

/// A session's apps (`host`: how the caller reaches this server).
pub async fn list(svc: &Services, caller: &UserInfo, id: &str, host: &str) -> AppResult<AppList> {
    let row = sessions::visible_row(svc, caller, id).await?;
    let items = apps_of(svc, &row)
        .await?
        .into_iter()
        .map(|(name, protocol, kind, port)| AppInfo {
            open: svc.apps().get(&row.id, &name).map(|e| OpenedApp {
                url: url_of(protocol, host, e.port),
                port: e.port,
                public: e.public,
            }),
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

/// Whether something listens at `addr`.
async fn listening(addr: SocketAddr) -> bool {
    matches!(
        tokio::time::timeout(
            Duration::from_millis(500),
            tokio::net::TcpStream::connect(addr)
        )
        .await,
        Ok(Ok(_))
    )
}

/// The service's start command from the image, with its port filled in.
async fn start_command(
    rt: &Runtime,
    cid: &str,
    name: &str,
    port: u16,
) -> AppResult<Option<Vec<String>>> {
    let file = format!("{SERVICE_DEFS}/{name}.json");
    let out = rt.exec_output(cid, &["cat".to_string(), file]).await?;
    if out.code != Some(0) {
        return Ok(None);
    }
    let def: serde_json::Value = serde_json::from_str(&out.output).map_err(|e| {
        AppError::Unavailable(format!(
            "The image's {name} service definition is unreadable: {e}"
        ))
    })?;
    let command = def["command"]
        .as_array()
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p.as_str())
                .map(|p| p.replace("{ports[0]}", &port.to_string()))
                .collect::<Vec<_>>()
        })
        .filter(|c| !c.is_empty());
    Ok(command)
}

/// Starts the app's service unless it already listens, and waits for it.
async fn ensure_started(
    rt: &Runtime,
    cid: &str,
    name: &str,
    upstream: SocketAddr,
) -> AppResult<()> {
    if listening(upstream).await {
        return Ok(());
    }
    if let Some(cmd) = start_command(rt, cid, name, upstream.port()).await? {
        rt.exec_detached(cid, &cmd, None).await?;
    }
    let deadline = tokio::time::Instant::now() + START_WAIT;
    while tokio::time::Instant::now() < deadline {
        if listening(upstream).await {
            return Ok(());
        }
        tokio::time::sleep(START_POLL).await;
    }
    Err(AppError::Unavailable(format!(
        "{name} did not start listening on port {} within {} s.",
        upstream.port(),
        START_WAIT.as_secs()
    )))
}

/// A listener on the preferred port when it is in the pool and free, else
/// on the first free port of the pool; and whether it is the preferred one.
async fn bind_pool(svc: &Services, preferred: Option<u16>) -> AppResult<(TcpListener, bool)> {
    let (lo, hi) = pool(svc);
    let ip = svc.config().app_host;
    if let Some(p) = preferred.filter(|p| (lo..=hi).contains(p)) {
        if !svc.apps().port_taken(p) {
            if let Ok(l) = TcpListener::bind((ip, p)).await {
                return Ok((l, true));
            }
        }
    }
    for p in lo..=hi {
        if svc.apps().port_taken(p) {
            continue;
        }
        if let Ok(l) = TcpListener::bind((ip, p)).await {
            return Ok((l, false));
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
/// proxy. Opening an open app returns it as it is.
pub async fn open(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
    name: &str,
    req: &OpenAppRequest,
    host: &str,
) -> AppResult<AppOpened> {
    refuse_disabled_options(svc, req)?;
    let (row, cid) = running(svc, caller, id).await?;
    let (protocol, kind, port) = apps_of(svc, &row)
        .await?
        .into_iter()
        .find(|(n, ..)| n == name)
        .map(|(_, p, k, port)| (p, k, port))
        .ok_or_else(|| AppError::NoApp(name.to_string()))?;
    let answer = |entry: &OpenEntry, preferred_used: Option<bool>| {
        let ssh = (name == "sshd").then(|| {
            (
                format!("ssh -i id_container -p {} work@{host}", entry.port),
                format!("sftp -i id_container -P {} work@{host}", entry.port),
            )
        });
        AppOpened {
            app: AppInfo {
                name: name.to_string(),
                protocol,
                kind,
                port,
                open: Some(OpenedApp {
                    url: url_of(protocol, host, entry.port),
                    port: entry.port,
                    public: entry.public,
                }),
            },
            preferred_port_used: preferred_used,
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
        let used = req.preferred_port.map(|p| p == existing.port);
        return Ok(answer(&existing, used));
    }
    let rt = svc.runtime_of(row.agent.as_deref());
    let ip: IpAddr = rt
        .container_address(&cid)
        .await?
        .ok_or_else(|| AppError::Unavailable("The container has no address.".into()))?;
    let upstream = SocketAddr::new(ip, container_port);
    // a preopen port is the user's to serve: it may open before anything listens
    if kind == AppKind::Service {
        ensure_started(&rt, &cid, name, upstream).await?;
    }
    let (listener, preferred_used) = bind_pool(svc, req.preferred_port).await?;
    let entry = OpenEntry {
        port: listener.local_addr().map(|a| a.port()).unwrap_or_default(),
        public: req.open_to_public,
        cancel: CancellationToken::new(),
    };
    // two opens at once: the first one's proxy stays
    if let Err(existing) = svc.apps().insert(&row.id, name, entry.clone()) {
        return Ok(answer(
            &existing,
            req.preferred_port.map(|p| p == existing.port),
        ));
    }
    let traffic = svc.apps().traffic(&row.id);
    match protocol {
        AppProtocol::Http => proxy::serve_http(
            listener,
            proxy::HttpTarget {
                store: svc.store().clone(),
                owner_id: row.owner_id.clone(),
                upstream,
                public: req.open_to_public,
                traffic,
                client: proxy::client(),
                grants: proxy::Grants::default(),
            },
            entry.cancel.clone(),
        ),
        _ => proxy::serve_tcp(listener, upstream, traffic, entry.cancel.clone()),
    }
    Ok(answer(&entry, req.preferred_port.map(|_| preferred_used)))
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
        assert_eq!(url_of(AppProtocol::Http, "h", 30001), "http://h:30001/");
        assert_eq!(url_of(AppProtocol::Tcp, "h", 30002), "h:30002");
    }
}
