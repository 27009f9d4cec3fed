//! A real reverse proxy (nginx or Caddy) on `127.0.0.1` in front of a test server, with its
//! own config, pid, logs and temp folders in a private folder, run in the foreground and
//! killed when dropped. Tests use it to check that the live stream is live through a proxy.

use crate::error::Error;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Which proxy, and what its one route says.
#[derive(Debug, Clone)]
pub enum Kind {
    /// nginx; the text goes inside `location / { proxy_pass http://UPSTREAM; … }` (empty for
    /// the stock configuration).
    Nginx(String),
    /// Caddy; the text goes inside `reverse_proxy UPSTREAM { … }` (empty for the stock one).
    Caddy(String),
}

/// A running proxy; dropping it kills it and removes its folder.
#[derive(Debug)]
pub struct Proxy {
    /// `http://127.0.0.1:PORT`, the proxy's address.
    pub url: String,
    child: Child,
    dir: PathBuf,
}

/// How long a proxy may take to listen.
const START: Duration = Duration::from_secs(10);

fn io(what: &str, e: std::io::Error) -> Error {
    Error::Internal(format!("{what}: {e}"))
}

impl Proxy {
    /// Starts `kind` in front of `upstream` (`http://127.0.0.1:PORT`) and waits until it
    /// listens. A port taken meanwhile by someone else is retried with another.
    pub fn start(kind: &Kind, upstream: &str) -> Result<Proxy, Error> {
        let upstream = upstream.trim_start_matches("http://");
        let mut last = String::new();
        for _ in 0..5 {
            let dir = private_dir()?;
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| io("no free port", e))?
                .port();
            let child = spawn(kind, upstream, port, &dir);
            let mut proxy = match child {
                Ok(child) => Proxy {
                    url: format!("http://127.0.0.1:{port}"),
                    child,
                    dir,
                },
                Err(e) => {
                    let _ = std::fs::remove_dir_all(&dir);
                    return Err(e);
                }
            };
            match proxy.wait_listening(port) {
                Ok(()) => return Ok(proxy),
                Err(e) => last = e,
            }
        }
        Err(Error::Internal(format!("the proxy did not start: {last}")))
    }

    /// The proxy's own logs (errors, and what it printed).
    pub fn log(&self) -> String {
        ["error.log", "output.log"]
            .iter()
            .filter_map(|f| std::fs::read_to_string(self.dir.join(f)).ok())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn wait_listening(&mut self, port: u16) -> Result<(), String> {
        let deadline = Instant::now() + START;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("it exited ({status}): {}", self.log()));
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "it did not listen within {START:?}: {}",
            self.log()
        ))
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn private_dir() -> Result<PathBuf, Error> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "weft-proxy-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| io("cannot make the proxy's folder", e))?;
    Ok(dir)
}

fn spawn(kind: &Kind, upstream: &str, port: u16, dir: &Path) -> Result<Child, Error> {
    let d = dir.display();
    let (program, args, config) = match kind {
        // Run as a single foreground process, so killing it leaves no worker behind.
        Kind::Nginx(route) => (
            "nginx",
            vec![
                "-p".to_string(),
                format!("{d}/"),
                "-c".into(),
                format!("{d}/nginx.conf"),
                "-e".into(),
                format!("{d}/error.log"),
            ],
            format!(
                "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log info;\n\
                 events {{ worker_connections 256; }}\n\
                 http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
                 fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
                 server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://{upstream};\n      {route}\n    }}\n  }}\n}}\n"
            ),
        ),
        Kind::Caddy(route) => (
            "caddy",
            vec![
                "run".to_string(),
                "--adapter".into(),
                "caddyfile".into(),
                "--config".into(),
                format!("{d}/Caddyfile"),
            ],
            format!(
                "{{\n  admin off\n  auto_https off\n  storage file_system {d}/data\n  log {{\n    output file {d}/error.log\n  }}\n}}\n\
                 http://127.0.0.1:{port} {{\n  reverse_proxy {upstream} {{\n    {route}\n  }}\n}}\n"
            ),
        ),
    };
    let file = match kind {
        Kind::Nginx(_) => "nginx.conf",
        Kind::Caddy(_) => "Caddyfile",
    };
    std::fs::write(dir.join(file), config).map_err(|e| io("cannot write the config", e))?;
    let log = std::fs::File::create(dir.join("output.log"))
        .map_err(|e| io("cannot make the proxy's log", e))?;
    let err = log
        .try_clone()
        .map_err(|e| io("cannot make the proxy's log", e))?;
    Command::new(program)
        .args(&args)
        .env("HOME", dir)
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .spawn()
        .map_err(|e| {
            io(
                &format!("cannot start {program} (install it: scripts/setup.sh test installs it)"),
                e,
            )
        })
}
