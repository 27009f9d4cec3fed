//! `weft`: the command line for Weft.
//!
//! Switching and status go to the running app over its control socket, the same path the UI
//! and the tests use. `weft log` reads the database read-only and works without the app.
//! Exit codes: 0 success (also when the reader of the output went away, as in
//! `weft log | head -1`), 1 failure (e.g. the app is not running, or the output cannot be
//! written), 2 bad usage.
//!
//! Everything printed goes through [`out`]: commands write to one `&mut dyn Write` with
//! `writeln!`, so no output error can panic. The lints below keep it that way.

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod args;
mod autostart;
mod bar;
mod dates;
mod follow;
mod inbox;
mod out;
mod summary;
mod team;

use anyhow::Context;
use args::Usage;
use chrono::{DateTime, Local, Utc};
use clap::{Parser, Subcommand};
use out::{warn, Out};
use std::io::Write;
use std::process::ExitCode;
use weft_core::control;
use weft_core::paths::Paths;
use weft_core::store::Store;
use weft_core::time::{elapsed_label, local_hm};
use weft_proto::{
    Disposition, ErrorKind, Request, Response, Source, Status, Target, Urgency, MAX_BODY_CHARS,
};

#[derive(Parser)]
#[command(
    name = "weft",
    version,
    about = "Switch between focus and coordination, and see what you did",
    after_help = "The Weft app must be running for every command but `log`. Start it with `weft-app`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Switch to the other state.
    Toggle,
    /// Switch to focus, optionally saying what you will work on and for how long.
    Focus {
        /// What this focus block is for, e.g. "refactor parser".
        intent: Vec<String>,
        /// The planned length: 50m, 1h, 1h30m, or minutes. When it ends, Weft switches to
        /// coordination (or reminds you, if configured).
        #[arg(long = "for", value_name = "LENGTH", value_parser = dates::parse_length)]
        length: Option<u32>,
    },
    /// Switch to coordination, optionally noting where you left off.
    Coordinate {
        /// Where you left off; shown again when focus resumes (at most 500 characters).
        #[arg(long, value_name = "TEXT")]
        stash: Option<String>,
    },
    /// Show the current state, or follow it for a status bar (waybar, polybar, i3blocks).
    Status {
        /// Print JSON: {"state": "focus"|"coordination", "since": RFC 3339, "intent": ...}.
        #[arg(long, conflicts_with = "format")]
        json: bool,
        /// One line for a status bar; "Weft not running" (waybar class `stopped`) when the
        /// app is not running, with exit 0.
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<bar::BarFormat>,
        /// Keep running: a line at once, one for every change (a switch, the held count, the
        /// planned end, the team's connection) and one a minute for the elapsed time. When
        /// the app stops, a not-running line, then it waits for the app to come back.
        #[arg(long)]
        follow: bool,
    },
    /// Start Weft at login, or not: Weft's entry in $XDG_CONFIG_HOME/autostart (works
    /// without the app).
    Autostart {
        /// on: start at login; off: do not (removes only Weft's own entry); status: say which.
        #[arg(value_enum, default_value_t = autostart::Action::Status)]
        action: autostart::Action,
        /// Print JSON: {"on": bool, "file": path, "binary": path|null, "foreign": bool}.
        #[arg(long)]
        json: bool,
    },
    /// List logged switches (works without the app).
    Log {
        /// Print a JSON array of switches.
        #[arg(long)]
        json: bool,
        /// Only switches from this day or time on: YYYY-MM-DD, today, yesterday, or RFC 3339.
        #[arg(long, value_name = "DATE")]
        since: Option<String>,
    },
    /// Send a notification through Weft's hold policy: shown now in coordination, held for
    /// the digest in focus, shown at once if critical.
    Notify {
        /// The notification's title (required, at most 200 characters).
        #[arg(long)]
        title: String,
        /// The text under the title; longer than 4000 characters is cut with a marker.
        #[arg(long)]
        body: Option<String>,
        /// low (never a popup during focus), normal, or critical (breaks through focus).
        #[arg(long, value_enum, default_value_t = UrgencyArg::Normal)]
        urgency: UrgencyArg,
        /// Who it is from, e.g. CI or a person's name; the digest groups by it (one line, at
        /// most 64 characters).
        #[arg(long, value_name = "NAME")]
        from: Option<String>,
    },
    /// List held notifications and the most recent others.
    Inbox {
        /// Print a JSON array of {id, received, title, body, urgency, from, state}.
        #[arg(long)]
        json: bool,
    },
    /// What you did on a day (or a week): focus, coordination, blocks, interruptions. Works
    /// without the app.
    Summary {
        /// The day: YYYY-MM-DD, today or yesterday.
        #[arg(long, default_value = "today", value_parser = parse_day)]
        date: chrono::NaiveDate,
        /// The seven days ending with that date.
        #[arg(long)]
        week: bool,
        /// text, md (to paste into a stand-up), json, or csv.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Open the Weft window.
    Open,
    /// Your team's states (or join, share, leave).
    #[command(args_conflicts_with_subcommands = true)]
    Team {
        #[command(subcommand)]
        action: Option<team::TeamAction>,
        /// Print a JSON array of members: {name, state, since, until, intent, online, me}.
        #[arg(long)]
        json: bool,
    },
    /// Send a teammate a ping; their Weft delivers or holds it by their state.
    Ping {
        /// The teammate's name.
        name: String,
        /// What to say (at most 500 characters).
        #[arg(required = true)]
        text: Vec<String>,
        /// Break through their focus (a few times a day at most; over the budget it is held).
        #[arg(long)]
        urgent: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Text,
    Md,
    Json,
    Csv,
}

fn parse_day(text: &str) -> Result<chrono::NaiveDate, String> {
    weft_core::summary::parse_date(text, Local::now().date_naive())
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum UrgencyArg {
    Low,
    Normal,
    Critical,
}

impl From<UrgencyArg> for Urgency {
    fn from(u: UrgencyArg) -> Urgency {
        match u {
            UrgencyArg::Low => Urgency::Low,
            UrgencyArg::Normal => Urgency::Normal,
            UrgencyArg::Critical => Urgency::Critical,
        }
    }
}

fn main() -> ExitCode {
    let mut out = Out::stdout();
    let code = match Cli::try_parse() {
        Ok(cli) => match run(cli.command, &mut out) {
            Ok(code) => code,
            // The output failed first; `finish` below says how, once.
            Err(_) if out.has_failed() => ExitCode::FAILURE,
            Err(e) => {
                warn(render(&e));
                if e.downcast_ref::<Usage>().is_some() {
                    ExitCode::from(2)
                } else {
                    ExitCode::FAILURE
                }
            }
        },
        // --help and --version go to standard output, usage errors to standard error (exit 2).
        Err(e) => out.parser_printed(e.print(), e.use_stderr(), e.exit_code()),
    };
    out::end(&mut out, code)
}

/// An error and its causes on one line, as anyhow's `{:#}` does, but a cause that the text
/// before it already ends with is not said again (rusqlite's errors repeat their own cause).
fn render(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

fn run(command: Command, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    // Local times fall back to the system zone when TZ names none: say so, once.
    if let Some(warning) = weft_core::time::zone_warning() {
        warn(format!("warning: {warning}"));
    }
    let paths = Paths::from_env()?;
    match command {
        Command::Toggle => switch(&paths, out, Target::Toggle, None, None, None),
        Command::Focus { intent, length } => {
            let intent = args::intent(&intent)?;
            switch(&paths, out, Target::Focus, intent, length, None)
        }
        Command::Coordinate { stash } => {
            let stash = stash.as_deref().map(args::stash).transpose()?;
            switch(&paths, out, Target::Coordination, None, None, stash)
        }
        Command::Status {
            follow: true,
            format,
            json,
        } => {
            let format = format.unwrap_or(if json {
                bar::BarFormat::Json
            } else {
                bar::BarFormat::Text
            });
            follow::follow(&paths, out, format)
        }
        Command::Status {
            format: Some(format),
            ..
        } => follow::once(&paths, out, format),
        Command::Autostart { action, json } => autostart::run(&paths, out, action, json),
        Command::Status { json, .. } => {
            let status = match call(&paths, &Request::Status)? {
                Response::Status(status) => status,
                other => return unexpected(other),
            };
            if json {
                writeln!(out, "{}", serde_json::to_string(&status)?)?;
            } else {
                writeln!(out, "{}", describe(&status))?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Log { json, since } => log(&paths, out, json, since.as_deref()),
        Command::Notify {
            title,
            body,
            urgency,
            from,
        } => {
            let title = args::title(&title)?;
            let from = from.as_deref().map(args::from).transpose()?;
            notify(&paths, out, title, body, urgency.into(), from)
        }
        Command::Inbox { json } => inbox::print(&paths, out, json),
        Command::Summary { date, week, format } => summary::print(&paths, out, date, week, format),
        Command::Open => match call(&paths, &Request::OpenWindow)? {
            Response::Done => Ok(ExitCode::SUCCESS),
            other => unexpected(other),
        },
        Command::Team { action, json } => team::run(&paths, out, action, json),
        Command::Ping { name, text, urgent } => team::ping(&paths, out, name, text, urgent),
    }
}

fn call(paths: &Paths, request: &Request) -> anyhow::Result<Response> {
    // Right after the app starts, a request that needs its tray or windows may come too early:
    // wait for it a little, as a person would.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match control::call(&paths.socket(), request)? {
            Response::Error(e)
                if e.kind == ErrorKind::NotReady && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            // The app found an argument out of range: bad usage, exit 2.
            Response::Error(e) if e.kind == ErrorKind::Invalid => {
                return Err(Usage(e.message).into())
            }
            Response::Error(e) => anyhow::bail!("{}", e.message),
            response => return Ok(response),
        }
    }
}

fn unexpected(response: Response) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the app gave an unexpected answer: {response:?}")
}

fn switch(
    paths: &Paths,
    out: &mut dyn Write,
    to: Target,
    intent: Option<String>,
    minutes: Option<u32>,
    stash: Option<String>,
) -> anyhow::Result<ExitCode> {
    let request = Request::Switch {
        to,
        source: Source::Cli,
        intent,
        minutes,
        stash,
    };
    let outcome = match call(paths, &request)? {
        Response::Switched(outcome) => outcome,
        other => return unexpected(other),
    };
    if outcome.switched {
        writeln!(out, "{}", describe(&outcome.status))?;
    } else {
        writeln!(out, "Already in {}", describe(&outcome.status))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn notify(
    paths: &Paths,
    out: &mut dyn Write,
    title: String,
    body: Option<String>,
    urgency: Urgency,
    from: Option<String>,
) -> anyhow::Result<ExitCode> {
    // A long body is cut here, so the request always fits the socket's line limit.
    let (body, cut) = match body.as_deref().map(args::body) {
        Some((body, cut)) => (Some(body), cut),
        None => (None, false),
    };
    let request = Request::Notify {
        title,
        body,
        urgency,
        from,
    };
    let outcome = match call(paths, &request)? {
        Response::Notified(outcome) => outcome,
        other => return unexpected(other),
    };
    writeln!(
        out,
        "{}",
        match outcome.disposition {
            // A popup is owed but no notification server takes it yet.
            _ if outcome.queued => "Queued: no notification server; Weft will retry.",
            Disposition::Delivered => "Delivered.",
            Disposition::Held => "Held: it comes with the digest when you switch to coordination.",
            Disposition::BreakThrough => "Delivered during focus (critical breaks through).",
        }
    )?;
    if cut || outcome.truncated {
        warn(format_args!(
            "the body was cut to {MAX_BODY_CHARS} characters"
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Text from others (teammates, scripts), safe for a terminal: control characters (escape
/// sequences) are shown as U+FFFD instead of being obeyed.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

/// "Focus since 09:05 (25 min): refactor parser · 3 held"
fn describe(status: &Status) -> String {
    let local = local_hm(status.since, &Local);
    let elapsed = elapsed_label((Utc::now() - status.since).num_seconds());
    let mut line = format!("{} since {local} ({elapsed})", status.state.label());
    if let Some(intent) = &status.intent {
        line.push_str(": ");
        line.push_str(intent);
    }
    if let Some(until) = status.until {
        line.push_str(&format!(" · until {}", local_hm(until, &Local)));
    }
    if status.held > 0 {
        line.push_str(&format!(" · {} held", status.held));
    }
    if status.state == weft_proto::State::Focus {
        if let Some(stash) = &status.stash {
            line.push_str(&format!("\nWhere you left off: {stash}"));
        }
    }
    line
}

fn log(
    paths: &Paths,
    out: &mut dyn Write,
    json: bool,
    since: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let since: Option<DateTime<Utc>> = match since {
        None => None,
        Some(text) => Some(dates::parse_since(text, Local::now()).map_err(Usage)?),
    };
    let database = paths.database();
    let switches = match Store::open_read_only(&database) {
        Ok(store) => store.switches(since)?,
        Err(weft_core::Error::NoDatabase { .. }) => Vec::new(),
        Err(e) => return Err(e).context("cannot read the log"),
    };
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&switches)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    if switches.is_empty() {
        writeln!(
            out,
            "No switches logged{}.",
            if since.is_some() {
                " in that period"
            } else {
                " yet"
            }
        )?;
    }
    for s in &switches {
        let at = s.at.with_timezone(&Local).format("%Y-%m-%d %H:%M:%S");
        let intent = s
            .intent
            .as_deref()
            .map(|i| format!("  {i}"))
            .unwrap_or_default();
        writeln!(
            out,
            "{at}  {:<12} → {:<12}  {:<6}{intent}",
            s.from.as_str(),
            s.to.as_str(),
            s.source.as_str()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod cli_tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    /// An error that repeats its cause, as rusqlite's do ("disk full", caused by "disk full").
    #[derive(Debug)]
    struct Repeats(std::io::Error);

    impl std::fmt::Display for Repeats {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}", self.0)
        }
    }

    impl std::error::Error for Repeats {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn an_error_line_says_each_cause_once() {
        let error = anyhow::Error::new(Repeats(std::io::Error::other("disk full")))
            .context("the database could not be used: disk full")
            .context("cannot read the log");
        assert_eq!(
            render(&error),
            "cannot read the log: the database could not be used: disk full"
        );
        let usage = anyhow::Error::new(Usage("the title is too long".into()));
        assert_eq!(render(&usage), "the title is too long");
    }

    #[test]
    fn team_share_takes_on_or_off() {
        let on = Cli::try_parse_from(["weft", "team", "share", "on"]).map(|c| c.command);
        assert!(matches!(
            on,
            Ok(Command::Team {
                action: Some(team::TeamAction::Share { intent: true }),
                ..
            })
        ));
        let off = Cli::try_parse_from(["weft", "team", "share", "off"]).map(|c| c.command);
        assert!(matches!(
            off,
            Ok(Command::Team {
                action: Some(team::TeamAction::Share { intent: false }),
                ..
            })
        ));
        let maybe = Cli::try_parse_from(["weft", "team", "share", "maybe"]).err();
        assert_eq!(
            maybe.map(|e| e.kind()),
            Some(clap::error::ErrorKind::ValueValidation)
        );
    }
}
