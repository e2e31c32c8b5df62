//! What replicas tell each other of web apps: this replica's changes go
//! out as [`AppNote`]s, and another's are done here.

use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::{Address, Code, Grants, OpenEntry, Registry};
use crate::accounts::OwnedCredential;
use crate::events::{AppNote, Events, Note};

/// A credential as a note carries it.
pub(super) fn split(credential: &OwnedCredential) -> (bool, String) {
    match credential {
        OwnedCredential::Login(t) => (true, t.clone()),
        OwnedCredential::Bearer(t) => (false, t.clone()),
    }
}

/// A credential from a note.
fn joined(is_login: bool, token: String) -> OwnedCredential {
    if is_login {
        OwnedCredential::Login(token)
    } else {
        OwnedCredential::Bearer(token)
    }
}

impl Registry {
    /// Tells `events`' other replicas (when there are any) of every change
    /// to a web app from now on.
    pub fn tell_others_through(&self, events: Events) {
        let _ = self.others.set(events);
    }

    /// Tells the other replicas (when there are any).
    pub(super) fn tell(&self, note: AppNote) {
        if let Some(events) = self.others.get() {
            events.tell_others(Note::App(note));
        }
    }

    /// Does here what another replica did to its web apps.
    pub fn heard(&self, note: AppNote) {
        match note {
            AppNote::Opened {
                session_id,
                name,
                owner_id,
                upstream,
                port,
                label,
                public,
                secret,
            } => {
                let mut inner = self.lock();
                let key = (session_id.clone(), name);
                if inner.open.contains_key(&key) {
                    return;
                }
                inner.hosts.insert(label.clone(), key.clone());
                inner.open.insert(
                    key,
                    OpenEntry {
                        session_id,
                        owner_id,
                        upstream,
                        port,
                        address: Address::Host(label),
                        public,
                        secret,
                        cancel: CancellationToken::new(),
                        grants: Grants::default(),
                    },
                );
            }
            AppNote::Closed { session_id, name } => {
                self.lock().remove(&(session_id, name));
            }
            AppNote::SessionClosed { session_id } => self.close_session_here(&session_id),
            AppNote::OwnerClosed { owner_id } => {
                self.close_owner_here(&owner_id);
            }
            AppNote::Code {
                code,
                label,
                is_login,
                token,
            } => {
                self.lock().codes.insert(
                    code,
                    Code {
                        label,
                        credential: joined(is_login, token),
                        made: Instant::now(),
                    },
                );
            }
            AppNote::CodeUsed { code } => {
                self.lock().codes.remove(&code);
            }
            AppNote::Pass {
                label,
                pass,
                is_login,
                token,
            } => {
                self.lock()
                    .passes
                    .entry(label)
                    .or_default()
                    .insert(pass, (joined(is_login, token), Instant::now()));
            }
        }
    }
}
