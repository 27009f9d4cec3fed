//! The tray process's handle on the window process. Weft's window runs in a process of its own
//! (`weft-app --window`) so that WebKit, its helpers and their heaps all go away when the window
//! closes: the tray process never creates a webview and stays small all day.

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Arc, Mutex, Weak};
use weft_core::service::{ShellError, Weft};
use weft_proto::{Event, View};

/// The program the window process runs: this one. When the package was upgraded (or the
/// binary rebuilt) under the running app, the file it was started from is gone and
/// `current_exe` names `/usr/bin/weft-app (deleted)`; the kernel still holds the running image
/// as `/proc/self/exe`, so the window is started from that, the same version as the tray
/// process it talks to. The new version takes over at the app's next start.
fn own_program() -> Result<PathBuf, ShellError> {
    let exe = std::env::current_exe().map_err(|cause| ShellError::NoExecutable { cause })?;
    if cfg!(target_os = "linux") && !exe.exists() {
        log::info!(
            "{} was replaced since Weft started: the window runs the version already running",
            exe.display()
        );
        return Ok(PathBuf::from("/proc/self/exe"));
    }
    Ok(exe)
}

/// The argv[0] the window process gets: this process's own (`/usr/bin/weft-app`, or
/// `weft-app` when started from PATH), else `weft-app`. Set explicitly because after an upgrade
/// the program is `/proc/self/exe`, and as argv[0] that would make GTK's program name (the
/// X11 WM_CLASS and Wayland app_id the desktop entry's StartupWMClass matches) `exe`.
fn own_arg0() -> std::ffi::OsString {
    std::env::args_os()
        .next()
        .filter(|arg0| !arg0.is_empty())
        .unwrap_or_else(|| "weft-app".into())
}

/// Names this process (`/proc/self/comm`, what ps, pgrep and top show) after its argv[0].
/// The kernel names a process after the file it executes, so a window process started from
/// `/proc/self/exe` after an upgrade would be called `exe`; the window process calls this
/// first thing, before it starts threads (they take their name from the thread starting them).
/// Best effort: a process that keeps the name `exe` still works.
pub fn name_after_arg0() {
    if !cfg!(target_os = "linux") {
        return;
    }
    let arg0 = PathBuf::from(own_arg0());
    let Some(name) = arg0.file_name().and_then(|n| n.to_str()) else {
        return;
    };
    // The kernel keeps 15 bytes of a name (TASK_COMM_LEN less its NUL).
    let name: String = name
        .char_indices()
        .take_while(|(at, c)| at + c.len_utf8() <= 15)
        .map(|(_, c)| c)
        .collect();
    let current = std::fs::read_to_string("/proc/self/comm").unwrap_or_default();
    if current.trim_end() == name {
        return;
    }
    if let Err(e) = std::fs::write("/proc/self/comm", &name) {
        log::debug!("cannot name the window process {name}: {e}");
    }
}

/// Starts the window process, or raises the window it already shows.
pub struct WindowProcess {
    weft: Weak<Weft>,
    /// The pid of the running window process, if there is one.
    running: Arc<Mutex<Option<u32>>>,
}

impl WindowProcess {
    pub fn new(weft: Weak<Weft>) -> WindowProcess {
        WindowProcess {
            weft,
            running: Arc::new(Mutex::new(None)),
        }
    }

    /// Opens the window: raises it if its process runs, otherwise starts one.
    pub fn open(&self) -> Result<(), ShellError> {
        self.show(None)
    }

    /// Opens the window on a view.
    pub fn open_view(&self, view: View) -> Result<(), ShellError> {
        self.show(Some(view))
    }

    fn show(&self, view: Option<View>) -> Result<(), ShellError> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if running.is_some() {
            if let Some(weft) = self.weft.upgrade() {
                weft.broadcast(&match view {
                    Some(view) => Event::Show(view),
                    None => Event::Raise,
                });
            }
            return Ok(());
        }
        let exe = own_program()?;
        let mut command = Command::new(&exe);
        command.arg0(own_arg0()).arg("--window");
        if let Some(view) = view {
            command.args(["--view", view.as_str()]);
        }
        let mut child = command.spawn().map_err(|cause| ShellError::WindowProcess {
            path: exe.clone(),
            cause,
        })?;
        let pid = child.id();
        *running = Some(pid);
        log::info!("window process {pid} started");
        let slot = self.running.clone();
        let reaper = std::thread::Builder::new()
            .name("weft-window-reaper".into())
            .spawn(move || {
                let status = child.wait();
                log::info!("window process {pid} ended: {status:?}");
                let mut running = slot.lock().unwrap_or_else(|p| p.into_inner());
                if *running == Some(pid) {
                    *running = None;
                }
            });
        if let Err(e) = reaper {
            log::warn!("cannot watch the window process: {e}");
        }
        Ok(())
    }

    /// Asks the window to close (its process then exits).
    pub fn close(&self) {
        if let Some(weft) = self.weft.upgrade() {
            weft.broadcast(&Event::Close);
        }
    }
}
