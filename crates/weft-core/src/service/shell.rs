//! What the dispatcher asks of the app around it (the tray, windows), and how that can fail.

use std::path::PathBuf;
use weft_proto::{Status, TeamInfo};

/// Why the app could not do what the dispatcher asked: open or close a window, change the
/// hotkey.
#[derive(Debug, thiserror::Error)]
pub enum ShellError {
    /// The app's own executable could not be found to start the window process.
    #[error("cannot find weft-app to start the window: {cause}")]
    NoExecutable { cause: std::io::Error },
    /// The window process could not be started.
    #[error("cannot start the window process {}: {cause}", path.display())]
    WindowProcess {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// The desktop cannot show a dialog to change the hotkey, or did not take the request; the
    /// text says why and what to do instead.
    #[error("{0}")]
    HotkeyNotChangeable(String),
}

/// What the dispatcher asks of the app around it (the tray, windows). Tests record calls.
pub trait Shell: Send + Sync {
    /// A switch was committed. Called with the dispatcher's lock held, so that calls arrive in
    /// commit order: it must return at once (post to the UI thread) and never call back into
    /// [`Weft`](super::Weft).
    fn state_changed(&self, status: &Status);
    /// Opens or raises the window. Must not block on the UI thread.
    fn open_window(&self) -> Result<(), ShellError>;
    /// Closes every window (the app stays in the tray). Must not block on the UI thread.
    fn close_window(&self) -> Result<(), ShellError>;
    /// Asks the desktop to show its dialog for changing the hotkey (the GlobalShortcuts
    /// portal's `ConfigureShortcuts`). Not called with the lock held; may wait for the
    /// desktop's answer, bounded by a timeout. Shells without such a desktop say so.
    fn change_hotkey(&self) -> Result<(), ShellError> {
        Err(ShellError::HotkeyNotChangeable(
            "this app cannot ask the desktop to change its hotkey".into(),
        ))
    }
    /// Popups are owed to the desktop (see [`Weft::owed_popups`](super::Weft::owed_popups)).
    /// Called with the lock held: must return at once (wake a delivery worker).
    fn popups_owed(&self);
    /// The team changed (a member's status, the connection, the membership). Called with the
    /// lock held: must return at once (post to the UI thread).
    fn team_changed(&self, _info: &TeamInfo) {}
}
