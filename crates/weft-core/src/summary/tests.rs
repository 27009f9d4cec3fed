//! Summary tests: ordinary days and the tricky ones (a block across midnight, a crash gap,
//! daylight-saving changes in a named zone, an open block), with the Markdown and CSV exports
//! checked as snapshots.

use super::*;
use chrono::TimeZone;
use chrono_tz::Europe::Berlin;
use weft_proto::Source;

/// A time as the wire shows it.
fn wire(t: DateTime<Utc>) -> String {
    weft_proto::time::format(t)
}

fn utc(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// A log built like the app writes it.
#[derive(Default)]
struct Log {
    history: History,
    state: Option<State>,
}

impl Log {
    fn start(self, at: DateTime<Utc>) -> Log {
        self.event(at, AppEvent::Start)
    }
    fn stop(self, at: DateTime<Utc>) -> Log {
        self.event(at, AppEvent::Stop)
    }
    /// As the store records it: with the id of the last switch logged before.
    fn event(mut self, at: DateTime<Utc>, event: AppEvent) -> Log {
        self.history.events.push((at, event));
        let last = self.history.switch_ids.last().copied();
        self.history.event_after.push(last);
        self
    }
    /// A log from before schema 6: no positions, switches go to runs by time.
    fn without_positions(mut self) -> Log {
        self.history.switch_ids.clear();
        self.history.event_after.clear();
        self
    }
    fn switch(
        mut self,
        at: DateTime<Utc>,
        to: State,
        intent: Option<&str>,
        stash: Option<&str>,
    ) -> Log {
        let from = self.state.unwrap_or(INITIAL_STATE);
        self.state = Some(to);
        let id = self.history.switch_ids.len() as i64 + 1;
        self.history.switch_ids.push(id);
        self.history.switches.push(Switch {
            at,
            from,
            to,
            source: Source::Cli,
            intent: intent.map(str::to_owned),
            stash: stash.map(str::to_owned),
            planned_until: None,
        });
        self
    }
    fn focus(self, at: DateTime<Utc>, intent: &str) -> Log {
        self.switch(at, State::Focus, Some(intent), None)
    }
    fn coordinate(self, at: DateTime<Utc>) -> Log {
        self.switch(at, State::Coordination, None, None)
    }
}

fn minutes(n: i64) -> i64 {
    n * 60
}

fn fifteen() -> chrono::Duration {
    chrono::Duration::minutes(DEFAULT_FRAGMENT_MINUTES)
}

#[test]
fn an_ordinary_day() {
    let mut log = Log::default()
        .start(utc(24, 9, 0))
        .focus(utc(24, 9, 10), "refactor parser")
        .switch(
            utc(24, 10, 0),
            State::Coordination,
            None,
            Some("was bisecting at abc"),
        )
        .focus(utc(24, 10, 5), "review")
        .coordinate(utc(24, 10, 12))
        .stop(utc(24, 17, 0));
    log.history.held = vec![utc(24, 9, 20), utc(24, 9, 30), utc(23, 9, 0)];
    log.history.digests = vec![utc(24, 10, 0)];
    log.history.break_throughs = vec![utc(24, 9, 40)];
    log.history.pings_sent = vec![utc(24, 10, 20), utc(25, 9, 0)];
    log.history.pings_received = vec![utc(24, 9, 30), utc(24, 9, 31), utc(24, 11, 0)];
    let d = day(
        &log.history,
        date(2026, 11, 24),
        &Utc,
        utc(25, 8, 0),
        fifteen(),
    );
    assert_eq!(d.date, "2026-11-24");
    assert_eq!(d.focus_seconds, minutes(50 + 7));
    assert_eq!(d.coordination_seconds, minutes(10 + 5 + 408));
    assert_eq!(d.untracked_seconds, minutes(24 * 60 - 480));
    assert_eq!(d.switches, 4);
    assert_eq!(d.focus_blocks.len(), 2);
    assert_eq!(d.longest_focus_seconds, minutes(50));
    assert_eq!(d.fragmented_blocks, 1);
    assert_eq!((d.held, d.digests, d.break_throughs), (2, 1, 1));
    assert_eq!((d.pings_sent, d.pings_received), (1, 3));
    let first = &d.focus_blocks[0];
    assert_eq!(first.intent.as_deref(), Some("refactor parser"));
    assert_eq!(first.stash.as_deref(), Some("was bisecting at abc"));
    assert_eq!(
        (wire(first.start).as_str(), wire(first.end).as_str()),
        ("2026-11-24T09:10:00.000Z", "2026-11-24T10:00:00.000Z")
    );
    assert!(!first.open);

    assert_eq!(
        markdown(&d, &Utc),
        "## 2026-11-24\n\n\
         - Focus: 57 min in 2 blocks (longest 50 min, 1 fragmented)\n\
         - Coordination: 7 h 03 min\n\
         - Untracked: 16 h 00 min\n\
         - Switches: 4\n\
         - Notifications: 2 held, 1 digest, 1 break-through\n\
         - Pings: 1 sent, 3 received\n\
         \n### Focus blocks\n\n\
         - 09:10–10:00 (50 min): refactor parser — left off: was bisecting at abc\n\
         - 10:05–10:12 (7 min): review\n"
    );
    assert_eq!(
        csv_row(&d),
        "2026-11-24,3420,25380,57600,4,2,3000,1,2,1,1,1,3"
    );
    assert_eq!(
        headline(&d),
        "Focus 57 min in 2 blocks (longest 50 min) · coordination 7 h 03 min · 4 switches · 1 break-through"
    );
    let json = serde_json::to_value(&d).unwrap();
    for field in [
        "date",
        "focus_seconds",
        "coordination_seconds",
        "untracked_seconds",
        "switches",
        "focus_blocks",
        "longest_focus_seconds",
        "fragmented_blocks",
        "held",
        "digests",
        "break_throughs",
        "pings_sent",
        "pings_received",
    ] {
        assert!(json.get(field).is_some(), "{field} in {json}");
    }
    for field in ["start", "end", "seconds", "intent", "stash"] {
        assert!(json["focus_blocks"][0].get(field).is_some(), "{field}");
    }
}

#[test]
fn a_block_across_midnight_is_split_between_the_days() {
    let log = Log::default()
        .start(utc(23, 22, 0))
        .focus(utc(23, 23, 0), "release")
        .coordinate(utc(24, 1, 0))
        .stop(utc(24, 1, 30));
    let before = day(
        &log.history,
        date(2026, 11, 23),
        &Utc,
        utc(25, 0, 0),
        fifteen(),
    );
    let after = day(
        &log.history,
        date(2026, 11, 24),
        &Utc,
        utc(25, 0, 0),
        fifteen(),
    );
    assert_eq!(before.focus_seconds, minutes(60));
    assert_eq!(after.focus_seconds, minutes(60));
    assert_eq!(wire(before.focus_blocks[0].end), "2026-11-24T00:00:00.000Z");
    assert_eq!(
        wire(after.focus_blocks[0].start),
        "2026-11-24T00:00:00.000Z"
    );
    assert_eq!(
        after.focus_blocks[0].intent.as_deref(),
        Some("release"),
        "the intent carries over"
    );
    assert_eq!(after.coordination_seconds, minutes(30));
    assert_eq!((before.switches, after.switches), (1, 1));
}

#[test]
fn a_crash_gap_is_untracked_and_focus_resumes_after_it() {
    let log = Log::default()
        .start(utc(24, 9, 0))
        .focus(utc(24, 9, 30), "parser")
        // crash: no stop; the app comes back at 11:00, still in focus
        .start(utc(24, 11, 0))
        .coordinate(utc(24, 11, 30))
        .stop(utc(24, 12, 0));
    let d = day(
        &log.history,
        date(2026, 11, 24),
        &Utc,
        utc(25, 0, 0),
        fifteen(),
    );
    assert_eq!(d.coordination_seconds, minutes(30 + 30));
    assert_eq!(
        d.focus_seconds,
        minutes(30),
        "09:30 (last sign of life) to 11:00 is untracked"
    );
    assert_eq!(d.untracked_seconds, minutes(24 * 60 - 90));
    assert_eq!(d.focus_blocks.len(), 1);
    assert_eq!(wire(d.focus_blocks[0].start), "2026-11-24T11:00:00.000Z");
    assert_eq!(d.focus_blocks[0].intent.as_deref(), Some("parser"));
}

#[test]
fn an_open_block_counts_up_to_now_and_is_not_fragmented() {
    let log = Log::default()
        .start(utc(24, 13, 0))
        .focus(utc(24, 14, 50), "writing");
    let d = day(
        &log.history,
        date(2026, 11, 24),
        &Utc,
        utc(24, 15, 0),
        fifteen(),
    );
    assert_eq!(d.focus_seconds, minutes(10));
    assert_eq!(d.coordination_seconds, minutes(110));
    assert_eq!(d.untracked_seconds, minutes(13 * 60), "only up to now");
    assert!(d.focus_blocks[0].open);
    assert_eq!(d.fragmented_blocks, 0);
    let states: Vec<Option<State>> = d.timeline.iter().map(|s| s.state).collect();
    assert_eq!(
        states,
        [None, Some(State::Coordination), Some(State::Focus)]
    );
    assert_eq!(wire(d.timeline[0].start), "2026-11-24T00:00:00.000Z");
    assert_eq!(
        wire(d.timeline[2].end),
        "2026-11-24T15:00:00.000Z",
        "up to now"
    );
    let later = day(
        &log.history,
        date(2026, 11, 25),
        &Utc,
        utc(24, 15, 0),
        fifteen(),
    );
    assert_eq!(
        later.focus_seconds + later.coordination_seconds + later.untracked_seconds,
        0,
        "the future is empty"
    );
}

#[test]
fn spring_forward_makes_a_23_hour_day() {
    let (start, end) = day_bounds(date(2026, 3, 29), &Berlin);
    assert_eq!(wire(start), "2026-03-28T23:00:00.000Z");
    assert_eq!(wire(end), "2026-03-29T22:00:00.000Z");
    let log = Log::default()
        .start(start - chrono::Duration::hours(1))
        .focus(
            Utc.with_ymd_and_hms(2026, 3, 29, 0, 30, 0).unwrap(),
            "night shift",
        ) // 01:30 CET
        .coordinate(Utc.with_ymd_and_hms(2026, 3, 29, 1, 30, 0).unwrap()) // 03:30 CEST
        .stop(end + chrono::Duration::hours(1));
    let d = day(
        &log.history,
        date(2026, 3, 29),
        &Berlin,
        end + chrono::Duration::days(1),
        fifteen(),
    );
    assert_eq!(
        d.focus_seconds,
        minutes(60),
        "01:30 to 03:30 local is one real hour"
    );
    assert_eq!(d.focus_seconds + d.coordination_seconds, 23 * 3600);
    assert_eq!(d.untracked_seconds, 0);
    let md = markdown(&d, &Berlin);
    assert!(
        md.contains("- 01:30–03:30 (1 h 00 min): night shift"),
        "{md}"
    );
}

#[test]
fn fall_back_makes_a_25_hour_day() {
    let (start, end) = day_bounds(date(2026, 10, 25), &Berlin);
    assert_eq!((end - start).num_hours(), 25);
    let log = Log::default()
        .start(start)
        // 02:30 CEST, then the clock goes back and 02:30 CET comes an hour later.
        .focus(
            Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap(),
            "migration",
        )
        .coordinate(Utc.with_ymd_and_hms(2026, 10, 25, 1, 30, 0).unwrap())
        .stop(end);
    let d = day(
        &log.history,
        date(2026, 10, 25),
        &Berlin,
        end + chrono::Duration::days(1),
        fifteen(),
    );
    assert_eq!(
        d.focus_seconds,
        minutes(60),
        "02:30 to 02:30 local is one real hour"
    );
    assert_eq!(d.focus_seconds + d.coordination_seconds, 25 * 3600);
    let md = markdown(&d, &Berlin);
    assert!(md.contains("- 02:30–02:30 (1 h 00 min): migration"), "{md}");
}

#[test]
fn a_week_is_seven_days_oldest_first() {
    let log = Log::default()
        .start(utc(20, 9, 0))
        .focus(utc(20, 9, 0), "x")
        .stop(utc(20, 10, 0));
    let w = week(
        &log.history,
        date(2026, 11, 24),
        &Utc,
        utc(25, 0, 0),
        fifteen(),
    );
    let dates: Vec<&str> = w.iter().map(|d| d.date.as_str()).collect();
    assert_eq!(
        dates,
        [
            "2026-11-18",
            "2026-11-19",
            "2026-11-20",
            "2026-11-21",
            "2026-11-22",
            "2026-11-23",
            "2026-11-24"
        ]
    );
    assert_eq!(w[2].focus_seconds, minutes(60));
    assert_eq!(w.iter().map(|d| d.focus_seconds).sum::<i64>(), minutes(60));
}

#[test]
fn an_old_log_without_start_events_is_tracked_from_its_first_switch() {
    let log = Log::default()
        .focus(utc(24, 9, 0), "x")
        .coordinate(utc(24, 10, 0))
        .without_positions();
    let d = day(
        &log.history,
        date(2026, 11, 24),
        &Utc,
        utc(24, 12, 0),
        fifteen(),
    );
    assert_eq!(d.focus_seconds, minutes(60));
    assert_eq!(d.coordination_seconds, minutes(120));
}

/// Wall-clock time that did not pass at the desk (a suspend) is logged by the app as a stop
/// where the machine went to sleep and a start where it woke.
#[test]
fn a_suspend_is_untracked_and_splits_the_block() {
    let log = Log::default()
        .start(utc(24, 9, 0))
        .focus(utc(24, 10, 0), "parser")
        // 10:20: suspended; 13:20: resumed, still in focus.
        .stop(utc(24, 10, 20))
        .start(utc(24, 13, 20))
        .coordinate(utc(24, 13, 50))
        .stop(utc(24, 14, 0));
    let d = day(
        &log.history,
        date(2026, 11, 24),
        &Utc,
        utc(25, 0, 0),
        fifteen(),
    );
    assert_eq!(d.focus_seconds, minutes(20 + 30), "not 3 h 50 min");
    assert_eq!(d.coordination_seconds, minutes(60 + 10));
    assert_eq!(d.untracked_seconds, minutes(24 * 60 - 120));
    let blocks: Vec<(String, String, Option<&str>)> = d
        .focus_blocks
        .iter()
        .map(|b| (wire(b.start), wire(b.end), b.intent.as_deref()))
        .collect();
    assert_eq!(
        blocks,
        [
            (
                "2026-11-24T10:00:00.000Z".to_owned(),
                "2026-11-24T10:20:00.000Z".to_owned(),
                Some("parser")
            ),
            (
                "2026-11-24T13:20:00.000Z".to_owned(),
                "2026-11-24T13:50:00.000Z".to_owned(),
                Some("parser")
            ),
        ]
    );
    let states: Vec<Option<State>> = d.timeline.iter().map(|s| s.state).collect();
    assert_eq!(
        states,
        [
            None,
            Some(State::Coordination),
            Some(State::Focus),
            None,
            Some(State::Focus),
            Some(State::Coordination),
            None
        ]
    );
}

/// A planned end that fell inside a suspend is logged at its planned time, between the stop
/// and the start: the run after the gap is in coordination from its first moment.
#[test]
fn a_planned_end_inside_a_suspend_ends_the_block_before_the_wake() {
    let log = Log::default()
        .start(utc(24, 9, 0))
        .focus(utc(24, 10, 0), "parser")
        .stop(utc(24, 10, 20))
        .switch(utc(24, 10, 50), State::Coordination, None, None)
        .start(utc(24, 13, 20))
        .stop(utc(24, 14, 0));
    let d = day(
        &log.history,
        date(2026, 11, 24),
        &Utc,
        utc(25, 0, 0),
        fifteen(),
    );
    assert_eq!(d.focus_seconds, minutes(20));
    assert_eq!(d.coordination_seconds, minutes(60 + 40));
    assert_eq!(d.focus_blocks.len(), 1);
    assert_eq!(d.switches, 2);
}

/// A clock set back by an hour at 10:31: the app logs a stop at 10:31 and a start at 09:31,
/// and the new run's switches come at times the old run already had.
fn stepped_back() -> Log {
    Log::default()
        .start(utc(24, 9, 0))
        .focus(utc(24, 10, 0), "first")
        .coordinate(utc(24, 10, 30))
        .stop(utc(24, 10, 31))
        .start(utc(24, 9, 31))
        .focus(utc(24, 9, 40), "second")
        .coordinate(utc(24, 10, 10))
        .focus(utc(24, 10, 20), "third")
        .stop(utc(24, 10, 25))
}

#[test]
fn a_clock_set_back_neither_merges_nor_drops_blocks() {
    let d = day(
        &stepped_back().history,
        date(2026, 11, 24),
        &Utc,
        utc(25, 0, 0),
        fifteen(),
    );
    let mut blocks: Vec<(Option<&str>, i64)> = d
        .focus_blocks
        .iter()
        .map(|b| (b.intent.as_deref(), b.seconds))
        .collect();
    blocks.sort();
    assert_eq!(
        blocks,
        [
            (Some("first"), minutes(30)),
            (Some("second"), minutes(30)),
            (Some("third"), minutes(5)),
        ]
    );
    assert_eq!(d.focus_seconds, minutes(65));
    // 09:00-10:31 and 09:31-10:25: every minute that passed at the desk counts once.
    assert_eq!(d.focus_seconds + d.coordination_seconds, minutes(91 + 54));
    assert_eq!(d.switches, 5);
    // The timeline stays in time order and never overlaps itself.
    let bounds: Vec<(String, String)> = d
        .timeline
        .iter()
        .map(|s| (wire(s.start), wire(s.end)))
        .collect();
    assert!(bounds.windows(2).all(|w| w[0].1 == w[1].0), "{bounds:?}");
}

/// Without positions (a log from before schema 6) switches still go to runs by time, as far
/// as time can tell them apart.
#[test]
fn a_clock_set_back_in_an_old_log_is_told_apart_by_time() {
    let log = Log::default()
        .start(utc(24, 9, 0))
        .focus(utc(24, 10, 0), "first")
        .coordinate(utc(24, 10, 30))
        .stop(utc(24, 10, 31))
        .start(utc(24, 9, 31))
        .focus(utc(24, 9, 40), "second")
        .coordinate(utc(24, 10, 10))
        .stop(utc(24, 10, 25))
        .without_positions();
    let d = day(
        &log.history,
        date(2026, 11, 24),
        &Utc,
        utc(25, 0, 0),
        fifteen(),
    );
    assert_eq!(d.focus_blocks.len(), 2);
    assert_eq!(d.focus_seconds, minutes(60));
}
