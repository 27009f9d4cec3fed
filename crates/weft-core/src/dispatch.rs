//! Routing at the edge of the core: a control [`Request`] becomes one call on [`Weft`], and
//! its result or error becomes a [`Response`] (with the [`ErrorKind`] a client branches on).
//! The team's requests are not the core's: they are handed back as a [`TeamRequest`] to
//! whoever holds the team client beside the core (`weft_team::Dispatcher` in the app), so
//! the core never links the network.

use crate::machine::Plan;
use crate::service::{Incoming, Weft};
use crate::summary::Period;
use crate::time::Deadline;
use crate::Error;
use weft_proto::{ErrorKind, Request, Response};

/// A request the team client answers, taken out of a [`Request`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeamRequest {
    /// The team as this Weft knows it.
    Info,
    Join {
        server: String,
        invite: String,
        name: String,
        share_intent: bool,
    },
    Share {
        share_intent: bool,
    },
    Leave {
        force: bool,
    },
    Ping {
        to: String,
        text: String,
        urgent: bool,
    },
}

/// Where a request went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    /// The core answered it.
    Answered(Response),
    /// It is the team client's.
    Team(TeamRequest),
}

/// Answers one control request whose sender waits only until `deadline` (`None`: no
/// deadline): a switch or a notification is committed before it or not at all. Never panics
/// on bad input: errors become [`Response::Error`] with a kind and a sentence.
pub fn route(weft: &Weft, request: Request, deadline: Option<Deadline>) -> Routed {
    let answered = match request {
        Request::Status => Response::Status(weft.status()),
        Request::Switch {
            to,
            source,
            intent,
            minutes,
            stash,
        } => {
            let plan = Plan {
                to,
                source,
                intent: intent.as_deref(),
                minutes,
                stash: stash.as_deref(),
            };
            answer(
                weft.commit_switch(&plan, None, deadline),
                Response::Switched,
            )
        }
        Request::Log { since } => {
            let since = match since.as_deref().map(|s| (s, weft_proto::time::parse(s))) {
                None => None,
                Some((_, Ok(t))) => Some(t),
                Some((text, Err(_))) => {
                    return Routed::Answered(Response::error(
                        ErrorKind::Invalid,
                        format!("{text:?} is not an RFC 3339 time such as 2026-11-24T09:00:00Z"),
                    ))
                }
            };
            answer(weft.log(since), Response::Log)
        }
        Request::Notify {
            title,
            body,
            urgency,
            from,
        } => {
            let incoming = Incoming {
                title: &title,
                body: body.as_deref(),
                urgency,
                from: from.as_deref(),
                opens: None,
                ping: None,
            };
            answer(weft.notify_within(&incoming, deadline), Response::Notified)
        }
        Request::Summary { date, week } => answer(
            period(weft, date.as_deref(), week).and_then(|p| weft.summary(p)),
            Response::Summary,
        ),
        Request::Markdown { date } => answer(
            period(weft, date.as_deref(), false).and_then(|p| weft.summary(p)),
            |days| {
                Response::Text(
                    days.iter()
                        .map(|d| crate::summary::markdown(d, &chrono::Local))
                        .collect(),
                )
            },
        ),
        Request::Inbox => answer(weft.inbox(), Response::Inbox),
        Request::OpenWindow => with_shell(weft, |shell| shell.open_window()),
        Request::CloseWindow => with_shell(weft, |shell| shell.close_window()),
        Request::ChangeHotkey => with_shell(weft, |shell| shell.change_hotkey()),
        Request::Autostart { on } => {
            let own = std::env::current_exe().ok();
            let candidates = crate::autostart::app_candidates(own.as_deref());
            answer(
                crate::paths::Paths::from_env()
                    .and_then(|paths| crate::autostart::apply(&paths, on, &candidates)),
                Response::Autostart,
            )
        }
        Request::Watch => Response::error(
            ErrorKind::BadRequest,
            "watch needs a control-socket connection of its own",
        ),
        Request::Team => return Routed::Team(TeamRequest::Info),
        Request::TeamJoin {
            server,
            invite,
            name,
            share_intent,
        } => {
            return Routed::Team(TeamRequest::Join {
                server,
                invite,
                name,
                share_intent,
            })
        }
        Request::TeamShare { share_intent } => {
            return Routed::Team(TeamRequest::Share { share_intent })
        }
        Request::TeamLeave { force } => return Routed::Team(TeamRequest::Leave { force }),
        Request::Ping { to, text, urgent } => {
            return Routed::Team(TeamRequest::Ping { to, text, urgent })
        }
    };
    Routed::Answered(answered)
}

/// The period a summary request names: its local day (`None`: today), or the week ending
/// with it. [`Error::Invalid`] for a date that is not one.
fn period(weft: &Weft, date: Option<&str>, week: bool) -> crate::Result<Period> {
    let today = weft.today();
    let day = match date {
        None => today,
        Some(text) => crate::summary::parse_date(text, today).map_err(Error::Invalid)?,
    };
    Ok(if week {
        Period::WeekEnding(day)
    } else {
        Period::Day(day)
    })
}

/// The answer to a request that is not ready to be answered (e.g. before the team client is
/// there).
pub fn not_ready() -> Response {
    Response::error(ErrorKind::NotReady, "Weft is still starting; try again")
}

fn answer<T>(result: crate::Result<T>, ok: impl FnOnce(T) -> Response) -> Response {
    result.map_or_else(|e| error_response(&e), ok)
}

fn with_shell(
    weft: &Weft,
    act: impl FnOnce(&dyn crate::service::Shell) -> Result<(), crate::service::ShellError>,
) -> Response {
    match weft.shell() {
        Some(shell) => match act(shell.as_ref()) {
            Ok(()) => Response::Done,
            Err(e) => Response::error(ErrorKind::Unavailable, e.to_string()),
        },
        None => not_ready(),
    }
}

/// Maps a core error to the wire.
pub fn error_response(e: &Error) -> Response {
    let kind = match e {
        Error::Invalid(_) | Error::Refused(_) => ErrorKind::Invalid,
        Error::AutostartForeign { .. } | Error::NoAppBinary { .. } => ErrorKind::Unavailable,
        Error::AutostartUnwritable { .. } => ErrorKind::Storage,
        Error::NotRunning { .. }
        | Error::Timeout { .. }
        | Error::ShuttingDown
        | Error::Expired { .. } => ErrorKind::Unavailable,
        Error::Protocol { .. } => ErrorKind::BadRequest,
        Error::Io { .. }
        | Error::DataDirUnwritable { .. }
        | Error::Sqlite { .. }
        | Error::Corrupt { .. }
        | Error::NewerSchema { .. }
        | Error::NoDatabase { .. } => ErrorKind::Storage,
    };
    Response::error(kind, e.to_string())
}
