//! Start-up and shutdown: the instance lock, config, the store, the dispatcher, the control
//! socket, and then the Tauri event loop with the tray and the hotkey.

use crate::degraded::Health;
use crate::notices::Notices;
use crate::quiet::Quiet;
use crate::shell::AppShell;
use crate::switcher::{self, Switcher};
use crate::window_process::WindowProcess;
use crate::{desktop_watch, hotkey, signals, tray};
use anyhow::Context;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tauri::{Manager, RunEvent};
use weft_core::clock::SystemClock;
use weft_core::config;
use weft_core::control;
use weft_core::instance::{Acquired, InstanceLock};
use weft_core::paths::Paths;
use weft_core::service::Weft;
use weft_core::store;
use weft_proto::{DesktopPart, ErrorKind, ErrorReport, Request, Response};
use weft_team::{membership, Dispatcher};

/// Command-line options of `weft-app`.
#[derive(Debug, Default)]
pub struct Options {
    pub open_window: bool,
    /// Run as the window process (`--window`) instead of the tray app.
    pub window_only: bool,
    /// The view the window process opens on (`--view today`).
    pub view: Option<weft_proto::View>,
}

/// `out` is standard output: only a second instance says something there.
pub fn run(options: Options, out: &mut dyn std::io::Write) -> anyhow::Result<()> {
    crate::display::ensure_available()?;
    let paths = Paths::from_env()?;
    let _lock = match InstanceLock::acquire(&paths)? {
        Acquired::Owner(lock) => lock,
        Acquired::AlreadyRunning => return hand_over_to_running_instance(&paths, out),
    };
    // From here on a signal must log the stop, so it waits until the event loop can exit.
    let termination = signals::Termination::catch();

    let notices = Notices::default();
    let loaded = config::load(&paths.config_file());
    for problem in &loaded.problems {
        log::warn!("{problem} (in {})", paths.config_file().display());
        notices.add(problem);
    }
    // Local times (the summary's days, release times, the end of day) use the system zone
    // when TZ names none: say so once.
    if let Some(warning) = weft_core::time::zone_warning() {
        log::warn!("{warning}");
        notices.add(&warning);
    }

    let opened = store::open_or_set_aside(&paths.database(), chrono::Utc::now())
        .context("cannot open Weft's log")?;
    if let Some(aside) = &opened.set_aside {
        notices.add(&format!(
            "The log {} was unreadable ({}). It was kept as {} and a new log was started.",
            paths.database().display(),
            aside.reason,
            aside.moved_to.display()
        ));
    }
    let weft = Arc::new(Weft::start(opened.store, Arc::new(SystemClock))?);
    weft.set_desktop_policy(weft_core::service::DesktopPolicy::from_config(
        &loaded.config,
    ));
    // Other apps' notifications: watched from the start, so none sent meanwhile is missed.
    #[cfg(target_os = "linux")]
    let capture: Option<Arc<dyn crate::quiet::Unfiled>> = (loaded.config.desktop_capture
        != weft_core::config::Capture::Off)
        .then(|| crate::capture::start(&weft) as Arc<dyn crate::quiet::Unfiled>);
    #[cfg(not(target_os = "linux"))]
    let capture: Option<Arc<dyn crate::quiet::Unfiled>> = None;
    // Sharing starts at once: the pusher and the stream run on threads of their own.
    let dispatcher = Arc::new(
        Dispatcher::start(weft.clone(), membership::file(&paths.config_dir))
            .context("cannot start the team client")?,
    );
    let team = dispatcher.team().clone();
    let team_at_exit = team.clone();
    if let weft_proto::Connection::Offline { message, .. } = team.info().connection {
        log::warn!("{message}");
        notices.add(&message);
    }

    // Before the socket serves: a popup asked for right away already knows whether a
    // notification server is there to take it.
    let health = Health::new(&weft, notices.clone());
    health.quiet_wanted(loaded.config.quiet_desktop);
    desktop_watch::start(&health);

    let listener = control::bind(&paths.socket()).with_context(|| {
        format!(
            "cannot serve the control socket {}",
            paths.socket().display()
        )
    })?;
    control::serve(listener, dispatcher.clone())
        .context("cannot start the control socket thread")?;

    log::debug!("core ready after {} ms", crate::since_start_ms());
    let app = tauri::Builder::default()
        .manage(weft.clone())
        .manage(WindowProcess::new(Arc::downgrade(&weft)))
        .setup(move |app| {
            log::debug!("event loop up after {} ms", crate::since_start_ms());
            let handle = app.handle().clone();
            termination.exit_app_on_signal(handle.clone());
            // The shell first, so no switch between reading the status and showing the tray
            // goes unrendered; the tray renders once more after it is managed.
            let ticker = tray::spawn_ticker(handle.clone(), Arc::downgrade(&weft));
            let opener = handle.clone();
            let open_view = Arc::new(move |view| {
                if let Err(e) = opener.state::<WindowProcess>().open_view(view) {
                    log::error!("{e}");
                }
            });
            let (deliveries, quiet_slot) = crate::delivery::start(&weft, open_view, health.clone());
            health.attach(handle.clone(), deliveries.clone());
            weft.attach_shell(Arc::new(AppShell::new(
                handle.clone(),
                ticker,
                deliveries.clone(),
            )));
            // Switches from the tray, the hotkey and timers are queued, so no surface waits
            // on the disk; managed before the tray exists, so its first click finds it.
            let report = switcher::reporter(handle.clone(), notices.clone(), Arc::downgrade(&weft));
            let switcher = Switcher::start(Arc::downgrade(&weft), report)
                .context("cannot start the switch queue")?;
            app.manage(switcher.clone());
            // The tray before anything else visible: it is what a person sees, and the
            // start-up figure we measure.
            let shown = weft.status();
            let team_shown = tray::team_lines(&team.info());
            match build_tray(&handle, &shown, &notices.lines(), team_shown) {
                Ok(tray) => {
                    log::debug!("tray built after {} ms", crate::since_start_ms());
                    app.manage(tray);
                    // A switch while the tray was being built: show it.
                    let now = weft.status();
                    if now != shown {
                        if let Err(e) = app.state::<tray::Tray>().render(&now) {
                            log::warn!("could not update the tray: {e}");
                        }
                    }
                    tray::show_team(&handle, tray::team_lines(&team.info()));
                }
                // Weft runs on without a tray: the hotkey, the CLI and the window still work.
                Err(reason) => health.tray_broken(&reason),
            }
            // Quiet runs even when off: it restores what a crashed run left silenced.
            // Health keeps its menu line, so the line goes when another server takes over;
            // the bus watch's reading of the server wins over the worker's (see Health).
            let quiet_health = health.clone();
            let unknown = Box::new(move |text: String| quiet_health.quiet_server_unknown(&text));
            if !loaded.config.quiet_desktop {
                log::info!("quiet_desktop is off (config): other apps' popups are left alone");
            }
            let quiet = Quiet::start(
                Arc::downgrade(&weft),
                &weft.status(),
                loaded.config.quiet_desktop,
                capture
                    .clone()
                    .filter(|_| loaded.config.desktop_replay == weft_core::config::Replay::Digest),
                deliveries.clone(),
                unknown,
            );
            let _ = quiet_slot.set(quiet.clone());
            app.manage(quiet);
            // A switch made before the quiet worker was managed reached none: catch up.
            app.state::<Quiet>().follow(&weft.status());
            if let Some(problem) = hotkey::register(
                &handle,
                &loaded.config.hotkey,
                &weft,
                switcher.clone(),
                &notices,
                &health,
            ) {
                log::warn!("{problem}");
                notices.add(&problem);
                tray::show_notices(&handle, &notices.lines());
                health.reported(DesktopPart::Hotkey, Some(&problem));
            }
            notices.file_pending(&weft);
            crate::release::spawn(Arc::downgrade(&weft), loaded.config.release_at.clone());
            crate::planned::spawn(&weft, switcher.clone(), loaded.config.planned_end);
            crate::end_of_day::spawn(Arc::downgrade(&weft), loaded.config.end_of_day);
            crate::heartbeat::spawn(Arc::downgrade(&weft));
            if options.open_window {
                if let Err(e) = handle.state::<WindowProcess>().open() {
                    log::error!("{e}");
                }
            }
            Ok(())
        })
        .build(tauri::generate_context!())
        .context("cannot start the desktop app (is an X display available? is DISPLAY set?)")?;

    let socket = paths.socket();
    app.run(move |handle, event| match event {
        // The tray process has no windows; only Quit or a signal (an exit with a code) ends it.
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        RunEvent::Exit => {
            if let Some(quiet) = handle.try_state::<Quiet>() {
                quiet.restore_for_quit();
            }
            team_at_exit.stop();
            if let Err(e) = handle.state::<Arc<Weft>>().stop() {
                log::error!("could not log the stop: {e}");
            }
            match std::fs::remove_file(&socket) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => log::warn!("cannot remove the socket {}: {e}", socket.display()),
            }
            log::info!("stopped");
        }
        _ => {}
    });
    Ok(())
}

/// Builds the tray, or says why there is none. The tray's library is loaded at run time and
/// panics when it is missing, so it is checked first; a panic left anyway (inside tauri's
/// tray code, not across C) is caught as one more reason.
fn build_tray(
    handle: &tauri::AppHandle,
    status: &weft_proto::Status,
    notices: &[String],
    team: Option<Vec<String>>,
) -> Result<tray::Tray, String> {
    tray::library_loads()?;
    let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tray::Tray::build(handle, status, notices, team)
    }));
    match built {
        Ok(Ok(tray)) => Ok(tray),
        Ok(Err(e)) => Err(format!("the tray icon could not be created: {e}")),
        Err(_) => Err("the tray library failed while creating the icon".to_owned()),
    }
}

/// Another Weft holds the lock: ask it to show its window, and say so.
fn hand_over_to_running_instance(
    paths: &Paths,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match control::call(&paths.socket(), &Request::OpenWindow) {
            Ok(Response::Done) => {
                writeln!(out, "Weft is already running; its window was opened. Use its tray menu (Quit) to stop it.")?;
                return Ok(());
            }
            // Still starting: the socket or the tray is not up yet.
            Ok(Response::Error(ErrorReport {
                kind: ErrorKind::NotReady,
                ..
            }))
            | Err(weft_core::Error::NotRunning { .. })
                if Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(100));
            }
            Ok(other) => anyhow::bail!(
                "Weft is already running, but it answered {other:?} when asked to open its window"
            ),
            Err(e) => {
                return Err(e).context(format!(
                    "another Weft holds {} but does not answer",
                    paths.lock_file().display()
                ))
            }
        }
    }
}
