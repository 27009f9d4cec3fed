//! KDE Plasma: `org.freedesktop.Notifications.Inhibit`. The inhibition lasts while the
//! connection that asked for it is open, so the adapter keeps that connection until restore.

use super::Desktop;
use std::collections::HashMap;
use zbus::wire::Variant;

#[derive(Default)]
pub struct Kde {
    held: Option<(zbus::Connection, u32)>,
}

const DEST: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";

impl Desktop for Kde {
    fn silence(&mut self) -> Result<Option<String>, String> {
        let (conn, cookie) = zbus::block_on(async {
            let conn = zbus::Connection::session().await?;
            let hints: HashMap<&str, Variant<'_>> = HashMap::new();
            let reply = conn
                .call_method(
                    Some(DEST),
                    PATH,
                    Some(DEST),
                    "Inhibit",
                    &("weft", "Focus", hints),
                )
                .await?;
            let cookie: u32 = reply.body().deserialize()?;
            Ok::<_, zbus::Error>((conn, cookie))
        })
        .map_err(|e| e.to_string())?;
        self.held = Some((conn, cookie));
        Ok(Some(cookie.to_string()))
    }

    fn restore(&mut self, _saved: &str) -> Result<(), String> {
        let Some((conn, cookie)) = self.held.take() else {
            return Ok(());
        };
        zbus::block_on(async {
            conn.call_method(Some(DEST), PATH, Some(DEST), "UnInhibit", &(cookie,))
                .await?;
            Ok::<_, zbus::Error>(())
        })
        .map_err(|e| e.to_string())
    }
}
