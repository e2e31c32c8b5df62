//! The web UI's files. The UI comes in two builds (`berth_shared::ui`):
//! `index.html` loads the first visit's (the sign-in page, the session
//! list), served at those paths; `full.html` loads the whole UI, served at
//! every other path the UI routes. The build stores each file next to its brotli and gzip
//! forms (`scripts/setup.sh`), served as they are (no compression per
//! request). Trunk's hashed assets (`name-<16 hex>.js`, `…_bg.wasm`,
//! `.css`) never change under their name, so browsers keep them a year
//! without asking again; everything else — `index.html`, which names the
//! current hashes, the SPA fallback and unhashed files — is revalidated on
//! every visit.

use std::path::Path;

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

/// `Cache-Control` of a hashed asset.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of everything else.
const REVALIDATE: &str = "no-cache";

/// Whether a request path names a Trunk asset whose file name carries its
/// content hash.
pub fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some((stem, ext)) = name.rsplit_once('.') else {
        return false;
    };
    if !matches!(ext, "js" | "wasm" | "css") {
        return false;
    }
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    let Some((_, hash)) = stem.rsplit_once('-') else {
        return false;
    };
    hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

async fn cache_control(req: Request, next: Next) -> Response {
    let hashed = is_hashed(req.uri().path());
    let mut res = next.run(req).await;
    // a missing asset answers with index.html (the SPA fallback): never keep that
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let policy = if hashed && res.status().is_success() && !html {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    res
}

/// An HTML page of the UI, in the forms the build made.
fn page(path: std::path::PathBuf) -> ServeFile {
    ServeFile::new(path).precompressed_br().precompressed_gzip()
}

/// The UI in `static_dir`: its files by name, `index.html` at the first
/// visit's paths and `full.html` (or `index.html`, in a UI built whole) at
/// any other.
pub fn service(static_dir: &Path) -> Router {
    let index = page(static_dir.join("index.html"));
    let full = static_dir.join("full.html");
    let full = if full.is_file() {
        page(full)
    } else {
        index.clone()
    };
    let files = ServeDir::new(static_dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(full);
    let mut router = Router::new();
    for path in berth_shared::ui::FIRST_VISIT_PATHS {
        router = router.route_service(path, index.clone());
    }
    router
        .fallback_service(files)
        .layer(middleware::from_fn(cache_control))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_trunk_hashed_names_are_immutable() {
        for hashed in [
            "/berth-core-5a838d7d2831e42b.js",
            "/berth-full-5a838d7d2831e42b_bg.wasm",
            "/main-26ea8b8506c9df03.css",
        ] {
            assert!(is_hashed(hashed), "{hashed}");
        }
        for not in [
            "/",
            "/index.html",
            "/sessions",
            "/xterm/xterm.js",
            "/main-26ea8b8506c9df0.css",
            "/main-26ea8b8506c9df0g.css",
            "/berth-core-5a838d7d2831e42b.js.map",
            "/a-5a838d7d2831e42b.html",
        ] {
            assert!(!is_hashed(not), "{not}");
        }
    }
}
