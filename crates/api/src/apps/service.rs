//! Starting an app's service in the container: what the image declares
//! (`/etc/backend.ai/service-defs/<name>.json`, the reference product's
//! convention), its command with the port filled in, the session's secret
//! in its environment, and the wait until it listens.

use std::net::SocketAddr;
use std::time::Duration;

use berth_shared::resources::ServicePort;

use super::error::{AppError, AppResult};
use crate::environments;
use crate::runtime::{ExecLimits, ExecOutput, Runtime, RuntimeError};
use crate::services::Services;
use crate::store::SessionRow;

/// Where an image describes how to start a service.
const SERVICE_DEFS: &str = "/etc/backend.ai/service-defs";
/// The largest service definition the server reads.
const SERVICE_DEF_MAX: usize = 64 * 1024;
/// How long a service gets to start listening.
const START_WAIT: Duration = Duration::from_secs(60);
/// How often a starting service is tried.
const START_POLL: Duration = Duration::from_millis(200);

/// The services the session's image declares (none when the image is
/// gone: the terminal stays).
pub(crate) async fn service_ports(svc: &Services, row: &SessionRow) -> AppResult<Vec<ServicePort>> {
    Ok(environments::labels_of(svc, &row.image)
        .await
        .map(|l| l.service_ports)
        .or_else(|e| match e {
            // an image removed since launch: no services, the terminal stays
            RuntimeError::ImageNotFound(_) => Ok(vec![]),
            e => Err(e),
        })?)
}

/// `cat path` in a container, read a little and briefly, since the
/// container is its user's and so is `cat` in it; `what` names the file in
/// the error when it is too long or too slow.
pub(super) async fn read_file(
    rt: &Runtime,
    cid: &str,
    path: &str,
    max_output: usize,
    timeout: Duration,
    what: &str,
) -> AppResult<ExecOutput> {
    let limits = ExecLimits {
        max_output,
        timeout,
    };
    match rt
        .exec_output(cid, &["cat".to_string(), path.to_string()], limits)
        .await
    {
        Ok(out) => Ok(out),
        Err(e @ (RuntimeError::ExecOutputTooLarge(_) | RuntimeError::ExecTimedOut(_))) => Err(
            AppError::Unavailable(format!("{what} could not be read: {e}.")),
        ),
        Err(e) => Err(e.into()),
    }
}

/// How long a connection is watched for being closed at once.
const HANGUP_WAIT: Duration = Duration::from_millis(200);

/// Whether something listens at `addr`. A port published on a remote
/// agent's host is accepted by the engine's proxy even when nothing
/// listens inside, and closed at once then: a connection that is closed
/// before anything is said counts as nobody listening.
pub(crate) async fn listening(addr: SocketAddr) -> bool {
    use tokio::io::AsyncReadExt;
    let Ok(Ok(mut conn)) = tokio::time::timeout(
        Duration::from_millis(500),
        tokio::net::TcpStream::connect(addr),
    )
    .await
    else {
        return false;
    };
    let mut first = [0u8; 1];
    match tokio::time::timeout(HANGUP_WAIT, conn.read(&mut first)).await {
        // quiet and open (a web server waits for a request), or a greeting
        // (an SSH server's banner)
        Err(_) | Ok(Ok(1..)) => true,
        // closed or reset before a word
        Ok(Ok(0)) | Ok(Err(_)) => false,
    }
}

/// The service's start command from the image, with its port filled in.
pub(crate) async fn start_command(
    rt: &Runtime,
    cid: &str,
    name: &str,
    port: u16,
    timeout: Duration,
) -> AppResult<Option<Vec<String>>> {
    let file = format!("{SERVICE_DEFS}/{name}.json");
    let what = format!("The image's {name} service definition");
    let out = read_file(rt, cid, &file, SERVICE_DEF_MAX, timeout, &what).await?;
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

/// The service's environment: the session's secret as `JUPYTER_TOKEN` and
/// `BERTH_SERVICE_SECRET`.
pub(crate) fn service_env(secret: Option<&str>) -> Vec<String> {
    secret
        .map(|s| {
            vec![
                format!("JUPYTER_TOKEN={s}"),
                format!("BERTH_SERVICE_SECRET={s}"),
            ]
        })
        .unwrap_or_default()
}

/// Starts the app's service (on `port` inside the container) unless it
/// already listens at `upstream`, and waits for it.
/// The service gets the session's secret as `JUPYTER_TOKEN` (Jupyter's
/// token: nothing that reaches the container's address without it is let
/// in) and `BERTH_SERVICE_SECRET` (for any other service that wants one).
pub(crate) async fn ensure_started(
    rt: &Runtime,
    cid: &str,
    name: &str,
    (upstream, port): (SocketAddr, u16),
    secret: Option<&str>,
    exec_timeout: Duration,
    started: bool,
) -> AppResult<()> {
    if listening(upstream).await {
        return Ok(());
    }
    if !started {
        if let Some(cmd) = start_command(rt, cid, name, port, exec_timeout).await? {
            rt.exec_detached(cid, &cmd, &service_env(secret)).await?;
        }
    }
    let deadline = tokio::time::Instant::now() + START_WAIT;
    while tokio::time::Instant::now() < deadline {
        if listening(upstream).await {
            return Ok(());
        }
        tokio::time::sleep(START_POLL).await;
    }
    Err(AppError::Unavailable(format!(
        "{name} did not start listening on port {port} within {} s.",
        START_WAIT.as_secs()
    )))
}
