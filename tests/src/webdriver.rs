//! A small WebDriver client for `tauri-driver` (which fronts WebKitWebDriver): just the calls
//! the UI tests need, over plain HTTP on 127.0.0.1.

use crate::desktop::Desktop;
use crate::proc::Proc;
use anyhow::Context;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

/// The W3C element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// `tauri-driver`, from `$TAURI_DRIVER`, `PATH` or `~/.cargo/bin`.
pub fn tauri_driver_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TAURI_DRIVER") {
        return Some(PathBuf::from(path));
    }
    let from_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("tauri-driver"))
            .find(|p| p.is_file())
    });
    from_path.or_else(|| {
        let cargo_home = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))?;
        Some(cargo_home.join("bin/tauri-driver")).filter(|p| p.is_file())
    })
}

/// A running tauri-driver and one session with the app.
pub struct Session {
    base: String,
    session: String,
    agent: ureq::Agent,
    // Dropped last: the driver takes WebKitWebDriver and the app down with its group.
    _driver: Proc,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

impl Session {
    /// Starts tauri-driver on the desktop and opens a session that launches `app` with `args`.
    pub fn start(desktop: &Desktop, app: &Path, args: &[&str]) -> anyhow::Result<Session> {
        Session::start_with(desktop, app, args, &[])
    }

    /// As [`Session::start`], with `env` on top of the desktop's environment.
    pub fn start_with(
        desktop: &Desktop,
        app: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> anyhow::Result<Session> {
        let driver = tauri_driver_path().context(
            "tauri-driver is not installed: run `cargo install tauri-driver --version '^2' --locked` (make test does)",
        )?;
        let port = free_port()?;
        let native = free_port()?;
        let log = std::fs::File::create(desktop.dir().join("tauri-driver.log"))?;
        let proc = Proc::spawn(
            "tauri-driver",
            desktop
                .command(&driver)
                .envs(env.iter().copied())
                .args([
                    "--port",
                    &port.to_string(),
                    "--native-port",
                    &native.to_string(),
                ])
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log),
        )?;
        let base = format!("http://127.0.0.1:{port}");
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .build();
        crate::wait_for("tauri-driver to listen", Duration::from_secs(20), || {
            agent.get(&format!("{base}/status")).call().ok().map(drop)
        })?;
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "wry",
                "tauri:options": { "application": app, "args": args },
            }}
        });
        let reply: Value = agent
            .post(&format!("{base}/session"))
            .send_json(capabilities)
            .map_err(describe)?
            .into_json()?;
        let session = reply["value"]["sessionId"]
            .as_str()
            .with_context(|| format!("no session id in {reply}"))?
            .to_owned();
        Ok(Session {
            base,
            session,
            agent,
            _driver: proc,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        let reply: Value = self
            .agent
            .post(&self.url(path))
            .send_json(body)
            .map_err(describe)?
            .into_json()?;
        Ok(reply["value"].clone())
    }

    fn get(&self, path: &str) -> anyhow::Result<Value> {
        let reply: Value = self
            .agent
            .get(&self.url(path))
            .call()
            .map_err(describe)?
            .into_json()?;
        Ok(reply["value"].clone())
    }

    /// The element matching a CSS selector.
    pub fn find(&self, css: &str) -> anyhow::Result<String> {
        let found = self.post("/element", json!({ "using": "css selector", "value": css }))?;
        found[ELEMENT]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no element {css}: {found}"))
    }

    /// The visible text of the element matching `css`.
    pub fn text(&self, css: &str) -> anyhow::Result<String> {
        let id = self.find(css)?;
        Ok(self
            .get(&format!("/element/{id}/text"))?
            .as_str()
            .unwrap_or_default()
            .to_owned())
    }

    /// The element's `innerText`: the text as rendered (HTML's "rendered text collection"),
    /// `Ok("")` when it is not rendered. WebKitWebDriver's element text (`text` above) leaves out
    /// text inside a box that clips with `overflow: hidden`, such as the Inbox's one-line rows,
    /// although it is on screen.
    pub fn rendered_text(&self, css: &str) -> anyhow::Result<String> {
        let value = self.post(
            "/execute/sync",
            json!({
                "script": "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;",
                "args": [css],
            }),
        )?;
        value
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("no element matches {css}"))
    }

    pub fn click(&self, css: &str) -> anyhow::Result<()> {
        let id = self.find(css)?;
        self.post(&format!("/element/{id}/click"), json!({}))?;
        Ok(())
    }

    /// Types `text` into the element matching `css`.
    pub fn type_into(&self, css: &str, text: &str) -> anyhow::Result<()> {
        let id = self.find(css)?;
        self.post(&format!("/element/{id}/value"), json!({ "text": text }))?;
        Ok(())
    }

    /// Runs a script in the page.
    pub fn execute(&self, script: &str) -> anyhow::Result<Value> {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))
    }

    /// Saves a PNG screenshot of the window.
    pub fn screenshot(&self, path: &Path) -> anyhow::Result<()> {
        let b64 = self.get("/screenshot")?;
        let bytes = decode_base64(b64.as_str().unwrap_or_default())?;
        std::fs::write(path, bytes)?;
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.url("")).call();
    }
}

fn describe(e: ureq::Error) -> anyhow::Error {
    match e {
        ureq::Error::Status(code, reply) => {
            anyhow::anyhow!(
                "WebDriver answered {code}: {}",
                reply.into_string().unwrap_or_default()
            )
        }
        other => anyhow::anyhow!("WebDriver request failed: {other}"),
    }
}

fn decode_base64(text: &str) -> anyhow::Result<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c).context("screenshot is not base64")? << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Ok(out)
}
