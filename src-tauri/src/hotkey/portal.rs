//! The global hotkey in a Wayland session, through the XDG GlobalShortcuts portal: there an X11
//! key grab sees keys only while an X11 window has focus, and the desktop, not the app, owns
//! the keyboard. Weft asks once per start, on a thread of its own: one session
//! (`CreateSession`), one `BindShortcuts` with the shortcut `toggle` and the `hotkey` setting
//! as its `preferred_trigger`; the desktop decides the key and reports it
//! (`trigger_description`), and each `Activated` of `toggle` in Weft's own session is a press.
//! Each step is bounded by a timeout, so a desktop that never answers is reported, not waited
//! on; start-up never waits at all. A portal that leaves the bus is reported, and the next one
//! to take its name is asked again.
//!
//! Before the session, Weft registers itself with the host Registry
//! (`org.freedesktop.host.portal.Registry`, xdg-desktop-portal 1.19.4 and later) under its
//! desktop-file id, so the desktop names the app that asks; an older portal has no Registry
//! and names the app by its own means. Where the portal has `ConfigureShortcuts` (version 2
//! of the interface), [`Control::change`] asks the desktop to show its dialog for the key.
//!
//! ashpd's calls are futures: the thread drives them with `block_on` (zbus's own executor,
//! async-io), so the app still has no async runtime.

use ashpd::desktop::global_shortcuts::{
    Activated, BindShortcutsOptions, ConfigureShortcutsOptions, GlobalShortcuts, NewShortcut,
    Shortcut, ShortcutsChanged,
};
use ashpd::desktop::{CreateSessionOptions, ResponseError, Session};
use ashpd::zbus;
use futures_util::future::Either;
use futures_util::{FutureExt, StreamExt};
use std::ffi::OsStr;
use std::future::Future;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use weft_core::hotkey::Combo;

/// The portal frontend's bus name.
const PORTAL: &str = "org.freedesktop.portal.Desktop";
/// The id of Weft's one shortcut: stable, so the desktop keeps the user's choice across runs.
pub const SHORTCUT_ID: &str = "toggle";
/// What the desktop shows next to the key in its shortcut settings.
pub const DESCRIPTION: &str = "Switch Weft between focus and coordination";

/// How long each portal call may take before Weft gives up on it.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub create_session: Duration,
    /// Longer: the desktop may ask the user in a dialog first.
    pub bind_shortcuts: Duration,
    /// `Register` with the host Registry, and `ConfigureShortcuts` (which returns once the
    /// desktop took the request, not when its dialog closes).
    pub quick: Duration,
}

/// The timeouts of the app.
pub const TIMEOUTS: Timeouts = Timeouts {
    create_session: Duration::from_secs(10),
    bind_shortcuts: Duration::from_secs(60),
    quick: Duration::from_secs(5),
};

/// The first version of the GlobalShortcuts interface with `ConfigureShortcuts`.
pub const CONFIGURE_SINCE: u32 = 2;

/// Why the hotkey could not be bound through the portal.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No session bus, or no portal on it.
    #[error("no desktop portal answers on the session bus ({0})")]
    NoPortal(String),
    /// The portal is there, without GlobalShortcuts (sway, GNOME before 48).
    #[error("the desktop portal has no global shortcuts")]
    NoGlobalShortcuts,
    /// A call was not answered in time.
    #[error("the desktop portal did not answer {step} within {} s", .limit.as_secs())]
    Timeout { step: &'static str, limit: Duration },
    /// The user (or the desktop) turned the request down.
    #[error("the request to bind the shortcut was cancelled")]
    Cancelled,
    /// The portal answered, without the shortcut.
    #[error("the desktop bound no shortcut")]
    NotBound,
    /// The portal left the bus (the desktop restarting, say): the key does nothing until a
    /// portal is back, and then Weft binds it again.
    #[error("the desktop portal went away")]
    Gone,
    /// Anything else the portal or the bus said.
    #[error("the desktop portal failed: {0}")]
    Failed(String),
    /// The portal's GlobalShortcuts has no `ConfigureShortcuts` (it came in version 2).
    #[error("the desktop portal cannot show a dialog to change the key (its GlobalShortcuts is version {version}; that needs version 2)")]
    NoConfigure { version: u32 },
    /// [`Control::change`] was asked while no shortcut is bound.
    #[error("the hotkey is not bound through the desktop portal now")]
    Unbound,
    /// The desktop took Weft's shortcut away after binding it (`ShortcutsChanged` without it).
    #[error("the desktop removed Weft's shortcut")]
    Removed,
    /// A request to change the key is already waiting for the portal thread.
    #[error("a request to change the key is already waiting")]
    Busy,
}

/// What a bound shortcut can tell the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The trigger in effect, as the desktop describes it (may be empty).
    pub trigger: String,
    /// Whether [`Control::change`] can ask the desktop for its dialog.
    pub changeable: bool,
}

/// Asks the thread that holds the portal session. Cheap to clone; the thread lives as long as
/// the app.
#[derive(Clone)]
pub struct Control {
    commands: async_channel::Sender<Change>,
    wait: Duration,
}

impl Control {
    /// Asks the desktop to show its dialog for changing the key (`ConfigureShortcuts`), and
    /// returns once the desktop took the request. Waits at most the `quick` timeout plus
    /// [`START_WITHIN`]; a request the thread could not take up in time (it was binding) is
    /// dropped, never carried out late.
    ///
    /// # Errors
    /// [`Error::NoConfigure`] from a portal before version 2, [`Error::Unbound`] while
    /// nothing is bound, [`Error::Busy`] while another request waits, [`Error::Timeout`], or
    /// what the portal said.
    pub fn change(&self) -> Result<(), Error> {
        let (reply, answer) = mpsc::sync_channel(1);
        let wait = self.wait + START_WITHIN;
        let change = Change {
            reply,
            start_by: Instant::now() + START_WITHIN,
        };
        self.commands.try_send(change).map_err(|e| match e {
            async_channel::TrySendError::Full(_) => Error::Busy,
            async_channel::TrySendError::Closed(_) => {
                Error::Failed("the hotkey's portal thread has ended".into())
            }
        })?;
        answer.recv_timeout(wait).map_err(|_| Error::Timeout {
            step: "ConfigureShortcuts",
            limit: self.wait,
        })?
    }
}

/// Whether the hotkey goes through the portal: a Wayland session (`WAYLAND_DISPLAY` set) where
/// GTK is not forced onto X11 (`GDK_BACKEND`'s first choice is not `x11`). Pure, from the two
/// variables' values.
pub fn wanted(wayland_display: Option<&OsStr>, gdk_backend: Option<&OsStr>) -> bool {
    let wayland = wayland_display.is_some_and(|d| !d.is_empty());
    let forced_x11 = gdk_backend.is_some_and(|b| {
        b.to_string_lossy()
            .split(',')
            .next()
            .is_some_and(|first| first.trim() == "x11")
    });
    wayland && !forced_x11
}

/// [`wanted`] for this process's environment, where a compositor answers on the Wayland
/// socket (GTK falls back to X11 where none does).
pub fn wanted_here() -> bool {
    wanted(
        std::env::var_os("WAYLAND_DISPLAY").as_deref(),
        std::env::var_os("GDK_BACKEND").as_deref(),
    ) && crate::display::wayland_reachable()
}

/// Whether `session_handle` is one of the sessions of the connection named `unique_name`; a
/// session's path carries its owner's unique name
/// (`/org/freedesktop/portal/desktop/session/1_42/TOKEN` for `:1.42`). xdg-desktop-portal
/// sends `Activated` only to the session's owner; the signal's match rule does not say so,
/// so Weft checks too, rather than trust every portal implementation to.
pub fn owns_session(unique_name: &str, session_handle: &str) -> bool {
    let owner = unique_name.trim_start_matches(':').replace('.', "_");
    session_handle
        .strip_prefix("/org/freedesktop/portal/desktop/session/")
        .and_then(|rest| rest.strip_prefix(owner.as_str()))
        .is_some_and(|rest| rest.starts_with('/'))
}

/// Binds `combo` through the portal on a thread of its own and returns at once, with the
/// [`Control`] that reaches that thread. `app_id` is the desktop-file id Weft registers under
/// (without `.desktop`). `on_outcome` gets each outcome: the [`Binding`] in effect, or why
/// there is none. After a bind, `on_press` is called on each `Activated` of the shortcut. A
/// portal that goes away is reported ([`Error::Gone`]); each portal that takes its place (the
/// desktop restarted) is asked again, once: Weft follows the portal's comings and goings, it
/// never retries on a timer.
pub fn listen(
    combo: &Combo,
    app_id: &str,
    timeouts: Timeouts,
    on_press: Box<dyn Fn() + Send>,
    on_outcome: Box<dyn Fn(Result<Binding, Error>) + Send>,
) -> std::io::Result<Control> {
    let asked = Asked {
        preferred: combo.portal_trigger(),
        app_id: app_id.to_owned(),
        timeouts,
    };
    // A few requests at most: the window's button waits for each answer.
    let (commands, requests) = async_channel::bounded(4);
    std::thread::Builder::new()
        .name("weft-portal-hotkey".into())
        .spawn(move || zbus::block_on(run(asked, requests, on_press, on_outcome)))?;
    Ok(Control {
        commands,
        wait: timeouts.quick,
    })
}

/// What Weft asks of each portal.
struct Asked {
    preferred: String,
    app_id: String,
    timeouts: Timeouts,
}

/// How soon the portal thread must take up a request to change the key, so that the whole
/// call fits in the asker's wait (the `quick` timeout and this).
const START_WITHIN: Duration = Duration::from_secs(1);

/// A request to change the key: where its answer goes, and by when it must start.
struct Change {
    reply: mpsc::SyncSender<Result<(), Error>>,
    /// A request read after it (the thread was busy binding) is dropped, not carried out
    /// late: the asker is told it timed out.
    start_by: Instant,
}

/// What the thread heard while a shortcut is bound.
enum Heard {
    Pressed(Activated),
    /// The desktop changed the key (its settings, or its `ConfigureShortcuts` dialog).
    Rebound(ShortcutsChanged),
    /// The portal's name changed owner: its new owner's unique name, if it has one.
    Owner(Option<String>),
    Change(Change),
    /// The bus connection ended.
    Ended,
}

async fn run(
    asked: Asked,
    requests: async_channel::Receiver<Change>,
    on_press: Box<dyn Fn() + Send>,
    on_outcome: Box<dyn Fn(Result<Binding, Error>) + Send>,
) {
    let conn = match zbus::Connection::session().await {
        Ok(conn) => conn,
        Err(e) => return on_outcome(Err(Error::NoPortal(e.to_string()))),
    };
    let unique = conn
        .unique_name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    // Subscribed before the first call, so a portal that comes or goes meanwhile is seen.
    let mut owners = match portal_owners(&conn).await {
        Ok(owners) => owners,
        Err(e) => return on_outcome(Err(Error::Failed(e.to_string()))),
    };
    let mut requests = std::pin::pin!(requests);
    loop {
        let outcome = bind(&conn, &asked).await;
        // The portal that was asked. A change of owner queued before or during the bind (the
        // first call may have started the portal) names it again and is not a new portal:
        // Weft asks each portal once.
        let mut asked_owner = portal_owner(&conn).await;
        let replaced = match outcome {
            Ok(mut bound) => {
                let changeable = bound.portal.version() >= CONFIGURE_SINCE;
                on_outcome(Ok(Binding {
                    trigger: bound.trigger.clone(),
                    changeable,
                }));
                loop {
                    let heard = {
                        let pressed = bound.signals.next().map(|a| a.unwrap_or(Heard::Ended));
                        let owner = next_owner(&mut owners);
                        first_of(pressed, owner, next_change(&mut requests)).await
                    };
                    match heard {
                        Heard::Pressed(activated) => {
                            if activated.shortcut_id() == SHORTCUT_ID
                                && owns_session(&unique, activated.session_handle().as_str())
                            {
                                on_press();
                            }
                        }
                        Heard::Rebound(changed) => {
                            if owns_session(&unique, changed.session_handle().as_str()) {
                                match trigger_of(changed.shortcuts()) {
                                    Some(trigger) => {
                                        log::info!(
                                            "the desktop changed the global hotkey: {trigger:?}"
                                        );
                                        on_outcome(Ok(Binding {
                                            trigger,
                                            changeable,
                                        }));
                                    }
                                    None => on_outcome(Err(Error::Removed)),
                                }
                            }
                        }
                        Heard::Change(request) => {
                            if Instant::now() < request.start_by {
                                let answer = change(&bound, asked.timeouts.quick).await;
                                let _ = request.reply.send(answer);
                            }
                        }
                        Heard::Ended => {
                            log::warn!("the session bus connection of the hotkey ended");
                            return;
                        }
                        Heard::Owner(owner) if owner == asked_owner => {}
                        Heard::Owner(None) => {
                            on_outcome(Err(Error::Gone));
                            asked_owner = None;
                            break false;
                        }
                        Heard::Owner(Some(_)) => break true,
                    }
                }
            }
            Err(e) => {
                on_outcome(Err(e));
                false
            }
        };
        if !replaced {
            // Until another portal owns the name: that one is asked.
            loop {
                let owner = next_owner(&mut owners);
                match first_of(owner, std::future::pending(), next_change(&mut requests)).await {
                    Heard::Owner(Some(owner)) if Some(&owner) != asked_owner.as_ref() => break,
                    Heard::Owner(None) => asked_owner = None,
                    Heard::Change(request) => {
                        let _ = request.reply.send(Err(Error::Unbound));
                    }
                    Heard::Ended => return,
                    Heard::Owner(Some(_)) | Heard::Pressed(_) | Heard::Rebound(_) => {}
                }
            }
        }
        log::info!("a new desktop portal is there: asking it to bind the hotkey");
    }
}

/// The next change of owner of the portal's name.
async fn next_owner(owners: &mut zbus::fdo::NameOwnerChangedStream) -> Heard {
    match owners.next().await {
        Some(change) => Heard::Owner(
            change
                .args()
                .ok()
                .and_then(|args| args.new_owner().as_ref().map(|o| o.to_string())),
        ),
        None => Heard::Ended,
    }
}

/// The unique name that owns the portal's name now, if any.
async fn portal_owner(conn: &zbus::Connection) -> Option<String> {
    let bus = zbus::fdo::DBusProxy::new(conn).await.ok()?;
    let name = zbus::names::BusName::try_from(PORTAL).ok()?;
    bus.get_name_owner(name).await.ok().map(|o| o.to_string())
}

/// The next request to change the key; never, once the app dropped every [`Control`].
async fn next_change(requests: &mut std::pin::Pin<&mut async_channel::Receiver<Change>>) -> Heard {
    match requests.next().await {
        Some(request) => Heard::Change(request),
        None => std::future::pending().await,
    }
}

/// Whichever of three futures is ready first.
async fn first_of(
    a: impl Future<Output = Heard>,
    b: impl Future<Output = Heard>,
    c: impl Future<Output = Heard>,
) -> Heard {
    let (a, b, c) = (std::pin::pin!(a), std::pin::pin!(b), std::pin::pin!(c));
    match futures_util::future::select(a, futures_util::future::select(b, c)).await {
        Either::Left((heard, _)) => heard,
        Either::Right((Either::Left((heard, _)), _)) => heard,
        Either::Right((Either::Right((heard, _)), _)) => heard,
    }
}

/// `ConfigureShortcuts` on the bound session, where the portal has it.
async fn change<S>(bound: &Bound<S>, limit: Duration) -> Result<(), Error> {
    let version = bound.portal.version();
    if version < CONFIGURE_SINCE {
        return Err(Error::NoConfigure { version });
    }
    within(
        "ConfigureShortcuts",
        limit,
        bound.portal.configure_shortcuts(
            &bound.session,
            None,
            ConfigureShortcutsOptions::default(),
        ),
    )
    .await
}

/// Registers Weft with the host Registry, where the portal has one. Never fails the bind: a
/// portal without it names the app by its own means.
async fn register(conn: &zbus::Connection, app_id: &str, limit: Duration) {
    let id = match ashpd::AppID::try_from(app_id) {
        Ok(id) => id,
        Err(e) => return log::warn!("{app_id:?} is not an app id the portal takes: {e}"),
    };
    let call = async { ashpd::register_host_app_with_connection(conn.clone(), id).await };
    match within("Register", limit, call).await {
        Ok(()) => log::info!("registered with the desktop portal as {app_id}"),
        Err(Error::NoGlobalShortcuts) => log::info!(
            "the desktop portal has no host registry (xdg-desktop-portal before 1.19.4): it names Weft by its own means"
        ),
        Err(e) => log::warn!("could not register with the desktop portal as {app_id}: {e}"),
    }
}

/// The changes of owner of the portal's name.
async fn portal_owners(conn: &zbus::Connection) -> zbus::Result<zbus::fdo::NameOwnerChangedStream> {
    zbus::fdo::DBusProxy::new(conn)
        .await?
        .receive_name_owner_changed_with_args(&[(0, PORTAL)])
        .await
}

/// A bound shortcut. The session lives as long as the connection that made it.
struct Bound<S> {
    portal: GlobalShortcuts,
    session: Session<GlobalShortcuts>,
    /// The trigger in effect, as the desktop describes it.
    trigger: String,
    /// `Activated` and `ShortcutsChanged`, subscribed to before the bind so that none is
    /// missed.
    signals: S,
}

/// The session and the bind, on `conn`.
async fn bind(
    conn: &zbus::Connection,
    asked: &Asked,
) -> Result<Bound<impl futures_util::Stream<Item = Heard> + Unpin>, Error> {
    let timeouts = asked.timeouts;
    // First, before any other call of this connection to this portal.
    register(conn, &asked.app_id, timeouts.quick).await;
    let (portal, session) = within("CreateSession", timeouts.create_session, async {
        let portal = GlobalShortcuts::with_connection(conn.clone()).await?;
        let session = portal
            .create_session(CreateSessionOptions::default())
            .await?;
        Ok((portal, session))
    })
    .await?;
    let activations = portal.receive_activated().await.map_err(classify)?;
    let changes = portal.receive_shortcuts_changed().await.map_err(classify)?;
    let signals = Box::pin(futures_util::stream::select(
        activations.map(Heard::Pressed),
        changes.map(Heard::Rebound),
    ));
    let shortcut =
        NewShortcut::new(SHORTCUT_ID, DESCRIPTION).preferred_trigger(asked.preferred.as_str());
    let bound = within("BindShortcuts", timeouts.bind_shortcuts, async {
        portal
            .bind_shortcuts(
                &session,
                std::slice::from_ref(&shortcut),
                None,
                BindShortcutsOptions::default(),
            )
            .await?
            .response()
    })
    .await
    .and_then(|bound| trigger_of(bound.shortcuts()).ok_or(Error::NotBound));
    let trigger = match bound {
        Ok(trigger) => trigger,
        Err(e) => {
            // Closed, so a desktop that answers late (a dialog left open past the timeout)
            // binds nothing that would look like Weft's and do nothing.
            if let Err(closing) = within("Close", timeouts.quick, session.close()).await {
                log::info!("could not close the portal session: {closing}");
            }
            return Err(e);
        }
    };
    Ok(Bound {
        portal,
        session,
        trigger,
        signals,
    })
}

/// The trigger of Weft's shortcut among `shortcuts`, as the desktop describes it.
fn trigger_of(shortcuts: &[Shortcut]) -> Option<String> {
    shortcuts
        .iter()
        .find(|s| s.id() == SHORTCUT_ID)
        .map(|s| s.trigger_description().to_owned())
}

/// `call`, or [`Error::Timeout`] once `limit` has passed.
async fn within<T>(
    step: &'static str,
    limit: Duration,
    call: impl Future<Output = Result<T, ashpd::Error>>,
) -> Result<T, Error> {
    let call = std::pin::pin!(call);
    let timer = std::pin::pin!(async_io::Timer::after(limit));
    match futures_util::future::select(call, timer).await {
        Either::Left((result, _)) => result.map_err(classify),
        Either::Right(_) => Err(Error::Timeout { step, limit }),
    }
}

/// ashpd's error as the [`Error`] a caller branches on.
fn classify(error: ashpd::Error) -> Error {
    match &error {
        ashpd::Error::PortalNotFound(_) => Error::NoGlobalShortcuts,
        ashpd::Error::Response(ResponseError::Cancelled) => Error::Cancelled,
        ashpd::Error::Zbus(e) | ashpd::Error::Portal(ashpd::PortalError::ZBus(e))
            if no_service(e) =>
        {
            Error::NoPortal(e.to_string())
        }
        _ => Error::Failed(error.to_string()),
    }
}

/// Whether the bus said that nobody serves the portal's name.
fn no_service(error: &zbus::Error) -> bool {
    match error {
        zbus::Error::MethodError(name, _, _) => {
            name.as_str() == "org.freedesktop.DBus.Error.ServiceUnknown"
        }
        zbus::Error::FDO(e) => matches!(**e, zbus::fdo::Error::ServiceUnknown(_)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_portal_is_wanted_in_a_wayland_session_not_forced_onto_x11() {
        let os = |s: &'static str| Some(OsStr::new(s));
        assert!(wanted(os("wayland-0"), None));
        assert!(wanted(os("wayland-0"), os("wayland,x11")));
        assert!(wanted(os("wayland-0"), os("*")));
        assert!(!wanted(os("wayland-0"), os("x11")));
        assert!(!wanted(os("wayland-0"), os("x11,wayland")));
        assert!(!wanted(os(""), None));
        assert!(!wanted(None, None));
        assert!(!wanted(None, os("wayland")));
    }

    #[test]
    fn activated_counts_only_in_the_apps_own_sessions() {
        let ours = "/org/freedesktop/portal/desktop/session/1_42/weft_token";
        assert!(owns_session(":1.42", ours));
        assert!(!owns_session(":1.4", ours), "a prefix of another name");
        assert!(!owns_session(":1.421", ours));
        assert!(!owns_session(
            ":1.42",
            "/org/freedesktop/portal/desktop/session/1_7/other"
        ));
        assert!(!owns_session(":1.42", "/elsewhere/1_42/x"));
    }

    #[test]
    fn errors_say_what_happened() {
        let timeout = Error::Timeout {
            step: "BindShortcuts",
            limit: Duration::from_secs(60),
        };
        assert_eq!(
            timeout.to_string(),
            "the desktop portal did not answer BindShortcuts within 60 s"
        );
        assert!(matches!(
            classify(ashpd::Error::Response(ResponseError::Cancelled)),
            Error::Cancelled
        ));
    }
}
