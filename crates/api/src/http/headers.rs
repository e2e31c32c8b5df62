//! Security headers on every answer: no framing (clickjacking), no MIME
//! sniffing, no referrer leaks, no opener shared with other origins, and a Content-Security-Policy that lets the
//! UI run (its own scripts, its wasm, Trunk's inline start-up script by
//! hash) and nothing else.

use std::path::Path;

use axum::http::{header, HeaderName, HeaderValue};
use base64::Engine;
use sha2::{Digest, Sha256};
use tower_http::set_header::SetResponseHeaderLayer;

/// The inline `<script>` bodies of the UI's `index.html`, as CSP hashes.
fn inline_script_hashes(index_html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = index_html;
    while let Some(open) = rest.find("<script") {
        let after = &rest[open..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body_start = &after[tag_end + 1..];
        let Some(close) = body_start.find("</script>") else {
            break;
        };
        if !tag.contains(" src=") {
            let digest = Sha256::digest(&body_start.as_bytes()[..close]);
            out.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &body_start[close..];
    }
    out
}

/// Trunk's pages are a few KB; a cap keeps a swapped-in file from taking
/// memory at start-up.
const PAGE_MAX: u64 = 1 << 20;

/// The policy for a UI served from `static_dir` (the inline scripts of
/// both its pages, `index.html` and `full.html`).
pub fn content_security_policy(static_dir: &Path) -> String {
    let hashes = ["index.html", "full.html"]
        .iter()
        .flat_map(|page| {
            inline_script_hashes(
                &crate::bounded::read_prefix(static_dir.join(page), PAGE_MAX).unwrap_or_default(),
            )
        })
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {hashes}; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; \
         frame-ancestors 'none'; base-uri 'self'; object-src 'none'; form-action 'self'"
    )
}

/// The layers that set the headers (they keep a header a handler set).
pub fn layers(static_dir: &Path) -> [SetResponseHeaderLayer<HeaderValue>; 5] {
    let csp = HeaderValue::from_str(&content_security_policy(static_dir))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"));
    let set =
        |name: HeaderName, value: HeaderValue| SetResponseHeaderLayer::if_not_present(name, value);
    [
        set(header::CONTENT_SECURITY_POLICY, csp),
        set(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        set(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        set(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ),
        // an app's tab (another origin) can never reach back into the UI's
        // window, whatever opened it
        set(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_hashed_and_external_ones_skipped() {
        let html = "<script type=\"module\">alert(1)</script><script src=\"/a.js\"></script>";
        let h = inline_script_hashes(html);
        assert_eq!(h.len(), 1);
        // sha256("alert(1)") in base64
        assert_eq!(
            h[0],
            "'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='"
        );
    }
}
