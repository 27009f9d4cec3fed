//! `weft inbox`: the Inbox as the app lists it, one line per item (or the items as JSON), each
//! named by who sent it: another app (`Slack: New message`), a script (`CI: build failed`) or a
//! teammate (`Ping from Ana`).

use crate::{call, printable, unexpected};
use chrono::{Local, TimeZone};
use std::fmt::Display;
use std::io::Write;
use std::process::ExitCode;
use weft_core::paths::Paths;
use weft_proto::{InboxItem, InboxState, Request, Response};

pub fn print(paths: &Paths, out: &mut dyn Write, json: bool) -> anyhow::Result<ExitCode> {
    let items = match call(paths, &Request::Inbox)? {
        Response::Inbox(items) => items,
        other => return unexpected(other),
    };
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&items)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if items.is_empty() {
        writeln!(out, "The Inbox is empty.")?;
    }
    for item in &items {
        writeln!(out, "{}", line(item, &Local))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One item as `weft inbox` prints it, its time in `tz`:
/// `2026-11-24 09:00  held          normal   Slack: New message · first line of the body`.
fn line<Tz: TimeZone>(item: &InboxItem, tz: &Tz) -> String
where
    Tz::Offset: Display,
{
    let at = item.received.with_timezone(tz).format("%Y-%m-%d %H:%M");
    let state = match item.state {
        InboxState::Held => "held",
        InboxState::Released => "released",
        InboxState::Delivered => "delivered",
        InboxState::BreakThrough => "broke through",
    };
    let body = item
        .body
        .lines()
        .next()
        .filter(|l| !l.is_empty())
        .map(|l| format!(" · {}", printable(l)))
        .unwrap_or_default();
    format!(
        "{at}  {state:<13} {:<8} {}{body}",
        item.urgency.as_str(),
        named(item)
    )
}

/// The title, after who sent it. Another app's item is named by the app (`Slack: New
/// message`; only `Slack` when `desktop_capture = "count"` kept no title). Weft's own are named
/// by their sender (`CI: build failed`), except a ping, whose title already names it
/// (`Ping from Ana`).
fn named(item: &InboxItem) -> String {
    let title = printable(&item.title);
    if let Some(app) = item.app.as_deref().filter(|a| !a.is_empty()) {
        return if title.is_empty() {
            printable(app)
        } else {
            format!("{}: {title}", printable(app))
        };
    }
    match item
        .from
        .as_deref()
        .filter(|f| item.title != format!("Ping from {f}"))
    {
        Some(from) => format!("{}: {title}", printable(from)),
        None => title,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};
    use weft_proto::{NotificationSource, Urgency};

    fn at_nine() -> anyhow::Result<DateTime<Utc>> {
        Ok(DateTime::parse_from_rfc3339("2026-11-24T09:05:00Z")?.with_timezone(&Utc))
    }

    fn item(title: &str, body: &str) -> anyhow::Result<InboxItem> {
        Ok(InboxItem {
            id: 1,
            received: at_nine()?,
            title: title.into(),
            body: body.into(),
            urgency: Urgency::Normal,
            from: None,
            state: InboxState::Held,
            app: None,
            source: NotificationSource::Weft,
        })
    }

    fn desktop(app: &str, title: &str, body: &str) -> anyhow::Result<InboxItem> {
        Ok(InboxItem {
            app: Some(app.into()),
            source: NotificationSource::Desktop,
            ..item(title, body)?
        })
    }

    #[test]
    fn another_apps_item_is_named_by_its_app() -> anyhow::Result<()> {
        let slack = desktop(
            "Slack",
            "New message from Ana",
            "are you there?\nsecond line",
        )?;
        assert_eq!(
            line(&slack, &Utc),
            "2026-11-24 09:05  held          normal   Slack: New message from Ana · are you there?"
        );
        let critical = InboxItem {
            urgency: Urgency::Critical,
            state: InboxState::BreakThrough,
            ..desktop("PagerDuty", "db-1 is down", "")?
        };
        assert_eq!(
            line(&critical, &Utc),
            "2026-11-24 09:05  broke through critical PagerDuty: db-1 is down"
        );
        Ok(())
    }

    /// `desktop_capture = "count"` keeps the app and the time only.
    #[test]
    fn a_counted_item_shows_its_app_alone() -> anyhow::Result<()> {
        let counted = desktop("Thunderbird", "", "")?;
        assert_eq!(
            line(&counted, &Utc),
            "2026-11-24 09:05  held          normal   Thunderbird"
        );
        Ok(())
    }

    /// The bytes the end-to-end tests read for Weft's own items and pings stay as they were.
    #[test]
    fn weft_items_and_pings_are_named_as_before() -> anyhow::Result<()> {
        let ci = InboxItem {
            from: Some("CI".into()),
            state: InboxState::Delivered,
            ..item("Build failed", "")?
        };
        assert_eq!(
            line(&ci, &Utc),
            "2026-11-24 09:05  delivered     normal   CI: Build failed"
        );
        let ping = InboxItem {
            from: Some("Ana".into()),
            source: NotificationSource::Ping,
            ..item("Ping from Ana", "review my PR")?
        };
        assert_eq!(
            line(&ping, &Utc),
            "2026-11-24 09:05  held          normal   Ping from Ana · review my PR"
        );
        let plain = InboxItem {
            urgency: Urgency::Low,
            state: InboxState::Released,
            ..item("Deploy done", "all green")?
        };
        assert_eq!(
            line(&plain, &Utc),
            "2026-11-24 09:05  released      low      Deploy done · all green"
        );
        Ok(())
    }

    /// An app name is another program's text: escape sequences are shown, not obeyed.
    #[test]
    fn an_app_name_cannot_steer_the_terminal() -> anyhow::Result<()> {
        let sly = desktop("Sl\u{1b}[2Jack", "hi\u{7}", "")?;
        assert_eq!(
            line(&sly, &Utc),
            "2026-11-24 09:05  held          normal   Sl\u{fffd}[2Jack: hi\u{fffd}"
        );
        Ok(())
    }

    #[test]
    fn the_time_is_local() -> anyhow::Result<()> {
        let slack = desktop("Slack", "New message", "")?;
        assert!(line(&slack, &chrono_tz::Europe::Berlin).starts_with("2026-11-24 10:05  "));
        Ok(())
    }

    /// Scripts read `app` and `source` from `weft inbox --json`; Weft's own items say null.
    #[test]
    fn the_json_carries_app_and_source() -> anyhow::Result<()> {
        let slack: serde_json::Value = serde_json::to_value(desktop("Slack", "New message", "")?)?;
        assert_eq!(slack["app"], "Slack");
        assert_eq!(slack["source"], "desktop");
        let own: serde_json::Value = serde_json::to_value(item("Deploy done", "")?)?;
        assert_eq!(own["app"], serde_json::Value::Null);
        assert_eq!(own["source"], "weft");
        Ok(())
    }
}
