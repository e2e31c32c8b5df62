//! Folders kept by an earlier berth, whose sessions ran as root, handed to
//! the sessions' user once per data dir.

use std::path::{Path, PathBuf};

use super::upload::UPLOADS;

/// Marks (in the data dir) that every folder's files were handed to the
/// sessions' user.
pub(super) const HANDED_OVER: &str = ".folders-owned-by-work";

/// Once per data dir: hands everything in the folders to `owner` (not
/// following symlinks). Folders kept by a berth whose sessions ran as root
/// hold root's files, which sessions running as `work` could not change;
/// `chown` also clears the set-uid bits such files may carry.
pub(super) fn hand_over_once(folders: &Path, mark: &Path, (uid, gid): (u32, u32)) {
    if mark.exists() {
        return;
    }
    let mut todo: Vec<PathBuf> = std::fs::read_dir(folders)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| p.file_name().is_some_and(|n| n != UPLOADS))
                .collect()
        })
        .unwrap_or_default();
    let (mut handed, mut failed) = (0u64, 0u64);
    while let Some(path) = todo.pop() {
        let Ok(meta) = path.symlink_metadata() else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                todo.extend(entries.flatten().map(|e| e.path()));
            }
        }
        use std::os::unix::fs::MetadataExt;
        // the owner directories stay the server's (0700)
        let owner_dir = path.parent() == Some(folders);
        if owner_dir || (meta.uid() == uid && meta.gid() == gid) {
            continue;
        }
        match std::os::unix::fs::lchown(&path, Some(uid), Some(gid)) {
            Ok(()) => handed += 1,
            Err(_) => failed += 1,
        }
    }
    if failed > 0 {
        tracing::warn!(handed, failed, "could not hand every folder file to the sessions' user; trying again at the next start");
        return;
    }
    if handed > 0 {
        tracing::info!(
            files = handed,
            "handed the folders' files to the sessions' user (uid 1000)"
        );
    }
    if let Err(e) = std::fs::write(mark, b"") {
        tracing::warn!(error = %e, "could not mark the folders as handed over");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::folders::fs::{Storage, WORK_GID, WORK_UID};

    #[test]
    fn folders_kept_by_a_root_berth_are_handed_to_work_once() {
        use std::os::unix::fs::MetadataExt;
        // SAFETY: reads this process's effective user id.
        if unsafe { libc::geteuid() } != 0 {
            return; // only root can hand files away
        }
        let data = tempfile::tempdir().unwrap();
        let folder = data.path().join("folders/owner/f1");
        std::fs::create_dir_all(folder.join("sub")).unwrap();
        std::fs::write(folder.join("sub/old.txt"), "root's").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", folder.join("link")).unwrap();
        let _st = Storage::open(data.path()).unwrap();
        for p in ["", "sub", "sub/old.txt"] {
            let m = std::fs::symlink_metadata(folder.join(p)).unwrap();
            assert_eq!((m.uid(), m.gid()), (WORK_UID, WORK_GID), "{p}");
        }
        let link = std::fs::symlink_metadata(folder.join("link")).unwrap();
        assert_eq!(link.uid(), WORK_UID, "the link itself, not its target");
        assert_eq!(std::fs::metadata("/etc/passwd").unwrap().uid(), 0);
        let owner = std::fs::metadata(data.path().join("folders/owner")).unwrap();
        assert_eq!(owner.uid(), 0, "the owner directory stays the server's");
        assert!(data.path().join(HANDED_OVER).exists());
    }
}
