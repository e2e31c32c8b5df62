//! The real Docker engine that `make setup` starts, reached through bollard.

use berth_api::runtime::{Runtime, RuntimeError};

#[tokio::test]
async fn engine_is_reachable_with_a_negotiated_version() {
    let rt = Runtime::new("unix:///var/run/docker.sock");
    let docker = rt
        .client()
        .await
        .expect("engine reachable (make setup starts dockerd)");
    let negotiated = docker.client_version();
    let server = docker.version().await.expect("version");
    let server_api = server.api_version.expect("engine API version");
    assert_eq!(
        negotiated.to_string(),
        server_api,
        "client speaks the engine's API version"
    );
    let health = rt.health().await;
    assert!(health.ok, "{health:?}");
    assert_eq!(health.api_version.as_deref(), Some(server_api.as_str()));
}

#[tokio::test]
async fn setup_built_the_labelled_busybox_environment() {
    let rt = Runtime::new("unix:///var/run/docker.sock");
    let img = rt
        .inspect_image("berth/busybox:latest")
        .await
        .expect("image built by make setup");
    assert!(
        img.tags.iter().any(|t| t == "berth/busybox:latest"),
        "{:?}",
        img.tags
    );
    let label = |k: &str| img.labels.get(k).map(String::as_str);
    assert_eq!(label("ai.backend.kernelspec"), Some("1"));
    assert_eq!(label("ai.backend.service-ports"), Some("httpd:http:8000"));
    assert!(label("ai.backend.resource.min.mem").is_some());

    match rt.inspect_image("berth/does-not-exist:0").await {
        Err(RuntimeError::ImageNotFound(name)) => assert_eq!(name, "berth/does-not-exist:0"),
        other => panic!("expected ImageNotFound, got {other:?}"),
    }
}

#[tokio::test]
async fn setup_built_the_python_environment_with_jupyter_tmux_and_sshd() {
    let rt = Runtime::new("unix:///var/run/docker.sock");
    let img = rt
        .inspect_image("berth/python:3.11")
        .await
        .expect("image built by make setup");
    let label = |k: &str| img.labels.get(k).map(String::as_str);
    assert_eq!(label("ai.backend.kernelspec"), Some("1"));
    assert_eq!(label("ai.backend.display-name"), Some("Python"));
    assert_eq!(
        label("ai.backend.service-ports"),
        Some("jupyter:http:8081,jupyternotebook:http:8082,sshd:tcp:2200")
    );
    assert!(label("berth.recipe").is_some_and(|r| r.len() == 16));
    let out = std::process::Command::new("docker")
        .args([
            "run",
            "--rm",
            "berth/python:3.11",
            "sh",
            "-c",
            "python3 -c 'import jupyterlab, notebook, numpy, pandas, matplotlib, scipy, sklearn, sys; print(sys.version_info[:2])' && tmux -V && \
             test -x /usr/sbin/sshd && id -u work && ls /etc/backend.ai/service-defs",
        ])
        .output()
        .expect("docker run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("(3, 11)"), "{text}");
    assert!(text.contains("tmux 3"), "{text}");
    assert!(text.contains("1000"), "{text}");
    assert!(
        text.contains("jupyter.json")
            && text.contains("jupyternotebook.json")
            && text.contains("sshd.json"),
        "{text}"
    );
}
