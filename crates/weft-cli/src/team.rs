//! `weft team` and `weft ping`: the team as the running app knows it, joining and leaving,
//! and pings. The app does the talking to the sync server, so the CLI holds no token.

use crate::{args, call, printable, unexpected};
use chrono::{DateTime, Local, Utc};
use clap::Subcommand;
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;
use weft_core::paths::Paths;
use weft_core::time::{elapsed_label, local_hm};
use weft_proto::sync::{Member, PingSent};
use weft_proto::{Connection, Request, Response, TeamInfo};

#[derive(Subcommand)]
pub enum TeamAction {
    /// Join a team on a sync server with an invite code from its admin.
    Join {
        /// The sync server, e.g. https://weft.example.org or http://127.0.0.1:7070.
        server: String,
        /// The invite code (`weft-sync team create` prints it).
        invite: String,
        /// How teammates will see you (one line, at most 64 characters).
        #[arg(long)]
        name: String,
        /// Share the intent of your focus blocks too (state, since and planned end always are).
        #[arg(long)]
        share_intent: bool,
    },
    /// Choose whether the intent of your focus blocks is shared.
    Share {
        /// on or off.
        #[arg(value_parser = parse_on_off, action = clap::ArgAction::Set, value_name = "on|off")]
        intent: bool,
    },
    /// Leave the team: the server forgets you (your last status, token and pings), this
    /// machine forgets the membership, and nothing more is shared.
    Leave {
        /// Leave on this machine even when the server cannot be reached.
        #[arg(long)]
        force: bool,
    },
}

/// One line of `weft team --json`.
#[derive(Serialize)]
struct Line<'a> {
    name: &'a str,
    state: Option<weft_proto::State>,
    #[serde(with = "weft_proto::time::option")]
    since: Option<DateTime<Utc>>,
    #[serde(with = "weft_proto::time::option")]
    until: Option<DateTime<Utc>>,
    intent: Option<&'a str>,
    online: bool,
    me: bool,
}

pub fn run(
    paths: &Paths,
    out: &mut dyn Write,
    action: Option<TeamAction>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let request = match action {
        None => Request::Team,
        Some(TeamAction::Join {
            server,
            invite,
            name,
            share_intent,
        }) => Request::TeamJoin {
            server: args::server(&server)?,
            invite: args::invite(&invite)?,
            name: args::name(&name)?,
            share_intent,
        },
        Some(TeamAction::Share { intent }) => Request::TeamShare {
            share_intent: intent,
        },
        Some(TeamAction::Leave { force }) => Request::TeamLeave { force },
    };
    let info = match call(paths, &request)? {
        Response::Team(info) => info,
        other => return unexpected(other),
    };
    if json {
        let me = info.membership.as_ref().map(|m| m.member_id);
        let lines: Vec<Line<'_>> = info
            .members
            .iter()
            .map(|m| Line {
                name: &m.name,
                state: m.state,
                since: m.since,
                until: m.until,
                intent: m.intent.as_deref(),
                online: m.online,
                me: Some(m.id) == me,
            })
            .collect();
        writeln!(out, "{}", serde_json::to_string_pretty(&lines)?)?;
    } else {
        write!(out, "{}", describe(&info))?;
    }
    Ok(ExitCode::SUCCESS)
}

pub fn ping(
    paths: &Paths,
    out: &mut dyn Write,
    to: String,
    text: Vec<String>,
    urgent: bool,
) -> anyhow::Result<ExitCode> {
    let to = args::name(&to)?;
    let text = args::ping_text(&text)?;
    let sent = match call(paths, &Request::Ping { to, text, urgent })? {
        Response::PingSent(sent) => sent,
        other => return unexpected(other),
    };
    writeln!(out, "{}", describe_ping(&sent, &Local))?;
    Ok(ExitCode::SUCCESS)
}

fn parse_on_off(text: &str) -> Result<bool, String> {
    match text {
        "on" | "yes" | "true" => Ok(true),
        "off" | "no" | "false" => Ok(false),
        _ => Err(format!("{text:?}: say on or off")),
    }
}

/// The team as text: the membership, the connection, then one line per member.
fn describe(info: &TeamInfo) -> String {
    let Some(membership) = &info.membership else {
        return match &info.connection {
            Connection::Offline { message, .. } => format!("Not in a team: {message}\n"),
            _ => "Not in a team. Join one with `weft team join SERVER_URL INVITE --name NAME`.\n"
                .into(),
        };
    };
    let mut out = format!(
        "Team {} on {} (you are {}; intent {})\n",
        printable(&membership.team),
        membership.server,
        printable(&membership.name),
        if membership.share_intent {
            "shared"
        } else {
            "not shared"
        }
    );
    match &info.connection {
        Connection::Online => {}
        Connection::NotJoined | Connection::Connecting => out.push_str("Connecting…\n"),
        Connection::Offline { message, retry_at } => {
            out.push_str(&format!("Offline: {message}"));
            if let Some(at) = retry_at {
                out.push_str(&format!(
                    " (retrying at {})",
                    at.with_timezone(&Local).format("%H:%M:%S")
                ));
            }
            out.push_str("\nWhat follows may be out of date.\n");
        }
    }
    for member in &info.members {
        out.push_str(&line(member, member.id == membership.member_id));
        out.push('\n');
    }
    out
}

/// "Ana       Focus since 09:05 (25 min) · until 10:55: refactor parser"
fn line(member: &Member, me: bool) -> String {
    let name = if me {
        format!("{} (you)", printable(&member.name))
    } else {
        printable(&member.name)
    };
    let Some(state) = member.state else {
        return format!("{name:<16} has not shared a status yet");
    };
    let since = member.since;
    let mut text = format!("{name:<16} {}", state.label());
    if let Some(since) = since {
        text.push_str(&format!(
            " since {} ({})",
            local_hm(since, &Local),
            elapsed_label((Utc::now() - since).num_seconds())
        ));
    }
    if let Some(until) = member.until {
        text.push_str(&format!(" · until {}", local_hm(until, &Local)));
    }
    if let Some(intent) = &member.intent {
        text.push_str(&format!(": {}", printable(intent)));
    }
    if !member.online {
        text.push_str(" · offline");
    }
    text
}

/// What a sender is told about a ping: "Delivered to Ana." or "Held until about 10:55 (Ana
/// is focusing)." Times are shown in `tz`.
fn describe_ping<Tz: chrono::TimeZone>(sent: &PingSent, tz: &Tz) -> String
where
    Tz::Offset: std::fmt::Display,
{
    use weft_proto::sync::PingOutcome;
    let to = &sent.to;
    match &sent.outcome {
        PingOutcome::Delivered if sent.urgent => format!("Delivered to {to} now (urgent)."),
        PingOutcome::Delivered => format!("Delivered to {to}."),
        PingOutcome::Held { until, over_budget } => {
            let about = until.map(|t| local_hm(t, tz));
            let held = match about {
                Some(hhmm) => format!("Held until about {hhmm}"),
                None => format!("Held until {to} switches to coordination"),
            };
            if *over_budget {
                format!("{held}: your urgent pings to {to} for today are used up, so it waits like any other ({to} is focusing).")
            } else {
                format!("{held} ({to} is focusing).")
            }
        }
        PingOutcome::Queued => format!(
            "Queued: {to}'s Weft is offline; the server keeps the ping and {to} gets it on reconnecting."
        ),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn teammates_text_cannot_drive_the_terminal() {
        assert_eq!(super::printable("Ana\u{1b}[2J"), "Ana\u{fffd}[2J");
        assert_eq!(super::printable("release notes"), "release notes");
    }
}
