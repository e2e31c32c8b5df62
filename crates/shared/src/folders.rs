//! Storage folders: directories owned by a user that outlive sessions,
//! mounted into sessions at `/home/work/<name>` and browsed with the folder
//! explorer. The rules for folder names and for paths inside a folder live
//! here, so the Data page, the launcher and the server agree.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::validate::{Errors, Invalid};
use crate::FieldError;

/// Longest folder name.
pub const FOLDER_NAME_MAX_CHARS: usize = 64;
/// Folders a user may own when their resource policy says nothing else.
pub const DEFAULT_MAX_FOLDERS: u32 = 10;
/// Longest path inside a folder, in bytes.
pub const PATH_MAX_BYTES: usize = 1024;

/// A folder name: 1–64 letters, digits, `-`, `_`, `.`, not starting with
/// `.` (it becomes a directory name inside sessions: `/home/work/<name>`).
pub fn folder_name(name: &str) -> Result<(), Invalid> {
    if name.is_empty() {
        return Err(Invalid::new("required", "A folder needs a name."));
    }
    if name.chars().count() > FOLDER_NAME_MAX_CHARS {
        return Err(Invalid::new(
            "too_long",
            format!("A folder name has at most {FOLDER_NAME_MAX_CHARS} characters."),
        ));
    }
    let ok = name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok || name.starts_with('.') {
        return Err(Invalid::new(
            "invalid_folder_name",
            "Use letters, digits, -, _ and ., not starting with a dot.",
        ));
    }
    Ok(())
}

/// A path inside a folder, as the explorer sends it (`a/b/c.txt`; empty or
/// `/` is the folder itself), split into its parts. Refused: `..`, an
/// absolute path other than `/`, NUL bytes and backslashes. Empty and `.`
/// parts are dropped. (Symlinks that lead outside are refused where the
/// path is opened, on the server.)
pub fn folder_path(path: &str) -> Result<Vec<&str>, Invalid> {
    if path.len() > PATH_MAX_BYTES {
        return Err(Invalid::new(
            "too_long",
            format!("A path has at most {PATH_MAX_BYTES} bytes."),
        ));
    }
    if path.contains('\0') {
        return Err(Invalid::new(
            "invalid_path",
            "A path cannot hold a NUL byte.",
        ));
    }
    if path.contains('\\') {
        return Err(Invalid::new(
            "invalid_path",
            "Use / between the parts of a path, not \\.",
        ));
    }
    if path.starts_with('/') && !path.trim_matches('/').is_empty() {
        return Err(Invalid::new(
            "invalid_path",
            "A path starts inside the folder: write a/b, not /a/b.",
        ));
    }
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(Invalid::new(
            "invalid_path",
            "A path cannot go up with .. out of where it is.",
        ));
    }
    Ok(parts)
}

/// `POST /api/v1/folders`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateFolderRequest {
    /// The new folder's name.
    #[serde(default)]
    pub name: String,
}

impl CreateFolderRequest {
    /// The name rule.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        errs.check("name", folder_name(&self.name));
        errs.finish()
    }
}

/// `PATCH /api/v1/folders/{id}`: a new name.
pub type RenameFolderRequest = CreateFolderRequest;

/// A live session a folder is mounted in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MountedIn {
    /// Session id.
    pub session_id: String,
    /// Session name.
    pub session_name: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// A folder as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FolderInfo {
    /// Id (its directory on the server is named after it, not the name).
    pub id: String,
    /// Name, unique among the owner's folders.
    pub name: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// The live sessions it is mounted in.
    pub mounted_in: Vec<MountedIn>,
}

/// `GET /api/v1/folders`: the caller's folders, by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FolderList {
    /// Folders.
    pub items: Vec<FolderInfo>,
    /// How many the caller may own (0 = no limit).
    pub max_folders: u32,
}

/// What a directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Dir,
    /// A symbolic link (not followed when listing).
    Symlink,
    /// Anything else (socket, device…).
    Other,
}

/// One entry of a directory in a folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FolderEntry {
    /// Its name.
    pub name: String,
    /// File, directory, symlink…
    pub kind: EntryKind,
    /// Bytes (files).
    pub size: u64,
    /// Last modified, when known.
    pub modified: Option<DateTime<Utc>>,
}

/// `GET /api/v1/folders/{id}/entries?path=`: a directory's entries,
/// directories first, then by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FolderListing {
    /// The directory, as normalised (`""` is the folder itself).
    pub path: String,
    /// Its entries (at most the server's listing cap).
    pub items: Vec<FolderEntry>,
    /// The directory holds more entries than `items` shows.
    #[serde(default)]
    pub truncated: bool,
}

/// Query of the explorer's routes: a path inside the folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct PathQuery {
    /// `a/b/c.txt`; the folder itself when empty.
    #[serde(default)]
    pub path: String,
}

/// `POST /api/v1/folders/{id}/mkdir`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MkdirRequest {
    /// The directory to make (its parent must exist).
    pub path: String,
}

/// `POST /api/v1/folders/{id}/move`: rename or move within the folder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MoveRequest {
    /// What to move.
    pub from: String,
    /// Where to (must not exist yet).
    pub to: String,
}

impl MkdirRequest {
    /// The path rule; the folder itself cannot be made.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        errs.check("path", entry_path(&self.path).map(|_| ()));
        errs.finish()
    }
}

impl MoveRequest {
    /// The path rule for both ends.
    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errs = Errors::new();
        errs.check("from", entry_path(&self.from).map(|_| ()));
        errs.check("to", entry_path(&self.to).map(|_| ()));
        errs.finish()
    }
}

/// A path that names an entry (not the folder itself).
pub fn entry_path(path: &str) -> Result<Vec<&str>, Invalid> {
    let parts = folder_path(path)?;
    if parts.is_empty() {
        return Err(Invalid::new(
            "required",
            "Name a file or directory inside the folder.",
        ));
    }
    Ok(parts)
}

/// What the upload and download routes answer with as file names:
/// `Content-Disposition: attachment; filename*=UTF-8''…` (RFC 6266).
pub fn content_disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in file_name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folder_names() {
        for ok in ["data", "my-set_1.v2", "a", &"x".repeat(64)] {
            assert_eq!(folder_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(folder_name("").unwrap_err().code, "required");
        assert_eq!(folder_name(&"x".repeat(65)).unwrap_err().code, "too_long");
        for bad in [".hidden", "a b", "a/b", "데이터", "x$", ".."] {
            assert_eq!(
                folder_name(bad).unwrap_err().code,
                "invalid_folder_name",
                "{bad}"
            );
        }
    }

    #[test]
    fn paths_stay_inside_the_folder() {
        assert_eq!(folder_path("").unwrap(), Vec::<&str>::new());
        assert_eq!(folder_path("/").unwrap(), Vec::<&str>::new());
        assert_eq!(folder_path("a/./b//c.txt").unwrap(), ["a", "b", "c.txt"]);
        assert_eq!(folder_path("a/").unwrap(), ["a"]);
        for bad in ["..", "a/../../etc", "/etc/passwd", "a\\b", "a\0b", "../x"] {
            assert_eq!(
                folder_path(bad).unwrap_err().code,
                "invalid_path",
                "{bad:?}"
            );
        }
        assert_eq!(folder_path(&"a".repeat(2000)).unwrap_err().code, "too_long");
        assert_eq!(entry_path("/").unwrap_err().code, "required");
    }

    #[test]
    fn downloads_name_their_file_safely() {
        assert_eq!(
            content_disposition("a b.txt"),
            "attachment; filename=\"a b.txt\"; filename*=UTF-8''a%20b.txt"
        );
        assert_eq!(
            content_disposition("데\"x"),
            "attachment; filename=\"__x\"; filename*=UTF-8''%EB%8D%B0%22x"
        );
    }

    proptest! {
        #[test]
        fn no_accepted_path_goes_up(p in "[a-z./\\\\]{0,20}") {
            if let Ok(parts) = folder_path(&p) {
                prop_assert!(parts.iter().all(|x| *x != ".." && *x != "." && !x.is_empty()));
            }
        }
    }
}
