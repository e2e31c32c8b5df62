//! `make bench`: what the UI costs a browser, in headless Chromium against
//! the release UI: bytes over the wire for a first and a repeat visit of
//! the sign-in page and of the session list; then the first trip to the
//! launcher from the list (with the UI in two builds, the whole UI's first
//! download) and the launcher's time to interactive after navigation; the
//! wasm sizes. Figures only. Run it on a UI built whole (a `dist/` without
//! `full.html`) for the figures before the split.

use std::time::{Duration, Instant};

use berth_e2e::thirtyfour::prelude::*;
use berth_e2e::{Browser, Server, ADMIN_EMAIL, ADMIN_PASSWORD};

const RUNS: usize = 10;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let srv = Server::start_ui().await;
    let kb = |n: u64| n as f64 / 1024.0;
    let cookies = {
        // a fresh profile: the first visit fetches everything, the second
        // only what the cache rules make it ask again
        let b = Browser::start().await;
        let first = visit_bytes(&b, &srv.url("/login"), "#login-email").await;
        let repeat = visit_bytes(&b, &srv.url("/login"), "#login-email").await;
        println!(
            "bytes over the wire for the sign-in page: first visit {:.1} KB, repeat visit {:.1} KB",
            kb(first),
            kb(repeat)
        );
        b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
        let cookies = b.driver.get_all_cookies().await.unwrap();
        b.close().await;
        cookies
    };
    // another fresh profile, signed in (the first one's login cookie), so
    // the session list is the first page it loads
    let b = Browser::start().await;
    b.driver.goto(srv.url("/healthz")).await.unwrap();
    for cookie in cookies {
        b.driver.add_cookie(cookie).await.unwrap();
    }
    let first = visit_bytes(&b, &srv.url("/sessions"), "#sessions-title").await;
    let repeat = visit_bytes(&b, &srv.url("/sessions"), "#sessions-title").await;
    println!(
        "bytes over the wire for the session list: first visit {:.1} KB, repeat visit {:.1} KB",
        kb(first),
        kb(repeat)
    );
    // the first Start from the list: the launcher interactive, and what it
    // fetched (the whole UI's build, when the UI comes in two)
    let before = transferred(&b).await;
    let t0 = Instant::now();
    b.el("#start-button").await.click().await.unwrap();
    launcher_interactive(&b).await;
    let took = t0.elapsed();
    // (a full load starts a new count; a route change adds to the old one)
    let after = transferred(&b).await;
    let fetched = if after >= before {
        after - before
    } else {
        after
    };
    println!(
        "first Start from the list: launcher interactive after {:.0} ms, {:.1} KB over the wire",
        took.as_secs_f64() * 1000.0,
        kb(fetched)
    );
    let mut times = Vec::new();
    for i in 0..=RUNS {
        b.driver.goto("about:blank").await.unwrap();
        let t0 = Instant::now();
        b.driver.goto(srv.url("/launch")).await.unwrap();
        launcher_interactive(&b).await;
        if i > 0 {
            times.push(t0.elapsed());
        }
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "launcher interactive after navigation (headless Chromium, {RUNS} runs): median {:.0} ms (min {:.0}, max {:.0})",
        ms(times[RUNS / 2]),
        ms(times[0]),
        ms(times[RUNS - 1])
    );
    let dist = berth_e2e::workspace().join("dist");
    for entry in std::fs::read_dir(&dist).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "wasm") {
            let raw = std::fs::read(&path).unwrap();
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut gz, &raw).unwrap();
            let gz = gz.finish().unwrap();
            // what is served: the build's brotli form (scripts/setup.sh)
            let br = std::fs::metadata(path.with_extension("wasm.br"))
                .map(|m| format!("{} KB", m.len() / 1024))
                .unwrap_or_else(|_| "none".into());
            println!(
                "{}: {} KB raw, {} KB gzipped, brotli as served {br}",
                path.file_name().unwrap_or_default().to_string_lossy(),
                raw.len() / 1024,
                gz.len() / 1024
            );
        }
    }
    b.close().await;
}

/// Waits until the launcher's first page takes input and its wasm runs.
async fn launcher_interactive(b: &Browser) {
    b.el("#session-name").await;
    b.driver
        .query(By::Css("#wizard-next"))
        .wait(Duration::from_secs(15), Duration::from_millis(5))
        .first()
        .await
        .unwrap();
    loop {
        let ready: bool = b
            .driver
            .execute(
                "return !!document.querySelector('#session-name') && window.wasmBindings !== undefined",
                vec![],
            )
            .await
            .unwrap()
            .convert()
            .unwrap_or(false);
        if ready {
            break;
        }
    }
}

/// Bytes this page received so far (headers and bodies, by the Resource
/// Timing API, the page's own document included).
async fn transferred(b: &Browser) -> u64 {
    let sum: f64 = b
        .driver
        .execute(
            "return performance.getEntries()
                .filter(e => e.transferSize !== undefined)
                .reduce((n, e) => n + e.transferSize, 0);",
            vec![],
        )
        .await
        .unwrap()
        .convert()
        .unwrap();
    sum as u64
}

/// Bytes the browser received to show `url` until `ready` is drawn.
async fn visit_bytes(b: &Browser, url: &str, ready: &str) -> u64 {
    b.driver.goto("about:blank").await.unwrap();
    b.driver.goto(url).await.unwrap();
    b.el(ready).await;
    transferred(b).await
}
