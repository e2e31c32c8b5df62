//! Storage folders over the API: name rules, the quota, rename, delete
//! while mounted, the explorer (upload, download, mkdir, move, delete),
//! every way out of a folder (including a symlink a real container made),
//! the upload limit, and mounts whose data outlives the session.

use berth_testkit::{field_errors, problem, Api, TestServer};
use reqwest::StatusCode;
use serde_json::{json, Value};

const IMAGE: &str = "berth/busybox:latest";

async fn new_folder(c: &Api, name: &str) -> String {
    let f = c
        .post_json("/api/v1/folders", &json!({ "name": name }))
        .await;
    assert_eq!(f["name"], name);
    f["id"].as_str().unwrap().to_string()
}

fn names(listing: &Value) -> Vec<(String, String)> {
    listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap().to_string(),
                e["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn batch(name: &str, command: &str, mounts: Value) -> Value {
    json!({"type": "batch", "name": name, "image": IMAGE, "startup_command": command,
           "resources": {"cpu": 0.25, "mem": "64m"}, "mounts": mounts})
}

#[tokio::test]
async fn folder_rules_quota_rename_and_privacy() {
    let srv = TestServer::start().await;
    let admin = srv.admin().await;
    let (ana, _) = srv.new_user("ana@test.berth", "user").await;
    let (bo, _) = srv.new_user("bo@test.berth", "user").await;

    let id = new_folder(&ana, "data").await;
    let list = ana.get_json("/api/v1/folders").await;
    assert_eq!(list["max_folders"], 10, "the default policy's quota");
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert_eq!(list["items"][0]["mounted_in"], json!([]));
    assert_eq!(bo.get_json("/api/v1/folders").await["items"], json!([]));

    for (name, code) in [
        (".hidden", "invalid_folder_name"),
        ("a b", "invalid_folder_name"),
        ("", "required"),
        ("data", "taken"),
    ] {
        let res = ana.post("/api/v1/folders", &json!({ "name": name })).await;
        let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(
            field_errors(&p),
            [("name".to_string(), code.to_string())],
            "{name:?}"
        );
    }
    let res = ana
        .post("/api/v1/folders", &json!({"name": "x", "owner": "bo"}))
        .await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&p),
        [("owner".to_string(), "unsupported_field".to_string())]
    );

    // someone else's folder does not exist for them
    let path = format!("/api/v1/folders/{id}");
    problem(bo.get(&path).await, StatusCode::NOT_FOUND).await;
    problem(
        bo.patch(&path, &json!({"name": "mine"})).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(bo.delete(&path).await, StatusCode::NOT_FOUND).await;
    problem(
        bo.get(&format!("{path}/entries")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        bo.put_bytes(&format!("{path}/files?path=x"), "x").await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // rename
    let other = new_folder(&ana, "other").await;
    let renamed: Value = ana
        .patch(&path, &json!({"name": "dataset"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["name"], "dataset");
    let res = ana
        .patch(
            &format!("/api/v1/folders/{other}"),
            &json!({"name": "dataset"}),
        )
        .await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&p),
        [("name".to_string(), "taken".to_string())]
    );

    // the quota comes from the owner's resource policy
    let res = admin
        .post(
            "/api/v1/resource-policies",
            &json!({"name": "two-folders", "max_concurrent_sessions": 0, "max_total_cpu": 0,
                    "max_total_mem": 0, "max_session_lifetime": 0, "max_folders": 2}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let ana_id = admin.get_json("/api/v1/users?email=ana@test.berth").await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = admin
        .patch(
            &format!("/api/v1/users/{ana_id}"),
            &json!({"resource_policy": "two-folders"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(ana.get_json("/api/v1/folders").await["max_folders"], 2);
    let res = ana.post("/api/v1/folders", &json!({"name": "third"})).await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&p),
        [("name".to_string(), "quota_exceeded".to_string())]
    );
    let res = ana.delete(&format!("/api/v1/folders/{other}")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    new_folder(&ana, "third").await;
}

#[tokio::test]
async fn the_explorer_uploads_lists_moves_downloads_and_deletes() {
    // a body limit far below the files moved here: uploads and downloads stream
    let srv = TestServer::start_with(|c| {
        c.max_body_bytes = 64 * 1024;
        c.max_upload_bytes = berth_shared::bytes::ByteSize(4 << 20);
    })
    .await;
    let c = srv.admin().await;
    let id = new_folder(&c, "work").await;
    let base = format!("/api/v1/folders/{id}");

    let big: Vec<u8> = (0..3 << 20).map(|i: u32| (i % 251) as u8).collect();
    let res = c
        .put_bytes(&format!("{base}/files?path=big.bin"), big.clone())
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = c
        .post(&format!("{base}/mkdir"), &json!({"path": "docs"}))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = c
        .put_bytes(&format!("{base}/files?path=docs/note%20one.txt"), "hello")
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);

    let root = c.get_json(&format!("{base}/entries")).await;
    assert_eq!(
        names(&root),
        [
            ("docs".to_string(), "dir".to_string()),
            ("big.bin".to_string(), "file".to_string())
        ]
    );
    assert_eq!(root["items"][1]["size"], 3 << 20);
    let docs = c.get_json(&format!("{base}/entries?path=docs")).await;
    assert_eq!(docs["path"], "docs");
    assert_eq!(
        names(&docs),
        [("note one.txt".to_string(), "file".to_string())]
    );

    // downloads stream (3 MiB through a 64 KiB body limit) and name the file
    let res = c.get(&format!("{base}/files?path=big.bin")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-length"],
        (3u64 << 20).to_string().as_str()
    );
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename=\"big.bin\""));
    assert!(res.bytes().await.unwrap() == big);

    // move, then the old place is empty
    let res = c
        .post(
            &format!("{base}/move"),
            &json!({"from": "docs/note one.txt", "to": "note.txt"}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = c.get(&format!("{base}/files?path=note.txt")).await;
    assert_eq!(res.text().await.unwrap(), "hello");
    let res = c
        .post(
            &format!("{base}/move"),
            &json!({"from": "note.txt", "to": "big.bin"}),
        )
        .await;
    problem(res, StatusCode::CONFLICT).await;
    let res = c
        .post(
            &format!("{base}/move"),
            &json!({"from": "docs", "to": "docs/inner"}),
        )
        .await;
    problem(res, StatusCode::CONFLICT).await;
    problem(
        c.get(&format!("{base}/files?path=gone.txt")).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // over the upload limit: 413, and nothing is left behind
    let res = c
        .put_bytes(&format!("{base}/files?path=huge.bin"), vec![0u8; 5 << 20])
        .await;
    problem(res, StatusCode::PAYLOAD_TOO_LARGE).await;
    let root = c.get_json(&format!("{base}/entries")).await;
    assert!(!names(&root).iter().any(|(n, _)| n == "huge.bin"));
    let uploads = srv.dir.path().join("folders/.uploads");
    assert_eq!(
        std::fs::read_dir(uploads).unwrap().count(),
        0,
        "no partial upload kept"
    );

    // delete a directory with its files, and a file
    for p in ["docs", "note.txt"] {
        let res = c.delete(&format!("{base}/files?path={p}")).await;
        assert_eq!(res.status(), StatusCode::NO_CONTENT, "{p}");
    }
    assert_eq!(
        names(&c.get_json(&format!("{base}/entries")).await).len(),
        1
    );
}

#[tokio::test]
async fn no_path_leads_out_of_a_folder() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let id = new_folder(&c, "box").await;
    let base = format!("/api/v1/folders/{id}");
    for path in [
        "..",
        "../x",
        "a/../../x",
        "/etc/passwd",
        "a%5Cb",
        "a%00b",
        "%2Fetc",
    ] {
        for res in [
            c.get(&format!("{base}/entries?path={path}")).await,
            c.get(&format!("{base}/files?path={path}")).await,
            c.put_bytes(&format!("{base}/files?path={path}"), "x").await,
            c.delete(&format!("{base}/files?path={path}")).await,
        ] {
            let p = problem(res, StatusCode::BAD_REQUEST).await;
            assert!(
                p["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{path}"
            );
        }
    }
    for body in [json!({"path": "../up"}), json!({"path": "/abs"})] {
        let res = c.post(&format!("{base}/mkdir"), &body).await;
        let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(field_errors(&p)[0].1, "invalid_path");
    }
    let res = c
        .post(
            &format!("{base}/move"),
            &json!({"from": "a", "to": "../../a"}),
        )
        .await;
    problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn mounted_data_outlives_sessions_and_symlinks_stay_inside() {
    let srv = TestServer::start().await;
    let c = srv.admin().await;
    let id = new_folder(&c, "data").await;
    let base = format!("/api/v1/folders/{id}");

    // unknown folders are named
    let res = c
        .post(
            "/api/v1/sessions",
            &batch("nope", "true", json!(["data", "ghost"])),
        )
        .await;
    let p = problem(res, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        field_errors(&p),
        [("mounts[1]".to_string(), "unknown_folder".to_string())]
    );
    // fields that are not implemented are refused, not ignored
    let mut body = batch("ports", "true", json!([]));
    body["gpu_count"] = json!(2);
    let p = problem(
        c.post("/api/v1/sessions", &body).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(
        field_errors(&p),
        [("gpu_count".to_string(), "unsupported_field".to_string())]
    );

    // the first session writes into the folder and into scratch, and makes
    // symlinks that point out of the folder
    let first = c
        .launch(batch(
            "writer",
            "echo kept > /home/work/data/out.txt && echo lost > /home/work/scratch.txt && \
             ln -s /etc /home/work/data/etc-link && ln -s /etc/passwd /home/work/data/pw",
            json!(["data"]),
        ))
        .await;
    let first = c
        .wait_status(first["id"].as_str().unwrap(), "TERMINATED")
        .await;
    assert_eq!(first["status_data"]["exit_code"], 0, "{first:#}");
    assert_eq!(
        first["mounts"],
        json!([{"name": "data", "read_only": false}])
    );

    // the second sees the folder's file and not the first one's scratch
    let second = c
        .launch(batch(
            "reader",
            "cat /home/work/data/out.txt && test ! -e /home/work/scratch.txt",
            json!([{"name": "data", "read_only": true}]),
        ))
        .await;
    let sid = second["id"].as_str().unwrap();
    let second = c.wait_status(sid, "TERMINATED").await;
    assert_eq!(second["status_data"]["exit_code"], 0, "{second:#}");
    let logs = c.get_json(&format!("/api/v1/sessions/{sid}/logs")).await;
    assert!(logs["logs"].as_str().unwrap().contains("kept"), "{logs}");

    // a read-only mount refuses writes: the command fails
    let third = c
        .launch(batch(
            "ro-write",
            "touch /home/work/data/new.txt",
            json!([{"name": "data", "read_only": true}]),
        ))
        .await;
    let third = c
        .wait_status(third["id"].as_str().unwrap(), "TERMINATED")
        .await;
    assert_eq!(third["status_info"], "failed");
    assert_ne!(third["status_data"]["exit_code"], 0);

    // the explorer reads what the container (as root) wrote
    let res = c.get(&format!("{base}/files?path=out.txt")).await;
    assert_eq!(res.text().await.unwrap(), "kept\n");
    let root = c.get_json(&format!("{base}/entries")).await;
    assert!(names(&root).contains(&("etc-link".to_string(), "symlink".to_string())));
    // but not through the container's symlinks out of the folder
    for res in [
        c.get(&format!("{base}/entries?path=etc-link")).await,
        c.get(&format!("{base}/files?path=pw")).await,
        c.get(&format!("{base}/files?path=etc-link/passwd")).await,
        c.put_bytes(&format!("{base}/files?path=etc-link/berth-escape"), "x")
            .await,
        c.post(
            &format!("{base}/mkdir"),
            &json!({"path": "etc-link/berth-escape-dir"}),
        )
        .await,
    ] {
        let p = problem(res, StatusCode::BAD_REQUEST).await;
        assert!(p["detail"].as_str().unwrap().contains("outside"), "{p}");
    }
    assert!(!std::path::Path::new("/etc/berth-escape").exists());
    assert!(!std::path::Path::new("/etc/berth-escape-dir").exists());
    // the link itself can be deleted; what it points to stays
    let res = c.delete(&format!("{base}/files?path=pw")).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(std::path::Path::new("/etc/passwd").exists());

    // a folder mounted in a live session cannot be deleted, and says where
    let live = c
        .launch(
            json!({"name": "holder", "image": IMAGE, "resources": {"cpu": 0.25, "mem": "64m"},
                       "mounts": ["data"]}),
        )
        .await;
    let live_id = live["id"].as_str().unwrap().to_string();
    c.wait_status(&live_id, "RUNNING").await;
    let folder = c.get_json(&base).await;
    assert_eq!(folder["mounted_in"][0]["session_name"], "holder");
    let p = problem(c.delete(&base).await, StatusCode::CONFLICT).await;
    assert!(p["detail"].as_str().unwrap().contains("holder"), "{p}");
    c.delete(&format!("/api/v1/sessions/{live_id}")).await;
    c.wait_status(&live_id, "TERMINATED").await;
    assert_eq!(c.get_json(&base).await["mounted_in"], json!([]));
    // out.txt is on disk under the folders directory before the delete
    let host_dirs = srv.dir.path().join("folders");
    let before: Vec<_> = walk(&host_dirs);
    assert!(
        before.iter().any(|p| p.ends_with("out.txt") && p.is_file()),
        "the walk sees the folder's files: {before:?}"
    );
    let res = c.delete(&base).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(host_dirs.is_dir(), "the folders directory itself stays");
    let left: Vec<_> = walk(&host_dirs);
    assert!(
        left.iter().all(|p| p.is_dir()),
        "the folder's files are gone: {left:?}"
    );
    // the finished sessions keep the record of what they mounted
    assert_eq!(
        c.get_json(&format!("/api/v1/sessions/{sid}")).await["mounts"][0]["name"],
        "data"
    );
}

/// Everything under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            out.push(p.clone());
            if p.is_dir() {
                out.extend(walk(&p));
            }
        }
    }
    out
}

#[tokio::test]
async fn an_upload_cut_off_midway_leaves_nothing_and_gives_its_place_back() {
    let srv = TestServer::start_with(|c| c.max_parallel_uploads = 1).await;
    let (c, user) = srv.new_user("cut@test.berth", "user").await;
    let uid = user["id"].as_str().unwrap().to_string();
    let f = c
        .post_json("/api/v1/folders", &json!({"name": "cut"}))
        .await;
    let fid = f["id"].as_str().unwrap().to_string();
    let url = c.url(&format!("/api/v1/folders/{fid}/files?path=half.bin"));

    // 64 KiB arrive, then the client's body fails: the request is aborted
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let body =
        reqwest::Body::wrap_stream(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)));
    let sent = tokio::spawn(c.http().put(url).body(body).send());
    tx.send(Ok(vec![7u8; 64 * 1024])).await.unwrap();
    let held = || srv.ctx.held().count(berth_api::held::Kind::Upload, &uid);
    let uploads = srv.dir.path().join("folders/.uploads");
    let parts = || {
        std::fs::read_dir(&uploads)
            .map(|d| d.flatten().count())
            .unwrap_or(0)
    };
    // the place is taken before the .part file is made: wait for both
    for _ in 0..200 {
        if held() == 1 && parts() == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(held(), 1, "the upload is under way");
    assert_eq!(parts(), 1, "its bytes go to a .part file first");
    tx.send(Err(std::io::Error::other("the client gave up")))
        .await
        .unwrap();
    assert!(
        sent.await.unwrap().is_err(),
        "the client saw its request fail"
    );

    // the server notices: its place is given back, and nothing is left
    for _ in 0..200 {
        if held() == 0 && parts() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(held(), 0, "the upload's place is given back");
    assert_eq!(parts(), 0, "no .part file is left");
    let listed = c.get_json(&format!("/api/v1/folders/{fid}/entries")).await;
    assert_eq!(listed["items"], json!([]), "no half file: {listed}");
    // and the next upload goes through
    let res = c
        .put_bytes(&format!("/api/v1/folders/{fid}/files?path=whole.bin"), "ok")
        .await;
    assert!(res.status().is_success(), "{}", res.status());
}
