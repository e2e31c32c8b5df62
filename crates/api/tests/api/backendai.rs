//! The reference platform's own client, unchanged: `backend.ai-client`
//! from PyPI (in the venv `make setup` makes) pointed at a live server's
//! `/backend.ai` with a user's keypair, its CLI and SDK doing what a
//! script written for Backend.AI does; each outcome is checked through
//! `/api/v1` as well.

use std::path::PathBuf;
use std::process::Output;

use berth_testkit::{tools_dir, Api, TestServer};
use serde_json::Value;

const IMAGE: &str = "berth/busybox:latest";

/// The venv's `bin/` (`make setup` installs the client there).
fn venv_bin() -> PathBuf {
    let bin = tools_dir().join("backendai/bin");
    assert!(
        bin.join("backend.ai").is_file(),
        "{} missing: run `make setup`",
        bin.display()
    );
    bin
}

/// One client run against `srv` with this keypair.
struct Client {
    endpoint: String,
    access_key: String,
    secret_key: String,
    home: tempfile::TempDir,
}

impl Client {
    async fn run(&self, program: &str, args: &[&str]) -> (bool, String) {
        let out = self.run_with_secret(program, args, &self.secret_key).await;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    async fn run_with_secret(&self, program: &str, args: &[&str], secret: &str) -> Output {
        self.command(program, args, secret).output().await.unwrap()
    }

    /// The client's `program` with `args`, pointed at the server.
    fn command(&self, program: &str, args: &[&str], secret: &str) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(venv_bin().join(program));
        cmd.args(args)
            .env("BACKEND_ENDPOINT", &self.endpoint)
            .env("BACKEND_ENDPOINT_TYPE", "api")
            .env("BACKEND_ACCESS_KEY", &self.access_key)
            .env("BACKEND_SECRET_KEY", secret)
            // the client keeps state under the home directory
            .env("HOME", self.home.path())
            .env("NO_COLOR", "1")
            .kill_on_drop(true);
        cmd
    }

    /// A client command run in the background (its output at its end).
    fn spawn(&self, program: &str, args: &[&str]) -> tokio::task::JoinHandle<Output> {
        let mut cmd = self.command(program, args, &self.secret_key);
        tokio::spawn(async move { cmd.output().await.unwrap() })
    }

    /// A CLI command that must succeed; its output.
    async fn cli(&self, args: &[&str]) -> String {
        let (ok, text) = self.run("backend.ai", args).await;
        assert!(ok, "backend.ai {} failed:\n{text}", args.join(" "));
        text
    }
}

async fn client_for(srv: &TestServer, api: &Api) -> Client {
    let res = api.post_empty("/api/v1/auth/keypair").await;
    assert_eq!(res.status(), 201);
    let kp: Value = res.json().await.unwrap();
    Client {
        endpoint: srv.url("/backend.ai"),
        access_key: kp["access_key"].as_str().unwrap().to_string(),
        secret_key: kp["secret_key"].as_str().unwrap().to_string(),
        home: tempfile::tempdir().unwrap(),
    }
}

/// The session id a `session create` printed.
fn session_id(out: &str) -> String {
    out.split_whitespace()
        .find(|w| w.len() == 36 && w.chars().filter(|c| *c == '-').count() == 4)
        .unwrap_or_else(|| panic!("no session id in {out}"))
        .to_string()
}

#[tokio::test]
async fn the_reference_cli_runs_sessions_and_folders_unchanged() {
    let srv = TestServer::start().await;
    let (ana, _) = srv.new_user("ana@test.berth", "user").await;
    let bai = client_for(&srv, &ana).await;

    // a folder, then an interactive session with resources, env and it
    let out = bai.cli(&["vfolder", "create", "bai-data", "local"]).await;
    assert!(out.contains("bai-data"), "{out}");
    let folders = ana.get_json("/api/v1/folders").await;
    assert_eq!(folders["items"][0]["name"], "bai-data", "{folders}");
    let out = bai
        .cli(&[
            "session",
            "create",
            IMAGE,
            "-t",
            "bai-one",
            "-r",
            "cpu=0.25",
            "-r",
            "mem=64m",
            "-e",
            "GREETING=hello",
            "-m",
            "bai-data",
        ])
        .await;
    assert!(out.contains("created and ready"), "{out}");
    let id = session_id(&out);
    let s = ana.get_json(&format!("/api/v1/sessions/{id}")).await;
    assert_eq!(s["name"], "bai-one");
    assert_eq!(s["status"], "RUNNING");
    assert_eq!(s["env"]["GREETING"], "hello");
    assert_eq!(s["resources"]["cpu"], 0.25);
    assert_eq!(s["resources"]["mem"], 64 << 20);
    assert_eq!(s["mounts"][0]["name"], "bai-data", "{s}");
    // the same name again: reused (the reference's default)
    let again = bai
        .cli(&[
            "session", "create", IMAGE, "-t", "bai-one", "-r", "cpu=0.25", "-r", "mem=64m",
        ])
        .await;
    assert_eq!(session_id(&again), id, "{again}");

    // info and the list are GraphQL queries
    let out = bai.cli(&["session", "info", &id]).await;
    assert!(out.contains("bai-one") && out.contains("RUNNING"), "{out}");
    assert!(out.contains(IMAGE), "{out}");
    let out = bai.cli(&["ps"]).await;
    assert!(out.contains("bai-one") && out.contains(&id), "{out}");
    // none ended yet: the client says so its own way (and exits 1)
    let (_, out) = bai.run("backend.ai", &["session", "list", "--dead"]).await;
    assert!(out.contains("NoItems") && !out.contains("bai-one"), "{out}");
    let out = bai.cli(&["session", "logs", &id]).await;
    assert!(out.contains("End of logs"), "{out}");
    let out = bai.cli(&["session", "rename", &id, "bai-two"]).await;
    assert!(out.contains("bai-two"), "{out}");
    assert_eq!(
        ana.get_json(&format!("/api/v1/sessions/{id}")).await["name"],
        "bai-two"
    );
    // the session's events, followed while it is destroyed: the stream
    // ends with the session
    let events = bai.spawn("backend.ai", &["session", "events", &id]);
    // open once the server has answered its head, which /metrics counts
    let series = r#"berth_http_requests_total{route="/backend.ai/events/session",method="GET",status="200"}"#;
    for i in 0.. {
        let m = crate::metrics::scrape(&srv).await;
        if crate::metrics::sample(&m, series) == Some(1.0) {
            break;
        }
        assert!(i < 600, "the client never opened the stream:\n{m}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    bai.cli(&["session", "destroy", &id]).await;
    ana.wait_status(&id, "TERMINATED").await;
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), events)
        .await
        .expect("the event stream ends with the session")
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("session_terminating"), "{text}");
    assert!(text.contains("session_terminated"), "{text}");
    assert!(text.contains(&format!("\"sessionId\": \"{id}\"")), "{text}");

    // a batch session: its command's output reaches the logs, its exit
    // code the session
    let out = bai
        .cli(&[
            "session",
            "create",
            "--type",
            "batch",
            "-c",
            "echo said-by-batch; exit 3",
            IMAGE,
            "-t",
            "bai-batch",
            "-r",
            "cpu=0.25",
            "-r",
            "mem=64m",
        ])
        .await;
    let batch = session_id(&out);
    let ended = ana
        .wait_for(&batch, "the batch ended", |s| {
            s["status"] == "TERMINATED" || s["status"] == "ERROR"
        })
        .await;
    assert_eq!(ended["kernels"][0]["exit_code"], 3, "{ended}");
    let out = bai.cli(&["session", "logs", &batch]).await;
    assert!(out.contains("said-by-batch"), "{out}");
    // the events of a session already over: its end, then the stream ends
    let out = bai.cli(&["session", "events", &batch]).await;
    assert!(
        out.contains("session_failure") && out.contains("session_terminated"),
        "{out}"
    );
    assert!(out.contains("\"exitCode\": 3"), "{out}");
    let out = bai.cli(&["session", "info", &batch]).await;
    assert!(
        out.contains("exit_code: 3") && out.contains("TERMINATED"),
        "{out}"
    );
    let out = bai.cli(&["session", "list", "--all"]).await;
    assert!(
        out.contains("bai-two") && out.contains("bai-batch"),
        "{out}"
    );

    // the SDK, as a script uses it: a session's whole life
    let walk = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/backendai/sdk_walk.py");
    let (ok, out) = bai.run("python", &[walk]).await;
    assert!(ok, "{out}");
    assert!(out.contains("destroyed"), "{out}");
    let sdk_id = out
        .lines()
        .find_map(|l| l.strip_prefix("created "))
        .unwrap_or_else(|| panic!("{out}"));
    let ended = ana.wait_status(sdk_id, "TERMINATED").await;
    assert_eq!(ended["name"], "sdk-two");
    assert_eq!(ended["env"]["FROM_SDK"], "yes");

    // and its folder list
    let (ok, out) = bai
        .run(
            "python",
            &[
                "-c",
                "from ai.backend.client.session import Session\n\
                 with Session() as s:\n    print(sorted(f['name'] for f in s.VFolder.list()))",
            ],
        )
        .await;
    assert!(ok, "{out}");
    assert!(out.contains("['bai-data']"), "{out}");

    // a wrong secret key is refused as the reference refuses it
    let out = bai
        .run_with_secret(
            "backend.ai",
            &["vfolder", "create", "never", "local"],
            "wrong-secret",
        )
        .await;
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("401") && text.contains("Signature mismatch"),
        "{text}"
    );
    assert_eq!(
        ana.get_json("/api/v1/folders").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn the_reference_client_commits_lists_folders_and_takes_every_create_option() {
    let srv = TestServer::start().await;
    let (ana, _) = srv.new_user("ana@test.berth", "user").await;
    let (ben, _) = srv.new_user("ben@test.berth", "user").await;
    let admin = srv.admin().await;
    let bai = client_for(&srv, &ana).await;

    // `vfolder list` is a GraphQL query
    bai.cli(&["vfolder", "create", "bai-list", "local"]).await;
    let out = bai.cli(&["vfolder", "list"]).await;
    assert!(out.contains("bai-list") && out.contains("local"), "{out}");
    let out = bai.cli(&["vfolder", "list-own"]).await;
    assert!(out.contains("bai-list"), "{out}");

    // a preopen port: on the session, and named among its apps
    let out = bai
        .cli(&[
            "session",
            "create",
            IMAGE,
            "-t",
            "bai-pre",
            "--preopen",
            "8080",
            "-r",
            "cpu=0.25",
            "-r",
            "mem=64m",
        ])
        .await;
    assert!(out.contains("created and ready"), "{out}");
    assert!(out.contains("app services: 8080"), "{out}");
    let pre = session_id(&out);
    let s = ana.get_json(&format!("/api/v1/sessions/{pre}")).await;
    assert_eq!(s["preopen_ports"], serde_json::json!([8080]), "{s}");

    // a commit by the CLI: the image comes, named after the session
    let out = bai.cli(&["session", "commit", "bai-pre"]).await;
    assert!(out.contains("Request to commit"), "{out}");
    let mut made = None;
    for _ in 0..600 {
        let list = ana.get_json("/api/v1/customized-images").await;
        if let Some(i) = list["items"].as_array().and_then(|a| a.first()) {
            made = Some(i.clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let made = made.expect("the CLI's commit never made its image");
    let name = made["name"].as_str().unwrap();
    assert!(name.starts_with("bai-pre-"), "{made}");
    // the SDK: a commit, its background task followed to its end, then
    // followed again after it
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/backendai/sdk_commit.py");
    let (ok, out_of_sdk) = bai.run("python", &[script, &pre]).await;
    let out = out_of_sdk.clone();
    assert!(ok, "{out}");
    let reference = out
        .lines()
        .find_map(|l| l.strip_prefix("bgtask_done "))
        .unwrap_or_else(|| panic!("{out}"))
        .to_string();
    // (a small commit may be over before the listener opens: then only
    // its end is told, which the late follow below checks anyway)
    assert!(out.contains("bgtask_updated Committed image"), "{out}");
    assert!(out.contains("followed again"), "{out}");
    let list = ana.get_json("/api/v1/customized-images").await;
    let refs: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["reference"].as_str())
        .collect();
    assert_eq!(refs.len(), 2, "{list}");
    assert!(
        refs.contains(&reference.as_str()),
        "{reference} not in {list}"
    );
    // and none runs now
    let status = signed_get(
        &srv,
        "/backend.ai/session/bai-pre/commit",
        &bai.access_key,
        &bai.secret_key,
        &chrono::Utc::now().to_rfc3339(),
    )
    .await;
    assert_eq!(status["status"], 200, "{status}");
    assert_eq!(status["body"]["status"], "ready", "{status}");
    assert_eq!(status["body"]["kernel"], s["kernels"][0]["id"], "{status}");
    // the image the task named runs, launched by the client
    let out = bai
        .cli(&[
            "session",
            "create",
            &reference,
            "-t",
            "bai-saved",
            "-r",
            "cpu=0.25",
            "-r",
            "mem=64m",
        ])
        .await;
    assert!(out.contains("created and ready"), "{out}");
    // someone else's task is unknown to them
    let task = out_of_sdk
        .lines()
        .find_map(|l| l.strip_prefix("task "))
        .unwrap_or_else(|| panic!("{out_of_sdk}"));
    let ben_bai = client_for(&srv, &ben).await;
    let (ok, out) = ben_bai
        .run(
            "python",
            &[
                "-c",
                "import asyncio, sys\n\
                 from ai.backend.client.session import AsyncSession\n\
                 async def main():\n\
                 \x20   async with AsyncSession() as api:\n\
                 \x20       async with api.BackgroundTask(sys.argv[1]).listen_events() as ev:\n\
                 \x20           async for e in ev:\n\
                 \x20               print('leaked', e.event)\n\
                 asyncio.run(main())",
                task,
            ],
        )
        .await;
    assert!(!ok && !out.contains("leaked"), "{out}");
    assert!(out.contains("404"), "{out}");

    // enqueued only: answered at once, started by the scheduler after
    let out = bai
        .cli(&[
            "session",
            "create",
            IMAGE,
            "-t",
            "bai-queued",
            "--enqueue-only",
            "-r",
            "cpu=0.25",
            "-r",
            "mem=64m",
        ])
        .await;
    assert!(out.contains("is enqueued for scheduling"), "{out}");
    ana.wait_status(&session_id(&out), "RUNNING").await;

    // a batch session starting in an hour, waited on for one second:
    // still queued (only batch sessions take a start time, as in the guide)
    let out = bai
        .cli(&[
            "session",
            "create",
            "--type",
            "batch",
            "-c",
            "echo later",
            IMAGE,
            "-t",
            "bai-later",
            "--starts-at",
            "1h",
            "--max-wait",
            "1",
            "-r",
            "cpu=0.25",
            "-r",
            "mem=64m",
        ])
        .await;
    assert!(out.contains("still on the job queue"), "{out}");
    let later = ana
        .get_json(&format!("/api/v1/sessions/{}", session_id(&out)))
        .await;
    assert_eq!(later["status"], "PENDING", "{later}");
    let starts: chrono::DateTime<chrono::Utc> =
        later["starts_at"].as_str().unwrap().parse().unwrap();
    let ahead = starts - chrono::Utc::now();
    assert!(
        ahead > chrono::Duration::minutes(55) && ahead <= chrono::Duration::minutes(60),
        "{later}"
    );

    // an admin launches for a user named by access key
    let admin_bai = client_for(&srv, &admin).await;
    let out = admin_bai
        .cli(&[
            "session",
            "create",
            IMAGE,
            "-t",
            "for-ben",
            "--owner",
            &ben_bai.access_key,
            "-r",
            "cpu=0.25",
            "-r",
            "mem=64m",
        ])
        .await;
    let for_ben = session_id(&out);
    let s = ben.get_json(&format!("/api/v1/sessions/{for_ben}")).await;
    assert_eq!(s["owner_email"], "ben@test.berth", "{s}");
}

/// A request signed as the reference client signs it, dated `date`.
async fn signed_get(srv: &TestServer, path: &str, key: &str, secret: &str, date: &str) -> Value {
    let host = srv
        .url("")
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let req = berth_api::facade::sign::Signed {
        method: "GET",
        path_and_query: path,
        raw_date: date,
        date: chrono::DateTime::parse_from_rfc3339(date).unwrap(),
        host: &host,
        content_type: "text/plain",
        version: "v7.20230615",
    };
    let sig = berth_api::facade::sign::signature(secret, &req);
    let res = reqwest::Client::new()
        .get(srv.url(path))
        .header("Date", date)
        .header("Content-Type", "text/plain")
        .header("X-BackendAI-Version", "v7.20230615")
        .header(
            "Authorization",
            format!("BackendAI signMethod=HMAC-SHA256, credential={key}:{sig}"),
        )
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    serde_json::json!({"status": status, "body": body})
}

#[tokio::test]
async fn a_skewed_clock_an_unknown_key_and_an_old_secret_are_refused() {
    let srv = TestServer::start().await;
    let (ana, _) = srv.new_user("ana@test.berth", "user").await;
    let bai = client_for(&srv, &ana).await;
    let now = chrono::Utc::now();
    let fresh = now.to_rfc3339();
    let ok = signed_get(
        &srv,
        "/backend.ai/folders",
        &bai.access_key,
        &bai.secret_key,
        &fresh,
    )
    .await;
    assert_eq!(ok["status"], 200, "{ok}");
    let stale = (now - chrono::Duration::minutes(16)).to_rfc3339();
    let skewed = signed_get(
        &srv,
        "/backend.ai/folders",
        &bai.access_key,
        &bai.secret_key,
        &stale,
    )
    .await;
    assert_eq!(skewed["status"], 400, "{skewed}");
    assert_eq!(
        skewed["body"]["type"],
        "https://api.backend.ai/probs/invalid-auth-params"
    );
    assert_eq!(skewed["body"]["msg"], "Date/time sync error");
    let unknown = signed_get(
        &srv,
        "/backend.ai/folders",
        "AKIANOSUCHKEY0000000",
        &bai.secret_key,
        &fresh,
    )
    .await;
    assert_eq!(unknown["status"], 401, "{unknown}");
    assert_eq!(unknown["body"]["msg"], "Access key not found");
    // a new secret: the old one stops working
    let renewed = client_for(&srv, &ana).await;
    assert_eq!(renewed.access_key, bai.access_key);
    let old = signed_get(
        &srv,
        "/backend.ai/folders",
        &bai.access_key,
        &bai.secret_key,
        &fresh,
    )
    .await;
    assert_eq!(old["status"], 401, "{old}");
    assert_eq!(old["body"]["msg"], "Signature mismatch");
    assert_eq!(
        old["body"]["type"],
        "https://api.backend.ai/probs/auth-failed"
    );
}
