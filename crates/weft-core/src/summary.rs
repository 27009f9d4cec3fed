//! "What did I actually do today?": the summary of a local day (or a week of them) as a pure
//! function of the log, a time zone and "now".
//!
//! The log gives *runs* (Weft running, from its start and stop events) and *switches* (the
//! state in each run). Time when Weft was not running is untracked. After a crash the next
//! start logs the crashed run's stop at its last heartbeat (once a minute); a run that still
//! has no stop before the next start counts up to its last sign of life, its last switch.
//! Wall-clock time that did not pass at the desk (a suspend, a clock set forward or back) is
//! logged by the app as a stop and a start, so it is untracked too; both the rows and the
//! summary are read in log order, so a clock set back neither merges nor drops blocks. Days are
//! local: a day spans local midnight to local midnight, so it lasts 23 or 25 hours across a
//! daylight-saving change, and a block across midnight is split between the two days. An open
//! block counts up to now.
//!
//! This module reads nothing: the store loads a period's rows into a [`History`]
//! (`Store::history`, or `Store::summary` for the whole way from a [`Period`] to its days),
//! and `render` shows a day as text, Markdown, a CSV row or a headline.

mod render;

pub use render::{csv_row, duration_label, headline, markdown, text, CSV_HEADER};

use crate::machine::{Switch, INITIAL_STATE};
use crate::time::local_day_bounds;
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use weft_proto::{AppCount, DaySummary, FocusBlock, Segment, State};

/// Focus blocks shorter than this count as fragmented.
pub const DEFAULT_FRAGMENT_MINUTES: i64 = 15;

/// The app's own lifecycle, logged so that later summaries can show untracked time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEvent {
    Start,
    Stop,
}

impl AppEvent {
    /// The word the log stores.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AppEvent::Start => "start",
            AppEvent::Stop => "stop",
        }
    }
}

/// The local days a summary covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    /// One local day.
    Day(NaiveDate),
    /// The seven local days ending with this one.
    WeekEnding(NaiveDate),
}

impl Period {
    /// The period's days, oldest first.
    pub fn days(self) -> Vec<NaiveDate> {
        match self {
            Period::Day(date) => vec![date],
            Period::WeekEnding(date) => (0..7u64)
                .rev()
                .filter_map(|back| date.checked_sub_days(Days::new(back)))
                .collect(),
        }
    }

    /// The period's last day.
    pub fn last(self) -> NaiveDate {
        match self {
            Period::Day(date) | Period::WeekEnding(date) => date,
        }
    }

    /// The UTC bounds `[start, end)` of the whole period in `zone`: what the store loads.
    pub fn bounds<Tz: TimeZone>(self, zone: &Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let first = self.days().first().copied().unwrap_or(self.last());
        let (from, _) = local_day_bounds(first, zone);
        let (_, to) = local_day_bounds(self.last(), zone);
        (from, to)
    }
}

/// The part of the log a summary reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// Switches in log order, from the last one before the period on.
    pub switches: Vec<Switch>,
    /// Each switch's place in the log (its row id), beside `switches`; empty when unknown.
    pub switch_ids: Vec<i64>,
    /// The app's starts and stops in log order, from the last one before the period on.
    pub events: Vec<(DateTime<Utc>, AppEvent)>,
    /// Beside `events`: the id of the last switch logged before each, when the log recorded
    /// it (logs from before schema 6 did not; then switches go to runs by time alone).
    pub event_after: Vec<Option<i64>>,
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
    /// Other apps' notifications held or broken through (kept or transient).
    pub by_app: Vec<AppNotification>,
}

/// One of another app's notifications during focus, as the summary counts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppNotification {
    pub at: DateTime<Utc>,
    pub app: String,
    /// It broke through focus (critical, or an app in `[apps] always`); else it was held.
    pub broke_through: bool,
}

/// The day's other-app notifications per app, the most first, ties by name. Apps are told
/// apart case-insensitively (the first spelling seen is shown).
fn held_by_app(items: impl Iterator<Item = AppNotification>) -> Vec<AppCount> {
    let mut counts: Vec<AppCount> = Vec::new();
    // Each app's place in `counts`, by its lowercase name.
    let mut places: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for item in items {
        let place = *places.entry(item.app.to_lowercase()).or_insert_with(|| {
            counts.push(AppCount {
                app: item.app.clone(),
                held: 0,
                break_throughs: 0,
            });
            counts.len() - 1
        });
        let Some(count) = counts.get_mut(place) else {
            continue;
        };
        if item.broke_through {
            count.break_throughs += 1;
        } else {
            count.held += 1;
        }
    }
    counts.sort_by(|a, b| {
        (b.held + b.break_throughs)
            .cmp(&(a.held + a.break_throughs))
            .then_with(|| a.app.cmp(&b.app))
    });
    counts
}

/// The UTC bounds of a local day: `[start, end)` (see [`crate::time::local_day_bounds`]).
pub fn day_bounds<Tz: TimeZone>(date: NaiveDate, zone: &Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    local_day_bounds(date, zone)
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
    period(history, Period::WeekEnding(date), zone, now, fragment)
}

/// The summary of each day of `period`, oldest first. `history` must hold the rows of
/// [`Period::bounds`] (with the last switch and start/stop before them).
pub fn period<Tz: TimeZone>(
    history: &History,
    period: Period,
    zone: &Tz,
    now: DateTime<Utc>,
    fragment: chrono::Duration,
) -> Vec<DaySummary> {
    period
        .days()
        .into_iter()
        .map(|d| day(history, d, zone, now, fragment))
        .collect()
}

/// A stretch of tracked time in one state.
#[derive(Debug, Clone, Copy)]
struct Piece {
    state: State,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// The switch (an index into `History::switches`) that began this state, if logged.
    began: Option<usize>,
    /// The switch that ended this piece, when a switch (not a stop or the day) ended it.
    ended: Option<usize>,
    /// The piece runs on: the last of the run that has not stopped.
    open: bool,
}

fn summarize(
    history: &History,
    date: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
    fragment: chrono::Duration,
) -> DaySummary {
    let runs = runs(history, now);
    // Up to now, or to the latest time logged if a clock set back left the log ahead of now.
    let horizon = runs
        .iter()
        .filter_map(|r| r.end)
        .fold(now, |latest, end| latest.max(end));
    let counted_end = end.min(horizon);
    let pieces = pieces(history, &runs, start, counted_end);
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
        held_by_app: held_by_app(history.by_app.iter().filter(|n| in_day(&n.at)).cloned()),
    }
}

/// The pieces with the untracked gaps between them, covering `[start, end)` in time order.
/// Pieces that overlap (a clock set back made two runs share wall-clock time) are all counted
/// in the figures; the timeline shows the first of them over the shared stretch.
fn timeline(pieces: &[Piece], start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<Segment> {
    let mut sorted: Vec<&Piece> = pieces.iter().collect();
    sorted.sort_by_key(|p| p.start);
    let mut out = Vec::new();
    let mut at = start;
    let mut push = |state: Option<State>, from: DateTime<Utc>, to: DateTime<Utc>| {
        if to > from {
            out.push(Segment {
                state,
                start: from,
                end: to,
            });
        }
    };
    for piece in sorted {
        if piece.end <= at {
            continue;
        }
        let from = piece.start.max(at);
        push(None, at, from);
        push(Some(piece.state), from, piece.end);
        at = piece.end;
    }
    push(None, at, end);
    out
}

/// One run of Weft: from a start to its stop (or now), with the switches logged in it.
#[derive(Debug, Clone)]
struct Run {
    start: DateTime<Utc>,
    /// `None` for a run that crashed with no stop logged: it ends at its last sign of life.
    end: Option<DateTime<Utc>>,
    /// The id of the last switch logged before the run ended, when the log says.
    last_switch: Option<i64>,
    /// Indexes into `History::switches`, in log order.
    switches: Vec<usize>,
    /// Still running (no stop logged, and no start after it).
    open: bool,
}

/// When Weft was running, in log order, each with its switches.
///
/// Runs may overlap in wall-clock time (a clock set back ends a run and starts another at an
/// earlier time), so a switch goes to its run by log order: the first run, from where the
/// previous switch went, that ended after it was logged. Logs without that position fall back
/// to time: the first run whose end it is not after, and not before that run's previous switch.
/// A switch before its run's start (a planned end that fell in a suspend, the last switch
/// before the period) counts from the run's start.
fn runs(history: &History, now: DateTime<Utc>) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    if history.events.is_empty() {
        // A log from before starts and stops were recorded: tracked from the first switch.
        if let Some(first) = history.switches.first() {
            runs.push(Run {
                start: first.at,
                end: Some(now.max(first.at)),
                last_switch: None,
                switches: Vec::new(),
                open: true,
            });
        }
    }
    let after = |i: usize| history.event_after.get(i).copied().flatten();
    let mut open: Option<DateTime<Utc>> = None;
    for (i, (at, event)) in history.events.iter().enumerate() {
        let ended = |start: DateTime<Utc>, end: Option<DateTime<Utc>>| Run {
            start,
            end,
            last_switch: after(i),
            switches: Vec::new(),
            open: false,
        };
        match event {
            // No stop before this start: a crash. It ended before this start.
            AppEvent::Start => {
                if let Some(started) = open.replace(*at) {
                    runs.push(ended(started, None));
                }
            }
            AppEvent::Stop => {
                if let Some(started) = open.take() {
                    runs.push(ended(started, Some((*at).max(started))));
                }
            }
        }
    }
    if let Some(started) = open {
        runs.push(Run {
            start: started,
            end: Some(now.max(started)),
            last_switch: None,
            switches: Vec::new(),
            open: true,
        });
    }
    attribute(history, &mut runs);
    // A crashed run's last sign of life: its last switch.
    for run in &mut runs {
        if run.end.is_none() {
            let last = run
                .switches
                .last()
                .and_then(|&i| history.switches.get(i))
                .map(|s| s.at);
            run.end = Some(last.map_or(run.start, |t| t.max(run.start)));
        }
    }
    runs
}

/// Gives each switch to its run (see [`runs`]).
fn attribute(history: &History, runs: &mut [Run]) {
    // The latest a run's switches may be: its end, or for a crash the next run's start.
    let bounds: Vec<Option<DateTime<Utc>>> = (0..runs.len())
        .map(|i| {
            runs[i].end.or_else(|| {
                runs.get(i + 1)
                    .map(|next| next.start)
                    .filter(|s| *s >= runs[i].start)
            })
        })
        .collect();
    let ids = (history.switch_ids.len() == history.switches.len()).then_some(&history.switch_ids);
    let mut current = 0;
    let mut latest: Option<DateTime<Utc>> = None;
    for (index, switch) in history.switches.iter().enumerate() {
        let id = ids.and_then(|ids| ids.get(index).copied());
        let fits = |run: usize, latest: Option<DateTime<Utc>>| match (
            id,
            runs.get(run).and_then(|r| r.last_switch),
        ) {
            (Some(id), Some(last)) => id <= last,
            _ => {
                latest.is_none_or(|l| switch.at >= l)
                    && bounds
                        .get(run)
                        .copied()
                        .flatten()
                        .is_none_or(|e| switch.at <= e)
            }
        };
        if !fits(current, latest) {
            if let Some(next) = (current + 1..runs.len()).find(|&run| fits(run, None)) {
                current = next;
                latest = None;
            }
        }
        latest = Some(latest.map_or(switch.at, |l| l.max(switch.at)));
        if let Some(run) = runs.get_mut(current) {
            run.switches.push(index);
        }
    }
}

/// Tracked time within `[from, to)`, cut at every switch, run by run in log order.
fn pieces(history: &History, runs: &[Run], from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Piece> {
    let mut pieces = Vec::new();
    // The state carried from one run to the next, and the switch that began it.
    let mut state = INITIAL_STATE;
    let mut began: Option<usize> = None;
    let mut keep = |piece: Piece| {
        let (start, end) = (piece.start.max(from), piece.end.min(to));
        if start < end {
            pieces.push(Piece {
                start,
                end,
                ..piece
            });
        }
    };
    for run in runs {
        let run_end = run.end.unwrap_or(run.start).max(run.start);
        let mut at = run.start;
        for &index in &run.switches {
            let Some(switch) = history.switches.get(index) else {
                continue;
            };
            let when = switch.at.clamp(at, run_end);
            if when > at {
                keep(Piece {
                    state,
                    start: at,
                    end: when,
                    began,
                    ended: Some(index),
                    open: false,
                });
                at = when;
            }
            state = switch.to;
            began = Some(index);
        }
        keep(Piece {
            state,
            start: at,
            end: run_end,
            began,
            ended: None,
            open: run.open,
        });
    }
    pieces
}

fn focus_blocks(history: &History, pieces: &[Piece], now: DateTime<Utc>) -> Vec<FocusBlock> {
    // Contiguous focus pieces make one block (a restart that logged its stop and start at
    // the same instant does not split a block).
    let mut blocks: Vec<Piece> = Vec::new();
    for piece in pieces.iter().filter(|p| p.state == State::Focus) {
        match blocks.last_mut() {
            Some(last) if last.end == piece.start => {
                last.end = piece.end;
                last.ended = piece.ended;
                last.open = piece.open;
            }
            _ => blocks.push(*piece),
        }
    }
    let switch = |i: Option<usize>| i.and_then(|i| history.switches.get(i));
    blocks
        .into_iter()
        .map(|b| FocusBlock {
            start: b.start,
            end: b.end,
            seconds: (b.end - b.start).num_seconds(),
            intent: switch(b.began)
                .filter(|s| s.to == State::Focus)
                .and_then(|s| s.intent.clone()),
            stash: switch(b.ended)
                .filter(|s| s.from == State::Focus)
                .and_then(|s| s.stash.clone()),
            // Cut at the end of a past day, a block that runs on is not open there.
            open: b.open && b.end >= now,
        })
        .collect()
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

#[cfg(test)]
mod tests;
