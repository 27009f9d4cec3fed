//! The tray process's handle on the window process. Weft's window runs in a process of its own
//! (`weft-app --window`) so that WebKit, its helpers and their heaps all go away when the window
//! closes: the tray process never creates a webview and stays small all day.

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
        command.arg("--window");
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
