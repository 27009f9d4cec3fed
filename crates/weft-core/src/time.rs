//! Time in the database (Unix milliseconds, UTC; on the wire times are `chrono` values that
//! `weft_proto::time` writes as RFC 3339); local time as people read it (one `HH:MM`, one
//! rule for where a local day starts and ends); labels; the boot clock for request deadlines;
//! and a check of the `TZ` variable.

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use std::path::Path;

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

/// `09:05`: an instant as the clock on the wall in `zone` shows it. Every surface that shows
/// a local time of day (the summary, the CLI, the tray) uses this one.
pub fn local_hm<Tz: TimeZone>(at: DateTime<Utc>, zone: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    at.with_timezone(zone).format("%H:%M").to_string()
}

/// The first instant of the local day `date` in `zone`: local midnight; on a day whose
/// midnight a daylight-saving change skips, the first local time after the gap; where midnight
/// happens twice, the earlier. A day a zone skips entirely (Samoa, 2011-12-30) starts where the
/// next one does, so it lasts no time.
pub fn local_day_start<Tz: TimeZone>(date: NaiveDate, zone: &Tz) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    // A gap lasts at most a day; look minute by minute past it (one step on every other day).
    (0..=2 * 24 * 60)
        .filter_map(|minutes| midnight.checked_add_signed(chrono::Duration::minutes(minutes)))
        .find_map(|local| zone.from_local_datetime(&local).earliest())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| DateTime::<Utc>::from_naive_utc_and_offset(midnight, Utc))
}

/// The UTC bounds `[start, end)` of the local day `date` in `zone` (see [`local_day_start`]):
/// 24 hours, or 23 or 25 across a daylight-saving change.
pub fn local_day_bounds<Tz: TimeZone>(
    date: NaiveDate,
    zone: &Tz,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = local_day_start(date, zone);
    let end = date
        .checked_add_days(Days::new(1))
        .map_or(start, |next| local_day_start(next, zone));
    (start, end)
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

/// The machine's boot clock (`CLOCK_BOOTTIME`) in milliseconds: it counts time in suspend
/// and is never set, and every process on the machine reads the same one, so a deadline in it
/// means the same to the CLI and the app whatever happens to the wall clock.
pub fn boot_ms() -> u64 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let id = rustix::time::ClockId::Boottime;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let id = rustix::time::ClockId::Monotonic;
    let t = rustix::time::clock_gettime(id);
    let secs = u64::try_from(t.tv_sec).unwrap_or(0);
    let nanos = u64::try_from(t.tv_nsec).unwrap_or(0);
    secs.saturating_mul(1000).saturating_add(nanos / 1_000_000)
}

/// When a request's sender stops waiting for its answer, on the boot clock ([`boot_ms`]).
/// Whatever a request changes is committed before its deadline or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Deadline {
    boot_ms: u64,
}

impl Deadline {
    /// The deadline at `boot_ms` milliseconds on the boot clock.
    pub fn at_boot_ms(boot_ms: u64) -> Deadline {
        Deadline { boot_ms }
    }

    /// How long is left (zero once it passed).
    pub fn left(self) -> std::time::Duration {
        std::time::Duration::from_millis(self.boot_ms.saturating_sub(boot_ms()))
    }

    /// How many milliseconds ago it passed, or `None` while it has not.
    pub fn passed_by_ms(self) -> Option<u64> {
        let now = boot_ms();
        (now > self.boot_ms).then(|| now - self.boot_ms)
    }
}

/// Where the C library and chrono look for zone files.
const ZONE_DIRS: [&str; 4] = [
    "/usr/share/zoneinfo",
    "/share/zoneinfo",
    "/etc/zoneinfo",
    "/usr/share/lib/zoneinfo",
];

/// The warning to give once when `TZ` names no time zone this system knows. Weft's local
/// times (chrono's `Local`) then fall back to the system zone; the warning names it, as
/// `date` names the zone it used.
pub fn zone_warning() -> Option<String> {
    zone_warning_for(std::env::var("TZ").ok().as_deref())
}

/// [`zone_warning`] for a given `TZ` value (`None`: unset).
pub fn zone_warning_for(tz: Option<&str>) -> Option<String> {
    let tz = tz?;
    if zone_known(tz) {
        return None;
    }
    Some(format!(
        "TZ={tz:?} is not a time zone this system knows; times are shown in the system zone, {}",
        system_zone()
    ))
}

/// The system's zone by name, as chrono falls back to it (UTC without one).
fn system_zone() -> String {
    match iana_time_zone::get_timezone() {
        Ok(name)
            if ZONE_DIRS
                .iter()
                .any(|d| is_zone_file(&Path::new(d).join(&name))) =>
        {
            name
        }
        _ => "UTC".to_owned(),
    }
}

/// Whether a `TZ` value is one chrono (and the C library) can use: empty (UTC), a zone file by
/// name or path (optionally after `:`), or a POSIX rule such as `CET-1CEST,M3.5.0,M10.5.0/3`.
fn zone_known(tz: &str) -> bool {
    if tz.is_empty() {
        return true;
    }
    if tz == "localtime" {
        return is_zone_file(Path::new("/etc/localtime"));
    }
    if let Some(name) = tz.strip_prefix(':') {
        return zone_file_exists(name);
    }
    zone_file_exists(tz) || posix_rule(tz.trim_matches(|c: char| c.is_ascii_whitespace()))
}

fn zone_file_exists(name: &str) -> bool {
    let path = Path::new(name);
    if path.is_absolute() {
        return is_zone_file(path);
    }
    ZONE_DIRS
        .iter()
        .any(|dir| is_zone_file(&Path::new(dir).join(path)))
}

/// A compiled zone file starts with `TZif`.
fn is_zone_file(path: &Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && &magic == b"TZif"
}

/// A POSIX TZ rule: `std offset [dst [offset] ,start[/time],end[/time]]`.
fn posix_rule(text: &str) -> bool {
    let mut rule = Rule {
        rest: text.as_bytes(),
    };
    if !(rule.name() && rule.offset(23)) {
        return false;
    }
    if rule.rest.is_empty() {
        return true;
    }
    if !rule.name() {
        return false;
    }
    if rule.rest.first() != Some(&b',') && !rule.offset(23) {
        return false;
    }
    rule.tag(b',') && rule.date() && rule.tag(b',') && rule.date() && rule.rest.is_empty()
}

/// What is left of a POSIX TZ rule being read.
struct Rule<'a> {
    rest: &'a [u8],
}

impl Rule<'_> {
    fn tag(&mut self, byte: u8) -> bool {
        match self.rest.split_first() {
            Some((b, rest)) if *b == byte => {
                self.rest = rest;
                true
            }
            _ => false,
        }
    }

    /// `EST` or `<+0330>`: at least three characters.
    fn name(&mut self) -> bool {
        if self.tag(b'<') {
            let Some(end) = self.rest.iter().position(|b| *b == b'>') else {
                return false;
            };
            let ok = end >= 3
                && self.rest[..end]
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'-');
            self.rest = &self.rest[end + 1..];
            return ok;
        }
        let len = self
            .rest
            .iter()
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        self.rest = &self.rest[len..];
        len >= 3
    }

    fn number(&mut self, max: u32) -> bool {
        let len = self.rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let value = std::str::from_utf8(&self.rest[..len])
            .ok()
            .and_then(|d| d.parse::<u32>().ok());
        self.rest = &self.rest[len..];
        value.is_some_and(|v| v <= max)
    }

    /// `[+-]hh[:mm[:ss]]`.
    fn offset(&mut self, max_hours: u32) -> bool {
        if !self.tag(b'+') {
            self.tag(b'-');
        }
        self.time(max_hours)
    }

    fn time(&mut self, max_hours: u32) -> bool {
        self.number(max_hours)
            && (!self.tag(b':') || (self.number(59) && (!self.tag(b':') || self.number(59))))
    }

    /// `Jn`, `n` or `Mm.w.d`, then an optional `/time`.
    fn date(&mut self) -> bool {
        let day = if self.tag(b'J') {
            self.number(365)
        } else if self.tag(b'M') {
            self.number(12) && self.tag(b'.') && self.number(5) && self.tag(b'.') && self.number(6)
        } else {
            self.number(365)
        };
        day && (!self.tag(b'/') || self.offset(167))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zones_the_system_knows_are_not_warned_about() {
        for known in [
            "",
            "UTC",
            ":UTC",
            "Europe/Berlin",
            "/usr/share/zoneinfo/Asia/Tokyo",
            "EST5EDT",
            "CET-1CEST,M3.5.0,M10.5.0/3",
            "<+0330>-3:30",
            "XYZ-2",
        ] {
            assert_eq!(zone_warning_for(Some(known)), None, "{known:?}");
        }
        assert_eq!(zone_warning_for(None), None, "unset");
    }

    #[test]
    fn an_unknown_time_zone_is_named_with_the_zone_used_instead() {
        let system = system_zone();
        for unknown in [
            "Nowhere/Invalid",
            ":Nowhere/Invalid",
            "Europe",
            "/etc/passwd",
            "XYZ",
            "CET-1CEST",
            "CET-1CEST,M3.5.0",
            "EST99",
        ] {
            let warning = zone_warning_for(Some(unknown));
            assert_eq!(
                warning,
                Some(format!(
                    "TZ={unknown:?} is not a time zone this system knows; times are shown in the system zone, {system}"
                )),
                "{unknown:?}"
            );
        }
    }

    #[test]
    fn the_boot_clock_moves_forward() {
        let first = boot_ms();
        assert!(first > 0);
        assert!(boot_ms() >= first);
    }

    #[test]
    fn elapsed_labels() {
        assert_eq!(elapsed_label(-5), "just now");
        assert_eq!(elapsed_label(59), "just now");
        assert_eq!(elapsed_label(25 * 60 + 59), "25 min");
        assert_eq!(elapsed_label(2 * 3600 + 5 * 60), "2 h 05 min");
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
    }

    fn bounds<Tz: TimeZone>(date: NaiveDate, zone: &Tz) -> (String, String) {
        let (start, end) = local_day_bounds(date, zone);
        (
            weft_proto::time::format(start),
            weft_proto::time::format(end),
        )
    }

    #[test]
    fn local_days_across_daylight_saving_changes() {
        use chrono_tz::{America::Sao_Paulo, Europe::Berlin, Pacific::Apia};
        // Spring forward: 02:00 becomes 03:00, a 23-hour day.
        assert_eq!(
            bounds(day(2026, 3, 29), &Berlin),
            (
                "2026-03-28T23:00:00.000Z".to_owned(),
                "2026-03-29T22:00:00.000Z".to_owned()
            )
        );
        // Fall back: 03:00 becomes 02:00, a 25-hour day.
        assert_eq!(
            bounds(day(2026, 10, 25), &Berlin),
            (
                "2026-10-24T22:00:00.000Z".to_owned(),
                "2026-10-25T23:00:00.000Z".to_owned()
            )
        );
        // Midnight skipped (00:00 became 01:00): the day starts at 01:00 local.
        let (start, end) = local_day_bounds(day(2018, 11, 4), &Sao_Paulo);
        assert_eq!(weft_proto::time::format(start), "2018-11-04T03:00:00.000Z");
        assert_eq!(local_hm(start, &Sao_Paulo), "01:00");
        assert_eq!((end - start).num_hours(), 23);
        // Midnight twice (Cuba goes back from 01:00 to 00:00): the earlier one.
        let (start, end) = local_day_bounds(day(2026, 11, 1), &chrono_tz::America::Havana);
        assert_eq!(weft_proto::time::format(start), "2026-11-01T04:00:00.000Z");
        assert_eq!((end - start).num_hours(), 25);
        // A day the zone skipped entirely lasts no time.
        let (start, end) = local_day_bounds(day(2011, 12, 30), &Apia);
        assert_eq!(start, end);
        assert_eq!(local_hm(start, &Apia), "00:00");
    }

    #[test]
    fn local_hours_and_minutes() {
        let at = weft_proto::time::parse("2026-11-24T09:05:59Z").unwrap_or_default();
        assert_eq!(local_hm(at, &Utc), "09:05");
        assert_eq!(local_hm(at, &chrono_tz::Asia::Kolkata), "14:35");
    }

    #[test]
    fn round_trips() {
        let t = from_ms(1_795_000_000_123);
        assert_eq!(to_ms(t), 1_795_000_000_123);
        // What the store keeps, the wire shows to the millisecond and reads back.
        assert_eq!(weft_proto::time::parse(&weft_proto::time::format(t)), Ok(t));
    }
}
