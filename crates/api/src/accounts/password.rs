//! Password hashing with argon2id, off the async threads, a few at a
//! time (each hash holds ~19 MiB: a flood must not multiply that).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::rngs::OsRng;
use std::sync::{mpsc, Arc, Mutex, OnceLock};

use tokio::sync::{oneshot, Semaphore, SemaphorePermit};

use super::AccountError;

/// Threads that hash passwords: one per core, at most 4. Each holds ~19 MiB
/// while it hashes; fixed threads keep that memory to a few allocator
/// arenas (the blocking pool would spread it over dozens of threads, each
/// keeping its own freed 19 MiB).
fn hashers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 4)
}

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads' queue, started on first use.
fn queue() -> &'static Mutex<mpsc::Sender<Job>> {
    static QUEUE: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    QUEUE.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..hashers() {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("berth-hash-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => {
                            job();
                            give_back_memory();
                        }
                        Err(_) => return,
                    }
                });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "cannot start a password hashing thread");
            }
        }
        Mutex::new(tx)
    })
}

/// Returns the freed hashing memory to the system. glibc keeps a freed
/// 19 MiB block in the thread's arena, and fragmentation lets those pile up:
/// measured, 68 wrong logins left the server at 267 MiB without this and at
/// 77 MiB peak (29 MiB after) with it.
fn give_back_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free heap pages; it is thread-safe
    // and touches no memory the program holds.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Runs `f` on a hashing thread.
async fn on_hasher<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AccountError> {
    let _slot = slot().await?;
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(f());
    });
    queue()
        .lock()
        .map_err(|_| AccountError::Internal("the hashing queue is poisoned".into()))?
        .send(job)
        .map_err(|_| AccountError::Internal("no password hashing thread runs".into()))?;
    rx.await
        .map_err(|_| AccountError::Internal("a password hashing job was lost".into()))
}

/// Requests checking a password at once (hashing or queued for a
/// thread); past it, `Busy` at once.
const MAX_WAITING: usize = 64;

fn slots() -> &'static Semaphore {
    static SLOTS: Semaphore = Semaphore::const_new(MAX_WAITING);
    &SLOTS
}

/// A place in the queue, or `Busy` when it is full.
async fn slot() -> Result<SemaphorePermit<'static>, AccountError> {
    slots().try_acquire().map_err(|_| AccountError::Busy)
}

/// A hash of a random password nobody knows, made once with the same
/// parameters as real ones: verified against when the email is unknown, so a
/// wrong email costs the same time as a wrong password.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(super::secrets::generate_password().as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// Hashes a new password (PHC string).
pub async fn hash(password: String) -> Result<String, AccountError> {
    on_hasher(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AccountError::Internal(format!("hashing a password failed: {e}")))
    })
    .await?
}

/// Whether `password` matches `stored`; with `None`, burns the same time and
/// answers false. `Busy` when too many hashes wait already.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool, AccountError> {
    on_hasher(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| dummy_hash().to_string());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && known
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_then_verify() {
        let h = hash("correct horse".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse".into(), Some(h.clone()))
            .await
            .unwrap());
        assert!(!verify("wrong horse".into(), Some(h)).await.unwrap());
        assert!(!verify("anything".into(), None).await.unwrap());
        assert!(
            PasswordHash::new(dummy_hash()).is_ok(),
            "dummy hash must parse so the timing matches"
        );
    }
}
