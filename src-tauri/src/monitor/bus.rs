//! The monitor's connections and its loop: the monitor connection (its [`MessageStream`] made
//! before `BecomeMonitor`, and nothing sent after it), the look-up connection that asks the bus
//! for a sender's process, and the thread that reads, pairs and delivers.

use super::parse::{self, Call};
use super::pending::{CallId, Peer, Peers, Pending};
use super::{Bus, Config, Error, Event, Observed, Origin, MAX_PEERS, MAX_PENDING, PENDING_TTL};
use futures_core::Stream;
use std::future::poll_fn;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use zbus::message::{Flags, Type};
use zbus::{Connection, Message, MessageStream};

const NOTIFICATIONS: &str = "org.freedesktop.Notifications";
const BUS: &str = "org.freedesktop.DBus";
const BUS_PATH: &str = "/org/freedesktop/DBus";

/// What the monitor asks to see. Replies and errors only from the notification server's
/// current owner (the bus matches a well-known `sender` against its owner), so the monitor is
/// not woken by every reply on the bus.
const RULES: [&str; 3] = [
    "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
    "type='method_return',sender='org.freedesktop.Notifications'",
    "type='error',sender='org.freedesktop.Notifications'",
];

/// Messages read ahead of the loop; when full, the bus holds the rest.
const QUEUE: usize = 1024;
/// How long the look-up connection waits for the bus.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(2);
/// How often a delivery blocked on a full channel looks whether the monitor was stopped.
const FULL_CHANNEL_CHECK: Duration = Duration::from_millis(20);

/// The running loop: its thread, and what stops it.
#[derive(Debug)]
pub struct Running {
    thread: JoinHandle<Error>,
    monitor: Connection,
    stopped: Arc<AtomicBool>,
}

impl Running {
    pub fn join(self) -> Error {
        self.thread
            .join()
            .unwrap_or_else(|_| Error::Disconnected("the monitor thread panicked".into()))
    }

    /// Closes the monitor's connection (which sends nothing) and waits for the thread.
    pub fn stop(self) {
        self.stopped.store(true, Ordering::Release);
        let monitor = self.monitor.clone();
        if let Err(e) = zbus::block_on(monitor.close()) {
            log::debug!("closing the notification monitor's connection: {e}");
        }
        let _ = self.thread.join();
    }
}

pub fn start(config: Config, events: SyncSender<Event>) -> Result<Running, Error> {
    let (ready_tx, ready_rx) = mpsc::sync_channel(1);
    let stopped = Arc::new(AtomicBool::new(false));
    let flag = stopped.clone();
    let timeout = config.start_timeout;
    let thread = std::thread::Builder::new()
        .name("weft-monitor".into())
        .spawn(move || zbus::block_on(run(config, events, ready_tx, flag)))
        .map_err(|e| Error::Unavailable(format!("cannot start the monitor thread: {e}")))?;
    match ready_rx.recv_timeout(timeout) {
        Ok(Ok(monitor)) => Ok(Running {
            thread,
            monitor,
            stopped,
        }),
        Ok(Err(e)) => {
            let _ = thread.join();
            Err(e)
        }
        // The thread sees the receiver gone when it is ready, and ends.
        Err(mpsc::RecvTimeoutError::Timeout) => Err(Error::Unavailable(format!(
            "the bus did not answer within {timeout:?}"
        ))),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            let _ = thread.join();
            Err(Error::Unavailable("the monitor thread ended".into()))
        }
    }
}

async fn connect(bus: &Bus, timeout: Option<Duration>) -> zbus::Result<Connection> {
    let builder = match bus {
        Bus::Session => zbus::connection::Builder::session(),
        Bus::Address(address) => zbus::connection::Builder::address(address.as_str()),
    };
    match timeout {
        Some(t) => builder.method_timeout(t).build().await,
        None => builder.build().await,
    }
}

/// The error of a `BecomeMonitor` call: a refusal is the bus's answer, anything else means
/// the bus could not be asked.
fn refusal(e: zbus::Error) -> Error {
    match e {
        zbus::Error::FDO(fdo) => Error::Refused(fdo.to_string()),
        zbus::Error::MethodError(name, message, _) => Error::Refused(match message {
            Some(m) => format!("{name}: {m}"),
            None => name.to_string(),
        }),
        other => Error::Unavailable(other.to_string()),
    }
}

async fn run(
    config: Config,
    events: SyncSender<Event>,
    ready: SyncSender<Result<Connection, Error>>,
    stopped: Arc<AtomicBool>,
) -> Error {
    let prepared = async {
        let monitor = connect(&config.bus, None)
            .await
            .map_err(|e| Error::Unavailable(e.to_string()))?;
        let lookup = connect(&config.bus, Some(LOOKUP_TIMEOUT))
            .await
            .map_err(|e| Error::Unavailable(e.to_string()))?;
        // Before BecomeMonitor: the stream must exist when the first monitored message comes.
        let mut stream = MessageStream::from(&monitor);
        if let Some(queue) = NonZeroUsize::new(QUEUE) {
            stream.set_max_queued(queue);
        }
        monitor
            .call_method(
                Some(BUS),
                BUS_PATH,
                Some("org.freedesktop.DBus.Monitoring"),
                "BecomeMonitor",
                &(RULES.as_slice(), 0u32),
            )
            .await
            .map_err(refusal)?;
        Ok::<_, Error>((monitor, lookup, stream))
    };
    let (monitor, lookup, mut stream) = match prepared.await {
        Ok(connections) => connections,
        Err(e) => {
            let _ = ready.send(Err(e.clone()));
            return e;
        }
    };
    if ready.send(Ok(monitor.clone())).is_err() {
        // `start` gave up waiting.
        return Error::Stopped;
    }
    drop(monitor);
    let mut state = Loop {
        config,
        lookup,
        pending: Pending::new(MAX_PENDING, PENDING_TTL),
        peers: Peers::new(MAX_PEERS),
        next_call: 0,
    };
    loop {
        let next = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
        let ended = |reason: String| {
            if stopped.load(Ordering::Acquire) {
                Error::Stopped
            } else {
                Error::Disconnected(reason)
            }
        };
        let message = match next {
            Some(Ok(message)) => message,
            Some(Err(e)) => return ended(e.to_string()),
            None => return ended("the bus closed it".into()),
        };
        if let Some(event) = state.handle(&message).await {
            // Counted before it is sent, so a reader that sees it filed sees it told.
            let observed = matches!(event, Event::Observed { .. });
            if observed {
                state.config.told.fetch_add(1, Ordering::AcqRel);
            }
            if !deliver(&events, event, &stopped) {
                if observed {
                    state.config.told.fetch_sub(1, Ordering::AcqRel);
                }
                return Error::Stopped;
            }
        }
    }
}

/// Sends, waiting while the channel is full; false when the receiver is gone or the monitor
/// was stopped meanwhile.
fn deliver(events: &SyncSender<Event>, mut event: Event, stopped: &AtomicBool) -> bool {
    loop {
        match events.try_send(event) {
            Ok(()) => return true,
            Err(TrySendError::Disconnected(_)) => return false,
            Err(TrySendError::Full(back)) => {
                if stopped.load(Ordering::Acquire) {
                    return false;
                }
                event = back;
                std::thread::sleep(FULL_CHANNEL_CHECK);
            }
        }
    }
}

struct Loop {
    config: Config,
    lookup: Connection,
    pending: Pending,
    peers: Peers,
    next_call: u64,
}

impl Loop {
    async fn handle(&mut self, message: &Message) -> Option<Event> {
        let header = message.header();
        match header.message_type() {
            Type::MethodCall => {
                if header.interface().map(|i| i.as_str()) != Some(NOTIFICATIONS)
                    || header.member().map(|m| m.as_str()) != Some("Notify")
                {
                    return None;
                }
                let sender = header.sender()?.to_string();
                let call = match parse::call(message) {
                    Ok(call) => call,
                    Err(e) => {
                        log::debug!("a Notify call from {sender} was not read: {e}");
                        return None;
                    }
                };
                let at = self.config.clock.now();
                let peer = self.peer(&sender).await;
                self.next_call += 1;
                let id = CallId(self.next_call);
                if !header.primary().flags().contains(Flags::NO_REPLY_EXPECTED) {
                    let serial = header.primary().serial_num().get();
                    self.pending
                        .expect(&sender, serial, id, self.config.clock.monotonic());
                }
                Some(Event::Observed {
                    call: id,
                    notification: observed(call, sender, &peer, self.config.own_pid, at),
                })
            }
            kind @ (Type::MethodReturn | Type::Error) => {
                let destination = header.destination()?.to_string();
                let reply_serial = header.reply_serial()?.get();
                let call = self.pending.answer(
                    &destination,
                    reply_serial,
                    self.config.clock.monotonic(),
                )?;
                if kind == Type::Error {
                    let error = header
                        .error_name()
                        .map(|n| n.to_string())
                        .unwrap_or_default();
                    return Some(Event::Rejected { call, error });
                }
                Some(match message.body().deserialize::<u32>() {
                    Ok(id) => Event::Assigned { call, id },
                    Err(e) => Event::Rejected {
                        call,
                        error: format!("the reply was not an id: {e}"),
                    },
                })
            }
            Type::Signal => None,
        }
    }

    /// The sender's process, from the cache or the bus and `/proc`.
    async fn peer(&mut self, sender: &str) -> Peer {
        if let Some(peer) = self.peers.get(sender) {
            return peer.clone();
        }
        let pid = match self
            .lookup
            .call_method(
                Some(BUS),
                BUS_PATH,
                Some(BUS),
                "GetConnectionUnixProcessID",
                &(sender,),
            )
            .await
            .and_then(|reply| reply.body().deserialize::<u32>())
        {
            Ok(pid) => Some(pid),
            Err(e) => {
                log::debug!("the process of {sender} is not known: {e}");
                None
            }
        };
        let comm = pid.and_then(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .ok()
                .map(|comm| weft_core::hold::clean_app(&comm))
                .filter(|comm| !comm.is_empty())
        });
        let peer = Peer { pid, comm };
        // A sender that could not be looked up is not cached: it was gone, or the bus hiccuped.
        if peer.pid.is_some() {
            self.peers.insert(sender, peer.clone());
        }
        peer
    }
}

/// The event's notification: the app's name filled from its process, the origin decided.
pub fn observed(
    call: Call,
    sender: String,
    peer: &Peer,
    own_pid: u32,
    at: chrono::DateTime<chrono::Utc>,
) -> Observed {
    let origin = if call.own_hint == Some(own_pid) || peer.pid == Some(own_pid) {
        Origin::Weft
    } else {
        Origin::App
    };
    // The spec's own name first, then the process (when it is still there to ask), then the
    // desktop file the call names.
    let app_name = if weft_core::hold::clean_app(&call.app_name).is_empty() {
        peer.comm.clone().or(call.desktop_entry).unwrap_or_default()
    } else {
        call.app_name
    };
    Observed {
        sender,
        pid: peer.pid,
        origin,
        app_name,
        summary: call.summary,
        body: call.body,
        urgency: call.urgency,
        transient: call.transient,
        replaces_id: call.replaces_id,
        at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn origin_is_this_process_by_pid_or_by_the_hint() -> Result<(), &'static str> {
        let at = chrono::Utc
            .timestamp_opt(1_700_000_000, 0)
            .single()
            .ok_or("a fixed time")?;
        let call = |own_hint, app_name: &str| parse::Call {
            desktop_entry: None,
            app_name: app_name.into(),
            replaces_id: 0,
            summary: "t".into(),
            body: String::new(),
            urgency: weft_proto::Urgency::Normal,
            transient: false,
            own_hint,
        };
        let peer = |pid: Option<u32>| Peer {
            pid,
            comm: pid.map(|_| "slack".to_owned()),
        };
        let origin = |c, p: &Peer| observed(c, ":1.9".into(), p, 100, at).origin;
        assert_eq!(origin(call(None, "a"), &peer(Some(100))), Origin::Weft);
        assert_eq!(origin(call(Some(100), "a"), &peer(None)), Origin::Weft);
        assert_eq!(origin(call(Some(101), "a"), &peer(Some(7))), Origin::App);
        assert_eq!(origin(call(None, "a"), &peer(None)), Origin::App);
        // The process's name only fills an empty app name.
        assert_eq!(
            observed(call(None, ""), ":1.9".into(), &peer(Some(7)), 100, at).app_name,
            "slack"
        );
        assert_eq!(
            observed(call(None, "Mail"), ":1.9".into(), &peer(Some(7)), 100, at).app_name,
            "Mail"
        );
        assert_eq!(
            observed(call(None, ""), ":1.9".into(), &peer(None), 100, at).app_name,
            ""
        );
        // A sender already gone is named by the desktop file it gave.
        let named = parse::Call {
            desktop_entry: Some("org.gnome.Evolution".into()),
            ..call(None, "")
        };
        assert_eq!(
            observed(named.clone(), ":1.9".into(), &peer(None), 100, at).app_name,
            "org.gnome.Evolution"
        );
        assert_eq!(
            observed(named, ":1.9".into(), &peer(Some(7)), 100, at).app_name,
            "slack"
        );
        Ok(())
    }
}
