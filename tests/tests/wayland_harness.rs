//! Tests of the harness's Wayland desktop itself: a headless sway with no X server, the real
//! xdg-desktop-portal frontend on the private bus, and the harness's own GlobalShortcuts
//! backend behind it, driven from the app's side with `ashpd` as Weft will drive it. They run
//! one at a time (one lock), and each checks that nothing it started outlives it.

use ashpd::desktop::global_shortcuts::{
    BindShortcutsOptions, GlobalShortcuts, ListShortcutsOptions, NewShortcut,
};
use ashpd::desktop::CreateSessionOptions;
use futures_util::{FutureExt, StreamExt};
use std::time::Duration;
use weft_e2e::portal::{self, Offer};
use weft_e2e::shortcuts::{Answer, Requested, Triggers};
use weft_e2e::wait_for;
use weft_e2e::wayland::{self, WaylandPanel};

/// Bounds a hang; nothing is timed.
const SOON: Duration = Duration::from_secs(20);

/// An app's connection to the desktop's bus, as Weft's own would be.
fn connect(panel: &WaylandPanel) -> anyhow::Result<zbus::Connection> {
    Ok(zbus::block_on(
        zbus::connection::Builder::address(panel.desktop().bus_address())?.build(),
    )?)
}

fn toggle(preferred: &str) -> NewShortcut {
    NewShortcut::new("toggle", "Switch between focus and coordination").preferred_trigger(preferred)
}

#[test]
fn sway_serves_clients_without_an_x_server_and_nothing_outlives_the_desktop() -> anyhow::Result<()>
{
    let _serial = weft_e2e::serial();
    let panel = WaylandPanel::start(Offer::GlobalShortcuts)?;
    let desktop = panel.desktop();
    let sway = desktop.sway().ok_or_else(|| anyhow::anyhow!("no sway"))?;

    let env = desktop.env();
    assert!(env
        .iter()
        .any(|(k, v)| k == "WAYLAND_DISPLAY" && v == sway.socket_name()));
    assert!(!env.iter().any(|(k, _)| k == "DISPLAY"), "{env:?}");

    // A root client reaches sway (run as another user) through the link in its runtime folder.
    let info = desktop.command("wayland-info").output()?;
    assert!(
        info.status.success(),
        "{}",
        String::from_utf8_lossy(&info.stderr)
    );
    let info = String::from_utf8_lossy(&info.stdout);
    for global in ["wl_compositor", "wl_seat", "zwlr_screencopy_manager_v1"] {
        assert!(info.contains(global), "{global} missing from:\n{info}");
    }
    let shot = desktop.dir().join("shot.png");
    let grim = desktop.command("grim").arg(&shot).status()?;
    assert!(grim.success(), "grim failed: {grim}");
    assert!(std::fs::read(&shot)?.starts_with(b"\x89PNG"));

    // No X server: sway started no Xwayland.
    let sway_group = wayland::pgrep_group(sway.pid()).unwrap_or_default();
    assert!(sway_group.contains(&sway.pid()), "{sway_group:?}");
    for pid in &sway_group {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        assert_ne!(comm.trim(), "Xwayland", "sway started Xwayland");
    }
    // The panel's watcher and the portal frontend are on the same private bus.
    let dbus = zbus::blocking::fdo::DBusProxy::new(&panel.panel.bus)?;
    for name in ["org.kde.StatusNotifierWatcher", portal::BUS_NAME] {
        assert!(
            dbus.name_has_owner(name.try_into()?)?,
            "{name} is not on the bus"
        );
    }
    assert_eq!(panel.portal.shortcuts_version(desktop)?, 1);

    let groups = panel.process_groups();
    assert_eq!(groups.len(), 3);
    for group in &groups {
        assert!(
            wayland::pgrep_group(*group).is_some_and(|p| !p.is_empty()),
            "pgrep finds nothing in group {group}"
        );
    }
    drop(panel);
    wayland::wait_until_gone(&groups)
}

#[test]
fn create_session_bind_shortcuts_and_activated_go_through_the_real_frontend() -> anyhow::Result<()>
{
    let _serial = weft_e2e::serial();
    let panel = WaylandPanel::start(Offer::GlobalShortcuts)?;
    let backend = panel.portal.shortcuts()?;
    let conn = connect(&panel)?;

    let (bound, listed, activated) = zbus::block_on(async {
        let portal = GlobalShortcuts::with_connection(conn.clone()).await?;
        let session = portal
            .create_session(CreateSessionOptions::default())
            .await?;
        let bound = portal
            .bind_shortcuts(
                &session,
                &[toggle("CTRL+ALT+f")],
                None,
                BindShortcutsOptions::default(),
            )
            .await?
            .response()?;
        let listed = portal
            .list_shortcuts(&session, ListShortcutsOptions::default())
            .await?
            .response()?;
        let mut activations = portal.receive_activated().await?;
        // The backend fires from its own connection; the signal goes through the frontend.
        anyhow::ensure!(backend.activate("toggle")? == 1);
        let activated = activations
            .next()
            .await
            .ok_or_else(|| anyhow::anyhow!("the Activated stream ended"))?;
        anyhow::Ok((bound, listed, activated))
    })?;

    let ids: Vec<(&str, &str)> = bound
        .shortcuts()
        .iter()
        .map(|s| (s.id(), s.trigger_description()))
        .collect();
    assert_eq!(ids, [("toggle", "CTRL+ALT+f")]);
    assert_eq!(listed.shortcuts().len(), 1);
    assert_eq!(activated.shortcut_id(), "toggle");

    let calls = backend.bind_calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0].shortcuts,
        [Requested {
            id: "toggle".into(),
            description: "Switch between focus and coordination".into(),
            preferred_trigger: Some("CTRL+ALT+f".into()),
        }]
    );
    // The session the app got is the one the backend bound in, and Activated names it.
    assert_eq!(activated.session_handle().as_str(), calls[0].session);
    let sessions = backend.sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(backend.create_session_calls(), 1);
    // The session's path carries the app's unique name: what an app filters Activated by.
    let unique = conn
        .unique_name()
        .map(|n| n.trim_start_matches(':').replace('.', "_"))
        .unwrap_or_default();
    assert!(
        calls[0].session.contains(&format!("/{unique}/")),
        "{}",
        calls[0].session
    );
    Ok(())
}

#[test]
fn the_backend_reports_the_trigger_the_test_chooses_or_none() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = WaylandPanel::start(Offer::GlobalShortcuts)?;
    let backend = panel.portal.shortcuts()?;
    let conn = connect(&panel)?;

    let bind = |preferred: &'static str| {
        let conn = conn.clone();
        zbus::block_on(async move {
            let portal = GlobalShortcuts::with_connection(conn).await?;
            let session = portal
                .create_session(CreateSessionOptions::default())
                .await?;
            let bound = portal
                .bind_shortcuts(
                    &session,
                    &[toggle(preferred)],
                    None,
                    BindShortcutsOptions::default(),
                )
                .await?
                .response()?;
            anyhow::Ok(
                bound
                    .shortcuts()
                    .iter()
                    .map(|s| (s.id().to_owned(), s.trigger_description().to_owned()))
                    .collect::<Vec<_>>(),
            )
        })
    };

    backend.report(Triggers::Report("Super+W".into()));
    assert_eq!(bind("CTRL+ALT+f")?, [("toggle".into(), "Super+W".into())]);
    backend.report(Triggers::NoShortcuts);
    assert_eq!(bind("CTRL+ALT+f")?, []);

    assert_eq!(backend.bind_calls().len(), 2);
    // Only the first session bound `toggle`; the second bound nothing.
    let bound = backend.bound();
    assert_eq!(bound.len(), 1);
    assert_eq!(bound[0].1.trigger_description, "Super+W");
    assert_eq!(backend.activate("toggle")?, 1);
    assert!(backend.activate("other").is_err());
    Ok(())
}

/// Polls `call` until the backend has seen it (`seen`), then shows that no answer came: a
/// round trip to the frontend on the same connection (the marker) ends while `call` is still
/// waiting.
fn assert_never_answered<F: std::future::Future>(
    conn: &zbus::Connection,
    call: F,
    seen: impl Fn() -> bool,
) -> anyhow::Result<()>
where
    F::Output: std::fmt::Debug,
{
    let mut call = Box::pin(call);
    wait_for("the call to reach the backend", SOON, || {
        if let Some(answer) = call.as_mut().now_or_never() {
            return Some(Err(anyhow::anyhow!("answered: {answer:?}")));
        }
        seen().then_some(Ok(()))
    })??;
    let version: u32 = zbus::block_on(async {
        zbus::Proxy::new(
            conn,
            portal::BUS_NAME,
            portal::PATH,
            portal::GLOBAL_SHORTCUTS,
        )
        .await?
        .get_property("version")
        .await
    })?;
    assert_eq!(version, 1);
    assert!(
        call.as_mut().now_or_never().is_none(),
        "the call was answered"
    );
    Ok(())
}

#[test]
fn create_session_or_bind_shortcuts_can_be_left_unanswered() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = WaylandPanel::start(Offer::GlobalShortcuts)?;
    let backend = panel.portal.shortcuts()?;
    let conn = connect(&panel)?;
    let portal = zbus::block_on(GlobalShortcuts::with_connection(conn.clone()))?;

    backend.answer_create_session(Answer::Never);
    assert_never_answered(
        &conn,
        portal.create_session(CreateSessionOptions::default()),
        || backend.create_session_calls() == 1,
    )?;
    assert!(backend.sessions().is_empty());

    backend.answer_create_session(Answer::Reply);
    backend.answer_bind_shortcuts(Answer::Never);
    let session = zbus::block_on(portal.create_session(CreateSessionOptions::default()))?;
    let shortcuts = [toggle("CTRL+ALT+f")];
    assert_never_answered(
        &conn,
        portal.bind_shortcuts(&session, &shortcuts, None, BindShortcutsOptions::default()),
        || backend.bind_calls().len() == 1,
    )?;
    assert!(backend.bound().is_empty());
    Ok(())
}

#[test]
fn a_portal_without_global_shortcuts_offers_none() -> anyhow::Result<()> {
    let _serial = weft_e2e::serial();
    let panel = WaylandPanel::start(Offer::Nothing)?;
    assert!(panel.portal.shortcuts().is_err());
    assert!(panel.portal.shortcuts_version(panel.desktop()).is_err());

    let conn = connect(&panel)?;
    let err = zbus::block_on(GlobalShortcuts::with_connection(conn.clone()))
        .err()
        .ok_or_else(|| anyhow::anyhow!("the portal offered GlobalShortcuts"))?;
    assert!(
        matches!(err, ashpd::Error::PortalNotFound(_)),
        "unexpected error {err:?}"
    );
    // The frontend itself serves (another portal answers on the same object).
    let xml: String = zbus::block_on(async {
        zbus::fdo::IntrospectableProxy::builder(&conn)
            .destination(portal::BUS_NAME)?
            .path(portal::PATH)?
            .build()
            .await?
            .introspect()
            .await
    })?;
    assert!(
        xml.contains("org.freedesktop.portal.MemoryMonitor"),
        "{xml}"
    );
    assert!(!xml.contains(portal::GLOBAL_SHORTCUTS), "{xml}");
    Ok(())
}
