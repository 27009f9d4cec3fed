//! Dates and lengths on the command line: `--since DATE` (a local day such as `2026-11-24`,
//! `today`, `yesterday`, or an exact RFC 3339 time) and `--for LENGTH` (`50m`, `1h30m`).

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use weft_core::time::local_day_start;

/// The UTC instant a `--since` value names, relative to `now` in `now`'s time zone.
pub fn parse_since<Tz: TimeZone>(text: &str, now: DateTime<Tz>) -> Result<DateTime<Utc>, String> {
    let today = now.date_naive();
    let day = match text.trim() {
        "today" => Some(today),
        "yesterday" => today.checked_sub_days(Days::new(1)),
        other => {
            if let Ok(t) = weft_proto::time::parse(other) {
                return Ok(t);
            }
            Some(NaiveDate::parse_from_str(other, "%Y-%m-%d").map_err(|_| {
                format!("--since {other:?} is not a date: use YYYY-MM-DD, today, yesterday, or an RFC 3339 time")
            })?)
        }
    };
    let day = day.ok_or_else(|| format!("--since {text:?} is out of range"))?;
    // Where the day starts, as the summary counts it (a midnight skipped by daylight saving).
    Ok(local_day_start(day, &now.timezone()))
}

/// A planned length in minutes: `50m`, `2h`, `1h30m`, or a bare number of minutes.
pub fn parse_length(text: &str) -> Result<u32, String> {
    let bad = || format!("{text:?} is not a length; use e.g. 25m, 50m, 1h30m or 90");
    let t = text.trim().to_ascii_lowercase();
    if t.is_empty() {
        return Err(bad());
    }
    if let Ok(minutes) = t.parse::<u32>() {
        return check_minutes(minutes, text);
    }
    let (hours, rest) = match t.split_once('h') {
        Some((h, rest)) => (h.parse::<u32>().map_err(|_| bad())?, rest),
        None => (0, t.as_str()),
    };
    let minutes = match rest.strip_suffix('m') {
        Some(m) if !m.is_empty() => m.parse::<u32>().map_err(|_| bad())?,
        Some(_) => return Err(bad()),
        None if rest.is_empty() => 0,
        None => return Err(bad()),
    };
    let total = hours
        .checked_mul(60)
        .and_then(|h| h.checked_add(minutes))
        .ok_or_else(bad)?;
    check_minutes(total, text)
}

fn check_minutes(minutes: u32, text: &str) -> Result<u32, String> {
    let max = weft_proto::MAX_PLANNED_MINUTES;
    if minutes == 0 || minutes > max {
        return Err(format!(
            "{text:?}: a focus block is planned for 1 minute to {max} minutes"
        ));
    }
    Ok(minutes)
}

#[cfg(test)]
mod tests {
    #[test]
    fn lengths() {
        use super::parse_length;
        assert_eq!(parse_length("50m"), Ok(50));
        assert_eq!(parse_length("1h30m"), Ok(90));
        assert_eq!(parse_length("2H"), Ok(120));
        assert_eq!(parse_length("25"), Ok(25));
        for bad in ["", "m", "h", "1h30", "5 min", "-5m", "1.5h"] {
            assert_eq!(
                parse_length(bad),
                Err(format!(
                    "{bad:?} is not a length; use e.g. 25m, 50m, 1h30m or 90"
                )),
            );
        }
        for out_of_range in ["0m", "25h"] {
            assert_eq!(
                parse_length(out_of_range),
                Err(format!(
                    "{out_of_range:?}: a focus block is planned for 1 minute to {} minutes",
                    weft_proto::MAX_PLANNED_MINUTES
                )),
            );
        }
    }

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
        for bad in ["last tuesday", "2026-13-01"] {
            assert_eq!(
                at(bad),
                Err(format!("--since {bad:?} is not a date: use YYYY-MM-DD, today, yesterday, or an RFC 3339 time")),
            );
        }
    }

    /// `--since` a day starts where the summary starts that day, also when daylight saving
    /// skips its midnight (São Paulo, 2018-11-04: 00:00 became 01:00).
    #[test]
    fn a_day_without_a_midnight_starts_where_the_summary_starts_it() -> Result<(), String> {
        let zone = chrono_tz::America::Sao_Paulo;
        let now = zone
            .with_ymd_and_hms(2018, 11, 4, 15, 0, 0)
            .single()
            .ok_or("no such time")?;
        let since = parse_since("today", now);
        assert_eq!(
            since.map(|t| t.to_rfc3339()),
            Ok("2018-11-04T03:00:00+00:00".into())
        );
        let day = now.date_naive();
        let (start, _) = weft_core::summary::day_bounds(day, &zone);
        assert_eq!(parse_since("2018-11-04", now), Ok(start));
        Ok(())
    }
}
