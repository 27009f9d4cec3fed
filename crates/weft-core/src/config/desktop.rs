//! The settings for other apps' notifications (issue 11): whether Weft watches them
//! (`desktop_capture`), what the desktop replays after focus (`desktop_replay`), and the apps
//! that always break through or are ignored (`[apps]`). Each is read leniently, like every
//! other key: a wrong value is reported and its default used.

use super::Loaded;
use crate::hold::AppRule;

/// `desktop_capture`: how much of other apps' notifications Weft keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Capture {
    /// Title, body, app and time (the default).
    #[default]
    Full,
    /// Only the app's name and the time: no title, no body.
    Count,
    /// Weft does not watch other apps' notifications at all (no monitor is opened).
    Off,
}

/// `desktop_replay`: what happens to the notifications the desktop held back during focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Replay {
    /// Weft closes them on the server before the desktop's setting is given back, so the
    /// desktop does not replay them; its one digest names them instead (the default).
    #[default]
    Digest,
    /// The desktop replays them as it would without Weft; the digest only counts them.
    Desktop,
}

/// `[apps]`: apps named by their notifications' app name, matched case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Apps {
    /// `always = ["PagerDuty"]`: these break through focus.
    pub always: Vec<String>,
    /// `ignore = ["Spotify"]`: these are not filed, not counted.
    pub ignore: Vec<String>,
}

impl Apps {
    /// What the lists say about `app` (`always` wins over `ignore`).
    pub fn rule(&self, app: &str) -> AppRule {
        let key = app.trim().to_lowercase();
        let named = |list: &[String]| list.iter().any(|a| a.to_lowercase() == key);
        if named(&self.always) {
            AppRule::Always
        } else if named(&self.ignore) {
            AppRule::Ignore
        } else {
            AppRule::Policy
        }
    }
}

/// Uses `desktop_capture`, or says why it cannot.
pub(super) fn capture(value: &toml::Value, origin: &str, loaded: &mut Loaded) {
    match value.as_str() {
        Some("full") => loaded.config.desktop_capture = Capture::Full,
        Some("count") => loaded.config.desktop_capture = Capture::Count,
        Some("off") => loaded.config.desktop_capture = Capture::Off,
        _ => loaded.problems.push(format!(
            "{origin}: desktop_capture must be \"full\", \"count\" or \"off\"; using \"full\""
        )),
    }
}

/// Uses `desktop_replay`, or says why it cannot.
pub(super) fn replay(value: &toml::Value, origin: &str, loaded: &mut Loaded) {
    match value.as_str() {
        Some("digest") => loaded.config.desktop_replay = Replay::Digest,
        Some("desktop") => loaded.config.desktop_replay = Replay::Desktop,
        _ => loaded.problems.push(format!(
            "{origin}: desktop_replay must be \"digest\" or \"desktop\"; using \"digest\""
        )),
    }
}

/// Uses the `[apps]` table: each list that is one is used, each that is not is reported and
/// left empty.
pub(super) fn apps(value: &toml::Value, origin: &str, loaded: &mut Loaded) {
    let Some(table) = value.as_table() else {
        loaded.problems.push(format!(
            "{origin}: apps must be a table ([apps] with always = [...] and ignore = [...]); no apps are named"
        ));
        return;
    };
    for (key, value) in table {
        let list = match key.as_str() {
            "always" => &mut loaded.config.apps.always,
            "ignore" => &mut loaded.config.apps.ignore,
            other => {
                loaded.problems.push(format!(
                    "{origin}: unknown setting `apps.{other}` is ignored"
                ));
                continue;
            }
        };
        match names(value) {
            Some(names) => *list = names,
            None => loaded.problems.push(format!(
                "{origin}: apps.{key} must be a list of app names such as [\"Slack\"]; none are used"
            )),
        }
    }
    let apps = &loaded.config.apps;
    let both: Vec<String> = apps
        .always
        .iter()
        .filter(|a| named_in(&apps.ignore, a))
        .cloned()
        .collect();
    for app in both {
        loaded.problems.push(format!(
            "{origin}: {app:?} is in both apps.always and apps.ignore; it always breaks through"
        ));
    }
}

fn named_in(list: &[String], app: &str) -> bool {
    let key = app.to_lowercase();
    list.iter().any(|a| a.to_lowercase() == key)
}

/// A list of non-empty strings, trimmed.
fn names(value: &toml::Value) -> Option<Vec<String>> {
    value
        .as_array()?
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(str::to_owned)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{parse, Config};
    use super::*;

    #[test]
    fn desktop_settings_default_to_full_capture_and_the_digest() {
        let config = Config::default();
        assert_eq!(config.desktop_capture, Capture::Full);
        assert_eq!(config.desktop_replay, Replay::Digest);
        assert_eq!(config.apps, Apps::default());
        let set = parse(
            "desktop_capture = \"count\"\ndesktop_replay = \"desktop\"\n[apps]\nalways = [\"PagerDuty\"]\nignore = [\" Spotify \", \"Steam\"]\n",
            "c",
        );
        assert!(set.problems.is_empty(), "{:?}", set.problems);
        assert_eq!(set.config.desktop_capture, Capture::Count);
        assert_eq!(set.config.desktop_replay, Replay::Desktop);
        assert_eq!(set.config.apps.always, ["PagerDuty"]);
        assert_eq!(set.config.apps.ignore, ["Spotify", "Steam"]);
        assert_eq!(
            parse("desktop_capture = \"off\"", "c")
                .config
                .desktop_capture,
            Capture::Off
        );
    }

    #[test]
    fn wrong_desktop_settings_are_reported_and_defaulted() {
        let bad = parse(
            "desktop_capture = \"all\"\ndesktop_replay = 1\n[apps]\nalways = \"PagerDuty\"\nignore = [\"Spotify\", 3]\nmute = []\n",
            "config.toml",
        );
        assert_eq!(bad.config, Config::default());
        assert_eq!(
            bad.problems,
            [
                // Keys in name order, as the TOML table holds them.
                "config.toml: apps.always must be a list of app names such as [\"Slack\"]; none are used",
                "config.toml: apps.ignore must be a list of app names such as [\"Slack\"]; none are used",
                "config.toml: unknown setting `apps.mute` is ignored",
                "config.toml: desktop_capture must be \"full\", \"count\" or \"off\"; using \"full\"",
                "config.toml: desktop_replay must be \"digest\" or \"desktop\"; using \"digest\"",
            ]
        );
        let not_a_table = parse("apps = [\"Slack\"]", "config.toml");
        assert_eq!(
            not_a_table.problems,
            ["config.toml: apps must be a table ([apps] with always = [...] and ignore = [...]); no apps are named"]
        );
    }

    #[test]
    fn a_broken_line_in_the_apps_table_keeps_the_other_settings() {
        let loaded = parse(
            "desktop_capture = \"count\"\n[apps]\nalways = [\"PagerDuty\"\n",
            "config.toml",
        );
        assert_eq!(loaded.config.desktop_capture, Capture::Count);
        assert!(loaded.config.apps.always.is_empty());
        assert_eq!(loaded.problems.len(), 1, "{:?}", loaded.problems);
        assert!(
            loaded.problems[0].starts_with("config.toml: line 3 is not valid TOML"),
            "{:?}",
            loaded.problems
        );
    }

    #[test]
    fn app_names_match_case_insensitively_and_always_wins() {
        let loaded = parse(
            "[apps]\nalways = [\"PagerDuty\", \"Slack\"]\nignore = [\"spotify\", \"SLACK\"]\n",
            "c",
        );
        let apps = &loaded.config.apps;
        assert_eq!(apps.rule("pagerduty"), AppRule::Always);
        assert_eq!(apps.rule("Spotify"), AppRule::Ignore);
        assert_eq!(apps.rule(" SPOTIFY "), AppRule::Ignore);
        assert_eq!(apps.rule("slack"), AppRule::Always);
        assert_eq!(apps.rule("Thunderbird"), AppRule::Policy);
        assert_eq!(
            loaded.problems,
            ["c: \"Slack\" is in both apps.always and apps.ignore; it always breaks through"]
        );
    }
}
