//! A clear error instead of a panic when there is no graphical session: GTK (through tao)
//! panics if it cannot open a display, so Weft checks first. GTK tries Wayland
//! (`WAYLAND_DISPLAY`) before X11 (`DISPLAY`); so does this check, and its error names both.

#[cfg(target_os = "linux")]
use std::path::{Path, PathBuf};

/// Fails with a sentence when no display can be opened.
#[cfg(target_os = "linux")]
pub fn ensure_available() -> anyhow::Result<()> {
    let wayland = std::env::var_os("WAYLAND_DISPLAY").filter(|d| !d.is_empty());
    let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from);
    // Why Wayland cannot be used, when WAYLAND_DISPLAY names a display.
    let wayland_problem = match &wayland {
        None => None,
        Some(name) => match wayland_socket(Path::new(name), runtime.as_deref()) {
            None => Some(format!(
                "WAYLAND_DISPLAY is {} but XDG_RUNTIME_DIR is not set",
                name.to_string_lossy()
            )),
            Some(socket) => match std::os::unix::net::UnixStream::connect(&socket) {
                Ok(_) => return Ok(()),
                Err(e) => Some(format!(
                    "cannot connect to the Wayland display {} ({}: {e})",
                    name.to_string_lossy(),
                    socket.display()
                )),
            },
        },
    };
    match std::env::var_os("DISPLAY").filter(|d| !d.is_empty()) {
        Some(display) => match x11rb::connect(None) {
            Ok(_) => {
                if let Some(problem) = wayland_problem {
                    // GTK falls back to X11 here: say why the session's Wayland is not used.
                    log::warn!(
                        "{problem}; using the X display {} instead",
                        display.to_string_lossy()
                    );
                }
                Ok(())
            }
            Err(e) => anyhow::bail!(
                "{}cannot open the X display {}: {e}. Start Weft from your desktop session",
                wayland_problem.map(|p| p + "; ").unwrap_or_default(),
                display.to_string_lossy()
            ),
        },
        None => match wayland_problem {
            Some(problem) => anyhow::bail!(
                "{problem}, and DISPLAY is not set. Start Weft from your desktop session"
            ),
            None => anyhow::bail!(
                "no graphical session: neither DISPLAY nor WAYLAND_DISPLAY is set. Start Weft from your desktop session"
            ),
        },
    }
}

/// Whether a Wayland compositor answers where this process's `WAYLAND_DISPLAY` points: where
/// it does not, GTK falls back to X11.
#[cfg(target_os = "linux")]
pub fn wayland_reachable() -> bool {
    let Some(name) = std::env::var_os("WAYLAND_DISPLAY").filter(|d| !d.is_empty()) else {
        return false;
    };
    let runtime = std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from);
    wayland_socket(Path::new(&name), runtime.as_deref())
        .is_some_and(|socket| std::os::unix::net::UnixStream::connect(socket).is_ok())
}

/// The socket a Wayland client connects to, as libwayland finds it: `WAYLAND_DISPLAY` itself
/// when it is an absolute path, otherwise that name in `XDG_RUNTIME_DIR` (`None` without it).
#[cfg(target_os = "linux")]
pub fn wayland_socket(wayland_display: &Path, runtime_dir: Option<&Path>) -> Option<PathBuf> {
    if wayland_display.is_absolute() {
        return Some(wayland_display.to_path_buf());
    }
    runtime_dir.map(|dir| dir.join(wayland_display))
}

#[cfg(not(target_os = "linux"))]
pub fn ensure_available() -> anyhow::Result<()> {
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_wayland_socket_is_found_as_libwayland_finds_it() {
        let run = Some(Path::new("/run/user/1000"));
        assert_eq!(
            wayland_socket(Path::new("wayland-0"), run),
            Some(PathBuf::from("/run/user/1000/wayland-0"))
        );
        assert_eq!(
            wayland_socket(Path::new("/tmp/w/wayland-1"), None),
            Some(PathBuf::from("/tmp/w/wayland-1"))
        );
        assert_eq!(wayland_socket(Path::new("wayland-0"), None), None);
    }
}
