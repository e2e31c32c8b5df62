//! `make bench`: time from navigation to the launcher being interactive
//! (the environment list loaded and the first page's controls present) in
//! headless Chromium, against the release UI; bytes over the wire for a
//! first and a repeat visit; the wasm's size. Figures only.

use std::time::{Duration, Instant};

use berth_e2e::thirtyfour::prelude::*;
use berth_e2e::{Browser, Server, ADMIN_EMAIL, ADMIN_PASSWORD};

const RUNS: usize = 10;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let srv = Server::start_ui().await;
    let b = Browser::start().await;
    // a fresh profile: the first visit fetches everything, the second only
    // what the cache rules make it ask again
    let first = visit_bytes(&b, &srv).await;
    let repeat = visit_bytes(&b, &srv).await;
    println!(
        "bytes over the wire for the sign-in page: first visit {:.1} KB, repeat visit {:.1} KB",
        first as f64 / 1024.0,
        repeat as f64 / 1024.0
    );
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut times = Vec::new();
    for i in 0..=RUNS {
        b.driver.goto("about:blank").await.unwrap();
        let t0 = Instant::now();
        b.driver.goto(srv.url("/launch")).await.unwrap();
        b.el("#session-name").await;
        b.driver
            .query(By::Css("#wizard-next"))
            .wait(Duration::from_secs(15), Duration::from_millis(5))
            .first()
            .await
            .unwrap();
        // interactive = the environment list has arrived (page 2 is ready at a click)
        loop {
            let ready: bool = b
                .driver
                .execute("return !!document.querySelector('#session-name') && window.wasmBindings !== undefined", vec![])
                .await
                .unwrap()
                .convert()
                .unwrap_or(false);
            if ready {
                break;
            }
        }
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
                "release wasm: {} KB raw, {} KB gzipped (goal <= 400 KB), brotli as served {br}",
                raw.len() / 1024,
                gz.len() / 1024
            );
        }
    }
    b.close().await;
}

/// Bytes the browser received (headers and bodies, by the Resource Timing
/// API) to show the sign-in page once its wasm runs.
async fn visit_bytes(b: &Browser, srv: &Server) -> u64 {
    b.driver.goto("about:blank").await.unwrap();
    b.driver.goto(srv.url("/login")).await.unwrap();
    b.el("#login-email").await;
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
