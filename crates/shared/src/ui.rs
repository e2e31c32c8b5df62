//! How the web UI is split into two builds, so that the first visit (the
//! sign-in page, the session list) downloads only what those pages need.
//!
//! The server serves the small build's `index.html` for
//! [`FIRST_VISIT_PATHS`] and the whole UI's `full.html` for every other
//! path; the small build sends a page it does not have to a full load of the
//! same address. Both sides read this one list, so a path can never bounce
//! between the two.

/// The pages the small build (`berth-core`) draws itself.
pub const FIRST_VISIT_PATHS: &[&str] = &["/", "/login", "/sessions"];

/// Whether the small build serves `path` (a URL path, without its query).
pub fn in_first_visit_build(path: &str) -> bool {
    FIRST_VISIT_PATHS.contains(&path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_visit_build_has_the_sign_in_page_and_the_list_only() {
        for path in ["/", "/login", "/sessions"] {
            assert!(in_first_visit_build(path), "{path}");
        }
        for path in [
            "/launch",
            "/data",
            "/agents",
            "/resource-groups",
            "/nope",
            "/sessions/x",
        ] {
            assert!(!in_first_visit_build(path), "{path}");
        }
    }
}
