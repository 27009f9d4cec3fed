//! KDE Plasma: `org.freedesktop.Notifications.Inhibit`. The inhibition lasts while the
//! connection that asked for it is open, so the adapter keeps that connection until restore.

use super::{bounded, Desktop, Error};
use std::collections::HashMap;
use zbus::wire::Variant;

#[derive(Default)]
pub struct Kde {
    held: Option<(zbus::Connection, u32)>,
}

const DEST: &str = "org.freedesktop.Notifications";

impl Desktop for Kde {
    fn probe(&mut self) -> Result<Option<String>, Error> {
        // Whatever the user chose, Weft's own inhibition is added and removed on top of it.
        Ok(Some("inhibit".into()))
    }

    fn silence(&mut self) -> Result<(), Error> {
        let held = bounded(|| {
            zbus::block_on(async {
                let conn = zbus::Connection::session().await?;
                let hints: HashMap<&str, Variant<'_>> = HashMap::new();
                let reply = conn
                    .call_method(
                        Some(DEST),
                        super::owner::PATH,
                        Some(DEST),
                        "Inhibit",
                        &("weft", "Focus", hints),
                    )
                    .await?;
                let cookie: u32 = reply.body().deserialize()?;
                Ok::<_, zbus::Error>((conn, cookie))
            })
            .map_err(Error::from)
        })?;
        self.held = Some(held);
        Ok(())
    }

    fn restore(&mut self, _saved: &str) -> Result<(), Error> {
        let Some((conn, cookie)) = self.held.take() else {
            return Ok(());
        };
        bounded(move || {
            zbus::block_on(async {
                conn.call_method(
                    Some(DEST),
                    super::owner::PATH,
                    Some(DEST),
                    "UnInhibit",
                    &(cookie,),
                )
                .await?;
                Ok::<_, zbus::Error>(())
            })
            .map_err(Error::from)
        })
    }
}
