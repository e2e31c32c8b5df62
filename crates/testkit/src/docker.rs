//! The containers (and networks and customized images) a test server
//! made, as `docker` sees them. Tests share one engine: each cleans up only its own server's.

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

/// Names of the networks carrying label `label` (`name=value`) once at
/// most `at_most` are left: a session's network is handed back just after
/// its final status, so this waits (up to a minute, then answers what is
/// left) while more are there.
pub async fn networks_settle(label: &str, at_most: usize) -> Vec<String> {
    let filter = format!("label={label}");
    let mut left = Vec::new();
    for _ in 0..600 {
        left = docker(&[
            "network",
            "ls",
            "--format",
            "{{.Name}}",
            "--filter",
            &filter,
        ])
        .await
        .lines()
        .map(String::from)
        .collect();
        if left.len() <= at_most {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    left
}

/// Removes every container labelled with this server instance, also when
/// its test failed. When something was `in_flight` (a launch or a commit:
/// the engine finishes making a container, network or image it was asked
/// for even once the test runtime dropped the task, and a busy engine may
/// take seconds), it looks again until two looks in a row find nothing
/// (at most ~10 s); otherwise nothing more can appear.
pub fn remove_containers(instance: &str, in_flight: bool) {
    remove_once(instance);
    if in_flight {
        let mut quiet = 0;
        for _ in 0..20 {
            std::thread::sleep(Duration::from_millis(500));
            quiet = if remove_once(instance) == 0 {
                quiet + 1
            } else {
                0
            };
            if quiet == 2 {
                break;
            }
        }
    }
}

/// One look: removes what is there; how many things it found.
fn remove_once(instance: &str) -> usize {
    // Runs in Drop, maybe while a test panics: never panic here.
    let label = format!("label=berth.instance={instance}");
    let containers = ids_labelled(instance, false).unwrap_or_default();
    remove_all(&["rm", "-f", "-v"], &containers);
    // its sessions' networks (once their containers are gone)
    let networks = listed(&["network", "ls", "-q", "--filter", &label]);
    remove_all(&["network", "rm"], &networks);
    // customized images its sessions were saved as
    let images = listed(&[
        "images",
        "-q",
        "--filter",
        &label,
        "--filter",
        "label=berth.customized.owner",
    ]);
    remove_all(&["rmi", "-f"], &images);
    containers.len() + networks.len() + images.len()
}

/// The ids `docker ARGS` prints (none when it fails).
fn listed(args: &[&str]) -> Vec<String> {
    Command::new("docker")
        .args(args)
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .split_whitespace()
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `docker ARGS IDS…` when there are ids, ignoring failures.
fn remove_all(args: &[&str], ids: &[String]) {
    if !ids.is_empty() {
        let _ = Command::new("docker").args(args).args(ids).output();
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

/// A container's address on its (first) network.
pub async fn container_ip(cid: &str) -> String {
    docker(&[
        "inspect",
        "-f",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        cid,
    ])
    .await
}
