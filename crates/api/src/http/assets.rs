//! The web UI's files. The build stores each next to its brotli and gzip
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

/// The UI in `static_dir`, falling back to `index.html` for the SPA's own
/// paths.
pub fn service(static_dir: &Path) -> Router {
    let index = ServeFile::new(static_dir.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    let files = ServeDir::new(static_dir)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(index);
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(cache_control))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_trunk_hashed_names_are_immutable() {
        for hashed in [
            "/berth-frontend-5a838d7d2831e42b.js",
            "/berth-frontend-5a838d7d2831e42b_bg.wasm",
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
            "/berth-frontend-5a838d7d2831e42b.js.map",
            "/a-5a838d7d2831e42b.html",
        ] {
            assert!(!is_hashed(not), "{not}");
        }
    }
}
