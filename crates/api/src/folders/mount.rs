//! `<data dir>/folders` mounted `nosuid,nodev` on itself (a bind mount,
//! then a remount with the flags), when the server runs as root. Every
//! session's bind mount of a folder is a copy of this mount and keeps its
//! flags, so a set-uid file or a device node a session leaves in a folder
//! gives nobody anything, in any container or on the host.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The most of `/proc/self/mountinfo` that is read.
const MOUNTINFO_MAX: u64 = 4 << 20;

/// The mount this process made; undone (lazily) when dropped.
#[derive(Debug)]
pub struct Guard {
    path: CString,
}

impl Drop for Guard {
    fn drop(&mut self) {
        // SAFETY: a valid NUL-terminated path; MNT_DETACH never blocks.
        unsafe {
            libc::umount2(self.path.as_ptr(), libc::MNT_DETACH);
        }
    }
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)
}

/// Whether `path` is already a mount point with `nosuid` and `nodev` (an
/// earlier start made it): `/proc/self/mountinfo`'s fifth field is the
/// mount point (octal escapes for spaces and the like), the sixth its
/// options.
fn already(path: &Path) -> bool {
    // the kernel writes it, but a host with very many mounts makes it long:
    // read a bounded prefix (past it, a mount is made again, which is harmless)
    let Ok(info) = crate::bounded::read_prefix("/proc/self/mountinfo", MOUNTINFO_MAX) else {
        return false;
    };
    let wanted = escape(&path.to_string_lossy());
    info.lines().any(|line| {
        let fields: Vec<&str> = line.split(' ').collect();
        fields.len() > 5 && fields[4] == wanted && {
            let opts: Vec<&str> = fields[5].split(',').collect();
            opts.contains(&"nosuid") && opts.contains(&"nodev")
        }
    })
}

/// The kernel's escaping of a path in mountinfo.
fn escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            ' ' => out.push_str("\\040"),
            '\t' => out.push_str("\\011"),
            '\n' => out.push_str("\\012"),
            '\\' => out.push_str("\\134"),
            c => out.push(c),
        }
    }
    out
}

/// Mounts `path` on itself `nosuid,nodev`; `None` when it already is one.
pub fn nosuid_nodev(path: &Path) -> io::Result<Option<Guard>> {
    if already(path) {
        return Ok(None);
    }
    let p = c_path(path)?;
    let call = |r: libc::c_int| {
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    };
    // SAFETY: valid NUL-terminated paths; null fstype and data are allowed
    // for bind mounts and remounts.
    unsafe {
        call(libc::mount(
            p.as_ptr(),
            p.as_ptr(),
            std::ptr::null(),
            libc::MS_BIND,
            std::ptr::null(),
        ))?;
        if let Err(e) = call(libc::mount(
            std::ptr::null(),
            p.as_ptr(),
            std::ptr::null(),
            libc::MS_REMOUNT | libc::MS_BIND | libc::MS_NOSUID | libc::MS_NODEV,
            std::ptr::null(),
        )) {
            libc::umount2(p.as_ptr(), libc::MNT_DETACH);
            return Err(e);
        }
    }
    Ok(Some(Guard { path: p }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_paths_are_escaped_as_the_kernel_does() {
        assert_eq!(escape("/data/my folders"), "/data/my\\040folders");
        assert_eq!(escape("/a\\b"), "/a\\134b");
        assert!(!already(Path::new("/no/such/mount/point")));
    }
}
