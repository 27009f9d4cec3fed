//! Checks of what clients send: names, status times, intents and ping texts.
//!
//! Every check names the field it refuses, so the 400 answer says what to fix. Times are
//! normalised to RFC 3339 in UTC.

use crate::error::Error;
use chrono::{DateTime, Duration, TimeZone, Utc};
use weft_proto::sync::{StatusUpdate, MAX_NAME_CHARS, MAX_PING_CHARS};
use weft_proto::{State, MAX_INTENT_CHARS};

/// A status that passed the checks, times in UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidStatus {
    pub seq: i64,
    pub state: State,
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    pub intent: Option<String>,
}

/// A member or team name: trimmed, 1..=MAX_NAME_CHARS characters, no control characters.
pub fn name(field: &str, raw: &str) -> Result<String, Error> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(bad(format!("{field} must not be empty")));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(bad(format!(
            "{field} must be at most {MAX_NAME_CHARS} characters"
        )));
    }
    if name.chars().any(char::is_control) {
        return Err(bad(format!("{field} must not contain control characters")));
    }
    Ok(name.to_string())
}

/// The key names are compared by (case-insensitive).
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// A ping text: not blank, at most MAX_PING_CHARS characters, no control characters but
/// line feeds and tabs (a teammate's terminal must not run escape sequences).
pub fn ping_text(raw: &str) -> Result<String, Error> {
    if raw
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(bad(
            "text must not contain control characters (other than line feeds and tabs)".into(),
        ));
    }
    if raw.trim().is_empty() {
        return Err(bad("text must not be empty".into()));
    }
    if raw.chars().count() > MAX_PING_CHARS {
        return Err(bad(format!(
            "text must be at most {MAX_PING_CHARS} characters"
        )));
    }
    Ok(raw.to_string())
}

/// A status update, checked against `now`.
pub fn status(update: &StatusUpdate, now: DateTime<Utc>) -> Result<ValidStatus, Error> {
    let seq = i64::try_from(update.seq)
        .ok()
        .filter(|s| *s > 0)
        .ok_or_else(|| bad(format!("seq must be between 1 and {}", i64::MAX)))?;
    let since = time("since", &update.since)?;
    let floor = Utc
        .with_ymd_and_hms(2000, 1, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| Error::Internal("no 2000-01-01".into()))?;
    if since < floor {
        return Err(bad("since must not be before 2000-01-01".into()));
    }
    if since > now + Duration::days(1) {
        return Err(bad("since must not be more than a day in the future".into()));
    }
    let until = match &update.until {
        None => None,
        Some(raw) => {
            let until = time("until", raw)?;
            if until < since {
                return Err(bad("until must not be before since".into()));
            }
            if until > since + Duration::days(7) {
                return Err(bad("until must be at most 7 days after since".into()));
            }
            Some(until)
        }
    };
    if let Some(intent) = &update.intent {
        if intent.chars().count() > MAX_INTENT_CHARS {
            return Err(bad(format!(
                "intent must be at most {MAX_INTENT_CHARS} characters"
            )));
        }
        if intent.chars().any(char::is_control) {
            return Err(bad("intent must not contain control characters".into()));
        }
    }
    Ok(ValidStatus {
        seq,
        state: update.state,
        since,
        until,
        intent: update.intent.clone(),
    })
}

/// An RFC 3339 time, as UTC.
fn time(field: &str, raw: &str) -> Result<DateTime<Utc>, Error> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            bad(format!(
                "{field} must be an RFC 3339 time such as 2026-11-24T09:00:00Z ({e})"
            ))
        })
}

/// A time as the wire shows it.
pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

fn bad(message: String) -> Error {
    Error::BadRequest(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(since: &str, until: Option<&str>) -> StatusUpdate {
        StatusUpdate {
            seq: 1,
            state: State::Focus,
            since: since.into(),
            until: until.map(String::from),
            intent: None,
        }
    }

    #[test]
    fn times_are_checked() {
        let now = Utc::now();
        let ok = rfc3339(now);
        assert!(status(&update(&ok, None), now).is_ok());
        for (since, until) in [
            ("yesterday", None),
            ("1970-01-01T00:00:00Z", None),
            ("-0001-01-01T00:00:00Z", None),
            ("9999-01-01T00:00:00Z", None),
            (ok.as_str(), Some("2000-01-01T00:00:00Z")),
            (ok.as_str(), Some("9999-12-31T00:00:00Z")),
        ] {
            assert!(
                status(&update(since, until), now).is_err(),
                "{since} {until:?}"
            );
        }
        let mut zero = update(&ok, None);
        zero.seq = 0;
        assert!(status(&zero, now).is_err());
        zero.seq = u64::MAX;
        assert!(status(&zero, now).is_err());
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(name("name", "  Ana ").ok().as_deref(), Some("Ana"));
        assert!(name("name", " ").is_err());
        assert!(name("name", "a\u{7}b").is_err());
        assert!(name("name", &"x".repeat(65)).is_err());
        assert_eq!(name_key("ÄNA"), "äna");
        assert!(name("name", "Ana\u{1b}[2J").is_err());
        assert!(name("name", "Ana\u{9b}31m").is_err(), "C1 controls too");
    }

    #[test]
    fn control_characters_are_refused() {
        let refused = |r: Result<String, Error>| match r {
            Err(Error::BadRequest(m)) => m,
            other => format!("not refused: {other:?}"),
        };
        assert_eq!(
            ping_text("line one\n\tline two").ok().as_deref(),
            Some("line one\n\tline two")
        );
        for text in [
            "\u{1b}]0;pwned\u{7}",
            "a\rb",
            "a\u{0}b",
            "a\u{7f}b",
            "a\u{9b}b",
        ] {
            assert!(refused(ping_text(text)).starts_with("text "), "{text:?}");
        }
        let now = Utc::now();
        let mut with_intent = update(&rfc3339(now), None);
        for intent in ["parser\u{1b}[31m", "a\nb", "a\tb"] {
            with_intent.intent = Some(intent.into());
            match status(&with_intent, now) {
                Err(Error::BadRequest(m)) => assert!(m.starts_with("intent "), "{m}"),
                other => panic!("{intent:?} was not refused: {other:?}"),
            }
        }
        with_intent.intent = Some("parser, then tests".into());
        assert!(status(&with_intent, now).is_ok());
    }
}
