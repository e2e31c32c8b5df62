//! The web UI's files as a browser fetches them: the build's brotli and
//! gzip forms served as they are, hashed assets kept a year, everything
//! else revalidated.

use berth_testkit::TestServer;
use reqwest::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, VARY};

const WASM: &str = "berth-core-0123456789abcdef_bg.wasm";

/// A UI directory as `scripts/setup.sh` leaves it; each form's bytes say
/// which form it is.
fn ui_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("index.html"), "<html>index</html>").unwrap();
    std::fs::write(p.join("index.html.br"), "index-br").unwrap();
    std::fs::write(p.join("index.html.gz"), "index-gz").unwrap();
    std::fs::write(p.join("full.html"), "<html>full</html>").unwrap();
    std::fs::write(p.join("full.html.br"), "full-br").unwrap();
    std::fs::write(p.join(WASM), "wasm-raw").unwrap();
    std::fs::write(p.join(format!("{WASM}.br")), "wasm-br").unwrap();
    std::fs::write(p.join(format!("{WASM}.gz")), "wasm-gz").unwrap();
    std::fs::create_dir(p.join("xterm")).unwrap();
    std::fs::write(p.join("xterm/xterm.js"), "xterm").unwrap();
    dir
}

async fn fetch(srv: &TestServer, path: &str, encoding: &str) -> (Option<String>, String, String) {
    let res = reqwest::Client::new()
        .get(srv.url(path))
        .header(ACCEPT_ENCODING, encoding)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{path}: {}", res.status());
    let header = |name| {
        res.headers()
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_string())
    };
    let encoding = header(CONTENT_ENCODING);
    let cache = header(CACHE_CONTROL).unwrap_or_default();
    if encoding.is_some() {
        assert!(
            header(VARY).is_some_and(|v| v.to_lowercase().contains("accept-encoding")),
            "{path}: a compressed answer varies by Accept-Encoding"
        );
    }
    (encoding, cache, res.text().await.unwrap())
}

#[tokio::test]
async fn ui_files_are_served_precompressed_with_cache_rules() {
    let ui = ui_dir();
    let dir = ui.path().to_path_buf();
    let srv = TestServer::start_with(move |c| c.static_dir = dir).await;
    let wasm = format!("/{WASM}");
    let immutable = "public, max-age=31536000, immutable";

    // the build's forms, as they are, by what the browser accepts
    assert_eq!(
        fetch(&srv, &wasm, "gzip, deflate, br").await,
        (Some("br".into()), immutable.into(), "wasm-br".into())
    );
    assert_eq!(
        fetch(&srv, &wasm, "gzip").await,
        (Some("gzip".into()), immutable.into(), "wasm-gz".into())
    );
    assert_eq!(
        fetch(&srv, &wasm, "identity").await,
        (None, immutable.into(), "wasm-raw".into())
    );

    // the first visit's build (named, at /, at the sign-in page and the list)
    // and the whole UI (at every other page) are always revalidated
    for path in ["/", "/index.html", "/login", "/sessions"] {
        assert_eq!(
            fetch(&srv, path, "br").await,
            (Some("br".into()), "no-cache".into(), "index-br".into()),
            "{path}"
        );
    }
    for path in ["/launch", "/data", "/sessions/launch", "/nope"] {
        assert_eq!(
            fetch(&srv, path, "br").await,
            (Some("br".into()), "no-cache".into(), "full-br".into()),
            "{path}"
        );
    }
    assert_eq!(
        fetch(&srv, "/launch", "identity").await.2,
        "<html>full</html>"
    );
    // an unhashed file, and a hashed name that is not there (answered by a page)
    assert_eq!(
        fetch(&srv, "/xterm/xterm.js", "identity").await.1,
        "no-cache"
    );
    let missing = fetch(&srv, "/berth-core-fedcba9876543210.js", "identity").await;
    assert_eq!(
        missing.1, "no-cache",
        "never keep the fallback under an asset's name"
    );
}
