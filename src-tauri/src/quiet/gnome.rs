//! GNOME Shell: the `show-banners` key of `org.gnome.desktop.notifications`, through the
//! `gsettings` tool that every GNOME desktop has.

use super::{bounded, Desktop, Error};
use std::process::Command;

pub struct Gnome;

const SCHEMA: &str = "org.gnome.desktop.notifications";
const KEY: &str = "show-banners";

fn gsettings(args: &'static [&'static str]) -> Result<String, Error> {
    bounded(move || {
        let output = Command::new("gsettings")
            .args(args)
            .output()
            .map_err(|source| Error::Spawn {
                program: "gsettings",
                source,
            })?;
        if !output.status.success() {
            return Err(Error::Refused {
                command: format!("gsettings {}", args.join(" ")),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
            });
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    })
}

impl Desktop for Gnome {
    fn probe(&mut self) -> Result<Option<String>, Error> {
        let now = gsettings(&["get", SCHEMA, KEY])?;
        Ok((now != "false").then_some(now))
    }

    fn silence(&mut self) -> Result<(), Error> {
        gsettings(&["set", SCHEMA, KEY, "false"]).map(drop)
    }

    fn restore(&mut self, saved: &str) -> Result<(), Error> {
        if saved == "false" {
            gsettings(&["set", SCHEMA, KEY, "false"]).map(drop)
        } else {
            gsettings(&["set", SCHEMA, KEY, "true"]).map(drop)
        }
    }
}
