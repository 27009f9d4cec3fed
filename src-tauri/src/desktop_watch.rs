//! Watches for the desktop services that Weft's optional parts need, and tells [`Health`]:
//!
//! - a notification server: `org.freedesktop.Notifications` owned on the session bus, or
//!   activatable (the bus starts it on the first popup);
//! - a tray host: `org.kde.StatusNotifierWatcher` on the session bus, or an XEmbed system tray
//!   (the owner of the `_NET_SYSTEM_TRAY_S<screen>` selection on the X display).
//!
//! Bus names are followed through `NameOwnerChanged`, the XEmbed tray through the `MANAGER`
//! message a tray sends to the root window when it starts and the `DestroyNotify` of its
//! window, so a panel or a notification daemon that starts (or dies) later is noticed at once.
//! No bus at all counts as neither service being there.

#[cfg(target_os = "linux")]
pub use linux::start;

/// Other platforms have no such services to look for.
#[cfg(not(target_os = "linux"))]
pub fn start(_health: &crate::degraded::Health) {}

#[cfg(target_os = "linux")]
mod linux {
    use crate::degraded::{Health, TrayHost};
    use std::future::poll_fn;
    use std::pin::Pin;
    use std::sync::mpsc;
    use std::task::Poll;
    use std::time::Duration;
    use zbus::export::futures_core::Stream;
    use zbus::message::Type;
    use zbus::{Connection, MatchRule, MessageStream};

    const NOTIFICATIONS: &str = "org.freedesktop.Notifications";
    const WATCHER: &str = "org.kde.StatusNotifierWatcher";
    const BUS: &str = "org.freedesktop.DBus";
    /// How long start-up waits for the first look at the bus (a hung bus must not hold it).
    const FIRST_LOOK: Duration = Duration::from_secs(2);

    /// Starts the watchers. Returns after the first look at the bus (or [`FIRST_LOOK`]), so a
    /// request that comes right after start-up already knows whether popups can be shown.
    pub fn start(health: &Health) {
        let (looked, first) = mpsc::sync_channel(1);
        let bus_health = health.clone();
        let spawned = std::thread::Builder::new()
            .name("weft-bus-watch".into())
            .spawn(move || {
                if let Err(e) = zbus::block_on(watch_bus(&bus_health, &looked)) {
                    let reason = format!("the session bus is not available: {e}");
                    log::warn!("{reason}");
                    bus_health.notification_server(Some(reason));
                    bus_health.tray_host(TrayHost::StatusNotifier, false);
                    let _ = looked.try_send(());
                }
            });
        match spawned {
            Ok(_) => match first.recv_timeout(FIRST_LOOK) {
                Ok(()) => {}
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    log::warn!("the session bus did not answer within {FIRST_LOOK:?}")
                }
                // The watch thread ended (its bus stream closed) before it looked.
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    log::warn!("the session bus watch ended before its first look")
                }
            },
            Err(e) => log::error!("cannot watch the session bus: {e}"),
        }
        let x_health = health.clone();
        let spawned = std::thread::Builder::new()
            .name("weft-xembed-watch".into())
            .spawn(move || {
                if let Err(e) = watch_xembed(&x_health) {
                    log::info!("no XEmbed system tray can be followed ({e})");
                    x_health.tray_host(TrayHost::XEmbed, false);
                }
            });
        if let Err(e) = spawned {
            log::error!("cannot watch for an XEmbed system tray: {e}");
        }
    }

    async fn watch_bus(health: &Health, looked: &mpsc::SyncSender<()>) -> zbus::Result<()> {
        let conn = Connection::session().await?;
        let mut streams = Vec::new();
        for name in [NOTIFICATIONS, WATCHER] {
            let rule = MatchRule::builder()
                .msg_type(Type::Signal)
                .sender(BUS)
                .interface(BUS)
                .member("NameOwnerChanged")
                .add_arg(name)
                .build()?;
            streams.push(MessageStream::for_match_rule(rule, &conn, None).await?);
        }
        look(&conn, health).await?;
        let _ = looked.try_send(());
        loop {
            let next = poll_fn(|cx| {
                for stream in streams.iter_mut() {
                    if let Poll::Ready(item) = Pin::new(stream).poll_next(cx) {
                        return Poll::Ready(item);
                    }
                }
                Poll::Pending
            })
            .await;
            match next {
                Some(Ok(_)) => look(&conn, health).await?,
                Some(Err(e)) => return Err(e),
                None => return Err(zbus::Error::Failure("the bus connection ended".into())),
            }
        }
    }

    /// Reads which of the services are there now.
    async fn look(conn: &Connection, health: &Health) -> zbus::Result<()> {
        let activatable: Vec<String> = conn
            .call_method(
                Some(BUS),
                "/org/freedesktop/DBus",
                Some(BUS),
                "ListActivatableNames",
                &(),
            )
            .await?
            .body()
            .deserialize()?;
        let owned = |name: &'static str| async move {
            let reply = conn
                .call_method(
                    Some(BUS),
                    "/org/freedesktop/DBus",
                    Some(BUS),
                    "NameHasOwner",
                    &(name,),
                )
                .await?;
            reply.body().deserialize::<bool>()
        };
        let running = owned(NOTIFICATIONS).await?;
        let server = running || activatable.iter().any(|n| n == NOTIFICATIONS);
        health.notification_server(
            (!server).then(|| "no notification server on the session bus".to_owned()),
        );
        if !running {
            health.notification_server_named(None);
        } else if let Some(name) = server_name() {
            health.notification_server_named(Some(&name));
        } else {
            health.notification_server_unnamed();
        }
        let watcher = owned(WATCHER).await? || activatable.iter().any(|n| n == WATCHER);
        health.tray_host(TrayHost::StatusNotifier, watcher);
        Ok(())
    }

    /// The running notification server's name (`GetServerInformation`), asked on a connection
    /// and a thread of its own and given up after [`FIRST_LOOK`]: a hung server must not stop
    /// the watch.
    fn server_name() -> Option<String> {
        let (tx, rx) = mpsc::sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("weft-server-name".into())
            .spawn(move || {
                let name = zbus::block_on(async {
                    let conn = Connection::session().await?;
                    let reply = conn
                        .call_method(
                            Some(NOTIFICATIONS),
                            "/org/freedesktop/Notifications",
                            Some(NOTIFICATIONS),
                            "GetServerInformation",
                            &(),
                        )
                        .await?;
                    let (name, _, _, _): (String, String, String, String) =
                        reply.body().deserialize()?;
                    Ok::<_, zbus::Error>(name)
                });
                let _ = tx.send(name);
            });
        if let Err(e) = spawned {
            log::warn!("cannot ask the notification server its name: {e}");
            return None;
        }
        match rx.recv_timeout(FIRST_LOOK) {
            Ok(Ok(name)) => Some(name),
            Ok(Err(e)) => {
                log::info!("the notification server did not say its name: {e}");
                None
            }
            Err(_) => {
                log::info!("the notification server did not say its name within {FIRST_LOOK:?}");
                None
            }
        }
    }

    /// Follows the owner of the XEmbed system tray selection on the default screen.
    fn watch_xembed(health: &Health) -> Result<(), String> {
        use x11rb::connection::Connection as _;
        use x11rb::protocol::xproto::{
            ChangeWindowAttributesAux, ConnectionExt as _, EventMask, Window,
        };
        use x11rb::protocol::Event;
        use x11rb::NONE;

        let x = |e: &dyn std::fmt::Display| e.to_string();
        let (conn, screen) = x11rb::connect(None).map_err(|e| x(&e))?;
        let root = conn
            .setup()
            .roots
            .get(screen)
            .map(|s| s.root)
            .ok_or("the X display has no such screen")?;
        let atom = |name: &str| -> Result<u32, String> {
            Ok(conn
                .intern_atom(false, name.as_bytes())
                .map_err(|e| x(&e))?
                .reply()
                .map_err(|e| x(&e))?
                .atom)
        };
        let selection = atom(&format!("_NET_SYSTEM_TRAY_S{screen}"))?;
        let manager = atom("MANAGER")?;
        // A tray that starts announces itself with a MANAGER message to the root window.
        conn.change_window_attributes(
            root,
            &ChangeWindowAttributesAux::new().event_mask(EventMask::STRUCTURE_NOTIFY),
        )
        .map_err(|e| x(&e))?;
        // Reads the owner, and asks to hear when its window goes away.
        let owner = |conn: &x11rb::rust_connection::RustConnection| -> Result<Window, String> {
            let owner = conn
                .get_selection_owner(selection)
                .map_err(|e| x(&e))?
                .reply()
                .map_err(|e| x(&e))?
                .owner;
            if owner != NONE {
                // The owner may be gone already; then there is no tray, which the next read
                // shows.
                let _ = conn.change_window_attributes(
                    owner,
                    &ChangeWindowAttributesAux::new().event_mask(EventMask::STRUCTURE_NOTIFY),
                );
            }
            conn.flush().map_err(|e| x(&e))?;
            Ok(owner)
        };
        let mut current = owner(&conn)?;
        health.tray_host(TrayHost::XEmbed, current != NONE);
        loop {
            let event = conn.wait_for_event().map_err(|e| x(&e))?;
            let changed = match event {
                Event::ClientMessage(m) => {
                    m.type_ == manager && m.data.as_data32().get(1) == Some(&selection)
                }
                Event::DestroyNotify(d) => d.window == current,
                _ => false,
            };
            if changed {
                current = owner(&conn)?;
                health.tray_host(TrayHost::XEmbed, current != NONE);
            }
        }
    }
}
