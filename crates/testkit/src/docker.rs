//! The containers (and customized images) a test server made, as `docker`
//! sees them. Tests share one engine: each cleans up only its own server's.

use std::process::Command;
use std::time::Duration;

fn ids_labelled(instance: &str, full: bool) -> Result<Vec<String>, String> {
    let label = format!("label=berth.instance={instance}");
    let mut args = vec!["ps", "-aq", "--filter", &label];
    if full {
        args.push("--no-trunc");
    }
    let out = Command::new("docker")
        .args(&args)
        .output()
        .map_err(|e| format!("docker ps cannot run: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "docker ps failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(String::from)
        .collect())
}

/// Containers of this server instance (full ids).
/// Panics when docker fails: a broken engine must fail the test, not read
/// as "no container".
pub fn containers_of(instance: &str) -> Vec<String> {
    ids_labelled(instance, true).unwrap_or_else(|e| panic!("{e}"))
}

/// Removes every container labelled with this server instance, also when
/// its test failed. A launch still in flight when the test ends can create
/// its container just after the first look (the test runtime then drops
/// the task before it starts it), so a second look follows shortly.
pub fn remove_containers(instance: &str) {
    remove_once(instance);
    std::thread::sleep(Duration::from_secs(1));
    remove_once(instance);
}

fn remove_once(instance: &str) {
    // Runs in Drop, maybe while a test panics: never panic here.
    let ids = ids_labelled(instance, false).unwrap_or_default();
    if !ids.is_empty() {
        let _ = Command::new("docker")
            .args(["rm", "-f", "-v"])
            .args(&ids)
            .output();
    }
    // customized images its sessions were saved as
    let label = format!("label=berth.instance={instance}");
    let images = Command::new("docker")
        .args([
            "images",
            "-q",
            "--filter",
            &label,
            "--filter",
            "label=berth.customized.owner",
        ])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    if !images.is_empty() {
        let _ = Command::new("docker")
            .args(["rmi", "-f"])
            .args(&images)
            .output();
    }
}

/// Runs `docker ARGS` (async, for `#[tokio::test]`s) and returns its
/// output, trimmed; a failing docker fails the test, saying why.
pub async fn docker(args: &[&str]) -> String {
    let out = tokio::process::Command::new("docker")
        .args(args)
        .output()
        .await
        .unwrap_or_else(|e| panic!("docker cannot run: {e}"));
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
