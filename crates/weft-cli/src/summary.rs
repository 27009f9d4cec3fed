//! `weft summary`: the day (or week) from the log, read-only, in text, Markdown, JSON or CSV.

use crate::Format;
use anyhow::Context;
use chrono::{DateTime, Local, NaiveDate, Utc};
use std::io::Write;
use std::process::ExitCode;
use weft_core::paths::Paths;
use weft_core::store::Store;
use weft_core::summary::{self, duration_label, DEFAULT_FRAGMENT_MINUTES};
use weft_proto::DaySummary;

pub fn print(
    paths: &Paths,
    out: &mut dyn Write,
    date: NaiveDate,
    week: bool,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let fragment = chrono::Duration::minutes(DEFAULT_FRAGMENT_MINUTES);
    let days = match Store::open_read_only(&paths.database()) {
        Ok(store) => summary::from_store(&store, date, week, &Local, Utc::now(), fragment)
            .context("cannot read the log")?,
        Err(weft_core::Error::NoDatabase { .. }) => {
            let empty = weft_core::summary::History::default();
            if week {
                summary::week(&empty, date, &Local, Utc::now(), fragment)
            } else {
                vec![summary::day(&empty, date, &Local, Utc::now(), fragment)]
            }
        }
        Err(e) => return Err(e).context("cannot read the log"),
    };
    match format {
        Format::Json if week => writeln!(out, "{}", serde_json::to_string_pretty(&days)?)?,
        Format::Json => {
            if let Some(day) = days.first() {
                writeln!(out, "{}", serde_json::to_string_pretty(day)?)?;
            }
        }
        Format::Csv => {
            writeln!(out, "{}", summary::CSV_HEADER)?;
            for day in &days {
                writeln!(out, "{}", summary::csv_row(day))?;
            }
        }
        Format::Md => {
            for day in &days {
                writeln!(out, "{}", summary::markdown(day, &Local))?;
            }
        }
        Format::Text if week => print_week(out, &days)?,
        Format::Text => {
            if let Some(day) = days.first() {
                print_day(out, day)?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn local_time(t: &DateTime<Utc>) -> String {
    t.with_timezone(&Local).format("%H:%M").to_string()
}

fn print_day(out: &mut dyn Write, day: &DaySummary) -> std::io::Result<()> {
    writeln!(out, "{}", day.date)?;
    writeln!(
        out,
        "  Focus          {} in {} block{} (longest {}, {} fragmented)",
        duration_label(day.focus_seconds),
        day.focus_blocks.len(),
        if day.focus_blocks.len() == 1 { "" } else { "s" },
        duration_label(day.longest_focus_seconds),
        day.fragmented_blocks
    )?;
    writeln!(
        out,
        "  Coordination   {}",
        duration_label(day.coordination_seconds)
    )?;
    writeln!(
        out,
        "  Untracked      {}",
        duration_label(day.untracked_seconds)
    )?;
    writeln!(out, "  Switches       {}", day.switches)?;
    writeln!(
        out,
        "  Notifications  {} held, {} digests, {} break-throughs",
        day.held, day.digests, day.break_throughs
    )?;
    writeln!(
        out,
        "  Pings          {} sent, {} received",
        day.pings_sent, day.pings_received
    )?;
    for block in &day.focus_blocks {
        let end = if block.open {
            "now".to_owned()
        } else {
            local_time(&block.end)
        };
        let mut line = format!(
            "  {}–{:<5}  {:>11}  {}",
            local_time(&block.start),
            end,
            duration_label(block.seconds),
            block.intent.as_deref().unwrap_or("(no intent)")
        );
        if let Some(stash) = &block.stash {
            line.push_str(&format!("  · left off: {}", stash.replace('\n', " ")));
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn print_week(out: &mut dyn Write, days: &[DaySummary]) -> std::io::Result<()> {
    let most = days
        .iter()
        .map(|d| d.focus_seconds)
        .max()
        .unwrap_or(0)
        .max(1);
    for day in days {
        let width = (day.focus_seconds * 30 / most) as usize;
        writeln!(
            out,
            "{}  {:<30}  focus {:>11}  coordination {:>11}  {} switches",
            day.date,
            "█".repeat(width),
            duration_label(day.focus_seconds),
            duration_label(day.coordination_seconds),
            day.switches
        )?;
    }
    let focus: i64 = days.iter().map(|d| d.focus_seconds).sum();
    let coordination: i64 = days.iter().map(|d| d.coordination_seconds).sum();
    writeln!(
        out,
        "week        focus {}, coordination {}",
        duration_label(focus),
        duration_label(coordination)
    )
}
