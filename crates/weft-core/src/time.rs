//! Time on the wire and in the database: RFC 3339 strings and Unix milliseconds, both UTC.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// Formats a time the way every Weft surface reports it (`2026-11-24T09:00:00.000Z`).
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 time with any offset.
pub fn parse_rfc3339(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The database representation: milliseconds since the Unix epoch.
pub fn to_ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// Reads a database time; out-of-range values clamp to the epoch rather than panic.
pub fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// How long a block has lasted, as the tray shows it: "just now", "25 min", "2 h 05 min".
pub fn elapsed_label(seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    match minutes {
        0 => "just now".to_owned(),
        1..=59 => format!("{minutes} min"),
        _ => format!("{} h {:02} min", minutes / 60, minutes % 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_labels() {
        assert_eq!(elapsed_label(-5), "just now");
        assert_eq!(elapsed_label(59), "just now");
        assert_eq!(elapsed_label(25 * 60 + 59), "25 min");
        assert_eq!(elapsed_label(2 * 3600 + 5 * 60), "2 h 05 min");
    }

    #[test]
    fn round_trips() {
        let t = from_ms(1_795_000_000_123);
        assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        assert_eq!(to_ms(t), 1_795_000_000_123);
        assert_eq!(
            parse_rfc3339("2026-11-24T10:00:00+01:00").map(rfc3339),
            Some("2026-11-24T09:00:00.000Z".to_owned())
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
