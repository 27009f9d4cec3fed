//! The tray process's dispatcher: `Weft` and `Team` side by side. It answers the control
//! socket (the core's requests through [`weft_core::dispatch::route`], the team's here) and
//! wires the two together by publish and subscribe, so neither holds the other:
//! - the team follows the statuses `Weft` publishes to its watchers (a push when the shared
//!   part changes), on a thread of its own;
//! - every change the team publishes goes to `Weft`'s watchers and shell, in order, before the
//!   team's call returns (so a window sees a join's team before the join's answer).

use crate::{Error, Team};
use std::path::PathBuf;
use std::sync::Arc;
use weft_core::control::Handler;
use weft_core::dispatch::{error_response, route, Routed, TeamRequest};
use weft_core::service::Weft;
use weft_core::time::Deadline;
use weft_proto::{ErrorKind, Event, Request, Response};

/// The core and the team client, answering the control socket together.
#[derive(Debug)]
pub struct Dispatcher {
    weft: Arc<Weft>,
    team: Arc<Team>,
}

impl Dispatcher {
    /// Starts the team client on `team_file` beside `weft`: the team follows `weft`'s
    /// published statuses (one thread), and every change of the team is published to `weft`'s
    /// watchers and shell before the call that made it returns.
    ///
    /// # Errors
    /// The thread that follows the statuses could not be started.
    pub fn start(weft: Arc<Weft>, team_file: PathBuf) -> std::io::Result<Dispatcher> {
        let team = Team::start(team_file, &weft);
        let publish_to = Arc::downgrade(&weft);
        team.subscribe(move |info| {
            if let Some(weft) = publish_to.upgrade() {
                weft.team_changed(info);
            }
        });
        let (follower, follows) = (Arc::downgrade(&weft), team.clone());
        std::thread::Builder::new()
            .name("weft-team-follow".into())
            .spawn(move || follow_statuses(&follower, &follows))?;
        Ok(Dispatcher { weft, team })
    }

    /// The core.
    pub fn weft(&self) -> &Arc<Weft> {
        &self.weft
    }

    /// The team client.
    pub fn team(&self) -> &Arc<Team> {
        &self.team
    }

    /// Answers one control request (see [`Handler::handle`]).
    pub fn answer(&self, request: Request, deadline: Option<Deadline>) -> Response {
        match route(&self.weft, request, deadline) {
            Routed::Answered(response) => response,
            Routed::Team(request) => self.answer_team(request),
        }
    }

    /// The team's calls; they may wait on the network, so no lock of the core is held.
    fn answer_team(&self, request: TeamRequest) -> Response {
        let team = &self.team;
        let answered = match request {
            TeamRequest::Info => Ok(Response::Team(team.info())),
            TeamRequest::Join {
                server,
                invite,
                name,
                share_intent,
            } => team
                .join(&server, &invite, &name, share_intent)
                .map(Response::Team),
            TeamRequest::Share { share_intent } => team.share(share_intent).map(Response::Team),
            TeamRequest::Leave { force } => team.leave(force).map(Response::Team),
            TeamRequest::Ping { to, text, urgent } => team.ping(&to, &text, urgent).map(|sent| {
                // The ping is sent whatever happens here; the log only feeds the summary.
                if let Err(e) = self.weft.ping_sent(&sent) {
                    log::error!("the sent ping was not logged: {e}");
                }
                Response::PingSent(sent)
            }),
        };
        answered.unwrap_or_else(|e| team_error_response(&e))
    }
}

impl Handler for Dispatcher {
    fn handle(&self, request: Request, deadline: Option<Deadline>) -> Response {
        self.answer(request, deadline)
    }

    fn watch(&self) -> std::sync::mpsc::Receiver<Event> {
        self.weft.watch()
    }
}

/// Maps a team error to the wire: the core's own errors as the core maps them (a file that
/// cannot be written is storage), a membership that is not one or cannot be written out as
/// invalid, the rest (not joined, the server's refusal or silence) as the team's.
pub fn team_error_response(e: &Error) -> Response {
    let kind = match e {
        Error::Core(core) => return error_response(core),
        Error::NotAMembership { .. } | Error::Encode { .. } => ErrorKind::Invalid,
        Error::NotJoined
        | Error::AlreadyJoined { .. }
        | Error::JoinUnderWay
        | Error::LeaveNotTold { .. }
        | Error::Client(_) => ErrorKind::Team,
    };
    Response::error(kind, e.to_string())
}

/// Gives the team every status `Weft` publishes, until `Weft` is gone (its watchers then hang
/// up) or the team stops. A subscription dropped for falling behind is taken again (its first
/// event is the status of the moment, so nothing is missed).
fn follow_statuses(weft: &std::sync::Weak<Weft>, team: &Team) {
    loop {
        let Some(events) = weft.upgrade().map(|weft| weft.watch()) else {
            return;
        };
        for event in events {
            if let Event::Status(status) = event {
                team.status_changed(&status);
            }
        }
        if team.is_stopping() {
            return;
        }
    }
}
