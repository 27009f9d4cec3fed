//! A clear error instead of a panic when there is no graphical session: GTK (through tao)
//! panics if it cannot open a display, so Weft checks first.

/// Fails with a sentence when no display can be opened.
#[cfg(target_os = "linux")]
pub fn ensure_available() -> anyhow::Result<()> {
    let wayland = std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty());
    match std::env::var_os("DISPLAY").filter(|d| !d.is_empty()) {
        Some(display) => match x11rb::connect(None) {
            Ok(_) => Ok(()),
            Err(_) if wayland => Ok(()),
            Err(e) => anyhow::bail!(
                "cannot open the X display {}: {e}. Start Weft from your desktop session",
                display.to_string_lossy()
            ),
        },
        None if wayland => Ok(()),
        None => anyhow::bail!(
            "no graphical session: neither DISPLAY nor WAYLAND_DISPLAY is set. Start Weft from your desktop session"
        ),
    }
}

#[cfg(not(target_os = "linux"))]
pub fn ensure_available() -> anyhow::Result<()> {
    Ok(())
}
