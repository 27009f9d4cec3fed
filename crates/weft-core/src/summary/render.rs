//! A day summary shown to people: one walk over the day ([`render`]) that writes the CLI's
//! text or the stand-up's Markdown, plus the end-of-day headline and the CSV row. Times of day
//! are local (`time::local_hm`), in the zone the caller passes.

use crate::time::local_hm;
use chrono::TimeZone;
use weft_proto::DaySummary;

/// `1 h 05 min`, `25 min`, `0 min`: durations as people read them.
pub fn duration_label(seconds: i64) -> String {
    let minutes = seconds.max(0) / 60;
    if minutes < 60 {
        format!("{minutes} min")
    } else {
        format!("{} h {:02} min", minutes / 60, minutes % 60)
    }
}

/// The day as `weft summary` prints it: a line per figure, then a line per focus block.
/// Every line ends with a newline. Times are shown in `zone`.
pub fn text<Tz: TimeZone>(day: &DaySummary, zone: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    render(day, zone, Form::Text)
}

/// The day as Markdown, to paste into a stand-up. Times are shown in `zone`.
pub fn markdown<Tz: TimeZone>(day: &DaySummary, zone: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    render(day, zone, Form::Markdown)
}

/// The two forms of a day that [`render`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Text,
    Markdown,
}

/// `s` unless there is one (`digest`, `digests`).
fn plural(n: impl Into<i64>) -> &'static str {
    if n.into() == 1 {
        ""
    } else {
        "s"
    }
}

/// The one walk over a day: the title, the figures, the focus blocks, each written in `form`.
fn render<Tz: TimeZone>(day: &DaySummary, zone: &Tz, form: Form) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let local = |t: &chrono::DateTime<chrono::Utc>| local_hm(*t, zone);
    let blocks = day.focus_blocks.len();
    // The text shows every count the same way; the Markdown reads as sentences.
    let (digests, break_throughs) = match form {
        Form::Text => ("s", "s"),
        Form::Markdown => (plural(day.digests), plural(day.break_throughs)),
    };
    let pings = day.pings_sent + day.pings_received > 0 || form == Form::Text;
    let figures = [
        Some((
            "Focus",
            format!(
                "{} in {} block{} (longest {}, {} fragmented)",
                duration_label(day.focus_seconds),
                blocks,
                plural(blocks as i64),
                duration_label(day.longest_focus_seconds),
                day.fragmented_blocks
            ),
        )),
        Some(("Coordination", duration_label(day.coordination_seconds))),
        Some(("Untracked", duration_label(day.untracked_seconds))),
        Some(("Switches", day.switches.to_string())),
        Some((
            "Notifications",
            format!(
                "{} held, {} digest{digests}, {} break-through{break_throughs}",
                day.held, day.digests, day.break_throughs
            ),
        )),
        pings.then(|| {
            (
                "Pings",
                format!("{} sent, {} received", day.pings_sent, day.pings_received),
            )
        }),
    ];
    let mut out = match form {
        Form::Text => format!("{}\n", day.date),
        Form::Markdown => format!("## {}\n\n", day.date),
    };
    for (label, value) in figures.into_iter().flatten() {
        out.push_str(&match form {
            Form::Text => format!("  {label:<15}{value}\n"),
            Form::Markdown => format!("- {label}: {value}\n"),
        });
    }
    if let Some(line) = apps_line(day) {
        out.push_str(&match form {
            Form::Text => format!("  {line}\n"),
            Form::Markdown => format!("- {line}\n"),
        });
    }
    if form == Form::Markdown && blocks > 0 {
        out.push_str("\n### Focus blocks\n\n");
    }
    for block in &day.focus_blocks {
        let start = local(&block.start);
        let end = if block.open {
            "now".to_owned()
        } else {
            local(&block.end)
        };
        let length = duration_label(block.seconds);
        let stash = block.stash.as_deref().map(|s| s.replace('\n', " "));
        match form {
            Form::Text => {
                let intent = block.intent.as_deref().unwrap_or("(no intent)");
                out.push_str(&format!("  {start}–{end:<5}  {length:>11}  {intent}"));
                if let Some(stash) = stash {
                    out.push_str(&format!("  · left off: {stash}"));
                }
            }
            Form::Markdown => {
                out.push_str(&format!("- {start}–{end} ({length})"));
                if let Some(intent) = &block.intent {
                    out.push_str(&format!(": {intent}"));
                }
                if let Some(stash) = stash {
                    out.push_str(&format!(" — left off: {stash}"));
                }
            }
        }
        out.push('\n');
    }
    out
}

/// `Held 14 notifications from 4 apps during 3 h 10 min of focus`: other apps' notifications
/// held in the day's focus, or `None` when no other app's notification was held.
fn apps_line(day: &DaySummary) -> Option<String> {
    let held: u32 = day.held_by_app.iter().map(|a| a.held).sum();
    let apps = day.held_by_app.iter().filter(|a| a.held > 0).count();
    (held > 0).then(|| {
        format!(
            "Held {held} notification{} from {apps} app{} during {} of focus",
            plural(held),
            plural(apps as i64),
            duration_label(day.focus_seconds)
        )
    })
}

/// The day in one line, for the end-of-day notice: "Focus 3 h 20 min in 4 blocks (longest
/// 1 h 10 min) · coordination 2 h 05 min · 12 switches · 1 break-through".
pub fn headline(day: &DaySummary) -> String {
    format!(
        "Focus {} in {} block{} (longest {}) · coordination {} · {} switch{} · {} break-through{}",
        duration_label(day.focus_seconds),
        day.focus_blocks.len(),
        plural(day.focus_blocks.len() as i64),
        duration_label(day.longest_focus_seconds),
        duration_label(day.coordination_seconds),
        day.switches,
        if day.switches == 1 { "" } else { "es" },
        day.break_throughs,
        plural(day.break_throughs),
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
