//! "What did I actually do today?": the summary of a local day (or a week of them) as a pure
//! function of the log, a time zone and "now".
//!
//! The log gives *runs* (Weft running, from its start and stop events) and *switches* (the
//! state in each run). Time when Weft was not running is untracked. After a crash the next
//! start logs the crashed run's stop at its last heartbeat (once a minute); a run that still
//! has no stop before the next start counts up to its last sign of life, its last switch. Days are local: a day spans local midnight to local midnight, so it lasts 23
//! or 25 hours across a daylight-saving change, and a block across midnight is split between
//! the two days. An open block counts up to now.

use crate::machine::{Switch, INITIAL_STATE};
use crate::store::AppEvent;
use crate::time::rfc3339;
use chrono::{DateTime, Days, LocalResult, NaiveDate, TimeZone, Utc};
use weft_proto::{DaySummary, FocusBlock, Segment, State};

/// Focus blocks shorter than this count as fragmented.
pub const DEFAULT_FRAGMENT_MINUTES: i64 = 15;

/// The part of the log a summary reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// Switches in time order, from the last one before the period on.
    pub switches: Vec<Switch>,
    /// The app's starts and stops in order, from the last one before the period on.
    pub events: Vec<(DateTime<Utc>, AppEvent)>,
    /// When notifications that were held arrived.
    pub held: Vec<DateTime<Utc>>,
    /// When digests were made.
    pub digests: Vec<DateTime<Utc>>,
    /// When critical notifications broke through focus.
    pub break_throughs: Vec<DateTime<Utc>>,
    /// When this Weft sent pings to teammates.
    pub pings_sent: Vec<DateTime<Utc>>,
    /// When teammates' pings arrived.
    pub pings_received: Vec<DateTime<Utc>>,
}

/// The UTC bounds of a local day: `[start, end)`.
pub fn day_bounds<Tz: TimeZone>(date: NaiveDate, zone: &Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = start_of_day(zone, date);
    let end = date
        .checked_add_days(Days::new(1))
        .map(|next| start_of_day(zone, next))
        .unwrap_or(start);
    (start, end)
}

/// Local midnight, or the first instant after it on a day whose midnight is skipped.
fn start_of_day<Tz: TimeZone>(zone: &Tz, date: NaiveDate) -> DateTime<Utc> {
    (0..=4 * 60)
        .filter_map(|minutes| {
            date.and_hms_opt(0, 0, 0)
                .map(|t| t + chrono::Duration::minutes(minutes))
        })
        .find_map(|local| match zone.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.with_timezone(&Utc)),
            LocalResult::None => None,
        })
        .unwrap_or_else(|| {
            DateTime::<Utc>::from_naive_utc_and_offset(date.and_time(chrono::NaiveTime::MIN), Utc)
        })
}

/// The summary of one local day.
pub fn day<Tz: TimeZone>(
    history: &History,
    date: NaiveDate,
    zone: &Tz,
    now: DateTime<Utc>,
    fragment: chrono::Duration,
) -> DaySummary {
    let (start, end) = day_bounds(date, zone);
    summarize(history, date, start, end, now, fragment)
}

/// The seven days ending with `date`, oldest first.
pub fn week<Tz: TimeZone>(
    history: &History,
    date: NaiveDate,
    zone: &Tz,
    now: DateTime<Utc>,
    fragment: chrono::Duration,
) -> Vec<DaySummary> {
    (0..7u64)
        .rev()
        .filter_map(|back| date.checked_sub_days(Days::new(back)))
        .map(|d| day(history, d, zone, now, fragment))
        .collect()
}

/// A stretch of tracked time in one state.
#[derive(Debug, Clone, Copy)]
struct Piece {
    state: State,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

fn summarize(
    history: &History,
    date: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
    fragment: chrono::Duration,
) -> DaySummary {
    let counted_end = end.min(now);
    let pieces = pieces(history, start, counted_end, now);
    let seconds = |state: State| -> i64 {
        pieces
            .iter()
            .filter(|p| p.state == state)
            .map(|p| (p.end - p.start).num_seconds())
            .sum()
    };
    let focus_seconds = seconds(State::Focus);
    let coordination_seconds = seconds(State::Coordination);
    let window = (counted_end - start).num_seconds().max(0);
    let blocks = focus_blocks(history, &pieces, now);
    let in_day = |t: &DateTime<Utc>| *t >= start && *t < end;
    DaySummary {
        date: date.format("%Y-%m-%d").to_string(),
        focus_seconds,
        coordination_seconds,
        untracked_seconds: (window - focus_seconds - coordination_seconds).max(0),
        switches: history.switches.iter().filter(|s| in_day(&s.at)).count() as u32,
        longest_focus_seconds: blocks.iter().map(|b| b.seconds).max().unwrap_or(0),
        fragmented_blocks: blocks
            .iter()
            .filter(|b| !b.open && b.seconds < fragment.num_seconds())
            .count() as u32,
        focus_blocks: blocks,
        held: history.held.iter().filter(|t| in_day(t)).count() as u32,
        digests: history.digests.iter().filter(|t| in_day(t)).count() as u32,
        break_throughs: history.break_throughs.iter().filter(|t| in_day(t)).count() as u32,
        pings_sent: history.pings_sent.iter().filter(|t| in_day(t)).count() as u32,
        pings_received: history.pings_received.iter().filter(|t| in_day(t)).count() as u32,
        timeline: timeline(&pieces, start, counted_end),
    }
}

/// The pieces with the untracked gaps between them, covering `[start, end)`.
fn timeline(pieces: &[Piece], start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut at = start;
    let mut push = |state: Option<State>, from: DateTime<Utc>, to: DateTime<Utc>| {
        if to > from {
            out.push(Segment {
                state,
                start: rfc3339(from),
                end: rfc3339(to),
            });
        }
    };
    for piece in pieces {
        push(None, at, piece.start);
        push(Some(piece.state), piece.start, piece.end);
        at = piece.end;
    }
    push(None, at, end);
    out
}

/// When Weft was running: `[start, end)` per run.
fn runs(history: &History, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
    if history.events.is_empty() {
        // A log from before starts and stops were recorded: tracked from the first switch.
        return history
            .switches
            .first()
            .map(|s| vec![(s.at, now.max(s.at))])
            .unwrap_or_default();
    }
    let last_sign = |from: DateTime<Utc>, until: DateTime<Utc>| {
        let before = history.switches.partition_point(|s| s.at < until);
        before
            .checked_sub(1)
            .and_then(|i| history.switches.get(i))
            .map(|s| s.at)
            .filter(|t| *t >= from)
            .unwrap_or(from)
    };
    let mut runs = Vec::new();
    let mut open: Option<DateTime<Utc>> = None;
    for (at, event) in &history.events {
        match event {
            AppEvent::Start => {
                if let Some(started) = open.replace(*at) {
                    // No stop: a crash. Count up to the last sign of life.
                    runs.push((started, last_sign(started, *at)));
                }
            }
            AppEvent::Stop => {
                if let Some(started) = open.take() {
                    runs.push((started, *at));
                }
            }
        }
    }
    if let Some(started) = open {
        runs.push((started, now.max(started)));
    }
    runs
}

/// The state just after `at` (the last switch at or before it decides). `switches` are in
/// time order, so this is a binary search.
fn state_at(history: &History, at: DateTime<Utc>) -> State {
    let after = history.switches.partition_point(|s| s.at <= at);
    after
        .checked_sub(1)
        .and_then(|i| history.switches.get(i))
        .map(|s| s.to)
        .unwrap_or(INITIAL_STATE)
}

/// Tracked time within `[from, to)`, cut at every switch.
fn pieces(
    history: &History,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<Piece> {
    let mut pieces = Vec::new();
    for (run_start, run_end) in runs(history, now) {
        let (a, b) = (run_start.max(from), run_end.min(to));
        if a >= b {
            continue;
        }
        let mut state = state_at(history, a);
        let mut at = a;
        let first = history.switches.partition_point(|s| s.at <= a);
        for switch in history.switches[first..].iter().take_while(|s| s.at < b) {
            if switch.at > at {
                pieces.push(Piece {
                    state,
                    start: at,
                    end: switch.at,
                });
                at = switch.at;
            }
            state = switch.to;
        }
        pieces.push(Piece {
            state,
            start: at,
            end: b,
        });
    }
    pieces
}

fn focus_blocks(history: &History, pieces: &[Piece], now: DateTime<Utc>) -> Vec<FocusBlock> {
    let mut blocks: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for piece in pieces.iter().filter(|p| p.state == State::Focus) {
        match blocks.last_mut() {
            Some(last) if last.1 == piece.start => last.1 = piece.end,
            _ => blocks.push((piece.start, piece.end)),
        }
    }
    blocks
        .into_iter()
        .map(|(start, end)| {
            let upto = history.switches.partition_point(|s| s.at <= start);
            let began = history.switches[..upto]
                .iter()
                .rev()
                .find(|s| s.to == State::Focus);
            let from = history.switches.partition_point(|s| s.at < end);
            let ended = history.switches[from..]
                .iter()
                .take_while(|s| s.at == end)
                .find(|s| s.from == State::Focus);
            FocusBlock {
                start: rfc3339(start),
                end: rfc3339(end),
                seconds: (end - start).num_seconds(),
                intent: began.and_then(|s| s.intent.clone()),
                stash: ended.and_then(|s| s.stash.clone()),
                open: end >= now,
            }
        })
        .collect()
}

/// Reads the log and summarises `date` (or the week ending with it) in `zone`.
pub fn from_store<Tz: TimeZone>(
    store: &crate::store::Store,
    date: NaiveDate,
    week_view: bool,
    zone: &Tz,
    now: DateTime<Utc>,
    fragment: chrono::Duration,
) -> crate::Result<Vec<DaySummary>> {
    let first = if week_view {
        date.checked_sub_days(Days::new(6)).unwrap_or(date)
    } else {
        date
    };
    let (from, _) = day_bounds(first, zone);
    let (_, to) = day_bounds(date, zone);
    let history = store.history(from, to)?;
    Ok(if week_view {
        week(&history, date, zone, now, fragment)
    } else {
        vec![day(&history, date, zone, now, fragment)]
    })
}

/// Parses a `--date` value: `today`, `yesterday` or `YYYY-MM-DD`, relative to `today`.
pub fn parse_date(text: &str, today: NaiveDate) -> Result<NaiveDate, String> {
    match text.trim() {
        "today" => Ok(today),
        "yesterday" => today
            .checked_sub_days(Days::new(1))
            .ok_or_else(|| "yesterday is out of range".to_owned()),
        other => NaiveDate::parse_from_str(other, "%Y-%m-%d")
            .map_err(|_| format!("{other:?} is not a date: use YYYY-MM-DD, today or yesterday")),
    }
}

/// `1 h 05 min`, `25 min`, `0 min`: durations as people read them.
pub fn duration_label(seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    if minutes < 60 {
        format!("{minutes} min")
    } else {
        format!("{} h {:02} min", minutes / 60, minutes % 60)
    }
}

/// The day as Markdown, to paste into a stand-up. Times are shown in `zone`.
pub fn markdown<Tz: TimeZone>(day: &DaySummary, zone: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let local = |t: &str| {
        crate::time::parse_rfc3339(t)
            .map(|t| t.with_timezone(zone).format("%H:%M").to_string())
            .unwrap_or_else(|| t.to_owned())
    };
    let mut out = format!("## {}\n\n", day.date);
    out.push_str(&format!(
        "- Focus: {} in {} block{} (longest {}, {} fragmented)\n",
        duration_label(day.focus_seconds),
        day.focus_blocks.len(),
        if day.focus_blocks.len() == 1 { "" } else { "s" },
        duration_label(day.longest_focus_seconds),
        day.fragmented_blocks
    ));
    out.push_str(&format!(
        "- Coordination: {}\n",
        duration_label(day.coordination_seconds)
    ));
    out.push_str(&format!(
        "- Untracked: {}\n- Switches: {}\n- Notifications: {} held, {} digest{}, {} break-through{}\n",
        duration_label(day.untracked_seconds),
        day.switches,
        day.held,
        day.digests,
        if day.digests == 1 { "" } else { "s" },
        day.break_throughs,
        if day.break_throughs == 1 { "" } else { "s" },
    ));
    if day.pings_sent + day.pings_received > 0 {
        out.push_str(&format!(
            "- Pings: {} sent, {} received\n",
            day.pings_sent, day.pings_received
        ));
    }
    if !day.focus_blocks.is_empty() {
        out.push_str("\n### Focus blocks\n\n");
        for b in &day.focus_blocks {
            out.push_str(&format!(
                "- {}–{} ({}){}",
                local(&b.start),
                if b.open {
                    "now".to_owned()
                } else {
                    local(&b.end)
                },
                duration_label(b.seconds),
                b.intent
                    .as_deref()
                    .map(|i| format!(": {i}"))
                    .unwrap_or_default()
            ));
            if let Some(stash) = &b.stash {
                out.push_str(&format!(" — left off: {}", stash.replace('\n', " ")));
            }
            out.push('\n');
        }
    }
    out
}

/// The day in one line, for the end-of-day notice: "Focus 3 h 20 min in 4 blocks (longest
/// 1 h 10 min) · coordination 2 h 05 min · 12 switches · 1 break-through".
pub fn headline(day: &DaySummary) -> String {
    format!(
        "Focus {} in {} block{} (longest {}) · coordination {} · {} switch{} · {} break-through{}",
        duration_label(day.focus_seconds),
        day.focus_blocks.len(),
        if day.focus_blocks.len() == 1 { "" } else { "s" },
        duration_label(day.longest_focus_seconds),
        duration_label(day.coordination_seconds),
        day.switches,
        if day.switches == 1 { "" } else { "es" },
        day.break_throughs,
        if day.break_throughs == 1 { "" } else { "s" },
    )
}

/// The header of [`csv_row`].
pub const CSV_HEADER: &str = "date,focus_seconds,coordination_seconds,untracked_seconds,switches,focus_blocks,longest_focus_seconds,fragmented_blocks,held,digests,break_throughs,pings_sent,pings_received";

/// One CSV row per day (numbers only; no quoting needed).
pub fn csv_row(day: &DaySummary) -> String {
    format!(
        "{},{},{},{},{},{},{},{},{},{},{},{},{}",
        day.date,
        day.focus_seconds,
        day.coordination_seconds,
        day.untracked_seconds,
        day.switches,
        day.focus_blocks.len(),
        day.longest_focus_seconds,
        day.fragmented_blocks,
        day.held,
        day.digests,
        day.break_throughs,
        day.pings_sent,
        day.pings_received
    )
}

#[cfg(test)]
mod tests;
