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
    match (shown.on, shown.foreign, shown.binary.as_deref()) {
        (false, true, _) => format!(
            "Weft does not start at login: {} was not written by Weft, so Weft leaves it alone.",
            shown.file
        ),
        // Weft's entry with an Exec line it cannot read (edited by hand).
        (true, _, None) => format!(
            "Weft's entry {} does not say which program it starts: run `weft autostart on` again.",
            shown.file
        ),
        // The entry names a binary that moved (a checkout deleted or moved).
        (true, _, Some(binary)) if !std::path::Path::new(binary).is_file() => format!(
            "Weft's entry {} starts {binary}, which is not there any more: run `weft autostart on` again.",
            shown.file
        ),
        (true, _, Some(binary)) => {
            format!("Weft starts at login: {binary} (entry {}).", shown.file)
        }
        (false, false, Some(binary)) => {
            format!("Weft does not start at login (`weft autostart on` would start {binary}).")
        }
        (false, false, None) => "Weft does not start at login, and `weft autostart on` finds no \
             weft-app to start: install the Weft package, or build it with `make build`."
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(on: bool, binary: Option<&str>) -> Autostart {
        Autostart {
            on,
            file: "/home/ana/.config/autostart/weft.desktop".into(),
            binary: binary.map(str::to_string),
            foreign: false,
        }
    }

    #[test]
    fn no_binary_known_reads_as_a_sentence() {
        assert_eq!(
            describe(&shown(false, None)),
            "Weft does not start at login, and `weft autostart on` finds no weft-app to start: \
             install the Weft package, or build it with `make build`."
        );
        assert_eq!(
            describe(&shown(true, None)),
            "Weft's entry /home/ana/.config/autostart/weft.desktop does not say which program \
             it starts: run `weft autostart on` again."
        );
        assert_eq!(
            describe(&shown(false, Some("/usr/bin/weft-app"))),
            "Weft does not start at login (`weft autostart on` would start /usr/bin/weft-app)."
        );
    }
}
