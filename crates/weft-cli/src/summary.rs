//! `weft summary`: the day (or week) from the log, read-only, in text, Markdown, JSON or CSV.

use crate::Format;
use anyhow::Context;
use chrono::{Local, NaiveDate, Utc};
use std::io::Write;
use std::process::ExitCode;
use weft_core::paths::Paths;
use weft_core::store::Store;
use weft_core::summary::{self, duration_label, Period, DEFAULT_FRAGMENT_MINUTES};
use weft_proto::DaySummary;

pub fn print(
    paths: &Paths,
    out: &mut dyn Write,
    date: NaiveDate,
    week: bool,
    format: Format,
) -> anyhow::Result<ExitCode> {
    let fragment = chrono::Duration::minutes(DEFAULT_FRAGMENT_MINUTES);
    let period = if week {
        Period::WeekEnding(date)
    } else {
        Period::Day(date)
    };
    let days = match Store::open_read_only(&paths.database()) {
        Ok(store) => store
            .summary(period, &Local, Utc::now(), fragment)
            .context("cannot read the log")?,
        Err(weft_core::Error::NoDatabase { .. }) => summary::period(
            &summary::History::default(),
            period,
            &Local,
            Utc::now(),
            fragment,
        ),
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
                write!(out, "{}", summary::text(day, &Local))?;
            }
        }
    }
    Ok(ExitCode::SUCCESS)
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
