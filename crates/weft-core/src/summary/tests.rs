//! Summary tests: ordinary days and the tricky ones (a block across midnight, a crash gap,
//! daylight-saving changes in a named zone, an open block, suspends, a clock set back). Each
//! writes a log into a real store (`testing::Log`) and checks one snapshot of the day as every
//! surface shows it: the `DaySummary` as JSON, the CLI's text, the Markdown, the CSV row and
//! the headline. `UPDATE_EXPECT=1 cargo test -p weft-core --lib summary` rewrites them.

use super::*;
use crate::testing::Log;
use chrono::TimeZone;
use chrono_tz::Europe::Berlin;
use expect_test::{expect, Expect};

type TestResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn utc(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, m, 0)
        .single()
        .unwrap_or_default()
}

/// A UTC time in 2026 by month, day, hour and minute.
fn utc_in(month: u32, d: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, d, h, m, 0)
        .single()
        .unwrap_or_default()
}

/// The day as every surface shows it.
fn shown<Tz: TimeZone>(day: &DaySummary, zone: &Tz) -> Result<String, serde_json::Error>
where
    Tz::Offset: std::fmt::Display,
{
    Ok(format!(
        "{}\n--- text\n{}--- markdown\n{}--- csv\n{CSV_HEADER}\n{}\n--- headline\n{}\n",
        serde_json::to_string_pretty(day)?,
        text(day, zone),
        markdown(day, zone),
        csv_row(day),
        headline(day)
    ))
}

/// Summarises the local day `date` (`YYYY-MM-DD`) of `log` in `zone` and compares it with
/// `expect`.
fn check_in<Tz: TimeZone>(log: &Log, zone: &Tz, date: &str, expect: Expect) -> TestResult
where
    Tz::Offset: std::fmt::Display,
{
    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")?;
    let days = log.summary(Period::Day(date), zone)?;
    let [day] = days.as_slice() else {
        return Err(format!("{} days for one", days.len()).into());
    };
    expect.assert_eq(&shown(day, zone)?);
    Ok(())
}

/// [`check_in`] UTC.
fn check(log: &Log, date: &str, expect: Expect) -> TestResult {
    check_in(log, &Utc, date, expect)
}

#[test]
fn an_ordinary_day() -> TestResult {
    let mut log = Log::new(utc(25, 8, 0))?;
    log.start(utc(24, 9, 0))?
        .focus(utc(24, 9, 10), "refactor parser")?
        .held(utc(23, 9, 0))?
        .held(utc(24, 9, 20))?
        .held(utc(24, 9, 30))?
        .ping_received(utc(24, 9, 30))?
        .ping_received(utc(24, 9, 31))?
        .break_through(utc(24, 9, 40))?
        .switch(
            utc(24, 10, 0),
            State::Coordination,
            None,
            Some("was bisecting at abc"),
        )?
        .digest(utc(24, 10, 0))?
        .focus(utc(24, 10, 5), "review")?
        .coordinate(utc(24, 10, 12))?
        .ping_sent(utc(24, 10, 20))?
        .ping_received(utc(24, 11, 0))?
        .stop(utc(24, 17, 0))?
        .ping_sent(utc(25, 9, 0))?;
    check(
        &log,
        "2026-11-24",
        expect![[r#"
        {
          "date": "2026-11-24",
          "focus_seconds": 3420,
          "coordination_seconds": 25380,
          "untracked_seconds": 57600,
          "switches": 4,
          "focus_blocks": [
            {
              "start": "2026-11-24T09:10:00.000Z",
              "end": "2026-11-24T10:00:00.000Z",
              "seconds": 3000,
              "intent": "refactor parser",
              "stash": "was bisecting at abc",
              "open": false
            },
            {
              "start": "2026-11-24T10:05:00.000Z",
              "end": "2026-11-24T10:12:00.000Z",
              "seconds": 420,
              "intent": "review",
              "stash": null,
              "open": false
            }
          ],
          "longest_focus_seconds": 3000,
          "fragmented_blocks": 1,
          "held": 2,
          "digests": 1,
          "break_throughs": 1,
          "pings_sent": 1,
          "pings_received": 3,
          "timeline": [
            {
              "state": null,
              "start": "2026-11-24T00:00:00.000Z",
              "end": "2026-11-24T09:00:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T09:00:00.000Z",
              "end": "2026-11-24T09:10:00.000Z"
            },
            {
              "state": "focus",
              "start": "2026-11-24T09:10:00.000Z",
              "end": "2026-11-24T10:00:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T10:00:00.000Z",
              "end": "2026-11-24T10:05:00.000Z"
            },
            {
              "state": "focus",
              "start": "2026-11-24T10:05:00.000Z",
              "end": "2026-11-24T10:12:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T10:12:00.000Z",
              "end": "2026-11-24T17:00:00.000Z"
            },
            {
              "state": null,
              "start": "2026-11-24T17:00:00.000Z",
              "end": "2026-11-25T00:00:00.000Z"
            }
          ]
        }
        --- text
        2026-11-24
          Focus          57 min in 2 blocks (longest 50 min, 1 fragmented)
          Coordination   7 h 03 min
          Untracked      16 h 00 min
          Switches       4
          Notifications  2 held, 1 digests, 1 break-throughs
          Pings          1 sent, 3 received
          09:10–10:00       50 min  refactor parser  · left off: was bisecting at abc
          10:05–10:12        7 min  review
        --- markdown
        ## 2026-11-24

        - Focus: 57 min in 2 blocks (longest 50 min, 1 fragmented)
        - Coordination: 7 h 03 min
        - Untracked: 16 h 00 min
        - Switches: 4
        - Notifications: 2 held, 1 digest, 1 break-through
        - Pings: 1 sent, 3 received

        ### Focus blocks

        - 09:10–10:00 (50 min): refactor parser — left off: was bisecting at abc
        - 10:05–10:12 (7 min): review
        --- csv
        date,focus_seconds,coordination_seconds,untracked_seconds,switches,focus_blocks,longest_focus_seconds,fragmented_blocks,held,digests,break_throughs,pings_sent,pings_received
        2026-11-24,3420,25380,57600,4,2,3000,1,2,1,1,1,3
        --- headline
        Focus 57 min in 2 blocks (longest 50 min) · coordination 7 h 03 min · 4 switches · 1 break-through
    "#]],
    )
}

#[test]
fn a_block_across_midnight_is_split_between_the_days() -> TestResult {
    let mut log = Log::new(utc(25, 0, 0))?;
    log.start(utc(23, 22, 0))?
        .focus(utc(23, 23, 0), "release")?
        .coordinate(utc(24, 1, 0))?
        .stop(utc(24, 1, 30))?;
    check(
        &log,
        "2026-11-23",
        expect![[r#"
        {
          "date": "2026-11-23",
          "focus_seconds": 3600,
          "coordination_seconds": 3600,
          "untracked_seconds": 79200,
          "switches": 1,
          "focus_blocks": [
            {
              "start": "2026-11-23T23:00:00.000Z",
              "end": "2026-11-24T00:00:00.000Z",
              "seconds": 3600,
              "intent": "release",
              "stash": null,
              "open": false
            }
          ],
          "longest_focus_seconds": 3600,
          "fragmented_blocks": 0,
          "held": 0,
          "digests": 0,
          "break_throughs": 0,
          "pings_sent": 0,
          "pings_received": 0,
          "timeline": [
            {
              "state": null,
              "start": "2026-11-23T00:00:00.000Z",
              "end": "2026-11-23T22:00:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-23T22:00:00.000Z",
              "end": "2026-11-23T23:00:00.000Z"
            },
            {
              "state": "focus",
              "start": "2026-11-23T23:00:00.000Z",
              "end": "2026-11-24T00:00:00.000Z"
            }
          ]
        }
        --- text
        2026-11-23
          Focus          1 h 00 min in 1 block (longest 1 h 00 min, 0 fragmented)
          Coordination   1 h 00 min
          Untracked      22 h 00 min
          Switches       1
          Notifications  0 held, 0 digests, 0 break-throughs
          Pings          0 sent, 0 received
          23:00–00:00   1 h 00 min  release
        --- markdown
        ## 2026-11-23

        - Focus: 1 h 00 min in 1 block (longest 1 h 00 min, 0 fragmented)
        - Coordination: 1 h 00 min
        - Untracked: 22 h 00 min
        - Switches: 1
        - Notifications: 0 held, 0 digests, 0 break-throughs

        ### Focus blocks

        - 23:00–00:00 (1 h 00 min): release
        --- csv
        date,focus_seconds,coordination_seconds,untracked_seconds,switches,focus_blocks,longest_focus_seconds,fragmented_blocks,held,digests,break_throughs,pings_sent,pings_received
        2026-11-23,3600,3600,79200,1,1,3600,0,0,0,0,0,0
        --- headline
        Focus 1 h 00 min in 1 block (longest 1 h 00 min) · coordination 1 h 00 min · 1 switch · 0 break-throughs
    "#]],
    )?;
    // The intent carries over.
    check(
        &log,
        "2026-11-24",
        expect![[r#"
        {
          "date": "2026-11-24",
          "focus_seconds": 3600,
          "coordination_seconds": 1800,
          "untracked_seconds": 81000,
          "switches": 1,
          "focus_blocks": [
            {
              "start": "2026-11-24T00:00:00.000Z",
              "end": "2026-11-24T01:00:00.000Z",
              "seconds": 3600,
              "intent": "release",
              "stash": null,
              "open": false
            }
          ],
          "longest_focus_seconds": 3600,
          "fragmented_blocks": 0,
          "held": 0,
          "digests": 0,
          "break_throughs": 0,
          "pings_sent": 0,
          "pings_received": 0,
          "timeline": [
            {
              "state": "focus",
              "start": "2026-11-24T00:00:00.000Z",
              "end": "2026-11-24T01:00:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T01:00:00.000Z",
              "end": "2026-11-24T01:30:00.000Z"
            },
            {
              "state": null,
              "start": "2026-11-24T01:30:00.000Z",
              "end": "2026-11-25T00:00:00.000Z"
            }
          ]
        }
        --- text
        2026-11-24
          Focus          1 h 00 min in 1 block (longest 1 h 00 min, 0 fragmented)
          Coordination   30 min
          Untracked      22 h 30 min
          Switches       1
          Notifications  0 held, 0 digests, 0 break-throughs
          Pings          0 sent, 0 received
          00:00–01:00   1 h 00 min  release
        --- markdown
        ## 2026-11-24

        - Focus: 1 h 00 min in 1 block (longest 1 h 00 min, 0 fragmented)
        - Coordination: 30 min
        - Untracked: 22 h 30 min
        - Switches: 1
        - Notifications: 0 held, 0 digests, 0 break-throughs

        ### Focus blocks

        - 00:00–01:00 (1 h 00 min): release
        --- csv
        date,focus_seconds,coordination_seconds,untracked_seconds,switches,focus_blocks,longest_focus_seconds,fragmented_blocks,held,digests,break_throughs,pings_sent,pings_received
        2026-11-24,3600,1800,81000,1,1,3600,0,0,0,0,0,0
        --- headline
        Focus 1 h 00 min in 1 block (longest 1 h 00 min) · coordination 30 min · 1 switch · 0 break-throughs
    "#]],
    )
}

#[test]
fn a_crash_gap_is_untracked_and_focus_resumes_after_it() -> TestResult {
    let mut log = Log::new(utc(25, 0, 0))?;
    log.start(utc(24, 9, 0))?
        .focus(utc(24, 9, 30), "parser")?
        // crash: no stop; the app comes back at 11:00, still in focus. 09:30 (the last sign
        // of life) to 11:00 is untracked.
        .start(utc(24, 11, 0))?
        .coordinate(utc(24, 11, 30))?
        .stop(utc(24, 12, 0))?;
    check(
        &log,
        "2026-11-24",
        expect![[r#"
        {
          "date": "2026-11-24",
          "focus_seconds": 1800,
          "coordination_seconds": 3600,
          "untracked_seconds": 81000,
          "switches": 2,
          "focus_blocks": [
            {
              "start": "2026-11-24T11:00:00.000Z",
              "end": "2026-11-24T11:30:00.000Z",
              "seconds": 1800,
              "intent": "parser",
              "stash": null,
              "open": false
            }
          ],
          "longest_focus_seconds": 1800,
          "fragmented_blocks": 0,
          "held": 0,
          "digests": 0,
          "break_throughs": 0,
          "pings_sent": 0,
          "pings_received": 0,
          "timeline": [
            {
              "state": null,
              "start": "2026-11-24T00:00:00.000Z",
              "end": "2026-11-24T09:00:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T09:00:00.000Z",
              "end": "2026-11-24T09:30:00.000Z"
            },
            {
              "state": null,
              "start": "2026-11-24T09:30:00.000Z",
              "end": "2026-11-24T11:00:00.000Z"
            },
            {
              "state": "focus",
              "start": "2026-11-24T11:00:00.000Z",
              "end": "2026-11-24T11:30:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T11:30:00.000Z",
              "end": "2026-11-24T12:00:00.000Z"
            },
            {
              "state": null,
              "start": "2026-11-24T12:00:00.000Z",
              "end": "2026-11-25T00:00:00.000Z"
            }
          ]
        }
        --- text
        2026-11-24
          Focus          30 min in 1 block (longest 30 min, 0 fragmented)
          Coordination   1 h 00 min
          Untracked      22 h 30 min
          Switches       2
          Notifications  0 held, 0 digests, 0 break-throughs
          Pings          0 sent, 0 received
          11:00–11:30       30 min  parser
        --- markdown
        ## 2026-11-24

        - Focus: 30 min in 1 block (longest 30 min, 0 fragmented)
        - Coordination: 1 h 00 min
        - Untracked: 22 h 30 min
        - Switches: 2
        - Notifications: 0 held, 0 digests, 0 break-throughs

        ### Focus blocks

        - 11:00–11:30 (30 min): parser
        --- csv
        date,focus_seconds,coordination_seconds,untracked_seconds,switches,focus_blocks,longest_focus_seconds,fragmented_blocks,held,digests,break_throughs,pings_sent,pings_received
        2026-11-24,1800,3600,81000,2,1,1800,0,0,0,0,0,0
        --- headline
        Focus 30 min in 1 block (longest 30 min) · coordination 1 h 00 min · 2 switches · 0 break-throughs
    "#]],
    )
}

#[test]
fn an_open_block_counts_up_to_now_and_is_not_fragmented() -> TestResult {
    let mut log = Log::new(utc(24, 15, 0))?;
    log.start(utc(24, 13, 0))?
        .focus(utc(24, 14, 50), "writing")?;
    // Untracked only up to now; the timeline ends now.
    check(
        &log,
        "2026-11-24",
        expect![[r#"
        {
          "date": "2026-11-24",
          "focus_seconds": 600,
          "coordination_seconds": 6600,
          "untracked_seconds": 46800,
          "switches": 1,
          "focus_blocks": [
            {
              "start": "2026-11-24T14:50:00.000Z",
              "end": "2026-11-24T15:00:00.000Z",
              "seconds": 600,
              "intent": "writing",
              "stash": null,
              "open": true
            }
          ],
          "longest_focus_seconds": 600,
          "fragmented_blocks": 0,
          "held": 0,
          "digests": 0,
          "break_throughs": 0,
          "pings_sent": 0,
          "pings_received": 0,
          "timeline": [
            {
              "state": null,
              "start": "2026-11-24T00:00:00.000Z",
              "end": "2026-11-24T13:00:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T13:00:00.000Z",
              "end": "2026-11-24T14:50:00.000Z"
            },
            {
              "state": "focus",
              "start": "2026-11-24T14:50:00.000Z",
              "end": "2026-11-24T15:00:00.000Z"
            }
          ]
        }
        --- text
        2026-11-24
          Focus          10 min in 1 block (longest 10 min, 0 fragmented)
          Coordination   1 h 50 min
          Untracked      13 h 00 min
          Switches       1
          Notifications  0 held, 0 digests, 0 break-throughs
          Pings          0 sent, 0 received
          14:50–now         10 min  writing
        --- markdown
        ## 2026-11-24

        - Focus: 10 min in 1 block (longest 10 min, 0 fragmented)
        - Coordination: 1 h 50 min
        - Untracked: 13 h 00 min
        - Switches: 1
        - Notifications: 0 held, 0 digests, 0 break-throughs

        ### Focus blocks

        - 14:50–now (10 min): writing
        --- csv
        date,focus_seconds,coordination_seconds,untracked_seconds,switches,focus_blocks,longest_focus_seconds,fragmented_blocks,held,digests,break_throughs,pings_sent,pings_received
        2026-11-24,600,6600,46800,1,1,600,0,0,0,0,0,0
        --- headline
        Focus 10 min in 1 block (longest 10 min) · coordination 1 h 50 min · 1 switch · 0 break-throughs
    "#]],
    )?;
    // The future is empty.
    check(
        &log,
        "2026-11-25",
        expect![[r#"
        {
          "date": "2026-11-25",
          "focus_seconds": 0,
          "coordination_seconds": 0,
          "untracked_seconds": 0,
          "switches": 0,
          "focus_blocks": [],
          "longest_focus_seconds": 0,
          "fragmented_blocks": 0,
          "held": 0,
          "digests": 0,
          "break_throughs": 0,
          "pings_sent": 0,
          "pings_received": 0,
          "timeline": []
        }
        --- text
        2026-11-25
          Focus          0 min in 0 blocks (longest 0 min, 0 fragmented)
          Coordination   0 min
          Untracked      0 min
          Switches       0
          Notifications  0 held, 0 digests, 0 break-throughs
          Pings          0 sent, 0 received
        --- markdown
        ## 2026-11-25

        - Focus: 0 min in 0 blocks (longest 0 min, 0 fragmented)
        - Coordination: 0 min
        - Untracked: 0 min
        - Switches: 0
        - Notifications: 0 held, 0 digests, 0 break-throughs
        --- csv
        date,focus_seconds,coordination_seconds,untracked_seconds,switches,focus_blocks,longest_focus_seconds,fragmented_blocks,held,digests,break_throughs,pings_sent,pings_received
        2026-11-25,0,0,0,0,0,0,0,0,0,0,0,0
        --- headline
        Focus 0 min in 0 blocks (longest 0 min) · coordination 0 min · 0 switches · 0 break-throughs
    "#]],
    )
}

#[test]
fn spring_forward_makes_a_23_hour_day() -> TestResult {
    // The day runs from 2026-03-28T23:00Z to 2026-03-29T22:00Z.
    let mut log = Log::new(utc_in(3, 30, 22, 0))?;
    log.start(utc_in(3, 28, 22, 0))?
        .focus(utc_in(3, 29, 0, 30), "night shift")? // 01:30 CET
        .coordinate(utc_in(3, 29, 1, 30))? // 03:30 CEST: one real hour later
        .stop(utc_in(3, 29, 23, 0))?;
    check_in(
        &log,
        &Berlin,
        "2026-03-29",
        expect![[r#"
        {
          "date": "2026-03-29",
          "focus_seconds": 3600,
          "coordination_seconds": 79200,
          "untracked_seconds": 0,
          "switches": 2,
          "focus_blocks": [
            {
              "start": "2026-03-29T00:30:00.000Z",
              "end": "2026-03-29T01:30:00.000Z",
              "seconds": 3600,
              "intent": "night shift",
              "stash": null,
              "open": false
            }
          ],
          "longest_focus_seconds": 3600,
          "fragmented_blocks": 0,
          "held": 0,
          "digests": 0,
          "break_throughs": 0,
          "pings_sent": 0,
          "pings_received": 0,
          "timeline": [
            {
              "state": "coordination",
              "start": "2026-03-28T23:00:00.000Z",
              "end": "2026-03-29T00:30:00.000Z"
            },
            {
              "state": "focus",
              "start": "2026-03-29T00:30:00.000Z",
              "end": "2026-03-29T01:30:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-03-29T01:30:00.000Z",
              "end": "2026-03-29T22:00:00.000Z"
            }
          ]
        }
        --- text
        2026-03-29
          Focus          1 h 00 min in 1 block (longest 1 h 00 min, 0 fragmented)
          Coordination   22 h 00 min
          Untracked      0 min
          Switches       2
          Notifications  0 held, 0 digests, 0 break-throughs
          Pings          0 sent, 0 received
          01:30–03:30   1 h 00 min  night shift
        --- markdown
        ## 2026-03-29

        - Focus: 1 h 00 min in 1 block (longest 1 h 00 min, 0 fragmented)
        - Coordination: 22 h 00 min
        - Untracked: 0 min
        - Switches: 2
        - Notifications: 0 held, 0 digests, 0 break-throughs

        ### Focus blocks

        - 01:30–03:30 (1 h 00 min): night shift
        --- csv
        date,focus_seconds,coordination_seconds,untracked_seconds,switches,focus_blocks,longest_focus_seconds,fragmented_blocks,held,digests,break_throughs,pings_sent,pings_received
        2026-03-29,3600,79200,0,2,1,3600,0,0,0,0,0,0
        --- headline
        Focus 1 h 00 min in 1 block (longest 1 h 00 min) · coordination 22 h 00 min · 2 switches · 0 break-throughs
    "#]],
    )
}

#[test]
fn fall_back_makes_a_25_hour_day() -> TestResult {
    // The day runs from 2026-10-24T22:00Z to 2026-10-25T23:00Z.
    let mut log = Log::new(utc_in(10, 26, 23, 0))?;
    log.start(utc_in(10, 24, 22, 0))?
        // 02:30 CEST, then the clock goes back and 02:30 CET comes an hour later.
        .focus(utc_in(10, 25, 0, 30), "migration")?
        .coordinate(utc_in(10, 25, 1, 30))?
        .stop(utc_in(10, 25, 23, 0))?;
    check_in(
        &log,
        &Berlin,
        "2026-10-25",
        expect![[r#"
        {
          "date": "2026-10-25",
          "focus_seconds": 3600,
          "coordination_seconds": 86400,
          "untracked_seconds": 0,
          "switches": 2,
          "focus_blocks": [
            {
              "start": "2026-10-25T00:30:00.000Z",
              "end": "2026-10-25T01:30:00.000Z",
              "seconds": 3600,
              "intent": "migration",
              "stash": null,
              "open": false
            }
          ],
          "longest_focus_seconds": 3600,
          "fragmented_blocks": 0,
          "held": 0,
          "digests": 0,
          "break_throughs": 0,
          "pings_sent": 0,
          "pings_received": 0,
          "timeline": [
            {
              "state": "coordination",
              "start": "2026-10-24T22:00:00.000Z",
              "end": "2026-10-25T00:30:00.000Z"
            },
            {
              "state": "focus",
              "start": "2026-10-25T00:30:00.000Z",
              "end": "2026-10-25T01:30:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-10-25T01:30:00.000Z",
              "end": "2026-10-25T23:00:00.000Z"
            }
          ]
        }
        --- text
        2026-10-25
          Focus          1 h 00 min in 1 block (longest 1 h 00 min, 0 fragmented)
          Coordination   24 h 00 min
          Untracked      0 min
          Switches       2
          Notifications  0 held, 0 digests, 0 break-throughs
          Pings          0 sent, 0 received
          02:30–02:30   1 h 00 min  migration
        --- markdown
        ## 2026-10-25

        - Focus: 1 h 00 min in 1 block (longest 1 h 00 min, 0 fragmented)
        - Coordination: 24 h 00 min
        - Untracked: 0 min
        - Switches: 2
        - Notifications: 0 held, 0 digests, 0 break-throughs

        ### Focus blocks

        - 02:30–02:30 (1 h 00 min): migration
        --- csv
        date,focus_seconds,coordination_seconds,untracked_seconds,switches,focus_blocks,longest_focus_seconds,fragmented_blocks,held,digests,break_throughs,pings_sent,pings_received
        2026-10-25,3600,86400,0,2,1,3600,0,0,0,0,0,0
        --- headline
        Focus 1 h 00 min in 1 block (longest 1 h 00 min) · coordination 24 h 00 min · 2 switches · 0 break-throughs
    "#]],
    )
}

#[test]
fn a_week_is_seven_days_oldest_first() -> TestResult {
    let mut log = Log::new(utc(25, 0, 0))?;
    log.start(utc(20, 9, 0))?
        .focus(utc(20, 9, 0), "x")?
        .stop(utc(20, 10, 0))?;
    let date = NaiveDate::from_ymd_opt(2026, 11, 24).ok_or("no date")?;
    let week = log.summary(Period::WeekEnding(date), &Utc)?;
    let rows: Vec<String> = week.iter().map(csv_row).collect();
    expect![[r#"
        2026-11-18,0,0,86400,0,0,0,0,0,0,0,0,0
        2026-11-19,0,0,86400,0,0,0,0,0,0,0,0,0
        2026-11-20,3600,0,82800,1,1,3600,0,0,0,0,0,0
        2026-11-21,0,0,86400,0,0,0,0,0,0,0,0,0
        2026-11-22,0,0,86400,0,0,0,0,0,0,0,0,0
        2026-11-23,0,0,86400,0,0,0,0,0,0,0,0,0
        2026-11-24,0,0,86400,0,0,0,0,0,0,0,0,0"#]]
    .assert_eq(&rows.join("\n"));
    Ok(())
}

#[test]
fn other_apps_are_counted_per_app_the_most_first() -> TestResult {
    use weft_proto::Disposition::{BreakThrough, Delivered, Held};
    let mut log = Log::new(utc(25, 8, 0))?;
    log.start(utc(24, 9, 0))?
        .observed(utc(24, 9, 5), "Slack", Delivered)?
        .focus(utc(24, 9, 10), "parser")?
        .observed(utc(24, 9, 20), "Slack", Held)?
        .observed(utc(24, 9, 21), "Thunderbird", Held)?
        .observed(utc(24, 9, 22), "slack", Held)?
        .transient(utc(24, 9, 23), "Slack", Held)?
        .observed(utc(24, 9, 24), "PagerDuty", BreakThrough)?
        .transient(utc(24, 9, 25), "Calendar", BreakThrough)?
        .held(utc(24, 9, 30))?
        .coordinate(utc(24, 12, 20))?
        .digest(utc(24, 12, 20))?
        .observed(utc(24, 12, 30), "Thunderbird", Delivered)?
        .observed(utc(23, 9, 30), "Slack", Held)?
        .stop(utc(24, 17, 0))?;
    check(
        &log,
        "2026-11-24",
        expect![[r#"
        {
          "date": "2026-11-24",
          "focus_seconds": 11400,
          "coordination_seconds": 17400,
          "untracked_seconds": 57600,
          "switches": 2,
          "focus_blocks": [
            {
              "start": "2026-11-24T09:10:00.000Z",
              "end": "2026-11-24T12:20:00.000Z",
              "seconds": 11400,
              "intent": "parser",
              "stash": null,
              "open": false
            }
          ],
          "longest_focus_seconds": 11400,
          "fragmented_blocks": 0,
          "held": 5,
          "digests": 1,
          "break_throughs": 2,
          "pings_sent": 0,
          "pings_received": 0,
          "timeline": [
            {
              "state": null,
              "start": "2026-11-24T00:00:00.000Z",
              "end": "2026-11-24T09:00:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T09:00:00.000Z",
              "end": "2026-11-24T09:10:00.000Z"
            },
            {
              "state": "focus",
              "start": "2026-11-24T09:10:00.000Z",
              "end": "2026-11-24T12:20:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T12:20:00.000Z",
              "end": "2026-11-24T17:00:00.000Z"
            },
            {
              "state": null,
              "start": "2026-11-24T17:00:00.000Z",
              "end": "2026-11-25T00:00:00.000Z"
            }
          ],
          "held_by_app": [
            {
              "app": "Slack",
              "held": 3,
              "break_throughs": 0
            },
            {
              "app": "Calendar",
              "held": 0,
              "break_throughs": 1
            },
            {
              "app": "PagerDuty",
              "held": 0,
              "break_throughs": 1
            },
            {
              "app": "Thunderbird",
              "held": 1,
              "break_throughs": 0
            }
          ]
        }
        --- text
        2026-11-24
          Focus          3 h 10 min in 1 block (longest 3 h 10 min, 0 fragmented)
          Coordination   4 h 50 min
          Untracked      16 h 00 min
          Switches       2
          Notifications  5 held, 1 digests, 2 break-throughs
          Pings          0 sent, 0 received
          Held 4 notifications from 2 apps during 3 h 10 min of focus
          09:10–12:20   3 h 10 min  parser
        --- markdown
        ## 2026-11-24

        - Focus: 3 h 10 min in 1 block (longest 3 h 10 min, 0 fragmented)
        - Coordination: 4 h 50 min
        - Untracked: 16 h 00 min
        - Switches: 2
        - Notifications: 5 held, 1 digest, 2 break-throughs
        - Held 4 notifications from 2 apps during 3 h 10 min of focus

        ### Focus blocks

        - 09:10–12:20 (3 h 10 min): parser
        --- csv
        date,focus_seconds,coordination_seconds,untracked_seconds,switches,focus_blocks,longest_focus_seconds,fragmented_blocks,held,digests,break_throughs,pings_sent,pings_received
        2026-11-24,11400,17400,57600,2,1,11400,0,5,1,2,0,0
        --- headline
        Focus 3 h 10 min in 1 block (longest 3 h 10 min) · coordination 4 h 50 min · 2 switches · 2 break-throughs
    "#]],
    )
}

#[test]
fn an_old_log_without_start_events_is_tracked_from_its_first_switch() -> TestResult {
    let mut log = Log::new(utc(24, 12, 0))?;
    log.focus(utc(24, 9, 0), "x")?.coordinate(utc(24, 10, 0))?;
    check(
        &log,
        "2026-11-24",
        expect![[r#"
        {
          "date": "2026-11-24",
          "focus_seconds": 3600,
          "coordination_seconds": 7200,
          "untracked_seconds": 32400,
          "switches": 2,
          "focus_blocks": [
            {
              "start": "2026-11-24T09:00:00.000Z",
              "end": "2026-11-24T10:00:00.000Z",
              "seconds": 3600,
              "intent": "x",
              "stash": null,
              "open": false
            }
          ],
          "longest_focus_seconds": 3600,
          "fragmented_blocks": 0,
          "held": 0,
          "digests": 0,
          "break_throughs": 0,
          "pings_sent": 0,
          "pings_received": 0,
          "timeline": [
            {
              "state": null,
              "start": "2026-11-24T00:00:00.000Z",
              "end": "2026-11-24T09:00:00.000Z"
            },
            {
              "state": "focus",
              "start": "2026-11-24T09:00:00.000Z",
              "end": "2026-11-24T10:00:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T10:00:00.000Z",
              "end": "2026-11-24T12:00:00.000Z"
            }
          ]
        }
        --- text
        2026-11-24
          Focus          1 h 00 min in 1 block (longest 1 h 00 min, 0 fragmented)
          Coordination   2 h 00 min
          Untracked      9 h 00 min
          Switches       2
          Notifications  0 held, 0 digests, 0 break-throughs
          Pings          0 sent, 0 received
          09:00–10:00   1 h 00 min  x
        --- markdown
        ## 2026-11-24

        - Focus: 1 h 00 min in 1 block (longest 1 h 00 min, 0 fragmented)
        - Coordination: 2 h 00 min
        - Untracked: 9 h 00 min
        - Switches: 2
        - Notifications: 0 held, 0 digests, 0 break-throughs

        ### Focus blocks

        - 09:00–10:00 (1 h 00 min): x
        --- csv
        date,focus_seconds,coordination_seconds,untracked_seconds,switches,focus_blocks,longest_focus_seconds,fragmented_blocks,held,digests,break_throughs,pings_sent,pings_received
        2026-11-24,3600,7200,32400,2,1,3600,0,0,0,0,0,0
        --- headline
        Focus 1 h 00 min in 1 block (longest 1 h 00 min) · coordination 2 h 00 min · 2 switches · 0 break-throughs
    "#]],
    )
}

/// Wall-clock time that did not pass at the desk (a suspend) is logged by the app as a stop
/// where the machine went to sleep and a start where it woke.
#[test]
fn a_suspend_is_untracked_and_splits_the_block() -> TestResult {
    let mut log = Log::new(utc(25, 0, 0))?;
    log.start(utc(24, 9, 0))?
        .focus(utc(24, 10, 0), "parser")?
        // 10:20: suspended; 13:20: resumed, still in focus. Focus is 50 min, not 3 h 50 min.
        .stop(utc(24, 10, 20))?
        .start(utc(24, 13, 20))?
        .coordinate(utc(24, 13, 50))?
        .stop(utc(24, 14, 0))?;
    check(
        &log,
        "2026-11-24",
        expect![[r#"
        {
          "date": "2026-11-24",
          "focus_seconds": 3000,
          "coordination_seconds": 4200,
          "untracked_seconds": 79200,
          "switches": 2,
          "focus_blocks": [
            {
              "start": "2026-11-24T10:00:00.000Z",
              "end": "2026-11-24T10:20:00.000Z",
              "seconds": 1200,
              "intent": "parser",
              "stash": null,
              "open": false
            },
            {
              "start": "2026-11-24T13:20:00.000Z",
              "end": "2026-11-24T13:50:00.000Z",
              "seconds": 1800,
              "intent": "parser",
              "stash": null,
              "open": false
            }
          ],
          "longest_focus_seconds": 1800,
          "fragmented_blocks": 0,
          "held": 0,
          "digests": 0,
          "break_throughs": 0,
          "pings_sent": 0,
          "pings_received": 0,
          "timeline": [
            {
              "state": null,
              "start": "2026-11-24T00:00:00.000Z",
              "end": "2026-11-24T09:00:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T09:00:00.000Z",
              "end": "2026-11-24T10:00:00.000Z"
            },
            {
              "state": "focus",
              "start": "2026-11-24T10:00:00.000Z",
              "end": "2026-11-24T10:20:00.000Z"
            },
            {
              "state": null,
              "start": "2026-11-24T10:20:00.000Z",
              "end": "2026-11-24T13:20:00.000Z"
            },
            {
              "state": "focus",
              "start": "2026-11-24T13:20:00.000Z",
              "end": "2026-11-24T13:50:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T13:50:00.000Z",
              "end": "2026-11-24T14:00:00.000Z"
            },
            {
              "state": null,
              "start": "2026-11-24T14:00:00.000Z",
              "end": "2026-11-25T00:00:00.000Z"
            }
          ]
        }
        --- text
        2026-11-24
          Focus          50 min in 2 blocks (longest 30 min, 0 fragmented)
          Coordination   1 h 10 min
          Untracked      22 h 00 min
          Switches       2
          Notifications  0 held, 0 digests, 0 break-throughs
          Pings          0 sent, 0 received
          10:00–10:20       20 min  parser
          13:20–13:50       30 min  parser
        --- markdown
        ## 2026-11-24

        - Focus: 50 min in 2 blocks (longest 30 min, 0 fragmented)
        - Coordination: 1 h 10 min
        - Untracked: 22 h 00 min
        - Switches: 2
        - Notifications: 0 held, 0 digests, 0 break-throughs

        ### Focus blocks

        - 10:00–10:20 (20 min): parser
        - 13:20–13:50 (30 min): parser
        --- csv
        date,focus_seconds,coordination_seconds,untracked_seconds,switches,focus_blocks,longest_focus_seconds,fragmented_blocks,held,digests,break_throughs,pings_sent,pings_received
        2026-11-24,3000,4200,79200,2,2,1800,0,0,0,0,0,0
        --- headline
        Focus 50 min in 2 blocks (longest 30 min) · coordination 1 h 10 min · 2 switches · 0 break-throughs
    "#]],
    )
}

/// A planned end that fell inside a suspend is logged at its planned time, between the stop
/// and the start: the run after the gap is in coordination from its first moment.
#[test]
fn a_planned_end_inside_a_suspend_ends_the_block_before_the_wake() -> TestResult {
    let mut log = Log::new(utc(25, 0, 0))?;
    log.start(utc(24, 9, 0))?
        .focus(utc(24, 10, 0), "parser")?
        .stop(utc(24, 10, 20))?
        .coordinate(utc(24, 10, 50))?
        .start(utc(24, 13, 20))?
        .stop(utc(24, 14, 0))?;
    check(
        &log,
        "2026-11-24",
        expect![[r#"
        {
          "date": "2026-11-24",
          "focus_seconds": 1200,
          "coordination_seconds": 6000,
          "untracked_seconds": 79200,
          "switches": 2,
          "focus_blocks": [
            {
              "start": "2026-11-24T10:00:00.000Z",
              "end": "2026-11-24T10:20:00.000Z",
              "seconds": 1200,
              "intent": "parser",
              "stash": null,
              "open": false
            }
          ],
          "longest_focus_seconds": 1200,
          "fragmented_blocks": 0,
          "held": 0,
          "digests": 0,
          "break_throughs": 0,
          "pings_sent": 0,
          "pings_received": 0,
          "timeline": [
            {
              "state": null,
              "start": "2026-11-24T00:00:00.000Z",
              "end": "2026-11-24T09:00:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T09:00:00.000Z",
              "end": "2026-11-24T10:00:00.000Z"
            },
            {
              "state": "focus",
              "start": "2026-11-24T10:00:00.000Z",
              "end": "2026-11-24T10:20:00.000Z"
            },
            {
              "state": null,
              "start": "2026-11-24T10:20:00.000Z",
              "end": "2026-11-24T13:20:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T13:20:00.000Z",
              "end": "2026-11-24T14:00:00.000Z"
            },
            {
              "state": null,
              "start": "2026-11-24T14:00:00.000Z",
              "end": "2026-11-25T00:00:00.000Z"
            }
          ]
        }
        --- text
        2026-11-24
          Focus          20 min in 1 block (longest 20 min, 0 fragmented)
          Coordination   1 h 40 min
          Untracked      22 h 00 min
          Switches       2
          Notifications  0 held, 0 digests, 0 break-throughs
          Pings          0 sent, 0 received
          10:00–10:20       20 min  parser
        --- markdown
        ## 2026-11-24

        - Focus: 20 min in 1 block (longest 20 min, 0 fragmented)
        - Coordination: 1 h 40 min
        - Untracked: 22 h 00 min
        - Switches: 2
        - Notifications: 0 held, 0 digests, 0 break-throughs

        ### Focus blocks

        - 10:00–10:20 (20 min): parser
        --- csv
        date,focus_seconds,coordination_seconds,untracked_seconds,switches,focus_blocks,longest_focus_seconds,fragmented_blocks,held,digests,break_throughs,pings_sent,pings_received
        2026-11-24,1200,6000,79200,2,1,1200,0,0,0,0,0,0
        --- headline
        Focus 20 min in 1 block (longest 20 min) · coordination 1 h 40 min · 2 switches · 0 break-throughs
    "#]],
    )
}

/// A clock set back by an hour at 10:31: the app logs a stop at 10:31 and a start at 09:31,
/// and the new run's switches come at times the old run already had.
#[test]
fn a_clock_set_back_neither_merges_nor_drops_blocks() -> TestResult {
    let mut log = Log::new(utc(25, 0, 0))?;
    log.start(utc(24, 9, 0))?
        .focus(utc(24, 10, 0), "first")?
        .coordinate(utc(24, 10, 30))?
        .stop(utc(24, 10, 31))?
        .start(utc(24, 9, 31))?
        .focus(utc(24, 9, 40), "second")?
        .coordinate(utc(24, 10, 10))?
        .focus(utc(24, 10, 20), "third")?
        .stop(utc(24, 10, 25))?;
    // 09:00-10:31 and 09:31-10:25: every minute that passed at the desk counts once (145 min
    // of focus and coordination); the timeline stays in time order and never overlaps itself.
    check(
        &log,
        "2026-11-24",
        expect![[r#"
        {
          "date": "2026-11-24",
          "focus_seconds": 3900,
          "coordination_seconds": 4800,
          "untracked_seconds": 77700,
          "switches": 5,
          "focus_blocks": [
            {
              "start": "2026-11-24T10:00:00.000Z",
              "end": "2026-11-24T10:30:00.000Z",
              "seconds": 1800,
              "intent": "first",
              "stash": null,
              "open": false
            },
            {
              "start": "2026-11-24T09:40:00.000Z",
              "end": "2026-11-24T10:10:00.000Z",
              "seconds": 1800,
              "intent": "second",
              "stash": null,
              "open": false
            },
            {
              "start": "2026-11-24T10:20:00.000Z",
              "end": "2026-11-24T10:25:00.000Z",
              "seconds": 300,
              "intent": "third",
              "stash": null,
              "open": false
            }
          ],
          "longest_focus_seconds": 1800,
          "fragmented_blocks": 1,
          "held": 0,
          "digests": 0,
          "break_throughs": 0,
          "pings_sent": 0,
          "pings_received": 0,
          "timeline": [
            {
              "state": null,
              "start": "2026-11-24T00:00:00.000Z",
              "end": "2026-11-24T09:00:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T09:00:00.000Z",
              "end": "2026-11-24T10:00:00.000Z"
            },
            {
              "state": "focus",
              "start": "2026-11-24T10:00:00.000Z",
              "end": "2026-11-24T10:10:00.000Z"
            },
            {
              "state": "focus",
              "start": "2026-11-24T10:10:00.000Z",
              "end": "2026-11-24T10:30:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T10:30:00.000Z",
              "end": "2026-11-24T10:31:00.000Z"
            },
            {
              "state": null,
              "start": "2026-11-24T10:31:00.000Z",
              "end": "2026-11-25T00:00:00.000Z"
            }
          ]
        }
        --- text
        2026-11-24
          Focus          1 h 05 min in 3 blocks (longest 30 min, 1 fragmented)
          Coordination   1 h 20 min
          Untracked      21 h 35 min
          Switches       5
          Notifications  0 held, 0 digests, 0 break-throughs
          Pings          0 sent, 0 received
          10:00–10:30       30 min  first
          09:40–10:10       30 min  second
          10:20–10:25        5 min  third
        --- markdown
        ## 2026-11-24

        - Focus: 1 h 05 min in 3 blocks (longest 30 min, 1 fragmented)
        - Coordination: 1 h 20 min
        - Untracked: 21 h 35 min
        - Switches: 5
        - Notifications: 0 held, 0 digests, 0 break-throughs

        ### Focus blocks

        - 10:00–10:30 (30 min): first
        - 09:40–10:10 (30 min): second
        - 10:20–10:25 (5 min): third
        --- csv
        date,focus_seconds,coordination_seconds,untracked_seconds,switches,focus_blocks,longest_focus_seconds,fragmented_blocks,held,digests,break_throughs,pings_sent,pings_received
        2026-11-24,3900,4800,77700,5,3,1800,1,0,0,0,0,0
        --- headline
        Focus 1 h 05 min in 3 blocks (longest 30 min) · coordination 1 h 20 min · 5 switches · 0 break-throughs
    "#]],
    )
}

/// Without positions (a log from before schema 6) switches still go to runs by time, as far
/// as time can tell them apart.
#[test]
fn a_clock_set_back_in_an_old_log_is_told_apart_by_time() -> TestResult {
    let mut log = Log::new(utc(25, 0, 0))?;
    log.start(utc(24, 9, 0))?
        .focus(utc(24, 10, 0), "first")?
        .coordinate(utc(24, 10, 30))?
        .stop(utc(24, 10, 31))?
        .start(utc(24, 9, 31))?
        .focus(utc(24, 9, 40), "second")?
        .coordinate(utc(24, 10, 10))?
        .stop(utc(24, 10, 25))?
        .without_positions()?;
    check(
        &log,
        "2026-11-24",
        expect![[r#"
        {
          "date": "2026-11-24",
          "focus_seconds": 3600,
          "coordination_seconds": 5100,
          "untracked_seconds": 77700,
          "switches": 4,
          "focus_blocks": [
            {
              "start": "2026-11-24T10:00:00.000Z",
              "end": "2026-11-24T10:30:00.000Z",
              "seconds": 1800,
              "intent": "first",
              "stash": null,
              "open": false
            },
            {
              "start": "2026-11-24T09:40:00.000Z",
              "end": "2026-11-24T10:10:00.000Z",
              "seconds": 1800,
              "intent": "second",
              "stash": null,
              "open": false
            }
          ],
          "longest_focus_seconds": 1800,
          "fragmented_blocks": 0,
          "held": 0,
          "digests": 0,
          "break_throughs": 0,
          "pings_sent": 0,
          "pings_received": 0,
          "timeline": [
            {
              "state": null,
              "start": "2026-11-24T00:00:00.000Z",
              "end": "2026-11-24T09:00:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T09:00:00.000Z",
              "end": "2026-11-24T10:00:00.000Z"
            },
            {
              "state": "focus",
              "start": "2026-11-24T10:00:00.000Z",
              "end": "2026-11-24T10:10:00.000Z"
            },
            {
              "state": "focus",
              "start": "2026-11-24T10:10:00.000Z",
              "end": "2026-11-24T10:30:00.000Z"
            },
            {
              "state": "coordination",
              "start": "2026-11-24T10:30:00.000Z",
              "end": "2026-11-24T10:31:00.000Z"
            },
            {
              "state": null,
              "start": "2026-11-24T10:31:00.000Z",
              "end": "2026-11-25T00:00:00.000Z"
            }
          ]
        }
        --- text
        2026-11-24
          Focus          1 h 00 min in 2 blocks (longest 30 min, 0 fragmented)
          Coordination   1 h 25 min
          Untracked      21 h 35 min
          Switches       4
          Notifications  0 held, 0 digests, 0 break-throughs
          Pings          0 sent, 0 received
          10:00–10:30       30 min  first
          09:40–10:10       30 min  second
        --- markdown
        ## 2026-11-24

        - Focus: 1 h 00 min in 2 blocks (longest 30 min, 0 fragmented)
        - Coordination: 1 h 25 min
        - Untracked: 21 h 35 min
        - Switches: 4
        - Notifications: 0 held, 0 digests, 0 break-throughs

        ### Focus blocks

        - 10:00–10:30 (30 min): first
        - 09:40–10:10 (30 min): second
        --- csv
        date,focus_seconds,coordination_seconds,untracked_seconds,switches,focus_blocks,longest_focus_seconds,fragmented_blocks,held,digests,break_throughs,pings_sent,pings_received
        2026-11-24,3600,5100,77700,4,2,1800,0,0,0,0,0,0
        --- headline
        Focus 1 h 00 min in 2 blocks (longest 30 min) · coordination 1 h 25 min · 4 switches · 0 break-throughs
    "#]],
    )
}

/// What the store loads for a period: from the first day's start to the last day's end, local.
#[test]
fn a_period_spans_its_local_days() -> TestResult {
    let sunday = NaiveDate::from_ymd_opt(2026, 3, 29).ok_or("no date")?;
    let bounds = |period: Period| {
        let (from, to) = period.bounds(&Berlin);
        (weft_proto::time::format(from), weft_proto::time::format(to))
    };
    assert_eq!(
        bounds(Period::Day(sunday)),
        (
            "2026-03-28T23:00:00.000Z".to_owned(),
            "2026-03-29T22:00:00.000Z".to_owned()
        )
    );
    assert_eq!(
        bounds(Period::WeekEnding(sunday)),
        (
            "2026-03-22T23:00:00.000Z".to_owned(),
            "2026-03-29T22:00:00.000Z".to_owned()
        )
    );
    let days = Period::WeekEnding(sunday).days();
    assert_eq!(
        (days.len(), days.first(), days.last()),
        (
            7,
            NaiveDate::from_ymd_opt(2026, 3, 23).as_ref(),
            Some(&sunday)
        )
    );
    Ok(())
}
