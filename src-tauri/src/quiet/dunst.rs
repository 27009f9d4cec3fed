//! dunst: the `paused` property of `org.dunstproject.cmd0`. While paused, dunst keeps new
//! notifications and shows them on resume. A dunst the user paused is left paused.

use super::{bounded, Desktop, Error};
use zbus::wire::{OwnedVariant, Variant};

pub struct Dunst;

const DEST: &str = "org.freedesktop.Notifications";
const IFACE: &str = "org.dunstproject.cmd0";

fn paused() -> Result<bool, Error> {
    bounded(|| {
        zbus::block_on(async {
            let conn = zbus::Connection::session().await?;
            let reply = conn
                .call_method(
                    Some(DEST),
                    super::owner::PATH,
                    Some("org.freedesktop.DBus.Properties"),
                    "Get",
                    &(IFACE, "paused"),
                )
                .await?;
            let value: OwnedVariant = reply.body().deserialize()?;
            bool::try_from(value)
        })
        .map_err(Error::from)
    })
}

fn set_paused(paused: bool) -> Result<(), Error> {
    bounded(move || {
        zbus::block_on(async {
            let conn = zbus::Connection::session().await?;
            conn.call_method(
                Some(DEST),
                super::owner::PATH,
                Some("org.freedesktop.DBus.Properties"),
                "Set",
                &(IFACE, "paused", Variant::from(paused)),
            )
            .await?;
            Ok::<_, zbus::Error>(())
        })
        .map_err(Error::from)
    })
}

impl Desktop for Dunst {
    fn probe(&mut self) -> Result<Option<String>, Error> {
        Ok((!paused()?).then(|| "paused-by-weft".to_owned()))
    }

    fn silence(&mut self) -> Result<(), Error> {
        set_paused(true)
    }

    fn restore(&mut self, _saved: &str) -> Result<(), Error> {
        set_paused(false)
    }
}
