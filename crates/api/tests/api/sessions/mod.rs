//! Sessions on the real Docker engine with the busybox environment,
//! grouped by behaviour: `lifecycle` (launch, batch, time limits, events,
//! restart), `queue` (start times, waiting, the queue, the dry run),
//! `requests` (validation, rename, isolation, admin launches, lists),
//! `catalogue` (environments, presets, groups, policies, image names).

use std::process::Command;

use serde_json::Value;

mod catalogue;
mod lifecycle;
mod queue;
mod requests;

const IMAGE: &str = "berth/busybox:latest";

pub(super) fn inspect(container: &str, format: &str) -> String {
    let out = Command::new("docker")
        .args(["inspect", "--format", format, container])
        .output()
        .expect("docker inspect");
    assert!(
        out.status.success(),
        "docker inspect {container}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Whether the engine has the container; a failing docker fails the test.
pub(super) fn container_exists(container: &str) -> bool {
    let out = Command::new("docker")
        .args(["inspect", "--format", "{{.Id}}", container])
        .output()
        .expect("docker inspect");
    if out.status.success() {
        return true;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("No such"), "docker inspect failed: {err}");
    false
}

pub(super) fn statuses(s: &Value) -> Vec<String> {
    s["status_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap().to_string())
        .collect()
}
