//! Idle checks in the browser: the sessions list's Idle checks column, the
//! detail panel's section with its (i) explanation and the utilization
//! tooltip (reached by keyboard focus) in each colour — a session using
//! almost no memory (red), about a third of it (yellow), most of it
//! (green) against a 5 % threshold — and the toast that warns the owner
//! before the network rule ends a session.

use berth_e2e::thirtyfour::prelude::*;
use berth_e2e::{session_row, Browser, Server, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::json;

async fn busybox(api: &berth_e2e::Api, name: &str) -> (String, String) {
    let s = api
        .launch(json!({"name": name, "image": "berth/busybox:latest",
                       "resources": {"cpu": 0.25, "mem": "64m"}}))
        .await;
    let id = s["id"].as_str().unwrap().to_string();
    let running = api.wait_status(&id, "RUNNING").await;
    let cid = running["kernels"][0]["container_id"]
        .as_str()
        .unwrap()
        .to_string();
    (id, cid)
}

/// Holds `bytes` of memory in the session until it ends.
async fn hold_memory(cid: &str, bytes: u64) {
    let prog = format!("BEGIN{{s=sprintf(\"%{bytes}s\",\"x\"); system(\"sleep 3600\")}}");
    let ok = tokio::process::Command::new("docker")
        .args(["exec", "-d", cid, "awk", &prog])
        .status()
        .await
        .unwrap();
    assert!(ok.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_checks_column_section_and_tooltip_colours() {
    let srv = Server::start_with_ui(|c| {
        c.idle_check_interval_ms = 500;
        c.idle_network_timeout_secs = 7200;
        c.idle_utilization = [("mem".to_string(), 5.0)].into();
        c.idle_utilization_window_secs = 2;
        c.idle_grace_period_secs = 3600;
    })
    .await;
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (low, _) = busybox(&api, "mem-low").await;
    let (mid, mid_c) = busybox(&api, "mem-mid").await;
    let (high, high_c) = busybox(&api, "mem-high").await;
    hold_memory(&mid_c, 20_000_000).await;
    hold_memory(&high_c, 40_000_000).await;
    // the rule's window has seen the memory held (waited on, not slept)
    api.wait_for(&low, "reported", |s| s["idle_checks"].is_object())
        .await;
    let mem_avg = |s: &serde_json::Value| {
        s["idle_checks"]["utilization"]["resources"]["mem"]["average"].as_f64()
    };
    for id in [&mid, &high] {
        api.wait_for(id, "its held memory averaged", |s| {
            mem_avg(s).is_some_and(|a| a > 5.0)
        })
        .await;
    }

    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    b.wait_session("mem-low", "RUNNING").await;
    // the column: the network rule, 2 h away (orange under 4 h); read in
    // one go (a row is drawn anew when its figures change)
    let tag: Vec<String> = b
        .driver
        .execute(
            "const r = document.evaluate(arguments[0], document, null, 9, null).singleNodeValue;              const c = r && r.querySelector('.idle-cell .idle-tag');              return c ? [c.textContent, c.className] : ['', ''];",
            vec![json!(session_row("mem-low"))],
        )
        .await
        .unwrap()
        .convert()
        .unwrap();
    assert!(
        tag[0].starts_with("1h 59m") || tag[0].starts_with("2h"),
        "{tag:?}"
    );
    assert!(tag[1].contains("idle-warning"), "{tag:?}");
    b.shot("50-idle-column").await;

    for (name, level, shot) in [
        ("mem-low", "idle-danger", "51-idle-tooltip-red"),
        ("mem-mid", "idle-warning", "52-idle-tooltip-yellow"),
        ("mem-high", "idle-normal", "53-idle-tooltip-green"),
    ] {
        b.driver
            .find(By::XPath(format!(
                "{}//button[contains(@class,'session-open')]",
                session_row(name)
            )))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        b.wait_contains("#detail-name", name).await;
        b.wait_contains("#detail-idle", "Network idle timeout")
            .await;
        b.wait_contains("#idle-utilization-value", "Grace period")
            .await;
        // keyboard focus shows the tooltip too
        let mut class = String::new();
        for _ in 0..100 {
            let value = b.el("#idle-utilization-value").await;
            value.focus().await.unwrap();
            let li = b.el("#idle-utilization-tip li[data-resource='mem']").await;
            class = li.attr("class").await.unwrap().unwrap_or_default();
            if class.contains(level) && li.is_displayed().await.unwrap() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert!(class.contains(level), "{name}: {class}");
        b.wait_contains("#idle-utilization-tip", "threshold 5.0 %")
            .await;
        b.shot(shot).await;
    }
    // the (i) explains the rule in the guide's words
    b.el("#idle-network-info").await.click().await.unwrap();
    b.wait_contains("#idle-network-help", "no network traffic")
        .await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_is_warned_before_the_network_rule_ends_a_session() {
    let srv = Server::start_with_ui(|c| {
        c.idle_check_interval_ms = 250;
        c.idle_network_timeout_secs = 12;
        c.idle_warn_before_secs = 8;
    })
    .await;
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (id, _) = busybox(&api, "soon-idle").await;
    let toast = b
        .wait_contains(&format!("#toast-{id}"), "soon-idle will be ended at")
        .await;
    assert!(toast
        .attr("class")
        .await
        .unwrap()
        .unwrap()
        .contains("toast-idle-warning"));
    assert_eq!(toast.attr("role").await.unwrap().as_deref(), Some("alert"));
    b.wait_contains(&format!("#toast-{id}"), "Network idle timeout")
        .await;
    b.shot("54-idle-warning-toast").await;
    let ended = api.wait_status(&id, "TERMINATED").await;
    assert_eq!(ended["status_info"], "idle-timeout");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warning_counts_down_shows_in_the_bell_and_goes_when_the_session_is_used() {
    let srv = Server::start_with_ui(|c| {
        c.app_ports = (32040, 32049);
        c.idle_check_interval_ms = 250;
        c.idle_network_timeout_secs = 40;
        // warned after 4 s without traffic
        c.idle_warn_before_secs = 36;
    })
    .await;
    let api = srv.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let b = Browser::start().await;
    b.login(&srv, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (id, _) = busybox(&api, "comes-back").await;
    let toast = format!("#toast-{id}");
    // it says when, and counts down with the page's clock
    let first = b
        .wait_contains(&toast, "comes-back will be ended at")
        .await
        .text()
        .await
        .unwrap();
    let mut now = first.clone();
    for _ in 0..100 {
        now = b.el(&toast).await.text().await.unwrap();
        if now != first {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_ne!(now, first, "the warning counts down");
    // the list and the panel show one value: the panel's countdown and the
    // row's agree (both judged at their read, counted down by one clock)
    b.el(&format!("tr[data-session-id='{id}'] .session-open"))
        .await
        .click()
        .await
        .unwrap();
    b.el("#detail-idle").await;
    // both drawn (the panel may open in the whole UI before its list is back)
    let mut pair: Vec<String> = vec![String::new(), String::new()];
    for _ in 0..200 {
        pair = b
            .driver
            .execute(
                "const t = s => { const e = document.querySelector(s); return e ? e.textContent : ''; }; \
                 return [t(arguments[0] + ' .idle-cell .idle-tag'), t('#detail-idle .idle-tag')];",
                vec![json!(format!("tr[data-session-id='{id}']"))],
            )
            .await
            .unwrap()
            .convert()
            .unwrap();
        if pair.iter().all(|t| !t.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let secs = |t: &str| -> i64 {
        let digits: Vec<i64> = t
            .split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty())
            .map(|p| p.parse().unwrap())
            .collect();
        match digits.as_slice() {
            [m, s] => m * 60 + s,
            [s] => *s,
            _ => panic!("{t}"),
        }
    };
    assert!(
        (secs(&pair[0]) - secs(&pair[1])).abs() <= 2,
        "the list and the panel disagree: {pair:?}"
    );
    b.el("#detail-close").await.click().await.unwrap();
    // the bell names it a warning, not a bare RUNNING
    b.el("#notification-bell").await.click().await.unwrap();
    b.wait_contains("#notification-list .notice-tag", "Idle warning")
        .await;
    b.keys(Key::Escape).await;
    b.wait_gone("#notification-list").await;
    // used again (its app, through the proxy): the warning goes
    let opened = api
        .post_json(&format!("/api/v1/sessions/{id}/apps/httpd"), &json!({}))
        .await;
    let launched = api
        .http()
        .get(opened["launch_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(launched.status().is_success());
    let url = opened["app"]["open"]["url"].as_str().unwrap();
    api.http().get(url).send().await.unwrap();
    b.wait_gone(&toast).await;
    b.el("#notification-bell").await.click().await.unwrap();
    b.wait_contains("#notification-list .notice-tag", "In use again")
        .await;
    b.shot("55-idle-warning-lifted").await;
    api.delete(&format!("/api/v1/sessions/{id}")).await;
    api.wait_status(&id, "TERMINATED").await;
    b.close().await;
}
