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
    let root = conn
        .setup()
        .roots
        .get(screen)
        .context("the display has no such screen")?
        .root;
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

/// Keyboard layouts on a desktop's display. It keeps an X connection open for its life: an X
/// server resets (and loads its default keymap again) when its last client disconnects, so
/// without it a layout loaded before the app starts would be gone by then.
pub struct Layouts {
    conn: RustConnection,
}

impl Layouts {
    pub fn open(desktop: &crate::Desktop) -> anyhow::Result<Layouts> {
        let (conn, _) = x11rb::connect(Some(desktop.display()))?;
        use x11rb::protocol::xkb::ConnectionExt as _;
        conn.xkb_use_extension(1, 0)?.reply()?;
        Ok(Layouts { conn })
    }

    /// Loads a keyboard layout with the real `setxkbmap` (for example
    /// `["us", "-variant", "dvorak"]`).
    pub fn setxkbmap(&self, desktop: &crate::Desktop, args: &[&str]) -> anyhow::Result<()> {
        let output = desktop
            .command("setxkbmap")
            .args(args)
            .output()
            .context("cannot run setxkbmap (x11-xkb-utils)")?;
        anyhow::ensure!(
            output.status.success(),
            "setxkbmap {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Ok(())
    }

    /// Every keycode whose core keyboard mapping carries `letter` (lowercase): the keys that
    /// type it in the layout loaded now.
    pub fn keycodes_typing(&self, letter: char) -> anyhow::Result<Vec<u8>> {
        let (min, max) = (self.conn.setup().min_keycode, self.conn.setup().max_keycode);
        let mapping = self
            .conn
            .get_keyboard_mapping(min, max - min + 1)?
            .reply()?;
        let per = usize::from(mapping.keysyms_per_keycode.max(1));
        Ok(mapping
            .keysyms
            .chunks(per)
            .enumerate()
            .filter(|(_, syms)| syms.contains(&u32::from(letter)))
            .filter_map(|(i, _)| u8::try_from(usize::from(min) + i).ok())
            .collect())
    }

    /// Locks the keyboard's XKB group (0 is the first layout of `setxkbmap -layout a,b`), as a
    /// layout switch key would.
    pub fn lock_group(&self, group: u8) -> anyhow::Result<()> {
        use x11rb::protocol::xkb::{self, ConnectionExt as _};
        self.conn
            .xkb_latch_lock_state(
                xkb::ID::USE_CORE_KBD.into(),
                ModMask::from(0u16),
                ModMask::from(0u16),
                true,
                xkb::Group::from(group),
                ModMask::from(0u16),
                false,
                0,
            )?
            .check()?;
        self.conn.flush()?;
        Ok(())
    }
}
