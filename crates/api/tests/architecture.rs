//! The boundaries ARCHITECTURE.md names, checked on the source: a change
//! that crosses one fails here, not in review.

use std::path::{Path, PathBuf};

fn crates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("source dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source file");
                out.push((path, text));
            }
        }
    }
    out
}

/// The files of `dir` (outside `allowed`, a path prefix) that contain any
/// of `needles`, ignoring comment lines.
fn offenders(dir: &Path, allowed: &[&str], needles: &[&str]) -> Vec<String> {
    let root = crates();
    sources(dir)
        .into_iter()
        .filter(|(path, _)| {
            let rel = path
                .strip_prefix(&root)
                .unwrap_or(path)
                .to_string_lossy()
                .to_string();
            !allowed.iter().any(|a| rel.starts_with(a))
        })
        .filter(|(_, text)| {
            text.lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .any(|l| needles.iter().any(|n| l.contains(n)))
        })
        .map(|(path, _)| path.display().to_string())
        .collect()
}

#[test]
fn only_the_store_holds_sql_and_only_the_runtime_speaks_to_the_engine() {
    let api = crates().join("api/src");
    assert_eq!(
        offenders(&api, &["api/src/store/"], &["sqlx::"]),
        Vec::<String>::new()
    );
    assert_eq!(
        offenders(&api, &["api/src/runtime/"], &["bollard::"]),
        Vec::<String>::new()
    );
}

#[test]
fn only_the_folder_storage_touches_folder_files() {
    let api = crates().join("api/src");
    assert_eq!(
        offenders(&api, &["api/src/folders/fs/"], &["cap_std::"]),
        Vec::<String>::new()
    );
}

#[test]
fn handlers_call_operations_not_store_queries() {
    let http = crates().join("api/src/http");
    let found: Vec<String> = sources(&http)
        .into_iter()
        .flat_map(|(path, text)| {
            text.lines()
                .filter(|l| l.contains("store()."))
                .map(|l| format!("{}: {}", path.display(), l.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn only_the_status_module_changes_a_status_or_announces_one() {
    let api = crates().join("api/src");
    let writers = [
        ".change_status(",
        ".insert_sessions(",
        ".explain_pending(",
        ".publish(",
    ];
    assert_eq!(
        offenders(
            &api,
            &[
                "api/src/sessions/status.rs",
                "api/src/store/",
                "api/src/events.rs"
            ],
            &writers
        ),
        Vec::<String>::new()
    );
}

#[test]
fn status_names_are_written_once() {
    let names = [
        "\"PENDING\"",
        "\"SCHEDULED\"",
        "\"PREPARING\"",
        "\"RUNNING\"",
        "\"TERMINATING\"",
        "\"TERMINATED\"",
        "\"CANCELLED\"",
        "\"ERROR\"",
        "'PENDING'",
        "'RUNNING'",
        "'SCHEDULED'",
    ];
    let mut found = Vec::new();
    for krate in ["api/src", "shared/src", "frontend/src"] {
        found.extend(offenders(
            &crates().join(krate),
            &["shared/src/sessions/status.rs"],
            &names,
        ));
    }
    assert_eq!(found, Vec::<String>::new());
}

#[test]
fn the_scheduler_core_does_no_io() {
    let core = std::fs::read_to_string(crates().join("api/src/scheduler/core.rs")).unwrap();
    for forbidden in [
        "tokio", "sqlx", "bollard", "std::fs", "std::net", "Utc::now", "Instant", "clap",
    ] {
        assert!(
            !core.contains(forbidden),
            "scheduler/core.rs mentions {forbidden}"
        );
    }
}
