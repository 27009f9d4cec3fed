//! Checks of what clients send: names, status times, intents and ping texts.
//!
//! Every check names the field it refuses, so the 400 answer says what to fix. A time that
//! is not RFC 3339 never gets here: reading the body refuses it (`weft_proto::time`), naming
//! the field.
//!
//! A member's times are checked against the server's clock: a `since` more than
//! [`CLOCK_ALLOWANCE`] ahead of it, or a request whose `Date` header is that far off either
//! way, is answered [`Error::ClockSkew`] ("your clock is about 2 h ahead of the server's"),
//! so a wrong clock is reported instead of shared. A `since` older than [`MAX_SINCE_AGE`]
//! is refused too.

use crate::error::Error;
use chrono::{DateTime, Duration, Utc};
use std::time::Duration as StdDuration;
use weft_proto::sync::{StatusUpdate, MAX_NAME_CHARS, MAX_PING_CHARS};
use weft_proto::{State, MAX_INTENT_CHARS};

/// How far a member's clock may be from the server's: a minute (more than network delays
/// and the `Date` header's one-second steps, less than anyone notices on a status).
pub const CLOCK_ALLOWANCE: StdDuration = StdDuration::from_secs(60);

/// The oldest `since` accepted: a block can last through a long absence, but not a year.
pub const MAX_SINCE_AGE: StdDuration = StdDuration::from_secs(366 * 24 * 3600);

/// A status that passed the checks, times in UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidStatus {
    pub seq: i64,
    pub state: State,
    pub since: DateTime<Utc>,
    pub until: Option<DateTime<Utc>>,
    pub intent: Option<String>,
}

/// A member or team name, checked by [`crate::names::check`]: the name as shown (trimmed,
/// NFC), or a 400 that says what to fix.
pub fn name(field: &str, raw: &str) -> Result<String, Error> {
    crate::names::check(raw, MAX_NAME_CHARS).map_err(|refused| bad(refused.message(field)))
}

/// The key names are unique by and addressed by (see [`crate::names::key`]).
pub fn name_key(name: &str) -> String {
    crate::names::key(name)
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
    let since = update.since;
    let allowance = Duration::from_std(CLOCK_ALLOWANCE).unwrap_or_else(|_| Duration::minutes(1));
    if since > now + allowance {
        return Err(clock_skew(
            since - now,
            now,
            &format!("the status says since {} UTC", since.format("%H:%M")),
        ));
    }
    let oldest = Duration::from_std(MAX_SINCE_AGE).unwrap_or_else(|_| Duration::days(366));
    if since < now - oldest {
        return Err(bad(
            "since must not be more than a year ago; if it is right, switch once so a new block begins"
                .into(),
        ));
    }
    let until = match update.until {
        None => None,
        Some(until) => {
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

/// Checks a request's `Date` header (the client's clock when it sent the request, RFC 9110)
/// against the server's clock `now`. No header, or one that is not an HTTP date, says nothing.
pub fn client_clock(date: Option<&str>, now: DateTime<Utc>) -> Result<(), Error> {
    let Some(sent) = date.and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok()) else {
        return Ok(());
    };
    let skew = sent.with_timezone(&Utc) - now;
    let allowance = Duration::from_std(CLOCK_ALLOWANCE).unwrap_or_else(|_| Duration::minutes(1));
    if skew.abs() > allowance {
        return Err(clock_skew(skew, now, "by the request's Date"));
    }
    Ok(())
}

/// The answer to a clock `skew` off the server's (positive: ahead); `how` says how it was
/// seen.
fn clock_skew(skew: Duration, now: DateTime<Utc>, how: &str) -> Error {
    let way = if skew > Duration::zero() {
        "ahead of"
    } else {
        "behind"
    };
    Error::ClockSkew(format!(
        "your clock is about {} {way} the server's ({how}; the server's time is {} UTC); set your computer's clock to the right time (turn on automatic time) and Weft shares your status again",
        about(skew.abs()),
        now.format("%H:%M")
    ))
}

/// A duration the way people say it: "5 min", "2 h", "3 days".
fn about(span: Duration) -> String {
    let minutes = (span.num_seconds() + 30) / 60;
    if minutes < 90 {
        format!("{} min", minutes.max(1))
    } else if minutes < 48 * 60 {
        format!("{} h", (minutes + 30) / 60)
    } else {
        format!("{} days", (minutes + 12 * 60) / (24 * 60))
    }
}

fn bad(message: String) -> Error {
    Error::BadRequest(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::Refused;
    use chrono::TimeZone;

    fn update(since: DateTime<Utc>) -> StatusUpdate {
        StatusUpdate {
            seq: 1,
            state: State::Focus,
            since,
            until: None,
            intent: None,
        }
    }

    /// A status sent with these times, checked as the server checks it: read from JSON (a
    /// time that is not RFC 3339 is refused there, as `extract` refuses it), then against
    /// `now`.
    fn sent(since: &str, until: Option<&str>, now: DateTime<Utc>) -> Result<ValidStatus, Error> {
        let mut json = serde_json::json!({"seq": 1, "state": "focus", "since": since});
        if let Some(until) = until {
            json["until"] = until.into();
        }
        let update: StatusUpdate =
            serde_path_to_error::deserialize(json).map_err(|e| bad(e.to_string()))?;
        status(&update, now)
    }

    /// Which refusal a result is, and its sentence.
    fn refusal<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
        match result {
            Err(Error::BadRequest(m)) => format!("bad request: {m}"),
            Err(Error::ClockSkew(m)) => format!("clock skew: {m}"),
            other => format!("not refused as bad or skewed: {other:?}"),
        }
    }

    #[test]
    fn times_are_checked() {
        let now = Utc::now();
        let ok = weft_proto::time::format(now);
        assert!(sent(&ok, None, now).is_ok());
        for (since, until, refused) in [
            (
                "yesterday",
                None,
                "bad request: since: not an RFC 3339 time",
            ),
            (
                "1970-01-01T00:00:00Z",
                None,
                "bad request: since must not be more than a year ago",
            ),
            (
                "-0001-01-01T00:00:00Z",
                None,
                "bad request: since: not an RFC 3339 time",
            ),
            (
                "9999-01-01T00:00:00Z",
                None,
                "clock skew: your clock is about",
            ),
            (
                ok.as_str(),
                Some("2000-01-01T00:00:00Z"),
                "bad request: until must not be before since",
            ),
            (
                ok.as_str(),
                Some("9999-12-31T00:00:00Z"),
                "bad request: until must be at most 7 days after since",
            ),
            (
                ok.as_str(),
                Some("noon"),
                "bad request: until: not an RFC 3339 time",
            ),
        ] {
            let got = refusal(sent(since, until, now));
            assert!(got.starts_with(refused), "{since} {until:?}: {got}");
        }
        assert!(matches!(
            sent("9999-01-01T00:00:00Z", None, now),
            Err(Error::ClockSkew(_))
        ));
        let mut zero = update(now);
        zero.seq = 0;
        let seq = format!("bad request: seq must be between 1 and {}", i64::MAX);
        assert_eq!(refusal(status(&zero, now)), seq);
        zero.seq = u64::MAX;
        assert_eq!(refusal(status(&zero, now)), seq);
    }

    #[test]
    fn a_clock_off_the_server_s_is_refused_with_how_far() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 30, 16, 10, 0)
            .single()
            .unwrap_or_else(Utc::now);
        let skewed = |r: Result<ValidStatus, Error>| match r {
            Err(Error::ClockSkew(m)) => m,
            other => format!("not a clock error: {other:?}"),
        };
        let ahead = skewed(sent("2026-11-30T18:10:00Z", None, now));
        assert!(
            ahead.starts_with(
                "your clock is about 2 h ahead of the server's (the status says since 18:10 UTC; the server's time is 16:10 UTC)"
            ),
            "{ahead}"
        );
        assert!(skewed(sent("2026-11-30T16:12:00Z", None, now)).contains("about 2 min ahead"));
        assert!(sent("2026-11-30T16:10:59Z", None, now).is_ok());
        match sent("2025-11-01T16:10:00Z", None, now) {
            Err(Error::BadRequest(m)) => assert!(m.contains("more than a year ago"), "{m}"),
            other => panic!("an old since is not refused as too old: {other:?}"),
        }
        assert!(sent("2026-01-01T09:00:00Z", None, now).is_ok());

        assert!(client_clock(None, now).is_ok());
        assert!(client_clock(Some("not a date"), now).is_ok());
        assert!(client_clock(Some("Mon, 30 Nov 2026 16:10:40 GMT"), now).is_ok());
        let behind = client_clock(Some("Mon, 30 Nov 2026 13:05:00 GMT"), now);
        assert!(
            matches!(&behind, Err(Error::ClockSkew(m)) if m.starts_with("your clock is about 3 h behind the server's")),
            "{behind:?}"
        );
        let days = client_clock(Some("Fri, 04 Dec 2026 16:10:00 GMT"), now);
        assert!(
            matches!(&days, Err(Error::ClockSkew(m)) if m.contains("about 4 days ahead")),
            "{days:?}"
        );
    }

    #[test]
    fn names_are_checked() {
        assert_eq!(name("name", "  Ana ").ok().as_deref(), Some("Ana"));
        let refused = |raw: &str, why: Refused| {
            assert_eq!(
                refusal(name("name", raw)),
                format!("bad request: {}", why.message("name")),
                "{raw:?}"
            )
        };
        refused(" ", Refused::Empty);
        refused("a\u{7}b", Refused::Control);
        refused(&"x".repeat(65), Refused::TooLong(MAX_NAME_CHARS));
        assert_eq!(name_key("ÄNA"), "äna");
        refused("Ana\u{1b}[2J", Refused::Control);
        // C1 controls too.
        refused("Ana\u{9b}31m", Refused::Control);
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
        let mut with_intent = update(now);
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
