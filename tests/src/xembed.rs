//! An XEmbed system tray, as far as an app can see one: the owner of the
//! `_NET_SYSTEM_TRAY_S<screen>` selection, announced to the root window with a `MANAGER` message
//! (the freedesktop System Tray Protocol). It embeds nothing; it is there so a test can tell
//! "a tray host exists" from "none does". Dropping it destroys its window (the tray quits).

use anyhow::Context;
use x11rb::connection::Connection;
use x11rb::protocol::xproto::{
    ClientMessageEvent, ConnectionExt as _, CreateWindowAux, EventMask, WindowClass,
};
use x11rb::rust_connection::RustConnection;
use x11rb::wrapper::ConnectionExt as _;

/// Holds the selection until dropped.
pub struct XEmbedTray {
    conn: RustConnection,
    window: u32,
}

impl XEmbedTray {
    /// Takes the system tray selection of `display`'s default screen and announces it.
    pub fn start(display: &str) -> anyhow::Result<XEmbedTray> {
        let (conn, screen) = x11rb::connect(Some(display))?;
        let root = conn
            .setup()
            .roots
            .get(screen)
            .context("no such screen")?
            .root;
        let atom = |name: &str| -> anyhow::Result<u32> {
            Ok(conn.intern_atom(false, name.as_bytes())?.reply()?.atom)
        };
        let selection = atom(&format!("_NET_SYSTEM_TRAY_S{screen}"))?;
        let manager = atom("MANAGER")?;
        let window = conn.generate_id()?;
        conn.create_window(
            0,
            window,
            root,
            -1,
            -1,
            1,
            1,
            0,
            WindowClass::INPUT_OUTPUT,
            0,
            &CreateWindowAux::new(),
        )?
        .check()?;
        conn.set_selection_owner(window, selection, x11rb::CURRENT_TIME)?
            .check()?;
        let owner = conn.get_selection_owner(selection)?.reply()?.owner;
        anyhow::ensure!(owner == window, "another tray owns the selection");
        let announce = ClientMessageEvent::new(
            32,
            root,
            manager,
            [x11rb::CURRENT_TIME, selection, window, 0, 0],
        );
        conn.send_event(false, root, EventMask::STRUCTURE_NOTIFY, announce)?
            .check()?;
        conn.sync()?;
        Ok(XEmbedTray { conn, window })
    }
}

impl Drop for XEmbedTray {
    fn drop(&mut self) {
        let _ = self.conn.destroy_window(self.window);
        let _ = self.conn.sync();
    }
}
