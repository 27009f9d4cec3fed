//! Weft's end-to-end harness. It runs the real `weft-app` and `weft` binaries on a private
//! desktop: its own Xvfb display, its own D-Bus session bus (with no service activation, so
//! nothing outside the test answers), a StatusNotifierWatcher, a notification capture server,
//! and all XDG directories in a temporary folder. Its Wayland variant ([`wayland`]) runs a
//! headless sway and no X server, with the real xdg-desktop-portal and the harness's own
//! GlobalShortcuts backend behind it. [`sync::SyncServer`] runs the team sync
//! server on loopback. Every process it starts is killed when its
//! guard drops, also when a test fails. Waits are on conditions with deadlines, never sleeps.
//!
//! The same harness drives `weft-bench`, which prints the start-up, memory and latency figures.

pub mod app;
pub mod apps;
pub mod desktop;
pub mod hide;
pub mod keys;
pub mod notifications;
pub mod panel;
pub mod portal;
pub mod proc;
pub mod seed;
pub mod shortcuts;
pub mod sink;
pub mod sway;
pub mod sync;
pub mod tray;
pub mod wait;
pub mod watcher;
pub mod wayland;
pub mod webdriver;
pub mod xembed;

pub use app::App;
pub use desktop::Desktop;
pub use wait::wait_for;

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

/// Tests that start a desktop hold this, so they run one at a time within a test binary.
pub fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// The folder the binaries under test are taken from: `$WEFT_BIN_DIR`, or the workspace's
/// `target/debug` (honouring `CARGO_TARGET_DIR`).
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WEFT_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_dir().join("target"));
    target.join("debug")
}

/// The repository's root folder.
pub fn workspace_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default()
}

/// Where tests leave screenshots and logs for people to look at (`tests/artifacts`).
pub fn artifacts_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    let _ = std::fs::create_dir_all(&dir);
    dir
}
