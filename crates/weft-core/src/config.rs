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
    /// Local times at which held notifications go out as a digest even during focus.
    pub release_at: Vec<chrono::NaiveTime>,
    /// Silence other apps' popups during focus (dunst, GNOME, KDE).
    pub quiet_desktop: bool,
    /// What happens when a planned focus block ends.
    pub planned_end: PlannedEnd,
    /// The local time of the end-of-day notice; `None` when it is off.
    pub end_of_day: Option<chrono::NaiveTime>,
}

/// What happens when a planned focus block (`weft focus --for 50m`) ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlannedEnd {
    /// Weft switches to coordination (source `timer`).
    Switch,
    /// Weft only reminds; focus goes on until you switch.
    Remind,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            hotkey: default_hotkey(),
            release_at: Vec::new(),
            quiet_desktop: true,
            planned_end: PlannedEnd::Switch,
            end_of_day: chrono::NaiveTime::from_hms_opt(17, 30, 0),
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
            "release_at" => match release_times(value) {
                Ok(times) => loaded.config.release_at = times,
                Err(reason) => loaded.problems.push(format!(
                    "{origin}: release_at {reason}; no release times are used"
                )),
            },
            "quiet_desktop" => match value.as_bool() {
                Some(on) => loaded.config.quiet_desktop = on,
                None => loaded.problems.push(format!(
                    "{origin}: quiet_desktop must be true or false; using true"
                )),
            },
            "end_of_day" => match value.as_str().map(str::trim) {
                Some(off) if off.eq_ignore_ascii_case("off") => loaded.config.end_of_day = None,
                Some(text) => match chrono::NaiveTime::parse_from_str(text, "%H:%M") {
                    Ok(time) => loaded.config.end_of_day = Some(time),
                    Err(_) => loaded.problems.push(format!(
                        "{origin}: end_of_day must be a time such as \"17:30\" or \"off\", not {text:?}; using 17:30"
                    )),
                },
                None => loaded.problems.push(format!(
                    "{origin}: end_of_day must be a time such as \"17:30\" or \"off\"; using 17:30"
                )),
            },
            "planned_end" => match value.as_str() {
                Some("switch") => loaded.config.planned_end = PlannedEnd::Switch,
                Some("remind") => loaded.config.planned_end = PlannedEnd::Remind,
                _ => loaded.problems.push(format!(
                    "{origin}: planned_end must be \"switch\" or \"remind\"; using \"switch\""
                )),
            },
            other => loaded
                .problems
                .push(format!("{origin}: unknown setting `{other}` is ignored")),
        }
    }
    loaded
}

/// `["12:00", "16:30"]`: a list of local times of day, sorted, without repeats.
fn release_times(value: &toml::Value) -> Result<Vec<chrono::NaiveTime>, String> {
    let list = value
        .as_array()
        .ok_or("must be a list of times such as [\"12:00\", \"16:00\"]")?;
    let mut times = list
        .iter()
        .map(|item| {
            let text = item.as_str().ok_or("must hold times as strings")?;
            chrono::NaiveTime::parse_from_str(text.trim(), "%H:%M")
                .map_err(|_| format!("has {text:?}, which is not a time such as \"12:00\""))
        })
        .collect::<Result<Vec<_>, String>>()?;
    times.sort();
    times.dedup();
    Ok(times)
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
    fn release_times_and_quiet_desktop() {
        let loaded = parse(
            "release_at = [\"16:00\", \"12:00\", \"12:00\"]\nquiet_desktop = false",
            "c",
        );
        assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
        let times: Vec<String> = loaded
            .config
            .release_at
            .iter()
            .map(|t| t.format("%H:%M").to_string())
            .collect();
        assert_eq!(times, ["12:00", "16:00"]);
        assert!(!loaded.config.quiet_desktop);
        assert!(Config::default().quiet_desktop);
        assert_eq!(
            parse("planned_end = \"remind\"", "c").config.planned_end,
            PlannedEnd::Remind
        );
        assert!(!parse("planned_end = \"explode\"", "c").problems.is_empty());
        assert_eq!(parse("end_of_day = \"off\"", "c").config.end_of_day, None);
        assert_eq!(
            parse("end_of_day = \"18:15\"", "c").config.end_of_day,
            chrono::NaiveTime::from_hms_opt(18, 15, 0)
        );
        assert!(!parse("end_of_day = \"6pm\"", "c").problems.is_empty());

        let bad = parse(
            "release_at = [\"noon\"]\nquiet_desktop = \"yes\"",
            "config.toml",
        );
        assert_eq!(bad.config, Config::default());
        let said = |text: &str| bad.problems.iter().any(|p| p.contains(text));
        assert!(said("\"noon\", which is not a time"), "{:?}", bad.problems);
        assert!(
            said("quiet_desktop must be true or false"),
            "{:?}",
            bad.problems
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
