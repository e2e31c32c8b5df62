//! The built-in terminal: a WebSocket bridged to `docker exec` with a TTY
//! in the session's container, running tmux when the image has it (one
//! session, `main`, that a reconnect rejoins) and sh otherwise. Text frames
//! carry typed keys and resizes (`TerminalMessage`); the TTY's output goes
//! back as binary frames. Bytes both ways count as the session's traffic.
//! A user holds at most `--max-terminals-per-user` at once, and a terminal
//! closes when its login ends, its session ends or the server stops.

use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket};
use berth_shared::apps::TerminalMessage;
use berth_shared::auth::UserInfo;
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;

use tokio_util::sync::CancellationToken;

use super::registry::TrafficCounter;
use super::{running, AppError, AppResult};
use crate::accounts::OwnedCredential;
use crate::held::{Kind, Slot};
use crate::runtime::{Runtime, Tty};
use crate::services::{Services, Shared};

/// What the terminal runs: tmux when there is one, else a shell.
const SHELL: &str = "if command -v tmux >/dev/null 2>&1; then exec tmux new-session -A -s main; \
                     else exec /bin/sh; fi";

/// The terminal's environment.
const ENV: [&str; 3] = ["TERM=xterm-256color", "LANG=C.UTF-8", "HOME=/home/work"];

/// An open terminal: the TTY, the engine it runs on, its traffic counter,
/// its place among the user's terminals and its session's end.
pub struct Terminal {
    tty: Tty,
    engine: Arc<Runtime>,
    traffic: Arc<TrafficCounter>,
    _slot: Slot,
    ended: CancellationToken,
}

/// An attached TTY in the session's container.
pub async fn open(
    svc: &Services,
    caller: &UserInfo,
    id: &str,
    cols: u16,
    rows: u16,
) -> AppResult<Terminal> {
    let (row, cid) = running(svc, caller, id).await?;
    let max = svc.config().max_terminals_per_user;
    let slot = svc
        .held()
        .take(Kind::Terminal, &caller.id, max)
        .ok_or(AppError::Busy(max))?;
    let cmd = ["/bin/sh".to_string(), "-c".into(), SHELL.into()];
    let env: Vec<String> = ENV.iter().map(|e| e.to_string()).collect();
    let engine = svc.runtime_of(row.agent.as_deref());
    let tty = engine.exec_tty(&cid, &cmd, &env, cols, rows).await?;
    Ok(Terminal {
        tty,
        engine,
        traffic: svc.apps().traffic(&row.id),
        _slot: slot,
        ended: svc.apps().session_ended(&row.id),
    })
}

/// Bridges `socket` and the terminal until either side ends, the login
/// behind `credential` stops standing for `user_id`, the session ends or
/// the server stops.
pub async fn bridge(
    socket: WebSocket,
    terminal: Terminal,
    svc: Shared,
    credential: OwnedCredential,
    user_id: String,
) {
    let Terminal {
        tty,
        engine,
        traffic,
        _slot,
        ended,
    } = terminal;
    let Tty {
        exec_id,
        mut output,
        mut input,
    } = tty;
    let (mut to_browser, mut from_browser) = socket.split();
    let t2 = traffic.clone();
    let down = async move {
        while let Some(Ok(chunk)) = output.next().await {
            t2.add(chunk.len());
            if to_browser.send(Message::Binary(chunk)).await.is_err() {
                break;
            }
        }
        let _ = to_browser.close().await;
    };
    let up = async move {
        while let Some(Ok(msg)) = from_browser.next().await {
            let keys = match msg {
                Message::Binary(b) => b.to_vec(),
                Message::Text(t) => match serde_json::from_str::<TerminalMessage>(t.as_str()) {
                    Ok(TerminalMessage::Input { data }) => data.into_bytes(),
                    Ok(TerminalMessage::Resize { cols, rows }) => {
                        let _ = engine.resize_tty(&exec_id, cols, rows).await;
                        continue;
                    }
                    Err(_) => continue,
                },
                Message::Close(_) => break,
                _ => continue,
            };
            traffic.add(keys.len());
            if input.write_all(&keys).await.is_err() {
                break;
            }
        }
    };
    tokio::select! {
        _ = down => {}
        _ = up => {}
        _ = ended.cancelled() => {}
        _ = super::until_login_ends(&svc, &credential, &user_id) => {}
    }
}
