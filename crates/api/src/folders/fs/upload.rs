//! Uploads into a folder: bounded by the server's largest upload, the
//! owner's quota and a stall limit, written beside the folders and renamed
//! into place only when complete; and the sweep of what a crash left.

use std::path::Path;

use bytes::Bytes;
use cap_std::ambient_authority;
use cap_std::fs::Dir;
use futures_util::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use super::{blocking, display, meaning, rel, FsError, Parts, Storage, IO_BUFFER};

/// Where uploads are written until complete: `<data dir>/folders/.uploads`
/// (no owner id starts with a dot).
pub(super) const UPLOADS: &str = ".uploads";

/// What an upload may be: its size cap, the room left under the owner's
/// quota, and how long its body may send nothing.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    /// The server's largest upload (bytes).
    pub max: u64,
    /// `(quota, used)` when the owner's policy sets `max_folder_bytes`.
    pub quota: Option<(u64, u64)>,
    /// A body silent this long is cut off.
    pub stall: std::time::Duration,
}

impl Limit {
    /// Whether `n` bytes may be written.
    pub fn check(&self, n: u64) -> Result<(), FsError> {
        if n > self.max {
            return Err(FsError::TooLarge(self.max));
        }
        match self.quota {
            Some((quota, used)) if used.saturating_add(n) > quota => {
                Err(FsError::OverQuota { quota, used })
            }
            _ => Ok(()),
        }
    }
}

/// Bytes in the regular files under `dir` (symlinks not followed; what
/// cannot be read counts as nothing).
fn tree_bytes(dir: &Path) -> u64 {
    let mut total = 0u64;
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            if meta.is_dir() {
                todo.push(entry.path());
            } else if meta.is_file() {
                total = total.saturating_add(meta.len());
            }
        }
    }
    total
}

/// Removes what uploads a crash cut short left in `uploads` (at start,
/// when none can be running).
pub(super) fn sweep_uploads(uploads: &Path) {
    let Ok(entries) = std::fs::read_dir(uploads) else {
        return;
    };
    let mut swept = 0;
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().ends_with(".part")
            && std::fs::remove_file(entry.path()).is_ok()
        {
            swept += 1;
        }
    }
    if swept > 0 {
        tracing::info!(files = swept, "swept uploads a stop cut short");
    }
}

impl Storage {
    /// Bytes in every regular file of `owner_id`'s folders (symlinks are
    /// not followed).
    pub async fn used_bytes(&self, owner_id: &str) -> Result<u64, FsError> {
        let dir = self.folders.join(owner_id);
        blocking(move || Ok(tree_bytes(&dir))).await
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
        limit: Limit,
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
            loop {
                let next = tokio::time::timeout(limit.stall, body.next())
                    .await
                    .map_err(|_| {
                        FsError::Aborted(format!("no data came for {} s", limit.stall.as_secs()))
                    })?;
                let Some(chunk) = next else { break };
                let chunk = chunk.map_err(|e| FsError::Aborted(e.to_string()))?;
                n += chunk.len() as u64;
                limit.check(n)?;
                file.write_all(&chunk).await?;
            }
            file.flush().await?;
            file.get_ref().sync_all().await?;
            self.give(file.get_ref())?;
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
pub(crate) mod tests {
    use super::*;
    use crate::folders::fs::tests::parts;
    use std::io;

    pub(crate) fn lim(max: u64) -> Limit {
        Limit {
            max,
            quota: None,
            stall: std::time::Duration::from_secs(5),
        }
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
            st.upload("u", "f", parts("a.txt"), chunks(), lim(100))
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
            st.upload("u", "f", parts("b.txt"), chunks(), lim(8)).await,
            Err(FsError::TooLarge(8))
        ));
        let broken = futures_util::stream::iter(vec![
            Ok(Bytes::from("part")),
            Err(io::Error::other("connection reset")),
        ]);
        assert!(matches!(
            st.upload("u", "f", parts("c.txt"), broken, lim(100)).await,
            Err(FsError::Aborted(_))
        ));
        assert!(!root.join("b.txt").exists() && !root.join("c.txt").exists());
        assert_eq!(
            std::fs::read_dir(data.path().join("folders/.uploads"))
                .unwrap()
                .count(),
            0
        );
        assert!(matches!(
            st.upload("u", "f", parts("nodir/x"), chunks(), lim(100))
                .await,
            Err(FsError::NotFound(_))
        ));
        // moves refuse to overwrite
        st.upload("u", "f", parts("b.txt"), chunks(), lim(100))
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

    #[tokio::test]
    async fn the_quota_counts_every_folder_of_the_owner_and_a_stalled_body_ends() {
        let data = tempfile::tempdir().unwrap();
        let st = Storage::open(data.path()).unwrap();
        st.create("u", "f").await.unwrap();
        st.create("u", "g").await.unwrap();
        std::fs::write(st.host_path("u", "f").join("a"), [0u8; 600]).unwrap();
        std::fs::create_dir(st.host_path("u", "g").join("d")).unwrap();
        std::fs::write(st.host_path("u", "g").join("d/b"), [0u8; 300]).unwrap();
        std::os::unix::fs::symlink("/usr/bin", st.host_path("u", "g").join("link")).unwrap();
        let used = st.used_bytes("u").await.unwrap();
        assert_eq!(used, 900, "symlinks are not followed");
        let limit = Limit {
            max: 10_000,
            quota: Some((1000, used)),
            stall: std::time::Duration::from_secs(5),
        };
        let body = futures_util::stream::iter([Ok::<_, io::Error>(Bytes::from(vec![1u8; 200]))]);
        assert!(matches!(
            st.upload("u", "f", parts("big"), body, limit).await,
            Err(FsError::OverQuota {
                quota: 1000,
                used: 900
            })
        ));
        let body = futures_util::stream::iter([Ok::<_, io::Error>(Bytes::from(vec![1u8; 100]))]);
        assert_eq!(
            st.upload("u", "f", parts("fits"), body, limit)
                .await
                .unwrap(),
            100
        );
        let stalled = futures_util::stream::iter([Ok::<_, io::Error>(Bytes::from("a"))])
            .chain(futures_util::stream::pending());
        let limit = Limit {
            stall: std::time::Duration::from_millis(50),
            ..lim(100)
        };
        assert!(matches!(
            st.upload("u", "f", parts("slow"), Box::pin(stalled), limit)
                .await,
            Err(FsError::Aborted(_))
        ));
        assert!(!st.host_path("u", "f").join("slow").exists());
    }

    #[test]
    fn a_start_sweeps_what_a_crash_left_in_uploads() {
        let data = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(data.path().join("folders/.uploads")).unwrap();
        std::fs::write(data.path().join("folders/.uploads/abc.part"), "half").unwrap();
        let _st = Storage::open(data.path()).unwrap();
        assert_eq!(
            std::fs::read_dir(data.path().join("folders/.uploads"))
                .unwrap()
                .count(),
            0
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.path().join("folders"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
