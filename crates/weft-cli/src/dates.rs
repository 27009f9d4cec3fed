//! The `--since DATE` argument: a local day (`2026-11-24`, `today`, `yesterday`) or an exact
//! RFC 3339 time.

use chrono::{DateTime, Days, LocalResult, NaiveDate, TimeZone, Utc};

/// The UTC instant a `--since` value names, relative to `now` in `now`'s time zone.
pub fn parse_since<Tz: TimeZone>(text: &str, now: DateTime<Tz>) -> Result<DateTime<Utc>, String> {
    let today = now.date_naive();
    let day = match text.trim() {
        "today" => Some(today),
        "yesterday" => today.checked_sub_days(Days::new(1)),
        other => {
            if let Some(t) = weft_core::time::parse_rfc3339(other) {
                return Ok(t);
            }
            Some(NaiveDate::parse_from_str(other, "%Y-%m-%d").map_err(|_| {
                format!("--since {other:?} is not a date: use YYYY-MM-DD, today, yesterday, or an RFC 3339 time")
            })?)
        }
    };
    let day = day.ok_or_else(|| format!("--since {text:?} is out of range"))?;
    start_of_day(&now.timezone(), day)
        .ok_or_else(|| format!("--since {text:?}: that day has no start in the local time zone"))
}

/// Local midnight, or the first valid instant after it on days where midnight is skipped.
fn start_of_day<Tz: TimeZone>(zone: &Tz, day: NaiveDate) -> Option<DateTime<Utc>> {
    (0..=3).find_map(|hour| {
        let naive = day.and_hms_opt(hour, 0, 0)?;
        match zone.from_local_datetime(&naive) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.with_timezone(&Utc)),
            LocalResult::None => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;

    #[test]
    fn days_are_local() {
        let zone = FixedOffset::east_opt(3600).unwrap();
        let now = zone.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
        let at = |t: &str| parse_since(t, now).map(|t| t.to_rfc3339());
        assert_eq!(at("today"), Ok("2026-11-23T23:00:00+00:00".into()));
        assert_eq!(at("yesterday"), Ok("2026-11-22T23:00:00+00:00".into()));
        assert_eq!(at("2026-11-01"), Ok("2026-10-31T23:00:00+00:00".into()));
        assert_eq!(
            at("2026-11-24T10:00:00Z"),
            Ok("2026-11-24T10:00:00+00:00".into())
        );
        assert!(at("last tuesday").is_err());
        assert!(at("2026-13-01").is_err());
    }
}
