//! Logs written through the store API, for tests that check what Weft shows of them.

use crate::Desktop;
use chrono::{TimeZone, Utc};
use weft_core::machine::Switch;
use weft_core::store::{AppEvent, Store};
use weft_proto::{Source, State};

/// The zone the seeded day is read in.
pub const ZONE: &str = "Europe/Berlin";

/// The seeded day.
pub const DATE: &str = "2026-11-10";

fn at(h: u32, m: u32) -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 10, h, m, 0)
        .single()
        .unwrap_or_default()
}

/// 2026-11-10 in Berlin (UTC+1): Weft runs 09:00-17:00 local; focus 09:10-10:00 local on
/// "parser", left with the stash "left off at abc".
pub fn berlin_day(desktop: &Desktop) -> anyhow::Result<()> {
    let mut store = Store::open(&desktop.database())?;
    store.record_app_event(AppEvent::Start, at(8, 0))?;
    let mut switch = |at, from, to, intent: Option<&str>, stash: Option<&str>| {
        store.record_switch(&Switch {
            at,
            from,
            to,
            source: Source::Cli,
            intent: intent.map(str::to_owned),
            stash: stash.map(str::to_owned),
            until: None,
        })
    };
    switch(
        at(8, 10),
        State::Coordination,
        State::Focus,
        Some("parser"),
        None,
    )?;
    switch(
        at(9, 0),
        State::Focus,
        State::Coordination,
        None,
        Some("left off at abc"),
    )?;
    store.record_app_event(AppEvent::Stop, at(16, 0))?;
    Ok(())
}
