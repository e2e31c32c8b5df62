//! The folders on disk: `<data dir>/folders/<owner id>/<folder id>`, and the
//! only code that reads or writes inside them.
//!
//! Every path inside a folder is opened through `cap_std::fs::Dir` rooted
//! at the folder, which refuses absolute paths, `..` out of the root and
//! symlinks that lead outside it at every step (openat-style, so a session
//! swapping a directory for a symlink cannot race a check). The explorer's
//! paths are also checked by the shared rule first, so what is refused is
//! named clearly. Uploads are written to `<data dir>/folders/.uploads/` and renamed
//! into place when complete, so a partial upload leaves no file behind (a
//! crash's leftovers are swept at the next start).
//!
//! A folder is also written by its sessions, which are their users': a
//! download opens without blocking and refuses anything but a regular file
//! (a FIFO would hold a thread forever), a listing stops at its cap, and
//! what the server writes belongs to the sessions' user ([`WORK_UID`]), so
//! the explorer, SFTP, Jupyter and the terminal can change each other's
//! files. When the server runs as root, `<data dir>/folders` is mounted
//! `nosuid,nodev` on itself: every session's bind mount of a folder
//! inherits it, so no file a session leaves there raises anyone's rights.

use std::io;
use std::path::{Path, PathBuf};

use berth_shared::folders::{EntryKind, FolderEntry};
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use chrono::{DateTime, Utc};

mod handover;
mod upload;

pub use upload::Limit;

/// Why a file operation failed, in the terms the API answers with.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// No such file or directory.
    #[error("there is no {0} in the folder")]
    NotFound(String),
    /// The path (through a symlink) leads outside the folder.
    #[error("{0} leads outside the folder")]
    Outside(String),
    /// Something is already there.
    #[error("{0} already exists")]
    Exists(String),
    /// A file where a directory is needed, or the other way round.
    #[error("{0}")]
    WrongKind(String),
    /// The upload is larger than allowed.
    #[error("the upload is larger than {0} bytes")]
    TooLarge(u64),
    /// The upload's body broke off.
    #[error("the upload broke off: {0}")]
    Aborted(String),
    /// The upload would take the owner's folders past their quota.
    #[error("the folders may hold {quota} bytes together and hold {used}")]
    OverQuota {
        /// The policy's `max_folder_bytes`.
        quota: u64,
        /// What the folders hold now.
        used: u64,
    },
    /// Anything else.
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// Bytes moved per file-system call when streaming an upload or download.
pub const IO_BUFFER: usize = 1 << 20;

/// A path inside a folder as parts (already checked by the shared rule).
pub type Parts = Vec<String>;

fn display(parts: &[String]) -> String {
    if parts.is_empty() {
        "/".into()
    } else {
        parts.join("/")
    }
}

fn rel(parts: &[String]) -> PathBuf {
    if parts.is_empty() {
        PathBuf::from(".")
    } else {
        parts.iter().collect()
    }
}

/// Turns an I/O error on `parts` into what it means for the explorer.
fn meaning(e: io::Error, parts: &[String]) -> FsError {
    let what = display(parts);
    match e.kind() {
        io::ErrorKind::NotFound => FsError::NotFound(what),
        io::ErrorKind::PermissionDenied => FsError::Outside(what),
        io::ErrorKind::AlreadyExists => FsError::Exists(what),
        io::ErrorKind::NotADirectory => FsError::WrongKind(format!("{what} is not a directory")),
        io::ErrorKind::IsADirectory => FsError::WrongKind(format!("{what} is a directory")),
        io::ErrorKind::DirectoryNotEmpty => {
            FsError::Exists(format!("{what} (a directory with files in it)"))
        }
        _ => FsError::Io(e),
    }
}

/// Runs blocking file work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, FsError> + Send + 'static,
) -> Result<T, FsError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| FsError::Io(io::Error::other(e.to_string())))?
}

/// The user every session runs as (`work`), who owns the folders' files.
pub const WORK_UID: u32 = 1000;
/// `work`'s group.
pub const WORK_GID: u32 = 1000;

/// The folders' root on disk.
#[derive(Debug, Clone)]
pub struct Storage {
    folders: PathBuf,
    uploads: PathBuf,
    /// Who what the server writes is handed to: `work`, when the server
    /// can give files away (it runs as root); else it keeps them (a server
    /// running as uid 1000 writes them as `work` anyway).
    owner: Option<(u32, u32)>,
    /// The `nosuid,nodev` mount this start made, undone when dropped.
    _mount: Option<std::sync::Arc<super::mount::Guard>>,
}

impl Storage {
    /// Prepares `<data dir>/folders` (absolute: the engine bind-mounts from
    /// here) and its `.uploads`: both 0700, what a crash left in `.uploads`
    /// swept, and `folders` mounted `nosuid,nodev` when the server runs as
    /// root.
    pub fn open(data_dir: &Path) -> io::Result<Storage> {
        Self::open_at(data_dir, &data_dir.join("folders"))
    }

    /// The same with the folder store at `root` (`--storage-root`: a
    /// shared filesystem when agents on other hosts mount folders).
    pub fn open_at(data_dir: &Path, root: &Path) -> io::Result<Storage> {
        let folders = root.to_path_buf();
        crate::store::private_dir(&folders)?;
        let folders = folders.canonicalize()?;
        // SAFETY: geteuid only reads this process's effective user id.
        let root = unsafe { libc::geteuid() } == 0;
        let mount = if root {
            match super::mount::nosuid_nodev(&folders) {
                Ok(guard) => guard.map(std::sync::Arc::new),
                Err(e) => {
                    tracing::warn!(path = %folders.display(), error = %e,
                        "could not mount the folders nosuid,nodev; files sessions leave there keep their set-uid bits");
                    None
                }
            }
        } else {
            None
        };
        if root {
            handover::hand_over_once(
                &folders,
                &data_dir.join(handover::HANDED_OVER),
                (WORK_UID, WORK_GID),
            );
        }
        // inside the mount: an upload is renamed into place, which cannot
        // cross mounts
        let uploads = folders.join(upload::UPLOADS);
        crate::store::private_dir(&uploads)?;
        upload::sweep_uploads(&uploads);
        Ok(Storage {
            folders,
            uploads,
            owner: root.then_some((WORK_UID, WORK_GID)),
            _mount: mount,
        })
    }

    /// Hands a file or directory the server made to the sessions' user.
    fn give(&self, file: &impl std::os::fd::AsFd) -> io::Result<()> {
        match self.owner {
            Some((uid, gid)) => std::os::unix::fs::fchown(file, Some(uid), Some(gid)),
            None => Ok(()),
        }
    }

    /// Hands `name` in `dir` to the sessions' user (not following a
    /// symlink there).
    fn give_at(&self, dir: &Dir, name: &str) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let Some((uid, gid)) = self.owner else {
            return Ok(());
        };
        let name = std::ffi::CString::new(name).map_err(io::Error::other)?;
        // SAFETY: a live directory fd and a NUL-terminated name.
        let r = unsafe {
            libc::fchownat(
                dir.as_raw_fd(),
                name.as_ptr(),
                uid,
                gid,
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// A folder's directory on the host (built from ids, never names).
    pub fn host_path(&self, owner_id: &str, folder_id: &str) -> PathBuf {
        self.folders.join(owner_id).join(folder_id)
    }

    /// The folder store's root as the server sees it (also where the
    /// local agent sees it).
    pub fn store_root(&self) -> &Path {
        &self.folders
    }

    /// A folder's path under an agent's view of the store (its
    /// `storage_path`), for the agent's engine to bind-mount.
    pub fn agent_path(agent_root: &str, owner_id: &str, folder_id: &str) -> String {
        Path::new(agent_root)
            .join(owner_id)
            .join(folder_id)
            .to_string_lossy()
            .into_owned()
    }

    fn root(&self, owner_id: &str, folder_id: &str) -> Result<Dir, FsError> {
        Dir::open_ambient_dir(self.host_path(owner_id, folder_id), ambient_authority())
            .map_err(FsError::Io)
    }

    /// Runs `f` on a handle rooted at the folder, off the async threads.
    async fn in_folder<T: Send + 'static>(
        &self,
        owner_id: &str,
        folder_id: &str,
        f: impl FnOnce(Dir) -> Result<T, FsError> + Send + 'static,
    ) -> Result<T, FsError> {
        let root = self.root(owner_id, folder_id)?;
        blocking(move || f(root)).await
    }

    /// Makes a new folder's directory, the sessions' user's.
    pub async fn create(&self, owner_id: &str, folder_id: &str) -> Result<(), FsError> {
        let path = self.host_path(owner_id, folder_id);
        let owner = self.folders.join(owner_id);
        let this = self.clone();
        blocking(move || {
            crate::store::private_dir(&owner)?;
            std::fs::create_dir_all(&path)?;
            this.give(&std::fs::File::open(&path)?)?;
            Ok(())
        })
        .await
    }

    /// Deletes a folder's directory and everything in it (symlinks are
    /// removed, not followed).
    pub async fn remove(&self, owner_id: &str, folder_id: &str) -> Result<(), FsError> {
        let path = self.host_path(owner_id, folder_id);
        blocking(move || match std::fs::remove_dir_all(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(FsError::Io(e)),
            _ => Ok(()),
        })
        .await
    }

    /// A directory's entries, at most `max` of them (and whether there
    /// were more): directories first, then by name. Symlinks are listed as
    /// such, not followed.
    pub async fn list(
        &self,
        owner_id: &str,
        folder_id: &str,
        parts: Parts,
        max: usize,
    ) -> Result<(Vec<FolderEntry>, bool), FsError> {
        self.in_folder(owner_id, folder_id, move |root| {
            let dir = root.open_dir(rel(&parts)).map_err(|e| meaning(e, &parts))?;
            let mut out = Vec::new();
            let mut truncated = false;
            for entry in dir.entries()? {
                if out.len() >= max {
                    truncated = true;
                    break;
                }
                let entry = entry?;
                let meta = entry.metadata()?;
                let ft = meta.file_type();
                let kind = if ft.is_symlink() {
                    EntryKind::Symlink
                } else if ft.is_dir() {
                    EntryKind::Dir
                } else if ft.is_file() {
                    EntryKind::File
                } else {
                    EntryKind::Other
                };
                out.push(FolderEntry {
                    name: entry.file_name().to_string_lossy().into_owned(),
                    kind,
                    size: if kind == EntryKind::File {
                        meta.len()
                    } else {
                        0
                    },
                    modified: meta
                        .modified()
                        .ok()
                        .map(|t| DateTime::<Utc>::from(t.into_std())),
                });
            }
            out.sort_by(|a, b| {
                (b.kind == EntryKind::Dir)
                    .cmp(&(a.kind == EntryKind::Dir))
                    .then_with(|| a.name.cmp(&b.name))
            });
            Ok((out, truncated))
        })
        .await
    }

    /// Makes a directory (its parent must exist).
    pub async fn mkdir(
        &self,
        owner_id: &str,
        folder_id: &str,
        parts: Parts,
    ) -> Result<(), FsError> {
        let this = self.clone();
        self.in_folder(owner_id, folder_id, move |root| {
            root.create_dir(rel(&parts))
                .map_err(|e| meaning(e, &parts))?;
            let (parent, name) = parts.split_at(parts.len().saturating_sub(1));
            let parent = root.open_dir(rel(parent)).map_err(|e| meaning(e, &parts))?;
            Ok(this.give_at(&parent, name.first().map_or(".", String::as_str))?)
        })
        .await
    }

    /// Deletes a file, a symlink (not what it points to) or a directory
    /// with everything in it.
    pub async fn remove_entry(
        &self,
        owner_id: &str,
        folder_id: &str,
        parts: Parts,
    ) -> Result<(), FsError> {
        self.in_folder(owner_id, folder_id, move |root| {
            let path = rel(&parts);
            let meta = root
                .symlink_metadata(&path)
                .map_err(|e| meaning(e, &parts))?;
            if meta.is_dir() {
                root.remove_dir_all(&path)
            } else {
                root.remove_file(&path)
            }
            .map_err(|e| meaning(e, &parts))
        })
        .await
    }

    /// Renames or moves an entry within the folder; `to` must not exist.
    pub async fn rename(
        &self,
        owner_id: &str,
        folder_id: &str,
        from: Parts,
        to: Parts,
    ) -> Result<(), FsError> {
        self.in_folder(owner_id, folder_id, move |root| {
            root.symlink_metadata(rel(&from))
                .map_err(|e| meaning(e, &from))?;
            match root.symlink_metadata(rel(&to)) {
                Ok(_) => return Err(FsError::Exists(display(&to))),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(meaning(e, &to)),
            }
            root.rename(rel(&from), &root, rel(&to))
                .map_err(|e| meaning(e, &to))
        })
        .await
    }

    /// Opens a file for download: the file, its size and its name.
    pub async fn open_file(
        &self,
        owner_id: &str,
        folder_id: &str,
        parts: Parts,
    ) -> Result<(tokio::fs::File, u64, String), FsError> {
        self.in_folder(owner_id, folder_id, move |root| {
            use cap_std::fs::OpenOptionsExt;
            let name = parts.last().cloned().unwrap_or_default();
            // a FIFO a session made would block an ordinary open until a
            // writer comes, holding this thread: never wait, and refuse
            // anything but a regular file before reading
            let mut options = cap_std::fs::OpenOptions::new();
            options.read(true).custom_flags(libc::O_NONBLOCK);
            let file = root
                .open_with(rel(&parts), &options)
                .map_err(|e| meaning(e, &parts))?;
            let meta = file.metadata()?;
            if !meta.is_file() {
                return Err(FsError::WrongKind(format!(
                    "{} is not a file",
                    display(&parts)
                )));
            }
            Ok((tokio::fs::File::from_std(file.into_std()), meta.len(), name))
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::folders::fs::upload::tests::lim;
    use bytes::Bytes;

    pub(crate) fn parts(p: &str) -> Parts {
        p.split('/').map(String::from).collect()
    }

    #[tokio::test]
    async fn files_stay_inside_their_folder() {
        let data = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "no").unwrap();
        let st = Storage::open(data.path()).unwrap();
        st.create("u", "f").await.unwrap();
        let root = st.host_path("u", "f");
        std::os::unix::fs::symlink(outside.path(), root.join("escape")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("passwd")).unwrap();
        std::fs::create_dir(root.join("sub")).unwrap();
        std::os::unix::fs::symlink("sub", root.join("inside")).unwrap();

        let listed = st.list("u", "f", vec![], 100).await.unwrap().0;
        let names: Vec<_> = listed.iter().map(|e| (e.name.as_str(), e.kind)).collect();
        assert_eq!(
            names,
            [
                ("sub", EntryKind::Dir),
                ("escape", EntryKind::Symlink),
                ("inside", EntryKind::Symlink),
                ("passwd", EntryKind::Symlink)
            ]
        );
        assert!(matches!(
            st.list("u", "f", parts("escape"), 100).await,
            Err(FsError::Outside(_))
        ));
        assert!(matches!(
            st.open_file("u", "f", parts("passwd")).await,
            Err(FsError::Outside(_))
        ));
        assert!(matches!(
            st.open_file("u", "f", parts("escape/secret")).await,
            Err(FsError::Outside(_))
        ));
        let body = futures_util::stream::iter([Ok::<_, io::Error>(Bytes::from("x"))]);
        assert!(matches!(
            st.upload("u", "f", parts("escape/new"), body, lim(10))
                .await,
            Err(FsError::Outside(_))
        ));
        assert!(
            !outside.path().join("new").exists(),
            "nothing written outside"
        );
        // a symlink inside the folder is followed
        st.mkdir("u", "f", parts("inside/deeper")).await.unwrap();
        assert!(root.join("sub/deeper").is_dir());
        // deleting a symlink removes the link, not its target
        st.remove_entry("u", "f", parts("escape")).await.unwrap();
        assert!(outside.path().join("secret").exists());
    }

    #[tokio::test]
    async fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let data = tempfile::tempdir().unwrap();
        let st = Storage::open(data.path()).unwrap();
        st.create("u", "f").await.unwrap();
        let fifo = st.host_path("u", "f").join("pipe");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        // an ordinary open would block this test forever
        let opened = tokio::time::timeout(
            std::time::Duration::from_secs(20),
            st.open_file("u", "f", parts("pipe")),
        )
        .await
        .expect("the open must not wait for a writer");
        assert!(matches!(opened, Err(FsError::WrongKind(_))), "{opened:?}");
    }

    #[tokio::test]
    async fn listings_stop_at_their_cap_and_say_so() {
        let data = tempfile::tempdir().unwrap();
        let st = Storage::open(data.path()).unwrap();
        st.create("u", "f").await.unwrap();
        for i in 0..5 {
            std::fs::write(st.host_path("u", "f").join(format!("f{i}")), "x").unwrap();
        }
        let (items, truncated) = st.list("u", "f", vec![], 3).await.unwrap();
        assert_eq!((items.len(), truncated), (3, true));
        let (items, truncated) = st.list("u", "f", vec![], 5).await.unwrap();
        assert_eq!((items.len(), truncated), (5, false));
    }
}
