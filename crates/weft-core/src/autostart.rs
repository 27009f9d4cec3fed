//! Start at login: Weft's entry in the XDG autostart folder, and nothing else there.
//!
//! The entry is `$XDG_CONFIG_HOME/autostart/weft.desktop` (see [`Paths::autostart_file`]), a
//! desktop entry as the XDG autostart and desktop entry specifications define it, with the
//! key [`MARKER_KEY`]`=true` so Weft knows the file as its own. It is written atomically
//! (a temporary file renamed over it), mode 0644. Turning it off removes only a file with
//! the marker: a `weft.desktop` someone else wrote is reported ([`Error::AutostartForeign`])
//! and left alone.
//!
//! Which binary it starts is the caller's list of candidates, the first that is a file
//! ([`find_binary`]): the CLI passes the `weft-app` beside itself and the installed
//! `/usr/bin/weft-app`, the app its own executable and the installed one; a binary outside
//! `/usr` (a checkout's build) comes first, so a checkout's entry starts what it builds.

use crate::paths::{replace_with_mode, Paths};
use crate::{Error, Result};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use weft_proto::Autostart;

/// The entry's file name in the autostart folder.
pub const FILE_NAME: &str = "weft.desktop";

/// The key that marks an entry as Weft's own.
pub const MARKER_KEY: &str = "X-Weft-Autostart";

/// Where a package installs the app.
pub const INSTALLED: &str = "/usr/bin/weft-app";

/// The icon's name in the icon theme (the package installs it in hicolor).
const ICON: &str = "weft-app";

/// What is in the autostart folder under [`FILE_NAME`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Nothing: Weft does not start at login.
    Absent,
    /// Weft's own entry, starting this binary (as its `Exec` says).
    Ours { binary: Option<PathBuf> },
    /// A file Weft did not write.
    Foreign,
}

/// The first candidate that is a file: the binary an entry should start.
pub fn find_binary(candidates: &[PathBuf]) -> Option<PathBuf> {
    candidates
        .iter()
        .find(|path| path.is_absolute() && path.is_file())
        .cloned()
}

/// The candidates for the `weft` CLI at `cli` (its own executable, as
/// [`std::env::current_exe`] gives it): the `weft-app` built beside it first when that is not
/// under `/usr` (a checkout's `target/debug`: the entry starts what you build), then the
/// installed app; for an installed `weft`, the installed app first.
pub fn cli_candidates(cli: Option<&Path>) -> Vec<PathBuf> {
    ordered(cli.and_then(Path::parent).map(|dir| dir.join("weft-app")))
}

/// The candidates for the running app whose executable is `own`: itself first when that is
/// not under `/usr` (run from a checkout), then the installed app.
pub fn app_candidates(own: Option<&Path>) -> Vec<PathBuf> {
    ordered(own.map(Path::to_path_buf))
}

/// `built` before [`INSTALLED`] unless it is under `/usr`. A binary replaced while it runs
/// (rebuilt) reads as `PATH (deleted)` from `/proc/self/exe`: the new one is at `PATH`.
fn ordered(built: Option<PathBuf>) -> Vec<PathBuf> {
    let installed = PathBuf::from(INSTALLED);
    let Some(built) = built.map(|path| without_deleted(&path)) else {
        return vec![installed];
    };
    if built.starts_with("/usr") {
        vec![installed, built]
    } else {
        vec![built, installed]
    }
}

/// `path` without the ` (deleted)` the kernel appends to the link of an executable whose file
/// was removed or replaced.
fn without_deleted(path: &Path) -> PathBuf {
    match path.to_str().and_then(|p| p.strip_suffix(" (deleted)")) {
        Some(stripped) => PathBuf::from(stripped),
        None => path.to_path_buf(),
    }
}

/// The entry's text for `binary`. [`Error::Invalid`] for a path a desktop entry cannot hold
/// (not absolute, not UTF-8, or with a control character).
pub fn desktop_entry(binary: &Path) -> Result<String> {
    let exec = exec_value(binary)?;
    Ok(format!(
        "[Desktop Entry]\n\
         Type=Application\n\
         Version=1.4\n\
         Name=Weft\n\
         Comment=Switch between focus and coordination\n\
         Exec={exec}\n\
         Icon={ICON}\n\
         Terminal=false\n\
         X-GNOME-Autostart-enabled=true\n\
         {MARKER_KEY}=true\n"
    ))
}

/// Reads what is at `file`.
pub fn read(file: &Path) -> Result<Entry> {
    let text = match std::fs::read(file) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Entry::Absent),
        Err(e) => return Err(Error::io(file, e)),
    };
    let keys = main_group(&text);
    let ours = keys
        .iter()
        .any(|(key, value)| *key == MARKER_KEY && *value == "true");
    if !ours {
        return Ok(Entry::Foreign);
    }
    let binary = keys
        .iter()
        .find(|(key, _)| *key == "Exec")
        .and_then(|(_, value)| first_argument(value))
        .map(PathBuf::from);
    Ok(Entry::Ours { binary })
}

/// Whether Weft starts at login, and which binary it starts (or would start: the first of
/// `candidates` that is a file).
pub fn status(paths: &Paths, candidates: &[PathBuf]) -> Result<Autostart> {
    let file = paths.autostart_file();
    let (on, binary, foreign) = match read(&file)? {
        Entry::Absent => (false, find_binary(candidates), false),
        Entry::Ours { binary } => (true, binary, false),
        Entry::Foreign => (false, find_binary(candidates), true),
    };
    Ok(Autostart {
        on,
        file: file.display().to_string(),
        binary: binary.map(|b| b.display().to_string()),
        foreign,
    })
}

/// Turns start at login on: writes Weft's entry for the first of `candidates` that is a file,
/// replacing an older entry of Weft's (say, for a binary that moved).
///
/// # Errors
/// [`Error::AutostartForeign`] when a `weft.desktop` Weft did not write is there (it is left
/// alone); [`Error::NoAppBinary`] when no candidate is a file; [`Error::AutostartUnwritable`]
/// when the folder cannot be made or written.
pub fn enable(paths: &Paths, candidates: &[PathBuf]) -> Result<Autostart> {
    let file = paths.autostart_file();
    if read(&file)? == Entry::Foreign {
        return Err(Error::AutostartForeign { path: file });
    }
    let binary = find_binary(candidates).ok_or_else(|| Error::NoAppBinary {
        tried: candidates.to_vec(),
    })?;
    let text = desktop_entry(&binary)?;
    let dir = file.parent().unwrap_or(&file).to_path_buf();
    let unwritable = |cause| Error::AutostartUnwritable {
        dir: dir.clone(),
        cause,
    };
    // Folders it makes (the autostart folder, `$XDG_CONFIG_HOME` itself on a new account)
    // get mode 0700, as the XDG base directory specification asks.
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(unwritable)?;
    replace_with_mode(&file, text.as_bytes(), 0o644).map_err(|e| match e {
        Error::Io { cause, .. } => unwritable(cause),
        other => other,
    })?;
    status(paths, candidates)
}

/// Turns start at login off: removes Weft's own entry; nothing to do when there is none.
///
/// # Errors
/// [`Error::AutostartForeign`] when the `weft.desktop` there is not Weft's (it is left
/// alone); [`Error::AutostartUnwritable`] when it cannot be removed.
pub fn disable(paths: &Paths, candidates: &[PathBuf]) -> Result<Autostart> {
    let file = paths.autostart_file();
    match read(&file)? {
        Entry::Absent => {}
        Entry::Foreign => return Err(Error::AutostartForeign { path: file }),
        Entry::Ours { .. } => match std::fs::remove_file(&file) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(cause) => {
                return Err(Error::AutostartUnwritable {
                    dir: file.parent().unwrap_or(&file).to_path_buf(),
                    cause,
                })
            }
        },
    }
    status(paths, candidates)
}

/// Sets start at login as asked (`Some(true)` on, `Some(false)` off) or only reads it
/// (`None`): what [`weft_proto::Request::Autostart`] does.
pub fn apply(paths: &Paths, on: Option<bool>, candidates: &[PathBuf]) -> Result<Autostart> {
    match on {
        None => status(paths, candidates),
        Some(true) => enable(paths, candidates),
        Some(false) => disable(paths, candidates),
    }
}

/// The `Exec` value that starts `binary`: the path as one argument, quoted as the desktop
/// entry specification says (double quotes; `"`, `` ` ``, `$` and `\` escaped with a
/// backslash; `%` doubled), then escaped as a string value (`\` doubled again).
fn exec_value(binary: &Path) -> Result<String> {
    let text = binary
        .to_str()
        .filter(|t| binary.is_absolute() && !t.chars().any(char::is_control))
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{} cannot be started from a desktop entry: it must be an absolute UTF-8 path without control characters",
                binary.display()
            ))
        })?;
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '`' | '$' | '\\' => {
                quoted.push('\\');
                quoted.push(c);
            }
            '%' => quoted.push_str("%%"),
            _ => quoted.push(c),
        }
    }
    quoted.push('"');
    Ok(quoted.replace('\\', "\\\\"))
}

/// The first argument of an `Exec` value, as [`exec_value`] wrote it or unquoted.
fn first_argument(value: &str) -> Option<String> {
    // The string-value escapes first (`\\` is one backslash, `\s` a space), then the quoting.
    let mut unescaped = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('\\') => unescaped.push('\\'),
                Some('s') => unescaped.push(' '),
                Some('t') => unescaped.push('\t'),
                Some('n') => unescaped.push('\n'),
                Some('r') => unescaped.push('\r'),
                Some(other) => {
                    unescaped.push('\\');
                    unescaped.push(other);
                }
                None => unescaped.push('\\'),
            },
            (c, false) => unescaped.push(c),
        }
    }
    let mut argument = String::new();
    let mut chars = unescaped.trim_start().chars();
    match chars.next()? {
        '"' => {
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => argument.extend(chars.next()),
                    '%' => argument.extend(chars.next().filter(|n| *n == '%')),
                    c => argument.push(c),
                }
            }
        }
        first => {
            argument.push(first);
            argument.extend(chars.take_while(|c| *c != ' '));
            argument = argument.replace("%%", "%");
        }
    }
    (!argument.is_empty()).then_some(argument)
}

/// The `key=value` lines of the `[Desktop Entry]` group (comments and other groups skipped).
fn main_group(text: &str) -> Vec<(&str, &str)> {
    let mut in_main = false;
    let mut keys = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_main = line == "[Desktop Entry]";
        } else if in_main && !line.starts_with('#') {
            if let Some((key, value)) = line.split_once('=') {
                keys.push((key.trim(), value.trim()));
            }
        }
    }
    keys
}

#[cfg(test)]
mod tests;
