//! The open apps, how each is reached (a host name of its own for a web
//! app, a proxy port for a TCP app), the one-time codes and passes that
//! let a browser into a web app's host, and each session's traffic. Kept
//! in memory: a restart closes every app (the next open starts it again,
//! or finds its service still running). Replicas tell each other of every
//! change to a web app, its codes and passes (`AppNote`, `notes`), so
//! any replica serves a web app another opened; a TCP app's port is the
//! opening replica's own. Traffic is counted in `traffic`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::accounts::{secrets, OwnedCredential};
use crate::events::{AppNote, Events};

mod notes;
mod traffic;

use self::notes::split;
pub use self::traffic::TrafficCounter;

/// How long a login that passed is trusted without asking again.
pub const GRANT_TTL: Duration = Duration::from_secs(5);
/// Most remembered logins per app (then all are forgotten).
const GRANTS_MAX: usize = 1024;
/// How long a launch code may wait to be used.
pub const CODE_TTL: Duration = Duration::from_secs(berth_shared::apps::LAUNCH_CODE_SECS);
/// Most codes waiting at once (then the expired go, then the oldest).
const CODES_MAX: usize = 10_000;
/// Most passes per app (then the oldest goes).
const PASSES_PER_APP: usize = 256;

/// Logins (by credential cache key) that passed an app's check: when, and
/// whose they are.
#[derive(Debug, Clone, Default)]
pub struct Grants(Arc<Mutex<HashMap<String, (Instant, String)>>>);

impl Grants {
    pub(super) fn fresh(&self, key: &str) -> Option<String> {
        let g = self.0.lock().ok()?;
        g.get(key)
            .filter(|(t, _)| t.elapsed() < GRANT_TTL)
            .map(|(_, uid)| uid.clone())
    }

    pub(super) fn remember(&self, key: String, user_id: String) {
        if let Ok(mut g) = self.0.lock() {
            if g.len() >= GRANTS_MAX {
                g.clear();
            }
            g.insert(key, (Instant::now(), user_id));
        }
    }
}

/// Where an open app is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A web app: `<label>.<apps domain>` on the server's own port.
    Host(String),
    /// A TCP app: this port of `--app-ports` on `--app-host`.
    Port(u16),
}

/// One open app.
#[derive(Debug, Clone)]
pub struct OpenEntry {
    /// Its session.
    pub session_id: String,
    /// The session's owner (and admins) may use it.
    pub owner_id: String,
    /// Where the server reaches the container's service (its own
    /// address, or the port published on a remote agent's host).
    pub upstream: SocketAddr,
    /// The service's port inside the container.
    pub port: u16,
    /// Where it is reached.
    pub address: Address,
    /// No login needed.
    pub public: bool,
    /// The session's service secret, sent upstream as
    /// `Authorization: token <secret>` (the image's services only).
    pub secret: Option<String>,
    /// Ends its proxy and every socket through it.
    pub cancel: CancellationToken,
    /// Logins that passed its check lately.
    pub grants: Grants,
}

impl OpenEntry {
    /// Its proxy port, for a TCP app.
    pub fn port(&self) -> Option<u16> {
        match self.address {
            Address::Port(p) => Some(p),
            Address::Host(_) => None,
        }
    }

    /// Its host label, for a web app.
    pub fn label(&self) -> Option<&str> {
        match &self.address {
            Address::Host(l) => Some(l),
            Address::Port(_) => None,
        }
    }
}

/// A launch code: good once, for [`CODE_TTL`], on one app's host.
#[derive(Debug)]
struct Code {
    label: String,
    credential: OwnedCredential,
    made: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    open: HashMap<(String, String), OpenEntry>,
    hosts: HashMap<String, (String, String)>,
    codes: HashMap<String, Code>,
    /// An app's passes: the cookie's value → the login it stands for.
    passes: HashMap<String, HashMap<String, (OwnedCredential, Instant)>>,
    traffic: HashMap<String, Arc<TrafficCounter>>,
    /// Cancelled when the session ends (its terminals close on it).
    ended: HashMap<String, CancellationToken>,
    /// Opens in flight per session, and whether the session's apps were
    /// closed meanwhile (then what they would record is refused).
    opening: HashMap<String, (u32, bool)>,
    /// Each session's early start (see `apps::warm::spawn_warm_up`): `None`
    /// while it decides, then the app it started (if any).
    warmed: HashMap<String, tokio::sync::watch::Receiver<Option<Option<String>>>>,
}

/// Why an app was not recorded.
#[derive(Debug, Clone)]
pub enum NotRecorded {
    /// Another open recorded it first: that one stays.
    Exists(Box<OpenEntry>),
    /// The session's apps were closed (its end) while this open ran.
    Ended,
}

/// An open in flight (see [`Registry::opening`]); ends when dropped.
#[derive(Debug)]
pub struct Opening<'a> {
    registry: &'a Registry,
    session_id: String,
}

impl Drop for Opening<'_> {
    fn drop(&mut self) {
        let mut inner = self.registry.lock();
        if let Some((n, _)) = inner.opening.get_mut(&self.session_id) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                inner.opening.remove(&self.session_id);
            }
        }
    }
}

/// Every open app of this server.
#[derive(Debug, Default)]
pub struct Registry {
    inner: Mutex<Inner>,
    /// Where changes to web apps are told to the other replicas.
    others: std::sync::OnceLock<Events>,
}

impl Inner {
    fn remove(&mut self, key: &(String, String)) -> Option<OpenEntry> {
        let e = self.open.remove(key)?;
        e.cancel.cancel();
        if let Some(label) = e.label() {
            self.hosts.remove(label);
            self.passes.remove(label);
            self.codes.retain(|_, c| c.label != label);
        }
        Some(e)
    }
}

impl Registry {
    /// An early start of `session`'s main service begins: what it started
    /// goes through the returned sender (dropped unsent: nothing).
    pub fn warming(&self, session: &str) -> tokio::sync::watch::Sender<Option<Option<String>>> {
        let (tx, rx) = tokio::sync::watch::channel(None);
        self.lock().warmed.insert(session.to_string(), rx);
        tx
    }

    /// Waits (at most `wait`) until `session`'s early start, if one began,
    /// has done its work in the container: a commit must not pause the
    /// container while one of its commands is being started (the engine
    /// can hang on that).
    pub async fn warm_settled(&self, session: &str, wait: std::time::Duration) {
        let rx = self.lock().warmed.get(session).cloned();
        if let Some(mut rx) = rx {
            let _ = tokio::time::timeout(wait, rx.wait_for(Option::is_some)).await;
        }
    }

    /// Whether `app` of `session` was started as the session started,
    /// waiting (at most `wait`) for an early start still deciding.
    pub async fn warmed(&self, session: &str, app: &str, wait: std::time::Duration) -> bool {
        let Some(mut rx) = self.lock().warmed.get(session).cloned() else {
            return false;
        };
        let decided = tokio::time::timeout(wait, rx.wait_for(Option::is_some)).await;
        matches!(decided, Ok(Ok(v)) if v.as_ref().and_then(|a| a.as_deref()) == Some(app))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // a panic elsewhere while holding it leaves the map usable
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The app `name` of a session, if open.
    pub fn get(&self, session_id: &str, name: &str) -> Option<OpenEntry> {
        self.lock()
            .open
            .get(&(session_id.to_string(), name.to_string()))
            .cloned()
    }

    /// The web app served on host label `label`.
    pub fn by_label(&self, label: &str) -> Option<OpenEntry> {
        let inner = self.lock();
        let key = inner.hosts.get(label)?;
        inner.open.get(key).cloned()
    }

    /// A fresh host label no open app has.
    pub fn new_label(&self) -> String {
        let inner = self.lock();
        loop {
            let label = secrets::host_label();
            if !inner.hosts.contains_key(&label) {
                return label;
            }
        }
    }

    /// Says an open of an app of `session_id` has begun; until the guard
    /// drops, closing the session's apps (its end) makes [`Registry::insert`]
    /// refuse what this open would record, so nothing opened while the
    /// session ended outlives it. Taken before the open checks that the
    /// session runs.
    pub fn opening(&self, session_id: &str) -> Opening<'_> {
        self.lock()
            .opening
            .entry(session_id.to_string())
            .or_insert((0, false))
            .0 += 1;
        Opening {
            registry: self,
            session_id: session_id.to_string(),
        }
    }

    /// Records an open app; when one was recorded meanwhile (two opens at
    /// once), that one stays and is returned instead; when the session's
    /// apps were closed since the open began, nothing is recorded.
    pub fn insert(&self, name: &str, entry: OpenEntry) -> Result<(), NotRecorded> {
        let mut inner = self.lock();
        if inner
            .opening
            .get(&entry.session_id)
            .is_some_and(|(_, ended)| *ended)
        {
            return Err(NotRecorded::Ended);
        }
        let key = (entry.session_id.clone(), name.to_string());
        if let Some(existing) = inner.open.get(&key) {
            return Err(NotRecorded::Exists(Box::new(existing.clone())));
        }
        if let Some(label) = entry.label() {
            inner.hosts.insert(label.to_string(), key.clone());
            self.tell(AppNote::Opened {
                session_id: entry.session_id.clone(),
                name: name.to_string(),
                owner_id: entry.owner_id.clone(),
                upstream: entry.upstream,
                port: entry.port,
                label: label.to_string(),
                public: entry.public,
                secret: entry.secret.clone(),
            });
        }
        inner.open.insert(key, entry);
        Ok(())
    }

    /// Whether a proxy port is taken by an open app.
    pub fn port_taken(&self, port: u16) -> bool {
        self.lock().open.values().any(|e| e.port() == Some(port))
    }

    /// Closes one app (its proxy, sockets, codes and passes); whether it was
    /// open.
    pub fn close(&self, session_id: &str, name: &str) -> bool {
        let closed = self
            .lock()
            .remove(&(session_id.to_string(), name.to_string()))
            .is_some();
        self.tell(AppNote::Closed {
            session_id: session_id.to_string(),
            name: name.to_string(),
        });
        closed
    }

    /// Closes every app of a session (their ports return to the pool),
    /// on every replica.
    pub fn close_session(&self, session_id: &str) {
        self.tell(AppNote::SessionClosed {
            session_id: session_id.to_string(),
        });
        self.close_session_here(session_id);
    }

    fn close_session_here(&self, session_id: &str) {
        let mut inner = self.lock();
        let keys: Vec<_> = inner
            .open
            .keys()
            .filter(|(sid, _)| sid == session_id)
            .cloned()
            .collect();
        for k in keys {
            inner.remove(&k);
        }
        inner.traffic.remove(session_id);
        inner.warmed.remove(session_id);
        if let Some(t) = inner.ended.remove(session_id) {
            t.cancel();
        }
        if let Some((_, ended)) = inner.opening.get_mut(session_id) {
            *ended = true;
        }
    }

    /// Cancelled when the session's apps close with its end.
    pub fn session_ended(&self, session_id: &str) -> CancellationToken {
        self.lock()
            .ended
            .entry(session_id.to_string())
            .or_default()
            .clone()
    }

    /// Closes every app of sessions `owner_id` owns (a disabled account's
    /// public apps must not stay reachable).
    pub fn close_owner(&self, owner_id: &str) -> usize {
        self.tell(AppNote::OwnerClosed {
            owner_id: owner_id.to_string(),
        });
        self.close_owner_here(owner_id)
    }

    fn close_owner_here(&self, owner_id: &str) -> usize {
        let mut inner = self.lock();
        let keys: Vec<_> = inner
            .open
            .iter()
            .filter(|(_, e)| e.owner_id == owner_id)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &keys {
            inner.remove(k);
        }
        keys.len()
    }

    /// A one-time code that lets the bearer of `credential`'s login into
    /// the app on `label`.
    pub fn mint_code(&self, label: &str, credential: OwnedCredential) -> String {
        let mut inner = self.lock();
        let now = Instant::now();
        if inner.codes.len() >= CODES_MAX {
            inner
                .codes
                .retain(|_, c| now.duration_since(c.made) < CODE_TTL);
            if inner.codes.len() >= CODES_MAX {
                if let Some(oldest) = inner
                    .codes
                    .iter()
                    .min_by_key(|(_, c)| c.made)
                    .map(|(k, _)| k.clone())
                {
                    inner.codes.remove(&oldest);
                }
            }
        }
        let code = secrets::login_token();
        let (is_login, token) = split(&credential);
        inner.codes.insert(
            code.clone(),
            Code {
                label: label.to_string(),
                credential,
                made: now,
            },
        );
        self.tell(AppNote::Code {
            code: code.clone(),
            label: label.to_string(),
            is_login,
            token,
        });
        code
    }

    /// Uses a code on `label`: the login it stands for, once, while fresh.
    pub fn redeem(&self, code: &str, label: &str) -> Option<OwnedCredential> {
        let c = self.lock().codes.remove(code)?;
        self.tell(AppNote::CodeUsed {
            code: code.to_string(),
        });
        (c.label == label && c.made.elapsed() < CODE_TTL).then_some(c.credential)
    }

    /// A pass (the app cookie's value) for `label`, standing for `credential`.
    pub fn new_pass(&self, label: &str, credential: OwnedCredential) -> String {
        let mut inner = self.lock();
        let pass = secrets::login_token();
        let passes = inner.passes.entry(label.to_string()).or_default();
        if passes.len() >= PASSES_PER_APP {
            if let Some(oldest) = passes
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| k.clone())
            {
                passes.remove(&oldest);
            }
        }
        let (is_login, token) = split(&credential);
        passes.insert(pass.clone(), (credential, Instant::now()));
        self.tell(AppNote::Pass {
            label: label.to_string(),
            pass: pass.clone(),
            is_login,
            token,
        });
        pass
    }

    /// The login a pass stands for on `label`.
    pub fn pass(&self, label: &str, pass: &str) -> Option<OwnedCredential> {
        self.lock()
            .passes
            .get(label)?
            .get(pass)
            .map(|(c, _)| c.clone())
    }

    /// How many apps are open now.
    pub fn open_count(&self) -> usize {
        self.lock().open.len()
    }

    /// Closes everything (server shutdown).
    pub fn close_all(&self) {
        let mut inner = self.lock();
        let keys: Vec<_> = inner.open.keys().cloned().collect();
        for k in keys {
            inner.remove(&k);
        }
        for (_, t) in inner.ended.drain() {
            t.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_shared::apps::Traffic;

    fn entry(session: &str, address: Address) -> OpenEntry {
        OpenEntry {
            session_id: session.into(),
            owner_id: "o".into(),
            upstream: "10.0.0.2:8000".parse().unwrap(),
            port: 8000,
            address,
            public: false,
            secret: None,
            cancel: CancellationToken::new(),
            grants: Grants::default(),
        }
    }

    #[test]
    fn the_first_open_wins_and_closing_frees_ports_and_hosts() {
        let r = Registry::default();
        assert!(r.insert("sshd", entry("s1", Address::Port(30000))).is_ok());
        match r.insert("sshd", entry("s1", Address::Port(30001))) {
            Err(NotRecorded::Exists(e)) => assert_eq!(e.port(), Some(30000)),
            other => panic!("{other:?}"),
        }
        assert!(r.insert("sshd", entry("s2", Address::Port(30001))).is_ok());
        let label = r.new_label();
        assert!(r
            .insert("jupyter", entry("s1", Address::Host(label.clone())))
            .is_ok());
        assert_eq!(r.by_label(&label).unwrap().session_id, "s1");
        assert!(r.port_taken(30000));
        let token = r.get("s1", "sshd").unwrap().cancel;
        let ended = r.session_ended("s1");
        r.traffic("s1").add(10);
        assert_eq!(r.traffic("s1").read().bytes, 10);
        r.close_session("s1");
        assert!(token.is_cancelled() && ended.is_cancelled());
        assert!(r.by_label(&label).is_none());
        assert!(!r.port_taken(30000) && r.port_taken(30001));
        assert_eq!(r.traffic("s1").read(), Traffic::default());
    }

    #[test]
    fn codes_are_one_time_and_bound_to_their_host_and_passes_end_with_the_app() {
        let r = Registry::default();
        let label = r.new_label();
        r.insert("jupyter", entry("s1", Address::Host(label.clone())))
            .unwrap();
        let login = OwnedCredential::Login("t".into());
        let code = r.mint_code(&label, login.clone());
        assert_eq!(r.redeem(&code, "other"), None, "another host");
        let code = r.mint_code(&label, login.clone());
        assert_eq!(r.redeem(&code, &label), Some(login.clone()));
        assert_eq!(r.redeem(&code, &label), None, "used once");
        let pass = r.new_pass(&label, login.clone());
        assert_eq!(r.pass(&label, &pass), Some(login.clone()));
        assert_eq!(r.pass("other", &pass), None);
        assert!(r.close("s1", "jupyter"));
        assert_eq!(r.pass(&label, &pass), None);
        assert!(!r.close("s1", "jupyter"));
    }

    #[test]
    fn an_open_that_outlives_its_sessions_end_records_nothing() {
        let r = Registry::default();
        let opening = r.opening("s1");
        // the end closes the session's apps while the open still runs
        r.close_session("s1");
        assert!(matches!(
            r.insert("httpd", entry("s1", Address::Host("l1".into()))),
            Err(NotRecorded::Ended)
        ));
        assert!(r.by_label("l1").is_none());
        drop(opening);
        // an open that began after the end is refused by the session check
        // the open makes; the registry itself forgets the end
        assert!(r
            .insert("httpd", entry("s1", Address::Host("l2".into())))
            .is_ok());
        assert!(r.lock().opening.is_empty());
        // two opens: both see the end
        let a = r.opening("s2");
        let b = r.opening("s2");
        r.close_session("s2");
        drop(a);
        assert!(matches!(
            r.insert("x", entry("s2", Address::Port(1))),
            Err(NotRecorded::Ended)
        ));
        drop(b);
    }

    #[test]
    fn closing_an_owner_closes_all_their_apps() {
        let r = Registry::default();
        let mut other = entry("s2", Address::Port(30002));
        other.owner_id = "p".into();
        r.insert("a", entry("s1", Address::Port(30001))).unwrap();
        r.insert("b", other).unwrap();
        assert_eq!(r.close_owner("o"), 1);
        assert!(r.get("s1", "a").is_none() && r.get("s2", "b").is_some());
    }

    #[test]
    fn grants_are_per_login_and_bounded() {
        let g = Grants::default();
        assert!(g.fresh("c1").is_none());
        g.remember("c1".into(), "u".into());
        assert_eq!(g.fresh("c1").as_deref(), Some("u"));
        assert!(g.fresh("b1").is_none());
        for i in 0..GRANTS_MAX {
            g.remember(format!("x{i}"), "u".into());
        }
        assert!(g.fresh("c1").is_none(), "a full table starts over");
        assert!(g.0.lock().unwrap().len() <= GRANTS_MAX);
    }
}
