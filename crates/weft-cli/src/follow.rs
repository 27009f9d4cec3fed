//! `weft status --follow`: one line at once, one for every change, one a minute for the
//! elapsed time, for as long as the status bar runs it.
//!
//! It follows the app through the control socket's watch ([`control::watch`]), no polling.
//! When the app stops (a quit, `kill -9`), it prints the not-running line and waits for the
//! socket to be made again, by inotify on the socket's folder (or the nearest folder above it
//! while that is missing). Everything it waits for comes through one channel ([`News`]): the
//! watch's events (read by a thread per connection), the socket appearing (one inotify
//! thread), and the output closing (one thread that polls standard output for an error, so
//! `--follow | head -1` ends at once instead of at the next change). The only timer is the
//! minute's tick of the elapsed time (and a backoff after a watch that failed or ended before
//! its first event, or when inotify is unusable, see [`follow`]).

use crate::bar::{i3blocks_block, line, BarFormat, Now, Seen};
use anyhow::Context;
use chrono::{DateTime, Local, Utc};
use std::io::Write;
use std::os::fd::AsFd;
use std::path::Path;
use std::process::ExitCode;
use std::sync::mpsc::{self, Sender};
use std::time::Duration;
use weft_core::control;
use weft_core::paths::Paths;
use weft_proto::{Event, Request, Response, Status, TeamInfo};

/// What the follower waits for.
enum News {
    /// An event on the watch connection `generation`.
    Event(u64, Event),
    /// The watch connection `generation` ended (the app went away).
    Ended(u64),
    /// The socket's folder changed where the socket is: worth trying to connect.
    SocketMade,
    /// Standard output is a pipe whose reader went away.
    OutputClosed,
    /// inotify cannot tell when the socket is made (it could not start, watch or read):
    /// connect now and then instead.
    Blind,
}

/// `weft status --format FORMAT` without `--follow`: one answer, or the not-running line.
pub fn once(paths: &Paths, out: &mut dyn Write, format: BarFormat) -> anyhow::Result<ExitCode> {
    let status = match control::call(&paths.socket(), &Request::Status) {
        Ok(Response::Status(status)) => Some(status),
        Ok(Response::Error(e)) => anyhow::bail!("{}", e.message),
        Ok(other) => anyhow::bail!("the app gave an unexpected answer: {other:?}"),
        Err(weft_core::Error::NotRunning { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    let team = status.as_ref().and_then(|_| team(&paths.socket()));
    let seen = match &status {
        Some(status) => Seen::Running {
            status,
            team: team.as_ref(),
        },
        None => Seen::Stopped,
    };
    let now = Now {
        at: Utc::now(),
        zone: &Local,
    };
    let text = match format {
        BarFormat::I3blocks => i3blocks_block(seen, &now),
        format => line(format, seen, &now),
    };
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Follows the app until the output is closed (exit 0, quietly) or cannot be written. It
/// never exits because of the app: whatever goes wrong reaching it, it says not running and
/// tries again.
pub fn follow(paths: &Paths, out: &mut dyn Write, format: BarFormat) -> anyhow::Result<ExitCode> {
    let (tx, news) = mpsc::channel();
    let socket = paths.socket();
    // Watching starts before the first connect, so a socket made in between is not missed.
    watch_for_socket(&socket, tx.clone());
    watch_output(tx.clone());
    let mut printer = Printer {
        out,
        format,
        last: None,
    };
    let mut generation = 0u64;
    // Set once inotify cannot tell when the socket is made (see the wait below).
    let mut blind = false;
    // See the wait below: how long until connecting again when the app is there but cannot
    // be followed.
    let mut backoff = Duration::from_secs(1);
    loop {
        // Connected: follow the events until the connection ends.
        let mut refused = false;
        let mut followed = false;
        match control::watch(&socket) {
            Ok(events) => {
                generation += 1;
                let (sender, current) = (tx.clone(), generation);
                std::thread::Builder::new()
                    .name("weft-follow".into())
                    .spawn(move || {
                        for event in events {
                            match event {
                                Ok(event) => {
                                    if sender.send(News::Event(current, event)).is_err() {
                                        return;
                                    }
                                }
                                Err(_) => break,
                            }
                        }
                        let _ = sender.send(News::Ended(current));
                    })
                    .context("cannot start the thread that reads the app's events")?;
                let mut team: Option<TeamInfo> = None;
                let mut status: Option<Status> = None;
                loop {
                    let wait = status
                        .as_ref()
                        .map_or(Duration::MAX, |s| until_next_minute(s.since, Utc::now()));
                    match news.recv_timeout(wait) {
                        Ok(News::Event(g, Event::Status(s))) if g == generation => {
                            // The watch sends the status first but not the team: ask for it
                            // once, after that first event. Writing the watch request does not
                            // mean the app has registered the watcher; its first event does.
                            // From then on every change is an event still to come, so the last
                            // team shown is the newest whatever the order of the two.
                            if status.is_none() {
                                team = self::team(&socket).or(team);
                            }
                            status = Some(s);
                        }
                        Ok(News::Event(g, Event::Team(t))) if g == generation => team = Some(t),
                        Ok(News::Ended(g)) if g == generation => {
                            refused = status.is_none();
                            followed = status.is_some();
                            break;
                        }
                        Ok(News::OutputClosed) => return printer.closed(),
                        Ok(News::Blind) => blind = true,
                        // The follower holds a sender itself: the channel is never cut off.
                        Ok(_) | Err(_) => {}
                    }
                    if let Some(status) = &status {
                        printer.show(Seen::Running {
                            status,
                            team: team.as_ref(),
                        })?;
                    }
                }
            }
            Err(weft_core::Error::NotRunning { .. }) => {}
            // Anything else (the app killed between the connect and the request, a socket
            // this user may not open): not running as far as the bar can tell, tried again
            // after the backoff below.
            Err(_) => refused = true,
        }
        printer.show(Seen::Stopped)?;
        // An app that was followed and went away may have a successor whose socket is made
        // already (a quick restart): that notice came while still connected and was passed
        // over, so connect again at once before waiting for the next one.
        if followed {
            backoff = Duration::from_secs(1);
            continue;
        }
        // Then wait for the socket to be made again. Two cases need a timer instead, a backoff
        // of 1 s doubling to a minute (10 s while blind): a watch that failed or ended before
        // its first event (an app refusing connections with too many open, a socket this user
        // may not open), which leaves a socket that will not be made again; and inotify being
        // unusable (the per-user limit of instances reached, a read error), when connecting
        // now and then is the only way left to notice the app, and 10 s bounds how late.
        let retry = if refused || blind {
            let most = Duration::from_secs(if blind { 10 } else { 60 });
            let wait = backoff.min(most);
            backoff = (wait * 2).min(most);
            wait
        } else {
            backoff = Duration::from_secs(1);
            Duration::MAX
        };
        loop {
            match news.recv_timeout(retry) {
                Ok(News::SocketMade) | Err(_) => break,
                Ok(News::OutputClosed) => return printer.closed(),
                Ok(News::Blind) => {
                    blind = true;
                    break;
                }
                Ok(_) => {}
            }
        }
    }
}

/// Writes a line when it differs from the last one written.
struct Printer<'o> {
    out: &'o mut dyn Write,
    format: BarFormat,
    last: Option<String>,
}

impl Printer<'_> {
    fn show(&mut self, seen: Seen<'_>) -> anyhow::Result<()> {
        let now = Now {
            at: Utc::now(),
            zone: &Local,
        };
        let text = line(self.format, seen, &now);
        if self.last.as_deref() == Some(text.as_str()) {
            return Ok(());
        }
        writeln!(self.out, "{text}")?;
        self.out.flush()?;
        self.last = Some(text);
        Ok(())
    }

    /// The reader went away: writing once more fails as a closed pipe, which ends the run
    /// quietly with exit 0 ([`weft_output::Out`]).
    fn closed(&mut self) -> anyhow::Result<ExitCode> {
        let last = self.last.clone().unwrap_or_default();
        writeln!(self.out, "{last}")?;
        self.out.flush()?;
        Ok(ExitCode::SUCCESS)
    }
}

/// The team as the app knows it, or `None` (not answered yet, or not a member).
fn team(socket: &Path) -> Option<TeamInfo> {
    match control::call(socket, &Request::Team) {
        Ok(Response::Team(info)) => Some(info),
        _ => None,
    }
}

/// How long until the elapsed time since `since` reaches its next whole minute (a moment
/// after, so the line drawn then shows it).
fn until_next_minute(since: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    let elapsed_ms = (now - since).num_milliseconds().max(0);
    let to_go = 60_000 - elapsed_ms % 60_000;
    Duration::from_millis(u64::try_from(to_go).unwrap_or(60_000) + 20)
}

/// Sends [`News::SocketMade`] whenever the socket's name is made in its folder (inotify:
/// created, moved there, or its mode set), and each time it starts watching that folder. While
/// the folder is missing (no app has run since login), it watches the nearest folder above
/// that exists (`$XDG_RUNTIME_DIR`) for the next one down to be made, so nothing runs on a
/// timer. When inotify fails (it cannot start, watch or read) it says [`News::Blind`] and stops.
fn watch_for_socket(socket: &Path, tx: Sender<News>) {
    let socket = socket.to_owned();
    let blind = tx.clone();
    let spawned = std::thread::Builder::new()
        .name("weft-follow-socket".into())
        .spawn(move || {
            if watch_socket(&socket, &tx).is_err() {
                let _ = tx.send(News::Blind);
            }
        });
    if spawned.is_err() {
        let _ = blind.send(News::Blind);
    }
}

/// The loop of [`watch_for_socket`]: returns `Ok` when the follower is gone, an error when
/// inotify fails.
fn watch_socket(socket: &Path, tx: &Sender<News>) -> rustix::io::Result<()> {
    use rustix::fs::inotify::{self, ReadFlags};
    use rustix::io::Errno;
    let Some(dir) = socket.parent() else {
        return Err(Errno::INVAL);
    };
    let fd = inotify::init(inotify::CreateFlags::CLOEXEC)?;
    let mut buffer = [std::mem::MaybeUninit::<u8>::uninit(); 4096];
    loop {
        let (watched, wd) = watch_nearest(&fd, dir)?;
        let at_socket = watched == dir;
        // The name waited for in `watched`: the socket, or the next folder down to it.
        let wanted = if at_socket {
            socket.file_name()
        } else {
            socket
                .strip_prefix(&watched)
                .ok()
                .and_then(|rest| rest.components().next())
                .map(|c| c.as_os_str())
        };
        let Some(wanted) = wanted.map(std::ffi::OsStr::to_os_string) else {
            return Err(Errno::INVAL);
        };
        // Made before the watch began: the follower connects once more to see.
        if at_socket && tx.send(News::SocketMade).is_err() {
            return Ok(());
        }
        let next_made_already = !at_socket && watched.join(&wanted).exists();
        if !next_made_already {
            let mut reader = inotify::Reader::new(&fd, &mut buffer);
            loop {
                let event = match reader.next() {
                    Ok(event) => event,
                    Err(Errno::INTR) => continue,
                    Err(e) => return Err(e),
                };
                // Left over from a folder watched before.
                if event.wd() != wd {
                    continue;
                }
                if event
                    .events()
                    .intersects(ReadFlags::IGNORED | ReadFlags::DELETE_SELF | ReadFlags::MOVE_SELF)
                {
                    // The watched folder went away: find the nearest again.
                    break;
                }
                if event.file_name().map(|n| n.to_bytes()) != Some(wanted.as_encoded_bytes()) {
                    continue;
                }
                if !at_socket {
                    // The next folder down is made: watch it (or the one below) instead.
                    break;
                }
                if tx.send(News::SocketMade).is_err() {
                    return Ok(());
                }
            }
        }
        // Already gone when the folder was removed.
        let _ = inotify::remove_watch(&fd, wd);
    }
}

/// Watches `dir` for the socket (its name made, moved there, or its mode set), or the nearest
/// folder above it that exists for the next folder down (made or moved there). Returns the
/// folder watched and its watch descriptor.
fn watch_nearest(
    fd: &impl std::os::fd::AsFd,
    dir: &Path,
) -> rustix::io::Result<(std::path::PathBuf, i32)> {
    use rustix::fs::inotify::{self, WatchFlags};
    use rustix::io::Errno;
    // A socket's name appears at bind(2), a moment before listen(2): a connect in between is
    // refused. The app sets the socket's mode after both (ATTRIB), which says it listens.
    let gone = WatchFlags::DELETE_SELF | WatchFlags::MOVE_SELF | WatchFlags::ONLYDIR;
    let made = WatchFlags::CREATE | WatchFlags::MOVED_TO;
    for folder in dir.ancestors() {
        let flags = if folder == dir {
            made | WatchFlags::ATTRIB | gone
        } else {
            made | gone
        };
        match inotify::add_watch(fd, folder, flags) {
            Ok(wd) => return Ok((folder.to_owned(), wd)),
            Err(Errno::NOENT) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(Errno::NOENT)
}

/// Sends [`News::OutputClosed`] when standard output is a pipe or socket whose reader went
/// away (poll reports an error on it). Other outputs (a terminal, a file) are not watched:
/// a write tells soon enough.
fn watch_output(tx: Sender<News>) {
    use rustix::event::{poll, PollFd, PollFlags};
    use rustix::fs::FileType;
    let stdout = std::io::stdout();
    let is_pipe = rustix::fs::fstat(stdout.as_fd()).is_ok_and(|stat| {
        matches!(
            FileType::from_raw_mode(stat.st_mode),
            FileType::Fifo | FileType::Socket
        )
    });
    if !is_pipe {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("weft-follow-output".into())
        .spawn(move || {
            let stdout = std::io::stdout();
            loop {
                let mut fds = [PollFd::new(&stdout, PollFlags::empty())];
                match poll(&mut fds, None) {
                    Ok(_) if fds[0].revents().intersects(PollFlags::ERR | PollFlags::HUP) => {
                        let _ = tx.send(News::OutputClosed);
                        return;
                    }
                    Err(rustix::io::Errno::INTR) => {}
                    // Nothing else can wake it; should it, stop rather than spin.
                    Ok(_) | Err(_) => return,
                }
            }
        });
    // Without it, a closed output is noticed at the next line instead.
    drop(spawned);
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_tick_comes_when_the_elapsed_minute_turns() {
        let since = Utc
            .with_ymd_and_hms(2026, 11, 24, 9, 0, 0)
            .single()
            .unwrap_or_default();
        let after = |ms: i64| until_next_minute(since, since + chrono::Duration::milliseconds(ms));
        assert_eq!(after(0), Duration::from_millis(60_020));
        assert_eq!(after(59_999), Duration::from_millis(21));
        assert_eq!(after(60_000), Duration::from_millis(60_020));
        assert_eq!(after(25 * 60_000 + 30_000), Duration::from_millis(30_020));
        // A since in the future (a clock set back) waits a whole minute, never zero.
        assert_eq!(after(-5_000), Duration::from_millis(60_020));
    }
}
