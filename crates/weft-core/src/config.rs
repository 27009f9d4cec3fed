//! `$XDG_CONFIG_HOME/weft/config.toml`. Loading never fails: every problem becomes a sentence
//! in [`Loaded::problems`] and the default is used for that setting, so a typo never keeps
//! Weft from starting.
//!
//! A syntax error costs only the setting it is in: when the file as a whole is not valid TOML,
//! it is read again one entry at a time ([`entries`]), every entry that parses is used, and
//! each one that does not is reported with its line number. So `hotkey = "off"` stays off
//! when another line is broken.

mod desktop;

pub use desktop::{Apps, Capture, Replay};

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
    /// How much of other apps' notifications Weft keeps (`off`: it does not watch them).
    pub desktop_capture: Capture,
    /// What happens to other apps' notifications the desktop held back during focus.
    pub desktop_replay: Replay,
    /// Apps that always break through focus, and apps that are ignored.
    pub apps: Apps,
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
            desktop_capture: Capture::default(),
            desktop_replay: Replay::default(),
            apps: Apps::default(),
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
    match text.parse::<toml::Table>() {
        Ok(table) => {
            for (key, value) in &table {
                apply(key, value, origin, &mut loaded);
            }
        }
        Err(_) => parse_leniently(text, origin, &mut loaded),
    }
    loaded
}

/// The file is not valid TOML as a whole: each entry is parsed on its own, the good ones are
/// used and each broken one is reported once, with its line.
fn parse_leniently(text: &str, origin: &str, loaded: &mut Loaded) {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for entry in entries(text) {
        match entry.parsed {
            Ok(table) => {
                for (key, value) in &table {
                    if let Some((_, first)) = seen.iter().find(|(k, _)| k == key) {
                        loaded.problems.push(format!(
                            "{origin}: line {}: `{key}` is set again (first on line {first}); the first is used",
                            entry.line
                        ));
                        continue;
                    }
                    seen.push((key.clone(), entry.line));
                    apply(key, value, origin, loaded);
                }
            }
            Err(e) => {
                let line = entry.line + e.line_offset;
                loaded.problems.push(format!(
                    "{origin}: line {line} is not valid TOML ({}); the other settings are used",
                    e.message
                ));
            }
        }
    }
}

/// One entry of a config file read piece by piece: a `key = value` (with the lines a
/// multi-line value continues on), a table with its keys, or a run of lines that are neither.
struct Entry {
    /// The entry's first line, counting from 1.
    line: usize,
    parsed: Result<toml::Table, Broken>,
}

/// Why an entry is not TOML, and on which of its lines (0 = its first).
struct Broken {
    line_offset: usize,
    message: String,
}

/// The longest an entry may be, in lines, before it is given up as broken (keeps a huge file
/// of garbage from costing quadratic time).
const MAX_ENTRY_LINES: usize = 200;

/// Splits `text` into [`Entry`]s. An entry starts at a line that begins a `key =` or a
/// `[table]`. A key's entry is the shortest run of lines from there that parses (a
/// multi-line array or string continues past its first line); if none does before the next
/// entry starts, the whole run is one broken entry. A table takes every line up to the next
/// table, as its keys belong to it.
fn entries(text: &str) -> Vec<Entry> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let starts = |i: usize| lines.get(i).is_some_and(|l| starts_entry(l));
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        // A table header that is itself broken (`[oops`) is a broken line, not a table.
        let is_table = is_header(lines[i]);
        let mut end = i + 1;
        while end < lines.len()
            && !(if is_table {
                is_header(lines[end])
            } else {
                starts(end)
            })
        {
            end += 1;
        }
        let piece = |to: usize| lines[i..to].concat();
        let parse = |to: usize| piece(to).parse::<toml::Table>();
        let shortest = if starts(i) && !is_table {
            (i + 1..=end.min(i + MAX_ENTRY_LINES)).find(|&to| parse(to).is_ok())
        } else {
            None
        };
        match shortest {
            Some(to) => {
                found.push(Entry {
                    line: i + 1,
                    parsed: parse(to).map_err(|e| broken(&piece(to), &e)),
                });
                i = to;
            }
            None => {
                found.push(Entry {
                    line: i + 1,
                    parsed: parse(end).map_err(|e| broken(&piece(end), &e)),
                });
                i = end;
            }
        }
    }
    found
}

fn broken(text: &str, e: &toml::de::Error) -> Broken {
    // An error found at the end of the text (an unclosed array) is told at the last line
    // that has something on it.
    let last = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, _)| i)
        .last()
        .unwrap_or(0);
    let line_offset = e
        .span()
        .and_then(|span| text.get(..span.start))
        .map(|before| before.matches('\n').count())
        .unwrap_or(0)
        .min(last);
    // toml says "invalid array\nexpected `]`": one line, for the tray menu.
    let message = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(": ");
    Broken {
        line_offset,
        message,
    }
}

/// A well-formed `[table]` or `[[array]]` header line.
fn is_header(line: &str) -> bool {
    line.trim_start().starts_with('[') && line.parse::<toml::Table>().is_ok()
}

/// Whether a line begins an entry: `[table]`, or a key (bare, quoted or dotted) and `=`.
fn starts_entry(line: &str) -> bool {
    let line = line.trim_start();
    if line.starts_with('[') {
        return true;
    }
    let mut rest = line;
    loop {
        rest = rest.trim_start();
        let key_len = match rest.chars().next() {
            Some(q @ ('"' | '\'')) => match rest[1..].find(q) {
                Some(close) => close + 2,
                None => return false,
            },
            _ => rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                .unwrap_or(rest.len()),
        };
        if key_len == 0 {
            return false;
        }
        rest = rest[key_len..].trim_start();
        match rest.strip_prefix('.') {
            Some(after) => rest = after,
            None => return rest.starts_with('='),
        }
    }
}

/// Uses one top-level setting, or says why it cannot.
fn apply(key: &str, value: &toml::Value, origin: &str, loaded: &mut Loaded) {
    match key {
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
        "desktop_capture" => desktop::capture(value, origin, loaded),
        "desktop_replay" => desktop::replay(value, origin, loaded),
        "apps" => desktop::apps(value, origin, loaded),
        other => loaded
            .problems
            .push(format!("{origin}: unknown setting `{other}` is ignored")),
    }
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

    /// Every setting but the default, each on its own line(s), the array over several lines.
    const ALL_SET: [&str; 5] = [
        "hotkey = \"off\"\n",
        "quiet_desktop = false\n",
        "release_at = [\n  \"12:00\",\n  \"16:00\",\n]\n",
        "planned_end = \"remind\"\n",
        "end_of_day = \"off\"\n",
    ];

    fn all_set() -> Config {
        Config {
            hotkey: Hotkey::Off,
            release_at: ["12:00", "16:00"]
                .iter()
                .filter_map(|t| chrono::NaiveTime::parse_from_str(t, "%H:%M").ok())
                .collect(),
            quiet_desktop: false,
            planned_end: PlannedEnd::Remind,
            end_of_day: None,
            ..Config::default()
        }
    }

    #[test]
    fn a_syntax_error_anywhere_keeps_every_other_setting() {
        assert_eq!(parse(&ALL_SET.concat(), "config.toml").config, all_set());
        let broken_lines = [
            "this is not toml\n",
            "quiet_desktop = \n",
            "oops = \"unterminated\n",
            "= 5\n",
            "[broken\n",
        ];
        for broken in broken_lines {
            for at in 0..=ALL_SET.len() {
                let mut parts: Vec<&str> = ALL_SET.to_vec();
                parts.insert(at, broken);
                let text = parts.concat();
                let loaded = parse(&text, "config.toml");
                let line = parts[..at].concat().matches('\n').count() + 1;
                assert_eq!(loaded.config, all_set(), "{text}\n{:?}", loaded.problems);
                let said = |needle: &str| loaded.problems.iter().any(|p| p.contains(needle));
                assert!(
                    said(&format!("config.toml: line {line} is not valid TOML")),
                    "{text}\n{:?}",
                    loaded.problems
                );
                assert_eq!(loaded.problems.len(), 1, "{text}\n{:?}", loaded.problems);
            }
        }
    }

    #[test]
    fn a_broken_multi_line_value_is_reported_at_its_line() {
        let text = "hotkey = \"off\"\nrelease_at = [\n  \"12:00\"\n  \"16:00\"\n]\nquiet_desktop = false\n";
        let loaded = parse(text, "config.toml");
        assert_eq!(loaded.config.hotkey, Hotkey::Off);
        assert!(!loaded.config.quiet_desktop);
        assert!(loaded.config.release_at.is_empty());
        assert_eq!(loaded.problems.len(), 1, "{:?}", loaded.problems);
        // The missing comma is found where the second time starts.
        assert!(
            loaded.problems[0].starts_with("config.toml: line 4 is not valid TOML"),
            "{:?}",
            loaded.problems
        );
    }

    #[test]
    fn a_table_in_a_broken_file_is_an_unknown_setting_with_its_keys() {
        let text = "hotkey = \"off\"\nbroken\n[colours]\nfocus = \"red\"\n";
        let loaded = parse(text, "config.toml");
        assert_eq!(loaded.config.hotkey, Hotkey::Off);
        assert!(loaded.config.quiet_desktop);
        let said = |needle: &str| loaded.problems.iter().any(|p| p.contains(needle));
        assert!(said("line 2 is not valid TOML"), "{:?}", loaded.problems);
        assert!(said("unknown setting `colours`"), "{:?}", loaded.problems);
        assert_eq!(loaded.problems.len(), 2, "{:?}", loaded.problems);
    }

    #[test]
    fn a_report_is_one_line_at_the_line_with_the_fault() {
        let loaded = parse(
            "hotkey = \"off\"\nrelease_at = [\"12:00\",\n\n",
            "config.toml",
        );
        assert_eq!(loaded.config.hotkey, Hotkey::Off);
        assert_eq!(
            loaded.problems,
            ["config.toml: line 2 is not valid TOML (invalid array: expected `]`); the other settings are used"]
        );
    }

    #[test]
    fn a_key_set_twice_in_a_broken_file_keeps_the_first() {
        let text = "hotkey = \"off\"\nbroken line\nhotkey = \"Ctrl+Alt+G\"\n";
        let loaded = parse(text, "config.toml");
        assert_eq!(loaded.config.hotkey, Hotkey::Off);
        assert!(
            loaded
                .problems
                .iter()
                .any(|p| p.contains("line 3: `hotkey` is set again (first on line 1)")),
            "{:?}",
            loaded.problems
        );
    }

    #[test]
    fn entries_start_at_keys_and_tables() {
        for line in [
            "hotkey = 1",
            "  quiet_desktop=true",
            "\"quoted key\" = 1",
            "a.b = 1",
            "'single' . c = 2",
            "[table]",
        ] {
            assert!(starts_entry(line), "{line}");
        }
        for line in [
            "",
            "# hotkey = 1",
            "  \"12:00\",",
            "]",
            "just words",
            "\"open = 1",
        ] {
            assert!(!starts_entry(line), "{line}");
        }
    }
}
