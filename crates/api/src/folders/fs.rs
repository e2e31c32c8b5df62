//! The folders on disk: `<data dir>/folders/<owner id>/<folder id>`, and the
//! only code that reads or writes inside them.
//!
//! Every path inside a folder is opened through `cap_std::fs::Dir` rooted
//! at the folder, which refuses absolute paths, `..` out of the root and
//! symlinks that lead outside it at every step (openat-style, so a session
//! swapping a directory for a symlink cannot race a check). The explorer's
//! paths are also checked by the shared rule first, so what is refused is
//! named clearly. Uploads are written to `<data dir>/uploads/` and renamed
//! into place when complete, so a partial upload leaves no file behind.

use std::io;
use std::path::{Path, PathBuf};

use berth_shared::folders::{EntryKind, FolderEntry};
use bytes::Bytes;
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

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

/// The folders' root on disk.
#[derive(Debug, Clone)]
pub struct Storage {
    folders: PathBuf,
    uploads: PathBuf,
}

impl Storage {
    /// Prepares `<data dir>/folders` and `<data dir>/uploads` (absolute:
    /// the engine bind-mounts from here).
    pub fn open(data_dir: &Path) -> io::Result<Storage> {
        let folders = data_dir.join("folders");
        let uploads = data_dir.join("uploads");
        std::fs::create_dir_all(&folders)?;
        std::fs::create_dir_all(&uploads)?;
        Ok(Storage {
            folders: folders.canonicalize()?,
            uploads: uploads.canonicalize()?,
        })
    }

    /// A folder's directory on the host (built from ids, never names).
    pub fn host_path(&self, owner_id: &str, folder_id: &str) -> PathBuf {
        self.folders.join(owner_id).join(folder_id)
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

    /// Makes a new folder's directory.
    pub async fn create(&self, owner_id: &str, folder_id: &str) -> Result<(), FsError> {
        let path = self.host_path(owner_id, folder_id);
        blocking(move || Ok(std::fs::create_dir_all(path)?)).await
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

    /// A directory's entries: directories first, then by name. Symlinks
    /// are listed as such, not followed.
    pub async fn list(
        &self,
        owner_id: &str,
        folder_id: &str,
        parts: Parts,
    ) -> Result<Vec<FolderEntry>, FsError> {
        self.in_folder(owner_id, folder_id, move |root| {
            let dir = root.open_dir(rel(&parts)).map_err(|e| meaning(e, &parts))?;
            let mut out = Vec::new();
            for entry in dir.entries()? {
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
            Ok(out)
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
        self.in_folder(owner_id, folder_id, move |root| {
            root.create_dir(rel(&parts)).map_err(|e| meaning(e, &parts))
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
            let name = parts.last().cloned().unwrap_or_default();
            let file = root.open(rel(&parts)).map_err(|e| meaning(e, &parts))?;
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

    /// Writes `body` to the file at `parts` (replacing a file that is
    /// there), at most `limit` bytes. The bytes go to a file of their own
    /// first and are renamed into place only once complete: a broken or
    /// refused upload leaves nothing behind. The bytes written.
    pub async fn upload<S, E>(
        &self,
        owner_id: &str,
        folder_id: &str,
        parts: Parts,
        mut body: S,
        limit: u64,
    ) -> Result<u64, FsError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let root = self.root(owner_id, folder_id)?;
        // the target's directory must exist (inside the folder) before any byte is taken
        let parent: Parts = parts[..parts.len().saturating_sub(1)].to_vec();
        let check = root.try_clone()?;
        let p2 = parent.clone();
        blocking(move || match check.metadata(rel(&p2)) {
            Ok(m) if m.is_dir() => Ok(()),
            Ok(_) => Err(FsError::WrongKind(format!(
                "{} is not a directory",
                display(&p2)
            ))),
            Err(e) => Err(meaning(e, &p2)),
        })
        .await?;
        let temp_name = format!("{}.part", uuid::Uuid::new_v4().simple());
        let temp = self.uploads.join(&temp_name);
        let written = async {
            // tokio's File hops to a blocking thread per write: buffer the
            // body's small frames into large writes
            let mut file = tokio::io::BufWriter::with_capacity(
                IO_BUFFER,
                tokio::fs::File::create(&temp).await?,
            );
            let mut n: u64 = 0;
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| FsError::Aborted(e.to_string()))?;
                n += chunk.len() as u64;
                if n > limit {
                    return Err(FsError::TooLarge(limit));
                }
                file.write_all(&chunk).await?;
            }
            file.flush().await?;
            file.get_ref().sync_all().await?;
            Ok::<u64, FsError>(n)
        }
        .await;
        let uploads = Dir::open_ambient_dir(&self.uploads, ambient_authority())?;
        let outcome = match written {
            Ok(n) => {
                blocking(move || {
                    uploads
                        .rename(&temp_name, &root, rel(&parts))
                        .map_err(|e| meaning(e, &parts))
                        .map(|()| n)
                })
                .await
            }
            Err(e) => Err(e),
        };
        if outcome.is_err() {
            let _ = tokio::fs::remove_file(&temp).await;
        }
        outcome
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(p: &str) -> Parts {
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

        let listed = st.list("u", "f", vec![]).await.unwrap();
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
            st.list("u", "f", parts("escape")).await,
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
            st.upload("u", "f", parts("escape/new"), body, 10).await,
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
    async fn uploads_are_all_or_nothing() {
        let data = tempfile::tempdir().unwrap();
        let st = Storage::open(data.path()).unwrap();
        st.create("u", "f").await.unwrap();
        let chunks = || {
            futures_util::stream::iter(vec![
                Ok::<_, io::Error>(Bytes::from("hello ")),
                Ok(Bytes::from("world")),
            ])
        };
        assert_eq!(
            st.upload("u", "f", parts("a.txt"), chunks(), 100)
                .await
                .unwrap(),
            11
        );
        let root = st.host_path("u", "f");
        assert_eq!(
            std::fs::read_to_string(root.join("a.txt")).unwrap(),
            "hello world"
        );
        assert!(matches!(
            st.upload("u", "f", parts("b.txt"), chunks(), 8).await,
            Err(FsError::TooLarge(8))
        ));
        let broken = futures_util::stream::iter(vec![
            Ok(Bytes::from("part")),
            Err(io::Error::other("connection reset")),
        ]);
        assert!(matches!(
            st.upload("u", "f", parts("c.txt"), broken, 100).await,
            Err(FsError::Aborted(_))
        ));
        assert!(!root.join("b.txt").exists() && !root.join("c.txt").exists());
        assert_eq!(
            std::fs::read_dir(data.path().join("uploads"))
                .unwrap()
                .count(),
            0
        );
        assert!(matches!(
            st.upload("u", "f", parts("nodir/x"), chunks(), 100).await,
            Err(FsError::NotFound(_))
        ));
        // moves refuse to overwrite
        st.upload("u", "f", parts("b.txt"), chunks(), 100)
            .await
            .unwrap();
        assert!(matches!(
            st.rename("u", "f", parts("a.txt"), parts("b.txt")).await,
            Err(FsError::Exists(_))
        ));
        st.rename("u", "f", parts("a.txt"), parts("renamed.txt"))
            .await
            .unwrap();
        let (_, size, name) = st.open_file("u", "f", parts("renamed.txt")).await.unwrap();
        assert_eq!((size, name.as_str()), (11, "renamed.txt"));
    }
}
