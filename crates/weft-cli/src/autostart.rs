//! `weft autostart on|off|status`: start Weft at login, through `weft_core::autostart`. It
//! works without the app: the entry starts the installed `/usr/bin/weft-app`, else the
//! `weft-app` beside this `weft`; when neither is there, the running app is asked, and it
//! names its own executable.

use crate::call;
use std::io::Write;
use std::process::ExitCode;
use weft_core::autostart;
use weft_core::paths::Paths;
use weft_proto::{Autostart, Request, Response};

/// What to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Action {
    On,
    Off,
    Status,
}

pub fn run(
    paths: &Paths,
    out: &mut dyn Write,
    action: Action,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let on = match action {
        Action::On => Some(true),
        Action::Off => Some(false),
        Action::Status => None,
    };
    let own = std::env::current_exe().ok();
    let candidates = autostart::cli_candidates(own.as_deref());
    let shown = match autostart::apply(paths, on, &candidates) {
        Ok(shown) => shown,
        // No weft-app beside this weft (say, `cargo install`ed alone): the running app knows
        // where it is.
        Err(missing @ weft_core::Error::NoAppBinary { .. }) => {
            match call(paths, &Request::Autostart { on }) {
                Ok(Response::Autostart(shown)) => shown,
                Ok(Response::Error(e)) => anyhow::bail!("{}", e.message),
                _ => return Err(missing.into()),
            }
        }
        Err(e) => return Err(e.into()),
    };
    if json {
        writeln!(out, "{}", serde_json::to_string(&shown)?)?;
    } else {
        writeln!(out, "{}", describe(&shown))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// "Weft starts at login: /usr/bin/weft-app (entry ~/.config/autostart/weft.desktop)."
fn describe(shown: &Autostart) -> String {
    let binary = shown.binary.as_deref().unwrap_or("no weft-app found");
    match (shown.on, shown.foreign) {
        // The entry names a binary that moved (a checkout deleted or moved).
        (true, _) if !std::path::Path::new(binary).is_file() => format!(
            "Weft's entry {} starts {binary}, which is not there any more: run `weft autostart on` again.",
            shown.file
        ),
        (true, _) => format!("Weft starts at login: {binary} (entry {}).", shown.file),
        (false, false) => {
            format!("Weft does not start at login (`weft autostart on` would start {binary}).")
        }
        (false, true) => format!(
            "Weft does not start at login: {} was not written by Weft, so Weft leaves it alone.",
            shown.file
        ),
    }
}
