//! The tray icon and its menu: the first line shows the state and for how long, then (while
//! notifications are held) "N held", which opens the window's Inbox, then exactly one switch
//! item, in coordination "Focus for 25 / 50 / 90 min", then Today, Team (a submenu with each
//! teammate's state once in a team), Settings, "Open Weft" and "Quit". The icon shows the
//! state. Every text and the menu's order come from [`labels`], pure functions tested there;
//! this module only makes them into Tauri menu items and handles the clicks.

mod labels;

use crate::switcher::Switcher;
use crate::window_process::WindowProcess;
use labels::{Entry, Extras, HELD, OPEN, PLAN, QUIT, SETTINGS, SWITCH, TEAM, TODAY};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, Weak};
use tauri::image::Image;
use tauri::menu::{IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem, Submenu};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Wry};
use weft_core::service::Weft;
use weft_proto::{Source, State, Status, Target, TeamInfo, View};

const TRAY_ID: &str = "weft";

static FOCUS_ICON: &[u8] = include_bytes!("../../icons/tray-focus.png");
static COORDINATION_ICON: &[u8] = include_bytes!("../../icons/tray-coordination.png");

/// The libraries the tray loads at run time, in the order it tries them (tauri's tray-icon
/// uses libappindicator-sys, which panics when none loads; its `backcompat` feature, on by
/// default, adds the two names without `.1`).
#[cfg(target_os = "linux")]
const LIBRARIES: [&str; 4] = [
    "libayatana-appindicator3.so.1",
    "libappindicator3.so.1",
    "libayatana-appindicator3.so",
    "libappindicator3.so",
];

/// The functions tray-icon calls in that library (libappindicator-sys panics on a missing one).
#[cfg(target_os = "linux")]
const SYMBOLS: [&str; 7] = [
    "app_indicator_new",
    "app_indicator_set_status",
    "app_indicator_set_icon_theme_path",
    "app_indicator_set_icon_full",
    "app_indicator_set_menu",
    "app_indicator_set_label",
    "app_indicator_set_title",
];

/// Checks, the way the tray will, that its library loads and has what the tray calls, so a
/// missing or broken library means no tray instead of a panic.
#[cfg(target_os = "linux")]
pub fn library_loads() -> Result<(), String> {
    let mut errors = Vec::new();
    for name in LIBRARIES {
        // SAFETY: loading a shared library runs its initialisers; these are the libraries the
        // tray itself loads next (the same names, in the same order), so nothing runs here
        // that would not run anyway.
        #[allow(unsafe_code)]
        let loaded = unsafe { libloading::Library::new(name) };
        let library = match loaded {
            Ok(library) => library,
            Err(e) => {
                errors.push(e.to_string());
                continue;
            }
        };
        // The first library that loads is the one the tray uses: it must be complete.
        for symbol in SYMBOLS {
            // SAFETY: only the symbol's presence is checked; the pointer is never called.
            #[allow(unsafe_code)]
            let found = unsafe { library.get::<unsafe extern "C" fn()>(symbol.as_bytes()) };
            if let Err(e) = found {
                return Err(format!("{name} lacks {symbol}: {e}"));
            }
        }
        return Ok(());
    }
    Err(format!(
        "no appindicator library loads: {}",
        errors.join("; ")
    ))
}

/// Elsewhere the tray needs no library of its own.
#[cfg(not(target_os = "linux"))]
pub fn library_loads() -> Result<(), String> {
    Ok(())
}

/// The tray and the menu items that change.
pub struct Tray {
    icon: TrayIcon,
    header: MenuItem<Wry>,
    held: MenuItem<Wry>,
    switch: MenuItem<Wry>,
    /// The state the switch item offers, as last rendered. Read and written on the UI thread
    /// only, so a click always does what its label said.
    offers: Mutex<State>,
    /// The state the icon shows. The icon is set only when it changes: a new icon is a new
    /// file for the tray host to read, and a status change that is not a switch (a part of
    /// the app listed as degraded) must not swap it under a reader.
    icon_shows: Mutex<State>,
    /// What the menu lists besides the fixed items: the held line (when shown) and notices.
    extras: Mutex<Extras>,
}

impl Tray {
    pub fn build(
        app: &AppHandle,
        status: &Status,
        notices: &[String],
        team: Option<Vec<String>>,
    ) -> tauri::Result<Tray> {
        let now = chrono::Utc::now();
        let header = MenuItem::with_id(
            app,
            labels::HEADER,
            labels::header(status, now),
            false,
            None::<&str>,
        )?;
        let held = MenuItem::with_id(app, HELD, labels::held(status.held), true, None::<&str>)?;
        let offers = status.state.other();
        let switch = MenuItem::with_id(app, SWITCH, labels::switch(offers), true, None::<&str>)?;
        let mut extras = Extras {
            notices: notices.to_vec(),
            team,
            ..Extras::default()
        };
        extras.follow(status);
        let menu = menu(app, &header, &held, &switch, &extras)?;
        let icon = TrayIconBuilder::with_id(TRAY_ID)
            .icon(icon_for(status.state)?)
            .tooltip(labels::TOOLTIP)
            .menu(&menu)
            .show_menu_on_left_click(true)
            .on_menu_event(on_menu_event)
            .build(app)?;
        Ok(Tray {
            icon,
            header,
            held,
            switch,
            offers: Mutex::new(offers),
            icon_shows: Mutex::new(status.state),
            extras: Mutex::new(extras),
        })
    }

    /// Shows a new status: icon, first line, held line and switch item.
    pub fn render(&self, status: &Status) -> tauri::Result<()> {
        let offers = status.state.other();
        *self.offers.lock().unwrap_or_else(|p| p.into_inner()) = offers;
        {
            let mut shows = self.icon_shows.lock().unwrap_or_else(|p| p.into_inner());
            if *shows != status.state {
                self.icon.set_icon(Some(icon_for(status.state)?))?;
                *shows = status.state;
            }
        }
        self.header
            .set_text(labels::header(status, chrono::Utc::now()))?;
        self.held.set_text(labels::held(status.held))?;
        let rebuild = {
            let mut extras = self.extras.lock().unwrap_or_else(|p| p.into_inner());
            let mut next = extras.clone();
            next.follow(status);
            (next != *extras).then(|| {
                *extras = next.clone();
                next
            })
        };
        if let Some(extras) = rebuild {
            self.rebuild(&extras)?;
        }
        self.switch.set_text(labels::switch(offers))
    }

    fn rebuild(&self, extras: &Extras) -> tauri::Result<()> {
        let menu = menu(
            self.icon.app_handle(),
            &self.header,
            &self.held,
            &self.switch,
            extras,
        )?;
        self.icon.set_menu(Some(menu))
    }
}

/// Builds the menu [`labels::layout`] lists, around the three items that are kept.
fn menu(
    app: &AppHandle,
    header: &MenuItem<Wry>,
    held: &MenuItem<Wry>,
    switch: &MenuItem<Wry>,
    extras: &Extras,
) -> tauri::Result<Menu<Wry>> {
    let mut items: Vec<Box<dyn IsMenuItem<Wry>>> = Vec::new();
    for entry in labels::layout(extras) {
        items.push(match entry {
            Entry::Header => Box::new(header.clone()),
            Entry::Held => Box::new(held.clone()),
            Entry::Switch => Box::new(switch.clone()),
            Entry::Item { id, label, enabled } => {
                Box::new(MenuItem::with_id(app, id, label, enabled, None::<&str>)?)
            }
            Entry::TeamMenu(lines) => Box::new(team_menu(app, &lines)?),
            Entry::Separator => Box::new(PredefinedMenuItem::separator(app)?),
        });
    }
    let items: Vec<&dyn IsMenuItem<Wry>> = items.iter().map(|i| i.as_ref()).collect();
    Menu::with_items(app, &items)
}

/// The Team submenu: one disabled row per line, a gap, then "Open Team…".
fn team_menu(app: &AppHandle, lines: &[String]) -> tauri::Result<Submenu<Wry>> {
    let mut rows = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        rows.push(MenuItem::with_id(
            app,
            labels::member_id(n),
            line,
            false,
            None::<&str>,
        )?);
    }
    let open_team = MenuItem::with_id(app, TEAM, labels::OPEN_TEAM, true, None::<&str>)?;
    let gap = PredefinedMenuItem::separator(app)?;
    let mut items: Vec<&dyn IsMenuItem<Wry>> =
        rows.iter().map(|i| i as &dyn IsMenuItem<Wry>).collect();
    items.push(&gap);
    items.push(&open_team);
    Submenu::with_items(app, labels::TEAM_MENU, true, &items)
}

/// Rebuilds the menu to list notices that arrived after start-up.
pub fn show_notices(app: &AppHandle, notices: &[String]) {
    let Some(tray) = app.try_state::<Tray>() else {
        return;
    };
    let extras = {
        let mut extras = tray.extras.lock().unwrap_or_else(|p| p.into_inner());
        extras.notices = notices.to_vec();
        extras.clone()
    };
    if let Err(e) = tray.rebuild(&extras) {
        log::error!("could not list notices in the tray menu: {e}");
    }
}

/// Shows the team's lines in the Team submenu (rebuilt only when they change).
pub fn show_team(app: &AppHandle, lines: Option<Vec<String>>) {
    let Some(tray) = app.try_state::<Tray>() else {
        return;
    };
    let extras = {
        let mut extras = tray.extras.lock().unwrap_or_else(|p| p.into_inner());
        if extras.team == lines {
            return;
        }
        extras.team = lines;
        extras.clone()
    };
    if let Err(e) = tray.rebuild(&extras) {
        log::error!("could not list the team in the tray menu: {e}");
    }
}

/// "Ana · Focus until 10:55", one per teammate (you are left out), in local time; `None`
/// outside a team.
pub fn team_lines(info: &TeamInfo) -> Option<Vec<String>> {
    labels::team(info, &chrono::Local)
}

fn icon_for(state: State) -> tauri::Result<Image<'static>> {
    Image::from_bytes(match state {
        State::Focus => FOCUS_ICON,
        State::Coordination => COORDINATION_ICON,
    })
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    match event.id().as_ref() {
        SWITCH => {
            let Some(tray) = app.try_state::<Tray>() else {
                return;
            };
            let target = match *tray.offers.lock().unwrap_or_else(|p| p.into_inner()) {
                State::Focus => Target::Focus,
                State::Coordination => Target::Coordination,
            };
            // Queued, so the UI thread never waits on the disk.
            app.state::<Switcher>().ask(target, Source::Tray);
        }
        id @ (TODAY | TEAM | SETTINGS) => {
            let view = match id {
                TODAY => View::Today,
                TEAM => View::Team,
                _ => View::Settings,
            };
            if let Err(e) = app.state::<WindowProcess>().open_view(view) {
                log::error!("{e}");
            }
        }
        OPEN | HELD => {
            if let Err(e) = app.state::<WindowProcess>().open() {
                log::error!("{e}");
            }
        }
        QUIT => app.exit(0),
        id => {
            let Some(minutes) = id.strip_prefix(PLAN).and_then(|m| m.parse().ok()) else {
                return;
            };
            app.state::<Switcher>().ask_focus_for(minutes, Source::Tray);
        }
    }
}

/// Keeps the first line's "for how long" current: wakes when the shown minute count changes,
/// or at once after a switch (a message on the returned sender).
pub fn spawn_ticker(app: AppHandle, weft: Weak<Weft>) -> Sender<()> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("weft-tray-ticker".into())
        .spawn(move || tick(&app, &weft, &rx));
    if let Err(e) = spawned {
        log::warn!("the tray's elapsed time will not update: {e}");
    }
    tx
}

fn tick(app: &AppHandle, weft: &Weak<Weft>, wake: &Receiver<()>) {
    loop {
        let Some(status) = weft.upgrade().map(|weft| weft.status()) else {
            return;
        };
        match wake.recv_timeout(labels::until_next_minute(&status, chrono::Utc::now())) {
            Ok(()) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let handle = app.clone();
        let posted = app.run_on_main_thread(move || {
            // Read on the UI thread, so a switch that raced this tick is not overwritten.
            let status = handle.state::<Arc<Weft>>().status();
            if let Some(tray) = handle.try_state::<Tray>() {
                if let Err(e) = tray
                    .header
                    .set_text(labels::header(&status, chrono::Utc::now()))
                {
                    log::warn!("could not update the tray menu: {e}");
                }
            }
        });
        if let Err(e) = posted {
            // The event loop has ended: nothing is left to update.
            log::debug!("the tray's elapsed time stops: {e}");
            return;
        }
    }
}
