//! GNOME Shell: the `show-banners` key of `org.gnome.desktop.notifications`, through the
//! `gsettings` tool that every GNOME desktop has.

use super::Desktop;
use std::process::Command;

pub struct Gnome;

const SCHEMA: &str = "org.gnome.desktop.notifications";
const KEY: &str = "show-banners";

fn gsettings(args: &[&str]) -> Result<String, String> {
    let output = Command::new("gsettings")
        .args(args)
        .output()
        .map_err(|e| format!("cannot run gsettings: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "gsettings {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

impl Desktop for Gnome {
    fn silence(&mut self) -> Result<Option<String>, String> {
        let before = gsettings(&["get", SCHEMA, KEY])?;
        if before == "false" {
            return Ok(None);
        }
        gsettings(&["set", SCHEMA, KEY, "false"])?;
        Ok(Some(before))
    }

    fn restore(&mut self, saved: &str) -> Result<(), String> {
        let value = if saved == "false" { "false" } else { "true" };
        gsettings(&["set", SCHEMA, KEY, value]).map(drop)
    }
}
