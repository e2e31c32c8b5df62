//! `make bench` (cargo bench -p berth-api --bench folders): figures, not
//! assertions. Upload and download of a 1 GiB file through the folder API
//! (a real server on loopback, streamed both ways) against `cp` of the same
//! file on the same disk, as throughput and ratios.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use berth_testkit::TestServer;
use futures_util::StreamExt;
use serde_json::json;
use tokio::io::AsyncWriteExt;

const SIZE: u64 = 1 << 30;

fn mib_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / (1 << 20) as f64 / d.as_secs_f64()
}

/// A file of `SIZE` bytes that does not compress to nothing.
fn make_file(path: &Path) {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("bench file"));
    let block: Vec<u8> = (0..1 << 20)
        .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    for _ in 0..SIZE >> 20 {
        f.write_all(&block).expect("write");
    }
    f.flush().expect("flush");
}

#[tokio::main]
async fn main() {
    let srv =
        TestServer::start_with(|c| c.max_upload_bytes = berth_shared::bytes::ByteSize(2 << 30))
            .await;
    let scratch = tempfile::tempdir_in(srv.dir.path()).expect("scratch dir");
    let src = scratch.path().join("source.bin");
    make_file(&src);

    // cp on the same disk, the page cache warm as for the API runs
    let copy = scratch.path().join("copy.bin");
    let t = Instant::now();
    let ok = Command::new("cp")
        .arg(&src)
        .arg(&copy)
        .status()
        .expect("cp");
    assert!(ok.success());
    Command::new("sync").status().ok();
    let cp = t.elapsed();
    std::fs::remove_file(&copy).ok();

    let c = srv.admin().await;
    let folder = c
        .post_json("/api/v1/folders", &json!({"name": "bench"}))
        .await;
    let id = folder["id"].as_str().expect("folder id").to_string();

    // upload: the file streamed as the request body
    let file = tokio::fs::File::open(&src).await.expect("open source");
    // large reads, as a browser sends a file
    let body =
        reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(file, 1 << 20));
    let t = Instant::now();
    let res = c
        .put_bytes(&format!("/api/v1/folders/{id}/files?path=big.bin"), body)
        .await;
    let up = t.elapsed();
    assert_eq!(res.status(), 201, "upload");

    // download: streamed to a file
    let t = Instant::now();
    let res = c
        .get(&format!("/api/v1/folders/{id}/files?path=big.bin"))
        .await;
    assert_eq!(res.status(), 200, "download");
    let mut out = tokio::fs::File::create(scratch.path().join("down.bin"))
        .await
        .expect("out");
    let mut stream = res.bytes_stream();
    let mut n = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.expect("chunk");
        n += chunk.len() as u64;
        out.write_all(&chunk).await.expect("write");
    }
    out.sync_all().await.expect("sync");
    let down = t.elapsed();
    assert_eq!(n, SIZE);

    println!("folder transfer of a 1 GiB file (loopback, same disk):");
    println!(
        "  cp:       {:7.1} MiB/s ({:.2} s)",
        mib_per_s(SIZE, cp),
        cp.as_secs_f64()
    );
    println!(
        "  upload:   {:7.1} MiB/s ({:.2} s)  ratio to cp {:.2}",
        mib_per_s(SIZE, up),
        up.as_secs_f64(),
        cp.as_secs_f64() / up.as_secs_f64()
    );
    println!(
        "  download: {:7.1} MiB/s ({:.2} s)  ratio to cp {:.2}",
        mib_per_s(SIZE, down),
        down.as_secs_f64(),
        cp.as_secs_f64() / down.as_secs_f64()
    );
}
