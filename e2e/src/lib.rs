//! Harness for the browser tests: a headless Debian Chromium driven through
//! chromedriver, against a real berth server serving the Trunk-built UI
//! from `dist/` (`berth_testkit::TestServer::start_ui`: real database, real
//! Docker engine). Each test gets its own server, chromedriver and browser
//! profile, all removed at the end (also when the test fails).

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use thirtyfour::prelude::*;
use thirtyfour::ChromiumLikeCapabilities;

pub use berth_testkit::{docker, Api, TestServer as Server, ADMIN_EMAIL, ADMIN_PASSWORD};
pub use thirtyfour;

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// chromedriver (in its own process group, so Chromium dies with it) and a
/// WebDriver session on headless Chromium.
pub struct Browser {
    /// The WebDriver session.
    pub driver: WebDriver,
    chromedriver: Child,
    profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub async fn start() -> Browser {
        use std::os::unix::process::CommandExt;
        let port = free_port();
        let chromedriver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver (make setup installs chromium-driver)");
        let profile = tempfile::tempdir().expect("profile dir");
        let browser = Browser {
            driver: connect(port, profile.path()).await,
            chromedriver,
            profile,
        };
        browser
            .driver
            .set_window_rect(0, 0, 1280, 860)
            .await
            .expect("window size");
        browser
            .driver
            .set_implicit_wait_timeout(Duration::ZERO)
            .await
            .ok();
        browser
    }

    /// Waits for the browser to finish downloading `file_name` (into this
    /// session's own download directory) and returns its contents.
    pub async fn wait_download(&self, file_name: &str) -> String {
        let path = downloads_dir(self.profile.path()).join(file_name);
        for _ in 0..300 {
            if let Ok(text) = std::fs::read_to_string(&path) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{} was not downloaded", path.display());
    }

    /// Saves a screenshot as `target/e2e-shots/<name>.png`.
    ///
    /// Every shot is of a page or dialog a test visits, so each is also
    /// checked with axe-core ([`Browser::axe`]).
    pub async fn shot(&self, name: &str) {
        self.shot_foreign(name).await;
        self.axe(name).await;
    }

    /// A screenshot of a page that is not berth's (an app inside a session,
    /// e.g. Jupyter): not checked with axe-core, berth does not write it.
    pub async fn shot_foreign(&self, name: &str) {
        let dir = workspace().join("target").join("e2e-shots");
        std::fs::create_dir_all(&dir).expect("shots dir");
        self.driver
            .screenshot(&dir.join(format!("{name}.png")))
            .await
            .expect("screenshot");
    }

    /// Checks the page as it is now with axe-core (the npm package, read
    /// from the local tools folder and injected; no CDN). Panics listing
    /// every serious or critical violation, with where it is.
    pub async fn axe(&self, what: &str) {
        let loaded: bool = self
            .driver
            .execute("return !!window.axe;", vec![])
            .await
            .expect("axe probe")
            .convert()
            .unwrap_or(false);
        if !loaded {
            self.driver
                .execute(&format!("{}\nreturn true;", axe_source()), vec![])
                .await
                .expect("inject axe-core");
        }
        let found: Vec<String> = self
            .driver
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 // a terminal's rows are a program's output, coloured by it
                 axe.run({exclude: [['.xterm-rows']]}, {resultTypes: ['violations']}).then(r => done(r.violations
                   .filter(v => v.impact === 'serious' || v.impact === 'critical')
                   .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at ' +
                        v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(', '))))
                 .catch(e => done(['axe did not run: ' + e]));",
                vec![],
            )
            .await
            .expect("axe run")
            .convert()
            .expect("axe results");
        assert!(
            found.is_empty(),
            "axe-core finds serious or critical violations on {what}:\n{}",
            found.join("\n")
        );
    }

    /// Sizes the window so the page itself (`window.innerWidth`) is
    /// `width` CSS px wide, and checks that it is: a window manager or a
    /// minimum window size must not turn a phone-width test into a wider
    /// one unseen.
    pub async fn set_viewport(&self, width: i64, height: i64) {
        let inner = || async {
            self.driver
                .execute("return window.innerWidth;", vec![])
                .await
                .expect("innerWidth")
                .convert::<i64>()
                .expect("a number")
        };
        self.driver
            .set_window_rect(0, 0, width as u32, height as u32)
            .await
            .expect("window size");
        let seen = inner().await;
        if seen != width {
            // the window's frame takes some: ask for that much more
            let outer = (2 * width - seen).max(1) as u32;
            self.driver
                .set_window_rect(0, 0, outer, height as u32)
                .await
                .expect("window size");
        }
        assert_eq!(inner().await, width, "the page is not {width} px wide");
    }

    /// Whether the first elements matching `a` and `b` overlap on screen
    /// (panics when either is absent: a missing element proves nothing).
    pub async fn overlap(&self, a: &str, b: &str) -> bool {
        self.driver
            .execute(
                "const a = document.querySelector(arguments[0]), b = document.querySelector(arguments[1]);
                 if (!a || !b) return null;
                 const r = a.getBoundingClientRect(), s = b.getBoundingClientRect();
                 return r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom;",
                vec![serde_json::json!(a), serde_json::json!(b)],
            )
            .await
            .expect("overlap script")
            .convert::<Option<bool>>()
            .expect("a boolean")
            .unwrap_or_else(|| panic!("{a} or {b} is not on the page: nothing to compare"))
    }

    /// Waits until the page's path is `path` (the app navigates client-side).
    pub async fn wait_for_path(&self, path: &str) {
        let mut last = String::new();
        for _ in 0..200 {
            if let Ok(url) = self.driver.current_url().await {
                last = url.path().to_string();
                if last == path {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("expected the browser at {path}, it stayed at {last}");
    }

    /// The first element matching `css`, waiting for it to appear.
    pub async fn el(&self, css: &str) -> WebElement {
        self.driver
            .query(By::Css(css))
            .wait(Duration::from_secs(15), Duration::from_millis(50))
            .first()
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Waits until the element matching `css` has the text `text`.
    pub async fn wait_text(&self, css: &str, text: &str) -> WebElement {
        let mut last = String::new();
        for _ in 0..300 {
            if let Ok(el) = self.driver.find(By::Css(css)).await {
                last = el.text().await.unwrap_or_default();
                if last.trim() == text {
                    return el;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css} should read {text:?}, it reads {last:?}");
    }

    /// Signs in through the login page and waits for the Sessions page.
    pub async fn login(&self, srv: &Server, email: &str, password: &str) {
        self.driver
            .goto(srv.url("/login"))
            .await
            .expect("goto login");
        self.el("#login-email")
            .await
            .send_keys(email)
            .await
            .expect("type email");
        let pw = self.el("#login-password").await;
        pw.send_keys(password).await.expect("type password");
        pw.send_keys(Key::Enter).await.expect("submit");
        self.wait_for_path("/sessions").await;
    }

    /// Replaces the text of an input.
    pub async fn fill(&self, css: &str, text: &str) {
        let el = self.el(css).await;
        el.clear().await.expect("clear");
        el.send_keys(text).await.expect("type");
    }

    /// Waits until the element matching `css` contains `text`.
    pub async fn wait_contains(&self, css: &str, text: &str) -> WebElement {
        let mut last = String::new();
        for _ in 0..600 {
            if let Ok(el) = self.driver.find(By::Css(css)).await {
                last = el.text().await.unwrap_or_default();
                if last.contains(text) {
                    return el;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} should contain {text:?}, it reads {last:?}");
    }

    /// Waits until the element matching `css` has DOM property `name` = `value`.
    pub async fn wait_prop(&self, css: &str, name: &str, value: &str) {
        let mut last = None;
        for _ in 0..300 {
            if let Ok(el) = self.driver.find(By::Css(css)).await {
                last = el.prop(name).await.ok().flatten();
                if last.as_deref() == Some(value) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css}.{name} should be {value:?}, it is {last:?}");
    }

    /// Waits until the sessions-table row matching the XPath `row` contains
    /// `status` (any text of the row). The list follows the event stream,
    /// so the page is never reloaded.
    pub async fn wait_row_xpath(&self, row: &str, status: &str) -> WebElement {
        let mut last = String::new();
        for _ in 0..240 {
            if let Ok(tr) = self.driver.find(By::XPath(row)).await {
                last = tr.text().await.unwrap_or_default();
                if last.contains(status) {
                    return tr;
                }
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("row {row} never showed {status}; last read {last:?}");
    }

    /// [`Browser::wait_row_xpath`] for the session called `name`.
    pub async fn wait_session(&self, name: &str, status: &str) -> WebElement {
        self.wait_row_xpath(&session_row(name), status).await
    }

    /// Waits until no row shows the session called `name`.
    pub async fn wait_no_session(&self, name: &str) {
        self.wait_gone_xpath(&session_row(name)).await
    }

    async fn wait_gone_xpath(&self, xpath: &str) {
        for _ in 0..240 {
            // an empty match is gone; a WebDriver error is not
            match self.driver.find_all(By::XPath(xpath)).await {
                Ok(found) if found.is_empty() => return,
                Ok(_) => {}
                Err(e) => panic!("looking for {xpath}: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("{xpath} should be gone");
    }

    /// Review page: Launch, then "Launch" in the no-folder dialog.
    pub async fn launch_and_confirm(&self) {
        self.el("#launch-button")
            .await
            .click()
            .await
            .expect("click Launch");
        self.el("#no-folder-launch")
            .await
            .click()
            .await
            .expect("confirm without folders");
    }

    /// Waits until the focused element has the id `id`.
    pub async fn wait_focus(&self, id: &str) {
        let mut last = None;
        for _ in 0..300 {
            if let Ok(el) = self.driver.active_element().await {
                last = el.id().await.ok().flatten();
                if last.as_deref() == Some(id) {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("#{id} should have focus, #{last:?} has it");
    }

    /// Waits until the focused element matches the CSS selector `css`.
    pub async fn wait_focus_css(&self, css: &str) {
        let mut last = String::new();
        for _ in 0..300 {
            last = self.focused().await;
            let hit: bool = self
                .driver
                .execute(
                    "const a = document.activeElement; return !!a && a.matches(arguments[0]);",
                    vec![serde_json::json!(css)],
                )
                .await
                .ok()
                .and_then(|r| r.convert().ok())
                .unwrap_or(false);
            if hit {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css} should have focus, {last} has it");
    }

    /// Where focus is, as `row-key/id.class` (`data-row` of the row it sits
    /// in, if any), for messages and checks.
    pub async fn focused(&self) -> String {
        self.driver
            .execute(
                "const a = document.activeElement; if (!a) return 'none'; \
                 const r = a.closest('[data-row]'); \
                 return (r ? r.dataset.row + '/' : '') + a.tagName.toLowerCase() + '#' + a.id + '.' + a.className;",
                vec![],
            )
            .await
            .ok()
            .and_then(|r| r.convert().ok())
            .unwrap_or_default()
    }

    /// Types `keys` into whatever has focus.
    pub async fn press(&self, keys: impl Into<thirtyfour::prelude::TypingData>) {
        let el = self.driver.active_element().await.expect("focused element");
        el.send_keys(keys).await.expect("type keys");
    }

    /// Presses `keys` as a keyboard would: to whatever has focus, whatever
    /// it is (a heading, a button, the page).
    pub async fn keys(&self, keys: impl Into<thirtyfour::prelude::TypingData>) {
        self.driver
            .action_chain()
            .send_keys(keys)
            .perform()
            .await
            .expect("keys");
    }

    /// Presses Shift+Tab: focus goes one step back.
    pub async fn shift_tab(&self) {
        self.driver
            .action_chain()
            .key_down(Key::Shift)
            .send_keys(Key::Tab)
            .key_up(Key::Shift)
            .perform()
            .await
            .expect("shift+tab");
    }

    /// Presses Tab (at most 80 times) until the element with id `id` has
    /// focus; panics, naming where focus went, if it never does.
    pub async fn tab_to(&self, id: &str) {
        let mut seen = Vec::new();
        for _ in 0..80 {
            let now = match self.driver.active_element().await {
                Ok(el) => el.id().await.ok().flatten().unwrap_or_default(),
                Err(_) => String::new(),
            };
            if now == id {
                return;
            }
            seen.push(now);
            self.keys(Key::Tab).await;
        }
        panic!("Tab never reached #{id}; focus went through {seen:?}");
    }

    /// Waits until no element matches `css`.
    pub async fn wait_gone(&self, css: &str) {
        for _ in 0..300 {
            // an empty match is gone; a WebDriver error is not
            match self.driver.find_all(By::Css(css)).await {
                Ok(found) if found.is_empty() => return,
                Ok(_) => {}
                Err(e) => panic!("looking for {css}: {e}"),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{css} should be gone");
    }

    /// What the web terminal page (xterm.js) shows, line by line.
    pub async fn terminal_screen(&self) -> String {
        const SCREEN: &str = "const b = window.berthTerminal && window.berthTerminal.buffer.active; \
            if (!b) return ''; let s = ''; \
            for (let i = 0; i < b.length; i++) { s += b.getLine(i).translateToString(true) + '\\n'; } \
            return s;";
        self.driver
            .execute(SCREEN, vec![])
            .await
            .ok()
            .and_then(|r| r.json().as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Waits for a window that is not in `known` (a tab the page opened),
    /// switches to it and returns its handle.
    pub async fn switch_to_new_window(&self, known: &[WindowHandle]) -> WindowHandle {
        for _ in 0..300 {
            let all = self.driver.windows().await.expect("window handles");
            if let Some(h) = all.into_iter().find(|h| !known.contains(h)) {
                self.driver
                    .switch_to_window(h.clone())
                    .await
                    .expect("switch window");
                return h;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no new window opened");
    }

    /// Closes the browser session (chromedriver is killed on drop).
    pub async fn close(self) {
        let _ = self.driver.clone().quit().await;
    }
}

/// Where a browser with this profile saves downloads.
fn downloads_dir(profile: &Path) -> PathBuf {
    profile.join("downloads")
}

async fn connect(port: u16, profile: &Path) -> WebDriver {
    let url = format!("http://127.0.0.1:{port}");
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary("/usr/bin/chromium").expect("binary");
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-quic",
        "--no-first-run",
        "--window-size=1280,860",
        "--lang=en-US",
    ] {
        caps.add_arg(arg).expect("arg");
    }
    caps.add_arg(&format!("--user-data-dir={}", profile.display()))
        .expect("profile arg");
    caps.add_experimental_option(
        "prefs",
        serde_json::json!({
            "download.default_directory": downloads_dir(profile),
            "download.prompt_for_download": false,
        }),
    )
    .expect("download prefs");
    let mut last_err = None;
    for _ in 0..100 {
        match WebDriver::new(&url, caps.clone()).await {
            Ok(d) => return d,
            Err(e) => last_err = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("chromedriver on port {port} did not start a session: {last_err:?}");
}

impl Drop for Browser {
    fn drop(&mut self) {
        let pid = self.chromedriver.id() as i32;
        // SAFETY: kill(2) on our own child's process group; no memory is touched.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = self.chromedriver.wait();
    }
}

/// The XPath of the sessions-table row of the session called `name`.
pub fn session_row(name: &str) -> String {
    format!("//tr[td[@class='session-name']/button[normalize-space()='{name}']]")
}

/// axe-core's script: `BERTH_AXE_JS`, else the copy `make setup` installs
/// under the tools folder (`BERTH_TOOLS_DIR`, default `~/.cache/berth-tools`).
fn axe_source() -> &'static str {
    static SRC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    SRC.get_or_init(|| {
        let path = std::env::var_os("BERTH_AXE_JS")
            .map(PathBuf::from)
            .unwrap_or_else(|| berth_testkit::tools_dir().join("node_modules/axe-core/axe.min.js"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "axe-core not found at {} ({e}): run `make setup`",
                path.display()
            )
        })
    })
}
