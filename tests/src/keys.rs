//! Another X client holding a key grab, as a program that owns a global shortcut would.

use anyhow::Context;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{ConnectionExt as _, GrabMode, ModMask};
use x11rb::rust_connection::RustConnection;

/// Holds its grab until dropped (the connection closes).
pub struct Grab {
    _conn: RustConnection,
}

/// Grabs `Ctrl+Alt+<letter>` (written `"ctrl+alt+f"`) on `display`'s root window.
pub fn grab(display: &str, keys: &str) -> anyhow::Result<Grab> {
    let letter = keys
        .strip_prefix("ctrl+alt+")
        .and_then(|k| k.chars().next())
        .filter(|c| c.is_ascii_lowercase())
        .context("only ctrl+alt+<letter> is supported")?;
    let (conn, screen) = x11rb::connect(Some(display))?;
    let root = conn.setup().roots[screen].root;
    let (min, max) = (conn.setup().min_keycode, conn.setup().max_keycode);
    let mapping = conn.get_keyboard_mapping(min, max - min + 1)?.reply()?;
    let per = usize::from(mapping.keysyms_per_keycode.max(1));
    let index = mapping
        .keysyms
        .chunks(per)
        .position(|syms| syms.contains(&(letter as u32)))
        .context("no keycode for that letter")?;
    let keycode = min + u8::try_from(index)?;
    for locks in [0u16, 2, 16, 18] {
        let mods = ModMask::CONTROL | ModMask::M1 | ModMask::from(locks);
        conn.grab_key(false, root, mods, keycode, GrabMode::ASYNC, GrabMode::ASYNC)?
            .check()?;
    }
    conn.flush()?;
    Ok(Grab { _conn: conn })
}
