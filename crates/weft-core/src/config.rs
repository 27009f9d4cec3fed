//! `$XDG_CONFIG_HOME/weft/config.toml`. Loading never fails: every problem becomes a sentence
//! in [`Loaded::problems`] and the default is used for that setting, so a typo never keeps
//! Weft from starting.

use crate::hotkey::Combo;
use std::path::Path;

/// The hotkey used when the config names none, or names one that cannot be used.
pub const DEFAULT_HOTKEY: &str = "Ctrl+Alt+F";

/// The global hotkey setting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hotkey {
    /// `hotkey = "off"`: no global hotkey is registered.
    Off,
    /// A key combination such as `"Ctrl+Alt+F"`.
    Keys(Combo),
}

/// Weft's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub hotkey: Hotkey,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            hotkey: default_hotkey(),
        }
    }
}

fn default_hotkey() -> Hotkey {
    match DEFAULT_HOTKEY.parse() {
        Ok(combo) => Hotkey::Keys(combo),
        // Unreachable: the unit tests parse DEFAULT_HOTKEY.
        Err(_) => Hotkey::Off,
    }
}

/// A loaded config and what was wrong with the file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Loaded {
    pub config: Config,
    /// One sentence per problem, naming the file and the setting.
    pub problems: Vec<String>,
}

/// Reads the config file. A missing file means all defaults. Problems name the file by its
/// name alone (they are shown in the tray menu); the caller logs the full path.
pub fn load(path: &Path) -> Loaded {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string());
            parse(&text, &name)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Loaded::default(),
        Err(e) => Loaded {
            config: Config::default(),
            problems: vec![format!(
                "{}: cannot be read ({e}); using the defaults",
                path.display()
            )],
        },
    }
}

/// Parses config text; `origin` names the file in messages.
pub fn parse(text: &str, origin: &str) -> Loaded {
    let mut loaded = Loaded::default();
    let table: toml::Table = match text.parse() {
        Ok(table) => table,
        Err(e) => {
            let detail = e.message().to_owned();
            let line = e
                .span()
                .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
            let at = line.map(|l| format!(" (line {l})")).unwrap_or_default();
            loaded.problems.push(format!(
                "{origin}: not valid TOML{at}: {detail}; using the defaults"
            ));
            return loaded;
        }
    };
    for (key, value) in &table {
        match key.as_str() {
            "hotkey" => match value.as_str().map(str::trim) {
                Some(keys) if keys.eq_ignore_ascii_case("off") => {
                    loaded.config.hotkey = Hotkey::Off
                }
                Some("") | None => loaded.problems.push(format!(
                    "{origin}: hotkey must be a key combination such as \"{DEFAULT_HOTKEY}\" or \"off\" (a string), not a value of type {}; using {DEFAULT_HOTKEY}", value.type_str()
                )),
                Some(keys) => match keys.parse::<Combo>() {
                    Ok(combo) => loaded.config.hotkey = Hotkey::Keys(combo),
                    Err(reason) => loaded.problems.push(format!(
                        "{origin}: the hotkey \"{keys}\" is not a key combination ({reason}); using {DEFAULT_HOTKEY}"
                    )),
                },
            },
            other => loaded
                .problems
                .push(format!("{origin}: unknown setting `{other}` is ignored")),
        }
    }
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_when_empty_or_missing() {
        assert_eq!(parse("", "c"), Loaded::default());
        assert_eq!(
            load(Path::new("/nonexistent/weft/config.toml")),
            Loaded::default()
        );
    }

    #[test]
    fn hotkey_values() {
        assert_eq!(parse("hotkey = \"off\"", "c").config.hotkey, Hotkey::Off);
        assert_eq!(parse("hotkey = \"OFF\"", "c").config.hotkey, Hotkey::Off);
        assert_eq!(
            parse("hotkey = \"Super+Shift+D\"", "c").config.hotkey,
            Hotkey::Keys("Shift+Super+D".parse().unwrap())
        );
        assert_eq!(
            Config::default().hotkey,
            Hotkey::Keys("Ctrl+Alt+F".parse().unwrap())
        );
    }

    #[test]
    fn bad_values_are_reported_and_defaulted() {
        let wrong_type = parse("hotkey = 42", "config.toml");
        assert_eq!(wrong_type.config, Config::default());
        assert_eq!(wrong_type.problems.len(), 1);
        assert!(
            wrong_type.problems[0].contains("hotkey must be"),
            "{:?}",
            wrong_type.problems
        );

        let broken = parse("hotkey = \"Ctrl+Alt+F\"\nthis is not toml", "config.toml");
        assert_eq!(broken.config, Config::default());
        assert!(
            broken.problems[0].contains("line 2"),
            "{:?}",
            broken.problems
        );

        let banana = parse("hotkey = \"Ctrl+Banana\"", "config.toml");
        assert_eq!(banana.config, Config::default());
        assert!(
            banana.problems[0]
                .contains("the hotkey \"Ctrl+Banana\" is not a key combination (unknown key"),
            "{:?}",
            banana.problems
        );

        let unknown = parse("hotkee = \"x\"", "config.toml");
        assert!(unknown.problems[0].contains("unknown setting `hotkee`"));
    }
}
